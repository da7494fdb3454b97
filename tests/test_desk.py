"""The Desk end to end on simulated venues (127.0.0.1, port 0): prices, routes, books, balances,
arbitrage events, and a configured desk trading a separately started simulator."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.book import QuoteStatus
from crossbook.desk import OpportunityEvent, Quote
from crossbook.errors import ConfigError, InvalidOrder, UnknownVenue
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, Trade
from crossbook.precision import Precision
from crossbook.routing.executor import Outcome
from crossbook.trading.trader import Trader

from .conftest import run, wait_for

VENUES = ["binance", "okx", "bybit"]


def decimals_of(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def assert_rounded(value: object, most: int) -> None:
    """No float noise: a number carries no more decimals than its precision allows."""
    assert isinstance(value, float) and decimals_of(value) <= most, value


def check_quote(quote: Quote, side: Side) -> None:
    live = [r for r in quote.rows if r.status is QuoteStatus.LIVE and r.all_in_price is not None]
    assert {r.venue for r in live} >= set(VENUES)
    assert quote.best is not None
    prices = [r.all_in_price for r in live if r.conversion is None and r.all_in_price is not None]
    assert quote.best.all_in_price == (min(prices) if side is Side.BUY else max(prices))
    for r in live:
        assert r.vwap is not None and r.all_in_price == pytest.approx(r.vwap * (1 + r.fee_rate), rel=1e-12)
    out = quote.to_json()
    p = quote.precision
    assert out["side"] == side.value and set(out["venues"]) >= set(VENUES)  # type: ignore[arg-type]
    for venue in VENUES:
        row = out["venues"][venue]  # type: ignore[index]
        assert_rounded(row["vwap"], p.price_decimals)
        assert_rounded(row["all_in_price"], p.price_decimals)


def test_a_simulated_desk_prices_routes_and_reads_books() -> None:
    trades: list[Trade] = []

    async def body() -> None:
        async with Desk.sim(VENUES, seed=3) as desk:
            desk.on_trade(trades.append)
            quote = await desk.best_price("BTC-USDT", "buy", 2)
            check_quote(quote, Side.BUY)
            assert quote.precision == desk.precision("BTC-USDT") and quote.precision.price_decimals == 2

            by_notional = await desk.best_price("btc-usdt", Side.SELL, notional=120_000)
            mid = desk.market.consolidated["BTC-USDT"].best_bid()
            assert mid is not None and by_notional.amount == pytest.approx(120_000 / mid.price, rel=1e-3)

            planned = await desk.route("BTC-USDT", "buy", 3, dry_run=True)
            assert planned.outcome is Outcome.DRY_RUN and planned.children == [] and planned.plan.children

            before = await desk.balances(value_in=None)
            report = await desk.route("BTC-USDT", "buy", 1.5)
            assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(1.5)
            after = await desk.balances(value_in=None)
            gained = sum(after.held(v, "BTC") - before.held(v, "BTC") for v in VENUES)
            assert float(gained) == pytest.approx(1.5, rel=3e-3)  # less any fee taken in BTC
            out = report.to_json()
            p = report.precision
            assert out["outcome"] == "filled" and out["filled"] == 1.5
            for key in ("avg_price", "all_in_avg_price", "arrival_mid"):
                assert_rounded(out[key], p.price_decimals)
            assert_rounded(out["fees"], p.money_decimals)

            book = await desk.book("okx", "ETH-USDT")  # a symbol not followed yet starts its feeds
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None and ask is not None and bid[0] < ask[0]
            assert set((await desk.consolidated("ETH-USDT")).books) == set(VENUES)
            await wait_for(lambda: any(t.symbol in ("BTC-USDT", "ETH-USDT") for t in trades), 20.0, "a public trade")

    run(body(), timeout=120)


def test_bad_input_is_refused_with_what_is_wrong() -> None:
    with pytest.raises(UnknownVenue, match="nasdaq"):
        Desk.sim(["binance", "nasdaq"])

    async def body() -> None:
        async with Desk.sim(["binance"]) as desk:
            with pytest.raises(InvalidOrder, match="side must be buy or sell"):
                await desk.best_price("BTC-USDT", "hold", 1)
            with pytest.raises(InvalidOrder, match="one of them"):
                await desk.route("BTC-USDT", "buy", 1, notional=1000)
            with pytest.raises(InvalidOrder, match="amount must be a positive finite number"):
                await desk.route("BTC-USDT", "buy", float("nan"))
            with pytest.raises(UnknownVenue, match="okx"):
                await desk.book("okx", "BTC-USDT")

    run(body(), timeout=60)


def test_balances_per_venue_and_sub_account_valued_at_live_prices() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"], funds={"okx": {"BTC": Decimal(7)}}) as desk:
            sub = await desk.venue_account("binance", "alpha")  # a sub-account: its own key, nothing in it
            assert sub.account == "alpha"
            report = await desk.balances(value_in="USDT")
            assert report.held("okx", "BTC") == Decimal(7) and report.held("binance", "BTC") == Decimal(100)
            assert report.held("binance", "BTC", "alpha") == Decimal(0)
            mid = desk.market.consolidated["BTC-USDT"]
            bid, ask = mid.best_bid(), mid.best_ask()
            assert bid is not None and ask is not None
            btc = next(r for r in report.rows if (r.venue, r.account, r.asset) == ("okx", "main", "BTC"))
            assert btc.value is not None and bid.price * 7 * 0.999 <= btc.value <= ask.price * 7 * 1.001
            usdt = next(r for r in report.rows if (r.venue, r.asset) == ("okx", "USDT"))
            assert usdt.value == float(usdt.total)
            assert report.total == pytest.approx(sum(r.value for r in report.rows if r.value is not None))
            out = report.to_json()
            assert out["value_in"] == "USDT" and out["total"] == round(report.total, 2)
            assert {(a["venue"], a["account"]) for a in out["accounts"]} >= {("binance", "main"), ("okx", "main")}

    run(body(), timeout=90)


def test_arbitrage_reports_a_dislocation_opening_and_closing() -> None:
    async def body() -> list[OpportunityEvent]:
        seen: list[OpportunityEvent] = []
        async with Desk.sim(["binance", "okx", "kraken"], symbols=["BTC-USDT"]) as desk:
            desk.dislocate("kraken", 60.0, "BTC-USDT")
            async for event in desk.arbitrage(["BTC-USDT"], kinds=["cross"], seconds=30):
                seen.append(event)
                opened = [e for e in seen if e.kind == "open"]
                if event.kind == "open" and len(opened) == 1:
                    desk.dislocate("kraken", 0.0, "BTC-USDT")  # back in line: the opportunity closes
                if opened and all(any(c.kind == "close" and c.opportunity.key == o.opportunity.key for c in seen)
                                  for o in opened):
                    break
        return seen

    seen = run(body(), timeout=120)
    opens = [e for e in seen if e.kind == "open"]
    assert opens, "no opportunity opened"
    for event in opens:
        sell = next(leg for leg in event.opportunity.legs if leg.side is Side.SELL)
        assert event.opportunity.kind == "cross_venue" and sell.venue == "kraken" and event.opportunity.net_bps > 0
        out = event.to_json()
        assert out["event"] == "open" and out["kind"] == "cross_venue" and out["closed_at"] is None
    closes = [e for e in seen if e.kind == "close"]
    assert closes and all(e.opportunity.closed_at is not None for e in closes)


def test_a_configured_desk_trades_a_separately_running_simulator(tmp_path: Path) -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"]) as simulated:
            config = simulated.write_config(tmp_path / "crossbook.toml")
            assert (tmp_path / "crossbook-ccxt.json").stat().st_mode & 0o077 == 0  # keys: the owner's only
            held = (await simulated.balances(value_in=None)).held("okx", "BTC")
            async with Desk.from_config(config) as desk:
                assert desk.venues == ["binance", "okx"] and desk.simulator is None
                quote = await desk.best_price("BTC-USDT", "buy", 1)  # books from the simulators' endpoints
                check_quote_venues = {r.venue for r in quote.rows if r.status is QuoteStatus.LIVE}
                assert check_quote_venues >= {"binance", "okx"}
                report = await desk.route("BTC-USDT", "buy", 0.5, max_venues=1)
                assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.5)
                venue = report.children[0].venue
                with pytest.raises(ConfigError, match="binance: no account 'other'"):
                    await desk.venue_account("binance", "other")
            after = await simulated.balances(value_in=None)
            bought = after.held(venue, "BTC") - (held if venue == "okx" else Decimal(100))
            assert float(bought) == pytest.approx(0.5, rel=3e-3)  # the simulator's own account moved

    run(body(), timeout=120)


def test_positions_of_a_simulated_desk_are_its_derivatives_accounts() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx", "kraken"], symbols=["BTC-USDT"]) as desk:
            none = await desk.positions()
            assert none.positions == () and none.unavailable == {} and none.no_derivatives == ("kraken",)
            assert desk.simulator is not None
            opened = {}
            for feed, side in (("binanceusdm", Side.BUY), ("okx", Side.SELL)):
                account = desk.simulator.derivatives[feed]
                await account.load()
                lots = account.market("BTC-USDT-PERP").lot * 3
                order = await Trader(account).place(OrderRequest(account.venue, "BTC-USDT-PERP", side, OrderType.MARKET, lots))
                assert order.status is OrderStatus.FILLED and order.avg_price is not None
                opened[account.venue] = (order, account.market("BTC-USDT-PERP").contract_size)
            report = await desk.positions()
            assert report.unavailable == {} and report.no_derivatives == ("kraken",)
            assert sorted((p.venue, p.account, p.view.symbol) for p in report.positions) == [
                ("binance", "main", "BTC-USDT-PERP"), ("okx", "main", "BTC-USDT-PERP")]
            for position in report.positions:
                order, contract_size = opened[position.venue]
                sign = 1 if order.side is Side.BUY else -1
                assert position.view.side == ("long" if sign > 0 else "short")
                # the order reads in base units, the venue's contract count beside it
                assert order.contracts is not None and order.amount == order.contracts * contract_size
                assert position.view.contracts == order.contracts and position.view.size == sign * order.amount
                assert position.view.entry_price == pytest.approx(order.avg_price, rel=Decimal("1e-9"))
            out = report.to_json()
            assert out["no_derivatives"] == ["kraken"] and out["unavailable"] == {}
            okx = next(p for p in out["positions"] if p["venue"] == "okx")
            assert okx["side"] == "short" and okx["size"] == -float(opened["okx"][0].amount)
            assert (await desk.positions(["kraken"])).to_json() == {"positions": [], "unavailable": {},
                                                                    "no_derivatives": ["kraken"]}

    run(body(), timeout=90)


def test_a_configured_desk_reads_funding_from_the_simulators_it_names(tmp_path: Path) -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"]) as simulated:
            perps = ["BTC-USDT-PERP"]
            assert simulated.simulator is not None
            simulated.simulator.cluster.pause()  # funding follows the premium: hold the books still between the two reads
            simulated_rates = await simulated.funding_rates(perps)
            assert set(simulated_rates) == {("binance", "BTC-USDT-PERP"), ("okx", "BTC-USDT-PERP")}
            config = simulated.write_config(tmp_path / "crossbook.toml")
            async with Desk.from_config(config) as desk:
                assert await desk.funding_rates(perps) == simulated_rates
            # a config that names simulators but not Binance USD-M's: that venue is left out, not read
            text = config.read_text()
            usdm = next(block for block in text.split("\n\n") if block.startswith("[endpoints.binanceusdm]"))
            config.write_text(text.replace(usdm, ""))
            async with Desk.from_config(config) as desk:
                assert "binanceusdm" not in desk.config.endpoints  # type: ignore[union-attr]
                assert await desk.funding_rates(perps) == {("okx", "BTC-USDT-PERP"): simulated_rates[("okx", "BTC-USDT-PERP")]}

    run(body(), timeout=120)


def test_precision_rounds_to_the_grid_without_float_noise() -> None:
    p = Precision.of([0.01, 0.1], [0.00001, 0.001])
    assert (p.price_decimals, p.amount_decimals, p.money_decimals) == (2, 5, 4)
    assert p.price(12.000000000000002) == 12.0 and p.amount(0.9250500000000353) == 0.92505
    assert p.bps(-0.0000001) == 0.0 and repr(p.bps(-0.0000001)) == "0.0"
    assert Precision.of([], []) == Precision()  # no grid known: 8 decimals


def test_importing_crossbook_loads_neither_ccxt_nor_the_simulators() -> None:
    import subprocess
    import sys

    probe = "import sys, crossbook; print(any(m == 'ccxt' or m.startswith(('ccxt.', 'crossbook.sim', 'web3')) for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
    assert asyncio.iscoroutinefunction(Desk.best_price)
