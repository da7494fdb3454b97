"""Simulated Bybit: placing, canceling and amending orders, transfers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import (
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Reason, refuse
from .records import BybitRecords
from .wire import (
    ORDER_TYPES,
    PARAMS_ERROR,
    SIDES,
    TIME_IN_FORCE,
    TRIGGERED_TYPES,
    WALLETS,
    OrderRequest,
    Params,
    bybit_error,
)


class BybitTrading(BybitRecords):
    """Bybit v5's trading endpoints: create, cancel and amend orders, universal transfers."""

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

    async def create_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        side = SIDES.get(params.get("side", ""))
        if side is None:
            raise bybit_error(170117, "Invalid side.")
        kind = ORDER_TYPES.get(params.get("orderType", ""))
        if kind is None:
            raise bybit_error(170116, "Invalid orderType.")
        tif, post_only = self.time_in_force(params, kind)
        amount = self.decimal_param(params, "qty")
        if amount is None:
            raise bybit_error(170105, "Parameter 'qty' was empty.")
        stop = self.trigger_price(params, symbol, side)
        request = OrderRequest(
            key.account, symbol, side, TRIGGERED_TYPES[kind] if stop is not None else kind, amount,
            self.decimal_param(params, "price") if kind is OrderType.LIMIT else None,
            stop, tif, post_only, params.get("orderLinkId") or None, *self.position_args(key.account, params, side, kind),
            *self.attached_tp_sl(params, kind), trigger_above=self.trigger_direction(params, stop),
        )
        try:
            order = self.place(request)
        except Reject as exc:
            raise refuse(self.errors, exc, self.errors[Reason.NO_LIQUIDITY]) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    def position_args(self, account: str, params: Params, side: Side, kind: OrderType) -> tuple[bool, PositionSide]:
        """(reduce-only, position side) of a new order; on spot, the checks spot alone makes."""
        if kind is OrderType.MARKET:
            self.check_market_unit(params, side)
        if str(params.get("isLeverage", "0")) == "1":  # spot margin (borrowing) is not simulated
            raise bybit_error(170036, "You haven't enabled Cross Margin Trading yet. "
                                     "To do so, please head to the PC trading site or the Bybit app")
        return False, PositionSide.BOTH

    def place(self, request: OrderRequest) -> SimOrder:
        r = request
        return self.engine.submit(
            r.account, r.symbol, r.side, r.kind, r.amount, r.price, stop_price=r.stop, tif=r.tif,
            post_only=r.post_only, reduce_only=r.reduce_only, position_side=r.position_side, client_id=r.client_id,
            take_profit=r.take_profit, stop_loss=r.stop_loss, trigger_above=r.trigger_above,
        )

    def attached_tp_sl(self, params: Params, kind: OrderType) -> tuple[Decimal | None, Decimal | None]:
        """``takeProfit`` / ``stopLoss`` on the order: market orders once it fills (``tpslMode``
        Full); the limit TP/SL of Partial mode is not simulated, and spot takes them on limit orders only."""
        take_profit, stop_loss = self.decimal_param(params, "takeProfit"), self.decimal_param(params, "stopLoss")
        if take_profit is None and stop_loss is None:
            return None, None
        if params.get("tpslMode") == "Partial" or params.get("tpLimitPrice") or params.get("slLimitPrice"):
            raise bybit_error(10001, "params error: the simulator takes Full-mode (market) take-profit and stop-loss only")
        if params.get("category") == "spot" and kind is OrderType.MARKET:
            raise bybit_error(170361, "TP/SL is not supported for spot market orders.")
        return take_profit, stop_loss

    def trigger_direction(self, params: Params, stop: Decimal | None) -> bool | None:
        """Spot conditional orders fire in the engine's default direction (see ``trigger_price``)."""
        return None

    @staticmethod
    def time_in_force(params: Params, kind: OrderType) -> tuple[TimeInForce, bool]:
        if kind is OrderType.MARKET:
            return TimeInForce.IOC, False  # Bybit runs every market order as IOC
        choice = TIME_IN_FORCE.get(params.get("timeInForce") or "GTC")
        if choice is None:
            raise bybit_error(170115, "Invalid timeInForce.")
        return choice

    @staticmethod
    def check_market_unit(params: Params, side: Side) -> None:
        """A spot market buy is sized in the quote coin unless marketUnit says baseCoin; the
        engine sizes orders in the base coin only."""
        unit = params.get("marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
        if unit != "baseCoin":
            raise bybit_error(10001, "params error: the simulator sizes spot market orders in the base coin only (marketUnit=baseCoin)")

    def trigger_price(self, params: Params, symbol: str, side: Side) -> Decimal | None:
        """A spot conditional order (orderFilter=StopOrder). Bybit fires it when the last price
        crosses the trigger from either side; the engine fires buys on a rise and sells on a fall,
        so only triggers on that side of the book are taken."""
        order_filter = params.get("orderFilter") or "Order"
        if order_filter == "Order":
            return None
        if order_filter != "StopOrder":
            raise bybit_error(10001, f"params error: the simulator does not take orderFilter {order_filter}")
        stop = self.decimal_param(params, "triggerPrice")
        if stop is None:
            raise bybit_error(170105, "Parameter 'triggerPrice' was empty.")
        ladder = self.ladders[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        if book:
            touch = (min(book) if side is Side.BUY else max(book)) * self.engine.markets[symbol].tick
            if stop < touch if side is Side.BUY else stop > touch:
                raise bybit_error(10001, "params error: the simulator triggers spot buys at or above the best ask "
                                        "and sells at or below the best bid only")
        return stop

    async def cancel_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        order = self.lookup(key.account, params)
        if order is None or order.symbol != symbol or not self.passes_filter(order, self.cancel_filter(params)):
            raise self.errors[Reason.UNKNOWN_ORDER].refuse()
        try:
            self.engine.cancel(key.account, order.order_id)
        except Reject as exc:
            raise refuse(self.errors, exc) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    @staticmethod
    def cancel_filter(params: Params) -> str | None:
        """Spot cancels the kind of order its orderFilter names (active ones by default)."""
        return params.get("orderFilter") or "Order"

    async def amend_order(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """``qty`` (the new total, filled part included) and / or ``price`` of an open limit
        order, which keeps its orderId and orderLinkId."""
        self.check_category(params)
        symbol = self.symbol_param(params)
        order = self.lookup(key.account, params)
        if order is None or order.symbol != symbol or order.status.final or order.waiting or order.price is None:
            raise self.errors[Reason.UNKNOWN_ORDER].refuse()
        if any(params.get(name) not in (None, "") for name in ("triggerPrice", "takeProfit", "stopLoss")):
            raise bybit_error(10001, "params error: the simulator amends qty and price only")
        lots, ticks = self.amended_terms(order, params)
        try:
            self.engine.amend(order, lots, ticks)
        except Reject as exc:
            raise refuse(self.errors, exc, PARAMS_ERROR.reworded(f"params error: {exc}")) from None
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    def amended_terms(self, order: SimOrder, params: Params) -> tuple[int, int]:
        """(total lots, price ticks) after the amend, on the instrument's grid."""
        market = self.engine.markets[order.symbol]
        qty, price = self.decimal_param(params, "qty"), self.decimal_param(params, "price")
        assert order.price is not None
        lots, ticks = order.amount, order.price
        if qty is not None:
            if qty / market.lot != (qty / market.lot).to_integral_value():
                raise self.errors[Reason.AMOUNT_OFF_GRID].refuse()
            lots = int(qty / market.lot)
        if price is not None:
            if price <= 0 or price / market.tick != (price / market.tick).to_integral_value():
                raise self.errors[Reason.PRICE_OFF_GRID].refuse()
            ticks = int(price / market.tick)
        if (lots, ticks) == (order.amount, order.price):
            raise bybit_error(10001, "The order remains unchanged as the parameters entered match the existing ones.")
        if lots <= order.filled:
            raise bybit_error(10001, "params error: qty must exceed the quantity already filled")
        return lots, ticks

    async def universal_transfer(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """Between two UIDs (``fromMemberId`` / ``toMemberId``) of one master's family: a master
        key moves funds between itself and its sub-accounts or between two of them, a
        sub-account key only to its master. UNIFIED and FUND are the engine's one balance."""
        transfer_id, coin = str(params.get("transferId") or ""), str(params.get("coin") or "")
        amount = self.decimal_param(params, "amount")
        if not transfer_id or not coin or amount is None:
            raise bybit_error(131203, "Request parameter error")
        if amount <= 0:
            raise bybit_error(131215, "Amount error")
        if transfer_id in self.transfer_ids:
            raise bybit_error(131214, "TransferId exist")
        if params.get("fromAccountType") not in WALLETS or params.get("toAccountType") not in WALLETS:
            raise bybit_error(131203, "Request parameter error: the simulator transfers between UNIFIED and FUND accounts")
        source, target = self.member(params, "fromMemberId"), self.member(params, "toMemberId")
        if source == target or not self.may_transfer(key.account, source, target):
            raise bybit_error(131209, "Get subMember relation error")
        try:
            self.engine.transfer(coin, amount, source, target)
        except Reject:
            raise bybit_error(131212, "Insufficient balance") from None
        self.transfer_ids.add(transfer_id)
        return {"transferId": transfer_id, "status": "SUCCESS"}

    def member(self, params: Params, name: str) -> str:
        """The account whose UID the parameter names."""
        uid = str(params.get(name) or "")
        for account in self.engine.accounts:
            if str(self.uid(account)) == uid:
                return account
        raise bybit_error(131207, "Account not exist")

    def may_transfer(self, requester: str, source: str, target: str) -> bool:
        parent = self.engine.account(requester).parent
        if parent is not None:
            return source == requester and target == parent
        return all(a == requester or self.engine.account(a).parent == requester for a in (source, target))
