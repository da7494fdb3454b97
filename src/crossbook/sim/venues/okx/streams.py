"""Simulated OKX's public channels beyond books and trades, from the venue's own market.

On /ws/v5/public: ``tickers`` (the rolling day of its tape and its touch, as ``/market/ticker``),
and on its SWAPs ``mark-price`` (the book's mid, as ``/public/mark-price``), ``index-tickers`` of
the underlying (the spot market's mid where the venue lists it, else the SWAP's; as
``/market/index-tickers``), ``funding-rate`` (``/public/funding-rate``'s row) and ``open-interest``
(``/public/open-interest``'s row), and ``liquidation-orders`` of instType SWAP (one subscription
for every SWAP: the forced orders ``sim/liquidations.py`` draws from each one's book, ``side`` the
order's, ``posSide`` the liquidated position's, ``bkPx`` the last level the order reached, ``sz``
in contracts, each pushed the tick it is drawn). On /ws/v5/business: ``candle<bar>`` (candles of its tape, the
closed one with ``confirm`` "1" once its time is up, then the one forming). A channel on the wrong
endpoint is refused as OKX refuses it (60018).

Each tick the venue makes the frames of the channels some socket holds, once (tickers, marks,
indexes, funding and open interest at most once a second); each socket gets those it subscribed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....symbols import parse_standard
from ...liquidations import ForcedOrder, Liquidator
from ...market import Ladder, SimMarket, SimTrade
from ...perp_prices import OKX, FundingRule, PerpPrices
from ...server import Frame, SimConnection
from ...tape import Candle, DayStats, Tape
from .wire import CHANNELS, CONTRACTS, _trim, envelope, num

BUSINESS = "/ws/v5/business"
CANDLE_BARS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1H": 3600, "4H": 14_400, "1D": 86_400}
TICKER_CHANNELS = frozenset({"tickers"})
SWAP_CHANNELS = frozenset({"mark-price", "index-tickers", "funding-rate", "open-interest"})
LIQUIDATIONS = "liquidation-orders"  # subscribed by instType, not by instrument
THROTTLED = 1.0  # seconds between two frames of a channel other than candles
StreamFrames = dict[str, list[str]]  # channel -> this tick's frames of one symbol


class OkxStreams(PerpPrices):
    """What the venue publishes of one symbol's candles, ticker, mark, index, funding and open interest."""

    funding_rule: ClassVar[FundingRule] = OKX

    venue: ClassVar[str]
    markets: ClassVar[tuple[str, ...]]
    market: SimMarket
    tape: Tape
    ladders: dict[str, Ladder]
    connections: Any
    symbol_of: Callable[[str], str | None]  # SimVenue's

    def init_streams(self) -> None:
        self.candle_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.stream_sent: dict[tuple[str, str], float] = {}  # (symbol, channel) -> when last sent (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def funding_row(self, symbol: str) -> dict[str, str]:
        raise NotImplementedError

    def open_interest_row(self, symbol: str) -> dict[str, str]:
        raise NotImplementedError

    def candle_row(self, symbol: str, c: Candle, closed: bool) -> list[str]:
        raise NotImplementedError

    def ticker_row(self, symbol: str, day: DayStats) -> dict[str, Any]:
        raise NotImplementedError

    def size_text(self, symbol: str, lots: int) -> str:
        raise NotImplementedError

    def price_text(self, symbol: str, ticks: int) -> str:
        raise NotImplementedError

    def _event(self, conn: SimConnection, event: str, **fields: Any) -> str:
        raise NotImplementedError

    # ---- subscriptions ---------------------------------------------------------------------

    def stream_symbol(self, conn: SimConnection, channel: str, inst_id: str) -> str | None:
        """The symbol a subscription follows (``index-tickers``: the SWAP on that underlying), None
        when the channel is not served on this socket's endpoint or names nothing listed."""
        business = conn.path == BUSINESS
        if channel.startswith("candle"):
            return self.symbol_of(inst_id) if business and channel.removeprefix("candle") in CANDLE_BARS else None
        if business:
            return None
        if channel == "index-tickers":
            return next((s for s in CONTRACTS if self.underlying(s) == inst_id), None)
        symbol = self.symbol_of(inst_id)
        if channel in CHANNELS or channel in TICKER_CHANNELS:
            return symbol
        return symbol if channel in SWAP_CHANNELS and symbol in CONTRACTS else None

    def follows_inst_type(self, conn: SimConnection, op: str, arg: dict[str, Any]) -> bool:
        """Whether ``arg`` is a subscription by instType (``liquidation-orders``), handled here: every
        SWAP the venue lists follows (or stops following) the channel on ``conn``."""
        if arg.get("channel") != LIQUIDATIONS:
            return False
        inst_type = arg.get("instType")
        swaps = [s for s in self.markets if s in CONTRACTS]
        if inst_type != "SWAP" or conn.path == BUSINESS or not swaps:
            conn.send(self._event(conn, "error", code="60018",
                                  msg=f"Wrong URL or channel:{LIQUIDATIONS},instType:{inst_type} doesn't exist."))
            return True
        for symbol in swaps:
            channels: set[str] = conn.subs.setdefault(symbol, set())
            if op == "subscribe":
                channels.add(LIQUIDATIONS)
            else:
                channels.discard(LIQUIDATIONS)
                if not channels:
                    del conn.subs[symbol]
        conn.send(self._event(conn, op, arg={"channel": LIQUIDATIONS, "instType": inst_type}))
        return True

    def underlying(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    # ---- prices ---------------------------------------------------------------------------

    def mark_price(self, symbol: str) -> str:
        return num(self.mark(symbol))

    def index_price(self, symbol: str) -> str:
        """The underlying's index: its spot fair price (``PerpPrices``)."""
        return num(self.index(symbol))

    def mark_row(self, symbol: str) -> dict[str, str]:
        return {"instType": "SWAP", "instId": self.native(symbol), "markPx": _trim(self.mark_price(symbol)),
                "ts": str(self.tape.clock())}

    def index_row(self, symbol: str) -> dict[str, str]:
        price = _trim(self.index_price(symbol))
        return {"instId": self.underlying(symbol), "idxPx": price, "high24h": price, "low24h": price, "open24h": price,
                "sodUtc0": price, "sodUtc8": price, "ts": str(self.tape.clock())}

    def stream_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v5/public/mark-price", self.mark_prices),
                web.get("/api/v5/market/index-tickers", self.index_tickers)]

    async def mark_prices(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/mark-price?instType=SWAP[&instId=]``."""
        wanted = request.query.get("instId")
        return envelope([self.mark_row(s) for s in CONTRACTS if wanted in (None, self.native(s))])

    async def index_tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v5/market/index-tickers?instId=BTC-USDT`` (or ``quoteCcy=``: every index in it)."""
        wanted, quote = request.query.get("instId"), request.query.get("quoteCcy")
        rows = {self.underlying(s): self.index_row(s) for s in CONTRACTS}
        return envelope([r for index, r in rows.items()
                         if wanted in (None, index) and quote in (None, index.rsplit("-", 1)[-1])])

    # ---- frames ---------------------------------------------------------------------------

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades, and the frames of the other channels some socket holds for ``symbol``."""
        held = {c for conn in self.connections for c in conn.subs.get(symbol, ())}
        return super().encode_trades(symbol, trades), self.market_frames(symbol, held)  # type: ignore[misc]

    def market_frames(self, symbol: str, held: set[str]) -> StreamFrames:
        """A SWAP draws its forced order every tick (the same seed and ticks give the same ones,
        whoever listens)."""
        out: StreamFrames = {}
        forced = self.liquidator.draw(symbol, self.ladders[symbol], self.tape.clock()) if symbol in CONTRACTS else None
        if forced is not None and LIQUIDATIONS in held:
            out[LIQUIDATIONS] = [self.liquidation_frame(forced)]
        now = time.time()
        for channel in held - set(CHANNELS) - {LIQUIDATIONS}:
            candle = channel.startswith("candle")
            if not candle and now - self.stream_sent.get((symbol, channel), 0.0) < THROTTLED:
                continue
            frames = self.candle_frames(symbol, channel) if candle else [self.channel_frame(symbol, channel)]
            if frames:
                self.stream_sent[(symbol, channel)] = now
                out[channel] = frames
        return out

    def channel_frame(self, symbol: str, channel: str) -> str:
        if channel == "tickers":
            row = self.ticker_row(symbol, self.tape.day(symbol))
        elif channel == "mark-price":
            row = self.mark_row(symbol)
        elif channel == "index-tickers":
            return self.wrap(channel, self.underlying(symbol), self.index_row(symbol))
        elif channel == "funding-rate":
            row = self.funding_row(symbol)
        else:
            row = self.open_interest_row(symbol)
        return self.wrap(channel, self.native(symbol), row)

    @cached_property
    def liquidator(self) -> Liquidator:
        return Liquidator(self.market.seed, self.venue)

    def liquidation_frame(self, order: ForcedOrder) -> str:
        detail = {"bkLoss": "0", "bkPx": self.price_text(order.symbol, order.ticks), "ccy": "",
                  "posSide": "long" if order.sell else "short", "side": "sell" if order.sell else "buy",
                  "sz": self.size_text(order.symbol, order.lots), "ts": str(order.ms)}
        family = self.underlying(order.symbol)
        row = {"details": [detail], "instFamily": family, "instId": self.native(order.symbol), "instType": "SWAP",
               "uly": family}
        return orjson.dumps({"arg": {"channel": LIQUIDATIONS, "instType": "SWAP"}, "data": [row]}).decode()

    def wrap(self, channel: str, inst_id: str, row: Any) -> str:
        return orjson.dumps({"arg": {"channel": channel, "instId": inst_id}, "data": [row]}).decode()

    def candle_frames(self, symbol: str, channel: str) -> list[str]:
        """The candle that closed since the last tick (``confirm`` "1"), then the one forming; a
        candle without a trade is not published (nor listed by ``/market/candles``)."""
        seconds = CANDLE_BARS[channel.removeprefix("candle")]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.candle_open.get((symbol, seconds))
        self.candle_open[(symbol, seconds)] = opening
        native = self.native(symbol)
        frames = []
        if previous is not None and previous < opening:
            frames += [self.wrap(channel, native, self.candle_row(symbol, c, True))
                       for c in self.tape.candles(symbol, seconds, 1, previous, previous)]
        frames += [self.wrap(channel, native, self.candle_row(symbol, c, False))
                   for c in self.tape.candles(symbol, seconds, 1, opening, opening)]
        return frames


def frames_subscribed(conn: SimConnection, symbol: str, streams: StreamFrames) -> list[Frame]:
    """The frames of the channels ``conn`` holds for ``symbol``."""
    held = conn.subs.get(symbol, ())
    return [f for channel, frames in streams.items() if channel in held for f in frames]

