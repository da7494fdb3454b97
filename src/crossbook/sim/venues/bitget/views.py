"""Simulated Bitget's order and fill records, in the v2 REST API's shapes."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from ....model import OrderType
from ...engine import SimFill, SimOrder
from .public import BitgetPublic
from .wire import STATUS, _ms, _num


class BitgetOrderViews(BitgetPublic):
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
