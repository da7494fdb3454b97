"""Fills and execution reports on the bus, for other consumers: each as one JSON message on
``fills_subject(venue, account)`` (the FILLS_STREAM keeps them). Account events arrive in
synchronous listeners; a queue hands them to one task that publishes them in order (core publish:
the stream captures the subject, and nothing waits on an acknowledgement per fill)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from nats.aio.client import Client

from . import subjects

log = logging.getLogger(__name__)

FLUSH_WITHIN = 5.0  # seconds a stop gives what is queued to reach the server


class FillsPublisher:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.published = 0
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def publish(self, venue: str, account: str, kind: str, body: Mapping[str, Any]) -> None:
        """Queue ``body`` (a ``kind`` of report: "fill", "outcome") for ``venue``/``account``'s subject."""
        self._queue.put_nowait((subjects.fills_subject(venue, account), orjson.dumps({"kind": kind, **body})))

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="bus-fills")

    async def stop(self) -> None:
        """Publish what is queued (within FLUSH_WITHIN seconds), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), FLUSH_WITHIN)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        with contextlib.suppress(Exception):
            await self.client.flush(timeout=1)

    async def _run(self) -> None:
        while True:
            subject, payload = await self._queue.get()
            try:
                await self.client.publish(subject, payload)
                self.published += 1
            except Exception as exc:  # the bus is down past its buffer: this report is lost to consumers only
                log.warning("bus: a report on %s not published (%s)", subject, type(exc).__name__)
            finally:
                self._queue.task_done()
