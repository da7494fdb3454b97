"""Simulated Coinbase: market data over REST and the public WebSocket."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ....symbols import parse_standard
from ...access import READ_TRADE, ApiKey
from ...market import Ladder
from ...ratelimit import Over
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response
from ...tape import Candle, Print
from .errors import REFUSALS, render
from .streams import CoinbaseStreams
from .wire import HEARTBEAT_INTERVAL, RECENT_TRADES, Tick, parse_jwt, rfc3339


class CoinbasePublic(CoinbaseStreams, SimVenue):
    """Coinbase Advanced Trade's public side: products over REST, the market-data WebSocket's level2 and market_trades channels."""
    venue = "coinbase"
    snapshot_paths = ("/api/v3/brokerage/market/product_book",)
    instruments_paths = ("/api/v3/brokerage/market/products",)
    unavailable = ErrorShape("UNAVAILABLE", "Service Unavailable", 503)
    ccxt_id = "coinbase"
    ccxt_hosts = ("https://api.coinbase.com",)
    buy_fee_in_base = False  # Coinbase charges every fill's fee in the quote currency
    # balances from the Advanced Trade accounts (v3), not the Coinbase App's /v2/accounts
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchBalance": "v3PrivateGetBrokerageAccounts"}
    markets = ("BTC-USD", "BTC-USDT", "ETH-USD", "ETH-USDT", "SOL-USDT", "ETH-BTC", "USDT-USD")
    # ccxt.pro subscribes the user channel on the market-data host, which serves both (Coinbase's
    # advanced-trade-ws-user host serves only user and heartbeats), so the private stream shares
    # "/" with market data
    ws_paths = ("/",)
    private_ws_paths = ("/",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})

    def request_key(self, headers: Mapping[str, str]) -> str:
        """The CDP key named by the bearer JWT's ``sub``."""
        bearer = headers.get("Authorization", "")
        try:
            return str(parse_jwt(bearer.removeprefix("Bearer ")).claims.get("sub", "")) if bearer.startswith("Bearer ") else ""
        except (ValueError, orjson.JSONDecodeError):
            return ""

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        return REFUSALS[Reason.RATE_LIMITED].refuse()

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self.public_keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self.uuids: dict[str, str] = {}  # engine order id -> Coinbase order id
        self.order_ids: dict[str, str] = {}  # Coinbase order id -> engine order id
        self.quote_sizes: dict[str, Decimal] = {}  # engine order id -> quote_size of a market order
        self.opened = time.time()
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A CDP key: its name and a PEM EC P-256 private key, which Coinbase hands out once; the
        simulator verifies with the public half only."""
        self.engine.account(account)
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
        key = ApiKey(key=name, secret=pem.decode(), account=account, permissions=permissions)
        self.api_keys[name] = key
        self.public_keys[name] = private.public_key()
        return key

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

    def market_data_routes(self) -> list[web.RouteDef]:
        market = "/api/v3/brokerage/market"
        return [web.get(f"{market}/product_book", self.product_book),
                web.get(f"{market}/products/{{product_id}}/ticker", self.market_trades),
                web.get(f"{market}/products/{{product_id}}/candles", self.candles)]

    def product_symbol(self, product_id: str) -> str | None:
        """A product id, or its X-USDC alias, as this simulator's symbol."""
        return self.symbol_of(product_id) or (self.symbol_of(product_id[:-1]) if product_id.endswith("-USDC") else None)

    def not_found(self, product_id: str) -> web.Response:
        return json_response({"error": "NOT_FOUND", "error_details": f"ProductID {product_id!r} not found",
                              "message": "ProductID not found"}, status=404)

    async def product_book(self, request: web.Request) -> web.Response:
        """``GET /api/v3/brokerage/market/product_book?product_id=&limit=``: ``pricebook`` levels as
        ``{price, size}``, best first, with the last trade, mid and spread."""
        product_id = request.query.get("product_id", "")
        symbol = self.product_symbol(product_id)
        if symbol is None:
            return self.not_found(product_id)
        ladder = self.ladders[symbol]
        depth = int(request.query.get("limit") or max(len(ladder.bids), len(ladder.asks)))
        bids, asks = ladder.top(True, depth), ladder.top(False, depth)
        bid, ask = Decimal(ladder.price_str(bids[0][0])), Decimal(ladder.price_str(asks[0][0]))
        mid = (bid + ask) / 2
        return json_response({
            "pricebook": {
                "product_id": product_id,
                "bids": [{"price": ladder.price_str(p), "size": ladder.size_str(q)} for p, q in bids],
                "asks": [{"price": ladder.price_str(p), "size": ladder.size_str(q)} for p, q in asks],
                "time": rfc3339(time.time_ns()),
            },
            "last": self.tape.day(symbol).last, "mid_market": str(mid),
            "spread_bps": str((ask - bid) / mid * 10_000), "spread_absolute": str(ask - bid),
        })

    async def market_trades(self, request: web.Request) -> web.Response:
        """``GET .../products/{product_id}/ticker?limit=``: the newest trades (newest first) and
        the touch; ``side`` is the maker's, as on the market_trades channel."""
        product_id = request.match_info["product_id"]
        symbol = self.product_symbol(product_id)
        if symbol is None:
            return self.not_found(product_id)
        ladder = self.ladders[symbol]
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", "100")), 1000))
        return json_response({
            "trades": [self.trade_row(product_id, p) for p in reversed(prints)],
            "best_bid": ladder.price_str(ladder.top(True, 1)[0][0]),
            "best_ask": ladder.price_str(ladder.top(False, 1)[0][0]),
        })

    @staticmethod
    def trade_row(product_id: str, p: Print) -> dict[str, str]:
        return {"trade_id": str(p.trade_id), "product_id": product_id, "price": p.price, "size": p.size,
                "time": rfc3339(p.ms * 1_000_000), "side": "SELL" if p.buy else "BUY", "bid": "", "ask": "", "exchange": "CBE"}

    async def candles(self, request: web.Request) -> web.Response:
        """``GET .../products/{product_id}/candles?start=&end=&granularity=``: seconds since the
        epoch, at most 350 candles, newest first."""
        product_id = request.match_info["product_id"]
        symbol = self.product_symbol(product_id)
        if symbol is None:
            return self.not_found(product_id)
        query = request.query
        seconds = GRANULARITIES.get(query.get("granularity", ""))
        if seconds is None or not query.get("start", "").isdigit() or not query.get("end", "").isdigit():
            return json_response({"error": "INVALID_ARGUMENT", "error_details": "start, end and granularity are required",
                                  "message": "start, end and granularity are required"}, status=400)
        start, end = int(query["start"]) * 1000, int(query["end"]) * 1000
        if (end - start) // (seconds * 1000) > 350:
            return json_response({"error": "INVALID_ARGUMENT", "error_details": "number of candles requested should be less than 350",
                                  "message": "number of candles requested should be less than 350"}, status=400)
        candles = self.tape.candles(symbol, seconds, int(query.get("limit", "350")), start - start % (seconds * 1000), end)
        return json_response({"candles": [candle_row(c) for c in reversed(candles)]})

    def usdc_alias(self, usd: dict[str, Any]) -> dict[str, Any]:
        """Coinbase lists X-USDC as an alias of X-USD: same book, same market data."""
        native = usd["product_id"] + "C"
        usd["alias_to"] = [native]
        return {
            **usd, "product_id": native, "display_name": native, "quote_currency_id": "USDC", "alias": usd["product_id"], "alias_to": []
        }

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["seq"] = 0
        conn.state["heartbeats"] = False
        conn.state["heartbeat_task"] = asyncio.ensure_future(self._heartbeat_loop(conn))

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
        elif channel == "ticker":
            events = [{"type": "snapshot", "tickers": [self.ticker_row(s) for s in symbols]}]
            conn.send(self.envelope(conn, "ticker", now, orjson.dumps(events)))
        elif channel == "candles":
            rows = [row for s in symbols if (row := self.candle_row(s)) is not None]
            conn.send(self.envelope(conn, "candles", now, orjson.dumps([{"type": "snapshot", "candles": rows}])))
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
        if "user" in conn.state:
            out["user"] = [self.native(s) for s in conn.state["user"]]
        return out

    def acknowledge(self, conn: SimConnection) -> None:
        events = orjson.dumps([{"subscriptions": self.subscriptions(conn)}])
        conn.send(self.envelope(conn, "subscriptions", rfc3339(time.time_ns()), events))

    def error(self, message: str) -> bytes:
        return orjson.dumps({"type": "error", "message": message})

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

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[tuple[str, bytes] | None, dict[str, bytes]]:
        """The tick's trades as one ``market_trades`` update and, on a tick with trades, the events of
        the ``ticker`` and ``candles`` channels some socket holds; each connection numbers them."""
        encoded = self.encode_trade_rows(symbol, trades)
        held = {ch for conn in self.connections for ch in conn.subs.get(symbol, ()) if ch in ("ticker", "candles")}
        if encoded is None or not held:
            return encoded, {}
        return encoded, {ch: orjson.dumps(events) for ch, events in self.market_events(symbol, held).items()}

    def encode_trade_rows(self, symbol: str, trades: list[SimTrade]) -> tuple[str, bytes] | None:
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

    def trade_frames_for(self, conn: SimConnection, symbol: str,
                         encoded: tuple[tuple[str, bytes] | None, dict[str, bytes]]) -> list[Frame]:
        trades, market = encoded
        if trades is None:
            return []
        channels = conn.subs[symbol]
        frames: list[Frame] = [self.envelope(conn, "market_trades", *trades)] if "market_trades" in channels else []
        return frames + [self.envelope(conn, ch, trades[0], events) for ch, events in market.items() if ch in channels]

    async def _heartbeat_loop(self, conn: SimConnection) -> None:
        counter = 0
        while not conn.ws.closed:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            if conn.state["heartbeats"] and not conn.ws.closed:
                counter += 1
                now = rfc3339(time.time_ns())
                event = {"current_time": now.replace("T", " ").replace("Z", " +0000 UTC"), "heartbeat_counter": counter}
                conn.send(self.envelope(conn, "heartbeats", now, orjson.dumps([event])))


GRANULARITIES: dict[str, int] = {
    "ONE_MINUTE": 60, "FIVE_MINUTE": 300, "FIFTEEN_MINUTE": 900, "THIRTY_MINUTE": 1800, "ONE_HOUR": 3600,
    "TWO_HOUR": 7200, "FOUR_HOUR": 14_400, "SIX_HOUR": 21_600, "ONE_DAY": 86_400,
}


def candle_row(c: Candle) -> dict[str, str]:
    return {"start": str(c.start_ms // 1000), "low": c.low, "high": c.high, "open": c.open, "close": c.close, "volume": c.volume}
