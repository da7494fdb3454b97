"""The simulator's options: which series it lists (BTC and ETH, two expiries, strikes around the
money) and what they are worth: Black-76 on the perpetual's fair price with a volatility surface
it keeps (a smile in log-moneyness, higher at the short end).

Every simulated options venue lists the same series and prices them from the same surface; each
venue module only lays them out in its own symbols, units and wire format. Options are listed only
when a cluster is started with options (they add books that step every tick)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .. import black76
from ..model import OptionRight

EXPIRY_HOUR = 8  # Binance, OKX and Bybit options all expire at 08:00 UTC
STRIKES_EACH_SIDE = 2


@dataclass(frozen=True, slots=True)
class Underlying:
    asset: str
    strike_step: float
    atm_strike: float  # the middle strike, near the simulator's starting price
    atm_vol: float


UNDERLYINGS = (
    Underlying("BTC", 2000.0, 60000.0, 0.55),
    Underlying("ETH", 100.0, 3000.0, 0.65),
)


@dataclass(frozen=True, slots=True)
class OptionSeries:
    """One listed option: ``expiry`` as YYYYMMDD, ``expiry_ts`` epoch seconds (08:00 UTC)."""

    base: str
    expiry: str
    expiry_ts: float
    strike: float
    right: OptionRight

    @property
    def call(self) -> bool:
        return self.right is OptionRight.CALL


def expiries(now: float) -> list[datetime]:
    """The next daily expiry at least 12 hours away, and the Friday expiry at least two days
    after it."""
    day = datetime.fromtimestamp(now, UTC).replace(hour=EXPIRY_HOUR, minute=0, second=0, microsecond=0)
    daily = day if day.timestamp() - now >= 12 * 3600 else day + timedelta(days=1)
    while daily.timestamp() - now < 12 * 3600:
        daily += timedelta(days=1)
    friday = daily + timedelta(days=2)
    friday += timedelta(days=(4 - friday.weekday()) % 7)
    return [daily, friday]


def listed_series(now: float | None = None) -> list[OptionSeries]:
    """Every series the simulator lists at ``now`` (default: the wall clock), expiry then strike."""
    out = []
    for u in UNDERLYINGS:
        for expiry in expiries(time.time() if now is None else now):
            for i in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
                for right in OptionRight:
                    strike = u.atm_strike + i * u.strike_step
                    out.append(OptionSeries(u.asset, expiry.strftime("%Y%m%d"), expiry.timestamp(), strike, right))
    return out


def surface_vol(base: str, strike: float, forward: float, years: float) -> float:
    """The surface's volatility: the underlying's at-the-money vol, a smile in log-moneyness
    (puts dearer than calls), and a premium at the short end."""
    atm = next(u.atm_vol for u in UNDERLYINGS if u.asset == base)
    m = math.log(strike / forward) / math.sqrt(max(years, 1 / 365))
    smile = 1.0 - 0.12 * m + 0.35 * m * m
    term = 1.0 + 0.15 * math.exp(-years * 52)
    return atm * min(smile, 3.0) * term


def years_to(expiry_ts: float, now: float) -> float:
    return max(expiry_ts - now, 0.0) / black76.YEAR_SECONDS


def fair_value(series: OptionSeries, forward: float, now: float | None = None) -> black76.Greeks:
    """The series' value per unit of underlying in the forward's currency, with its greeks."""
    years = years_to(series.expiry_ts, time.time() if now is None else now)
    vol = surface_vol(series.base, series.strike, forward, years)
    return black76.greeks(forward, series.strike, years, vol, series.call)
