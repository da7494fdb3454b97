"""Simulated KuCoin: the private WebSocket topics and the spot venue, ``KucoinSpotSim``."""

from __future__ import annotations

import time
from typing import Any

import orjson

from ....model import OrderStatus, TimeInForce
from ...engine import OrderEvent, SimFill, SimOrder
from ...server import Frame, SimConnection
from .trading import KucoinTrading
from .wire import CANCELED, ORDER_TOPICS, dec, ms, text


class KucoinSpotSim(KucoinTrading):

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state["heard"] = time.monotonic()
        msg = orjson.loads(data)
        kind = msg.get("type")
        if kind == "ping":
            conn.send(text({"id": msg.get("id"), "type": "pong", "timestamp": time.time_ns() // 1000}))
        elif kind in ("subscribe", "unsubscribe"):
            self._on_private_subscription(conn, msg)
        else:
            conn.send(self._error(msg, 400, f"unknown message type {kind!r}"))

    def _on_private_subscription(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        topic = str(msg.get("topic", ""))
        if topic not in ORDER_TOPICS:
            conn.send(self._error(msg, 404, f"topic {topic} is not found"))
            return
        topics: set[str] = conn.state.setdefault("private_topics", set())
        if msg["type"] == "subscribe":
            topics.add(topic)
        else:
            topics.discard(topic)
        if msg.get("response"):
            conn.send(text({"id": str(msg.get("id")), "type": "ack"}))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("private_topics") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        order, fill = event.order, event.fill
        if order.waiting:
            return []  # an untriggered stop is on /spotMarket/advancedOrders
        frames: list[Frame] = []
        for topic in sorted(conn.state.get("private_topics", ())):
            frames += [text({"type": "message", "topic": topic, "subject": "orderChange", "channelType": "private", "data": d})
                       for d in self.order_changes(order, fill, v2=topic.endswith("V2"))]
        return frames

    def order_changes(self, order: SimOrder, fill: SimFill | None, v2: bool) -> list[dict[str, Any]]:
        """KuCoin's orderChange messages for one engine event."""
        if fill is not None:
            changes = [self.order_change(order, "match", "match" if fill.taker else "open", fill)]
            if order.status is OrderStatus.FILLED:
                changes.append(self.order_change(order, "filled", "done"))
            return changes
        if order.status in CANCELED:
            return [self.order_change(order, "canceled", "done")]
        if order.status is not OrderStatus.OPEN:
            return []
        received = [self.order_change(order, "received", "new")] if v2 else []
        return received + ([self.order_change(order, "open", "open")] if order.tif is TimeInForce.GTC else [])

    def order_change(self, order: SimOrder, kind: str, status: str, fill: SimFill | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "symbol": order.symbol,
            "orderType": self.kind(order),
            "side": order.side.value,
            "orderId": self.order_id(order),
            "type": kind,
            "orderTime": ms(order.created),
            "size": self.size_of(order.symbol, order.amount),
            "filledSize": self.size_of(order.symbol, order.filled),
            "price": self.price_of(order.symbol, order.price),
            "clientOid": order.client_id,
            "remainSize": self.size_of(order.symbol, 0 if order.status.final else order.remaining),
            "status": status,
            "ts": time.time_ns(),
        }
        if fill is not None:
            data |= {
                "liquidity": "taker" if fill.taker else "maker",
                "feeType": "takerFee" if fill.taker else "makerFee",
                "matchPrice": dec(fill.price),
                "matchSize": dec(fill.amount),
                "tradeId": str(fill.trade_id),
            }
        return data
