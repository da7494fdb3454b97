"""Simulated KuCoin spot market data: POST /api/v1/bullet-public (token, endpoint, pingInterval),
the WebSocket endpoint that only accepts issued tokens, sends ``welcome``, acks subscriptions,
answers ``ping`` with ``pong`` and drops a connection that stays silent past pingInterval +
pingTimeout; ``/market/level2`` increments numbered per change (with the price-"0" entries that
only consume a number), ``/market/match`` trades, the public /api/v1/market/orderbook/level2_20
and level2_100 snapshots and /api/v2/symbols."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..server import Change, Frame, SimConnection, SimVenue, json_response

OK = "200000"
CHANNELS = {"/market/level2": "level2", "/market/match": "match"}


def text(payload: Any) -> str:
    """KuCoin pushes JSON in text frames (bytes would go out as binary frames)."""
    return orjson.dumps(payload).decode()


def trim(number: str) -> str:
    """KuCoin's number strings carry no trailing zeros: "60000.10" -> "60000.1", "5.000" -> "5"."""
    return number.rstrip("0").rstrip(".") if "." in number else number


class KucoinSpotSim(SimVenue):
    venue = "kucoin"
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    bullet_ping_interval_ms: ClassVar[int] = 18_000
    bullet_ping_timeout_ms: ClassVar[int] = 10_000
    max_topics: ClassVar[int] = 400  # per connection
    max_batch: ClassVar[int] = 100  # topics in one subscribe message
    empty_change_rate: ClassVar[float] = 0.2  # share of messages with a price-"0" entry

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sequence: dict[str, int] = {s: 1_600_000_000_000 + 1_000_003 * i for i, s in enumerate(self.markets)}
        self.tokens: set[str] = set()
        self.rng = random.Random(f"kucoin-sim:{self.market.seed}")
        self._watchdogs: set[asyncio.Task[None]] = set()

    def native(self, symbol: str) -> str:
        return symbol  # KuCoin spot ids are BASE-QUOTE already

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/bullet-public", self.bullet_public),
            web.get("/api/v2/symbols", self.symbols),
            web.get("/api/v1/market/orderbook/level2_20", self.part_order_book),
            web.get("/api/v1/market/orderbook/level2_100", self.part_order_book),
        ]

    async def bullet_public(self, request: web.Request) -> web.Response:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        server = {
            "endpoint": f"{self.ws_url}/",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": self.bullet_ping_interval_ms,
            "pingTimeout": self.bullet_ping_timeout_ms,
        }
        return json_response({"code": OK, "data": {"token": token, "instanceServers": [server]}})

    async def symbols(self, request: web.Request) -> web.Response:
        return json_response({"code": OK, "data": [self.symbol_info(s) for s in self.markets]})

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        base, quote = symbol.split("-")
        return {
            "symbol": symbol,
            "name": symbol,
            "baseCurrency": base,
            "quoteCurrency": quote,
            "feeCurrency": quote,
            "market": "USDS" if quote in ("USDT", "USDC") else quote,
            "baseMinSize": trim(ladder.size_str(1)),
            "quoteMinSize": "0.1",
            "baseMaxSize": "10000000000",
            "quoteMaxSize": "99999999",
            "baseIncrement": trim(ladder.size_str(1)),
            "quoteIncrement": "0.000001",
            "priceIncrement": trim(ladder.price_str(1)),
            "priceLimitRate": "0.1",
            "minFunds": "0.1",
            "isMarginEnabled": True,
            "enableTrading": True,
            "feeCategory": 1,
            "makerFeeCoefficient": "1.00",
            "takerFeeCoefficient": "1.00",
            "st": False,
        }

    async def part_order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        depth = int(request.path.rsplit("_", 1)[1])
        ladder = self.ladders[symbol]
        return json_response(
            {
                "code": OK,
                "data": {
                    "time": int(time.time() * 1000),
                    "sequence": str(self.sequence[symbol]),
                    "bids": [self._level(symbol, p, q) for p, q in ladder.top(True, depth)],
                    "asks": [self._level(symbol, p, q) for p, q in ladder.top(False, depth)],
                },
            }
        )

    def _level(self, symbol: str, ticks: int, lots: int) -> list[str]:
        ladder = self.ladders[symbol]
        return [trim(ladder.price_str(ticks)), trim(ladder.size_str(lots))]

    # ---- WebSocket --------------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if request.query.get("token") not in self.tokens:
            return json_response({"code": "401", "msg": "token is invalid"}, status=401)
        return await super()._ws_handler(request)

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["heard"] = time.monotonic()
        conn.send(text({"id": uuid.uuid4().hex[:10], "type": "welcome"}))
        task = asyncio.create_task(self._ping_watchdog(conn))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def _ping_watchdog(self, conn: SimConnection) -> None:
        """KuCoin closes a connection that has sent nothing for pingInterval + pingTimeout."""
        allowed = (self.bullet_ping_interval_ms + self.bullet_ping_timeout_ms) / 1000.0
        while not conn.ws.closed:
            quiet = time.monotonic() - conn.state["heard"]
            if quiet > allowed:
                await conn.close()
                return
            await asyncio.sleep(allowed - quiet + 0.01)

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state["heard"] = time.monotonic()
        msg = orjson.loads(data)
        kind = msg.get("type")
        if kind == "ping":
            self.client_pings += 1
            conn.send(text({"id": msg.get("id"), "type": "pong", "timestamp": time.time_ns() // 1000}))
        elif kind in ("subscribe", "unsubscribe"):
            self._on_subscription(conn, msg)
        else:
            conn.send(self._error(msg, 400, f"unknown message type {kind!r}"))

    def _on_subscription(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        prefix, _, names = str(msg.get("topic", "")).partition(":")
        channel = CHANNELS.get(prefix)
        symbols = [self.symbol_of(n) for n in names.split(",")]
        if channel is None or None in symbols:
            conn.send(self._error(msg, 404, f"topic {msg.get('topic')} is not found"))
            return
        if len(symbols) > self.max_batch:
            conn.send(self._error(msg, 400, f"exceed max batch subscription count limitation of {self.max_batch}"))
            return
        topics: set[tuple[str, str]] = conn.state.setdefault("topics", set())
        wanted = {(channel, s) for s in symbols if s is not None}
        if msg["type"] == "subscribe" and len(topics | wanted) > self.max_topics:
            conn.send(self._error(msg, 509, f"exceed max subscription count limitation of {self.max_topics} per session"))
            return
        if msg["type"] == "subscribe":
            topics |= wanted
        else:
            topics -= wanted
        conn.subs = {s: True for _, s in topics}
        if msg.get("response"):
            conn.send(text({"id": str(msg.get("id")), "type": "ack"}))

    def _error(self, msg: dict[str, Any], code: int, reason: str) -> str:
        return text({"id": str(msg.get("id")), "type": "error", "code": code, "data": reason})

    def encode(self, symbol: str, changes: list[Change]) -> str:
        ladder = self.ladders[symbol]
        seq = self.sequence[symbol] + (1 if self.faults.take("skip", symbol) else 0)
        start = seq + 1
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        empty_at = self.rng.randrange(len(changes)) if self.rng.random() < self.empty_change_rate else -1
        for i, (is_bid, ticks, lots) in enumerate(changes):
            if i == empty_at:
                seq += 1
                asks.append(["0", "0", str(seq)])
            seq += 1
            (bids if is_bid else asks).append([trim(ladder.price_str(ticks)), trim(ladder.size_str(lots)), str(seq)])
        self.sequence[symbol] = seq
        data = {
            "changes": {"asks": asks, "bids": bids},
            "sequenceEnd": seq,
            "sequenceStart": start,
            "symbol": symbol,
            "time": int(time.time() * 1000),
        }
        return text({"topic": f"/market/level2:{symbol}", "type": "message", "subject": "trade.l2update", "data": data})

    def frames_for(self, conn: SimConnection, symbol: str, encoded: Any) -> list[Frame]:
        return [encoded] if ("level2", symbol) in conn.state.get("topics", ()) else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        data = {
            "makerOrderId": uuid.uuid4().hex[:24],
            "price": self._level(symbol, ticks, lots)[0],
            "sequence": str(self.sequence[symbol]),
            "side": "buy" if buy else "sell",
            "size": self._level(symbol, ticks, lots)[1],
            "symbol": symbol,
            "takerOrderId": uuid.uuid4().hex[:24],
            "time": str(time.time_ns()),
            "tradeId": f"{trade_id:024x}",
            "type": "match",
        }
        return text({"topic": f"/market/match:{symbol}", "type": "message", "subject": "trade.l3match", "data": data})

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()


SIMS: dict[str, type[SimVenue]] = {"kucoin": KucoinSpotSim}
