"""Simulated Binance's public streams beyond depth and trades, from the venue's own market:
``<symbol>@kline_<interval>`` (candles of its tape, the final one with ``x`` true once its time is
up), ``@ticker`` (the rolling day of its tape, spot with the touch), ``@bookTicker`` (its touch) and,
on futures, ``@markPrice@1s`` (what ``premiumIndex`` answers: mark, index, funding).

Each tick the venue makes the frames of the streams some socket holds, once; each socket then gets
those of the streams it subscribed. USD-M's ``@forceOrder`` is ``liquidations.py``'s.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import orjson

from ...tape import Candle, Tape
from .wire import BINANCE_INTERVALS, binance_ticker

THROTTLED = {"ticker": 1.0, "markPrice@1s": 1.0}  # seconds between two frames of these streams
StreamFrames = dict[str, list[str]]  # stream name without the symbol -> this tick's frames


class MarketStreams:
    """What the venue publishes of one symbol's candles, ticker, touch and mark price."""

    venue: ClassVar[str]
    api: ClassVar[str]
    places: ClassVar[int | None]
    tape: Tape

    def init_streams(self) -> None:
        self.kline_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.stream_sent: dict[tuple[str, str], float] = {}  # (symbol, stream) -> when last sent (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def premium_json(self, symbol: str) -> dict[str, Any] | None:
        """``premiumIndex``'s object for ``symbol`` (None on spot: no mark price)."""
        return None

    def touch(self, symbol: str) -> tuple[str, str, str, str] | None:
        raise NotImplementedError

    def update_ids(self, symbol: str) -> int:
        raise NotImplementedError

    def market_frames(self, symbol: str, held: set[str]) -> StreamFrames:
        """This tick's frames of ``symbol``'s streams among ``held`` (every "<native>@<stream>" some
        socket holds)."""
        prefix = f"{self.native(symbol).lower()}@"
        wanted = [s.removeprefix(prefix) for s in held if s.startswith(prefix)]
        out: StreamFrames = {}
        now = time.time()
        for stream in wanted:
            every = THROTTLED.get(stream)
            if every is not None and now - self.stream_sent.get((symbol, stream), 0.0) < every:
                continue
            frames = self.stream_frames(symbol, stream)
            if frames:
                self.stream_sent[(symbol, stream)] = now
                out[stream] = frames
        return out

    def stream_frames(self, symbol: str, stream: str) -> list[str]:
        if stream.startswith("kline_"):
            seconds = BINANCE_INTERVALS.get(stream.removeprefix("kline_"))
            return self.kline_frames(symbol, stream, seconds) if seconds else []
        events = {"ticker": self.ticker_event, "bookTicker": self.book_ticker_event,
                  "markPrice@1s": self.mark_price_event}
        make = events.get(stream)
        event = make(symbol) if make is not None else None
        return [self.wrap(symbol, stream, event)] if event is not None else []

    def wrap(self, symbol: str, stream: str, event: dict[str, Any]) -> str:
        return orjson.dumps({"stream": f"{self.native(symbol).lower()}@{stream}", "data": event}).decode()

    def kline_frames(self, symbol: str, stream: str, seconds: int) -> list[str]:
        """The candle that closed since the last tick (final), then the one forming; a candle
        without a trade is not published (nor listed by ``klines``)."""
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.kline_open.get((symbol, seconds))
        self.kline_open[(symbol, seconds)] = opening
        frames = []
        if previous is not None and previous < opening:
            frames += [self.wrap(symbol, stream, self.kline_event(symbol, c, seconds, True, now))
                       for c in self.tape.candles(symbol, seconds, 1, previous, previous)]
        frames += [self.wrap(symbol, stream, self.kline_event(symbol, c, seconds, False, now))
                   for c in self.tape.candles(symbol, seconds, 1, opening, opening)]
        return frames

    def kline_event(self, symbol: str, c: Candle, seconds: int, closed: bool, now: int) -> dict[str, Any]:
        native = self.native(symbol)
        name = next(n for n, s in BINANCE_INTERVALS.items() if s == seconds)
        return {"e": "kline", "E": now, "s": native, "k": {
            "t": c.start_ms, "T": c.start_ms + seconds * 1000 - 1, "s": native, "i": name, "f": 0, "L": c.count - 1,
            "o": c.open, "c": c.close, "h": c.high, "l": c.low, "v": c.volume, "n": c.count, "x": closed,
            "q": c.quote_volume, "V": "0", "Q": "0", "B": "0"}}

    def ticker_event(self, symbol: str) -> dict[str, Any]:
        """``24hrTicker``: the ``ticker/24hr`` figures; spot's carries the touch, USD-M's does not."""
        day = binance_ticker(self.tape, symbol, self.native(symbol))
        event = {"e": "24hrTicker", "E": self.tape.clock(), "s": day["symbol"], "p": day["priceChange"],
                 "P": day["priceChangePercent"], "w": day["weightedAvgPrice"], "x": day["prevClosePrice"],
                 "c": day["lastPrice"], "Q": day["lastQty"]}
        touch = self.touch(symbol)
        if self.api == "/api/v3" and touch is not None:
            event.update(zip(("b", "B", "a", "A"), touch, strict=True))
        event.update({"o": day["openPrice"], "h": day["highPrice"], "l": day["lowPrice"], "v": day["volume"],
                      "q": day["quoteVolume"], "O": day["openTime"], "C": day["closeTime"], "F": day["firstId"],
                      "L": day["lastId"], "n": day["count"]})
        return event

    def book_ticker_event(self, symbol: str) -> dict[str, Any] | None:
        touch = self.touch(symbol)
        if touch is None:
            return None
        event: dict[str, Any] = {"u": self.update_ids(symbol), "s": self.native(symbol)}
        if self.api != "/api/v3":  # futures name the event and stamp it
            now = self.tape.clock()
            event = {"e": "bookTicker", "u": event["u"], "E": now, "T": now, "s": event["s"]}
        event.update(zip(("b", "B", "a", "A"), touch, strict=True))
        return event

    def mark_price_event(self, symbol: str) -> dict[str, Any] | None:
        premium = self.premium_json(symbol)
        if premium is None:
            return None
        return {"e": "markPriceUpdate", "E": premium["time"], "s": premium["symbol"], "p": premium["markPrice"],
                "i": premium["indexPrice"], "P": premium["estimatedSettlePrice"], "r": premium["lastFundingRate"],
                "T": premium["nextFundingTime"]}
