"""Simulated Bybit: market data over REST and the public WebSocket."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ....venues.bybit import SPOT_SUBSCRIBE_LIMITS
from ...market import Ladder, SimTrade
from ...ratelimit import Over
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from .streams import BYBIT_INTERVALS, BybitStreams, TopicFrames
from .wire import ERRORS, RATE_LIMITED, Window, side_diff


class BybitPublic(BybitStreams, SimVenue):
    """Bybit v5's public side: instruments over REST, the public WebSocket's orderbook and trade topics."""
    venue = "bybit"
    snapshot_paths = ("/v5/market/orderbook",)
    instruments_paths = ("/v5/market/instruments-info",)
    ccxt_id: ClassVar[str | None] = "bybit"
    ccxt_hosts = ("https://api.{hostname}",)
    # acknowledged: ccxt's fetch_order otherwise refuses to call /v5/order/realtime by id on UTA
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"]}, "fetchOrder": {"acknowledged": True}}
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/v5/public/spot",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/v5/private",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    category: ClassVar[str] = "spot"
    errors: ClassVar[dict[Reason, ErrorShape]] = ERRORS
    depths: ClassVar[frozenset[int]] = frozenset({50, 200, 1000})  # level 1 (snapshot-only) is not simulated
    args_per_request: ClassVar[int | None] = SPOT_SUBSCRIBE_LIMITS.topics_per_message
    api_key_header = "X-BAPI-API-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        """HTTP 200 with retCode 10006 and the limit headers."""
        reset = str(int((now + over.wait) * 1000))
        return RATE_LIMITED.refuse(headers={"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": reset})

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return self.envelope({}, ret_code=int(refusal.code), ret_msg=refusal.message)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows: dict[str, Window] = {}  # book topic -> window, from its first subscriber on
        self.cross_seq: dict[str, int] = {s: 40_000_000 + 1_000 * i for i, s in enumerate(self.markets)}
        self.transfer_ids: set[str] = set()  # universal transfers done: Bybit refuses a transferId twice
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    def size_str(self, ladder: Ladder, ticks: int, lots: int) -> str:
        return ladder.size_str(lots)

    def levels(self, ladder: Ladder, side: list[tuple[int, int]], bids: bool) -> list[list[str]]:
        ordered = sorted(side, reverse=bids)  # bids high -> low, asks low -> high, as Bybit sends
        return [[ladder.price_str(p), self.size_str(ladder, p, q) if q else "0"] for p, q in ordered]

    async def instruments_info(self, request: web.Request) -> web.Response:
        if request.query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        # every simulated market is Trading: a query for another status (ccxt asks for PreLaunch) has none
        rows = [self.instrument(s) for s in self.markets] if request.query.get("status", "Trading") == "Trading" else []
        return self.envelope(self.page(rows, request.query))

    async def orderbook(self, request: web.Request) -> web.Response:
        """``GET /v5/market/orderbook``: the book's top ``limit`` levels of one symbol of this
        server's category (spot 1 to 200, default 1; linear and inverse 1 to 500, default 25)."""
        query = request.query
        if query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        most, default = (200, 1) if self.category == "spot" else (500, 25)
        limit = query.get("limit", str(default))
        if not limit.isdigit() or not 1 <= int(limit) <= most:
            return self.envelope({}, ret_code=10001, ret_msg="params error: limit is invalid")
        ladder = self.ladders[symbol]
        now = int(time.time() * 1000)
        return self.envelope({
            "s": self.native(symbol),
            "b": self.levels(ladder, ladder.top(True, int(limit)), True),
            "a": self.levels(ladder, ladder.top(False, int(limit)), False),
            "ts": now, "u": self.cross_seq[symbol], "seq": self.cross_seq[symbol], "cts": now,
        })

    def market_data_routes(self) -> list[web.RouteDef]:
        return [web.get("/v5/market/tickers", self.tickers), web.get("/v5/market/recent-trade", self.recent_trade),
                web.get("/v5/market/kline", self.kline)]

    def queried_symbol(self, query: Mapping[str, str]) -> tuple[str | None, web.Response | None]:
        """The query's symbol of this server's category, or the venue's refusal."""
        if query.get("category") != self.category:
            return None, self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return None, self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        return symbol, None

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /v5/market/tickers`` (spot): the touch and the rolling day of one symbol, or of all."""
        if request.query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        wanted = request.query.get("symbol")
        symbols = [s for s in self.markets if wanted is None or self.native(s) == wanted]
        if not symbols:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        return self.envelope({"category": self.category, "list": [self.spot_ticker(s) for s in symbols]})

    def spot_ticker(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        return {
            "symbol": self.native(symbol), "bid1Price": ladder.price_str(bid), "bid1Size": self.size_str(ladder, bid, bid_lots),
            "ask1Price": ladder.price_str(ask), "ask1Size": self.size_str(ladder, ask, ask_lots), "lastPrice": day.last,
            "prevPrice24h": day.open, "price24hPcnt": f"{day.change_ratio:.4f}", "highPrice24h": day.high,
            "lowPrice24h": day.low, "turnover24h": day.quote_volume, "volume24h": day.volume, "usdIndexPrice": "",
        }

    async def recent_trade(self, request: web.Request) -> web.Response:
        """``GET /v5/market/recent-trade``: newest first; spot ``limit`` 1 to 60 (default 60),
        derivatives 1 to 1000 (default 500)."""
        symbol, refused = self.queried_symbol(request.query)
        if symbol is None:
            return refused or self.envelope({})
        most, default = (60, 60) if self.category == "spot" else (1000, 500)
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", default)), most))
        ladder, native = self.ladders[symbol], self.native(symbol)
        rows = [{"execId": str(p.trade_id), "symbol": native, "price": p.price, "size": self.size_str(ladder, p.ticks, p.lots),
                 "side": "Buy" if p.buy else "Sell", "time": str(p.ms), "isBlockTrade": False, "isRPITrade": False}
                for p in reversed(prints)]
        return self.envelope({"category": self.category, "list": rows})

    async def kline(self, request: web.Request) -> web.Response:
        """``GET /v5/market/kline``: ``interval`` 1 ... 720 (minutes), D, W, M; ``start`` / ``end``;
        ``limit`` 1 to 1000 (default 200); newest first."""
        query = request.query
        symbol, refused = self.queried_symbol(query)
        if symbol is None:
            return refused or self.envelope({})
        seconds = BYBIT_INTERVALS.get(query.get("interval", ""))
        if seconds is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: interval invalid")
        start, end = query.get("start"), query.get("end")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "200")), 1000),
                                    int(start) if start else None, int(end) if end else None)
        rows = [self.kline_row(c) for c in reversed(candles)]
        return self.envelope({"symbol": self.native(symbol), "category": self.category, "list": rows})

    def page(self, rows: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
        """Spot answers everything at once; derivatives page by ``limit`` and ``cursor``."""
        return {"category": self.category, "list": rows}

    def envelope(self, result: dict[str, Any], ret_code: int = 0, ret_msg: str = "OK") -> web.Response:
        body = {"retCode": ret_code, "retMsg": ret_msg, "result": result, "retExtInfo": {}, "time": int(time.time() * 1000)}
        return json_response(body)

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": ladder.size_str(1),
                "quotePrecision": "0.00000001",
                "minOrderQty": ladder.size_str(1),
                "maxOrderQty": "1000000",
                "minOrderAmt": "1",
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": f"{ladder.spec.tick:.{ladder.price_decimals}f}"},
        }

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["conn_id"] = str(uuid.uuid4())

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        op = msg.get("op")
        req_id = msg.get("req_id", "")
        if op == "ping":
            self.client_pings += 1
            conn.send(self.reply(conn, "ping", req_id, True, "pong"))
        elif op in ("subscribe", "unsubscribe"):
            self.on_topics(conn, op, req_id, msg.get("args", []))
        else:
            conn.send(self.reply(conn, str(op), req_id, False, f"error:unknown op {op}"))

    def on_topics(self, conn: SimConnection, op: str, req_id: str, args: list[str]) -> None:
        """Bybit refuses the whole request when any topic is wrong; otherwise acks, then (for a
        book topic) sends the snapshot."""
        parsed = [(topic, self.split(topic)) for topic in args]
        error = self.refusal(conn, op, parsed)
        if error:
            conn.send(self.reply(conn, op, req_id, False, error))
            return
        conn.send(self.reply(conn, op, req_id, True, op if self.category == "spot" else ""))
        for topic, (name, symbol) in parsed:
            assert name is not None and symbol is not None
            if op == "subscribe":
                self.subscribe(conn, topic, name, symbol)
            else:
                self.unsubscribe(conn, name, symbol)

    def reply(self, conn: SimConnection, op: str, req_id: str, success: bool, ret_msg: str) -> bytes:
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.state["conn_id"]}
        if self.category != "spot" or req_id:  # linear and inverse always echo req_id, "" if none
            body["req_id"] = req_id
        body["op"] = op
        return orjson.dumps(body)

    def refusal(self, conn: SimConnection, op: str, parsed: list[tuple[str, tuple[str | None, str | None]]]) -> str | None:
        if self.args_per_request is not None and len(parsed) > self.args_per_request:
            return f"args size >{self.args_per_request}"
        for topic, (name, symbol) in parsed:
            if name is None or symbol is None:
                return f"error:handler not found,topic:{topic}"
            if op == "subscribe" and name in conn.subs.get(symbol, ()):
                return f"error:already subscribed,topic:{topic}"
        return None

    def split(self, topic: str) -> tuple[str | None, str | None]:
        """``orderbook.50.BTCUSDT`` -> ("orderbook.50", "BTC-USDT"); (None, None) if not served."""
        name, _, native = topic.rpartition(".")
        symbol = self.symbol_of(native)
        served = name == "publicTrade" or self.book_depth(name) in self.depths
        if symbol is not None and (served or self.is_market_topic(name, self.category != "spot")):
            return name, symbol
        return None, None

    @staticmethod
    def book_depth(name: str) -> int | None:
        kind, _, depth = name.partition(".")
        return int(depth) if kind == "orderbook" and depth.isdigit() else None

    def subscribe(self, conn: SimConnection, topic: str, name: str, symbol: str) -> None:
        conn.subs.setdefault(symbol, set()).add(name)
        depth = self.book_depth(name)
        if depth is not None:
            window = self.windows.get(topic) or self.open_window(topic, symbol, depth)
            conn.send(self.book_frame(topic, window, "snapshot", window.bids.items(), window.asks.items()))
        elif name == "tickers":
            conn.send(self.ticker_snapshot(symbol))

    def unsubscribe(self, conn: SimConnection, name: str, symbol: str) -> None:
        names = conn.subs.get(symbol)
        if names is not None:
            names.discard(name)
            if not names:
                del conn.subs[symbol]

    def open_window(self, topic: str, symbol: str, depth: int) -> Window:
        ladder = self.ladders[symbol]
        window = Window(symbol, depth, u=1_000 + 7 * len(self.windows))
        window.bids = dict(ladder.top(True, depth))
        window.asks = dict(ladder.top(False, depth))
        self.windows[topic] = window
        return window

    def encode(self, symbol: str, changes: list[Change]) -> dict[str, bytes]:
        """One delta per book topic of ``symbol`` whose window changed, keyed by topic."""
        ladder = self.ladders[symbol]
        skip = self.faults.take("skip", symbol)
        self.cross_seq[symbol] += ladder.rng.randint(1, 9)
        out: dict[str, bytes] = {}
        for topic, window in self.windows.items():
            if window.symbol != symbol:
                continue
            bids = dict(ladder.top(True, window.depth))
            asks = dict(ladder.top(False, window.depth))
            bid_diff, ask_diff = side_diff(window.bids, bids), side_diff(window.asks, asks)
            window.bids, window.asks = bids, asks
            if skip:
                window.u += 1  # the update that was lost
            if bid_diff or ask_diff:
                window.u += 1
                out[topic] = self.book_frame(topic, window, "delta", bid_diff, ask_diff)
        return out

    def book_frame(self, topic: str, window: Window, kind: str, bids: Any, asks: Any) -> bytes:
        ladder = self.ladders[window.symbol]
        now = int(time.time() * 1000)
        data = {
            "s": self.native(window.symbol),
            "b": self.levels(ladder, list(bids), True),
            "a": self.levels(ladder, list(asks), False),
            "u": window.u,
            "seq": self.cross_seq[window.symbol],
        }
        return orjson.dumps({"topic": topic, "ts": now, "type": kind, "data": data, "cts": now})

    def frames_for(self, conn: SimConnection, symbol: str, encoded: dict[str, bytes]) -> list[Frame]:
        native = self.native(symbol)
        return [frame for name in conn.subs[symbol] if (frame := encoded.get(f"{name}.{native}")) is not None]

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], TopicFrames]:
        """This tick's trades, and the frames of the kline and ticker topics some socket holds."""
        return super().encode_trades(symbol, trades), self.market_frames(symbol)

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], TopicFrames]) -> list[Frame]:
        trades, topics = encoded
        return [*trades, *self.market_frames_for(conn, symbol, topics)] if topics else list(trades)

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        trade = {
            "T": now,
            "s": native,
            "S": "Buy" if buy else "Sell",
            "v": self.size_str(ladder, ticks, lots),
            "p": ladder.price_str(ticks),
            "L": "PlusTick" if buy else "MinusTick",
            "i": str(trade_id),
            "BT": False,
            "seq": self.cross_seq[symbol],
        }
        return orjson.dumps({"topic": f"publicTrade.{native}", "type": "snapshot", "ts": now, "data": [trade]})

