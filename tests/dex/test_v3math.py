"""The pool math against the values in Uniswap v3-core's own test suite, and its properties."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook.errors import InvalidOrder
from crossbook.model import Side
from crossbook.venues.dex.v3math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    PoolState,
    PoolStateIncomplete,
    add_delta,
    amount0_delta,
    amount1_delta,
    compute_swap_step,
    count_initialized_ticks_crossed,
    ladder,
    ladder_steps,
    mul_div,
    mul_div_rounding_up,
    next_initialized_tick_within_one_word,
    next_sqrt_price_from_input,
    next_sqrt_price_from_output,
    quote_exact_input,
    quote_exact_output,
    sqrt_ratio_at_tick,
    swap,
    tick_at_sqrt_ratio,
)

# getSqrtRatioAtTick at ticks the v3-core TickMath tests pin
KNOWN_SQRT_RATIOS = {
    MIN_TICK: 4295128739,
    MIN_TICK + 1: 4295343490,
    MAX_TICK - 1: 1461373636630004318706518188784493106690254656249,
    MAX_TICK: 1461446703485210103287273052203988822378723970342,
    0: 79228162514264337593543950336,
    1: 79232123823359799118286999568,
    -50: 0xFF5C5F6FD987594269220C6A,
    50: 0x0100A4096906976F1080C4042D,
    -100: 0xFEB927758F54316B45A2D3B3,
    100: 0x0101487BEE1C17DDB45CE0BAE0,
    -1000: 0xF383ED6A4DB4DABD35FB4457,
    1000: 0x010D1FEE2AFE8561359D69A466,
    -150000: 0x2442B231AFA40110811E3D,
    150000: 0x070F5D5483C9BC7ECACA01EB4661,
    -500000: 0x0F49FF6F39BB048B,
    500000: 0x10BE7722AC12C046792462C77D5C3D5366,
    738203: 0x25FCA1F4CC2B919D309C63CC3BF4A65DAE57AD,
}


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """v3-core's test helper: sqrt(reserve1 / reserve0) * 2^96 with bignumber.js's 20 decimals."""
    with localcontext(prec=80):  # local: a global change leaks into every later test's Decimal arithmetic
        places = Decimal(10) ** -20
        ratio = (Decimal(reserve1) / Decimal(reserve0)).quantize(places, ROUND_HALF_UP)
        return int(ratio.sqrt().quantize(places, ROUND_HALF_UP) * (2**96))


@pytest.mark.parametrize("tick,expected", sorted(KNOWN_SQRT_RATIOS.items()))
def test_sqrt_ratio_at_tick_matches_v3_core(tick: int, expected: int) -> None:
    assert sqrt_ratio_at_tick(tick) == expected


def test_tick_bounds_match_the_sqrt_ratio_bounds() -> None:
    assert sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO + 1) == MIN_TICK
    assert tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    assert tick_at_sqrt_ratio(Q96) == 0
    assert tick_at_sqrt_ratio(Q96 - 1) == -1
    assert tick_at_sqrt_ratio(4295343490) == MIN_TICK + 1
    # v3-core's ReverseTickMath "accuracy" and "arbitrary price" cases, in sqrt-price form
    assert tick_at_sqrt_ratio(1461373636630004318706518188784493106690254656249) == MAX_TICK - 1


@pytest.mark.parametrize("bad", [MIN_TICK - 1, MAX_TICK + 1])
def test_tick_outside_the_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        sqrt_ratio_at_tick(bad)


@pytest.mark.parametrize("bad", [MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0])
def test_sqrt_ratio_outside_the_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        tick_at_sqrt_ratio(bad)


@settings(max_examples=300, deadline=None)
@given(st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1))
def test_tick_at_sqrt_ratio_is_the_greatest_tick_not_above(sqrt_price: int) -> None:
    tick = tick_at_sqrt_ratio(sqrt_price)
    assert sqrt_ratio_at_tick(tick) <= sqrt_price
    assert tick == MAX_TICK or sqrt_ratio_at_tick(tick + 1) > sqrt_price


@settings(max_examples=300, deadline=None)
@given(st.integers(MIN_TICK, MAX_TICK - 1))
def test_tick_round_trips_and_ratio_is_increasing(tick: int) -> None:
    assert tick_at_sqrt_ratio(sqrt_ratio_at_tick(tick)) == tick
    assert sqrt_ratio_at_tick(tick + 1) > sqrt_ratio_at_tick(tick)


def test_full_math_rounds_and_refuses_overflow() -> None:
    assert mul_div(7, 3, 2) == 10
    assert mul_div_rounding_up(7, 3, 2) == 11
    assert mul_div_rounding_up(6, 3, 2) == 9
    with pytest.raises(ValueError):
        mul_div(2**255, 4, 1)
    with pytest.raises(ValueError):
        mul_div(1, 1, 0)


def test_add_delta_refuses_underflow_and_overflow() -> None:
    assert add_delta(5, -5) == 0
    with pytest.raises(ValueError):
        add_delta(1, -2)
    with pytest.raises(ValueError):
        add_delta(2**128 - 1, 1)


def test_sqrt_price_math_cases_from_v3_core() -> None:
    price, liquidity = encode_price_sqrt(1, 1), 10**18
    # getNextSqrtPriceFromInput: 0.1 of token1 in, and 0.1 of token0 in
    assert next_sqrt_price_from_input(price, liquidity, 10**17, False) == 87150978765690771352898345369
    assert next_sqrt_price_from_input(price, liquidity, 10**17, True) == 72025602285694852357767227579
    # amount in > type(uint96).max while zero for one
    assert next_sqrt_price_from_input(price, 10 * 10**18, 2**100, True) == 624999999995069620
    # getNextSqrtPriceFromOutput
    assert next_sqrt_price_from_output(price, liquidity, 10**17, False) == 88031291682515930659493278152
    assert next_sqrt_price_from_output(price, liquidity, 10**17, True) == 71305346262837903834189555302
    # getAmount0Delta / getAmount1Delta between 1 and 1.21, rounding up and down
    upper = encode_price_sqrt(121, 100)
    assert amount0_delta(price, upper, liquidity, True) == 90909090909090910
    assert amount0_delta(price, upper, liquidity, False) == 90909090909090909
    assert amount1_delta(price, upper, liquidity, True) == 100000000000000000
    assert amount1_delta(price, upper, liquidity, False) == 99999999999999999
    with pytest.raises(ValueError):  # more output than the virtual reserve
        next_sqrt_price_from_output(20282409603651670423947251286016, 1024, 4, False)


def test_compute_swap_step_cases_from_v3_core() -> None:
    one, liquidity, amount = encode_price_sqrt(1, 1), 2 * 10**18, 10**18
    capped = encode_price_sqrt(101, 100)
    # exact in and exact out capped at the target, one for zero
    assert compute_swap_step(one, capped, liquidity, amount, 600) == (capped, 9975124224178055, 9925619580021728, 5988667735148)
    assert compute_swap_step(one, capped, liquidity, -amount, 600) == (capped, 9975124224178055, 9925619580021728, 5988667735148)
    # exact in fully spent
    sqrt_next, amount_in, amount_out, fee = compute_swap_step(one, encode_price_sqrt(1000, 100), liquidity, amount, 600)
    assert (amount_in, amount_out, fee) == (999400000000000000, 666399946655997866, 600000000000000)
    assert sqrt_next == next_sqrt_price_from_input(one, liquidity, amount - fee, False)
    # exact out fully received
    sqrt_next, amount_in, amount_out, fee = compute_swap_step(one, encode_price_sqrt(10000, 100), liquidity, -amount, 600)
    assert (amount_in, amount_out, fee) == (2000000000000000000, amount, 1200720432259356)
    assert sqrt_next == next_sqrt_price_from_output(one, liquidity, amount, False)
    # amount out capped at the desired amount out
    assert compute_swap_step(417332158212080721273783715441582, 1452870262520218020823638996,
                             159344665391607089467575320103, -1, 1) == (417332158212080721273783715441581, 1, 1, 1)
    # target price of 1 uses partial input
    assert compute_swap_step(2, 1, 1, 3915081100057732413702495386755767, 1) == (
        1, 39614081257132168796771975168, 0, 39614120871253040049813
    )
    # entire input taken as fee
    assert compute_swap_step(2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872) == (2413, 0, 0, 10)
    # intermediate insufficient liquidity, exact output, both directions
    sqrt_p = 20282409603651670423947251286016
    assert compute_swap_step(sqrt_p, sqrt_p * 11 // 10, 1024, -4, 3000) == (sqrt_p * 11 // 10, 26215, 0, 79)
    assert compute_swap_step(sqrt_p, sqrt_p * 9 // 10, 1024, -263000, 3000) == (sqrt_p * 9 // 10, 1, 26214, 1)


BITMAP_TICKS = (70, 78, 84, 139, 240, 535)


def bitmap_of(ticks: tuple[int, ...], spacing: int = 1) -> dict[int, int]:
    bitmap: dict[int, int] = {}
    for t in ticks:
        compressed = t // spacing
        bitmap[compressed >> 8] = bitmap.get(compressed >> 8, 0) | 1 << (compressed & 0xFF)
    return bitmap


@pytest.mark.parametrize("extra,tick,lte,expected", [
    ((), 78, False, (84, True)), ((), 77, False, (78, True)), ((), 255, False, (511, False)),
    ((340,), 328, False, (340, True)), ((), 508, False, (511, False)), ((), 383, False, (511, False)),
    ((), 78, True, (78, True)), ((), 79, True, (78, True)), ((), 258, True, (256, False)),
    ((), 256, True, (256, False)), ((), 72, True, (70, True)), ((), -1, True, (-256, False)),
    ((), 1023, True, (768, False)), ((), 900, True, (768, False)), ((329,), 456, True, (329, True)),
])
def test_next_initialized_tick_cases_from_v3_core(extra: tuple[int, ...], tick: int, lte: bool, expected: tuple[int, bool]) -> None:
    assert next_initialized_tick_within_one_word(bitmap_of(BITMAP_TICKS + extra), tick, 1, lte) == expected


def test_ticks_crossed_counts_like_pool_ticks_counter() -> None:
    bitmap = bitmap_of((-120, -60, 0, 60, 120, 600), 60)
    assert count_initialized_ticks_crossed(bitmap, 60, 1, 130) == 3       # 60, 120 and (truncated) 0
    assert count_initialized_ticks_crossed(bitmap, 60, 60, 130) == 1      # starts on 60 going up: not counted
    assert count_initialized_ticks_crossed(bitmap, 60, 130, 60) == 1      # ends on 60 going down: not counted
    assert count_initialized_ticks_crossed(bitmap, 60, 130, 59) == 3      # 120, 60, and 0: 59 shares 0's bit
    assert count_initialized_ticks_crossed(bitmap, 60, -1, -61) == 2      # -1 truncates to word 0, bit 0
    assert count_initialized_ticks_crossed(bitmap, 60, 5, 5) == 1         # no move, yet an initialized bit
    assert count_initialized_ticks_crossed(bitmap, 60, -200, 700) == 6


def synthetic_pool(fee: int = 3000) -> PoolState:
    """A pool at price 1 with three overlapping positions (spacing 60)."""
    positions = [(-600, 600, 10**21), (-120, 240, 5 * 10**21), (60, 1200, 2 * 10**21)]
    nets: dict[int, int] = {}
    for lower, upper, liquidity in positions:
        nets[lower] = nets.get(lower, 0) + liquidity
        nets[upper] = nets.get(upper, 0) - liquidity
    active = sum(liq for lower, upper, liq in positions if lower <= 0 < upper)
    return PoolState(Q96, 0, active, fee, 60, nets, bitmap_of(tuple(nets), 60))


def test_swap_crosses_ticks_and_runs_out_of_liquidity() -> None:
    pool = synthetic_pool()
    small = swap(pool, True, 10**15)
    assert small.amount0 == 10**15 and small.amount1 < 0 and small.ticks_crossed == 0
    assert small.liquidity_after == pool.liquidity
    everything = quote_exact_input(pool, False, 10**30)
    assert everything.amount_in < 10**30  # the pool ran out: only part of the input is taken
    assert everything.sqrt_price_after == MAX_SQRT_RATIO - 1 and everything.tick_after == MAX_TICK - 1
    result = swap(pool, False, 10**30)
    assert result.ticks_crossed == 4 and result.liquidity_after == 0
    ranges = [(0, 60, 6 * 10**21), (60, 240, 8 * 10**21), (240, 600, 3 * 10**21), (600, 1200, 2 * 10**21)]
    paid_out = sum(amount0_delta(sqrt_ratio_at_tick(a), sqrt_ratio_at_tick(b), liq, False) for a, b, liq in ranges)
    assert -result.amount0 == paid_out
    assert result.amount1 == everything.amount_in


def test_exact_output_and_exact_input_agree() -> None:
    pool = synthetic_pool()
    for zero_for_one in (True, False):
        for amount in (10**6, 10**9, 10**18, 5 * 10**19):
            bought = quote_exact_input(pool, zero_for_one, amount)
            cost = quote_exact_output(pool, zero_for_one, bought.amount_out)
            assert cost.amount_out == bought.amount_out
            assert cost.amount_in <= amount  # buying exactly what ``amount`` bought never costs more
            assert 0 <= bought.price_impact < 1


def test_swap_refuses_what_the_pool_refuses() -> None:
    pool = synthetic_pool()
    with pytest.raises(InvalidOrder):
        swap(pool, True, 0)
    with pytest.raises(InvalidOrder):
        swap(pool, True, 10, sqrt_price_limit_x96=Q96 + 1)  # a limit above the price, selling token0
    with pytest.raises(InvalidOrder):
        swap(pool, False, 10, sqrt_price_limit_x96=MAX_SQRT_RATIO)
    with pytest.raises(InvalidOrder):
        quote_exact_input(pool, True, -5)


def test_swap_refuses_to_guess_beyond_the_words_read() -> None:
    narrow = dataclasses.replace(synthetic_pool(), words=(0, 0))
    assert swap(narrow, False, 10**18).amount0 < 0  # inside word 0
    with pytest.raises(PoolStateIncomplete):
        swap(narrow, True, 10**22)  # down through tick -600 needs word -1


def test_price_limit_stops_the_swap_there() -> None:
    pool = synthetic_pool()
    limit = sqrt_ratio_at_tick(-300)
    result = swap(pool, True, 10**30, sqrt_price_limit_x96=limit)
    assert result.sqrt_price_after == limit and result.tick_after == -300


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize("base_is_token0", [True, False])
def test_ladder_has_a_level_per_range_between_initialized_ticks(side: Side, base_is_token0: bool) -> None:
    pool = synthetic_pool()
    levels = ladder(pool, side, 10, 18, 18, base_is_token0, level_ticks=10**6)
    zero_for_one = (side is Side.BUY) == base_is_token0
    boundaries = [-120, -600] if zero_for_one else [60, 240, 600, 1200]
    assert len(levels) == len(boundaries)
    prices = [p for p, _ in levels]
    assert prices == sorted(prices, reverse=side is Side.BUY)
    free = dataclasses.replace(pool, fee=0)
    for k, boundary in enumerate(boundaries, start=1):
        result = swap(free, zero_for_one, 10**40, sqrt_price_limit_x96=sqrt_ratio_at_tick(boundary))
        base = result.amount0 if base_is_token0 else result.amount1
        quote = result.amount1 if base_is_token0 else result.amount0
        assert sum(s for _, s in levels[:k]) == pytest.approx(abs(base) / 1e18, rel=1e-12)
        assert sum(p * s for p, s in levels[:k]) == pytest.approx(abs(quote) / 1e18, rel=1e-12)


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_ladder_splits_ranges_at_tick_spacings_and_stays_exact(zero_for_one: bool) -> None:
    pool = synthetic_pool()
    steps = ladder_steps(pool, zero_for_one, 100)
    # down: 0..-120 and -120..-600 in 60-tick levels; up: 0..60, 60..240, 240..600, 600..1200
    assert [s.tick_end for s in steps] == (list(range(-60, -601, -60)) if zero_for_one else list(range(60, 1201, 60)))
    free = dataclasses.replace(pool, fee=0)
    for k, step in enumerate(steps, start=1):
        result = swap(free, zero_for_one, 10**40, sqrt_price_limit_x96=step.sqrt_price_end)
        paid, received = (result.amount0, -result.amount1) if zero_for_one else (result.amount1, -result.amount0)
        assert (sum(s.amount_in for s in steps[:k]), sum(s.amount_out for s in steps[:k])) == (paid, received)
    assert len(ladder_steps(pool, zero_for_one, 3)) == 3


def test_ladder_refuses_nonsense() -> None:
    with pytest.raises(InvalidOrder):
        ladder(synthetic_pool(), Side.BUY, 0, 18, 18, True)
    with pytest.raises(InvalidOrder):
        ladder_steps(synthetic_pool(), True, 5, level_ticks=-60)
