"""REST rate limits: the limiter that paces requests by a venue's limit table.

A venue's table (``SPEC.limits`` in ``venues/<id>.py``; the types in ``venues/spec/limits.py``)
names its pools (sliding windows, or a decaying counter for Kraken), what each endpoint costs in
which pools, and how the venue says a limit was breached. One :class:`Limiter` per venue (per egress IP) serves every account trading there:

* A request is charged to all its pools at once, or waits; a pool keyed by account, symbol or
  endpoint gets one counter per key.
* Fairness, reserve-ahead FIFO: a request goes when each of its pools can take it on top of
  everything still queued ahead of it in that pool. Requests competing for a pool are granted in
  arrival order; a later request passes a blocked one only with capacity the blocked one cannot
  need (a cancel, weight 1, passes an order held by Binance's ORDERS/10 s while REQUEST_WEIGHT has
  room for both), so nobody waits longer because of someone who asked later, and nobody starves.
* Waits are timers at the exact instant a pool frees up; nothing polls.
* A breach reported by the venue (``observe`` a reply, or ``penalize``) holds requests back for
  as long as the venue asks.

A window's limit holds for every half-open interval ``[t, t + seconds)``: what was granted at
``t`` stops counting at ``t + seconds``. That is at least as strict as a venue's fixed windows.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ...errors import ConfigError
from .limits import LimitTable, Pool, Reply, Scope, Window

# seconds added to every limit window (and held back from every decaying counter): requests granted
# a window apart may arrive closer than that when the process stalls between grant and send (a
# burst's journal fsyncs, GC, a loaded machine); stalls of 100 ms and more were measured under load
TRANSIT_MARGIN = 0.25
_EPS = 1e-9  # units: float sums of weights drift by far less than this
_RESOLUTION = 4096  # a window keeps at most this many entries; closer grants merge (later time)


# ---- clocks --------------------------------------------------------------------------------


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Where the limiter reads the time and sets its timers; tests pass a fake one."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Cancellable: ...


class LoopClock:
    """The running event loop's monotonic clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_at(when, callback)


# ---- pool counters -------------------------------------------------------------------------


