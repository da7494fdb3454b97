"""Simulated dYdX v4 indexer: REST ``/v4/perpetualMarkets`` and
``/v4/orderbooks/perpetualMarket/{ticker}``, and the WebSocket ``/v4/ws`` with a ``connected``
greeting, ``subscribe``/``unsubscribe`` for ``v4_orderbook`` and ``v4_trades`` (plain or
``batched``), ``subscribed`` answers carrying the initial state, ``unsubscribed`` acks,
``error`` frames, and protocol pings every 30 s.

As the real indexer (indexer/services/socks in dydxprotocol/v4-chain) does, ``message_id`` is
one counter per connection: a subscribe request takes its id on arrival but is answered only
after the initial state is fetched, so ``subscribed`` frames come late, out of id order; errors
about a malformed request repeat the current id; more than 2 subscribes to one channel and id
within a second are answered with an error and a closed socket. Each tick's book change goes
out as one message per side (the indexer sends one per order update), so a client sees its
book cross for a moment when the price moves up past the old best ask.

Fault ``skip``: the next message for the symbol on each connection skips one message_id.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import deque
from datetime import datetime, timezone
from typing import Any

import orjson
from aiohttp import WSCloseCode, web

from ...symbols import parse_standard
from ..market import Ladder
from ..server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response

BOOK = "v4_orderbook"
TRADES = "v4_trades"
CHANNELS = (BOOK, TRADES)
RECENT_TRADES = 100  # what /v4/trades/perpetualMarket/{ticker} returns by default
SUBSCRIBE_POINTS = 2  # subscribes per (connection, channel, id) ...
SUBSCRIBE_WINDOW = 1.0  # ... per this many seconds
QUANTUM_CONVERSION_EXPONENT = -9
HEIGHT_EPOCH = 1_660_000_000  # a plausible block height, one block a second
TRADE_IDS = uuid.UUID("0f9da948-a6fb-4c45-9edc-4685c3f3317d")
BOOK_VERSION = "1.0.0"
TRADES_VERSION = "2.1.0"

Levels = list[list[str]]


def _text(payload: Any) -> str:
    return orjson.dumps(payload).decode()


def _num(text: str) -> str:
    """The indexer's decimal strings carry no trailing zeros: "60000.1", "0.25", "3"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class DydxSim(SimVenue):
    venue = "dydx"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    ws_paths = ("/v4/ws",)
    server_ping_interval = 30.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    fills_per_tick = 3  # a block usually has several fills; only trades carry a time (latency)
    fetch_delay: tuple[float, float] = (0.005, 0.06)  # the initial-state fetch, seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.market.seed)
        self.recent: dict[str, deque[dict[str, Any]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._tasks: set[asyncio.Task[None]] = set()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().stop()

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v4/perpetualMarkets", self.perpetual_markets),
            web.get("/v4/orderbooks/perpetualMarket/{ticker}", self.orderbook),
        ]

    async def perpetual_markets(self, request: web.Request) -> web.Response:
        wanted = request.query.get("ticker")
        listed = [s for s in self.markets if wanted in (None, self.native(s))]
        return json_response({"markets": {self.native(s): self.market_info(s) for s in listed}})

    def market_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        spec = ladder.spec
        # quantums per base unit as the chain sets them: one step is 10^6 quantums
        atomic = -ladder.size_decimals - 6
        subticks_per_tick = round(spec.tick * 10 ** (atomic - QUANTUM_CONVERSION_EXPONENT + 6))
        best_bid, best_ask = ladder.top(True, 1), ladder.top(False, 1)
        oracle = ladder.price((best_bid[0][0] + best_ask[0][0]) // 2) if best_bid and best_ask else 0.0
        return {
            "clobPairId": str(self.markets.index(symbol)),
            "ticker": self.native(symbol),
            "status": "ACTIVE",
            "oraclePrice": _num(f"{oracle:.{ladder.price_decimals}f}"),
            "priceChange24H": "0",
            "volume24H": "0",
            "trades24H": 0,
            "nextFundingRate": "0",
            "initialMarginFraction": "0.02",
            "maintenanceMarginFraction": "0.012",
            "openInterest": "0",
            # strings, not the indexer's ints: ccxt's dydx create_order needs them as strings
            "atomicResolution": str(atomic),
            "quantumConversionExponent": str(QUANTUM_CONVERSION_EXPONENT),
            "tickSize": _num(ladder.price_str(1)),
            "stepSize": _num(ladder.size_str(1)),
            "stepBaseQuantums": 10**6,
            "subticksPerTick": subticks_per_tick,
            "marketType": "CROSS",
            "openInterestLowerCap": "0",
            "openInterestUpperCap": "0",
            "baseOpenInterest": "0",
            "defaultFundingRate1H": "0",
        }

    async def orderbook(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.match_info["ticker"])
        if symbol is None:
            error = {"value": request.match_info["ticker"], "msg": "ticker must be a valid ticker (BTC-USD, etc)", "param": "ticker", "location": "params"}
            return json_response({"errors": [error]}, status=400)
        return json_response(self.book_state(symbol))

    def book_state(self, symbol: str) -> dict[str, list[dict[str, str]]]:
        ladder = self.ladders[symbol]
        return {
            "bids": [self._level(ladder, p, q) for p, q in ladder.top(True, len(ladder.bids))],
            "asks": [self._level(ladder, p, q) for p, q in ladder.top(False, len(ladder.asks))],
        }

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> dict[str, str]:
        return {"price": _num(ladder.price_str(ticks)), "size": _num(ladder.size_str(lots))}

    # ---- WebSocket: requests ----------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["connection_id"] = str(uuid.uuid4())
        conn.state["message_id"] = 0
        conn.state["subscribes"] = {}  # channel + id -> (window start, subscribes in it)
        conn.send(_text({"type": "connected", "connection_id": conn.state["connection_id"], "message_id": 0}))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._error(conn, "Invalid message: could not parse", conn.state["message_id"])
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if not kind:
            self._error(conn, "Invalid message: type is required", conn.state["message_id"])
        elif kind == "ping":
            self.client_pings += 1  # the indexer accepts these and answers nothing
        elif kind not in ("subscribe", "unsubscribe"):
            self._error(conn, f"Invalid message type: {kind}", conn.state["message_id"])
        elif self._valid_request(conn, msg):
            if kind == "subscribe":
                self._subscribe(conn, msg["channel"], msg["id"], bool(msg.get("batched")))
            else:
                self._unsubscribe(conn, msg["channel"], msg["id"])

    def _valid_request(self, conn: SimConnection, msg: dict[str, Any]) -> bool:
        channel = msg.get("channel")
        if not channel:
            problem = "Invalid subscribe message: channel is required"
        elif channel not in CHANNELS:
            problem = f"Invalid channel: {channel}"
        elif not isinstance(msg.get("id"), str):
            problem = f"Invalid id: {msg.get('id')}"
        else:
            return True
        self._error(conn, problem, conn.state["message_id"])
        return False

    def _subscribe(self, conn: SimConnection, channel: str, ticker: str, batched: bool) -> None:
        mid = self._next_id(conn)
        symbol = self.symbol_of(ticker)
        if symbol is None:
            self._error(conn, f"Invalid subscription id for channel: ({channel}-{ticker})", mid)
        elif self._rate_limited(conn, channel + ticker):
            self._error(conn, f"Too many subscribe attempts for channel {channel}-{ticker}. Please reconnect and try again.", mid)
            self._spawn(self._close_rate_limited(conn))
        else:
            self._spawn(self._answer_subscribe(conn, symbol, channel, batched, mid))

    def _rate_limited(self, conn: SimConnection, key: str) -> bool:
        now = time.time()
        start, points = conn.state["subscribes"].get(key, (None, 0))
        if start is not None and now - start < SUBSCRIBE_WINDOW:
            conn.state["subscribes"][key] = (start, points + 1)
            return points + 1 > SUBSCRIBE_POINTS
        conn.state["subscribes"][key] = (now, 1)
        return False

    async def _close_rate_limited(self, conn: SimConnection) -> None:
        await asyncio.sleep(0.05)  # let the error frame go out first
        await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b'{"message":"Rate limited"}')

    async def _answer_subscribe(self, conn: SimConnection, symbol: str, channel: str, batched: bool, mid: int) -> None:
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        ticker = self.native(symbol)
        channels: dict[str, bool] = conn.subs.setdefault(symbol, {})
        if channel in channels:
            self._error(conn, f"Invalid subscribe message: already subscribed ({channel}-{ticker})", mid)
            return
        channels[channel] = batched
        contents = self.book_state(symbol) if channel == BOOK else {"trades": list(self.recent[symbol])}
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid, "channel": channel, "id": ticker, "contents": contents}))

    def _unsubscribe(self, conn: SimConnection, channel: str, ticker: str) -> None:
        symbol = self.symbol_of(ticker)
        if symbol is not None and symbol in conn.subs:
            conn.subs[symbol].pop(channel, None)
            if not conn.subs[symbol]:
                del conn.subs[symbol]
        mid = self._next_id(conn)
        conn.send(_text({"type": "unsubscribed", "connection_id": conn.state["connection_id"], "message_id": mid, "channel": channel, "id": ticker}))

    def _error(self, conn: SimConnection, message: str, mid: int) -> None:
        conn.send(_text({"type": "error", "message": message, "connection_id": conn.state["connection_id"], "message_id": mid}))

    def _next_id(self, conn: SimConnection) -> int:
        conn.state["message_id"] += 1
        return int(conn.state["message_id"])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- WebSocket: market data -------------------------------------------------------------

    def encode(self, symbol: str, changes: list[Change]) -> tuple[Levels, Levels, bool]:
        """This tick's levels per side and whether the skip fault takes an id; message ids are
        per connection, so ``frames_for`` frames them."""
        ladder = self.ladders[symbol]
        bids = [self._pair(ladder, p, q) for is_bid, p, q in changes if is_bid]
        asks = [self._pair(ladder, p, q) for is_bid, p, q in changes if not is_bid]
        return bids, asks, self.faults.take("skip", symbol)

    def _pair(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [_num(ladder.price_str(ticks)), _num(ladder.size_str(lots)) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[Levels, Levels, bool]) -> list[Frame]:
        bids, asks, skip = encoded
        if skip:
            conn.state["message_id"] += 1  # an id spent on a message this connection never gets
        channels: dict[str, bool] = conn.subs[symbol]
        if BOOK not in channels:
            return []
        updates = ([{"bids": bids}] if bids else []) + ([{"asks": asks}] if asks else [])
        return self._data(conn, BOOK, self.native(symbol), BOOK_VERSION, updates, channels[BOOK])

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[dict[str, Any]]) -> list[Frame]:
        channels: dict[str, bool] = conn.subs[symbol]
        if TRADES not in channels or not encoded:
            return []
        return self._data(conn, TRADES, self.native(symbol), TRADES_VERSION, [{"trades": encoded}], channels[TRADES])

    def _data(self, conn: SimConnection, channel: str, ticker: str, version: str, updates: list[dict[str, Any]], batched: bool) -> list[Frame]:
        """A batched subscription gets the updates in one ``channel_batch_data``, others one
        ``channel_data`` each."""
        if batched:
            return [self._message(conn, "channel_batch_data", channel, ticker, version, updates)] if updates else []
        return [self._message(conn, "channel_data", channel, ticker, version, contents) for contents in updates]

    def _message(self, conn: SimConnection, kind: str, channel: str, ticker: str, version: str, contents: Any) -> str:
        mid = self._next_id(conn)
        return _text({"type": kind, "connection_id": conn.state["connection_id"], "message_id": mid, "id": ticker, "channel": channel, "version": version, "contents": contents})

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> list[dict[str, Any]]:
        """A block's fills, published together in one trades message per connection."""
        ladder = self.ladders[symbol]
        out = []
        for t in trades:
            trade = {
                "id": str(uuid.uuid5(TRADE_IDS, f"{symbol}:{t.trade_id}")),
                "side": "BUY" if t.buy else "SELL",
                "size": _num(ladder.size_str(t.lots)),
                "price": _num(ladder.price_str(t.ticks)),
                "type": "LIMIT",
                "createdAt": _iso_now(),
                "createdAtHeight": str(int(time.time()) - HEIGHT_EPOCH),
            }
            out.append(trade)
            self.recent[symbol].appendleft(trade)  # newest first, as the indexer lists them
        return out


SIMS: dict[str, type[SimVenue]] = {
    "dydx": DydxSim,
}
