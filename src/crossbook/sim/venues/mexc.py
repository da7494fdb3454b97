"""Simulated MEXC spot v3.

Market data: JSON ``SUBSCRIPTION`` / ``UNSUBSCRIPTION`` / ``PING`` on /ws, binary protobuf
``PushDataV3ApiWrapper`` pushes (aggregated depth with ``fromVersion`` / ``toVersion``, aggregated
deals), REST ``/api/v3/depth`` with ``lastUpdateId`` and ``/api/v3/exchangeInfo``.

The protobuf field numbers are written out here from the published schema
(github.com/mexcdevelop/websocket-proto), apart from the client's, so the contract suite checks one
side against the other.

Spot trading, as ccxt calls it: ``/api/v3/account``, ``order`` (create, cancel, query),
``openOrders`` (list, cancel all), ``allOrders``, ``myTrades``, ``tradeFee`` and the wallet's
``capital/config/getall``; the contract list ``/api/v1/contract/detail`` (empty: no swaps here),
which ccxt's load_markets always reads. SIGNED requests carry ``X-MEXC-APIKEY`` and a lowercase hex
HMAC-SHA256 of totalParams (the query string, then the form body, no separator) in ``signature``,
with ``timestamp`` inside ``recvWindow`` (default 5000, at most 60000); errors in MEXC's codes.

Private stream (user data stream): SIGNED ``/api/v3/userDataStream`` POST makes a listenKey (60
minutes, at most 60 per account), PUT keeps it 60 minutes more, DELETE closes it, GET lists them.
A socket opened as ``/ws?listenKey=...`` follows the key's account (an unknown or expired key gets
the bare text ``Invalid listen key`` and the socket closes); there ``SUBSCRIPTION`` of
``spot@private.orders.v3.api.pb`` and ``spot@private.deals.v3.api.pb`` is acked like any stream,
``PING`` (any case) answers ``PONG``, and every order event is pushed as protobuf: a fill's
``privateDeals`` (306) then the order's ``privateOrders`` (304) with its cumulative quantities.
The private stream shares /ws with market data.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ...model import OrderStatus, OrderType, Side, TimeInForce
from ...symbols import parse_standard
from ...venues.protowire import len_field, string_field, varint_field
from ..access import ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..ratelimit import Over, refusal, retry_after
from ..server import Change, Frame, SimConnection, SimVenue, json_response

DEPTH = "public.aggre.depth.v3.api.pb"
DEALS = "public.aggre.deals.v3.api.pb"
INTERVALS = ("100ms", "10ms")
DEPTH_LIMIT_MAX = 5000

Handler = Callable[[web.Request], Awaitable[web.Response]]
SignedHandler = Callable[[ApiKey, dict[str, str]], Awaitable[web.Response]]

RECV_WINDOW_DEFAULT = 5000
RECV_WINDOW_MAX = 60_000
MIN_ORDER_QUOTE = Decimal(1)  # exchangeInfo's quoteAmountPrecision: the smallest order value
ORDER_ID_PREFIX = "C02__"  # MEXC spot order ids look like C02__443776347957968896
ORDER_ID_BASE = 443_776_347_957_968_896
MY_TRADES_LIMIT = 100  # default and maximum
ALL_ORDERS_LIMIT, ALL_ORDERS_LIMIT_MAX = 500, 1000
SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
# MEXC order type -> (engine type, time in force, post-only)
ORDER_TYPES: dict[str, tuple[OrderType, TimeInForce, bool]] = {
    "LIMIT": (OrderType.LIMIT, TimeInForce.GTC, False),
    "LIMIT_MAKER": (OrderType.LIMIT, TimeInForce.GTC, True),
    "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC, False),
    "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK, False),
    "MARKET": (OrderType.MARKET, TimeInForce.GTC, False),
}
STATUS = {OrderStatus.OPEN: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED", OrderStatus.FILLED: "FILLED"}
ILLEGAL = (700008, "Illegal characters found in parameter.")
OVERSOLD = (30005, "Oversold")  # a sell beyond the base balance
# reject reason (the engine's, or this module's own) -> (MEXC code, message); answered with HTTP 400
ERRORS: dict[str, tuple[int, str]] = {
    "insufficient_balance": (30004, "Insufficient position"),
    "post_only_would_take": (30041, "current order type can not place order"),
    "price_off_grid": (400, "price scale is invalid"),
    "amount_off_grid": (400, "quantity scale is invalid"),
    "quote_off_grid": (400, "amount scale is invalid"),
    "bad_number": ILLEGAL,
    "missing_price": (700004, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    "missing_quantity": (700004, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
    "missing_order_id": (700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
    "duplicate_client_id": (-2010, "Duplicate order sent."),
    "no_liquidity": (30010, "no valid trade price"),
    "unknown_symbol": (-1121, "Invalid symbol."),
    "unknown_order": (-2013, "Order does not exist."),
    "order_final": (-2011, "Unknown order sent."),
}
# ---- private stream (user data stream) ----
ORDERS = "private.orders.v3.api.pb"
DEALS_PRIVATE = "private.deals.v3.api.pb"
PRIVATE_CHANNELS = (f"spot@{ORDERS}", f"spot@{DEALS_PRIVATE}")
LISTEN_KEY_LIFETIME = 3600.0  # seconds: a listenKey lives 60 minutes past its creation or last PUT
LISTEN_KEYS_MAX = 60  # per account
# PrivateOrdersV3Api's status and orderType numbers
PB_STATUS = {OrderStatus.OPEN: 1, OrderStatus.FILLED: 2, OrderStatus.PARTIALLY_FILLED: 3}
PB_ORDER_TYPES = {"LIMIT": 1, "LIMIT_MAKER": 2, "IMMEDIATE_OR_CANCEL": 3, "FILL_OR_KILL": 4, "MARKET": 5}

# the one deposit network listed per coin in capital/config/getall: (network, coin name)
NETWORKS = {
    "BTC": ("BTC", "Bitcoin"),
    "ETH": ("ERC20", "Ethereum"),
    "SOL": ("SOL", "Solana"),
    "USDT": ("ERC20", "Tether"),
    "USDC": ("ERC20", "USD Coin"),
}


@dataclass(slots=True)
class ListenKey:
    account: str
    api_key: str
    expires: float


@dataclass(frozen=True, slots=True)
class EncodedDepth:
    """One tick's depth change, encoded once; each connection gets it under its own channel."""

    levels: bytes  # PublicAggreDepthsV3Api asks (1) and bids (2)
    versions: bytes  # fromVersion (4) and toVersion (5)
    send_time_ms: int


