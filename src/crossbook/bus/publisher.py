"""BusPublisher: a feed process's books, trades and market events onto the bus.

Each attached book is a TappedBook. One flush task, woken when a book first changes, publishes per
dirty book a DELTA (its changed levels), a SNAPSHOT (after the book was cleared and rebuilt) or a
STATE frame (the book is not LIVE: it stays pending, undrained, until it is), each with the book's
own sequence, gap-free within a run. A run's sequences start at its start time in milliseconds
times 2**20, so a later run's frames always come after an earlier run's: a consumer never takes a
dead run's stored snapshot for a newer one than the frames it sees. Books not yet live are looked
at again every ``PENDING_POLL`` seconds, so a book that goes LIVE is published at once, not at the
next heartbeat. After a wake the flush waits ``coalesce`` seconds, so the changes a busy socket
brings in that time travel as one delta per book (0: a frame per applied message). Every frame is
a core publish (the JetStream stream captures the subjects); nothing waits for an acknowledgement
per message.

Beside the frames: a heartbeat per ``heartbeat_every`` (each book's sequence and status; a status
that changed is also published as a STATE frame), each book's snapshot in the snapshot bucket per
``snapshot_every`` and on request, and each feed's instruments in the instrument bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from functools import partial
from typing import Any

import nats.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.kv import KeyValue

from ..book.tapped import TappedBook
from ..feeds.manager import VenueFeed
from ..model import BookState, Instrument, Kind, OptionRight, Trade
from ..symbols import SymbolMap
from ..venues.registry import venue_of
from . import subjects
from .codec import EVENT_KINDS, Event, FrameKind, encode_book, encode_event, encode_state

log = logging.getLogger(__name__)

PENDING_POLL = 0.05  # seconds between two looks at the books waiting to go LIVE
COALESCE = 0.001  # seconds a flush waits after a wake for more changes to publish with it
RUN_SHIFT = 20  # a run's first sequence is its start in ms << RUN_SHIFT: 2**20 frames per book per ms of restart


def run_base(started: float) -> int:
    """The sequence a run started at ``started`` (epoch seconds) counts its books' frames from."""
    return int(started * 1000) << RUN_SHIFT
REBUILT_PAUSE = 0.25  # seconds at least between two rounds of the snapshot bucket (books go live in bursts)


@dataclass(eq=False, slots=True)
class PublishedBook:
    """One book as this process publishes it: ``seq`` of its last frame (the run's base before the
    first), ``state`` it last published (None before its first frame), ``kv_seq`` of the snapshot
    last put in the bucket."""

    venue: str
    symbol: str
    subject: str
    book: TappedBook
    seq: int = 0
    state: BookState | None = None
    kv_seq: int = 0


@dataclass(slots=True)
class PublisherStats:
    """What the publisher sent: ``frames`` on book subjects (deltas + snapshots + states), ``events``
    trades and market events, ``bytes`` of both, ``kv_snapshots`` put in the snapshot bucket,
    ``requests`` on-demand snapshots answered, ``dropped`` publishes the client refused (the
    sequence still advanced, so a consumer sees the gap and heals)."""

    frames: int = 0
    deltas: int = 0
    snapshots: int = 0
    states: int = 0
    events: int = 0
    bytes: int = 0
    kv_snapshots: int = 0
    requests: int = 0
    dropped: int = 0
    unpublishable: int = 0  # events whose venue or symbol cannot be a subject token

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A feed process's heartbeat: ``books`` as (venue, symbol, seq, status)."""

    process: str
    ts: float
    books: list[tuple[str, str, int, str]]

    def to_json(self) -> dict[str, Any]:
        return {"process": self.process, "ts": self.ts, "books": [list(b) for b in self.books]}

    @classmethod
    def from_bytes(cls, data: bytes) -> Heartbeat:
        """A heartbeat from its JSON; ValueError naming what is wrong when it is not one."""
        try:
            body = orjson.loads(data)
            books = [(str(v), str(s), int(q), str(st)) for v, s, q, st in body["books"]]
            return cls(str(body["process"]), float(body["ts"]), books)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a heartbeat: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True, slots=True)
class PublisherInfo:
    """A feed process's entry in the publisher bucket (renewed with every heartbeat)."""

    process: str
    venues: list[str]
    books: int
    pid: int
    host: str
    started: float
    ts: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def instruments_to_json(instruments: list[Instrument]) -> bytes:
    return orjson.dumps([asdict(i) for i in instruments])


