from __future__ import annotations

import math

import pytest

from crossbook.arbitrage.cross_venue import Transfer, cross_venue
from crossbook.model import Side

from .books import NOW, consolidated


def test_net_profit_is_sell_proceeds_after_fee_minus_buy_cost_with_fee() -> None:
    book = consolidated("BTC-USDT", {
        "cheap": ([(99.0, 5.0)], [(100.0, 1.0), (100.5, 2.0)], 0.001),
        "dear": ([(102.0, 1.5), (101.5, 4.0)], [(103.0, 5.0)], 0.002),
    })
    [opp] = cross_venue(book, NOW)
    buy, sell = opp.legs
    assert (buy.venue, buy.side, sell.venue, sell.side) == ("cheap", Side.BUY, "dear", Side.SELL)
    # 1.0 @ 100 against 102, 0.5 @ 100.5 against 102, then 1.5 @ 100.5 against 101.5: every unit earns
    assert buy.amount == pytest.approx(3.0) and sell.amount == buy.amount
    assert buy.price == pytest.approx((100.0 + 2 * 100.5) / 3)
    assert sell.price == pytest.approx((1.5 * 102.0 + 1.5 * 101.5) / 3)
    expected = (1.5 * 102.0 + 1.5 * 101.5) * (1 - 0.002) - (1.0 * 100.0 + 2.0 * 100.5) * (1 + 0.001)
    assert opp.net_profit == pytest.approx(expected, rel=1e-12)
    from_legs = sell.price * sell.amount * (1 - sell.fee_rate) - buy.price * buy.amount * (1 + buy.fee_rate)
    assert opp.net_profit == pytest.approx(from_legs, rel=1e-12)
    assert opp.net_bps == pytest.approx(expected / (buy.price * buy.amount) * 1e4)
    assert (buy.fee_rate, sell.fee_rate) == (0.001, 0.002)
    assert opp.profit_asset == "USDT"
    as_json = opp.as_json()
    assert set(as_json) == {"kind", "legs", "net_profit", "profit_currency", "net_bps", "capped_by", "opened_at", "closed_at"}
    assert as_json["kind"] == "cross_venue"
    assert as_json["legs"][0] == {
        "venue": "cheap", "symbol": "BTC-USDT", "side": "buy", "price": buy.price, "amount": buy.amount, "fee_rate": 0.001,
        "fixed_cost": 0.0,
    }


def test_size_stops_where_the_marginal_unit_stops_earning() -> None:
    # the second ask level (101.3) against the rest of the first bid (101.5) earns 0.2 gross but
    # loses after 0.1% fees: 101.5 * 0.999 - 101.3 * 1.001 = -0.0028
    book = consolidated("BTC-USDT", {
        "a": ([(90.0, 1.0)], [(100.0, 2.0), (101.3, 10.0)], 0.001),
        "b": ([(101.5, 3.0), (101.2, 10.0)], [(110.0, 1.0)], 0.001),
    })
    [opp] = cross_venue(book, NOW)
    buy, sell = opp.legs
    assert buy.amount == pytest.approx(2.0)
    assert buy.price == pytest.approx(100.0) and sell.price == pytest.approx(101.5)


def test_balances_cap_the_size_on_either_side() -> None:
    book = consolidated("BTC-USDT", {
        "a": ([(90.0, 1.0)], [(100.0, 10.0)], 0.001),
        "b": ([(105.0, 10.0)], [(110.0, 1.0)], 0.001),
    })
    [opp] = cross_venue(book, NOW, balances={"a": {"USDT": 1_000_000.0}, "b": {"BTC": 0.7}})
    assert opp.legs[0].amount == pytest.approx(0.7)
    [opp] = cross_venue(book, NOW, balances={"a": {"USDT": 300.3}, "b": {"BTC": 100.0}})
    assert opp.legs[0].amount == pytest.approx(300.3 / (100.0 * 1.001))
    assert opp.legs[0].price * opp.legs[0].amount * 1.001 == pytest.approx(300.3)
    assert cross_venue(book, NOW, balances={"a": {"USDT": 1000.0}}) == []  # no BTC on b to sell


def test_fees_remove_an_opportunity_that_is_profitable_gross() -> None:
    venues = {
        "a": ([(99.0, 1.0)], [(100.0, 1.0)], 0.0),
        "b": ([(100.15, 1.0)], [(101.0, 1.0)], 0.0),
    }
    assert len(cross_venue(consolidated("BTC-USDT", venues), NOW)) == 1
    with_fees = {v: (bids, asks, 0.001) for v, (bids, asks, _) in venues.items()}
    assert cross_venue(consolidated("BTC-USDT", with_fees), NOW) == []
    # the fee input can be swapped: a plain venue -> rate dict overrides the books' own
    assert len(cross_venue(consolidated("BTC-USDT", with_fees), NOW, fees={"a": 0.0, "b": 0.0})) == 1


def test_a_transfer_cost_is_reported_beside_the_net_profit_not_in_it() -> None:
    book = consolidated("BTC-USDT", {
        "a": ([(90.0, 1.0)], [(100.0, 1.0)], 0.001),
        "b": ([(105.0, 1.0)], [(110.0, 1.0)], 0.001),
    })
    [plain] = cross_venue(book, NOW)
    [opp] = cross_venue(book, NOW, transfer=Transfer(withdrawal_fee={"a": 0.0005, "b": 0.001}, seconds=600.0))
    assert opp.net_profit == plain.net_profit
    assert opp.transfer is not None
    assert (opp.transfer.asset, opp.transfer.withdrawal_fee, opp.transfer.seconds) == ("BTC", 0.0005, 600.0)
    assert opp.transfer.cost == pytest.approx(0.0005 * 105.0)
    assert opp.as_json()["transfer"]["cost"] == opp.transfer.cost


def test_every_profitable_pair_is_found_and_a_book_that_is_not_live_is_not() -> None:
    book = consolidated("ETH-USDT", {
        "a": ([(99.0, 1.0)], [(100.0, 1.0)], 0.0),
        "b": ([(99.5, 1.0)], [(100.2, 1.0)], 0.0),
        "c": ([(101.0, 1.0)], [(102.0, 1.0)], 0.0),
    })
    pairs = {(o.legs[0].venue, o.legs[1].venue) for o in cross_venue(book, NOW)}
    assert pairs == {("a", "c"), ("b", "c")}
    assert math.isclose(cross_venue(book, NOW)[0].net_profit, 1.0)  # most profitable first
    assert cross_venue(book, NOW + 6.0) == []  # nothing heard for longer than stale_after
