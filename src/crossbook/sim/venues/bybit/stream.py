"""Simulated Bybit: the private WebSocket (auth, order and execution topics) and the spot venue, ``BybitSpotSim``."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import orjson
from aiohttp import web

from ...engine import OrderEvent, SimFill, SimOrder
from ...server import Frame, SimConnection
from .trading import BybitTrading
from .wallet import BybitWallet
from .wire import PRIVATE_TOPICS, ZERO, ms


class BybitSpotSim(BybitTrading, BybitWallet):

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v5/market/instruments-info", self.instruments_info),
                web.get("/v5/market/orderbook", self.orderbook), *self.trading_routes(),
                *self.wallet_routes()]

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state.setdefault("conn_id", str(uuid.uuid4()))
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            msg = None
        if not isinstance(msg, dict):
            conn.send(self.private_reply(conn, "", None, False, "error:invalid op"))
            return
        op, req_id = str(msg.get("op", "")), msg.get("req_id")
        if op == "ping":
            self.client_pings += 1
            pong = {"req_id": req_id, "op": "pong", "args": [str(ms(time.time()))], "conn_id": conn.state["conn_id"]}
            conn.send(orjson.dumps({k: v for k, v in pong.items() if v is not None}).decode())
        elif op == "auth":
            error = self.private_login(conn, msg.get("args"))
            conn.send(self.private_reply(conn, op, req_id, error is None, error or ""))
        elif op in ("subscribe", "unsubscribe"):
            error = self.private_topics(conn, op, msg.get("args"))
            conn.send(self.private_reply(conn, op, req_id, error is None, error or ""))
        else:
            conn.send(self.private_reply(conn, op, req_id, False, f"error:invalid op {op}"))

    @staticmethod
    def private_reply(conn: SimConnection, op: str, req_id: Any, success: bool, ret_msg: str) -> str:
        """An op answer on the private stream (text frames, as Bybit sends): req_id only when the
        request had one."""
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.state["conn_id"]}
        if req_id is not None:
            body["req_id"] = req_id
        body["op"] = op
        return orjson.dumps(body).decode()

    def private_login(self, conn: SimConnection, args: Any) -> str | None:
        """``[api key, expires, hex HMAC-SHA256(secret, "GET/realtime" + expires)]``; expires (ms)
        must still be in the future. Returns Bybit's ret_msg for a refusal."""
        if not isinstance(args, list) or len(args) != 3:
            return "Params Error"
        api_key, expires, signature = (str(a) for a in args)
        if not expires.isdigit() or int(expires) <= ms(time.time()):
            return "Params Error"
        key = self.api_keys.get(api_key)
        if key is None:
            return "Request not authorized"
        expected = hmac.new(key.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return "Request not authorized"
        conn.account = key.account
        return None

    def private_topics(self, conn: SimConnection, op: str, args: Any) -> str | None:
        """``order`` and ``execution``, all-in-one or categorised (``order.spot``); the request is
        refused whole when any topic is wrong."""
        if conn.account is None:
            return "Request not authorized"
        topics: dict[str, str] = conn.state.setdefault("topics", {})  # kind -> the topic name subscribed
        names = args if isinstance(args, list) else []
        for name in names:
            kind, _, category = str(name).partition(".")
            if kind not in PRIVATE_TOPICS or category not in ("", self.category):
                return f"error:handler not found,topic:{name}"
            if op == "subscribe" and kind in topics:
                return f"error:already subscribed,topic:{name}"
        for name in names:
            kind = str(name).partition(".")[0]
            if op == "subscribe":
                topics[kind] = str(name)
            else:
                topics.pop(kind, None)
        return None

    def streaming_to(self, account: str) -> bool:
        return any(set(c.state.get("topics", {})) >= PRIVATE_TOPICS for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The execution first (as Bybit pushes it), then the order's new state."""
        topics: dict[str, str] = conn.state.get("topics", {})
        frames: list[Frame] = []
        if event.fill is not None and "execution" in topics:
            frames.append(self.private_push(topics["execution"], self.ws_execution(event.order, event.fill)))
        if "order" in topics:
            frames.append(self.private_push(topics["order"], self.ws_order(event.order)))
        return frames

    @staticmethod
    def private_push(topic: str, row: dict[str, Any]) -> str:
        push = {"id": f"{uuid.uuid4().hex[:14]}-{uuid.uuid4()}", "topic": topic, "creationTime": ms(time.time()), "data": [row]}
        return orjson.dumps(push).decode()

    def ws_order(self, order: SimOrder) -> dict[str, Any]:
        return {"category": self.category, **self.order_json(order)}

    def ws_execution(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        leaves = order.remaining * self.engine.markets[order.symbol].lot if not order.status.final else ZERO
        row = {"category": self.category, **self.execution_json(fill, leaves)}
        row.update({"isLeverage": "0", "createType": "CreateByUser", "execPnl": "0"})
        return row
