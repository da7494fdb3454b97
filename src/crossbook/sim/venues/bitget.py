"""Simulated Bitget v2 spot and USDT-M futures.

Market data: ``/v2/ws/public`` with ``{"op": "subscribe", "args": [{instType, channel, instId}]}``,
per-arg ``event`` acks and error events, the ``books`` channel (full-depth ``snapshot`` then
``update`` messages, each with ``seq`` and a signed CRC32 over the best 25 levels per side of the
strings sent), ``trade`` (a snapshot of recent trades on subscribe, then updates), text ``ping`` ->
``pong`` with connections dropped after ``ping_timeout`` seconds without a ping, and the instruments
endpoints ``/api/v2/spot/public/symbols`` and ``/api/v2/mix/market/contracts``; for USDT-M futures
the current funding rate, ``/api/v2/mix/market/current-fund-rate`` (a fixed 0.0001 and the next
8-hour boundary). Futures trading (the mix order, position and account endpoints) is not simulated.

Spot trading as ccxt calls it for a classic (non-UTA) account: the public coin list and margin
pairs, the signed ``/api/v3/account/settings`` probe (refused with 40084, which is how ccxt learns
the account is classic), ``/api/v2/spot/account/assets``, ``place-order``, ``cancel-order``,
``orderInfo``, ``unfilled-orders``, ``fills``, the plan (trigger) orders and ``/api/v2/common/trade-rate``.
Requests are signed as Bitget signs them: ``ACCESS-SIGN`` = base64 HMAC-SHA256 of
``timestamp + METHOD + path (+ "?" + query) + body`` with ``ACCESS-KEY``, ``ACCESS-TIMESTAMP``
(ms, within 30 s) and ``ACCESS-PASSPHRASE``; every answer is the ``{"code", "msg", "requestTime",
"data"}`` envelope, errors in Bitget's codes. A market buy's ``size`` is quote currency, as on the
venue: it buys what that much quote pays for, taker fee included.

The private stream is ``/v2/ws/private``: ``login`` with apiKey, passphrase, a timestamp in
seconds within 30 s and sign = base64 HMAC-SHA256 of timestamp + "GET" + "/user/verify" (failures
are Bitget's 30xxx ``error`` events, ``code`` a number), text ping/pong, and the spot ``orders`` and
``fill`` channels (instId a symbol or ``default``): ``orders`` rows carry the cumulative
``accBaseVolume`` and the latest fill (``baseVolume``, ``fillPrice``, ``tradeId``, ``fillFee``
negative, ``tradeScope`` T/M), ``fill`` rows one trade (``tradeScope`` taker/maker, ``feeDetail``
with a negative ``totalFee``). Futures' private channels are not simulated.

Faults: ``corrupt`` sends a wrong checksum; ``skip`` loses one update that changes the best 25
levels (its ``seq`` numbers are spent), which the client sees only through the next checksum.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar
from urllib.parse import unquote

import orjson
from aiohttp import web

from ...book.checksum import crc32_signed, interleaved
from ...model import OrderStatus, OrderType, Side, TimeInForce
from ...symbols import parse_standard
from ..access import ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..market import Ladder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

CHECKSUM_DEPTH = 25
RECENT_TRADES = 50
CHANNELS = ("books", "trade")
PRIVATE_CHANNELS = ("orders", "fill")
LOGIN_WINDOW_S = 30  # "the request will expire 30 seconds after the timestamp"
TIMESTAMP_WINDOW_MS = 30_000  # "rejected if the timestamp differs from the server's by more than 30 s"

Handler = Callable[[web.Request], Awaitable[web.Response]]
Params = dict[str, Any]
Private = Callable[[ApiKey, Params], Awaitable[web.Response]]

STATUS = {
    OrderStatus.OPEN: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",  # IOC / FOK / market remainders
    OrderStatus.REJECTED: "cancelled",
}
FORCES = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "post_only": TimeInForce.GTC}
# headers every private request carries -> the code Bitget answers when one is missing
REQUIRED_HEADERS = (
    ("ACCESS-KEY", "40001", "ACCESS_KEY cannot be empty"),
    ("ACCESS-SIGN", "40003", "Signature cannot be empty"),
    ("ACCESS-TIMESTAMP", "40005", "Invalid ACCESS_TIMESTAMP"),
    ("ACCESS-PASSPHRASE", "40011", "ACCESS_PASSPHRASE cannot be empty"),
)
# engine reject reason -> (Bitget code, message); each code is one ccxt 4.5.90 maps to the matching
# exception (43012 InsufficientFunds, 43001 OrderNotFound, 41103/40808/45110/43011 InvalidOrder)
ERRORS: dict[str, tuple[str, str]] = {
    "insufficient_balance": ("43012", "Insufficient balance"),
    "post_only_would_take": ("43011", "The parameter does not meet the specification: the post_only order would take liquidity"),
    "price_off_grid": ("41103", "param price scale error error"),
    "stop_price_off_grid": ("41103", "param price scale error error"),
    "amount_off_grid": ("40808", "Parameter verification exception size checkBDScale error"),
    "bad_amount": ("45110", "less than the minimum order quantity"),
    "bad_number": ("40017", "Parameter verification failed"),
    "missing_price": ("40019", "Parameter price cannot be empty"),
    "missing_stop": ("40019", "Parameter triggerPrice cannot be empty"),
    "duplicate_client_id": ("40500", "Client_oid check error"),
    "no_liquidity": ("43011", "The parameter does not meet the specification: no liquidity"),
    "unknown_order": ("43001", "The order does not exist"),
    "order_final": ("43001", "The order does not exist"),
}
BAD_PARAMETER = ("40017", "Parameter verification failed")
CLASSIC_ACCOUNT = ("40084", "You are in Classic Account mode, and the Unified Account API is not supported")
PLAN_NOT_FOUND = ("43025", "Plan order does not exist")
FUNDING_RATE = "0.0001"  # a fixed funding rate: the engine settles none
FUNDING_HOURS = 8
CHAINS = {"BTC": "BTC", "ETH": "ERC20", "SOL": "SOL", "USDT": "TRC20", "USDC": "ERC20"}


class BitgetError(Exception):
    """A request Bitget refuses, answered as ``{"code": code, "msg": msg}``."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _ms(seconds: float | None = None) -> int:
    return int((time.time() if seconds is None else seconds) * 1000)


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": _ms(), "data": data}


