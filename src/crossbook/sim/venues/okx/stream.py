"""Simulated OKX: the private WebSocket (login, the orders channel) and the whole venue, ``OkxSim``."""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    MarginMode,
    PositionSide,
)
from ...access import ApiKey
from ...engine import OrderEvent, Reject, SimFill, SimOrder
from ...refusal import Refusal
from ...server import Frame, SimConnection
from .algo import OkxAlgo
from .errors import okx_error
from .wallet import OkxWallet
from .wire import (
    CONTRACTS,
    INST_TYPES,
    MAX_BATCH,
    TIME_WINDOW,
    Contract,
    Ticket,
    _now_ms,
    fee_text,
    ms_text,
    num,
    operations,
    sign,
)


class OkxSim(OkxAlgo, OkxWallet):

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v5/public/instruments", self.instruments),
            web.get("/api/v5/market/books", self.books),
            web.get("/api/v5/public/funding-rate", self.funding_rate_now),
            web.get("/api/v5/public/funding-rate-history", self.funding_rate_history),
            web.get("/api/v5/public/open-interest", self.open_interest),
            *self.stream_routes(),
            *self.trading_routes(),
            *self.algo_routes(),
            *self.wallet_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v5/asset/currencies", self.signed(self.currencies)),
            web.get("/api/v5/account/balance", self.signed(self.balance)),
            web.get("/api/v5/account/trade-fee", self.signed(self.trade_fee)),
            web.get("/api/v5/account/config", self.signed(self.account_config)),
            web.get("/api/v5/account/positions", self.signed(self.positions)),
            web.post("/api/v5/account/set-position-mode", self.signed(self.set_position_mode, trade=True)),
            web.post("/api/v5/account/set-leverage", self.signed(self.set_leverage, trade=True)),
            web.get("/api/v5/account/leverage-info", self.signed(self.leverage_info)),
            web.post("/api/v5/trade/order", self.signed(self.place_one, trade=True)),
            web.post("/api/v5/trade/batch-orders", self.signed(self.place_batch, trade=True)),
            web.post("/api/v5/trade/cancel-order", self.signed(self.cancel_one, trade=True)),
            web.post("/api/v5/trade/cancel-batch-orders", self.signed(self.cancel_batch, trade=True)),
            web.post("/api/v5/trade/amend-order", self.signed(self.amend_one, trade=True)),
            web.post("/api/v5/asset/transfer", self.signed(self.transfer, trade=True)),
            web.get("/api/v5/trade/order", self.signed(self.get_order)),
            web.get("/api/v5/trade/orders-pending", self.signed(self.orders_pending)),
            web.get("/api/v5/trade/orders-history", self.signed(self.orders_history)),
            web.get("/api/v5/trade/fills", self.signed(self.fills)),
            web.get("/api/v5/trade/fills-history", self.signed(self.fills_history)),
            web.get("/api/v5/trade/orders-algo-pending", self.signed(self.algos_pending)),
            web.get("/api/v5/trade/orders-algo-history", self.signed(self.algos_history)),
        ]

    async def place_one(self, key: ApiKey, body: Any) -> web.Response:
        return operations([self.place(key, body)])

    async def place_batch(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, list) or not body:
            raise okx_error("50002", "Json data format error.", 400)
        if len(body) > MAX_BATCH:
            raise okx_error("51111", f"Maximum {MAX_BATCH} orders can be placed in bulk.", 400)
        return operations([self.place(key, req) for req in body])

    def place(self, key: ApiKey, req: Any) -> dict[str, Any]:
        """One order of a place request: its ``data`` entry, with sCode 0 or OKX's refusal."""
        if not isinstance(req, dict):
            raise okx_error("50002", "Json data format error.", 400)
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": "", "tag": str(req.get("tag", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "Order placed", "subCode": ""}
        try:
            entry["ordId"] = self.submit(key, self.ticket(req)).order_id
        except Refusal as exc:
            entry.update(sCode=str(exc.code), sMsg=exc.message)
        return entry

    def submit(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        contract = ticket.contract or Contract(MarginMode.CROSS, PositionSide.BOTH, False)
        try:
            if ticket.contract is not None:
                self.use_margin_mode(key.account, ticket.symbol, contract.margin)
            self._placing = ticket.placement
            order = self.engine.submit(
                key.account, ticket.symbol, ticket.side, ticket.kind, ticket.amount, ticket.price,
                tif=ticket.tif, post_only=ticket.post_only, client_id=ticket.placement.cl_ord_id or None,
                reduce_only=contract.reduce_only, position_side=contract.position_side,
                take_profit=ticket.take_profit, stop_loss=ticket.stop_loss,
            )
        except Reject as exc:
            if exc.reason != "post_only_would_take":
                raise self.refusal(exc, ticket) from None
            order = self.kill(key, ticket)
        finally:
            self._placing = None
        self.placements[order.order_id] = ticket.placement
        if order.order_id in self.killed:  # the engine never saw it: the venue pushes its cancel
            for conn in self.private_connections(order.account):
                for frame in self.private_frames_for(conn, OrderEvent(order)):
                    conn.send(frame)
        return order

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {data!r}"))
            return
        op = msg.get("op") if isinstance(msg, dict) else None
        if op == "login":
            conn.send(self.ws_login(conn, msg.get("args")))
        elif op in ("subscribe", "unsubscribe"):
            for arg in msg.get("args") or []:
                conn.send(self.private_subscribe(conn, op, arg, msg.get("id")))
        else:
            conn.send(self._event(conn, "error", code="60019", msg=f"Invalid op: {op}"))

    def ws_login(self, conn: SimConnection, args: Any) -> str:
        """OKX's WebSocket login: sign = base64 HMAC-SHA256(secret, timestamp + "GET" +
        "/users/self/verify"), the timestamp in Unix seconds within 30 s of OKX's clock."""
        try:
            key = self.ws_key(args)
        except Refusal as exc:
            return self._event(conn, "error", code=exc.code, msg=exc.message)
        conn.account = key.account
        return self._event(conn, "login", code="0", msg="")

    def ws_key(self, args: Any) -> ApiKey:
        login = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        for name, code in (("apiKey", "60001"), ("sign", "60002"), ("passphrase", "60003")):
            if not login.get(name):
                raise okx_error(code, f"{name} can not be empty.")
        key = self.api_keys.get(str(login["apiKey"]))
        if key is None:
            raise okx_error("60005", "Invalid apiKey")
        if not hmac.compare_digest(str(login["passphrase"]).encode(), (key.passphrase or "").encode()):
            raise okx_error("60024", "Wrong passphrase")
        stamp = str(login.get("timestamp", ""))
        try:
            sent = float(stamp)
        except ValueError:
            raise okx_error("60004", "Invalid timestamp") from None
        if abs(time.time() - sent) > TIME_WINDOW:
            raise okx_error("60006", "Timestamp request expired")
        expected = sign(key.secret, (stamp + "GET" + "/users/self/verify").encode())
        if not hmac.compare_digest(str(login["sign"]).encode(), expected.encode()):
            raise okx_error("60007", "Invalid sign")
        return key

    def private_subscribe(self, conn: SimConnection, op: str, arg: Any, rid: Any) -> str:
        """One ``orders`` subscription: an ``instType`` (ANY for all), optionally one ``instId``."""
        arg = arg if isinstance(arg, dict) else {}
        channel, inst_type, inst_id = arg.get("channel"), arg.get("instType"), str(arg.get("instId") or "")
        if conn.account is None:
            return self._event(conn, "error", code="60011", msg="Please log in")
        if channel != "orders" or inst_type not in INST_TYPES or (inst_id and self.symbol_of(inst_id) is None):
            return self._event(conn, "error", code="60018",
                               msg=f"Wrong URL or channel:{channel},instType:{inst_type} doesn't exist.")
        watched: set[tuple[str, str]] = conn.state.setdefault("orders", set())
        if op == "subscribe":
            watched.add((inst_type, inst_id))
        else:
            watched.discard((inst_type, inst_id))
        ack = {"channel": channel, "instType": inst_type} | ({"instId": inst_id} if inst_id else {})
        return self._event(conn, op, **({"id": rid} if rid else {}), arg=ack)

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("orders") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """One push per matching subscription, its ``arg`` as subscribed plus the ``uid``."""
        order = event.order
        inst_type, inst_id = "SWAP" if order.symbol in CONTRACTS else "SPOT", self.native(order.symbol)
        row = self.ws_order_json(order, event.fill)
        frames: list[Frame] = []
        for watched_type, watched_id in sorted(conn.state.get("orders", ())):
            if watched_type in (inst_type, "ANY") and watched_id in ("", inst_id):
                arg = {"channel": "orders", "instType": watched_type} | ({"instId": watched_id} if watched_id else {})
                frames.append(orjson.dumps({"arg": arg | {"uid": order.account}, "data": [row]}).decode())
        return frames

    def ws_order_json(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The orders channel's row: the order as REST shows it, with the fill that caused this
        push (``fillSz``, ``fillPx``, ``tradeId``, ``fillFee`` negative when charged, ``execType``)
        in place of the order's last fill; blank fill fields on pushes no fill caused."""
        if self._placing is not None and order.order_id not in self.placements and order.parent is None:
            self.placements[order.order_id] = self._placing  # the order being placed (not a TP/SL child)
        row = self.order_json(order)
        row.update(code="0", msg="", reqId="", amendResult="", amendSource="", fillNotionalUsd="", notionalUsd="")
        if fill is None:
            row.update(avgPx=row["avgPx"] or "0", fillPx="", fillSz="0", tradeId="", fillTime="", fillFee="0", fillFeeCcy="", execType="")
            return row
        row.update(
            fillPx=num(fill.price), fillSz=self.size_of(fill.symbol, fill.amount), tradeId=str(fill.trade_id),
            fillTime=ms_text(fill.ts), fillFee=fee_text(fill.fee), fillFeeCcy=fill.fee_currency,
            execType="T" if fill.taker else "M", feeCcy=fill.fee_currency,
        )
        return row
