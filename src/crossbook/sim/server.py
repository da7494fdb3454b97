"""SimVenue: the exchange side of one venue's wire protocol, served by aiohttp on 127.0.0.1.

A venue module subclasses SimVenue: it lists its markets, names them natively, serves its REST
endpoints (instruments, book snapshot), reads subscribe/ping messages and encodes book changes in
the exchange's own format with the exchange's sequence numbers and checksums. This base runs the
server, the connections and the fault injection.

A venue that trades also serves its private WebSocket stream (``private_ws_paths``): a socket
that logs in as an account (``SimConnection.account``) receives ``private_frames_for`` of every
order event of that account, in the exchange's format.

Faults (``inject``, described in sim/faults.py): the feed faults ``drop``, ``skip``, ``corrupt``,
``stall`` and ``delay``; the REST faults ``timeout``, ``hang``, ``http_5xx``, ``http_429``,
``truncated`` and ``malformed`` on the venue's book snapshot or instruments endpoint (the paths the
venue module declares in ``snapshot_paths`` and ``instruments_paths``); the frame fault
``malformed_frame``.

Control (from loopback only; neither rate limits nor faults apply to it):
- ``POST /_crossbook/dislocate`` ``{"bps": 40, "symbol": "BTC-USDT"}`` quotes this server's venue
  (every feed of it, or only ``symbol``) ``bps`` away from the fair price from the next tick;
  ``{"bps": 0}`` undoes it.
- ``POST /_crossbook/fault`` ``{"fault": "http_5xx", "seconds": 5, "endpoint": "snapshot",
  "symbol": "BTC-USDT"}`` injects a fault (``endpoint``, ``symbol`` and ``seconds`` optional; see
  ``inject``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import WSMsgType, web

from ..errors import CrossbookError
from ..venues.registry import base_fees, spec, venue_of
from ..venues.spec.limits import OTHER_FRAME, WS, Reply, SubscribeLimits, request_params
from .access import READ_TRADE, ApiKey, ccxt_urls, new_key
from .engine import ENGINE_FAULTS, MatchingEngine, OrderEvent
from .faults import FAULTS, FRAME_FAULTS, REST_FAULTS, Faults, RestFaults, Window, check_fault
from .market import Change, Ladder, MarketSpec, SimMarket, SimTrade
from .ratelimit import Over, VenueLimits
from .refusal import ErrorShape, Refusal
from .tape import Tape

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TRADING_FAULTS = ("5xx", "timeout", "delay", "lost_ack", *ENGINE_FAULTS)
CONTROL_PREFIX = "/_crossbook/"
LOOPBACK = ("127.0.0.1", "::1")

Frame = str | bytes


class SimConnection:
    """One client socket: its subscriptions (standard symbol -> venue state) and an ordered sender
    that applies the delay and stall faults."""

    def __init__(self, ws: web.WebSocketResponse, venue: SimVenue) -> None:
        self.ws = ws
        self.venue = venue
        self.subs: dict[str, Any] = {}
        self.state: dict[str, Any] = {}  # per-connection venue state (Coinbase's sequence, ...)
        self.path = ""
        self.query: dict[str, str] = {}  # the socket URL's query (KuCoin's token, MEXC's listenKey)
        self.account: str | None = None  # the account a private stream logged in as
        self.opened = time.time()
        self._queue: asyncio.Queue[tuple[float, Frame]] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop())

    def send(self, frame: Frame) -> None:
        self._queue.put_nowait((time.time(), frame))

    async def _write_loop(self) -> None:
        faults = self.venue.faults
        while True:
            queued, frame = await self._queue.get()
            hold = queued + faults.delay - time.time()
            if hold > 0:
                await asyncio.sleep(hold)
            while time.time() < faults.stall_until:  # noqa: ASYNC110 - sleeps to a deadline a later stall may push back
                await asyncio.sleep(faults.stall_until - time.time())
            if self.ws.closed:
                return
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()


class SimVenue:
    venue: ClassVar[str]  # the feed id it serves, matching the client FeedHandler's
    markets: ClassVar[tuple[str, ...]]  # standard symbols it lists
    specs: ClassVar[dict[str, MarketSpec]] = {}  # the venue's own tick/lot where not the catalog's
    ws_paths: ClassVar[tuple[str, ...]] = ("/ws",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ()  # the private order/fill stream's sockets
    server_ping_interval: ClassVar[float | None] = None  # protocol-level pings from the server
    ping_interval: ClassVar[float | None] = None  # application-level pings from the server
    # the faults this venue's protocol can show: skip needs sequence numbers, corrupt a checksum
    faults_supported: ClassVar[frozenset[str]] = frozenset({"drop", "stall", "delay"})
    # the routes the REST faults act on, as ``routes`` declares them: the REST order book (snapshot)
    # and the instrument list; and the venue's answer while it is unavailable (sent with HTTP 503)
    snapshot_paths: ClassVar[tuple[str, ...]] = ()
    instruments_paths: ClassVar[tuple[str, ...]] = ()
    unavailable: ClassVar[ErrorShape] = ErrorShape(503, "Service Unavailable", 503)
    fills_per_tick: ClassVar[int] = 1  # chances of a public trade per tick
    buy_fee_in_base: ClassVar[bool] = True  # False where the venue charges spot buys in quote
    # trading through ccxt: the ccxt exchange id, the production bases ccxt calls (rewritten to this
    # simulator) and the options that keep ccxt to what the simulator serves
    ccxt_id: ClassVar[str | None] = None
    # a second server of one ccxt id (Bybit linear, Gate swap): ccxt_id stays None, so the spot
    # venue keeps its key in ``crossbook sim --print-ccxt-config``, and clients use this id
    client_ccxt_id: ClassVar[str | None] = None
    ccxt_hosts: ClassVar[tuple[str, ...]] = ()
    ccxt_ws_hosts: ClassVar[tuple[str, ...]] = ()  # ccxt.pro's WebSocket bases, rewritten the same way
    ccxt_options: ClassVar[dict[str, Any]] = {}
    key_needs_passphrase: ClassVar[bool] = False
    # rate limits: the header that names a request's API key, the parameter that names its
    # instrument (pools kept per account or per symbol), how long the venue bans a client that
    # ignores its Retry-After (None: it does not ban)
    api_key_header: ClassVar[str] = ""
    limit_symbol_param: ClassVar[str] = "symbol"
    ban_seconds: ClassVar[float | None] = None

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.ladders: dict[str, Ladder] = {s: market.ladder(self.venue, s, self.specs.get(s)) for s in self.markets}
        self.faults = Faults()
        self.rest_faults = RestFaults(self)
        self.connections: set[SimConnection] = set()
        self.rest_url = ""
        self.ws_url = ""
        self._runner: web.AppRunner | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._trade_ids: dict[str, int] = {}
        self.tape = Tape(self.ladders)  # the public trades printed, for the trades/candles/ticker endpoints
        self.client_pings = 0  # application pings the clients sent (venue modules count them)
        self.client_pongs = 0  # answers to the server's application pings
        self.api_keys: dict[str, ApiKey] = {}
        self.venue_id = venue_of(self.venue)
        # the exchange's REST limits, enforced (None: unlimited)
        self.limits: VenueLimits | None = VenueLimits(spec(self.venue_id).limit_table())
        self.rate_limited = 0  # requests refused for the rate limit
        # what one public socket may send (the feed's SPEC entry), enforced; refusals counted
        self.subscribe_limits: SubscribeLimits | None = self._subscribe_limits()
        self.subscribe_refused = 0
        self.last_refusal: Reply | None = None
        self.trading_faults: deque[str] = deque()
        self.trading_fault_seconds = 2.0
        fees = base_fees(self.venue)  # the venue's base tier for this server's product, from its SPEC
        self.engine = MatchingEngine(
            self.venue,
            self.ladders,
            maker_fee=Decimal(repr(fees.maker)),
            taker_fee=Decimal(repr(fees.taker)),
            buy_fee_in_base=self.buy_fee_in_base,
            publish=self.publish,
        )
        self.engine.listeners.append(self._stream_order_event)

    def ccxt_market_id(self, symbol: str) -> str:
        """The market id ccxt knows ``symbol`` by (the REST id, where it differs from the feed's)."""
        return self.native(symbol)

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A new API key for ``account`` (the account must exist in the engine)."""
        self.engine.account(account)
        key = new_key(account, passphrase=self.key_needs_passphrase, permissions=permissions)
        self.api_keys[key.key] = key
        return key

    def restrict_key(self, key: ApiKey, ips: tuple[str, ...], created: float, expires: float | None = None) -> ApiKey:
        """``key`` (issued here) bound to ``ips``, made at ``created`` and expiring at ``expires``:
        what the venue's key-information endpoint then reports."""
        restricted = replace(key, ips=ips, created=created, expires=expires)
        self.api_keys[key.key] = restricted
        return restricted

    def ccxt_config(self, key: ApiKey) -> dict[str, Any]:
        """What an unmodified ccxt client needs to trade here as ``key``'s account."""
        ccxt_id = self.ccxt_id or self.client_ccxt_id
        if ccxt_id is None:
            raise NotImplementedError(f"{self.venue}: no ccxt trading surface yet")
        config: dict[str, Any] = {
            "urls": ccxt_urls(ccxt_id, self.ccxt_host_map(), self.ws_url),
            "options": dict(self.ccxt_options),
            "apiKey": key.key,
            "secret": key.secret,
        }
        if key.passphrase is not None:
            config["password"] = key.passphrase
        return config

    def ccxt_host_map(self) -> dict[str, str]:
        """Production base -> this simulator's base, for ``ccxt_urls``."""
        return dict.fromkeys(self.ccxt_hosts, self.rest_url) | dict.fromkeys(self.ccxt_ws_hosts, self.ws_url)

    def private_connections(self, account: str) -> list[SimConnection]:
        """Open sockets logged in as ``account``."""
        return [c for c in self.connections if c.account == account and not c.ws.closed]

    def streaming_to(self, account: str) -> bool:
        """Whether a client follows ``account``'s orders and fills on the private stream now
        (override where the venue subscribes channels after the login)."""
        return bool(self.private_connections(account))

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The venue's true best ``n`` levels per side, as a client book should hold them."""
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), ladder.size(q)) for p, q in ladder.top(True, n)],
            [(ladder.price(p), ladder.size(q)) for p, q in ladder.top(False, n)],
        )

    # ---- to override per venue --------------------------------------------------------------

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def routes(self) -> list[web.RouteDef]:
        """REST endpoints: instruments, book snapshot, anything the feed uses."""
        return []

    def market_data_routes(self) -> list[web.RouteDef]:
        """Public REST market data beyond what the feed uses (ticker, trades, candles, book), as
        ccxt asks for it; a path ``routes`` already serves keeps that handler."""
        return []

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        """Subscribe, unsubscribe, ping: answer through ``conn.send``."""
        raise NotImplementedError

    def encode(self, symbol: str, changes: list[Change]) -> Any:
        """Called once per tick for every listed symbol, subscribed or not: advance the venue's
        sequence for ``symbol`` and encode the change. The result goes to ``frames_for``."""
        raise NotImplementedError

    def frames_for(self, conn: SimConnection, symbol: str, encoded: Any) -> list[Frame]:
        """What one subscribed connection receives of an encoded change (override where the
        venue sequences per connection)."""
        return [encoded]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> Frame | None:
        """A public trade in the venue's format, or None if the venue module sends none."""
        return None

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> Any:
        """Called once per tick with that tick's trades (often none); the result goes to
        ``trade_frames_for``. By default each trade's ``trade_frame``."""
        frames = (self.trade_frame(symbol, t.ticks, t.lots, t.buy, t.trade_id) for t in trades)
        return [f for f in frames if f is not None]

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: Any) -> list[Frame]:
        """What one connection subscribed to ``symbol`` receives of this tick's trades (override
        where trades are a separate subscription or messages are numbered per connection)."""
        return list(encoded)

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        """Login, subscribe, ping on a private-stream socket (sets ``conn.account`` on login)."""
        raise NotImplementedError

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """What a socket logged in as the order's account receives of one order event (an order
        update, and a fill if the event has one), given what it subscribed to."""
        return []

    def app_ping(self) -> Frame | None:
        """The server's application-level ping frame, if the venue sends one."""
        return None

    def on_connect(self, conn: SimConnection) -> None:
        """A new socket, public or private (send a welcome message where the venue does)."""

    # ---- shared machinery -------------------------------------------------------------------

    def symbol_of(self, native: str) -> str | None:
        for symbol in self.markets:
            if self.native(symbol) == native:
                return symbol
        return None

    def tick(self, symbol: str, changes: list[Change]) -> None:
        """The market makers moved: resting user orders they now cross fill, and the tape prints
        this tick's trades."""
        fill_changes, fill_trades = self.engine.after_step(symbol)
        trades = self.draw_trades(symbol) + fill_trades
        self.publish(symbol, changes + fill_changes, trades)
        self.engine.on_trades(symbol, trades)

    def publish(self, symbol: str, changes: list[Change], trades: list[SimTrade]) -> None:
        """Send book changes and trades to every connection subscribed to ``symbol``; the trades go
        on the tape."""
        self.tape.record(symbol, trades)
        encoded = self.encode(symbol, changes)
        encoded_trades = self.encode_trades(symbol, trades)
        # ``freeze``: the frames are made (every sequence number spent) but never delivered
        frozen = bool(self.faults.frozen) and self.faults.frozen.get(symbol, 0.0) > time.time()
        for conn in list(self.connections):
            if symbol in conn.subs and not conn.ws.closed:
                frames = [*self.frames_for(conn, symbol, encoded), *self.trade_frames_for(conn, symbol, encoded_trades)]
                for frame in [] if frozen else frames:
                    conn.send(self._as_faulted(symbol, frame))

    def _as_faulted(self, symbol: str, frame: Frame) -> Frame:
        """``frame``, or a broken one while a ``malformed_frame`` fault covers ``symbol``."""
        if self.faults.windows and self.faults.hit(None, symbol) is not None:
            return self.faults.broken_frame(frame)
        return frame

    def draw_trades(self, symbol: str) -> list[SimTrade]:
        """This tick's public trades: ``fills_per_tick`` draws, each a fill at the top of the
        book with probability 0.3."""
        ladder = self.ladders[symbol]
        trades = []
        for _ in range(self.fills_per_tick):
            if ladder.rng.random() > 0.3:
                continue
            buy = ladder.rng.random() < 0.5
            top = ladder.top(not buy, 1)
            if not top:
                continue
            self._trade_ids[symbol] = self._trade_ids.get(symbol, 1000) + 1
            trades.append(SimTrade(top[0][0], max(1, top[0][1] // 4), buy, self._trade_ids[symbol]))
        return trades

    def _stream_order_event(self, event: OrderEvent) -> None:
        for conn in self.private_connections(event.order.account):
            for frame in self.private_frames_for(conn, event):
                conn.send(frame)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` beside the caller (which cannot await it), holding the task until it ends."""
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_done)

    def _side_task_done(self, task: asyncio.Task[None]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s: background task failed: %r", self.venue, exc)

    def inject(
        self, fault: str, symbol: str | None = None, seconds: float = 0.0, endpoint: str | None = None
    ) -> Window | None:
        """Inject one fault (see sim/faults.py). A REST fault acts on ``endpoint`` ("snapshot", the
        default, or "instruments"); a REST or frame fault lasts ``seconds`` (0: the next request
        or frame only) and is returned, to read its hits."""
        if fault in REST_FAULTS or fault in FRAME_FAULTS:
            return self._open_fault(fault, symbol, seconds, endpoint)
        if endpoint is not None:
            raise ValueError(f"fault {fault!r} takes no endpoint")
        if fault == "drop":
            for conn in list(self.connections):
                self.spawn(conn.close())
        elif fault in ("skip", "corrupt"):
            if symbol is None:
                raise ValueError(f"fault {fault!r} needs a symbol")
            getattr(self.faults, fault).add(symbol)
        elif fault == "stall":
            self.faults.stall_until = time.time() + seconds
        elif fault == "delay":
            self.faults.delay = seconds
        elif fault == "freeze":  # one symbol's updates stop, the socket and the others carry on
            if symbol is None:
                raise ValueError("fault 'freeze' needs a symbol")
            self.faults.frozen[symbol] = time.time() + seconds
        else:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        return None

    def _open_fault(self, fault: str, symbol: str | None, seconds: float, endpoint: str | None) -> Window:
        if fault in REST_FAULTS:
            endpoint = endpoint or "snapshot"
            if not (self.snapshot_paths if endpoint == "snapshot" else self.instruments_paths):
                raise ValueError(f"{self.venue} declares no {endpoint} endpoint for REST faults")
        problem = check_fault(fault, endpoint, symbol, seconds, self.markets)
        if problem is not None:
            raise ValueError(f"{self.venue}: {problem}")
        return self.faults.open(fault, endpoint, symbol, seconds)

    def inject_trading(self, fault: str, times: int = 1, seconds: float = 2.0) -> None:
        """Make the next ``times`` order requests (POST and DELETE) misbehave: ``5xx`` answers 502
        and does nothing; ``timeout`` does nothing and answers 504 after ``seconds``; ``delay``
        does the request and answers after ``seconds``; ``lost_ack`` does the request and never
        answers (the connection closes). ``reject`` and ``partial_fill`` act on the next orders
        the engine sees (see ``MatchingEngine.inject``)."""
        if fault not in TRADING_FAULTS:
            raise ValueError(f"unknown trading fault {fault!r}; known: {', '.join(TRADING_FAULTS)}")
        if fault in ENGINE_FAULTS:
            self.engine.inject(fault, times)
            return
        self.trading_faults.extend([fault] * times)
        self.trading_fault_seconds = seconds

    def request_key(self, headers: Mapping[str, str]) -> str:
        """The API key a request presents (its account's counters are kept by it)."""
        return headers.get(self.api_key_header, "") if self.api_key_header else ""

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        """The venue's answer to a request over ``over.pool`` (a venue module that trades says it)."""
        raise NotImplementedError(f"{self.venue}: no rate-limit refusal")

    def ban_refusal(self, until: float) -> Refusal:
        """The venue's answer while a client is banned (venues with ``ban_seconds``)."""
        raise NotImplementedError(f"{self.venue}: bans no one")

    def render_refusal(self, refusal: Refusal) -> web.Response:
        """A refused request's answer in the venue's own body shape (its code, message and status
        from the venue module's table)."""
        raise NotImplementedError(f"{self.venue}: no refusal shape")

    def refusal_response(self, refusal: Refusal) -> web.Response:
        response = self.render_refusal(refusal)
        response.headers.update(refusal.headers)
        return response

    @web.middleware
    async def _render_refusals(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            return self.refusal_response(refusal)

    @web.middleware
    async def _enforce_limits(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        limits = self.limits
        if limits is None or request.path in self.ws_paths or request.path in self.private_ws_paths:
            return await handler(request)
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        now = time.time()
        if limits.banned_until > now:
            return self._refused(self.refusal_response(self.ban_refusal(limits.banned_until)))
        body = await request.text() if request.can_read_body else ""
        params = request_params(request.query_string, body)
        key = self.request_key(request.headers)
        account = self.api_keys[key].account if key in self.api_keys else key
        over = limits.check(request.method, request.path, params, account, str(params.get(self.limit_symbol_param, "")))
        if over is None:
            return await handler(request)
        if self.ban_seconds is not None and now < limits.retry_until:  # told to wait, sent anyway
            limits.banned_until = now + self.ban_seconds
            return self._refused(self.refusal_response(self.ban_refusal(limits.banned_until)))
        limits.retry_until = max(limits.retry_until, now + over.wait)
        return self._refused(self.refusal_response(self.rate_limit_refusal(over, now)))

    def _refused(self, reply: web.Response) -> web.Response:
        self.rate_limited += 1
        body = reply.body if isinstance(reply.body, bytes) else b""
        self.last_refusal = Reply(reply.status, dict(reply.headers), body)
        return reply

    @web.middleware
    async def _apply_trading_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "GET" or not self.trading_faults or request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        fault = self.trading_faults.popleft()
        if fault == "5xx":
            return web.Response(status=502, text="Bad Gateway")
        if fault == "timeout":
            await asyncio.sleep(self.trading_fault_seconds)
            return web.Response(status=504, text="Gateway Timeout")
        if fault == "delay":
            await asyncio.sleep(self.trading_fault_seconds)
            return await handler(request)
        await handler(request)  # lost_ack: the venue did it; the answer never arrives
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    async def _dislocate_handler(self, request: web.Request) -> web.Response:
        if request.remote not in LOOPBACK:
            return json_response({"error": "control requests are accepted from loopback only"}, 403)
        usage = {"error": 'expected JSON {"bps": <number>, "symbol": <optional standard symbol>}'}
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            return json_response(usage, 400)
        if not isinstance(body, dict):
            return json_response(usage, 400)
        bps, symbol = body.get("bps"), body.get("symbol")
        if isinstance(bps, bool) or not isinstance(bps, (int, float)) or not isinstance(symbol, (str, type(None))):
            return json_response(usage, 400)
        try:
            moved = self.market.dislocate(self.venue_id, float(bps), symbol)
        except CrossbookError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"venue": self.venue_id, "bps": float(bps), "books": [f"{f}:{s}" for f, s in moved]})

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=self.server_ping_interval, autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = SimConnection(ws, self)
        conn.path = request.path
        conn.query = dict(request.query)
        # a path that is only private gets on_private_message; one shared by both kinds (the venue
        # tells them apart by what the socket sends) gets on_client_message
        private = request.path in self.private_ws_paths and request.path not in self.ws_paths
        self.connections.add(conn)
        self.on_connect(conn)
        limits = self.subscribe_limits
        sent = VenueLimits(limits.table(self.venue)) if limits is not None and not private else None
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if private:
                        await self.on_private_message(conn, msg.data)
                    elif sent is not None and sent.check(WS, self.frame_kind(msg.data), {}, "", "") is not None:
                        self.subscribe_refused += 1
                        await self.refuse_message_rate(conn, msg.data)
                    else:
                        await self.on_client_message(conn, msg.data)
        finally:
            self.connections.discard(conn)
            await conn.close()
        return ws

    def _subscribe_limits(self) -> SubscribeLimits | None:
        table = spec(self.venue_id).limits
        return table.subscribe.get(self.venue) if table is not None else None

    def frame_kind(self, data: str | bytes) -> str:
        """Whether a public socket's frame is a subscribe or unsubscribe request (``SUBSCRIBE_FRAME``,
        counted apart where the venue limits those) or any other message; override where a venue
        counts subscribes."""
        return OTHER_FRAME

    async def refuse_message_rate(self, conn: SimConnection, data: str | bytes) -> None:
        """A public socket sent faster than the venue allows: by default it is closed with 1008
        (Binance's documented answer); a venue module that answers otherwise overrides this."""
        await conn.ws.close(code=1008, message=b"Too many requests")

    async def _app_ping_loop(self) -> None:
        assert self.ping_interval
        while True:
            await asyncio.sleep(self.ping_interval)
            frame = self.app_ping()
            if frame is not None:
                for conn in list(self.connections):
                    conn.send(frame)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # a faulted request fails at the venue's door: it never reaches the rate limits
        middlewares = [self.rest_faults.middleware, self._enforce_limits, self._apply_trading_faults, self._render_refusals]
        app = web.Application(middlewares=middlewares)
        routes = self.routes()
        served = {(r.method, r.path) for r in routes if isinstance(r, web.RouteDef)}
        app.add_routes([*routes, *(r for r in self.market_data_routes() if (r.method, r.path) not in served)])
        self.rest_faults.check_routes(app)
        app.router.add_post(CONTROL_PREFIX + "dislocate", self._dislocate_handler)
        app.router.add_post(CONTROL_PREFIX + "fault", self.rest_faults.control)
        for path in dict.fromkeys((*self.ws_paths, *self.private_ws_paths)):
            app.router.add_get(path, self._ws_handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.rest_url = f"http://{host}:{bound[1]}"
        self.ws_url = f"ws://{host}:{bound[1]}"
        if self.ping_interval:
            self._pinger = asyncio.create_task(self._app_ping_loop())

    async def stop(self) -> None:
        self.rest_faults.closing.set()
        if self._pinger is not None:
            self._pinger.cancel()
        for conn in list(self.connections):
            await conn.close()
        if self._runner is not None:
            await self._runner.cleanup()


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")
