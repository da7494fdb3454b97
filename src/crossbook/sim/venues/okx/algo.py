"""Simulated OKX: spot OCO algo orders (``ordType`` oco) placed, canceled and read.

``POST /api/v5/trade/order-algo`` with ``ordType`` oco, ``tdMode`` cash, ``side``, ``sz`` (base
currency), ``tpTriggerPx`` / ``tpOrdPx`` and ``slTriggerPx`` / ``slOrdPx`` (an order price of -1:
market) and an optional ``algoClOrdId`` becomes two engine trigger orders linked as an OCO: the
take-profit fires when a trade prints at or through its trigger on the profit side (above for a
sell, below for a buy), the stop-loss on the other side; the first to fire places its order and
cancels the other. ``POST /api/v5/trade/cancel-algos`` (a list of ``algoId`` + ``instId``) cancels
both legs; ``GET /api/v5/trade/order-algo`` (``algoId`` or ``algoClOrdId``) and the
``orders-algo-pending`` / ``-history`` lists show the algo order with OKX's states: ``live``, then
``effective`` (``ordIdList`` the order it placed, ``actualSide`` tp or sl) or ``canceled``. Other
algo ``ordType``\\ s are refused with 51000, as a parameter error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderStatus, OrderType, Side
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Refusal
from ...server import json_response
from .errors import okx_error
from .trading import OkxTrading
from .wire import CL_ORD_ID, CONTRACTS, Row, _now_ms, envelope, ms_text, num, positive, select


@dataclass
class OcoAlgo:
    algo_id: str
    algo_cl_ord_id: str
    account: str
    symbol: str
    side: Side
    size: Decimal
    tp: SimOrder
    sl: SimOrder
    tp_ord_px: str
    sl_ord_px: str


class OkxAlgo(OkxTrading):
    """OKX's algo-order endpoints for spot OCOs, beside the TP/SL algo orders attached to entries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.oco_algos: dict[str, OcoAlgo] = {}
        self._oco_ids = itertools.count(7_000_000_001)  # apart from the engine's and the TP/SL algo ids

    def algo_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v5/trade/order-algo", self.signed(self.place_algo, trade=True)),
            web.post("/api/v5/trade/cancel-algos", self.signed(self.cancel_algos, trade=True)),
            web.get("/api/v5/trade/order-algo", self.signed(self.get_algo)),
        ]

    async def place_algo(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        entry = {"algoId": "", "clOrdId": "", "algoClOrdId": str(body.get("algoClOrdId", "")), "tag": "",
                 "sCode": "0", "sMsg": ""}
        try:
            algo = self.oco_of(key, body)
        except Refusal as exc:
            entry.update(sCode=str(exc.code), sMsg=exc.message)
            return json_response({"code": "1", "msg": "Operation failed.", "data": [entry], "ts": str(_now_ms())})
        entry["algoId"] = algo.algo_id
        return envelope([entry])

    def oco_of(self, key: ApiKey, req: dict[str, Any]) -> OcoAlgo:
        if req.get("ordType") != "oco":
            raise okx_error("51000", "Parameter ordType error", 400)
        symbol = self.listed_symbol(req)
        if symbol in CONTRACTS or req.get("tdMode") != "cash":
            raise okx_error("51000", "Parameter tdMode error", 400)
        if req.get("side") not in ("buy", "sell"):
            raise okx_error("51000", "Parameter side error", 400)
        cl_id = str(req.get("algoClOrdId") or "")
        if cl_id and not CL_ORD_ID.fullmatch(cl_id):
            raise okx_error("51000", "Parameter algoClOrdId error", 400)
        side, size = Side(req["side"]), positive(req, "sz")
        tp_trigger, sl_trigger = positive(req, "tpTriggerPx"), positive(req, "slTriggerPx")
        tp_px, sl_px = str(req.get("tpOrdPx") or ""), str(req.get("slOrdPx") or "")
        rising = side is Side.SELL  # a sell takes profit above, a buy below
        if (tp_trigger > sl_trigger) != rising:
            raise okx_error("51000", "Parameter tpTriggerPx error", 400)
        tp = self.trigger(key, symbol, side, size, tp_trigger, tp_px, rising, cl_id and f"{cl_id}tp")
        try:
            sl = self.trigger(key, symbol, side, size, sl_trigger, sl_px, not rising, cl_id and f"{cl_id}sl")
        except Refusal:
            self.engine.cancel(key.account, tp.order_id)
            raise
        tp.linked, sl.linked = sl.order_id, tp.order_id
        algo = OcoAlgo(str(next(self._oco_ids)), cl_id, key.account, symbol, side, size, tp, sl, tp_px, sl_px)
        self.oco_algos[algo.algo_id] = algo
        return algo

    def trigger(self, key: ApiKey, symbol: str, side: Side, size: Decimal, trigger: Decimal, ord_px: str,
                above: bool, client_id: str) -> SimOrder:
        """One leg: a stop order (-1: at market) or a stop-limit at ``ord_px``, firing on a trade at
        or ``above`` (else at or below) ``trigger``."""
        price = None if ord_px == "-1" else positive({"ordPx": ord_px}, "ordPx")
        kind = OrderType.STOP if price is None else OrderType.STOP_LIMIT
        try:
            return self.engine.submit(key.account, symbol, side, kind, size, price, stop_price=trigger,
                                      client_id=client_id or None, trigger_above=above)
        except Reject as exc:
            if exc.reason == "insufficient_balance":
                raise okx_error("51008", "Order failed. Insufficient balance.") from None
            raise okx_error("51000", f"Parameter error: {exc}", 400) from None

    async def cancel_algos(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, list) or not body or not all(isinstance(r, dict) for r in body):
            raise okx_error("50002", "Json data format error.", 400)
        entries = []
        for req in body:
            entry = {"algoId": str(req.get("algoId", "")), "clOrdId": "", "algoClOrdId": "", "sCode": "0", "sMsg": ""}
            algo = self.oco_algos.get(entry["algoId"])
            if algo is None or algo.account != key.account or self.native(algo.symbol) != req.get("instId"):
                entry.update(sCode="51603", sMsg="Order does not exist")
            elif self.state_of(algo) != "live":
                entry.update(sCode="51410", sMsg="Cancellation failed as the order is already in its final state")
            else:
                for leg in (algo.tp, algo.sl):
                    if not leg.status.final:
                        self.engine.cancel(key.account, leg.order_id)
                entry["algoClOrdId"] = algo.algo_cl_ord_id
            entries.append(entry)
        return envelope(entries)

    async def get_algo(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        wanted, cl_id = params.get("algoId"), params.get("algoClOrdId")
        if not wanted and not cl_id:
            raise okx_error("51000", "Parameter algoId error", 400)
        algo = next((a for a in self.oco_algos.values() if a.account == key.account
                     and (a.algo_id == wanted if wanted else a.algo_cl_ord_id == cl_id)), None)
        if algo is None:
            raise okx_error("51603", "Order does not exist")
        return envelope([self.oco_json(algo)])

    def algo_rows(self, key: ApiKey, params: dict[str, str], live: bool) -> list[Row]:
        kinds = set(params.get("ordType", "").split(","))
        rows = super().algo_rows(key, params, live)
        if "oco" not in kinds:
            return rows
        mine = [self.oco_json(a) for a in self.oco_algos.values() if a.account == key.account]
        mine = [r for r in mine if (r["state"] == "live") == live]
        return rows + select(mine, params, ("instType", "instId", "algoId", "state"), "cTime", "algoId")

    def state_of(self, algo: OcoAlgo) -> str:
        fired = next((leg for leg in (algo.tp, algo.sl) if leg.triggered), None)
        if fired is not None:
            return "order_failed" if fired.status is OrderStatus.REJECTED else "effective"
        return "canceled" if algo.tp.status.final and algo.sl.status.final else "live"

    def oco_json(self, algo: OcoAlgo) -> Row:
        market = self.engine.markets[algo.symbol]
        fired = next((leg for leg in (algo.tp, algo.sl) if leg.triggered), None)
        actual = {"actualSz": "", "actualPx": "", "actualSide": "", "triggerTime": ""}
        if fired is not None:
            filled = fired.filled * market.lot
            actual = {"actualSz": num(algo.size), "actualPx": num(fired.cost / filled) if filled else "",
                      "actualSide": "tp" if fired is algo.tp else "sl", "triggerTime": ms_text(fired.updated)}
        return {
            "instType": "SPOT", "instId": self.native(algo.symbol), "algoId": algo.algo_id,
            "algoClOrdId": algo.algo_cl_ord_id, "clOrdId": "", "ordId": "", "ordIdList": [fired.order_id] if fired else [],
            "ordType": "oco", "side": algo.side.value, "posSide": "net", "tdMode": "cash", "tgtCcy": "", "sz": num(algo.size),
            "state": self.state_of(algo), "lever": "", "tag": "", "closeFraction": "", "reduceOnly": "false",
            "tpTriggerPx": num(algo.tp.stop * market.tick) if algo.tp.stop else "", "tpTriggerPxType": "last",
            "tpOrdPx": algo.tp_ord_px, "slTriggerPx": num(algo.sl.stop * market.tick) if algo.sl.stop else "",
            "slTriggerPxType": "last", "slOrdPx": algo.sl_ord_px, "triggerPx": "", "triggerPxType": "", "ordPx": "",
            "last": "", **actual, "cTime": ms_text(algo.tp.created), "uTime": ms_text(max(algo.tp.updated, algo.sl.updated)),
        }

