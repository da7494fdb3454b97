"""FeedHandler: the client side of one venue's public market-data wire protocol.

One handler instance serves one WebSocket connection and owns the books of the instruments
subscribed on it. It is pure protocol: frames in, books and trades out. It never does I/O itself;
when a book must be rebuilt it calls ``self.resync(native, reason)``, and whoever drives it (the
live ``FeedConnection``, or capture replay) answers that with a REST snapshot
(``on_snapshot``) or a resubscribe on the connection, as the venue's ``resync_by`` says.

A venue module subclasses this with declarative class attributes and a few small methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from ..book.l2 import L2Book, Link
from ..model import (
    BookState,
    Candle,
    FundingRate,
    IndexPrice,
    Instrument,
    Interval,
    Liquidation,
    MarkPrice,
    OpenInterest,
    OptionMark,
    Ticker,
    Trade,
)
from .candles import CandleSeries, Gap
from .latency import LatencyStats

log = logging.getLogger(__name__)
LOUD_MALFORMED = 5  # the first malformed frames of a handler each get a warning, later ones every 100th

def query_param(url: str, path_suffixes: str | tuple[str, ...], name: str) -> str | None:
    """``name`` from the query of ``url`` when its path ends with one of ``path_suffixes``: which
    instrument a recorded REST snapshot URL belongs to."""
    parts = urlsplit(url)
    if not parts.path.endswith(path_suffixes):
        return None
    return parse_qs(parts.query).get(name, [None])[0]


class Resync(str, Enum):
    SNAPSHOT = "snapshot"  # buffer diffs, fetch the REST snapshot, replay the buffer
    RESUBSCRIBE = "resubscribe"  # unsubscribe + subscribe; the venue sends a fresh in-band snapshot


Frame = str | bytes
ResyncSink = Callable[["FeedHandler", str, str], None]
TradeSink = Callable[[Trade], None]
# the streams beyond book and trades, normalized: what ``on_market`` receives
MarketEvent = Candle | Ticker | FundingRate | MarkPrice | IndexPrice | OpenInterest | Liquidation | OptionMark
MarketSink = Callable[[MarketEvent], None]
# a candle stream lost candles: the driver fetches ``handler.candles_url(gap)`` and hands the body
# to ``handler.on_candles(gap, body)``
BackfillSink = Callable[["FeedHandler", Gap], None]


@dataclass(frozen=True, slots=True)
class Channels:
    """The streams a feed subscribes per symbol beside its book and trades: candles of each of
    ``candles``; ``ticker`` the rolling 24 h ticker and the touch; ``funding`` mark, index and funding
    (perpetuals); ``liquidations`` forced orders. A venue subscribes those it publishes."""

    candles: tuple[Interval, ...] = ()
    ticker: bool = False
    funding: bool = False
    liquidations: bool = False

    def __post_init__(self) -> None:
        for interval in self.candles:
            if not isinstance(interval, Interval):
                raise ValueError(f"candle interval {interval!r}: one of {', '.join(i.value for i in Interval)}")


NO_CHANNELS = Channels()


@dataclass
class MarketStats:
    """What a handler emitted beyond book and trades, and what its candle streams lost and got back."""

    events: dict[str, int] = field(default_factory=dict)  # event type name -> count
    candle_gaps: int = 0  # gaps found in candle streams (a lost frame, a reconnect)
    candles_repaired: int = 0  # closed candles that came from REST instead of the stream


class FeedHandler:
    # ---- declarative venue facts (override per venue) ------------------------------------
    venue: ClassVar[str]  # feed id, also the ccxt id: binance, binanceusdm, okx, ...
    product: ClassVar[str] = "spot"
    ws_url: ClassVar[str]  # production base URL
    rest_url: ClassVar[str]  # production REST base URL
    url_hosts: ClassVar[tuple[str, ...]] = ()  # hosts that identify this venue in a capture
    resync_by: ClassVar[Resync] = Resync.RESUBSCRIBE
    # "book": sequence numbers run per instrument, so a gap resyncs that book alone;
    # "connection": one counter per socket (Coinbase, dYdX), so a gap resyncs every book on it
    sequence_scope: ClassVar[str] = "book"
    # a book that fails again within a minute waits at least this long before its next resync
    resync_min_interval: ClassVar[float] = 0.5
    # after a (re)connect, wait this long for an in-band snapshot before asking REST for one
    snapshot_grace: ClassVar[float] = 0.0
    keep_strings: ClassVar[bool] = False  # True when the venue's checksum needs its own strings
    max_streams: ClassVar[int] = 100  # subscriptions per connection
    streams_per_symbol: int = 2  # book + trades (an instance adds its market channels)
    connect_interval: ClassVar[float] = 0.0  # stagger a venue's sockets (per-IP subscribe limits)
    max_connection_age: ClassVar[float] = 23.5 * 3600  # roll over before the venue's 24 h cut
    ping_interval: ClassVar[float | None] = None  # client-sent application ping, seconds
    stale_after: ClassVar[float] = 30.0  # no message for this long -> the book reads STALE
    # a LIVE book whose own updates stop this long while its connection hears others reads STALE
    # and is resynced; None where the venue sends nothing for a quiet book
    silent_after: ClassVar[float | None] = None
    # bytes only a book frame carries (its channel's name): an unreadable frame without them held
    # no book update (a trade), so no book is resynced for it; () counts every frame as a book's
    book_markers: ClassVar[tuple[bytes, ...]] = ()
    resync_bound: ClassVar[float] = 15.0  # longest a book may sync before a fresh attempt
    # one counter per connection: after a lost message, resubscribes wait until the socket has gone
    # this long without losing another (each book rebuilt while it still loses them breaks again)
    loss_quiet: ClassVar[float] = 1.0
    request_timeout: ClassVar[float] = 5.0  # per REST request (snapshot, instruments): a hang times out
    # crossbook's candle intervals -> the venue's own names, for those the venue publishes
    interval_names: ClassVar[Mapping[Interval, str]] = {}
    # feeds carrying the rest of its symbols' streams on sockets of their own (Binance options' marks)
    companions: ClassVar[tuple[type[FeedHandler], ...]] = ()
    # the feed whose socket carries its candles, where its own cannot (OKX's business socket)
    candle_feed: ClassVar[type[FeedHandler] | None] = None

    def __init__(
        self,
        *,
        ws_url: str | None = None,
        rest_url: str | None = None,
        on_resync: ResyncSink | None = None,
        on_trade: TradeSink | None = None,
        on_market: MarketSink | None = None,
        on_backfill: BackfillSink | None = None,
        channels: Channels = NO_CHANNELS,
        auto_books: bool = False,
        clock: Callable[[], float] = time.time,
        book_class: type[L2Book] = L2Book,
    ) -> None:
        """``on_market``: every Candle, Ticker, FundingRate, MarkPrice, IndexPrice, OpenInterest and
        Liquidation parsed (whatever the socket carries); ``channels``: which of those streams to
        subscribe per symbol; ``on_backfill``: asked to fetch the candles a stream lost (None: a gap
        is counted and left, as in replay); ``book_class``: the books it makes (a feed process
        publishing to the bus makes TappedBooks)."""
        self.ws_base = ws_url or type(self).ws_url
        self.rest_base = rest_url or type(self).rest_url
        self.on_resync = on_resync
        self.on_trade = on_trade
        self.on_market = on_market
        self.on_backfill = on_backfill
        self.channels = channels
        for interval in channels.candles:
            if interval not in self.interval_names:
                raise ValueError(f"{self.venue} publishes no {interval.value} candles")
        # the socket's topics per symbol, as the connection batches its subscribes
        self.streams_per_symbol = type(self).streams_per_symbol + self.market_streams(channels)
        self.candle_series: dict[tuple[str, Interval], CandleSeries] = {}
        self.market_stats = MarketStats()
        self.auto_books = auto_books  # replay: create a book for any instrument seen on the wire
        self.clock = clock
        self.book_class = book_class
        self.link = Link()
        self.books: dict[str, L2Book] = {}
        self.symbols: dict[str, str] = {}  # native -> standard symbol, where known
        self.instruments: dict[str, Instrument] = {}  # native -> its listing, where the feed read it
        self.latency = LatencyStats()
        self.messages = 0
        self.trades = 0
        self.errors = 0  # errors the venue reported, frames the venue module refused
        self.malformed = 0  # frames that could not be read (their books resynced)
        self.lost_at: float | None = None  # when a message of this socket's one sequence was last lost

    # ---- books -----------------------------------------------------------------------------

    def add_book(self, native: str, symbol: str | None = None, instrument: Instrument | None = None) -> L2Book:
        """The book of ``native`` (made on first call), known as ``symbol`` and listed as
        ``instrument`` (its contract size, for a venue counting frames in contracts)."""
        book = self.books.get(native)
        if book is None:
            book = self.book_class(
                self.venue,
                native,
                keep_strings=self.keep_strings,
                stale_after=self.stale_after,
                silent_after=self.silent_after,
                link=self.link,
            )
            self.books[native] = book
        if symbol:
            self.symbols[native] = symbol
        if instrument is not None:
            self.instruments[native] = instrument
        return book

    def book(self, native: str) -> L2Book | None:
        """The book for ``native``; in replay mode it is created on first sight."""
        book = self.books.get(native)
        if book is None and self.auto_books:
            book = self.add_book(native)
        return book

    def go_live(self, book: L2Book) -> None:
        book.state = BookState.LIVE

    def resync(self, native: str, reason: str) -> None:
        """The book lost continuity: clear it, mark it, and ask the driver for a fresh start."""
        book = self.books[native]
        if reason == "gap":
            book.stats.gaps += 1
        if book.state is BookState.LIVE:
            book.stats.resyncs += 1  # once per book lost: a book still being rebuilt is not lost again
        book.state = BookState.RESYNCING if book.state is not BookState.SYNCING else BookState.SYNCING
        self.discard(native)
        if self.on_resync is not None:
            self.on_resync(self, native, reason)

    def discard(self, native: str) -> None:
        """Forget everything known of ``native``'s book: its levels, sequence and sync state."""
        book = self.books[native]
        book.clear()
        book.seq = None
        self.reset_sync(native)

    def reset_sync(self, native: str) -> None:
        """Forget venue sync state for ``native`` (buffers, pending sequence). Override if kept."""

    def connection_opened(self) -> None:
        """A (re)connected socket: every book starts over (a candle stream finds the candles it
        missed at its next candle)."""
        self.lost_at = None
        for native, book in self.books.items():
            book.state = BookState.SYNCING if book.state is BookState.SYNCING else BookState.RESYNCING
            self.discard(native)

    def connection_lost(self) -> None:
        """No level survives a lost socket: the next connection's snapshots rebuild every book."""
        for native, book in self.books.items():
            if book.state is not BookState.SYNCING:
                book.state = BookState.RESYNCING
            self.discard(native)

    # ---- frames: the one guard ---------------------------------------------------------------

    def receive(self, data: Frame, ts: float) -> list[Frame] | None:
        """``on_frame`` for a driver: a frame the venue module cannot read is counted, resyncs the
        books it names (or is skipped when it names none) and never reaches the socket's loop."""
        try:
            return self.on_frame(data, ts)
        except Exception as exc:  # any frame, however broken, must not end the connection
            self.frame_failed(data, exc)
            return None

    def frame_failed(self, data: Frame, exc: Exception, reason: str = "malformed frame") -> None:
        """A frame that could not be read: whatever it carried is lost. The books it names are
        resynced; one that names none is a lost frame (``frame_lost``)."""
        self.malformed += 1
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        if self.book_markers and not any(marker in raw for marker in self.book_markers):
            if self.malformed <= LOUD_MALFORMED:
                log.warning("%s: unreadable frame (%s: %s) of no book, skipped: %.200r", self.venue, type(exc).__name__, exc, data)
            return
        natives = self.frame_natives(raw)
        if self.malformed <= LOUD_MALFORMED or self.malformed % 100 == 0:
            log.warning(
                "%s: unreadable frame #%d (%s: %s), %s: %.200r",
                self.venue,
                self.malformed,
                type(exc).__name__,
                exc,
                f"resyncing {', '.join(natives)}" if natives else "naming no book",
                data,
            )
        if not natives:
            self.frame_lost(reason)
        for native in natives:
            self.books[native].stats.malformed += 1
            self.resync(native, reason)

    def frame_lost(self, reason: str) -> None:
        """A frame naming no book was lost. Where sequence numbers run per book, a book that missed
        an update in it sees the gap at its next one; where one counter runs per connection, the
        frame's number may be spent: a message of the socket is lost."""
        if self.sequence_scope == "connection":
            self.message_lost(reason)

    def message_lost(self, reason: str) -> None:
        """A message of this socket's one sequence was lost and cannot be pinned to a book: every
        book being updated is resynced. Those awaiting a snapshot are not: their resubscribe is
        under way and its snapshot is newer than anything lost (resyncing them again would storm)."""
        self.lost_at = self.link.last_rx
        for native, book in list(self.books.items()):
            if book.seq is not None:
                self.resync(native, reason)

    def resubscribe_wait(self, now: float) -> float:
        """Seconds a resubscribe should still wait: until the socket has gone ``loss_quiet``
        without losing a message (a socket still losing them would break the new snapshot at once)."""
        return 0.0 if self.lost_at is None else max(0.0, self.lost_at + self.loss_quiet - now)

    def frame_natives(self, data: Frame) -> list[str]:
        """The books whose native id a frame carries (a venue module may know better)."""
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        found = [n for n in self.books if n.encode() in raw]
        return [n for n in found if not any(n != other and n in other for other in found)]

    def emit_trade(self, trade: Trade) -> None:
        self.trades += 1
        if self.on_trade is not None:
            self.on_trade(trade)

    # ---- market data beyond the book ------------------------------------------------------

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        """The topics ``channels`` add per symbol on this venue's socket (0: it subscribes none)."""
        return 0

    def emit_market(self, event: MarketEvent) -> None:
        name = type(event).__name__
        self.market_stats.events[name] = self.market_stats.events.get(name, 0) + 1
        if self.on_market is not None:
            self.on_market(event)

    def emit_candle(self, candle: Candle, native: str) -> None:
        """A candle from the stream: a forming one goes out as it is, a closed one once; a candle
        that opens past a gap (a lost frame, a reconnect) asks for the missing ones from REST."""
        key = (native, candle.interval)
        series = self.candle_series.get(key)
        if series is None:
            series = self.candle_series[key] = CandleSeries(native, candle.interval)
        gap = series.seen(candle.open_time)
        if gap is not None:
            self.market_stats.candle_gaps += 1
            if self.on_backfill is not None:
                self.on_backfill(self, gap)
        if not candle.closed or series.close(candle.open_time):
            self.emit_market(candle)

    def on_candles(self, gap: Gap, body: bytes | str) -> int:
        """The REST answer to a gap: its closed candles not yet emitted go out, oldest first.
        Returns how many."""
        series = self.candle_series[(gap.native, gap.interval)]
        emitted = 0
        for candle in self.parse_candles(gap, body):
            if gap.start <= candle.open_time <= gap.end and series.close(candle.open_time):
                self.emit_market(candle)
                emitted += 1
        self.market_stats.candles_repaired += emitted
        return emitted

    def candles_url(self, gap: Gap) -> str:
        """The REST request for the candles of ``gap`` (venues with candle streams override)."""
        raise NotImplementedError

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """The closed candles of a ``candles_url`` answer, oldest first."""
        raise NotImplementedError

    # ---- wire: override per venue ------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        """The URL to open for these instruments (some venues put the streams in the URL)."""
        return self.ws_base

    async def prepare(self, session: Any) -> None:
        """Anything the venue needs before connecting (a KuCoin bullet token). ``session`` is an
        aiohttp ClientSession."""

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        raise NotImplementedError

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return []

    def ping_message(self) -> Frame | None:
        """The application-level ping the venue expects every ``ping_interval`` seconds."""
        return None

    def on_frame(self, data: Frame, ts: float) -> list[Frame] | None:
        """Handle one frame received at wall-clock ``ts``. Returns frames to send back (a pong
        to a server's application ping), or None."""
        raise NotImplementedError

    # REST snapshots (venues with resync_by == SNAPSHOT)
    def snapshot_url(self, native: str) -> str:
        raise NotImplementedError

    def wants_snapshot(self, native: str) -> bool:
        """Whether a REST snapshot is still needed (False once an in-band snapshot synced it)."""
        book = self.books.get(native)
        return book is None or book.state is not BookState.LIVE

    def snapshot_native(self, url: str) -> str | None:
        """Which instrument a recorded snapshot URL belongs to (capture replay)."""
        return None

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        raise NotImplementedError

    # Market metadata
    def instruments_urls(self) -> list[str]:
        raise NotImplementedError

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        raise NotImplementedError
