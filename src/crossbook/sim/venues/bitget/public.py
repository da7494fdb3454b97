"""Simulated Bitget: market data over REST and the public WebSocket."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....book.checksum import crc32_signed, interleaved
from ....symbols import parse_standard
from ....venues.spec.limits import OTHER_FRAME, SUBSCRIBE_FRAME
from ...market import Ladder, SimTrade
from ...ratelimit import Over
from ...refusal import Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from ...tape import Print
from ...withdrawals import networks_of
from .errors import REFUSALS, bitget_error, render, unknown_symbol
from .streams import MARKET_CHANNELS, BitgetStreams, StreamFrames, candle_row, frames_subscribed
from .wire import (
    CHANNELS,
    CHECKSUM_DEPTH,
    RECENT_TRADES,
    _envelope,
    _error,
    _ms,
    _num,
    _text,
    chain_of,
)


class BitgetPublic(BitgetStreams, SimVenue):
    """Bitget v2's public side: symbols and coins over REST, the public WebSocket's books and trades,
    its ticker and candles (``streams.py``)."""
    venue = "bitget"
    snapshot_paths: ClassVar[tuple[str, ...]] = ("/api/v2/spot/market/orderbook",)
    instruments_paths = ("/api/v2/spot/public/symbols",)
    ccxt_id: ClassVar[str | None] = "bitget"
    ccxt_hosts = ("https://api.{hostname}",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"]}}
    key_needs_passphrase = True
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/v2/ws/public",)
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/v2/ws/private",)
    faults_supported = frozenset({"drop", "skip", "corrupt", "stall", "delay"})
    inst_type: ClassVar[str] = "SPOT"
    ping_timeout: float = 120.0  # the server drops a socket that sent no "ping" for this long
    api_key_header = "ACCESS-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        return REFUSALS[Reason.RATE_LIMITED].refuse()

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq: dict[str, int] = {s: 4_000_000_000 + 100_000 * i for i, s in enumerate(self.markets)}
        self.last_checksum: dict[str, int] = {s: self.checksum(s) for s in self.markets}
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._watchdogs: set[asyncio.Task[None]] = set()
        self.quote_sizes: dict[str, Decimal] = {}  # order id -> the quote size of a market buy
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    async def symbols_info(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [self.symbol_info(s) for s in self.markets if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "minTradeAmount": "0",
            "maxTradeAmount": "10000000000",
            "takerFeeRate": _num(self.engine.taker_fee),
            "makerFeeRate": _num(self.engine.maker_fee),
            "pricePrecision": str(ladder.price_decimals),
            "quantityPrecision": str(ladder.size_decimals),
            "quotePrecision": str(ladder.price_decimals),
            "minTradeUSDT": "1",
            "status": "online",
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
            "orderQuantity": "200",
            "areaSymbol": "no",
        }

    async def coins(self, request: web.Request) -> web.Response:
        coins = sorted({c for s in self.markets for c in parse_standard(s)[:2]})
        wanted = request.query.get("coin")
        return json_response(_envelope([self.coin_info(i, c) for i, c in enumerate(coins, 1) if wanted in (None, c)]))

    def coin_info(self, coin_id: int, coin: str) -> dict[str, Any]:
        """One ``/api/v2/spot/public/coins`` row: a chain per network the simulator withdraws ``coin``
        on, with its ``withdrawFee`` and ``minWithdrawAmount``."""
        chains = [{
            "chain": chain_of(n.name), "needTag": "false", "withdrawable": "true", "rechargeable": "true",
            "withdrawFee": _num(n.fee), "extraWithdrawFee": "0", "depositConfirm": "12", "withdrawConfirm": "12",
            "minDepositAmount": "0", "minWithdrawAmount": _num(n.minimum), "browserUrl": "", "contractAddress": "",
            "withdrawStep": "0", "withdrawMinScale": "8", "congestion": "normal",
        } for n in networks_of(coin)]
        return {"coinId": str(coin_id), "coin": coin, "transfer": "true", "chains": chains, "areaCoin": "no"}

    async def margin_currencies(self, request: web.Request) -> web.Response:
        return json_response(_envelope([]))  # no margin pairs are simulated

    def market_data_routes(self) -> list[web.RouteDef]:
        """Spot's market endpoints; the futures server serves the mix candles (beside the funding rate)."""
        if self.inst_type != "SPOT":
            return [web.get("/api/v2/mix/market/candles", self.mix_candles)]
        market = "/api/v2/spot/market"
        return [web.get(f"{market}/orderbook", self.orderbook), web.get(f"{market}/tickers", self.tickers),
                web.get(f"{market}/fills", self.fills_recent), web.get(f"{market}/fills-history", self.fills_recent),
                web.get(f"{market}/candles", self.candles)]

    def queried_symbol(self, request: web.Request) -> str:
        native = request.query.get("symbol", "")
        symbol = self.symbol_of(native)
        if symbol is None:
            raise unknown_symbol(native)
        return symbol

    async def orderbook(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/market/orderbook?symbol=&type=step0&limit=``: at most 150 levels a side (default 150)."""
        symbol = self.queried_symbol(request)
        limit = min(int(request.query.get("limit", "150")), 150)
        ladder = self.ladders[symbol]
        return json_response(_envelope({"asks": self.levels(ladder, False, limit), "bids": self.levels(ladder, True, limit),
                                        "ts": str(_ms())}))

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/market/tickers[?symbol=]``: the touch and the rolling day; ``change24h`` a fraction."""
        wanted = request.query.get("symbol")
        symbols = [self.queried_symbol(request)] if wanted else list(self.markets)
        return json_response(_envelope([self.ticker(s) for s in symbols]))

    def ticker(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        return {
            "open": day.open, "symbol": self.native(symbol), "high24h": day.high, "low24h": day.low, "lastPr": day.last,
            "quoteVolume": day.quote_volume, "baseVolume": day.volume, "usdtVolume": day.quote_volume, "ts": str(day.close_ms),
            "bidPr": ladder.price_str(bid), "askPr": ladder.price_str(ask), "bidSz": ladder.size_str(bid_lots),
            "askSz": ladder.size_str(ask_lots), "openUtc": day.open, "changeUtc24h": f"{day.change_ratio:.5f}",
            "change24h": f"{day.change_ratio:.5f}",
        }

    async def fills_recent(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/market/fills`` (``limit`` up to 500, default 100) and ``fills-history``
        (``startTime``/``endTime``): newest first, ``side`` the taker's."""
        symbol = self.queried_symbol(request)
        since = request.query.get("startTime")
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", "100")), 1000), int(since) if since else None)
        native = self.native(symbol)
        return json_response(_envelope([fill_row(native, p) for p in reversed(prints)]))

    async def candles(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/market/candles?symbol=&granularity=``: ``limit`` up to 1000 (default 100),
        oldest first, [ts, open, high, low, close, base volume, USDT volume, quote volume]."""
        symbol = self.queried_symbol(request)
        query = request.query
        seconds = GRANULARITIES.get(query.get("granularity", ""))
        if seconds is None:
            raise bitget_error("40034", "Parameter granularity does not exist")
        start, end = query.get("startTime"), query.get("endTime")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "100")), 1000),
                                    int(start) if start else None, int(end) if end else None)
        return json_response(_envelope([candle_row(c) for c in candles]))

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["pinged"] = time.time()
        task = asyncio.create_task(self._ping_watchdog(conn))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
        await super().stop()

    async def _ping_watchdog(self, conn: SimConnection) -> None:
        while not conn.ws.closed:
            await asyncio.sleep(min(self.ping_timeout / 4, 5.0))
            if time.time() - conn.state["pinged"] > self.ping_timeout:
                await conn.close()

    def frame_kind(self, data: str | bytes) -> str:
        """Bitget counts subscribe and unsubscribe requests per connection and hour, besides every message."""
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            return OTHER_FRAME  # the string ping
        return SUBSCRIBE_FRAME if isinstance(msg, dict) and msg.get("op") in ("subscribe", "unsubscribe") else OTHER_FRAME

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self.client_pings += 1
            conn.state["pinged"] = time.time()
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
            op = msg["op"]
            args = msg["args"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(_error(30002, "illegal request"))
            return
        if op not in ("subscribe", "unsubscribe"):
            conn.send(_error(30003, "invalid op", op=op))
            return
        if not isinstance(args, list):
            conn.send(_error(30016, "Param error", op=op))
            return
        for arg in args:
            symbol = self._symbol_for(arg)
            if symbol is None:
                conn.send(_error(30001, self._missing(arg), arg=arg, op=op))
                continue
            conn.send(_text({"event": op, "arg": arg}))
            if op == "subscribe":
                self._subscribe(conn, symbol, arg["channel"], arg)
            else:
                self._unsubscribe(conn, symbol, arg["channel"])

    def _symbol_for(self, arg: Any) -> str | None:
        if not isinstance(arg, dict) or str(arg.get("instType", "")).upper() != self.inst_type:
            return None
        if arg.get("channel") not in CHANNELS and arg.get("channel") not in MARKET_CHANNELS:
            return None
        return self.symbol_of(str(arg.get("instId", "")))

    def _missing(self, arg: Any) -> str:
        if not isinstance(arg, dict):
            return "Param error"
        return f"instType:{arg.get('instType')},channel:{arg.get('channel')},instId:{arg.get('instId')} doesn't exist"

    def _subscribe(self, conn: SimConnection, symbol: str, channel: str, arg: dict[str, Any]) -> None:
        conn.subs.setdefault(symbol, set()).add(channel)
        if channel == "books":
            conn.send(self.book_snapshot(symbol, arg))
        elif channel in MARKET_CHANNELS:
            conn.send(self.market_snapshot(symbol, channel))
        else:
            conn.send(self._push("snapshot", arg, list(self.recent[symbol])))

    def _unsubscribe(self, conn: SimConnection, symbol: str, channel: str) -> None:
        channels: set[str] = conn.subs.get(symbol, set())
        channels.discard(channel)
        if not channels:
            conn.subs.pop(symbol, None)

    def _arg(self, symbol: str, channel: str) -> dict[str, str]:
        return {"instType": self.inst_type, "channel": channel, "instId": self.native(symbol)}

    def _push(self, action: str, arg: dict[str, Any], data: list[Any]) -> str:
        return _text({"action": action, "arg": arg, "data": data, "ts": _ms()})

    def levels(self, ladder: Ladder, is_bid: bool, n: int) -> list[tuple[str, str]]:
        return [(ladder.price_str(p), ladder.size_str(q)) for p, q in ladder.top(is_bid, n)]

    def checksum(self, symbol: str) -> int:
        ladder = self.ladders[symbol]
        bids = self.levels(ladder, True, CHECKSUM_DEPTH)
        asks = self.levels(ladder, False, CHECKSUM_DEPTH)
        return crc32_signed(interleaved(bids, asks))

    def book_snapshot(self, symbol: str, arg: dict[str, Any]) -> str:
        ladder = self.ladders[symbol]
        book = {
            "asks": self.levels(ladder, False, len(ladder.asks)),
            "bids": self.levels(ladder, True, len(ladder.bids)),
            "checksum": self.checksum(symbol),
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("snapshot", arg, [book])

    def encode(self, symbol: str, changes: list[Change]) -> str | None:
        self.seq[symbol] += len(changes)  # Bitget's seq grows but does not step by one
        check = self.checksum(symbol)
        moved_top = check != self.last_checksum[symbol]
        self.last_checksum[symbol] = check
        if moved_top and symbol in self.faults.skip:
            self.faults.take("skip", symbol)
            return None  # lost on the way: only the next checksum can tell
        if self.faults.take("corrupt", symbol):
            check ^= 1
        ladder = self.ladders[symbol]
        book = {
            "asks": [self._level(ladder, p, q) for is_bid, p, q in changes if not is_bid],
            "bids": [self._level(ladder, p, q) for is_bid, p, q in changes if is_bid],
            "checksum": check,
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("update", self._arg(symbol, "books"), [book])

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [ladder.price_str(ticks), ladder.size_str(lots) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: str | None) -> list[Frame]:
        return [encoded] if encoded is not None and "books" in conn.subs.get(symbol, ()) else []

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades, and the frames of the ticker and candle channels some socket holds."""
        return super().encode_trades(symbol, trades), self.market_frames(symbol)

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        trades, streams = encoded
        return [*(trades if "trade" in conn.subs.get(symbol, ()) else []), *frames_subscribed(conn, symbol, streams)]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        trade = {
            "ts": str(_ms()),
            "price": ladder.price_str(ticks),
            "size": ladder.size_str(lots),
            "side": "buy" if buy else "sell",
            "tradeId": str(trade_id),
        }
        self.recent[symbol].appendleft(trade)  # newest first, as the venue lists them
        return self._push("update", self._arg(symbol, "trade"), [trade])


GRANULARITIES: dict[str, int] = {
    "1min": 60, "3min": 180, "5min": 300, "15min": 900, "30min": 1800, "1h": 3600, "4h": 14_400, "6h": 21_600,
    "12h": 43_200, "1day": 86_400, "3day": 259_200, "1week": 604_800, "1M": 2_592_000,
}


def fill_row(native: str, p: Print) -> dict[str, str]:
    return {"symbol": native, "tradeId": str(p.trade_id), "side": "buy" if p.buy else "sell", "price": p.price,
            "size": p.size, "ts": str(p.ms)}
