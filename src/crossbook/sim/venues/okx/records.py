"""Simulated OKX: signed requests and what they read (balances, positions, orders, fills)."""

from __future__ import annotations

import hmac
import time
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    MarginMode,
    OrderStatus,
    PositionSide,
    Side,
    TimeInForce,
)
from ....symbols import parse_standard
from ...access import ApiKey
from ...engine import Account, Market, Position, Reject, SimFill, SimOrder
from ...refusal import Reason, Refusal
from .errors import AUTH, REFUSALS, okx_error
from .public import OkxPublic
from .wire import (
    AUTH_HEADERS,
    CANCEL_SOURCES,
    CONTRACTS,
    FILL_BLANKS,
    NO_PLACEMENT,
    ORDER_BLANKS,
    STATES,
    TIME_WINDOW,
    Handler,
    Private,
    Row,
    _now_ms,
    algo_id,
    balance_detail,
    currency_rows,
    envelope,
    fee_text,
    ms_text,
    num,
    okx_time,
    ord_type,
    pos_side_text,
    require,
    select,
    sign,
)


class OkxRecords(OkxPublic):
    """OKX's signed reads: request authentication, balances, fees, positions, and orders, fills and algo orders as OKX writes them."""

    def signed(self, handler: Private, *, trade: bool = False) -> Handler:
        """OKX's private-endpoint rule: the four OK-ACCESS headers, the key's passphrase, a
        timestamp within 30 s and the signature; ``trade`` endpoints need the trade permission."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                key = self.authenticate(request, body)
                if trade and "trade" not in key.permissions:
                    raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
                return await handler(key, self.params(request, body))
            except Refusal as exc:
                return self.refusal_response(exc)

        return check

    def authenticate(self, request: web.Request, body: bytes) -> ApiKey:
        headers = request.headers
        for header, code in AUTH_HEADERS:
            if not headers.get(header):
                raise okx_error(code, f"Request header {header} can not be empty.", AUTH)
        key = self.api_keys.get(headers["OK-ACCESS-KEY"])
        if key is None:
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        if not hmac.compare_digest(headers["OK-ACCESS-PASSPHRASE"].encode(), (key.passphrase or "").encode()):
            raise REFUSALS[Reason.BAD_PASSPHRASE].refuse()
        stamp = headers["OK-ACCESS-TIMESTAMP"]
        sent = okx_time(stamp)
        if sent is None:
            raise okx_error("50112", "Invalid OK-ACCESS-TIMESTAMP", AUTH)
        if abs(time.time() - sent) > TIME_WINDOW:
            raise REFUSALS[Reason.STALE_TIMESTAMP].refuse()
        # raw_path is the request target as sent: the path and, on a GET, "?" and the query
        expected = sign(key.secret, (stamp + request.method + request.raw_path).encode() + body)
        if not hmac.compare_digest(headers["OK-ACCESS-SIGN"].encode(), expected.encode()):
            raise REFUSALS[Reason.BAD_SIGNATURE].refuse()
        return key

    @staticmethod
    def params(request: web.Request, body: bytes) -> Any:
        if request.method == "GET":
            return dict(request.query)
        if not body:
            raise okx_error("50000", "Body can not be empty.", 400)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise okx_error("50002", "Json data format error.", 400) from None

    async def currencies(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        wanted = set(filter(None, params.get("ccy", "").split(",")))
        listed = sorted({c for s in self.markets if s not in CONTRACTS for c in parse_standard(s)[:2]})
        return envelope([row for c in listed if not wanted or c in wanted for row in currency_rows(c)])

    async def balance(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        wanted = set(filter(None, params.get("ccy", "").split(",")))
        assets = sorted(a for a in set(account.balances) | set(account.locked) if not wanted or a in wanted)
        now = str(_now_ms())
        details = [balance_detail(account, a, now) for a in assets]
        return envelope([{"adjEq": "", "borrowFroz": "", "details": details, "imr": "", "isoEq": "", "mgnRatio": "",
                          "mmr": "", "notionalUsd": "", "ordFroz": "", "totalEq": "", "uTime": now, "upl": ""}])

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if require(params, "instType") not in ("SPOT", "SWAP"):
            raise okx_error("51000", "Parameter instType error", 400)
        if params.get("instId"):
            self.listed_symbol(params)
        return envelope([{
            "category": "1", "delivery": "", "exercise": "", "instType": params["instType"], "level": "Lv1",
            "maker": num(-self.engine.maker_fee), "taker": num(-self.engine.taker_fee),
            "makerU": "", "takerU": "", "makerUSDC": "", "takerUSDC": "", "ruleType": "normal", "fiat": [],
            "ts": str(_now_ms()),
        }])

    async def account_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """A unified account at acctLv 2, single-currency margin; posMode is the engine's."""
        hedge = self.engine.account(key.account).hedge_mode
        return envelope([{
            "acctLv": "2", "posMode": "long_short_mode" if hedge else "net_mode", "uid": key.account,
            "mainUid": key.account, "label": "", "roleType": "0", "level": "Lv1", "levelTmp": "",
            "autoLoan": False, "greeksType": "PA", "ctIsoMode": "automatic", "mgnIsoMode": "automatic",
            "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [], "traderInsts": [], "opAuth": "0",
            "kycLv": "2", "ip": ",".join(key.ips), "perm": okx_perm(key),
            "liquidationGear": "-1", "enableSpotBorrow": False, "spotBorrowAutoRepay": False, "type": "0",
        }])

    async def positions(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if params.get("instType") not in (None, "", "SWAP"):
            return envelope([])  # the simulator lists no MARGIN, FUTURES or OPTION positions
        wanted = set(filter(None, params.get("instId", "").split(",")))
        account = self.engine.account(key.account)
        rows = [self.position_json(account, symbol, side, pos) for (symbol, side), pos in account.positions.items()
                if pos.size and (not wanted or self.native(symbol) in wanted)]
        return envelope(rows)

    def position_json(self, account: Account, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        market = self.engine.markets[symbol]
        contracts = self.size_of(symbol, pos.size)  # signed in net mode: negative is short
        now = str(_now_ms())
        return {
            "instType": "SWAP", "instId": self.native(symbol), "posId": f"{account.name}-{symbol}-{side.value}",
            "mgnMode": account.margin_modes.get(symbol, MarginMode.CROSS).value, "posSide": pos_side_text(side),
            "pos": contracts, "availPos": contracts.lstrip("-"), "posCcy": "", "ccy": market.quote,
            "avgPx": num(pos.entry), "lever": num(account.leverages.get(symbol, Decimal(1))),
            "margin": num(pos.margin), "imr": num(pos.margin), "mmr": "", "mgnRatio": "", "liqPx": "",
            "markPx": "", "last": "", "upl": "0", "uplRatio": "0", "notionalUsd": num(abs(pos.size) * pos.entry),
            "realizedPnl": "0", "pnl": "0", "fee": "0", "fundingFee": "0", "adl": "1", "cTime": now, "uTime": now,
            "bizRefId": "", "bizRefType": "", "closeOrderAlgo": [], "deltaBS": "", "deltaPA": "", "gammaBS": "",
            "gammaPA": "", "thetaBS": "", "thetaPA": "", "vegaBS": "", "vegaPA": "", "tradeId": "", "usdPx": "",
        }

    def find(self, key: ApiKey, params: dict[str, Any]) -> SimOrder:
        symbol = self.listed_symbol(params)
        ord_id, cl_ord_id = params.get("ordId") or None, params.get("clOrdId") or None
        if ord_id is None and cl_ord_id is None:
            raise okx_error("51003", "Either client order ID or order ID is required.", 400)
        order = self.engine_order(key, ord_id, cl_ord_id) or self.killed_order(key, ord_id, cl_ord_id)
        if order is None or order.symbol != symbol or order.waiting:
            raise okx_error("51603", "Order does not exist")
        return order

    def killed_order(self, key: ApiKey, ord_id: str | None, cl_ord_id: str | None) -> SimOrder | None:
        for order in self.killed.values():
            if order.account == key.account and (order.order_id == ord_id if ord_id else order.client_id == cl_ord_id):
                return order
        return None

    def engine_order(self, key: ApiKey, ord_id: str | None, cl_ord_id: str | None) -> SimOrder | None:
        try:
            return self.engine.find(key.account, ord_id, cl_ord_id)
        except Reject:
            return None

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return envelope([self.order_json(self.find(key, params))])

    async def orders_pending(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        orders = [o for o in self.engine.open_orders(key.account) if not o.waiting]
        return envelope(self.order_rows(orders, params))

    async def orders_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        require(params, "instType")
        # a TP/SL canceled before it triggered was an algo order, never an order of this list
        finished = [o for o in self.engine.orders.values() if o.account == key.account and o.status.final and not o.waiting]
        finished += [o for o in self.killed.values() if o.account == key.account]
        return envelope(self.order_rows(finished, params))

    def order_rows(self, orders: list[SimOrder], params: dict[str, str]) -> list[dict[str, Any]]:
        rows = [self.order_json(o) for o in orders]
        return select(rows, params, ("instType", "instId", "ordType", "state"), "cTime", "ordId")

    async def fills(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        rows = [self.fill_json(f) for f in self.engine.account_fills(key.account)]
        return envelope(select(rows, params, ("instType", "instId", "ordId"), "ts", "billId"))

    async def fills_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        require(params, "instType")
        return await self.fills(key, params)

    async def algos_pending(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return envelope(self.algo_rows(key, params, live=True))

    async def algos_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if not params.get("state") and not params.get("algoId"):
            raise okx_error("51000", "Parameter state or algoId error", 400)
        return envelope(self.algo_rows(key, params, live=False))

    def algo_rows(self, key: ApiKey, params: dict[str, str], live: bool) -> list[Row]:
        kinds = set(require(params, "ordType").split(","))
        legs: dict[str, list[SimOrder]] = {}
        for order in self.engine.orders.values():
            if order.parent is not None and order.account == key.account:
                legs.setdefault(order.parent, []).append(order)
        rows = [self.algo_json(self.engine.orders[parent], children) for parent, children in legs.items()]
        rows = [r for r in rows if r["ordType"] in kinds and (r["state"] == "live") == live]
        return select(rows, params, ("instType", "instId", "algoId", "state"), "cTime", "algoId")

    def algo_json(self, entry: SimOrder, legs: list[SimOrder]) -> Row:
        """An entry's attached TP/SL: ``oco`` when both (the engine cancels one when the other
        fires), ``conditional`` when one; ``effective`` once one fired, with that order's id."""
        fired = next((leg for leg in legs if leg.triggered), None)
        state = "live" if fired is None else "order_failed" if fired.status is OrderStatus.REJECTED else "effective"
        if fired is None and all(leg.status.final for leg in legs):
            state = "canceled"
        market = self.engine.markets[entry.symbol]
        size = self.size_text(entry.symbol, legs[0].amount)
        actual = {"actualSz": "", "actualPx": "", "actualSide": "", "triggerTime": "", "ordId": ""}
        if fired is not None:
            filled = fired.filled * market.lot
            actual = {"actualSz": size, "actualPx": num(fired.cost / filled) if filled else "",
                      "actualSide": "tp" if fired.stop == entry.take_profit else "sl",
                      "triggerTime": ms_text(fired.updated), "ordId": fired.order_id}
        swap = entry.symbol in CONTRACTS
        account = self.engine.account(entry.account)
        return {
            **self.attached_fields(entry, market)["attachAlgoOrds"][0], **actual,
            "instType": "SWAP" if swap else "SPOT", "instId": self.native(entry.symbol), "algoId": algo_id(entry),
            "algoClOrdId": "", "clOrdId": "", "ordIdList": [actual["ordId"]] if fired else [], "sz": size, "closeFraction": "",
            "ordType": "oco" if len(legs) == 2 else "conditional", "side": legs[0].side.value,
            "posSide": pos_side_text(entry.position_side) if swap else "", "reduceOnly": "true" if swap else "false",
            "state": state, "tdMode": account.margin_modes.get(entry.symbol, MarginMode.CROSS).value if swap else "cash",
            "lever": num(account.leverages.get(entry.symbol, Decimal(1))) if swap else "",
            "triggerPx": "", "triggerPxType": "", "ordPx": "", "tgtCcy": "", "tag": "", "last": "",
            "cTime": ms_text(legs[0].created), "uTime": ms_text(max(leg.updated for leg in legs)),
        }

    def cancel_source(self, order: SimOrder) -> str:
        if order.order_id in self.killed:
            return "31"
        expired = "13" if order.tif is TimeInForce.FOK else "14"
        return {OrderStatus.CANCELED: "1", OrderStatus.REJECTED: "0", OrderStatus.EXPIRED: expired}.get(order.status, "")

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        placed = self.placements.get(order.order_id, NO_PLACEMENT)
        filled = order.filled * market.lot
        source = self.cancel_source(order)
        row = {
            **ORDER_BLANKS,
            "instType": "SPOT",
            "instId": self.native(order.symbol),
            "tgtCcy": placed.tgt_ccy,
            "ordId": order.order_id,
            "clOrdId": placed.cl_ord_id,
            "tag": placed.tag,
            "px": "" if order.price is None else num(order.price * market.tick),
            "sz": placed.quote_sz or num(order.amount * market.lot),
            "ordType": ord_type(order),
            "side": order.side.value,
            "accFillSz": num(filled),
            **self.last_fill(order),
            "avgPx": num(order.cost / filled) if filled else "",
            "state": STATES[order.status],
            "feeCcy": market.quote,
            "fee": fee_text(order.fee),
            "rebateCcy": market.base,
            "cancelSource": source,
            "cancelSourceReason": CANCEL_SOURCES.get(source, ""),
            "uTime": ms_text(order.updated or order.created),
            "cTime": ms_text(order.created),
            "tradeQuoteCcy": market.quote,
        }
        row.update(self.attached_fields(order, market))
        if order.symbol in CONTRACTS:
            row.update(self.swap_fields(order, market))
        return row

    @staticmethod
    def attached_fields(order: SimOrder, market: Market) -> dict[str, Any]:
        """An order's ``attachAlgoOrds`` (its attached TP/SL), spot and SWAP alike."""
        tp = "" if order.take_profit is None else num(order.take_profit * market.tick)
        sl = "" if order.stop_loss is None else num(order.stop_loss * market.tick)
        algos = [{"attachAlgoId": algo_id(order), "attachAlgoClOrdId": "", "tpTriggerPx": tp,
                  "tpTriggerPxType": "last" if tp else "", "tpOrdPx": "-1" if tp else "", "slTriggerPx": sl,
                  "slTriggerPxType": "last" if sl else "", "slOrdPx": "-1" if sl else "", "sz": "",
                  "amendPxOnTriggerType": "0", "failCode": "", "failReason": ""}] if tp or sl else []
        return {"attachAlgoOrds": algos, **{k: v for k, v in (algos or [{}])[0].items() if k[:2] in ("tp", "sl")}}

    def swap_fields(self, order: SimOrder, market: Market) -> dict[str, Any]:
        """What a SWAP order states differently: contracts, margin, position side."""
        account = self.engine.account(order.account)
        return {
            "instType": "SWAP", "tgtCcy": "", "sz": self.size_text(order.symbol, order.amount),
            "accFillSz": self.size_text(order.symbol, order.filled),
            "tdMode": account.margin_modes.get(order.symbol, MarginMode.CROSS).value,
            "posSide": pos_side_text(order.position_side), "reduceOnly": str(order.reduce_only).lower(),
            "lever": num(account.leverages.get(order.symbol, Decimal(1))), "rebateCcy": market.quote,
        }

    def last_fill(self, order: SimOrder) -> dict[str, str]:
        fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
        if not fills:
            return {"fillPx": "", "fillSz": "", "tradeId": "", "fillTime": ""}
        last = fills[-1]
        return {"fillPx": num(last.price), "fillSz": self.size_of(order.symbol, last.amount), "tradeId": str(last.trade_id),
                "fillTime": ms_text(last.ts)}

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        placed = self.placements.get(fill.order_id, NO_PLACEMENT)
        rate = self.engine.taker_fee if fill.taker else self.engine.maker_fee
        order = self.engine.orders[fill.order_id]
        return {
            **FILL_BLANKS,
            "instType": "SWAP" if fill.symbol in CONTRACTS else "SPOT",
            "posSide": pos_side_text(order.position_side),
            "instId": self.native(fill.symbol),
            "tradeId": str(fill.trade_id),
            "ordId": fill.order_id,
            "clOrdId": placed.cl_ord_id,
            "billId": str(fill.trade_id * 2 + (0 if fill.taker else 1)),  # a trade can fill both sides
            "subType": "1" if fill.side is Side.BUY else "2",
            "tag": placed.tag,
            "fillPx": num(fill.price),
            "fillSz": self.size_of(fill.symbol, fill.amount),
            "side": fill.side.value,
            "execType": "T" if fill.taker else "M",
            "feeCcy": fill.fee_currency,
            "fee": fee_text(fill.fee),
            "feeRate": num(-rate),
            "ts": ms_text(fill.ts),
            "fillTime": ms_text(fill.ts),
            "tradeQuoteCcy": self.engine.markets[fill.symbol].quote,
        }


def okx_perm(key: ApiKey) -> str:
    """A key's rights as OKX's ``perm`` names them: read_only, trade, withdraw (moving funds
    between accounts is part of trade there)."""
    return ",".join(["read_only", *(["trade"] if key.may("trade") else []), *(["withdraw"] if key.may("withdraw") else [])])
