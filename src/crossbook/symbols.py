"""Standard symbols (BTC-USDT, BTC-USDT-PERP, BTC-USD-20261225, the option BTC-USD-20261225-100000-C) and the per-venue maps to native ids.

The maps are built from each venue's own market metadata (its instruments endpoint, parsed in
``venues/<id>.py``), never from a hand-written table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from .errors import UnknownSymbol
from .model import Instrument, Kind, OptionRight

_STANDARD = re.compile(r"^([A-Z0-9]+)-([A-Z0-9]+)(?:-(PERP|\d{8}))?$")
_OPTION = re.compile(r"^([A-Z0-9]+)-([A-Z0-9]+)-(\d{8})-(\d+(?:\.\d+)?)-([CP])$")
_ALIASES = {"XBT": "BTC", "XDG": "DOGE"}


def canonical_asset(code: str) -> str:
    code = code.upper()
    return _ALIASES.get(code, code)


def standard_symbol(base: str, quote: str, kind: Kind = Kind.SPOT, expiry: str | None = None) -> str:
    """``expiry`` is YYYYMMDD for dated futures."""
    pair = f"{canonical_asset(base)}-{canonical_asset(quote)}"
    if kind is Kind.PERP:
        return f"{pair}-PERP"
    if kind is Kind.FUTURE:
        if not expiry or not re.fullmatch(r"\d{8}", expiry):
            raise UnknownSymbol(f"dated future {pair} needs an expiry as YYYYMMDD, got {expiry!r}")
        return f"{pair}-{expiry}"
    if kind is Kind.OPTION:
        raise UnknownSymbol(f"an option on {pair} needs its strike and right: use option_symbol")
    return pair


class OptionSymbol(NamedTuple):
    base: str
    quote: str
    expiry: str  # YYYYMMDD
    strike: float
    right: OptionRight


def option_symbol(base: str, quote: str, expiry: str, strike: float, right: OptionRight) -> str:
    """("BTC", "USD", "20261225", 100000, CALL) -> BTC-USD-20261225-100000-C; a strike prints
    without trailing zeros (2.5, 3500)."""
    if not re.fullmatch(r"\d{8}", expiry):
        raise UnknownSymbol(f"an option needs its expiry as YYYYMMDD, got {expiry!r}")
    if not strike > 0:
        raise UnknownSymbol(f"an option needs a positive strike, got {strike!r}")
    text = f"{strike:.8f}".rstrip("0").rstrip(".")
    return f"{canonical_asset(base)}-{canonical_asset(quote)}-{expiry}-{text}-{right.value}"


def parse_option(symbol: str) -> OptionSymbol:
    """BTC-USD-20261225-100000-C -> OptionSymbol("BTC", "USD", "20261225", 100000.0, CALL)."""
    m = _OPTION.match(symbol.upper())
    if not m:
        raise UnknownSymbol(f"{symbol!r} is not a standard option symbol (BASE-QUOTE-YYYYMMDD-STRIKE-C or -P)")
    base, quote, expiry, strike, right = m.groups()
    return OptionSymbol(base, quote, expiry, float(strike), OptionRight(right))


def parse_standard(symbol: str) -> tuple[str, str, Kind, str | None]:
    """BTC-USDT-PERP -> ("BTC", "USDT", Kind.PERP, None); an option -> (base, quote, Kind.OPTION,
    its expiry) (``parse_option`` has its strike and right)."""
    m = _STANDARD.match(symbol.upper())
    if not m:
        if _OPTION.match(symbol.upper()):
            option = parse_option(symbol)
            return option.base, option.quote, Kind.OPTION, option.expiry
        raise UnknownSymbol(
            f"{symbol!r} is not a standard symbol (BASE-QUOTE, BASE-QUOTE-PERP, BASE-QUOTE-YYYYMMDD "
            "or the option BASE-QUOTE-YYYYMMDD-STRIKE-C/P)"
        )
    base, quote, suffix = m.groups()
    if suffix is None:
        return base, quote, Kind.SPOT, None
    if suffix == "PERP":
        return base, quote, Kind.PERP, None
    return base, quote, Kind.FUTURE, suffix


def requoted(symbol: str, quote: str) -> str:
    """``symbol`` with its quote currency named ``quote`` (BTC-USDC-PERP, "USD" -> BTC-USD-PERP):
    a standard symbol names the market's quote currency, never its settle currency."""
    base, _, kind, expiry = parse_standard(symbol)
    if kind is Kind.OPTION:
        option = parse_option(symbol)
        return option_symbol(base, quote, option.expiry, option.strike, option.right)
    return standard_symbol(base, quote, kind, expiry)


class SymbolMap:
    """Standard symbol <-> native id for one venue."""

    def __init__(self, venue: str, instruments: Iterable[Instrument]) -> None:
        self.venue = venue
        self.by_symbol: dict[str, Instrument] = {}
        self.by_native: dict[str, Instrument] = {}
        for inst in instruments:
            self.by_symbol.setdefault(inst.symbol, inst)
            self.by_native[inst.native] = inst

    def native(self, symbol: str) -> str:
        try:
            return self.by_symbol[symbol.upper()].native
        except KeyError:
            raise UnknownSymbol(f"{self.venue} has no market {symbol!r}") from None

    def standard(self, native: str) -> str:
        try:
            return self.by_native[native].symbol
        except KeyError:
            raise UnknownSymbol(f"{self.venue} has no market with id {native!r}") from None

    def __contains__(self, symbol: str) -> bool:
        return symbol.upper() in self.by_symbol

    def __len__(self) -> int:
        return len(self.by_native)
