"""Simulated Binance spot, USD-M and COIN-M.

Market data: the combined stream with SUBSCRIBE, ``depthUpdate`` events with ``U``/``u`` (and
``pu`` on futures), ``aggTrade``, the REST depth snapshot with ``lastUpdateId`` and ``exchangeInfo``.
Spot trading, as ccxt calls it: ``/api/v3/account``, ``order`` (create, cancel, fetch; LIMIT,
LIMIT_MAKER, MARKET, STOP_LOSS(_LIMIT), TAKE_PROFIT(_LIMIT), iceberg), ``order/cancelReplace``
(ccxt's ``edit_order``: a new order id), ``openOrders``, ``myTrades``, ``/sapi/v1/asset/tradeFee``,
OCO order lists (``orderList/oco``, legacy ``order/oco``, ``orderList``, ``openOrderList``),
sub-account transfers (``/sapi/v1/sub-account/universalTransfer`` POST and history,
``transfer/subToMaster``; a sub-account is an engine account opened with ``parent=``, named by
its email), signed with HMAC-SHA256 over the query and form body, ``X-MBX-APIKEY``,
``timestamp`` within ``recvWindow``; errors in Binance's own codes. The spot private stream is the
WebSocket API's (``/ws-api/v3``, ``userDataStream.subscribe.signature``; the spot listenKey was
discontinued on 2026-02-20): ``executionReport`` events wrapped in ``{"subscriptionId", "event"}``.
USD-M perpetuals trade too (``BinanceUsdmSim``: orders, modify in place, positions, leverage,
margin and position modes, ``premiumIndex`` funding, the listenKey stream of
``ORDER_TRADE_UPDATE``), and so do COIN-M perpetuals on ``/dapi`` (``BinanceCoinmSim``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ...model import MarginMode, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ..access import ApiKey
from ..engine import OrderEvent, Position, Reject, SimFill, SimOrder, to_units
from ..market import MarketSpec
from ..ratelimit import Over, refusal, retry_after
from ..server import Change, SimConnection, SimVenue, json_response

Handler = Callable[[web.Request], Awaitable[web.Response]]
STATUS = {
    OrderStatus.OPEN: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.EXPIRED: "EXPIRED",
}
# engine reject reason -> (HTTP status, Binance code, message)
ERRORS: dict[str, tuple[int, int, str]] = {
    "insufficient_balance": (400, -2010, "Account has insufficient balance for requested action."),
    "post_only_would_take": (400, -2010, "Order would immediately match and take."),
    "price_off_grid": (400, -1013, "Filter failure: PRICE_FILTER"),
    "amount_off_grid": (400, -1013, "Filter failure: LOT_SIZE"),
    "iceberg_visible_amount_off_grid": (400, -1013, "Filter failure: LOT_SIZE"),
    "stop_price_off_grid": (400, -1013, "Filter failure: PRICE_FILTER"),
    "bad_amount": (400, -1013, "Invalid quantity."),
    "bad_number": (400, -1100, "Illegal characters found in a parameter."),
    "missing_price": (400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    "missing_stop": (400, -1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."),
    "bad_iceberg": (400, -1013, "Filter failure: ICEBERG_PARTS"),
    "duplicate_client_id": (400, -2010, "Duplicate order sent."),
    "no_liquidity": (400, -2010, "Market is closed."),
    "unknown_order": (400, -2013, "Order does not exist."),
    "order_final": (400, -2011, "Unknown order sent."),
    "oco_prices": (400, -2010, "The relationship of the prices for the orders is not correct."),
}
ORDER_TYPES = {
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LOSS": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.STOP,
    "TAKE_PROFIT_LIMIT": OrderType.STOP_LIMIT,
}


@dataclass
class OrderList:
    """A Binance order list (an OCO): its two legs, in the order Binance reports them."""

    list_id: int
    client_id: str
    symbol: str
    legs: tuple[str, str]


FUNDING_RATE = Decimal("0.0001")  # every 8 hours; the engine charges no funding
FUNDING_PERIOD_MS = 8 * 3600 * 1000
FUTURES_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
# where USD-M answers differently from spot
FUTURES_ERRORS: dict[str, tuple[int, int, str]] = {
    "insufficient_balance": (400, -2019, "Margin is insufficient."),
    "post_only_would_take": (400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history"),
    "reduce_only_would_increase": (400, -2022, "ReduceOnly Order is rejected."),
    "position_side_required": (400, -4061, "Order's position side does not match user's setting."),
    "position_side_in_one_way": (400, -4061, "Order's position side does not match user's setting."),
    "unknown_order": (400, -2013, "Order does not exist."),
    "order_final": (400, -2013, "Order does not exist."),
}


class Refused(Exception):
    """A request Binance refuses, with the HTTP status, code and message of its answer."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}

    def response(self) -> web.Response:
        return error(self.status, self.code, self.msg)


def refused(exc: Reject, *tables: dict[str, tuple[int, int, str]]) -> Refused:
    """The engine's reject in the first table that knows its reason."""
    for table in tables:
        if exc.reason in table:
            return Refused(*table[exc.reason])
    return Refused(400, -2010, str(exc))


@dataclass
class Transfer:
    """A sub-account universal transfer, as the history lists it."""

    tran_id: int
    client_id: str
    source: str
    target: str
    asset: str
    amount: Decimal
    ts: int


def places_of(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def error(status: int, code: int, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg}, status=status)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def ws_api_error(rid: Any, status: int, code: int, msg: str) -> str:
    return orjson.dumps({"id": rid, "status": status, "error": {"code": code, "msg": msg}}).decode()


def cancel_replace_response(canceled: dict[str, Any] | Refused, placed: dict[str, Any] | Refused | None) -> web.Response:
    def result(part: dict[str, Any] | Refused | None) -> str:
        return "NOT_ATTEMPTED" if part is None else "FAILURE" if isinstance(part, Refused) else "SUCCESS"

    def shown(part: dict[str, Any] | Refused | None) -> dict[str, Any] | None:
        return part.body() if isinstance(part, Refused) else part

    body = {"cancelResult": result(canceled), "newOrderResult": result(placed),
            "cancelResponse": shown(canceled), "newOrderResponse": shown(placed)}
    failures = [r for r in (body["cancelResult"], body["newOrderResult"]) if r != "SUCCESS"]
    if not failures:
        return json_response(body)
    if len(failures) == 2:
        return json_response({"code": -2022, "msg": "Order cancel-replace failed.", "data": body}, status=400)
    return json_response({"code": -2021, "msg": "Order cancel-replace partially failed.", "data": body}, status=409)


