"""The router's planner on random ladders: with proportional fees it is the linear-programming
optimum; it never costs more than the best single venue; every child order is valid for its venue."""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from crossbook.book.consolidated import BASE_UNITS, ConsolidatedBook, SizeUnit
from crossbook.book.l2 import L2Book
from crossbook.errors import InvalidOrder
from crossbook.model import BookState, Side
from crossbook.routing.planner import BookLevels, Plan, VenueSide, _small_greedy, best_single_venue, live_venue_sides, plan

SIDES = st.sampled_from([Side.BUY, Side.SELL])


@st.composite
def ladders(draw: st.DrawFn, side: Side, constrained: bool) -> list[VenueSide]:
    venues = []
    for i in range(draw(st.integers(1, 5))):
        start = draw(st.floats(99.0, 101.0))
        steps = draw(st.lists(st.floats(0.01, 0.5), min_size=1, max_size=8))
        sizes = draw(st.lists(st.floats(0.01, 3.0), min_size=len(steps), max_size=len(steps)))
        sign = 1.0 if side is Side.BUY else -1.0  # asks rise, bids fall
        prices = [start + sign * sum(steps[: k + 1]) for k in range(len(steps))]
        venue = VenueSide(f"v{i}", list(zip(prices, sizes, strict=True)), fee_rate=draw(st.floats(0.0, 0.005)))
        if constrained:
            lot = draw(st.sampled_from([0.0, 0.001, 0.01, 0.1]))
            venue = VenueSide(
                venue.venue, venue.levels, venue.fee_rate, lot=lot,
                min_amount=draw(st.sampled_from([0.0, lot, 0.05])),
                min_notional=draw(st.sampled_from([0.0, 5.0, 20.0])),
                max_amount=draw(st.sampled_from([math.inf, 0.5, 2.0])),
                available=draw(st.sampled_from([math.inf, 1.0, 4.0])),
                fixed_cost=draw(st.sampled_from([0.0, 0.0, 0.05, 0.5])),
                max_orders=draw(st.sampled_from([1, 2, 5])),
            )
        venues.append(venue)
    return venues


def lp_optimum(side: Side, amount: float, venues: list[VenueSide]) -> float:
    """The LP: x per level in [0, size], sum x = amount; minimise what a buy pays (maximise what
    a sell gets) with proportional fees."""
    sign = 1.0 if side is Side.BUY else -1.0
    costs = [p * (1 + sign * v.fee_rate) for v in venues for p, _ in v.levels]
    bounds = [(0.0, s) for v in venues for _, s in v.levels]
    result = linprog([sign * c for c in costs], A_eq=[[1.0] * len(costs)], b_eq=[amount], bounds=bounds, method="highs")
    assert result.status == 0, result.message
    return float(sign * result.fun)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), side=SIDES)
def test_with_proportional_fees_and_no_lots_the_plan_is_the_lp_optimum(data: st.DataObject, side: Side) -> None:
    venues = data.draw(ladders(side, constrained=False))
    liquidity = sum(s for v in venues for _, s in v.levels)
    amount = data.draw(st.floats(0.01, liquidity))
    result = plan(side, amount, venues)
    assert result.filled == pytest.approx(amount, rel=1e-9)
    assert result.cost == pytest.approx(lp_optimum(side, amount, venues), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), side=SIDES)
def test_the_plan_is_valid_and_never_worse_than_the_best_single_venue(data: st.DataObject, side: Side) -> None:
    venues = data.draw(ladders(side, constrained=True))
    amount = data.draw(st.floats(0.01, 6.0))
    max_venues = data.draw(st.sampled_from([None, 1, 2]))
    result = plan(side, amount, venues, max_venues=max_venues)
    by_name = {v.venue: v for v in venues}
    assert result.filled <= amount + 1e-9
    assert max_venues is None or len(result.children) <= max_venues
    for child in result.children:
        v = by_name[child.venue]
        if v.lot:
            assert abs(child.amount / v.lot - round(child.amount / v.lot)) < 1e-6
        assert child.amount >= v.min_amount - 1e-9 and child.amount * child.expected_vwap >= v.min_notional - 1e-9
        assert child.amount <= v.capacity + 1e-9 and child.orders <= v.max_orders
    single = best_single_venue(side, amount, venues)
    if single is not None:
        assert not single.better_than(result)


