"""FeedConnection: one live WebSocket carrying some of a venue's subscriptions.

It connects with exponential backoff and full jitter (capped at 60 s), resubscribes after every
reconnect, sends the venue's application ping, rolls the connection over before the venue's age
limit, reconnects when the socket goes silent, and answers a handler's resync requests with a REST
snapshot or a resubscribe, throttled per book so a venue that keeps failing checksums cannot start
a resubscribe storm.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .capture import CaptureWriter
from .handler import FeedHandler, Frame, Resync

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
    ) -> None:
        self.handler = handler
        self.recorder = recorder
        self._conn_id = 0
        self._url = ""
        self.natives = list(natives)
        self.session = session
        self.backoff = backoff or Backoff()
        self.guard = guard or ResyncGuard(first_delay=handler.resync_min_interval)
        self.clock = clock
        self.connects = 0
        self.rollovers = 0
        self.last_error: str | None = None
        self.connected = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()
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
        self._cancel_side_tasks()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

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
            await self._send_all(self.handler.subscribe_messages(self.natives))
            if self.handler.resync_by is Resync.SNAPSHOT:
                for native in self.natives:
                    self._spawn(self._fetch_snapshot(native, self._generation, self.handler.snapshot_grace))
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
                replies = handler.on_frame(msg.data, now)
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
        if generation != self._generation or self._ws is None or self._ws.closed:
            return  # the connection was replaced: it resubscribed everything already
        await self._send_all(self.handler.unsubscribe_messages([native]))
        await self._send_all(self.handler.subscribe_messages([native]))

    async def _fetch_snapshot(self, native: str, generation: int, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self.handler.wants_snapshot(native):
            return
        backoff = Backoff(base=0.25, cap=10.0)
        url = self.handler.snapshot_url(native)
        while generation == self._generation and not self._stopping:
            try:
                async with self.session.get(url) as resp:
                    body = await resp.read()
                    if resp.status == 200:
                        break
                    self.last_error = f"snapshot {native}: HTTP {resp.status}"
            except aiohttp.ClientError as exc:
                self.last_error = f"snapshot {native}: {exc}"
            await asyncio.sleep(backoff.next_delay())
        else:
            return
        if generation == self._generation:
            now = self.clock()
            if self.recorder is not None:
                self.recorder.write(now, "http", url, body, self._conn_id)
            self.handler.on_snapshot(native, body, now)

    # ---- plumbing --------------------------------------------------------------------------

    async def _send_all(self, frames: list[Frame]) -> None:
        if self._ws is not None:
            for frame in frames:
                await self._send(self._ws, frame)

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> None:
        text = frame.decode() if isinstance(frame, bytes) else frame
        if self.recorder is not None:
            self.recorder.write(self.clock(), "sent", self._url, text, self._conn_id)
        await ws.send_str(text)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_side_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
