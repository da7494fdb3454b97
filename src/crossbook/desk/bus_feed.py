"""FeedProcess: the venues' feeds run as in a desk (same handlers, sync rules and healing), their
books, trades and market events published on the bus (``crossbook feed``).

Several feed processes split the market between them: each takes the (venue, symbol) pairs its
``Shard`` owns, by a stable hash, so N processes given the same symbols (or ``all_symbols``) and
shards 1/N .. N/N follow every book exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
from nats.aio.client import Client

from ..book.tapped import TappedBook
from ..bus.connect import Retention, bus_urls, connect, ensure_bus
from ..bus.publisher import COALESCE, BusPublisher
from ..bus.subjects import token
from ..config import load_config
from ..errors import ConfigError, CrossbookError, VenueUnavailable
from ..feeds.connection import Backoff
from ..feeds.handler import NO_CHANNELS, Channels
from ..feeds.manager import VenueFeed
from ..market.data import Endpoints, MarketData, production
from ..model import BookState
from ..symbols import parse_standard
from ..venues.registry import VENUES, venue_feeds

if TYPE_CHECKING:
    from ..sim.cluster import SimCluster

log = logging.getLogger(__name__)

WATCH_EVERY = 0.1  # seconds between two looks for feeds started since (a venue back up, symbols added)
CONNECT_WITHIN = 30.0  # seconds the first connection to the bus may take (later drops reconnect for ever)


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``k`` of ``n`` (1-based): the (venue, symbol) pairs whose CRC32 of ``venue:symbol`` is
    ``k - 1`` modulo ``n``."""

    k: int = 1
    n: int = 1

    def __post_init__(self) -> None:
        if not (self.n >= 1 and 1 <= self.k <= self.n):
            raise ConfigError(f"shard {self.k}/{self.n}: K/N needs N >= 1 and 1 <= K <= N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"K/N"`` as a Shard; ConfigError naming the text when it is not one."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None:
            raise ConfigError(f"shard {text!r} is not K/N (e.g. 2/4)")
        return cls(int(match[1]), int(match[2]))

    def owns(self, venue: str, symbol: str) -> bool:
        return zlib.crc32(f"{venue}:{symbol}".encode()) % self.n == self.k - 1

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What a feed process publishes now: its books, those live, and the publisher's counters."""

    name: str
    venues: list[str]
    books: int
    live: int
    frames: int
    events: int
    bytes: int
    down: dict[str, str]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "venues": self.venues, "books": self.books, "live": self.live,
                "frames": self.frames, "events": self.events, "bytes": self.bytes, "down": self.down}


def default_name() -> str:
    """``feed-<host>-<pid>``, as a subject token."""
    host = re.sub(r"[^A-Za-z0-9_\-]", "-", socket.gethostname()) or "host"
    return f"feed-{host}-{os.getpid()}"


def shown_url(url: str) -> str:
    """The bus's URLs without any user or password they carry (for messages and logs)."""
    shown = []
    for part in url.split(","):
        parts = urlsplit(part.strip())
        shown.append(f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.hostname else "(not a URL)")
    return ",".join(shown)


def config_endpoints(path: str) -> Endpoints:
    """The ``[endpoints]`` of a crossbook.toml (a running ``crossbook sim --write-config``); a feed it
    does not name is not reached. The venues' own where it names none."""
    endpoints = load_config(path).endpoints
    if not endpoints:
        return production

    def configured(feed: str) -> tuple[str | None, str | None]:
        if feed not in endpoints:
            raise VenueUnavailable(f"{feed}: {path} names no endpoint for it in [endpoints]")
        return endpoints[feed]

    return configured


