"""Opportunity sizes are capped by the balances crossbook knows, else by a notional per
opportunity (100,000 in the quote currency by default), and each says which cap bounded it."""

from __future__ import annotations

import pytest

from crossbook.arbitrage.model import DEFAULT_MAX_NOTIONAL, SizeCap
from crossbook.arbitrage.scanner import Scanner
from crossbook.book.consolidated import ConsolidatedBook

from .books import NOW, consolidated

DEEP = 10_000.0  # BTC on every level: only a cap stops the walk


def deep_books() -> dict[str, ConsolidatedBook]:
    return {"BTC-USDT": consolidated("BTC-USDT", {
        "cheap": ([(59_000.0, DEEP)], [(59_500.0, DEEP)], 0.001),
        "dear": ([(60_500.0, DEEP)], [(61_000.0, DEEP)], 0.001),
    })}


def test_without_balances_the_default_notional_caps_the_size_and_says_so() -> None:
    scanner = Scanner(deep_books(), kinds=["cross_venue"])
    (opp,) = scanner.find(NOW)
    buy = opp.legs[0]
    assert buy.amount * buy.price * (1 + buy.fee_rate) == pytest.approx(DEFAULT_MAX_NOTIONAL)
    assert opp.capped_by == "max_notional"
    assert opp.as_json()["capped_by"] == "max_notional" and opp.as_json()["profit_currency"] == "USDT"
    assert scanner.cap.describe() == "sizes capped by 100,000 notional in the quote currency per opportunity"


def test_an_explicit_max_notional_applies() -> None:
    (opp,) = Scanner(deep_books(), kinds=["cross_venue"], max_notional=5_000.0).find(NOW)
    buy = opp.legs[0]
    assert buy.amount * buy.price * (1 + buy.fee_rate) == pytest.approx(5_000.0)
    assert opp.capped_by == "max_notional"


def test_known_balances_cap_the_size_instead_and_say_so() -> None:
    balances = {"cheap": {"USDT": 1e9}, "dear": {"BTC": 0.25}}
    scanner = Scanner(deep_books(), kinds=["cross_venue"], balances=balances)
    (opp,) = scanner.find(NOW)
    assert opp.legs[0].amount == pytest.approx(0.25) and opp.capped_by == "balances"
    assert scanner.cap == SizeCap(balances)  # no notional cap when balances are known
    assert scanner.cap.describe() == "sizes capped by the balances crossbook knows"
    short_of_quote = {"cheap": {"USDT": 1_000.0}, "dear": {"BTC": 100.0}}
    (opp,) = Scanner(deep_books(), kinds=["cross_venue"], balances=short_of_quote).find(NOW)
    assert opp.capped_by == "balances" and opp.legs[0].amount < 0.02


def test_an_opportunity_the_books_bound_names_no_cap() -> None:
    books = {"BTC-USDT": consolidated("BTC-USDT", {
        "cheap": ([(59_000.0, 1.0)], [(59_500.0, 0.5)], 0.001),
        "dear": ([(60_500.0, 1.0)], [(61_000.0, 1.0)], 0.001),
    })}
    (opp,) = Scanner(books, kinds=["cross_venue"]).find(NOW)
    assert opp.legs[0].amount == pytest.approx(0.5) and opp.capped_by is None
