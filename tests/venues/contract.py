"""The contract every venue's feed handler meets against its simulated twin.

A ``Harness`` starts one simulated venue on 127.0.0.1, runs the product's real ``VenueFeed`` on it
for two symbols, and watches every book the whole time: a book that reads LIVE must never be
crossed, and every sample of a book that does not read LIVE is counted (``non_live``).
``settled`` pauses the market and waits until the client's books equal the venue's."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from crossbook.book.l2 import L2Book
from crossbook.feeds.handler import FeedHandler
from crossbook.feeds.manager import VenueFeed
from crossbook.model import BookState, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.server import SimVenue
from crossbook.sim.venues import sim_class
from crossbook.venues.registry import VENUES, venue_feeds

from ..conftest import wait_for

DEPTH = 10


def contract_feeds() -> list[str]:
    """Every feed id that has a simulated twin."""
    from crossbook.sim.venues import venue_sims

    out = []
    for venue in VENUES:
        sims = venue_sims(venue)
        out.extend(f for f in venue_feeds(venue, options=True) if f in sims)
    return out


def fault_cases() -> list[tuple[str, str]]:
    return [(f, fault) for f in contract_feeds() for fault in sorted(sim_class(f).faults_supported)]


@dataclass
class Harness:
    feed_id: str
    handler_overrides: dict[str, Any] = field(default_factory=dict)
    sim_overrides: dict[str, Any] = field(default_factory=dict)
    cluster: SimCluster | None = None
    feed: VenueFeed | None = None
    session: aiohttp.ClientSession | None = None
    trades: list[Trade] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    live_samples: int = 0
    non_live: Counter[str] = field(default_factory=Counter)  # symbol -> samples it did not read LIVE
    _watch: asyncio.Task[None] | None = None

    @property
    def sim(self) -> SimVenue:
        assert self.cluster is not None
        return self.cluster.venues[self.feed_id]

    @property
    def symbols(self) -> list[str]:
        return list(self.sim.markets[:2])

    @property
    def books(self) -> dict[str, L2Book]:
        assert self.feed is not None
        return self.feed.books

    @property
    def handlers(self) -> list[FeedHandler]:
        assert self.feed is not None
        return [c.handler for c in self.feed.connections]

    async def __aenter__(self) -> Harness:
        self.cluster = SimCluster([self.feed_id], interval=0.05, levels=120, overrides=self.sim_overrides)
        await self.cluster.start()
        ws, rest = self.cluster.urls(self.feed_id)
        base = venue_feeds_any(self.feed_id)
        cls = type(base.__name__, (base,), dict(self.handler_overrides)) if self.handler_overrides else base
        self.session = aiohttp.ClientSession()
        self.feed = VenueFeed(cls, self.symbols, ws_url=ws, rest_url=rest, on_trade=self.trades.append)
        await self.feed.start(self.session)
        for conn in self.feed.connections:
            self._check_every_frame(conn.handler)
        self._watch = asyncio.create_task(self._watch_books())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.feed is not None:
            await self.feed.stop()
        if self.session is not None:
            await self.session.close()
        if self.cluster is not None:
            await self.cluster.stop()

    def _check_every_frame(self, handler: FeedHandler) -> None:
        """After every frame the handler takes, none of its LIVE books may be crossed."""
        on_frame = handler.on_frame

        def checked(data: bytes | str, ts: float) -> Any:
            replies = on_frame(data, ts)
            for native, book in handler.books.items():
                if book.state is BookState.LIVE and book.crossed():
                    self.violations.append(f"{native} crossed while LIVE after a frame: {book!r}")
            return replies

        handler.on_frame = checked  # type: ignore[method-assign]

    async def _watch_books(self) -> None:
        while True:
            for symbol, book in self.books.items():
                if book.status() is BookState.LIVE:
                    self.live_samples += 1
                    if book.crossed():
                        self.violations.append(f"{symbol} served crossed while LIVE: {book!r}")
                else:
                    self.non_live[symbol] += 1
            await asyncio.sleep(0.005)

    def handler_of(self, symbol: str) -> tuple[FeedHandler, str]:
        """The handler that keeps ``symbol``'s book, and the book's native id."""
        assert self.feed is not None and self.feed.symbol_map is not None
        native = self.feed.symbol_map.native(symbol)
        return next(h for h in self.handlers if native in h.books), native

    def all_live(self) -> bool:
        return len(self.books) == len(self.symbols) and all(b.status() is BookState.LIVE for b in self.books.values())

    async def live(self, timeout: float = 15.0) -> None:
        await wait_for(self.all_live, timeout, f"{self.feed_id} books live: {list(self.books.values())}")

    def mismatch(self, symbol: str) -> str | None:
        book = self.books[symbol]
        want = self.sim.expected_top(symbol, DEPTH)
        have = book.depth(DEPTH)
        if book.status() is not BookState.LIVE:
            return f"{symbol} is {book.status().value}"
        if have != want:
            return f"{symbol}: client {have[0][:3]}/{have[1][:3]} venue {want[0][:3]}/{want[1][:3]}"
        return None

    async def settled(self, timeout: float = 10.0) -> None:
        """Pause the market; every book must become LIVE and equal the venue's top levels."""
        assert self.cluster is not None
        self.cluster.pause()
        try:
            await wait_for(
                lambda: all(self.mismatch(s) is None for s in self.symbols),
                timeout,
                f"{self.feed_id} books to match the venue: {[self.mismatch(s) for s in self.symbols]}",
            )
        finally:
            self.cluster.resume()


def venue_feeds_any(feed_id: str) -> type[FeedHandler]:
    from crossbook.venues.registry import all_feeds

    return all_feeds()[feed_id]
