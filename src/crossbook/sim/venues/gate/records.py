"""Simulated Gate: signed requests and what they read (accounts, fees, orders, trades)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from ....model import (
    OrderType,
)
from ....symbols import parse_standard
from ....venues.registry import base_fees
from ...access import ApiKey
from ...engine import Reject, SimFill, SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import refused, rejected
from .public import GatePublic
from .wire import (
    WINDOW,
    Call,
    Private,
    currency_info,
    finish_as,
    fresh,
    gate_signature,
    int_param,
    invalid,
    ms,
    not_found,
    num,
    order_status,
    parse_body,
    required,
    shown_text,
    trigger_status,
    user_id,
)


class GateRecords(GatePublic):
    """Gate v4's signed reads: authentication, accounts, fees, and orders, price orders and trades as Gate writes them."""

    def signed(self, handler: Private) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def check(request: web.Request) -> web.Response:
            raw = await request.read()
            try:
                key = self.authenticate(request, raw)
                info = request.match_info
                return handler(Call(key, request.query, parse_body(raw), info.get("order_id", ""), info.get("contract", "")))
            except Reject as exc:
                raise rejected(exc, self.errors) from None

        return check

    def authenticate(self, request: web.Request, raw: bytes) -> ApiKey:
        """Gate's checks in Gate's order: headers present, Timestamp fresh (before the key is even
        looked up), key known, signature, then write permission."""
        headers = request.headers
        for name in ("KEY", "Timestamp", "SIGN"):
            if name not in headers:
                raise refused(Reason.MISSING_CREDENTIALS, name=name)
        stamp = headers["Timestamp"]
        if not fresh(stamp):
            raise refused(Reason.STALE_TIMESTAMP, window=WINDOW)
        key = self.api_keys.get(headers["KEY"])
        if key is None:
            raise refused(Reason.UNKNOWN_KEY)
        query = unquote_plus(request.query_string)
        expected = gate_signature(key.secret, request.method, request.path, query, raw, stamp)
        if not hmac.compare_digest(headers["SIGN"], expected):
            raise refused(Reason.BAD_SIGNATURE)
        if request.method != "GET" and "trade" not in key.permissions:
            raise refused(Reason.PERMISSION_DENIED)
        return key

    async def currencies(self, request: web.Request) -> web.Response:
        codes = sorted({code for s in self.markets for code in parse_standard(s)[:2]})
        return json_response([currency_info(code) for code in codes])

    async def margin_pairs(self, request: web.Request) -> web.Response:
        return json_response([])

    def account_detail(self, call: Call) -> web.Response:
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "ip_whitelist": list(call.key.ips),
                "currency_pairs": [],
                "key": {"mode": 1},  # classic spot account; 2 would be a unified account
                "tier": 0,
                "tier_expire_time": "0001-01-01T00:00:00Z",
                "copy_trading_role": 0,
            }
        )

    def spot_accounts(self, call: Call) -> web.Response:
        account = self.engine.account(call.key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        wanted = call.query.get("currency")
        return json_response(
            [
                {"currency": a, "available": num(account.available(a)), "locked": num(account.locked.get(a, Decimal(0)))}
                for a in assets
                if wanted is None or a == wanted
            ]
        )

    def trading_fee(self, call: Call) -> web.Response:
        futures = base_fees("gateswap")
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "taker_fee": num(self.engine.taker_fee),
                "maker_fee": num(self.engine.maker_fee),
                "gt_discount": False,
                "gt_taker_fee": "0",
                "gt_maker_fee": "0",
                "futures_taker_fee": num(Decimal(repr(futures.taker))),
                "futures_maker_fee": num(Decimal(repr(futures.maker))),
            }
        )

    def pair(self, native: Any) -> str:
        symbol = self.symbol_of(str(native or ""))
        if symbol is None:
            raise refused(Reason.UNKNOWN_SYMBOL, pair=native)
        return symbol

    def lookup(self, account: str, ref: str) -> SimOrder:
        """An order by its id or, as Gate allows in the path, by its ``t-`` text."""
        by_text = ref.startswith("t-")
        try:
            return self.engine.find(account, None if by_text else ref, ref if by_text else None)
        except Reject:
            raise not_found(ref) from None

    def spot_order(self, call: Call) -> SimOrder:
        """The path's order as ``/spot/orders`` knows it: a price order only once it has fired."""
        symbol = self.pair(required(call.query, "currency_pair"))
        order = self.lookup(call.key.account, call.order_id)
        if order.waiting or order.symbol != symbol:
            raise not_found(call.order_id)
        return order

    def get_order(self, call: Call) -> web.Response:
        return json_response(self.order_json(self.spot_order(call)))

    def open_orders(self, call: Call) -> web.Response:
        pair = call.query.get("currency_pair")
        symbol = None if pair is None else self.pair(pair)
        groups: dict[str, list[dict[str, Any]]] = {}
        for order in self.engine.open_orders(call.key.account, symbol):
            if not order.waiting:
                groups.setdefault(self.native(order.symbol), []).append(self.order_json(order))
        return json_response([{"currency_pair": p, "total": len(orders), "orders": orders} for p, orders in groups.items()])

    def list_orders(self, call: Call) -> web.Response:
        symbol = self.pair(required(call.query, "currency_pair"))
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and o.symbol == symbol and not o.waiting and o.status.final == (status == "finished")
        ]
        return json_response([self.order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    def my_trades(self, call: Call) -> web.Response:
        pair = call.query.get("currency_pair")
        fills = self.engine.account_fills(call.key.account, None if pair is None else self.pair(pair))
        since, until = int_param(call.query, "from", 0), int_param(call.query, "to", 0)
        fills = [
            f for f in fills
            if call.query.get("order_id", f.order_id) == f.order_id and f.ts >= since and (not until or f.ts <= until)
        ]
        return json_response([self.trade_json(f) for f in reversed(fills)][: int_param(call.query, "limit", 100)])

    def price_order(self, call: Call) -> SimOrder:
        order = self.lookup(call.key.account, call.order_id)
        if order.stop is None:
            raise not_found(call.order_id)
        return order

    def get_price_order(self, call: Call) -> web.Response:
        return json_response(self.price_order_json(self.price_order(call)))

    def list_price_orders(self, call: Call) -> web.Response:
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        pair = call.query.get("market")
        symbol = None if pair is None else self.pair(pair)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and o.stop is not None and (symbol is None or o.symbol == symbol)
            and (trigger_status(o) == "open") == (status == "open")
        ]
        return json_response([self.price_order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        amount, left = self.amount_and_left(order)
        received, paid = (market.base, market.quote) if order.is_bid else (market.quote, market.base)
        return {
            "id": order.order_id,
            "text": shown_text(order.client_id),
            "amend_text": "-",
            "create_time": str(int(order.created)),
            "update_time": str(int(order.updated)),
            "create_time_ms": ms(order.created),
            "update_time_ms": ms(order.updated),
            "status": order_status(order),
            "currency_pair": self.native(order.symbol),
            "type": "market" if order.type is OrderType.MARKET else "limit",
            "account": "spot",
            "side": order.side.value,
            "amount": num(amount),
            "price": num((order.price or 0) * market.tick),
            "time_in_force": "poc" if order.post_only else order.tif.value,
            "iceberg": num((order.visible or 0) * market.lot),
            "left": num(left),
            "filled_amount": num(filled),
            "fill_price": num(order.cost),
            "filled_total": num(order.cost),
            "avg_deal_price": num((order.cost / filled).quantize(Decimal("1e-12")) if filled else Decimal(0)),
            "fee": num(order.fee),
            "fee_currency": received,  # as on Gate, a fee is charged in what the order receives
            "point_fee": "0",
            "gt_fee": "0",
            "gt_maker_fee": "0",
            "gt_taker_fee": "0",
            "gt_discount": False,
            "rebated_fee": "0",
            "rebated_fee_currency": paid,
            "stp_id": 0,
            "stp_act": "-",
            "finish_as": finish_as(order),
        }

    def amount_and_left(self, order: SimOrder) -> tuple[Decimal, Decimal]:
        """A market buy's amount and rest are quote currency, every other order's base."""
        budget = self.quote_budgets.get(order.order_id)
        if budget is not None:
            return budget, budget - order.cost
        lot = self.engine.markets[order.symbol].lot
        return order.amount * lot, order.remaining * lot

    def price_order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = trigger_status(order)
        return {
            "trigger": {
                "price": num((order.stop or 0) * market.tick),
                "rule": ">=" if order.trigger_above else "<=",
                "expiration": self.expirations.get(order.order_id, 0),
            },
            "put": {
                "type": "limit",
                "side": order.side.value,
                "price": num((order.price or 0) * market.tick),
                "amount": num(order.amount * market.lot),
                "account": "normal",
                "time_in_force": order.tif.value,
                "auto_borrow": False,
                "auto_repay": False,
                "text": shown_text(order.client_id),
            },
            "id": int(order.order_id),
            "user": user_id(order.account),
            "market": self.native(order.symbol),
            "ctime": int(order.created),
            "ftime": 0 if status == "open" else int(order.updated),
            "fired_order_id": int(order.order_id) if order.triggered else 0,
            "status": status,
            "reason": "",
        }

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        return {
            "id": str(fill.trade_id),
            "create_time": str(int(fill.ts)),
            "create_time_ms": f"{fill.ts * 1000:.6f}",
            "currency_pair": self.native(fill.symbol),
            "side": fill.side.value,
            "role": "taker" if fill.taker else "maker",
            "amount": num(fill.amount),
            "price": num(fill.price),
            "order_id": fill.order_id,
            "fee": num(fill.fee),
            "fee_currency": fill.fee_currency,
            "point_fee": "0",
            "gt_fee": "0",
            "amend_text": "-",
            "text": shown_text(fill.client_id),
            "deal": num(fill.price * fill.amount),
        }
