from __future__ import annotations

import pytest

from crossbook.book.consolidated import ConsolidatedBook, QuoteStatus
from crossbook.book.l2 import L2Book
from crossbook.model import BookState, Side


def live(venue: str, bids: list[list[str]], asks: list[list[str]], now: float = 1000.0) -> L2Book:
    b = L2Book(venue, "BTC-USDT", stale_after=10.0)
    b.snapshot(bids, asks)
    b.state = BookState.LIVE
    b.updated_at = now
    return b


def test_best_across_venues_and_all_in_price_with_fees() -> None:
    c = ConsolidatedBook("BTC-USDT")
    c.add("cheap_fee", live("cheap_fee", [["99", "5"]], [["101", "1"], ["102", "5"]]), 0.0001)
    c.add("tight", live("tight", [["100", "5"]], [["100.5", "1"], ["103", "5"]]), 0.01)
    assert c.best_ask(now=1001.0).venue == "tight"  # type: ignore[union-attr]
    assert c.best_bid(now=1001.0).venue == "tight"  # type: ignore[union-attr]
    quotes = c.quote(Side.BUY, 2.0, now=1001.0)
    assert quotes["cheap_fee"].vwap == pytest.approx(101.5)
    assert quotes["cheap_fee"].all_in_price == pytest.approx(101.5 * 1.0001)
    assert quotes["tight"].all_in_price == pytest.approx(101.75 * 1.01)
    best = ConsolidatedBook.best(quotes, Side.BUY)
    assert best is not None and best.venue == "cheap_fee"  # the best top of book loses after fees
    sell = c.quote(Side.SELL, 1.0, now=1001.0)
    assert sell["tight"].all_in_price == pytest.approx(100 * 0.99)
    assert ConsolidatedBook.best(sell, Side.SELL).venue == "tight"  # type: ignore[union-attr]  # 99.00 > 98.99


def test_books_not_live_are_never_priced() -> None:
    c = ConsolidatedBook("BTC-USDT")
    c.add("stale", live("stale", [["200", "5"]], [["1", "5"]], now=0.0), 0.0)
    syncing = live("syncing", [["200", "5"]], [["1", "5"]])
    syncing.state = BookState.SYNCING
    c.add("syncing", syncing, 0.0)
    c.add("ok", live("ok", [["99", "5"]], [["101", "5"]]), 0.001)
    quotes = c.quote(Side.BUY, 1.0, now=1001.0)
    assert quotes["stale"].status is QuoteStatus.STALE and quotes["stale"].all_in_price is None
    assert quotes["syncing"].status is QuoteStatus.SYNCING and quotes["syncing"].all_in_price is None
    assert ConsolidatedBook.best(quotes, Side.BUY).venue == "ok"  # type: ignore[union-attr]
    assert c.best_ask(now=1001.0).venue == "ok"  # type: ignore[union-attr]


def test_venue_too_shallow_gives_no_all_in_price() -> None:
    c = ConsolidatedBook("BTC-USDT")
    c.add("thin", live("thin", [["99", "1"]], [["101", "0.5"]]), 0.001)
    q = c.quote_venue("thin", Side.BUY, 1.0, now=1001.0)
    assert q.filled == 0.5 and q.vwap == 101.0 and q.all_in_price is None
    assert ConsolidatedBook.best({"thin": q}, Side.BUY) is None


def test_contract_books_are_quoted_in_base_units() -> None:
    from crossbook.book.consolidated import SizeUnit

    c = ConsolidatedBook("BTC-USD-PERP")
    spot_like = live("base", [["99", "1"]], [["100", "1"], ["101", "1"]])
    linear = live("linear", [["99", "100"]], [["100", "100"], ["101", "100"]])  # 0.01 BTC contracts
    inverse = live("inverse", [["99", "0.99"]], [["100", "1"], ["101", "1.01"]])  # 100 USD contracts
    c.add("base", spot_like, 0.0)
    c.add("linear", linear, 0.0, SizeUnit(0.01))
    c.add("inverse", inverse, 0.0, SizeUnit(100.0, inverse=True))
    quotes = c.quote(Side.BUY, 1.5, now=1001.0)
    for venue in ("base", "linear", "inverse"):
        q = quotes[venue]
        assert q.filled == pytest.approx(1.5), venue
        assert q.vwap == pytest.approx((100 + 0.5 * 101) / 1.5), venue
    assert c.best_bid(now=1001.0).size == pytest.approx(1.0)  # type: ignore[union-attr]
    assert quotes["inverse"].all_in_price == pytest.approx(quotes["base"].all_in_price)


def test_ladder_merges_live_venues_best_first() -> None:
    c = ConsolidatedBook("BTC-USDT")
    c.add("a", live("a", [["100", "1"], ["98", "1"]], [["101", "1"], ["104", "1"]]), 0.001)
    c.add("b", live("b", [["99", "2"]], [["102", "2"], ["103", "2"]]), 0.001)
    c.add("old", live("old", [["200", "9"]], [["1", "9"]], now=0.0), 0.001)  # stale: left out
    bids = c.ladder(Side.BUY, 3, now=1001.0)
    asks = c.ladder(Side.SELL, 3, now=1001.0)
    assert [(lv.venue, lv.price) for lv in bids] == [("a", 100.0), ("b", 99.0), ("a", 98.0)]
    assert [(lv.venue, lv.price, lv.size) for lv in asks] == [("a", 101.0, 1.0), ("b", 102.0, 2.0), ("b", 103.0, 2.0)]
