"""Binance USD-M / COIN-M conditional orders: the Algo Service (``/fapi/v1/algoOrder``,
``/dapi/v1/algoOrder``), where Binance has taken stop, stop-limit and take-profit orders since
December 2025 and where ccxt 4.5.90 sends them.

A conditional order gets an ``algoId`` of its own and waits in the Algo Service; when its
trigger trades it is placed in the matching engine as a new order, whose ``orderId`` the algo
order reports as ``actualOrderId`` and whose fills carry that ``orderId``. The simulator's engine
holds the order (type, trigger, limit) and fires it; this module keeps the algo ids apart from
the engine's order ids and answers in the Algo Service's terms (``algoStatus`` NEW, TRIGGERED,
FINISHED, CANCELED, REJECTED; ``ALGO_UPDATE`` on the user data stream)."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import ERRORS, FUTURES_ERRORS, binance_error, rejected
from .wire import ms

# the Algo Service's CONDITIONAL order types ccxt sends for stops and take-profits (not trailing stops)
ALGO_TYPES = {
    "STOP_MARKET": OrderType.STOP,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.STOP,
    "TAKE_PROFIT": OrderType.STOP_LIMIT,
}
_FIRST_ALGO_ID = 4_000_000_001  # a number space of its own, as Binance's algo ids are


class AlgoOrders:
    """State and wire of the Algo Service, mixed into the futures simulator."""

    def init_algo(self) -> None:
        self.algo_ids = itertools.count(_FIRST_ALGO_ID)
        self.algos: dict[str, str] = {}  # algoId -> the engine's order id
        self.algo_of: dict[str, str] = {}  # the engine's order id -> algoId

    def algo_routes(self, api: str) -> list[web.RouteDef]:
        signed = self.signed  # type: ignore[attr-defined]
        return [
            web.post(f"{api}/algoOrder", signed(self.create_algo_order)),
            web.get(f"{api}/algoOrder", signed(self.get_algo_order)),
            web.delete(f"{api}/algoOrder", signed(self.cancel_algo_order)),
            web.get(f"{api}/openAlgoOrders", signed(self.open_algo_orders)),
        ]

    def is_waiting_algo(self, order: SimOrder) -> bool:
        """An algo order not yet placed in the matching engine: no orderId answers for it."""
        return order.order_id in self.algo_of and not order.triggered

    async def create_algo_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        engine = self.engine  # type: ignore[attr-defined]
        symbol = self.symbol_of(params.get("symbol", ""))  # type: ignore[attr-defined]
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        if params.get("algoType") != "CONDITIONAL":
            raise binance_error(-1116, "Invalid algoType.")
        kind = params.get("type", "")
        if kind not in ALGO_TYPES:
            raise binance_error(-1116, "Invalid orderType.")
        if "triggerPrice" not in params:
            raise binance_error(-1102, "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.")
        if ALGO_TYPES[kind] is OrderType.STOP_LIMIT and "price" not in params:
            raise binance_error(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        if reduce_only and engine.account(key.account).hedge_mode:
            raise binance_error(-1106, "Parameter 'reduceonly' sent when not required.")
        side = Side.BUY if params.get("side") == "BUY" else Side.SELL
        tif = params.get("timeInForce", "GTC")
        try:
            order = engine.submit(
                key.account, symbol, side, ALGO_TYPES[kind], Decimal(params.get("quantity", "0")),
                Decimal(params["price"]) if ALGO_TYPES[kind] is OrderType.STOP_LIMIT else None,
                stop_price=Decimal(params["triggerPrice"]),
                tif=TimeInForce.GTC if tif == "GTX" else TimeInForce(tif.lower()), post_only=tif == "GTX",
                reduce_only=reduce_only, position_side=PositionSide(params.get("positionSide", "BOTH").lower()),
                client_id=params.get("clientAlgoId"),
                # a take-profit sells on a rise and buys on a fall; a stop keeps the engine's default
                trigger_above=side is Side.SELL if kind.startswith("TAKE_PROFIT") else None,
                admitted=self.register_algo,
            )
        except Reject as exc:
            raise rejected(exc, FUTURES_ERRORS, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        return json_response(self.algo_json(order, kind))

    def register_algo(self, order: SimOrder) -> None:
        """Called by the engine once it holds the order, before it publishes anything about it."""
        algo_id = str(next(self.algo_ids))
        self.algos[algo_id] = order.order_id
        self.algo_of[order.order_id] = algo_id

    def find_algo(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        engine = self.engine  # type: ignore[attr-defined]
        try:
            if "algoId" in params:
                order: SimOrder = engine.find(key.account, self.algos.get(params["algoId"], "-"))
            else:
                order = engine.find(key.account, client_id=params.get("clientAlgoId"))
        except Reject:
            raise binance_error(-2013, "Order does not exist.") from None
        if order.order_id not in self.algo_of:
            raise binance_error(-2013, "Order does not exist.")
        return order

    async def get_algo_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(self.algo_json(self.find_algo(key, params)))

    async def cancel_algo_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Only a waiting algo order cancels here; once triggered, its order is canceled by orderId."""
        order = self.find_algo(key, params)
        if not self.is_waiting_algo(order) or order.status.final:
            raise binance_error(-2013, "Order does not exist.")
        self.engine.cancel(key.account, order.order_id)  # type: ignore[attr-defined]
        return json_response({"algoId": int(self.algo_of[order.order_id]), "clientAlgoId": order.client_id,
                              "code": "200", "msg": "success"})

    async def open_algo_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params["symbol"]) if "symbol" in params else None  # type: ignore[attr-defined]
        waiting = [o for o in self.engine.open_orders(key.account, symbol) if self.is_waiting_algo(o)]  # type: ignore[attr-defined]
        return json_response([self.algo_json(o) for o in waiting])

    def algo_status(self, order: SimOrder) -> str:
        if not order.triggered:
            return "NEW" if not order.status.final else "CANCELED" if order.status is OrderStatus.CANCELED else "EXPIRED"
        if order.status is OrderStatus.REJECTED:
            return "REJECTED"
        return "FINISHED" if order.status.final else "TRIGGERED"

    def algo_kind(self, order: SimOrder) -> str:
        take_profit = order.trigger_above is not None and order.trigger_above is (order.side is Side.SELL)
        if order.type is OrderType.STOP:
            return "TAKE_PROFIT_MARKET" if take_profit else "STOP_MARKET"
        return "TAKE_PROFIT" if take_profit else "STOP"

    def algo_json(self, order: SimOrder, kind: str | None = None) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]  # type: ignore[attr-defined]
        filled = order.filled * market.lot
        placed = order.triggered and order.status is not OrderStatus.REJECTED
        return {
            "algoId": int(self.algo_of[order.order_id]),
            "clientAlgoId": order.client_id,
            "algoType": "CONDITIONAL",
            "orderType": kind or self.algo_kind(order),
            "symbol": self.native(order.symbol),  # type: ignore[attr-defined]
            "side": order.side.value.upper(),
            "positionSide": order.position_side.value.upper(),
            "timeInForce": "GTX" if order.post_only else order.tif.value.upper(),
            "quantity": self.num(order.amount * market.lot),  # type: ignore[attr-defined]
            "algoStatus": self.algo_status(order),
            "actualOrderId": order.order_id if placed else "",
            "actualPrice": self.num(order.cost / filled if filled else Decimal(0)),  # type: ignore[attr-defined]
            "triggerPrice": self.num((order.stop or 0) * market.tick),  # type: ignore[attr-defined]
            "price": self.num((order.price or 0) * market.tick),  # type: ignore[attr-defined]
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": "CONTRACT_PRICE",
            "priceMatch": "NONE",
            "closePosition": False,
            "priceProtect": False,
            "reduceOnly": order.reduce_only,
            "createTime": ms(order.created),
            "updateTime": ms(order.updated or order.created),
            "triggerTime": ms(order.updated) if order.triggered else 0,
            "goodTillDate": 0,
        }

    def algo_update(self, order: SimOrder) -> dict[str, Any]:
        """The user data stream's ``ALGO_UPDATE`` for a waiting (or canceled) algo order."""
        body = self.algo_json(order)
        now = ms(time.time())
        return {"e": "ALGO_UPDATE", "T": now, "E": now, "o": {
            "caid": body["clientAlgoId"], "aid": body["algoId"], "at": "CONDITIONAL", "o": body["orderType"],
            "s": body["symbol"], "S": body["side"], "ps": body["positionSide"], "f": body["timeInForce"],
            "q": body["quantity"], "X": body["algoStatus"], "ai": body["actualOrderId"], "ap": body["actualPrice"],
            "aq": "0", "act": "0", "tp": body["triggerPrice"], "p": body["price"], "V": "EXPIRE_MAKER",
            "wt": "CONTRACT_PRICE", "pm": "NONE", "cp": False, "pP": False, "R": body["reduceOnly"], "tt": body["triggerTime"],
            "gtd": 0,
        }}
