"""FeedConnection: one live WebSocket carrying some of a venue's subscriptions.

It connects with exponential backoff and full jitter (capped at the venue's resync bound),
resubscribes after every reconnect, sends the venue's application ping, rolls the connection over
before the venue's age limit, reconnects when the socket goes silent, and answers a handler's
resync requests with a REST snapshot or a resubscribe, throttled per book so a venue that keeps
failing checksums cannot start a resubscribe storm.

Nothing stays dead: a snapshot request that times out, fails, is refused or returns a body the
handler cannot read is tried again (after the wait the venue asks for, else with backoff), each
failure counted on the book and kept as ``last_error``; a watchdog gives every book that stays
syncing past its venue's ``resync_bound`` a fresh attempt and reports it, and resyncs a LIVE book
whose own updates stopped (``silent_after``). A frame the handler cannot read never ends the
socket (``FeedHandler.receive``), and every background task's failure is logged, never left
unretrieved.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..model import BookState
from ..venues.spec.limiter import TRANSIT_MARGIN, Limiter
from ..venues.spec.limits import OTHER_FRAME, SUBSCRIBE_FRAME, WS, Breach, SubscribeLimits, request_params
from .capture import CaptureWriter
from .handler import FeedHandler, Frame, Resync
from .rest import fetch
from .watchdog import BookWatch, Due

log = logging.getLogger(__name__)


class Backoff:
    """Exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**attempt))."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.attempt = 0

    def ceiling(self) -> float:
        return min(self.cap, self.base * (2**self.attempt))

    def next_delay(self) -> float:
        delay = self.rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class ResyncGuard:
    """Per book: the first resync goes at once; each further one within ``window`` seconds of the
    previous waits twice as long as the last (``first_delay`` .. ``cap``)."""

    window: float = 60.0
    first_delay: float = 0.5
    cap: float = 30.0
    _last: dict[str, float] = field(default_factory=dict)
    _delay: dict[str, float] = field(default_factory=dict)

    def delay_for(self, native: str, now: float) -> float:
        last = self._last.get(native)
        quiet_since_last = last is None or now - last > self.window
        delay = 0.0 if quiet_since_last else min(self.cap, max(self.first_delay, 2 * self._delay.get(native, 0.0)))
        self._last[native] = now + delay
        self._delay[native] = delay
        return delay


