"""MarketData: live consolidated books for standard symbols across venues.

For each venue it walks the venue's feeds in order (spot first), loads each feed's instruments from
the venue's own metadata endpoint and subscribes the requested symbols that feed lists, so
BTC-USDT lands on Binance spot and BTC-USDT-PERP on Binance USD-M. A venue that cannot be reached
is reported down with the reason; one that does not list a symbol is reported as such.

A venue down because its instruments could not be loaded is tried again in the background, with
capped exponential backoff for as long as it stays down (``retrying`` says when next and how often
so far), so it comes up by itself once the venue answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import aiohttp

from ..book.consolidated import ConsolidatedBook, SizeUnit
from ..book.l2 import L2Book
from ..errors import VenueUnavailable
from ..feeds.capture import CaptureWriter
from ..feeds.connection import Backoff
from ..feeds.handler import NO_CHANNELS, Channels, FeedHandler, MarketSink
from ..feeds.manager import VenueFeed
from ..model import BookState, Instrument, Side, Trade
from ..precision import Precision, precision_of, typical_precision
from ..routing.conversion import DEFAULT_EQUIVALENTS
from ..routing.quote import price_order
from ..symbols import SymbolMap, parse_standard
from ..venues.registry import base_fees, spec, venue_feeds, venue_of
from ..venues.spec.limiter import VenueLimiters
from ..venues.spec.limits import Breach, LimitTable, SubscribeLimits

log = logging.getLogger(__name__)

# feed id -> (ws base, REST base), None for the venue's own; VenueUnavailable for a feed not to be
# reached (the venue is then reported down with that reason)
Endpoints = Callable[[str], tuple[str | None, str | None]]


def production(feed_id: str) -> tuple[str | None, str | None]:
    return None, None


def _breach(venue: str) -> Breach | None:
    """How ``venue`` says a request broke its rate limit, from its SPEC's limit table."""
    limits = spec(venue).limits
    return limits.breach if limits is not None else None


