"""Simulated Gate v4: spot market data and trading, USDT perpetual market data and trading. Spot: ``/ws/v4/``
with ``spot.order_book_update`` (100 ms, the top-100 window, ``U``/``u`` update ids, an occasional
``full: true`` push), ``spot.trades``, ``spot.ping`` -> ``spot.pong``; REST
``/api/v4/spot/order_book?with_id=true`` (``id``, at most 100 levels) and ``/api/v4/spot/currency_pairs``.

Like the venue, the stream is a diff of the 100-level window: a level pushed out of the window is
sent with amount "0", a level that moves up into it is sent as new. The update id counts every
book change, inside the window or not, and each message covers the ids since the last message, so
a change that leaves the window as it was moves the id without a message.

Spot trading, as ccxt calls it: public ``/spot/currencies`` and ``/margin/currency_pairs`` (empty:
no margin is simulated); signed ``/account/detail`` (a classic account, key mode 1),
``/spot/accounts``, ``/spot/orders`` (create, get, cancel, list), ``/spot/open_orders``,
``/spot/my_trades``, ``/spot/price_orders`` (price-triggered limit orders), ``/wallet/fee``, and
the amend ``PATCH /spot/orders/{order_id}`` (amount and/or price from the body or, as ccxt sends
them, the query; the order keeps its id, and its queue place only when just its amount is cut).

USDT perpetuals (``gateswap``), as ccxt calls them: public ``/futures/usdt/contracts[/{contract}]``
(with ``funding_rate`` 0.0001, ``funding_interval`` 28800 and ``funding_next_apply`` the next
8-hour boundary, ``mark_price`` the book's mid: the engine settles no funding), signed
``/futures/usdt/accounts``, ``/futures/usdt/orders`` (``size`` in whole contracts, negative to
sell, ``price`` "0" with ``tif`` ioc for a market order, ``reduce_only``, ``close``), get, cancel and
amend (``PUT``, a new signed total ``size`` and/or ``price``) by ``{order_id}`` or ``t-`` text,
``/positions[/{contract}]``, ``/positions/{contract}/leverage`` (``leverage`` 0 is cross at
``cross_leverage_limit``) and ``/dual_mode`` (dual mode: a buy opens the long, a reduce-only buy
closes the short), ``my_trades_timerange``. Not simulated there: price-triggered futures orders,
``/dual_comp`` endpoints, liquidation and risk limits.
Requests carry ``KEY``, ``Timestamp`` (seconds, within 60 s of the server) and ``SIGN``, the hex
HMAC-SHA512 of ``METHOD\npath\nquery\nhex(SHA512(body))\nTimestamp`` with the query as sent but
not URL-encoded. Errors are bare ``{"label", "message"}`` bodies with a 4xx status. As on Gate, a
market buy's ``amount`` is the quote currency to spend; every other amount is base currency.

The private channels share ``/ws/v4/`` with market data, as on Gate: ``spot.orders`` and
``spot.usertrades`` (a pair or ``!all``), each subscribe carrying ``auth`` ``{"method": "api_key",
"KEY", "SIGN"}`` with SIGN the hex HMAC-SHA512 of ``channel=<channel>&event=<event>&time=<time>``
and ``time`` (seconds) within 60 s; a refusal is error code 4 whose message is the auth service's
REST body (``INVALID_KEY``, ``INVALID_SIGNATURE``, ``REQUEST_EXPIRED``, ``MISSING_REQUIRED_HEADER``).
Order pushes carry the REST order's fields with ``event`` put/update/finish and ``user``; user
trades the REST trade's with ``user_id``. Price orders' ``spot.priceorders`` is not simulated.
"""

from __future__ import annotations

import math
import hashlib
import hmac
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import unquote_plus

import orjson
from aiohttp import web

from ...model import MarginMode, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ...symbols import parse_standard
from ...venues import feed_class
from ..access import ApiKey
from ..engine import MatchingEngine, OrderEvent, Reject, SimFill, SimOrder, to_units
from ..market import Ladder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

View = dict[int, int]  # ticks -> lots of one side's window


def _plain(text: str) -> str:
    """Gate's book strings carry no trailing zeros: "60000.10" -> "60000.1", "5.000" -> "5"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---- trading: wire rules ---------------------------------------------------------------------

API = "/api/v4"
WINDOW = 60  # seconds a request's Timestamp may be off the server's clock
TEXT = re.compile(r"t-[0-9A-Za-z_.-]{1,28}")  # a user-defined order text (client order id)
DEFAULT_TEXT = "apiv4"  # what Gate shows as the text of an order placed without one
ORDERS, USER_TRADES = "spot.orders", "spot.usertrades"  # the private channels simulated
ALL = "!all"  # the payload that subscribes every pair
MIN_QUOTE = {"USDT": Decimal(3), "USDC": Decimal(3), "BTC": Decimal("0.0001")}  # min_quote_amount
TIME_IN_FORCE: dict[str, tuple[TimeInForce, bool]] = {  # Gate's time_in_force -> (tif, post-only)
    "gtc": (TimeInForce.GTC, False),
    "ioc": (TimeInForce.IOC, False),
    "fok": (TimeInForce.FOK, False),
    "poc": (TimeInForce.GTC, True),
}
# engine reject reason -> (HTTP status, Gate label, message)
ERRORS: dict[str, tuple[int, str, str]] = {
    "insufficient_balance": (400, "BALANCE_NOT_ENOUGH", "Not enough balance"),
    "post_only_would_take": (400, "POC_FILL_IMMEDIATELY", "Order would match and take immediately so it's cancelled"),
    "price_off_grid": (400, "INVALID_PRECISION", "Invalid precision"),
    "amount_off_grid": (400, "INVALID_PRECISION", "Invalid precision"),
    "iceberg_visible_amount_off_grid": (400, "INVALID_PRECISION", "Invalid precision"),
    "stop_price_off_grid": (400, "INVALID_PRECISION", "Invalid precision"),
    "bad_amount": (400, "INVALID_PARAM_VALUE", "Invalid parameter `amount`: must be positive"),
    "bad_number": (400, "INVALID_PARAM_VALUE", "Invalid parameter value: not a finite number"),
    "missing_price": (400, "MISSING_REQUIRED_PARAM", "Missing required parameter: price"),
    "bad_iceberg": (400, "INVALID_PARAM_VALUE", "Invalid parameter `iceberg`: must be below the amount"),
    "duplicate_client_id": (400, "REPEATED_CREATION", "Repeated creation"),
    "no_liquidity": (400, "ORDER_BOOK_NOT_FOUND", "Insufficient liquidity"),
}
# the same reasons on /futures/usdt, in Gate's futures labels
FUTURES_ERRORS: dict[str, tuple[int, str, str]] = {
    "insufficient_balance": (400, "INSUFFICIENT_AVAILABLE", "Insufficient available balance"),
    "post_only_would_take": (400, "ORDER_POC_IMMEDIATE", "Order would match and take immediately"),
    "reduce_only_would_increase": (400, "INCREASE_POSITION", "Reduce-only order would increase the position"),
    "position_open": (400, "POSITION_HOLDING", "Positions or orders are open"),
    "no_liquidity": (400, "CONTRACT_NO_COUNTER", "No counterparty orders"),
    "bad_leverage": (400, "LEVERAGE_TOO_HIGH", "Leverage out of range"),
}
FUTURES = f"{API}/futures/usdt"
LEVERAGE_MAX = "100"
CROSS_DEFAULT = "10"  # cross_leverage_default: the cross leverage when none is given
FUNDING_RATE = "0.0001"  # a fixed rate: the engine settles no funding
FUNDING_INTERVAL = 8 * 3600  # seconds


class GateError(Exception):
    """A request Gate refuses: the HTTP status and the ``label`` ccxt maps to an exception."""

    def __init__(self, status: int, label: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.label = label
        self.message = message


@dataclass(frozen=True)
class Call:
    """An authenticated request: whose key, its query, its JSON body, the ``{order_id}`` and
    ``{contract}`` in its path."""

    key: ApiKey
    query: Mapping[str, str]
    body: dict[str, Any]
    order_id: str = ""
    contract: str = ""


@dataclass(frozen=True)
class Placement:
    """What every new order states, parsed from a spot order or a price order's ``put``."""

    account: str
    symbol: str
    side: Side
    amount: Decimal
    tif: TimeInForce
    post_only: bool
    text: str | None


