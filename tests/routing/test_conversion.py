"""Conversion between declared-equivalent quote currencies, on hand-made books: the side the
conversion trades, direct, inverse and one-hop rates, and no rate without a live book."""

from __future__ import annotations

import pytest

from crossbook.book.consolidated import ConsolidatedBook
from crossbook.book.l2 import L2Book
from crossbook.errors import ConfigError, NoConversionRate
from crossbook.model import BookState, Side
from crossbook.routing.conversion import (
    DEFAULT_EQUIVALENTS,
    Conversion,
    conversion_symbols,
    equivalent_symbols,
    parse_equivalents,
)

NOW = 1000.0


def book(symbol: str, venue: str, bid: str, ask: str, updated_at: float = NOW) -> L2Book:
    b = L2Book(venue, symbol, stale_after=10.0)
    b.snapshot([[bid, "1000"]], [[ask, "1000"]])
    b.state = BookState.LIVE
    b.updated_at = updated_at
    return b


def books(*rows: tuple[str, str, str, str]) -> dict[str, ConsolidatedBook]:
    """(symbol, venue, bid, ask) rows -> consolidated books by symbol."""
    out: dict[str, ConsolidatedBook] = {}
    for symbol, venue, bid, ask in rows:
        out.setdefault(symbol, ConsolidatedBook(symbol)).add(venue, book(symbol, venue, bid, ask), 0.001)
    return out


def test_direct_pair_uses_the_side_the_conversion_trades() -> None:
    conv = Conversion(books(("USDC-USDT", "binance", "0.9995", "0.9997")))
    # a buy priced in USDC, paid from USDT: USDC is bought at the ask
    buy = conv.rate("USDC", "USDT", Side.BUY, NOW)
    assert buy.rate == pytest.approx(0.9997) and buy.via == ["USDC-USDT@binance"]
    # a sell's USDC proceeds are sold for USDT at the bid
    assert conv.rate("USDC", "USDT", Side.SELL, NOW).rate == pytest.approx(0.9995)


def test_inverse_pair_is_read_as_one_over_the_opposite_side() -> None:
    conv = Conversion(books(("USDT-USD", "kraken", "1.0001", "1.0003")))
    # a buy priced in USD, paid from USDT: USDT is sold for USD at the bid
    assert conv.rate("USD", "USDT", Side.BUY, NOW).rate == pytest.approx(1 / 1.0001)
    assert conv.rate("USD", "USDT", Side.SELL, NOW).rate == pytest.approx(1 / 1.0003)
    assert conv.rate("USDT", "USD", Side.BUY, NOW).rate == pytest.approx(1.0003)


def test_the_best_venue_of_a_conversion_book_gives_the_rate() -> None:
    conv = Conversion(books(("USDC-USDT", "okx", "0.9994", "0.9996"), ("USDC-USDT", "gate", "0.9993", "0.9999")))
    buy = conv.rate("USDC", "USDT", Side.BUY, NOW)
    assert buy.rate == pytest.approx(0.9996) and buy.legs[0].venue == "okx"
    sell = conv.rate("USDC", "USDT", Side.SELL, NOW)
    assert sell.rate == pytest.approx(0.9994) and sell.legs[0].venue == "okx"


def test_one_hop_through_another_declared_currency() -> None:
    conv = Conversion(books(("USDC-USDT", "binance", "0.9995", "0.9997"), ("USDT-USD", "kraken", "1.0001", "1.0003")))
    rate = conv.rate("USDC", "USD", Side.BUY, NOW)
    assert rate.rate == pytest.approx(0.9997 * 1.0003)
    assert rate.via == ["USDC-USDT@binance", "USDT-USD@kraken"]
    back = conv.rate("USD", "USDC", Side.SELL, NOW)
    assert back.rate == pytest.approx((1 / 1.0003) * (1 / 0.9997))


def test_a_direct_pair_and_a_hop_compete_for_the_better_rate() -> None:
    rows = (("USDC-USD", "coinbase", "0.9980", "0.9990"),
            ("USDC-USDT", "binance", "0.9995", "0.9997"), ("USDT-USD", "kraken", "1.0001", "1.0003"))
    conv = Conversion(books(*rows))
    sell = conv.rate("USDC", "USD", Side.SELL, NOW)  # direct 0.9980 < hop 0.9995 x 1.0001
    assert sell.rate == pytest.approx(0.9995 * 1.0001) and len(sell.legs) == 2
    buy = conv.rate("USDC", "USD", Side.BUY, NOW)  # direct 0.9990 < hop 0.9997 x 1.0003
    assert buy.rate == pytest.approx(0.9990) and buy.via == ["USDC-USD@coinbase"]


def test_a_stale_conversion_book_gives_no_rate_and_never_one_to_one() -> None:
    stale = ConsolidatedBook("USDC-USDT")
    stale.add("binance", book("USDC-USDT", "binance", "0.9995", "0.9997", updated_at=NOW - 60), 0.001)
    conv = Conversion({"USDC-USDT": stale})
    with pytest.raises(NoConversionRate, match="USDC -> USDT"):
        conv.rate("USDC", "USDT", Side.BUY, NOW)
    with pytest.raises(NoConversionRate, match="USD -> USDT"):
        Conversion({}).rate("USD", "USDT", Side.SELL, NOW)


def test_currencies_not_declared_equivalent_are_never_converted() -> None:
    conv = Conversion(books(("USDC-USDT", "binance", "0.9995", "0.9997"), ("EUR-USDT", "kraken", "1.08", "1.09")),
                      equivalents={"USDT", "USDC"})
    with pytest.raises(NoConversionRate, match="EUR is not among USDC, USDT"):
        conv.rate("EUR", "USDT", Side.BUY, NOW)
    with pytest.raises(NoConversionRate, match="not declared equivalent"):
        Conversion(books(("USDC-USDT", "binance", "0.9995", "0.9997")), equivalents=()).rate("USDC", "USDT", Side.BUY, NOW)
    assert conv.rate("USDT", "USDT", Side.BUY, NOW).rate == 1.0  # the same currency needs no book


def test_equivalent_and_conversion_symbols() -> None:
    assert equivalent_symbols("BTC-USDT", DEFAULT_EQUIVALENTS) == ["BTC-USD", "BTC-USDC"]
    assert equivalent_symbols("btc-usd-perp", DEFAULT_EQUIVALENTS) == ["BTC-USDC-PERP", "BTC-USDT-PERP"]
    assert equivalent_symbols("ETH-BTC", DEFAULT_EQUIVALENTS) == []
    assert equivalent_symbols("USDC-USDT", DEFAULT_EQUIVALENTS) == ["USDC-USD"]
    assert conversion_symbols({"USDT", "USD"}) == ["USD-USDT", "USDT-USD"]
    assert parse_equivalents(" usdt, USDC ,") == {"USDT", "USDC"} and parse_equivalents("") == frozenset()
    with pytest.raises(ConfigError, match="'US-D'"):
        parse_equivalents("USDT,US-D")
