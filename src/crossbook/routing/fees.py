"""Fee schedules and the rates an order pays on each venue.

Each venue's SPEC carries its ``FeeSchedule`` (``venues/spec/fees.py``): the published tiers and
the discount its token gives.

Which rates apply (``FeeBook.rates``): the account's own, from the venue's fee endpoint through
ccxt, when the account has keys and the venue answers; otherwise the schedule at the tier the user
declared for that venue (``FeeProfile``: a 30-day volume, or a tier by name, and whether fees are
paid with the venue's token), the base tier when nothing is declared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CrossbookError
from ..model import Kind
from ..symbols import parse_standard
from ..venues.registry import fee_schedule
from ..venues.spec.fees import ACCOUNT, FeeRates, FeeSchedule

if TYPE_CHECKING:
    from ..config import AccountConfig
    from ..trading.account import VenueAccount

log = logging.getLogger(__name__)


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
    import ccxt  # here, not at the top: only the account's own rates need it

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
            profile.check(fee_schedule(venue))

    def scheduled(self, venue: str, symbol: str) -> FeeRates:
        kind = parse_standard(symbol)[2]
        return self.profiles.get(venue, FeeProfile()).rates(fee_schedule(venue), kind)

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