def test_a_fixed_cost_keeps_a_small_share_off_a_venue_when_it_costs_more_than_it_saves() -> None:
    cheap = VenueSide("cheap", [(100.0, 1.0), (101.0, 5.0)], fee_rate=0.001)
    gas = VenueSide("dex", [(100.2, 0.2)], fee_rate=0.003, fixed_cost=5.0)
    result = plan(Side.BUY, 1.2, [cheap, gas])
    assert [c.venue for c in result.children] == ["cheap"]  # saving ~0.15 on 0.2 < 5 of gas
    rich = plan(Side.BUY, 6.0, [cheap, VenueSide("dex", [(100.2, 5.0)], fee_rate=0.003, fixed_cost=0.5)])
    assert {c.venue for c in rich.children} == {"cheap", "dex"}  # at size the gas pays for itself


def test_a_limit_price_leaves_out_the_levels_past_it() -> None:
    venue = VenueSide("a", [(100.0, 1.0), (100.5, 1.0), (101.0, 1.0)], fee_rate=0.0)
    result = plan(Side.SELL, 3.0, [VenueSide("b", [(99.0, 1.0), (98.0, 1.0)], 0.0)], limit=98.5)
    assert result.filled == 1.0 and result.children[0].expected_vwap == 99.0
    assert plan(Side.BUY, 3.0, [venue], limit=100.5).filled == 2.0


def test_bad_amounts_are_refused_by_name() -> None:
    venue = VenueSide("a", [(100.0, 1.0)], fee_rate=0.0)
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(InvalidOrder, match="amount"):
            plan(Side.BUY, bad, [venue])
    with pytest.raises(InvalidOrder, match="max_venues"):
        plan(Side.BUY, 1.0, [venue], max_venues=0)


# ---- planning from live L2Books ----------------------------------------------------------------

UNITS = st.sampled_from([BASE_UNITS, SizeUnit(0.01), SizeUnit(100.0, inverse=True)])


@st.composite
def books(draw: st.DrawFn, name: str) -> L2Book:
    """A book built as a feed builds it: a snapshot, then updates that change and delete levels
    (deleted levels keep their slot until compaction, which the planner must skip)."""
    book = L2Book(name, "BTC-USDT")
    ticks = draw(st.lists(st.integers(1, 400), min_size=2, max_size=60, unique=True))
    sizes = st.integers(1, 3000).map(lambda q: q / 1000)
    bids = [(9950 - t / 10, draw(sizes)) for t in ticks]
    asks = [(10050 + t / 10, draw(sizes)) for t in ticks]
    book.snapshot(bids, asks)
    for price, _ in draw(st.lists(st.sampled_from(bids + asks), max_size=20)):
        side = [(price, 0.0)]
        book.update_floats(side, []) if price < 10000 else book.update_floats([], side)
    book.state = BookState.LIVE
    return book


def as_tuples(book: L2Book, side: Side, unit: SizeUnit) -> list[tuple[float, float]]:
    taken = book.depth(10**6)[1 if side is Side.BUY else 0]
    return [(p, unit.to_base(q, p)) for p, q in taken]


def same_plan(a: Plan, b: Plan) -> None:
    assert [c.venue for c in a.children] == [c.venue for c in b.children]
    for x, y in zip(a.children, b.children, strict=True):
        assert x.amount == pytest.approx(y.amount, rel=1e-9, abs=1e-12)
        assert x.expected_vwap == pytest.approx(y.expected_vwap, rel=1e-12)
    assert a.cost == pytest.approx(b.cost, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), side=SIDES)
