"""Pool state over web3: both ways of reading agree, the watcher follows swaps and mints and
ignores unrelated blocks, the oracle's time-weighted tick, the ladder against exact swaps, and the
gas figures the router is given."""

from __future__ import annotations

import dataclasses

from crossbook.model import Side
from crossbook.sim.chain import Deployment, LocalChain, Pool
from crossbook.venues.dex import v3math
from crossbook.venues.dex.evm import TxOutcome, fn
from crossbook.venues.dex.uniswap_v3 import PoolWatcher, pool_address, read_pool_state, twap_price, twap_tick
from tests.conftest import run, wait_for

EXACT_INPUT_SINGLE = fn("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "uint256")
TRANSFER = fn("transfer(address,uint256)", "bool")


async def router_swap(c: LocalChain, pool: Pool, zero_for_one: bool, amount: int, key_index: int = 1) -> TxOutcome:
    """Swap ``amount`` of the input token through SwapRouter from a funded trader key."""
    key = c.keys[key_index]
    token_in, token_out = (pool.token0, pool.token1) if zero_for_one else (pool.token1, pool.token0)
    await c.fund(token_in, key, amount, spenders=("swap_router",))
    trader = c.wallet_for(key)
    deadline = await c.evm.timestamp() + 600
    params = (token_in.address, token_out.address, pool.fee, trader.address, deadline, amount, 0, 0)
    return await trader.send(c.addresses["swap_router"], EXACT_INPUT_SINGLE.encode(params))


def same_pool(a: v3math.PoolState, b: v3math.PoolState) -> bool:
    return dataclasses.replace(a, words=None) == dataclasses.replace(b, words=None)


def test_tick_lens_and_bitmap_reads_agree_and_quote_alike(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 3000)]
            head = await c.evm.block_number()
            lens = await read_pool_state(c.evm, pool.address, head, tick_lens=c.addresses["tick_lens"])
            plain = await read_pool_state(c.evm, pool.address, head)
            assert lens == plain
            assert len(lens.ticks) > 20 and lens.block == head
            assert (lens.token0, lens.token1, lens.fee, lens.tick_spacing) == (pool.token0.address, pool.token1.address, 3000, 60)
            assert (lens.decimals0, lens.decimals1) == (pool.token0.decimals, pool.token1.decimals)
            whole = await read_pool_state(c.evm, pool.address, head, tick_range=None, tick_lens=c.addresses["tick_lens"])
            for zero_for_one in (True, False):
                assert v3math.quote_exact_input(lens, zero_for_one, 10**6) == v3math.quote_exact_input(whole, zero_for_one, 10**6)
            assert pool_address(c.addresses["factory"], pool.token1.address, pool.token0.address, 3000) == pool.address

    run(body(), 60)


def test_watcher_applies_a_swap_without_reading_the_pool_again(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 500)]
            watcher = PoolWatcher(c.evm, pool.address, interval=0.05, tick_lens=c.addresses["tick_lens"])
            seen: list[v3math.PoolState] = []
            watcher.on_change.append(seen.append)
            try:
                before = await watcher.start()
                assert watcher.reads == 1
                outcome = await router_swap(c, pool, pool.token0.symbol == "WBTC", 2 * 10**8)  # sells 2 WBTC
                await wait_for(lambda: watcher.state.block >= outcome.block, 10, "the watcher to reach the swap's block")
                fresh = await read_pool_state(c.evm, pool.address, watcher.state.block, tick_lens=c.addresses["tick_lens"])
                assert same_pool(watcher.state, fresh)
                assert watcher.state.sqrt_price_x96 != before.sqrt_price_x96
                assert watcher.reads == 1, "a swap alone must not make the watcher read the pool again"
                assert seen[-1] is watcher.state
            finally:
                await watcher.stop()

    run(body(), 60)