class FeedConnection:
    def __init__(
        self,
        handler: FeedHandler,
        natives: list[str],
        session: aiohttp.ClientSession,
        *,
        backoff: Backoff | None = None,
        guard: ResyncGuard | None = None,
        clock: Callable[[], float] = time.time,
        recorder: CaptureWriter | None = None,
        limiter: Limiter | None = None,
        subscribe_limits: SubscribeLimits | None = None,
        breach: Breach | None = None,
    ) -> None:
        """``limiter``: the venue's REST limiter (shared with its other feeds and its accounts), which
        every snapshot request waits for; ``subscribe_limits``: what one socket of this feed may send,
        by which subscribes are batched and every sent frame is paced; ``breach``: how the venue
        signals a rate-limit refusal, for the wait it asks before the next snapshot request."""
        self.handler = handler
        self.limiter = limiter
        self.subscribe_limits = subscribe_limits
        self._pacer: Limiter | None = None
        self.recorder = recorder
        self._conn_id = 0
        self._url = ""
        self.natives = list(natives)
        self.session = session
        self.breach = breach
        bound = handler.resync_bound
        # no wait between two attempts may outlast the bound a book may take to sync
        self.backoff = backoff or Backoff(cap=min(60.0, bound))
        self.guard = guard or ResyncGuard(first_delay=handler.resync_min_interval, cap=min(30.0, bound / 2))
        self.watch = BookWatch(bound)
        self.clock = clock
        self.connects = 0
        self.rollovers = 0
        self.fetch_failures = 0  # snapshot requests that failed, every book of this socket
        self.stuck = 0  # fresh attempts the watchdog gave books that stayed syncing past the bound
        self.last_error: str | None = None
        self.connected = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._fetching: dict[str, asyncio.Task[Any]] = {}  # native -> its snapshot request in flight
        self._unsubscribed: set[str] = set()  # books whose subscribe has not gone on this socket yet
        self._stopping = False
        handler.on_resync = self._on_resync
        for native in self.natives:
            handler.add_book(native)

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        while not self._stopping:
            rolled_over = False
            try:
                await self._session_once()
                rolled_over = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any socket or protocol failure: reconnect
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s connection failed: %s", self.handler.venue, self.last_error)
            finally:
                self.connected = False
                self.handler.connection_lost()
                self._cancel_side_tasks()
            if self._stopping:
                break
            if not rolled_over:
                await asyncio.sleep(self.backoff.next_delay())

    async def stop(self) -> None:
        self._stopping = True
        tasks = list(self._tasks)
        self._cancel_side_tasks()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def failing(self) -> dict[str, int]:
        """Books still not LIVE that stayed syncing past their bound: native -> the watchdog's
        fresh attempts since each was last LIVE."""
        books = self.handler.books
        return {n: kicks for n, kicks in self.watch.kicks.items() if books[n].state is not BookState.LIVE}

    async def _session_once(self) -> None:
        await self.handler.prepare(self.session)
        url = self.handler.connect_url(self.natives)
        async with self.session.ws_connect(url, heartbeat=None, autoping=True, max_msg_size=0) as ws:
            self._ws = ws
            self._url = url
            if self.recorder is not None:
                self._conn_id = self.recorder.new_connection()
                self.recorder.write(self.clock(), "open", url, "", self._conn_id)
            self._generation += 1
            self.connects += 1
            self.connected = True
            opened = self.clock()
            self.handler.link.last_rx = opened
            self.handler.connection_opened()
            self.watch.restart(self.natives, opened)
            self._unsubscribed = set(self.natives)
            self._spawn(self._watchdog(self._generation))
            self._pacer = self._new_pacer()
            self._spawn(self._subscribe_all(self._generation))
            if self.handler.ping_interval:
                self._spawn(self._ping_loop(ws))
            await self._read_loop(ws, opened)

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse, opened: float) -> None:
        handler = self.handler
        silence = handler.stale_after
        age_limit = handler.max_connection_age
        while True:
            try:
                msg = await ws.receive(timeout=silence)
            except TimeoutError:
                raise ConnectionError(f"no message for {silence:.0f} s") from None
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                now = self.clock()
                if self.recorder is not None:
                    self.recorder.write(now, "recv", self._url, msg.data, self._conn_id)
                replies = handler.receive(msg.data, now)
                if replies:
                    await self._send_all(replies)
                if self.backoff.attempt and now - opened > 30.0:
                    self.backoff.reset()  # stayed up: the next failure starts from the base delay
                if now - opened > age_limit:
                    log.info("%s connection rollover after %.0f s", handler.venue, now - opened)
                    self.backoff.reset()
                    self.rollovers += 1
                    return
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                raise ConnectionError(f"closed by venue (code {ws.close_code})")
            elif msg.type is aiohttp.WSMsgType.ERROR:
                raise ConnectionError(str(ws.exception()))

    async def _ping_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        assert self.handler.ping_interval
        while not ws.closed:
            await asyncio.sleep(self.handler.ping_interval)
            ping = self.handler.ping_message()
            if ping is not None and not ws.closed:
                await self._send(ws, ping)

    # ---- subscribing, paced ------------------------------------------------------------------

    def _new_pacer(self) -> Limiter | None:
        """A fresh socket's own counter of what it sent (the venue counts per connection)."""
        limits = self.subscribe_limits
        return Limiter(limits.table(self.handler.venue), margin=TRANSIT_MARGIN) if limits is not None else None

    def _subscribe_groups(self, natives: list[str]) -> list[list[str]]:
        """``natives`` in groups whose subscribe requests carry at most the venue's topics per message."""
        limits = self.subscribe_limits
        per_message = limits.topics_per_message if limits is not None else None
        size = max(1, per_message // self.handler.streams_per_symbol) if per_message else max(1, len(natives))
        return [natives[i : i + size] for i in range(0, len(natives), size)]

    async def _subscribe_all(self, generation: int) -> None:
        """Subscribe every book of this socket, a group at a time at the pace the venue allows, and
        fetch each group's snapshots (where the venue syncs from one) once its subscribe went."""
        for group in self._subscribe_groups(self.natives):
            if generation != self._generation:
                return
            await self._send_all(self.handler.subscribe_messages(group), subscribe=True)
            self._unsubscribed.difference_update(group)
            if self.handler.resync_by is Resync.SNAPSHOT:
                for native in group:
                    self._spawn(self._fetch_snapshot(native, generation, self.handler.snapshot_grace))

    # ---- resync ----------------------------------------------------------------------------

    def _on_resync(self, handler: FeedHandler, native: str, reason: str) -> None:
        delay = self.guard.delay_for(native, self.clock())
        log.info("%s %s resync (%s), in %.1f s", handler.venue, native, reason, delay)
        if handler.resync_by is Resync.SNAPSHOT:
            self._spawn(self._fetch_snapshot(native, self._generation, delay))
        else:
            self._spawn(self._resubscribe(native, self._generation, delay))

    async def _resubscribe(self, native: str, generation: int, delay: float) -> None:
        await asyncio.sleep(delay)
        # the socket still loses messages: a snapshot now would break at once (a later loss pushes this back)
        while (wait := self.handler.resubscribe_wait(self.clock())) > 0:  # noqa: ASYNC110 - sleeps to a moving deadline
            await asyncio.sleep(wait)
        if generation != self._generation or self._ws is None or self._ws.closed:
            return  # the connection was replaced: it resubscribed everything already
        await self._send_all(self.handler.unsubscribe_messages([native]), subscribe=True)
        await self._send_all(self.handler.subscribe_messages([native]), subscribe=True)

    async def _fetch_snapshot(self, native: str, generation: int, delay: float) -> None:
        """Request ``native``'s snapshot until the handler takes one, this socket is replaced, or
        the book went live without it. A newer request for the same book replaces this one."""
        await asyncio.sleep(delay)
        self._claim_fetch(native)
        handler = self.handler
        backoff = Backoff(base=0.25, cap=min(10.0, handler.resync_bound / 2))
        while generation == self._generation and not self._stopping and handler.wants_snapshot(native):
            error, wait = await self._snapshot_attempt(native, generation)
            if error is None:
                return
            self._fetch_failed(native, error)
            await asyncio.sleep(wait if wait is not None else backoff.next_delay())

    def _claim_fetch(self, native: str) -> None:
        task = asyncio.current_task()
        previous = self._fetching.get(native)
        if previous is not None and previous is not task:
            previous.cancel()
        if task is not None:
            self._fetching[native] = task
            task.add_done_callback(lambda done: self._release_fetch(native, done))

    def _release_fetch(self, native: str, task: asyncio.Task[Any]) -> None:
        if self._fetching.get(native) is task:
            del self._fetching[native]

    async def _snapshot_attempt(self, native: str, generation: int) -> tuple[str | None, float | None]:
        """One snapshot request handed to the handler: (None, None) when it took it, else (why
        not, the wait the venue asked for)."""
        handler = self.handler
        url = handler.snapshot_url(native)
        await self._pace_request(url)
        got = await fetch(self.session, url, handler.request_timeout, self.breach)
        if got.reply is not None and self.limiter is not None:
            self.limiter.observe(got.reply)  # a rate-limit refusal holds the venue's requests back
        if got.body is None:
            return got.error, got.wait
        if generation != self._generation:
            return None, None  # the socket was replaced: its own requests are under way
        now = self.clock()
        if self.recorder is not None:
            self.recorder.write(now, "http", url, got.body, self._conn_id)
        try:
            handler.on_snapshot(native, got.body, now)
        except Exception as exc:  # a truncated or malformed body: nothing of it may stay in the book
            book = handler.books[native]
            if book.state is BookState.LIVE:
                book.state = BookState.RESYNCING
            handler.discard(native)
            return f"unreadable body ({type(exc).__name__}: {exc})", None
        return None, None

    def _fetch_failed(self, native: str, error: str) -> None:
        self.fetch_failures += 1
        self.handler.books[native].stats.fetch_failures += 1
        self.last_error = f"snapshot {native}: {error}"
        log.info("%s %s", self.handler.venue, self.last_error)

    # ---- watchdog --------------------------------------------------------------------------

    async def _watchdog(self, generation: int) -> None:
        interval = min(1.0, self.handler.resync_bound / 4)
        while generation == self._generation and not self._stopping:
            await asyncio.sleep(interval)
            for native, due in self.watch.check(self.handler.books, self.clock(), self._unsubscribed):
                self._kick(native, due)

    def _kick(self, native: str, due: Due) -> None:
        """A fresh start for one book the watchdog found due one."""
        handler = self.handler
        book = handler.books[native]
        if due is Due.SILENT:
            book.stats.silences += 1
            log.warning("%s %s: no update of its own for %.0f s while its socket hears others: resync",
                        handler.venue, native, handler.silent_after)
        else:
            book.stats.stuck += 1
            self.stuck += 1
            fetching = native in self._fetching  # its snapshot is still being asked: no second attempt
            log.warning("%s %s still %s after %.0f s (%s, %d times; last error: %s)", handler.venue, native,
                        book.state.value, handler.resync_bound,
                        "its snapshot request still being tried" if fetching else "fresh attempt",
                        self.watch.kicks[native], self.last_error)
            if fetching:
                return
        handler.resync(native, "silent" if due is Due.SILENT else "not live within its bound")

    async def _pace_request(self, url: str) -> None:
        """Wait until the venue's REST limits let this request go (counted with everything else
        this desk sends the venue)."""
        if self.limiter is not None:
            parts = urlsplit(url)
            await self.limiter.acquire("GET", parts.path, params=request_params(parts.query, None))

    # ---- plumbing --------------------------------------------------------------------------

    async def _send_all(self, frames: list[Frame], *, subscribe: bool = False) -> None:
        if self._ws is not None:
            for frame in frames:
                await self._send(self._ws, frame, subscribe=subscribe)

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame, *, subscribe: bool = False) -> None:
        """Send one frame once the socket's limits allow it (``subscribe``: a subscribe or
        unsubscribe request, which some venues count apart)."""
        pacer = self._pacer
        if pacer is not None:
            await pacer.acquire(WS, SUBSCRIBE_FRAME if subscribe else OTHER_FRAME)
            if ws.closed:
                return
        text = frame.decode() if isinstance(frame, bytes) else frame
        if self.recorder is not None:
            self.recorder.write(self.clock(), "sent", self._url, text, self._conn_id)
        await ws.send_str(text)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._side_task_done)

    def _side_task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.last_error = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, (ConnectionError, aiohttp.ClientError)):  # a send on a closing socket is routine
                log.warning("%s background task failed: %s", self.handler.venue, self.last_error, exc_info=exc)

    def _cancel_side_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
