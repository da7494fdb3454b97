"""Simulated Gate: market data over REST and the public WebSocket."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ...interest import open_interest
from ...market import Ladder
from ...perp_prices import GATE, FundingRule, PerpPrices
from ...ratelimit import Over
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from ...tape import Candle, Print
from .errors import ERRORS, REFUSALS, gate_error, render
from .streams import GATE_INTERVALS, GateStreams
from .wire import MIN_QUOTE, View, _plain, num


class GatePublic(GateStreams, PerpPrices, SimVenue):
    """Gate v4's public side: currency pairs and books over REST, the public WebSocket's order book and trades."""

    funding_rule: ClassVar[FundingRule] = GATE  # the perpetuals' (the spot server publishes none)

    venue = "gate"
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    # one socket path serves public and private channels alike, so every socket goes through
    # on_private_message, which hands public channels to on_client_message
    ws_paths: ClassVar[tuple[str, ...]] = ()
    private_ws_paths: ClassVar[tuple[str, ...]] = ("/ws/v4/",)
    server_ping_interval = 30.0  # protocol-level ping/pong; Gate sends no application ping
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    book_channel: ClassVar[str] = "spot.order_book_update"
    trade_channel: ClassVar[str] = "spot.trades"
    book_path: ClassVar[str] = "/api/v4/spot/order_book"
    pair_param: ClassVar[str] = "currency_pair"
    instruments_path: ClassVar[str] = "/api/v4/spot/currency_pairs"
    snapshot_paths = (book_path,)
    instruments_paths = (instruments_path,)
    unavailable = ErrorShape("SERVER_ERROR", "Internal server error", 503)
    intervals: ClassVar[tuple[str, ...]] = ("100ms",)
    depth: ClassVar[int] = 100  # the 100 ms window and the REST limit maximum
    full_every: ClassVar[int] = 64  # messages between unsolicited full pushes, per symbol
    trade_places: ClassVar[int] = 10  # trades pad to 10 decimals ("0.2010000000")
    ccxt_id: ClassVar[str | None] = "gate"
    ccxt_hosts = ("https://api.gateio.ws",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"]}}
    errors: ClassVar[dict[Reason, ErrorShape]] = ERRORS
    api_key_header = "KEY"
    limit_symbol_param = "currency_pair"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        reset = str(math.ceil((now + over.wait) * 1000))
        return REFUSALS[Reason.RATE_LIMITED].refuse(headers={"X-Gate-RateLimit-Reset-Timestamp": reset})

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 2_000_000 + 31 * i for i, s in enumerate(self.markets)}
        self.sent_id: dict[str, int] = dict(self.update_id)  # last u a message carried
        self.sent_count: dict[str, int] = dict.fromkeys(self.markets, 0)
        self.views: dict[str, tuple[View, View]] = {s: self._window(s) for s in self.markets}
        self.quote_budgets: dict[str, Decimal] = {}  # market buy order id -> quote amount to spend
        self.expirations: dict[str, int] = {}  # price order id -> the expiration it was sent with
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}_{quote}"

    def _window(self, symbol: str) -> tuple[View, View]:
        ladder = self.ladders[symbol]
        return dict(ladder.top(True, self.depth)), dict(ladder.top(False, self.depth))

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return [_plain(ladder.price_str(ticks)), _plain(ladder.size_str(lots))]

    async def instruments(self, request: web.Request) -> web.Response:
        return json_response([self.pair_info(s) for s in self.markets])

    def pair_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "id": self.native(symbol),
            "base": base,
            "base_name": base,
            "quote": quote,
            "quote_name": quote,
            "fee": num(self.engine.taker_fee * 100),  # percent
            "min_base_amount": ladder.size_str(1),
            "min_quote_amount": num(MIN_QUOTE[quote]),
            "amount_precision": ladder.size_decimals,
            "precision": ladder.price_decimals,
            "trade_status": "tradable",
            "sell_start": 1516378650,
            "buy_start": 1516378650,
            "delisting_time": 0,
            "type": "normal",
            "trade_url": f"https://www.gate.io/trade/{self.native(symbol)}",
            "st_tag": False,
        }

    async def order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get(self.pair_param, ""))
        if symbol is None:
            return render(gate_error("INVALID_CURRENCY_PAIR", "Invalid currency pair"))
        limit = int(request.query.get("limit", "10"))
        if not 1 <= limit <= self.depth:
            return render(gate_error("INVALID_PARAM_VALUE", f"limit must be 1..{self.depth}"))
        ladder = self.ladders[symbol]
        body = self.rest_times(time.time())
        if request.query.get("with_id") == "true":
            body = {"id": self.update_id[symbol], **body}
        body["asks"] = [self.level(ladder, p, q) for p, q in ladder.top(False, limit)]
        body["bids"] = [self.level(ladder, p, q) for p, q in ladder.top(True, limit)]
        return json_response(body)

    def market_data_routes(self) -> list[web.RouteDef]:
        if self.pair_param == "contract":  # the USDT perpetuals' server
            futures = "/api/v4/futures/usdt"
            return [web.get(f"{futures}/tickers", self.contract_tickers), web.get(f"{futures}/trades", self.contract_trades),
                    web.get(f"{futures}/candlesticks", self.contract_candlesticks),
                    web.get(f"{futures}/funding_rate", self.contract_funding_history)]
        return [web.get("/api/v4/spot/tickers", self.tickers), web.get("/api/v4/spot/trades", self.trades),
                web.get("/api/v4/spot/candlesticks", self.candlesticks)]

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v4/spot/tickers[?currency_pair=]``: the touch and the rolling day, a list."""
        wanted = request.query.get("currency_pair")
        symbols = [s for s in self.markets if wanted is None or self.native(s) == wanted]
        if not symbols:
            return render(gate_error("INVALID_CURRENCY_PAIR", "Invalid currency pair"))
        return json_response([self.ticker(s) for s in symbols])

    def ticker(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        return {
            "currency_pair": self.native(symbol), "last": _plain(day.last),
            "lowest_ask": _plain(ladder.price_str(ask)), "lowest_size": _plain(ladder.size_str(ask_lots)),
            "highest_bid": _plain(ladder.price_str(bid)), "highest_size": _plain(ladder.size_str(bid_lots)),
            "change_percentage": f"{day.change_ratio * 100:.2f}", "base_volume": day.volume, "quote_volume": day.quote_volume,
            "high_24h": _plain(day.high), "low_24h": _plain(day.low),
        }

    async def trades(self, request: web.Request) -> web.Response:
        """``GET /api/v4/spot/trades``: ``limit`` 1 to 1000 (default 100), newest first, ``side`` the taker's."""
        symbol = self.symbol_of(request.query.get("currency_pair", ""))
        if symbol is None:
            return render(gate_error("INVALID_CURRENCY_PAIR", "Invalid currency pair"))
        limit = int(request.query.get("limit", "100"))
        if not 1 <= limit <= 1000:
            return render(gate_error("INVALID_PARAM_VALUE", "limit must be 1..1000"))
        native = self.native(symbol)
        return json_response([trade_row(native, p) for p in reversed(self.tape.recent(symbol, limit))])

    async def candlesticks(self, request: web.Request) -> web.Response:
        """``GET /api/v4/spot/candlesticks``: ``interval`` 10s ... 30d, ``limit`` up to 1000 (default
        100), ``from``/``to`` in seconds, oldest first."""
        query = request.query
        symbol = self.symbol_of(query.get("currency_pair", ""))
        if symbol is None:
            return render(gate_error("INVALID_CURRENCY_PAIR", "Invalid currency pair"))
        seconds = GATE_INTERVALS.get(query.get("interval", "30m"))
        if seconds is None:
            return render(gate_error("INVALID_PARAM_VALUE", "invalid interval"))
        start, end = query.get("from"), query.get("to")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "100")), 1000),
                                    int(start) * 1000 if start else None, int(end) * 1000 if end else None)
        now = self.tape.clock()
        return json_response([candle_row(c, c.start_ms + seconds * 1000 <= now) for c in candles])

    def contract_of(self, request: web.Request) -> str:
        symbol = self.symbol_of(request.query.get("contract", ""))
        if symbol is None:
            raise gate_error("CONTRACT_NOT_FOUND", "Contract not found")
        return symbol

    async def contract_tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/tickers[?contract=]``: sizes in contracts (one lot each), the
        mark, index and funding rate of ``PerpPrices``."""
        symbols = [self.contract_of(request)] if request.query.get("contract") else list(self.markets)
        return json_response([self.contract_ticker(s) for s in symbols])

    def contract_ticker(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        contracts = str(round(Decimal(day.volume) / Decimal(repr(ladder.spec.lot))))
        return {
            "contract": self.native(symbol), "last": _plain(day.last), "change_percentage": f"{day.change_ratio * 100:.2f}",
            "total_size": self.open_contracts(symbol), "low_24h": _plain(day.low), "high_24h": _plain(day.high), "volume_24h": contracts,
            "volume_24h_base": day.volume, "volume_24h_quote": day.quote_volume, "volume_24h_settle": day.quote_volume,
            "mark_price": num(self.mark(symbol)), "index_price": num(self.index(symbol)),
            "funding_rate": num(self.funding_rate(symbol)), "funding_rate_indicative": num(self.funding_rate(symbol)),
            "highest_bid": _plain(ladder.price_str(bid)), "highest_size": str(bid_lots),
            "lowest_ask": _plain(ladder.price_str(ask)), "lowest_size": str(ask_lots),
        }

    def open_contracts(self, symbol: str) -> str:
        """The open interest (``sim/interest.py``) in contracts."""
        return str(round(open_interest(self.engine, symbol) / self.engine.markets[symbol].lot))

    async def contract_trades(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/trades``: newest first, ``size`` in contracts, negative for a taker sell."""
        symbol = self.contract_of(request)
        limit = int(request.query.get("limit", "100"))
        if not 1 <= limit <= 1000:
            raise gate_error("INVALID_PARAM_VALUE", "limit must be 1..1000")
        native = self.native(symbol)
        return json_response([futures_trade_row(native, p) for p in reversed(self.tape.recent(symbol, limit))])

    async def contract_funding_history(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/funding_rate?contract=[&from=][&to=][&limit=]``: settled rates
        (``t`` in seconds, ``r``) newest first, ``limit`` 1 to 1000 (default 100)."""
        symbol = self.contract_of(request)
        query = request.query
        try:
            start, end = (int(query[k]) * 1000 if k in query else None for k in ("from", "to"))
            limit = int(query.get("limit", "100"))
        except ValueError:
            raise gate_error("INVALID_PARAM_VALUE", "from, to and limit must be integers") from None
        if not 1 <= limit <= 1000:
            raise gate_error("INVALID_PARAM_VALUE", "limit must be 1..1000")
        rows = [{"t": s.ms // 1000, "r": num(s.rate)} for s in self.funding_history(symbol, start, end, limit)]
        return json_response(rows[::-1])

    async def contract_candlesticks(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/candlesticks``: oldest first, ``v`` in contracts, ``sum`` in USDT; ``limit`` up to 2000."""
        symbol = self.contract_of(request)
        query = request.query
        seconds = GATE_INTERVALS.get(query.get("interval", "5m"))
        if seconds is None:
            raise gate_error("INVALID_PARAM_VALUE", "invalid interval")
        start, end = query.get("from"), query.get("to")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "100")), 2000),
                                    int(start) * 1000 if start else None, int(end) * 1000 if end else None)
        lot = Decimal(repr(self.ladders[symbol].spec.lot))
        return json_response([{"t": c.start_ms // 1000, "v": round(Decimal(c.volume) / lot), "c": _plain(c.close),
                               "h": _plain(c.high), "l": _plain(c.low), "o": _plain(c.open), "sum": c.quote_volume}
                              for c in candles])

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": int(now * 1000), "update": int(now * 1000)}

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        channel = msg.get("channel", "")
        if channel.endswith(".ping"):
            self.client_pings += 1
            conn.send(self.envelope(channel[: -len("ping")] + "pong", "", {"error": None, "result": None}))
            return
        event = msg.get("event")
        payload = msg.get("payload") or []
        error = self.subscription_error(channel, event, payload)
        if error is not None:
            reply = {"payload": payload, "error": {"code": 2, "message": error}, "result": {"status": "fail"}}
        else:
            key = self.subscription_key(channel, payload)
            for symbol in self.subscribed_symbols(channel, payload):
                self.set_subscription(conn, symbol, key, event == "subscribe")
            reply = {"payload": payload, "result": {"status": "success"}}
        if "id" in msg:
            reply["id"] = msg["id"]
        conn.send(self.envelope(channel, event or "", reply))

    def subscription_error(self, channel: str, event: Any, payload: list[Any]) -> str | None:
        if event not in ("subscribe", "unsubscribe"):
            return f"unknown event {event!r}"
        if channel == self.book_channel:
            if not self.valid_book_payload(payload):
                return f"Invalid argument provided: {payload}"
            pairs = payload[:1]
        elif channel == self.trade_channel:
            pairs = payload
        else:
            try:
                streamed = self.stream_pairs(channel, payload)
            except ValueError as exc:
                return str(exc)
            if streamed is None:
                return f"unknown channel {channel}"
            pairs = streamed
        unknown = [p for p in pairs if self.symbol_of(p) is None]
        return f"unknown currency pair {unknown[0]}" if unknown else None

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) == 2 and payload[1] in self.intervals

    def subscribed_symbols(self, channel: str, payload: list[str]) -> list[str]:
        pairs = payload[:1] if channel == self.book_channel else self.stream_pairs(channel, payload) or payload
        return [s for s in (self.symbol_of(p) for p in pairs) if s is not None]

    def set_subscription(self, conn: SimConnection, symbol: str, channel: str, on: bool) -> None:
        channels: set[str] = conn.subs.setdefault(symbol, set())
        if on:
            channels.add(channel)
        else:
            channels.discard(channel)
            if not channels:
                del conn.subs[symbol]

    def envelope(self, channel: str, event: str, fields: dict[str, Any]) -> bytes:
        now = time.time()
        return orjson.dumps({"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event, **fields})

    def encode(self, symbol: str, changes: list[Change]) -> bytes | None:
        self.update_id[symbol] += len(changes)
        old_bids, old_asks = self.views[symbol]
        new_bids, new_asks = self.views[symbol] = self._window(symbol)
        bids = self._diff(old_bids, new_bids)
        asks = self._diff(old_asks, new_asks)
        if not bids and not asks:
            return None
        self.sent_count[symbol] += 1
        full = self.sent_count[symbol] % self.full_every == 0 and symbol not in self.faults.skip
        if full:
            bids, asks = list(new_bids.items()), list(new_asks.items())
        first = self.sent_id[symbol] + 1
        if self.faults.take("skip", symbol):
            self.update_id[symbol] += 1  # an update this client never hears of
            first += 1
        self.sent_id[symbol] = self.update_id[symbol]
        return self.book_frame(symbol, first, self.update_id[symbol], bids, asks, full)

    def _diff(self, old: View, new: View) -> list[tuple[int, int]]:
        return [(p, new.get(p, 0)) for p in old.keys() | new.keys() if new.get(p, 0) != old.get(p, 0)]

    def book_frame(
        self, symbol: str, first: int, last: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]], full: bool
    ) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result: dict[str, Any] = {"t": int(now * 1000)}
        if full:
            result["full"] = True
        result.update(
            {
                "l": str(self.depth),
                **self.update_extras(now),
                "s": self.native(symbol),
                "U": first,
                "u": last,
                "b": [self.level(ladder, p, q) for p, q in sorted(bids, reverse=True)],
                "a": [self.level(ladder, p, q) for p, q in sorted(asks)],
            }
        )
        return self.envelope(self.book_channel, "update", {"result": result})

    def update_extras(self, now: float) -> dict[str, Any]:
        return {"e": "depthUpdate", "E": int(now)}

    def frames_for(self, conn: SimConnection, symbol: str, encoded: bytes | None) -> list[Frame]:
        if encoded is None or self.book_channel not in conn.subs[symbol]:
            return []
        return [encoded]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result = {
            "id": trade_id,
            "id_market": trade_id,
            "create_time": int(now),
            "create_time_ms": f"{now * 1000:.4f}",
            "side": "buy" if buy else "sell",
            "currency_pair": self.native(symbol),
            "amount": ladder.size_str(lots, self.trade_places),
            "price": ladder.price_str(ticks, self.trade_places),
            "range": f"{trade_id}-{trade_id}",
        }
        return self.envelope(self.trade_channel, "update", {"result": result})


def trade_row(native: str, p: Print) -> dict[str, str]:
    return {"id": str(p.trade_id), "create_time": str(p.ms // 1000), "create_time_ms": f"{p.ms}.000",
            "currency_pair": native, "side": "buy" if p.buy else "sell", "role": "taker",
            "amount": _plain(p.size), "price": _plain(p.price), "sequence_id": str(p.trade_id)}


def futures_trade_row(contract: str, p: Print) -> dict[str, Any]:
    return {"id": p.trade_id, "create_time": p.ms / 1000, "create_time_ms": p.ms, "contract": contract,
            "size": p.lots if p.buy else -p.lots, "price": _plain(p.price)}


def candle_row(c: Candle, closed: bool) -> list[str]:
    """[time, quote volume, close, high, low, open, base volume, closed]."""
    return [str(c.start_ms // 1000), c.quote_volume, _plain(c.close), _plain(c.high), _plain(c.low), _plain(c.open),
            c.volume, "true" if closed else "false"]