class BinanceSpotSim(SimVenue):
    venue = "binance"
    ccxt_id: ClassVar[str | None] = "binance"
    ccxt_hosts = ("https://api.binance.com",)
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/stream", "/ws")
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws-api/v3",)
    ccxt_ws_hosts: ClassVar[tuple[str, ...]] = ("wss://ws-api.binance.com:443",)
    server_ping_interval = 20.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    api: ClassVar[str] = "/api/v3"
    depth_stream: ClassVar[str] = "depth@100ms"
    places: ClassVar[int | None] = 8  # Binance spot pads prices and sizes to 8 decimals

    api_key_header = "X-MBX-APIKEY"
    ban_seconds = 120.0  # 418 bans run from 2 minutes to 3 days

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        """429: -1015 for an ORDERS pool (no Retry-After), else -1003 with Retry-After."""
        if over.pool == "ORDERS":
            return refusal({"code": -1015, "msg": "Too many new orders; current limit exceeded."}, 429)
        return refusal({"code": -1003, "msg": "Too much request weight used; please use WebSocket Streams for live updates "
                        "to avoid polling the API."}, 429, retry_after(over.wait))

    def ban_refusal(self, until: float) -> web.Response:
        return refusal({"code": -1003, "msg": f"Way too much request weight used; IP banned until {int(until * 1000)}. "
                        "Please use WebSocket Streams for live updates to avoid bans."}, 418, retry_after(until - time.time()))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 1_000_000 + 17 * i for i, s in enumerate(self.markets)}
        self.order_lists: dict[int, OrderList] = {}
        self.list_of: dict[str, int] = {}  # order id -> its order list's id
        self.list_ids = itertools.count(1)
        self.transfers: list[Transfer] = []
        self.tran_ids = itertools.count(100_000_001)

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{self.api}/exchangeInfo", self.exchange_info),
            web.get(f"{self.api}/depth", self.depth),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/account", self.signed(self.account_info)),
            web.post("/api/v3/order", self.signed(self.create_order)),
            web.delete("/api/v3/order", self.signed(self.cancel_order)),
            web.get("/api/v3/order", self.signed(self.get_order)),
            web.get("/api/v3/openOrders", self.signed(self.open_orders)),
            web.get("/api/v3/allOrders", self.signed(self.all_orders)),
            web.get("/api/v3/myTrades", self.signed(self.my_trades)),
            web.get("/sapi/v1/asset/tradeFee", self.signed(self.trade_fee)),
            web.post("/api/v3/orderList/oco", self.signed(self.create_oco)),
            web.post("/api/v3/order/oco", self.signed(self.create_legacy_oco)),
            web.get("/api/v3/orderList", self.signed(self.get_order_list)),
            web.delete("/api/v3/orderList", self.signed(self.cancel_order_list)),
            web.get("/api/v3/openOrderList", self.signed(self.open_order_lists)),
            web.post("/api/v3/order/cancelReplace", self.signed(self.cancel_replace)),
            web.post("/sapi/v1/sub-account/universalTransfer", self.signed(self.sub_account_transfer)),
            web.get("/sapi/v1/sub-account/universalTransfer", self.signed(self.sub_account_transfers)),
            web.post("/sapi/v1/sub-account/transfer/subToMaster", self.signed(self.sub_to_master)),
        ]

    # ---- auth -----------------------------------------------------------------------------

    def signed(self, handler: Callable[[ApiKey, dict[str, str]], Awaitable[web.Response]]) -> Handler:
        """Binance's SIGNED endpoint rule: key header, HMAC-SHA256 of the query string + body,
        ``timestamp`` within ``recvWindow`` (default 5000 ms, at most 60000)."""

        async def check(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            raw = request.query_string + body
            params = dict(parse_qsl(request.query_string, keep_blank_values=True))
            params.update(parse_qsl(body, keep_blank_values=True))
            key = self.api_keys.get(request.headers.get("X-MBX-APIKEY", ""))
            if key is None:
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            signature = params.pop("signature", "")
            unsigned = raw.replace(f"&signature={signature}", "").replace(f"signature={signature}", "")
            expected = hmac.new(key.secret.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signature, expected):
                return error(400, -1022, "Signature for this request is not valid.")
            window = min(60_000, int(params.get("recvWindow", "5000")))
            stamp = int(params.get("timestamp", "0"))
            now = ms(time.time())
            if stamp > now + 1000 or now - stamp > window:
                return error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
            if request.method != "GET" and "trade" not in key.permissions:
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            return await handler(key, params)

        return check

    # ---- trading --------------------------------------------------------------------------

    async def account_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        fee_bps = int(self.engine.taker_fee * 10_000)
        return json_response(
            {
                "makerCommission": int(self.engine.maker_fee * 10_000),
                "takerCommission": fee_bps,
                "canTrade": "trade" in key.permissions,
                "canWithdraw": "withdraw" in key.permissions,
                "canDeposit": True,
                "updateTime": ms(time.time()),
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": self.num(account.available(a)), "locked": self.num(account.locked.get(a, Decimal(0)))}
                    for a in assets
                ],
                "permissions": ["SPOT"],
            }
        )

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.placed_json(key, self.place(key, params), params))
        except Refused as exc:
            return exc.response()

    def place(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise Refused(400, -1121, "Invalid symbol.")
        kind = params.get("type", "")
        if kind not in ORDER_TYPES:
            raise Refused(400, -1116, "Invalid orderType.")
        try:
            return self.engine.submit(
                key.account,
                symbol,
                Side.BUY if params.get("side") == "BUY" else Side.SELL,
                ORDER_TYPES[kind],
                Decimal(params.get("quantity", "0")),
                Decimal(params["price"]) if "price" in params else None,
                stop_price=Decimal(params["stopPrice"]) if "stopPrice" in params else None,
                tif=TimeInForce(params.get("timeInForce", "GTC").lower()),
                post_only=kind == "LIMIT_MAKER",
                iceberg_visible=Decimal(params["icebergQty"]) if "icebergQty" in params else None,
                client_id=params.get("newClientOrderId"),
                # a take-profit sells on a rise and buys on a fall; a stop-loss keeps the engine's default
                trigger_above=params.get("side") == "SELL" if kind.startswith("TAKE_PROFIT") else None,
            )
        except Reject as exc:
            raise refused(exc, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise Refused(*ERRORS["bad_number"]) from None

    def placed_json(self, key: ApiKey, order: SimOrder, params: dict[str, str]) -> dict[str, Any]:
        body = self.order_json(order)
        if params.get("newOrderRespType", "FULL") == "FULL":
            body["fills"] = [self.fill_json(f) for f in self.engine.account_fills(key.account) if f.order_id == order.order_id]
        return body

    def find(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        return self.engine.find(key.account, params.get("orderId"), params.get("origClientOrderId"))

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.order_json(self.cancel(key, params.get("orderId"), params.get("origClientOrderId"))))
        except Refused as exc:
            return exc.response()

    def cancel(self, key: ApiKey, order_id: str | None, client_id: str | None) -> SimOrder:
        try:
            order = self.engine.cancel(key.account, order_id, client_id)
        except Reject as exc:
            raise Refused(*ERRORS["order_final" if exc.reason in ("unknown_order", "order_final") else exc.reason]) from None
        if order.order_id in self.list_of:
            self.cancel_legs(key, self.order_lists[self.list_of[order.order_id]])  # Binance cancels the whole list
        return order

    async def cancel_replace(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``order/cancelReplace``: cancel an order and place a new one (a new order id, the back of
        the queue). ``STOP_ON_FAILURE`` places nothing when the cancel fails; ``ALLOW_FAILURE``
        places the new order anyway. A failure on either side answers -2021 (one failed) or
        -2022 (both), with both results under ``data``."""
        mode = params.get("cancelReplaceMode")
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            return error(400, -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.")
        try:
            canceled: dict[str, Any] | Refused = self.order_json(
                self.cancel(key, params.get("cancelOrderId"), params.get("cancelOrigClientOrderId")))
        except Refused as exc:
            canceled = exc
        placed: dict[str, Any] | Refused | None = None
        if mode == "ALLOW_FAILURE" or not isinstance(canceled, Refused):
            try:
                placed = self.placed_json(key, self.place(key, params), params)
            except Refused as exc:
                placed = exc
        return cancel_replace_response(canceled, placed)

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.order_json(self.find(key, params)))
        except Reject:
            return error(*ERRORS["unknown_order"])

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params["symbol"]) if "symbol" in params else None
        return json_response([self.order_json(o) for o in self.engine.open_orders(key.account, symbol)])

    async def all_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Every order of the account on one symbol, open or not, oldest first, from ``startTime``."""
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        since = int(params.get("startTime", "0")) / 1000.0
        orders = [o for o in self.engine.orders.values() if o.account == key.account and o.symbol == symbol and o.created >= since]
        limit = min(1000, int(params.get("limit", "500")))
        return json_response([self.order_json(o) for o in sorted(orders, key=lambda o: o.seq)][-limit:])

    async def my_trades(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        return json_response([self.trade_json(f) for f in self.engine.account_fills(key.account, symbol)])

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(
            [
                {"symbol": self.native(s), "makerCommission": self.num(self.engine.maker_fee), "takerCommission": self.num(self.engine.taker_fee)}
                for s in self.markets
            ]
        )

    # ---- sub-accounts -----------------------------------------------------------------------

    def member(self, master: str, email: str | None) -> str:
        """The engine account an email names: the master when none is given, else one of its
        sub-accounts (an engine account opened with ``parent=master``, named by its email)."""
        if not email:
            return master
        account = self.engine.accounts.get(email)
        if account is None or account.parent != master:
            raise Refused(400, -12022, f"Sub-account {email} does not exist or does not belong to this master account.")
        return email

    def move(self, key: ApiKey, source: str, target: str, params: dict[str, str]) -> Transfer:
        try:
            self.engine.transfer(params.get("asset", ""), Decimal(params.get("amount", "")), source, target)
        except Reject as exc:
            raise refused(exc, {"insufficient_balance": (400, -3041, "Balance is not enough"),
                                "bad_amount": ERRORS["bad_amount"]}) from None
        except (ValueError, ArithmeticError):
            raise Refused(*ERRORS["bad_number"]) from None
        transfer = Transfer(next(self.tran_ids), params.get("clientTranId", ""), source, target,
                            params["asset"], Decimal(params["amount"]), ms(time.time()))
        self.transfers.append(transfer)
        return transfer

    async def sub_account_transfer(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``sub-account/universalTransfer`` with the master's key: SPOT to SPOT between the master
        (no email) and its sub-accounts, at least one email given."""
        if self.engine.account(key.account).parent is not None:
            return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        if params.get("fromAccountType") != "SPOT" or params.get("toAccountType") != "SPOT":
            return error(400, -1100, "Illegal characters found in parameter 'fromAccountType'; legal range is 'SPOT'.")
        if not params.get("fromEmail") and not params.get("toEmail"):
            return error(400, -1102, "Mandatory parameter 'fromEmail' or 'toEmail' was not sent, was empty/null, or malformed.")
        try:
            source = self.member(key.account, params.get("fromEmail"))
            target = self.member(key.account, params.get("toEmail"))
            transfer = self.move(key, source, target, params)
        except Refused as exc:
            return exc.response()
        return json_response({"tranId": transfer.tran_id, "clientTranId": transfer.client_id})

    async def sub_to_master(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``sub-account/transfer/subToMaster`` with a sub-account's key: its SPOT to the master's."""
        parent = self.engine.account(key.account).parent
        if parent is None:
            return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        try:
            transfer = self.move(key, key.account, parent, params)
        except Refused as exc:
            return exc.response()
        return json_response({"txnId": str(transfer.tran_id)})

    async def sub_account_transfers(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The master's universal transfer history, newest first, filtered by email and time."""
        mine = [t for t in self.transfers if key.account in (t.source, t.target)
                or key.account in (self.engine.accounts[t.source].parent, self.engine.accounts[t.target].parent)]
        wanted = [
            t for t in mine
            if params.get("fromEmail") in (None, t.source) and params.get("toEmail") in (None, t.target)
            and int(params.get("startTime", "0")) <= t.ts <= int(params.get("endTime", str(2**62)))
        ]
        limit, page = min(500, int(params.get("limit", "500"))), int(params.get("page", "1"))
        rows = sorted(wanted, key=lambda t: -t.tran_id)[(page - 1) * limit:page * limit]
        return json_response({"result": [self.transfer_json(key.account, t) for t in rows], "totalCount": len(wanted)})

    def transfer_json(self, master: str, transfer: Transfer) -> dict[str, Any]:
        return {
            "tranId": transfer.tran_id,
            "fromEmail": "" if transfer.source == master else transfer.source,
            "toEmail": "" if transfer.target == master else transfer.target,
            "asset": transfer.asset,
            "amount": self.num(transfer.amount),
            "createTimeStamp": transfer.ts,
            "fromAccountType": "SPOT",
            "toAccountType": "SPOT",
            "status": "SUCCESS",
            "clientTranId": transfer.client_id,
        }

    # ---- order lists (OCO) ------------------------------------------------------------------

    async def create_oco(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``orderList/oco``: a LIMIT_MAKER leg on the profit side and a STOP_LOSS(_LIMIT) leg on
        the loss side; a sell's limit is the above leg, a buy's the below leg."""
        limit_at, stop_at = ("above", "below") if params.get("side") == "SELL" else ("below", "above")
        stop_type = params.get(f"{stop_at}Type")
        if params.get(f"{limit_at}Type") != "LIMIT_MAKER" or stop_type not in ("STOP_LOSS", "STOP_LOSS_LIMIT"):
            return error(400, -1116, "Invalid orderType.")
        return self.place_oco(
            key, params, params.get(f"{limit_at}Price"), params.get(f"{stop_at}StopPrice"),
            params.get(f"{stop_at}Price") if stop_type == "STOP_LOSS_LIMIT" else None,
            (params.get(f"{limit_at}ClientOrderId"), params.get(f"{stop_at}ClientOrderId")),
            stop_first=stop_at == "below",
        )

    async def create_legacy_oco(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``order/oco`` (deprecated by Binance, still served): price, stopPrice, stopLimitPrice."""
        return self.place_oco(
            key, params, params.get("price"), params.get("stopPrice"), params.get("stopLimitPrice"),
            (params.get("limitClientOrderId"), params.get("stopClientOrderId")), stop_first=True,
        )

    def place_oco(self, key: ApiKey, params: dict[str, str], limit_price: str | None, stop_price: str | None,
                  stop_limit: str | None, client_ids: tuple[str | None, str | None], *, stop_first: bool) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        if limit_price is None:
            return error(*ERRORS["missing_price"])
        if stop_price is None:
            return error(*ERRORS["missing_stop"])
        try:
            limit, stop = self.engine.submit_oco(
                key.account, symbol, Side.BUY if params.get("side") == "BUY" else Side.SELL,
                Decimal(params.get("quantity", "0")), Decimal(limit_price), Decimal(stop_price),
                Decimal(stop_limit) if stop_limit is not None else None, client_ids,
            )
        except Reject as exc:
            return error(*ERRORS.get(exc.reason, (400, -2010, str(exc))))
        except (ValueError, ArithmeticError):
            return error(*ERRORS["bad_number"])
        list_id = next(self.list_ids)
        legs = (stop.order_id, limit.order_id) if stop_first else (limit.order_id, stop.order_id)
        order_list = OrderList(list_id, params.get("listClientOrderId") or f"sim-list-{list_id}", symbol, legs)
        self.order_lists[list_id] = order_list
        self.list_of.update({leg: list_id for leg in legs})
        return json_response(self.order_list_json(order_list, reports=True))

    def find_list(self, key: ApiKey, params: dict[str, str]) -> OrderList | None:
        wanted = params.get("orderListId")
        for order_list in self.order_lists.values():
            if self.engine.orders[order_list.legs[0]].account != key.account:
                continue
            if str(order_list.list_id) == wanted or (wanted is None and order_list.client_id == params.get("origClientOrderId")):
                return order_list
        return None

    async def get_order_list(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        order_list = self.find_list(key, params)
        if order_list is None:
            return error(*ERRORS["unknown_order"])
        return json_response(self.order_list_json(order_list, reports=False))

    async def cancel_order_list(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        order_list = self.find_list(key, params)
        if order_list is None or all(self.engine.orders[leg].status.final for leg in order_list.legs):
            return error(*ERRORS["order_final"])
        self.cancel_legs(key, order_list)
        return json_response(self.order_list_json(order_list, reports=True))

    def cancel_legs(self, key: ApiKey, order_list: OrderList) -> None:
        for leg in order_list.legs:
            if not self.engine.orders[leg].status.final:
                self.engine.cancel(key.account, leg)

    async def open_order_lists(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        lists = [
            ol for ol in self.order_lists.values()
            if self.engine.orders[ol.legs[0]].account == key.account
            and not all(self.engine.orders[leg].status.final for leg in ol.legs)
        ]
        return json_response([self.order_list_json(ol, reports=False) for ol in lists])

    def order_list_json(self, order_list: OrderList, *, reports: bool) -> dict[str, Any]:
        legs = [self.engine.orders[leg] for leg in order_list.legs]
        done = all(o.status.final for o in legs)
        body: dict[str, Any] = {
            "orderListId": order_list.list_id,
            "contingencyType": "OCO",
            "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
            "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
            "listClientOrderId": order_list.client_id,
            "transactionTime": ms(max(o.updated for o in legs)),
            "symbol": self.native(order_list.symbol),
            "orders": [{"symbol": self.native(o.symbol), "orderId": int(o.order_id), "clientOrderId": o.client_id} for o in legs],
        }
        if reports:
            body["orderReports"] = [self.order_json(o) for o in legs]
        return body

    # ---- Binance shapes -------------------------------------------------------------------

    @staticmethod
    def num(value: Decimal) -> str:
        return f"{value:.8f}"

    def order_type(self, order: SimOrder) -> str:
        if order.post_only or (order.type is OrderType.LIMIT and order.order_id in self.list_of):
            return "LIMIT_MAKER"  # an OCO's limit leg is a LIMIT_MAKER on Binance
        if order.trigger_above is not None:
            return {OrderType.STOP: "TAKE_PROFIT", OrderType.STOP_LIMIT: "TAKE_PROFIT_LIMIT"}[order.type]
        return {OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET", OrderType.STOP: "STOP_LOSS", OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT"}[order.type]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        return {
            "symbol": self.native(order.symbol),
            "orderId": int(order.order_id),
            "orderListId": self.list_of.get(order.order_id, -1),
            "clientOrderId": order.client_id,
            "transactTime": ms(order.updated),
            "price": self.num(price),
            "origQty": self.num(order.amount * market.lot),
            "executedQty": self.num(order.filled * market.lot),
            "cummulativeQuoteQty": self.num(order.cost),
            "status": STATUS.get(order.status, "NEW"),
            "timeInForce": order.tif.value.upper(),
            "type": self.order_type(order),
            "side": order.side.value.upper(),
            "stopPrice": self.num((order.stop or 0) * market.tick),
            "icebergQty": self.num((order.visible or 0) * market.lot),
            "time": ms(order.created),
            "updateTime": ms(order.updated),
            "isWorking": not order.waiting,
            "workingTime": ms(order.created),
            "origQuoteOrderQty": self.num(Decimal(0)),
            "selfTradePreventionMode": "NONE",
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        return {"price": self.num(fill.price), "qty": self.num(fill.amount), "commission": self.num(fill.fee),
                "commissionAsset": fill.fee_currency, "tradeId": fill.trade_id}

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        return {
            "symbol": self.native(fill.symbol),
            "id": fill.trade_id,
            "orderId": int(fill.order_id),
            "orderListId": self.list_of.get(fill.order_id, -1),
            "price": self.num(fill.price),
            "qty": self.num(fill.amount),
            "quoteQty": self.num(fill.price * fill.amount),
            "commission": self.num(fill.fee),
            "commissionAsset": fill.fee_currency,
            "time": ms(fill.ts),
            "isBuyer": fill.side is Side.BUY,
            "isMaker": not fill.taker,
            "isBestMatch": True,
        }

    async def exchange_info(self, request: web.Request) -> web.Response:
        return json_response({"timezone": "UTC", "serverTime": int(time.time() * 1000), "symbols": [self.symbol_info(s) for s in self.markets]})

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        spec = self.ladders[symbol].spec
        return {
            "symbol": self.native(symbol),
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": f"{spec.tick:.8f}", "maxPrice": "1000000.00000000", "tickSize": f"{spec.tick:.8f}"},
                {"filterType": "LOT_SIZE", "minQty": f"{spec.lot:.8f}", "maxQty": "9000.00000000", "stepSize": f"{spec.lot:.8f}"},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
            ],
        }

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = int(request.query.get("limit", "100"))
        ladder = self.ladders[symbol]
        return json_response(
            {
                "lastUpdateId": self.update_id[symbol],
                "bids": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(True, limit)],
                "asks": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(False, limit)],
            }
        )

    # ---- WebSocket --------------------------------------------------------------------------

    # ---- private stream (WebSocket API user data stream) ------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(ws_api_error(None, 400, -1000, "Malformed request."))
            return
        rid, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
        if method == "userDataStream.subscribe.signature":
            conn.send(self.subscribe_user_data(conn, rid, params))
        elif method == "userDataStream.unsubscribe":
            conn.account = None
            conn.send(orjson.dumps({"id": rid, "status": 200, "result": {}}).decode())
        else:
            conn.send(ws_api_error(rid, 400, -1100, f"Unknown method {method!r}."))

    def subscribe_user_data(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> str:
        """The WebSocket API's SIGNED rule: HMAC-SHA256 over the other params sorted by name."""
        key = self.api_keys.get(str(params.get("apiKey", "")))
        if key is None:
            return ws_api_error(rid, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = str(params.get("signature", ""))
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        if not hmac.compare_digest(signature, hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()):
            return ws_api_error(rid, 400, -1022, "Signature for this request is not valid.")
        stamp, now = int(params.get("timestamp", 0)), ms(time.time())
        if stamp > now + 1000 or now - stamp > min(60_000, int(params.get("recvWindow", 5000))):
            return ws_api_error(rid, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
        conn.account = key.account
        conn.state["subscription"] = conn.state.get("subscriptions", 0)
        conn.state["subscriptions"] = conn.state["subscription"] + 1
        return orjson.dumps({"id": rid, "status": 200, "result": {"subscriptionId": conn.state["subscription"]}}).decode()

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[str | bytes]:
        report = self.execution_report(event.order, event.fill)
        return [orjson.dumps({"subscriptionId": conn.state["subscription"], "event": report}).decode()]

    def execution_report(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = STATUS.get(order.status, "NEW")
        return {
            "e": "executionReport",
            "E": ms(time.time()),
            "s": self.native(order.symbol),
            "c": order.client_id,
            "S": order.side.value.upper(),
            "o": self.order_type(order),
            "f": order.tif.value.upper(),
            "q": self.num(order.amount * market.lot),
            "p": self.num((order.price or 0) * market.tick),
            "P": self.num((order.stop or 0) * market.tick),
            "F": self.num((order.visible or 0) * market.lot),
            "g": self.list_of.get(order.order_id, -1),
            "C": "",
            "x": "TRADE" if fill is not None else ("NEW" if status == "NEW" else status),
            "X": status,
            "r": "NONE",
            "i": int(order.order_id),
            "l": self.num(fill.amount if fill else Decimal(0)),
            "z": self.num(order.filled * market.lot),
            "L": self.num(fill.price if fill else Decimal(0)),
            "n": self.num(fill.fee) if fill else "0",
            "N": fill.fee_currency if fill else None,
            "T": ms(fill.ts if fill else order.updated),
            "t": fill.trade_id if fill else -1,
            "I": int(order.order_id) * 2,
            "w": order.status is OrderStatus.OPEN and not order.waiting,
            "m": fill is not None and not fill.taker,
            "M": False,
            "O": ms(order.created),
            "Z": self.num(order.cost),
            "Y": self.num(fill.price * fill.amount if fill else Decimal(0)),
            "Q": self.num(Decimal(0)),
            "W": ms(order.created),
            "V": "NONE",
        }

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        method = msg.get("method")
        for stream in msg.get("params", []):
            symbol = self.symbol_of(stream.split("@", 1)[0].upper())
            if symbol is None:
                conn.send(orjson.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown stream {stream}"}, "id": msg.get("id")}).decode())
                return
            if method == "SUBSCRIBE":
                conn.subs[symbol] = True
            elif method == "UNSUBSCRIBE":
                conn.subs.pop(symbol, None)
        conn.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())

    def encode(self, symbol: str, changes: list[Change]) -> str:
        prev = self.update_id[symbol]
        first = prev + 1 + (1 if self.faults.take("skip", symbol) else 0)
        last = first + len(changes) - 1
        self.update_id[symbol] = last
        ladder = self.ladders[symbol]
        bids = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if b]
        asks = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if not b]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event: dict[str, Any] = {"e": "depthUpdate", "E": now, "s": native, "U": first, "u": last}
        self.add_futures_fields(event, first - 1, now)
        event["b"] = bids
        event["a"] = asks
        return orjson.dumps({"stream": f"{native.lower()}@{self.depth_stream}", "data": event}).decode()

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        """Spot events carry nothing more."""

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event = {
            "e": "aggTrade",
            "E": now,
            "s": native,
            "a": trade_id,
            "p": ladder.price_str(ticks, self.places),
            "q": ladder.size_str(lots, self.places),
            "f": trade_id * 3,
            "l": trade_id * 3,
            "T": now,
            "m": not buy,
        }
        return orjson.dumps({"stream": f"{native.lower()}@aggTrade", "data": event}).decode()


class BinanceUsdmSim(BinanceSpotSim):
    """USD-M perpetuals, trading as ccxt's ``binanceusdm`` calls them: ``/fapi/v3/account``,
    ``/fapi/v1/order`` (LIMIT, MARKET; GTC, IOC, FOK, GTX post-only; ``reduceOnly``,
    ``positionSide``), ``openOrders``, ``userTrades``, ``accountConfig``, ``commissionRate``, ``leverage``,
    ``marginType``, ``positionSide/dual``, ``leverageBracket`` and ``/fapi/v3/positionRisk``; the
    modify (``PUT /fapi/v1/order``) and the public ``premiumIndex`` (mark price, funding rate,
    next funding time)."""

    venue = "binanceusdm"
    ccxt_id: ClassVar[str | None] = "binanceusdm"
    ccxt_hosts = ("https://fapi.binance.com",)
    ccxt_options = {"fetchMarkets": {"types": ["linear"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    api = "/fapi/v1"
    places = None  # futures send the contract's own precision
    # ccxt.pro's ``/private/ws?listenKey=`` and the documented ``/ws/<listenKey>``
    private_ws_paths = ("/private/ws", "/ws/{listen_key}")
    account_path: ClassVar[str] = "/fapi/v3/account"
    position_path: ClassVar[str] = "/fapi/v3/positionRisk"
    bracket_path: ClassVar[str] = "/fapi/v1/leverageBracket"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listen_keys: dict[str, str] = {}  # listenKey -> account
        self.amending: set[str] = set()  # ids of orders inside a modify (see ``amend``)

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), web.get(f"{self.api}/premiumIndex", self.premium_index)]

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        spec = self.ladders[symbol].spec
        info.update({
            "pair": info["symbol"],
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "marginAsset": info["quoteAsset"],
            "underlyingType": "COIN",
            "pricePrecision": places_of(spec.tick),
            "quantityPrecision": places_of(spec.lot),
            "orderTypes": list(FUTURES_TYPES),
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        })
        return info

    def trading_routes(self) -> list[web.RouteDef]:
        api = self.api
        return [
            web.get(self.account_path, self.signed(self.account_info)),
            web.post(f"{api}/order", self.signed(self.create_order)),
            web.put(f"{api}/order", self.signed(self.modify_order)),
            web.delete(f"{api}/order", self.signed(self.cancel_order)),
            web.get(f"{api}/order", self.signed(self.get_order)),
            web.get(f"{api}/openOrders", self.signed(self.open_orders)),
            web.get(f"{api}/userTrades", self.signed(self.my_trades)),
            web.get(f"{api}/accountConfig", self.signed(self.account_config)),
            web.get(f"{api}/commissionRate", self.signed(self.commission_rate)),
            web.post(f"{api}/leverage", self.signed(self.change_leverage)),
            web.post(f"{api}/marginType", self.signed(self.change_margin_type)),
            web.post(f"{api}/positionSide/dual", self.signed(self.change_position_mode)),
            web.get(f"{api}/positionSide/dual", self.signed(self.position_mode)),
            web.get(self.bracket_path, self.signed(self.leverage_brackets)),
            web.get(self.position_path, self.signed(self.position_risk)),
            web.post(f"{api}/listenKey", self.keyed(self.new_listen_key)),
            web.put(f"{api}/listenKey", self.keyed(self.keep_listen_key)),
            web.delete(f"{api}/listenKey", self.keyed(self.close_listen_key)),
        ]

    # ---- private stream (listenKey user data stream) --------------------------------------------

    def keyed(self, handler: Callable[[ApiKey], Awaitable[web.Response]]) -> Handler:
        """Binance's USER_STREAM rule: the key header, no signature."""

        async def check(request: web.Request) -> web.Response:
            key = self.api_keys.get(request.headers.get("X-MBX-APIKEY", ""))
            if key is None:
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            return await handler(key)

        return check

    def listen_key_of(self, account: str) -> str | None:
        return next((k for k, a in self.listen_keys.items() if a == account), None)

    async def new_listen_key(self, key: ApiKey) -> web.Response:
        """The account's active listenKey, or a new one (Binance keeps one per account)."""
        listen_key = self.listen_key_of(key.account) or secrets.token_hex(32)
        self.listen_keys[listen_key] = key.account
        return json_response({"listenKey": listen_key})

    async def keep_listen_key(self, key: ApiKey) -> web.Response:
        listen_key = self.listen_key_of(key.account)
        if listen_key is None:
            return error(400, -1125, "This listenKey does not exist.")
        return json_response({"listenKey": listen_key})

    async def close_listen_key(self, key: ApiKey) -> web.Response:
        listen_key = self.listen_key_of(key.account)
        if listen_key is not None:
            del self.listen_keys[listen_key]
            for conn in self.private_connections(key.account):
                conn.account = None
        return json_response({})

    def on_connect(self, conn: SimConnection) -> None:
        """A socket on a valid listenKey follows its account at once; there is no login."""
        listen_key = conn.query.get("listenKey") or conn.path.removeprefix("/ws/")
        conn.account = self.listen_keys.get(listen_key)

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        await self.on_client_message(conn, data)  # the stream takes market SUBSCRIBEs too

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[str | bytes]:
        amended = event.order.order_id in self.amending
        return [orjson.dumps(self.order_trade_update(event.order, event.fill, amended)).decode()]

    def order_trade_update(self, order: SimOrder, fill: SimFill | None, amended: bool) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = STATUS.get(order.status, "NEW")
        kind = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
        now = ms(time.time())
        execution = "TRADE" if fill is not None else "AMENDMENT" if amended else status if status != "PARTIALLY_FILLED" else "NEW"
        filled = order.filled * market.lot
        return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": {
            "s": self.native(order.symbol),
            "c": order.client_id,
            "S": order.side.value.upper(),
            "o": kind,
            "f": "GTX" if order.post_only else order.tif.value.upper(),
            "q": self.num(order.amount * market.lot),
            "p": self.num((order.price or 0) * market.tick),
            "ap": self.num(order.cost / filled if filled else Decimal(0)),
            "sp": "0",
            "x": execution,
            "X": status,
            "i": int(order.order_id),
            "l": self.num(fill.amount if fill else Decimal(0)),
            "z": self.num(filled),
            "L": self.num(fill.price if fill else Decimal(0)),
            "N": fill.fee_currency if fill else market.quote,
            "n": self.num(fill.fee if fill else Decimal(0)),
            "T": ms(fill.ts if fill else order.updated),
            "t": fill.trade_id if fill else 0,
            "b": "0",
            "a": "0",
            "m": fill is not None and not fill.taker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": kind,
            "ps": order.position_side.value.upper(),
            "cp": False,
            "rp": "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        }}

    # ---- funding ----------------------------------------------------------------------------

    def mark(self, symbol: str) -> Decimal:
        """The mark price: the book's mid."""
        ladder = self.ladders[symbol]
        return (Decimal(ladder.price_str(max(ladder.bids))) + Decimal(ladder.price_str(min(ladder.asks)))) / 2

    async def premium_index(self, request: web.Request) -> web.Response:
        """Mark price and funding: a fixed rate, the next 8-hour boundary (00:00, 08:00, 16:00 UTC).
        One object for a ``symbol``, else a list of all."""
        wanted = request.query.get("symbol")
        if wanted is None:
            return json_response([self.premium_json(s) for s in self.markets])
        symbol = self.symbol_of(wanted)
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        return json_response(self.premium_json(symbol))

    def premium_json(self, symbol: str) -> dict[str, Any]:
        mark, now = self.mark(symbol), ms(time.time())
        return {
            "symbol": self.native(symbol),
            "markPrice": self.num(mark),
            "indexPrice": self.num(mark),
            "estimatedSettlePrice": self.num(mark),
            "lastFundingRate": self.num(FUNDING_RATE),
            "interestRate": self.num(FUNDING_RATE),
            "nextFundingTime": (now // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS,
            "time": now,
        }

    # ---- account and settings ---------------------------------------------------------------

    async def account_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        now = ms(time.time())
        assets = [
            {
                "asset": a,
                "walletBalance": self.num(account.balances.get(a, Decimal(0))),
                "unrealizedProfit": self.num(Decimal(0)),
                "marginBalance": self.num(account.balances.get(a, Decimal(0))),
                "initialMargin": self.num(account.locked.get(a, Decimal(0))),
                "availableBalance": self.num(account.available(a)),
                "maxWithdrawAmount": self.num(account.available(a)),
                "updateTime": now,
            }
            for a in sorted(set(account.balances) | set(account.locked))
        ]
        return json_response({"totalWalletBalance": "0", "availableBalance": "0", "assets": assets,
                              "positions": [self.position_json(key.account, s, side, p) for (s, side), p in self.held(key.account)]})

    async def account_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"feeTier": 0, "canTrade": "trade" in key.permissions, "canDeposit": True,
                              "canWithdraw": "withdraw" in key.permissions, "dualSidePosition": self.engine.account(key.account).hedge_mode,
                              "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1})

    async def commission_rate(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The account's rates for one symbol: what the engine charges it."""
        if self.symbol_of(params.get("symbol", "")) is None:
            return error(400, -1121, "Invalid symbol.")
        return json_response({"symbol": params["symbol"], "makerCommissionRate": self.num(self.engine.maker_fee),
                              "takerCommissionRate": self.num(self.engine.taker_fee)})

    async def change_leverage(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        try:
            self.engine.set_leverage(key.account, symbol, Decimal(params.get("leverage", "0")))
        except (Reject, ArithmeticError):
            return error(400, -4028, "Leverage is not valid.")
        leverage = int(self.engine.account(key.account).leverages[symbol])
        return json_response({"leverage": leverage, "maxNotionalValue": "1000000000", "symbol": self.native(symbol)})

    async def change_margin_type(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        wanted = {"ISOLATED": MarginMode.ISOLATED, "CROSSED": MarginMode.CROSS}.get(params.get("marginType", "").upper())
        if wanted is None:
            return error(400, -1116, "Invalid marginType.")
        if self.margin_mode(key.account, symbol) is wanted:
            return error(400, -4046, "No need to change margin type.")
        if self.engine.open_orders(key.account, symbol):
            return error(400, -4047, "Margin type cannot be changed if there exists open orders.")
        try:
            self.engine.set_margin_mode(key.account, symbol, wanted)
        except Reject:
            return error(400, -4048, "Margin type cannot be changed if there exists position.")
        return json_response({"code": 200, "msg": "success"})

    async def position_mode(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"dualSidePosition": self.engine.account(key.account).hedge_mode})

    async def change_position_mode(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        hedge = params.get("dualSidePosition", "").lower() == "true"
        if self.engine.account(key.account).hedge_mode is hedge:
            return error(400, -4059, "No need to change position side.")
        if self.engine.open_orders(key.account):
            return error(400, -4067, "Position side cannot be changed if there exists open orders.")
        try:
            self.engine.set_position_mode(key.account, hedge)
        except Reject:
            return error(400, -4068, "Position side cannot be changed if there exists position.")
        return json_response({"code": 200, "msg": "success"})

    async def leverage_brackets(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        bracket = {"bracket": 1, "initialLeverage": 125, "notionalCap": 1_000_000_000, "notionalFloor": 0,
                   "maintMarginRatio": 0.004, "cum": 0.0}
        return json_response([{"symbol": self.native(s), "brackets": [bracket]} for s in self.markets])

    def margin_mode(self, account: str, symbol: str) -> MarginMode:
        return self.engine.account(account).margin_modes.get(symbol, MarginMode.CROSS)

    # ---- positions --------------------------------------------------------------------------

    def held(self, account: str) -> list[tuple[tuple[str, PositionSide], Position]]:
        return [(k, p) for k, p in self.engine.account(account).positions.items() if p.size]

    async def position_risk(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        wanted = self.symbol_of(params["symbol"]) if "symbol" in params else None
        return json_response([
            self.position_json(key.account, s, side, p) for (s, side), p in self.held(key.account) if wanted in (None, s)
        ])

    def position_json(self, account: str, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        """A v3 position: signed ``positionAmt`` (a hedge-mode short is negative), ``isolatedMargin``
        non-zero only in isolated mode (ccxt reads the margin mode from it). The mark is the mid."""
        mark = self.mark(symbol)
        amount = -pos.size if side is PositionSide.SHORT else pos.size
        isolated = self.margin_mode(account, symbol) is MarginMode.ISOLATED
        return {
            "symbol": self.native(symbol),
            "positionSide": side.value.upper(),
            "positionAmt": self.num(amount),
            "entryPrice": self.num(pos.entry),
            "breakEvenPrice": self.num(pos.entry),
            "markPrice": self.num(mark),
            "unRealizedProfit": self.num((mark - pos.entry) * amount),
            "liquidationPrice": "0",
            "isolatedMargin": self.num(pos.margin if isolated else Decimal(0)),
            "notional": self.num(mark * amount),
            "marginAsset": self.engine.markets[symbol].quote,
            "isolatedWallet": self.num(pos.margin if isolated else Decimal(0)),
            "initialMargin": self.num(pos.margin),
            "maintMargin": "0",
            "positionInitialMargin": self.num(pos.margin),
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": ms(time.time()),
        }

    # ---- orders -----------------------------------------------------------------------------

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        kind = params.get("type", "")
        if kind not in ("LIMIT", "MARKET"):
            return error(400, -1116, "Invalid orderType.")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        if reduce_only and self.engine.account(key.account).hedge_mode:
            return error(400, -1106, "Parameter 'reduceonly' sent when not required.")
        tif = params.get("timeInForce", "GTC")
        try:
            order = self.engine.submit(
                key.account, symbol, Side.BUY if params.get("side") == "BUY" else Side.SELL, ORDER_TYPES[kind],
                Decimal(params.get("quantity", "0")), Decimal(params["price"]) if "price" in params else None,
                tif=TimeInForce.GTC if tif == "GTX" else TimeInForce(tif.lower()), post_only=tif == "GTX",
                reduce_only=reduce_only, position_side=PositionSide(params.get("positionSide", "BOTH").lower()),
                client_id=params.get("newClientOrderId"),
            )
        except Reject as exc:
            return error(*FUTURES_ERRORS.get(exc.reason) or ERRORS.get(exc.reason, (400, -2010, str(exc))))
        except (ValueError, ArithmeticError):
            return error(*ERRORS["bad_number"])
        return json_response(self.order_json(order))

    async def modify_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``PUT order``: a LIMIT order's new price and quantity, same order id and client id, at
        the back of its new level's queue. A quantity not above what has filled cancels it."""
        try:
            order = self.engine.find(key.account, params.get("orderId"), params.get("origClientOrderId"))
            if order.status.final:
                raise Reject("order_final", "a final order cannot be modified")
            market = self.engine.markets[order.symbol]
            lots = to_units(Decimal(params.get("quantity", "")), market.lot, "amount")
            ticks = to_units(Decimal(params.get("price", "")), market.tick, "price")
            if lots <= 0:
                raise Reject("bad_amount", "quantity must be positive")
        except Reject as exc:
            return refused(exc, FUTURES_ERRORS, ERRORS).response()
        except (ValueError, ArithmeticError):
            return error(*ERRORS["bad_number"])
        if (lots, ticks) == (order.amount, order.price):
            return error(400, -5027, "No need to modify the order.")
        if lots <= order.filled:
            return json_response(self.order_json(self.engine.cancel(key.account, order.order_id)))
        try:
            return json_response(self.order_json(self.amend(order, lots, ticks)))
        except Reject as exc:
            return refused(exc, FUTURES_ERRORS, ERRORS).response()

    def amend(self, order: SimOrder, lots: int, ticks: int) -> SimOrder:
        """In place (``MatchingEngine.amend``), to the back of its new level's queue whatever
        changed, as Binance documents; a refused amend leaves the order as it was, except a
        post-only order that would now take, which Binance cancels."""
        self.amending.add(order.order_id)
        try:
            self.engine.amend(order, lots, ticks, keep_priority=False)
        except Reject as exc:
            if exc.reason == "post_only_would_take":
                self.amending.discard(order.order_id)
                self.engine.cancel(order.account, order.order_id)
            raise
        finally:
            self.amending.discard(order.order_id)
        return order

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        kind = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
        return {
            "orderId": int(order.order_id),
            "symbol": self.native(order.symbol),
            "status": STATUS.get(order.status, "NEW"),
            "clientOrderId": order.client_id,
            "price": self.num((order.price or 0) * market.tick),
            "avgPrice": self.num(order.cost / filled if filled else Decimal(0)),
            "origQty": self.num(order.amount * market.lot),
            "executedQty": self.num(filled),
            "cumQty": self.num(filled),
            "cumQuote": self.num(order.cost),
            "timeInForce": "GTX" if order.post_only else order.tif.value.upper(),
            "type": kind,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": order.side.value.upper(),
            "positionSide": order.position_side.value.upper(),
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": kind,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": ms(order.created),
            "updateTime": ms(order.updated),
        }

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        return {
            "symbol": self.native(fill.symbol),
            "id": fill.trade_id,
            "orderId": int(fill.order_id),
            "side": fill.side.value.upper(),
            "positionSide": order.position_side.value.upper(),
            "price": self.num(fill.price),
            "qty": self.num(fill.amount),
            "quoteQty": self.num(fill.price * fill.amount),
            "commission": self.num(fill.fee),
            "commissionAsset": fill.fee_currency,
            "time": ms(fill.ts),
            "buyer": fill.side is Side.BUY,
            "maker": not fill.taker,
        }

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        event["T"] = now
        event["pu"] = prev


class BinanceCoinmSim(BinanceUsdmSim):
    """COIN-M perpetuals as ccxt's ``binancecoinm`` trades them, on ``/dapi/v1`` the way USD-M
    trades on ``/fapi`` (``/dapi/v1/account``, ``/dapi/v1/positionRisk``, ``/dapi/v2/leverageBracket``).
    Sizes are contracts of a fixed USD value (100 USD for BTC, 10 USD for others); Binance keeps
    margin and PnL in the base coin. The engine keeps them in the quote (USD) units of price x
    contracts, as for linear contracts: balances, locked margin and realized PnL are the
    engine's; the position's ``notionalValue``, ``unRealizedProfit`` and isolated margin, and the
    orders' ``cumBase``, are the inverse values in the base coin."""

    venue = "binancecoinm"
    ccxt_id = "binancecoinm"
    ccxt_hosts = ("https://dapi.binance.com",)
    ccxt_options = {"fetchMarkets": {"types": ["inverse"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    specs = {"BTC-USD-PERP": MarketSpec("BTC-USD-PERP", 0.1, 1.0), "ETH-USD-PERP": MarketSpec("ETH-USD-PERP", 0.01, 1.0)}
    contract_usd: ClassVar[dict[str, int]] = {"BTC-USD-PERP": 100, "ETH-USD-PERP": 10}
    api = "/dapi/v1"
    account_path = "/dapi/v1/account"
    position_path = "/dapi/v1/positionRisk"
    bracket_path = "/dapi/v2/leverageBracket"

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}_PERP"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        del info["status"]
        info["contractStatus"] = "TRADING"
        info["contractSize"] = self.contract_usd[symbol]
        info["marginAsset"] = info["baseAsset"]
        info["pair"] = info["symbol"].removesuffix("_PERP")
        return info

    def base_value(self, symbol: str, contracts: Decimal, price: Decimal) -> Decimal:
        """What ``contracts`` are worth in the base coin at ``price``."""
        return contracts * self.contract_usd[symbol] / price if price else Decimal(0)

    def premium_json(self, symbol: str) -> dict[str, Any]:
        return {**super().premium_json(symbol), "pair": self.native(symbol).removesuffix("_PERP")}

    async def premium_index(self, request: web.Request) -> web.Response:
        """COIN-M answers a list even for one symbol."""
        wanted = request.query.get("symbol")
        symbols = [s for s in self.markets if wanted in (None, self.native(s))]
        if not symbols:
            return error(400, -1121, "Invalid symbol.")
        return json_response([self.premium_json(s) for s in symbols])

    async def leverage_brackets(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        bracket = {"bracket": 1, "initialLeverage": 125, "qtyCap": 1_000_000, "qtyFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}
        return json_response([{"symbol": self.native(s), "brackets": [bracket]} for s in self.markets])

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        body = super().order_json(order)
        filled = Decimal(body["executedQty"])
        average = order.cost / filled if filled else Decimal(0)
        del body["cumQuote"]
        body["cumBase"] = self.num(self.base_value(order.symbol, filled, average))
        body["pair"] = self.native(order.symbol).removesuffix("_PERP")
        return body

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        body = super().trade_json(fill)
        del body["quoteQty"]
        body["baseQty"] = self.num(self.base_value(fill.symbol, fill.amount, fill.price))
        body["marginAsset"] = self.engine.markets[fill.symbol].base
        body["pair"] = self.native(fill.symbol).removesuffix("_PERP")
        return body

    def position_json(self, account: str, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        """A ``/dapi/v1/positionRisk`` position: ``notionalValue`` in the base coin (signed),
        ``marginType`` and ``leverage`` given."""
        mark = self.mark(symbol)
        amount = -pos.size if side is PositionSide.SHORT else pos.size
        leverage = self.engine.account(account).leverages.get(symbol, Decimal(1))
        notional = self.base_value(symbol, amount, mark)
        isolated = self.margin_mode(account, symbol) is MarginMode.ISOLATED
        margin = abs(notional) / leverage if isolated else Decimal(0)
        pnl = self.base_value(symbol, amount, pos.entry) - notional if pos.entry else Decimal(0)
        return {
            "symbol": self.native(symbol),
            "positionAmt": self.num(amount),
            "entryPrice": self.num(pos.entry),
            "breakEvenPrice": self.num(pos.entry),
            "markPrice": self.num(mark),
            "unRealizedProfit": self.num(pnl),
            "liquidationPrice": "0",
            "leverage": str(int(leverage)),
            "maxQty": "1000000",
            "marginType": "isolated" if isolated else "cross",
            "isolatedMargin": self.num(margin),
            "isAutoAddMargin": "false",
            "positionSide": side.value.upper(),
            "notionalValue": self.num(notional),
            "isolatedWallet": self.num(margin),
            "updateTime": ms(time.time()),
        }


SIMS: dict[str, type[SimVenue]] = {
    "binance": BinanceSpotSim,
    "binanceusdm": BinanceUsdmSim,
    "binancecoinm": BinanceCoinmSim,
}
