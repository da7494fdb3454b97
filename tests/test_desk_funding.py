"""desk.funding: funding across venues, from the simulators, and the venues it cannot read named."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.desk.funding_view import FundingBoard
from crossbook.errors import UnknownSymbol
from crossbook.model import FundingRate

from .conftest import run


def test_funding_reads_each_venue_and_names_the_spread() -> None:
    async def body() -> FundingBoard:
        async with Desk.sim(["binance", "bybit", "dydx"]) as desk:
            return await desk.funding(["btc-usd-perp"])

    board = run(body(), timeout=120)
    assert board.symbols == ("BTC-USD-PERP",)
    assert [r.venue for r in board.rates] == ["binance", "bybit", "dydx"]  # COIN-M, Bybit's inverse server, the indexer
    assert board.unavailable == ()
    by_venue = {r.venue: r for r in board.rates}
    assert (by_venue["binance"].interval_hours, by_venue["dydx"].interval_hours) == (8.0, 1.0)
    [spread] = board.spreads
    assert spread.high.annualized == max(r.annualized for r in board.rates)
    assert spread.low.annualized == min(r.annualized for r in board.rates)
    assert board.to_json()["spreads"][0]["annualized"] == spread.annualized


def test_a_venue_that_cannot_be_read_is_listed_with_the_reason(tmp_path: Path) -> None:
    async def body() -> FundingBoard:
        async with Desk.sim(["binance", "okx"]) as simulated:
            config = simulated.write_config(tmp_path / "crossbook.toml")
            text = config.read_text()
            usdm = next(block for block in text.split("\n\n") if block.startswith("[endpoints.binanceusdm]"))
            config.write_text(text.replace(usdm, ""))  # names simulators, not Binance USD-M's
            async with Desk.from_config(config) as desk:
                return await desk.funding(["BTC-USDT-PERP"])

    board = run(body(), timeout=120)
    assert [r.venue for r in board.rates] == ["okx"]
    [unread] = board.unavailable
    assert (unread.venue, unread.symbol) == ("binance", "BTC-USDT-PERP") and "binanceusdm" in unread.reason
    assert board.spreads == []  # one venue read: no spread
    assert board.to_json()["unavailable"] == [unread.to_json()]


def test_funding_refuses_a_symbol_that_is_no_perpetual_or_not_listed() -> None:
    async def body() -> None:
        async with Desk.sim(["kraken", "okx"]) as desk:
            with pytest.raises(UnknownSymbol, match="ETH-USDT is not a perpetual"):
                await desk.funding(["ETH-USDT"])
            with pytest.raises(UnknownSymbol, match="no perpetual SOL-USDT-PERP"):
                await desk.funding(["BTC-USDT-PERP", "SOL-USDT-PERP"])
            board = await desk.funding()  # the standard perpetuals OKX lists; Kraken lists none
            assert {r.venue for r in board.rates} == {"okx"} and len(board.symbols) == 4

    run(body(), timeout=120)


def test_the_spread_is_between_the_highest_and_lowest_annualized_rate() -> None:
    hourly = FundingRate("dydx", "BTC-USD-PERP", 0.0, 0.0001, 3600.0, 1.0)  # 87.6 % a year
    eight = FundingRate("okx", "BTC-USD-PERP", 0.0, 0.0003, 28800.0, 8.0)  # 32.85 % a year
    negative = FundingRate("binance", "BTC-USD-PERP", 0.0, -0.0001, 28800.0, 8.0)
    board = FundingBoard(("BTC-USD-PERP",), (hourly, eight, negative), ())
    [spread] = board.spreads
    assert (spread.high.venue, spread.low.venue) == ("dydx", "binance")
    assert spread.annualized == pytest.approx(0.876 + 0.1095)
