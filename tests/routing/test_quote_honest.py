"""Honest quotes: a venue too shallow for the amount is ``partial`` with what it can fill and the
VWAP of that part, never the best venue nor a price for the whole amount; a venue whose own book
is crossed is not priced; books crossed across venues are reported as a cross."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossbook.book.consolidated import ConsolidatedBook, QuoteStatus
from crossbook.cli import app
from crossbook.cli.market import print_quote
from crossbook.model import Side
from crossbook.precision import Precision
from crossbook.routing.quote import price_order

from ..arbitrage.books import NOW, consolidated


def books() -> dict[str, ConsolidatedBook]:
    # "pool" is cheap at the top but holds 9.13 BTC in all; "deep" fills 12 at a worse price
    return {"BTC-USDT": consolidated("BTC-USDT", {
        "pool": ([(99.0, 5.0)], [(100.0, 4.0), (101.0, 5.13)], 0.0005),
        "deep": ([(99.0, 50.0)], [(102.0, 20.0)], 0.001),
    })}


def test_a_venue_that_cannot_fill_the_amount_is_partial_and_never_best() -> None:
    quote = price_order(books(), "BTC-USDT", Side.BUY, 12.0, equivalents=(), now=NOW)
    rows = {r.venue: r for r in quote.rows}
    pool = rows["pool"]
    assert pool.status is QuoteStatus.PARTIAL and pool.all_in_price is None
    assert pool.filled == pytest.approx(9.13)
    assert pool.vwap == pytest.approx((4 * 100.0 + 5.13 * 101.0) / 9.13)  # the VWAP of the part it can fill
    assert rows["deep"].status is QuoteStatus.LIVE and rows["deep"].all_in_price == pytest.approx(102.0 * 1.001)
    assert quote.best is not None and quote.best.venue == "deep"
    assert quote.partial == (pool,)
    as_json = quote.to_json()
    assert as_json["venues"]["pool"]["status"] == "partial"  # type: ignore[index]
    assert as_json["venues"]["pool"]["all_in_price"] is None  # type: ignore[index]
    assert as_json["best"] == {"venue": "deep", "all_in_price": pytest.approx(102.0 * 1.001)}


def test_the_quote_table_marks_a_partial_vwap_as_the_part_it_can_fill(capsys: pytest.CaptureFixture[str]) -> None:
    quote = price_order(books(), "BTC-USDT", Side.BUY, 12.0, equivalents=(), now=NOW)
    print_quote(quote, Precision(2, 2))
    text = capsys.readouterr().out
    assert "partial" in text
    assert "* partial: pool can fill 9.13 of 12.00 BTC" in text
    assert "not a price for the whole amount" in text
    assert "best: deep at" in text


def test_only_partial_venues_give_no_best_price() -> None:
    quote = price_order(books(), "BTC-USDT", Side.BUY, 100.0, equivalents=(), now=NOW)
    assert {r.status for r in quote.rows} == {QuoteStatus.PARTIAL}
    assert quote.best is None


def test_a_venue_whose_own_book_is_crossed_is_marked_and_not_served() -> None:
    c = consolidated("BTC-USDT", {
        "crossed": ([(105.0, 1.0)], [(100.0, 1.0)], 0.001),  # its own bid above its own ask
        "ok": ([(99.0, 1.0)], [(101.0, 1.0)], 0.001),
    })
    assert c.venue_status("crossed", NOW) is QuoteStatus.CROSSED
    assert c.crossed_venues(NOW) == ["crossed"]
    assert set(c.live_books(NOW)) == {"ok"}
    quotes = c.quote(Side.BUY, 0.5, NOW)
    assert quotes["crossed"].status is QuoteStatus.CROSSED and quotes["crossed"].all_in_price is None
    assert c.best_ask(NOW).venue == "ok" and c.best_bid(NOW).venue == "ok"  # type: ignore[union-attr]
    assert c.cross(NOW) is None  # a venue crossed in itself is no cross across venues
    c.books["crossed"].snapshot([(99.5, 1.0)], [(100.0, 1.0)])  # it uncrosses: served again
    assert c.venue_status("crossed", NOW) is QuoteStatus.LIVE
    assert c.best_ask(NOW).venue == "crossed"  # type: ignore[union-attr]


def test_books_crossed_across_venues_are_reported_as_a_cross() -> None:
    c = consolidated("BTC-USDT", {
        "low": ([(99.0, 1.0)], [(100.0, 1.0)], 0.001),
        "high": ([(100.5, 1.0)], [(101.5, 1.0)], 0.001),
    })
    cross = c.cross(NOW)
    assert cross is not None
    assert (cross.bid.venue, cross.bid.price, cross.ask.venue, cross.ask.price) == ("high", 100.5, "low", 100.0)
    assert cross.bps == pytest.approx(50.0)
    assert set(c.live_books(NOW)) == {"low", "high"}  # both served: the cross is an opportunity


def test_the_quote_command_shows_partial_venues_as_partial() -> None:
    result = CliRunner().invoke(app, ["quote", "BTC-USDT", "buy", "100000", "--sim", "--json", "--venues", "binance"])
    assert result.exit_code == 1, result.output  # no venue fills 100,000 BTC
    quote = json.loads(result.stdout)
    entry = quote["venues"]["binance"]
    assert entry["status"] == "partial" and entry["all_in_price"] is None and 0 < entry["filled"] < 100000
    assert quote["best"] is None


def test_many_partial_venues_share_one_footnote(capsys: pytest.CaptureFixture[str]) -> None:
    quote = price_order(books(), "BTC-USDT", Side.BUY, 100.0, equivalents=(), now=NOW)
    print_quote(quote, Precision(2, 2))
    text = capsys.readouterr().out
    assert text.count("* partial") == 1 and f"* partial ({len(quote.rows)} venues)" in text
    assert "not a price for the whole 100.00 BTC" in text


def test_gas_per_order_is_spread_over_the_amount_in_the_all_in_price_and_can_change_the_best() -> None:
    """A pool's swap costs gas once per order: 40 USDT over 4 BTC adds 10 per BTC to a buy (and
    takes 10 from a sell), enough to make the deeper venue the cheaper one."""
    shallow = {"BTC-USDT": consolidated("BTC-USDT", {
        "pool": ([(99.0, 5.0)], [(100.0, 5.0)], 0.0),
        "deep": ([(98.0, 50.0)], [(101.0, 20.0)], 0.0),
    })}
    without = price_order(shallow, "BTC-USDT", Side.BUY, 4.0, equivalents=(), now=NOW)
    assert without.best is not None and without.best.venue == "pool"
    buy = price_order(shallow, "BTC-USDT", Side.BUY, 4.0, equivalents=(), fixed_costs={"pool": 40.0}, now=NOW)
    rows = {r.venue: r for r in buy.rows}
    assert rows["pool"].all_in_price == pytest.approx(100.0 + 10.0) and rows["pool"].fixed_cost == 40.0
    assert rows["deep"].all_in_price == pytest.approx(101.0) and rows["deep"].fixed_cost == 0.0
    assert buy.best is not None and buy.best.venue == "deep"
    assert buy.to_json()["venues"]["pool"]["fixed_cost"] == pytest.approx(40.0)  # type: ignore[index]
    assert "fixed_cost" not in buy.to_json()["venues"]["deep"]  # type: ignore[index]
    sell = price_order(shallow, "BTC-USDT", Side.SELL, 4.0, equivalents=(), fixed_costs={"pool": 40.0}, now=NOW)
    assert {r.venue: r for r in sell.rows}["pool"].all_in_price == pytest.approx(99.0 - 10.0)


def test_the_quote_table_shows_the_gas_column_only_when_a_venue_has_one(capsys: pytest.CaptureFixture[str]) -> None:
    print_quote(price_order(books(), "BTC-USDT", Side.BUY, 1.0, equivalents=(), now=NOW), Precision(2, 2))
    assert "gas" not in capsys.readouterr().out
    print_quote(price_order(books(), "BTC-USDT", Side.BUY, 1.0, equivalents=(), fixed_costs={"deep": 3.5}, now=NOW),
                Precision(2, 2))
    text = capsys.readouterr().out
    assert "+ gas per order" in text and "3.50" in text
