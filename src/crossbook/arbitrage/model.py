"""What the scanners find: an Opportunity made of Legs, in the JSON shape ``crossbook arb --json``
prints, and the plain inputs every scanner takes (fee rates)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..model import Side

OpportunityKind = Literal["cross_venue", "triangular", "basis"]

# the taker fee rate of (venue, symbol); a plain dict venue -> rate works too (see fee_lookup)
FeeRate = Callable[[str, str], float]
Fees = Mapping[str, float] | FeeRate


def fee_lookup(fees: Fees | None, defaults: Mapping[str, float]) -> FeeRate:
    """A (venue, symbol) -> taker fee rate function: ``fees`` if callable, else its rate for the
    venue, else the book's own rate from ``defaults``."""
    if callable(fees):
        return fees
    table = dict(defaults) | dict(fees or {})
    return lambda venue, symbol: table[venue]


@dataclass(frozen=True, slots=True)
class Leg:
    """One taker order: ``amount`` base units of ``symbol`` at the volume-weighted ``price`` of
    the levels it takes, paying ``fee_rate``."""

    venue: str
    symbol: str
    side: Side
    price: float
    amount: float
    fee_rate: float

    @property
    def notional(self) -> float:
        return self.price * self.amount

    def as_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side.value,
            "price": self.price,
            "amount": self.amount,
            "fee_rate": self.fee_rate,
        }


@dataclass(frozen=True, slots=True)
class TransferCost:
    """Moving the bought asset to the selling venue: the withdrawal fee (in ``asset``), its value
    in the profit currency, and how long the transfer takes."""

    asset: str
    withdrawal_fee: float
    cost: float
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {"asset": self.asset, "withdrawal_fee": self.withdrawal_fee, "cost": self.cost, "seconds": self.seconds}


@dataclass(frozen=True, slots=True)
class Opportunity:
    """``net_profit`` is in ``profit_asset`` (the quote currency, or the asset a triangle starts
    from) after every taker fee and before any transfer cost; ``net_bps`` is it over the notional
    put in. ``transfer`` (cross-venue, when asked for) and ``funding_rate`` (basis: the perpetual's
    rate per funding interval, None when unknown) are reported beside it."""

    kind: OpportunityKind
    legs: tuple[Leg, ...]
    net_profit: float
    net_bps: float
    profit_asset: str
    opened_at: float | None = None
    closed_at: float | None = None
    transfer: TransferCost | None = None
    funding_rate: float | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """The same trade across scans: kind and each leg's venue, symbol and side (prices and
        sizes move while it stays open)."""
        return (self.kind, *((leg.venue, leg.symbol, leg.side.value) for leg in self.legs))

    @property
    def duration(self) -> float | None:
        if self.opened_at is None or self.closed_at is None:
            return None
        return self.closed_at - self.opened_at

    @property
    def size(self) -> float:
        """The first leg's amount, in its symbol's base units."""
        return self.legs[0].amount

    def seen(self, opened_at: float | None, closed_at: float | None = None) -> Opportunity:
        return replace(self, opened_at=opened_at, closed_at=closed_at)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "legs": [leg.as_json() for leg in self.legs],
            "net_profit": self.net_profit,
            "net_bps": self.net_bps,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
        }
        if self.transfer is not None:
            out["transfer"] = self.transfer.as_json()
        if self.kind == "basis":
            out["funding_rate"] = self.funding_rate
        return out


def pair_profit(buy: Leg, sell: Leg) -> float:
    """Sell proceeds net of the sell fee minus the buy cost plus the buy fee, in the quote."""
    return sell.price * sell.amount * (1 - sell.fee_rate) - buy.price * buy.amount * (1 + buy.fee_rate)
