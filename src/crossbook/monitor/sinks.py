"""Where alert transitions go besides /alerts and the WebSocket: the log, and a webhook.

Both ``emit`` at once and never block evaluation: ``WebhookSink`` queues the event (a bounded queue,
the oldest dropped when full) and one task posts them in order, each with a timeout and a bounded
number of retries; a failure is logged with the webhook's host only (its path may hold a secret).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

import aiohttp
import orjson

from .alerts import AlertEvent

log = logging.getLogger(__name__)


class LogSink:
    """One log line per transition: warning when an alert fires, info otherwise."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or log

    def emit(self, event: AlertEvent) -> None:
        labels = ",".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
        level = logging.WARNING if event.state == "firing" else logging.INFO
        self.log.log(level, "alert %s %s [%s] %s (%s)", event.name, event.state, event.severity, event.summary, labels)


class WebhookSink:
    """POST each event's ``to_json()`` to ``url`` through ``session``, in order."""

    def __init__(self, url: str, session: aiohttp.ClientSession, *, timeout: float = 5.0, attempts: int = 3,
                 retry_delay: float = 0.5, queue_size: int = 1000) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = url
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.delivered = 0
        self.failed = 0  # events given up on after every attempt, or dropped from a full queue
        self._queue: asyncio.Queue[AlertEvent] = asyncio.Queue(maxsize=queue_size)
        self._worker: asyncio.Task[None] | None = None
        parts = urlsplit(url)
        self._where = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}".rstrip(":")

    def emit(self, event: AlertEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self._queue.task_done()
            self.failed += 1
            log.warning("alert webhook %s is behind: dropped the oldest queued event", self._where)
        self._queue.put_nowait(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._deliver_all())

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every queued event to be delivered or given up on."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 2.0) -> None:
        """Stop posting, once what is queued is delivered or ``timeout`` seconds have passed (what
        is left then is dropped)."""
        if self._worker is not None:
            if not self._worker.done():
                await self.drain(timeout)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def _deliver_all(self) -> None:
        while not self._queue.empty():
            event = self._queue.get_nowait()
            try:
                await self._deliver(event)
            finally:
                self._queue.task_done()

    async def _deliver(self, event: AlertEvent) -> None:
        body = orjson.dumps(event.to_json())
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
            try:
                async with self.session.post(self.url, data=body, headers={"Content-Type": "application/json"},
                                             timeout=self.timeout) as response:
                    if response.status < 300:
                        self.delivered += 1
                        return
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
        self.failed += 1
        log.warning("alert webhook %s: %s %s not delivered after %d attempts (%s)", self._where, event.name, event.state,
                    self.attempts, problem)
