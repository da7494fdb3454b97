"""Range orders on the local chain: a single-sided position just past the price, crossed by real
swaps, withdrawn in the other token at about the range's average price."""

from __future__ import annotations

import asyncio
import math

import pytest

from crossbook.errors import InvalidOrder
from crossbook.sim.chain import Deployment, LocalChain
from crossbook.venues.dex.evm import TransactionFailed, fn
from crossbook.venues.dex.uniswap_v3_exec import FEE_TICK_SPACING, POSITIONS, RangeOrder, UniswapV3Trader
from tests.conftest import run
from tests.dex.test_swap_exec import balances, nonce, trader_for

SLOT0 = fn("slot0()", "uint160,int24,uint16,uint16,uint16,uint8,bool")
USDT = 10**6
WBTC = 10**8


def sqrt_price_at(tick: int) -> int:
    return int(1.0001 ** (tick / 2) * 2**96)


async def push_to(c: LocalChain, order: RangeOrder, tick: int) -> None:
    """Move the pool's price to ``tick`` by buying WBTC with USDT from another key (the swap
    stops at the price limit)."""
    mover = trader_for(c, c.keys[2], unlimited=True)
    usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
    result = await mover.swap_exact_input_single(usdt.address, wbtc.address, order.fee, 5_000_000 * USDT, 5000, 120,
                                                 sqrt_price_limit_x96=sqrt_price_at(tick))
    assert result.filled, result.reason


async def place_wbtc_sale(c: LocalChain, fee: int, amount: int) -> tuple[UniswapV3Trader, RangeOrder]:
    await c.fund(c.tokens["USDT"], c.keys[2], 5_000_000 * USDT)
    await c.fund(c.tokens["WBTC"], c.keys[1], WBTC)
    trader = trader_for(c, c.keys[1])
    order = await trader.place_range_order(c.tokens["WBTC"].address, c.tokens["USDT"].address, fee, amount)
    return trader, order


def beyond(order: RangeOrder) -> int:
    """A tick one spacing past the far side of the range, in the direction that fills it."""
    spacing = FEE_TICK_SPACING[order.fee]
    return order.tick_upper + spacing if order.sells_token0 else order.tick_lower - spacing


@pytest.mark.parametrize("fee", [500, 3000, 10000])
def test_range_order_is_crossed_and_withdrawn_in_the_other_token(chain: Deployment, fee: int) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            amount = WBTC // 10
            trader, order = await place_wbtc_sale(c, fee, amount)
            assert order.tick_upper - order.tick_lower == FEE_TICK_SPACING[fee]
            assert amount * 0.999 <= order.amount <= amount and order.liquidity > 0
            assert (await order.status()).state == "open"

            middle = (order.tick_lower + order.tick_upper) // 2
            await push_to(c, order, middle)
            assert (await order.status()).state == "partial"
            await push_to(c, order, beyond(order))
            status = await order.status()
            assert status.state == "crossed", status

            before = await balances(c, trader.wallet.address, "WBTC", "USDT")
            withdrawal = await order.withdraw()
            after = await balances(c, trader.wallet.address, "WBTC", "USDT")

            # token1 per token0 in raw units at the range's geometric mean
            mean = math.sqrt(1.0001 ** order.tick_lower * 1.0001 ** order.tick_upper)
            expected_usdt = order.amount * mean if order.sells_token0 else order.amount / mean
            assert withdrawal.amount_sold_token <= 1  # a rounding unit at most
            assert expected_usdt * 0.999 < withdrawal.amount_bought_token < expected_usdt * (1 + fee / 1e6 + 0.002)
            assert 55_000 < withdrawal.amount_bought_token / USDT / (order.amount / WBTC) < 65_000
            assert after[1] - before[1] == withdrawal.amount_bought_token
            assert after[0] - before[0] == withdrawal.amount_sold_token
            with pytest.raises(TransactionFailed, match="Invalid token ID"):  # the position was burned
                await c.evm.call(c.addresses["position_manager"], POSITIONS, order.token_id)

    run(body(), 120)


def test_withdraw_when_crossed_waits_for_the_crossing(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            _, order = await place_wbtc_sale(c, 3000, WBTC // 10)
            assert await order.withdraw_when_crossed(poll_interval=0.05, timeout=0.3) is None
            waiting = asyncio.create_task(order.withdraw_when_crossed(poll_interval=0.05, timeout=30))
            await asyncio.sleep(0.1)
            assert not waiting.done()
            await push_to(c, order, beyond(order))
            withdrawal = await waiting
            assert withdrawal is not None and withdrawal.amount_bought_token > 5_000 * USDT

    run(body(), 90)


def test_invalid_ranges_are_rejected_with_nothing_sent(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            wbtc, usdt = c.tokens["WBTC"], c.tokens["USDT"]
            await c.fund(wbtc, c.keys[1], WBTC)
            trader = trader_for(c, c.keys[1])
            pool = c.pools[("WBTC", "USDT", 3000)]
            (_, current, *_) = await c.evm.call(pool.address, SLOT0)
            below = current // 60 * 60
            sells_token0 = pool.token0.address == wbtc.address
            far = below + 600 if sells_token0 else below - 600  # a valid side for WBTC
            wrong = below - 600 if sells_token0 else below + 600
            sent = await nonce(c, trader.wallet.address)
            cases = [
                ((far + 7, far + 67), "multiple of the fee tier's tick spacing 60"),
                ((far + 60, far), "must be below tick_upper"),
                ((below, below + 60), f"current tick {current}"),  # straddles the price
                ((wrong, wrong + 60), f"current tick {current}"),  # the buyer's side
            ]
            for (lower, upper), message in cases:
                with pytest.raises(InvalidOrder, match=message):
                    await trader.place_range_order(wbtc.address, usdt.address, 3000, WBTC // 10, lower, upper)
            with pytest.raises(InvalidOrder, match="amount"):
                await trader.place_range_order(wbtc.address, usdt.address, 3000, 0)
            with pytest.raises(InvalidOrder, match="fee"):
                await trader.place_range_order(wbtc.address, usdt.address, 2500, WBTC // 10)
            assert await nonce(c, trader.wallet.address) == sent

    run(body(), 60)