def wrapper(channel: str, native: str, send_time_ms: int, body_field: int, body: bytes) -> bytes:
    """PushDataV3ApiWrapper: channel 1, symbol 3, sendTime 6, then the oneof body."""
    return (
        string_field(1, channel)
        + string_field(3, native)
        + varint_field(6, send_time_ms)
        + len_field(body_field, body)
    )


def level(price: str, quantity: str) -> bytes:
    """PublicAggreDepthV3ApiItem: price 1, quantity 2."""
    return string_field(1, price) + string_field(2, quantity)


def ack(msg: str) -> str:
    """JSON replies travel as text frames; only the data pushes are binary."""
    return orjson.dumps({"id": 0, "code": 0, "msg": msg}).decode()


def refused(params: list[str]) -> str:
    # the venue acks a refused subscription with code 0 and this text (its colon is fullwidth)
    return ack(f"Not Subscribed successfully! [{','.join(params)}].  Reason： Blocked! ")


def error(code: int, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg}, status=400)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def num(value: Decimal) -> str:
    """MEXC's plain decimals: no exponent, no trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def native_order_id(order_id: str) -> str:
    return f"{ORDER_ID_PREFIX}{ORDER_ID_BASE + int(order_id)}"


def engine_order_id(native: str) -> str | None:
    digits = native.removeprefix(ORDER_ID_PREFIX)
    if digits == native or not digits.isdigit() or int(digits) <= ORDER_ID_BASE:
        return None
    return str(int(digits) - ORDER_ID_BASE)


def client_order_id(order_id: str, client_id: str) -> str | None:
    """The client's own id, or null where it sent none (the engine then made one up)."""
    return None if client_id == f"sim-{order_id}" else client_id


def order_type(order: SimOrder) -> str:
    if order.type is OrderType.MARKET:
        return "MARKET"
    if order.post_only:
        return "LIMIT_MAKER"
    return {TimeInForce.IOC: "IMMEDIATE_OR_CANCEL", TimeInForce.FOK: "FILL_OR_KILL"}.get(order.tif, "LIMIT")