class _WindowCounter:
    """Grants within the last ``seconds``, oldest first, with their running total."""

    __slots__ = ("_log", "_resolution", "_total", "limit", "seconds")

    def __init__(self, limit: float, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._resolution = seconds / _RESOLUTION
        self._log: deque[tuple[float, float]] = deque()
        self._total = 0.0

    def ready_at(self, need: float, now: float) -> float:
        """Earliest time from now when ``need`` more units fit, if nothing else is granted."""
        self._expire(now)
        excess = self._total + need - self.limit
        if excess <= _EPS:
            return now
        if need > self.limit + _EPS:
            return math.inf
        freed = 0.0
        for at, units in self._log:
            freed += units
            if freed >= excess - _EPS:
                return at + self.seconds
        return math.inf

    def level(self, now: float) -> float:
        """Units counted in the window now."""
        self._expire(now)
        return self._total

    def commit(self, units: float, now: float) -> None:
        self._total += units
        # Merging into the previous entry moves it later: it then stops counting later, never sooner.
        if self._log and now - self._log[-1][0] < self._resolution:
            units += self._log.pop()[1]
        self._log.append((now, units))

    def _expire(self, now: float) -> None:
        log = self._log
        while log and log[0][0] + self.seconds <= now:
            self._total -= log.popleft()[1]
        if not log:
            self._total = 0.0


class _DecayingCounter:
    __slots__ = ("_at", "_level", "decay", "limit")

    def __init__(self, limit: float, decay: float) -> None:
        self.limit = limit
        self.decay = decay
        self._level = 0.0
        self._at = 0.0

    def level(self, now: float) -> float:
        return max(0.0, self._level - self.decay * (now - self._at))

    def ready_at(self, need: float, now: float) -> float:
        excess = self.level(now) + need - self.limit
        if excess <= _EPS:
            return now
        if need > self.limit + _EPS:
            return math.inf
        return now + excess / self.decay

    def commit(self, units: float, now: float) -> None:
        self._level = self.level(now) + units
        self._at = now


_Counter = _WindowCounter | _DecayingCounter
_Charges = tuple[tuple[_Counter, float], ...]


def _pool_identity(pool: Pool) -> tuple[Any, ...]:
    """What makes two table versions' pools the same counter (a served limit changes only the limit)."""
    shape = pool.seconds if isinstance(pool, Window) else "decaying"
    return (pool.name, shape, pool.scope, pool.per_symbol, pool.per_endpoint)


@dataclass(slots=True, eq=False)
class _Run:
    """Consecutive queued requests with the same charges, oldest first."""

    method: str
    path: str
    params: Mapping[str, Any]
    account: str
    symbol: str
    charges: _Charges
    waiters: deque[asyncio.Future[None]]


class Limiter:
    """Paces one venue's REST requests by its :class:`LimitTable` (see the module docstring).

    ``share`` is the fraction of each pool this process may use (other clients on the same IP or
    account take the rest); ``margin`` seconds are added to every window (and held back from
    every decaying counter) so that variation in transit time cannot squeeze two grants a window
    apart here into less than a window at the venue.
    """

    def __init__(
        self, table: LimitTable, *, clock: Clock | None = None, share: float = 1.0, margin: float = 0.0
    ) -> None:
        if not 0.0 < share <= 1.0:
            raise ConfigError(f"{table.venue} limiter: share must be in (0, 1], got {share}")
        if margin < 0.0:
            raise ConfigError(f"{table.venue} limiter: margin must not be negative, got {margin}")
        self.table = table
        self._clock: Clock = clock or LoopClock()
        self._share = share
        self._margin = margin
        self._counters: dict[tuple[Any, ...], _Counter] = {}
        self._queue: deque[_Run] = deque()
        self._timer: Cancellable | None = None
        self._timer_at = math.inf
        self._held_until = 0.0
        self._account_held_until: dict[str, float] = {}

    @property
    def waiting(self) -> int:
        """Requests queued now."""
        return sum(len(run.waiters) for run in self._queue)

    async def acquire(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, account: str = "", symbol: str = ""
    ) -> bool:
        """Wait until the request may be sent, then count it; True if it had to wait. ``params``
        are its query and body fields (some costs depend on them); ``symbol`` is the venue's id of
        the instrument it trades (pools kept per symbol)."""
        params = params or {}
        charges = self._charges(method, path, params, account, symbol)
        now = self._clock.now()
        if not self._queue and self._held(account) <= now and self._fits(charges, {}, now):
            self._commit(charges, now)
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        last = self._queue[-1] if self._queue else None
        if last is not None and last.charges == charges and last.account == account:
            last.waiters.append(waiter)
        else:
            self._queue.append(_Run(method, path, params, account, symbol, charges, deque([waiter])))
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():
                self._forget(waiter)
            # else the grant came just before the cancel: it was counted and stays counted
            raise
        return True

    def headroom(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, account: str = "", symbol: str = "", most: int = 100
    ) -> int:
        """How many more such requests would be granted now without waiting (at most ``most``):
        the budget a router may spend on one venue without queueing."""
        charges = self._charges(method, path, params or {}, account, symbol)
        now = self._clock.now()
        if self._queue or self._held(account) > now:
            return 0
        n = 0
        while n < most and self._fits(charges, {c: units * n for c, units in charges}, now):
            n += 1
        return n

    def usage(self) -> dict[str, float]:
        """Pool name -> the share of it in use now (0..1): the fullest of its counters where the
        pool keeps one per account, symbol or endpoint; 0 for a pool nothing was counted in yet.
        Read-only: nothing is granted or queued."""
        now = self._clock.now()
        used = dict.fromkeys((pool.name for pool in self.table.pools), 0.0)
        for key, counter in self._counters.items():
            name = key[0][0]
            if name in used and counter.limit > 0:
                used[name] = max(used[name], min(1.0, counter.level(now) / counter.limit))
        return used

    def penalize(self, seconds: float, *, account: str | None = None) -> None:
        """Hold every request (or one account's) back for ``seconds``: the venue said so."""
        until = self._clock.now() + max(0.0, seconds)
        if account is None:
            self._held_until = max(self._held_until, until)
        else:
            self._account_held_until[account] = max(self._account_held_until.get(account, 0.0), until)
        if self._queue:
            self._dispatch()

    def observe(self, reply: Reply, *, account: str | None = None) -> float | None:
        """Check a venue's reply for a rate-limit breach; on one, hold requests back as long as
        the venue asks and return that wait."""
        wait = self.table.breach.wait(reply)
        if wait is not None:
            self.penalize(wait, account=account)
        return wait

    def set_table(self, table: LimitTable) -> None:
        """Switch to a new version of the venue's table (served limits): counters of pools that
        are still there keep what they have counted."""
        self.table = table
        specs = {_pool_identity(pool): self._spec(pool) for pool in table.pools}
        for key, counter in list(self._counters.items()):
            spec = specs.get(key[0])
            if spec is None:
                del self._counters[key]
            else:
                counter.limit = spec[0]
        for run in self._queue:
            run.charges = self._charges(run.method, run.path, run.params, run.account, run.symbol)
        if self._queue:
            self._dispatch()

    # ---- internals -----------------------------------------------------------------------

    def _charges(self, method: str, path: str, params: Mapping[str, Any], account: str, symbol: str) -> _Charges:
        key, cost = self.table.resolve(method, path, params)
        charges = []
        for pool in self.table.pools:
            units = cost.get(pool.name, 0.0)
            if units <= 0.0:
                continue
            counter = self._counter(pool, account, symbol, key)
            if units > counter.limit + _EPS:
                raise ConfigError(
                    f"{self.table.venue}: {method.upper()} {path} costs {units:g} in pool {pool.name}, "
                    f"more than it ever holds ({counter.limit:g})"
                )
            charges.append((counter, units))
        return tuple(charges)

    def _counter(self, pool: Pool, account: str, symbol: str, endpoint: str) -> _Counter:
        key = (
            _pool_identity(pool),
            account if pool.scope is Scope.ACCOUNT else "",
            symbol if pool.per_symbol else "",
            endpoint if pool.per_endpoint else "",
        )
        counter = self._counters.get(key)
        if counter is None:
            limit, shape = self._spec(pool)
            counter = _WindowCounter(limit, shape) if isinstance(pool, Window) else _DecayingCounter(limit, shape)
            self._counters[key] = counter
        return counter

    def _spec(self, pool: Pool) -> tuple[float, float]:
        """(limit, window seconds or decay per second) after the share and margin."""
        if isinstance(pool, Window):
            return pool.limit * self._share, pool.seconds + self._margin
        limit = pool.limit * self._share - pool.decay * self._margin
        if limit <= 0.0:
            raise ConfigError(f"{self.table.venue}: margin {self._margin} s leaves nothing of pool {pool.name}")
        return limit, pool.decay

    def _held(self, account: str) -> float:
        return max(self._held_until, self._account_held_until.get(account, 0.0))

    @staticmethod
    def _fits(charges: _Charges, ahead: Mapping[_Counter, float], now: float) -> bool:
        return all(c.ready_at(units + ahead.get(c, 0.0), now) <= now for c, units in charges)

    @staticmethod
    def _commit(charges: _Charges, now: float) -> None:
        for counter, units in charges:
            counter.commit(units, now)

    def _dispatch(self) -> None:
        """Grant what may go now, in queue order, and set the timer for the next change."""
        now = self._clock.now()
        ahead: dict[_Counter, float] = {}
        wake = math.inf
        kept: deque[_Run] = deque()
        for run in self._queue:
            held = self._held(run.account)
            while run.waiters and held <= now and self._fits(run.charges, ahead, now):
                waiter = run.waiters.popleft()
                if not waiter.done():
                    self._commit(run.charges, now)
                    waiter.set_result(None)
            if not run.waiters:
                continue
            kept.append(run)
            ready = max([held, *(c.ready_at(units + ahead.get(c, 0.0), now) for c, units in run.charges)])
            wake = min(wake, ready)
            for counter, units in run.charges:
                ahead[counter] = ahead.get(counter, 0.0) + units * len(run.waiters)
        self._queue = kept
        self._arm(wake)

    def _arm(self, wake: float) -> None:
        if wake == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = wake
        if wake < math.inf:
            self._timer = self._clock.call_at(wake, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._dispatch()

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        for run in self._queue:
            if waiter in run.waiters:
                run.waiters.remove(waiter)
                break
        self._dispatch()


class VenueLimiters:
    """One :class:`Limiter` per venue, made on first use from the venue's table: everything one
    desk sends a venue (its feeds' metadata and snapshots, every account's requests) waits in
    the same queue, as the venue counts it (Binance counts REST weight per IP, so the public feed
    and the accounts on one machine spend one budget)."""

    def __init__(self, tables: Callable[[str], LimitTable | None], *, margin: float = TRANSIT_MARGIN,
                 clock: Clock | None = None) -> None:
        """``tables``: a venue's limit table (None: a venue without REST limits to pace)."""
        self._tables = tables
        self._margin = margin
        self._clock = clock
        self._limiters: dict[str, Limiter | None] = {}

    def made(self) -> dict[str, Limiter]:
        """venue -> its limiter, for the venues one was made for so far."""
        return {venue: limiter for venue, limiter in self._limiters.items() if limiter is not None}

    def __call__(self, venue: str) -> Limiter | None:
        if venue not in self._limiters:
            table = self._tables(venue)
            self._limiters[venue] = Limiter(table, clock=self._clock, margin=self._margin) if table is not None else None
        return self._limiters[venue]
