"""Simulated MEXC's protobuf streams beyond depth and deals, from the venue's own market.

``spot@public.kline.v3.api.pb@SYM@<interval>`` (``PublicSpotKlineV3Api``, body 308): each tick the
candle that closed since the last tick (its final figures, sent once its window has ended), then the
one forming; a candle without a trade is not published (nor listed by ``/api/v3/klines``).
``spot@public.miniTicker.v3.api.pb@SYM@<zone>`` (``PublicMiniTickerV3Api``, body 309): the rolling day
of its tape at most once a second. Each wrapper's ``sendTime`` is the venue's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ....venues.protowire import string_field, varint_field
from ...tape import Candle, Tape
from .wire import wrapper

KLINE = "public.kline.v3.api.pb"
MINI_TICKER = "public.miniTicker.v3.api.pb"
KLINE_SECONDS: dict[str, int] = {
    "Min1": 60, "Min5": 300, "Min15": 900, "Min30": 1800, "Min60": 3600, "Hour4": 14_400, "Hour8": 28_800, "Day1": 86_400,
}
TICKER_EVERY = 1.0  # seconds between two miniTicker pushes of a symbol
StreamFrames = dict[str, list[bytes]]  # the subscription's kind -> this tick's frames of one symbol


class MexcStreams:
    """What the venue publishes of one symbol's klines and mini ticker."""

    tape: Tape
    connections: Any
    symbol_of: Callable[[str], str | None]  # SimVenue's

    def init_streams(self) -> None:
        self.kline_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.ticker_sent: dict[str, float] = {}  # symbol -> when its mini ticker last went (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def parse_market_stream(self, parts: list[str]) -> tuple[str, str] | None:
        """``spot@public.kline.v3.api.pb@SYM@Min1`` -> (symbol, "kline@Min1"), the miniTicker's ->
        (symbol, its kind); None if not one of them."""
        if len(parts) != 4 or parts[0] != "spot" or parts[1] not in (KLINE, MINI_TICKER):
            return None
        if parts[1] == KLINE and parts[3] not in KLINE_SECONDS:
            return None
        symbol = self.symbol_of(parts[2])
        if symbol is None:
            return None
        return symbol, f"{KLINE}@{parts[3]}" if parts[1] == KLINE else MINI_TICKER

    def market_frames(self, symbol: str) -> StreamFrames:
        """This tick's frames of ``symbol``'s kline and ticker subscriptions some socket holds."""
        held = {(kind, channel) for conn in self.connections for kind, channel in conn.subs.get(symbol, {}).items()
                if kind.startswith(KLINE) or kind == MINI_TICKER}
        out: StreamFrames = {}
        for kind, channel in held:
            if kind == MINI_TICKER:
                if time.time() - self.ticker_sent.get(symbol, 0.0) < TICKER_EVERY:
                    continue
                self.ticker_sent[symbol] = time.time()
                out[kind] = [self.ticker_frame(symbol, channel)]
            else:
                out[kind] = self.kline_frames(symbol, kind.rpartition("@")[2], channel)
        return out

    def kline_frames(self, symbol: str, name: str, channel: str) -> list[bytes]:
        seconds = KLINE_SECONDS[name]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.kline_open.get((symbol, seconds))
        self.kline_open[(symbol, seconds)] = opening
        candles = self.tape.candles(symbol, seconds, 1, previous, previous) if previous is not None and previous < opening else []
        candles += self.tape.candles(symbol, seconds, 1, opening, opening)
        native = self.native(symbol)
        return [wrapper(channel, native, now, 308, kline(name, seconds, c)) for c in candles]

    def ticker_frame(self, symbol: str, channel: str) -> bytes:
        day = self.tape.day(symbol)
        body = (string_field(1, self.native(symbol)) + string_field(2, day.last) + string_field(3, f"{day.change_ratio:.4f}")
                + string_field(4, f"{day.change_ratio:.4f}") + string_field(5, day.high) + string_field(6, day.low)
                + string_field(7, day.quote_volume) + string_field(8, day.volume))
        return wrapper(channel, self.native(symbol), self.tape.clock(), 309, body)


def kline(name: str, seconds: int, c: Candle) -> bytes:
    """PublicSpotKlineV3Api: interval 1, windowStart 2 (s), opening 3, closing 4, highest 5, lowest 6,
    volume 7, amount 8, windowEnd 9 (s)."""
    start = c.start_ms // 1000
    return (string_field(1, name) + varint_field(2, start) + string_field(3, c.open) + string_field(4, c.close)
            + string_field(5, c.high) + string_field(6, c.low) + string_field(7, c.volume) + string_field(8, c.quote_volume)
            + varint_field(9, start + seconds))
