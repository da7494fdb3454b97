"""Simulated Gate's public channels beyond books and trades, from the venue's own market.

Spot (``/ws/v4/``): ``spot.tickers`` (``/spot/tickers``' row without the sizes: the rolling day of
its tape and its touch) and ``spot.candlesticks`` ([interval, pair]: candles of its tape, ``v`` the
quote volume, ``a`` the base amount). Perpetuals (``/v4/ws/usdt``): ``futures.tickers`` (the
``/futures/usdt/tickers`` row without the touch: the day, mark, index and funding of
``sim/perp_prices.py``, ``total_size`` the open interest in contracts) and ``futures.candlesticks``
(``v`` in contracts). Tickers go out at most once a second, as on Gate; a candle goes out on the
tick a trade changed it, and once more, final (``w`` true), on the first tick after its time is up.
The simulator has no liquidations: ``futures.public_liquidates`` is not served.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, ClassVar

from ...market import Ladder, SimTrade
from ...server import Frame, SimConnection
from ...tape import Candle, Tape
from .wire import _plain

GATE_INTERVALS: dict[str, int] = {
    "10s": 10, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14_400, "8h": 28_800, "1d": 86_400,
    "7d": 604_800, "30d": 2_592_000,
}
STREAM_INTERVALS = frozenset(GATE_INTERVALS) - {"30d"}  # the candlesticks channel's, the REST ones less 30d
THROTTLED = 1.0  # seconds between two ticker frames of a symbol
StreamFrames = dict[str, list[Frame]]  # subscription key -> this tick's frames of one symbol
TOUCH_FIELDS = ("highest_bid", "highest_size", "lowest_ask", "lowest_size")


class GateStreams:
    """What the venue publishes of one symbol's ticker and candles."""

    ticker_channel: ClassVar[str] = "spot.tickers"
    candle_channel: ClassVar[str] = "spot.candlesticks"
    trade_channel: ClassVar[str]
    pair_param: ClassVar[str]
    tape: Tape
    ladders: dict[str, Ladder]
    connections: Any

    def init_streams(self) -> None:
        self.candle_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.ticker_sent: dict[str, float] = {}  # symbol -> when its ticker last went out (wall time)

    @property
    def contracts(self) -> bool:
        return self.pair_param == "contract"

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def envelope(self, channel: str, event: str, fields: dict[str, Any]) -> bytes:
        raise NotImplementedError

    def ticker(self, symbol: str) -> dict[str, str]:
        raise NotImplementedError

    def contract_ticker(self, symbol: str) -> dict[str, str]:
        raise NotImplementedError

    # ---- subscriptions ----------------------------------------------------------------------

    def stream_pairs(self, channel: str, payload: list[Any]) -> list[Any] | None:
        """The pairs a ticker or candle subscription names (None: not one of those channels);
        ValueError for a payload Gate refuses."""
        if channel == self.ticker_channel:
            return payload
        if channel != self.candle_channel:
            return None
        if len(payload) != 2 or payload[0] not in STREAM_INTERVALS:
            raise ValueError(f"Invalid argument provided: {payload}")
        return payload[1:]

    def subscription_key(self, channel: str, payload: list[Any]) -> str:
        """What a subscription holds in ``conn.subs``: the channel, and a candle's interval."""
        return f"{channel}:{payload[0]}" if channel == self.candle_channel else channel

    # ---- frames -----------------------------------------------------------------------------

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades, and the ticker and candle frames some socket holds for ``symbol``."""
        held = {key for conn in self.connections for key in conn.subs.get(symbol, ())}
        return super().encode_trades(symbol, trades), self.stream_frames(symbol, held, bool(trades))  # type: ignore[misc]

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        trades, streams = encoded
        held = conn.subs[symbol]
        out = list(trades) if self.trade_channel in held else []
        return out + [f for key, frames in streams.items() if key in held for f in frames]

    def stream_frames(self, symbol: str, held: set[str], traded: bool) -> StreamFrames:
        out: StreamFrames = {}
        now = time.time()
        if self.ticker_channel in held and now - self.ticker_sent.get(symbol, 0.0) >= THROTTLED:
            self.ticker_sent[symbol] = now
            out[self.ticker_channel] = [self.ticker_frame(symbol)]
        prefix = f"{self.candle_channel}:"
        for key in held:
            if key.startswith(prefix):
                frames = self.candle_frames(symbol, key.removeprefix(prefix), traded)
                if frames:
                    out[key] = frames
        return out

    def ticker_frame(self, symbol: str) -> bytes:
        if self.contracts:
            row = {k: v for k, v in self.contract_ticker(symbol).items() if k not in TOUCH_FIELDS}
            return self.envelope(self.ticker_channel, "update", {"result": [row]})
        row = {k: v for k, v in self.ticker(symbol).items() if k not in ("highest_size", "lowest_size")}
        return self.envelope(self.ticker_channel, "update", {"result": row})

    def candle_frames(self, symbol: str, name: str, traded: bool) -> list[Frame]:
        """The candle whose time ran out since the last tick (final), then the one forming if this
        tick's trades changed it; a candle without a trade is not published (nor listed by REST)."""
        seconds = GATE_INTERVALS[name]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.candle_open.get((symbol, seconds))
        self.candle_open[(symbol, seconds)] = opening
        out: list[Frame] = []
        if previous is not None and previous < opening:
            out += [self.candle_frame(symbol, name, c, True) for c in self.tape.candles(symbol, seconds, 1, previous, previous)]
        if traded:
            out += [self.candle_frame(symbol, name, c, False) for c in self.tape.candles(symbol, seconds, 1, opening, opening)]
        return out

    def candle_frame(self, symbol: str, name: str, c: Candle, closed: bool) -> bytes:
        row: dict[str, Any] = {"t": str(c.start_ms // 1000), "v": c.quote_volume, "c": _plain(c.close), "h": _plain(c.high),
                               "l": _plain(c.low), "o": _plain(c.open), "n": f"{name}_{self.native(symbol)}", "a": c.volume,
                               "w": closed}
        if not self.contracts:
            return self.envelope(self.candle_channel, "update", {"result": row})
        lots = round(Decimal(c.volume) / Decimal(repr(self.ladders[symbol].spec.lot)))
        row.update({"t": c.start_ms // 1000, "v": lots})
        return self.envelope(self.candle_channel, "update", {"result": [row]})
