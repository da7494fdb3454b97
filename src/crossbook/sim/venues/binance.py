"""Simulated Binance spot, USD-M and COIN-M.

Market data: the combined stream with SUBSCRIBE, ``depthUpdate`` events with ``U``/``u`` (and
``pu`` on futures), ``aggTrade``, the REST depth snapshot with ``lastUpdateId`` and ``exchangeInfo``.
Spot trading, as ccxt calls it: ``/api/v3/account``, ``order`` (create, cancel, fetch),
``openOrders``, ``myTrades``, ``/sapi/v1/asset/tradeFee``, signed with HMAC-SHA256 over the query
and form body, ``X-MBX-APIKEY``, ``timestamp`` within ``recvWindow``; errors in Binance's own codes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ...model import OrderStatus, OrderType, Side, TimeInForce
from ..access import ApiKey
from ..engine import Reject, SimFill, SimOrder
from ..market import MarketSpec
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
}
ORDER_TYPES = {
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LOSS": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
}


def error(status: int, code: int, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg}, status=status)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


class BinanceSpotSim(SimVenue):
    venue = "binance"
    ccxt_id: ClassVar[str | None] = "binance"
    ccxt_hosts = ("https://api.binance.com",)
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/stream", "/ws")
    server_ping_interval = 20.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    api: ClassVar[str] = "/api/v3"
    depth_stream: ClassVar[str] = "depth@100ms"
    places: ClassVar[int | None] = 8  # Binance spot pads prices and sizes to 8 decimals

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 1_000_000 + 17 * i for i, s in enumerate(self.markets)}

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
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            return error(400, -1121, "Invalid symbol.")
        kind = params.get("type", "")
        if kind not in ORDER_TYPES:
            return error(400, -1116, "Invalid orderType.")
        try:
            order = self.engine.submit(
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
            )
        except Reject as exc:
            return error(*ERRORS.get(exc.reason, (400, -2010, str(exc))))
        except (ValueError, ArithmeticError):
            return error(400, -1100, "Illegal characters found in a parameter.")
        body = self.order_json(order)
        if params.get("newOrderRespType", "FULL") == "FULL":
            body["fills"] = [self.fill_json(f) for f in self.engine.account_fills(key.account) if f.order_id == order.order_id]
        return json_response(body)

    def find(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        return self.engine.find(key.account, params.get("orderId"), params.get("origClientOrderId"))

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            order = self.engine.cancel(key.account, params.get("orderId"), params.get("origClientOrderId"))
        except Reject as exc:
            return error(*ERRORS["order_final" if exc.reason in ("unknown_order", "order_final") else exc.reason])
        return json_response(self.order_json(order))

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

    # ---- Binance shapes -------------------------------------------------------------------

    @staticmethod
    def num(value: Decimal) -> str:
        return f"{value:.8f}"

    def order_type(self, order: SimOrder) -> str:
        if order.post_only:
            return "LIMIT_MAKER"
        return {OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET", OrderType.STOP: "STOP_LOSS", OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT"}[order.type]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        return {
            "symbol": self.native(order.symbol),
            "orderId": int(order.order_id),
            "orderListId": -1,
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
            "orderListId": -1,
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
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"],
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
    venue = "binanceusdm"
    ccxt_id = None  # futures trading (fapi/dapi) is not simulated yet
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    api = "/fapi/v1"
    places = None  # futures send the contract's own precision

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        info["contractType"] = "PERPETUAL"
        return info

    def trading_routes(self) -> list[web.RouteDef]:
        return []

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        event["T"] = now
        event["pu"] = prev


class BinanceCoinmSim(BinanceUsdmSim):
    """COIN-M sizes are contracts of a fixed USD value (100 USD for BTC, 10 USD for others)."""

    venue = "binancecoinm"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    specs = {"BTC-USD-PERP": MarketSpec("BTC-USD-PERP", 0.1, 1.0), "ETH-USD-PERP": MarketSpec("ETH-USD-PERP", 0.01, 1.0)}
    contract_usd: ClassVar[dict[str, int]] = {"BTC-USD-PERP": 100, "ETH-USD-PERP": 10}
    api = "/dapi/v1"

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}_PERP"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        del info["status"]
        info["contractStatus"] = "TRADING"
        info["contractSize"] = self.contract_usd[symbol]
        return info


SIMS: dict[str, type[SimVenue]] = {
    "binance": BinanceSpotSim,
    "binanceusdm": BinanceUsdmSim,
    "binancecoinm": BinanceCoinmSim,
}
