"""Simulated Binance spot: market data over REST and the public streams."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ...market import SimTrade
from ...ratelimit import Over, retry_after
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from .errors import ORDER_RATE_LIMITED, REFUSALS, render
from .streams import MarketStreams, StreamFrames
from .wire import BINANCE_INTERVALS, OrderList, Transfer, binance_agg_trade, binance_kline, binance_ticker


class BinancePublic(MarketStreams, SimVenue):
    """Binance spot's public side: exchangeInfo and depth over REST, the public streams."""
    venue = "binance"
    ccxt_id: ClassVar[str | None] = "binance"
    ccxt_hosts = ("https://api.binance.com",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/stream", "/ws")
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws-api/v3",)
    ccxt_ws_hosts: ClassVar[tuple[str, ...]] = ("wss://ws-api.binance.com:443",)
    server_ping_interval = 20.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    api: ClassVar[str] = "/api/v3"
    snapshot_paths = ("/api/v3/depth",)
    instruments_paths = ("/api/v3/exchangeInfo",)
    unavailable = ErrorShape(-1008, "Server is currently overloaded with other requests. Please try again in a few minutes.", 503)
    depth_stream: ClassVar[str] = "depth@100ms"
    places: ClassVar[int | None] = 8  # Binance spot pads prices and sizes to 8 decimals
    api_key_header = "X-MBX-APIKEY"
    ban_seconds = 120.0  # 418 bans run from 2 minutes to 3 days

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        """429: -1015 for an ORDERS pool (no Retry-After), else -1003 with Retry-After."""
        if over.pool == "ORDERS":
            return ORDER_RATE_LIMITED.refuse()
        return REFUSALS[Reason.RATE_LIMITED].refuse(headers=retry_after(over.wait))

    def ban_refusal(self, until: float) -> Refusal:
        banned = REFUSALS[Reason.BANNED]
        return banned.refuse(banned.message.format(until=int(until * 1000)), retry_after(until - time.time()))

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 1_000_000 + 17 * i for i, s in enumerate(self.markets)}
        self.order_lists: dict[int, OrderList] = {}
        self.list_of: dict[str, int] = {}  # order id -> its order list's id
        self.list_ids = itertools.count(1)
        self.transfers: list[Transfer] = []
        self.tran_ids = itertools.count(100_000_001)
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    @staticmethod
    def num(value: Decimal) -> str:
        return f"{value:.8f}"

    async def exchange_info(self, request: web.Request) -> web.Response:
        return json_response(
            {"timezone": "UTC", "serverTime": int(time.time() * 1000), "symbols": [self.symbol_info(s) for s in self.markets]}
        )

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        spec = self.ladders[symbol].spec
        return {
            "symbol": self.native(symbol),
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": f"{spec.tick:.8f}",
                    "maxPrice": "1000000.00000000",
                    "tickSize": f"{spec.tick:.8f}",
                },
                {"filterType": "LOT_SIZE", "minQty": f"{spec.lot:.8f}", "maxQty": "9000.00000000", "stepSize": f"{spec.lot:.8f}"},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
            ],
        }

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = int(request.query.get("limit", "100"))
        ladder = self.ladders[symbol]
        return json_response(
            {
                "lastUpdateId": self.update_id[symbol],
                "bids": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(True, limit)],
                "asks": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(False, limit)],
            }
        )

    def market_data_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{self.api}/ticker/24hr", self.ticker_24hr),
            web.get(f"{self.api}/aggTrades", self.agg_trades),
            web.get(f"{self.api}/klines", self.klines),
        ]

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        """``GET /api/v3/ticker/24hr?symbol=``: the rolling day; spot also quotes the touch (USD-M does not)."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        ticker = binance_ticker(self.tape, symbol, self.native(symbol))
        if self.api == "/api/v3":
            ladder = self.ladders[symbol]
            (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
            ticker.update({"bidPrice": ladder.price_str(bid), "bidQty": ladder.size_str(bid_lots),
                           "askPrice": ladder.price_str(ask), "askQty": ladder.size_str(ask_lots)})
        return json_response(ticker)

    async def agg_trades(self, request: web.Request) -> web.Response:
        """``GET /api/v3/aggTrades``: the newest ``limit`` (default 500, at most 1000) trades, oldest first."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = min(int(request.query.get("limit", "500")), 1000)
        since = request.query.get("startTime")
        prints = self.tape.recent(symbol, limit, int(since) if since else None)
        return json_response([binance_agg_trade(p) for p in prints])

    async def klines(self, request: web.Request) -> web.Response:
        """``GET /api/v3/klines``: candles of ``interval`` (1s spot only ... 1M), oldest first."""
        query = request.query
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        seconds = BINANCE_INTERVALS.get(query.get("interval", ""))
        if seconds is None:
            return json_response({"code": -1120, "msg": "Invalid interval."}, status=400)
        start, end = query.get("startTime"), query.get("endTime")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "500")), 1000),
                                    int(start) if start else None, int(end) if end else None)
        return json_response([binance_kline(c, seconds) for c in candles])

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        method = msg.get("method")
        if method == "SUBSCRIBE" and self._too_many_streams(conn, msg.get("params", [])):
            per_connection = self.subscribe_limits.topics_per_connection if self.subscribe_limits else None
            error = {"code": 2, "msg": f"Invalid request: a connection holds at most {per_connection} streams"}
            conn.send(orjson.dumps({"error": error, "id": msg.get("id")}).decode())
            self.subscribe_refused += 1
            return
        streams: set[str] = conn.state.setdefault("streams", set())
        for stream in msg.get("params", []):
            symbol = self.symbol_of(stream.split("@", 1)[0].upper())
            if symbol is None:
                error = {"code": 2, "msg": f"Invalid request: unknown stream {stream}"}
                conn.send(orjson.dumps({"error": error, "id": msg.get("id")}).decode())
                return
            if method == "SUBSCRIBE":
                conn.subs[symbol] = True
                streams.add(stream)
            elif method == "UNSUBSCRIBE":
                conn.subs.pop(symbol, None)
                streams.discard(stream)
        conn.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())

    def _too_many_streams(self, conn: SimConnection, params: list[str]) -> bool:
        """Whether subscribing ``params`` would take ``conn`` past the streams one connection may
        hold (the feed's SPEC: 1024 on spot, 200 on futures)."""
        limits = self.subscribe_limits
        if limits is None or limits.topics_per_connection is None:
            return False
        held: set[str] = conn.state.get("streams", set())
        return len(held | set(params)) > limits.topics_per_connection

    def encode(self, symbol: str, changes: list[Change]) -> str:
        prev = self.update_id[symbol]
        first = prev + 1 + (1 if self.faults.take("skip", symbol) else 0)
        last = first + len(changes) - 1
        self.update_id[symbol] = last
        ladder = self.ladders[symbol]
        bids = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if b]
        asks = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if not b]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event: dict[str, Any] = {"e": "depthUpdate", "E": now, "s": native, "U": first, "u": last}
        self.add_futures_fields(event, first - 1, now)
        event["b"] = bids
        event["a"] = asks
        return orjson.dumps({"stream": f"{native.lower()}@{self.depth_stream}", "data": event}).decode()

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        """Spot events carry nothing more."""

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades, and the frames of the candle, ticker and mark streams some socket holds."""
        held = {s for conn in self.connections for s in conn.state.get("streams", ())}
        return super().encode_trades(symbol, trades), self.market_frames(symbol, held)

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        trades, streams = encoded
        if not streams:
            return list(trades)
        prefix = f"{self.native(symbol).lower()}@"
        subscribed = conn.state.get("streams", set())
        return [*trades, *(f for name, frames in streams.items() if prefix + name in subscribed for f in frames)]

    def touch(self, symbol: str) -> tuple[str, str, str, str] | None:
        ladder = self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        if not bid or not ask:
            return None
        return (ladder.price_str(bid[0][0], self.places), ladder.size_str(bid[0][1], self.places),
                ladder.price_str(ask[0][0], self.places), ladder.size_str(ask[0][1], self.places))

    def update_ids(self, symbol: str) -> int:
        return self.update_id[symbol]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event = {
            "e": "aggTrade",
            "E": now,
            "s": native,
            "a": trade_id,
            "p": ladder.price_str(ticks, self.places),
            "q": ladder.size_str(lots, self.places),
            "f": trade_id * 3,
            "l": trade_id * 3,
            "T": now,
            "m": not buy,
        }
        return orjson.dumps({"stream": f"{native.lower()}@aggTrade", "data": event}).decode()

