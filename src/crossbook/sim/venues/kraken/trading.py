"""Simulated Kraken: adding, amending and canceling orders."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from ....model import OrderStatus, OrderType, Side
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Reason
from .errors import AMEND_ERRORS, ERRORS, REFUSALS, kraken_error, rejected
from .records import KrakenRecords
from .wire import (
    AMEND_UNSIMULATED,
    ICEBERG_SHOWN_PARTS,
    ORDER_FLAGS,
    ORDER_TYPES,
    TIME_IN_FORCE,
    UNSIMULATED,
    Price,
    Private,
    Ticket,
    flag,
    new_txid,
    ok,
    positive,
    required,
    whole,
)


class KrakenTrading(KrakenRecords):
    """Kraken's trading endpoints: add, amend and cancel orders."""

    def routes(self) -> list[web.RouteDef]:
        public = {"Assets": self.assets, "AssetPairs": self.asset_pairs, "Depth": self.depth}
        # Kraken's public methods answer GET and POST alike
        return [
            *(web.get(f"/0/public/{name}", handler) for name, handler in public.items()),
            *(web.post(f"/0/public/{name}", handler) for name, handler in public.items()),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        private: dict[str, tuple[Private, str]] = {
            "Balance": (self.balance, "read"),
            "BalanceEx": (self.balance_ex, "read"),
            "TradeVolume": (self.trade_volume, "read"),
            "AddOrder": (self.add_order, "trade"),
            "AmendOrder": (self.amend_order, "trade"),
            "CancelOrder": (self.cancel_order, "trade"),
            "CancelAll": (self.cancel_all, "trade"),
            "QueryOrders": (self.query_orders, "read"),
            "OpenOrders": (self.open_orders, "read"),
            "ClosedOrders": (self.closed_orders, "read"),
            "TradesHistory": (self.trades_history, "read"),
            "GetWebSocketsToken": (self.websockets_token, "read"),
            "GetApiKeyInfo": (self.api_key_info, ""),  # any key may ask what it may do
        }
        return [web.post(f"/0/private/{name}", self.signed(h, needs)) for name, (h, needs) in private.items()]

    async def add_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        ticket = self.ticket(params)
        if flag(params, "validate"):  # checked, not placed
            return ok({"descr": {"order": self.order_text(ticket.symbol, ticket.side, ticket.kind, ticket.volume,
                                                          ticket.limit, ticket.stop)}})
        self.placing_userref = ticket.userref
        try:
            order = self.place(key, ticket)
        finally:
            self.placing_userref = None
        if ticket.userref is not None:  # a post-only order killed at once never reached the engine
            self.userrefs[order.order_id] = ticket.userref
        return ok({"descr": {"order": self.description(order)}, "txid": [self.txid(order)]})

    def ticket(self, params: dict[str, str]) -> Ticket:
        symbol, side, ordertype = self.what(params)
        flags = self.order_flags(params, ordertype)
        tif = TIME_IN_FORCE.get(params.get("timeinforce", "GTC").upper())
        if tif is None:
            raise kraken_error("EGeneral:Invalid arguments:timeinforce")
        volume = required(params, "volume")
        if volume < self.engine.markets[symbol].lot:
            raise REFUSALS[Reason.BELOW_MINIMUM].refuse()
        limit, stop, shown = self.prices(params, ordertype, volume)
        userref = whole(params, "userref", -(2**31), 2**31 - 1)
        client_id = params.get("cl_ord_id") or None
        if userref is not None and client_id is not None:
            raise kraken_error("EGeneral:Invalid arguments:cl_ord_id")  # the two are mutually exclusive
        return Ticket(symbol, side, ordertype, volume, limit, stop, shown, tif, "post" in flags, client_id, userref)

    def what(self, params: dict[str, str]) -> tuple[str, Side, str]:
        """The pair, side and order type an AddOrder names."""
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        if params.get("type") not in ("buy", "sell"):
            raise kraken_error("EGeneral:Invalid arguments:type")
        ordertype = params.get("ordertype", "")
        if ordertype not in ORDER_TYPES:
            raise kraken_error("EGeneral:Invalid arguments:ordertype")
        for name in UNSIMULATED:
            if name in params:
                raise kraken_error(f"EGeneral:Invalid arguments:{name}")
        return symbol, Side(params["type"]), ordertype

    def place(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        try:
            return self.engine.submit(
                key.account, ticket.symbol, ticket.side, ticket.kind, ticket.volume, ticket.limit,
                stop_price=ticket.stop, tif=ticket.tif, post_only=ticket.post_only, iceberg_visible=ticket.shown,
                client_id=ticket.client_id,
            )
        except Reject as exc:
            if exc.reason == "post_only_would_take":
                return self.kill(key, ticket)
            limit = "price2" if ticket.ordertype == "stop-loss-limit" else "price"
            raise rejected(exc, ERRORS, limit) from None

    @staticmethod
    def order_flags(params: dict[str, str], ordertype: str) -> set[str]:
        """``oflags``; the fee-currency flags are accepted, the engine's fee currency applies."""
        flags = {f.strip() for f in params.get("oflags", "").split(",") if f.strip()}
        if "viqc" in flags:
            raise kraken_error("EGeneral:Invalid arguments:viqc")  # quote-sized volumes are not simulated
        if not flags <= ORDER_FLAGS or {"fcib", "fciq"} <= flags:
            raise kraken_error("EGeneral:Invalid arguments:oflags")
        if "post" in flags and ordertype not in ("limit", "iceberg"):
            raise kraken_error("EGeneral:Invalid arguments:oflags")
        return flags

    @staticmethod
    def prices(params: dict[str, str], ordertype: str, volume: Decimal) -> tuple[Price, Price, Price]:
        """(limit, trigger, iceberg display volume): ``price`` is the limit of a limit or iceberg
        order and the trigger of a stop-loss, whose limit is then ``price2``."""
        if ordertype == "market":
            return None, None, None
        price = required(params, "price")
        if ordertype == "stop-loss":
            return None, price, None
        if ordertype == "stop-loss-limit":
            return required(params, "price2"), price, None
        if ordertype == "limit":
            return price, None, None
        shown = required(params, "displayvol")
        if shown * ICEBERG_SHOWN_PARTS < volume:  # exact: 1/15 as a Decimal would round
            raise kraken_error("EGeneral:Invalid arguments:displayvol")
        return price, None, shown

    def kill(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        """Kraken accepts a post-only order that would take and cancels it at once; the engine
        refuses it outright, so the venue keeps the record."""
        market = self.engine.markets[ticket.symbol]
        assert ticket.limit is not None
        order = SimOrder(
            order_id=f"post-only-{next(self._killed_ids)}", client_id=ticket.client_id or "", account=key.account,
            symbol=ticket.symbol, side=ticket.side, type=OrderType.LIMIT, amount=int(ticket.volume / market.lot),
            price=int(ticket.limit / market.tick), post_only=True, status=OrderStatus.CANCELED,
            visible=None if ticket.shown is None else int(ticket.shown / market.lot),
        )
        order.updated = order.created
        self.killed[order.order_id] = order
        return order

    async def amend_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """AmendOrder: ``order_qty`` and ``limit_price`` of an open limit order named by ``txid`` or
        ``cl_ord_id``, changed in place (the txid stays; see ``MatchingEngine.amend`` for the queue). A
        quantity at or below what has filled cancels the rest. Answers an ``amend_id``."""
        order = self.amendable(key, params)
        market = self.engine.markets[order.symbol]
        assert order.price is not None
        qty, limit = positive(params, "order_qty"), positive(params, "limit_price")
        lots = order.amount if qty is None else self.units(qty, market.lot, "order_qty")
        ticks = order.price if limit is None else self.units(limit, market.tick, "limit_price")
        if lots <= order.filled:
            self.engine.cancel(key.account, order.order_id)
        else:
            self.amending = order.order_id
            try:
                self.engine.amend(order, lots, ticks, post_only=order.post_only or flag(params, "post_only"))
            except Reject as exc:
                raise rejected(exc, AMEND_ERRORS) from None
            finally:
                self.amending = None
        return ok({"amend_id": new_txid("T")})

    def amendable(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        for name in AMEND_UNSIMULATED:
            if name in params:
                raise kraken_error(f"EGeneral:Invalid arguments:{name}")
        if "cl_ord_id" in params:
            found = [o for o in self.engine.open_orders(key.account) if o.client_id == params["cl_ord_id"]]
            order = found[0] if found else None
        else:
            order = self.lookup(key, params.get("txid", ""))
        if order is None or order.status.final:
            raise REFUSALS[Reason.UNKNOWN_ORDER].refuse()
        if order.type is not OrderType.LIMIT or order.visible is not None:
            raise kraken_error("EGeneral:Invalid arguments:order_type")
        return order

    @staticmethod
    def units(value: Decimal, step: Decimal, name: str) -> int:
        units = value / step
        if units != units.to_integral_value():
            raise kraken_error(f"EGeneral:Invalid arguments:{name}")
        return int(units)

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``txid`` is an order's txid or a userref (every open order carrying it); or ``cl_ord_id``."""
        reference = params.get("txid", "")
        if "cl_ord_id" in params:
            targets = [o for o in self.engine.open_orders(key.account) if o.client_id == params["cl_ord_id"]]
        elif reference.lstrip("-").isdigit():
            userref = int(reference)
            targets = [o for o in self.engine.open_orders(key.account) if self.userrefs.get(o.order_id) == userref]
        else:
            order = self.lookup(key, reference)
            targets = [order] if order is not None and not order.status.final else []
        if not targets:
            raise REFUSALS[Reason.UNKNOWN_ORDER].refuse()
        for order in targets:
            self.engine.cancel(key.account, order.order_id)
        return ok({"count": len(targets)})

    async def cancel_all(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        targets = self.engine.open_orders(key.account)
        for order in targets:
            self.engine.cancel(key.account, order.order_id)
        return ok({"count": len(targets)})
