"""The simulator's matching engine on hand-built ladders (prices in 0.01 ticks, BTC in 0.00001 lots)."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from crossbook.model import MarginMode, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from crossbook.sim.engine import MatchingEngine, OrderEvent, Reject
from crossbook.sim.market import CATALOG, Ladder, SimTrade

BTC = 100_000  # lots per BTC
FEE = D("0.001")


def ladder(symbol: str, bids: dict[int, int], asks: dict[int, int]) -> Ladder:
    lad = Ladder(CATALOG[symbol], random.Random(1), offset_bps=0.0, spread_bps=1.0, levels=10)
    lad.bids.update(bids)
    lad.asks.update(asks)
    return lad


class Harness:
    def __init__(self, symbol: str = "BTC-USDT") -> None:
        self.symbol = symbol
        tick = 10 if symbol.endswith("PERP") else 1  # perps tick 0.1 -> the same prices in their ticks
        lots = BTC // 100 if symbol.endswith("PERP") else BTC  # perps lot 0.001
        self.lots = lots
        self.ladder = ladder(
            symbol,
            {6_000_000 // tick: lots, 5_999_900 // tick: 2 * lots},
            {6_000_100 // tick: lots, 6_000_200 // tick: 2 * lots},
        )
        self.published: list[tuple[str, list[tuple[bool, int, int]], list[SimTrade]]] = []
        self.events: list[OrderEvent] = []
        self.engine = MatchingEngine("sim", {symbol: self.ladder}, maker_fee=FEE / 2, taker_fee=FEE,
                                     publish=lambda s, c, t: self.published.append((s, c, t)))
        self.engine.listeners.append(self.events.append)
        self.engine.open_account("alice", {"USDT": D(1_000_000), "BTC": D(10)})
        self.engine.open_account("bob", {"USDT": D(1_000_000), "BTC": D(10)})

    def trades(self) -> list[SimTrade]:
        return [t for _, _, ts in self.published for t in ts]


def test_market_buy_walks_the_ladder_and_pays_the_taker_fee_in_what_it_receives() -> None:
    h = Harness()
    order = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.MARKET, D("1.5"))
    assert order.status is OrderStatus.FILLED
    cost = D("60001") + D("0.5") * D("60002")
    assert order.cost == cost and order.fee == D("1.5") * FEE
    alice = h.engine.account("alice")
    assert alice.balances["BTC"] == D("11.5") - D("1.5") * FEE
    assert alice.balances["USDT"] == D(1_000_000) - cost
    assert {f.fee_currency for f in h.engine.account_fills("alice")} == {"BTC"}
    sell = h.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.MARKET, D("1"))
    assert sell.fee == D("60000") * FEE and h.engine.account_fills("alice")[-1].fee_currency == "USDT"
    assert alice.locked.get("USDT", 0) == 0
    assert 6_000_100 not in h.ladder.asks and h.ladder.asks[6_000_200] == BTC + BTC // 2
    assert [(t.ticks, t.lots, t.buy) for t in h.trades()[:2]] == [(6_000_100, BTC, True), (6_000_200, BTC // 2, True)]
    fills = h.engine.account_fills("alice")
    assert [f.trade_id for f in fills] == [t.trade_id for t in h.trades()] and all(f.taker for f in fills)


def test_limit_order_rests_in_the_public_book_and_cancel_releases_everything() -> None:
    h = Harness()
    order = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.5"), D("60000.50"), client_id="c1")
    assert order.status is OrderStatus.OPEN
    assert h.ladder.bids[6_000_050] == BTC // 2 and h.ladder.user_bids[6_000_050] == BTC // 2
    locked = h.engine.account("alice").locked["USDT"]
    assert locked == D("0.5") * D("60000.50")
    assert h.engine.find("alice", client_id="c1") is order
    h.engine.cancel("alice", client_id="c1")
    assert order.status is OrderStatus.CANCELED
    assert 6_000_050 not in h.ladder.bids and h.engine.account("alice").locked["USDT"] == 0
    assert h.published[-1][1] == [(True, 6_000_050, 0)]
    with pytest.raises(Reject) as err:
        h.engine.cancel("alice", client_id="c1")
    assert err.value.reason == "order_final"


def test_post_only_that_would_take_is_refused_without_a_trace() -> None:
    h = Harness()
    with pytest.raises(Reject) as err:
        h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.1"), D("60001"), post_only=True, client_id="p")
    assert err.value.reason == "post_only_would_take"
    assert h.engine.orders == {} and h.engine.account("alice").locked.get("USDT", 0) == 0
    ok = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.1"), D("60000.99"), post_only=True, client_id="p")
    assert ok.status is OrderStatus.OPEN  # the refused id can be used again


def test_ioc_and_fok() -> None:
    h = Harness()
    ioc = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D(2), D("60001"), tif=TimeInForce.IOC)
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled == BTC
    assert 6_000_100 not in h.ladder.asks and 6_000_200 in h.ladder.asks
    fok = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D(3), D("60002"), tif=TimeInForce.FOK)
    assert fok.status is OrderStatus.EXPIRED and fok.filled == 0 and h.ladder.asks[6_000_200] == 2 * BTC
    fok = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D(2), D("60002"), tif=TimeInForce.FOK)
    assert fok.status is OrderStatus.FILLED


def test_bad_orders_are_refused_with_a_reason() -> None:
    h = Harness()
    cases = [
        ({"amount": D(100), "price": D(60000)}, "insufficient_balance"),
        ({"amount": D("0.000001"), "price": D(60000)}, "amount_off_grid"),
        ({"amount": D(1), "price": D("60000.001")}, "price_off_grid"),
        ({"amount": D(0), "price": D(60000)}, "bad_amount"),
        ({"amount": D("NaN"), "price": D(60000)}, "bad_number"),
        ({"amount": D(1), "price": None}, "missing_price"),
    ]
    for kwargs, reason in cases:
        with pytest.raises(Reject) as err:
            h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, kwargs["amount"], kwargs["price"])
        assert err.value.reason == reason, kwargs
    with pytest.raises(Reject) as err:
        h.engine.submit("alice", "ETH-USDT", Side.BUY, OrderType.MARKET, D(1))
    assert err.value.reason == "unknown_symbol"
    with pytest.raises(Reject) as err:
        h.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.LIMIT, D(1), D(60000), reduce_only=True)
    assert err.value.reason == "not_derivative"
    h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.1"), D(59000), client_id="x")
    with pytest.raises(Reject) as err:
        h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.1"), D(59000), client_id="x")
    assert err.value.reason == "duplicate_client_id"
    assert len(h.engine.orders) == 1


def test_resting_order_fills_as_maker_when_the_makers_move_through_it() -> None:
    h = Harness()
    order = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.5"), D("60000.50"))
    h.ladder._set_mm(False, 6_000_040, BTC // 5)  # the makers now offer 0.2 at 60000.40
    changes, trades = h.engine.after_step("BTC-USDT")
    assert order.filled == BTC // 5 and order.status is OrderStatus.PARTIALLY_FILLED
    assert order.cost == D("0.2") * D("60000.50") and order.fee == D("0.2") * FEE / 2
    assert (False, 6_000_040, 0) in changes and (True, 6_000_050, 3 * BTC // 10) in changes
    assert [(t.ticks, t.lots, t.buy) for t in trades] == [(6_000_050, BTC // 5, False)]
    assert not h.engine.account_fills("alice")[0].taker


def test_iceberg_shows_a_slice_and_refills_it_from_the_hidden_rest() -> None:
    h = Harness()
    ice = h.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.LIMIT, D(1), D("60000.80"), iceberg_visible=D("0.2"))
    assert h.ladder.asks[6_000_080] == BTC // 5
    taker = h.engine.submit("bob", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.3"), D("60000.80"), tif=TimeInForce.IOC)
    assert taker.filled == 3 * BTC // 10 and ice.filled == 3 * BTC // 10
    assert ice.shown == BTC // 10 and h.ladder.asks[6_000_080] == BTC // 10
    maker_fill, taker_fill = h.engine.account_fills("alice")[0], h.engine.account_fills("bob")[0]
    assert maker_fill.trade_id == taker_fill.trade_id and not maker_fill.taker and taker_fill.taker


def test_stop_order_triggers_on_a_trade_through_its_price() -> None:
    h = Harness()
    stop = h.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.STOP, D("0.5"), stop_price=D("59999.50"))
    assert stop.status is OrderStatus.OPEN and stop.waiting and 5_999_950 not in h.ladder.asks
    h.engine.on_trades("BTC-USDT", [SimTrade(5_999_960, 1, False, 1)])
    assert stop.filled == 0
    h.engine.on_trades("BTC-USDT", [SimTrade(5_999_950, 1, False, 2)])
    assert stop.status is OrderStatus.FILLED and stop.cost == D("0.5") * D("60000")


def test_take_profit_trigger_fires_on_a_rise() -> None:
    h = Harness()
    tp = h.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.STOP, D("0.5"), stop_price=D("60010"), trigger_above=True)
    h.engine.on_trades("BTC-USDT", [SimTrade(5_990_000, 1, False, 1)])  # a fall does not fire it
    assert tp.waiting
    h.engine.on_trades("BTC-USDT", [SimTrade(6_001_000, 1, True, 2)])
    assert tp.status is OrderStatus.FILLED


def test_oco_cancels_the_other_leg() -> None:
    h = Harness()
    with pytest.raises(Reject) as err:
        h.engine.submit_oco("alice", "BTC-USDT", Side.SELL, D("0.5"), D("59000"), D("59990"))
    assert err.value.reason == "oco_prices"
    limit, stop = h.engine.submit_oco("alice", "BTC-USDT", Side.SELL, D("0.5"), D("60010"), D("59990"), D("59980"))
    assert limit.status is OrderStatus.OPEN and stop.waiting
    h.engine.on_trades("BTC-USDT", [SimTrade(5_999_000, 1, False, 3)])
    assert stop.triggered and limit.status is OrderStatus.CANCELED
    assert 6_001_000 not in h.ladder.asks


def test_perp_one_way_position_pnl_and_reduce_only() -> None:
    h = Harness("BTC-USDT-PERP")
    e = h.engine
    e.set_leverage("alice", "BTC-USDT-PERP", D(10))
    with pytest.raises(Reject) as err:
        e.submit("alice", "BTC-USDT-PERP", Side.SELL, OrderType.MARKET, D("0.5"), reduce_only=True)
    assert err.value.reason == "reduce_only_would_increase"
    e.submit("alice", "BTC-USDT-PERP", Side.BUY, OrderType.MARKET, D(1))
    pos = e.position("alice", "BTC-USDT-PERP")
    assert pos.size == D(1) and pos.entry == D("60001") and pos.margin == D("6000.1")
    assert e.account("alice").locked["USDT"] == D("6000.1")
    close = e.submit("alice", "BTC-USDT-PERP", Side.SELL, OrderType.MARKET, D(5), reduce_only=True)
    assert close.amount == h.lots and close.status is OrderStatus.FILLED  # capped to the position
    pos = e.position("alice", "BTC-USDT-PERP")
    assert pos.size == 0 and pos.margin == 0 and e.account("alice").locked["USDT"] == 0
    fees = sum(f.fee for f in e.account_fills("alice"))
    assert e.account("alice").balances["USDT"] == D(1_000_000) + (D(60000) - D(60001)) - fees


def test_perp_hedge_mode_keeps_both_sides_and_tp_sl_protect_the_entry() -> None:
    h = Harness("BTC-USDT-PERP")
    e = h.engine
    e.set_position_mode("alice", hedge=True)
    e.set_margin_mode("alice", "BTC-USDT-PERP", MarginMode.ISOLATED)
    with pytest.raises(Reject) as err:
        e.submit("alice", "BTC-USDT-PERP", Side.BUY, OrderType.MARKET, D(1))
    assert err.value.reason == "position_side_required"
    entry = e.submit("alice", "BTC-USDT-PERP", Side.BUY, OrderType.MARKET, D(1), position_side=PositionSide.LONG,
                     take_profit=D("60100"), stop_loss=D("59900"))
    e.submit("alice", "BTC-USDT-PERP", Side.SELL, OrderType.MARKET, D("0.5"), position_side=PositionSide.SHORT)
    assert e.position("alice", "BTC-USDT-PERP", PositionSide.LONG).size == D(1)
    assert e.position("alice", "BTC-USDT-PERP", PositionSide.SHORT).size == D("0.5")
    tp, sl = [o for o in e.open_orders("alice") if o.parent == entry.order_id]
    assert tp.side is Side.SELL and tp.reduce_only and tp.linked == sl.order_id
    with pytest.raises(Reject) as err:
        e.set_position_mode("alice", hedge=False)
    assert err.value.reason == "position_open"
    h.ladder.bids[601_000] = 5 * h.lots  # the market rallied: bids at 60100 for the TP's market sell
    e.on_trades("BTC-USDT-PERP", [SimTrade(601_000, 1, True, 9)])
    assert tp.status is OrderStatus.FILLED and sl.status is OrderStatus.CANCELED
    assert e.position("alice", "BTC-USDT-PERP", PositionSide.LONG).size == 0
    assert e.position("alice", "BTC-USDT-PERP", PositionSide.SHORT).size == D("0.5")


def test_sub_accounts_and_transfers() -> None:
    h = Harness()
    e = h.engine
    e.open_account("alice/strategy-1", parent="alice")
    e.transfer("USDT", D(1000), "alice", "alice/strategy-1")
    assert e.account("alice/strategy-1").balances["USDT"] == D(1000)
    with pytest.raises(Reject) as err:
        e.transfer("USDT", D(5000), "alice/strategy-1", "alice")
    assert err.value.reason == "insufficient_balance"
    with pytest.raises(Reject) as err:
        e.submit("alice/strategy-1", "BTC-USDT", Side.BUY, OrderType.LIMIT, D(1), D(60000))
    assert err.value.reason == "insufficient_balance"


def test_private_events_follow_the_order() -> None:
    h = Harness()
    h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("1.2"), D("60001"))
    states = [(ev.order.status, ev.fill.amount if ev.fill else None) for ev in h.events]
    assert states == [(OrderStatus.OPEN, None), (OrderStatus.PARTIALLY_FILLED, D(1))]
    assert h.ladder.bids[6_000_100] == BTC // 5  # the rest now rests at 60001


def test_amend_keeps_the_queue_place_only_for_a_cut_at_the_same_price() -> None:
    h = Harness()
    px = D("60000.50")
    first = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.5"), px)
    second = h.engine.submit("bob", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.5"), px)
    h.engine.amend(first, BTC // 4, first.price or 0)  # a cut: still first in the queue
    assert first.amount == BTC // 4 and h.ladder.bids[6_000_050] == BTC // 4 + BTC // 2
    assert h.engine.account("alice").locked["USDT"] == D("0.25") * px
    h.engine.submit("bob", "BTC-USDT", Side.SELL, OrderType.LIMIT, D("0.25"), px, tif=TimeInForce.IOC)
    assert first.status is OrderStatus.FILLED and second.filled == 0
    h.engine.amend(second, BTC // 2, 6_000_060)  # a new price: to the back of its new level, same ids
    assert second.price == 6_000_060 and 6_000_050 not in h.ladder.bids and h.ladder.bids[6_000_060] == BTC // 2
    assert h.engine.find("bob", second.order_id) is second


def test_a_refused_amend_leaves_the_order_and_a_cut_below_the_fills_cancels_the_rest() -> None:
    h = Harness()
    order = h.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.5"), D("60000.50"), post_only=True)
    locked = h.engine.account("alice").locked["USDT"]
    with pytest.raises(Reject) as refused:
        h.engine.amend(order, order.amount, 6_000_100)  # would take the best ask
    assert refused.value.reason == "post_only_would_take"
    assert order.price == 6_000_050 and h.ladder.bids[6_000_050] == BTC // 2 and h.engine.account("alice").locked["USDT"] == locked
    with pytest.raises(Reject) as poor:
        h.engine.amend(order, 1_000 * BTC, 6_000_050)  # 1000 BTC: more than alice has
    assert poor.value.reason == "insufficient_balance" and order.amount == BTC // 2
    h.engine.submit("bob", "BTC-USDT", Side.SELL, OrderType.LIMIT, D("0.1"), D("60000.50"), tif=TimeInForce.IOC)
    h.engine.amend(order, BTC // 10, 6_000_050)
    assert order.status is OrderStatus.CANCELED and order.filled == BTC // 10
    assert h.engine.account("alice").locked.get("USDT", 0) == 0
