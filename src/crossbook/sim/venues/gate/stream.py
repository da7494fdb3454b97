"""Simulated Gate: the private channels of the WebSocket and the spot venue, ``GateSpotSim``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from ...access import ApiKey
from ...engine import OrderEvent, SimFill, SimOrder
from ...refusal import Reason, Refusal
from ...server import Frame, SimConnection
from .errors import gate_error, refused
from .trading import GateTrading
from .wire import ALL, ORDERS, USER_TRADES, WINDOW, fresh, user_id


class GateSpotSim(GateTrading):

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.instruments_path, self.instruments), web.get(self.book_path, self.order_book), *self.trading_routes()]

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        channel = msg.get("channel") if isinstance(msg, dict) else None
        if channel not in (ORDERS, USER_TRADES):
            await self.on_client_message(conn, data)
            return
        payload = msg.get("payload") or []
        reply: dict[str, Any] = {"payload": payload}
        if "id" in msg:
            reply["id"] = msg["id"]
        try:
            key = self.channel_key(channel, msg)
            self.private_subscription(conn, channel, msg.get("event"), payload)
        except Refusal as exc:
            # the auth service's REST error body, as Gate relays it under code 4
            body = orjson.dumps({"label": exc.code, "message": exc.message}).decode() + "\n"
            reply.update({"error": {"code": 4, "message": body}, "result": None})
        except ValueError as exc:
            reply.update({"error": {"code": 2, "message": str(exc)}, "result": {"status": "fail"}})
        else:
            conn.account = key.account
            reply["result"] = {"status": "success"}
        conn.send(self.envelope(channel, str(msg.get("event", "")), reply).decode())

    def channel_key(self, channel: str, msg: Mapping[str, Any]) -> ApiKey:
        """The request's ``auth``: KEY and SIGN, the hex HMAC-SHA512 of
        ``channel=<channel>&event=<event>&time=<time>``, with ``time`` (seconds) fresh."""
        auth = msg.get("auth")
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            raise gate_error("MISSING_REQUIRED_HEADER", "Missing required header: KEY", 401)
        stamp = str(msg.get("time", ""))
        if not fresh(stamp):
            raise refused(Reason.STALE_TIMESTAMP, window=WINDOW)
        key = self.api_keys.get(str(auth.get("KEY", "")))
        if key is None:
            raise refused(Reason.UNKNOWN_KEY)
        signed = f"channel={channel}&event={msg.get('event')}&time={stamp}"
        expected = hmac.new(key.secret.encode(), signed.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(str(auth.get("SIGN", "")), expected):
            raise refused(Reason.BAD_SIGNATURE)
        return key

    def private_subscription(self, conn: SimConnection, channel: str, event: Any, payload: list[Any]) -> None:
        """Pairs (or ``!all``) per private channel, in ``conn.state``."""
        if event not in ("subscribe", "unsubscribe"):
            raise ValueError(f"unknown event {event!r}")
        unknown = [p for p in payload if p != ALL and self.symbol_of(str(p)) is None]
        if unknown or not payload:
            raise ValueError(f"unknown currency pair {unknown[0] if unknown else ''}")
        pairs: set[str] = conn.state.setdefault("private", {}).setdefault(channel, set())
        if event == "subscribe":
            pairs.update(map(str, payload))
        else:
            pairs.difference_update(map(str, payload))

    def streaming_to(self, account: str) -> bool:
        return any(
            all(c.state.get("private", {}).get(ch) for ch in (ORDERS, USER_TRADES)) for c in self.private_connections(account)
        )

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The user trade first, then the order; price orders before their trigger are
        ``spot.priceorders`` news, not simulated."""
        order, fill = event.order, event.fill
        subscribed: dict[str, set[str]] = conn.state.get("private", {})
        wanted = {ALL, self.native(order.symbol)}
        frames: list[Frame] = []
        if fill is not None and wanted & subscribed.get(USER_TRADES, set()):
            frames.append(self.envelope(USER_TRADES, "update", {"result": [self.ws_user_trade(fill)]}).decode())
        if not order.waiting and wanted & subscribed.get(ORDERS, set()):
            frames.append(self.envelope(ORDERS, "update", {"result": [self.ws_order(order, fill)]}).decode())
        return frames

    def ws_order(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The REST order's fields (no ``status``: ``event`` and ``finish_as`` tell it) and the
        push's own: ``event`` put (accepted), update (filled in part), finish (closed)."""
        row = {k: v for k, v in self.order_json(order).items() if k != "status"}
        row.update({
            "create_time_ms": str(row["create_time_ms"]),
            "update_time_ms": str(row["update_time_ms"]),
            "user": user_id(order.account),
            "event": "finish" if order.status.final else ("update" if fill is not None else "put"),
            "auto_borrow": False,
            "auto_repay": False,
            "biz_info": "",
        })
        return row

    def ws_user_trade(self, fill: SimFill) -> dict[str, Any]:
        row = {k: v for k, v in self.trade_json(fill).items() if k != "deal"}
        row.update({"id": fill.trade_id, "user_id": user_id(fill.account), "create_time": int(fill.ts), "biz_info": ""})
        return row
