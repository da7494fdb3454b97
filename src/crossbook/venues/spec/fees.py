"""A venue's fee schedule (``VenueSpec.fees``): its published maker/taker tiers by 30-day volume
(spot, and derivatives where crossbook trades them) and the discount its token gives when fees
are paid with it. A negative maker rate is a rebate; a token discount never shrinks a rebate.
Which rates an order pays is ``routing.fees.FeeBook``'s to decide."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...errors import ConfigError
from ...model import Kind

SCHEDULE = "schedule"
ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class FeeTier:
    """One published tier. ``requires`` names any condition beyond the 30-day volume (token
    holdings, market share, a market-maker programme): such a tier is never chosen by volume
    alone, only by name."""

    name: str
    min_volume_usd: float
    maker: float  # fraction of the notional; negative: a rebate
    taker: float
    requires: str = ""


@dataclass(frozen=True, slots=True)
class FeeRates:
    maker: float
    taker: float
    source: str  # SCHEDULE or ACCOUNT
    tier: str | None = None  # the schedule's tier name (None for the account's own rates)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    venue: str
    spot: tuple[FeeTier, ...]  # ascending by min_volume_usd, the base tier first
    derivatives: tuple[FeeTier, ...] = ()  # perpetuals and dated futures
    discount_token: str | None = None  # the token whose payment earns ``discounts``
    discounts: Mapping[Kind, float] = field(default_factory=dict)  # fraction off, per product kind

    def tiers(self, kind: Kind = Kind.SPOT) -> tuple[FeeTier, ...]:
        if not self.covers(kind):
            raise ConfigError(f"{self.venue} has no {kind.value} fee schedule")
        return self.spot if kind is Kind.SPOT else self.derivatives

    def covers(self, kind: Kind) -> bool:
        return bool(self.spot if kind is Kind.SPOT else self.derivatives)

    def base(self, kind: Kind = Kind.SPOT) -> FeeTier:
        return self.tiers(kind)[0]

    def tier_for(self, volume_30d_usd: float, kind: Kind = Kind.SPOT) -> FeeTier:
        """The best tier a 30-day volume (USD) reaches by volume alone."""
        if not isinstance(volume_30d_usd, (int, float)) or not math.isfinite(volume_30d_usd) or volume_30d_usd < 0:
            raise ConfigError(f"{self.venue}: 30-day volume must be a finite number of USD >= 0, not {volume_30d_usd!r}")
        reached = [t for t in self.tiers(kind) if not t.requires and t.min_volume_usd <= volume_30d_usd]
        return reached[-1]

    def tier_named(self, name: str, kind: Kind = Kind.SPOT) -> FeeTier:
        tiers = self.tiers(kind)
        wanted = name.strip().lower()
        for tier in tiers:
            if tier.name.lower() == wanted:
                return tier
        raise ConfigError(f"{self.venue} has no {kind.value} fee tier {name!r}; tiers: {', '.join(t.name for t in tiers)}")

    def lists(self, name: str, kind: Kind) -> bool:
        """Whether the ``kind`` schedule has a tier called ``name``."""
        tiers = self.spot if kind is Kind.SPOT else self.derivatives
        return any(t.name.lower() == name.strip().lower() for t in tiers)

    def rates(
        self,
        kind: Kind = Kind.SPOT,
        volume_30d_usd: float = 0.0,
        vip: str | None = None,
        pay_with_discount_token: bool = False,
    ) -> FeeRates:
        """The scheduled rates: the tier named ``vip`` if given, else the tier the volume reaches;
        less the token discount when fees are paid with the venue's token."""
        tier = self.tier_named(vip, kind) if vip else self.tier_for(volume_30d_usd, kind)
        off = 0.0
        if pay_with_discount_token:
            if self.discount_token is None:
                raise ConfigError(f"{self.venue} has no fee discount token")
            off = self.discounts.get(kind, 0.0)
        return FeeRates(_discounted(tier.maker, off), _discounted(tier.taker, off), SCHEDULE, tier.name)


def _discounted(rate: float, off: float) -> float:
    return rate * (1 - off) if rate > 0 else rate
