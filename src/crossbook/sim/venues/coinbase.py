"""Simulated Coinbase Advanced Trade market data: the public products endpoint, and the WebSocket
with one subscribe per channel (``level2``, ``market_trades``, ``heartbeats``), ``subscriptions``
acks, an in-band ``l2_data`` snapshot then updates, trades, heartbeats every second, and one
``sequence_num`` counter per connection across every channel."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ..market import Ladder
from ..server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response

MAX_BOOKS_PER_CONNECTION = 16  # more level2 products on one socket are refused
HEARTBEAT_INTERVAL = 1.0
RECENT_TRADES = 50


def rfc3339(ns: int) -> str:
    """Coinbase's nanosecond timestamps: ``2023-02-09T20:32:50.714964855Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


@dataclass(frozen=True, slots=True)
class Tick:
    """One symbol's book change of one market tick, encoded once for every connection."""

    timestamp: str
    book_events: bytes
    skip: bool


class CoinbaseSim(SimVenue):
    venue = "coinbase"
    markets = ("BTC-USD", "BTC-USDT", "ETH-USD", "ETH-USDT", "SOL-USDT", "ETH-BTC")
    ws_paths = ("/",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v3/brokerage/market/products", self.products)]

    async def products(self, request: web.Request) -> web.Response:
        rows: list[dict[str, Any]] = []
        if request.query.get("product_type", "SPOT") == "SPOT":
            for symbol in self.markets:
                rows.append(self.product(symbol))
                if symbol.endswith("-USD"):
                    rows.append(self.usdc_alias(rows[-1]))
        return json_response({"products": rows, "num_products": len(rows), "pagination": None})

    def product(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        best = ladder.top(True, 1)
        tick = ladder.price_str(1)
        return {
            "product_id": self.native(symbol),
            "price": ladder.price_str(best[0][0]) if best else "",
            "base_increment": ladder.size_str(1),
            "quote_increment": tick,
            "price_increment": tick,
            "base_min_size": ladder.size_str(1),
            "base_max_size": "3400",
            "quote_min_size": "1",
            "quote_max_size": "150000000",
            "status": "online",
            "product_type": "SPOT",
            "base_currency_id": base,
            "quote_currency_id": quote,
            "base_display_symbol": base,
            "quote_display_symbol": quote,
            "display_name": self.native(symbol),
            "product_venue": "CBE",
            "is_disabled": False,
            "trading_disabled": False,
            "cancel_only": False,
            "limit_only": False,
            "post_only": False,
            "auction_mode": False,
            "view_only": False,
            "alias": "",
            "alias_to": [],
        }

    def usdc_alias(self, usd: dict[str, Any]) -> dict[str, Any]:
        """Coinbase lists X-USDC as an alias of X-USD: same book, same market data."""
        native = usd["product_id"] + "C"
        usd["alias_to"] = [native]
        return {**usd, "product_id": native, "display_name": native, "quote_currency_id": "USDC", "alias": usd["product_id"], "alias_to": []}

    # ---- WebSocket: requests ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["seq"] = 0
        conn.state["heartbeats"] = False
        conn.state["heartbeat_task"] = asyncio.ensure_future(self._heartbeat_loop(conn))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        kind, channel = msg.get("type"), msg.get("channel")
        symbols = [self.symbol_of(n) for n in msg.get("product_ids", [])]
        if kind not in ("subscribe", "unsubscribe") or channel not in ("level2", "market_trades", "heartbeats"):
            conn.send(self.error("failure to subscribe"))
            return
        if None in symbols:
            conn.send(self.error(f"invalid product_ids {msg.get('product_ids')}"))
            return
        known = [s for s in symbols if s is not None]
        if kind == "unsubscribe":
            self.unsubscribe(conn, channel, known)
        elif channel == "level2" and self.books_after(conn, known) > MAX_BOOKS_PER_CONNECTION:
            conn.send(self.error("too many L2 streams requested in a single session"))
            return
        else:
            self.subscribe(conn, channel, known)
        conn.send(self.envelope(conn, "subscriptions", rfc3339(time.time_ns()), orjson.dumps([{"subscriptions": self.subscriptions(conn)}])))

    def subscribe(self, conn: SimConnection, channel: str, symbols: list[str]) -> None:
        if channel == "heartbeats":
            conn.state["heartbeats"] = True
            return
        for symbol in symbols:
            conn.subs.setdefault(symbol, set()).add(channel)
        now = rfc3339(time.time_ns())
        if channel == "level2":
            for symbol in symbols:
                events = [{"type": "snapshot", "product_id": self.native(symbol), "updates": self.snapshot_levels(symbol, now)}]
                conn.send(self.envelope(conn, "l2_data", now, orjson.dumps(events)))
        else:
            trades = [t for s in symbols for t in reversed(self.recent[s])]  # newest first
            conn.send(self.envelope(conn, "market_trades", now, orjson.dumps([{"type": "snapshot", "trades": trades}])))

    def unsubscribe(self, conn: SimConnection, channel: str, symbols: list[str]) -> None:
        if channel == "heartbeats":
            conn.state["heartbeats"] = False
            return
        for symbol in symbols:
            channels = conn.subs.get(symbol)
            if channels is not None:
                channels.discard(channel)
                if not channels:
                    del conn.subs[symbol]

    def books_after(self, conn: SimConnection, symbols: list[str]) -> int:
        return len({s for s, ch in conn.subs.items() if "level2" in ch} | set(symbols))

    def subscriptions(self, conn: SimConnection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for symbol, channels in conn.subs.items():
            for channel in sorted(channels):
                out.setdefault(channel, []).append(self.native(symbol))
        if conn.state["heartbeats"]:
            out["heartbeats"] = ["heartbeats"]
        return out

    def error(self, message: str) -> bytes:
        return orjson.dumps({"type": "error", "message": message})

    # ---- WebSocket: market data ---------------------------------------------------------------

    def envelope(self, conn: SimConnection, channel: str, timestamp: str, events: bytes, skip: bool = False) -> bytes:
        """One message with this connection's next ``sequence_num`` (``skip`` loses one)."""
        seq = conn.state["seq"] + (1 if skip else 0)
        conn.state["seq"] = seq + 1
        head = orjson.dumps({"channel": channel, "client_id": "", "timestamp": timestamp, "sequence_num": seq})
        return head[:-1] + b',"events":' + events + b"}"

    def snapshot_levels(self, symbol: str, now: str) -> list[dict[str, str]]:
        ladder = self.ladders[symbol]
        bids = ladder.top(True, len(ladder.bids))
        asks = ladder.top(False, len(ladder.asks))
        return [self.level(ladder, True, p, q, now) for p, q in bids] + [self.level(ladder, False, p, q, now) for p, q in asks]

    def level(self, ladder: Ladder, is_bid: bool, ticks: int, lots: int, now: str) -> dict[str, str]:
        return {
            "side": "bid" if is_bid else "offer",
            "event_time": now,
            "price_level": ladder.price_str(ticks),
            "new_quantity": ladder.size_str(lots) if lots else "0",
        }

    def encode(self, symbol: str, changes: list[Change]) -> Tick:
        ladder = self.ladders[symbol]
        now = rfc3339(time.time_ns())
        updates = [self.level(ladder, b, p, q, now) for b, p, q in changes]
        events = orjson.dumps([{"type": "update", "product_id": self.native(symbol), "updates": updates}])
        return Tick(now, events, self.faults.take("skip", symbol))

    def frames_for(self, conn: SimConnection, symbol: str, encoded: Tick) -> list[Frame]:
        if "level2" not in conn.subs[symbol]:
            return []
        return [self.envelope(conn, "l2_data", encoded.timestamp, encoded.book_events, skip=encoded.skip)]

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[str, bytes] | None:
        """The tick's trades as one ``market_trades`` update; each connection numbers it."""
        if not trades:
            return None
        ladder = self.ladders[symbol]
        now = rfc3339(time.time_ns())
        rows = []
        for t in trades:
            row = {
                "trade_id": str(t.trade_id),
                "product_id": self.native(symbol),
                "price": ladder.price_str(t.ticks),
                "size": ladder.size_str(t.lots),
                "side": "SELL" if t.buy else "BUY",  # the maker's side
                "time": now,
            }
            rows.append(row)
            self.recent[symbol].append(row)
        return now, orjson.dumps([{"type": "update", "trades": rows}])

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[str, bytes] | None) -> list[Frame]:
        if encoded is None or "market_trades" not in conn.subs[symbol]:
            return []
        return [self.envelope(conn, "market_trades", *encoded)]

    async def _heartbeat_loop(self, conn: SimConnection) -> None:
        counter = 0
        while not conn.ws.closed:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            if conn.state["heartbeats"] and not conn.ws.closed:
                counter += 1
                now = rfc3339(time.time_ns())
                event = {"current_time": now.replace("T", " ").replace("Z", " +0000 UTC"), "heartbeat_counter": counter}
                conn.send(self.envelope(conn, "heartbeats", now, orjson.dumps([event])))


SIMS: dict[str, type[SimVenue]] = {
    "coinbase": CoinbaseSim,
}
