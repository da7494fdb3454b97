from __future__ import annotations

import pytest

from crossbook.arbitrage.basis import basis
from crossbook.arbitrage.scanner import Scanner
from crossbook.arbitrage.triangular import triangles, triangular_all
from crossbook.book.consolidated import SizeUnit
from crossbook.model import Side

from .books import NOW, consolidated, l2

FEE = 0.001


def venue_books(btc_usdt: tuple, eth_btc: tuple, eth_usdt: tuple, fee: float = FEE) -> dict:
    return {
        "BTC-USDT": consolidated("BTC-USDT", {"v": (*btc_usdt, fee)}),
        "ETH-BTC": consolidated("ETH-BTC", {"v": (*eth_btc, fee)}),
        "ETH-USDT": consolidated("ETH-USDT", {"v": (*eth_usdt, fee)}),
    }


def test_the_triangle_starts_from_the_asset_its_books_quote_most_and_runs_both_ways() -> None:
    [(start, one, other)] = triangles(frozenset({"BTC-USDT", "ETH-BTC", "ETH-USDT", "BTC-USDT-PERP"}))
    assert start == "USDT"
    assert one == [("BTC-USDT", Side.BUY), ("ETH-BTC", Side.BUY), ("ETH-USDT", Side.SELL)]
    assert other == [("ETH-USDT", Side.BUY), ("ETH-BTC", Side.SELL), ("BTC-USDT", Side.SELL)]


def test_usdt_to_btc_to_eth_to_usdt_net_of_three_fees_sized_by_depth() -> None:
    books = venue_books(
        ([(99.9, 1.0)], [(100.0, 1.0)]),
        ([(0.0499, 10.0)], [(0.05, 10.0)]),
        ([(5.2, 100.0)], [(5.21, 100.0)]),
    )
    [opp] = triangular_all(books, NOW)
    buy_btc, buy_eth, sell_eth = opp.legs
    assert [(leg.symbol, leg.side) for leg in opp.legs] == [("BTC-USDT", Side.BUY), ("ETH-BTC", Side.BUY), ("ETH-USDT", Side.SELL)]
    # the ETH-BTC level (10 ETH = 0.5 BTC) binds: 0.5 BTC arrive after the first fee
    assert buy_btc.amount * (1 - FEE) == pytest.approx(0.5)
    assert buy_eth.amount == pytest.approx(10.0) and buy_eth.amount * buy_eth.price == pytest.approx(buy_btc.amount * (1 - FEE))
    assert sell_eth.amount == pytest.approx(buy_eth.amount * (1 - FEE))
    put_in = buy_btc.amount * 100.0
    got_back = sell_eth.amount * 5.2 * (1 - FEE)
    assert opp.net_profit == pytest.approx(got_back - put_in)
    assert opp.net_profit == pytest.approx(put_in * (1.04 * (1 - FEE) ** 3 - 1))
    assert opp.net_bps == pytest.approx((1.04 * (1 - FEE) ** 3 - 1) * 1e4)
    assert opp.profit_asset == "USDT" and opp.kind == "triangular"
    assert {leg.venue for leg in opp.legs} == {"v"}


def test_the_other_direction_usdt_to_eth_to_btc_to_usdt() -> None:
    books = venue_books(
        ([(100.0, 2.0)], [(100.1, 2.0)]),
        ([(0.05, 100.0)], [(0.0501, 100.0)]),
        ([(4.79, 30.0)], [(4.8, 30.0)]),
    )
    [opp] = triangular_all(books, NOW)
    assert [(leg.symbol, leg.side) for leg in opp.legs] == [("ETH-USDT", Side.BUY), ("ETH-BTC", Side.SELL), ("BTC-USDT", Side.SELL)]
    # 1 USDT -> 1/4.8 ETH -> * 0.05 BTC -> * 100 USDT, each after a fee
    assert opp.net_bps == pytest.approx((100 * 0.05 / 4.8 * (1 - FEE) ** 3 - 1) * 1e4)
    buy_eth, sell_eth, sell_btc = opp.legs
    assert buy_eth.amount == pytest.approx(30.0)  # ETH-USDT's only ask binds
    assert sell_eth.amount == pytest.approx(buy_eth.amount * (1 - FEE))  # all the ETH bought is sold
    assert sell_btc.amount == pytest.approx(sell_eth.amount * sell_eth.price * (1 - FEE))
    assert opp.net_profit == pytest.approx(sell_btc.amount * 100.0 * (1 - FEE) - buy_eth.amount * 4.8)


