"""Simulated Kraken spot market data: WebSocket v2 on /v2 (``book`` with depth windows and CRC32
checksums, ``trade``, ``ping``, ``heartbeat``, ``status``) and REST ``/0/public/AssetPairs``.

Prices and quantities go out as JSON numbers at full precision ("qty":0.50000000), as Kraken prints
them, so the frames are written as text rather than through a JSON encoder that would shorten them.
A subscriber's book is the top ``depth`` levels: an update carries the levels that changed or
entered that window and deletes for levels removed from the book, but nothing for a level pushed
out of the window by a better one (the client truncates).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...book.checksum import crc32_unsigned
from ...symbols import parse_standard
from ..market import Ladder
from ..server import Change, Frame, SimConnection, SimVenue, json_response

Level = tuple[int, int]  # (ticks, lots)
Top = tuple[list[Level], list[Level]]  # bids best first, asks best first

DEPTHS = (10, 25, 100, 500, 1000)
CHECKSUM_LEVELS = 10
QTY_PLACES = 8  # Kraken prints every quantity with 8 decimals
# REST asset codes of the assets that predate Kraken's plain codes; v1 and AssetPairs say XBT
LEGACY_CODES = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD"}
WS_NAMES = {"BTC": "XBT"}


def rfc3339_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken's book checksum over the strings as sent: digits without "." or leading zeros."""
    return crc32_unsigned("".join(str(int(p.replace(".", ""))) + str(int(q.replace(".", ""))) for p, q in asks + bids))


@dataclass
class BookTick:
    """One symbol's change: the book before and after, the checksum of the new top 10, and the
    update frame per subscribed depth (built on first use)."""

    before: Top
    after: Top
    checksum: int
    timestamp: str
    frames: dict[int, list[Frame]] = field(default_factory=dict)


