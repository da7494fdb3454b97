"""Simulated Bybit v5 public market data for spot, linear and inverse: ``orderbook.{depth}.{symbol}``
snapshots and deltas with ``u`` (per topic, +1 per message) and ``seq`` (a cross sequence per
symbol that jumps), ``publicTrade.{symbol}``, op acks and pongs in each category's own shape, and
``/v5/market/instruments-info`` with the v5 envelope.

Each book topic is a window of the top ``depth`` levels that Bybit maintains itself: a delta
carries every level that changed inside the window, a size-0 delete for each level that left it
and an insert for each level that entered it.

Spot trading as a unified trading account (UTA 2.0), as ccxt calls it: ``/v5/asset/coin/query-info``,
the account discovery (``/v5/user/query-api``, ``/v5/account/info``), ``/v5/account/wallet-balance``,
``/v5/order/create``, ``cancel``, ``realtime`` and ``history``, ``/v5/execution/list`` and
``/v5/account/fee-rate``. Linear perpetuals trade the same way on their own server (its own
engine, account and keys), plus positions: ``/v5/position/switch-mode`` (one-way or hedge, with
``positionIdx`` 0, or 1 and 2), ``/v5/account/set-margin-mode`` (the unified account's cross or
isolated), ``/v5/position/set-leverage`` and ``/v5/position/list``; reduce-only, and post-only
that Bybit accepts and then cancels when it would take.

``/v5/order/amend`` (spot and linear) changes ``qty`` (the new total) and / or ``price`` of an open
limit order, which keeps its orderId and orderLinkId, in place (``MatchingEngine.amend``: a size
decrease keeps the queue place, any other change goes to the back, filling at once if it now
crosses; a refused amend (funds, post-only would take) leaves the order as it was).
``/v5/asset/transfer/universal-transfer`` moves a coin between UIDs of one master's family (master
and sub-accounts, ``fromMemberId`` / ``toMemberId``; a sub-account's key only to its master),
refused with 131212 when it would overdraw; UNIFIED and FUND are the engine's one balance, so
inter-transfer between them is not served. Linear serves ``/v5/market/tickers`` with the book's
mid as last, mark and index price and a constant ``fundingRate`` 0.0001 with ``nextFundingTime`` the
next 8-hour boundary (no funding is ever charged). The inverse server serves market data only.

Requests carry ``X-BAPI-API-KEY``, ``-TIMESTAMP``, ``-RECV-WINDOW`` and
``-SIGN``, the hex HMAC-SHA256 of timestamp + key + recv window + (query string | raw JSON body);
answers and errors come in the v5 envelope with Bybit's own ``retCode``s.

The private stream is v5's ``/v5/private`` (spot and linear, each server its own): ``{"op": "auth",
"args": [key, expires, hex HMAC-SHA256(secret, "GET/realtime" + expires)]}`` with expires (ms) still
ahead, refused as ``{"success": false, "ret_msg": ...}`` ("Params Error" for a stale or malformed
expiry, "Request not authorized" for a bad key or signature); ``ping`` answered by the private
``{"op": "pong", "args": [ms]}``; the ``order`` and ``execution`` topics (all-in-one or
categorised, e.g. ``order.spot``) push ``{"id", "topic", "creationTime", "data": [...]}`` rows in
the fields of ``/v5/order/realtime`` and ``/v5/execution/list`` plus ``category``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...model import Kind, MarginMode, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ...symbols import parse_standard
from ..access import ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..market import Ladder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

Levels = dict[int, int]  # ticks -> lots
Params = dict[str, Any]
Private = Callable[[ApiKey, Params], Awaitable[dict[str, Any]]]
Handler = Callable[[web.Request], Awaitable[web.Response]]

ZERO = Decimal(0)
STABLE = frozenset({"USDT", "USDC"})  # valued at par
DEFAULT_RECV_WINDOW = 5000
RECENT_CLOSED = 500  # closed orders /v5/order/realtime still shows, per account
WEEK_MS = 7 * 24 * 3600 * 1000
CATEGORIES = frozenset({"spot", "linear", "inverse", "option"})
WALLETS = frozenset({"UNIFIED", "FUND"})  # the engine keeps one balance per account for both
FUNDING_RATE = Decimal("0.0001")  # the simulator's constant funding rate, every 8 hours
FUNDING_PERIOD_MS = 8 * 3600 * 1000
PRIVATE_TOPICS = frozenset({"order", "execution"})  # the private topics simulated
SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
ORDER_TYPES = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}
TRIGGERED_TYPES = {OrderType.LIMIT: OrderType.STOP_LIMIT, OrderType.MARKET: OrderType.STOP}
TIME_IN_FORCE = {  # Bybit's timeInForce -> (the engine's, post-only)
    "GTC": (TimeInForce.GTC, False),
    "IOC": (TimeInForce.IOC, False),
    "FOK": (TimeInForce.FOK, False),
    "PostOnly": (TimeInForce.GTC, True),
}
POSITION_IDX = {PositionSide.BOTH: 0, PositionSide.LONG: 1, PositionSide.SHORT: 2}
STATUS = {
    OrderStatus.OPEN: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.EXPIRED: "Cancelled",  # IOC, FOK and market remainders
    OrderStatus.REJECTED: "Rejected",
}
# engine reject reason -> (retCode, retMsg), Bybit's spot codes
ERRORS: dict[str, tuple[int, str]] = {
    "insufficient_balance": (170131, "Insufficient balance."),
    "post_only_would_take": (170218, "The LIMIT-MAKER order is rejected due to invalid price."),
    "price_off_grid": (170134, "Order price decimal too long."),
    "stop_price_off_grid": (170134, "Order price decimal too long."),
    "amount_off_grid": (170137, "Order volume decimal too long."),
    "bad_amount": (170136, "Order quantity lower than the minimum."),
    "missing_price": (170105, "Parameter 'price' was empty."),
    "duplicate_client_id": (170141, "Duplicate clientOrderId."),
    "no_liquidity": (170210, "New order rejected."),
    "unknown_order": (170213, "Order does not exist."),
    "order_final": (170213, "Order does not exist."),
}


@dataclass(frozen=True)
class OrderRequest:
    """A new order as the engine takes it, after Bybit's own checks."""

    account: str
    symbol: str
    side: Side
    kind: OrderType
    amount: Decimal
    price: Decimal | None
    stop: Decimal | None
    tif: TimeInForce
    post_only: bool
    client_id: str | None
    reduce_only: bool
    position_side: PositionSide

# engine reject reason -> (retCode, retMsg), Bybit's contract codes
LINEAR_ERRORS: dict[str, tuple[int, str]] = {
    "insufficient_balance": (110007, "CheckMarginRatio fail! InsufficientAB"),
    "reduce_only_would_increase": (110017, "Reduce-only rule not satisfied"),
    "position_side_required": (10001, "position idx not match position mode"),
    "position_side_in_one_way": (10001, "position idx not match position mode"),
    "position_open": (110024, "You have an existing position, so position mode cannot be switched"),
    "price_off_grid": (10001, "params error: price is not a multiple of the tick size"),
    "amount_off_grid": (10001, "params error: qty is not a multiple of the qty step"),
    "bad_amount": (10001, "params error: qty must be positive"),
    "missing_price": (10001, "params error: price is required for a limit order"),
    "duplicate_client_id": (110072, "OrderLinkedID is duplicate"),
    "no_liquidity": (110074, "The order is rejected: there is no liquidity to match"),
    "bad_leverage": (10001, "params error: leverage is invalid"),
    "unknown_order": (110001, "Order does not exist"),
    "order_final": (110001, "Order does not exist"),
}


class BybitError(Exception):
    """A request Bybit refuses: answered as the v5 envelope with this ``retCode``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def plain(value: Decimal) -> str:
    """A Decimal as Bybit writes amounts: positional, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def sign(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    """X-BAPI-SIGN: hex HMAC-SHA256 of timestamp + api key + recv window + (query | body)."""
    origin = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), origin.encode(), hashlib.sha256).hexdigest()


