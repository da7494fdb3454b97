"""The basis scanner's funding comes from the venues' funding streams (desk.live_funding): a
dislocation of a perpetual moves its simulator's premium, and the new rate reaches the scanner
through the stream, with no REST read; a pair no stream delivered in time is read over REST."""

from __future__ import annotations

import pytest

from crossbook import Desk
from crossbook.arbitrage.basis import basis
from crossbook.desk.results import OpportunityEvent
from crossbook.sim.perp_prices import PerpPrices

from ..conftest import run, wait_for

SPOT, PERP = "BTC-USDT", "BTC-USDT-PERP"
DISLOCATED = 0.001  # a rate above this is the dislocated premium's: the undisturbed ones stay near 0.0001


def test_a_dislocated_perpetuals_funding_reaches_the_scanner_by_stream() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"], symbols=[SPOT, PERP]) as desk:
            live = await desk.live_funding([SPOT, PERP])
            assert {("binance", PERP), ("okx", PERP)} <= live.streamed.keys(), "both venues stream their funding"
            assert live.read == {}, "nothing read over REST"
            assert abs(live("binance", PERP) or 1.0) < DISLOCATED

            sim = desk._simulated().cluster.venues["binanceusdm"]
            assert isinstance(sim, PerpPrices)
            desk.dislocate("binance", 300, PERP)  # the perpetual 3 % rich: its mark 1 % over the index
            await wait_for(lambda: (live("binance", PERP) or 0.0) > DISLOCATED, 30, "the new rate by stream")
            assert live.read == {}, "still nothing read over REST: the change came by stream"
            assert live("binance", PERP) == pytest.approx(float(sim.funding_rate(PERP)), abs=1e-5)
            books = desk.market.consolidated
            found = [o for o in basis(books[SPOT], books[PERP], funding=live) if o.legs[1].venue == "binance"]
            assert found and all(o.funding_rate == live("binance", PERP) for o in found), "the scanner reads it"
            live.close()

            events = desk.arbitrage([SPOT, PERP], kinds=("basis",), seconds=60)  # the desk's own scan, wired the same
            opened: OpportunityEvent | None = None
            async for event in events:
                rate = event.opportunity.funding_rate
                if event.kind == "open" and event.opportunity.legs[1].venue == "binance" and (rate or 0.0) > DISLOCATED:
                    opened = event
                    break
            await events.aclose()
            assert opened is not None, "a basis opportunity on the dislocated perpetual, with its streamed rate"
            assert opened.opportunity.funding_rate == pytest.approx(float(sim.funding_rate(PERP)), abs=1e-5)

    run(body(), timeout=120)


def test_a_pair_no_stream_delivered_in_time_is_read_over_rest() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "bybit"], symbols=[PERP]) as desk:
            live = await desk.live_funding([PERP], first_within=0.0)
            assert live.read.keys() | live.streamed.keys() == {("binance", PERP), ("bybit", PERP)}
            assert live.read, "the pairs not yet heard were read once"
            heard = {key: live.read[key] for key in live.read}
            await wait_for(lambda: heard.keys() <= live.streamed.keys(), 30, "the streams to catch up")
            for venue, symbol in heard:
                assert live(venue, symbol) == live.streamed[(venue, symbol)], "a streamed rate wins over the read one"
            live.close()

    run(body(), timeout=120)
