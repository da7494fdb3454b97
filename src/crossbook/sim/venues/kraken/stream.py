"""Simulated Kraken: the private executions channel and the spot venue, ``KrakenSpotSim``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from ....model import OrderStatus
from ...engine import OrderEvent, SimFill, SimOrder
from ...server import Frame, SimConnection
from .trading import KrakenTrading
from .wire import DOLLARS, SNAPSHOT_TRADES, rfc3339_now, usd_fee


class KrakenSpotSim(KrakenTrading):

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        self.answer(conn, data, self.on_executions)

    def on_executions(self, conn: SimConnection, msg: dict[str, Any], time_in: str) -> None:
        params = msg.get("params") or {}
        if params.get("channel") != "executions":
            self.send(conn, self.reply(msg, time_in, error="Channel not found"))
        elif (account := self.token_account(str(params.get("token", "")))) is None:
            self.send(conn, self.reply(msg, time_in, error="ESession:Invalid session"))
        elif msg["method"] == "subscribe":
            self.subscribe_executions(conn, msg, account, time_in)
        else:
            conn.state.pop("executions", None)
            self.send(conn, self.reply(msg, time_in, result={"channel": "executions"}))

    def token_account(self, token: str) -> str | None:
        """The account of an issued token used in time; its first use keeps it valid."""
        issued = self.ws_tokens.get(token)
        if issued is None or issued.use_by < time.time():
            return None
        issued.use_by = float("inf")
        return issued.account

    def subscribe_executions(self, conn: SimConnection, msg: dict[str, Any], account: str, time_in: str) -> None:
        if conn.state.get("executions"):
            self.send(conn, self.reply(msg, time_in, error="Already subscribed"))
            return
        params = msg["params"]
        snap_orders, snap_trades = bool(params.get("snap_orders", True)), bool(params.get("snap_trades", False))
        conn.account = account
        conn.state["executions"] = True
        result = {"channel": "executions", "maxratecount": 180, "snap_orders": snap_orders, "snap_trades": snap_trades}
        self.send(conn, self.reply(msg, time_in, result=result))
        reports = [self.report(o, "new") for o in self.engine.open_orders(account)] if snap_orders else []
        if snap_trades:
            fills = self.engine.account_fills(account)[-SNAPSHOT_TRADES:]
            reports += [self.trade_report(self.engine.orders[f.order_id], f) for f in fills]
        self.send(conn, self.executions_frame(conn, "snapshot", reports))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("executions") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        if not conn.state.get("executions"):
            return []
        return [self.executions_frame(conn, "update", [r]) for r in self.event_reports(event)]

    def executions_frame(self, conn: SimConnection, kind: str, reports: list[dict[str, Any]]) -> str:
        """One ``executions`` message, numbered by the socket's ``sequence``."""
        conn.state["sequence"] = conn.state.get("sequence", 0) + 1
        return orjson.dumps({"channel": "executions", "type": kind, "data": reports, "sequence": conn.state["sequence"]}).decode()

    def event_reports(self, event: OrderEvent) -> list[dict[str, Any]]:
        """Kraken's exec_types for one engine event: ``pending_new`` then ``new`` on acceptance,
        ``status`` when a stop triggers, ``trade`` per fill (then ``filled`` on the last), and
        ``canceled`` or ``expired``."""
        order, fill = event.order, event.fill
        if fill is not None:
            trade = self.trade_report(order, fill)
            return [trade, self.report(order, "filled")] if order.status is OrderStatus.FILLED else [trade]
        if order.status is OrderStatus.EXPIRED:
            return [self.report(order, "expired")]
        if order.status.final:  # canceled, or a triggered stop the engine could not place
            return [self.report(order, "canceled") | {"reason": "User requested", "cancel_reason": "User requested"}]
        if order.order_id == self.amending:
            return [self.report(order, "amended") | {"amended": True, "reason": "user_modified"}]
        if order.triggered:
            return [self.report(order, "status")]
        return [self.report(order, "pending_new", "pending_new"), self.report(order, "new")]

    def order_status(self, order: SimOrder) -> str:
        if order.status.final:
            return {OrderStatus.FILLED: "filled", OrderStatus.EXPIRED: "expired"}.get(order.status, "canceled")
        return "partially_filled" if order.filled else "new"

    def report(self, order: SimOrder, exec_type: str, status: str | None = None) -> dict[str, Any]:
        """An execution report's order fields: what the order is and how much of it has filled."""
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        userref = self.userrefs.get(order.order_id, 0)
        out: dict[str, Any] = {"order_id": self.txid(order), "order_userref": userref}
        client_id = self.client_order_id(order)
        if client_id is not None:
            out["cl_ord_id"] = client_id
        out.update({
            "exec_type": exec_type,
            "order_status": status or self.order_status(order),
            "symbol": self.native(order.symbol),
            "side": order.side.value,
            "order_type": self.kraken_type(order),
            "order_qty": float(order.amount * market.lot),
            "limit_price": float((order.price or 0) * market.tick),
            "time_in_force": order.tif.value.upper(),
            "post_only": order.post_only,
            "cum_qty": float(filled),
            "cum_cost": float(order.cost),
            "avg_price": float(order.cost / filled) if filled else 0.0,
            "fee_ccy_pref": "fciq",
            "timestamp": rfc3339_now(),
        })
        if order.stop is not None:
            out["triggers"] = {"reference": "last", "price": float(order.stop * market.tick), "price_type": "static",
                               "status": "triggered" if order.triggered else "untriggered"}
        if order.visible is not None:
            out["display_qty"] = float(order.visible * market.lot)
        if market.quote in DOLLARS:
            fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
            out["fee_usd_equiv"] = float(sum((usd_fee(f, market.quote) for f in fills), Decimal(0)))
        return out

    def trade_report(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        """A ``trade`` report: the order's fields and the fill's, with its fee and maker/taker."""
        out = self.report(order, "trade")
        out.update({
            "exec_id": self.fill_txid(fill),
            "trade_id": fill.trade_id,
            "last_qty": float(fill.amount),
            "last_price": float(fill.price),
            "cost": float(fill.price * fill.amount),
            "liquidity_ind": "t" if fill.taker else "m",
            "fees": [{"asset": fill.fee_currency, "qty": float(fill.fee)}],
            "timestamp": datetime.fromtimestamp(fill.ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        })
        quote = self.engine.markets[order.symbol].quote
        if quote in DOLLARS:
            out["fee_usd_equiv"] = float(usd_fee(fill, quote))
        return out