def test_watcher_reads_again_after_a_mint_and_not_for_unrelated_blocks(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 3000)]
            watcher = PoolWatcher(c.evm, pool.address, interval=60)
            await watcher.refresh()
            first = watcher.state
            # an unrelated block: a transfer of another token
            usdc = c.tokens["USDC"]
            await c.mint(usdc, c.wallet.address, 10**6)
            await c.wallet.send(usdc.address, TRANSFER.encode(c.wallet_for(c.keys[2]).address, 10**6))
            assert await watcher.refresh() is False
            assert watcher.reads == 1 and watcher.state.block > first.block
            assert same_pool(dataclasses.replace(watcher.state, block=first.block), first)
            # a new position: two new initialized ticks, read again
            lower, upper = next(((first.tick // 60 - k) * 60, (first.tick // 60 + k + 1) * 60) for k in range(1, 100)
                                if (first.tick // 60 - k) * 60 not in first.ticks and (first.tick // 60 + k + 1) * 60 not in first.ticks)
            await c.add_position(pool, lower, upper, 10**7, 10**10)
            assert await watcher.refresh() is True
            assert watcher.reads == 2
            assert watcher.state.ticks[lower] > 0 and watcher.state.ticks[upper] == -watcher.state.ticks[lower]
            assert watcher.state.liquidity == first.liquidity + watcher.state.ticks[lower]
            fresh = await read_pool_state(c.evm, pool.address, watcher.state.block)
            assert same_pool(watcher.state, fresh)

    run(body(), 60)


def test_twap_is_the_floor_of_the_mean_tick(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 10000)]
            wbtc_is_0 = pool.token0.symbol == "WBTC"
            await c.advance(600)
            state = await read_pool_state(c.evm, pool.address)
            assert await twap_tick(c.evm, pool.address, 300) == state.tick
            price = await twap_price(c.evm, pool.address, 300, pool.token0.decimals, pool.token1.decimals, base_is_token0=wbtc_is_0)
            assert 59_000 < price < 61_000
            # a swap moves the tick; over a window straddling it the mean is the time-weighted floor
            outcome = await router_swap(c, pool, wbtc_is_0, 5 * 10**8)
            swapped_at = await c.evm.timestamp(outcome.block)
            after = await read_pool_state(c.evm, pool.address)
            await c.advance(97)
            head = await c.evm.block_number()
            now = await c.evm.timestamp(head)
            window = 211
            old_part, new_part = window - (now - swapped_at), now - swapped_at
            expected = (state.tick * old_part + after.tick * new_part) // window
            assert (after.tick < state.tick) if wbtc_is_0 else (after.tick > state.tick)  # WBTC sold: its price falls
            assert await twap_tick(c.evm, pool.address, window, block=head) == expected
            assert await twap_tick(c.evm, pool.address, 50, block=head) == after.tick

    run(body(), 60)


def test_ladder_levels_equal_the_exact_swaps_to_their_boundaries(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 3000)]
            state = await read_pool_state(c.evm, pool.address, tick_lens=c.addresses["tick_lens"])
            free = dataclasses.replace(state, fee=0)
            base_is_0 = pool.token0.symbol == "WBTC"
            for side in (Side.BUY, Side.SELL):
                zero_for_one = (side is Side.BUY) == base_is_0
                levels = v3math.ladder(state, side, 12, state.decimals0, state.decimals1, base_is_0)
                steps = [s for s in v3math.ladder_steps(state, zero_for_one, 12) if s.amount_in and s.amount_out]
                assert len(levels) == len(steps) == 12
                prices = [p for p, _ in levels]
                assert prices == sorted(prices, reverse=side is Side.BUY)
                assert all(st.tick_end % 60 == 0 for st in steps)
                for k in range(1, 13):
                    swapped = v3math.swap(free, zero_for_one, 10**30, sqrt_price_limit_x96=steps[k - 1].sqrt_price_end)
                    paid, received = (swapped.amount0, -swapped.amount1) if zero_for_one else (swapped.amount1, -swapped.amount0)
                    assert sum(s.amount_in for s in steps[:k]) == paid
                    assert sum(s.amount_out for s in steps[:k]) == received
                    base, quote = (received, paid) if side is Side.SELL else (paid, received)
                    base_scale = 10 ** pool.token0.decimals if base_is_0 else 10 ** pool.token1.decimals
                    quote_scale = 10 ** pool.token1.decimals if base_is_0 else 10 ** pool.token0.decimals
                    assert abs(sum(q for _, q in levels[:k]) - base / base_scale) <= 1e-12 * base / base_scale
                    assert abs(sum(p * q for p, q in levels[:k]) - quote / quote_scale) <= 1e-12 * quote / quote_scale
                # the best level sits at the pool's price, the fee left to the router
                mid = state.price * 10.0 ** (state.decimals0 - state.decimals1)
                mid = mid if base_is_0 else 1 / mid
                assert abs(levels[0][0] / mid - 1) < 0.01

    run(body(), 60)


def test_swap_gas_figures_are_close_to_real_router_swaps(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 500)]
            wbtc_is_0 = pool.token0.symbol == "WBTC"
            await router_swap(c, pool, wbtc_is_0, 10**5)  # the trader's first swap writes its balances
            state = await read_pool_state(c.evm, pool.address, tick_range=None, tick_lens=c.addresses["tick_lens"])
            crossings: list[int] = []
            for amount in (10**5, 5 * 10**8, 2 * 10**9):
                snapshot = await c.snapshot()
                crossed = v3math.swap(state, wbtc_is_0, amount).ticks_crossed
                outcome = await router_swap(c, pool, wbtc_is_0, amount)
                estimate = v3math.swap_gas(crossed)
                assert abs(estimate - outcome.gas_used) < 0.2 * outcome.gas_used, (crossed, estimate, outcome.gas_used)
                crossings.append(crossed)
                await c.revert(snapshot)
            assert max(crossings) > 5

    run(body(), 60)
