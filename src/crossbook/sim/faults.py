"""The faults a simulated venue can show, and their state.

Feed faults (``SimVenue.inject``): ``drop`` closes every socket; ``skip`` makes the next update of a
symbol skip a sequence number; ``corrupt`` makes its next checksum wrong; ``stall`` sends nothing
(not even pings) for some seconds; ``delay`` holds every outgoing frame for some seconds.

REST faults act on one of the venue's two metadata endpoints, as the venue module declares them
(``SimVenue.snapshot_paths``: its REST order book; ``instruments_paths``: its instrument list),
optionally only on the book requests of one ``symbol``:

- ``timeout``: the answer (the real one) comes ``timeout_seconds`` (30 s) late, longer than any
  client should wait;
- ``hang``: no answer at all; the connection closes when the fault ends (a one-request hang ends
  after ``timeout_seconds``);
- ``http_5xx``: 503 with the venue's own error body;
- ``http_429``: the venue's own rate-limit refusal body, with HTTP 429 and a Retry-After (the
  venue's, else 1 s);
- ``truncated``: the real 200 body cut in half (its Content-Length says the half: the JSON breaks);
- ``malformed``: 200 with valid JSON of a shape the venue never sends.

A faulted request fails at the venue's door: it never counts against the venue's rate limits.

The frame fault ``malformed_frame`` replaces the public frames of ``symbol`` (or of every symbol)
with broken ones: a JSON frame keeps its shape, channel, instrument and sequence but every price and
size in it becomes the string ``crossbook:garbled`` (so a client can tell which book it belonged to); a binary
(protobuf) frame is cut in half. What the frame carried is lost: the book must be resynced.

A REST or frame fault lasts ``seconds`` from the moment it is injected; with ``seconds`` 0 it hits
the next matching request (or frame) only. Every hit is counted in ``Faults.hits``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .ratelimit import Over
from .refusal import ErrorShape

if TYPE_CHECKING:
    from .server import Handler, SimVenue

FEED_FAULTS = ("drop", "skip", "corrupt", "stall", "delay")
REST_FAULTS = ("timeout", "hang", "http_5xx", "http_429", "truncated", "malformed")
FRAME_FAULTS = ("malformed_frame",)
FAULTS = (*FEED_FAULTS, *REST_FAULTS, *FRAME_FAULTS)
ENDPOINTS = ("snapshot", "instruments")
TIMEOUT_SECONDS = 30.0
MALFORMED = {"crossbook_fault": "malformed", "data": None}  # valid JSON, a shape no venue sends
GARBLED = "crossbook:garbled"


@dataclass(slots=True)
class Window:
    """One injected REST or frame fault: what it does, where, and until when."""

    fault: str
    endpoint: str | None  # "snapshot" | "instruments" for a REST fault, None for a frame fault
    symbol: str | None
    until: float  # time.time() at which it ends (a one-shot fault: when it was injected)
    once: bool  # seconds == 0: the next matching request or frame only
    hits: int = 0

    def active(self, now: float) -> bool:
        return self.hits == 0 if self.once else now < self.until

    def matches(self, endpoint: str | None, symbol: str | None) -> bool:
        return self.endpoint == endpoint and (self.symbol is None or self.symbol == symbol)


@dataclass
class Faults:
    skip: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    stall_until: float = 0.0
    delay: float = 0.0
    # ``freeze`` (SimVenue.inject): symbol -> until when its frames are dropped while the socket
    # and the other symbols carry on (their sequence numbers still advance)
    frozen: dict[str, float] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)  # fault -> requests or frames it hit
    timeout_seconds: float = TIMEOUT_SECONDS

    def take(self, kind: str, symbol: str) -> bool:
        """True once for each ``skip``/``corrupt`` injected for ``symbol``."""
        pending: set[str] = getattr(self, kind)
        if symbol in pending:
            pending.discard(symbol)
            return True
        return False

    def open(self, fault: str, endpoint: str | None, symbol: str | None, seconds: float) -> Window:
        now = time.time()
        window = Window(fault, endpoint, symbol, now + seconds, once=seconds <= 0)
        self.windows = [w for w in self.windows if w.active(now)]
        self.windows.append(window)
        return window

    def hit(self, endpoint: str | None, symbol: str | None) -> Window | None:
        """The fault that takes this request (or frame), counted, or None."""
        now = time.time()
        for window in self.windows:
            if window.active(now) and window.matches(endpoint, symbol):
                window.hits += 1
                self.hits[window.fault] += 1
                return window
        return None

    def clear(self) -> None:
        """End every REST and frame fault now."""
        self.windows.clear()

    @staticmethod
    def broken_frame(frame: str | bytes) -> str | bytes:
        """A ``malformed_frame`` replacement for ``frame`` (see the module's description)."""
        if isinstance(frame, bytes):
            return frame[: len(frame) // 2]
        try:
            return orjson.dumps(_garbled(orjson.loads(frame))).decode()
        except orjson.JSONDecodeError:
            return frame[: len(frame) // 2]


def _garbled(node: Any) -> Any:
    """``node`` with every decimal number (a JSON float, or a string such as "0.25") made GARBLED."""
    if isinstance(node, dict):
        return {k: _garbled(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_garbled(v) for v in node]
    if isinstance(node, float) or (isinstance(node, str) and _decimal(node)):
        return GARBLED
    return node


def _decimal(text: str) -> bool:
    whole, dot, fraction = text.lstrip("-").partition(".")
    return bool(dot) and whole.isdigit() and fraction.isdigit()


def check_fault(fault: str, endpoint: str | None, symbol: str | None, seconds: float, markets: tuple[str, ...]) -> str | None:
    """What is wrong with an injection request, or None."""
    if fault not in FAULTS:
        return f"unknown fault {fault!r}; known: {', '.join(FAULTS)}"
    if endpoint is not None and endpoint not in ENDPOINTS:
        return f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}"
    if endpoint is not None and fault not in REST_FAULTS:
        return f"fault {fault!r} takes no endpoint (only {', '.join(REST_FAULTS)} do)"
    if symbol is not None and symbol not in markets:
        return f"symbol {symbol!r} is not listed here; listed: {', '.join(markets)}"
    if fault in REST_FAULTS and endpoint == "instruments" and symbol is not None:
        return "the instruments endpoint lists every market: a fault on it takes no symbol"
    if not _number(seconds) or not 0 <= seconds < math.inf:
        return f"seconds must be a number >= 0, not {seconds!r}"
    return None




def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


LOOPBACK = ("127.0.0.1", "::1")
USAGE = (
    'expected JSON {"fault": <name>, "seconds": <number >= 0, optional>, "endpoint": "snapshot" | "instruments" '
    '(REST faults, optional, default snapshot), "symbol": <standard symbol, optional>}'
)


class RestFaults:
    """One venue's REST faults on the wire: the middleware that applies them to the venue's
    snapshot and instruments routes, and the ``POST /_crossbook/fault`` control route."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.faults = venue.faults
        self.closing = asyncio.Event()  # set when the server stops: held requests let go
        self.paths = {"snapshot": frozenset(venue.snapshot_paths), "instruments": frozenset(venue.instruments_paths)}

    def check_routes(self, app: web.Application) -> None:
        """Every declared fault path is a route the venue serves (a typo fails at start)."""
        served = {r.canonical for r in app.router.resources()}
        for endpoint, paths in self.paths.items():
            for path in paths - served:
                raise ValueError(f"{self.venue.venue}: {endpoint} fault path {path} is not one of its routes")

    def endpoint_of(self, request: web.Request) -> str | None:
        resource = request.match_info.route.resource
        path = resource.canonical if resource is not None else request.path
        return next((e for e, paths in self.paths.items() if path in paths), None)

    def symbol_of(self, request: web.Request) -> str | None:
        """The market a book request names (by the venue's id or ccxt's, in its query or path)."""
        given = {*request.query.values(), *request.match_info.values()}
        sim = self.venue
        return next((s for s in sim.markets if sim.native(s) in given or sim.ccxt_market_id(s) in given), None)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.faults.windows or request.method != "GET":
            return await handler(request)
        endpoint = self.endpoint_of(request)
        if endpoint is None:
            return await handler(request)
        window = self.faults.hit(endpoint, self.symbol_of(request) if endpoint == "snapshot" else None)
        if window is None:
            return await handler(request)
        return await self.misbehave(window, request, handler)

    async def misbehave(self, window: Window, request: web.Request, handler: Handler) -> web.StreamResponse:
        if window.fault == "timeout":
            await self.hold(self.faults.timeout_seconds)
            return await handler(request)
        if window.fault == "hang":
            await self.hold(self.faults.timeout_seconds if window.once else window.until - time.time())
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if window.fault == "http_5xx":
            shape = self.venue.unavailable
            unavailable = self.venue.refusal_response(ErrorShape(shape.code, shape.message, 503, shape.detail).refuse())
            unavailable.set_status(503)  # where the venue's refusals all answer 200, its gateway still says 503
            return unavailable
        if window.fault == "http_429":
            reply = self.venue.refusal_response(self.venue.rate_limit_refusal(Over("fault", 1.0), time.time()))
            reply.set_status(429)
            reply.headers.setdefault("Retry-After", "1")
            return reply
        response = await handler(request)
        if not isinstance(response, web.Response) or response.status != 200:
            return response
        if window.fault == "truncated":
            body = response.body if isinstance(response.body, bytes) else b""
            response.body = body[: len(body) // 2]
        else:  # malformed
            response.body = orjson.dumps(MALFORMED)
            response.content_type = "application/json"
        return response

    async def hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), max(0.0, seconds))

    async def control(self, request: web.Request) -> web.Response:
        """``POST /_crossbook/fault``: inject a fault from loopback."""
        if request.remote not in LOOPBACK:
            return _json({"error": "control requests are accepted from loopback only"}, 403)
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            return _json({"error": f"the body is not JSON; {USAGE}"}, 400)
        problem, request_ = _fault_request(body)
        if request_ is None:
            return _json({"error": f"{problem}; {USAGE}"}, 400)
        fault, seconds, endpoint, symbol = request_
        if fault in FEED_FAULTS and fault not in self.venue.faults_supported:
            supported = ", ".join(sorted(self.venue.faults_supported))
            return _json({"error": f"{self.venue.venue} cannot show {fault!r}; its protocol shows {supported}"}, 400)
        try:
            window = self.venue.inject(fault, symbol, seconds, endpoint)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({
            "venue": self.venue.venue, "fault": fault, "seconds": seconds, "symbol": symbol,
            "endpoint": window.endpoint if window is not None else None,
        })


FaultRequest = tuple[str, float, str | None, str | None]


def _fault_request(body: Any) -> tuple[str, FaultRequest | None]:
    """(what is wrong, None) or ("", (fault, seconds, endpoint, symbol)) of a control body."""
    if not isinstance(body, dict):
        return "the body must be a JSON object", None
    unknown = set(body) - {"fault", "seconds", "endpoint", "symbol"}
    if unknown:
        return f"unknown keys {', '.join(sorted(unknown))}", None
    fault, seconds = body.get("fault"), body.get("seconds", 0)
    endpoint, symbol = body.get("endpoint"), body.get("symbol")
    if not isinstance(fault, str):
        return "'fault' must be a fault name", None
    if not _number(seconds):
        return f"'seconds' must be a number, not {seconds!r}", None
    if not isinstance(endpoint, (str, type(None))) or not isinstance(symbol, (str, type(None))):
        return "'endpoint' and 'symbol' must be strings", None
    return "", (fault, float(seconds), endpoint, symbol)


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")