Private = Callable[[Call], web.Response]


def gate_signature(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    """Gate APIv4's SIGN header for a request."""
    payload = "\n".join((method.upper(), path, query, hashlib.sha512(body).hexdigest(), timestamp))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def fresh(stamp: str) -> bool:
    try:
        return abs(time.time() - float(stamp)) <= WINDOW
    except ValueError:
        return False


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body") from None
    if not isinstance(body, dict):
        raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body")
    return body


def iceberg(body: Mapping[str, Any]) -> Decimal | None:
    """The displayed amount: "0" (or none) for a normal order; Gate's -1 (fully hidden) is not
    simulated."""
    shown = optional_decimal(body, "iceberg")
    if shown is None or shown == 0:
        return None
    if shown < 0:
        raise invalid("iceberg", body["iceberg"])
    return shown


def currency_info(code: str) -> dict[str, Any]:
    flags = {"withdraw_disabled": False, "withdraw_delayed": False, "deposit_disabled": False}
    return {
        "currency": code,
        "name": code,
        "delisted": False,
        **flags,
        "trade_disabled": False,
        "fixed_rate": "",
        "chain": code,
        "chains": [{"name": code, "addr": "", **flags}],
    }


def error(status: int, label: str, message: str) -> web.Response:
    return json_response({"label": label, "message": message}, status=status)


def invalid(name: str, value: Any) -> GateError:
    return GateError(400, "INVALID_PARAM_VALUE", f"Invalid parameter `{name}` with value: {value}")


def required(source: Mapping[str, Any], name: str) -> Any:
    if source.get(name) is None:
        raise GateError(400, "MISSING_REQUIRED_PARAM", f"Missing required parameter: {name}")
    return source[name]


def decimal_param(source: Mapping[str, Any], name: str) -> Decimal:
    raw = required(source, name)
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise invalid(name, raw) from None


def optional_decimal(source: Mapping[str, Any], name: str) -> Decimal | None:
    return None if source.get(name) is None else decimal_param(source, name)


def int_param(source: Mapping[str, str], name: str, default: int) -> int:
    raw = source.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise invalid(name, raw) from None


def nested(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = required(body, name)
    if not isinstance(value, dict):
        raise invalid(name, value)
    return value


def side_of(raw: Any) -> Side:
    if raw not in ("buy", "sell"):
        raise invalid("side", raw)
    return Side(raw)


def time_in_force(raw: Any) -> tuple[TimeInForce, bool]:
    if raw not in TIME_IN_FORCE:
        raise invalid("time_in_force", raw)
    return TIME_IN_FORCE[raw]


def client_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not TEXT.fullmatch(raw):
        raise invalid("text", raw)
    return raw


def shown_text(client_id: str) -> str:
    """The engine names orders placed without a text itself; Gate shows those as ``apiv4``."""
    return client_id if TEXT.fullmatch(client_id) else DEFAULT_TEXT


def not_found(ref: str) -> GateError:
    if ref.startswith("t-"):
        return GateError(404, "CLIENT_ID_NOT_FOUND", f"Order with text {ref} not found")
    return GateError(404, "ORDER_NOT_FOUND", f"Order with ID {ref} not found")


def num(value: Decimal) -> str:
    """Gate's decimal strings: plain notation, no trailing zeros."""
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") or "0") if "." in text else text


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def user_id(account: str) -> int:
    return zlib.crc32(account.encode()) % 100_000_000


def order_status(order: SimOrder) -> str:
    if not order.status.final:
        return "open"
    return "closed" if order.status is OrderStatus.FILLED else "cancelled"


def finish_as(order: SimOrder) -> str:
    if not order.status.final:
        return "open"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return order.tif.value if order.status is OrderStatus.EXPIRED else "cancelled"


def futures_finish_as(order: SimOrder) -> str:
    """``_new`` while open; ``ioc`` for a market / ioc / fok remainder, as Gate reports those."""
    if not order.status.final:
        return "_new"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return "ioc" if order.status is OrderStatus.EXPIRED else "cancelled"


def next_funding(now: float) -> int:
    return (int(now) // FUNDING_INTERVAL + 1) * FUNDING_INTERVAL


def trigger_status(order: SimOrder) -> str:
    """A price order: ``open`` until its trigger trades, then ``finish`` (its order was placed) or
    ``failed``; ``cancelled`` if cancelled before."""
    if not order.triggered:
        return "cancelled" if order.status.final else "open"
    return "failed" if order.status is OrderStatus.REJECTED else "finish"


def final_refusal(order: SimOrder) -> GateError:
    if order.status is OrderStatus.CANCELED:
        return GateError(400, "ORDER_CANCELLED", "Order already cancelled")
    return GateError(400, "ORDER_CLOSED", "Order already closed")


# ---- amend: the engine has none, so the order is changed in place, as Gate keeps its id ---------


def amend(engine: MatchingEngine, order: SimOrder, amount: Decimal | None, price: Decimal | None) -> None:
    """Gate's amend: a new total amount (filled part included) and/or price, in place (see
    ``MatchingEngine.amend``: only a cut at the same price keeps the queue place; an amount at or
    below what has filled cancels the rest)."""
    market = engine.markets[order.symbol]
    lots = order.amount if amount is None else to_units(amount, market.lot, "amount")
    ticks = order.price if price is None else to_units(price, market.tick, "price")
    if lots <= 0:
        raise Reject("bad_amount", "amount must be positive")
    assert ticks is not None
    engine.amend(order, lots, ticks)


class GateSpotSim(SimVenue):
    venue = "gate"
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    # one socket path serves public and private channels alike, so every socket goes through
    # on_private_message, which hands public channels to on_client_message
    ws_paths: ClassVar[tuple[str, ...]] = ()
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws/v4/",)
    server_ping_interval = 30.0  # protocol-level ping/pong; Gate sends no application ping
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    book_channel: ClassVar[str] = "spot.order_book_update"
    trade_channel: ClassVar[str] = "spot.trades"
    book_path: ClassVar[str] = "/api/v4/spot/order_book"
    pair_param: ClassVar[str] = "currency_pair"
    instruments_path: ClassVar[str] = "/api/v4/spot/currency_pairs"
    intervals: ClassVar[tuple[str, ...]] = ("100ms",)
    depth: ClassVar[int] = 100  # the 100 ms window and the REST limit maximum
    full_every: ClassVar[int] = 64  # messages between unsolicited full pushes, per symbol
    trade_places: ClassVar[int] = 10  # trades pad to 10 decimals ("0.2010000000")
    ccxt_id: ClassVar[str | None] = "gate"
    ccxt_hosts = ("https://api.gateio.ws",)
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}}
    errors: ClassVar[dict[str, tuple[int, str, str]]] = ERRORS

    api_key_header = "KEY"
    limit_symbol_param = "currency_pair"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"}, 429,
                       {"X-Gate-RateLimit-Reset-Timestamp": str(math.ceil((now + over.wait) * 1000))})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 2_000_000 + 31 * i for i, s in enumerate(self.markets)}
        self.sent_id: dict[str, int] = dict(self.update_id)  # last u a message carried
        self.sent_count: dict[str, int] = {s: 0 for s in self.markets}
        self.views: dict[str, tuple[View, View]] = {s: self._window(s) for s in self.markets}
        self.quote_budgets: dict[str, Decimal] = {}  # market buy order id -> quote amount to spend
        self.expirations: dict[str, int] = {}  # price order id -> the expiration it was sent with

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}_{quote}"

    def _window(self, symbol: str) -> tuple[View, View]:
        ladder = self.ladders[symbol]
        return dict(ladder.top(True, self.depth)), dict(ladder.top(False, self.depth))

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return [_plain(ladder.price_str(ticks)), _plain(ladder.size_str(lots))]

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.instruments_path, self.instruments), web.get(self.book_path, self.order_book), *self.trading_routes()]

    async def instruments(self, request: web.Request) -> web.Response:
        return json_response([self.pair_info(s) for s in self.markets])

    def pair_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "id": self.native(symbol),
            "base": base,
            "base_name": base,
            "quote": quote,
            "quote_name": quote,
            "fee": num(self.engine.taker_fee * 100),  # percent
            "min_base_amount": ladder.size_str(1),
            "min_quote_amount": num(MIN_QUOTE[quote]),
            "amount_precision": ladder.size_decimals,
            "precision": ladder.price_decimals,
            "trade_status": "tradable",
            "sell_start": 1516378650,
            "buy_start": 1516378650,
            "delisting_time": 0,
            "type": "normal",
            "trade_url": f"https://www.gate.io/trade/{self.native(symbol)}",
            "st_tag": False,
        }

    async def order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get(self.pair_param, ""))
        if symbol is None:
            return json_response({"label": "INVALID_CURRENCY_PAIR", "message": "Invalid currency pair"}, status=400)
        limit = int(request.query.get("limit", "10"))
        if not 1 <= limit <= self.depth:
            return json_response({"label": "INVALID_PARAM_VALUE", "message": f"limit must be 1..{self.depth}"}, status=400)
        ladder = self.ladders[symbol]
        body = self.rest_times(time.time())
        if request.query.get("with_id") == "true":
            body = {"id": self.update_id[symbol], **body}
        body["asks"] = [self.level(ladder, p, q) for p, q in ladder.top(False, limit)]
        body["bids"] = [self.level(ladder, p, q) for p, q in ladder.top(True, limit)]
        return json_response(body)

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": int(now * 1000), "update": int(now * 1000)}

    # ---- trading: routes and auth -------------------------------------------------------------

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/spot/currencies", self.currencies),
            web.get(f"{API}/margin/currency_pairs", self.margin_pairs),
            web.get(f"{API}/account/detail", self.signed(self.account_detail)),
            web.get(f"{API}/spot/accounts", self.signed(self.spot_accounts)),
            web.post(f"{API}/spot/orders", self.signed(self.create_order)),
            web.get(f"{API}/spot/orders", self.signed(self.list_orders)),
            web.get(f"{API}/spot/orders/{{order_id}}", self.signed(self.get_order)),
            web.delete(f"{API}/spot/orders/{{order_id}}", self.signed(self.cancel_order)),
            web.patch(f"{API}/spot/orders/{{order_id}}", self.signed(self.amend_order)),
            web.get(f"{API}/spot/open_orders", self.signed(self.open_orders)),
            web.get(f"{API}/spot/my_trades", self.signed(self.my_trades)),
            web.post(f"{API}/spot/price_orders", self.signed(self.create_price_order)),
            web.get(f"{API}/spot/price_orders", self.signed(self.list_price_orders)),
            web.get(f"{API}/spot/price_orders/{{order_id}}", self.signed(self.get_price_order)),
            web.delete(f"{API}/spot/price_orders/{{order_id}}", self.signed(self.cancel_price_order)),
            web.get(f"{API}/wallet/fee", self.signed(self.trading_fee)),
        ]

    def signed(self, handler: Private) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def check(request: web.Request) -> web.Response:
            raw = await request.read()
            try:
                key = self.authenticate(request, raw)
                info = request.match_info
                return handler(Call(key, request.query, parse_body(raw), info.get("order_id", ""), info.get("contract", "")))
            except GateError as exc:
                return error(exc.status, exc.label, exc.message)
            except Reject as exc:
                return error(*self.errors.get(exc.reason, (400, "INVALID_PARAM_VALUE", str(exc))))

        return check

    def authenticate(self, request: web.Request, raw: bytes) -> ApiKey:
        """Gate's checks in Gate's order: headers present, Timestamp fresh (before the key is even
        looked up), key known, signature, then write permission."""
        headers = request.headers
        for name in ("KEY", "Timestamp", "SIGN"):
            if name not in headers:
                raise GateError(400, "MISSING_REQUIRED_HEADER", f"Missing required header: {name}")
        stamp = headers["Timestamp"]
        if not fresh(stamp):
            raise GateError(403, "REQUEST_EXPIRED", f"gap between request Timestamp and server time exceeds {WINDOW}")
        key = self.api_keys.get(headers["KEY"])
        if key is None:
            raise GateError(401, "INVALID_KEY", "Invalid key provided")
        query = unquote_plus(request.query_string)
        expected = gate_signature(key.secret, request.method, request.path, query, raw, stamp)
        if not hmac.compare_digest(headers["SIGN"], expected):
            raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch")
        if request.method != "GET" and "trade" not in key.permissions:
            raise GateError(403, "READ_ONLY", "API key is read-only")
        return key

    # ---- trading: reference data and account ----------------------------------------------------

    async def currencies(self, request: web.Request) -> web.Response:
        codes = sorted({code for s in self.markets for code in parse_standard(s)[:2]})
        return json_response([currency_info(code) for code in codes])

    async def margin_pairs(self, request: web.Request) -> web.Response:
        return json_response([])

    def account_detail(self, call: Call) -> web.Response:
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "ip_whitelist": [],
                "currency_pairs": [],
                "key": {"mode": 1},  # classic spot account; 2 would be a unified account
                "tier": 0,
                "tier_expire_time": "0001-01-01T00:00:00Z",
                "copy_trading_role": 0,
            }
        )

    def spot_accounts(self, call: Call) -> web.Response:
        account = self.engine.account(call.key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        wanted = call.query.get("currency")
        return json_response(
            [
                {"currency": a, "available": num(account.available(a)), "locked": num(account.locked.get(a, Decimal(0)))}
                for a in assets
                if wanted is None or a == wanted
            ]
        )

    def trading_fee(self, call: Call) -> web.Response:
        futures = feed_class("gateswap")
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "taker_fee": num(self.engine.taker_fee),
                "maker_fee": num(self.engine.maker_fee),
                "gt_discount": False,
                "gt_taker_fee": "0",
                "gt_maker_fee": "0",
                "futures_taker_fee": num(Decimal(repr(futures.taker_fee))),
                "futures_maker_fee": num(Decimal(repr(futures.maker_fee))),
            }
        )

    # ---- trading: spot orders ----------------------------------------------------------------

    def create_order(self, call: Call) -> web.Response:
        body = call.body
        if body.get("account", "spot") != "spot":
            raise invalid("account", body.get("account"))
        placement = self.placement(call.key.account, body.get("currency_pair"), body)
        kind = body.get("type", "limit")
        if kind == "limit":
            order = self.limit_order(placement, optional_decimal(body, "price"), iceberg(body))
        elif kind == "market":
            order = self.market_order(placement)
        else:
            raise invalid("type", kind)
        return json_response(self.order_json(order))

    def placement(self, account: str, pair: Any, put: Mapping[str, Any]) -> Placement:
        tif, post_only = time_in_force(put.get("time_in_force", "gtc"))
        return Placement(
            account, self.pair(pair), side_of(put.get("side")), decimal_param(put, "amount"), tif, post_only,
            client_text(put.get("text")),
        )

    def limit_order(self, p: Placement, price: Decimal | None, visible: Decimal | None) -> SimOrder:
        if price is not None:
            self.check_size(p.symbol, p.amount * price)
        return self.engine.submit(
            p.account, p.symbol, p.side, OrderType.LIMIT, p.amount, price, tif=p.tif, post_only=p.post_only,
            iceberg_visible=visible, client_id=p.text,
        )

    def market_order(self, p: Placement) -> SimOrder:
        if p.tif is TimeInForce.GTC:  # gtc and poc: a market order is ioc or fok
            raise invalid("time_in_force", "poc" if p.post_only else "gtc")
        if p.side is Side.SELL:
            bid = self.touch(p.symbol, True)
            if bid is not None:
                self.check_size(p.symbol, p.amount * bid)
            return self.engine.submit(p.account, p.symbol, p.side, OrderType.MARKET, p.amount, tif=p.tif, client_id=p.text)
        self.check_size(p.symbol, p.amount)
        if self.engine.account(p.account).available(self.engine.markets[p.symbol].quote) < p.amount:
            raise GateError(400, "BALANCE_NOT_ENOUGH", "Not enough balance")
        base = self.affordable(p.symbol, p.amount)
        order = self.engine.submit(p.account, p.symbol, p.side, OrderType.MARKET, base, tif=p.tif, client_id=p.text)
        self.quote_budgets[order.order_id] = p.amount
        return order

    def affordable(self, symbol: str, budget: Decimal) -> Decimal:
        """The base amount, in whole lots, that ``budget`` quote buys walking the asks now."""
        market = self.engine.markets[symbol]
        ladder = self.ladders[symbol]
        left, lots = budget, 0
        for px, size in ladder.top(False, len(ladder.asks)):
            unit = px * market.tick * market.lot
            take = min(size, int(left / unit))
            lots += take
            left -= take * unit
            if take < size:
                break
        return lots * market.lot

    def check_size(self, symbol: str, value: Decimal) -> None:
        quote = self.engine.markets[symbol].quote
        least = MIN_QUOTE[quote]
        if value < least:
            raise GateError(
                400, "INVALID_PARAM_VALUE", f"Your order size {num(value)} {quote} is too small. The minimum is {num(least)} {quote}"
            )

    def touch(self, symbol: str, bid: bool) -> Decimal | None:
        top = self.ladders[symbol].top(bid, 1)
        return top[0][0] * self.engine.markets[symbol].tick if top else None

    def pair(self, native: Any) -> str:
        symbol = self.symbol_of(str(native or ""))
        if symbol is None:
            raise GateError(400, "INVALID_CURRENCY_PAIR", f"Invalid currency pair {native}")
        return symbol

    def lookup(self, account: str, ref: str) -> SimOrder:
        """An order by its id or, as Gate allows in the path, by its ``t-`` text."""
        by_text = ref.startswith("t-")
        try:
            return self.engine.find(account, None if by_text else ref, ref if by_text else None)
        except Reject:
            raise not_found(ref) from None

    def spot_order(self, call: Call) -> SimOrder:
        """The path's order as ``/spot/orders`` knows it: a price order only once it has fired."""
        symbol = self.pair(required(call.query, "currency_pair"))
        order = self.lookup(call.key.account, call.order_id)
        if order.waiting or order.symbol != symbol:
            raise not_found(call.order_id)
        return order

    def get_order(self, call: Call) -> web.Response:
        return json_response(self.order_json(self.spot_order(call)))

    def cancel_order(self, call: Call) -> web.Response:
        order = self.spot_order(call)
        if order.status.final:
            raise final_refusal(order)
        return json_response(self.order_json(self.engine.cancel(call.key.account, order.order_id)))

    def amend_order(self, call: Call) -> web.Response:
        """PATCH ``/spot/orders/{order_id}``: a new ``amount`` and/or ``price`` for a resting limit
        order, from the body or (as ccxt sends them) the query; the order keeps its id."""
        params = {**call.query, **call.body}
        order = self.spot_order(Call(call.key, params, {}, call.order_id))
        if order.status.final:
            raise final_refusal(order)
        if order.type is not OrderType.LIMIT:
            raise invalid("type", "market")
        amount, price = optional_decimal(params, "amount"), optional_decimal(params, "price")
        if amount is None and price is None:
            raise GateError(400, "MISSING_REQUIRED_PARAM", "Missing required parameter: amount or price")
        market = self.engine.markets[order.symbol]
        self.check_size(order.symbol, (amount or order.amount * market.lot) * (price or (order.price or 0) * market.tick))
        amend(self.engine, order, amount, price)
        return json_response(self.order_json(order))

    def open_orders(self, call: Call) -> web.Response:
        pair = call.query.get("currency_pair")
        symbol = None if pair is None else self.pair(pair)
        groups: dict[str, list[dict[str, Any]]] = {}
        for order in self.engine.open_orders(call.key.account, symbol):
            if not order.waiting:
                groups.setdefault(self.native(order.symbol), []).append(self.order_json(order))
        return json_response([{"currency_pair": p, "total": len(orders), "orders": orders} for p, orders in groups.items()])

    def list_orders(self, call: Call) -> web.Response:
        symbol = self.pair(required(call.query, "currency_pair"))
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and o.symbol == symbol and not o.waiting and o.status.final == (status == "finished")
        ]
        return json_response([self.order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    def my_trades(self, call: Call) -> web.Response:
        pair = call.query.get("currency_pair")
        fills = self.engine.account_fills(call.key.account, None if pair is None else self.pair(pair))
        since, until = int_param(call.query, "from", 0), int_param(call.query, "to", 0)
        fills = [
            f for f in fills
            if call.query.get("order_id", f.order_id) == f.order_id and f.ts >= since and (not until or f.ts <= until)
        ]
        return json_response([self.trade_json(f) for f in reversed(fills)][: int_param(call.query, "limit", 100)])

    # ---- trading: price-triggered orders ---------------------------------------------------------

    def create_price_order(self, call: Call) -> web.Response:
        trigger, put = nested(call.body, "trigger"), nested(call.body, "put")
        if put.get("type", "limit") != "limit":
            raise invalid("put.type", put.get("type"))  # a triggered market buy's amount would be quote
        if put.get("account", "normal") != "normal":
            raise invalid("put.account", put.get("account"))
        p = self.placement(call.key.account, call.body.get("market"), put)
        if p.post_only or p.tif is TimeInForce.FOK:
            raise invalid("put.time_in_force", put.get("time_in_force"))
        rule = trigger.get("rule")
        if rule not in (">=", "<="):
            raise invalid("trigger.rule", rule)
        expiration = trigger.get("expiration") or 0
        if not isinstance(expiration, int):
            raise invalid("trigger.expiration", expiration)
        price = optional_decimal(put, "price")
        if price is not None:
            self.check_size(p.symbol, p.amount * price)
        order = self.engine.submit(
            p.account, p.symbol, p.side, OrderType.STOP_LIMIT, p.amount, price,
            stop_price=decimal_param(trigger, "price"), tif=p.tif, client_id=p.text, trigger_above=rule == ">=",
        )
        self.expirations[order.order_id] = expiration
        return json_response({"id": int(order.order_id)})

    def price_order(self, call: Call) -> SimOrder:
        order = self.lookup(call.key.account, call.order_id)
        if order.stop is None:
            raise not_found(call.order_id)
        return order

    def get_price_order(self, call: Call) -> web.Response:
        return json_response(self.price_order_json(self.price_order(call)))

    def cancel_price_order(self, call: Call) -> web.Response:
        order = self.price_order(call)
        if not order.waiting or order.status.final:
            raise final_refusal(order)
        return json_response(self.price_order_json(self.engine.cancel(call.key.account, order.order_id)))

    def list_price_orders(self, call: Call) -> web.Response:
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        pair = call.query.get("market")
        symbol = None if pair is None else self.pair(pair)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and o.stop is not None and (symbol is None or o.symbol == symbol)
            and (trigger_status(o) == "open") == (status == "open")
        ]
        return json_response([self.price_order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    # ---- trading: Gate shapes --------------------------------------------------------------------

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        amount, left = self.amount_and_left(order)
        received, paid = (market.base, market.quote) if order.is_bid else (market.quote, market.base)
        return {
            "id": order.order_id,
            "text": shown_text(order.client_id),
            "amend_text": "-",
            "create_time": str(int(order.created)),
            "update_time": str(int(order.updated)),
            "create_time_ms": ms(order.created),
            "update_time_ms": ms(order.updated),
            "status": order_status(order),
            "currency_pair": self.native(order.symbol),
            "type": "market" if order.type is OrderType.MARKET else "limit",
            "account": "spot",
            "side": order.side.value,
            "amount": num(amount),
            "price": num((order.price or 0) * market.tick),
            "time_in_force": "poc" if order.post_only else order.tif.value,
            "iceberg": num((order.visible or 0) * market.lot),
            "left": num(left),
            "filled_amount": num(filled),
            "fill_price": num(order.cost),
            "filled_total": num(order.cost),
            "avg_deal_price": num((order.cost / filled).quantize(Decimal("1e-12")) if filled else Decimal(0)),
            "fee": num(order.fee),
            "fee_currency": received,  # as on Gate, a fee is charged in what the order receives
            "point_fee": "0",
            "gt_fee": "0",
            "gt_maker_fee": "0",
            "gt_taker_fee": "0",
            "gt_discount": False,
            "rebated_fee": "0",
            "rebated_fee_currency": paid,
            "stp_id": 0,
            "stp_act": "-",
            "finish_as": finish_as(order),
        }

    def amount_and_left(self, order: SimOrder) -> tuple[Decimal, Decimal]:
        """A market buy's amount and rest are quote currency, every other order's base."""
        budget = self.quote_budgets.get(order.order_id)
        if budget is not None:
            return budget, budget - order.cost
        lot = self.engine.markets[order.symbol].lot
        return order.amount * lot, order.remaining * lot

    def price_order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = trigger_status(order)
        return {
            "trigger": {
                "price": num((order.stop or 0) * market.tick),
                "rule": ">=" if order.trigger_above else "<=",
                "expiration": self.expirations.get(order.order_id, 0),
            },
            "put": {
                "type": "limit",
                "side": order.side.value,
                "price": num((order.price or 0) * market.tick),
                "amount": num(order.amount * market.lot),
                "account": "normal",
                "time_in_force": order.tif.value,
                "auto_borrow": False,
                "auto_repay": False,
                "text": shown_text(order.client_id),
            },
            "id": int(order.order_id),
            "user": user_id(order.account),
            "market": self.native(order.symbol),
            "ctime": int(order.created),
            "ftime": 0 if status == "open" else int(order.updated),
            "fired_order_id": int(order.order_id) if order.triggered else 0,
            "status": status,
            "reason": "",
        }

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        return {
            "id": str(fill.trade_id),
            "create_time": str(int(fill.ts)),
            "create_time_ms": f"{fill.ts * 1000:.6f}",
            "currency_pair": self.native(fill.symbol),
            "side": fill.side.value,
            "role": "taker" if fill.taker else "maker",
            "amount": num(fill.amount),
            "price": num(fill.price),
            "order_id": fill.order_id,
            "fee": num(fill.fee),
            "fee_currency": fill.fee_currency,
            "point_fee": "0",
            "gt_fee": "0",
            "amend_text": "-",
            "text": shown_text(fill.client_id),
            "deal": num(fill.price * fill.amount),
        }

    # ---- private channels (spot.orders, spot.usertrades) ------------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        channel = msg.get("channel") if isinstance(msg, dict) else None
        if channel not in (ORDERS, USER_TRADES):
            await self.on_client_message(conn, data)
            return
        payload = msg.get("payload") or []
        reply: dict[str, Any] = {"payload": payload}
        if "id" in msg:
            reply["id"] = msg["id"]
        try:
            key = self.channel_key(channel, msg)
            self.private_subscription(conn, channel, msg.get("event"), payload)
        except GateError as exc:
            # the auth service's REST error body, as Gate relays it under code 4
            body = orjson.dumps({"label": exc.label, "message": exc.message}).decode() + "\n"
            reply.update({"error": {"code": 4, "message": body}, "result": None})
        except ValueError as exc:
            reply.update({"error": {"code": 2, "message": str(exc)}, "result": {"status": "fail"}})
        else:
            conn.account = key.account
            reply["result"] = {"status": "success"}
        conn.send(self.envelope(channel, str(msg.get("event", "")), reply).decode())

    def channel_key(self, channel: str, msg: Mapping[str, Any]) -> ApiKey:
        """The request's ``auth``: KEY and SIGN, the hex HMAC-SHA512 of
        ``channel=<channel>&event=<event>&time=<time>``, with ``time`` (seconds) fresh."""
        auth = msg.get("auth")
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            raise GateError(401, "MISSING_REQUIRED_HEADER", "Missing required header: KEY")
        stamp = str(msg.get("time", ""))
        if not fresh(stamp):
            raise GateError(403, "REQUEST_EXPIRED", f"gap between request Timestamp and server time exceeds {WINDOW}")
        key = self.api_keys.get(str(auth.get("KEY", "")))
        if key is None:
            raise GateError(401, "INVALID_KEY", "Invalid key provided")
        signed = f"channel={channel}&event={msg.get('event')}&time={stamp}"
        expected = hmac.new(key.secret.encode(), signed.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(str(auth.get("SIGN", "")), expected):
            raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch")
        return key

    def private_subscription(self, conn: SimConnection, channel: str, event: Any, payload: list[Any]) -> None:
        """Pairs (or ``!all``) per private channel, in ``conn.state``."""
        if event not in ("subscribe", "unsubscribe"):
            raise ValueError(f"unknown event {event!r}")
        unknown = [p for p in payload if p != ALL and self.symbol_of(str(p)) is None]
        if unknown or not payload:
            raise ValueError(f"unknown currency pair {unknown[0] if unknown else ''}")
        pairs: set[str] = conn.state.setdefault("private", {}).setdefault(channel, set())
        if event == "subscribe":
            pairs.update(map(str, payload))
        else:
            pairs.difference_update(map(str, payload))

    def streaming_to(self, account: str) -> bool:
        return any(
            all(c.state.get("private", {}).get(ch) for ch in (ORDERS, USER_TRADES)) for c in self.private_connections(account)
        )

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The user trade first, then the order; price orders before their trigger are
        ``spot.priceorders`` news, not simulated."""
        order, fill = event.order, event.fill
        subscribed: dict[str, set[str]] = conn.state.get("private", {})
        wanted = {ALL, self.native(order.symbol)}
        frames: list[Frame] = []
        if fill is not None and wanted & subscribed.get(USER_TRADES, set()):
            frames.append(self.envelope(USER_TRADES, "update", {"result": [self.ws_user_trade(fill)]}).decode())
        if not order.waiting and wanted & subscribed.get(ORDERS, set()):
            frames.append(self.envelope(ORDERS, "update", {"result": [self.ws_order(order, fill)]}).decode())
        return frames

    def ws_order(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The REST order's fields (no ``status``: ``event`` and ``finish_as`` tell it) and the
        push's own: ``event`` put (accepted), update (filled in part), finish (closed)."""
        row = {k: v for k, v in self.order_json(order).items() if k != "status"}
        row.update({
            "create_time_ms": str(row["create_time_ms"]),
            "update_time_ms": str(row["update_time_ms"]),
            "user": user_id(order.account),
            "event": "finish" if order.status.final else ("update" if fill is not None else "put"),
            "auto_borrow": False,
            "auto_repay": False,
            "biz_info": "",
        })
        return row

    def ws_user_trade(self, fill: SimFill) -> dict[str, Any]:
        row = {k: v for k, v in self.trade_json(fill).items() if k != "deal"}
        row.update({"id": fill.trade_id, "user_id": user_id(fill.account), "create_time": int(fill.ts), "biz_info": ""})
        return row

    # ---- WebSocket --------------------------------------------------------------------------

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        channel = msg.get("channel", "")
        if channel.endswith(".ping"):
            self.client_pings += 1
            conn.send(self.envelope(channel[: -len("ping")] + "pong", "", {"error": None, "result": None}))
            return
        event = msg.get("event")
        payload = msg.get("payload") or []
        error = self.subscription_error(channel, event, payload)
        if error is not None:
            reply = {"payload": payload, "error": {"code": 2, "message": error}, "result": {"status": "fail"}}
        else:
            for symbol in self.subscribed_symbols(channel, payload):
                self.set_subscription(conn, symbol, channel, event == "subscribe")
            reply = {"payload": payload, "result": {"status": "success"}}
        if "id" in msg:
            reply["id"] = msg["id"]
        conn.send(self.envelope(channel, event or "", reply))

    def subscription_error(self, channel: str, event: Any, payload: list[Any]) -> str | None:
        if event not in ("subscribe", "unsubscribe"):
            return f"unknown event {event!r}"
        if channel == self.book_channel:
            if not self.valid_book_payload(payload):
                return f"Invalid argument provided: {payload}"
            pairs = payload[:1]
        elif channel == self.trade_channel:
            pairs = payload
        else:
            return f"unknown channel {channel}"
        unknown = [p for p in pairs if self.symbol_of(p) is None]
        return f"unknown currency pair {unknown[0]}" if unknown else None

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) == 2 and payload[1] in self.intervals

    def subscribed_symbols(self, channel: str, payload: list[str]) -> list[str]:
        pairs = payload[:1] if channel == self.book_channel else payload
        return [s for s in (self.symbol_of(p) for p in pairs) if s is not None]

    def set_subscription(self, conn: SimConnection, symbol: str, channel: str, on: bool) -> None:
        channels: set[str] = conn.subs.setdefault(symbol, set())
        if on:
            channels.add(channel)
        else:
            channels.discard(channel)
            if not channels:
                del conn.subs[symbol]

    def envelope(self, channel: str, event: str, fields: dict[str, Any]) -> bytes:
        now = time.time()
        return orjson.dumps({"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event, **fields})

    def encode(self, symbol: str, changes: list[Change]) -> bytes | None:
        self.update_id[symbol] += len(changes)
        old_bids, old_asks = self.views[symbol]
        new_bids, new_asks = self.views[symbol] = self._window(symbol)
        bids = self._diff(old_bids, new_bids)
        asks = self._diff(old_asks, new_asks)
        if not bids and not asks:
            return None
        self.sent_count[symbol] += 1
        full = self.sent_count[symbol] % self.full_every == 0 and symbol not in self.faults.skip
        if full:
            bids, asks = list(new_bids.items()), list(new_asks.items())
        first = self.sent_id[symbol] + 1
        if self.faults.take("skip", symbol):
            self.update_id[symbol] += 1  # an update this client never hears of
            first += 1
        self.sent_id[symbol] = self.update_id[symbol]
        return self.book_frame(symbol, first, self.update_id[symbol], bids, asks, full)

    def _diff(self, old: View, new: View) -> list[tuple[int, int]]:
        return [(p, new.get(p, 0)) for p in old.keys() | new.keys() if new.get(p, 0) != old.get(p, 0)]

    def book_frame(
        self, symbol: str, first: int, last: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]], full: bool
    ) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result: dict[str, Any] = {"t": int(now * 1000)}
        if full:
            result["full"] = True
        result.update(
            {
                "l": str(self.depth),
                **self.update_extras(now),
                "s": self.native(symbol),
                "U": first,
                "u": last,
                "b": [self.level(ladder, p, q) for p, q in sorted(bids, reverse=True)],
                "a": [self.level(ladder, p, q) for p, q in sorted(asks)],
            }
        )
        return self.envelope(self.book_channel, "update", {"result": result})

    def update_extras(self, now: float) -> dict[str, Any]:
        return {"e": "depthUpdate", "E": int(now)}

    def frames_for(self, conn: SimConnection, symbol: str, encoded: bytes | None) -> list[Frame]:
        if encoded is None or self.book_channel not in conn.subs[symbol]:
            return []
        return [encoded]

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if self.trade_channel in conn.subs[symbol] else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result = {
            "id": trade_id,
            "id_market": trade_id,
            "create_time": int(now),
            "create_time_ms": f"{now * 1000:.4f}",
            "side": "buy" if buy else "sell",
            "currency_pair": self.native(symbol),
            "amount": ladder.size_str(lots, self.trade_places),
            "price": ladder.price_str(ticks, self.trade_places),
            "range": f"{trade_id}-{trade_id}",
        }
        return self.envelope(self.trade_channel, "update", {"result": result})


class GateSwapSim(GateSpotSim):
    """USDT perpetuals on ``/v4/ws/usdt``: ``futures.order_book_update`` with ``{"p", "s"}`` levels
    in whole contracts (one contract = one lot here, the ``quanto_multiplier``), ``futures.trades``
    with a signed size, REST ``/api/v4/futures/usdt/order_book`` and ``/contracts``; trading on
    ``/api/v4/futures/usdt/...`` (see the module docstring)."""

    venue = "gateswap"
    ccxt_id = None  # "gate" in ccxt_configs is the spot venue's
    client_ccxt_id: ClassVar[str | None] = "gate"
    ccxt_options = {
        "fetchMarkets": {"types": ["swap"]},
        "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},
        "defaultType": "swap",
    }
    errors = {**ERRORS, **FUTURES_ERRORS}
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    ws_paths = ("/v4/ws/usdt",)
    private_ws_paths = ()
    book_channel = "futures.order_book_update"
    trade_channel = "futures.trades"
    book_path = "/api/v4/futures/usdt/order_book"
    pair_param = "contract"
    instruments_path = "/api/v4/futures/usdt/contracts"
    levels_allowed: ClassVar[tuple[str, ...]] = ("100",)

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{FUTURES}/contracts/{{contract}}", self.contract),
            web.get(f"{API}/spot/currencies", self.currencies),
            web.get(f"{API}/account/detail", self.signed(self.account_detail)),
            web.get(f"{FUTURES}/accounts", self.signed(self.futures_account)),
            web.post(f"{FUTURES}/orders", self.signed(self.create_futures_order)),
            web.get(f"{FUTURES}/orders", self.signed(self.list_futures_orders)),
            web.get(f"{FUTURES}/orders/{{order_id}}", self.signed(self.get_futures_order)),
            web.delete(f"{FUTURES}/orders/{{order_id}}", self.signed(self.cancel_futures_order)),
            web.put(f"{FUTURES}/orders/{{order_id}}", self.signed(self.amend_futures_order)),
            web.get(f"{FUTURES}/positions", self.signed(self.positions)),
            web.get(f"{FUTURES}/positions/{{contract}}", self.signed(self.one_position)),
            web.post(f"{FUTURES}/positions/{{contract}}/leverage", self.signed(self.set_leverage)),
            web.post(f"{FUTURES}/dual_mode", self.signed(self.set_dual_mode)),
            web.get(f"{FUTURES}/my_trades_timerange", self.signed(self.futures_trades)),
            web.get(f"{API}/wallet/fee", self.signed(self.futures_trading_fee)),
        ]

    # ---- futures: reference data and account --------------------------------------------------

    def futures_trading_fee(self, call: Call) -> web.Response:
        """``/wallet/fee`` as a client of this simulator reads it: the futures rates are the ones
        this engine charges (the spot fields are the spot venue's base tier)."""
        spot = feed_class("gate")
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "taker_fee": num(Decimal(repr(spot.taker_fee))),
                "maker_fee": num(Decimal(repr(spot.maker_fee))),
                "gt_discount": False,
                "gt_taker_fee": "0",
                "gt_maker_fee": "0",
                "futures_taker_fee": num(self.engine.taker_fee),
                "futures_maker_fee": num(self.engine.maker_fee),
            }
        )

    async def contract(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.match_info["contract"])
        if symbol is None:
            return error(404, "CONTRACT_NOT_FOUND", "Contract not found")
        return json_response(self.pair_info(symbol))

    def mark(self, symbol: str) -> Decimal:
        """The mark price: the book's mid (no index is simulated)."""
        bid, ask = self.touch(symbol, True), self.touch(symbol, False)
        if bid is None or ask is None:
            return bid or ask or Decimal(0)
        return (bid + ask) / 2

    def futures_account(self, call: Call) -> web.Response:
        return json_response(self.account_json(call.key.account))

    def account_json(self, name: str) -> dict[str, Any]:
        account = self.engine.account(name)
        position_margin = sum((p.margin for p in account.positions.values()), Decimal(0))
        locked = account.locked.get("USDT", Decimal(0))
        return {
            "total": num(account.balances.get("USDT", Decimal(0))),
            "unrealised_pnl": num(sum((self.pnl(s, p.size if side is not PositionSide.SHORT else -p.size, p.entry)
                                       for (s, side), p in account.positions.items()), Decimal(0))),
            "position_margin": num(position_margin),
            "order_margin": num(locked - position_margin),
            "available": num(account.available("USDT")),
            "point": "0",
            "bonus": "0",
            "currency": "USDT",
            "in_dual_mode": account.hedge_mode,
            "enable_credit": False,
            "position_initial_margin": num(position_margin),
            "maintenance_margin": "0",
        }

    def pnl(self, symbol: str, size: Decimal, entry: Decimal) -> Decimal:
        return (self.mark(symbol) - entry) * size if size else Decimal(0)

    # ---- futures: orders ------------------------------------------------------------------------

    def create_futures_order(self, call: Call) -> web.Response:
        body = call.body
        symbol = self.pair(required(body, "contract"))
        size = self.size_of(body)
        close = body.get("close") is True
        if close:
            size = self.closing_size(call.key.account, symbol)
        price = decimal_param(body, "price")
        tif, post_only = self.futures_tif(body.get("tif", "gtc"), price)
        reduce_only = close or body.get("reduce_only") is True
        side = Side.BUY if size > 0 else Side.SELL
        order = self.engine.submit(
            call.key.account, symbol, side, OrderType.LIMIT if price else OrderType.MARKET,
            abs(size) * self.engine.markets[symbol].lot, price or None, tif=tif, post_only=post_only,
            reduce_only=reduce_only, position_side=self.position_side(call.key.account, side, reduce_only),
            client_id=client_text(body.get("text")),
        )
        return json_response(self.futures_order_json(order), status=201)

    @staticmethod
    def size_of(body: Mapping[str, Any]) -> int:
        raw = body.get("size", 0)
        if not isinstance(raw, int) or isinstance(raw, bool) or (raw == 0 and body.get("close") is not True):
            raise invalid("size", raw)
        return raw

    def closing_size(self, account: str, symbol: str) -> int:
        """``close: true`` with size 0: the whole one-way position, the other way."""
        held = self.engine.position(account, symbol).size / self.engine.markets[symbol].lot
        if not held:
            raise GateError(400, "POSITION_EMPTY", "Position is empty")
        return -int(held)

    @staticmethod
    def futures_tif(raw: Any, price: Decimal) -> tuple[TimeInForce, bool]:
        tif, post_only = time_in_force(raw)
        if not price and (tif is not TimeInForce.IOC and tif is not TimeInForce.FOK):
            raise invalid("tif", raw)  # a market order (price 0) is ioc
        return tif, post_only

    def position_side(self, account: str, side: Side, reduce_only: bool) -> PositionSide:
        """Dual mode: a buy opens the long (or, reduce-only, closes the short), a sell the reverse."""
        if not self.engine.account(account).hedge_mode:
            return PositionSide.BOTH
        return PositionSide.LONG if (side is Side.BUY) != reduce_only else PositionSide.SHORT

    def futures_order(self, call: Call) -> SimOrder:
        order = self.lookup(call.key.account, call.order_id)
        if order.waiting:
            raise not_found(call.order_id)
        return order

    def get_futures_order(self, call: Call) -> web.Response:
        return json_response(self.futures_order_json(self.futures_order(call)))

    def cancel_futures_order(self, call: Call) -> web.Response:
        order = self.futures_order(call)
        if order.status.final:
            raise GateError(400, "ORDER_FINISHED", "Order finished")
        return json_response(self.futures_order_json(self.engine.cancel(call.key.account, order.order_id)))

    def amend_futures_order(self, call: Call) -> web.Response:
        """PUT ``/futures/usdt/orders/{order_id}``: a new total ``size`` (its sign the order's side)
        and/or ``price``; the order keeps its id."""
        order = self.futures_order(call)
        if order.status.final:
            raise GateError(400, "ORDER_FINISHED", "Order finished")
        size = call.body.get("size")
        price = optional_decimal(call.body, "price")
        if size is None and price is None:
            raise GateError(400, "MISSING_REQUIRED_PARAM", "Missing required parameter: size or price")
        amount = None
        if size is not None:
            if not isinstance(size, int) or (size < 0) != (order.side is Side.SELL):
                raise invalid("size", size)
            amount = abs(size) * self.engine.markets[order.symbol].lot
        amend(self.engine, order, amount, price)
        return json_response(self.futures_order_json(order))

    def list_futures_orders(self, call: Call) -> web.Response:
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        contract = call.query.get("contract")
        symbol = None if contract is None else self.pair(contract)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and (symbol is None or o.symbol == symbol) and not o.waiting
            and o.status.final == (status == "finished")
        ]
        return json_response([self.futures_order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    # ---- futures: positions, leverage, dual mode -------------------------------------------------

    def positions(self, call: Call) -> web.Response:
        account = self.engine.account(call.key.account)
        holding = call.query.get("holding") == "true"
        rows = [
            self.position_json(call.key.account, symbol, side)
            for (symbol, side), pos in sorted(account.positions.items()) if pos.size or not holding
        ]
        return json_response(rows)

    def one_position(self, call: Call) -> web.Response:
        symbol = self.pair(call.contract)
        if self.engine.account(call.key.account).hedge_mode:
            raise GateError(400, "POSITION_DUAL_MODE", "Dual mode positions are under /dual_comp/positions")
        return json_response(self.position_json(call.key.account, symbol, PositionSide.BOTH))

    def set_leverage(self, call: Call) -> web.Response:
        """``leverage`` N: isolated at N; ``leverage`` 0: cross, at ``cross_leverage_limit``."""
        symbol = self.pair(call.contract)
        leverage = decimal_param(call.query, "leverage")
        cross = leverage == 0
        if cross:
            leverage = optional_decimal(call.query, "cross_leverage_limit") or Decimal(CROSS_DEFAULT)
        if not Decimal(1) <= leverage <= Decimal(LEVERAGE_MAX):
            raise GateError(400, "LEVERAGE_TOO_HIGH" if leverage > 1 else "LEVERAGE_TOO_LOW", f"leverage {num(leverage)}")
        account = call.key.account
        mode = MarginMode.CROSS if cross else MarginMode.ISOLATED
        if self.engine.account(account).margin_modes.get(symbol, MarginMode.ISOLATED) is not mode:
            self.engine.set_margin_mode(account, symbol, mode)
        self.engine.set_leverage(account, symbol, leverage)
        side = PositionSide.LONG if self.engine.account(account).hedge_mode else PositionSide.BOTH
        return json_response(self.position_json(account, symbol, side))

    def set_dual_mode(self, call: Call) -> web.Response:
        raw = required(call.query, "dual_mode")
        if raw not in ("true", "false"):
            raise invalid("dual_mode", raw)
        self.engine.set_position_mode(call.key.account, raw == "true")
        return json_response(self.account_json(call.key.account))

    # ---- futures: Gate shapes ---------------------------------------------------------------------

    def futures_trades(self, call: Call) -> web.Response:
        """``/futures/usdt/my_trades_timerange``: the account's fills, newest first, ``size`` signed
        in contracts, between ``from`` and ``to`` (unix seconds)."""
        contract = call.query.get("contract")
        fills = self.engine.account_fills(call.key.account, None if contract is None else self.symbol_of(contract))
        since, until = int_param(call.query, "from", 0), int_param(call.query, "to", 0)
        fills = [f for f in fills if f.ts >= since and (not until or f.ts <= until)]
        return json_response([self.futures_trade_json(f) for f in reversed(fills)][: int_param(call.query, "limit", 100)])

    def futures_trade_json(self, fill: SimFill) -> dict[str, Any]:
        lots = int(fill.amount / self.engine.markets[fill.symbol].lot)
        return {
            "trade_id": str(fill.trade_id),
            "create_time": round(fill.ts, 3),
            "contract": self.native(fill.symbol),
            "order_id": fill.order_id,
            "size": lots if fill.side is Side.BUY else -lots,
            "close_size": 0,
            "price": num(fill.price),
            "role": "taker" if fill.taker else "maker",
            "text": shown_text(fill.client_id),
            "fee": num(fill.fee),
            "point_fee": "0",
        }

    def futures_order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        sign = 1 if order.is_bid else -1
        filled = order.filled * market.lot
        row: dict[str, Any] = {
            "id": int(order.order_id),
            "user": user_id(order.account),
            "contract": self.native(order.symbol),
            "create_time": round(order.created, 3),
            "update_time": round(order.updated, 3),
            "status": "finished" if order.status.final else "open",
            "finish_as": futures_finish_as(order),
            "size": sign * order.amount,
            "iceberg": 0,
            "left": sign * order.remaining,
            "price": num((order.price or 0) * market.tick),
            "fill_price": num((order.cost / filled).quantize(Decimal("1e-8")).normalize() if filled else Decimal(0)),
            "mkfr": num(self.engine.maker_fee),
            "tkfr": num(self.engine.taker_fee),
            "tif": "poc" if order.post_only else order.tif.value,
            "refu": 0,
            "is_reduce_only": order.reduce_only,
            "is_close": False,
            "is_liq": False,
            "text": shown_text(order.client_id),
            "amend_text": "-",
            "stp_id": 0,
            "stp_act": "-",
            "biz_info": "-",
        }
        if order.status.final:
            row["finish_time"] = round(order.updated, 3)
        return row

    def position_json(self, name: str, symbol: str, side: PositionSide) -> dict[str, Any]:
        account = self.engine.account(name)
        pos = self.engine.position(name, symbol, side)
        lot = self.engine.markets[symbol].lot
        signed = -pos.size if side is PositionSide.SHORT else pos.size
        leverage = account.leverages.get(symbol, Decimal(1))
        cross = account.margin_modes.get(symbol) is MarginMode.CROSS
        mark = self.mark(symbol)
        return {
            "user": user_id(name),
            "contract": self.native(symbol),
            "size": int(signed / lot),
            "leverage": "0" if cross else num(leverage),
            "cross_leverage_limit": num(leverage) if cross else "0",
            "leverage_max": LEVERAGE_MAX,
            "risk_limit": "1000000",
            "maintenance_rate": "0.005",
            "value": num(abs(signed) * mark),
            "margin": num(pos.margin),
            "entry_price": num(pos.entry),
            "liq_price": "0",
            "mark_price": num(mark),
            "unrealised_pnl": num(self.pnl(symbol, signed, pos.entry)),
            "realised_pnl": "0",
            "history_pnl": "0",
            "last_close_pnl": "0",
            "realised_point": "0",
            "history_point": "0",
            "adl_ranking": 5,
            "pending_orders": sum(1 for o in self.engine.open_orders(name, symbol) if o.position_side is side),
            "close_order": None,
            "mode": {PositionSide.BOTH: "single", PositionSide.LONG: "dual_long", PositionSide.SHORT: "dual_short"}[side],
            "update_time": int(time.time()),
        }

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), float(q)) for p, q in ladder.top(True, n)],
            [(ladder.price(p), float(q)) for p, q in ladder.top(False, n)],
        )

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return {"p": _plain(ladder.price_str(ticks)), "s": lots}

    def pair_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        return {
            "name": self.native(symbol),
            "type": "direct",
            "quanto_multiplier": _plain(f"{ladder.spec.lot:.8f}"),
            "order_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "mark_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "order_size_min": 1,
            "order_size_max": 1000000,
            "leverage_min": "1",
            "leverage_max": "100",
            "maker_fee_rate": "-0.0001",
            "taker_fee_rate": "0.00075",
            "in_delisting": False,
            "status": "trading",
            "enable_decimal": False,
            "order_price_deviate": "0.5",
            "mark_type": "index",
            "mark_price": num(self.mark(symbol)),
            "index_price": num(self.mark(symbol)),
            "last_price": num(self.mark(symbol)),
            "funding_rate": FUNDING_RATE,
            "funding_rate_indicative": FUNDING_RATE,
            "funding_interval": FUNDING_INTERVAL,
            "funding_next_apply": next_funding(time.time()),
            "interest_rate": "0.0003",
            "cross_leverage_default": CROSS_DEFAULT,
        }

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": round(now, 3), "update": round(now, 3)}

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) in (2, 3) and payload[1] in self.intervals and all(lv in self.levels_allowed for lv in payload[2:])

    def update_extras(self, now: float) -> dict[str, Any]:
        return {}

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        now = time.time()
        trade = {
            "size": lots if buy else -lots,
            "id": trade_id,
            "create_time": int(now),
            "create_time_ms": int(now * 1000),
            "price": _plain(self.ladders[symbol].price_str(ticks)),
            "contract": self.native(symbol),
        }
        return self.envelope(self.trade_channel, "update", {"result": [trade]})


SIMS: dict[str, type[SimVenue]] = {
    "gate": GateSpotSim,
    "gateswap": GateSwapSim,
}
