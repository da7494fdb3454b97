"""Black-76: a European option on a forward, its greeks and the volatility a price implies.

Prices are in the forward's currency per unit of underlying, undiscounted (the venues' options
settle at expiry on a margin account, and the simulator prices with no rate). ``years`` is the
time to expiry in years of 365 days; ``vol`` is annualized (0.55 is 55 %)."""

from __future__ import annotations

import math
from dataclasses import dataclass

YEAR_SECONDS = 365 * 86_400.0
_SQRT_2PI = math.sqrt(2 * math.pi)


@dataclass(frozen=True, slots=True)
class Greeks:
    """``vega`` per 1.00 of volatility (per 100 vol points), ``theta`` per day."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def price(forward: float, strike: float, years: float, vol: float, call: bool) -> float:
    """The option's value; at or past expiry (or at zero vol) its intrinsic value."""
    return greeks(forward, strike, years, vol, call).price


def greeks(forward: float, strike: float, years: float, vol: float, call: bool) -> Greeks:
    if forward <= 0 or strike <= 0:
        raise ValueError(f"Black-76 needs a positive forward and strike, got {forward} and {strike}")
    if years <= 0 or vol <= 0:
        intrinsic = max(forward - strike, 0.0) if call else max(strike - forward, 0.0)
        itm = forward > strike if call else forward < strike
        return Greeks(intrinsic, (1.0 if call else -1.0) if itm else 0.0, 0.0, 0.0, 0.0)
    root = math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * years) / (vol * root)
    d2 = d1 - vol * root
    if call:
        value = forward * _cdf(d1) - strike * _cdf(d2)
        delta = _cdf(d1)
    else:
        value = strike * _cdf(-d2) - forward * _cdf(-d1)
        delta = _cdf(d1) - 1.0
    gamma = _pdf(d1) / (forward * vol * root)
    vega = forward * _pdf(d1) * root
    theta = -forward * _pdf(d1) * vol / (2 * root) / 365.0
    return Greeks(value, delta, gamma, vega, theta)


def implied_vol(value: float, forward: float, strike: float, years: float, call: bool) -> float | None:
    """The volatility at which ``price`` equals ``value``, or None when no volatility does (a value
    below intrinsic or above the forward's bound, or an expired option)."""
    if years <= 0:
        return None
    intrinsic = max(forward - strike, 0.0) if call else max(strike - forward, 0.0)
    bound = forward if call else strike
    if not intrinsic < value < bound:
        return None
    low, high = 1e-4, 10.0
    for _ in range(100):  # bisection: the price is monotonic in vol
        mid = 0.5 * (low + high)
        if price(forward, strike, years, mid, call) < value:
            low = mid
        else:
            high = mid
        if high - low < 1e-7:
            break
    return 0.5 * (low + high)
