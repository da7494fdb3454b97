"""What the scanners find: an Opportunity made of Legs, in the JSON shape ``crossbook arb --json``
prints, and the plain inputs every scanner takes (fee rates, balances, the size cap)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..model import Side

OpportunityKind = Literal["cross_venue", "triangular", "basis"]
Balances = Mapping[str, Mapping[str, float]]  # venue -> asset -> amount available to trade
CapKind = Literal["balances", "max_notional"]
DEFAULT_MAX_NOTIONAL = 100_000.0  # per opportunity, in its quote currency, when no balances are known


@dataclass(frozen=True, slots=True)
class SizeCap:
    """What bounds an opportunity's size besides the books (their depth, and the point where a
    further unit stops earning): the ``balances`` crossbook knows (venue -> asset -> available;
    None: not known) and ``max_notional`` spent per opportunity in its quote currency (a
    triangle's start asset). ``of`` applies the default notional when neither is given."""

    balances: Balances | None = None
    max_notional: float = math.inf

    @classmethod
    def of(cls, balances: Balances | None, max_notional: float | None) -> SizeCap:
        if max_notional is None:
            max_notional = DEFAULT_MAX_NOTIONAL if balances is None else math.inf
        return cls(balances, max_notional)

    def available(self, venue: str, asset: str) -> float:
        """What the balances leave to trade of ``asset`` on ``venue`` (unbounded when unknown)."""
        if self.balances is None:
            return math.inf
        return self.balances.get(venue, {}).get(asset, 0.0)

    def spend(self, venue: str, asset: str) -> tuple[float, CapKind]:
        """The most of ``asset`` one opportunity may spend on ``venue``, and which cap that is."""
        held = self.available(venue, asset)
        return (held, "balances") if held <= self.max_notional else (self.max_notional, "max_notional")

    def describe(self) -> str:
        """Which caps apply, in words (``crossbook arb`` prints it)."""
        parts = []
        if self.balances is not None:
            parts.append("the balances crossbook knows")
        if math.isfinite(self.max_notional):
            parts.append(f"{self.max_notional:,.0f} notional in the quote currency per opportunity")
        return "sizes capped by " + (" and ".join(parts) if parts else "the books alone")

    def as_json(self) -> dict[str, Any]:
        return {"balances": self.balances is not None,
                "max_notional": self.max_notional if math.isfinite(self.max_notional) else None}

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
    the levels it takes, paying ``fee_rate`` and ``fixed_cost`` (in the symbol's quote currency,
    whatever the amount: a swap's gas on a DEX venue, 0 on an exchange)."""

    venue: str
    symbol: str
    side: Side
    price: float
    amount: float
    fee_rate: float
    fixed_cost: float = 0.0

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
            "fixed_cost": self.fixed_cost,
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
    from) after every taker fee and every leg's fixed cost (gas), before any transfer cost;
    ``net_bps`` is it over the notional put in. ``capped_by``: the cap (see SizeCap) that bounded
    the size, None when the books did.
    ``transfer`` (cross-venue, when asked for) and ``funding_rate`` (basis: the perpetual's rate
    per funding interval, None when unknown) are reported beside it."""

    kind: OpportunityKind
    legs: tuple[Leg, ...]
    net_profit: float
    net_bps: float
    profit_asset: str
    opened_at: float | None = None
    closed_at: float | None = None
    transfer: TransferCost | None = None
    funding_rate: float | None = None
    capped_by: CapKind | None = None

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
            "profit_currency": self.profit_asset,
            "net_bps": self.net_bps,
            "capped_by": self.capped_by,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
        }
        if self.transfer is not None:
            out["transfer"] = self.transfer.as_json()
        if self.kind == "basis":
            out["funding_rate"] = self.funding_rate
        return out


def pair_profit(buy: Leg, sell: Leg) -> float:
    """Sell proceeds net of the sell fee minus the buy cost plus the buy fee, minus both legs'
    fixed costs, in the quote."""
    gross = sell.price * sell.amount * (1 - sell.fee_rate) - buy.price * buy.amount * (1 + buy.fee_rate)
    return gross - buy.fixed_cost - sell.fixed_cost
