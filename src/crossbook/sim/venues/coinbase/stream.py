"""Simulated Coinbase: the user channel of the WebSocket and the venue, ``CoinbaseSim``."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import OrderStatus
from ...engine import OrderEvent, SimOrder
from ...server import Frame, SimConnection
from .trading import CoinbaseTrading
from .wire import (
    CONFIGURATIONS,
    MAX_BOOKS_PER_CONNECTION,
    NO_POSITIONS,
    SNAPSHOT_BATCH,
    STATUS,
    USER_ORDER_TYPES,
    ZERO,
    configuration_name,
    iso,
    num,
    rfc3339,
    stable_id,
    trigger_status,
)

CHANNELS = ("level2", "market_trades", "heartbeats", "user", "ticker", "candles")


class CoinbaseSim(CoinbaseTrading):

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v3/brokerage/market/products", self.products), *self.trading_routes()]

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        kind, channel = msg.get("type"), msg.get("channel")
        symbols = [self.symbol_of(n) for n in msg.get("product_ids") or []]
        if kind not in ("subscribe", "unsubscribe") or channel not in CHANNELS:
            conn.send(self.error("failure to subscribe"))
            return
        if None in symbols:
            conn.send(self.error(f"invalid product_ids {msg.get('product_ids')}"))
            return
        known = [s for s in symbols if s is not None]
        if channel == "user":
            self.user_request(conn, kind, known, msg.get("jwt"))
            return
        if kind == "unsubscribe":
            self.unsubscribe(conn, channel, known)
        elif channel == "level2" and self.books_after(conn, known) > MAX_BOOKS_PER_CONNECTION:
            conn.send(self.error("too many L2 streams requested in a single session"))
            return
        else:
            self.subscribe(conn, channel, known)
        self.acknowledge(conn)

    def user_request(self, conn: SimConnection, kind: str, symbols: list[str], token: Any) -> None:
        """Subscribe (or unsubscribe) the account's orders: the ``jwt`` must be a live CDP JWT
        (checked as on REST, less the ``uri`` claim a WebSocket JWT does not carry). Empty
        ``product_ids`` follow every product."""
        checked = self.verify_jwt(token)
        if checked is None:
            conn.send(self.error("authentication failure"))
            return
        key = checked[0]
        if kind == "unsubscribe":
            conn.state.pop("user", None)
            conn.account = None
            self.acknowledge(conn)
            return
        conn.account = key.account
        conn.state["user"] = set(symbols)
        self.acknowledge(conn)
        open_orders = [
            self.user_order(o) for o in sorted(self.engine.orders.values(), key=lambda o: o.seq)
            if o.account == key.account and not o.status.final and self.follows(conn, o.symbol)
        ]
        for start in range(0, max(len(open_orders), 1), SNAPSHOT_BATCH):
            event = {"type": "snapshot", "orders": open_orders[start:start + SNAPSHOT_BATCH], "positions": NO_POSITIONS}
            conn.send(self.envelope(conn, "user", rfc3339(time.time_ns()), orjson.dumps([event])))

    def follows(self, conn: SimConnection, symbol: str) -> bool:
        products: set[str] | None = conn.state.get("user")
        return products is not None and (not products or symbol in products)

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        if not self.follows(conn, event.order.symbol):
            return []
        events = [{"type": "update", "orders": [self.user_order(event.order)]}]
        return [self.envelope(conn, "user", rfc3339(time.time_ns()), orjson.dumps(events))]

    def user_order(self, order: SimOrder) -> dict[str, Any]:
        """An order as the user channel reports it: cumulative fills, never one fill."""
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        fills = [f for f in self.engine.fills if f.order_id == order.order_id]
        fees = sum((f.fee for f in fills), ZERO)
        leaves = ZERO if order.status.final else (order.amount - order.filled) * market.lot
        return {
            "avg_price": num(order.cost / filled) if filled else "0",
            "cancel_reason": "User requested cancel" if order.status is OrderStatus.CANCELED else "",
            "client_order_id": order.client_id,
            "completion_percentage": num((Decimal(100) * order.filled / order.amount).quantize(Decimal("0.01"))),
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "cumulative_quantity": num(filled),
            "filled_value": num(order.cost),
            "leaves_quantity": num(leaves),
            "limit_price": num(order.price * market.tick) if order.price is not None else "0",
            "number_of_fills": str(len(fills)),
            "order_id": self.uuid_of(order.order_id),
            "order_side": order.side.value.upper(),
            "order_type": USER_ORDER_TYPES[order.type],
            "outstanding_hold_amount": num(order.reserved),
            "post_only": order.post_only,
            "product_id": self.native(order.symbol),
            "product_type": "SPOT",
            "reject_reason": "",
            "retail_portfolio_id": stable_id(f"portfolio/{order.account}"),
            "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
            "status": STATUS[order.status],
            "stop_price": num(order.stop * market.tick) if order.stop is not None else "0",
            "time_in_force": CONFIGURATIONS[configuration_name(order)].time_in_force,
            "total_fees": num(fees),
            "total_value_after_fees": num(order.cost + fees if order.is_bid else order.cost - fees),
            "trigger_status": trigger_status(order),
            "creation_time": iso(order.created),
            "end_time": "0001-01-01T00:00:00Z",
            "start_time": "0001-01-01T00:00:00Z",
        }
