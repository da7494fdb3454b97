"""Account leases: each account is traded by exactly one process at a time.

A lease is the key ``lease_key(venue, account)`` of the LEASE_BUCKET, whose entries expire
server-side ``ttl`` seconds after their last write (the bucket's TTL). A process acquires it only
where the key does not exist (KV create), renews it by compare-and-set on the revision it holds
(every ``ttl / 3``), and deletes it on a clean stop. A renewal that finds the revision moved or the
key gone has LOST it: trading the account stops at once. No clock is compared between machines:
the server expires the key, and this process trusts its lease only for ``ttl`` less a margin after
the last renewal it sent (monotonic clock), so a stalled process stops trading before another can
take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import nats.errors
import orjson
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from . import subjects
from .connect import Retention, connect, ensure_bus

log = logging.getLogger(__name__)

RENEWALS_PER_TTL = 3  # renewals (and, while waiting, acquisition attempts) per lease lifetime
BUS_FAILURES = (nats.errors.Error, OSError)  # the bus did not answer (a timeout, a dropped link)


class LeaseState(str, Enum):
    HELD = "held"  # this process holds the lease: it may trade the account (once prepared)
    WAITING = "waiting"  # another process holds it (``holder`` names it), or it was not tried yet
    LOST = "lost"  # held, then a renewal failed: trading stopped; the keeper tries to acquire again
    RELEASED = "released"  # given back on a clean stop


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a lease (the key's value; no secret in it): ``since``: epoch seconds it was acquired."""

    holder: str
    pid: int
    host: str
    since: float

    def to_json(self) -> dict[str, Any]:
        return {"holder": self.holder, "pid": self.pid, "host": self.host, "since": self.since}

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def decode(cls, raw: bytes | None) -> LeaseHolder | None:
        """The holder a key names; None for a value that is not one (never trusted further)."""
        try:
            data = orjson.loads(raw or b"")
            return cls(str(data["holder"]), int(data["pid"]), str(data["host"]), float(data["since"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        return f"{self.holder} (pid {self.pid} on {self.host})"


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    """One lease as this process sees it: ``holder`` is this process while HELD, the other one while
    WAITING (None: nobody, or not known yet); ``ready``: held and prepared (reconciled), so tradeable."""

    venue: str
    account: str
    state: LeaseState
    holder: LeaseHolder | None
    ready: bool
    ttl: float

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "account": self.account, "state": self.state.value, "ready": self.ready,
                "holder": None if self.holder is None else self.holder.to_json(), "ttl": self.ttl}


@dataclass
class LeaseBucket:
    """The bus connection leases are kept over, the bucket, and its TTL (the lease lifetime: the
    bucket's own, which may differ from the one asked for if another process made the bucket)."""

    client: Client
    kv: KeyValue
    ttl: float

    async def close(self) -> None:
        with contextlib.suppress(*BUS_FAILURES):
            await self.client.close()


async def open_lease_bucket(url: str, name: str, lease_seconds: float) -> LeaseBucket:
    """Connect to the bus at ``url`` as ``name`` and open the LEASE_BUCKET (made with a TTL of
    ``lease_seconds`` where missing)."""
    client = await connect(url, name=name)
    try:
        js = client.jetstream()
        await ensure_bus(js, Retention(lease_seconds=lease_seconds))
        kv = await js.key_value(subjects.LEASE_BUCKET)
        ttl = (await kv.status()).ttl or 0.0
    except BaseException:
        await client.close()
        raise
    if ttl <= 0:
        await client.close()
        raise RuntimeError(f"the bus bucket {subjects.LEASE_BUCKET} has no TTL: a lease in it would never lapse")
    if abs(ttl - lease_seconds) > 1e-6:
        log.warning("bus leases last %.1f s (the bucket's TTL), not the %.1f s configured", ttl, lease_seconds)
    return LeaseBucket(client, kv, ttl)


def default_holder() -> str:
    """This process on the bus when the config names none: host-pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


class AccountLease:
    """The lease of ``venue``/``account`` for the process named ``holder``. ``start()`` runs the
    keeper: it tries to acquire while not HELD and renews while HELD, every ``ttl / 3`` seconds.
    ``on_acquired`` (async: the account's reconciliation) runs after each acquisition while the
    keeper goes on renewing; the lease is ``tradeable`` only once it returned, and ``on_ready``
    hears it then. ``on_lost`` hears a lease that was held and is not any more."""

    def __init__(self, kv: KeyValue, venue: str, account: str, *, holder: str, ttl: float,
                 on_acquired: Callable[[], Awaitable[None]] | None = None,
                 on_lost: Callable[[LeaseStatus], None] | None = None,
                 on_ready: Callable[[LeaseStatus], None] | None = None) -> None:
        if ttl <= 0:
            raise ValueError(f"a lease lifetime must be positive, got {ttl}")
        self.kv = kv
        self.venue, self.account = venue, account
        self.key = subjects.lease_key(venue, account)
        self.ttl = ttl
        self.every = ttl / RENEWALS_PER_TTL
        # trusted this long after a renewal was sent: the server expires the key ttl after it got it
        self.trusted_for = ttl - min(ttl * 0.2, 2.0)
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.on_ready = on_ready
        self.state = LeaseState.WAITING
        self.holder: LeaseHolder | None = None
        self.ready = False
        self.acquisitions = 0
        self.renewed_at = -float("inf")  # monotonic: when the last write that succeeded was sent
        self._me = LeaseHolder(holder, os.getpid(), socket.gethostname(), 0.0)
        self._revision = 0
        self._held_as = self._me  # the value written at the last acquisition (renewals write it again)
        self._trusted_until = -float("inf")  # monotonic
        self._keeper: asyncio.Task[None] | None = None
        self._preparing: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()  # the first attempt ended: waiting, or held and prepared (or failed to)

    # ---- what it is --------------------------------------------------------------------------

    @property
    def status(self) -> LeaseStatus:
        return LeaseStatus(self.venue, self.account, self.state, self.holder, self.tradeable, self.ttl)

    def holds(self) -> bool:
        """HELD, and renewed recently enough that no other process can have taken it."""
        return self.state is LeaseState.HELD and time.monotonic() < self._trusted_until

    @property
    def tradeable(self) -> bool:
        return self.ready and self.holds()

    def refusal(self) -> str:
        """Why this process may not trade the account now (for an error), or "" when it may."""
        where = f"{self.venue}/{self.account}"
        if self.tradeable:
            return ""
        if self.holds():
            return f"{where} is being reconciled after this process took its lease: not traded yet"
        if self.state is LeaseState.WAITING and self.holder is not None:
            return f"{where} is traded by {self.holder.describe()}, which holds its lease: not traded here"
        if self.state is LeaseState.HELD or self.state is LeaseState.LOST:
            return f"{where}: this process lost its lease (not renewed in time): not traded here"
        return f"{where}: this process does not hold its lease ({self.state.value}): not traded here"

    # ---- one step each -----------------------------------------------------------------------

    async def acquire(self) -> LeaseState:
        """Take the lease if nobody holds it; else WAITING, naming who does."""
        if self.state is LeaseState.HELD:
            return self.state
        sent = time.monotonic()
        me = replace(self._me, since=time.time())
        try:
            revision = await self.kv.create(self.key, me.encode())
        except KeyWrongLastSequenceError:
            self.state, self.holder = LeaseState.WAITING, await self._current_holder()
            return self.state
        self._revision, self._trusted_until, self.renewed_at = revision, sent + self.trusted_for, sent
        self.state, self.holder, self.ready, self._held_as = LeaseState.HELD, me, False, me
        self.acquisitions += 1
        log.info("lease %s acquired by %s", self.key, me.describe())
        return self.state

    async def renew(self) -> LeaseState:
        """Renew a HELD lease on the revision held; a revision that moved (or a key gone) is LOST,
        and so is one the bus did not answer for until it can no longer be trusted."""
        if self.state is not LeaseState.HELD:
            return self.state
        sent = time.monotonic()
        try:
            revision = await self.kv.update(self.key, self._held_as.encode(), last=self._revision)
        except KeyWrongLastSequenceError:
            self._lose("its revision moved or it expired")
            return self.state
        except BUS_FAILURES as exc:
            if time.monotonic() >= self._trusted_until:
                self._lose(f"the bus did not answer ({type(exc).__name__})")
            return self.state
        self._revision, self._trusted_until, self.renewed_at = revision, sent + self.trusted_for, sent
        return self.state

    async def release(self) -> None:
        """Give a HELD lease back (deleted on the revision held: never another's)."""
        self._stop_preparing()
        if self.state is not LeaseState.HELD:
            return
        self.state, self.ready = LeaseState.RELEASED, False
        with contextlib.suppress(KeyWrongLastSequenceError, *BUS_FAILURES):
            await self.kv.delete(self.key, last=self._revision)
            log.info("lease %s released", self.key)

    async def _current_holder(self) -> LeaseHolder | None:
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:  # expired or released meanwhile: the next attempt may take it
            return None
        return LeaseHolder.decode(entry.value)

    def _lose(self, why: str) -> None:
        self._stop_preparing()
        self.state, self.ready = LeaseState.LOST, False
        log.warning("lease %s lost: %s; trading %s/%s stopped", self.key, why, self.venue, self.account)
        self._tell(self.on_lost, "on_lost")

    def _tell(self, listener: Callable[[LeaseStatus], None] | None, what: str) -> None:
        if listener is not None:
            try:
                listener(self.status)
            except Exception:  # a listener's bug must not stop the keeper
                log.exception("lease %s: %s failed", self.key, what)

    # ---- the keeper --------------------------------------------------------------------------

    def start(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep(), name=f"lease:{self.key}")

    async def settled(self, within: float) -> None:
        """Until the first attempt ended: WAITING, or HELD and prepared (or its preparation failed);
        at most ``within`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), within)

    async def stop(self, release: bool = True) -> None:
        """Stop the keeper; ``release``: give the lease back (False: let it lapse, as a crash would)."""
        self._stop_preparing()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
            self._keeper = None
        if release:
            await self.release()

    async def _keep(self) -> None:
        while True:
            try:
                if self.state is LeaseState.HELD:
                    await self.renew()
                else:
                    await self.acquire()
            except BUS_FAILURES as exc:
                log.warning("lease %s: the bus did not answer (%s)", self.key, type(exc).__name__)
            if self.state is LeaseState.HELD and not self.ready and self._preparing is None:
                self._preparing = asyncio.create_task(self._prepare(self.acquisitions), name=f"lease-prepare:{self.key}")
            elif self.state is not LeaseState.HELD:
                self._settled.set()
            await asyncio.sleep(self.every)

    async def _prepare(self, acquisition: int) -> None:
        """``on_acquired`` for this acquisition; ready only if the lease is still the one it ran for."""
        try:
            if self.on_acquired is not None:
                await self.on_acquired()
            if self.acquisitions == acquisition and self.holds():
                self.ready = True
                self._tell(self.on_ready, "on_ready")
        except Exception:
            log.exception("lease %s: preparing the account after acquiring it failed; retried", self.key)
        finally:
            if self._preparing is asyncio.current_task():
                self._preparing = None
            self._settled.set()

    def _stop_preparing(self) -> None:
        if self._preparing is not None:
            self._preparing.cancel()
            self._preparing = None