def _refusal(code: str, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg, "requestTime": _ms(), "data": None}, status=400)


def _text(payload: Any) -> str:
    """Bitget sends JSON in text frames (the base sends bytes as binary frames)."""
    return orjson.dumps(payload).decode()


def _error(code: int, msg: str, **extra: Any) -> str:
    return _text({"event": "error", "code": code, "msg": msg, **extra})


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def prehash(timestamp: str, method: str, path: str, query: str, body: str) -> str:
    """Bitget's string to sign; the ``?`` appears only with a query."""
    return timestamp + method.upper() + path + (f"?{query}" if query else "") + body


def signature(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise BitgetError("40019", f"Parameter {name} cannot be empty")
    return str(value)


def _decimal(params: Params, name: str) -> Decimal:
    return Decimal(_required(params, name))


class BitgetSpotSim(SimVenue):
    venue = "bitget"
    ccxt_id: ClassVar[str | None] = "bitget"
    ccxt_hosts = ("https://api.{hostname}",)
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}}
    key_needs_passphrase = True
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/v2/ws/public",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/v2/ws/private",)
    faults_supported = frozenset({"drop", "skip", "corrupt", "stall", "delay"})
    inst_type: ClassVar[str] = "SPOT"
    ping_timeout: float = 120.0  # the server drops a socket that sent no "ping" for this long

    api_key_header = "ACCESS-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"code": "429", "msg": "Too Many Requests", "requestTime": int(now * 1000), "data": None}, 429)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq: dict[str, int] = {s: 4_000_000_000 + 100_000 * i for i, s in enumerate(self.markets)}
        self.last_checksum: dict[str, int] = {s: self.checksum(s) for s in self.markets}
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._watchdogs: set[asyncio.Task[None]] = set()
        self.quote_sizes: dict[str, Decimal] = {}  # order id -> the quote size of a market buy

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST: public -----------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/spot/public/symbols", self.symbols_info),
            web.get("/api/v2/spot/public/coins", self.coins),
            web.get("/api/v2/margin/currencies", self.margin_currencies),
            *self.trading_routes(),
        ]

    async def symbols_info(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [self.symbol_info(s) for s in self.markets if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "minTradeAmount": "0",
            "maxTradeAmount": "10000000000",
            "takerFeeRate": _num(self.engine.taker_fee),
            "makerFeeRate": _num(self.engine.maker_fee),
            "pricePrecision": str(ladder.price_decimals),
            "quantityPrecision": str(ladder.size_decimals),
            "quotePrecision": str(ladder.price_decimals),
            "minTradeUSDT": "1",
            "status": "online",
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
            "orderQuantity": "200",
            "areaSymbol": "no",
        }

    async def coins(self, request: web.Request) -> web.Response:
        coins = sorted({c for s in self.markets for c in parse_standard(s)[:2]})
        wanted = request.query.get("coin")
        return json_response(_envelope([self.coin_info(i, c) for i, c in enumerate(coins, 1) if wanted in (None, c)]))

    def coin_info(self, coin_id: int, coin: str) -> dict[str, Any]:
        chain = {
            "chain": CHAINS.get(coin, coin),
            "needTag": "false",
            "withdrawable": "true",
            "rechargeable": "true",
            "withdrawFee": "0",
            "extraWithdrawFee": "0",
            "depositConfirm": "12",
            "withdrawConfirm": "12",
            "minDepositAmount": "0",
            "minWithdrawAmount": "0",
            "browserUrl": "",
            "contractAddress": "",
            "withdrawStep": "0",
            "withdrawMinScale": "8",
            "congestion": "normal",
        }
        return {"coinId": str(coin_id), "coin": coin, "transfer": "true", "chains": [chain], "areaCoin": "no"}

    async def margin_currencies(self, request: web.Request) -> web.Response:
        return json_response(_envelope([]))  # no margin pairs are simulated

    # ---- REST: private ----------------------------------------------------------------------

    def trading_routes(self) -> list[web.RouteDef]:
        spot = "/api/v2/spot"
        return [
            web.get("/api/v3/account/settings", self.signed(self.account_settings)),
            web.get(f"{spot}/account/assets", self.signed(self.assets)),
            web.post(f"{spot}/trade/place-order", self.signed(self.place_order)),
            web.post(f"{spot}/trade/cancel-order", self.signed(self.cancel_order)),
            web.get(f"{spot}/trade/orderInfo", self.signed(self.order_info)),
            web.get(f"{spot}/trade/unfilled-orders", self.signed(self.unfilled_orders)),
            web.get(f"{spot}/trade/fills", self.signed(self.fills)),
            web.post(f"{spot}/trade/place-plan-order", self.signed(self.place_plan_order)),
            web.post(f"{spot}/trade/cancel-plan-order", self.signed(self.cancel_plan_order)),
            web.get(f"{spot}/trade/current-plan-order", self.signed(self.current_plan_orders)),
            web.get("/api/v2/common/trade-rate", self.signed(self.trade_rate)),
        ]

    def signed(self, handler: Private) -> Handler:
        """Bitget's private-endpoint rule, then the handler; refusals in Bitget's own codes."""

        async def check(request: web.Request) -> web.Response:
            try:
                body = (await request.read()).decode()
                key = self.authenticate(request, body)
                if request.method == "POST" and "trade" not in key.permissions:
                    raise BitgetError("40014", "Incorrect permissions")
                return await handler(key, self.params_of(request, body))
            except BitgetError as exc:
                return _refusal(exc.code, exc.msg)
            except Reject as exc:
                return _refusal(*ERRORS.get(exc.reason, BAD_PARAMETER))
            except (ArithmeticError, ValueError):  # a number that does not parse
                return _refusal(*BAD_PARAMETER)

        return check

    def authenticate(self, request: web.Request, body: str) -> ApiKey:
        headers = request.headers
        for header, code, msg in REQUIRED_HEADERS:
            if not headers.get(header):
                raise BitgetError(code, msg)
        stamp = headers["ACCESS-TIMESTAMP"]
        if not stamp.isdigit():
            raise BitgetError("40005", "Invalid ACCESS_TIMESTAMP")
        if abs(_ms() - int(stamp)) > TIMESTAMP_WINDOW_MS:
            raise BitgetError("40008", "Request timestamp expired")
        key = self.api_keys.get(headers["ACCESS-KEY"])
        if key is None:
            raise BitgetError("40006", "Invalid ACCESS_KEY")
        if not hmac.compare_digest(headers["ACCESS-PASSPHRASE"].encode(), (key.passphrase or "").encode()):
            raise BitgetError("40012", "apikey/password is incorrect")
        # the query is signed as its raw, unescaped text
        message = prehash(stamp, request.method, request.path, unquote(request.query_string), body)
        if not hmac.compare_digest(headers["ACCESS-SIGN"].encode(), signature(key.secret, message).encode()):
            raise BitgetError("40009", "sign signature error")
        return key

    @staticmethod
    def params_of(request: web.Request, body: str) -> Params:
        if request.method == "GET":
            return dict(request.query)
        try:
            params = orjson.loads(body or "{}")
        except orjson.JSONDecodeError:
            raise BitgetError(*BAD_PARAMETER) from None
        if not isinstance(params, dict):
            raise BitgetError(*BAD_PARAMETER)
        return params

    def symbol_param(self, params: Params) -> str:
        native = _required(params, "symbol")
        symbol = self.symbol_of(native)
        if symbol is None:
            raise BitgetError("40034", f"Parameter {native} does not exist")
        return symbol

    def side_param(self, params: Params) -> Side:
        side = _required(params, "side").lower()
        if side not in ("buy", "sell"):
            raise BitgetError(*BAD_PARAMETER)
        return Side(side)

    def kind_param(self, params: Params) -> str:
        kind = _required(params, "orderType").lower()
        if kind not in ("limit", "market"):
            raise BitgetError(*BAD_PARAMETER)
        return kind

    def force_param(self, params: Params) -> str:
        force = str(params.get("force") or "gtc").lower()
        if force not in FORCES:
            raise BitgetError(*BAD_PARAMETER)
        return force

    # ---- trading ----------------------------------------------------------------------------

    async def account_settings(self, key: ApiKey, params: Params) -> web.Response:
        raise BitgetError(*CLASSIC_ACCOUNT)

    async def assets(self, key: ApiKey, params: Params) -> web.Response:
        account = self.engine.account(key.account)
        coins = sorted(set(account.balances) | set(account.locked))
        wanted = params.get("coin")
        now = str(_ms())
        rows = [
            {
                "coin": coin,
                "available": _num(account.available(coin)),
                "limitAvailable": "0",
                "frozen": _num(account.locked.get(coin, Decimal(0))),
                "locked": "0",
                "uTime": now,
            }
            for coin in coins
            if wanted in (None, coin)
        ]
        return json_response(_envelope(rows))

    async def place_order(self, key: ApiKey, params: Params) -> web.Response:
        symbol = self.symbol_param(params)
        side, kind, force = self.side_param(params), self.kind_param(params), self.force_param(params)
        size = _decimal(params, "size")
        market_buy = kind == "market" and side is Side.BUY
        order = self.engine.submit(
            key.account,
            symbol,
            side,
            OrderType.LIMIT if kind == "limit" else OrderType.MARKET,
            self.base_for_quote(key.account, symbol, size) if market_buy else size,
            _decimal(params, "price") if kind == "limit" else None,
            tif=FORCES[force],
            post_only=force == "post_only",
            client_id=params.get("clientOid"),
        )
        if market_buy:
            self.quote_sizes[order.order_id] = size
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    def base_for_quote(self, account: str, symbol: str, quote: Decimal) -> Decimal:
        """What ``quote`` buys now, walking the asks best first, with the taker fee paid out of it."""
        market = self.engine.markets[symbol]
        if quote > self.engine.account(account).available(market.quote):
            raise Reject("insufficient_balance", f"a market buy of {quote} {market.quote} exceeds the balance")
        asks = self.ladders[symbol].asks
        left, lots = quote / (1 + self.engine.taker_fee), 0
        for ticks in sorted(asks):
            lot_cost = ticks * market.tick * market.lot
            take = min(asks[ticks], int(left / lot_cost))
            lots += take
            left -= take * lot_cost
            if take < asks[ticks]:
                break
        return lots * market.lot

    async def place_plan_order(self, key: ApiKey, params: Params) -> web.Response:
        """A spot trigger order: a market (STOP) or limit (STOP_LIMIT) order once a trade reaches
        ``triggerPrice``. A ``total`` plan (a market buy in quote) is sized at the trigger price."""
        symbol = self.symbol_param(params)
        side, kind, force = self.side_param(params), self.kind_param(params), self.force_param(params)
        trigger, size = _decimal(params, "triggerPrice"), _decimal(params, "size")
        total = str(params.get("planType", "amount")).lower() == "total"
        lot = self.engine.markets[symbol].lot
        amount = (size / trigger / lot).to_integral_value(ROUND_DOWN) * lot if total else size
        order = self.engine.submit(
            key.account,
            symbol,
            side,
            OrderType.STOP_LIMIT if kind == "limit" else OrderType.STOP,
            amount,
            _decimal(params, "executePrice") if kind == "limit" else None,
            stop_price=trigger,
            tif=FORCES[force],
            client_id=params.get("clientOid"),
        )
        if total:
            self.quote_sizes[order.order_id] = size
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    def find(self, key: ApiKey, params: Params) -> SimOrder:
        return self.engine.find(key.account, params.get("orderId"), params.get("clientOid"))

    async def cancel_order(self, key: ApiKey, params: Params) -> web.Response:
        self.symbol_param(params)
        order = self.find(key, params)
        self.engine.cancel(key.account, order.order_id)
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    async def cancel_plan_order(self, key: ApiKey, params: Params) -> web.Response:
        try:
            order = self.find(key, params)
        except Reject:
            raise BitgetError(*PLAN_NOT_FOUND) from None
        if not order.waiting or order.status.final:
            raise BitgetError(*PLAN_NOT_FOUND)
        self.engine.cancel(key.account, order.order_id)
        return json_response(_envelope({"result": "success"}))

    async def order_info(self, key: ApiKey, params: Params) -> web.Response:
        try:
            order = self.find(key, params)
        except Reject:
            return json_response(_envelope([]))  # an unknown id is an empty list, not an error
        return json_response(_envelope([self.order_json(order)]))

    async def unfilled_orders(self, key: ApiKey, params: Params) -> web.Response:
        orders = self.open_orders(key, params, waiting=False)
        return json_response(_envelope([self.unfilled_json(o) for o in orders]))

    async def current_plan_orders(self, key: ApiKey, params: Params) -> web.Response:
        orders = self.open_orders(key, params, waiting=True)
        last = orders[-1].order_id if orders else ""
        return json_response(_envelope({"nextFlag": False, "idLessThan": last, "orderList": [self.plan_json(o) for o in orders]}))

    def open_orders(self, key: ApiKey, params: Params, *, waiting: bool) -> list[SimOrder]:
        """Newest first, as the venue lists them."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [o for o in self.engine.open_orders(key.account, symbol) if o.waiting == waiting]
        return sorted(orders, key=lambda o: o.seq, reverse=True)[: int(params.get("limit", 100))]

    async def fills(self, key: ApiKey, params: Params) -> web.Response:
        symbol = self.symbol_param(params)
        fills = [f for f in self.engine.account_fills(key.account, symbol) if params.get("orderId") in (None, f.order_id)]
        newest = list(reversed(fills))[: int(params.get("limit", 100))]
        return json_response(_envelope([self.fill_json(f) for f in newest]))

    async def trade_rate(self, key: ApiKey, params: Params) -> web.Response:
        self.symbol_param(params)
        rates = {"makerFeeRate": _num(self.engine.maker_fee), "takerFeeRate": _num(self.engine.taker_fee)}
        return json_response(_envelope(rates))

    # ---- Bitget shapes ----------------------------------------------------------------------

    @staticmethod
    def user_id(account: str) -> str:
        return str(zlib.crc32(account.encode()))

    @staticmethod
    def order_type(order: SimOrder) -> str:
        return "market" if order.type in (OrderType.MARKET, OrderType.STOP) else "limit"

    def size(self, order: SimOrder) -> str:
        """Base units, except a market buy's quote size."""
        if order.order_id in self.quote_sizes:
            return _num(self.quote_sizes[order.order_id])
        return _num(order.amount * self.engine.markets[order.symbol].lot)

    def average(self, order: SimOrder) -> str:
        filled = order.filled * self.engine.markets[order.symbol].lot
        return _num(order.cost / filled) if filled else "0"

    def fee_detail(self, order: SimOrder) -> str | None:
        """A JSON string, as the venue sends it; none before the first fill."""
        if not order.filled:
            return None
        coin = self.engine.markets[order.symbol].quote
        fee = -float(order.fee)
        detail = {
            coin: {"deduction": False, "feeCoinCode": coin, "totalDeductionFee": 0, "totalFee": fee},
            "newFees": {"c": 0, "d": 0, "deduction": False, "r": fee, "t": fee, "totalDeductionFee": 0},
        }
        return orjson.dumps(detail).decode()

    def base_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        return {
            "userId": self.user_id(order.account),
            "symbol": self.native(order.symbol),
            "orderId": order.order_id,
            "clientOid": order.client_id,
            "size": self.size(order),
            "orderType": self.order_type(order),
            "side": order.side.value,
            "status": STATUS[order.status],
            "baseVolume": _num(order.filled * market.lot),
            "quoteVolume": _num(order.cost),
            "enterPointSource": "API",
            "orderSource": "market" if self.order_type(order) == "market" else "normal",
            "cTime": str(_ms(order.created)),
            "uTime": str(_ms(order.updated or order.created)),
        }

    def limit_price(self, order: SimOrder) -> str:
        return _num((order.price or 0) * self.engine.markets[order.symbol].tick)

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        body = self.base_json(order)
        body.update(price=self.limit_price(order), priceAvg=self.average(order), feeDetail=self.fee_detail(order))
        body["cancelReason"] = ""
        return body

    def unfilled_json(self, order: SimOrder) -> dict[str, Any]:
        """``unfilled-orders`` names the order's price ``priceAvg`` and the fills' ``basePrice``."""
        body = self.base_json(order)
        body.update(priceAvg=self.limit_price(order), basePrice=self.average(order))
        return body

    def plan_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        return {
            "orderId": order.order_id,
            "clientOid": order.client_id,
            "symbol": self.native(order.symbol),
            "size": self.size(order),
            "planType": "total" if order.order_id in self.quote_sizes else "amount",
            "executePrice": self.limit_price(order),
            "triggerPrice": _num((order.stop or 0) * market.tick),
            "status": "live",
            "orderType": self.order_type(order),
            "side": order.side.value,
            "triggerType": "fill_price",
            "enterPointSource": "API",
            "cTime": str(_ms(order.created)),
            "uTime": str(_ms(order.updated or order.created)),
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        return {
            "userId": self.user_id(fill.account),
            "symbol": self.native(fill.symbol),
            "orderId": fill.order_id,
            "tradeId": str(fill.trade_id),
            "orderType": self.order_type(order),
            "side": fill.side.value,
            "priceAvg": _num(fill.price),
            "size": _num(fill.amount),
            "amount": _num(fill.price * fill.amount),
            "feeDetail": {"deduction": "no", "feeCoin": fill.fee_currency, "totalDeductionFee": "", "totalFee": _num(-fill.fee)},
            "tradeScope": "taker" if fill.taker else "maker",
            "cTime": str(_ms(fill.ts)),
            "uTime": str(_ms(fill.ts)),
        }

    # ---- WebSocket: requests ----------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["pinged"] = time.time()
        task = asyncio.create_task(self._ping_watchdog(conn))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
        await super().stop()

    async def _ping_watchdog(self, conn: SimConnection) -> None:
        while not conn.ws.closed:
            await asyncio.sleep(min(self.ping_timeout / 4, 5.0))
            if time.time() - conn.state["pinged"] > self.ping_timeout:
                await conn.close()

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self.client_pings += 1
            conn.state["pinged"] = time.time()
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
            op = msg["op"]
            args = msg["args"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(_error(30002, "illegal request"))
            return
        if op not in ("subscribe", "unsubscribe"):
            conn.send(_error(30003, "invalid op", op=op))
            return
        if not isinstance(args, list):
            conn.send(_error(30016, "Param error", op=op))
            return
        for arg in args:
            symbol = self._symbol_for(arg)
            if symbol is None:
                conn.send(_error(30001, self._missing(arg), arg=arg, op=op))
                continue
            conn.send(_text({"event": op, "arg": arg}))
            if op == "subscribe":
                self._subscribe(conn, symbol, arg["channel"], arg)
            else:
                self._unsubscribe(conn, symbol, arg["channel"])

    def _symbol_for(self, arg: Any) -> str | None:
        if not isinstance(arg, dict) or str(arg.get("instType", "")).upper() != self.inst_type:
            return None
        if arg.get("channel") not in CHANNELS:
            return None
        return self.symbol_of(str(arg.get("instId", "")))

    def _missing(self, arg: Any) -> str:
        if not isinstance(arg, dict):
            return "Param error"
        return f"instType:{arg.get('instType')},channel:{arg.get('channel')},instId:{arg.get('instId')} doesn't exist"

    def _subscribe(self, conn: SimConnection, symbol: str, channel: str, arg: dict[str, Any]) -> None:
        conn.subs.setdefault(symbol, set()).add(channel)
        if channel == "books":
            conn.send(self.book_snapshot(symbol, arg))
        else:
            conn.send(self._push("snapshot", arg, list(self.recent[symbol])))

    def _unsubscribe(self, conn: SimConnection, symbol: str, channel: str) -> None:
        channels: set[str] = conn.subs.get(symbol, set())
        channels.discard(channel)
        if not channels:
            conn.subs.pop(symbol, None)

    # ---- WebSocket: private stream (/v2/ws/private) -----------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        if "pinged" not in conn.state:  # the same 2-minute ping rule as the public sockets
            self.on_connect(conn)
        if data == "ping":
            conn.state["pinged"] = time.time()
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
            op, args = msg["op"], msg["args"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(_error(30002, "illegal request"))
            return
        if op == "login":
            conn.send(self.ws_login(conn, args))
        elif op in ("subscribe", "unsubscribe") and isinstance(args, list):
            for arg in args:
                conn.send(self.private_subscribe(conn, op, arg))
        else:
            conn.send(_error(30003, "invalid op", op=op))

    def ws_login(self, conn: SimConnection, args: Any) -> str:
        """Bitget's WebSocket login: sign = base64 HMAC-SHA256(secret, timestamp + "GET" +
        "/user/verify"), the timestamp in seconds, expiring 30 s after it."""
        try:
            key = self.ws_key(args)
        except BitgetError as exc:
            return _error(int(exc.code), exc.msg)
        conn.account = key.account
        return _text({"event": "login", "code": 0, "msg": ""})

    def ws_key(self, args: Any) -> ApiKey:
        login = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        if not all(login.get(name) for name in ("apiKey", "passphrase", "timestamp", "sign")):
            raise BitgetError("30016", "Param error")
        stamp = str(login["timestamp"])
        if not stamp.isdigit():
            raise BitgetError("30013", "Invalid ACCESS_TIMESTAMP")
        if abs(time.time() - int(stamp)) > LOGIN_WINDOW_S:
            raise BitgetError("30014", "Request timestamp expired")
        key = self.api_keys.get(str(login["apiKey"]))
        if key is None:
            raise BitgetError("30011", "Invalid ACCESS_KEY")
        if not hmac.compare_digest(str(login["passphrase"]).encode(), (key.passphrase or "").encode()):
            raise BitgetError("30012", "Invalid ACCESS_PASSPHRASE")
        if not hmac.compare_digest(str(login["sign"]).encode(), signature(key.secret, stamp + "GET" + "/user/verify").encode()):
            raise BitgetError("30015", "Invalid sign")
        return key

    def private_subscribe(self, conn: SimConnection, op: str, arg: Any) -> str:
        """``orders`` or ``fill`` for SPOT, on one symbol or ``default`` (all of them)."""
        if conn.account is None:
            return _error(30004, "User not logged in", op=op)
        if not isinstance(arg, dict):
            return _error(30016, "Param error", op=op)
        channel, inst_id = arg.get("channel"), str(arg.get("instId", ""))
        known = inst_id == "default" or self.symbol_of(inst_id) is not None
        if arg.get("instType") != self.inst_type or channel not in PRIVATE_CHANNELS or not known:
            return _error(30001, self._missing(arg), arg=arg, op=op)
        watched: set[tuple[str, str]] = conn.state.setdefault("private", set())
        if op == "subscribe":
            watched.add((str(channel), inst_id))
        else:
            watched.discard((str(channel), inst_id))
        return _text({"event": op, "arg": arg})

    def streaming_to(self, account: str) -> bool:
        channels = {channel for c in self.private_connections(account) for channel, _ in c.state.get("private", ())}
        return channels >= set(PRIVATE_CHANNELS)

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """An ``orders`` push for every event, and a ``fill`` push for a fill, per subscription."""
        order, native = event.order, self.native(event.order.symbol)
        frames: list[Frame] = []
        for channel, inst_id in sorted(conn.state.get("private", ())):
            if inst_id not in ("default", native):
                continue
            if channel == "orders":
                row = self.ws_order_json(order, event.fill)
            elif event.fill is not None:
                row = self.ws_fill_json(order, event.fill)
            else:
                continue
            arg = {"instType": self.inst_type, "channel": channel, "instId": inst_id}
            frames.append(self._push("snapshot", arg, [row]))
        return frames

    def fee_coin(self, order: SimOrder) -> str:
        market = self.engine.markets[order.symbol]
        return market.base if order.side is Side.BUY and self.engine.buy_fee_in_base else market.quote

    def ws_order_json(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The spot ``orders`` channel's row: ``accBaseVolume`` is cumulative, the ``fill*``,
        ``tradeId`` and ``baseVolume`` fields are the latest fill's (this event's, if it has one)."""
        market = self.engine.markets[order.symbol]
        latest = fill or next((f for f in reversed(self.engine.account_fills(order.account, order.symbol))
                               if f.order_id == order.order_id), None)
        quote_size = self.quote_sizes.get(order.order_id)
        return {
            "instId": self.native(order.symbol),
            "orderId": order.order_id,
            "clientOid": order.client_id,
            "price": self.limit_price(order) if order.price is not None else "0",
            "size": self.size(order),
            "newSize": _num(quote_size) if quote_size is not None else _num(order.amount * market.lot),
            "notional": _num(quote_size) if quote_size is not None else "",
            "orderType": self.order_type(order),
            "force": "post_only" if order.post_only else order.tif.value.lower(),
            "side": order.side.value,
            "fillPrice": _num(latest.price) if latest else "0",
            "tradeId": str(latest.trade_id) if latest else "",
            "baseVolume": _num(latest.amount) if latest else "0",
            "fillTime": str(_ms(latest.ts)) if latest else "",
            "fillFee": _num(-latest.fee) if latest else "0",
            "fillFeeCoin": latest.fee_currency if latest else "",
            "tradeScope": ("T" if latest.taker else "M") if latest else "",
            "accBaseVolume": _num(order.filled * market.lot),
            "priceAvg": self.average(order),
            "status": STATUS[order.status],
            "cTime": str(_ms(order.created)),
            "uTime": str(_ms(order.updated or order.created)),
            "stpMode": "none",
            "feeDetail": [{"feeCoin": self.fee_coin(order), "fee": _num(-order.fee)}] if order.filled else [],
            "enterPointSource": "API",
        }

    def ws_fill_json(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        """The spot ``fill`` channel's row (``tradeScope`` spelled out, ``totalFee`` negative)."""
        return {
            "orderId": fill.order_id,
            "tradeId": str(fill.trade_id),
            "symbol": self.native(fill.symbol),
            "orderType": self.order_type(order),
            "side": fill.side.value,
            "priceAvg": _num(fill.price),
            "size": _num(fill.amount),
            "amount": _num(fill.price * fill.amount),
            "tradeScope": "taker" if fill.taker else "maker",
            "feeDetail": [{"feeCoin": fill.fee_currency, "deduction": "no", "totalDeductionFee": "0",
                           "totalFee": _num(-fill.fee)}],
            "cTime": str(_ms(fill.ts)),
            "uTime": str(_ms(fill.ts)),
        }

    # ---- WebSocket: market data -------------------------------------------------------------

    def _arg(self, symbol: str, channel: str) -> dict[str, str]:
        return {"instType": self.inst_type, "channel": channel, "instId": self.native(symbol)}

    def _push(self, action: str, arg: dict[str, Any], data: list[Any]) -> str:
        return _text({"action": action, "arg": arg, "data": data, "ts": _ms()})

    def levels(self, ladder: Ladder, is_bid: bool, n: int) -> list[tuple[str, str]]:
        return [(ladder.price_str(p), ladder.size_str(q)) for p, q in ladder.top(is_bid, n)]

    def checksum(self, symbol: str) -> int:
        ladder = self.ladders[symbol]
        bids = self.levels(ladder, True, CHECKSUM_DEPTH)
        asks = self.levels(ladder, False, CHECKSUM_DEPTH)
        return crc32_signed(interleaved(bids, asks))

    def book_snapshot(self, symbol: str, arg: dict[str, Any]) -> str:
        ladder = self.ladders[symbol]
        book = {
            "asks": self.levels(ladder, False, len(ladder.asks)),
            "bids": self.levels(ladder, True, len(ladder.bids)),
            "checksum": self.checksum(symbol),
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("snapshot", arg, [book])

    def encode(self, symbol: str, changes: list[Change]) -> str | None:
        self.seq[symbol] += len(changes)  # Bitget's seq grows but does not step by one
        check = self.checksum(symbol)
        moved_top = check != self.last_checksum[symbol]
        self.last_checksum[symbol] = check
        if moved_top and symbol in self.faults.skip:
            self.faults.take("skip", symbol)
            return None  # lost on the way: only the next checksum can tell
        if self.faults.take("corrupt", symbol):
            check ^= 1
        ladder = self.ladders[symbol]
        book = {
            "asks": [self._level(ladder, p, q) for is_bid, p, q in changes if not is_bid],
            "bids": [self._level(ladder, p, q) for is_bid, p, q in changes if is_bid],
            "checksum": check,
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("update", self._arg(symbol, "books"), [book])

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [ladder.price_str(ticks), ladder.size_str(lots) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: str | None) -> list[Frame]:
        return [encoded] if encoded is not None and "books" in conn.subs.get(symbol, ()) else []

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if "trade" in conn.subs.get(symbol, ()) else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        trade = {
            "ts": str(_ms()),
            "price": ladder.price_str(ticks),
            "size": ladder.size_str(lots),
            "side": "buy" if buy else "sell",
            "tradeId": str(trade_id),
        }
        self.recent[symbol].appendleft(trade)  # newest first, as the venue lists them
        return self._push("update", self._arg(symbol, "trade"), [trade])


class BitgetFuturesSim(BitgetSpotSim):
    venue = "bitgetfutures"
    ccxt_id = None  # futures trading (mix endpoints) is not simulated yet; only the funding rate
    private_ws_paths = ()
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    inst_type = "USDT-FUTURES"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/mix/market/contracts", self.contracts),
            web.get("/api/v2/mix/market/current-fund-rate", self.current_fund_rate),
        ]

    async def current_fund_rate(self, request: web.Request) -> web.Response:
        """The current funding rate, as ccxt's fetch_funding_rate reads it: a fixed rate (the
        engine settles no funding) and the next 8-hour boundary."""
        try:
            product = _required(dict(request.query), "productType").upper()
            symbol = self.symbol_of(_required(dict(request.query), "symbol"))
        except BitgetError as exc:
            return _refusal(exc.code, exc.msg)
        if symbol is None or product != self.inst_type:
            return _refusal("40034", "Parameter symbol does not exist")
        interval = FUNDING_HOURS * 3600
        row = {
            "symbol": self.native(symbol),
            "fundingRate": FUNDING_RATE,
            "fundingRateInterval": str(FUNDING_HOURS),
            "nextUpdate": str((int(time.time()) // interval + 1) * interval * 1000),
            "minFundingRate": "-0.003",
            "maxFundingRate": "0.003",
        }
        return json_response(_envelope([row]))

    async def contracts(self, request: web.Request) -> web.Response:
        product = request.query.get("productType", "").upper()
        if not product:
            error = {"code": "40019", "msg": "Parameter productType cannot be empty", "requestTime": _ms(), "data": None}
            return json_response(error, status=400)
        wanted = request.query.get("symbol")
        listed = self.markets if product == self.inst_type else ()  # other product types: none simulated
        rows = [self.contract_info(s) for s in listed if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def contract_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "buyLimitPriceRatio": "0.9",
            "sellLimitPriceRatio": "0.9",
            "feeRateUpRatio": "0.1",
            "makerFeeRate": "0.0002",
            "takerFeeRate": "0.0006",
            "openCostUpRatio": "0.1",
            "supportMarginCoins": [quote],
            "minTradeNum": ladder.size_str(1),
            "priceEndStep": "1",
            "volumePlace": str(ladder.size_decimals),
            "pricePlace": str(ladder.price_decimals),
            "sizeMultiplier": ladder.size_str(1),
            "symbolType": "perpetual",
            "minTradeUSDT": "5",
            "maxSymbolOrderNum": "999999",
            "maxProductOrderNum": "999999",
            "maxPositionNum": "150",
            "symbolStatus": "normal",
            "offTime": "-1",
            "limitOpenTime": "-1",
            "deliveryTime": "",
            "deliveryStartTime": "",
            "launchTime": "",
            "fundInterval": "8",
            "minLever": "1",
            "maxLever": "125",
            "posLimit": "0.05",
            "maintainTime": "",
        }


SIMS: dict[str, type[SimVenue]] = {
    "bitget": BitgetSpotSim,
    "bitgetfutures": BitgetFuturesSim,
}
