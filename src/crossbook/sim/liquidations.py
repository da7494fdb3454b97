"""Synthetic liquidations: the forced orders a simulated perpetual publishes on its venue's
liquidation stream, drawn from its own book.

Each time a perpetual's tick is published, the venue draws from an rng of its own (seeded by the
market's seed, the venue and the symbol: the same ticks give the same liquidations) whether a
position was liquidated, one chance in ``EVERY_TICKS``. A liquidated long's forced order sells
into the bids, a short's buys the asks; it reaches one to ``DEPTH`` levels deep, its price the last
level reached (at or through the touch) and its size a part of those levels. It is published
only: the market makers' ladder is the venue's market, so the order takes nothing from it.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from .market import Ladder

EVERY_TICKS = 10  # one forced order in this many ticks of a symbol, on average
DEPTH = 3  # levels a forced order may reach
KEPT = 500  # forced orders remembered per venue (what tests compare a feed's with)


@dataclass(frozen=True, slots=True)
class ForcedOrder:
    """One liquidation: ``sell`` for a long's forced order, price and size in the ladder's ticks and
    lots, ``average`` the ticks it filled at on average, ``touch`` (best bid, best ask) in ticks when
    it was drawn, ``ms`` the venue's clock then."""

    symbol: str
    sell: bool
    ticks: int
    lots: int
    average: float
    touch: tuple[int, int]
    ms: int


class Liquidator:
    """The forced orders of one venue's perpetuals, each symbol drawing from its own rng."""

    def __init__(self, seed: int, venue: str) -> None:
        self.seed = seed
        self.venue = venue
        self.rngs: dict[str, random.Random] = {}
        self.orders: deque[ForcedOrder] = deque(maxlen=KEPT)  # every one drawn, newest last

    def draw(self, symbol: str, ladder: Ladder, ms: int) -> ForcedOrder | None:
        """This tick's forced order of ``symbol``, if a position was liquidated."""
        rng = self.rngs.get(symbol)
        if rng is None:
            rng = self.rngs[symbol] = random.Random(f"{self.seed}:{self.venue}:{symbol}")
        if rng.random() * EVERY_TICKS >= 1.0:
            return None
        bids, asks = ladder.top(True, DEPTH), ladder.top(False, DEPTH)
        if not bids or not asks:
            return None
        sell = rng.random() < 0.5
        levels = bids if sell else asks
        reach = rng.randint(1, len(levels))
        passed = levels[: reach - 1]
        last_ticks, last_lots = levels[reach - 1]
        taken = rng.randint(1, last_lots)
        lots = sum(q for _, q in passed) + taken
        average = (sum(p * q for p, q in passed) + last_ticks * taken) / lots
        order = ForcedOrder(symbol, sell, last_ticks, lots, average, (bids[0][0], asks[0][0]), ms)
        self.orders.append(order)
        return order
