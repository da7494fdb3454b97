"""Simulated Kraken: market data over REST and the public WebSocket v2."""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ...access import READ_TRADE, ApiKey
from ...engine import OrderEvent, SimOrder
from ...market import Ladder
from ...ratelimit import Over
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response
from ...tape import Candle, Print
from .errors import ORDER_RATE_LIMITED, REFUSALS, render
from .streams import OHLC_MINUTES as WS_OHLC_MINUTES
from .streams import KrakenStreams
from .wire import (
    ASSET_DECIMALS,
    CHECKSUM_LEVELS,
    DEPTHS,
    LEGACY_CODES,
    QTY_PLACES,
    WS_NAMES,
    BookTick,
    Level,
    Top,
    WsToken,
    asset_code,
    checksum,
    kraken_error,
    level_strings,
    levels_json,
    ok,
    rfc3339_now,
    whole,
    window_changes,
)


class KrakenPublic(KrakenStreams, SimVenue):
    """Kraken's public side: assets, pairs and depth over REST, the v2 WebSocket's book and trade channels."""
    venue = "kraken"
    snapshot_paths = ("/0/public/Depth",)
    instruments_paths = ("/0/public/AssetPairs",)
    unavailable = ErrorShape("EService:Unavailable", "EService:Unavailable", 503)
    buy_fee_in_base = False  # Kraken's default (fciq): fees in the quote currency
    markets = ("BTC-USD", "ETH-USD", "BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDT-USD")
    ws_paths = ("/v2",)
    private_ws_paths = ("/ws-auth/v2",)  # wss://ws-auth.kraken.com/v2, on its own path here
    faults_supported = frozenset({"drop", "corrupt", "stall", "delay"})
    heartbeat_after: ClassVar[float] = 1.0  # heartbeat once a subscribed socket has been quiet this long
    recent_trades: ClassVar[int] = 50  # what a trade snapshot replays
    ccxt_id: ClassVar[str | None] = "kraken"
    ccxt_hosts = ("https://api.kraken.com",)
    api_key_header = "API-Key"
    limit_symbol_param = "pair"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        """HTTP 200 with the error in the body: the matching engine's counter or the API's."""
        return (ORDER_RATE_LIMITED if over.pool == "trading" else REFUSALS[Reason.RATE_LIMITED]).refuse()

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tops: dict[str, Top] = {s: self.top_of(s) for s in self.markets}
        self.recent: dict[str, deque[str]] = {s: deque(maxlen=self.recent_trades) for s in self.markets}
        self.init_streams()
        self._heartbeats: asyncio.Task[None] | None = None
        self._connection_id = 14949390454975033707
        self.nonces: dict[str, int] = {}  # API key -> the last nonce it used
        self.txids: dict[str, str] = {}  # order id -> txid
        self.order_ids: dict[str, str] = {}  # txid -> order id
        self.fill_txids: dict[tuple[int, str], str] = {}  # (trade id, order id) -> txid
        self.userrefs: dict[str, int] = {}  # order id -> userref
        self.killed: dict[str, SimOrder] = {}  # post-only orders accepted and canceled at once, by id
        self._killed_ids = itertools.count(1)
        self.ws_tokens: dict[str, WsToken] = {}  # GetWebSocketsToken's tokens
        # the userref of the order AddOrder is placing: the engine's first event (the acceptance,
        # which the stream reports with it) comes before the order id is known
        self.placing_userref: int | None = None
        self.amending: str | None = None  # the order AmendOrder is changing: its event is ``amended``
        self.engine.listeners.insert(0, self.note_userref)

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}/{quote}"

    def ccxt_market_id(self, symbol: str) -> str:
        return self.pair_id(symbol)

    def pair_id(self, symbol: str) -> str:
        """The REST name (the AssetPairs key ccxt uses as the market id): XXBTZUSD, XBTUSDT."""
        base, quote, _, _ = parse_standard(symbol)
        if base in LEGACY_CODES and quote in LEGACY_CODES:
            return LEGACY_CODES[base] + LEGACY_CODES[quote]
        return self.altname(symbol)

    def altname(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return WS_NAMES.get(base, base) + WS_NAMES.get(quote, quote)

    def rest_symbol(self, name: str) -> str | None:
        """The market a REST ``pair`` names: its id, altname or wsname, or BTC for XBT, any case."""
        wanted = name.upper()
        for symbol in self.markets:
            base, quote, _, _ = parse_standard(symbol)
            names = {self.pair_id(symbol), self.altname(symbol), self.native(symbol), base + quote}
            names.add(WS_NAMES.get(base, base) + "/" + WS_NAMES.get(quote, quote))
            if wanted in names:
                return symbol
        return None

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A Kraken key pair: a 56-character public key and a base64 private key of 64 bytes."""
        self.engine.account(account)
        key = ApiKey(
            key=base64.b64encode(secrets.token_bytes(42)).decode(),
            secret=base64.b64encode(secrets.token_bytes(64)).decode(),
            account=account,
            permissions=permissions,
        )
        self.api_keys[key.key] = key
        return key

    def note_userref(self, event: OrderEvent) -> None:
        if self.placing_userref is not None:
            self.userrefs[event.order.order_id] = self.placing_userref
            self.placing_userref = None

    def ccxt_host_map(self) -> dict[str, str]:
        """ccxt.pro's ws-auth host is the private socket's prefix (it connects to .../v2)."""
        return super().ccxt_host_map() | {"wss://ws-auth.kraken.com": f"{self.ws_url}/ws-auth"}

    def top_of(self, symbol: str) -> Top:
        ladder = self.ladders[symbol]
        return ladder.top(True, DEPTHS[-1]), ladder.top(False, DEPTHS[-1])

    async def assets(self, request: web.Request) -> web.Response:
        listed = sorted({a for s in self.markets for a in parse_standard(s)[:2]})
        return ok({asset_code(a): self.asset_info(a) for a in listed})

    @staticmethod
    def asset_info(asset: str) -> dict[str, Any]:
        decimals, display = ASSET_DECIMALS.get(asset, (8, 4))
        return {
            "aclass": "currency",
            "altname": WS_NAMES.get(asset, asset),
            "decimals": decimals,
            "display_decimals": display,
            "collateral_value": 1.0,
            "status": "enabled",
        }

    async def asset_pairs(self, request: web.Request) -> web.Response:
        pairs = dict(self.asset_pair(s) for s in self.markets)
        return json_response({"error": [], "result": pairs})

    def asset_pair(self, symbol: str) -> tuple[str, dict[str, Any]]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        ws_base, ws_quote = WS_NAMES.get(base, base), WS_NAMES.get(quote, quote)
        return self.pair_id(symbol), {
            "altname": self.altname(symbol),
            "wsname": f"{ws_base}/{ws_quote}",
            "aclass_base": "currency",
            "base": asset_code(base),
            "aclass_quote": "currency",
            "quote": asset_code(quote),
            "lot": "unit",
            "cost_decimals": self.cost_decimals(symbol),
            "pair_decimals": ladder.price_decimals,
            "lot_decimals": QTY_PLACES,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, float(self.engine.taker_fee * 100)]],
            "fees_maker": [[0, float(self.engine.maker_fee * 100)]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": ladder.size_str(1, QTY_PLACES),
            "costmin": "0.00002" if quote == "BTC" else "0.5",
            "tick_size": ladder.price_str(1),
            "status": "online",
        }

    def cost_decimals(self, symbol: str) -> int:
        """Decimals of a cost or fee in the quote currency: 5 for USD and stablecoins, 10 for XBT."""
        return 10 if parse_standard(symbol)[1] == "BTC" else 5

    async def depth(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update(parse_qsl((await request.read()).decode("utf-8", "replace")))
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            return render(REFUSALS[Reason.UNKNOWN_SYMBOL].refuse())
        try:
            count = whole(params, "count", 1, 500) or 100
        except Refusal as exc:
            return render(exc)
        ladder = self.ladders[symbol]
        stamp = int(time.time())
        book = {
            side: [[ladder.price_str(p), ladder.size_str(q, QTY_PLACES), stamp] for p, q in ladder.top(is_bid, count)]
            for side, is_bid in (("asks", False), ("bids", True))
        }
        return ok({self.pair_id(symbol): book})

    def market_data_routes(self) -> list[web.RouteDef]:
        public = {"Ticker": self.ticker, "Trades": self.trades, "OHLC": self.ohlc}
        # Kraken's public methods answer GET and POST alike
        return [route(f"/0/public/{name}", handler) for name, handler in public.items() for route in (web.get, web.post)]

    @staticmethod
    async def public_params(request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.method == "POST":
            params.update(parse_qsl((await request.read()).decode("utf-8", "replace")))
        return params

    async def ticker(self, request: web.Request) -> web.Response:
        """``Ticker?pair=``: per pair ``a``/``b`` [price, whole lot volume, lot volume], ``c``
        [last, volume], and [today, last 24 hours] of ``v``, ``p`` (vwap), ``t``, ``l``, ``h``."""
        names = (await self.public_params(request)).get("pair")
        symbols = [self.rest_symbol(n) for n in names.split(",")] if names else list(self.markets)
        if any(s is None for s in symbols):
            return render(REFUSALS[Reason.UNKNOWN_SYMBOL].refuse())
        return ok({self.pair_id(s): self.ticker_info(s) for s in symbols if s is not None})

    def ticker_info(self, symbol: str) -> dict[str, Any]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        vwap = f"{day.vwap:.{ladder.price_decimals}f}"
        return {
            "a": [ladder.price_str(ask), str(max(1, round(ladder.size(ask_lots)))), ladder.size_str(ask_lots, QTY_PLACES)],
            "b": [ladder.price_str(bid), str(max(1, round(ladder.size(bid_lots)))), ladder.size_str(bid_lots, QTY_PLACES)],
            "c": [day.last, day.last_size], "v": [day.volume, day.volume], "p": [vwap, vwap],
            "t": [day.count, day.count], "l": [day.low, day.low], "h": [day.high, day.high], "o": day.open,
        }

    async def trades(self, request: web.Request) -> web.Response:
        """``Trades?pair=&since=&count=``: [price, volume, time, b/s, m/l, misc, trade id], oldest
        first, after ``since`` (nanoseconds, or seconds); ``last`` is the next ``since``."""
        params = await self.public_params(request)
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            return render(REFUSALS[Reason.UNKNOWN_SYMBOL].refuse())
        try:
            count = whole(params, "count", 1, 1000) or 1000
        except Refusal as exc:
            return render(exc)
        since = params.get("since", "")
        since_ms = (int(since) // 1_000_000 if len(since) > 12 else int(since) * 1000) + 1 if since.isdigit() else None
        prints = self.tape.recent(symbol, count, since_ms)
        last = prints[-1].ms * 1_000_000 if prints else time.time_ns()
        return ok({self.pair_id(symbol): [self.trade_row(symbol, p) for p in prints], "last": str(last)})

    def trade_row(self, symbol: str, p: Print) -> list[Any]:
        size = self.ladders[symbol].size_str(p.lots, QTY_PLACES)
        return [p.price, size, p.ms / 1000, "b" if p.buy else "s", "m", "", p.trade_id]

    async def ohlc(self, request: web.Request) -> web.Response:
        """``OHLC?pair=&interval=&since=``: [time, open, high, low, close, vwap, volume, count],
        oldest first, at most 720; ``last`` the newest committed candle's time (seconds)."""
        params = await self.public_params(request)
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            return render(REFUSALS[Reason.UNKNOWN_SYMBOL].refuse())
        minutes = params.get("interval", "1")
        if minutes not in OHLC_MINUTES:
            return render(kraken_error("EGeneral:Invalid arguments:interval"))
        seconds = int(minutes) * 60
        since = params.get("since", "")
        candles = self.tape.candles(symbol, seconds, 720, int(since) * 1000 + 1 if since.isdigit() else None)
        now = self.tape.clock() / 1000
        committed = [c.start_ms for c in candles if c.start_ms + seconds * 1000 <= now * 1000]
        last = committed[-1] // 1000 if committed else int(now) // seconds * seconds - seconds
        return ok({self.pair_id(symbol): [self.ohlc_row(symbol, c) for c in candles], "last": last})

    def ohlc_row(self, symbol: str, c: Candle) -> list[Any]:
        ladder = self.ladders[symbol]
        vwap = Decimal(c.quote_volume) / Decimal(c.volume)
        return [c.start_ms // 1000, c.open, c.high, c.low, c.close, f"{vwap:.{ladder.price_decimals}f}",
                f"{Decimal(c.volume):.{QTY_PLACES}f}", c.count]

    def on_connect(self, conn: SimConnection) -> None:
        self._connection_id += 1
        status = {"api_version": "v2", "connection_id": self._connection_id, "system": "online", "version": "2.0.10"}
        self.send(conn, orjson.dumps({"channel": "status", "type": "update", "data": [status]}).decode())

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        self.answer(conn, data, self.on_subscription)

    def answer(self, conn: SimConnection, data: str | bytes,
               subscription: Callable[[SimConnection, dict[str, Any], str], None]) -> None:
        """Kraken v2's request envelope, the same on both sockets: ping, (un)subscribe, errors."""
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
            subscription(conn, msg, time_in)
        else:
            self.send(conn, self.reply(msg, time_in, error="Method not found"))

    def on_subscription(self, conn: SimConnection, msg: dict[str, Any], time_in: str) -> None:
        params = msg.get("params") or {}
        channel = params.get("channel")
        if channel not in ("book", "trade", "ticker", "ohlc"):
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
        if subscription_key(params) in conn.subs.get(symbol, {}):
            self.send(conn, self.reply(msg, time_in, error="Already subscribed", symbol=native))
            return
        if channel in ("ticker", "ohlc"):
            self.subscribe_market(conn, msg, symbol, time_in)
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

    def subscribe_market(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        """``ticker`` or ``ohlc`` (with its ``interval`` in minutes), a snapshot unless refused: the
        ticker now, the candle of the newest print."""
        params = msg["params"]
        native = self.native(symbol)
        result: dict[str, Any] = {"channel": params["channel"], "snapshot": params.get("snapshot", True), "symbol": native}
        if params["channel"] == "ohlc":
            if params.get("interval") not in WS_OHLC_MINUTES:
                self.send(conn, self.reply(msg, time_in, error="EGeneral:Invalid arguments:interval", symbol=native))
                return
            result["interval"] = params["interval"]
        conn.subs.setdefault(symbol, {})[subscription_key(params)] = 0
        self.send(conn, self.reply(msg, time_in, result=result))
        if not result["snapshot"]:
            return
        if params["channel"] == "ticker":
            self.send(conn, self.ticker_frame(symbol, "snapshot"))
        elif (frame := self.ohlc_frame(symbol, params["interval"], "snapshot")) is not None:
            self.send(conn, frame)

    def unsubscribe(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        params = msg["params"]
        channel = subscription_key(params)
        native = self.native(symbol)
        subs = conn.subs.get(symbol, {})
        if channel not in subs or (channel == "book" and params.get("depth", 10) != subs[channel]):
            self.send(conn, self.reply(msg, time_in, error="Subscription Not Found", symbol=native))
            return
        result: dict[str, Any] = {"channel": params["channel"], "symbol": native}
        if "interval" in params:
            result["interval"] = params["interval"]
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
        top_moved = any(b[:CHECKSUM_LEVELS] != a[:CHECKSUM_LEVELS] for b, a in zip(before, after, strict=True))
        # only a checksum that goes out can be wrong: every window shows a change in the top 10
        if top_moved and self.faults.take("corrupt", symbol):
            cs ^= 0x5A5A
        return BookTick(before, after, cs, rfc3339_now())

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], dict[str, str]]:
        """This tick's trade frames and, on a tick with trades, the ``ticker`` and ``ohlc`` frames some
        socket holds."""
        frames = super().encode_trades(symbol, trades)
        if not trades:
            return frames, {}
        held = {key for conn in self.connections for key in conn.subs.get(symbol, ()) if key not in ("book", "trade")}
        return frames, self.market_frames(symbol, held) if held else {}

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], dict[str, str]]) -> list[Frame]:
        trades, market = encoded
        subs = conn.subs[symbol]
        out = list(trades) if "trade" in subs else []
        return out + [frame for key, frame in market.items() if key in subs]

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


OHLC_MINUTES = frozenset({"1", "5", "15", "30", "60", "240", "1440", "10080", "21600"})


def subscription_key(params: dict[str, Any]) -> str:
    """What a socket's subscription is kept under: the channel, an ``ohlc`` one with its interval."""
    channel = str(params.get("channel"))
    return f"ohlc:{params.get('interval')}" if channel == "ohlc" else channel
