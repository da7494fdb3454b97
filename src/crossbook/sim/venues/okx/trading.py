"""Simulated OKX: placing, canceling and amending orders, account settings, transfers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import (
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Reason, Refusal, reason_of, refuse
from .errors import (
    AMEND_REFUSALS,
    CANCEL_REFUSALS,
    CANCEL_REFUSED,
    ORDER_REFUSALS,
    REFUSALS,
    okx_error,
)
from .records import OkxRecords
from .wire import (
    CL_ORD_ID,
    CONTRACTS,
    NO_PLACEMENT,
    ORD_TYPES,
    POS_MODES,
    POS_SIDES,
    SETTINGS_BLOCKED,
    TAG,
    TD_MODES,
    WALLETS,
    Contract,
    Placement,
    Ticket,
    _now_ms,
    envelope,
    num,
    operations,
    positive,
    require,
)


class OkxTrading(OkxRecords):
    """OKX's trading endpoints: place, cancel and amend orders (batch or one), account settings, transfers."""

    async def set_position_mode(self, key: ApiKey, body: Any) -> web.Response:
        mode = body.get("posMode") if isinstance(body, dict) else None
        if mode not in POS_MODES:
            raise okx_error("51000", "Parameter posMode error", 400)
        try:
            self.engine.set_position_mode(key.account, POS_MODES[mode])
        except Reject:
            raise okx_error("59000", SETTINGS_BLOCKED) from None
        return envelope([{"posMode": mode}])

    async def set_leverage(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        symbol = self.swap_symbol(body)
        mode = TD_MODES.get(str(body.get("mgnMode")))
        if mode is None:
            raise okx_error("51000", "Parameter mgnMode error", 400)
        lever = positive(body, "lever")
        try:
            self.use_margin_mode(key.account, symbol, mode)
            self.engine.set_leverage(key.account, symbol, lever)
        except Reject:
            raise okx_error("51000", "Parameter lever error", 400) from None
        except Refusal:
            raise okx_error("59000", SETTINGS_BLOCKED) from None
        return envelope([{"lever": num(lever), "mgnMode": mode.value, "instId": body["instId"],
                          "posSide": str(body.get("posSide") or "net")}])

    async def leverage_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The instrument's leverage for ``mgnMode`` (what ccxt's fetch_leverage reads). The
        simulator keeps one leverage per instrument, whichever margin mode asks."""
        symbol = self.swap_symbol(params)
        if TD_MODES.get(str(params.get("mgnMode"))) is None:
            raise okx_error("51000", "Parameter mgnMode error", 400)
        lever = self.engine.account(key.account).leverages.get(symbol, Decimal(1))
        return envelope([{"instId": params["instId"], "mgnMode": params["mgnMode"], "posSide": "net", "lever": num(lever)}])

    def ticket(self, req: dict[str, Any]) -> Ticket:
        symbol = self.listed_symbol(req)
        if symbol in CONTRACTS:
            return self.swap_ticket(symbol, req)
        if req.get("tdMode") != "cash":
            raise okx_error("51000", "Parameter tdMode error", 400)
        side, kind, tif, post_only = self.order_kind(req)
        price = None if kind is OrderType.MARKET else positive(req, "px")
        amount = positive(req, "sz")
        tgt_ccy = self.target_currency(req, kind, side)
        quote_sz = None
        if tgt_ccy == "quote_ccy":
            quote_sz, amount = num(amount), self.base_for_quote(symbol, side, amount)
        placement = Placement(*self.ids_of(req), tgt_ccy, quote_sz)
        return Ticket(symbol, side, kind, tif, post_only, amount, price, placement, None, *self.attached(req))

    def swap_ticket(self, symbol: str, req: dict[str, Any]) -> Ticket:
        """A SWAP order: ``sz`` in contracts, ``tdMode`` cross or isolated, ``posSide`` long or
        short in long_short_mode (net or none in net_mode), ``reduceOnly``, ``attachAlgoOrds``."""
        margin = TD_MODES.get(str(req.get("tdMode")))
        if margin is None:
            raise okx_error("51000", "Parameter tdMode error", 400)
        position_side = POS_SIDES.get(str(req.get("posSide") or ""))
        if position_side is None:
            raise okx_error("51000", "Parameter posSide error", 400)
        side, kind, tif, post_only = self.order_kind(req)
        price = None if kind is OrderType.MARKET else positive(req, "px")
        amount = self.contracts_to_base(symbol, positive(req, "sz"))
        contract = Contract(margin, position_side, str(req.get("reduceOnly", "")).lower() == "true")
        placement = Placement(*self.ids_of(req), "")
        return Ticket(symbol, side, kind, tif, post_only, amount, price, placement, contract, *self.attached(req))

    @staticmethod
    def attached(req: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
        """The triggers of one attached TP/SL; the engine's TP/SL execute at market (ordPx -1)."""
        algos = req.get("attachAlgoOrds") or []
        if not isinstance(algos, list) or len(algos) > 1 or not all(isinstance(a, dict) for a in algos):
            raise okx_error("51000", "Parameter attachAlgoOrds error", 400)
        algo: dict[str, Any] = algos[0] if algos else {}
        triggers: list[Decimal | None] = []
        for leg in ("tp", "sl"):
            if algo.get(f"{leg}OrdPx", "-1") != "-1" or algo.get(f"{leg}TriggerPxType", "last") != "last":
                raise okx_error("51000", f"Parameter {leg}OrdPx error", 400)
            triggers.append(positive(algo, f"{leg}TriggerPx") if algo.get(f"{leg}TriggerPx") else None)
        return triggers[0], triggers[1]

    def order_kind(self, req: dict[str, Any]) -> tuple[Side, OrderType, TimeInForce, bool]:
        if req.get("side") not in ("buy", "sell"):
            raise okx_error("51000", "Parameter side error", 400)
        choice = ORD_TYPES.get(str(req.get("ordType")))
        if choice is None:
            raise okx_error("51000", "Parameter ordType error", 400)
        return Side(req["side"]), *choice

    @staticmethod
    def ids_of(req: dict[str, Any]) -> tuple[str, str]:
        cl_ord_id, tag = str(req.get("clOrdId") or ""), str(req.get("tag") or "")
        if cl_ord_id and not CL_ORD_ID.fullmatch(cl_ord_id):
            raise okx_error("51000", "Parameter clOrdId error", 400)
        if tag and not TAG.fullmatch(tag):
            raise okx_error("51000", "Parameter tag error", 400)
        return cl_ord_id, tag

    @staticmethod
    def target_currency(req: dict[str, Any], kind: OrderType, side: Side) -> str:
        """A market order's ``sz`` unit: OKX's default is the quote currency for a buy."""
        if kind is not OrderType.MARKET:
            return ""
        tgt_ccy = req.get("tgtCcy") or ("quote_ccy" if side is Side.BUY else "base_ccy")
        if tgt_ccy not in ("base_ccy", "quote_ccy"):
            raise okx_error("51000", "Parameter tgtCcy error", 400)
        return str(tgt_ccy)

    def base_for_quote(self, symbol: str, side: Side, budget: Decimal) -> Decimal:
        """The base amount a market order for ``budget`` of the quote currency trades now."""
        market = self.engine.markets[symbol]
        book = self.ladders[symbol].asks if side is Side.BUY else self.ladders[symbol].bids
        lots = 0
        for ticks in sorted(book, reverse=side is Side.SELL):
            per_lot = ticks * market.tick * market.lot
            here = min(book[ticks], int(budget / per_lot))
            lots += here
            budget -= here * per_lot
            if here < book[ticks]:
                break
        if not lots:
            raise okx_error("51020", "Order amount should be greater than the min available amount.")
        return lots * market.lot

    def refusal(self, exc: Reject, ticket: Ticket) -> Refusal:
        reason = reason_of(exc)
        if reason is None or reason not in ORDER_REFUSALS:
            return REFUSALS[Reason.BAD_PARAMETER].refuse(str(exc))
        shape = REFUSALS[reason]
        market = self.engine.markets[ticket.symbol]
        if ticket.contract is not None:  # a SWAP order's margin is in the settlement currency
            return shape.refuse(shape.message.format(ccy=market.quote).replace("balance", "margin"))
        return shape.refuse(shape.message.format(ccy=market.quote if ticket.side is Side.BUY else market.base))

    def use_margin_mode(self, account: str, symbol: str, mode: MarginMode) -> None:
        """The engine keeps one margin mode per instrument: an order's ``tdMode`` sets it while no
        position is open, and must match it while one is."""
        if self.engine.account(account).margin_modes.get(symbol, MarginMode.CROSS) is mode:
            return
        try:
            self.engine.set_margin_mode(account, symbol, mode)
        except Reject:
            raise okx_error("51000", "Parameter tdMode error", 400) from None

    def kill(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        """OKX accepts a post-only order that would take and cancels it at once (cancelSource 31);
        the engine refuses it outright, so the venue keeps the record."""
        market = self.engine.markets[ticket.symbol]
        assert ticket.price is not None
        order = SimOrder(
            order_id=str(next(self._killed_ids)), client_id=ticket.placement.cl_ord_id, account=key.account,
            symbol=ticket.symbol, side=ticket.side, type=OrderType.LIMIT, amount=int(ticket.amount / market.lot),
            price=int(ticket.price / market.tick), post_only=True, status=OrderStatus.CANCELED,
        )
        order.updated = order.created
        self.killed[order.order_id] = order
        return order

    async def cancel_one(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        return operations([self.cancel(key, body)])

    async def cancel_batch(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, list) or not body or not all(isinstance(req, dict) for req in body):
            raise okx_error("50002", "Json data format error.", 400)
        return operations([self.cancel(key, req) for req in body])

    def cancel(self, key: ApiKey, req: dict[str, Any]) -> dict[str, Any]:
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": str(req.get("ordId", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "", "subCode": ""}
        try:
            order = self.find(key, req)
            if order.status.final:
                raise CANCEL_REFUSALS[Reason.ORDER_FINAL].refuse()
            self.engine.cancel(key.account, order.order_id)
            entry.update(ordId=order.order_id, clOrdId=self.placements.get(order.order_id, NO_PLACEMENT).cl_ord_id)
        except Refusal as exc:
            gone = exc.code in (REFUSALS[Reason.UNKNOWN_ORDER].code, CANCEL_REFUSED.code)
            entry.update(sCode=str(CANCEL_REFUSED.code if gone else exc.code), sMsg=CANCEL_REFUSED.message if gone else exc.message)
        return entry

    async def amend_one(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        return operations([self.amend(key, body)])

    def amend(self, key: ApiKey, req: dict[str, Any]) -> dict[str, Any]:
        """``newSz`` (the new total, filled part included) and / or ``newPx`` of a live order, which
        keeps its ``ordId``; with ``cxlOnFail`` a failed amend cancels the order."""
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": str(req.get("ordId", "")), "reqId": str(req.get("reqId", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "", "subCode": ""}
        order: SimOrder | None = None
        try:
            order = self.amendable(key, req)
            entry.update(ordId=order.order_id, clOrdId=self.placements.get(order.order_id, NO_PLACEMENT).cl_ord_id)
            lots, ticks = self.amended_terms(order, req)
            self.engine.amend(order, lots, ticks)
        except (Refusal, Reject) as exc:
            refusal = exc if isinstance(exc, Refusal) else refuse(AMEND_REFUSALS, exc, REFUSALS[Reason.BAD_PARAMETER].reworded(str(exc)))
            code, msg = str(refusal.code), refusal.message
            entry.update(sCode=code, sMsg=msg)
            if order is not None and not order.status.final and str(req.get("cxlOnFail", "")).lower() == "true":
                self.engine.cancel(key.account, order.order_id)
        return entry

    def amendable(self, key: ApiKey, req: dict[str, Any]) -> SimOrder:
        try:
            order = self.find(key, req)
        except Refusal as exc:
            if exc.code != "51603":
                raise
            raise okx_error("51503", "Order modification failed as the order does not exist") from None
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            raise okx_error("51509", "Modification failed as the order has been canceled")
        if order.status.final:
            raise okx_error("51510", "Modification failed as the order has been completed")
        if order.price is None:
            raise okx_error("51506", "Order modification unavailable for the order type")
        return order

    def amended_terms(self, order: SimOrder, req: dict[str, Any]) -> tuple[int, int]:
        """(total lots, price ticks) after the amend, on the instrument's grid."""
        if req.get("newSz") in (None, "") and req.get("newPx") in (None, ""):
            raise okx_error("51500", "Either order price or amount is required")
        market = self.engine.markets[order.symbol]
        lots, ticks = order.amount, order.price
        if req.get("newSz") not in (None, ""):
            size = positive(req, "newSz")
            amount = self.contracts_to_base(order.symbol, size) if order.symbol in CONTRACTS else size
            lots_exact = amount / market.lot
            if lots_exact != lots_exact.to_integral_value():
                raise REFUSALS[Reason.AMOUNT_OFF_GRID].refuse()
            lots = int(lots_exact)
            if lots <= order.filled:
                raise okx_error("51000", "Parameter newSz error", 400)
        if req.get("newPx") not in (None, ""):
            ticks_exact = positive(req, "newPx") / market.tick
            if ticks_exact != ticks_exact.to_integral_value():
                raise okx_error("51000", "Parameter newPx error", 400)
            ticks = int(ticks_exact)
        assert ticks is not None
        return lots, ticks

    async def transfer(self, key: ApiKey, body: Any) -> web.Response:
        """``type`` 1 (master to sub-account) or 2 (sub-account to master), ``subAcct`` the
        sub-account's name, between funding (6) or trading (18) accounts, which the engine keeps
        as one balance per account."""
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        ccy, amount = require(body, "ccy"), positive(body, "amt")
        kind = str(body.get("type", "0"))
        if kind not in ("1", "2"):
            raise okx_error("51000", "Parameter type error: the simulator moves funds between master and sub-accounts only", 400)
        if body.get("from") not in WALLETS or body.get("to") not in WALLETS:
            raise okx_error("51000", "Parameter from or to error", 400)
        sub = self.sub_account(key, require(body, "subAcct"))
        source, target = (key.account, sub) if kind == "1" else (sub, key.account)
        try:
            self.engine.transfer(ccy, amount, source, target)
        except Reject:
            raise okx_error("58350", "Insufficient balance") from None
        return envelope([{"transId": str(next(self._transfer_ids)), "ccy": ccy, "clientId": str(body.get("clientId", "")),
                          "from": body["from"], "amt": num(amount), "to": body["to"]}])

    def sub_account(self, key: ApiKey, name: str) -> str:
        if self.engine.account(key.account).parent is not None:
            raise okx_error("58103", "Parent account user id does not match sub-account user id")
        account = self.engine.accounts.get(name)
        if account is None or account.parent != key.account:
            raise okx_error("58115", "Sub-account does not exist")
        return name
