"""VenueFeed: one venue's market data for a set of standard symbols.

Loads the venue's instruments (its own metadata endpoint) to map standard symbols to native ids,
splits the subscriptions across connections by the venue's per-connection limit, and runs one
``FeedConnection`` (with its own handler) per chunk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..book.l2 import L2Book
from ..errors import UnknownSymbol, VenueUnavailable
from ..symbols import SymbolMap
from ..venues.spec.limiter import Limiter
from ..venues.spec.limits import Breach, SubscribeLimits, request_params
from .candles import Gap
from .capture import CaptureWriter
from .connection import Backoff, FeedConnection
from .handler import NO_CHANNELS, Channels, FeedHandler, MarketSink, TradeSink
from .latency import LatencyStats
from .rest import fetch

log = logging.getLogger(__name__)

BACKFILL_ATTEMPTS = 5  # a candle backfill request that fails is tried this often, backing off
# a metadata request that times out, fails, is refused (5xx, 429, the venue's rate-limit signal) or
# answers what cannot be read is tried this often, waiting what the venue asks or backing off
INSTRUMENT_ATTEMPTS = 5
LONGEST_WAIT = 10.0  # seconds: a longer ask (a ban) leaves the venue down instead of stalling the start


def chunk(natives: list[str], per_connection: int) -> list[list[str]]:
    size = max(1, per_connection)
    return [natives[i : i + size] for i in range(0, len(natives), size)]


class VenueFeed:
    def __init__(
        self,
        handler_cls: type[FeedHandler],
        symbols: list[str],
        *,
        ws_url: str | None = None,
        rest_url: str | None = None,
        on_trade: TradeSink | None = None,
        on_market: MarketSink | None = None,
        channels: Channels = NO_CHANNELS,
        recorder: CaptureWriter | None = None,
        breach: Breach | None = None,
        limiter: Limiter | None = None,
        subscribe_limits: SubscribeLimits | None = None,
        book_class: type[L2Book] = L2Book,
    ) -> None:
        """``breach``: how the venue says a request broke its rate limit (its SPEC's limit table);
        ``limiter``: the venue's REST limiter, shared with its other feeds and its accounts, which
        every metadata and snapshot request waits for; ``subscribe_limits``: what one socket of
        this feed may hold and send (its SPEC's); ``channels``: the streams beyond book and trades
        each symbol subscribes, whose events go to ``on_market`` (a candle stream's gaps are filled
        from the venue's REST candles); ``book_class``: the books its handlers make."""
        self.handler_cls = handler_cls
        self.book_class = book_class
        self.breach = breach
        self.limiter = limiter
        self.subscribe_limits = subscribe_limits
        self.recorder = recorder
        self.venue = handler_cls.venue
        self.wanted = [s.upper() for s in symbols]
        self.ws_url = ws_url
        self.rest_url = rest_url
        self.on_trade = on_trade
        self.on_market = on_market
        self.channels = channels
        self.backfills = 0  # candle gaps filled from REST
        self.backfill_failures = 0  # candle backfill requests that failed
        self._session: aiohttp.ClientSession | None = None
        self.symbol_map: SymbolMap | None = None
        self.connections: list[FeedConnection] = []
        self.books: dict[str, L2Book] = {}  # standard symbol -> book
        self.missing: list[str] = []  # requested symbols the venue does not list
        self.metadata_failures = 0  # instrument requests that failed or answered what cannot be read
        self.last_error: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def new_handler(self) -> FeedHandler:
        return self.handler_cls(ws_url=self.ws_url, rest_url=self.rest_url, on_trade=self.on_trade,
                                on_market=self.on_market, channels=self.channels, on_backfill=self._backfill,
                                book_class=self.book_class)

    def _backfill(self, handler: FeedHandler, gap: Gap) -> None:
        if self._session is not None:
            task = asyncio.create_task(self._fill_gap(self._session, handler, gap), name=f"backfill:{self.venue}:{gap.native}")
            self._tasks.append(task)
            task.add_done_callback(self._backfill_done)

    def _backfill_done(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.backfill_failures += 1
            log.warning("%s: candle backfill failed: %r", self.venue, exc)

    async def _fill_gap(self, session: aiohttp.ClientSession, handler: FeedHandler, gap: Gap) -> None:
        """The candles a stream lost, from REST, within the venue's limits; a failed request is
        tried again with backoff."""
        url = handler.candles_url(gap)
        backoff = Backoff(base=0.5, cap=4.0)
        for attempt in range(BACKFILL_ATTEMPTS):
            if attempt:
                await asyncio.sleep(backoff.next_delay())
            if self.limiter is not None:
                parts = urlsplit(url)
                await self.limiter.acquire("GET", parts.path, params=request_params(parts.query, None))
            got = await fetch(session, url, handler.request_timeout, self.breach)
            if got.reply is not None and self.limiter is not None:
                self.limiter.observe(got.reply)
            if got.body is not None:
                if self.recorder is not None:
                    self.recorder.write(time.time(), "http", url, got.body)
                handler.on_candles(gap, got.body)
                self.backfills += 1
                return
            self.backfill_failures += 1
            self.last_error = f"{url}: {got.error}"
        log.warning("%s: candles %s %s from %.0f to %.0f not repaired: %s", self.venue, gap.native,
                    gap.interval.value, gap.start, gap.end, self.last_error)

    async def load_instruments(self, session: aiohttp.ClientSession) -> SymbolMap:
        """The venue's instruments; an answer the handler cannot read (truncated, malformed, listing
        nothing) is asked again. VenueUnavailable once every attempt failed."""
        probe = self.new_handler()
        backoff = Backoff(base=0.5, cap=4.0)
        for attempt in range(INSTRUMENT_ATTEMPTS):
            if attempt:
                await asyncio.sleep(backoff.next_delay())
            bodies = [await self._metadata(session, url, probe.request_timeout) for url in probe.instruments_urls()]
            try:
                instruments = probe.parse_instruments(bodies)
                if not instruments:
                    raise ValueError("no instrument listed")
            except Exception as exc:  # whatever the parser trips on, the answer was unreadable
                self._metadata_failed(f"instruments unreadable ({type(exc).__name__}: {exc})")
                continue
            if self.recorder is not None:
                for url, body in zip(probe.instruments_urls(), bodies, strict=True):
                    self.recorder.write(time.time(), "http", url, body)
            self.symbol_map = SymbolMap(self.venue, instruments)
            return self.symbol_map
        raise VenueUnavailable(f"{self.venue}: {self.last_error}")

    async def _metadata(self, session: aiohttp.ClientSession, url: str, timeout: float) -> bytes:
        """One metadata body, asked again after a timeout, a network error, a 5xx or a rate-limit
        refusal (waiting what the venue asks). Another status is no reason to ask again."""
        backoff = Backoff(base=0.5, cap=4.0)
        for _attempt in range(INSTRUMENT_ATTEMPTS):
            if self.limiter is not None:
                parts = urlsplit(url)
                await self.limiter.acquire("GET", parts.path, params=request_params(parts.query, None))
            got = await fetch(session, url, timeout, self.breach)
            if got.reply is not None and self.limiter is not None:
                self.limiter.observe(got.reply)  # a refusal holds back everything the desk sends the venue
            if got.body is not None:
                return got.body
            self._metadata_failed(f"{url}: {got.error}")
            status = got.reply.status if got.reply is not None else None
            if got.wait is None and status is not None and status < 500 and status != 429:
                raise VenueUnavailable(f"{self.venue}: {url} answered HTTP {status}")
            wait = got.wait if got.wait is not None else backoff.next_delay()
            if wait > LONGEST_WAIT:
                break
            await asyncio.sleep(wait)
        raise VenueUnavailable(f"{self.venue}: cannot load instruments, {self.last_error}")

    def _metadata_failed(self, error: str) -> None:
        self.metadata_failures += 1
        self.last_error = error
        log.info("%s: %s", self.venue, error)

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        symbol_map = self.symbol_map or await self.load_instruments(session)
        natives: dict[str, str] = {}
        for symbol in self.wanted:
            try:
                natives[symbol_map.native(symbol)] = symbol
            except UnknownSymbol:
                self.missing.append(symbol)
        for i, group in enumerate(chunk(list(natives), self.books_per_connection())):
            handler = self.new_handler()
            conn = FeedConnection(handler, group, session, recorder=self.recorder, limiter=self.limiter,
                                  subscribe_limits=self.subscribe_limits, breach=self.breach)
            for native in group:
                book = handler.add_book(native, natives[native], symbol_map.by_native.get(native))
                self.books[natives[native]] = book
            self.connections.append(conn)
            start = self._run_after(conn, i * self.handler_cls.connect_interval)
            self._tasks.append(asyncio.create_task(start, name=f"feed:{self.venue}:{group[0]}"))

    def books_per_connection(self) -> int:
        """The books one socket carries: the handler's chunk, within the venue's topics per connection."""
        streams = self.handler_cls.max_streams
        limits = self.subscribe_limits
        if limits is not None and limits.topics_per_connection is not None:
            streams = min(streams, limits.topics_per_connection)
        per_symbol = self.handler_cls.streams_per_symbol + self.handler_cls.market_streams(self.channels)
        return max(1, streams // per_symbol)

    @staticmethod
    async def _run_after(conn: FeedConnection, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await conn.run()

    async def stop(self) -> None:
        for conn in self.connections:
            await conn.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def latency(self) -> dict[str, float] | None:
        """Event-time to receive-time percentiles over every connection of this feed."""
        merged = LatencyStats()
        for conn in self.connections:
            merged.samples.extend(conn.handler.latency.samples)
        return merged.percentiles()

    @property
    def failing(self) -> dict[str, int]:
        """Books that stayed syncing past their venue's bound since they were last LIVE: standard
        symbol -> fresh attempts the watchdog gave them."""
        return {conn.handler.symbols.get(n, n): kicks for conn in self.connections for n, kicks in conn.failing.items()}

    def status(self) -> dict[str, Any]:
        return {
            "connections": len(self.connections),
            "connected": sum(c.connected for c in self.connections),
            "last_error": next((c.last_error for c in self.connections if c.last_error), self.last_error),
            "failing": self.failing,
            "fetch_failures": self.metadata_failures + sum(c.fetch_failures for c in self.connections),
            "malformed_frames": sum(c.handler.malformed for c in self.connections),
        }
