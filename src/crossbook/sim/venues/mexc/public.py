"""Simulated MEXC: market data over REST and the public WebSocket."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ....venues.protowire import len_field, string_field, varint_field
from ....venues.registry import base_fees
from ...access import ApiKey
from ...market import SimTrade
from ...ratelimit import Over, retry_after
from ...refusal import Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from ...tape import Candle, Print
from .errors import REFUSALS, render
from .streams import MexcStreams, StreamFrames
from .wire import (
    DEALS,
    DEPTH,
    DEPTH_LIMIT_MAX,
    INTERVALS,
    MIN_ORDER_QUOTE,
    NETWORKS,
    PRIVATE_CHANNELS,
    EncodedDepth,
    ListenKey,
    ack,
    level,
    refused,
    wrapper,
)


class MexcPublic(MexcStreams, SimVenue):
    """MEXC v3's public side: exchangeInfo and depth over REST, the protobuf public streams (klines
    and the mini ticker: ``streams.py``)."""
    venue = "mexc"
    snapshot_paths = ("/api/v3/depth",)
    instruments_paths = ("/api/v3/exchangeInfo",)
    ccxt_id: ClassVar[str | None] = "mexc"
    ccxt_hosts = ("https://api.mexc.com",)
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/ws",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    api_key_header = "X-MEXC-APIKEY"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        return REFUSALS[Reason.RATE_LIMITED].refuse(headers=retry_after(over.wait))

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version: dict[str, int] = {s: 43_296_363_236 + 1009 * i for i, s in enumerate(self.markets)}
        self.quote_sized: dict[str, Decimal] = {}  # order id -> the quoteOrderQty a market order spent
        self.listen_keys: dict[str, ListenKey] = {}
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    async def contract_detail(self, request: web.Request) -> web.Response:
        return json_response({"success": True, "code": 0, "data": []})  # futures are not simulated

    async def coins(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        assets = sorted({a for s in self.markets for a in parse_standard(s)[:2]})
        return json_response([self.coin_json(a) for a in assets])

    @staticmethod
    def coin_json(asset: str) -> dict[str, Any]:
        network, name = NETWORKS.get(asset, (asset, asset))
        return {
            "coin": asset,
            "name": name,
            "networkList": [
                {"coin": asset, "name": name, "network": network, "netWork": network, "depositEnable": False,
                 "withdrawEnable": False, "depositDesc": None, "withdrawFee": None, "withdrawMin": None,
                 "withdrawMax": None, "minConfirm": 0, "sameAddress": False, "contract": None}
            ],
        }

    async def exchange_info(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "timezone": "CST",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [self.symbol_info(s) for s in self.markets],
            }
        )

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "status": "1",
            "baseAsset": base,
            "baseAssetPrecision": ladder.size_decimals,
            "quoteAsset": quote,
            "quotePrecision": ladder.price_decimals,
            "quoteAssetPrecision": ladder.price_decimals,
            "baseCommissionPrecision": ladder.size_decimals,
            "quoteCommissionPrecision": ladder.price_decimals,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "quoteAmountPrecision": str(MIN_ORDER_QUOTE),
            "baseSizePrecision": ladder.size_str(1),
            "permissions": ["SPOT"],
            "filters": [],
            "maxQuoteAmount": "2000000",
            "makerCommission": f"{base_fees('mexc').maker:g}",
            "takerCommission": f"{base_fees('mexc').taker:g}",
            "quoteAmountPrecisionMarket": "1",
            "maxQuoteAmountMarket": "100000",
            "tradeSideType": "1",
            "st": False,
        }

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = min(DEPTH_LIMIT_MAX, int(request.query.get("limit", "100")))
        ladder = self.ladders[symbol]
        return json_response(
            {
                "lastUpdateId": self.version[symbol],
                "bids": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(True, limit)],
                "asks": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(False, limit)],
            }
        )

    def market_data_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v3/ticker/24hr", self.ticker_24hr), web.get("/api/v3/aggTrades", self.agg_trades),
                web.get("/api/v3/klines", self.klines)]

    def queried_symbol(self, request: web.Request) -> str | None:
        return self.symbol_of(request.query.get("symbol", ""))

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        """``GET /api/v3/ticker/24hr?symbol=``: Binance's layout with the touch, ``count`` null."""
        symbol = self.queried_symbol(request)
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        return json_response({
            "symbol": self.native(symbol), "priceChange": str(day.change), "priceChangePercent": f"{day.change_ratio:.4f}",
            "prevClosePrice": day.open, "lastPrice": day.last,
            "bidPrice": ladder.price_str(bid), "bidQty": ladder.size_str(bid_lots),
            "askPrice": ladder.price_str(ask), "askQty": ladder.size_str(ask_lots),
            "openPrice": day.open, "highPrice": day.high, "lowPrice": day.low, "volume": day.volume,
            "quoteVolume": day.quote_volume, "openTime": day.open_ms, "closeTime": day.close_ms, "count": None,
        })

    async def agg_trades(self, request: web.Request) -> web.Response:
        """``GET /api/v3/aggTrades``: newest ``limit`` (default 500, at most 1000), oldest first;
        MEXC leaves the aggregate and trade ids null."""
        symbol = self.queried_symbol(request)
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        since = request.query.get("startTime")
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", "500")), 1000), int(since) if since else None)
        return json_response([mexc_agg_trade(p) for p in prints])

    async def klines(self, request: web.Request) -> web.Response:
        """``GET /api/v3/klines``: eight columns (no trade count); intervals 1m ... 60m, 4h, 1d, 1W, 1M."""
        query = request.query
        symbol = self.queried_symbol(request)
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        seconds = MEXC_INTERVALS.get(query.get("interval", ""))
        if seconds is None:
            return json_response({"code": -1121, "msg": "Invalid interval."}, status=400)
        start, end = query.get("startTime"), query.get("endTime")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "500")), 1000),
                                    int(start) if start else None, int(end) if end else None)
        return json_response([mexc_kline(c, seconds) for c in candles])

    def on_connect(self, conn: SimConnection) -> None:
        """A socket opened as ``/ws?listenKey=...`` is the key's account's user data stream; an
        unknown or expired key gets MEXC's bare text answer and the socket closes."""
        listen_key = conn.query.get("listenKey")
        if listen_key is None:
            return
        entry = self.listen_keys.get(listen_key)
        if entry is None or entry.expires <= time.time() or entry.api_key not in self.api_keys:
            self.spawn(self.refuse_listen_key(conn))
            return
        conn.account = entry.account
        conn.state["private"] = set()

    async def refuse_listen_key(self, conn: SimConnection) -> None:
        await conn.ws.send_str("Invalid listen key")
        await conn.close()

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(msg, dict):
            return
        method = str(msg.get("method", "")).upper()
        if method == "PING":
            self.client_pings += 1
            conn.send(ack("PONG"))
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
            self.on_subscription(conn, method == "SUBSCRIPTION", [str(p) for p in msg.get("params", [])])

    def on_subscription(self, conn: SimConnection, subscribe: bool, params: list[str]) -> None:
        """Ack the known streams (their names joined by commas), refuse the rest. Private channels
        are known only on a listenKey's socket."""
        private: set[str] | None = conn.state.get("private")
        mine = [p for p in params if private is not None and p in PRIVATE_CHANNELS]
        if private is not None and subscribe:
            private.update(mine)
        elif private is not None:
            private.difference_update(mine)
        known = [(p, parsed) for p in params if (parsed := self.parse_stream(p)) is not None]
        if subscribe and self._past_stream_limit(conn, [parsed for _, parsed in known]):
            self.subscribe_refused += 1
            conn.send(refused([p for p, _ in known]))
            known = []
        for channel, (symbol, kind) in known:
            self.set_subscription(conn, symbol, kind, channel if subscribe else None)
        if known or mine:
            conn.send(ack(",".join([*mine, *(p for p, _ in known)])))
        unknown = [p for p in params if self.parse_stream(p) is None and p not in mine]
        if unknown:
            conn.send(refused(unknown))

    def _past_stream_limit(self, conn: SimConnection, wanted: list[tuple[str, str]]) -> bool:
        """Whether the (symbol, kind) streams ``wanted`` would take ``conn`` past the subscriptions one
        connection may hold (the SPEC's 30)."""
        limits = self.subscribe_limits
        if limits is None or limits.topics_per_connection is None:
            return False
        held = {(symbol, kind) for symbol, kinds in conn.subs.items() for kind in kinds}
        return len(held | set(wanted)) > limits.topics_per_connection

    def parse_stream(self, channel: str) -> tuple[str, str] | None:
        """``spot@<kind>@<interval>@<SYMBOL>`` -> (standard symbol, kind), or None if unknown."""
        parts = channel.split("@")
        market = self.parse_market_stream(parts)
        if market is not None:
            return market
        if len(parts) != 4 or parts[0] != "spot" or parts[1] not in (DEPTH, DEALS) or parts[2] not in INTERVALS:
            return None
        symbol = self.symbol_of(parts[3])
        return None if symbol is None else (symbol, parts[1])

    def set_subscription(self, conn: SimConnection, symbol: str, kind: str, channel: str | None) -> None:
        streams: dict[str, str] = conn.subs.setdefault(symbol, {})
        if channel is None:
            streams.pop(kind, None)
            if not streams:
                del conn.subs[symbol]
        else:
            streams[kind] = channel

    def encode(self, symbol: str, changes: list[Change]) -> EncodedDepth:
        first = self.version[symbol] + 1 + (1 if self.faults.take("skip", symbol) else 0)
        last = first + len(changes) - 1
        self.version[symbol] = last
        ladder = self.ladders[symbol]
        asks = b"".join(len_field(1, level(ladder.price_str(p), ladder.size_str(q))) for b, p, q in changes if not b)
        bids = b"".join(len_field(2, level(ladder.price_str(p), ladder.size_str(q))) for b, p, q in changes if b)
        versions = string_field(4, str(first)) + string_field(5, str(last))
        return EncodedDepth(asks + bids, versions, int(time.time() * 1000))

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's deals, and the frames of the kline and ticker streams some socket holds."""
        return super().encode_trades(symbol, trades), self.market_frames(symbol)

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        deals, streams = encoded
        held = conn.subs[symbol]
        return [*(deals if DEALS in held else []), *(f for kind, frames in streams.items() if kind in held for f in frames)]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: EncodedDepth) -> list[Frame]:
        channel = conn.subs[symbol].get(DEPTH)
        if channel is None:
            return []
        event_type = channel.rpartition("@")[0]  # the channel without its symbol
        body = encoded.levels + string_field(3, event_type) + encoded.versions
        return [wrapper(channel, self.native(symbol), encoded.send_time_ms, 313, body)]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        # PublicAggreDealsV3ApiItem: price 1, quantity 2, tradeType 3 (1 buy, 2 sell), time 4, tradeId 5
        item = (
            string_field(1, ladder.price_str(ticks))
            + string_field(2, ladder.size_str(lots))
            + varint_field(3, 1 if buy else 2)
            + varint_field(4, now)
            + string_field(5, str(trade_id))
        )
        event_type = f"spot@{DEALS}@100ms"
        body = len_field(1, item) + string_field(2, event_type)  # deals 1, eventType 2
        return wrapper(f"{event_type}@{native}", native, now, 314, body)


MEXC_INTERVALS: dict[str, int] = {
    "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "4h": 14_400, "1d": 86_400, "1W": 604_800, "1M": 2_592_000,
}


def mexc_agg_trade(p: Print) -> dict[str, Any]:
    return {"a": None, "f": None, "l": None, "p": p.price, "q": p.size, "T": p.ms, "m": not p.buy, "M": True}


def mexc_kline(c: Candle, seconds: int) -> list[Any]:
    return [c.start_ms, c.open, c.high, c.low, c.close, c.volume, c.start_ms + seconds * 1000, c.quote_volume]