def _subscribe_limits(venue: str, feed_id: str) -> SubscribeLimits | None:
    """What one socket of ``feed_id`` may hold and send, from its venue's SPEC."""
    limits = spec(venue).limits
    return limits.subscribe.get(feed_id) if limits is not None else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a venue that is down is tried again: full-jitter exponential backoff from ``base`` seconds,
    never waiting more than ``cap`` between two attempts."""

    base: float = 2.0
    cap: float = 60.0


@dataclass(slots=True)
class VenueRetry:
    """A down venue being tried again in the background."""

    attempts: int = 0  # attempts made since it went down
    next_at: float = 0.0  # unix time of the next attempt
    last_error: str = ""


def limit_table(venue: str) -> LimitTable | None:
    """``venue``'s REST limits (its SPEC's), None where it has none."""
    return spec(venue).limits


@dataclass
class MarketData:
    venues: list[str]
    symbols: list[str]
    endpoints: Endpoints = production
    recorder: CaptureWriter | None = None
    on_trade: Callable[[Trade], None] | None = None
    # the streams beyond book and trades every followed symbol subscribes where the venue publishes
    # them (candles, ticker, funding, liquidations), each event to ``on_market``
    on_market: MarketSink | None = None
    channels: Channels = NO_CHANNELS
    # each venue's limiter: the desk's accounts there take theirs from here, so that feeds and
    # accounts spend one budget
    limiters: VenueLimiters = field(default_factory=lambda: VenueLimiters(limit_table))
    # feed id -> what one of its sockets may hold and send, in place of its SPEC's (a test compresses them)
    subscribe_limits: Mapping[str, SubscribeLimits] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    book_class: type[L2Book] = L2Book  # the feeds' books (a feed process publishing to the bus: TappedBook)
    feeds: list[VenueFeed] = field(default_factory=list)
    consolidated: dict[str, ConsolidatedBook] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)  # venue -> why it is unreachable
    unlisted: dict[str, list[str]] = field(default_factory=dict)  # venue -> symbols it lacks
    retrying: dict[str, VenueRetry] = field(default_factory=dict)  # down venue -> its background retry
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _symbol_maps: dict[str, SymbolMap] = field(default_factory=dict, repr=False)  # feed id -> its instruments
    _adding: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _retries: dict[str, asyncio.Task[None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.symbols = [s.upper() for s in self.symbols]
        for symbol in self.symbols:
            parse_standard(symbol)  # a clear error for a malformed symbol, before any I/O
        self.consolidated = {s: ConsolidatedBook(s) for s in self.symbols}

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        await asyncio.gather(*(self._start_venue(session, v, self.symbols) for v in self.venues))

    async def load_instruments(self) -> None:
        """Load every feed's instruments now (once started) and keep them, so that following a
        symbol later sends no metadata request: a venue's REST budget, shared per IP, is then
        left to its accounts. A feed that cannot be reached is left for add_symbols to report."""
        session = self._session
        if session is None:
            raise RuntimeError("MarketData.load_instruments: start() first")

        async def load(feed_id: str, cls: type[FeedHandler]) -> None:
            with contextlib.suppress(VenueUnavailable):
                ws, rest = self.endpoints(feed_id)
                venue = venue_of(feed_id)
                feed = VenueFeed(cls, [], ws_url=ws, rest_url=rest, recorder=self.recorder, breach=_breach(venue),
                                 limiter=self.limiters(venue))
                self._symbol_maps[feed_id] = await feed.load_instruments(session)

        feeds = {f: cls for v in self.venues for f, cls in venue_feeds(v).items() if f not in self._symbol_maps}
        await asyncio.gather(*(load(f, cls) for f, cls in feeds.items()))

    async def add_symbols(self, symbols: Iterable[str]) -> list[str]:
        """Follow ``symbols`` too, once started: each venue's feeds that list one start on it (the
        feeds already running carry on). A venue down so far is tried again, for every symbol
        followed that it does not carry yet. Returns the symbols that were not followed before."""
        wanted = [s.upper() for s in symbols]
        for symbol in wanted:
            parse_standard(symbol)
        if self._session is None:
            raise RuntimeError("MarketData.add_symbols: start() first")
        async with self._adding:
            new = [s for s in dict.fromkeys(wanted) if s not in self.consolidated]
            if new:
                self.symbols += new
                self.consolidated.update({s: ConsolidatedBook(s) for s in new})
                await asyncio.gather(*(self._start_venue(self._session, v, self._not_started(v) if v in self.down else new)
                                       for v in self.venues))
        return new

    def _not_started(self, venue: str) -> list[str]:
        """The followed symbols ``venue`` neither carries nor is known not to list."""
        unlisted = self.unlisted.get(venue, [])
        return [s for s in self.symbols if venue not in self.consolidated[s].books and s not in unlisted]

    async def _start_venue(self, session: aiohttp.ClientSession, venue: str, symbols: list[str]) -> None:
        """Start ``venue``'s feeds on ``symbols``; a feed that cannot be reached marks the venue
        down (the feeds started before it run on), one that starts clears that."""
        remaining = list(symbols)
        for feed_id, cls in venue_feeds(venue).items():
            if not remaining:
                break
            try:
                ws, rest = self.endpoints(feed_id)
            except VenueUnavailable as exc:  # not to be reached at all: nothing to try again
                self.down[venue] = str(exc)
                return
            feed = VenueFeed(cls, remaining, ws_url=ws, rest_url=rest, on_trade=self.on_trade, on_market=self.on_market,
                             channels=self._channels(cls), recorder=self.recorder,
                             breach=_breach(venue), limiter=self.limiters(venue),
                             subscribe_limits=self._subscribe_limits(venue, feed_id), book_class=self.book_class)
            try:
                symbol_map = self._symbol_maps.get(feed_id) or await feed.load_instruments(session)
            except VenueUnavailable as exc:
                self._went_down(session, venue, str(exc))
                return
            feed.symbol_map = self._symbol_maps[feed_id] = symbol_map
            listed = [s for s in remaining if s in symbol_map]
            if not listed:
                continue
            feed.wanted = listed
            await feed.start(session)
            self.feeds.append(feed)
            for symbol in listed:
                inst = symbol_map.by_symbol[symbol]
                unit = SizeUnit(inst.contract_size, inst.inverse)
                self.consolidated[symbol].add(venue, feed.books[symbol], base_fees(feed_id, inst).taker, unit)
            remaining = [s for s in remaining if s not in listed]
        self.down.pop(venue, None)
        if remaining:
            self.unlisted.setdefault(venue, []).extend(remaining)

    def _channels(self, cls: type[FeedHandler]) -> Channels:
        """``channels``, less the candle intervals the feed's venue does not publish on this socket
        (none where its candles come on a socket of their own: ``cls.candle_feed``)."""
        kept = () if cls.candle_feed is not None else tuple(i for i in self.channels.candles if i in cls.interval_names)
        return self.channels if kept == self.channels.candles else replace(self.channels, candles=kept)

    def _subscribe_limits(self, venue: str, feed_id: str) -> SubscribeLimits | None:
        given = self.subscribe_limits.get(feed_id)
        return given if given is not None else _subscribe_limits(venue, feed_id)

    # ---- a down venue, tried again --------------------------------------------------------------

    def _went_down(self, session: aiohttp.ClientSession, venue: str, reason: str) -> None:
        """``venue``'s instruments could not be loaded: it is down, and tried again in the background."""
        self.down[venue] = reason
        retry = self.retrying.setdefault(venue, VenueRetry())
        retry.last_error = reason
        if venue not in self._retries:
            log.warning("%s down (%s): trying again in the background", venue, reason)
            self._retries[venue] = asyncio.create_task(self._retry_venue(session, venue), name=f"retry:{venue}")

    async def _retry_venue(self, session: aiohttp.ClientSession, venue: str) -> None:
        """Start ``venue`` again, backing off between attempts, until it is up (or stopped)."""
        backoff = Backoff(base=self.retry.base, cap=self.retry.cap)
        retry = self.retrying[venue]
        try:
            while venue in self.down:
                delay = backoff.next_delay()
                retry.next_at = time.time() + delay
                await asyncio.sleep(delay)
                retry.attempts += 1
                try:
                    async with self._adding:
                        if venue in self.down:
                            await self._start_venue(session, venue, self._not_started(venue))
                except Exception as exc:  # whatever failed, the venue stays down and is tried again
                    self.down[venue] = retry.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("%s: background attempt %d failed", venue, retry.attempts, exc_info=exc)
                if venue in self.down:
                    log.info("%s still down after attempt %d: %s", venue, retry.attempts, self.down[venue])
            log.warning("%s up again after %d background attempt(s)", venue, retry.attempts)
        finally:
            del self._retries[venue]
            if venue not in self.down:
                self.retrying.pop(venue, None)

    async def stop(self) -> None:
        retries = list(self._retries.values())
        for task in retries:
            task.cancel()
        await asyncio.gather(*retries, return_exceptions=True)
        await asyncio.gather(*(f.stop() for f in self.feeds))

    def all_live(self, symbols: Iterable[str] | None = None) -> bool:
        """Every book of ``symbols`` (default: all followed) is live."""
        now = time.time()
        books = self.consolidated.values() if symbols is None else [self.consolidated[s.upper()] for s in symbols]
        return all(book.status(now) is BookState.LIVE for c in books for book in c.books.values())

    async def wait_live(self, timeout: float, symbols: Iterable[str] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while not self.all_live(symbols):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def listed(self, venue: str) -> set[str]:
        """The symbols ``venue``'s feeds list, as far as their instruments are loaded."""
        return {s for f in venue_feeds(venue) if f in self._symbol_maps for s in self._symbol_maps[f].by_symbol}

    def instruments(self, symbol: str) -> list[Instrument]:
        """``symbol``'s instrument on each venue feed that follows it."""
        symbol = symbol.upper()
        found = (feed.symbol_map.by_symbol.get(symbol) for feed in self.feeds
                 if feed.symbol_map is not None and symbol in feed.books)
        return [i for i in found if i is not None]

    def precision(self, symbol: str) -> Precision:
        """The finest tick and lot of ``symbol`` among the venues that list it."""
        return precision_of(self.instruments(symbol))

    def display_precision(self, symbol: str) -> Precision:
        """For tables: the tick and lot most of the venues listing ``symbol`` use."""
        return typical_precision(self.instruments(symbol))

    def quote(
        self,
        symbol: str,
        side: Side,
        amount: float,
        *,
        equivalents: Iterable[str] = DEFAULT_EQUIVALENTS,
        balances: Mapping[str, Mapping[str, float]] | None = None,
        fee_rates: Mapping[str, float] | None = None,
    ) -> dict[str, object]:
        """The best all-in price for ``amount`` of ``symbol`` and every venue's quote, as the
        ``crossbook quote --json`` object (see ``routing.quote.price_order``; the venues that
        cannot be reached are listed as down), numbers at the symbol's tick and lot."""
        symbol = symbol.upper()
        fees = dict(fee_rates or {})
        down = {v: fees.get(v, base_fees(v).taker) for v in self.venues if v in self.down}
        return price_order(self.consolidated, symbol, side, amount, equivalents=equivalents, fee_rates=fees,
                           balances=balances, down=down, precision=self.precision(symbol)).to_json()


