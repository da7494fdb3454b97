"""Simulated Binance spot: signed requests, the account, placing, canceling and querying orders."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ....model import (
    OrderType,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...engine import Reject, SimFill, SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import ERRORS, binance_error, rejected
from .public import BinancePublic
from .wire import ORDER_TYPES, STATUS, Handler, ms

# the right a signed write asks of the key where it is not trading: a withdrawal needs the
# withdraw permission alone (a withdraw-only key is the safe one); any other write needs trade
WRITE_RIGHTS = {"/sapi/v1/capital/withdraw/apply": "withdraw"}


class BinanceTrading(BinancePublic):
    """Binance spot's signed endpoints: account, orders (place, cancel, cancel-replace, query) and trades."""

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
                raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            signature = params.pop("signature", "")
            unsigned = raw.replace(f"&signature={signature}", "").replace(f"signature={signature}", "")
            expected = hmac.new(key.secret.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signature, expected):
                raise binance_error(-1022, "Signature for this request is not valid.")
            window = min(60_000, int(params.get("recvWindow", "5000")))
            stamp = int(params.get("timestamp", "0"))
            now = ms(time.time())
            if stamp > now + 1000 or now - stamp > window:
                raise binance_error(-1021, "Timestamp for this request is outside of the recvWindow.")
            if request.method != "GET" and not key.may(WRITE_RIGHTS.get(request.path, "trade")):
                raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            return await handler(key, params)

        return check

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
        return json_response(self.placed_json(key, self.place(key, params), params))

    def place(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        kind = params.get("type", "")
        if kind not in ORDER_TYPES:
            raise binance_error(-1116, "Invalid orderType.")
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
            raise rejected(exc, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None

    def placed_json(self, key: ApiKey, order: SimOrder, params: dict[str, str]) -> dict[str, Any]:
        body = self.order_json(order)
        if params.get("newOrderRespType", "FULL") == "FULL":
            body["fills"] = [self.fill_json(f) for f in self.engine.account_fills(key.account) if f.order_id == order.order_id]
        return body

    def find(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        return self.engine.find(key.account, params.get("orderId"), params.get("origClientOrderId"))

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.order_json(self.find(key, params)))
        except Reject:
            raise ERRORS[Reason.UNKNOWN_ORDER].refuse() from None

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params["symbol"]) if "symbol" in params else None
        return json_response([self.order_json(o) for o in self.engine.open_orders(key.account, symbol)])

    async def all_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Every order of the account on one symbol, open or not, oldest first, from ``startTime``."""
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        since = int(params.get("startTime", "0")) / 1000.0
        orders = [o for o in self.engine.orders.values() if o.account == key.account and o.symbol == symbol and o.created >= since]
        limit = min(1000, int(params.get("limit", "500")))
        return json_response([self.order_json(o) for o in sorted(orders, key=lambda o: o.seq)][-limit:])

    async def my_trades(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        return json_response([self.trade_json(f) for f in self.engine.account_fills(key.account, symbol)])

    async def api_restrictions(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``GET /sapi/v1/account/apiRestrictions``: the key's rights as Binance names them; an IP
        restriction is a flag only (Binance lists no addresses here)."""
        trade = key.may("trade")
        return json_response({
            "ipRestrict": bool(key.ips), "createTime": ms(key.created), "enableReading": key.may("read"),
            "enableWithdrawals": key.may("withdraw"), "enableInternalTransfer": key.may("transfer"),
            "enableMargin": False, "enableFutures": trade, "permitsUniversalTransfer": key.may("transfer"),
            "enableVanillaOptions": False, "enableFixApiTrade": False, "enableFixReadOnly": key.may("read"),
            "enableSpotAndMarginTrading": trade, "enablePortfolioMarginTrading": False,
        })

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(
            [
                {
                    "symbol": self.native(s),
                    "makerCommission": self.num(self.engine.maker_fee),
                    "takerCommission": self.num(self.engine.taker_fee),
                }
                for s in self.markets
            ]
        )

    def order_type(self, order: SimOrder) -> str:
        if order.post_only or (order.type is OrderType.LIMIT and order.order_id in self.list_of):
            return "LIMIT_MAKER"  # an OCO's limit leg is a LIMIT_MAKER on Binance
        if order.trigger_above is not None:
            return {OrderType.STOP: "TAKE_PROFIT", OrderType.STOP_LIMIT: "TAKE_PROFIT_LIMIT"}[order.type]
        return {
            OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET", OrderType.STOP: "STOP_LOSS", OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT"
        }[order.type]

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