def test_three_fees_remove_a_triangle_that_is_profitable_gross() -> None:
    levels = (([(99.9, 1.0)], [(100.0, 1.0)]), ([(0.0499, 10.0)], [(0.05, 10.0)]), ([(5.2, 100.0)], [(5.21, 100.0)]))
    assert triangular_all(venue_books(*levels, fee=0.0), NOW)
    assert triangular_all(venue_books(*levels, fee=0.015), NOW) == []  # 1.04 * 0.985^3 < 1


def test_spot_perp_basis_in_base_units_with_the_funding_rate_shown() -> None:
    spot = consolidated("BTC-USDT", {"x": ([(99.0, 5.0)], [(100.0, 2.0)], 0.001)})
    perp = consolidated("BTC-USDT-PERP", {})
    # 0.01 BTC contracts: 100 contracts at 100.5 are 1 BTC
    perp.add("y", l2("y", "BTC-USDT-PERP", [(100.5, 100.0), (100.0, 500.0)], [(101.0, 100.0)]), 0.0005, SizeUnit(0.01))
    [opp] = basis(spot, perp, NOW, funding={("y", "BTC-USDT-PERP"): 0.0001})
    buy, sell = opp.legs
    assert (buy.venue, buy.symbol, buy.side) == ("x", "BTC-USDT", Side.BUY)
    assert (sell.venue, sell.symbol, sell.side) == ("y", "BTC-USDT-PERP", Side.SELL)
    assert buy.amount == pytest.approx(1.0) and sell.amount == pytest.approx(1.0)
    assert opp.net_profit == pytest.approx(100.5 * (1 - 0.0005) - 100.0 * (1 + 0.001))
    assert opp.funding_rate == 0.0001
    assert opp.as_json()["funding_rate"] == 0.0001 and opp.as_json()["kind"] == "basis"
    [unknown] = basis(spot, perp, NOW)
    assert unknown.funding_rate is None and "funding_rate" in unknown.as_json()


def test_basis_the_other_way_when_the_perpetual_trades_cheap() -> None:
    spot = consolidated("ETH-USDT", {"x": ([(10.1, 3.0)], [(10.2, 3.0)], 0.001)})
    perp = consolidated("ETH-USDT-PERP", {"x": ([(9.8, 3.0)], [(10.0, 1.5)], 0.0005)})
    [opp] = basis(spot, perp, NOW, funding=lambda venue, symbol: -0.0002)
    buy, sell = opp.legs
    assert (buy.symbol, sell.symbol) == ("ETH-USDT-PERP", "ETH-USDT") and buy.amount == pytest.approx(1.5)
    assert opp.funding_rate == -0.0002


def test_a_venue_with_a_cost_per_order_forms_no_triangle_in_the_scanner() -> None:
    """An on-chain venue trades every symbol under one name, each leg a swap paying gas in its own
    currency, which the triangle walk does not count: the scanner finds no triangle there."""
    books = venue_books(
        ([(99.9, 1.0)], [(100.0, 1.0)]),
        ([(0.0499, 10.0)], [(0.05, 10.0)]),
        ([(5.2, 100.0)], [(5.21, 100.0)]),
    )
    assert Scanner(books, kinds=("triangular",)).find(NOW)
    assert Scanner(books, kinds=("triangular",), fixed_costs={"v": 0.01}).find(NOW) == []
