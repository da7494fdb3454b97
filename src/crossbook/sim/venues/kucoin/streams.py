"""Simulated KuCoin's public topics beyond level2 and match, from the venue's own market.

``/market/snapshot:{symbol}`` (``trade.snapshot``, every 2 s as on KuCoin: the rolling day of its
tape and its touch, numbers as KuCoin sends them, not strings) and ``/market/candles:{symbol}_{type}``
(candles of its tape: ``trade.candles.add`` on the first trade of a new candle, ``trade.candles.update``
on each later tick a trade changed it; KuCoin sends no final candle). A socket gets ``match``
frames only for the symbols it subscribed ``/market/match`` for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from ...market import Ladder, SimTrade
from ...server import Frame, SimConnection
from ...tape import Candle, Tape
from .wire import CHANNELS, text, trim

CANDLE_TYPES: dict[str, int] = {
    "1min": 60, "3min": 180, "5min": 300, "15min": 900, "30min": 1800, "1hour": 3600, "2hour": 7200, "4hour": 14_400,
    "6hour": 21_600, "8hour": 28_800, "12hour": 43_200, "1day": 86_400, "1week": 604_800, "1month": 2_592_000,
}
SNAPSHOT_EVERY = 2.0  # seconds between two snapshot frames of a symbol
StreamFrames = dict[str, list[Frame]]  # topic channel ("snapshot", "candles_1min") -> this tick's frames of one symbol


def candle_row(c: Candle) -> list[str]:
    """[start (seconds), open, close, high, low, volume (base), turnover (quote)], as REST and the stream send it."""
    return [str(c.start_ms // 1000), trim(c.open), trim(c.close), trim(c.high), trim(c.low), c.volume, c.quote_volume]


class KucoinStreams:
    """What the venue publishes of one symbol's snapshot and candles."""

    markets: ClassVar[tuple[str, ...]]
    tape: Tape
    ladders: dict[str, Ladder]
    connections: Any
    sequence: dict[str, int]
    symbol_of: Callable[[str], str | None]  # SimVenue's

    def init_streams(self) -> None:
        self.candle_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of the newest candle sent
        self.snapshot_sent: dict[str, float] = {}  # symbol -> when its snapshot last went out (wall time)

    # ---- subscriptions ----------------------------------------------------------------------

    def topic_entries(self, prefix: str, names: list[str]) -> list[tuple[str, str]] | None:
        """The (channel, symbol) pairs a topic names, None when it names a topic KuCoin does not have."""
        channel = CHANNELS.get(prefix)
        if channel is not None:
            symbols = [self.symbol_of(n) for n in names]
            return [(channel, s) for s in symbols if s is not None] if None not in symbols else None
        if prefix != "/market/candles":
            return None
        out = []
        for name in names:
            pair, _, kind = name.rpartition("_")
            symbol = self.symbol_of(pair)
            if symbol is None or kind not in CANDLE_TYPES:
                return None
            out.append((f"candles_{kind}", symbol))
        return out

    # ---- frames -----------------------------------------------------------------------------

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades, and the snapshot and candle frames some socket holds for ``symbol``."""
        held = {channel for conn in self.connections for channel, s in conn.state.get("topics", ()) if s == symbol}
        return super().encode_trades(symbol, trades), self.stream_frames(symbol, held, bool(trades))  # type: ignore[misc]

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        trades, streams = encoded
        topics = conn.state.get("topics", ())
        out = list(trades) if ("match", symbol) in topics else []
        return out + [f for channel, frames in streams.items() if (channel, symbol) in topics for f in frames]

    def stream_frames(self, symbol: str, held: set[str], traded: bool) -> StreamFrames:
        out: StreamFrames = {}
        now = time.time()
        if "snapshot" in held and now - self.snapshot_sent.get(symbol, 0.0) >= SNAPSHOT_EVERY:
            self.snapshot_sent[symbol] = now
            out["snapshot"] = [self.snapshot_frame(symbol)]
        if traded:
            for channel in held:
                if channel.startswith("candles_"):
                    out[channel] = self.candle_frames(symbol, channel.removeprefix("candles_"))
        return out

    def snapshot_frame(self, symbol: str) -> str:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        base, quote = symbol.split("-")
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        data = {
            "averagePrice": float(day.vwap), "baseCurrency": base, "board": 1,
            "buy": float(ladder.price_str(bid[0][0])) if bid else None, "changePrice": float(day.change),
            "changeRate": round(float(day.change_ratio), 4), "close": float(day.last), "datetime": day.close_ms,
            "high": float(day.high), "lastTradedPrice": float(day.last), "low": float(day.low), "makerCoefficient": 1,
            "marginTrade": False, "mark": 0, "market": quote, "open": float(day.open), "quoteCurrency": quote,
            "sell": float(ladder.price_str(ask[0][0])) if ask else None, "sort": 100, "symbol": symbol, "symbolCode": symbol,
            "takerCoefficient": 1, "trading": True, "vol": float(day.volume), "volValue": float(day.quote_volume),
        }
        return text({"topic": f"/market/snapshot:{symbol}", "type": "message", "subject": "trade.snapshot",
                     "data": {"sequence": str(self.sequence[symbol]), "data": data}})

    def candle_frames(self, symbol: str, kind: str) -> list[Frame]:
        """The candle a trade of this tick changed: ``add`` if it is new, else ``update``."""
        seconds = CANDLE_TYPES[kind]
        now = self.tape.clock()
        opening = now - now % (seconds * 1000)
        candles = self.tape.candles(symbol, seconds, 1, opening, opening)
        if not candles:
            return []
        new = self.candle_open.get((symbol, seconds), -1) < opening
        self.candle_open[(symbol, seconds)] = opening
        return [text({"data": {"symbol": symbol, "candles": candle_row(candles[0]), "time": time.time_ns()},
                      "subject": "trade.candles.add" if new else "trade.candles.update",
                      "topic": f"/market/candles:{symbol}_{kind}", "type": "message"})]
