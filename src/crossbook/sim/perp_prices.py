"""Index, mark and funding of a simulated perpetual, shared by every simulated venue.

The index is the underlying's spot fair price from the shared market; the mark is the venue's
own perpetual book mid, kept within ``MARK_BAND`` of the index as venues bound their mark; the
premium is mark / index - 1 and the funding rate is the venue's formula on it (``FundingRule``).
Funding settles on the venue's interval boundaries (epoch-aligned: 00/08/16 UTC for 8 hours, on
the hour for 1 hour). The history before the simulator first priced a symbol is a deterministic
function of venue, symbol and time; after that it is the rates the simulator settled.

Times follow the venue's ``tape.clock`` (a test may run it fast), in epoch milliseconds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import ClassVar

from ..symbols import parse_standard
from .market import BASIS, Ladder, SimMarket
from .tape import Tape

HOUR_MS = 3_600_000
MARK_BAND = Decimal("0.01")  # the mark never strays further than 1 % from the index
RATE_PLACES = Decimal("0.00000001")  # rates are published to 8 decimals
MAX_HISTORY = 1000  # settlements kept and served at most
HISTORY_SPREAD = 8e-4  # how far a synthetic past premium strays from BASIS, either side


@dataclass(frozen=True, slots=True)
class FundingRule:
    """A venue's funding formula: ``premium / divisor + clamp(interest - premium / divisor, ±band)``
    (no clamp term where ``band`` is None), capped at ±``cap``, paid every ``interval_hours``."""

    interval_hours: int = 8
    interest: Decimal = Decimal("0.0001")  # per interval
    band: Decimal | None = Decimal("0.0005")
    cap: Decimal = Decimal("0.003")
    divisor: int = 1

    @property
    def interval_ms(self) -> int:
        return self.interval_hours * HOUR_MS

    def rate(self, premium: Decimal) -> Decimal:
        """The funding rate for ``premium`` (mark / index - 1), to 8 decimals."""
        component = premium / self.divisor
        rate = component + self.interest
        if self.band is not None:
            rate = component + min(self.band, max(-self.band, self.interest - component))
        capped = min(self.cap, max(-self.cap, rate))
        return capped.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


# Binance USD-M: interest 0.01 % per 8 h, premium clamped ±0.05 % around it; the cap is what the
# simulator's fundingInfo lists (https://www.binance.com/en/support/faq/360033525031)
BINANCE = FundingRule(cap=Decimal("0.02"))
# Bybit: same shape, capped at the instrument's upperFundingRate (the simulator lists 0.5 %)
# (https://www.bybit.com/en/help-center/article/Funding-fee-calculation)
BYBIT = FundingRule(cap=Decimal("0.005"))
# OKX: Clamp[MA(premium - interest), floor, cap] with interest 0: the premium itself, capped at the
# simulator's maxFundingRate 0.75 % (https://www.okx.com/help/360053909272)
OKX = FundingRule(interest=Decimal(0), band=None, cap=Decimal("0.0075"))
# Gate: premium + clamp(0.01 % - premium, ±0.05 %) (https://www.gate.io/futures/introduction/funding-rate-history)
GATE = FundingRule(cap=Decimal("0.003"))
# Bitget: premium + clamp(0.01 % - premium, ±0.05 %), capped at the simulator's maxFundingRate 0.3 %
# (https://www.bitget.com/support/articles/12560603788516)
BITGET = FundingRule(cap=Decimal("0.003"))
# KuCoin and MEXC futures publish the same 8-hour shape (https://www.kucoin.com/support/360053285132,
# https://www.mexc.com/support/articles/360044675232)
KUCOIN = FundingRule(cap=Decimal("0.003"))
MEXC = FundingRule(cap=Decimal("0.003"))
# dYdX v4: hourly, premium / 8 and an interest component of 0, capped by the market's margin
# (https://docs.dydx.exchange/concepts/trading/funding)
DYDX = FundingRule(interval_hours=1, interest=Decimal(0), band=None, cap=Decimal("0.0004"), divisor=8)


@dataclass(frozen=True, slots=True)
class SettledRate:
    """One funding settlement: the rate paid at ``ms``, and the index then (None before the
    simulator ran)."""

    ms: int
    rate: Decimal
    index: Decimal | None = None


@dataclass(slots=True)
class _Settlements:
    """The rates one symbol settled since ``first_ms`` (the first boundary the simulator saw)."""

    first_ms: int
    last_ms: int
    rates: list[SettledRate] = field(default_factory=list)


class PerpPrices:
    """Index, mark and funding of a venue's perpetuals. Mixed into a ``SimVenue`` (it reads the
    venue's ``market``, ``ladders``, ``tape`` and ``venue``); set ``funding_rule`` per venue."""

    funding_rule: ClassVar[FundingRule] = BINANCE
    venue: ClassVar[str]
    market: SimMarket
    ladders: dict[str, Ladder]
    tape: Tape

    # ---- prices -----------------------------------------------------------------------------

    def index(self, symbol: str) -> Decimal:
        """The underlying's spot fair price, at the perpetual's tick."""
        base, quote, _, _ = parse_standard(symbol)
        fair = self.market.fair.fair(f"{base}-{quote}")
        return self._at_tick(symbol, Decimal(repr(fair)))

    def mark(self, symbol: str) -> Decimal:
        """The venue's perpetual book mid, within ``MARK_BAND`` of the index, at the tick."""
        index = self.index(symbol)
        ladder = self.ladders[symbol]
        sides = [Decimal(ladder.price_str(px)) for px in (max(ladder.bids, default=None), min(ladder.asks, default=None))
                 if px is not None]
        mid = sum(sides, Decimal(0)) / len(sides) if sides else index
        bounded = min(index * (1 + MARK_BAND), max(index * (1 - MARK_BAND), mid))
        return self._at_tick(symbol, bounded)

    def premium(self, symbol: str) -> Decimal:
        """mark / index - 1."""
        return self.mark(symbol) / self.index(symbol) - 1

    def funding_rate(self, symbol: str) -> Decimal:
        """The rate the next settlement pays, from the premium now."""
        self._settle(symbol)
        return self.funding_rule.rate(self.premium(symbol))

    def next_funding_ms(self, symbol: str) -> int:
        """The next settlement time after now."""
        every = self.funding_rule.interval_ms
        return (self.tape.clock() // every + 1) * every

    def funding_history(self, symbol: str, start_ms: int | None = None, end_ms: int | None = None,
                        limit: int = 100) -> list[SettledRate]:
        """Settled rates at funding times up to ``end_ms`` (and never past now), oldest first: the
        first ``limit`` from ``start_ms``, or with no start the newest ``limit``."""
        state = self._settle(symbol)
        every = self.funding_rule.interval_ms
        last = min(state.last_ms, state.last_ms if end_ms is None else end_ms // every * every)
        count = max(0, min(limit, MAX_HISTORY))
        first = last - (count - 1) * every if start_ms is None else -(-start_ms // every) * every
        times = range(first, min(last, first + (count - 1) * every) + 1, every) if count else range(0)
        settled = {s.ms: s for s in state.rates}
        return [settled.get(t) or self._past_rate(symbol, t) for t in times]

    # ---- settlement -------------------------------------------------------------------------

    def _settle(self, symbol: str) -> _Settlements:
        """Record the current rate at each boundary passed since the last look (the simulator
        settles on reading: a rate is the one in force when it was first seen past its time)."""
        book: dict[str, _Settlements] = self.__dict__.setdefault("_perp_settlements", {})
        every = self.funding_rule.interval_ms
        boundary = self.tape.clock() // every * every
        state = book.get(symbol)
        if state is None:
            state = book[symbol] = _Settlements(boundary + every, boundary)
        if boundary > state.last_ms:
            index = self.index(symbol)
            rate = self.funding_rule.rate(self.mark(symbol) / index - 1)
            first = max(state.last_ms + every, state.first_ms, boundary - (MAX_HISTORY - 1) * every)
            state.rates += [SettledRate(t, rate, index) for t in range(first, boundary + 1, every)]
            del state.rates[:-MAX_HISTORY]
            state.last_ms = boundary
        return state

    def _past_rate(self, symbol: str, ms: int) -> SettledRate:
        """The rate settled at ``ms`` before the simulator ran: the venue's formula on a premium
        drawn from (venue, symbol, time)."""
        draw = zlib.crc32(f"{self.venue}:{symbol}:{ms}".encode()) / 0xFFFFFFFF * 2 - 1
        premium = Decimal(repr(BASIS + draw * HISTORY_SPREAD)).quantize(RATE_PLACES)
        return SettledRate(ms, self.funding_rule.rate(premium))

    def _at_tick(self, symbol: str, price: Decimal) -> Decimal:
        places = self.ladders[symbol].price_decimals
        return price.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
