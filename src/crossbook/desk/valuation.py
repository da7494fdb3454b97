"""Balances as the venues report them, valued at live prices: an asset is worth the live mid of
ASSET-CURRENCY, else the inverse of CURRENCY-ASSET's, across the desk's venues."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt

from ..book.consolidated import ConsolidatedBook
from ..errors import CrossbookError
from ..symbols import parse_standard
from ..trading.account import VenueAccount
from ..venues.spec.capabilities import PERPETUALS, Product
from .results import BalanceRow


def _dec(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


Wallet = tuple[str, str, str]  # (venue, sub-account, wallet)


def wallet_name(account: VenueAccount, primary: VenueAccount) -> str:
    """The wallet an account's client reads: its ccxt id's own name beside the venue's primary
    client (Binance ``usdm``, ``coinm``), else what it trades (``spot``, ``perp``, ``inverse``,
    ``options``, ``derivatives``)."""
    own, venue_id = str(account.client.id), str(primary.client.id)
    if account is not primary and own != venue_id and own.startswith(venue_id):
        return own[len(venue_id):]
    products = {r.product for r in account.rules.values()}
    if any(not p.derivative for p in products):
        return "spot"
    if products and all(p is Product.INVERSE_PERP for p in products):
        return "inverse"
    if products and all(p is Product.OPTIONS for p in products):
        return "options"
    return "perp" if products and all(p in PERPETUALS for p in products) else "derivatives"


def same_wallet(account: VenueAccount, primary: VenueAccount) -> bool:
    """Whether ``account``'s client reads ``primary``'s wallet: one ccxt client class on the same
    endpoints (a unified account, such as OKX's trading account, read for spot and for swaps)."""
    return account.client.id == primary.client.id and account.client.urls.get("api") == primary.client.urls.get("api")


def balance_rows(wallets: Sequence[Wallet], fetched: Sequence[object]) -> tuple[list[BalanceRow], dict[str, str]]:
    """One row per asset of each wallet's ccxt ``fetch_balance`` (in ``fetched``, in the order of
    ``wallets``), and "venue/account wallet" -> the error type of each that could not be read."""
    rows: list[BalanceRow] = []
    unavailable: dict[str, str] = {}
    for (venue, name, wallet), raw in zip(wallets, fetched, strict=True):
        if isinstance(raw, (ccxt.BaseError, CrossbookError)):
            unavailable[f"{venue}/{name} {wallet}"] = type(raw).__name__  # the type only: its text can carry a signed request
            continue
        if isinstance(raw, BaseException):
            raise raw
        assert isinstance(raw, dict)
        free, used, total = (raw.get(k) or {} for k in ("free", "used", "total"))
        for asset in sorted(total.keys() | free.keys()):
            available, locked = _dec(free.get(asset)), _dec(used.get(asset))
            held = _dec(total.get(asset))
            if held is None and available is not None:  # ccxt leaves the total out on some venues (dYdX)
                held = available + (locked or Decimal(0))
            if held is not None:
                rows.append(BalanceRow(venue, name, asset, available or Decimal(0), locked or Decimal(0), held, None, wallet))
    return rows, unavailable


def _standard(symbol: str) -> bool:
    try:
        parse_standard(symbol)
    except CrossbookError:
        return False
    return True


def valuation_symbols(assets: Iterable[str], currency: str) -> list[str]:
    """The markets that can price ``assets`` in ``currency``, either way round."""
    out = []
    for asset in sorted(set(assets) - {currency}):
        out += [s for s in (f"{asset}-{currency}", f"{currency}-{asset}") if _standard(s)]
    return out


def _mid(book: ConsolidatedBook | None) -> float | None:
    if book is None:
        return None
    bid, ask = book.best_bid(), book.best_ask()
    return (bid.price + ask.price) / 2 if bid is not None and ask is not None else None


def price_in(asset: str, currency: str, books: Mapping[str, ConsolidatedBook]) -> float | None:
    """One ``asset`` in ``currency`` at the live mid, None when no live market links them."""
    if asset == currency:
        return 1.0
    direct = _mid(books.get(f"{asset}-{currency}"))
    if direct is not None:
        return direct
    inverse = _mid(books.get(f"{currency}-{asset}"))
    return 1.0 / inverse if inverse else None


def value_rows(rows: Iterable[BalanceRow], currency: str, books: Mapping[str, ConsolidatedBook]) -> list[BalanceRow]:
    prices = {asset: price_in(asset, currency, books) for asset in {r.asset for r in rows}}
    return [replace(r, value=_value(r.total, prices[r.asset])) for r in rows]


def _value(held: Decimal, price: float | None) -> float | None:
    if held == 0:
        return 0.0
    return None if price is None else float(held) * price
