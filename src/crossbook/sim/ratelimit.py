"""The simulated venues enforce each exchange's REST limits.

The limits are the venue's table (``SPEC.limits`` of ``venues/<id>.py``, the one crossbook's limiter
paces by): windows are counted the way the exchanges count them, in fixed intervals aligned to the
epoch (Binance's "per minute" is per clock minute), decaying counters (Kraken) decay continuously.
A request over any pool is refused and charged to nothing. How each venue refuses, which header
names the key a request is charged to and which parameter its instrument, are the venue module's
(``SimVenue.rate_limit_refusal``, ``api_key_header``, ``limit_symbol_param``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from aiohttp import web

from ..venues.spec.limits import Decaying, LimitTable, Pool, Scope, Window


@dataclass(frozen=True, slots=True)
class Over:
    """A request over the limit: the pool it broke and the seconds until it would fit."""

    pool: str
    wait: float


def refusal(payload: Any, status: int, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json", headers=headers)


def retry_after(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


@dataclass
class _Fixed:
    limit: float
    seconds: float
    start: float = 0.0
    used: float = 0.0

    def room(self, now: float) -> float:
        if now >= self.start + self.seconds:
            self.start, self.used = now - now % self.seconds, 0.0
        return self.limit - self.used

    def wait(self, now: float, units: float) -> float:
        return self.start + self.seconds - now

    def take(self, units: float) -> None:
        self.used += units


@dataclass
class _Decay:
    limit: float
    decay: float
    level: float = 0.0
    at: float = 0.0

    def room(self, now: float) -> float:
        self.level, self.at = max(0.0, self.level - self.decay * (now - self.at)), now
        return self.limit - self.level

    def wait(self, now: float, units: float) -> float:
        return max(0.0, self.level + units - self.limit) / self.decay

    def take(self, units: float) -> None:
        self.level += units


@dataclass
class VenueLimits:
    """One simulated venue's limits; ``check`` charges a request or says which pool it broke."""

    table: LimitTable
    clock: Callable[[], float] = time.time
    _counters: dict[tuple[Any, ...], _Fixed | _Decay] = field(default_factory=dict)
    retry_until: float = 0.0  # the client was told to wait until then
    banned_until: float = 0.0

    def check(self, method: str, path: str, params: Mapping[str, Any], account: str, symbol: str) -> Over | None:
        now = self.clock()
        key, cost = self.table.resolve(method, path, params)
        charged = []
        for pool in self.table.pools:
            units = cost.get(pool.name, 0.0)
            if units <= 0.0:
                continue
            counter = self._counter(pool, account, symbol, key)
            if counter.room(now) + 1e-9 < units:
                return Over(pool.name, counter.wait(now, units))
            charged.append((counter, units))
        for counter, units in charged:
            counter.take(units)
        return None

    def _counter(self, pool: Pool, account: str, symbol: str, endpoint: str) -> _Fixed | _Decay:
        key = (pool.name, getattr(pool, "seconds", None), account if pool.scope is Scope.ACCOUNT else "",
               symbol if pool.per_symbol else "", endpoint if pool.per_endpoint else "")
        counter = self._counters.get(key)
        if counter is None:
            counter = _Fixed(pool.limit, pool.seconds) if isinstance(pool, Window) else _Decay(pool.limit, pool.decay)
            self._counters[key] = counter
        return counter


def scaled(table: LimitTable, pools: set[str], *, count: float = 1.0, time_factor: float = 1.0) -> LimitTable:
    """``table`` with the limit of each of ``pools`` times ``count`` and its window (or decay
    period) times ``time_factor``: the same structure at another scale (tests run a burst of
    orders in seconds)."""
    def scale(pool: Pool) -> Pool:
        if pool.name not in pools:
            return pool
        if isinstance(pool, Window):
            return replace(pool, limit=pool.limit * count, seconds=pool.seconds * time_factor)
        assert isinstance(pool, Decaying)
        return replace(pool, limit=pool.limit * count, decay=pool.decay * count / time_factor)

    return replace(table, pools=tuple(scale(p) for p in table.pools))