class FeedProcess:
    def __init__(self, bus_url: str, venues: Sequence[str], symbols: Sequence[str] = (), *, all_symbols: bool = False,
                 shard: Shard = Shard(), endpoints: Endpoints = production, name: str | None = None,
                 channels: Channels = NO_CHANNELS, sim: bool = False, seed: int = 7,
                 heartbeat_every: float = 1.0, snapshot_every: float = 5.0, coalesce: float = COALESCE,
                 retention: Retention = Retention()) -> None:
        """``symbols`` (standard) or ``all_symbols`` (every symbol each venue's feeds list), of those
        the ``shard`` owns; ``sim``: the simulated venues, started here on 127.0.0.1 (``endpoints``
        is then not given); ``name``: this process on the bus (default ``feed-<host>-<pid>``).
        ConfigError naming what is wrong, before anything connects."""
        bus_urls(bus_url)
        unknown = [v for v in venues if v not in VENUES]
        if unknown or not venues:
            raise ConfigError(f"unknown venue(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(VENUES)}")
        if bool(symbols) == all_symbols:
            raise ConfigError("give either symbols or all symbols, not both" if all_symbols else "give symbols or all symbols")
        for symbol in symbols:
            parse_standard(symbol)
        if sim and endpoints is not production:
            raise ConfigError("simulated venues or configured endpoints, not both")
        self.bus_url = bus_url
        self.venues = list(dict.fromkeys(venues))
        self.symbols = [s.upper() for s in symbols]
        self.all_symbols = all_symbols
        self.shard = shard
        self.endpoints = endpoints
        self.name = subjects_token(name or default_name())
        self.channels = channels
        self.sim = sim
        self.seed = seed
        self.heartbeat_every = heartbeat_every
        self.snapshot_every = snapshot_every
        if not 0.0 <= coalesce <= 1.0:
            raise ConfigError(f"coalesce must be 0 to 1000 ms, not {coalesce * 1000:g} ms")
        self.coalesce = coalesce
        self.retention = retention
        self.cluster: SimCluster | None = None
        self.nc: Client | None = None
        self.publisher: BusPublisher | None = None
        self.markets: dict[str, MarketData] = {}  # venue -> its feeds (each venue follows its own shard)
        self._session: aiohttp.ClientSession | None = None
        self._attached: set[int] = set()  # id() of the feeds whose books are published
        # candle feeds beside the book feeds of venues whose candles come on their own socket (OKX)
        self._candle_feeds: list[VenueFeed] = []
        self._watch: asyncio.Task[None] | None = None
        self._retries: list[asyncio.Task[None]] = []  # venues whose listing is being loaded again (all_symbols)
        self.unlisted: dict[str, str] = {}  # venue -> why its symbols are not known yet (all_symbols)

    # ---- starting and stopping -------------------------------------------------------------------

    async def start(self) -> FeedProcess:
        """Connect, make the bus's streams and buckets, start the feeds and publish their books."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        try:
            self.nc = await asyncio.wait_for(connect(self.bus_url, name=self.name), CONNECT_WITHIN)
        except TimeoutError:
            raise CrossbookError(f"bus {shown_url(self.bus_url)} not reached within {CONNECT_WITHIN:.0f} s") from None
        await ensure_bus(self.nc.jetstream(), self.retention)
        endpoints = self.endpoints
        if self.sim:
            from ..sim.cluster import SimCluster

            self.cluster = SimCluster([f for v in self.venues for f in venue_feeds(v)], seed=self.seed)
            await self.cluster.start()
            endpoints = self.cluster.urls
        self.publisher = await BusPublisher(self.nc, self.name, heartbeat_every=self.heartbeat_every,
                                            snapshot_every=self.snapshot_every, coalesce=self.coalesce).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        for venue in self.venues:
            self.markets[venue] = MarketData([venue], [], endpoints=endpoints, on_trade=self.publisher.publish_trade,
                                             on_market=self.publisher.publish_event, channels=self.channels,
                                             book_class=TappedBook)
        await asyncio.gather(*(self._start_venue(venue, market) for venue, market in self.markets.items()))
        await self.attach_new_feeds()
        self._watch = asyncio.create_task(self._watch_feeds(), name=f"feed-watch:{self.name}")

    async def _start_venue(self, venue: str, market: MarketData) -> None:
        """``venue``'s feeds on the symbols of this shard it lists (every one, with all_symbols). A
        venue whose listing cannot be loaded for all_symbols is tried again in the background."""
        assert self._session is not None
        await market.start(self._session)
        await market.load_instruments()
        if self.all_symbols and not market.listed(venue):
            self.unlisted[venue] = "its instruments could not be loaded; trying again"
            self._retries.append(asyncio.create_task(self._list_later(venue, market), name=f"feed-list:{venue}"))
            return
        await self._follow_owned(venue, market)

    async def _follow_owned(self, venue: str, market: MarketData) -> None:
        wanted = sorted(market.listed(venue)) if self.all_symbols else self.symbols
        owned = [s for s in wanted if self.shard.owns(venue, s)]
        if owned:
            await market.add_symbols(owned)

    async def _list_later(self, venue: str, market: MarketData) -> None:
        backoff = Backoff(base=2.0, cap=60.0)
        while not market.listed(venue):
            await asyncio.sleep(backoff.next_delay())
            await market.load_instruments()
        del self.unlisted[venue]
        await self._follow_owned(venue, market)

    async def attach_new_feeds(self) -> int:
        """Publish the instruments and books of every feed started since the last look; how many books."""
        publisher = self.publisher
        if publisher is None:
            return 0
        attached = 0
        for market in self.markets.values():
            for feed in list(market.feeds):
                if id(feed) in self._attached:
                    continue
                self._attached.add(id(feed))
                await self._publish_instruments(publisher, feed)
                attached += publisher.attach(feed)
                await self._start_candle_feed(publisher, feed)
        return attached

    async def _start_candle_feed(self, publisher: BusPublisher, feed: VenueFeed) -> None:
        """The candles of ``feed``'s symbols from its venue's candle socket, where the book's
        socket carries none (MarketData leaves them out there)."""
        candle_cls = feed.handler_cls.candle_feed
        intervals = tuple(i for i in self.channels.candles if candle_cls is not None and i in candle_cls.interval_names)
        if candle_cls is None or not intervals or self._session is None:
            return
        candles = VenueFeed(candle_cls, list(feed.books), ws_url=feed.ws_url, rest_url=feed.rest_url,
                            on_market=publisher.publish_event, channels=Channels(candles=intervals),
                            breach=feed.breach, limiter=feed.limiter)
        candles.symbol_map = feed.symbol_map
        self._candle_feeds.append(candles)
        await candles.start(self._session)

    @staticmethod
    async def _publish_instruments(publisher: BusPublisher, feed: VenueFeed) -> None:
        if feed.symbol_map is None:
            return
        try:
            await publisher.publish_instruments(feed.venue, feed.symbol_map)
        except Exception as exc:  # the books still publish; consumers lack this feed's listing until the next start
            log.warning("%s: instruments not published: %r", feed.venue, exc)

    async def _watch_feeds(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            await self.attach_new_feeds()

    async def stop(self) -> None:
        """Stop the feeds, then the publisher (each book told stale), then drain the connection."""
        tasks = [*self._retries, *([self._watch] if self._watch is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retries.clear()
        self._watch = None
        await asyncio.gather(*(m.stop() for m in self.markets.values()), *(f.stop() for f in self._candle_feeds),
                             return_exceptions=True)
        self._candle_feeds.clear()
        if self.publisher is not None:
            await self.publisher.stop()
            self.publisher = None
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):  # a bus already gone has nothing left to drain
                await self.nc.drain()
        self.nc = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.cluster is not None:
            await self.cluster.stop()
            self.cluster = None

    async def __aenter__(self) -> FeedProcess:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- what it publishes -----------------------------------------------------------------------

    def status(self) -> FeedStatus:
        publisher = self.publisher
        books = list(publisher.books.values()) if publisher is not None else []
        down = {**self.unlisted, **{v: why for m in self.markets.values() for v, why in m.down.items()}}
        stats = publisher.stats if publisher is not None else None
        return FeedStatus(self.name, self.venues, len(books), sum(b.state is BookState.LIVE for b in books),
                          stats.frames if stats else 0, stats.events if stats else 0, stats.bytes if stats else 0, down)


def subjects_token(name: str) -> str:
    try:
        return token(name, "feed process name")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