def test_planning_from_live_books_equals_planning_from_their_levels(data: st.DataObject, side: Side) -> None:
    n = data.draw(st.integers(1, 4))
    book_list = [data.draw(books(f"v{i}")) for i in range(n)]
    units = [data.draw(UNITS) for _ in range(n)]
    fees = [data.draw(st.floats(0.0, 0.005)) for _ in range(n)]
    rules = [
        {"lot": data.draw(st.sampled_from([0.0, 0.001])), "min_notional": data.draw(st.sampled_from([0.0, 50.0])),
         "fixed_cost": data.draw(st.sampled_from([0.0, 1.0])), "available": data.draw(st.sampled_from([math.inf, 5.0]))}
        for _ in range(n)
    ]
    live = [VenueSide.from_book(b, side, f, unit=u, **r) for b, u, f, r in zip(book_list, units, fees, rules, strict=True)]
    plain = [VenueSide(b.venue, as_tuples(b, side, u), f, **r) for b, u, f, r in zip(book_list, units, fees, rules, strict=True)]
    for vs, ref in zip(live, plain, strict=True):
        assert list(vs.levels) == ref.levels and len(vs.levels) == len(ref.levels)
    liquidity = sum(s for v in plain for _, s in v.levels)
    assume(liquidity > 0)  # the updates may have deleted every level the order takes
    amount = data.draw(st.floats(0.01, 1.2)) * liquidity
    limit = data.draw(st.sampled_from([None, 10000 + (15.0 if side is Side.BUY else -15.0)]))
    max_venues = data.draw(st.sampled_from([None, 1, 2]))
    same_plan(plan(side, amount, live, limit=limit, max_venues=max_venues), plan(side, amount, plain, limit=limit, max_venues=max_venues))
    single_live, single_plain = best_single_venue(side, amount, live, limit=limit), best_single_venue(side, amount, plain, limit=limit)
    assert (single_live is None) == (single_plain is None)
    if single_live is not None and single_plain is not None:
        same_plan(single_live, single_plain)


def test_book_levels_read_like_a_list_and_follow_the_book() -> None:
    book = L2Book("okx", "BTC-USDT-SWAP")
    book.snapshot([(99.0, 2.0), (98.0, 1.0)], [(101.0, 3.0), (102.0, 1.0), (103.0, 4.0)])
    levels = BookLevels(book, Side.BUY, SizeUnit(0.01))  # a buy takes the asks; 0.01 BTC contracts
    assert len(levels) == 3 and levels[0] == (101.0, 0.03) and levels[-1] == (103.0, 0.04)
    assert levels[1:] == [(102.0, 0.01), (103.0, 0.04)]
    book.update_floats([], [(101.0, 0.0), (100.5, 5.0)])
    assert list(levels) == [(100.5, 0.05), (102.0, 0.01), (103.0, 0.04)]  # the view reads the book now
    assert list(BookLevels(book, Side.SELL)) == [(99.0, 2.0), (98.0, 1.0)]
    with pytest.raises(IndexError):
        levels[3]


def test_only_live_books_are_planned_on() -> None:
    consolidated = ConsolidatedBook("BTC-USDT")
    now = time.time()
    for venue, state, heard in (("live", BookState.LIVE, now), ("syncing", BookState.SYNCING, now),
                                ("stale", BookState.LIVE, now - 3600), ("resyncing", BookState.RESYNCING, now)):
        book = L2Book(venue, "BTC-USDT", stale_after=60.0)
        book.snapshot([(99.0, 1.0)], [(100.0 if venue == "live" else 90.0, 1.0)])  # the others look cheaper
        book.state, book.updated_at = state, heard
        consolidated.add(venue, book, taker_fee=0.001)
    sides = live_venue_sides(consolidated, Side.BUY, now=now, rules={"live": {"lot": 0.01}})
    assert [(v.venue, v.lot, v.fee_rate) for v in sides] == [("live", 0.01, 0.001)]
    assert [c.venue for c in plan(Side.BUY, 0.5, sides).children] == ["live"]