def order_status(order: SimOrder) -> str:
    """MEXC has no EXPIRED: what an IOC, FOK or market order leaves unfilled is canceled."""
    if order.status in STATUS:
        return STATUS[order.status]
    return "PARTIALLY_CANCELED" if order.filled else "CANCELED"


def pb_status(order: SimOrder) -> int:
    """NEW 1, FILLED 2, PARTIALLY_FILLED 3, CANCELED 4, PARTIALLY_CANCELED 5."""
    if order.status in PB_STATUS:
        return PB_STATUS[order.status]
    return 5 if order.filled else 4


def bool_field(field: int, value: bool) -> bytes:
    """proto3 leaves a false bool out."""
    return varint_field(field, 1) if value else b""


def optional_string(field: int, value: str | None) -> bytes:
    return string_field(field, value) if value else b""


def sign(secret: str, total_params: str) -> str:
    """The SIGNED rule: lowercase hex HMAC-SHA256 of totalParams, the secret as the key."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def split_signature(params: str) -> tuple[str, str | None]:
    """A raw parameter string without its ``signature`` pair, and that signature."""
    pairs = params.split("&") if params else []
    signatures = [p.removeprefix("signature=") for p in pairs if p.startswith("signature=")]
    return "&".join(p for p in pairs if not p.startswith("signature=")), signatures[0] if signatures else None


def mandatory(name: str) -> web.Response:
    return error(700004, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def timing_error(params: dict[str, str]) -> web.Response | None:
    """MEXC's rule: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow."""
    if "timestamp" not in params:
        return mandatory("timestamp")
    try:
        stamp, window = int(params["timestamp"]), int(params.get("recvWindow", RECV_WINDOW_DEFAULT))
    except ValueError:
        return error(*ILLEGAL)
    if window > RECV_WINDOW_MAX:
        return error(700005, "recvWindow must less than 60000")
    now = ms(time.time())
    if stamp < now + 1000 and now - stamp <= window:
        return None
    return error(700003, "Timestamp for this request is outside of the recvWindow.")


def in_window(stamp: float, params: dict[str, str]) -> bool:
    """Whether a time lies in the request's optional startTime / endTime (ms, inclusive)."""
    at = ms(stamp)
    return int(params.get("startTime", at)) <= at <= int(params.get("endTime", at))


