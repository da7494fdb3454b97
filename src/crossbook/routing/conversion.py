"""Conversion between the quote currencies a user declares equivalent (USDT, USDC, USD by default).

A price quoted in X is expressed in Y at the live rate read from the conversion pairs'
consolidated books (USDC-USDT, USDT-USD, ...), directly (X-Y or Y-X) or through one other declared
currency, never 1:1 by assumption. With no live book for the rate, or a currency outside the
declared set, the conversion fails with an error naming both currencies.

The rate is the touch of the side the conversion would trade, the best across live venues. A buy
pays in X: Y is sold for X (X-Y's ask, or 1 / Y-X's bid). A sell receives X: X is sold for Y (X-Y's
bid, or 1 / Y-X's ask). So a converted buy never looks cheaper, nor a converted sell dearer, than
the conversion really makes them. Neither the conversion's depth nor its own fee is included: the
rate puts prices quoted in different currencies side by side, it does not plan the conversion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..book.consolidated import ConsolidatedBook
from ..config import DEFAULT_EQUIVALENTS
from ..errors import ConfigError, NoConversionRate
from ..model import Side
from ..symbols import parse_standard, standard_symbol

__all__ = ["DEFAULT_EQUIVALENTS", "Conversion", "Leg", "Rate", "conversion_symbols", "equivalent_symbols", "parse_equivalents"]

_CURRENCY = re.compile(r"^[A-Z0-9]+$")


def parse_equivalents(text: str) -> frozenset[str]:
    """``"USDT,USDC,USD"`` -> the declared set; an empty text declares none."""
    codes = {c.strip().upper() for c in text.split(",") if c.strip()}
    bad = sorted(c for c in codes if not _CURRENCY.match(c))
    if bad:
        raise ConfigError(f"equivalent currencies must be codes such as USDT, not {', '.join(map(repr, bad))}")
    return frozenset(codes)


def conversion_symbols(equivalents: Iterable[str]) -> list[str]:
    """Every spot pair between two declared currencies, both ways round (venues list one or the
    other: USDC-USDT, USDT-USD)."""
    codes = sorted(set(equivalents))
    return [f"{a}-{b}" for a in codes for b in codes if a != b]


def equivalent_symbols(symbol: str, equivalents: Iterable[str]) -> list[str]:
    """The same instrument quoted in each other declared currency: BTC-USDT -> BTC-USD, BTC-USDC;
    BTC-USDT-PERP -> BTC-USD-PERP, BTC-USDC-PERP. None when the symbol's quote is not declared."""
    base, quote, kind, expiry = parse_standard(symbol)
    codes = set(equivalents)
    if quote not in codes:
        return []
    return [standard_symbol(base, other, kind, expiry) for other in sorted(codes - {quote, base})]


@dataclass(frozen=True, slots=True)
class Leg:
    """One conversion book read: ``symbol`` on ``venue`` at ``price`` (its bid or ask)."""

    symbol: str
    venue: str
    price: float


@dataclass(frozen=True, slots=True)
class Rate:
    """``rate`` units of ``target`` per unit of ``source``, read through ``legs`` (none when the
    two are the same currency)."""

    source: str
    target: str
    rate: float
    legs: tuple[Leg, ...]

    @property
    def via(self) -> list[str]:
        return [f"{leg.symbol}@{leg.venue}" for leg in self.legs]


class Conversion:
    """Rates between declared-equivalent currencies from live conversion books (by symbol)."""

    def __init__(self, books: Mapping[str, ConsolidatedBook], equivalents: Iterable[str] = DEFAULT_EQUIVALENTS) -> None:
        self.books = books
        self.equivalents = frozenset(equivalents)

    def rate(self, source: str, target: str, side: Side, now: float | None = None) -> Rate:
        """The rate to express a ``side`` order's price quoted in ``source`` in ``target``: the
        best of the direct pair and every one-hop path through another declared currency."""
        source, target = source.upper(), target.upper()
        if source == target:
            return Rate(source, target, 1.0, ())
        outside = sorted({source, target} - self.equivalents)
        if outside:
            raise NoConversionRate(
                f"{source} and {target} are not declared equivalent ({', '.join(outside)} is not among "
                f"{', '.join(sorted(self.equivalents)) or 'none'}): a {source} price is not converted to {target}"
            )
        paths = [[self._leg(source, target, side, now)]]
        paths += [[self._leg(source, hop, side, now), self._leg(hop, target, side, now)]
                  for hop in sorted(self.equivalents - {source, target})]
        rates = [Rate(source, target, _product(legs), tuple(leg for _, leg in legs)) for legs in _complete(paths)]
        if not rates:
            raise NoConversionRate(
                f"no live book gives the {source} -> {target} rate (direct or through "
                f"{', '.join(sorted(self.equivalents - {source, target})) or 'no other currency'}); "
                f"a {source} price is not converted to {target}"
            )
        # a buy's cost in target per source unit is least at the lowest rate, a sell's proceeds most at the highest
        pick = min if side is Side.BUY else max
        return pick(rates, key=lambda r: r.rate)

    def _leg(self, source: str, target: str, side: Side, now: float | None) -> tuple[float, Leg] | None:
        """One conversion, target units per source unit, from whichever of source-target and
        target-source is live and better."""
        found: list[tuple[float, Leg]] = []
        direct = self.books.get(f"{source}-{target}")
        if direct is not None:
            level = direct.best_ask(now) if side is Side.BUY else direct.best_bid(now)
            if level is not None and level.price > 0:
                found.append((level.price, Leg(direct.symbol, level.venue, level.price)))
        inverse = self.books.get(f"{target}-{source}")
        if inverse is not None:
            level = inverse.best_bid(now) if side is Side.BUY else inverse.best_ask(now)
            if level is not None and level.price > 0:
                found.append((1.0 / level.price, Leg(inverse.symbol, level.venue, level.price)))
        if not found:
            return None
        pick = min if side is Side.BUY else max
        return pick(found, key=lambda f: f[0])


def _complete(paths: list[list[tuple[float, Leg] | None]]) -> list[list[tuple[float, Leg]]]:
    return [[leg for leg in legs if leg is not None] for legs in paths if all(leg is not None for leg in legs)]


def _product(legs: list[tuple[float, Leg]]) -> float:
    rate = 1.0
    for factor, _ in legs:
        rate *= factor
    return rate
