"""Simulated Gate: placing, canceling and amending spot orders and price orders."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import (
    OrderType,
    Side,
    TimeInForce,
)
from ...engine import SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import ERRORS, gate_error
from .records import GateRecords
from .wire import (
    API,
    MIN_QUOTE,
    Call,
    Placement,
    amend,
    client_text,
    decimal_param,
    final_refusal,
    iceberg,
    invalid,
    nested,
    num,
    optional_decimal,
    side_of,
    time_in_force,
)


class GateTrading(GateRecords):
    """Gate v4's spot trading endpoints: create, cancel and amend orders and price-triggered orders."""

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
            raise ERRORS[Reason.INSUFFICIENT_BALANCE].refuse()
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
            raise gate_error(
                "INVALID_PARAM_VALUE", f"Your order size {num(value)} {quote} is too small. The minimum is {num(least)} {quote}"
            )

    def touch(self, symbol: str, bid: bool) -> Decimal | None:
        top = self.ladders[symbol].top(bid, 1)
        return top[0][0] * self.engine.markets[symbol].tick if top else None

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
            raise gate_error("MISSING_REQUIRED_PARAM", "Missing required parameter: amount or price")
        market = self.engine.markets[order.symbol]
        self.check_size(order.symbol, (amount or order.amount * market.lot) * (price or (order.price or 0) * market.tick))
        amend(self.engine, order, amount, price)
        return json_response(self.order_json(order))

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

    def cancel_price_order(self, call: Call) -> web.Response:
        order = self.price_order(call)
        if not order.waiting or order.status.final:
            raise final_refusal(order)
        return json_response(self.price_order_json(self.engine.cancel(call.key.account, order.order_id)))
