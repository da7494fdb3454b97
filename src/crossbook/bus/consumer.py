"""The consuming side of the bus: books followed from feed processes, kept to the protocol.

Each followed book is a ``BusBook``, an ordinary L2Book (ConsolidatedBook and the router read it
like any other). Its frames arrive on its book subject: a snapshot replaces it, a state frame sets
its state (a non-live state other than stale clears it), a delta applies when its sequence follows
the book's. Any other delta is a gap: the book goes RESYNCING (cleared), later deltas are buffered,
the snapshot is loaded from the snapshot bucket (or asked of the publisher when the bucket's is
older than the buffer continues from), the buffered deltas past it applied, and it is LIVE again.

Staleness is the ordinary ``L2Book.status()``: each frame and each heartbeat naming the book
refresh its ``link.last_rx``, and a book that hears neither for its venue's ``stale_after`` reads
STALE. A bus disconnect clears every book (RESYNCING) until it has healed after the reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from ..book.l2 import L2Book, Link
from ..model import BookState, Trade
from . import subjects
from .codec import EVENT_KINDS, BookFrame, Event, FrameKind, decode_book, decode_event
from .connect import connect
from .publisher import Heartbeat

log = logging.getLogger(__name__)

LAG_WINDOW = 100  # frames per venue the lag's maximum is taken over
REQUEST_TIMEOUT = 2.0  # seconds an on-demand snapshot request waits for its publisher
HEAL_BACKOFF = (0.1, 2.0)  # seconds between heal attempts: first, cap
KEPT_STATES = (BookState.LIVE, BookState.STALE)  # states a book keeps its levels in


class BusBook(L2Book):
    """A book as published on the bus: ``seq`` is the publisher's; while ``healing`` its frames
    are buffered until its snapshot is in; ``behind``: the sequence a heartbeat said it had
    reached (checked at the next heartbeat: frames and heartbeats are read by different tasks)."""

    __slots__ = ("behind", "buffer", "healing", "publisher")

    def __init__(self, venue: str, symbol: str, *, stale_after: float) -> None:
        super().__init__(venue, symbol, stale_after=stale_after, link=Link())
        self.healing = False
        self.buffer: list[BookFrame] = []
        self.behind = 0
        self.publisher = ""  # the feed process whose heartbeat last named it

    def load(self, frame: BookFrame) -> None:
        """A snapshot frame: the book is its levels, at its sequence and state."""
        self.clear()
        self.update_floats(frame.bids, frame.asks)
        self.seq = frame.seq
        self.updated_at = frame.ts
        self.state = frame.state if frame.state in KEPT_STATES else BookState.RESYNCING
        if self.state not in KEPT_STATES:
            self.clear()

    def set_state(self, state: BookState, seq: int) -> None:
        self.seq = seq
        self.state = state
        if state not in KEPT_STATES:
            self.clear()

    def apply(self, frame: BookFrame) -> bool:
        """Apply one frame in order; False (nothing applied) when it does not follow the book: a gap."""
        if frame.kind is FrameKind.SNAPSHOT:
            self.load(frame)
            return True
        follows = self.seq is not None and frame.seq == self.seq + 1
        if frame.kind is FrameKind.STATE:
            if frame.state in KEPT_STATES and self.state in KEPT_STATES and not follows:
                return False  # its levels would be kept across frames we never saw
            if frame.state in KEPT_STATES and self.state not in KEPT_STATES:
                self.seq = frame.seq  # live again without levels: its snapshot is the next frame
                return True
            self.set_state(frame.state, frame.seq)
            return True
        if not follows or self.state not in KEPT_STATES:
            return False
        self.update_floats(frame.bids, frame.asks)
        self.seq = frame.seq
        self.updated_at = frame.ts
        return True

    def resyncing(self) -> None:
        self.clear()
        self.state = BookState.RESYNCING


@dataclass(frozen=True, slots=True)
class PublisherView:
    """One feed process as its heartbeats tell: how long since the last (s), the books per venue."""

    name: str
    heartbeat_age_s: float
    books: dict[str, int]  # venue -> books it publishes there

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "heartbeat_age_s": round(self.heartbeat_age_s, 3), "venues": dict(self.books)}


@dataclass(frozen=True, slots=True)
class VenueLag:
    """Who publishes a venue's books and how late they arrive (receive time minus the frame's
    time: last, and the most over the last ``LAG_WINDOW`` frames), in ms."""

    venue: str
    publishers: tuple[str, ...]
    lag_ms: float | None
    max_lag_ms: float | None

    def to_json(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {"venue": self.venue, "publishers": list(self.publishers), "lag_ms": ms(self.lag_ms),
                "max_lag_ms": ms(self.max_lag_ms)}


@dataclass(slots=True)
class BusCounters:
    frames: int = 0
    gaps_healed: int = 0
    snapshot_loads: int = 0  # snapshots read from the snapshot bucket
    requests: int = 0  # snapshots asked of a publisher
    malformed: int = 0

    def to_json(self) -> dict[str, int]:
        return {"frames": self.frames, "gaps_healed": self.gaps_healed, "snapshot_loads": self.snapshot_loads,
                "requests": self.requests, "malformed": self.malformed}


@dataclass(frozen=True, slots=True)
class BusView:
    """What the consumer knows of the bus: its link, the feed processes, each venue's lag, counters."""

    connected: bool
    publishers: tuple[PublisherView, ...]
    venues: tuple[VenueLag, ...]
    counters: BusCounters

    def to_json(self) -> dict[str, Any]:
        return {"connected": self.connected, "publishers": [p.to_json() for p in self.publishers],
                "venues": [v.to_json() for v in self.venues], "counters": self.counters.to_json()}


