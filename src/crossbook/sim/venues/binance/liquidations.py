"""Simulated Binance USD-M's ``<symbol>@forceOrder`` stream: the forced orders ``sim/liquidations.py``
draws from the venue's own book, each sent to the sockets that subscribed its symbol's stream as
Binance's "Liquidation Order Streams" push them (one order a frame, filled at once):
{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014",
"p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}
``p`` is the last level the order reached, ``ap`` its average fill price."""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from ....model import Kind
from ....symbols import parse_standard
from ...liquidations import ForcedOrder, Liquidator
from ...market import SimTrade
from ...server import Frame
from .accounts import BinanceSpotSim
from .streams import StreamFrames


class ForceOrders(BinanceSpotSim):
    liquidations: ClassVar[bool] = True  # COIN-M (counting contracts) publishes none

    @cached_property
    def liquidator(self) -> Liquidator:
        return Liquidator(self.market.seed, self.venue)

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's trades and streams, with its forced order where one was drawn and some
        socket holds the symbol's ``forceOrder`` stream (drawn every tick: the same seed and ticks
        give the same orders, whoever listens)."""
        encoded, streams = super().encode_trades(symbol, trades)
        if not self.liquidations or parse_standard(symbol)[2] is not Kind.PERP:  # options have none
            return encoded, streams
        order = self.liquidator.draw(symbol, self.ladders[symbol], self.tape.clock())
        stream = f"{self.native(symbol).lower()}@forceOrder"
        if order is not None and any(stream in conn.state.get("streams", ()) for conn in self.connections):
            streams["forceOrder"] = [self.wrap(symbol, "forceOrder", self.force_order_event(order))]
        return encoded, streams

    def force_order_event(self, order: ForcedOrder) -> dict[str, Any]:
        ladder = self.ladders[order.symbol]
        size = ladder.size_str(order.lots, self.places)
        average = f"{order.average * ladder.spec.tick:.{ladder.price_decimals}f}"
        return {"e": "forceOrder", "E": order.ms, "o": {
            "s": self.native(order.symbol), "S": "SELL" if order.sell else "BUY", "o": "LIMIT", "f": "IOC", "q": size,
            "p": ladder.price_str(order.ticks, self.places), "ap": average, "X": "FILLED", "l": size, "z": size,
            "T": order.ms}}