@dataclass
class Window:
    """What subscribers of one book topic have been told: its top levels and its update id."""

    symbol: str
    depth: int
    u: int
    bids: Levels = field(default_factory=dict)
    asks: Levels = field(default_factory=dict)


def side_diff(old: Levels, new: Levels) -> list[tuple[int, int]]:
    """(ticks, lots) for every level that changed, left (lots 0) or entered the window."""
    out = [(p, 0) for p in old if p not in new]
    out.extend((p, q) for p, q in new.items() if old.get(p) != q)
    return out


class BybitSpotSim(SimVenue):
    venue = "bybit"
    ccxt_id: ClassVar[str | None] = "bybit"
    ccxt_hosts = ("https://api.{hostname}",)
    # acknowledged: ccxt's fetch_order otherwise refuses to call /v5/order/realtime by id on UTA
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}, "fetchOrder": {"acknowledged": True}}
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/v5/public/spot",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/v5/private",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    category: ClassVar[str] = "spot"
    errors: ClassVar[dict[str, tuple[int, str]]] = ERRORS
    depths: ClassVar[frozenset[int]] = frozenset({50, 200, 1000})  # level 1 (snapshot-only) is not simulated
    args_per_request: ClassVar[int | None] = 10

    api_key_header = "X-BAPI-API-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        """HTTP 200 with retCode 10006 and the limit headers."""
        return refusal({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": int(now * 1000)},
                       200, {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(int((now + over.wait) * 1000))})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows: dict[str, Window] = {}  # book topic -> window, from its first subscriber on
        self.cross_seq: dict[str, int] = {s: 40_000_000 + 1_000 * i for i, s in enumerate(self.markets)}
        self.transfer_ids: set[str] = set()  # universal transfers done: Bybit refuses a transferId twice

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- formatting --------------------------------------------------------------------------

    def size_str(self, ladder: Ladder, ticks: int, lots: int) -> str:
        return ladder.size_str(lots)

    def levels(self, ladder: Ladder, side: list[tuple[int, int]], bids: bool) -> list[list[str]]:
        ordered = sorted(side, reverse=bids)  # bids high -> low, asks low -> high, as Bybit sends
        return [[ladder.price_str(p), self.size_str(ladder, p, q) if q else "0"] for p, q in ordered]

    # ---- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v5/market/instruments-info", self.instruments_info), *self.trading_routes()]

    async def instruments_info(self, request: web.Request) -> web.Response:
        if request.query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        # every simulated market is Trading: a query for another status (ccxt asks for PreLaunch) has none
        rows = [self.instrument(s) for s in self.markets] if request.query.get("status", "Trading") == "Trading" else []
        return self.envelope(self.page(rows, request.query))

    def page(self, rows: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
        """Spot answers everything at once; derivatives page by ``limit`` and ``cursor``."""
        return {"category": self.category, "list": rows}

    def envelope(self, result: dict[str, Any], ret_code: int = 0, ret_msg: str = "OK") -> web.Response:
        body = {"retCode": ret_code, "retMsg": ret_msg, "result": result, "retExtInfo": {}, "time": int(time.time() * 1000)}
        return json_response(body)

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": ladder.size_str(1),
                "quotePrecision": "0.00000001",
                "minOrderQty": ladder.size_str(1),
                "maxOrderQty": "1000000",
                "minOrderAmt": "1",
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": f"{ladder.spec.tick:.{ladder.price_decimals}f}"},
        }

    # ---- trading: auth ------------------------------------------------------------------------

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v5/asset/coin/query-info", self.signed(self.coin_info)),
            web.get("/v5/user/query-api", self.signed(self.api_key_info)),
            web.get("/v5/account/info", self.signed(self.account_info)),
            web.get("/v5/account/wallet-balance", self.signed(self.wallet_balance)),
            web.get("/v5/account/fee-rate", self.signed(self.fee_rate)),
            web.post("/v5/order/create", self.signed(self.create_order)),
            web.post("/v5/order/cancel", self.signed(self.cancel_order)),
            web.post("/v5/order/amend", self.signed(self.amend_order)),
            web.post("/v5/asset/transfer/universal-transfer", self.signed(self.universal_transfer)),
            web.get("/v5/order/realtime", self.signed(self.realtime_orders)),
            web.get("/v5/order/history", self.signed(self.order_history)),
            web.get("/v5/execution/list", self.signed(self.executions)),
        ]

    def signed(self, handler: Private) -> Handler:
        """Bybit's private endpoint rule: the key, the timestamp inside the receive window, the
        signature over the exact query string (GET) or raw body (POST); then the v5 envelope."""

        async def check(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            try:
                payload = body if request.method == "POST" else request.rel_url.raw_query_string
                key = self.authenticate(request.headers, payload)
                if request.method == "POST" and "trade" not in key.permissions:
                    raise BybitError(10005, "Permission denied, please check your API key permissions.")
                return self.envelope(await handler(key, self.params_of(request, body)))
            except BybitError as exc:
                return self.envelope({}, ret_code=exc.code, ret_msg=exc.message)

        return check

    def authenticate(self, headers: Mapping[str, str], payload: str) -> ApiKey:
        api_key = headers.get("X-BAPI-API-KEY", "")
        stamp = headers.get("X-BAPI-TIMESTAMP", "")
        signature = headers.get("X-BAPI-SIGN", "")
        recv_window = headers.get("X-BAPI-RECV-WINDOW", "")
        if not (api_key and stamp and signature):
            raise BybitError(10001, f"empty value: apiTimestamp[{stamp}] apiKey[{'***' if api_key else ''}] "
                                    f"apiSignature[{'***' if signature else ''}]: openapi sign params error!")
        key = self.api_keys.get(api_key)
        if key is None:
            raise BybitError(10003, "API key is invalid.")
        self.check_timestamp(stamp, recv_window)
        if not hmac.compare_digest(signature, sign(key.secret, stamp, api_key, recv_window, payload)):
            raise BybitError(10004, "Error sign, please check your signature generation algorithm.")
        return key

    @staticmethod
    def check_timestamp(stamp: str, recv_window: str) -> None:
        """Accepted when server time - recv window <= timestamp < server time + 1000."""
        now = ms(time.time())
        try:
            sent, window = int(stamp), int(recv_window or DEFAULT_RECV_WINDOW)
        except ValueError:
            raise BybitError(10001, "params error: X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers") from None
        if not now - window <= sent < now + 1000:
            raise BybitError(10002, "invalid request, please check your server timestamp or recv_window param. "
                                    f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{window}]")

    @staticmethod
    def params_of(request: web.Request, body: str) -> Params:
        if request.method != "POST":
            return dict(request.query)
        try:
            params = orjson.loads(body or "{}")
        except orjson.JSONDecodeError:
            raise BybitError(10001, "params error: the request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise BybitError(10001, "params error: the request body must be a JSON object")
        return params

    # ---- trading: account ---------------------------------------------------------------------

    async def coin_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        wanted = params.get("coin")
        coins = sorted({c for s in self.markets for c in parse_standard(s)[:2]})
        # no deposit or withdrawal networks are simulated, hence no chains
        return {"rows": [{"name": c, "coin": c, "remainAmount": "1000000", "chains": []} for c in coins if wanted in (None, c)]}

    async def api_key_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        trade = "trade" in key.permissions
        account = self.engine.account(key.account)
        return {
            "id": str(zlib.crc32(key.key.encode())),
            "note": "crossbook simulator",
            "apiKey": key.key,
            "readOnly": 0 if trade else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": [], "Spot": ["SpotTrade"] if trade else [], "Wallet": ["AccountTransfer", "SubMemberTransfer"],
                "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": "2024-01-01T00:00:00Z",
            "unified": 0,
            "uta": 1,
            "userID": self.uid(key.account),
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": account.parent is None,
            "parentUid": str(self.uid(account.parent)) if account.parent else "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    @staticmethod
    def uid(account: str) -> int:
        return 100_000_000 + zlib.crc32(account.encode()) % 900_000_000

    async def account_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        return {
            "marginMode": "REGULAR_MARGIN",
            "updatedTime": str(ms(time.time())),
            "unifiedMarginStatus": 5,  # UTA 2.0
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
        }

    async def wallet_balance(self, key: ApiKey, params: Params) -> dict[str, Any]:
        if params.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        account = self.engine.account(key.account)
        wanted = set(params["coin"].split(",")) if params.get("coin") else None
        coins = [c for c in sorted(set(account.balances) | set(account.locked)) if wanted is None or c in wanted]
        rows = [self.coin_balance(c, account.balances.get(c, ZERO), account.locked.get(c, ZERO)) for c in coins]
        total = sum((self.usd_value(c, account.balances.get(c, ZERO)) for c in coins), ZERO)
        available = sum((self.usd_value(c, account.available(c)) for c in coins), ZERO)
        return {
            "list": [
                {
                    "accountType": "UNIFIED",
                    "totalEquity": plain(total),
                    "totalWalletBalance": plain(total),
                    "totalMarginBalance": plain(total),
                    "totalAvailableBalance": plain(available),
                    "totalPerpUPL": "0",
                    "totalInitialMargin": "0",
                    "totalMaintenanceMargin": "0",
                    "accountIMRate": "0",
                    "accountMMRate": "0",
                    "accountLTV": "0",
                    "coin": rows,
                }
            ]
        }

    def coin_balance(self, coin: str, wallet: Decimal, locked: Decimal) -> dict[str, Any]:
        # availableToWithdraw is "" on UTA since 2025: clients derive free = walletBalance - locked
        return {
            "coin": coin,
            "equity": plain(wallet),
            "usdValue": plain(self.usd_value(coin, wallet)),
            "walletBalance": plain(wallet),
            "locked": plain(locked),
            "availableToWithdraw": "",
            "availableToBorrow": "",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "totalPositionMM": "0",
            "unrealisedPnl": "0",
            "cumRealisedPnl": "0",
            "bonus": "0",
            "collateralSwitch": True,
            "marginCollateral": True,
            "spotHedgingQty": "0",
        }

    def usd_value(self, coin: str, amount: Decimal) -> Decimal:
        """Valued at the mid of the coin's USDT (else USDC) book here, stablecoins at par."""
        if coin in STABLE:
            return amount
        for quote in ("USDT", "USDC"):
            symbol = f"{coin}-{quote}"
            ladder = self.ladders.get(symbol)
            if ladder is not None and ladder.bids and ladder.asks:
                mid = Decimal(max(ladder.bids) + min(ladder.asks)) / 2
                return amount * mid * self.engine.markets[symbol].tick
        return ZERO

    async def fee_rate(self, key: ApiKey, params: Params) -> dict[str, Any]:
        # without a category Bybit answers for contracts (its documented example omits it), which
        # this spot venue does not list
        category = params.get("category", "linear")
        if category not in CATEGORIES:
            raise BybitError(10001, "Illegal category")
        if category != self.category:
            return {"list": []}
        symbols = [s for s in self.markets if params.get("symbol") in (None, self.native(s))]
        rates = {"takerFeeRate": plain(self.engine.taker_fee), "makerFeeRate": plain(self.engine.maker_fee)}
        return {"category": self.category, "list": [{"symbol": self.native(s), "baseCoin": parse_standard(s)[0], **rates} for s in symbols]}

    # ---- trading: orders ------------------------------------------------------------------------

    def check_category(self, params: Params) -> None:
        if params.get("category") != self.category:
            raise BybitError(10001, "Illegal category")

    def symbol_param(self, params: Params) -> str:
        symbol = self.symbol_of(str(params.get("symbol", "")))
        if symbol is None:
            raise BybitError(170121, "Invalid symbol.")
        return symbol

    @staticmethod
    def decimal_param(params: Params, name: str) -> Decimal | None:
        if params.get(name) in (None, ""):
            return None
        try:
            value = Decimal(str(params[name]))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise BybitError(170130, f"Data sent for paramter '{name}' is not valid.")
        return value

    async def create_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        side = SIDES.get(params.get("side", ""))
        if side is None:
            raise BybitError(170117, "Invalid side.")
        kind = ORDER_TYPES.get(params.get("orderType", ""))
        if kind is None:
            raise BybitError(170116, "Invalid orderType.")
        tif, post_only = self.time_in_force(params, kind)
        amount = self.decimal_param(params, "qty")
        if amount is None:
            raise BybitError(170105, "Parameter 'qty' was empty.")
        stop = self.trigger_price(params, symbol, side)
        request = OrderRequest(
            key.account, symbol, side, TRIGGERED_TYPES[kind] if stop is not None else kind, amount,
            self.decimal_param(params, "price") if kind is OrderType.LIMIT else None,
            stop, tif, post_only, params.get("orderLinkId") or None, *self.position_args(key.account, params, side, kind),
        )
        try:
            order = self.place(request)
        except Reject as exc:
            raise BybitError(*self.errors.get(exc.reason, self.errors["no_liquidity"])) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    def position_args(self, account: str, params: Params, side: Side, kind: OrderType) -> tuple[bool, PositionSide]:
        """(reduce-only, position side) of a new order; on spot, the checks spot alone makes."""
        if kind is OrderType.MARKET:
            self.check_market_unit(params, side)
        if str(params.get("isLeverage", "0")) == "1":  # spot margin (borrowing) is not simulated
            raise BybitError(170036, "You haven't enabled Cross Margin Trading yet. "
                                     "To do so, please head to the PC trading site or the Bybit app")
        return False, PositionSide.BOTH

    def place(self, request: OrderRequest) -> SimOrder:
        r = request
        return self.engine.submit(
            r.account, r.symbol, r.side, r.kind, r.amount, r.price, stop_price=r.stop, tif=r.tif,
            post_only=r.post_only, reduce_only=r.reduce_only, position_side=r.position_side, client_id=r.client_id,
        )

    @staticmethod
    def time_in_force(params: Params, kind: OrderType) -> tuple[TimeInForce, bool]:
        if kind is OrderType.MARKET:
            return TimeInForce.IOC, False  # Bybit runs every market order as IOC
        choice = TIME_IN_FORCE.get(params.get("timeInForce") or "GTC")
        if choice is None:
            raise BybitError(170115, "Invalid timeInForce.")
        return choice

    @staticmethod
    def check_market_unit(params: Params, side: Side) -> None:
        """A spot market buy is sized in the quote coin unless marketUnit says baseCoin; the
        engine sizes orders in the base coin only."""
        unit = params.get("marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
        if unit != "baseCoin":
            raise BybitError(10001, "params error: the simulator sizes spot market orders in the base coin only (marketUnit=baseCoin)")

    def trigger_price(self, params: Params, symbol: str, side: Side) -> Decimal | None:
        """A spot conditional order (orderFilter=StopOrder). Bybit fires it when the last price
        crosses the trigger from either side; the engine fires buys on a rise and sells on a fall,
        so only triggers on that side of the book are taken."""
        order_filter = params.get("orderFilter") or "Order"
        if order_filter == "Order":
            return None
        if order_filter != "StopOrder":
            raise BybitError(10001, f"params error: the simulator does not take orderFilter {order_filter}")
        stop = self.decimal_param(params, "triggerPrice")
        if stop is None:
            raise BybitError(170105, "Parameter 'triggerPrice' was empty.")
        ladder = self.ladders[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        if book:
            touch = (min(book) if side is Side.BUY else max(book)) * self.engine.markets[symbol].tick
            if stop <= touch if side is Side.BUY else stop >= touch:
                raise BybitError(10001, "params error: the simulator triggers spot buys above the best ask "
                                        "and sells below the best bid only")
        return stop

    def lookup(self, account: str, params: Params) -> SimOrder | None:
        """The order named by orderId, else orderLinkId (Bybit's priority), if any."""
        order_id, link_id = params.get("orderId") or None, params.get("orderLinkId") or None
        if order_id is None and link_id is None:
            return None
        try:
            return self.engine.find(account, order_id, link_id)
        except Reject:
            return None

    async def cancel_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        order = self.lookup(key.account, params)
        if order is None or order.symbol != symbol or not self.passes_filter(order, params.get("orderFilter") or "Order"):
            raise BybitError(*self.errors["unknown_order"])
        try:
            self.engine.cancel(key.account, order.order_id)
        except Reject as exc:
            raise BybitError(*self.errors[exc.reason]) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    async def amend_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """``qty`` (the new total, filled part included) and / or ``price`` of an open limit
        order, which keeps its orderId and orderLinkId."""
        self.check_category(params)
        symbol = self.symbol_param(params)
        order = self.lookup(key.account, params)
        if order is None or order.symbol != symbol or order.status.final or order.waiting or order.price is None:
            raise BybitError(*self.errors["unknown_order"])
        if any(params.get(name) not in (None, "") for name in ("triggerPrice", "takeProfit", "stopLoss")):
            raise BybitError(10001, "params error: the simulator amends qty and price only")
        lots, ticks = self.amended_terms(order, params)
        try:
            self.engine.amend(order, lots, ticks)
        except Reject as exc:
            raise BybitError(*self.errors.get(exc.reason, (10001, f"params error: {exc}"))) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    def amended_terms(self, order: SimOrder, params: Params) -> tuple[int, int]:
        """(total lots, price ticks) after the amend, on the instrument's grid."""
        market = self.engine.markets[order.symbol]
        qty, price = self.decimal_param(params, "qty"), self.decimal_param(params, "price")
        assert order.price is not None
        lots, ticks = order.amount, order.price
        if qty is not None:
            if qty / market.lot != (qty / market.lot).to_integral_value():
                raise BybitError(*self.errors["amount_off_grid"])
            lots = int(qty / market.lot)
        if price is not None:
            if price <= 0 or price / market.tick != (price / market.tick).to_integral_value():
                raise BybitError(*self.errors["price_off_grid"])
            ticks = int(price / market.tick)
        if (lots, ticks) == (order.amount, order.price):
            raise BybitError(10001, "The order remains unchanged as the parameters entered match the existing ones.")
        if lots <= order.filled:
            raise BybitError(10001, "params error: qty must exceed the quantity already filled")
        return lots, ticks

    @staticmethod
    def passes_filter(order: SimOrder, order_filter: str | None) -> bool:
        """orderFilter: Order (active orders), StopOrder (conditional ones), none: both."""
        if order_filter not in (None, "Order", "StopOrder", "tpslOrder", "OcoOrder", "BidirectionalTpslOrder"):
            raise BybitError(170202, "Invalid orderFilter parameter.")
        if order_filter is None:
            return True
        return order_filter == ("StopOrder" if order.stop is not None else "Order")

    async def realtime_orders(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        orders = self.realtime_pool(key.account, params)
        orders = [o for o in orders if self.passes_filter(o, params.get("orderFilter"))]
        orders.sort(key=lambda o: (o.created, o.seq), reverse=True)
        page, cursor = self.page_of(orders, params, 20, 50)
        return {"category": self.category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def realtime_pool(self, account: str, params: Params) -> list[SimOrder]:
        """Open orders, or with openOnly=1 the recent closed ones; by id, an order in either."""
        recent = self.recent_closed(account)
        if params.get("orderId") or params.get("orderLinkId"):
            order = self.lookup(account, params)
            return [order] if order is not None and (not order.status.final or order in recent) else []
        if params.get("symbol") is not None:
            symbol = self.symbol_param(params)
            recent = [o for o in recent if o.symbol == symbol]
        else:
            symbol = None
        return recent if str(params.get("openOnly", "0")) == "1" else self.engine.open_orders(account, symbol)

    async def order_history(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """The closed orders the venue remembers, newest first, by status and time if asked."""
        self.check_category(params)
        start, end = self.time_range(params)
        if params.get("orderId") or params.get("orderLinkId"):
            found = self.lookup(key.account, params)
            orders = [found] if found is not None and found.status.final else []
        else:
            symbol = self.symbol_param(params) if params.get("symbol") is not None else None
            orders = [o for o in self.recent_closed(key.account) if symbol in (None, o.symbol)]
        status = params.get("orderStatus")
        orders = [
            o for o in orders
            if start <= ms(o.created) <= end and self.passes_filter(o, params.get("orderFilter"))
            and status in (None, self.order_status(o))
        ]
        orders.sort(key=lambda o: (o.created, o.seq), reverse=True)
        page, cursor = self.page_of(orders, params, 20, 50)
        return {"category": self.category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def recent_closed(self, account: str) -> list[SimOrder]:
        closed = [o for o in self.engine.orders.values() if o.account == account and o.status.final]
        return sorted(closed, key=lambda o: o.updated)[-RECENT_CLOSED:]

    @staticmethod
    def page_of(rows: list[Any], params: Params, default: int, most: int) -> tuple[list[Any], str]:
        """Bybit pages with ``limit`` and an opaque ``cursor`` (here an offset)."""
        try:
            limit, start = int(params.get("limit") or default), int(params.get("cursor") or 0)
        except ValueError:
            raise BybitError(10001, "params error: limit and cursor must be integers") from None
        if not 1 <= limit <= most:
            raise BybitError(10001, f"params error: limit must be between 1 and {most}")
        end = start + limit
        return rows[start:end], str(end) if end < len(rows) else ""

    async def executions(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        start, end = self.time_range(params)
        fills = [f for f in self.fills_for(key.account, params) if start <= ms(f.ts) <= end]
        if params.get("execType") not in (None, "Trade"):
            fills = []  # only trades happen here: no funding, settlement or delivery
        rows = [self.execution_json(fill, leaves) for fill, leaves in reversed(self.with_leaves(fills))]
        page, cursor = self.page_of(rows, params, 50, 100)
        return {"category": self.category, "list": page, "nextPageCursor": cursor}

    def fills_for(self, account: str, params: Params) -> list[SimFill]:
        """orderId and orderLinkId outrank symbol; when given, the others are ignored."""
        if params.get("orderId") or params.get("orderLinkId"):
            order = self.lookup(account, params)
            return [] if order is None else [f for f in self.engine.account_fills(account) if f.order_id == order.order_id]
        symbol = self.symbol_param(params) if params.get("symbol") is not None else None
        return self.engine.account_fills(account, symbol)

    @staticmethod
    def time_range(params: Params) -> tuple[int, int]:
        """Seven days: ending now, or starting at startTime, or ending at endTime."""
        try:
            start = int(params["startTime"]) if params.get("startTime") else None
            end = int(params["endTime"]) if params.get("endTime") else None
        except ValueError:
            raise BybitError(10001, "params error: startTime and endTime must be integers") from None
        if start is not None and end is not None and end - start > WEEK_MS:
            raise BybitError(10001, "params error: endTime - startTime must be within 7 days")
        if end is None:
            end = start + WEEK_MS if start is not None else ms(time.time())
        return (start if start is not None else end - WEEK_MS), end

    def with_leaves(self, fills: list[SimFill]) -> list[tuple[SimFill, Decimal]]:
        """The fills oldest first, each with its order's quantity still unfilled right after it."""
        filled: dict[str, Decimal] = {}
        out = []
        for fill in sorted(fills, key=lambda f: (f.ts, f.trade_id)):
            order = self.engine.orders[fill.order_id]
            filled[fill.order_id] = filled.get(fill.order_id, ZERO) + fill.amount
            out.append((fill, order.amount * self.engine.markets[order.symbol].lot - filled[fill.order_id]))
        return out

    # ---- funds: universal transfer between a master and its sub-accounts ----------------------

    async def universal_transfer(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """Between two UIDs (``fromMemberId`` / ``toMemberId``) of one master's family: a master
        key moves funds between itself and its sub-accounts or between two of them, a
        sub-account key only to its master. UNIFIED and FUND are the engine's one balance."""
        transfer_id, coin = str(params.get("transferId") or ""), str(params.get("coin") or "")
        amount = self.decimal_param(params, "amount")
        if not transfer_id or not coin or amount is None:
            raise BybitError(131203, "Request parameter error")
        if amount <= 0:
            raise BybitError(131215, "Amount error")
        if transfer_id in self.transfer_ids:
            raise BybitError(131214, "TransferId exist")
        if params.get("fromAccountType") not in WALLETS or params.get("toAccountType") not in WALLETS:
            raise BybitError(131203, "Request parameter error: the simulator transfers between UNIFIED and FUND accounts")
        source, target = self.member(params, "fromMemberId"), self.member(params, "toMemberId")
        if source == target or not self.may_transfer(key.account, source, target):
            raise BybitError(131209, "Get subMember relation error")
        try:
            self.engine.transfer(coin, amount, source, target)
        except Reject:
            raise BybitError(131212, "Insufficient balance") from None
        self.transfer_ids.add(transfer_id)
        return {"transferId": transfer_id, "status": "SUCCESS"}

    def member(self, params: Params, name: str) -> str:
        """The account whose UID the parameter names."""
        uid = str(params.get(name) or "")
        for account in self.engine.accounts:
            if str(self.uid(account)) == uid:
                return account
        raise BybitError(131207, "Account not exist")

    def may_transfer(self, requester: str, source: str, target: str) -> bool:
        parent = self.engine.account(requester).parent
        if parent is not None:
            return source == requester and target == parent
        return all(a == requester or self.engine.account(a).parent == requester for a in (source, target))

    # ---- trading: Bybit shapes ----------------------------------------------------------------

    @staticmethod
    def order_status(order: SimOrder) -> str:
        if order.waiting:
            return "Deactivated" if order.status.final else "Untriggered"
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and order.filled:
            return "PartiallyFilledCanceled"
        return STATUS[order.status]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        ladder = self.ladders[order.symbol]
        filled = order.filled * market.lot
        left = ZERO if order.status.final else order.remaining * market.lot
        market_order = order.type in (OrderType.MARKET, OrderType.STOP)
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_id,
            "blockTradeId": "",
            "symbol": self.native(order.symbol),
            "price": ladder.price_str(order.price) if order.price is not None else "0",
            "qty": ladder.size_str(order.amount),
            "side": "Buy" if order.is_bid else "Sell",
            "isLeverage": "0",
            "positionIdx": POSITION_IDX[order.position_side],
            "orderStatus": self.order_status(order),
            "createType": "CreateByUser",
            "cancelType": "CancelByUser" if order.status is OrderStatus.CANCELED else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": plain(order.cost / filled) if filled else "",
            "leavesQty": plain(left),
            "leavesValue": plain(left * (order.price or 0) * market.tick),
            "cumExecQty": plain(filled),
            "cumExecValue": plain(order.cost),
            "cumExecFee": plain(order.fee),
            "feeCurrency": self.fee_coin(order) if order.fee else "",
            "cumFeeDetail": {self.fee_coin(order): plain(order.fee)} if order.fee else {},
            "timeInForce": "PostOnly" if order.post_only else order.tif.value.upper(),
            "orderType": "Market" if market_order else "Limit",
            "stopOrderType": "Stop" if order.stop is not None else "",
            "orderIv": "",
            "marketUnit": "baseCoin" if market_order else "",
            "triggerPrice": ladder.price_str(order.stop) if order.stop is not None else "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(ms(order.created)),
            "updatedTime": str(ms(order.updated)),
        }

    def fee_coin(self, order: SimOrder) -> str:
        """The coin an order's fees are charged in: a spot buy pays in the base it receives."""
        market = self.engine.markets[order.symbol]
        spot_buy = parse_standard(order.symbol)[2] is Kind.SPOT and order.is_bid
        return market.base if spot_buy and self.engine.buy_fee_in_base else market.quote

    def execution_json(self, fill: SimFill, leaves: Decimal) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        ladder = self.ladders[fill.symbol]
        market_order = order.type in (OrderType.MARKET, OrderType.STOP)
        return {
            "symbol": self.native(fill.symbol),
            "orderId": fill.order_id,
            "orderLinkId": fill.client_id,
            "side": "Buy" if fill.side is Side.BUY else "Sell",
            "orderPrice": ladder.price_str(order.price) if order.price is not None else "0",
            "orderQty": ladder.size_str(order.amount),
            "leavesQty": plain(leaves),
            "orderType": "Market" if market_order else "Limit",
            "stopOrderType": "Stop" if order.stop is not None else "UNKNOWN",
            "execFee": plain(fill.fee),
            "feeCurrency": fill.fee_currency,
            "execId": str(fill.trade_id),
            "execPrice": plain(fill.price),
            "execQty": plain(fill.amount),
            "execType": "Trade",
            "execValue": plain(fill.price * fill.amount),
            "execTime": str(ms(fill.ts)),
            "isMaker": not fill.taker,
            "feeRate": plain(self.engine.taker_fee if fill.taker else self.engine.maker_fee),
            "tradeIv": "",
            "markIv": "",
            "markPrice": "",
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "seq": fill.trade_id,
            "marketUnit": "baseCoin" if market_order else "",
        }

    # ---- private stream (/v5/private) ----------------------------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state.setdefault("conn_id", str(uuid.uuid4()))
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            msg = None
        if not isinstance(msg, dict):
            conn.send(self.private_reply(conn, "", None, False, "error:invalid op"))
            return
        op, req_id = str(msg.get("op", "")), msg.get("req_id")
        if op == "ping":
            self.client_pings += 1
            pong = {"req_id": req_id, "op": "pong", "args": [str(ms(time.time()))], "conn_id": conn.state["conn_id"]}
            conn.send(orjson.dumps({k: v for k, v in pong.items() if v is not None}).decode())
        elif op == "auth":
            error = self.private_login(conn, msg.get("args"))
            conn.send(self.private_reply(conn, op, req_id, error is None, error or ""))
        elif op in ("subscribe", "unsubscribe"):
            error = self.private_topics(conn, op, msg.get("args"))
            conn.send(self.private_reply(conn, op, req_id, error is None, error or ""))
        else:
            conn.send(self.private_reply(conn, op, req_id, False, f"error:invalid op {op}"))

    @staticmethod
    def private_reply(conn: SimConnection, op: str, req_id: Any, success: bool, ret_msg: str) -> str:
        """An op answer on the private stream (text frames, as Bybit sends): req_id only when the
        request had one."""
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.state["conn_id"]}
        if req_id is not None:
            body["req_id"] = req_id
        body["op"] = op
        return orjson.dumps(body).decode()

    def private_login(self, conn: SimConnection, args: Any) -> str | None:
        """``[api key, expires, hex HMAC-SHA256(secret, "GET/realtime" + expires)]``; expires (ms)
        must still be in the future. Returns Bybit's ret_msg for a refusal."""
        if not isinstance(args, list) or len(args) != 3:
            return "Params Error"
        api_key, expires, signature = (str(a) for a in args)
        if not expires.isdigit() or int(expires) <= ms(time.time()):
            return "Params Error"
        key = self.api_keys.get(api_key)
        if key is None:
            return "Request not authorized"
        expected = hmac.new(key.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return "Request not authorized"
        conn.account = key.account
        return None

    def private_topics(self, conn: SimConnection, op: str, args: Any) -> str | None:
        """``order`` and ``execution``, all-in-one or categorised (``order.spot``); the request is
        refused whole when any topic is wrong."""
        if conn.account is None:
            return "Request not authorized"
        topics: dict[str, str] = conn.state.setdefault("topics", {})  # kind -> the topic name subscribed
        names = args if isinstance(args, list) else []
        for name in names:
            kind, _, category = str(name).partition(".")
            if kind not in PRIVATE_TOPICS or category not in ("", self.category):
                return f"error:handler not found,topic:{name}"
            if op == "subscribe" and kind in topics:
                return f"error:already subscribed,topic:{name}"
        for name in names:
            kind = str(name).partition(".")[0]
            if op == "subscribe":
                topics[kind] = str(name)
            else:
                topics.pop(kind, None)
        return None

    def streaming_to(self, account: str) -> bool:
        return any(PRIVATE_TOPICS <= set(c.state.get("topics", {})) for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The execution first (as Bybit pushes it), then the order's new state."""
        topics: dict[str, str] = conn.state.get("topics", {})
        frames: list[Frame] = []
        if event.fill is not None and "execution" in topics:
            frames.append(self.private_push(topics["execution"], self.ws_execution(event.order, event.fill)))
        if "order" in topics:
            frames.append(self.private_push(topics["order"], self.ws_order(event.order)))
        return frames

    @staticmethod
    def private_push(topic: str, row: dict[str, Any]) -> str:
        push = {"id": f"{uuid.uuid4().hex[:14]}-{uuid.uuid4()}", "topic": topic, "creationTime": ms(time.time()), "data": [row]}
        return orjson.dumps(push).decode()

    def ws_order(self, order: SimOrder) -> dict[str, Any]:
        return {"category": self.category, **self.order_json(order)}

    def ws_execution(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        leaves = order.remaining * self.engine.markets[order.symbol].lot if not order.status.final else ZERO
        row = {"category": self.category, **self.execution_json(fill, leaves)}
        row.update({"isLeverage": "0", "createType": "CreateByUser", "execPnl": "0"})
        return row

    # ---- WebSocket ---------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["conn_id"] = str(uuid.uuid4())

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        op = msg.get("op")
        req_id = msg.get("req_id", "")
        if op == "ping":
            self.client_pings += 1
            conn.send(self.reply(conn, "ping", req_id, True, "pong"))
        elif op in ("subscribe", "unsubscribe"):
            self.on_topics(conn, op, req_id, msg.get("args", []))
        else:
            conn.send(self.reply(conn, str(op), req_id, False, f"error:unknown op {op}"))

    def on_topics(self, conn: SimConnection, op: str, req_id: str, args: list[str]) -> None:
        """Bybit refuses the whole request when any topic is wrong; otherwise acks, then (for a
        book topic) sends the snapshot."""
        parsed = [(topic, self.split(topic)) for topic in args]
        error = self.refusal(conn, op, parsed)
        if error:
            conn.send(self.reply(conn, op, req_id, False, error))
            return
        conn.send(self.reply(conn, op, req_id, True, op if self.category == "spot" else ""))
        for topic, (name, symbol) in parsed:
            assert name is not None and symbol is not None
            if op == "subscribe":
                self.subscribe(conn, topic, name, symbol)
            else:
                self.unsubscribe(conn, name, symbol)

    def reply(self, conn: SimConnection, op: str, req_id: str, success: bool, ret_msg: str) -> bytes:
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.state["conn_id"]}
        if self.category != "spot" or req_id:  # linear and inverse always echo req_id, "" if none
            body["req_id"] = req_id
        body["op"] = op
        return orjson.dumps(body)

    def refusal(self, conn: SimConnection, op: str, parsed: list[tuple[str, tuple[str | None, str | None]]]) -> str | None:
        if self.args_per_request is not None and len(parsed) > self.args_per_request:
            return f"args size >{self.args_per_request}"
        for topic, (name, symbol) in parsed:
            if name is None or symbol is None:
                return f"error:handler not found,topic:{topic}"
            if op == "subscribe" and name in conn.subs.get(symbol, ()):
                return f"error:already subscribed,topic:{topic}"
        return None

    def split(self, topic: str) -> tuple[str | None, str | None]:
        """``orderbook.50.BTCUSDT`` -> ("orderbook.50", "BTC-USDT"); (None, None) if not served."""
        name, _, native = topic.rpartition(".")
        symbol = self.symbol_of(native)
        if symbol is not None and (name == "publicTrade" or self.book_depth(name) in self.depths):
            return name, symbol
        return None, None

    @staticmethod
    def book_depth(name: str) -> int | None:
        kind, _, depth = name.partition(".")
        return int(depth) if kind == "orderbook" and depth.isdigit() else None

    def subscribe(self, conn: SimConnection, topic: str, name: str, symbol: str) -> None:
        conn.subs.setdefault(symbol, set()).add(name)
        depth = self.book_depth(name)
        if depth is not None:
            window = self.windows.get(topic) or self.open_window(topic, symbol, depth)
            conn.send(self.book_frame(topic, window, "snapshot", window.bids.items(), window.asks.items()))

    def unsubscribe(self, conn: SimConnection, name: str, symbol: str) -> None:
        names = conn.subs.get(symbol)
        if names is not None:
            names.discard(name)
            if not names:
                del conn.subs[symbol]

    def open_window(self, topic: str, symbol: str, depth: int) -> Window:
        ladder = self.ladders[symbol]
        window = Window(symbol, depth, u=1_000 + 7 * len(self.windows))
        window.bids = dict(ladder.top(True, depth))
        window.asks = dict(ladder.top(False, depth))
        self.windows[topic] = window
        return window

    def encode(self, symbol: str, changes: list[Change]) -> dict[str, bytes]:
        """One delta per book topic of ``symbol`` whose window changed, keyed by topic."""
        ladder = self.ladders[symbol]
        skip = self.faults.take("skip", symbol)
        self.cross_seq[symbol] += ladder.rng.randint(1, 9)
        out: dict[str, bytes] = {}
        for topic, window in self.windows.items():
            if window.symbol != symbol:
                continue
            bids = dict(ladder.top(True, window.depth))
            asks = dict(ladder.top(False, window.depth))
            bid_diff, ask_diff = side_diff(window.bids, bids), side_diff(window.asks, asks)
            window.bids, window.asks = bids, asks
            if skip:
                window.u += 1  # the update that was lost
            if bid_diff or ask_diff:
                window.u += 1
                out[topic] = self.book_frame(topic, window, "delta", bid_diff, ask_diff)
        return out

    def book_frame(self, topic: str, window: Window, kind: str, bids: Any, asks: Any) -> bytes:
        ladder = self.ladders[window.symbol]
        now = int(time.time() * 1000)
        data = {
            "s": self.native(window.symbol),
            "b": self.levels(ladder, list(bids), True),
            "a": self.levels(ladder, list(asks), False),
            "u": window.u,
            "seq": self.cross_seq[window.symbol],
        }
        return orjson.dumps({"topic": topic, "ts": now, "type": kind, "data": data, "cts": now})

    def frames_for(self, conn: SimConnection, symbol: str, encoded: dict[str, bytes]) -> list[Frame]:
        native = self.native(symbol)
        return [frame for name in conn.subs[symbol] if (frame := encoded.get(f"{name}.{native}")) is not None]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        trade = {
            "T": now,
            "s": native,
            "S": "Buy" if buy else "Sell",
            "v": self.size_str(ladder, ticks, lots),
            "p": ladder.price_str(ticks),
            "L": "PlusTick" if buy else "MinusTick",
            "i": str(trade_id),
            "BT": False,
            "seq": self.cross_seq[symbol],
        }
        return orjson.dumps({"topic": f"publicTrade.{native}", "type": "snapshot", "ts": now, "data": [trade]})


class BybitLinearSim(BybitSpotSim):
    venue = "bybitlinear"
    ccxt_id = None  # "bybit" in ccxt_configs is the spot venue's
    client_ccxt_id: ClassVar[str | None] = "bybit"
    # a client of this server alone: its markets, balances and orders are not the spot server's
    ccxt_options = {
        "fetchMarkets": {"types": ["linear"]},
        "fetchOrder": {"acknowledged": True},
        "defaultType": "swap",
        "defaultSubType": "linear",
    }
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    ws_paths = ("/v5/public/linear",)
    category = "linear"
    errors = LINEAR_ERRORS
    args_per_request = None
    contract_type: ClassVar[str] = "LinearPerpetual"
    max_leverage: ClassVar[Decimal] = Decimal(100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.voided: dict[str, SimOrder] = {}  # post-only orders Bybit took and then cancelled itself

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            *super().trading_routes(),
            web.post("/v5/position/switch-mode", self.signed(self.switch_mode)),
            web.post("/v5/account/set-margin-mode", self.signed(self.set_margin_mode)),
            web.post("/v5/position/set-leverage", self.signed(self.set_leverage)),
            web.get("/v5/position/list", self.signed(self.position_list)),
        ]

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v5/market/tickers", self.tickers), *super().routes()]

    async def tickers(self, request: web.Request) -> web.Response:
        """The contracts' tickers as ccxt's fetch_funding_rate reads them: ``fundingRate`` (the
        simulator's constant rate) and ``nextFundingTime`` (the next 8-hour boundary); the book's
        mid stands in for the mark and index prices."""
        if request.query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        wanted = request.query.get("symbol")
        symbols = [s for s in self.markets if wanted in (None, self.native(s))]
        if wanted is not None and not symbols:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        return self.envelope({"category": self.category, "list": [self.ticker(s) for s in symbols]})

    def ticker(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        now = ms(time.time())
        mark = self.mark(symbol)
        mark_text = ladder.price_str(int(mark / self.engine.markets[symbol].tick)) if mark else ""
        return {
            "symbol": self.native(symbol), "lastPrice": mark_text, "indexPrice": mark_text, "markPrice": mark_text,
            "prevPrice24h": mark_text, "price24hPcnt": "0", "highPrice24h": mark_text, "lowPrice24h": mark_text,
            "prevPrice1h": mark_text, "openInterest": "0", "openInterestValue": "0", "turnover24h": "0", "volume24h": "0",
            "fundingRate": plain(FUNDING_RATE), "nextFundingTime": str(now - now % FUNDING_PERIOD_MS + FUNDING_PERIOD_MS),
            "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
            "bid1Price": ladder.price_str(bid[0][0]) if bid else "", "bid1Size": self.size_str(ladder, *bid[0]) if bid else "",
            "ask1Price": ladder.price_str(ask[0][0]) if ask else "", "ask1Size": self.size_str(ladder, *ask[0]) if ask else "",
            "basis": "", "curPreListingPhase": "", "fundingIntervalHour": "8", "fundingCap": "0.005",
        }

    def page(self, rows: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
        limit = min(1000, int(query.get("limit", "500")))
        start = int(query.get("cursor") or 0)
        end = start + limit
        return {"category": self.category, "list": rows[start:end], "nextPageCursor": str(end) if end < len(rows) else ""}

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        tick = f"{ladder.spec.tick:.{ladder.price_decimals}f}"
        step = self.lot_step(ladder)
        return {
            "symbol": self.native(symbol),
            "contractType": self.contract_type,
            "status": "Trading",
            "baseCoin": base,
            "quoteCoin": quote,
            "settleCoin": self.settle_coin(base, quote),
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(ladder.price_decimals),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
            "lotSizeFilter": {
                "maxOrderQty": "1000000",
                "minOrderQty": step,
                "qtyStep": step,
                "postOnlyMaxOrderQty": "1000000",
                "maxMktOrderQty": "100000",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
        }

    def lot_step(self, ladder: Ladder) -> str:
        return ladder.size_str(1)

    def settle_coin(self, base: str, quote: str) -> str:
        return quote

    # ---- orders ---------------------------------------------------------------------------------

    def trigger_price(self, params: Params, symbol: str, side: Side) -> Decimal | None:
        if any(params.get(name) not in (None, "") for name in ("triggerPrice", "takeProfit", "stopLoss")):
            raise BybitError(10001, "params error: the simulator does not take conditional or TP/SL orders on linear")
        return None

    def position_args(self, account: str, params: Params, side: Side, kind: OrderType) -> tuple[bool, PositionSide]:
        """positionIdx must match the account's position mode: 0 one-way, 1 (long) or 2 (short)
        in hedge mode, where an order against its side's direction closes that side and so can
        only reduce it."""
        try:
            position_side = {v: k for k, v in POSITION_IDX.items()}[int(params.get("positionIdx") or 0)]
        except (KeyError, ValueError):
            raise BybitError(10001, "params error: positionIdx must be 0, 1 or 2") from None
        if (position_side is not PositionSide.BOTH) != self.engine.account(account).hedge_mode:
            raise BybitError(*LINEAR_ERRORS["position_side_required"])
        closing = position_side is not PositionSide.BOTH and (position_side is PositionSide.LONG) != (side is Side.BUY)
        return params.get("reduceOnly") in (True, "true") or closing, position_side

    def place(self, request: OrderRequest) -> SimOrder:
        """A post-only order that would take is accepted, then cancelled: the answer carries its
        id and the order reads back Cancelled."""
        try:
            return super().place(request)
        except Reject as exc:
            if exc.reason != "post_only_would_take":
                raise
        return self.void(request)

    def void(self, r: OrderRequest) -> SimOrder:
        market = self.engine.markets[r.symbol]
        assert r.price is not None
        order = SimOrder(
            order_id=str(uuid.uuid4()), client_id=r.client_id or "", account=r.account, symbol=r.symbol, side=r.side,
            type=r.kind, amount=int(r.amount / market.lot), price=int(r.price / market.tick), tif=r.tif, post_only=True,
            reduce_only=r.reduce_only, position_side=r.position_side, status=OrderStatus.CANCELED,
        )
        order.updated = order.created
        self.voided[order.order_id] = order
        return order

    def lookup(self, account: str, params: Params) -> SimOrder | None:
        found = super().lookup(account, params)
        if found is not None:
            return found
        order_id, link_id = params.get("orderId") or None, params.get("orderLinkId") or None
        for order in self.voided.values():
            if order.account == account and (order.order_id == order_id if order_id else order.client_id == link_id):
                return order
        return None

    def recent_closed(self, account: str) -> list[SimOrder]:
        voided = [o for o in self.voided.values() if o.account == account]
        return sorted([*super().recent_closed(account), *voided], key=lambda o: o.updated)[-RECENT_CLOSED:]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        row = super().order_json(order)
        row.update({"isLeverage": "", "marketUnit": "", "feeCurrency": "", "cumFeeDetail": {}})
        if order.order_id in self.voided:
            row.update({"rejectReason": "EC_PostOnlyWillTakeLiquidity", "cancelType": "UNKNOWN"})
        return row

    # ---- positions --------------------------------------------------------------------------------

    async def switch_mode(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """mode 0 one-way, 3 hedge, for every USDT contract (coin) or the one symbol named; the
        engine keeps one mode per account, so naming a symbol switches them all."""
        self.check_category(params)
        if params.get("symbol") is None and params.get("coin") is None:
            raise BybitError(10001, "params error: symbol or coin is required")
        if params.get("symbol") is not None:
            self.symbol_param(params)
        mode = str(params.get("mode"))
        if mode not in ("0", "3"):
            raise BybitError(10001, "params error: mode must be 0 (one-way) or 3 (hedge)")
        hedge = mode == "3"
        if self.engine.account(key.account).hedge_mode == hedge:
            raise BybitError(110025, "Position mode is not modified")
        self.apply(lambda: self.engine.set_position_mode(key.account, hedge))
        return {}

    async def set_margin_mode(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """A unified account's margin mode is the account's: every contract turns cross or isolated."""
        choice = params.get("setMarginMode")
        mode = {"REGULAR_MARGIN": MarginMode.CROSS, "ISOLATED_MARGIN": MarginMode.ISOLATED}.get(str(choice))
        if mode is None:
            # portfolio margin is not simulated
            raise BybitError(3400045, f"Set margin mode failed: {choice} is not available to this account")
        if any(p.size for p in self.engine.account(key.account).positions.values()):
            raise BybitError(3400045, "Set margin mode failed: close your positions first")
        for symbol in self.markets:
            self.apply(partial(self.engine.set_margin_mode, key.account, symbol, mode))
        return {"reasons": []}

    async def set_leverage(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        buy, sell = self.decimal_param(params, "buyLeverage"), self.decimal_param(params, "sellLeverage")
        if buy is None or buy != sell:
            raise BybitError(10001, "params error: buyLeverage must equal sellLeverage")
        if not Decimal(1) <= buy <= self.max_leverage or buy != buy.quantize(Decimal("0.01")):
            raise BybitError(10001, f"params error: leverage {plain(buy)} is outside [1, {self.max_leverage}] or its 0.01 step")
        if self.leverage(key.account, symbol) == buy:
            raise BybitError(110043, "Set leverage not modified")
        self.apply(lambda: self.engine.set_leverage(key.account, symbol, buy))
        return {}

    def apply(self, change: Callable[[], None]) -> None:
        try:
            change()
        except Reject as exc:
            raise BybitError(*self.errors.get(exc.reason, (10001, "params error"))) from None

    def leverage(self, account: str, symbol: str) -> Decimal:
        return self.engine.account(account).leverages.get(symbol, Decimal(1))

    def margin_mode(self, account: str) -> MarginMode:
        modes = self.engine.account(account).margin_modes
        return modes.get(self.markets[0], MarginMode.CROSS)

    async def account_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        info = await super().account_info(key, params)
        mode = self.margin_mode(key.account)
        return {**info, "marginMode": "ISOLATED_MARGIN" if mode is MarginMode.ISOLATED else "REGULAR_MARGIN"}

    async def position_list(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """By symbol: its positions, empty ones too; by settleCoin: the open ones."""
        self.check_category(params)
        if params.get("symbol") is not None:
            symbols, open_only = [self.symbol_param(params)], False
        elif params.get("settleCoin") is not None or params.get("baseCoin") is not None:
            symbols = [s for s in self.markets if params.get("settleCoin") in (None, parse_standard(s)[1])
                       and params.get("baseCoin") in (None, parse_standard(s)[0])]
            open_only = True
        else:
            raise BybitError(10001, "params error: symbol or settleCoin is required")
        account = self.engine.account(key.account)
        sides = (PositionSide.LONG, PositionSide.SHORT) if account.hedge_mode else (PositionSide.BOTH,)
        rows = [self.position_json(key.account, s, side) for s in symbols for side in sides]
        rows = [r for r in rows if not open_only or r["size"] != "0"]
        page, cursor = self.page_of(rows, params, 20, 200)
        return {"category": self.category, "list": page, "nextPageCursor": cursor}

    def mark(self, symbol: str) -> Decimal:
        """The book's mid stands in for the mark price."""
        ladder = self.ladders[symbol]
        if not (ladder.bids and ladder.asks):
            return ZERO
        return Decimal(max(ladder.bids) + min(ladder.asks)) / 2 * self.engine.markets[symbol].tick

    def position_json(self, account: str, symbol: str, side: PositionSide) -> dict[str, Any]:
        pos = self.engine.position(account, symbol, side)
        ladder = self.ladders[symbol]
        size = abs(pos.size)
        long = pos.size > 0 if side is PositionSide.BOTH else side is PositionSide.LONG
        mark = self.mark(symbol)
        upl = (mark - pos.entry) * size * (1 if long else -1) if size else ZERO
        now = str(ms(time.time()))
        return {
            "positionIdx": POSITION_IDX[side],
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": self.native(symbol),
            "side": ("Buy" if long else "Sell") if size else "",
            "size": plain(size),
            "avgPrice": plain(pos.entry),
            "positionValue": plain(pos.entry * size),
            "tradeMode": 0,  # deprecated on UTA 2.0: the account info tells the margin mode
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": plain(self.leverage(account, symbol)),
            "markPrice": ladder.price_str(int(mark / self.engine.markets[symbol].tick)) if mark else "",
            "liqPrice": "",  # no liquidation is simulated
            "bustPrice": "",
            "positionIM": plain(pos.margin),
            "positionMM": "0",
            "positionBalance": plain(pos.margin),
            "takeProfit": "",
            "stopLoss": "",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "delta": "",
            "gamma": "",
            "vega": "",
            "theta": "",
            "unrealisedPnl": plain(upl),
            "curRealisedPnl": "0",
            "cumRealisedPnl": "0",
            "adlRankIndicator": 2 if size else 0,
            "createdTime": now,
            "updatedTime": now,
            "seq": 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "tpslMode": "Full",
        }

    # ---- the unified wallet ---------------------------------------------------------------------------

    async def wallet_balance(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """What the engine locks for a contract is initial margin: for orders (totalOrderIM) and
        for positions (totalPositionIM), not a spot lock."""
        result = await super().wallet_balance(key, params)
        summary = result["list"][0]
        account = self.engine.account(key.account)
        upl_total = ZERO
        for row in summary["coin"]:
            order_im, position_im, upl = self.margins(key.account, row["coin"])
            locked = account.locked.get(row["coin"], ZERO) - order_im - position_im
            row.update({
                "locked": plain(locked), "totalOrderIM": plain(order_im), "totalPositionIM": plain(position_im),
                "unrealisedPnl": plain(upl), "equity": plain(Decimal(row["walletBalance"]) + upl),
            })
            upl_total += self.usd_value(row["coin"], upl)
        initial = sum((Decimal(r["totalOrderIM"]) + Decimal(r["totalPositionIM"]) for r in summary["coin"] if r["coin"] in STABLE), ZERO)
        summary.update({
            "totalPerpUPL": plain(upl_total), "totalEquity": plain(Decimal(summary["totalEquity"]) + upl_total),
            "totalInitialMargin": plain(initial),
        })
        return result

    def margins(self, account: str, coin: str) -> tuple[Decimal, Decimal, Decimal]:
        """(order IM, position IM, unrealised PnL) in ``coin``, the settle coin of its contracts."""
        orders = [o for o in self.engine.open_orders(account) if self.engine.markets[o.symbol].quote == coin]
        positions = [
            (symbol, side) for (symbol, side), pos in self.engine.account(account).positions.items()
            if pos.size and self.engine.markets[symbol].quote == coin
        ]
        rows = [self.position_json(account, symbol, side) for symbol, side in positions]
        return (
            sum((o.reserved for o in orders), ZERO),
            sum((Decimal(r["positionIM"]) for r in rows), ZERO),
            sum((Decimal(r["unrealisedPnl"]) for r in rows), ZERO),
        )


class BybitInverseSim(BybitLinearSim):
    """Sizes are whole contracts of 1 USD, so the client's base-coin book holds contracts / price."""

    venue = "bybitinverse"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    ws_paths = ("/v5/public/inverse",)
    category = "inverse"
    contract_type = "InversePerpetual"
    client_ccxt_id = None  # inverse trading is not simulated yet
    private_ws_paths = ()

    def trading_routes(self) -> list[web.RouteDef]:
        return []

    def contracts(self, ladder: Ladder, ticks: int, lots: int) -> int:
        return max(1, round(ladder.size(lots) * ladder.price(ticks)))

    def size_str(self, ladder: Ladder, ticks: int, lots: int) -> str:
        return str(self.contracts(ladder, ticks, lots))

    def lot_step(self, ladder: Ladder) -> str:
        return "1"

    def settle_coin(self, base: str, quote: str) -> str:
        return base

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]

        def side(bids: bool) -> list[tuple[float, float]]:
            out = []
            for p, q in ladder.top(bids, n):
                price = ladder.price_str(p)
                out.append((float(price), float(self.size_str(ladder, p, q)) / float(price)))
            return out

        return side(True), side(False)


SIMS: dict[str, type[SimVenue]] = {
    "bybit": BybitSpotSim,
    "bybitlinear": BybitLinearSim,
    "bybitinverse": BybitInverseSim,
}
