"""Uniswap V3 pool math in Python integers, bit-exact with the contracts.

TickMath, FullMath, SqrtPriceMath, SwapMath, LiquidityMath and TickBitmap as in v3-core, the
pool's swap loop (``UniswapV3Pool.swap``) over a ``PoolState`` read from the chain, quotes with
QuoterV2's tick counting (``PoolTicksCounter``), and the pool as a ladder of price levels.

Where Solidity reverts, these functions raise ``ValueError`` (pure math) or ``InvalidOrder`` (a
swap asked for something the pool would refuse). No web3 here: this is the quoting hot path, so
the swap loop inlines its helpers and works on local variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ...errors import CrossbookError, InvalidOrder
from ...model import Side

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
MAX_UINT256 = (1 << 256) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT128 = (1 << 128) - 1
MAX_INT256 = (1 << 255) - 1
FEE_DENOMINATOR = 1_000_000

# Gas of SwapRouter.exactInputSingle on the local chain, measured: about 95k-134k within one tick
# (more when a balance slot is first written), and 38k-45k more per initialized tick crossed; a
# swap walking through many empty tick bitmap words (far outside the liquidity) costs more still.
SWAP_GAS = 110_000
TICK_CROSS_GAS = 40_000

_TICK_FACTORS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


class PoolStateIncomplete(CrossbookError):
    """A swap or ladder needs tick bitmap words the state was not read over: read the pool over a
    wider tick range (the message names the word)."""


# --- TickMath ---------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def sqrt_ratio_at_tick(tick: int) -> int:
    """TickMath.getSqrtRatioAtTick: sqrt(1.0001^tick) as a Q64.96, rounded up."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise ValueError(f"tick {tick} is outside [{MIN_TICK}, {MAX_TICK}]")
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 1 else 1 << 128
    for bit, factor in _TICK_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    return (ratio >> 32) + (0 if ratio & 0xFFFFFFFF == 0 else 1)


def tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """TickMath.getTickAtSqrtRatio: the greatest tick whose sqrt ratio is <= the given one."""
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise ValueError(f"sqrt price {sqrt_price_x96} is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_high = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_high:
        return tick_low
    return tick_high if sqrt_ratio_at_tick(tick_high) <= sqrt_price_x96 else tick_low


# --- FullMath, LiquidityMath ------------------------------------------------------------------


def mul_div(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDiv: floor(a * b / denominator), reverting unless the result fits 256 bits."""
    if denominator <= 0:
        raise ValueError("mul_div by zero")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise ValueError("mul_div result overflows 256 bits")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDivRoundingUp: ceil(a * b / denominator)."""
    if denominator <= 0:
        raise ValueError("mul_div_rounding_up by zero")
    result = -(-a * b // denominator)
    if result > MAX_UINT256:
        raise ValueError("mul_div_rounding_up result overflows 256 bits")
    return result


def add_delta(liquidity: int, delta: int) -> int:
    """LiquidityMath.addDelta: reverts on underflow ('LS') or uint128 overflow ('LA')."""
    result = liquidity + delta
    if result < 0:
        raise ValueError(f"liquidity {liquidity} minus {-delta} underflows")
    if result > MAX_UINT128:
        raise ValueError(f"liquidity {liquidity} plus {delta} overflows uint128")
    return result


# --- SqrtPriceMath ----------------------------------------------------------------------------


def next_sqrt_price_from_amount0_rounding_up(sqrt_p: int, liquidity: int, amount: int, add: bool) -> int:
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if add:
        if product <= MAX_UINT256 and numerator1 + product <= MAX_UINT256:
            return -(-numerator1 * sqrt_p // (numerator1 + product))
        # the contract's overflow fallback rounds differently, so it is kept as is
        divisor = numerator1 // sqrt_p + amount
        if divisor > MAX_UINT256:
            raise ValueError("amount0 overflows the next price's divisor")
        return -(-numerator1 // divisor)
    if product > MAX_UINT256 or numerator1 <= product:
        raise ValueError("amount0 out exceeds the virtual reserve")
    result = -(-numerator1 * sqrt_p // (numerator1 - product))
    if result > MAX_UINT160:
        raise ValueError("next sqrt price overflows uint160")
    return result


def next_sqrt_price_from_amount1_rounding_down(sqrt_p: int, liquidity: int, amount: int, add: bool) -> int:
    if add:
        result = sqrt_p + (amount << 96) // liquidity
        if result > MAX_UINT160:
            raise ValueError("next sqrt price overflows uint160")
        return result
    quotient = -(-(amount << 96) // liquidity)
    if sqrt_p <= quotient:
        raise ValueError("amount1 out exceeds the virtual reserve")
    return sqrt_p - quotient


def next_sqrt_price_from_input(sqrt_p: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    if sqrt_p <= 0 or liquidity <= 0:
        raise ValueError("next price needs a positive price and liquidity")
    if zero_for_one:
        return next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_in, True)
    return next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_in, True)


def next_sqrt_price_from_output(sqrt_p: int, liquidity: int, amount_out: int, zero_for_one: bool) -> int:
    if sqrt_p <= 0 or liquidity <= 0:
        raise ValueError("next price needs a positive price and liquidity")
    if zero_for_one:
        return next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_out, False)
    return next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_out, False)


def amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount0Delta: liquidity * (1/sqrt_a - 1/sqrt_b), rounded as the contract."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a <= 0:
        raise ValueError("amount0 delta needs a positive price")
    numerator = (liquidity << 96) * (sqrt_b - sqrt_a)
    if round_up:
        over_b = -(-numerator // sqrt_b)
        return -(-over_b // sqrt_a)
    return numerator // sqrt_b // sqrt_a


def amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount1Delta: liquidity * (sqrt_b - sqrt_a), rounded as the contract."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return -(-liquidity * (sqrt_b - sqrt_a) >> 96)
    return liquidity * (sqrt_b - sqrt_a) >> 96


# --- SwapMath ---------------------------------------------------------------------------------


def compute_swap_step(sqrt_current: int, sqrt_target: int, liquidity: int, amount_remaining: int,
                      fee_pips: int) -> tuple[int, int, int, int]:
    """SwapMath.computeSwapStep -> (sqrt_next, amount_in, amount_out, fee_amount).
    ``amount_remaining`` > 0 is exact input (fee included), < 0 exact output."""
    zero_for_one = sqrt_current >= sqrt_target
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = amount_remaining * (FEE_DENOMINATOR - fee_pips) // FEE_DENOMINATOR
        amount_in = (amount0_delta(sqrt_target, sqrt_current, liquidity, True) if zero_for_one
                     else amount1_delta(sqrt_current, sqrt_target, liquidity, True))
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_target
        else:
            sqrt_next = next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)
    else:
        amount_out = (amount1_delta(sqrt_target, sqrt_current, liquidity, False) if zero_for_one
                      else amount0_delta(sqrt_current, sqrt_target, liquidity, False))
        if -amount_remaining >= amount_out:
            sqrt_next = sqrt_target
        else:
            sqrt_next = next_sqrt_price_from_output(sqrt_current, liquidity, -amount_remaining, zero_for_one)
    reached = sqrt_target == sqrt_next
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = amount0_delta(sqrt_next, sqrt_current, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount1_delta(sqrt_next, sqrt_current, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = amount1_delta(sqrt_current, sqrt_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount0_delta(sqrt_current, sqrt_next, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and sqrt_next != sqrt_target:
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = -(-amount_in * fee_pips // (FEE_DENOMINATOR - fee_pips))
    return sqrt_next, amount_in, amount_out, fee_amount


# --- TickBitmap -------------------------------------------------------------------------------


def next_initialized_tick_within_one_word(bitmap: dict[int, int], tick: int, tick_spacing: int,
                                          lte: bool) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord -> (next tick, initialized)."""
    compressed = tick // tick_spacing
    if lte:
        bit = compressed & 0xFF
        masked = bitmap.get(compressed >> 8, 0) & ((2 << bit) - 1)
        if masked:
            return (compressed - bit + masked.bit_length() - 1) * tick_spacing, True
        return (compressed - bit) * tick_spacing, False
    compressed += 1
    bit = compressed & 0xFF
    masked = bitmap.get(compressed >> 8, 0) >> bit
    if masked:
        return (compressed + (masked & -masked).bit_length() - 1) * tick_spacing, True
    return (compressed + 255 - bit) * tick_spacing, False


def count_initialized_ticks_crossed(bitmap: dict[int, int], tick_spacing: int, tick_before: int,
                                    tick_after: int) -> int:
    """QuoterV2's ``initializedTicksCrossed`` (periphery PoolTicksCounter), reproduced with its
    quirks: ticks are compressed by division truncating toward zero (not the pool's floor), an
    initialized end tick counts only when the swap moved down onto it, an initialized start
    tick only when the swap moved up from it."""
    before = _trunc_div(tick_before, tick_spacing)
    after = _trunc_div(tick_after, tick_spacing)
    word, bit, word_after, bit_after = before >> 8, before & 0xFF, after >> 8, after & 0xFF
    after_counted = (bitmap.get(word_after, 0) >> bit_after & 1 and tick_after % tick_spacing == 0
                     and tick_before > tick_after)
    before_counted = (bitmap.get(word, 0) >> bit & 1 and tick_before % tick_spacing == 0
                      and tick_before < tick_after)
    if (word, bit) <= (word_after, bit_after):
        word_low, bit_low, word_high, bit_high = word, bit, word_after, bit_after
    else:
        word_low, bit_low, word_high, bit_high = word_after, bit_after, word, bit
    count = 0
    mask = (MAX_UINT256 << bit_low) & MAX_UINT256
    while word_low <= word_high:
        if word_low == word_high:
            mask &= MAX_UINT256 >> (255 - bit_high)
        count += (bitmap.get(word_low, 0) & mask).bit_count()
        word_low += 1
        mask = MAX_UINT256
    return count - bool(after_counted) - bool(before_counted)


def _trunc_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


# --- the pool ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool as read at one block. ``ticks``: initialized tick -> liquidityNet; ``bitmap``: word
    position -> bits. ``words`` (first, last) is the range of bitmap words that was read, None when
    the bitmap is complete; a swap that needs a word outside it raises PoolStateIncomplete."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int
    tick_spacing: int
    ticks: dict[int, int] = field(default_factory=dict)
    bitmap: dict[int, int] = field(default_factory=dict)
    words: tuple[int, int] | None = None
    address: str = ""
    token0: str = ""
    token1: str = ""
    decimals0: int = 18
    decimals1: int = 18
    block: int = 0

    @property
    def price(self) -> float:
        """token1 per token0 in raw units, at the current sqrt price."""
        return (self.sqrt_price_x96 / Q96) ** 2


@dataclass(frozen=True, slots=True)
class SwapResult:
    """What ``UniswapV3Pool.swap`` returns and leaves behind: signed deltas from the pool's view
    (positive = paid in), the price, tick and liquidity after, and the initialized ticks the loop
    actually crossed."""

    amount0: int
    amount1: int
    sqrt_price_after: int
    tick_after: int
    liquidity_after: int
    ticks_crossed: int


@dataclass(frozen=True, slots=True)
class Quote:
    """A swap's price: ``amount_in`` actually consumed (fee included) and ``amount_out`` actually
    delivered (less than asked when the pool runs out of liquidity), ``ticks_crossed`` as QuoterV2
    reports it (see count_initialized_ticks_crossed), ``price_impact`` as the Uniswap SDK defines
    it: 1 - amount_out / (amount_in at the pre-swap mid price), so the fee is part of it."""

    amount_in: int
    amount_out: int
    sqrt_price_after: int
    tick_after: int
    ticks_crossed: int
    price_impact: float


def swap(state: PoolState, zero_for_one: bool, amount_specified: int,
         sqrt_price_limit_x96: int | None = None) -> SwapResult:
    """The loop of ``UniswapV3Pool.swap``: ``amount_specified`` > 0 is exact input, < 0 exact
    output; with no limit, the limit QuoterV2 uses (MIN_SQRT_RATIO + 1 or MAX_SQRT_RATIO - 1)."""
    sqrt_p = state.sqrt_price_x96
    limit = _price_limit(sqrt_p, zero_for_one, sqrt_price_limit_x96)
    if amount_specified == 0:
        raise InvalidOrder("swap amount must not be zero")
    if not -MAX_INT256 <= amount_specified <= MAX_INT256:
        raise InvalidOrder(f"swap amount {amount_specified} does not fit int256")
    exact_in = amount_specified > 0
    remaining, calculated = amount_specified, 0
    tick, liquidity, fee = state.tick, state.liquidity, state.fee
    fee_complement = FEE_DENOMINATOR - fee
    spacing, bitmap, ticks, words = state.tick_spacing, state.bitmap, state.ticks, state.words
    crossed = 0
    step = compute_swap_step
    ratio_at = sqrt_ratio_at_tick
    while remaining != 0 and sqrt_p != limit:
        start = sqrt_p
        # TickBitmap.nextInitializedTickWithinOneWord, inlined
        compressed = tick // spacing
        if zero_for_one:
            bit = compressed & 0xFF
            word = compressed >> 8
            masked = bitmap.get(word, 0) & ((2 << bit) - 1)
            initialized = masked != 0
            tick_next = (compressed - bit + (masked.bit_length() - 1 if initialized else 0)) * spacing
        else:
            compressed += 1
            bit = compressed & 0xFF
            word = compressed >> 8
            masked = bitmap.get(word, 0) >> bit
            initialized = masked != 0
            tick_next = (compressed + ((masked & -masked).bit_length() - 1 if initialized else 255 - bit)) * spacing
        if words is not None and not words[0] <= word <= words[1]:
            raise PoolStateIncomplete(f"the swap reaches tick bitmap word {word}, outside the words read "
                                      f"({words[0]}..{words[1]}) of pool {state.address or '(unnamed)'}")
        if tick_next < MIN_TICK:
            tick_next = MIN_TICK
        elif tick_next > MAX_TICK:
            tick_next = MAX_TICK
        sqrt_next = ratio_at(tick_next)
        target = limit if (sqrt_next < limit if zero_for_one else sqrt_next > limit) else sqrt_next
        # computeSwapStep's commonest case inlined: exact input that reaches the target
        reached = False
        if exact_in:
            if zero_for_one:
                numerator = (liquidity << 96) * (sqrt_p - target)
                over_sqrt_p = -(-numerator // sqrt_p)
                amount_in = -(-over_sqrt_p // target)
            else:
                amount_in = -(-liquidity * (target - sqrt_p) >> 96)
            if remaining * fee_complement // FEE_DENOMINATOR >= amount_in:
                reached = True
                if zero_for_one:
                    amount_out = liquidity * (sqrt_p - target) >> 96
                else:
                    amount_out = ((liquidity << 96) * (target - sqrt_p)) // target // sqrt_p
                sqrt_p = target
                remaining -= amount_in - (-amount_in * fee // fee_complement)
                calculated -= amount_out
        if not reached:
            sqrt_p, amount_in, amount_out, fee_amount = step(sqrt_p, target, liquidity, remaining, fee)
            if exact_in:
                remaining -= amount_in + fee_amount
                calculated -= amount_out
            else:
                remaining += amount_out
                calculated += amount_in + fee_amount
        if sqrt_p == sqrt_next:
            if initialized:
                net = ticks.get(tick_next)
                if net is None:
                    raise PoolStateIncomplete(f"tick {tick_next} is initialized in the bitmap but its liquidityNet was not read")
                liquidity += -net if zero_for_one else net
                if not 0 <= liquidity <= MAX_UINT128:
                    raise ValueError(f"liquidity out of range crossing tick {tick_next}: the state is inconsistent")
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_p != start:
            tick = tick_at_sqrt_ratio(sqrt_p)
    if zero_for_one == exact_in:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapResult(amount0, amount1, sqrt_p, tick, liquidity, crossed)


def _price_limit(sqrt_p: int, zero_for_one: bool, limit: int | None) -> int:
    if limit is None:
        return MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    if zero_for_one and not MIN_SQRT_RATIO < limit < sqrt_p:
        raise InvalidOrder(f"price limit {limit} must be below the pool's sqrt price {sqrt_p} and above MIN_SQRT_RATIO")
    if not zero_for_one and not sqrt_p < limit < MAX_SQRT_RATIO:
        raise InvalidOrder(f"price limit {limit} must be above the pool's sqrt price {sqrt_p} and below MAX_SQRT_RATIO")
    return limit


def quote_exact_input(state: PoolState, zero_for_one: bool, amount_in: int,
                      sqrt_price_limit_x96: int | None = None) -> Quote:
    """What ``amount_in`` buys (QuoterV2.quoteExactInputSingle); ``Quote.amount_in`` is what the
    pool actually takes, less than asked when it runs out of liquidity or reaches the limit."""
    if amount_in <= 0:
        raise InvalidOrder(f"amount in must be positive, got {amount_in}")
    return _quote(state, zero_for_one, swap(state, zero_for_one, amount_in, sqrt_price_limit_x96))


def quote_exact_output(state: PoolState, zero_for_one: bool, amount_out: int,
                       sqrt_price_limit_x96: int | None = None) -> Quote:
    """What ``amount_out`` costs (QuoterV2.quoteExactOutputSingle); ``Quote.amount_out`` is what
    the pool actually delivers (QuoterV2 reverts instead when that is short of the ask and no
    limit was given)."""
    if amount_out <= 0:
        raise InvalidOrder(f"amount out must be positive, got {amount_out}")
    return _quote(state, zero_for_one, swap(state, zero_for_one, -amount_out, sqrt_price_limit_x96))


def _quote(state: PoolState, zero_for_one: bool, result: SwapResult) -> Quote:
    paid, received = (result.amount0, -result.amount1) if zero_for_one else (result.amount1, -result.amount0)
    crossed = count_initialized_ticks_crossed(state.bitmap, state.tick_spacing, state.tick, result.tick_after)
    mid = state.sqrt_price_x96 * state.sqrt_price_x96 / (1 << 192)
    at_mid = paid * mid if zero_for_one else paid / mid
    impact = 1.0 - received / at_mid if at_mid > 0 else 0.0
    return Quote(paid, received, result.sqrt_price_after, result.tick_after, crossed, impact)


def swap_gas(ticks_crossed: int) -> int:
    """Gas of one router swap that crosses ``ticks_crossed`` initialized ticks."""
    return SWAP_GAS + TICK_CROSS_GAS * ticks_crossed


# --- the pool as a ladder ---------------------------------------------------------------------


def ladder(state: PoolState, side: Side, max_levels: int, decimals0: int, decimals1: int,
           base_is_token0: bool, level_ticks: int | None = None) -> list[tuple[float, float]]:
    """The pool as price levels ``(price, size)`` in human units (price = quote per base, size =
    base), as a book side: ``Side.SELL`` the asks (the pool sells base; ascending), ``Side.BUY`` the
    bids (the pool buys base; descending), as ConsolidatedBook.ladder names sides.

    Levels follow the pool's own swap loop: they end at every initialized tick (where liquidity
    changes) and wherever the loop itself stops (the end of a tick bitmap word), and a range between
    two of those is split further at every multiple of ``level_ticks`` (default: the tick spacing,
    the pool's own granularity), so a level never spans more than that and its average price stays
    close to its start. Each level's raw amounts are differences of exact cumulative amounts from
    the start of the loop's step (input rounded up, output down), so the first k levels add up to
    exactly the fee-free swap to the k-th level's end. Ranges without liquidity give no level.

    Prices exclude the pool fee: the router charges the fee tier as the taker fee. Exactly, the
    pool takes its fee from the input: of a gross input, ``(1e6 - fee) / 1e6`` moves the price, so
    the input a level needs is its amount times ``1e6 / (1e6 - fee)``, a rate of ``fee / (1e6 - fee)``
    on top. The ladder ends after ``max_levels`` levels, at the end of the words read, or at
    MIN_TICK/MAX_TICK."""
    if max_levels <= 0:
        raise InvalidOrder(f"max_levels must be positive, got {max_levels}")
    # asks: the pool pays out base; base out of the pool is token0 out -> one-for-zero
    zero_for_one = (side is Side.BUY) == base_is_token0
    levels: list[tuple[float, float]] = []
    base_scale = 10.0 ** (decimals0 if base_is_token0 else decimals1)
    quote_scale = 10.0 ** (decimals1 if base_is_token0 else decimals0)
    for step in ladder_steps(state, zero_for_one, max_levels, level_ticks):
        if step.amount_in == 0 or step.amount_out == 0:
            continue
        amount0, amount1 = (step.amount_in, step.amount_out) if zero_for_one else (step.amount_out, step.amount_in)
        base, quote = (amount0, amount1) if base_is_token0 else (amount1, amount0)
        levels.append(((quote / quote_scale) / (base / base_scale), base / base_scale))
    return levels


@dataclass(frozen=True, slots=True)
class LadderStep:
    """One level of the ladder in raw amounts, fee-free, and the price and tick where it ends."""

    sqrt_price_end: int
    tick_end: int
    amount_in: int
    amount_out: int


def ladder_steps(state: PoolState, zero_for_one: bool, max_levels: int, level_ticks: int | None = None) -> list[LadderStep]:
    """The ladder's levels in raw amounts (see ``ladder``): the swap loop's steps from the current
    price, each cut at multiples of ``level_ticks``, until ``max_levels`` levels with liquidity, the
    edge of the words read, or the end of the tick range."""
    span = level_ticks or state.tick_spacing
    if span <= 0:
        raise InvalidOrder(f"level_ticks must be positive, got {span}")
    sqrt_p, tick, liquidity = state.sqrt_price_x96, state.tick, state.liquidity
    spacing, bitmap, words = state.tick_spacing, state.bitmap, state.words
    steps: list[LadderStep] = []
    edge = MIN_SQRT_RATIO if zero_for_one else MAX_SQRT_RATIO
    while len(steps) < max_levels and sqrt_p != edge:
        compressed = tick // spacing
        word = (compressed if zero_for_one else compressed + 1) >> 8
        if words is not None and not words[0] <= word <= words[1]:
            break
        tick_next, initialized = next_initialized_tick_within_one_word(bitmap, tick, spacing, zero_for_one)
        tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
        sqrt_next = sqrt_ratio_at_tick(tick_next)
        if liquidity > 0 and sqrt_next != sqrt_p:
            steps += _split_step(sqrt_p, tick, tick_next, liquidity, zero_for_one, span, max_levels - len(steps))
            if len(steps) == max_levels:
                break
        if initialized:
            net = state.ticks.get(tick_next)
            if net is None:
                raise PoolStateIncomplete(f"tick {tick_next} is initialized in the bitmap but its liquidityNet was not read")
            liquidity = add_delta(liquidity, -net if zero_for_one else net)
        sqrt_p = sqrt_next
        tick = tick_next - 1 if zero_for_one else tick_next
    return steps


def _split_step(sqrt_start: int, tick: int, tick_end: int, liquidity: int, zero_for_one: bool, span: int,
                room: int) -> list[LadderStep]:
    """One step of the loop cut at multiples of ``span`` ticks; amounts as differences of the
    exact amounts from ``sqrt_start``, so the pieces add up to the step's own amounts."""
    if zero_for_one:
        cut = tick // span * span
        if cut > tick_end and sqrt_ratio_at_tick(cut) >= sqrt_start:
            cut -= span
        ends = [*range(cut, tick_end, -span), tick_end]
    else:
        ends = [*range((tick // span + 1) * span, tick_end, span), tick_end]
    pieces: list[LadderStep] = []
    paid = received = 0
    for end in ends[:room]:
        sqrt_end = sqrt_ratio_at_tick(end)
        if zero_for_one:
            total_in = amount0_delta(sqrt_end, sqrt_start, liquidity, True)
            total_out = amount1_delta(sqrt_end, sqrt_start, liquidity, False)
        else:
            total_in = amount1_delta(sqrt_start, sqrt_end, liquidity, True)
            total_out = amount0_delta(sqrt_start, sqrt_end, liquidity, False)
        pieces.append(LadderStep(sqrt_end, end, total_in - paid, total_out - received))
        paid, received = total_in, total_out
    return pieces
