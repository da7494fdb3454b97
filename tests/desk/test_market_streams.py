"""The desk's subscriptions to the streams beyond the book, on simulated venues: events reach
``on_market`` and ``market_events``, a symbol followed before its streams were asked for gets them
through a companion feed, and ``desk.candles`` / ``desk.ticker`` answer from the streams (equal to
the simulator's own candles, and to the venue's REST ticker at the same tick), falling back to
REST for what the streams do not hold."""

from __future__ import annotations

import asyncio
import itertools
from functools import partial

from crossbook import Desk
from crossbook.desk.market_streams import StreamReads, contiguous
from crossbook.desk.rest_market import RestMarket
from crossbook.feeds.handler import Channels, MarketEvent
from crossbook.model import Candle, Interval, Ticker
from tests.conftest import run, wait_for
from tests.feeds.streams_kit import assert_equal_to_tape, fast_clock

STREAMS = Channels(candles=(Interval.M1,), ticker=True)
WITHIN = 60.0  # seconds: the machine is shared and loaded
MANUAL_TICKS = 60  # ticks made by hand, at most, for a throttled ticker frame to go out
FRAME_WITHIN = 0.5  # seconds a tick's ticker frame gets to arrive before the next tick


def _tickers(events: list[MarketEvent], venue: str, symbol: str) -> list[Ticker]:
    return [e for e in events if isinstance(e, Ticker) and e.venue == venue and e.symbol == symbol]


def _more_tickers(events: list[MarketEvent], venue: str, symbol: str, than: int) -> bool:
    return len(_tickers(events, venue, symbol)) > than


def _same_day(a: Ticker, b: Ticker) -> bool:
    return (a.open, a.high, a.low, a.last, a.volume) == (b.open, b.high, b.low, b.last, b.volume)


async def _ticker_as_rest(desk: Desk, events: list[MarketEvent], venue: str, symbol: str) -> Ticker:
    """With the market paused, ticks made by hand, each followed by its frames and a REST read (and
    nothing moving in between): once a tick's ticker frame went out (the venue throttles them), the
    venue's REST ticker equals the last streamed one."""
    assert desk.simulator is not None
    cluster = desk.simulator.cluster
    cluster.pause()
    compared: list[tuple[Ticker, Ticker]] = []
    try:
        for _ in range(MANUAL_TICKS):
            seen = len(_tickers(events, venue, symbol))
            cluster.tick()
            try:  # a venue throttles its ticker frames (OKX: one a second): no frame, another tick
                await wait_for(partial(_more_tickers, events, venue, symbol, seen), FRAME_WITHIN, f"a {venue} frame")
            except AssertionError:
                continue
            rest = await RestMarket(desk.endpoint_overrides()).ticker(venue, symbol)
            streamed = _tickers(events, venue, symbol)[-1]
            if _same_day(rest, streamed):
                return streamed
            compared.append((rest, streamed))
        raise AssertionError(f"{venue}: the REST ticker never equalled the streamed one: {compared[-3:]}")
    finally:
        cluster.resume()


def test_streams_reach_subscribers_and_answer_candles_and_tickers() -> None:
    async def body() -> None:
        # ETH-USDT is followed from the start, without streams: asking for them later adds a companion feed
        async with Desk.sim(["binance", "okx"], seed=11, symbols=["ETH-USDT"]) as desk:
            assert desk.simulator is not None
            sim = desk.simulator.cluster.venues["binance"]
            sim.tape.clock = fast_clock()  # a minute a second: 1m candles close every second
            events: list[MarketEvent] = []
            unsubscribe = desk.on_market(events.append)
            await desk.follow_market(["BTC-USDT", "ETH-USDT"], STREAMS)
            reads = desk.market_reads
            assert isinstance(reads, StreamReads)

            def three_in_a_row() -> bool:  # a minute the stream missed is repaired from REST a moment later
                held = desk.streams().candles("binance", "BTC-USDT", Interval.M1)
                return len(held) >= 4 and contiguous(held[-3:])

            await wait_for(three_in_a_row, WITHIN, "three binance BTC-USDT candles in a row")
            streamed = reads.streamed
            candles = await desk.candles("binance", "BTC-USDT", "1m", limit=3)
            assert reads.streamed == streamed + 1, "answered from the stream"
            assert len(candles) == 3 and [c.open_time for c in candles] == sorted(c.open_time for c in candles)
            assert all(b.open_time - a.open_time == 60 for a, b in itertools.pairwise(candles))
            assert_equal_to_tape({c.open_time: c for c in candles if c.closed}, sim, "BTC-USDT", Interval.M1)

            fell_back = reads.fell_back
            five = await desk.candles("binance", "BTC-USDT", "5m", limit=2)  # not streamed: REST answers
            assert reads.fell_back == fell_back + 1 and five and all(c.interval is Interval.M5 for c in five)

            for venue in ("binance", "okx"):
                await wait_for(partial(_more_tickers, events, venue, "BTC-USDT", 0), WITHIN, f"a streamed {venue} ticker")
                await _ticker_as_rest(desk, events, venue, "BTC-USDT")
            await wait_for(lambda: bool(_tickers(events, "binance", "ETH-USDT")), WITHIN,
                           "a streamed ETH-USDT ticker through the companion feed")
            streamed = reads.streamed
            board = await desk.ticker("BTC-USDT")
            assert reads.streamed == streamed + 2, "both venues' tickers from their streams"
            assert {t.venue for t in board.tickers} == {"binance", "okx"}
            for ticker in board.tickers:
                assert ticker in _tickers(events, ticker.venue, "BTC-USDT"), "the streamed ticker itself"

            unsubscribe()
            seen = len(events)
            got: list[MarketEvent] = []

            async def read_two() -> None:
                async for event in desk.market_events(["ETH-USDT"]):
                    got.append(event)
                    if len(got) == 2:
                        return

            await asyncio.wait_for(read_two(), WITHIN)
            assert all(e.symbol == "ETH-USDT" for e in got)
            assert len(events) == seen, "an unsubscribed callback hears nothing more"
            assert any(isinstance(e, Candle) for e in events)

    run(body(), timeout=240)
