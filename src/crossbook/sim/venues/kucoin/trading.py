"""Simulated KuCoin: placing, altering and canceling HF, classic and stop orders, transfers."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderType, Side, TimeInForce
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import ErrorShape, Reason
from .errors import (
    CLASSIC_NOT_CANCELABLE,
    ERRORS,
    HF_NOT_CANCELABLE,
    ORDER_NOT_EXIST,
    PARAMETER_ERROR,
    REFUSALS,
    kucoin_error,
)
from .records import KucoinRecords
from .wire import (
    ENGINE_TYPES,
    TIME_IN_FORCE,
    ZERO,
    Params,
    decimal,
    truthy,
)


class KucoinTrading(KucoinRecords):
    """KuCoin's trading endpoints: HF, classic and stop orders (place, alter, cancel), universal transfers."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/bullet-public", self.bullet_public),
            web.post("/api/v1/bullet-private", self.signed(self.bullet_private, trading=False)),
            web.get("/api/v2/symbols", self.symbols),
            web.get("/api/v1/market/orderbook/level2_20", self.part_order_book),
            web.get("/api/v1/market/orderbook/level2_100", self.part_order_book),
            web.get("/api/v3/currencies", self.currencies),
            *self.account_routes(),
            *self.hf_routes(),
            *self.classic_routes(),
            *self.stop_routes(),
        ]

    def account_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.get("/api/ua/v1/account/mode", s(self.account_mode)),
            web.get("/api/v1/user/api-key", s(self.api_key_info)),
            web.get("/api/v1/hf/accounts/opened", s(self.hf_opened)),
            web.get("/api/v3/margin/symbols", s(self.margin_symbols)),
            web.get("/api/v1/isolated/symbols", s(self.isolated_symbols)),
            web.get("/api/v3/market/orderbook/level2", s(self.full_order_book)),
            web.get("/api/v1/accounts", s(self.accounts)),
            web.get("/api/v1/trade-fees", s(self.trade_fees)),
            web.post("/api/v3/accounts/universal-transfer", s(self.universal_transfer)),
        ]

    def hf_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [  # the fixed paths first: aiohttp matches in this order
            web.post("/api/v1/hf/orders", s(self.hf_create)),
            web.post("/api/v1/hf/orders/alter", s(self.hf_alter)),
            web.delete("/api/v1/hf/orders", s(self.hf_cancel_symbol)),
            web.get("/api/v1/hf/orders/active", s(self.hf_active)),
            web.get("/api/v1/hf/orders/done", s(self.hf_done)),
            web.get("/api/v1/hf/orders/client-order/{clientOid}", s(self.hf_get)),
            web.delete("/api/v1/hf/orders/client-order/{clientOid}", s(self.hf_cancel)),
            web.get("/api/v1/hf/orders/{orderId}", s(self.hf_get)),
            web.delete("/api/v1/hf/orders/{orderId}", s(self.hf_cancel)),
            web.get("/api/v1/hf/fills", s(self.hf_fills)),
        ]

    def classic_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.post("/api/v1/orders", s(self.classic_create)),
            web.get("/api/v1/orders", s(self.classic_list)),
            web.delete("/api/v1/orders", s(self.classic_cancel_all)),
            web.get("/api/v1/orders/{orderId}", s(self.classic_get)),
            web.delete("/api/v1/orders/{orderId}", s(self.classic_cancel)),
            web.get("/api/v1/order/client-order/{clientOid}", s(self.classic_get)),
            web.delete("/api/v1/order/client-order/{clientOid}", s(self.classic_cancel)),
            web.get("/api/v1/fills", s(self.classic_fills)),
        ]

    def stop_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.post("/api/v1/stop-order", s(self.stop_create)),
            web.get("/api/v1/stop-order", s(self.stop_list)),
            web.get("/api/v1/stop-order/queryOrderByClientOid", s(self.stop_get)),
            web.delete("/api/v1/stop-order/cancelOrderByClientOid", s(self.stop_cancel)),
            web.get("/api/v1/stop-order/{orderId}", s(self.stop_get)),
            web.delete("/api/v1/stop-order/{orderId}", s(self.stop_cancel)),
        ]

    async def universal_transfer(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """Flex transfer, as ccxt's transfer() makes it on a classic account: ``PARENT_TO_SUB``
        (``toUserId``) or ``SUB_TO_PARENT`` (``fromUserId``), called with the master's key, between
        TRADE accounts (the simulator keeps one spot balance per account). Refused when it would
        overdraw what is available (not held by orders)."""
        kind = params.get("type")
        if kind not in ("PARENT_TO_SUB", "SUB_TO_PARENT"):
            raise kucoin_error("400100", f"transfer type {kind} is not simulated")
        if {params.get("fromAccountType"), params.get("toAccountType")} != {"TRADE"}:
            raise kucoin_error("400100", "only TRADE to TRADE transfers are simulated")
        if not params.get("clientOid"):
            raise kucoin_error("400100", "clientOid is required")
        if kind == "PARENT_TO_SUB":
            source, target = key.account, self.sub_account(key.account, params.get("toUserId"))
        else:
            source, target = self.sub_account(key.account, params.get("fromUserId")), key.account
        currency = str(params.get("currency", ""))
        self.engine.transfer(currency, decimal(params.get("amount")), source, target)
        return {"orderId": uuid.uuid4().hex[:24]}

    async def hf_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.place(key, params, trigger=False)
        return {"orderId": self.order_id(order), "clientOid": order.client_id}

    async def classic_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"orderId": self.order_id(self.place(key, params, trigger=False))}

    async def stop_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"orderId": self.order_id(self.place(key, params, trigger=True))}

    def place(self, key: ApiKey, params: Params, trigger: bool) -> SimOrder:
        symbol = self.symbol_param(params)
        side, kind = params.get("side"), params.get("type", "limit")
        if side not in ("buy", "sell") or kind not in ("limit", "market"):
            raise PARAMETER_ERROR.refuse()
        if truthy(params.get("hidden")):
            raise kucoin_error("400100", "hidden orders are not simulated")
        tif = self.time_in_force(params, kind)
        order_side = Side(side)
        stop = self.stop_price(symbol, order_side, params) if trigger else None
        amount = self.amount(symbol, order_side, kind, params, trigger)
        order = self.engine.submit(
            key.account,
            symbol,
            order_side,
            ENGINE_TYPES[(kind, trigger)],
            amount,
            decimal(params["price"]) if kind == "limit" and "price" in params else None,
            stop_price=stop,
            tif=tif,
            post_only=kind == "limit" and tif is TimeInForce.GTC and truthy(params.get("postOnly")),
            iceberg_visible=decimal(params.get("visibleSize", 0)) if truthy(params.get("iceberg")) else None,
            client_id=str(params["clientOid"]) if params.get("clientOid") else None,
        )
        if "size" not in params:  # placed by funds: KuCoin reports the funds given
            self.funds[order.order_id] = decimal(params["funds"])
        return order

    async def hf_alter(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """Modify an HF limit order as KuCoin does it: cancel it, then place a new order (a new
        ``orderId``, the same ``clientOid``) for ``newSize`` less what has filled, at ``newPrice``.
        A ``newSize`` at or below the filled size only cancels it. A new order that is refused
        leaves the old one canceled."""
        symbol = self.symbol_param(params)
        if "newPrice" not in params and "newSize" not in params:
            raise kucoin_error("400100", "newPrice or newSize is required")
        try:
            if params.get("clientOid"):
                order = self.engine.find(key.account, client_id=str(params["clientOid"]))
            else:
                order = self.by_id(key, str(params.get("orderId", "")))
        except Reject:
            raise REFUSALS[Reason.UNKNOWN_ORDER].refuse() from None
        if order.symbol != symbol or order.status.final or order.type is not OrderType.LIMIT or order.visible is not None:
            raise HF_NOT_CANCELABLE.refuse()  # iceberg modifies are not simulated
        market = self.engine.markets[symbol]
        assert order.price is not None
        size = decimal(params.get("newSize", order.amount * market.lot))
        price = decimal(params.get("newPrice", order.price * market.tick))
        self.engine.cancel(key.account, order.order_id)
        rest = size - order.filled * market.lot
        if rest <= 0:
            return {"newOrderId": None, "clientOid": order.client_id}
        del self.engine.by_client[(key.account, order.client_id)]  # the new order takes the clientOid over
        try:
            new = self.engine.submit(
                key.account, symbol, order.side, OrderType.LIMIT, rest, price, tif=order.tif,
                post_only=order.post_only, client_id=order.client_id,
            )
        except Reject:
            self.engine.by_client[(key.account, order.client_id)] = order.order_id
            raise
        return {"newOrderId": self.order_id(new), "clientOid": new.client_id}

    @staticmethod
    def time_in_force(params: Params, kind: str) -> TimeInForce:
        if kind == "market":
            return TimeInForce.GTC
        name = str(params.get("timeInForce", "GTC"))
        if name not in TIME_IN_FORCE:
            raise kucoin_error("400100", f"timeInForce {name} is not simulated")  # GTT: no expiring orders
        return TIME_IN_FORCE[name]

    def amount(self, symbol: str, side: Side, kind: str, params: Params, trigger: bool) -> Decimal:
        """``size`` in base, or for an immediate market order ``funds`` in quote."""
        if "size" in params:
            return decimal(params["size"])
        if kind == "market" and not trigger and "funds" in params:
            return self.size_for_funds(symbol, side, decimal(params["funds"]))
        raise kucoin_error("400100", "size is required")

    def size_for_funds(self, symbol: str, side: Side, funds: Decimal) -> Decimal:
        """What ``funds`` of quote buys (or a sale raises) walking the book now, whole lots only."""
        ladder, market = self.ladders[symbol], self.engine.markets[symbol]
        book = ladder.bids if side is Side.SELL else ladder.asks
        left, lots = funds, 0
        for px, level in ladder.top(side is Side.SELL, len(book)):
            lot_value = px * market.tick * market.lot
            take = min(level, int(left / lot_value))
            lots += take
            left -= take * lot_value
            if take < level:
                break
        return lots * market.lot

    def stop_price(self, symbol: str, side: Side, params: Params) -> Decimal:
        """KuCoin's ``stop`` is ``entry`` (trigger at or above) or ``loss`` (at or below), by default
        the side of the market the stop price lies on. The engine triggers a buy on a rise and a
        sell on a fall, so those are the stops simulated."""
        if "stopPrice" not in params:
            raise ERRORS[Reason.MISSING_STOP].refuse()
        stop = decimal(params["stopPrice"])
        direction = str(params.get("stop") or self.implied_direction(symbol, stop))
        if direction != ("entry" if side is Side.BUY else "loss"):
            raise kucoin_error("400100", f"a {direction} stop on a {side.value} order is not simulated")
        return stop

    def implied_direction(self, symbol: str, stop: Decimal) -> str:
        ladder = self.ladders[symbol]
        touch = [px for is_bid in (True, False) for px, _ in ladder.top(is_bid, 1)]
        mid = Decimal(sum(touch)) / len(touch) * self.engine.markets[symbol].tick if touch else ZERO
        return "entry" if stop >= mid else "loss"

    def live_order(self, key: ApiKey, request: web.Request, params: Params, missing: ErrorShape, symbol: str | None = None) -> SimOrder:
        """An order the order endpoints show: not an untriggered stop (those live on /stop-order)."""
        try:
            order = self.lookup(key, request, params)
        except Reject:
            raise missing.refuse() from None
        if order.waiting or symbol not in (None, order.symbol):
            raise missing.refuse()
        return order

    def cancel_live(self, key: ApiKey, request: web.Request, params: Params, missing: ErrorShape, symbol: str | None = None) -> SimOrder:
        order = self.live_order(key, request, params, missing, symbol)
        try:
            return self.engine.cancel(key.account, order.order_id)
        except Reject:
            raise missing.refuse() from None

    def cancel_all(self, key: ApiKey, params: Params) -> list[SimOrder]:
        return [self.engine.cancel(key.account, o.order_id) for o in self.listed(key, params, active=True)]

    async def hf_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.hf_json(self.live_order(key, request, params, ORDER_NOT_EXIST, self.symbol_param(params)))

    async def hf_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.cancel_live(key, request, params, HF_NOT_CANCELABLE, self.symbol_param(params))
        if "clientOid" in request.match_info:
            return {"clientOid": order.client_id}
        return {"orderId": self.order_id(order)}

    async def hf_cancel_symbol(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        self.cancel_all(key, params)
        return "success"

    async def classic_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.classic_json(self.live_order(key, request, params, ORDER_NOT_EXIST))

    async def classic_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.cancel_live(key, request, params, CLASSIC_NOT_CANCELABLE)
        if "clientOid" in request.match_info:
            return {"cancelledOrderId": self.order_id(order), "clientOid": order.client_id, "cancelledOcoOrderIds": None}
        return {"cancelledOrderIds": [self.order_id(order)]}

    async def classic_cancel_all(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"cancelledOrderIds": [self.order_id(o) for o in self.cancel_all(key, params)]}

    def stop_order(self, key: ApiKey, request: web.Request, params: Params, missing: ErrorShape) -> SimOrder:
        """A stop order that has not been cancelled before its trigger."""
        try:
            order = self.lookup(key, request, params)
        except Reject:
            raise missing.refuse() from None
        if order.stop is None or (order.status.final and not order.triggered):
            raise missing.refuse()
        return order

    async def stop_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.stop_order(key, request, params, ORDER_NOT_EXIST)
        if "orderId" in request.match_info:
            return self.stop_json(order)
        return [self.stop_json(order)]  # the by-clientOid query answers a list

    async def stop_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.stop_order(key, request, params, CLASSIC_NOT_CANCELABLE)
        if not order.waiting:
            raise CLASSIC_NOT_CANCELABLE.refuse()
        self.engine.cancel(key.account, order.order_id)
        if "orderId" in request.match_info:
            return {"cancelledOrderIds": [self.order_id(order)]}
        return {"cancelledOrderId": self.order_id(order), "clientOid": order.client_id}