@dataclass(slots=True)
class _Heard:
    """A feed process's last heartbeat: when (our clock), and its books (venue, symbol)."""

    at: float
    books: list[tuple[str, str]]


class BusBooks:
    """The books a process follows on the bus, on connection ``nc`` (made by ``bus.connect.connect``
    with ``on_disconnect=books.disconnected, on_reconnect=books.reconnected``)."""

    def __init__(self, nc: Client, *, name: str) -> None:
        self.nc = nc
        self.name = name
        self.books: dict[tuple[str, str], BusBook] = {}
        self.counters = BusCounters()
        self.connected = True
        self._subs: list[Subscription] = []
        self._hb: Subscription | None = None
        self._heard: dict[str, _Heard] = {}  # feed process -> its last heartbeat
        self._lags: dict[str, deque[float]] = {}  # venue -> its last frames' lag (s)
        self._heals: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._kv: KeyValue | None = None
        self.owns_connection = False  # made by open_books: close() closes it too

    async def follow(self, venue: str, symbol: str, stale_after: float) -> BusBook:
        """``venue``'s ``symbol`` book from the bus (SYNCING until its snapshot is in)."""
        key = (venue, symbol)
        if key in self.books:
            return self.books[key]
        if self._hb is None:
            self._hb = await self.nc.subscribe(subjects.HEARTBEATS, cb=self._on_heartbeat)
        book = self.books[key] = BusBook(venue, symbol, stale_after=stale_after)
        self._subs.append(await self.nc.subscribe(subjects.book_subject(venue, symbol), cb=self._frame_handler(book)))
        self.heal(book)
        return book

    async def follow_events(self, venue: str, symbol: str, on_trade: Callable[[Trade], None] | None,
                            on_market: Callable[[Any], None] | None) -> None:
        """Trades (to ``on_trade``) and the other market streams (to ``on_market``) of a book."""

        def deliver(sink: Callable[[Any], None]) -> Callable[[Msg], Any]:
            async def handle(msg: Msg) -> None:
                try:
                    event: Event = decode_event(msg.data)
                except ValueError as exc:
                    self.counters.malformed += 1
                    log.warning("bus %s: unreadable event on %s: %s", self.name, msg.subject, exc)
                    return
                sink(event)
            return handle

        if on_trade is not None:
            self._subs.append(await self.nc.subscribe(subjects.trade_subject(venue, symbol), cb=deliver(on_trade)))
        if on_market is not None:
            for kind in sorted(set(EVENT_KINDS.values())):
                self._subs.append(await self.nc.subscribe(subjects.market_subject(kind, venue, symbol),
                                                          cb=deliver(on_market)))

    # ---- frames --------------------------------------------------------------------------------

    def _frame_handler(self, book: BusBook) -> Callable[[Msg], Any]:
        async def handle(msg: Msg) -> None:
            try:
                frame = decode_book(msg.data)
            except ValueError as exc:
                self.counters.malformed += 1
                log.warning("bus %s: unreadable frame on %s: %s", self.name, msg.subject, exc)
                return
            self.receive(book, frame, time.time())
        return handle

    def receive(self, book: BusBook, frame: BookFrame, now: float) -> None:
        self.counters.frames += 1
        book.link.last_rx = now  # type: ignore[union-attr]
        self._lags.setdefault(book.venue, deque(maxlen=LAG_WINDOW)).append(now - frame.ts)
        if book.healing:
            book.buffer.append(frame)
        elif not book.apply(frame):
            book.buffer.append(frame)
            self.heal(book)

    # ---- healing -------------------------------------------------------------------------------

    def heal(self, book: BusBook) -> None:
        """Resync ``book`` in the background (once at a time): cleared, RESYNCING, buffering."""
        if book.state is not BookState.SYNCING:
            book.resyncing()
        book.healing = True
        key = (book.venue, book.symbol)
        if key not in self._heals:
            self._heals[key] = asyncio.create_task(self._heal(book), name=f"bus-heal:{book.venue}:{book.symbol}")

    async def _heal(self, book: BusBook) -> None:
        key = (book.venue, book.symbol)
        wait = HEAL_BACKOFF[0]
        try:
            while True:
                if self.connected and await self._heal_once(book):
                    return
                await asyncio.sleep(wait)
                wait = min(wait * 2, HEAL_BACKOFF[1])
        finally:
            del self._heals[key]

    async def _heal_once(self, book: BusBook) -> bool:
        """One attempt: the snapshot (the bucket's, else the publisher's), then the buffered frames
        past it. True when the book has caught up."""
        continues_from = next((f.seq - 1 for f in book.buffer if f.kind is not FrameKind.SNAPSHOT), 0)
        reached = max(continues_from, book.behind)  # published for certain: an older snapshot will not do
        snapshot = await self._stored_snapshot(book)
        if snapshot is None or snapshot.seq < reached:
            snapshot = await self._requested_snapshot(book)
        if snapshot is None:
            return False
        book.load(snapshot)
        pending = [f for f in book.buffer if f.seq > snapshot.seq or f.kind is FrameKind.SNAPSHOT]
        book.buffer = []
        for frame in pending:
            if not book.apply(frame):
                book.resyncing()
                return False
        book.healing = False
        book.behind = 0
        self.counters.gaps_healed += 1
        return True

    async def _stored_snapshot(self, book: BusBook) -> BookFrame | None:
        try:
            if self._kv is None:
                self._kv = await self.nc.jetstream().key_value(subjects.SNAPSHOT_BUCKET)
            entry = await self._kv.get(subjects.book_key(book.venue, book.symbol))
        except KeyNotFoundError:
            return None
        except (BucketNotFoundError, nats.errors.Error) as exc:
            self._kv = None  # a restarted server may have lost the bucket: looked up again next time
            log.debug("bus %s: no stored snapshot of %s %s: %s", self.name, book.venue, book.symbol, exc)
            return None
        frame = self._snapshot_of(entry.value or b"", "the snapshot bucket")
        if frame is not None:
            self.counters.snapshot_loads += 1
        return frame

    async def _requested_snapshot(self, book: BusBook) -> BookFrame | None:
        self.counters.requests += 1
        try:
            reply = await self.nc.request(subjects.snapshot_request_subject(book.venue, book.symbol), b"",
                                          timeout=REQUEST_TIMEOUT)
        except (TimeoutError, nats.errors.Error) as exc:
            log.debug("bus %s: no snapshot of %s %s on request: %s", self.name, book.venue, book.symbol, exc)
            return None
        return self._snapshot_of(reply.data, "a snapshot request")

    def _snapshot_of(self, data: bytes, source: str) -> BookFrame | None:
        try:
            frame = decode_book(data)
        except ValueError as exc:
            self.counters.malformed += 1
            log.warning("bus %s: unreadable snapshot from %s: %s", self.name, source, exc)
            return None
        if frame.kind is not FrameKind.SNAPSHOT:
            self.counters.malformed += 1
            log.warning("bus %s: %s gave a %s frame, not a snapshot", self.name, source, frame.kind.name)
            return None
        return frame

    # ---- heartbeats and the link ---------------------------------------------------------------

    async def _on_heartbeat(self, msg: Msg) -> None:
        try:
            beat = Heartbeat.from_bytes(msg.data)
            named = [(v, s, q, BookState(st)) for v, s, q, st in beat.books]
        except ValueError as exc:
            self.counters.malformed += 1
            log.warning("bus %s: unreadable heartbeat on %s: %s", self.name, msg.subject, exc)
            return
        now = time.time()
        process = beat.process
        self._heard[process] = _Heard(now, [(v, s) for v, s, _, _ in named])
        for venue, symbol, seq, status in named:
            book = self.books.get((venue, symbol))
            if book is not None:
                book.publisher = process
                self._heartbeat(book, seq, status, now)

    def _heartbeat(self, book: BusBook, seq: int, status: BookState, now: float) -> None:
        book.link.last_rx = now  # type: ignore[union-attr]
        if book.healing or book.seq is None:
            return
        if book.behind and book.seq < book.behind:
            book.behind = max(book.behind, seq)
            self.heal(book)  # a frame the last heartbeat counted never came: the tail was lost
            return
        book.behind = seq if seq > book.seq else 0
        if seq != book.seq or status is book.state:
            return
        if book.state in KEPT_STATES:
            book.set_state(status, seq)
        elif status in KEPT_STATES:
            self.heal(book)  # live at the publisher, levelless here: its snapshot went missing

    async def disconnected(self) -> None:
        self.connected = False
        for book in self.books.values():
            book.resyncing()
            book.healing = True
            book.buffer = []

    async def reconnected(self) -> None:
        self.connected = True
        self._kv = None
        for book in self.books.values():
            book.buffer = []
            self.heal(book)

    # ---- what it shows -------------------------------------------------------------------------

    def publishers(self, now: float | None = None) -> BusView:
        now = time.time() if now is None else now
        procs: list[PublisherView] = []
        by_venue: dict[str, list[str]] = {}
        for name, heard in sorted(self._heard.items()):
            counts: dict[str, int] = {}
            for venue, _ in heard.books:
                counts[venue] = counts.get(venue, 0) + 1
                if name not in by_venue.setdefault(venue, []):
                    by_venue[venue].append(name)
            procs.append(PublisherView(name, now - heard.at, counts))
        venues = sorted({v for v, _ in self.books} | set(by_venue))
        lags = []
        for venue in venues:
            window = self._lags.get(venue)
            last = window[-1] * 1000 if window else None
            most = max(window) * 1000 if window else None
            lags.append(VenueLag(venue, tuple(by_venue.get(venue, ())), last, most))
        return BusView(self.connected, tuple(procs), tuple(lags), self.counters)

    async def close(self) -> None:
        for task in list(self._heals.values()):
            task.cancel()
        await asyncio.gather(*self._heals.values(), return_exceptions=True)
        for sub in [*self._subs, *([self._hb] if self._hb is not None else [])]:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
        self._subs.clear()
        self._hb = None
        if self.owns_connection:
            await self.nc.close()


async def open_books(url: str, *, name: str) -> BusBooks:
    """A connection to the bus at ``url`` and the books followed on it, told of its drops."""
    holder: list[BusBooks] = []

    async def dropped() -> None:
        if holder:
            await holder[0].disconnected()

    async def back() -> None:
        if holder:
            await holder[0].reconnected()

    nc = await connect(url, name=name, on_disconnect=dropped, on_reconnect=back)
    books = BusBooks(nc, name=name)
    books.owns_connection = True
    holder.append(books)
    return books
