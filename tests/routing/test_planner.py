"""The router's planner on random ladders: with proportional fees it is the linear-programming
optimum; it never costs more than the best single venue; every child order is valid for its venue."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from crossbook.errors import InvalidOrder
from crossbook.model import Side
from crossbook.routing.planner import VenueSide, best_single_venue, plan

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
        venue = VenueSide(f"v{i}", list(zip(prices, sizes)), fee_rate=draw(st.floats(0.0, 0.005)))
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
