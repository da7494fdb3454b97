"""End to end: the simulated venues on loopback, live books through MarketData, the scanner over
them; a venue dislocated on demand opens an opportunity, undoing it closes it."""

from __future__ import annotations

import aiohttp

from crossbook.arbitrage.model import Opportunity
from crossbook.arbitrage.scanner import Scanner
from crossbook.desk.arb import run_arb
from crossbook.market.data import MarketData
from crossbook.sim.cluster import SimCluster
from crossbook.sim.scenario import Dislocation

from ..conftest import run

SYMBOL = "BTC-USDT"
VENUES = ["binance", "okx", "kraken"]


def test_a_venue_dislocated_60_bps_up_opens_a_cross_venue_sale_there_and_undoing_closes_it() -> None:
    async def body() -> None:
        async with SimCluster(VENUES, interval=0.05, levels=150) as cluster:
            md = MarketData(VENUES, [SYMBOL], endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    scanner = Scanner(md.consolidated, kinds=["cross_venue"])
                    quiet = await scanner.run(1.0)
                    assert quiet == [], [e.as_json() for e in quiet]  # taker fees exceed the venues' own offsets
                    cluster.dislocate("kraken", 60.0, SYMBOL)
                    opened = await scanner.run(3.0)
                    opens = [e.opportunity for e in opened if e.kind == "open"]
                    assert opens, "no opportunity opened"
                    for opp in opens:
                        buy, sell = opp.legs
                        assert opp.kind == "cross_venue" and sell.venue == "kraken" and buy.venue in ("binance", "okx")
                        assert sell.fee_rate == 0.004 and buy.fee_rate == 0.001
                        assert 0 < opp.net_bps < 15 and opp.legs[0].amount > 0
                        expected = sell.price * sell.amount * (1 - sell.fee_rate) - buy.price * buy.amount * (1 + buy.fee_rate)
                        assert abs(opp.net_profit - expected) <= 1e-9 * buy.price * buy.amount
                    still_open = set(scanner.open)
                    assert still_open, "the dislocation lasts, so does the opportunity"
                    cluster.dislocate("kraken", 0.0)
                    closed = await scanner.run(3.0)
                    assert scanner.open == {}
                    closes = [e for e in closed if e.kind == "close"]
                    assert {e.opportunity.key for e in closes} >= still_open
                    for event in closes:
                        assert event.opportunity.legs[1].venue == "kraken"
                        assert event.duration is not None and event.duration > 0
                finally:
                    await md.stop()

    run(body(), timeout=120)


def test_run_arb_on_the_simulator_with_a_dislocation_reports_json_and_calls_on_open() -> None:
    opened: list[Opportunity] = []

    async def on_open(opp: Opportunity) -> None:
        opened.append(opp)

    async def body() -> list[dict[str, object]]:
        return await run_arb(
            [SYMBOL, "BTC-USDT-PERP"], 2.0, sim=True, venues=["binance", "okx", "kraken"],
            dislocations=[Dislocation("kraken", 60.0, SYMBOL)], on_open=on_open, kinds=["cross_venue", "basis"],
        )

    found = run(body(), timeout=120)
    assert found and len(found) == len(opened)
    cross = [o for o in found if o["kind"] == "cross_venue"]
    assert cross, found
    for opp in cross:
        assert set(opp) == {"kind", "legs", "net_profit", "profit_currency", "net_bps", "capped_by", "opened_at", "closed_at"}
        legs = opp["legs"]
        assert isinstance(legs, list) and [leg["side"] for leg in legs] == ["buy", "sell"] and legs[1]["venue"] == "kraken"
        assert set(legs[0]) == {"venue", "symbol", "side", "price", "amount", "fee_rate", "fixed_cost"}
        assert legs[0]["fixed_cost"] == legs[1]["fixed_cost"] == 0.0  # exchanges: no cost per order
    # kraken's spot 60 bps up also pays against the perpetuals: buy the perpetual, sell spot there
    basis = [o for o in found if o["kind"] == "basis"]
    assert basis, found
    for opp in basis:
        buy, sell = opp["legs"]  # type: ignore[misc]
        assert (buy["symbol"], sell["symbol"], sell["venue"]) == ("BTC-USDT-PERP", SYMBOL, "kraken")
        rate = opp["funding_rate"]  # the perpetual venue's rate from its premium (tests/desk/test_live_funding.py checks the value)
        assert isinstance(rate, float) and rate != 0 and abs(rate) <= 0.0075, rate
