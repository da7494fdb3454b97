"""Simulated MEXC spot v3 market data: JSON ``SUBSCRIPTION`` / ``UNSUBSCRIPTION`` / ``PING`` on /ws,
binary protobuf ``PushDataV3ApiWrapper`` pushes (aggregated depth with ``fromVersion`` /
``toVersion``, aggregated deals), REST ``/api/v3/depth`` with ``lastUpdateId`` and
``/api/v3/exchangeInfo``.

The protobuf field numbers are written out here from the published schema
(github.com/mexcdevelop/websocket-proto), apart from the client's, so the contract suite checks one
side against the other."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ...venues.protowire import len_field, string_field, varint_field
from ..server import Change, Frame, SimConnection, SimVenue, json_response

DEPTH = "public.aggre.depth.v3.api.pb"
DEALS = "public.aggre.deals.v3.api.pb"
INTERVALS = ("100ms", "10ms")
DEPTH_LIMIT_MAX = 5000


@dataclass(frozen=True, slots=True)
class EncodedDepth:
    """One tick's depth change, encoded once; each connection gets it under its own channel."""

    levels: bytes  # PublicAggreDepthsV3Api asks (1) and bids (2)
    versions: bytes  # fromVersion (4) and toVersion (5)
    send_time_ms: int


def wrapper(channel: str, native: str, send_time_ms: int, body_field: int, body: bytes) -> bytes:
    """PushDataV3ApiWrapper: channel 1, symbol 3, sendTime 6, then the oneof body."""
    return (
        string_field(1, channel)
        + string_field(3, native)
        + varint_field(6, send_time_ms)
        + len_field(body_field, body)
    )


def level(price: str, quantity: str) -> bytes:
    """PublicAggreDepthV3ApiItem: price 1, quantity 2."""
    return string_field(1, price) + string_field(2, quantity)


def ack(msg: str) -> str:
    """JSON replies travel as text frames; only the data pushes are binary."""
    return orjson.dumps({"id": 0, "code": 0, "msg": msg}).decode()


def refused(params: list[str]) -> str:
    # the venue acks a refused subscription with code 0 and this text (its colon is fullwidth)
    return ack(f"Not Subscribed successfully! [{','.join(params)}].  Reason： Blocked! ")


class MexcSpotSim(SimVenue):
    venue = "mexc"
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC")
    ws_paths = ("/ws",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version: dict[str, int] = {s: 43_296_363_236 + 1009 * i for i, s in enumerate(self.markets)}

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/depth", self.depth),
        ]

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
            "quoteAmountPrecision": "1",
            "baseSizePrecision": ladder.size_str(1),
            "permissions": ["SPOT"],
            "filters": [],
            "maxQuoteAmount": "2000000",
            "makerCommission": "0",
            "takerCommission": "0.0005",
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

    # ---- WebSocket --------------------------------------------------------------------------

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
        """Ack the known streams (their names joined by commas), refuse the rest."""
        known = [(p, parsed) for p in params if (parsed := self.parse_stream(p)) is not None]
        for channel, (symbol, kind) in known:
            self.set_subscription(conn, symbol, kind, channel if subscribe else None)
        if known:
            conn.send(ack(",".join(p for p, _ in known)))
        unknown = [p for p in params if self.parse_stream(p) is None]
        if unknown:
            conn.send(refused(unknown))

    def parse_stream(self, channel: str) -> tuple[str, str] | None:
        """``spot@<kind>@<interval>@<SYMBOL>`` -> (standard symbol, kind), or None if unknown."""
        parts = channel.split("@")
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

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if DEALS in conn.subs[symbol] else []

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


SIMS: dict[str, type[SimVenue]] = {
    "mexc": MexcSpotSim,
}
