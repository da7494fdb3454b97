"""Value types shared across crossbook."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"


class Kind(str, Enum):
    SPOT = "spot"
    PERP = "perp"
    FUTURE = "future"


class BookState(str, Enum):
    SYNCING = "syncing"
    LIVE = "live"
    RESYNCING = "resyncing"
    STALE = "stale"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable market on one venue, keyed both ways: standard symbol and native id."""

    venue: str
    native: str
    symbol: str
    base: str
    quote: str
    kind: Kind = Kind.SPOT
    tick: float = 0.0
    lot: float = 0.0
    expiry: str | None = None
    # The unit of the feed's book sizes: contracts worth ``contract_size`` base units, or, when
    # ``inverse``, ``contract_size`` quote units (a 100 USD BTC contract). 1.0 = base units.
    contract_size: float = 1.0
    inverse: bool = False


@dataclass(frozen=True, slots=True)
class Trade:
    venue: str
    symbol: str
    price: float
    amount: float
    side: Side
    ts: float
    trade_id: str = ""