@st.composite
def deep_book(draw: st.DrawFn, name: str) -> L2Book:
    """A deep book with churn: 400 levels per side, 60 of them then deleted (their slots stay
    until compaction), so a plan reads it in several chunks toward guessed prices."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    tick = rng.choice([0.01, 0.1, 1.0])
    top = 1_000_000 // round(tick * 100) + rng.randint(-50, 50)  # about 10000 in ticks
    sides = []
    for direction in (-1, 1):
        ticks = [top + direction * 2]
        for _ in range(399):
            ticks.append(ticks[-1] + direction * rng.randint(1, 3))
        sides.append([(round(t * tick, 2), rng.randint(1, 5000) / 1e4) for t in ticks])
    bids, asks = sides
    book = L2Book(name, "BTC-USDT")
    book.snapshot(bids, asks)
    book.update_floats([(p, 0.0) for p, _ in rng.sample(bids[1:], 60)], [(p, 0.0) for p, _ in rng.sample(asks[1:], 60)])
    book.state = BookState.LIVE
    return book


@settings(max_examples=40, deadline=None)
@given(data=st.data(), side=SIDES)
def test_deep_live_books_plan_as_their_levels_and_as_the_sorted_greedy_fill(data: st.DataObject, side: Side) -> None:
    book_list = [data.draw(deep_book(f"v{i}")) for i in range(data.draw(st.integers(2, 5)))]
    fees = [data.draw(st.floats(0.0, 0.01)) for _ in book_list]
    live = [VenueSide.from_book(b, side, f) for b, f in zip(book_list, fees, strict=True)]
    plain = [VenueSide(b.venue, as_tuples(b, side, BASE_UNITS), f) for b, f in zip(book_list, fees, strict=True)]
    liquidity = sum(s for v in plain for _, s in v.levels)
    amount = data.draw(st.floats(0.001, 1.0)) * liquidity
    result = plan(side, amount, live)
    same_plan(result, plan(side, amount, plain))
    sign = 1.0 if side is Side.BUY else -1.0
    merged = sorted((p * (1 + sign * v.fee_rate) * sign, q) for v in plain for p, q in v.levels)
    left, cost = amount, 0.0
    for key, q in merged:
        take = min(q, left)
        cost += take * key * sign
        left -= take
        if left <= 0:
            break
    assert result.cost == pytest.approx(cost, rel=1e-9)
    constrained = [replace(v, lot=0.001, min_notional=50.0, fixed_cost=2.0 if i == 0 else 0.0) for i, v in enumerate(live)]
    constrained_plain = [replace(v, lot=0.001, min_notional=50.0, fixed_cost=2.0 if i == 0 else 0.0) for i, v in enumerate(plain)]
    same_plan(plan(side, amount, constrained, max_venues=2), plan(side, amount, constrained_plain, max_venues=2))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), side=SIDES)
def test_a_small_order_planned_straight_from_the_books_is_the_greedy_optimum(data: st.DataObject, side: Side) -> None:
    """Small orders with proportional costs take a heap over the books' top levels; it must give
    what the general path gives on the same levels: the same fill at the same cost, every share
    within its venue's capacity and limit."""
    n = data.draw(st.integers(1, 10))
    book_list = [data.draw(books(f"v{i}")) for i in range(n)]
    fees = [data.draw(st.floats(0.0, 0.005)) for _ in range(n)]
    caps = [data.draw(st.sampled_from([math.inf, 0.0, 0.5, 3.0])) for _ in range(n)]
    live = [VenueSide.from_book(b, side, f, available=c) for b, f, c in zip(book_list, fees, caps, strict=True)]
    plain = [
        VenueSide(b.venue, as_tuples(b, side, BASE_UNITS), f, available=c) for b, f, c in zip(book_list, fees, caps, strict=True)
    ]
    amount = data.draw(st.floats(0.001, 4.0))
    limit = data.draw(st.sampled_from([None, 10000 + (8.0 if side is Side.BUY else -8.0)]))
    quick = _small_greedy(side, amount, live, limit)
    assume(quick is not None)  # orders of more than a few dozen levels go to the general path
    for fast in (quick, plan(side, amount, live, limit=limit)):
        general = plan(side, amount, plain, limit=limit)
        assert fast.filled == pytest.approx(general.filled, rel=1e-9, abs=1e-12)
        assert fast.cost == pytest.approx(general.cost, rel=1e-12, abs=1e-9)
        by_venue = {v.venue: v for v in live}
        for child in fast.children:
            assert 0 < child.amount <= by_venue[child.venue].capacity + 1e-12
            if limit is not None:
                assert child.expected_vwap <= limit if side is Side.BUY else child.expected_vwap >= limit


def test_the_small_order_path_reads_only_the_top_of_the_books() -> None:
    deep = [L2Book(f"v{i}", "BTC-USDT") for i in range(10)]
    for i, book in enumerate(deep):
        book.snapshot([(9990.0 - k - i / 10, 1.0) for k in range(1000)], [(10010.0 + k + i / 10, 1.0) for k in range(1000)])
        book.state = BookState.LIVE
    sides = [VenueSide.from_book(b, Side.BUY, 0.001) for b in deep]
    quick = _small_greedy(Side.BUY, 2.5, sides, None)
    assert quick is not None and [(c.venue, c.amount) for c in quick.children] == [("v0", 1.0), ("v1", 1.0), ("v2", 0.5)]
    assert _small_greedy(Side.BUY, 500.0, sides, None) is None  # hundreds of levels: the general path
    assert plan(Side.BUY, 500.0, sides).filled == pytest.approx(500.0)
