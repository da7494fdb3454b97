"""Connecting to the bus and making sure its streams and buckets exist (idempotently: every feed
process and desk may do it at start)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError, ServiceUnavailableError

from ..errors import BusUnavailable, ConfigError
from . import subjects

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the bus keeps what it is given: book deltas and market events briefly (a consumer
    that falls further behind loads the snapshot), fills for a day; ``replicas``: copies across a
    cluster (1 on a lone server)."""

    book_seconds: float = 120.0
    book_bytes: int = 256 << 20
    market_seconds: float = 600.0
    fills_seconds: float = 86400.0
    replicas: int = 1
    publisher_ttl: float = 10.0  # a feed process's status entry outlives its last renewal this long
    lease_seconds: float = 15.0  # an account's trading lease is gone this long after its last renewal


def bus_urls(url: str) -> list[str]:
    """``nats://h:p[,nats://h2:p2...]`` as a list; ConfigError naming the part that is not one."""
    urls = [u.strip() for u in url.split(",") if u.strip()]
    if not urls:
        raise ConfigError("bus url is empty: give nats://HOST:PORT")
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme not in ("nats", "tls") or not parts.hostname or parts.port is None:
            raise ConfigError(f"bus url {u!r} is not nats://HOST:PORT")
    return urls


async def connect(url: str, *, name: str, on_disconnect: Callable[[], Awaitable[None]] | None = None,
                  on_reconnect: Callable[[], Awaitable[None]] | None = None) -> Client:
    """A client that reconnects for ever (to any of the servers in ``url``), telling the caller when
    the link drops and comes back."""

    async def error(exc: Exception) -> None:
        log.warning("bus %s: %s", name, exc)

    async def disconnected() -> None:
        if on_disconnect is not None:
            await on_disconnect()

    async def reconnected() -> None:
        if on_reconnect is not None:
            await on_reconnect()

    return await nats.connect(servers=bus_urls(url), name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                              connect_timeout=5, allow_reconnect=True, error_cb=error,
                              disconnected_cb=disconnected, reconnected_cb=reconnected)


ELECTION_WAIT = 30.0  # seconds JetStream may stay unanswering while a cluster elects its leaders


async def ensure_bus(js: JetStreamContext, retention: Retention = Retention(), *, within: float = ELECTION_WAIT) -> None:
    """The streams and buckets of ``subjects``, made where missing. A cluster that lost a member
    answers nothing for some seconds while it elects new leaders: asked again until ``within``."""
    deadline = time.monotonic() + within
    while True:
        try:
            await _ensure_bus(js, retention)
            return
        except (nats.errors.TimeoutError, ServiceUnavailableError) as exc:
            if time.monotonic() > deadline:
                raise BusUnavailable(f"the bus's JetStream did not answer within {within:.0f} s: {exc}") from None
            log.info("bus JetStream not answering (%s): asking again", exc)
            await asyncio.sleep(0.5)


async def _ensure_bus(js: JetStreamContext, retention: Retention) -> None:
    capture = subjects.stream_subjects()
    ages = {subjects.BOOK_STREAM: retention.book_seconds, subjects.MARKET_STREAM: retention.market_seconds,
            subjects.FILLS_STREAM: retention.fills_seconds}
    for name, captured in capture.items():
        config = StreamConfig(name=name, subjects=captured, retention=RetentionPolicy.LIMITS,
                              discard=DiscardPolicy.OLD, max_age=ages[name],
                              max_bytes=retention.book_bytes if name == subjects.BOOK_STREAM else -1,
                              storage=StorageType.MEMORY if name != subjects.FILLS_STREAM else StorageType.FILE,
                              num_replicas=retention.replicas)
        try:  # one made already (another process's retention, e.g. replicated on three) is kept as it is
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)
    buckets = {
        subjects.SNAPSHOT_BUCKET: KeyValueConfig(bucket=subjects.SNAPSHOT_BUCKET, history=1, storage=StorageType.MEMORY,
                                                 replicas=retention.replicas),
        subjects.INSTRUMENT_BUCKET: KeyValueConfig(bucket=subjects.INSTRUMENT_BUCKET, history=1,
                                                   replicas=retention.replicas),
        subjects.PUBLISHER_BUCKET: KeyValueConfig(bucket=subjects.PUBLISHER_BUCKET, history=1,
                                                  ttl=retention.publisher_ttl, replicas=retention.replicas),
        subjects.LEASE_BUCKET: KeyValueConfig(bucket=subjects.LEASE_BUCKET, history=1, ttl=retention.lease_seconds,
                                              replicas=retention.replicas),
    }
    for name, kv_config in buckets.items():
        try:
            await js.key_value(name)
        except BucketNotFoundError:
            await js.create_key_value(kv_config)
