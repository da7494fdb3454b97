"""Fee schedules and the rates an order pays on each venue.

Each venue module declares ``FEES: FeeSchedule``: its published maker/taker tiers by 30-day volume
(spot, and derivatives where crossbook trades them) and the discount its token gives when fees
are paid with it. A negative maker rate is a rebate; a token discount never shrinks a rebate.

Which rates apply (``FeeBook.rates``): the account's own, from the venue's fee endpoint through
ccxt, when the account has keys and the venue answers; otherwise the schedule at the tier the user
declared for that venue (``FeeProfile``: a 30-day volume, or a tier by name, and whether fees are
paid with the venue's token), the base tier when nothing is declared.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, CrossbookError
from ..model import Kind
from ..symbols import parse_standard
from ..venues import venue_module

if TYPE_CHECKING:
    from ..config import AccountConfig
    from ..trading.account import VenueAccount

log = logging.getLogger(__name__)

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


def schedule(venue: str) -> FeeSchedule:
    """``venues/<venue>.py``'s FEES."""
    fees: FeeSchedule = venue_module(venue).FEES
    return fees


@dataclass(frozen=True, slots=True)
class FeeProfile:
    """What a user declares about their standing on one venue (crossbook.toml, per account).
    A ``tier`` by name (VIP 3, Lv2, Tier 6) wins over the volume in every schedule of the venue
    that lists it; a schedule that does not (a venue's derivatives table published only at its
    base tier) falls back to the volume there. ``check`` refuses a name no schedule lists."""

    volume_30d_usd: float = 0.0
    tier: str | None = None
    pay_with_token: bool = False  # fees paid with the venue's token (BNB, KCS, GT, MX, BGB)

    def rates(self, fees: FeeSchedule, kind: Kind) -> FeeRates:
        vip = self.tier if self.tier and fees.lists(self.tier, kind) else None
        return fees.rates(kind, self.volume_30d_usd, vip, self.pay_with_token)

    @classmethod
    def of(cls, accounts: Iterable[AccountConfig]) -> dict[str, FeeProfile]:
        """Each venue's profile as its first configured account declares it (a venue's tier is
        the master account's, which its sub-accounts share)."""
        profiles: dict[str, FeeProfile] = {}
        for cfg in accounts:
            profiles.setdefault(cfg.venue, cls(cfg.volume_30d_usd, cfg.fee_tier, cfg.pay_fees_with_token))
        return profiles

    def check(self, fees: FeeSchedule) -> None:
        """Fail on what the venue's schedule cannot honour: a bad volume, a tier no schedule
        lists, a discount token the venue does not have."""
        kinds = [k for k in (Kind.SPOT, Kind.PERP) if fees.covers(k)]
        if self.tier and not any(fees.lists(self.tier, k) for k in kinds):
            fees.tier_named(self.tier, kinds[0])  # raises, naming the tiers there are
        for kind in kinds:
            self.rates(fees, kind)


async def account_rates(account: VenueAccount, symbol: str) -> FeeRates | None:
    """The account's own rates for ``symbol`` from the venue's fee endpoint (ccxt's unified
    ``fetch_trading_fee``, else ``fetch_trading_fees``). None when the client has no keys, ccxt
    has no endpoint for the venue, the account does not trade the symbol, or the venue does not
    answer. The account must be loaded."""
    import ccxt  # here, not at the top: the venue modules import this module for FeeSchedule

    client = account.client
    rules = account.rules.get(symbol.upper())
    if rules is None or not client.apiKey:
        return None
    try:
        if client.has.get("fetchTradingFee") is True:
            fee: Any = await client.fetch_trading_fee(rules.ccxt_symbol)
        elif client.has.get("fetchTradingFees"):
            fee = (await client.fetch_trading_fees()).get(rules.ccxt_symbol)
        else:
            return None
    except ccxt.NotSupported:
        return None
    except (ccxt.BaseError, CrossbookError) as exc:
        log.warning("%s: fee endpoint failed, using the schedule: %s", account.venue, type(exc).__name__)
        return None
    if not fee or fee.get("maker") is None or fee.get("taker") is None:
        return None
    return FeeRates(float(fee["maker"]), float(fee["taker"]), ACCOUNT)


class FeeBook:
    """The rates to use per venue and symbol: the account's own when ``accounts`` has a loaded
    account for the venue whose fee endpoint answers, else the venue's schedule at the user's
    declared ``profiles`` (the base tier for an undeclared venue). Account rates are fetched once
    per venue and symbol."""

    def __init__(self, profiles: Mapping[str, FeeProfile] | None = None,
                 accounts: Mapping[str, VenueAccount] | None = None) -> None:
        self.profiles = dict(profiles or {})
        self.accounts = dict(accounts or {})
        self._fetched: dict[tuple[str, str], FeeRates | None] = {}
        for venue, profile in self.profiles.items():
            profile.check(schedule(venue))

    def scheduled(self, venue: str, symbol: str) -> FeeRates:
        kind = parse_standard(symbol)[2]
        return self.profiles.get(venue, FeeProfile()).rates(schedule(venue), kind)

    async def rates(self, venue: str, symbol: str) -> FeeRates:
        account = self.accounts.get(venue)
        if account is not None:
            key = (venue, symbol.upper())
            if key not in self._fetched:
                self._fetched[key] = await account_rates(account, symbol)
            fetched = self._fetched[key]
            if fetched is not None:
                return fetched
        return self.scheduled(venue, symbol)
