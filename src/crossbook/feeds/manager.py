"""VenueFeed: one venue's market data for a set of standard symbols.

Loads the venue's instruments (its own metadata endpoint) to map standard symbols to native ids,
splits the subscriptions across connections by the venue's per-connection limit, and runs one
``FeedConnection`` (with its own handler) per chunk.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from ..book.l2 import L2Book
from ..errors import UnknownSymbol, VenueUnavailable
from ..symbols import SymbolMap
from ..venues.spec.limits import Breach, Reply
from .capture import CaptureWriter
from .connection import FeedConnection
from .handler import FeedHandler, TradeSink
from .latency import LatencyStats

# a metadata request the venue refuses for its rate limit waits what the venue asks, this often
INSTRUMENT_ATTEMPTS = 4
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
        recorder: CaptureWriter | None = None,
        breach: Breach | None = None,
    ) -> None:
        """``breach``: how the venue says a request broke its rate limit (its SPEC's limit table)."""
        self.handler_cls = handler_cls
        self.breach = breach
        self.recorder = recorder
        self.venue = handler_cls.venue
        self.wanted = [s.upper() for s in symbols]
        self.ws_url = ws_url
        self.rest_url = rest_url
        self.on_trade = on_trade
        self.symbol_map: SymbolMap | None = None
        self.connections: list[FeedConnection] = []
        self.books: dict[str, L2Book] = {}  # standard symbol -> book
        self.missing: list[str] = []  # requested symbols the venue does not list
        self._tasks: list[asyncio.Task[None]] = []

    def new_handler(self) -> FeedHandler:
        return self.handler_cls(ws_url=self.ws_url, rest_url=self.rest_url, on_trade=self.on_trade)

    async def load_instruments(self, session: aiohttp.ClientSession) -> SymbolMap:
        probe = self.new_handler()
        try:
            bodies = [await self._metadata(session, url) for url in probe.instruments_urls()]
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise VenueUnavailable(f"{self.venue}: cannot reach {probe.rest_base} ({exc})") from exc
        self.symbol_map = SymbolMap(self.venue, probe.parse_instruments(bodies))
        return self.symbol_map

    async def _metadata(self, session: aiohttp.ClientSession, url: str) -> bytes:
        """One metadata body; a rate-limit refusal is waited out as the venue asks and tried again."""
        for _attempt in range(INSTRUMENT_ATTEMPTS):
            async with session.get(url) as resp:
                body = await resp.read()
                reply = Reply(resp.status, dict(resp.headers), body)
            wait = self.breach.wait(reply) if self.breach is not None else None
            if wait is None:
                if resp.status != 200:
                    raise VenueUnavailable(f"{self.venue}: {url} answered HTTP {resp.status}")
                if self.recorder is not None:
                    self.recorder.write(time.time(), "http", url, body)
                return body
            if wait > LONGEST_WAIT:
                break
            await asyncio.sleep(wait)
        raise VenueUnavailable(f"{self.venue}: {url} refused for its rate limit {INSTRUMENT_ATTEMPTS} times")

    async def start(self, session: aiohttp.ClientSession) -> None:
        symbol_map = self.symbol_map or await self.load_instruments(session)
        natives: dict[str, str] = {}
        for symbol in self.wanted:
            try:
                natives[symbol_map.native(symbol)] = symbol
            except UnknownSymbol:
                self.missing.append(symbol)
        per_conn = self.handler_cls.max_streams // self.handler_cls.streams_per_symbol
        for i, group in enumerate(chunk(list(natives), per_conn)):
            handler = self.new_handler()
            conn = FeedConnection(handler, group, session, recorder=self.recorder)
            for native in group:
                book = handler.add_book(native, natives[native])
                self.books[natives[native]] = book
            self.connections.append(conn)
            start = self._run_after(conn, i * self.handler_cls.connect_interval)
            self._tasks.append(asyncio.create_task(start, name=f"feed:{self.venue}:{group[0]}"))

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

    def status(self) -> dict[str, Any]:
        return {
            "connections": len(self.connections),
            "connected": sum(c.connected for c in self.connections),
            "last_error": next((c.last_error for c in self.connections if c.last_error), None),
        }
