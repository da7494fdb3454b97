"""How many decimals an instrument's numbers carry: prices at its tick, amounts at its lot, money
(fees, notionals, profits in the quote currency) two decimals finer than the tick. Results'
``to_json()`` rounds with it, so JSON carries 12.0, not 12.000000000000002."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .model import Instrument

MAX_DECIMALS = 12
DEFAULT_DECIMALS = 8  # a grid not known
RATE_DECIMALS = 8  # fee rates (0.00075) and conversion rates
BPS_DECIMALS = 2


def decimals(step: float) -> int:
    """The decimals of a grid step: 0.01 -> 2, 0.5 -> 1, 1e-8 -> 8, 10 -> 0; a step of 0 (unknown)
    -> MAX_DECIMALS."""
    if not step > 0:
        return MAX_DECIMALS
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return min(MAX_DECIMALS, max(0, -exponent))


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places) + 0.0  # + 0.0: no -0.0


def _fixed(value: float | None, places: int) -> str:
    """``value`` with ``places`` decimals and thousands separated (never ``-0.00``); "-" for None."""
    return "-" if value is None else f"{round(value, places) + 0.0:,.{places}f}"


@dataclass(frozen=True, slots=True)
class Precision:
    price_decimals: int = DEFAULT_DECIMALS
    amount_decimals: int = DEFAULT_DECIMALS

    @classmethod
    def of(cls, ticks: Iterable[float], lots: Iterable[float]) -> Precision:
        """The finest of several venues' grids (one symbol on many venues)."""
        price = max((decimals(t) for t in ticks if t > 0), default=DEFAULT_DECIMALS)
        amount = max((decimals(lot) for lot in lots if lot > 0), default=DEFAULT_DECIMALS)
        return cls(price, amount)

    @property
    def money_decimals(self) -> int:
        return min(MAX_DECIMALS, self.price_decimals + 2)

    def price(self, value: float | None) -> float | None:
        return _round(value, self.price_decimals)

    def amount(self, value: float | None) -> float | None:
        return _round(value, self.amount_decimals)

    def money(self, value: float | None) -> float | None:
        return _round(value, self.money_decimals)

    @staticmethod
    def rate(value: float | None) -> float | None:
        return _round(value, RATE_DECIMALS)

    @staticmethod
    def bps(value: float | None) -> float | None:
        return _round(value, BPS_DECIMALS)

    # tables: the same decimals as the JSON, thousands separated, "-" for nothing
    def fmt_price(self, value: float | None) -> str:
        return _fixed(value, self.price_decimals)

    def fmt_amount(self, value: float | None) -> str:
        return _fixed(value, self.amount_decimals)

    def fmt_money(self, value: float | None, currency: str | None = None) -> str:
        """``1,234.56 USDT``: a table shows money on the price grid (cents where the tick is one);
        without ``currency`` the number alone, for a column whose header names it."""
        number = _fixed(value, self.price_decimals)
        return number if value is None or currency is None else f"{number} {currency}"


DEFAULT_PRECISION = Precision()


def precision_of(instruments: Iterable[Instrument | None]) -> Precision:
    """The finest grids among one symbol's instruments on several venues (None entries, venues
    that do not list it, are skipped); a contract's lot counts in base units."""
    known = [i for i in instruments if i is not None]
    return Precision.of((i.tick for i in known if i.tick > 0),
                        (i.lot * i.contract_size for i in known if i.lot > 0 and not i.inverse))


def typical_precision(instruments: Iterable[Instrument | None]) -> Precision:
    """For tables: the grids most of the venues use (one venue's 8-decimal lot does not pad every
    BTC amount on screen to 8 decimals); JSON keeps ``precision_of``'s finest grid."""
    known = [i for i in instruments if i is not None]
    ticks = [decimals(i.tick) for i in known if i.tick > 0]
    lots = [decimals(i.lot * i.contract_size) for i in known if i.lot > 0 and not i.inverse]
    return Precision(_most_common(ticks, 8), _most_common(lots, 8))


def _most_common(values: list[int], default: int) -> int:
    return max(sorted(set(values)), key=values.count) if values else default


def fmt_rate(value: float | None) -> str:
    """A fee rate as a percentage, three decimals and a fourth where a schedule has one:
    0.00075 -> ``0.075%``, 0.001 -> ``0.100%``, 0.000125 -> ``0.0125%``."""
    if value is None:
        return "-"
    text = _fixed(value * 100, 4)
    return f"{text[:-1] if text.endswith('0') else text}%"


def fmt_bps(value: float | None) -> str:
    """Basis points at two decimals: ``1.62 bps``."""
    return "-" if value is None else f"{_fixed(value, BPS_DECIMALS)} bps"
