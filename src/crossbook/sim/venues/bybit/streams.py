"""Simulated Bybit's public topics beyond book and trades, from the venue's own market:
``kline.{interval}.{symbol}`` (candles of its tape, the closed one with ``confirm`` true once its
time is up), ``tickers.{symbol}`` (spot: the rolling day of its tape, snapshots only; linear and
inverse: exactly what ``/v5/market/tickers`` answers, mark, index, funding and open interest
included, as a snapshot on subscribe and then deltas of the fields that changed) and, on
contracts, ``allLiquidation.{symbol}`` (the forced orders ``sim/liquidations.py`` draws from the
venue's own book; ``S`` the liquidated position's side, so a long's forced sell says "Buy", ``p``
the last level the order reached, ``v`` its size in the orders' unit).

Each tick the venue makes the frames of the topics some socket holds, once; each socket then gets
those it subscribed.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any, ClassVar

import orjson

from ...liquidations import ForcedOrder, Liquidator
from ...market import Ladder, SimMarket
from ...server import Frame, SimConnection
from ...tape import Candle, Tape

BYBIT_INTERVALS: dict[str, int] = {
    **{str(m): m * 60 for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)}, "D": 86_400, "W": 604_800, "M": 2_592_000,
}
TICKER_EVERY = 0.5  # seconds (wall time) between two ``tickers`` frames of a symbol
SPOT_TICKER_FIELDS = ("symbol", "lastPrice", "highPrice24h", "lowPrice24h", "prevPrice24h", "volume24h",
                      "turnover24h", "price24hPcnt")
TopicFrames = dict[str, list[bytes]]  # topic name without the symbol -> this tick's frames


class BybitStreams:
    """What the venue publishes of one symbol's candles and ticker."""

    venue: ClassVar[str]
    category: ClassVar[str]
    tape: Tape
    connections: Any
    market: SimMarket
    ladders: dict[str, Ladder]

    def init_streams(self) -> None:
        self.kline_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.ticker_state: dict[str, dict[str, Any]] = {}  # symbol -> the ticker as last published
        self.ticker_sent: dict[str, float] = {}  # symbol -> when its ticker was last published (wall time)

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def spot_ticker(self, symbol: str) -> dict[str, str]:
        raise NotImplementedError

    def size_str(self, ladder: Ladder, ticks: int, lots: int) -> str:
        raise NotImplementedError

    @cached_property
    def liquidator(self) -> Liquidator:
        return Liquidator(self.market.seed, self.venue)

    def stream_ticker(self, symbol: str) -> dict[str, Any]:
        """The ticker's fields as the topic carries them (spot's has no touch)."""
        full = self.spot_ticker(symbol)
        return {k: full[k] for k in SPOT_TICKER_FIELDS}

    def kline_volumes(self, c: Candle) -> tuple[str, str]:
        """(volume, turnover) of a candle: base and quote coin."""
        return c.volume, c.quote_volume

    def kline_row(self, c: Candle) -> list[str]:
        """A row of ``/v5/market/kline``: start, OHLC, volume, turnover."""
        return [str(c.start_ms), c.open, c.high, c.low, c.close, *self.kline_volumes(c)]

    @staticmethod
    def is_market_topic(name: str, contracts: bool) -> bool:
        kind, _, interval = name.partition(".")
        if kind == "kline":
            return interval in BYBIT_INTERVALS
        return name == "tickers" or (contracts and name == "allLiquidation")

    def ticker_snapshot(self, symbol: str) -> bytes:
        """What a new ``tickers`` subscriber gets first: the whole ticker as last published."""
        state = self.ticker_state.get(symbol)
        if state is None:
            state = self.ticker_state[symbol] = self.stream_ticker(symbol)
        return self.ticker_frame(symbol, "snapshot", state)

    def ticker_frame(self, symbol: str, kind: str, data: dict[str, Any]) -> bytes:
        now = self.tape.clock()
        return orjson.dumps({"topic": f"tickers.{self.native(symbol)}", "type": kind, "data": data,
                             "cs": now, "ts": now})

    def market_frames(self, symbol: str) -> TopicFrames:
        """This tick's frames of ``symbol``'s market topics that some socket holds."""
        held = {name for conn in self.connections for name in conn.subs.get(symbol, ())}
        forced = self.liquidator.draw(symbol, self.ladders[symbol], self.tape.clock()) if self.liquidates else None
        out: TopicFrames = {}
        for name in held:
            if name.startswith("kline."):
                frames = self.kline_frames(symbol, name)
            elif name == "tickers":
                frames = self.ticker_frames(symbol)
            elif name == "allLiquidation" and forced is not None:
                frames = [self.liquidation_frame(forced)]
            else:
                continue
            if frames:
                out[name] = frames
        return out

    @property
    def liquidates(self) -> bool:
        """Linear and inverse contracts publish liquidations (drawn every tick: the same seed and
        ticks give the same ones, whoever listens); spot and options none."""
        return self.category in ("linear", "inverse")

    def liquidation_frame(self, order: ForcedOrder) -> bytes:
        ladder, native = self.ladders[order.symbol], self.native(order.symbol)
        row = {"T": order.ms, "s": native, "S": "Buy" if order.sell else "Sell",
               "v": self.size_str(ladder, order.ticks, order.lots), "p": ladder.price_str(order.ticks)}
        return orjson.dumps({"topic": f"allLiquidation.{native}", "type": "snapshot", "ts": order.ms, "data": [row]})

    def ticker_frames(self, symbol: str) -> list[bytes]:
        """Spot: a snapshot; contracts: the fields that changed since the last frame (none: no frame)."""
        now = time.time()
        if now - self.ticker_sent.get(symbol, 0.0) < TICKER_EVERY:
            return []
        self.ticker_sent[symbol] = now
        fresh = self.stream_ticker(symbol)
        if self.category == "spot":
            self.ticker_state[symbol] = fresh
            return [self.ticker_frame(symbol, "snapshot", fresh)]
        held = self.ticker_state.setdefault(symbol, {})
        changed = {k: v for k, v in fresh.items() if held.get(k) != v}
        held.update(changed)
        if not changed:
            return []
        return [self.ticker_frame(symbol, "delta", {"symbol": fresh["symbol"], **changed})]

    def kline_frames(self, symbol: str, name: str) -> list[bytes]:
        """The candle that closed since the last tick (``confirm`` true), then the one forming; a
        candle without a trade is not published (nor listed by ``/v5/market/kline``)."""
        interval = name.removeprefix("kline.")
        seconds = BYBIT_INTERVALS[interval]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.kline_open.get((symbol, seconds))
        self.kline_open[(symbol, seconds)] = opening
        rows = []
        if previous is not None and previous < opening:
            rows += [self.kline_json(c, interval, width, True, now) for c in self.tape.candles(symbol, seconds, 1, previous, previous)]
        rows += [self.kline_json(c, interval, width, False, now) for c in self.tape.candles(symbol, seconds, 1, opening, opening)]
        topic = f"{name}.{self.native(symbol)}"
        return [orjson.dumps({"topic": topic, "data": [row], "ts": now, "type": "snapshot"}) for row in rows]

    def kline_json(self, c: Candle, interval: str, width: int, closed: bool, now: int) -> dict[str, Any]:
        volume, turnover = self.kline_volumes(c)
        return {"start": c.start_ms, "end": c.start_ms + width - 1 if closed else now, "interval": interval,
                "open": c.open, "close": c.close, "high": c.high, "low": c.low, "volume": volume,
                "turnover": turnover, "confirm": closed, "timestamp": now}

    def market_frames_for(self, conn: SimConnection, symbol: str, frames: TopicFrames) -> list[Frame]:
        names = conn.subs.get(symbol, ())
        return [f for name, batch in frames.items() if name in names for f in batch]
