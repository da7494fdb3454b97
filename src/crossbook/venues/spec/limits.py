"""A venue's REST limits as one table (``VenueSpec.limits``): its pools (sliding windows, or a
decaying counter for Kraken), what each endpoint costs in which pools, and how the venue says a
limit was breached. ``venues.spec.limiter.Limiter`` paces requests by such a table; the simulators
enforce it.

A window's limit holds for every half-open interval ``[t, t + seconds)``: what was granted at
``t`` stops counting at ``t + seconds``. That is at least as strict as a venue's fixed windows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ...errors import ConfigError

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

ORDER_AGE = "order_age"
"""A parameter the caller adds to a cancel: seconds the order has rested (Kraken's cancel cost)."""


class Scope(str, Enum):
    """Whose counter a pool is: one per egress IP (one limiter) or one per account."""

    IP = "ip"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` units in any ``seconds``-long interval."""

    name: str
    limit: float
    seconds: float
    scope: Scope = Scope.IP
    per_symbol: bool = False
    per_endpoint: bool = False


@dataclass(frozen=True, slots=True)
class Decaying:
    """A counter raised by each request's cost that falls ``decay`` units per second; a request
    goes only if the counter stays at or below ``limit`` (Kraken)."""

    name: str
    limit: float
    decay: float
    scope: Scope = Scope.ACCOUNT
    per_symbol: bool = False
    per_endpoint: bool = False


Pool = Window | Decaying
Cost = Mapping[str, float]
"""Units a request takes from each pool, by pool name (every pool of that name is charged)."""


@dataclass(frozen=True, slots=True)
class ByTier:
    """A cost set by a numeric request parameter: the first tier whose bound the value does not
    exceed; ``above`` past the last bound or for a value that is not a number."""

    param: str
    tiers: tuple[tuple[float, Cost], ...]
    absent: Cost
    above: Cost

    def __post_init__(self) -> None:
        bounds = [bound for bound, _ in self.tiers]
        if bounds != sorted(bounds):
            raise ConfigError(f"tiers of {self.param} must rise: {bounds}")

    def resolve(self, params: Mapping[str, Any]) -> Cost:
        if self.param not in params:
            return self.absent
        try:
            value = float(params[self.param])
        except (TypeError, ValueError):
            return self.above
        return next((cost for bound, cost in self.tiers if value <= bound), self.above)

    def costs(self) -> Iterable[Cost]:
        return (self.absent, self.above, *(cost for _, cost in self.tiers))


@dataclass(frozen=True, slots=True)
class ByParam:
    """A cost set by whether a request carries a parameter, and optionally by its value."""

    param: str
    present: Cost
    absent: Cost
    values: Mapping[str, Cost] = field(default_factory=dict)

    def resolve(self, params: Mapping[str, Any]) -> Cost:
        if self.param not in params:
            return self.absent
        return self.values.get(str(params[self.param]), self.present)

    def costs(self) -> Iterable[Cost]:
        return (self.present, self.absent, *self.values.values())


Charge = Cost | ByTier | ByParam


def _costs_of(charge: Charge) -> Iterable[Cost]:
    return charge.costs() if isinstance(charge, ByTier | ByParam) else (charge,)


def _resolve(charge: Charge, params: Mapping[str, Any]) -> Cost:
    return charge.resolve(params) if isinstance(charge, ByTier | ByParam) else charge


# ---- breaches ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What a venue answered: enough to tell a rate-limit breach and the wait it asks for."""

    status: int
    headers: Mapping[str, str]
    body: bytes | str
    received_at: float = field(default_factory=time.time)  # unix seconds, for absolute reset times


@dataclass(frozen=True, slots=True)
class Breach:
    """How a venue says a limit was breached, and how long it asks to wait.

    A reply is a breach when its HTTP status, its body's code (``code_field`` of a JSON object)
    or a substring of its body is listed. The wait is what the reply names (``Retry-After``, a
    reset header, a ban end in the body, the latest of them), else the listed wait of the code,
    then the message, then the status.
    """

    statuses: Mapping[int, float]
    code_field: str = ""
    codes: Mapping[str, float] = field(default_factory=dict)
    messages: Mapping[str, float] = field(default_factory=dict)
    reset_at: str = ""  # header: unix ms when the limit resets
    reset_in: str = ""  # header: ms until the limit resets
    until: str = ""  # regex, one group: unix time (s or ms) a ban ends, found in the body

    def wait(self, reply: Reply) -> float | None:
        """Seconds to hold requests back, or None when the reply is no rate-limit breach."""
        text = reply.body.decode("utf-8", "replace") if isinstance(reply.body, bytes) else reply.body
        code = self._code(text)
        message = next((m for m in self.messages if m in text), None)
        if code is None and message is None and reply.status not in self.statuses:
            return None
        named = self._named_wait(reply, text)
        if named is not None and named > 0.0:  # a reset already past (clocks differ) gets the listed wait
            return named
        if code is not None:
            return self.codes[code]
        if message is not None:
            return self.messages[message]
        return self.statuses[reply.status]

    def _code(self, text: str) -> str | None:
        if not self.code_field or not any(code in text for code in self.codes) or not text.lstrip().startswith("{"):
            return None
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        code = str(body.get(self.code_field)) if isinstance(body, dict) else None
        return code if code in self.codes else None

    def _named_wait(self, reply: Reply, text: str) -> float | None:
        headers = {k.lower(): v for k, v in reply.headers.items()}
        waits = []
        retry_after = _number(headers.get("retry-after"))
        if retry_after is not None:
            waits.append(retry_after)
        reset_at = _number(headers.get(self.reset_at.lower())) if self.reset_at else None
        if reset_at is not None:
            waits.append(reset_at / 1000.0 - reply.received_at)
        reset_in = _number(headers.get(self.reset_in.lower())) if self.reset_in else None
        if reset_in is not None:
            waits.append(reset_in / 1000.0)
        found = re.search(self.until, text) if self.until else None
        if found is not None:
            end = float(found.group(1))
            waits.append((end / 1000.0 if end > 1e11 else end) - reply.received_at)  # ms or s
        return max(waits) if waits else None


def request_params(query: str, body: Any) -> dict[str, Any]:
    """A request's query and body fields, for the endpoint costs that depend on them."""
    params: dict[str, Any] = dict(parse_qsl(query))
    if isinstance(body, str) and body:
        if body.lstrip().startswith("{"):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = {}
            if isinstance(decoded, dict):
                params.update(decoded)
        else:
            params.update(parse_qsl(body))
    return params


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: no venue here sends one


# ---- WebSocket subscribe limits -------------------------------------------------------------

WS = "WS"
"""The method under which a :class:`SubscribeLimits` table keys what a client sends on a socket."""
SUBSCRIBE_FRAME = "subscribe"  # a subscribe or unsubscribe request: counts as a message and a subscribe
OTHER_FRAME = "message"  # anything else the client sends (an application ping, a pong)


@dataclass(frozen=True, slots=True)
class SubscribeLimits:
    """What one public WebSocket connection of a feed may send, as the venue documents it:
    ``messages`` counts every frame the client sends (subscribes and pings alike), ``subscribes``
    only subscribe and unsubscribe requests; a request carries at most ``topics_per_message``
    topics and a connection holds at most ``topics_per_connection``. Over any of them the venue
    refuses (an error frame or a closed socket)."""

    source: str  # where the numbers come from
    messages: Window | None = None
    subscribes: Window | None = None
    topics_per_message: int | None = None
    topics_per_connection: int | None = None

    def table(self, venue: str) -> LimitTable:
        """The per-connection windows as a limit table (``WS SUBSCRIBE_FRAME`` / ``WS OTHER_FRAME``),
        for the client's pacing and the simulator's counting alike."""
        windows = tuple(w for w in (self.messages, self.subscribes) if w is not None)
        every = {self.messages.name: 1.0} if self.messages is not None else {}
        subscribe = {self.subscribes.name: 1.0} if self.subscribes is not None else {}
        return LimitTable(venue, windows, {f"{WS} {SUBSCRIBE_FRAME}": subscribe}, {}, Breach(statuses={}),
                          every_request=every)


# ---- the table -----------------------------------------------------------------------------


_INTERVALS = {"SECOND": 1.0, "MINUTE": MINUTE, "HOUR": HOUR, "DAY": DAY}


@dataclass(frozen=True, eq=False)
class LimitTable:
    """One venue's REST limits. ``endpoints`` keys are ``"METHOD /path"``; a ``{name}`` segment
    matches one path segment (templates are tried in table order, after exact keys). Endpoints
    not listed cost ``default``; ``every_request`` is added to every request's cost."""

    venue: str
    pools: tuple[Pool, ...]
    endpoints: Mapping[str, Charge]
    default: Charge
    breach: Breach
    every_request: Cost = field(default_factory=dict)
    # feed id -> what one public WebSocket connection of that feed may send (none listed: no limit known)
    subscribe: Mapping[str, SubscribeLimits] = field(default_factory=dict)
    _templates: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = {p.name for p in self.pools}
        charges = [*self.endpoints.items(), ("default", self.default), ("every request", self.every_request)]
        for key, charge in charges:
            for cost in _costs_of(charge):
                unknown = set(cost) - names
                if unknown:
                    raise ConfigError(f"{self.venue} limits: {key} charges unknown pool(s) {sorted(unknown)}")
        for pool in self.pools:
            if isinstance(pool, Decaying) and pool.decay <= 0:
                raise ConfigError(f"{self.venue} limits: pool {pool.name} must decay (decay={pool.decay})")
        templates = tuple((_template(key), key) for key in self.endpoints if "{" in key)
        object.__setattr__(self, "_templates", templates)

    def resolve(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> tuple[str, Cost]:
        """The table key a request falls under ("*" when unlisted) and its cost."""
        key = f"{method.upper()} {path}"
        if key not in self.endpoints:
            key = next((k for rx, k in self._templates if rx.fullmatch(key)), "*")
        cost = dict(_resolve(self.endpoints.get(key, self.default), params or {}))
        for name, units in self.every_request.items():
            cost[name] = cost.get(name, 0.0) + units
        return key, cost

    def with_served(self, rate_limits: Iterable[Mapping[str, Any]]) -> LimitTable:
        """This table with the limits a venue serves in Binance's exchangeInfo form,
        ``[{rateLimitType, interval, intervalNum, limit}]``: each served type replaces the
        table's windows of that name (keeping their scope and keys); types this table does not
        charge are ignored."""
        served: list[Window] = []
        for entry in rate_limits:
            windows = [p for p in self.pools if isinstance(p, Window) and p.name == entry.get("rateLimitType")]
            if windows:
                limit, seconds = _served_limit(self.venue, entry), _served_seconds(self.venue, entry)
                served.append(replace(windows[0], limit=limit, seconds=seconds))
        if not served:
            return self
        names = {w.name for w in served}
        return replace(self, pools=tuple(p for p in self.pools if p.name not in names) + tuple(served))


def _template(key: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]*\})", key)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


def _served_seconds(venue: str, entry: Mapping[str, Any]) -> float:
    try:
        seconds = _INTERVALS[entry["interval"]] * int(entry["intervalNum"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(
            f"{venue} served rate limit {dict(entry)!r}: "
            "needs interval SECOND, MINUTE, HOUR or DAY and an integer intervalNum"
        ) from None
    if seconds <= 0:
        raise ConfigError(f"{venue} served rate limit {dict(entry)!r}: intervalNum must be positive")
    return seconds


def _served_limit(venue: str, entry: Mapping[str, Any]) -> float:
    try:
        limit = float(entry["limit"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{venue} served rate limit {dict(entry)!r}: needs a numeric limit") from None
    if not limit > 0:
        raise ConfigError(f"{venue} served rate limit {dict(entry)!r}: limit must be positive")
    return limit
