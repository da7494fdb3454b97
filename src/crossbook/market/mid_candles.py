"""Candles of the consolidated mid: each symbol's mid across venues ((best bid + best ask) / 2 of
the consolidated book), sampled whenever one of its books changed, as 1m open/high/low/close (no
volume: a mid trades nothing). What the dashboard's candle chart draws.

``MidCandles`` is the arithmetic alone (``sample(symbol, ts, mid)``); ``MidSampler`` feeds it from
live consolidated books, a sample each time a book's ``updated_at`` moved since the last look."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..book.consolidated import ConsolidatedBook
from ..model import Interval

KEEP = 240  # closed candles held per symbol: four hours of 1m
LOOK_EVERY = 0.05  # seconds between two looks at the books for a change


@dataclass(frozen=True, slots=True)
class MidCandle:
    """OHLC of ``symbol``'s consolidated mid over ``interval`` from ``open_time`` (epoch seconds);
    ``samples``: the mids it was made of; ``closed`` once its interval has ended."""

    symbol: str
    interval: Interval
    open_time: float
    open: float
    high: float
    low: float
    close: float
    samples: int
    closed: bool

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "interval": self.interval.value, "open_time": self.open_time, "open": self.open,
                "high": self.high, "low": self.low, "close": self.close, "samples": self.samples, "closed": self.closed}


@dataclass(slots=True)
class _Forming:
    open_time: float
    open: float
    high: float
    low: float
    close: float
    samples: int = 1

    def add(self, mid: float) -> None:
        self.high = max(self.high, mid)
        self.low = min(self.low, mid)
        self.close = mid
        self.samples += 1

    def candle(self, symbol: str, interval: Interval, closed: bool) -> MidCandle:
        return MidCandle(symbol, interval, self.open_time, self.open, self.high, self.low, self.close, self.samples, closed)


@dataclass
class MidCandles:
    """Per symbol, the candles of the mids sampled, ``keep`` closed ones and the forming one."""

    interval: Interval = Interval.M1
    keep: int = KEEP
    _closed: dict[str, deque[MidCandle]] = field(default_factory=dict)
    _forming: dict[str, _Forming] = field(default_factory=dict)

    def sample(self, symbol: str, ts: float, mid: float) -> MidCandle | None:
        """One mid of ``symbol`` at ``ts`` (epoch seconds, not before the previous sample's
        candle); returns the candle it closed, if it opened a new one."""
        open_time = self.interval.open_of(ts)
        forming = self._forming.get(symbol)
        if forming is not None and open_time == forming.open_time:
            forming.add(mid)
            return None
        if forming is not None and open_time < forming.open_time:
            raise ValueError(f"{symbol}: a mid at {ts} is older than the candle at {forming.open_time}")
        self._forming[symbol] = _Forming(open_time, mid, mid, mid, mid)
        if forming is None:
            return None
        done = forming.candle(symbol, self.interval, closed=True)
        self._closed.setdefault(symbol, deque(maxlen=self.keep)).append(done)
        return done

    def candles(self, symbol: str, now: float, limit: int | None = None) -> list[MidCandle]:
        """``symbol``'s candles, oldest first, the last ``limit``; the forming one last, closed
        once ``now`` is past its interval."""
        out = list(self._closed.get(symbol, ()))
        forming = self._forming.get(symbol)
        if forming is not None:
            out.append(forming.candle(symbol, self.interval, closed=now >= forming.open_time + self.interval.seconds))
        return out[-limit:] if limit else out


def consolidated_mid(book: ConsolidatedBook, now: float) -> float | None:
    bid, ask = book.best_bid(now), book.best_ask(now)
    if bid is None or ask is None:
        return None
    return (bid.price + ask.price) / 2


class MidSampler:
    """Samples the consolidated mid of each book of ``books`` (symbol -> book, read each look, so
    symbols followed later join) into ``candles`` whenever one of its venues' books changed."""

    def __init__(self, books: Mapping[str, ConsolidatedBook], candles: MidCandles, clock: Callable[[], float]) -> None:
        self.books = books
        self.candles = candles
        self.clock = clock
        self._seen: dict[str, tuple[float, ...]] = {}

    def look(self) -> int:
        """Sample every symbol whose books changed since the last look; how many were sampled."""
        now = self.clock()
        sampled = 0
        for symbol, book in list(self.books.items()):
            stamp = tuple(b.updated_at for b in book.books.values())
            if self._seen.get(symbol) == stamp:
                continue
            self._seen[symbol] = stamp
            mid = consolidated_mid(book, now)
            if mid is not None:
                self.candles.sample(symbol, now, mid)
                sampled += 1
        return sampled

    async def run(self, every: float = LOOK_EVERY) -> None:
        """Look every ``every`` seconds until cancelled."""
        while True:
            self.look()
            await asyncio.sleep(every)
