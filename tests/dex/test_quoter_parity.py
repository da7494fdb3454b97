"""The must-hold: the Python pool math equals the on-chain QuoterV2 to the wei (amount in, amount
out, sqrt price after, initialized ticks crossed) on the seeded WBTC/USDT pools in all three fee
tiers, both directions, exact input and exact output, from 1 wei to swaps across many initialized
ticks, and where the pool runs out of liquidity (checked against a swap really executed)."""

from __future__ import annotations

from typing import Any

import pytest

from crossbook.errors import CrossbookError
from crossbook.sim.chain import Deployment, LocalChain, Pool
from crossbook.venues.dex import v3math
from crossbook.venues.dex.evm import fn
from crossbook.venues.dex.uniswap_v3 import SLOT0, read_pool_state
from tests.conftest import run

QUOTE_IN = fn("quoteExactInputSingle((address,address,uint256,uint24,uint160))", "uint256,uint160,uint32,uint256")
QUOTE_OUT = fn("quoteExactOutputSingle((address,address,uint256,uint24,uint160))", "uint256,uint160,uint32,uint256")
EXACT_INPUT_SINGLE = fn("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "uint256")
BALANCE_OF = fn("balanceOf(address)", "uint256")

# raw amounts put in, per token: 1 wei up to swaps that cross many initialized ticks
AMOUNTS_IN = {"WBTC": (1, 1_000, 10**6, 10**8, 10**9), "USDT": (1, 10**6, 10**9, 10**11, 10**12)}
# far more than the pool holds: the swap runs out of liquidity
EXHAUSTING = {"WBTC": 10**12, "USDT": 10**15}


def tokens_for(pool: Pool, zero_for_one: bool) -> tuple[Any, Any]:
    return (pool.token0, pool.token1) if zero_for_one else (pool.token1, pool.token0)


def compare(label: str, ours: v3math.Quote, amount_in: int, amount_out: int, sqrt_after: int, crossed: int) -> list[str]:
    theirs = (amount_in, amount_out, sqrt_after, crossed)
    mine = (ours.amount_in, ours.amount_out, ours.sqrt_price_after, ours.ticks_crossed)
    return [] if mine == theirs else [f"{label}: python {mine} != quoter {theirs}"]


@pytest.mark.parametrize("fee,tick_lens", [(500, True), (3000, False), (10000, True)])
def test_python_math_equals_quoter_v2_to_the_wei(chain: Deployment, fee: int, tick_lens: bool) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", fee)]
            quoter = c.addresses["quoter_v2"]
            state = await read_pool_state(c.evm, pool.address, tick_range=None,
                                          tick_lens=c.addresses["tick_lens"] if tick_lens else None)
            mismatches: list[str] = []
            cases = 0
            most_crossed = 0
            for zero_for_one in (True, False):
                token_in, token_out = tokens_for(pool, zero_for_one)
                outs: list[int] = [1, 1_000]
                for amount in AMOUNTS_IN[token_in.symbol]:
                    out, sqrt_after, crossed, _ = await c.evm.call(quoter, QUOTE_IN, (token_in.address, token_out.address, amount, fee, 0))
                    ours = v3math.quote_exact_input(state, zero_for_one, amount)
                    mismatches += compare(f"{fee} {token_in.symbol} in {amount}", ours, amount, out, sqrt_after, crossed)
                    most_crossed = max(most_crossed, crossed)
                    cases += 1
                    if amount >= 10**6:
                        outs.append(out)
                for amount in outs:
                    params = (token_in.address, token_out.address, amount, fee, 0)
                    paid, sqrt_after, crossed, _ = await c.evm.call(quoter, QUOTE_OUT, params)
                    ours = v3math.quote_exact_output(state, zero_for_one, amount)
                    mismatches += compare(f"{fee} {token_out.symbol} out {amount}", ours, paid, amount, sqrt_after, crossed)
                    most_crossed = max(most_crossed, crossed)
                    cases += 1
            assert not mismatches, "\n".join(mismatches)
            assert cases == 21  # 10 exact input, 11 exact output
            assert most_crossed > 5, f"no case crossed several initialized ticks (at most {most_crossed})"

    run(body(), 120)


@pytest.mark.parametrize("fee", [500, 10000])
@pytest.mark.parametrize("zero_for_one", [True, False])
def test_running_out_of_liquidity_takes_what_the_pool_takes(chain: Deployment, fee: int, zero_for_one: bool) -> None:
    """QuoterV2's exact-input quote returns only the output when the pool runs dry; the input
    consumed is checked against a swap executed through SwapRouter (balances and the pool's price
    after), and against QuoterV2's exact-output quote with a price limit."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", fee)]
            quoter = c.addresses["quoter_v2"]
            token_in, token_out = tokens_for(pool, zero_for_one)
            amount = EXHAUSTING[token_in.symbol]
            state = await read_pool_state(c.evm, pool.address, tick_range=None, tick_lens=c.addresses["tick_lens"])
            ours = v3math.quote_exact_input(state, zero_for_one, amount)
            assert ours.amount_in < amount, "the pool did not run out of liquidity"
            edge = v3math.MIN_SQRT_RATIO + 1 if zero_for_one else v3math.MAX_SQRT_RATIO - 1
            assert ours.sqrt_price_after == edge

            out, sqrt_after, crossed, _ = await c.evm.call(quoter, QUOTE_IN, (token_in.address, token_out.address, amount, fee, 0))
            assert (ours.amount_out, ours.sqrt_price_after, ours.ticks_crossed) == (out, sqrt_after, crossed)

            # exact output beyond the pool: QuoterV2 refuses without a limit, and with one reports the input taken
            short = v3math.quote_exact_output(state, zero_for_one, ours.amount_out + 1)
            assert short.amount_out == ours.amount_out
            with pytest.raises(CrossbookError):
                await c.evm.call(quoter, QUOTE_OUT, (token_in.address, token_out.address, ours.amount_out + 1, fee, 0))
            beyond = EXHAUSTING[token_out.symbol]
            paid, sqrt_after, crossed, _ = await c.evm.call(quoter, QUOTE_OUT, (token_in.address, token_out.address, beyond, fee, edge))
            limited = v3math.quote_exact_output(state, zero_for_one, beyond, edge)
            assert (limited.amount_in, limited.sqrt_price_after, limited.ticks_crossed) == (paid, sqrt_after, crossed)
            assert limited.amount_in == ours.amount_in

            # the swap itself, executed: what left and reached the trader's wallet
            trader = c.wallet_for(chain.keys[1])
            await c.fund(token_in, chain.keys[1], amount, spenders=("swap_router",))
            before_in, before_out = await balances(c, trader.address, token_in.address, token_out.address)
            deadline = await c.evm.timestamp() + 600
            params = (token_in.address, token_out.address, fee, trader.address, deadline, amount, 0, 0)
            await trader.send(c.addresses["swap_router"], EXACT_INPUT_SINGLE.encode(params))
            after_in, after_out = await balances(c, trader.address, token_in.address, token_out.address)
            assert before_in - after_in == ours.amount_in
            assert after_out - before_out == ours.amount_out
            (sqrt_now, tick_now, *_) = await c.evm.call(pool.address, SLOT0)
            assert (sqrt_now, tick_now) == (ours.sqrt_price_after, ours.tick_after)

    run(body(), 120)


async def balances(c: LocalChain, owner: str, *tokens: str) -> tuple[int, ...]:
    return tuple([(await c.evm.call(token, BALANCE_OF, owner))[0] for token in tokens])