def instruments_from_json(data: bytes) -> list[Instrument]:
    """A feed's instruments as the publisher put them in the instrument bucket; ValueError naming
    what is wrong when the bytes are not that."""
    try:
        rows = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"instruments are not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise ValueError("instruments are a JSON list of objects")
    names = {f.name for f in fields(Instrument)}
    found: list[Instrument] = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or not names.issuperset(row):
            raise ValueError(f"instrument {n} is not an object of Instrument fields")
        try:
            row["kind"] = Kind(row.get("kind", Kind.SPOT))
            if row.get("right") is not None:
                row["right"] = OptionRight(row["right"])
            found.append(Instrument(**row))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"instrument {n}: {exc}") from None
    return found


class BusPublisher:
    def __init__(self, nc: Client, process: str, *, heartbeat_every: float = 1.0, snapshot_every: float = 5.0,
                 coalesce: float = COALESCE) -> None:
        """``process``: this feed process's name on the bus (a subject token, unique per process)."""
        if not 0.0 <= coalesce <= 1.0:
            raise ValueError(f"coalesce must be 0 to 1 seconds, not {coalesce!r}")
        self.nc = nc
        self.process = subjects.token(process, "process name")
        self.heartbeat_every = heartbeat_every
        self.snapshot_every = snapshot_every
        self.coalesce = coalesce
        self.stats = PublisherStats()
        self.books: dict[tuple[str, str], PublishedBook] = {}  # (venue, symbol) -> its publication
        self.started = time.time()
        self.seq_base = run_base(self.started)
        self._due: set[PublishedBook] = set()  # dirty, or waiting to go LIVE
        self._events: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._rebuilt = asyncio.Event()  # a book was (re)published whole: its snapshot is due in the bucket
        self._lock = asyncio.Lock()  # one writer of book frames at a time: a book's frames stay in seq order
        self._venues: dict[str, str] = {}  # feed id -> venue id
        self._tasks: list[asyncio.Task[None]] = []
        self._requests: Subscription | None = None
        self._snapshot_kv: KeyValue | None = None
        self._publisher_kv: KeyValue | None = None
        self._instrument_kv: KeyValue | None = None

    # ---- books ---------------------------------------------------------------------------------

    def venue_id(self, feed_id: str) -> str:
        venue = self._venues.get(feed_id)
        if venue is None:
            venue = self._venues[feed_id] = venue_of(feed_id)
        return venue

    def attach(self, feed: VenueFeed) -> int:
        """Publish every book of ``feed`` not published yet; returns how many were new."""
        return sum(self.attach_book(feed.venue, symbol, book) for symbol, book in list(feed.books.items()))

    def attach_book(self, feed_id: str, symbol: str, book: object) -> bool:
        """Publish ``book`` (a TappedBook) as ``symbol`` of ``feed_id``'s venue; False when it already is."""
        if not isinstance(book, TappedBook):
            raise TypeError(f"{feed_id} {symbol}: the bus publishes TappedBooks, not {type(book).__name__}")
        venue = self.venue_id(feed_id)
        entry = self.books.get((venue, symbol))
        if entry is not None and entry.book is book:
            return False
        if entry is None:
            entry = self.books[(venue, symbol)] = PublishedBook(venue, symbol, subjects.book_subject(venue, symbol), book,
                                                                seq=self.seq_base)
        else:  # a new book for the same market (a feed started again): its sequence carries on
            entry.book.on_dirty = None
            entry.book = book
        book.on_dirty = partial(self._book_dirty, entry)
        self._dirty(entry)  # a new book's first frame is due now (its state, or its snapshot)
        return True

    def _book_dirty(self, entry: PublishedBook, _book: TappedBook) -> None:
        self._dirty(entry)

    def _dirty(self, entry: PublishedBook) -> None:
        self._due.add(entry)
        self._wake.set()

    # ---- trades and market events (sync sinks: MarketData's on_trade / on_market) ------------------

    def publish_trade(self, trade: Trade) -> None:
        self._queue_event(subjects.TRADE, trade)

    def publish_event(self, event: Event) -> None:
        self._queue_event(EVENT_KINDS[type(event)], event)

    def _queue_event(self, kind: str, event: Event) -> None:
        try:
            venue = self.venue_id(event.venue)
            subject = (subjects.trade_subject(venue, event.symbol) if kind == subjects.TRADE
                       else subjects.market_subject(kind, venue, event.symbol))
        except ValueError as exc:
            self.stats.unpublishable += 1
            log.debug("not published: %s", exc)
            return
        self._events.append((subject, encode_event(event)))
        self._wake.set()

    # ---- the flush -------------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            if self._due:  # some book waits to go LIVE: look again soon even if nothing wakes us
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), PENDING_POLL)
            else:
                await self._wake.wait()
            if self.coalesce:
                await asyncio.sleep(self.coalesce)
            self._wake.clear()
            try:
                async with self._lock:
                    await self._flush_due()
                    await self._flush_events()
            except Exception:  # a bug in one round must not end publishing for good
                log.exception("bus flush of %s failed", self.process)

    async def _flush_due(self) -> None:
        due, self._due = self._due, set()
        now = time.time()
        for entry in due:
            if not await self._flush_book(entry, now):
                self._due.add(entry)

    async def _flush_book(self, entry: PublishedBook, now: float) -> bool:
        """Publish what ``entry``'s book owes; False while it is not LIVE (it stays pending, undrained)."""
        book = entry.book
        status = book.status(now)
        if status is not BookState.LIVE:
            if status is not entry.state:
                entry.state = status
                await self._send_book(entry, FrameKind.STATE, encode_state(status, entry.seq + 1, book.updated_at))
            return False
        reset, bids, asks = book.drain()
        if reset or entry.state is None:
            frame = encode_book(FrameKind.SNAPSHOT, BookState.LIVE, entry.seq + 1, book.updated_at,
                                book.bids.items(), book.asks.items())
            entry.state = BookState.LIVE
            await self._send_book(entry, FrameKind.SNAPSHOT, frame)
            self._rebuilt.set()
            return True
        if entry.state is not BookState.LIVE:  # live again after stale: the levels held are still good
            entry.state = BookState.LIVE
            await self._send_book(entry, FrameKind.STATE, encode_state(BookState.LIVE, entry.seq + 1, book.updated_at))
        if bids or asks:
            await self._send_book(entry, FrameKind.DELTA,
                                  encode_book(FrameKind.DELTA, BookState.LIVE, entry.seq + 1, book.updated_at, bids, asks))
        return True

    async def _send_book(self, entry: PublishedBook, kind: FrameKind, frame: bytes) -> None:
        entry.seq += 1  # even when the client refuses it: a consumer then sees the gap and heals
        stats = self.stats
        stats.frames += 1
        if kind is FrameKind.DELTA:
            stats.deltas += 1
        elif kind is FrameKind.SNAPSHOT:
            stats.snapshots += 1
        else:
            stats.states += 1
        stats.bytes += len(frame)
        await self._publish(entry.subject, frame)

    async def _flush_events(self) -> None:
        events = self._events
        while events:
            subject, payload = events.popleft()
            self.stats.events += 1
            self.stats.bytes += len(payload)
            await self._publish(subject, payload)

    async def _publish(self, subject: str, payload: bytes) -> None:
        try:
            await self.nc.publish(subject, payload)
        except nats.errors.Error as exc:  # disconnected with a full buffer, closed: the frame is lost
            self.stats.dropped += 1
            log.debug("bus publish to %s failed: %r", subject, exc)

    # ---- snapshots: periodic, and on demand -----------------------------------------------------

    async def snapshot_frame(self, entry: PublishedBook) -> bytes | None:
        """``entry``'s SNAPSHOT frame at its current sequence, after publishing what it still owes
        (a book not LIVE: no levels, its state); None before its first frame."""
        async with self._lock:
            if not await self._flush_book(entry, time.time()):
                self._due.add(entry)
            if entry.state is None:
                return None
            book = entry.book
            live_levels = entry.state in (BookState.LIVE, BookState.STALE)
            return encode_book(FrameKind.SNAPSHOT, entry.state, entry.seq, book.updated_at,
                               book.bids.items() if live_levels else (), book.asks.items() if live_levels else ())

    async def put_snapshot(self, entry: PublishedBook, frame: bytes, seq: int) -> None:
        if self._snapshot_kv is None:
            return
        try:
            await self._snapshot_kv.put(subjects.book_key(entry.venue, entry.symbol), frame)
        except nats.errors.Error as exc:
            log.debug("snapshot of %s:%s not stored: %r", entry.venue, entry.symbol, exc)
            return
        entry.kv_seq = seq
        self.stats.kv_snapshots += 1

    async def _snapshot_loop(self) -> None:
        """Every ``snapshot_every``, and soon after a book was rebuilt (so the bucket never holds a
        previous run's snapshot of a live book for long)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rebuilt.wait(), self.snapshot_every)
            self._rebuilt.clear()
            await self.store_snapshots()
            await asyncio.sleep(REBUILT_PAUSE)

    async def store_snapshots(self) -> None:
        """Every book whose sequence moved since its last snapshot, into the snapshot bucket."""
        for entry in list(self.books.values()):
            if entry.seq == entry.kv_seq:
                continue
            frame = await self.snapshot_frame(entry)
            if frame is not None:
                await self.put_snapshot(entry, frame, entry.seq)

    async def _answer_request(self, msg: Msg) -> None:
        book = subjects.requested_book(msg.subject)
        entry = self.books.get(book) if book is not None else None
        if entry is None or not msg.reply:
            return  # another feed process publishes it (every one hears every request)
        frame = await self.snapshot_frame(entry)
        if frame is None:
            return
        seq = entry.seq
        try:
            await msg.respond(frame)
        except nats.errors.Error as exc:
            log.debug("snapshot request for %s not answered: %r", msg.subject, exc)
            return
        self.stats.requests += 1
        await self.put_snapshot(entry, frame, seq)

    # ---- heartbeat -------------------------------------------------------------------------------

    def heartbeat(self, now: float) -> Heartbeat:
        """This process's books as of ``now``; a book whose status changed is flagged for a STATE frame."""
        rows: list[tuple[str, str, int, str]] = []
        for entry in self.books.values():
            status = entry.book.status(now)
            if status is not entry.state and entry.state is not None:
                self._dirty(entry)
            rows.append((entry.venue, entry.symbol, entry.seq, status.value))
        return Heartbeat(self.process, now, rows)

    def info(self, now: float) -> PublisherInfo:
        venues = sorted({venue for venue, _symbol in self.books})
        return PublisherInfo(self.process, venues, len(self.books), os.getpid(), socket.gethostname(), self.started, now)

    async def _heartbeat_loop(self) -> None:
        subject = subjects.heartbeat_subject(self.process)
        while True:
            now = time.time()
            async with self._lock:  # the sequences named are those already published
                beat = self.heartbeat(now)
                await self._publish(subject, orjson.dumps(beat.to_json()))
            if self._publisher_kv is not None:
                try:
                    await self._publisher_kv.put(self.process, orjson.dumps(self.info(now).to_json()))
                except nats.errors.Error as exc:
                    log.debug("publisher entry not renewed: %r", exc)
            await asyncio.sleep(self.heartbeat_every)

    # ---- instruments -----------------------------------------------------------------------------

    async def publish_instruments(self, feed_id: str, symbol_map: SymbolMap) -> None:
        """``feed_id``'s instruments into the instrument bucket, so consumers need no venue access."""
        if self._instrument_kv is None:
            raise RuntimeError("BusPublisher.publish_instruments: start() first")
        await self._instrument_kv.put(subjects.token(feed_id, "feed id"),
                                      instruments_to_json(list(symbol_map.by_native.values())))

    # ---- running ---------------------------------------------------------------------------------

    async def start(self) -> BusPublisher:
        js = self.nc.jetstream()
        self._snapshot_kv = await js.key_value(subjects.SNAPSHOT_BUCKET)
        self._publisher_kv = await js.key_value(subjects.PUBLISHER_BUCKET)
        self._instrument_kv = await js.key_value(subjects.INSTRUMENT_BUCKET)
        self._requests = await self.nc.subscribe(subjects.SNAPSHOT_REQUESTS, cb=self._answer_request)
        for name, loop in (("flush", self._flush_loop), ("heartbeat", self._heartbeat_loop),
                           ("snapshots", self._snapshot_loop)):
            self._tasks.append(asyncio.create_task(loop(), name=f"bus-{name}:{self.process}"))
        return self

    async def stop(self) -> None:
        """Publish what is still owed, tell consumers every book is no longer kept (STATE stale),
        and take this process out of the publisher bucket."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._requests is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._requests.unsubscribe()
            self._requests = None
        if self.nc.is_closed:
            return
        async with self._lock:
            await self._flush_due()
            await self._flush_events()
            for entry in self.books.values():
                entry.book.on_dirty = None
                if entry.state is not None and entry.state is not BookState.STALE:
                    entry.state = BookState.STALE
                    await self._send_book(entry, FrameKind.STATE,
                                          encode_state(BookState.STALE, entry.seq + 1, entry.book.updated_at))
        if self._publisher_kv is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._publisher_kv.delete(self.process)
