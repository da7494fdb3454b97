"""Simulated KuCoin: market data over REST and the public WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...ratelimit import Over
from ...refusal import Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from ...tape import Print
from ...withdrawals import networks_of
from .errors import REFUSALS, render
from .streams import CANDLE_TYPES, KucoinStreams, candle_row
from .wire import OK, chain_of, dec, text, trim


class KucoinPublic(KucoinStreams, SimVenue):
    """KuCoin's public side: symbols, currencies and books over REST, the public WebSocket."""
    venue = "kucoin"
    snapshot_paths = ("/api/v1/market/orderbook/level2_20", "/api/v1/market/orderbook/level2_100", "/api/v3/market/orderbook/level2")
    instruments_paths = ("/api/v2/symbols",)
    ccxt_id = "kucoin"
    ccxt_hosts = ("https://api.kucoin.com",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"], "fetchTickersFees": False}}
    key_needs_passphrase = True
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/",)
    private_ws_paths = ("/endpoint",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    bullet_ping_interval_ms: ClassVar[int] = 18_000
    bullet_ping_timeout_ms: ClassVar[int] = 10_000
    empty_change_rate: ClassVar[float] = 0.2  # share of messages with a price-"0" entry
    api_key_header = "KC-API-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        """429 with 429000 and gw-ratelimit-reset, the milliseconds until the pool resets."""
        reset = str(math.ceil(over.wait * 1000))
        return REFUSALS[Reason.RATE_LIMITED].refuse(headers={"gw-ratelimit-remaining": "0", "gw-ratelimit-reset": reset})

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sequence: dict[str, int] = {s: 1_600_000_000_000 + 1_000_003 * i for i, s in enumerate(self.markets)}
        self.tokens: set[str] = set()
        self.private_tokens: dict[str, str] = {}  # bullet-private token -> account
        self.rng = random.Random(f"kucoin-sim:{self.market.seed}")
        self._watchdogs: set[asyncio.Task[None]] = set()
        self.hf_account = True  # what /api/v1/hf/accounts/opened answers; False sends ccxt to the classic endpoints
        self.funds: dict[str, Decimal] = {}  # engine order id -> the quote amount a market order was given
        self.init_streams()

    def native(self, symbol: str) -> str:
        return symbol  # KuCoin spot ids are BASE-QUOTE already

    @property
    def account_type(self) -> str:
        return "trade_hf" if self.hf_account else "trade"

    async def bullet_public(self, request: web.Request) -> web.Response:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return json_response({"code": OK, "data": {"token": token, "instanceServers": [self.instance_server("/")]}})

    def instance_server(self, path: str) -> dict[str, Any]:
        return {
            "endpoint": f"{self.ws_url}{path}",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": self.bullet_ping_interval_ms,
            "pingTimeout": self.bullet_ping_timeout_ms,
        }

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

    async def currencies(self, request: web.Request) -> web.Response:
        codes = sorted({c for s in self.markets for c in s.split("-")})
        return json_response({"code": OK, "data": [self.currency_info(c) for c in codes]})

    @staticmethod
    def currency_info(code: str) -> dict[str, Any]:
        """A ``/api/v3/currencies`` row: a chain per network the simulator withdraws ``code`` on, with
        its ``withdrawalMinFee`` and ``withdrawalMinSize``. Deposits are not simulated."""
        chains = [{
            "chainName": name, "chainId": chain_id, "withdrawalMinSize": dec(n.minimum), "depositMinSize": None,
            "withdrawFeeRate": "0", "withdrawalMinFee": dec(n.fee), "isWithdrawEnabled": True, "isDepositEnabled": False,
            "confirms": 0, "preConfirms": 0, "withdrawPrecision": 8, "maxWithdraw": None, "maxDeposit": None,
            "needTag": False, "contractAddress": "",
        } for n in networks_of(code) for name, chain_id in [chain_of(n.name)]]
        return {"currency": code, "name": code, "fullName": code, "precision": 8, "confirms": None,
                "contractAddress": None, "isMarginEnabled": False, "isDebitEnabled": False, "chains": chains}

    async def part_order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        depth = int(request.path.rsplit("_", 1)[1])
        return json_response({"code": OK, "data": self.book_data(symbol, depth)})

    def market_data_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v1/market/stats", self.stats), web.get("/api/v1/market/histories", self.histories),
                web.get("/api/v1/market/candles", self.candles)]

    async def stats(self, request: web.Request) -> web.Response:
        """``GET /api/v1/market/stats?symbol=``: the touch (``buy``/``sell``), the rolling day and the fee rates."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        fees = {"takerFeeRate": trim(str(self.engine.taker_fee)), "makerFeeRate": trim(str(self.engine.maker_fee))}
        return json_response({"code": OK, "data": {
            "time": day.close_ms, "symbol": self.native(symbol),
            "buy": trim(ladder.price_str(ladder.top(True, 1)[0][0])), "sell": trim(ladder.price_str(ladder.top(False, 1)[0][0])),
            "changeRate": f"{day.change_ratio:.4f}", "changePrice": trim(str(day.change)), "high": trim(day.high),
            "low": trim(day.low), "vol": trim(day.volume), "volValue": day.quote_volume, "last": trim(day.last),
            "averagePrice": trim(f"{day.vwap:.{ladder.price_decimals}f}"), **fees, "takerCoefficient": "1", "makerCoefficient": "1",
        }})

    async def histories(self, request: web.Request) -> web.Response:
        """``GET /api/v1/market/histories?symbol=``: the last 100 trades, ``time`` in nanoseconds,
        ``side`` the taker's."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        return json_response({"code": OK, "data": [history_row(p) for p in self.tape.recent(symbol, 100)]})

    async def candles(self, request: web.Request) -> web.Response:
        """``GET /api/v1/market/candles?symbol=&type=&startAt=&endAt=``: seconds, at most 1500,
        newest first, as [time, open, close, high, low, volume, turnover]."""
        query = request.query
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        seconds = CANDLE_TYPES.get(query.get("type", ""))
        if seconds is None:
            return json_response({"code": "400100", "msg": "type invalid"}, status=400)
        start, end = query.get("startAt", "0"), query.get("endAt", "0")
        candles = self.tape.candles(symbol, seconds, 1500, int(start) * 1000 if int(start) else None,
                                    int(end) * 1000 if int(end) else None)
        return json_response({"code": OK, "data": [candle_row(c) for c in reversed(candles)]})

    def book_data(self, symbol: str, depth: int) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        return {
            "time": int(time.time() * 1000),
            "sequence": str(self.sequence[symbol]),
            "bids": [self._level(symbol, p, q) for p, q in ladder.top(True, depth)],
            "asks": [self._level(symbol, p, q) for p, q in ladder.top(False, depth)],
        }

    def _level(self, symbol: str, ticks: int, lots: int) -> list[str]:
        ladder = self.ladders[symbol]
        return [trim(ladder.price_str(ticks)), trim(ladder.size_str(lots))]

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """Public and private tokens open the public endpoint (as on KuCoin); the private endpoint
        only takes a bullet-private token, which names the account."""
        token = request.query.get("token", "")
        private_only = request.path in self.private_ws_paths
        if token not in self.private_tokens and (private_only or token not in self.tokens):
            return json_response({"code": "401", "msg": "token is invalid"}, status=401)
        return await super()._ws_handler(request)

    def on_connect(self, conn: SimConnection) -> None:
        if conn.path in self.private_ws_paths:
            conn.account = self.private_tokens[conn.query["token"]]
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
        entries = self.topic_entries(prefix, names.split(","))
        if entries is None:
            conn.send(self._error(msg, 404, f"topic {msg.get('topic')} is not found"))
            return
        max_batch, max_topics = self._topic_limits()
        if len(entries) > max_batch:
            self.subscribe_refused += 1
            conn.send(self._error(msg, 400, f"exceed max batch subscription count limitation of {max_batch}"))
            return
        topics: set[tuple[str, str]] = conn.state.setdefault("topics", set())
        wanted = set(entries)
        if msg["type"] == "subscribe" and len(topics | wanted) > max_topics:
            self.subscribe_refused += 1
            conn.send(self._error(msg, 509, f"exceed max subscription count limitation of {max_topics} per session"))
            return
        if msg["type"] == "subscribe":
            topics |= wanted
        else:
            topics -= wanted
        conn.subs = {s: True for _, s in topics}
        if msg.get("response"):
            conn.send(text({"id": str(msg.get("id")), "type": "ack"}))

    def _topic_limits(self) -> tuple[int, int]:
        """Topics in one subscribe and on one socket, as the SPEC's subscribe limits say."""
        limits = self.subscribe_limits
        assert limits is not None and limits.topics_per_message and limits.topics_per_connection, "kucoin SPEC: subscribe limits"
        return limits.topics_per_message, limits.topics_per_connection

    async def refuse_message_rate(self, conn: SimConnection, data: str | bytes) -> None:
        """Over 100 messages per 10 s: an error frame, the request ignored."""
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            msg = {}
        conn.send(self._error(msg if isinstance(msg, dict) else {}, 509, "exceed max permits per second"))

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


def history_row(p: Print) -> dict[str, Any]:
    return {"sequence": str(p.trade_id), "price": trim(p.price), "size": trim(p.size), "side": "buy" if p.buy else "sell",
            "time": p.ms * 1_000_000}
