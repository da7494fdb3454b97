"""Open interest on a simulated venue's perpetuals, the one figure every venue's open-interest
endpoint (and ticker field) states in its own units.

The simulator's market makers trade with the accounts but keep no positions in the engine, so
the open interest is the crowd's standing interest (``STANDING_LOTS`` of the market's lot, held
long and short among themselves) plus the larger side of the accounts' positions: the crowd
holds the other side of the accounts' net. An account opening 0.05 against the crowd raises it
by 0.05; two accounts trading 0.05 with each other raise it by 0.05 too."""

from __future__ import annotations

from decimal import Decimal

from ..model import PositionSide
from .engine import MatchingEngine

STANDING_LOTS = 1_000_000  # the crowd's own open interest, in lots of the market (1,000 BTC at a 0.001 lot)


def open_interest(engine: MatchingEngine, symbol: str) -> Decimal:
    """``symbol``'s open interest in the engine's amount units (base units, or contracts where the
    venue's orders are in contracts)."""
    longs = shorts = Decimal(0)
    for account in engine.accounts.values():
        for (held, side), position in account.positions.items():
            if held != symbol:
                continue
            if side is PositionSide.SHORT or position.size < 0:
                shorts += abs(position.size)
            else:
                longs += position.size
    return engine.markets[symbol].lot * STANDING_LOTS + max(longs, shorts)
