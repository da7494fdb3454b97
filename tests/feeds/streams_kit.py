"""What every venue's stream tests share: a simulator clock that runs fast, a handler that loses one
closed candle frame, a feed run until such a loss is repaired, and the comparison of the candles a
feed emitted with the simulator's own."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

import aiohttp

from crossbook.feeds.handler import FeedHandler, Frame, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import Candle, Interval

from ..conftest import wait_for

SPEEDUP = 60  # the simulator's clock runs a minute a second: 1m candles close every second

SessionStep = Callable[[aiohttp.ClientSession], Awaitable[None]]


def fast_clock(speedup: int = SPEEDUP) -> Callable[[], int]:
    """A clock in epoch ms that runs ``speedup`` times faster than the wall, from now."""
    start = time.time()
    return lambda: int((start + (time.time() - start) * speedup) * 1000)


def losing_one_close(handler: type[FeedHandler], is_close: Callable[[bytes], bool]) -> type[FeedHandler]:
    """``handler`` whose socket loses the first frame ``is_close`` picks out once two candles have
    closed; the lost frame is kept in the class's ``lost``."""

    class LosesOneClose(handler):  # type: ignore[valid-type,misc]
        lost: ClassVar[list[bytes]] = []

        def receive(self, data: Frame, ts: float) -> list[Frame] | None:
            raw = data.encode() if isinstance(data, str) else data
            closed = sum(1 for s in self.candle_series.values() for _ in s.closed)
            if not type(self).lost and closed >= 2 and is_close(raw):
                type(self).lost.append(raw)
                return None
            return super().receive(data, ts)  # type: ignore[no-any-return]

    LosesOneClose.__name__ = f"{handler.__name__}LosesOneClose"
    return LosesOneClose


async def run_until_repaired(feed: VenueFeed, lossy: Any, events: list[MarketEvent], symbol: str | None = None, *,
                             more: int = 2, during: SessionStep | None = None, then: SessionStep | None = None) -> None:
    """Runs ``feed`` on a session of its own until its handler ``lossy`` lost a closed candle
    (``lossy.lost``) and the feed backfilled from REST (30 s), then until ``more`` closed candles (of
    ``symbol`` only, if given) came after that (30 s), and stops it; checks its handler found a gap
    and repaired a candle. ``during`` runs right after the repair, before the wait for more candles
    (a dropped connection, a wait for other streams); ``then`` after that wait, just before the feed
    stops (a REST read to compare with the last events). Both get the session."""
    async with aiohttp.ClientSession() as session:
        await feed.start(session)
        try:
            await wait_for(lambda: bool(lossy.lost) and feed.backfills >= 1, 30, "a lost candle repaired")
            seen = len(closed_candles(events, symbol))
            if during is not None:
                await during(session)
            await wait_for(lambda: len(closed_candles(events, symbol)) >= seen + more, 30, "candles after the repair")
            if then is not None:
                await then(session)
        finally:
            await feed.stop()
    handler = feed.connections[0].handler
    assert handler.market_stats.candle_gaps >= 1 and handler.market_stats.candles_repaired >= 1


def closed_candles(events: list[MarketEvent], symbol: str | None = None) -> dict[float, Candle]:
    """The closed candles by open time (of ``symbol`` only, if given); each emitted once."""
    out: dict[float, Candle] = {}
    for e in events:
        if isinstance(e, Candle) and e.closed and (symbol is None or e.symbol == symbol):
            assert e.open_time not in out, f"closed candle {e.symbol} {e.open_time} emitted twice"
            out[e.open_time] = e
    return out


def assert_equal_to_tape(got: dict[float, Candle], sim: Any, symbol: str, interval: Interval, *,
                         quote_volume: Literal["exact", "close", "unpublished"] = "exact") -> None:
    """The feed's closed candles of ``symbol`` are exactly the simulator's own over the same span;
    the quote volume exactly, within 1e-6 where the venue publishes it rounded (or its VWAP), or
    not at all."""
    assert got, f"no closed {symbol} candle"
    first, last = min(got), max(got)
    own = {c.start_ms / 1000: c for c in sim.tape.candles(symbol, interval.seconds, 1000, int(first * 1000), int(last * 1000))}
    assert set(got) == set(own), symbol
    for t, c in own.items():
        ours = got[t]
        assert ours.symbol == symbol and ours.interval is interval
        assert (ours.open, ours.high, ours.low, ours.close) == tuple(float(x) for x in (c.open, c.high, c.low, c.close))
        assert ours.volume == float(c.volume)
        if quote_volume == "unpublished":
            continue
        assert ours.quote_volume is not None
        if quote_volume == "exact":
            assert ours.quote_volume == float(c.quote_volume)
        else:
            assert abs(ours.quote_volume / float(c.quote_volume) - 1) < 1e-6
