"""Simulated dYdX's indexer channels beyond books and trades, from the venue's own market.

``v4_markets`` (subscribed without an id): the ``subscribed`` answer carries every market as
``/v4/perpetualMarkets`` lists it; then, at most once a second per market, a ``channel_data`` whose
``trading`` holds that market's oracle price, ``nextFundingRate``, open interest and 24 h figures,
as ``/v4/perpetualMarkets`` states them. ``v4_candles`` (id ``BTC-USD/1MIN``): the ``subscribed``
answer carries the newest candles as ``/v4/candles`` lists them; each tick, one ``channel_data`` per
candle: the one that closed since the last tick (its final figures), then the one forming. Message
ids are per connection, so each tick's contents are made once and framed per connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ...server import SimConnection
from ...tape import Tape
from .indexer import RESOLUTIONS, candle_json
from .wire import CANDLES, MARKETS

MARKETS_EVERY = 1.0  # seconds between two v4_markets updates of a market
MARKETS_VERSION = "1.0.0"
CANDLES_VERSION = "1.0.0"
SUBSCRIBED_CANDLES = 10  # the newest candles a v4_candles subscription is answered with
MARKET_FIELDS = ("oraclePrice", "nextFundingRate", "openInterest", "priceChange24H", "volume24H", "trades24H")
# channel (or "v4_candles/<resolution>") -> this tick's contents of one market
StreamContents = dict[str, list[dict[str, Any]]]


class DydxStreams:
    """The contents of one market's candles and v4_markets updates."""

    ladders: dict[str, Any]  # one per market listed
    tape: Tape
    connections: Any
    native: Callable[[str], str]
    market_info: Callable[[str], dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init_streams()

    def init_streams(self) -> None:
        self.candle_open: dict[tuple[str, int], int] = {}  # (symbol, seconds) -> open ms of its newest candle
        self.markets_sent: dict[str, float] = {}  # symbol -> when its v4_markets update last went (wall time)

    def candle_key(self, stream_id: str) -> tuple[str, str] | None:
        """``BTC-USD/1MIN`` -> (ticker, resolution), None when the resolution is not one dYdX has."""
        ticker, _, resolution = stream_id.partition("/")
        return (ticker, resolution) if resolution in RESOLUTIONS else None

    def subscribed_contents(self, symbol: str | None, channel: str, resolution: str) -> dict[str, Any]:
        """The initial state a ``subscribed`` answer of ``v4_markets`` or ``v4_candles`` carries."""
        if channel == MARKETS:
            return {"markets": {self.native(s): self.market_info(s) for s in self.ladders}}
        assert symbol is not None
        seconds, ticker = RESOLUTIONS[resolution], self.native(symbol)
        candles = self.tape.candles(symbol, seconds, SUBSCRIBED_CANDLES)
        return {"candles": [candle_json(ticker, resolution, c) for c in reversed(candles)]}

    def stream_contents(self, symbol: str) -> StreamContents:
        """This tick's contents of ``symbol``'s candles and v4_markets some socket holds."""
        held = {c for conn in self.connections for c in conn.subs.get(symbol, ()) if c.startswith(CANDLES)}
        out: StreamContents = {f"{CANDLES}/{c.partition('/')[2]}": self.candle_contents(symbol, c.partition("/")[2]) for c in held}
        if any(conn.state.get(MARKETS) for conn in self.connections) and time.time() - self.markets_sent.get(symbol, 0.0) >= MARKETS_EVERY:
            self.markets_sent[symbol] = time.time()
            info = self.market_info(symbol)
            out[MARKETS] = [{"trading": {self.native(symbol): {k: info[k] for k in MARKET_FIELDS}}}]
        return out

    def candle_contents(self, symbol: str, resolution: str) -> list[dict[str, Any]]:
        seconds = RESOLUTIONS[resolution]
        width = seconds * 1000
        now = self.tape.clock()
        opening = now - now % width
        previous = self.candle_open.get((symbol, seconds))
        self.candle_open[(symbol, seconds)] = opening
        candles = self.tape.candles(symbol, seconds, 1, previous, previous) if previous is not None and previous < opening else []
        candles += self.tape.candles(symbol, seconds, 1, opening, opening)
        ticker = self.native(symbol)
        return [candle_json(ticker, resolution, c) for c in candles]


def held_streams(conn: SimConnection, symbol: str, contents: StreamContents) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(channel, id, contents) of the streams ``conn`` holds among this tick's ``contents`` of ``symbol``."""
    out = []
    channels = conn.subs.get(symbol, {})
    for key, updates in contents.items():
        if key == MARKETS and conn.state.get(MARKETS) and updates:
            out.append((MARKETS, MARKETS, updates))
        elif key in channels and updates:
            channel, _, resolution = key.partition("/")
            out.append((channel, f"{updates[0]['ticker']}/{resolution}", updates))
    return out


__all__ = ["CANDLES_VERSION", "MARKETS_VERSION", "DydxStreams", "StreamContents", "held_streams"]