class MexcSpotSim(SimVenue):
    venue = "mexc"
    ccxt_id: ClassVar[str | None] = "mexc"
    ccxt_hosts = ("https://api.mexc.com",)
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/ws",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})

    api_key_header = "X-MEXC-APIKEY"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"code": 429, "msg": "Too Many Requests"}, 429, retry_after(over.wait))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version: dict[str, int] = {s: 43_296_363_236 + 1009 * i for i, s in enumerate(self.markets)}
        self.quote_sized: dict[str, Decimal] = {}  # order id -> the quoteOrderQty a market order spent
        self.listen_keys: dict[str, ListenKey] = {}

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/depth", self.depth),
            web.get("/api/v1/contract/detail", self.contract_detail),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/capital/config/getall", self.signed(self.coins)),
            web.get("/api/v3/account", self.signed(self.account_info)),
            web.post("/api/v3/order", self.signed(self.create_order)),
            web.delete("/api/v3/order", self.signed(self.cancel_order)),
            web.get("/api/v3/order", self.signed(self.get_order)),
            web.get("/api/v3/openOrders", self.signed(self.open_orders)),
            web.delete("/api/v3/openOrders", self.signed(self.cancel_open_orders)),
            web.get("/api/v3/allOrders", self.signed(self.all_orders)),
            web.get("/api/v3/myTrades", self.signed(self.my_trades)),
            web.get("/api/v3/tradeFee", self.signed(self.trade_fee)),
            web.post("/api/v3/userDataStream", self.signed(self.create_listen_key)),
            web.put("/api/v3/userDataStream", self.signed(self.keep_listen_key)),
            web.delete("/api/v3/userDataStream", self.signed(self.close_listen_key)),
            web.get("/api/v3/userDataStream", self.signed(self.list_listen_keys)),
        ]

    async def contract_detail(self, request: web.Request) -> web.Response:
        return json_response({"success": True, "code": 0, "data": []})  # futures are not simulated

    # ---- auth -----------------------------------------------------------------------------

    def signed(self, handler: SignedHandler) -> Handler:
        """A SIGNED endpoint: parameters from the query string and a form body (the query's win),
        checked by ``authenticate`` before ``handler`` sees them."""

        async def check(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            query, query_signature = split_signature(request.rel_url.raw_query_string)
            form, body_signature = split_signature(body)
            params = dict(parse_qsl(body, keep_blank_values=True))
            params.update(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
            params.pop("signature", None)
            key = self.authenticate(request, params, query + form, query_signature or body_signature)
            if isinstance(key, web.Response):
                return key
            try:
                return await handler(key, params)
            except (ValueError, ArithmeticError):
                return error(*ILLEGAL)

        return check

    def authenticate(
        self, request: web.Request, params: dict[str, str], total: str, signature: str | None
    ) -> ApiKey | web.Response:
        """Key, then the signature over totalParams, then the clock, then the key's permission."""
        presented = request.headers.get("X-MEXC-APIKEY", "")
        if not presented:
            return error(400, "api key required")
        key = self.api_keys.get(presented)
        if key is None:
            return error(10072, "Api key info invalid")
        if not signature:
            return mandatory("signature")
        if not hmac.compare_digest(signature.encode(), sign(key.secret, total).encode()):
            return error(700002, "Signature for this request is not valid.")
        late = timing_error(params)
        if late is not None:
            return late
        if ("read" if request.method == "GET" else "trade") not in key.permissions:
            return error(700007, "No permission to access the endpoint.")
        return key

    # ---- account ----------------------------------------------------------------------------

    async def coins(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        assets = sorted({a for s in self.markets for a in parse_standard(s)[:2]})
        return json_response([self.coin_json(a) for a in assets])

    @staticmethod
    def coin_json(asset: str) -> dict[str, Any]:
        network, name = NETWORKS.get(asset, (asset, asset))
        return {
            "coin": asset,
            "name": name,
            "networkList": [
                {"coin": asset, "name": name, "network": network, "netWork": network, "depositEnable": False,
                 "withdrawEnable": False, "depositDesc": None, "withdrawFee": None, "withdrawMin": None,
                 "withdrawMax": None, "minConfirm": 0, "sameAddress": False, "contract": None}
            ],
        }

    async def account_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        return json_response(
            {
                "makerCommission": int(self.engine.maker_fee * 10_000),
                "takerCommission": int(self.engine.taker_fee * 10_000),
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": "trade" in key.permissions,
                "canWithdraw": False,
                "canDeposit": False,
                "updateTime": None,
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": num(account.available(a)), "locked": num(account.locked.get(a, Decimal(0)))}
                    for a in assets
                ],
                "permissions": ["SPOT"],
            }
        )

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if self.symbol_of(params.get("symbol", "")) is None:
            return error(*ERRORS["unknown_symbol"])
        fees = {"makerCommission": float(self.engine.maker_fee), "takerCommission": float(self.engine.taker_fee)}
        return json_response({"data": fees, "code": 0, "msg": "success", "timestamp": ms(time.time())})

    # ---- orders -----------------------------------------------------------------------------

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(*ERRORS["unknown_symbol"])
        side = SIDES.get(params.get("side", ""))
        if side is None:
            return mandatory("side")
        if params.get("type") not in ORDER_TYPES:
            return error(-1128, "Combination of optional parameters invalid.")
        kind, tif, post_only = ORDER_TYPES[params["type"]]
        try:
            amount = self.order_amount(symbol, side, kind, params)
            price = None if kind is OrderType.MARKET or "price" not in params else Decimal(params["price"])
            self.check_minimum(symbol, side, amount, price, params)
            order = self.engine.submit(key.account, symbol, side, kind, amount, price, tif=tif, post_only=post_only,
                                       client_id=params.get("newClientOrderId") or None)
        except Reject as exc:
            return self.refusal(exc, side, symbol)
        if "quoteOrderQty" in params and "quantity" not in params:
            self.quote_sized[order.order_id] = Decimal(params["quoteOrderQty"])
        return json_response(self.created_json(order))

    def order_amount(self, symbol: str, side: Side, kind: OrderType, params: dict[str, str]) -> Decimal:
        """The base amount: ``quantity``, or for a market order what ``quoteOrderQty`` buys (or
        sells) walking the book now."""
        if "quantity" in params:
            return Decimal(params["quantity"])
        if kind is not OrderType.MARKET or "quoteOrderQty" not in params:
            raise Reject("missing_quantity", "quantity is required")
        quote = Decimal(params["quoteOrderQty"])
        market = self.engine.markets[symbol]
        if quote != quote.quantize(market.tick):
            raise Reject("quote_off_grid", f"quoteOrderQty {quote} has more places than {market.tick}")
        return self.lots_for(symbol, side, quote) * market.lot

    def lots_for(self, symbol: str, side: Side, quote: Decimal) -> int:
        ladder, market = self.ladders[symbol], self.engine.markets[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        left, lots = quote, 0
        for px in sorted(book, reverse=side is Side.SELL):
            lot_value = px * market.tick * market.lot
            take = min(book[px], int(left / lot_value))
            lots, left = lots + take, left - take * lot_value
            if take < book[px]:
                break
        return lots

    def check_minimum(
        self, symbol: str, side: Side, amount: Decimal, price: Decimal | None, params: dict[str, str]
    ) -> None:
        """MEXC refuses an order worth less than the market's minimum (a market order valued at
        the touch, or at the quote amount it names)."""
        ladder = self.ladders[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        if price is None and not book:
            return  # the engine refuses it: no liquidity
        if "quoteOrderQty" in params and "quantity" not in params:
            value = Decimal(params["quoteOrderQty"])
        else:
            touch = Decimal(ladder.price_str(min(book) if side is Side.BUY else max(book))) if book else Decimal(0)
            value = amount * (price if price is not None else touch)
        if amount <= 0 or value < MIN_ORDER_QUOTE:
            raise Reject("below_minimum", f"order value {value} below {MIN_ORDER_QUOTE}")

    def refusal(self, exc: Reject, side: Side, symbol: str) -> web.Response:
        if exc.reason == "insufficient_balance" and side is Side.SELL:
            return error(*OVERSOLD)
        if exc.reason == "below_minimum":
            quote = self.engine.markets[symbol].quote
            return error(30002, f"The minimum transaction volume cannot be less than：{MIN_ORDER_QUOTE}{quote}")
        return error(*ERRORS.get(exc.reason, (400, str(exc))))

    def lookup(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        """The order named by ``orderId`` or ``origClientOrderId`` in ``symbol``."""
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise Reject("unknown_symbol", "unknown symbol")
        native, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not native and not client_id:
            raise Reject("missing_order_id", "orderId or origClientOrderId is required")
        order_id = engine_order_id(native) if native else None
        if native and order_id is None:
            raise Reject("unknown_order", f"no order {native}")
        order = self.engine.find(key.account, order_id, None if native else client_id)
        if order.symbol != symbol:
            raise Reject("unknown_order", f"no order {native or client_id} in {symbol}")
        return order

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.order_json(self.lookup(key, params)))
        except Reject as exc:
            return error(*ERRORS[exc.reason])

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            order = self.lookup(key, params)
            self.engine.cancel(key.account, order.order_id)
        except Reject as exc:
            return error(*ERRORS["order_final" if exc.reason == "unknown_order" else exc.reason])
        return json_response(self.canceled_json(order))

    def symbols_in(self, params: dict[str, str]) -> list[str] | None:
        """The listed symbols of a comma-separated ``symbol``, or None if one is unknown."""
        symbols = [self.symbol_of(n) for n in params.get("symbol", "").split(",")]
        return None if None in symbols else [s for s in symbols if s is not None]

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(*ERRORS["unknown_symbol"])
        return json_response([self.order_json(o) for o in self.engine.open_orders(key.account, symbol)])

    async def cancel_open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbols = self.symbols_in(params)
        if symbols is None:
            return error(*ERRORS["unknown_symbol"])
        orders = [o for s in symbols for o in self.engine.open_orders(key.account, s)]
        for order in orders:
            self.engine.cancel(key.account, order.order_id)
        return json_response([self.canceled_json(o) for o in orders])

    async def all_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(*ERRORS["unknown_symbol"])
        limit = min(int(params.get("limit", ALL_ORDERS_LIMIT)), ALL_ORDERS_LIMIT_MAX)
        orders = [o for o in self.engine.orders.values()
                  if o.account == key.account and o.symbol == symbol and in_window(o.created, params)]
        return json_response([self.order_json(o) for o in orders[-limit:]])

    async def my_trades(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(*ERRORS["unknown_symbol"])
        order_id = engine_order_id(params["orderId"]) if "orderId" in params else None
        limit = min(int(params.get("limit", MY_TRADES_LIMIT)), MY_TRADES_LIMIT)
        fills = [f for f in self.engine.account_fills(key.account, symbol)
                 if in_window(f.ts, params) and ("orderId" not in params or f.order_id == order_id)]
        return json_response([self.trade_json(f) for f in fills[-limit:]])

    # ---- listenKeys ---------------------------------------------------------------------------

    def live_keys(self, account: str) -> list[str]:
        now = time.time()
        return [k for k, lk in self.listen_keys.items() if lk.account == account and lk.expires > now]

    async def create_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if len(self.live_keys(key.account)) >= LISTEN_KEYS_MAX:
            return error(730001, f"A maximum of {LISTEN_KEYS_MAX} listenKeys per account")
        listen_key = secrets.token_hex(32)
        self.listen_keys[listen_key] = ListenKey(key.account, key.key, time.time() + LISTEN_KEY_LIFETIME)
        return json_response({"listenKey": listen_key})

    def owned_listen_key(self, key: ApiKey, params: dict[str, str]) -> str | web.Response:
        listen_key = params.get("listenKey", "")
        if not listen_key:
            return mandatory("listenKey")
        if listen_key not in self.live_keys(key.account):
            return error(730708, "Invalid listenKey")
        return listen_key

    async def keep_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        listen_key = self.owned_listen_key(key, params)
        if isinstance(listen_key, web.Response):
            return listen_key
        self.listen_keys[listen_key].expires = time.time() + LISTEN_KEY_LIFETIME
        return json_response({"listenKey": listen_key})

    async def close_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        listen_key = self.owned_listen_key(key, params)
        if isinstance(listen_key, web.Response):
            return listen_key
        del self.listen_keys[listen_key]
        return json_response({"listenKey": listen_key})

    async def list_listen_keys(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"listenKey": self.live_keys(key.account)})

    # ---- MEXC shapes --------------------------------------------------------------------------

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        """An order as query, openOrders and allOrders show it."""
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        amount = order.amount * market.lot
        return {
            "symbol": self.native(order.symbol),
            "orderId": native_order_id(order.order_id),
            "orderListId": "-1",
            "clientOrderId": client_order_id(order.order_id, order.client_id),
            "price": num(price),
            "origQty": num(amount),
            "executedQty": num(order.filled * market.lot),
            "cummulativeQuoteQty": num(order.cost),
            "status": order_status(order),
            "timeInForce": None,
            "type": order_type(order),
            "side": order.side.value.upper(),
            "stopPrice": None,
            "icebergQty": None,
            "time": ms(order.created),
            "updateTime": ms(order.updated),
            "isWorking": True,
            "origQuoteOrderQty": num(self.quote_sized.get(order.order_id, price * amount)),
        }

    def created_json(self, order: SimOrder) -> dict[str, Any]:
        """A create is acknowledged with the order as placed, not its state."""
        full = self.order_json(order)
        return {k: full[k] for k in ("symbol", "orderId", "orderListId", "price", "origQty", "type", "side")} | {
            "transactTime": ms(order.created)
        }

    def canceled_json(self, order: SimOrder) -> dict[str, Any]:
        full = self.order_json(order)
        fields = ("symbol", "orderId", "clientOrderId", "price", "origQty", "executedQty", "cummulativeQuoteQty",
                  "status", "timeInForce", "type", "side")
        return {"origClientOrderId": full["clientOrderId"]} | {k: full[k] for k in fields}

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        return {
            "symbol": self.native(fill.symbol),
            "id": str(fill.trade_id),
            "orderId": native_order_id(fill.order_id),
            "orderListId": -1,
            "price": num(fill.price),
            "qty": num(fill.amount),
            "quoteQty": num(fill.price * fill.amount),
            "commission": num(fill.fee),
            "commissionAsset": fill.fee_currency,
            "time": ms(fill.ts),
            "isBuyer": fill.side is Side.BUY,
            "isMaker": not fill.taker,
            "isBestMatch": True,
            "isSelfTrade": False,
            "clientOrderId": client_order_id(fill.order_id, fill.client_id),
        }

    # ---- market data --------------------------------------------------------------------------

    async def exchange_info(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "timezone": "CST",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [self.symbol_info(s) for s in self.markets],
            }
        )

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "status": "1",
            "baseAsset": base,
            "baseAssetPrecision": ladder.size_decimals,
            "quoteAsset": quote,
            "quotePrecision": ladder.price_decimals,
            "quoteAssetPrecision": ladder.price_decimals,
            "baseCommissionPrecision": ladder.size_decimals,
            "quoteCommissionPrecision": ladder.price_decimals,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "quoteAmountPrecision": str(MIN_ORDER_QUOTE),
            "baseSizePrecision": ladder.size_str(1),
            "permissions": ["SPOT"],
            "filters": [],
            "maxQuoteAmount": "2000000",
            "makerCommission": "0",
            "takerCommission": "0.0005",
            "quoteAmountPrecisionMarket": "1",
            "maxQuoteAmountMarket": "100000",
            "tradeSideType": "1",
            "st": False,
        }

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = min(DEPTH_LIMIT_MAX, int(request.query.get("limit", "100")))
        ladder = self.ladders[symbol]
        return json_response(
            {
                "lastUpdateId": self.version[symbol],
                "bids": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(True, limit)],
                "asks": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(False, limit)],
            }
        )

    # ---- WebSocket --------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        """A socket opened as ``/ws?listenKey=...`` is the key's account's user data stream; an
        unknown or expired key gets MEXC's bare text answer and the socket closes."""
        listen_key = conn.query.get("listenKey")
        if listen_key is None:
            return
        entry = self.listen_keys.get(listen_key)
        if entry is None or entry.expires <= time.time() or entry.api_key not in self.api_keys:
            asyncio.ensure_future(self.refuse_listen_key(conn))
            return
        conn.account = entry.account
        conn.state["private"] = set()

    async def refuse_listen_key(self, conn: SimConnection) -> None:
        await conn.ws.send_str("Invalid listen key")
        await conn.close()

    def streaming_to(self, account: str) -> bool:
        return any(set(PRIVATE_CHANNELS) <= c.state["private"] for c in self.private_connections(account))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(msg, dict):
            return
        method = str(msg.get("method", "")).upper()
        if method == "PING":
            self.client_pings += 1
            conn.send(ack("PONG"))
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
            self.on_subscription(conn, method == "SUBSCRIPTION", [str(p) for p in msg.get("params", [])])

    def on_subscription(self, conn: SimConnection, subscribe: bool, params: list[str]) -> None:
        """Ack the known streams (their names joined by commas), refuse the rest. Private channels
        are known only on a listenKey's socket."""
        private: set[str] | None = conn.state.get("private")
        mine = [p for p in params if private is not None and p in PRIVATE_CHANNELS]
        if private is not None and subscribe:
            private.update(mine)
        elif private is not None:
            private.difference_update(mine)
        known = [(p, parsed) for p in params if (parsed := self.parse_stream(p)) is not None]
        for channel, (symbol, kind) in known:
            self.set_subscription(conn, symbol, kind, channel if subscribe else None)
        if known or mine:
            conn.send(ack(",".join([*mine, *(p for p, _ in known)])))
        unknown = [p for p in params if self.parse_stream(p) is None and p not in mine]
        if unknown:
            conn.send(refused(unknown))

    def parse_stream(self, channel: str) -> tuple[str, str] | None:
        """``spot@<kind>@<interval>@<SYMBOL>`` -> (standard symbol, kind), or None if unknown."""
        parts = channel.split("@")
        if len(parts) != 4 or parts[0] != "spot" or parts[1] not in (DEPTH, DEALS) or parts[2] not in INTERVALS:
            return None
        symbol = self.symbol_of(parts[3])
        return None if symbol is None else (symbol, parts[1])

    def set_subscription(self, conn: SimConnection, symbol: str, kind: str, channel: str | None) -> None:
        streams: dict[str, str] = conn.subs.setdefault(symbol, {})
        if channel is None:
            streams.pop(kind, None)
            if not streams:
                del conn.subs[symbol]
        else:
            streams[kind] = channel

    def encode(self, symbol: str, changes: list[Change]) -> EncodedDepth:
        first = self.version[symbol] + 1 + (1 if self.faults.take("skip", symbol) else 0)
        last = first + len(changes) - 1
        self.version[symbol] = last
        ladder = self.ladders[symbol]
        asks = b"".join(len_field(1, level(ladder.price_str(p), ladder.size_str(q))) for b, p, q in changes if not b)
        bids = b"".join(len_field(2, level(ladder.price_str(p), ladder.size_str(q))) for b, p, q in changes if b)
        versions = string_field(4, str(first)) + string_field(5, str(last))
        return EncodedDepth(asks + bids, versions, int(time.time() * 1000))

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if DEALS in conn.subs[symbol] else []

    def frames_for(self, conn: SimConnection, symbol: str, encoded: EncodedDepth) -> list[Frame]:
        channel = conn.subs[symbol].get(DEPTH)
        if channel is None:
            return []
        event_type = channel.rpartition("@")[0]  # the channel without its symbol
        body = encoded.levels + string_field(3, event_type) + encoded.versions
        return [wrapper(channel, self.native(symbol), encoded.send_time_ms, 313, body)]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        # PublicAggreDealsV3ApiItem: price 1, quantity 2, tradeType 3 (1 buy, 2 sell), time 4, tradeId 5
        item = (
            string_field(1, ladder.price_str(ticks))
            + string_field(2, ladder.size_str(lots))
            + varint_field(3, 1 if buy else 2)
            + varint_field(4, now)
            + string_field(5, str(trade_id))
        )
        event_type = f"spot@{DEALS}@100ms"
        body = len_field(1, item) + string_field(2, event_type)  # deals 1, eventType 2
        return wrapper(f"{event_type}@{native}", native, now, 314, body)


    # ---- private stream pushes ----------------------------------------------------------------

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """A fill's deal (``privateDeals``, 306) before the order's new state (``privateOrders``,
        304), each on the channel the socket subscribed."""
        channels: set[str] = conn.state.get("private", set())
        native, now = self.native(event.order.symbol), ms(time.time())
        frames: list[Frame] = []
        if event.fill is not None and f"spot@{DEALS_PRIVATE}" in channels:
            frames.append(wrapper(f"spot@{DEALS_PRIVATE}", native, now, 306, self.deal_pb(event.fill)))
        if f"spot@{ORDERS}" in channels:
            frames.append(wrapper(f"spot@{ORDERS}", native, now, 304, self.order_pb(event.order, event.fill)))
        return frames

    def order_pb(self, order: SimOrder, fill: SimFill | None) -> bytes:
        """PrivateOrdersV3Api: id 1, clientId 2, price 3, quantity 4, amount 5, avgPrice 6,
        orderType 7, tradeType 8, isMaker 9, remainAmount 10, remainQuantity 11, lastDealQuantity
        12, cumulativeQuantity 13, cumulativeAmount 14, status 15, createTime 16."""
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        quantity = order.amount * market.lot
        filled = order.filled * market.lot
        amount = self.quote_sized.get(order.order_id, price * quantity)
        remain = Decimal(0) if order.status.final else quantity - filled
        return (
            string_field(1, native_order_id(order.order_id))
            + optional_string(2, client_order_id(order.order_id, order.client_id))
            + string_field(3, num(price))
            + string_field(4, num(quantity))
            + string_field(5, num(amount))
            + string_field(6, num(order.cost / filled) if filled else "0")
            + varint_field(7, PB_ORDER_TYPES[order_type(order)])
            + varint_field(8, 1 if order.is_bid else 2)
            + bool_field(9, fill is not None and not fill.taker)
            + string_field(10, num(Decimal(0) if order.status.final else max(amount - order.cost, Decimal(0))))
            + string_field(11, num(remain))
            + (string_field(12, num(fill.amount)) if fill is not None else b"")
            + string_field(13, num(filled))
            + string_field(14, num(order.cost))
            + varint_field(15, pb_status(order))
            + varint_field(16, ms(order.created))
        )

    def deal_pb(self, fill: SimFill) -> bytes:
        """PrivateDealsV3Api: price 1, quantity 2, amount 3, tradeType 4, isMaker 5, isSelfTrade
        6, tradeId 7, clientOrderId 8, orderId 9, feeAmount 10, feeCurrency 11, time 12."""
        return (
            string_field(1, num(fill.price))
            + string_field(2, num(fill.amount))
            + string_field(3, num(fill.price * fill.amount))
            + varint_field(4, 1 if fill.side is Side.BUY else 2)
            + bool_field(5, not fill.taker)
            + string_field(7, str(fill.trade_id))
            + optional_string(8, client_order_id(fill.order_id, fill.client_id))
            + string_field(9, native_order_id(fill.order_id))
            + string_field(10, num(fill.fee))
            + string_field(11, fill.fee_currency)
            + varint_field(12, ms(fill.ts))
        )


SIMS: dict[str, type[SimVenue]] = {
    "mexc": MexcSpotSim,
}