class KrakenSpotSim(SimVenue):
    venue = "kraken"
    markets = ("BTC-USD", "ETH-USD", "BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/v2",)
    faults_supported = frozenset({"drop", "corrupt", "stall", "delay"})
    heartbeat_after: ClassVar[float] = 1.0  # heartbeat once a subscribed socket has been quiet this long
    recent_trades: ClassVar[int] = 50  # what a trade snapshot replays

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tops: dict[str, Top] = {s: self.top_of(s) for s in self.markets}
        self.recent: dict[str, deque[str]] = {s: deque(maxlen=self.recent_trades) for s in self.markets}
        self._heartbeats: asyncio.Task[None] | None = None
        self._connection_id = 14949390454975033707

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}/{quote}"

    def top_of(self, symbol: str) -> Top:
        ladder = self.ladders[symbol]
        return ladder.top(True, DEPTHS[-1]), ladder.top(False, DEPTHS[-1])

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/0/public/AssetPairs", self.asset_pairs)]

    async def asset_pairs(self, request: web.Request) -> web.Response:
        pairs = dict(self.asset_pair(s) for s in self.markets)
        return json_response({"error": [], "result": pairs})

    def asset_pair(self, symbol: str) -> tuple[str, dict[str, Any]]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        base_code, quote_code = LEGACY_CODES.get(base, base), LEGACY_CODES.get(quote, quote)
        ws_base, ws_quote = WS_NAMES.get(base, base), WS_NAMES.get(quote, quote)
        altname = f"{ws_base}{ws_quote}"
        legacy = base in LEGACY_CODES and quote in LEGACY_CODES
        return (f"{base_code}{quote_code}" if legacy else altname), {
            "altname": altname,
            "wsname": f"{ws_base}/{ws_quote}",
            "aclass_base": "currency",
            "base": base_code,
            "aclass_quote": "currency",
            "quote": quote_code,
            "lot": "unit",
            "cost_decimals": 5,
            "pair_decimals": ladder.price_decimals,
            "lot_decimals": QTY_PLACES,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, 0.4]],
            "fees_maker": [[0, 0.25]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": ladder.size_str(1, QTY_PLACES),
            "costmin": "0.5",
            "tick_size": ladder.price_str(1),
            "status": "online",
        }

    # ---- WebSocket: requests ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        self._connection_id += 1
        status = {"api_version": "v2", "connection_id": self._connection_id, "system": "online", "version": "2.0.10"}
        self.send(conn, orjson.dumps({"channel": "status", "type": "update", "data": [status]}).decode())

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        time_in = rfc3339_now()
        try:
            msg = orjson.loads(data)
            method = msg["method"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.send(conn, self.reply({}, time_in, error="EGeneral:Invalid arguments"))
            return
        if method == "ping":
            self.client_pings += 1
            self.send(conn, self.reply(msg, time_in, method="pong"))
        elif method in ("subscribe", "unsubscribe"):
            self.on_subscription(conn, msg, time_in)
        else:
            self.send(conn, self.reply(msg, time_in, error="Method not found"))

    def on_subscription(self, conn: SimConnection, msg: dict[str, Any], time_in: str) -> None:
        params = msg.get("params") or {}
        channel = params.get("channel")
        if channel not in ("book", "trade"):
            self.send(conn, self.reply(msg, time_in, error="Channel not found"))
            return
        for native in params.get("symbol") or []:
            symbol = self.symbol_of(native)
            if symbol is None:
                self.send(conn, self.reply(msg, time_in, error=f"Currency pair not supported {native}", symbol=native))
            elif msg["method"] == "subscribe":
                self.subscribe(conn, msg, symbol, time_in)
            else:
                self.unsubscribe(conn, msg, symbol, time_in)

    def subscribe(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        params = msg["params"]
        channel = params["channel"]
        native = self.native(symbol)
        if channel in conn.subs.get(symbol, {}):
            self.send(conn, self.reply(msg, time_in, error="Already subscribed", symbol=native))
            return
        if channel == "book":
            depth = params.get("depth", 10)
            if depth not in DEPTHS:
                self.send(conn, self.reply(msg, time_in, error=f"Invalid depth {depth}", symbol=native))
                return
            snapshot = params.get("snapshot", True)
            result: dict[str, Any] = {"channel": "book", "depth": depth, "snapshot": snapshot, "symbol": native}
        else:
            depth = 0
            snapshot = params.get("snapshot", False)
            result = {"channel": "trade", "snapshot": snapshot, "symbol": native}
        conn.subs.setdefault(symbol, {})[channel] = depth
        self.send(conn, self.reply(msg, time_in, result=result))
        if snapshot:
            self.send(conn, self.book_snapshot(symbol, depth) if channel == "book" else self.trade_snapshot(symbol))

    def unsubscribe(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        params = msg["params"]
        channel = params["channel"]
        native = self.native(symbol)
        subs = conn.subs.get(symbol, {})
        if channel not in subs or (channel == "book" and params.get("depth", 10) != subs[channel]):
            self.send(conn, self.reply(msg, time_in, error="Subscription Not Found", symbol=native))
            return
        result: dict[str, Any] = {"channel": channel, "symbol": native}
        if channel == "book":
            result["depth"] = subs[channel]
        del subs[channel]
        if not subs:
            del conn.subs[symbol]
        self.send(conn, self.reply(msg, time_in, result=result))

    def reply(
        self,
        msg: dict[str, Any],
        time_in: str,
        *,
        method: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        symbol: str | None = None,
    ) -> str:
        out: dict[str, Any] = {"method": method or msg.get("method")}
        if result is not None:
            out["result"] = result
        if error is not None:
            out["error"] = error
            if symbol is not None:
                out["symbol"] = symbol
        out["success"] = error is None
        out["time_in"] = time_in
        out["time_out"] = rfc3339_now()
        if "req_id" in msg:
            out["req_id"] = msg["req_id"]
        return orjson.dumps(out).decode()

    def send(self, conn: SimConnection, frame: str) -> None:
        conn.state["last_tx"] = time.time()
        conn.send(frame)

    # ---- WebSocket: book ----------------------------------------------------------------------

    def book_snapshot(self, symbol: str, depth: int) -> str:
        ladder = self.ladders[symbol]
        bids, asks = self.tops[symbol]
        cs = self.checksum_of(ladder, bids, asks)
        return self.book_frame("snapshot", symbol, bids[:depth], asks[:depth], cs, rfc3339_now())

    def book_frame(self, kind: str, symbol: str, bids: list[Level], asks: list[Level], cs: int, stamp: str) -> str:
        ladder = self.ladders[symbol]
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{self.native(symbol)}",'
            f'"bids":[{levels_json(ladder, bids)}],"asks":[{levels_json(ladder, asks)}],'
            f'"checksum":{cs},"timestamp":"{stamp}"}}]}}'
        )

    def checksum_of(self, ladder: Ladder, bids: list[Level], asks: list[Level]) -> int:
        return checksum(level_strings(ladder, asks[:CHECKSUM_LEVELS]), level_strings(ladder, bids[:CHECKSUM_LEVELS]))

    def encode(self, symbol: str, changes: list[Change]) -> BookTick:
        before = self.tops[symbol]
        after = self.top_of(symbol)
        self.tops[symbol] = after
        ladder = self.ladders[symbol]
        cs = self.checksum_of(ladder, *after)
        top_moved = any(b[:CHECKSUM_LEVELS] != a[:CHECKSUM_LEVELS] for b, a in zip(before, after))
        # only a checksum that goes out can be wrong: every window shows a change in the top 10
        if top_moved and self.faults.take("corrupt", symbol):
            cs ^= 0x5A5A
        return BookTick(before, after, cs, rfc3339_now())

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if "trade" in conn.subs[symbol] else []

    def frames_for(self, conn: SimConnection, symbol: str, encoded: BookTick) -> list[Frame]:
        depth = conn.subs[symbol].get("book")
        if depth is None:
            return []
        frames = encoded.frames.get(depth)
        if frames is None:
            frames = encoded.frames[depth] = self.update_frames(symbol, encoded, depth)
        if frames:
            conn.state["last_tx"] = time.time()
        return frames

    def update_frames(self, symbol: str, tick: BookTick, depth: int) -> list[Frame]:
        ladder = self.ladders[symbol]
        bids = window_changes(tick.before[0], tick.after[0], ladder.bids, depth)
        asks = window_changes(tick.before[1], tick.after[1], ladder.asks, depth)
        if not bids and not asks:
            return []
        return [self.book_frame("update", symbol, bids, asks, tick.checksum, tick.timestamp)]

    # ---- WebSocket: trades and heartbeats -------------------------------------------------------

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        entry = (
            f'{{"symbol":"{self.native(symbol)}","side":"{"buy" if buy else "sell"}",'
            f'"price":{ladder.price_str(ticks)},"qty":{ladder.size_str(lots, QTY_PLACES)},'
            f'"ord_type":"market","trade_id":{trade_id},"timestamp":"{rfc3339_now()}"}}'
        )
        self.recent[symbol].append(entry)
        return f'{{"channel":"trade","type":"update","data":[{entry}]}}'

    def trade_snapshot(self, symbol: str) -> str:
        return f'{{"channel":"trade","type":"snapshot","data":[{",".join(self.recent[symbol])}]}}'

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await super().start(host, port)
        self._heartbeats = asyncio.create_task(self._heartbeat_loop())

    async def stop(self) -> None:
        if self._heartbeats is not None:
            self._heartbeats.cancel()
        await super().stop()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_after / 10)
            quiet_since = time.time() - self.heartbeat_after
            for conn in list(self.connections):
                if conn.subs and conn.state.get("last_tx", 0.0) <= quiet_since:
                    self.send(conn, '{"channel":"heartbeat"}')


def level_strings(ladder: Ladder, levels: list[Level]) -> list[tuple[str, str]]:
    return [(ladder.price_str(p), ladder.size_str(q, QTY_PLACES)) for p, q in levels]


def levels_json(ladder: Ladder, levels: list[Level]) -> str:
    return ",".join([f'{{"price":{p},"qty":{q}}}' for p, q in level_strings(ladder, levels)])


def window_changes(before: list[Level], after: list[Level], book: dict[int, int], depth: int) -> list[Level]:
    """What Kraken sends a ``depth`` subscriber for one side: levels that changed or entered the
    window, and qty 0 for window levels gone from the book. A level pushed out of the window while
    still in the book gets nothing; the client's truncation drops it."""
    was = dict(before[:depth])
    now = after[:depth]
    shown = {px for px, _ in now}
    deleted = [(px, 0) for px in was if px not in shown and px not in book]
    return deleted + [(px, lots) for px, lots in now if was.get(px) != lots]


SIMS: dict[str, type[SimVenue]] = {"kraken": KrakenSpotSim}
