"""The simulated venues enforce each exchange's REST limits and refuse in the exchange's own way.

The limits are the venue's table (``LIMITS`` in ``venues/<id>.py``, the one crossbook's limiter
paces by): windows are counted the way the exchanges count them, in fixed intervals aligned to the
epoch (Binance's "per minute" is per clock minute), decaying counters (Kraken) decay continuously.
A request over any pool is refused and charged to nothing.

How each venue refuses (``REFUSALS``, one row per venue, from the venues' rate-limit pages):

=========  ======  ============================================================================
venue      status  body, headers
=========  ======  ============================================================================
binance    429     ``{"code": -1003 | -1015, "msg"}``, Retry-After (none for the ORDERS pools);
           418     a client still sending during a Retry-After is banned: ``-1003 ... IP banned
                   until <ms>``, Retry-After
okx        429     ``{"code": "50011", "msg": "Too Many Requests"}``
bybit      200     ``{"retCode": 10006, "retMsg": "Too many visits!"}``, X-Bapi-Limit-Status 0,
                   X-Bapi-Limit-Reset-Timestamp
dydx       429     ``{"errors": [{"msg": "Too many requests"}]}``, Retry-After
coinbase   429     ``{"error": "rate_limit_exceeded", "message": "Too many requests"}``
kraken     200     ``{"error": ["EAPI:Rate limit exceeded"]}``; ``EOrder:Rate limit exceeded`` when
                   the per-pair trading counter is full
kucoin     429     ``{"code": "429000", "msg": "Too Many Requests"}``, gw-ratelimit-reset (ms)
gate       429     ``{"label": "TOO_MANY_REQUESTS", "message"}``, X-Gate-RateLimit-Reset-Timestamp
mexc       429     ``{"code": 429, "msg": "Too Many Requests"}``, Retry-After
bitget     429     ``{"code": "429", "msg": "Too Many Requests"}``
=========  ======  ============================================================================

Which account a request is charged to comes from the venue's key header (``KEY_HEADERS``; Coinbase's
is the JWT's ``sub``), which instrument from the venue's own parameter (``SYMBOL_PARAMS``).
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from aiohttp import web

from ..trading.limiter import Decaying, LimitTable, Pool, Scope, Window

KEY_HEADERS: dict[str, str] = {
    "binance": "X-MBX-APIKEY",
    "okx": "OK-ACCESS-KEY",
    "bybit": "X-BAPI-API-KEY",
    "coinbase": "Authorization",
    "kraken": "API-Key",
    "kucoin": "KC-API-KEY",
    "gate": "KEY",
    "mexc": "X-MEXC-APIKEY",
    "bitget": "ACCESS-KEY",
}
SYMBOL_PARAMS: dict[str, str] = {"okx": "instId", "gate": "currency_pair", "kraken": "pair"}


@dataclass(frozen=True, slots=True)
class Over:
    """A request over the limit: the pool it broke and the seconds until it would fit."""

    pool: str
    wait: float


def _json(payload: Any, status: int, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json", headers=headers)


def _retry_after(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def _binance(over: Over, now: float) -> web.Response:
    if over.pool == "ORDERS":
        return _json({"code": -1015, "msg": "Too many new orders; current limit exceeded."}, 429)
    return _json({"code": -1003, "msg": "Too much request weight used; please use WebSocket Streams for live updates to avoid polling the API."},
                 429, _retry_after(over.wait))


def _bybit(over: Over, now: float) -> web.Response:
    reset = int((now + over.wait) * 1000)
    return _json({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": int(now * 1000)},
                 200, {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset)})


def _kraken(over: Over, now: float) -> web.Response:
    error = "EOrder:Rate limit exceeded" if over.pool == "trading" else "EAPI:Rate limit exceeded"
    return _json({"error": [error], "result": {}}, 200)


REFUSALS: dict[str, Callable[[Over, float], web.Response]] = {
    "binance": _binance,
    "okx": lambda over, now: _json({"code": "50011", "msg": "Too Many Requests", "data": []}, 429),
    "bybit": _bybit,
    "dydx": lambda over, now: _json({"errors": [{"msg": "Too many requests"}]}, 429, _retry_after(over.wait)),
    "coinbase": lambda over, now: _json({"error": "rate_limit_exceeded", "message": "Too many requests"}, 429),
    "kraken": _kraken,
    "kucoin": lambda over, now: _json({"code": "429000", "msg": "Too Many Requests"}, 429,
                                      {"gw-ratelimit-remaining": "0", "gw-ratelimit-reset": str(math.ceil(over.wait * 1000))}),
    "gate": lambda over, now: _json({"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"}, 429,
                                    {"X-Gate-RateLimit-Reset-Timestamp": str(math.ceil((now + over.wait) * 1000))}),
    "mexc": lambda over, now: _json({"code": 429, "msg": "Too Many Requests"}, 429, _retry_after(over.wait)),
    "bitget": lambda over, now: _json({"code": "429", "msg": "Too Many Requests", "requestTime": int(now * 1000), "data": None}, 429),
}
BANS: dict[str, float] = {"binance": 120.0}  # venue -> seconds an IP is banned for ignoring Retry-After


def _binance_ban(until: float) -> web.Response:
    ms = int(until * 1000)
    return _json({"code": -1003, "msg": f"Way too much request weight used; IP banned until {ms}. Please use WebSocket Streams for live updates to avoid bans."},
                 418, _retry_after(until - time.time()))


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
    _retry_until: float = 0.0
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

    def refuse(self, venue: str, over: Over) -> web.Response:
        """The venue's reply to a request over ``over.pool``; a venue that bans does so when the
        client keeps sending while it was told to wait."""
        now = self.clock()
        if venue in BANS and now < self._retry_until:
            self.banned_until = now + BANS[venue]
            return _binance_ban(self.banned_until)
        self._retry_until = max(self._retry_until, now + over.wait)
        return REFUSALS[venue](over, now)

    def _counter(self, pool: Pool, account: str, symbol: str, endpoint: str) -> _Fixed | _Decay:
        key = (pool.name, getattr(pool, "seconds", None), account if pool.scope is Scope.ACCOUNT else "",
               symbol if pool.per_symbol else "", endpoint if pool.per_endpoint else "")
        counter = self._counters.get(key)
        if counter is None:
            counter = _Fixed(pool.limit, pool.seconds) if isinstance(pool, Window) else _Decay(pool.limit, pool.decay)
            self._counters[key] = counter
        return counter


def key_of(venue: str, headers: Mapping[str, str]) -> str:
    """The API key a request presents (the account's counters are kept by key)."""
    header = KEY_HEADERS.get(venue)
    value = headers.get(header, "") if header else ""
    if venue == "coinbase" and value.startswith("Bearer "):
        return _jwt_subject(value[len("Bearer "):])
    return value


def _jwt_subject(token: str) -> str:
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return ""
    return str(claims.get("sub", "")) if isinstance(claims, dict) else ""


def symbol_of(venue: str, params: Mapping[str, Any]) -> str:
    return str(params.get(SYMBOL_PARAMS.get(venue, "symbol"), ""))


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
