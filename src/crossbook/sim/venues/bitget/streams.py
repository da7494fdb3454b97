"""Simulated Bitget's public channels beyond books and trades, from the venue's own market.

``ticker`` (the rolling day of its tape and its touch; on USDT-FUTURES also the funding rate and its
next time, the mark and index prices, all as ``PerpPrices`` states them (what ``current-fund-rate``
answers too), and ``holdingAmount``, the simulator's open interest) at most once a second;
``candle<bar>`` each tick: the candle that closed since the last tick (pushed once its window has
ended, so its ``ts`` marks it final), then the one forming. A subscription is answered with a
``snapshot``: the ticker, or the candle forming (none before its first trade: a candle without a
trade is not published, nor listed by the REST candles).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web

from ...interest import open_interest
from ...market import Ladder
from ...perp_prices import PerpPrices
from ...server import SimConnection, json_response
from ...tape import Candle, Tape
from .errors import bitget_error
from .wire import _envelope, _num, _text

CANDLE_BARS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1H": 3600, "4H": 14_400, "1D": 86_400}
CANDLE_CHANNELS = frozenset(f"candle{bar}" for bar in CANDLE_BARS)
MARKET_CHANNELS = frozenset({"ticker", *CANDLE_CHANNELS})
# the mix REST candles' ``granularity`` (the channel's bar names, and a few Bitget adds)
MIX_GRANULARITIES: dict[str, int] = {**CANDLE_BARS, "3m": 180, "30m": 1800, "6H": 21_600, "12H": 43_200}
TICKER_EVERY = 1.0  # seconds between two ticker pushes of a symbol
StreamFrames = dict[str, list[str]]  # channel -> this tick's frames of one symbol


class BitgetStreams:
    """What the venue publishes of one symbol's ticker and candles."""

    inst_type: ClassVar[str]
    tape: Tape
    ladders: dict[str, Ladder]
    connections: Any
    engine: Any
    symbol_of: Callable[[str], str | None]  # SimVenue's

    def init_streams(self) -> None:
        self.candle_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.ticker_sent: dict[str, float] = {}  # symbol -> when its ticker was last pushed (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def arg(self, symbol: str, channel: str) -> dict[str, str]:
        return {"instType": self.inst_type, "channel": channel, "instId": self.native(symbol)}

    def push(self, action: str, symbol: str, channel: str, data: list[Any]) -> str:
        return _text({"action": action, "arg": self.arg(symbol, channel), "data": data, "ts": self.tape.clock()})

    # ---- subscribe -------------------------------------------------------------------------

    def market_snapshot(self, symbol: str, channel: str) -> str:
        """The ``snapshot`` a new subscription of ``channel`` gets."""
        if channel == "ticker":
            return self.push("snapshot", symbol, channel, [self.ticker_row(symbol)])
        seconds = CANDLE_BARS[channel.removeprefix("candle")]
        now = self.tape.clock()
        opening = now - now % (seconds * 1000)
        return self.push("snapshot", symbol, channel, [candle_row(c) for c in self.tape.candles(symbol, seconds, 1, opening, opening)])

    # ---- frames -----------------------------------------------------------------------------

    def market_frames(self, symbol: str) -> StreamFrames:
        """This tick's frames of ``symbol``'s channels some socket holds."""
        held = {c for conn in self.connections for c in conn.subs.get(symbol, ()) if c in MARKET_CHANNELS}
        out: StreamFrames = {}
        for channel in held:
            if channel in CANDLE_CHANNELS:
                frames = self.candle_frames(symbol, channel)
            elif time.time() - self.ticker_sent.get(symbol, 0.0) >= TICKER_EVERY:
                frames = [self.push("update", symbol, channel, [self.ticker_row(symbol)])]
                self.ticker_sent[symbol] = time.time()
            else:
                frames = []
            if frames:
                out[channel] = frames
        return out

    def candle_frames(self, symbol: str, channel: str) -> list[str]:
        seconds = CANDLE_BARS[channel.removeprefix("candle")]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.candle_open.get((symbol, seconds))
        self.candle_open[(symbol, seconds)] = opening
        candles = self.tape.candles(symbol, seconds, 1, previous, previous) if previous is not None and previous < opening else []
        candles += self.tape.candles(symbol, seconds, 1, opening, opening)
        return [self.push("update", symbol, channel, [candle_row(c)]) for c in candles]

    def ticker_row(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        row = {
            "instId": self.native(symbol), "lastPr": day.last, "open24h": day.open, "high24h": day.high, "low24h": day.low,
            "change24h": f"{day.change_ratio:.5f}", "bidPr": ladder.price_str(bid), "askPr": ladder.price_str(ask),
            "bidSz": ladder.size_str(bid_lots), "askSz": ladder.size_str(ask_lots), "baseVolume": day.volume,
            "quoteVolume": day.quote_volume, "openUtc": day.open, "changeUtc24h": f"{day.change_ratio:.5f}",
            "ts": str(day.close_ms),
        }
        if self.inst_type != "SPOT":
            row.update(self.contract_fields(symbol))
        return row

    def contract_fields(self, symbol: str) -> dict[str, str]:
        """A contract ticker's funding, mark, index and open interest."""
        assert isinstance(self, PerpPrices), "a contract venue prices its perpetuals"
        return {"fundingRate": _num(self.funding_rate(symbol)), "nextFundingTime": str(self.next_funding_ms(symbol)),
                "markPrice": _num(self.mark(symbol)), "indexPrice": _num(self.index(symbol)),
                "holdingAmount": _num(open_interest(self.engine, symbol)), "symbolType": "1", "symbol": self.native(symbol),
                "deliveryPrice": "0"}

    # ---- REST -------------------------------------------------------------------------------

    async def mix_candles(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/market/candles?symbol=&productType=&granularity=``: ``limit`` up to 1000
        (default 100), oldest first, [ts, open, high, low, close, base volume, quote volume]."""
        query = request.query
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None or query.get("productType", "").upper() != self.inst_type:
            raise bitget_error("40034", "Parameter symbol does not exist")
        seconds = MIX_GRANULARITIES.get(query.get("granularity", ""))
        if seconds is None:
            raise bitget_error("40034", "Parameter granularity does not exist")
        start, end = query.get("startTime"), query.get("endTime")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "100")), 1000),
                                    int(start) if start else None, int(end) if end else None)
        return json_response(_envelope([candle_row(c)[:7] for c in candles]))


def frames_subscribed(conn: SimConnection, symbol: str, streams: StreamFrames) -> list[str]:
    held = conn.subs.get(symbol, ())
    return [f for channel, frames in streams.items() if channel in held for f in frames]


def candle_row(c: Candle) -> list[str]:
    """[ts, open, high, low, close, base volume, quote volume, USDT volume] (the quote is USDT here)."""
    return [str(c.start_ms), c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.quote_volume]
