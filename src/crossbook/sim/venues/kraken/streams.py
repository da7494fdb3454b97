"""Simulated Kraken's WebSocket v2 ``ticker`` and ``ohlc`` channels, from the venue's own tape.

Both publish on trades, as Kraken's do: ``ohlc`` the candle of each subscribed interval the tick's
last trade fell in (so a candle's last frame carries its final figures), ``ticker`` the rolling day
and the touch, at most once a second (the day is a walk over the kept prints). Prices go out as
JSON numbers, as Kraken prints them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from ...market import Ladder
from ...tape import Candle, Tape
from .wire import QTY_PLACES

OHLC_MINUTES = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})
TICKER_EVERY = 1.0  # seconds between two ticker frames of a symbol


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as Kraken's RFC 3339 with nanoseconds: 2023-10-04T16:25:00.000000000Z."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}000000Z"


class KrakenStreams:
    """Frames of the ``ticker`` and ``ohlc`` channels a venue's sockets hold."""

    tape: Tape
    ladders: dict[str, Ladder]

    def init_streams(self) -> None:
        self.ticker_sent: dict[str, float] = {}  # symbol -> when its last ticker frame went out (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def market_frames(self, symbol: str, held: set[str]) -> dict[str, str]:
        """This tick's frame of each of ``held`` ("ticker", "ohlc:<minutes>"), made once for every
        socket; called only on a tick with trades."""
        out: dict[str, str] = {}
        now = time.time()
        for key in held:
            if key == "ticker":
                if now - self.ticker_sent.get(symbol, 0.0) >= TICKER_EVERY:
                    self.ticker_sent[symbol] = now
                    out[key] = self.ticker_frame(symbol, "update")
            elif key.startswith("ohlc:"):
                frame = self.ohlc_frame(symbol, int(key[5:]), "update")
                if frame is not None:
                    out[key] = frame
        return out

    def ticker_frame(self, symbol: str, kind: str) -> str:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        change = Decimal(day.last) - Decimal(day.open)
        entry = {
            "symbol": self.native(symbol),
            "bid": float(ladder.price_str(bid[0][0])) if bid else 0.0,
            "bid_qty": float(ladder.size_str(bid[0][1], QTY_PLACES)) if bid else 0.0,
            "ask": float(ladder.price_str(ask[0][0])) if ask else 0.0,
            "ask_qty": float(ladder.size_str(ask[0][1], QTY_PLACES)) if ask else 0.0,
            "last": float(day.last), "volume": float(day.volume), "vwap": float(day.vwap),
            "low": float(day.low), "high": float(day.high), "change": float(change),
            "change_pct": round(float(day.change_ratio) * 100, 2),
        }
        return orjson.dumps({"channel": "ticker", "type": kind, "data": [entry]}).decode()

    def ohlc_frame(self, symbol: str, minutes: int, kind: str) -> str | None:
        """The candle of the newest print (None before any)."""
        prints = self.tape.prints[symbol]
        if not prints:
            return None
        width = minutes * 60_000
        opening = prints[-1].ms - prints[-1].ms % width
        candles = self.tape.candles(symbol, minutes * 60, 1, opening, opening)
        if not candles:
            return None
        return orjson.dumps({"channel": "ohlc", "type": kind, "timestamp": iso_ms(self.tape.clock()),
                             "data": [self.ohlc_entry(symbol, candles[0], minutes)]}).decode()

    def ohlc_entry(self, symbol: str, c: Candle, minutes: int) -> dict[str, object]:
        vwap = Decimal(c.quote_volume) / Decimal(c.volume)
        return {"symbol": self.native(symbol), "open": float(c.open), "high": float(c.high), "low": float(c.low),
                "close": float(c.close), "trades": c.count, "volume": float(c.volume), "vwap": float(vwap),
                "interval_begin": iso_ms(c.start_ms), "interval": minutes,
                "timestamp": iso_ms(c.start_ms + minutes * 60_000)}
