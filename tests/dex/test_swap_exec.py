"""Swaps through the real SwapRouter and SwapRouter02 on the local chain: bounds honoured, amounts
taken from the receipt, and a swap that reverts or expires never reported as filled."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from eth_abi import decode as abi_decode

from crossbook.errors import InvalidOrder
from crossbook.sim.chain import Deployment, LocalChain
from crossbook.venues.dex.chains import RouterKind
from crossbook.venues.dex.evm import GasPolicy, Wallet, fn
from crossbook.venues.dex.uniswap_v3_exec import (
    EXACT_INPUT_02,
    EXACT_INPUT_SINGLE_02,
    MULTICALL_WITH_DEADLINE,
    SwapResult,
    TraderAddresses,
    UniswapV3Trader,
)
from tests.conftest import run

BALANCE = fn("balanceOf(address)", "uint256")
ALLOWANCE = fn("allowance(address,address)", "uint256")
USDT = 10**6
WBTC = 10**8
ROUTERS: tuple[RouterKind, ...] = ("swap_router", "swap_router02")


def trader_for(c: LocalChain, key: str, unlimited: bool = False, wallet: Wallet | None = None,
               kind: RouterKind = "swap_router") -> UniswapV3Trader:
    addresses = TraderAddresses(c.addresses[kind], c.addresses["quoter_v2"], c.addresses["position_manager"])
    return UniswapV3Trader(c.evm, wallet or c.wallet_for(key), addresses, kind, c.addresses["weth"], unlimited)


async def balances(c: LocalChain, owner: str, *symbols: str) -> list[int]:
    return [(await c.evm.call(c.tokens[s].address, BALANCE, owner))[0] for s in symbols]


async def nonce(c: LocalChain, address: str) -> int:
    return int(await c.evm.w3.eth.get_transaction_count(address))  # type: ignore[arg-type]


async def rpc(c: LocalChain, method: str, *params: Any) -> Any:
    return (await c.evm.w3.provider.make_request(method, list(params)))["result"]  # type: ignore[arg-type]


async def until_pending(c: LocalChain, count: int) -> None:
    """Wait (bounded) until ``count`` transactions sit in anvil's pool with mining paused."""
    for _ in range(200):
        if int((await rpc(c, "txpool_status"))["pending"], 16) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} transactions never reached the pool")


@pytest.mark.parametrize("kind", ROUTERS)
def test_exact_input_receives_at_least_the_minimum_and_what_the_receipt_says(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            key = c.keys[1]
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, key, 50_000 * USDT)
            trader = trader_for(c, key, kind=kind)
            quote = await trader.quote_exact_input([usdt.address, wbtc.address], [3000], 20_000 * USDT)
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")

            result = await trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 20_000 * USDT, 50, 120)

            after = await balances(c, trader.wallet.address, "USDT", "WBTC")
            assert result.status == "filled" and result.filled
            assert result.amount_out_minimum == quote.amount_out * 9950 // 10_000
            assert result.amount_out >= result.amount_out_minimum > 0
            assert result.amount_out == quote.amount_out  # nothing moved between quote and swap
            assert after[1] - before[1] == result.amount_out
            assert before[0] - after[0] == result.amount_in == 20_000 * USDT
            assert result.gas_used > 0 and result.gas_cost_wei > 0 and result.tx_hash
            (left,) = await c.evm.call(usdt.address, ALLOWANCE, trader.wallet.address, c.addresses[kind])
            assert left == 0  # approved for exactly this swap

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
def test_exact_output_spends_at_most_the_maximum(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            key = c.keys[1]
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, key, 50_000 * USDT)
            trader = trader_for(c, key, kind=kind)
            quote = await trader.quote_exact_output([usdt.address, wbtc.address], [500], WBTC // 10)
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")

            result = await trader.swap_exact_output_single(usdt.address, wbtc.address, 500, WBTC // 10, 30, 120)

            after = await balances(c, trader.wallet.address, "USDT", "WBTC")
            assert result.status == "filled"
            assert result.amount_in_maximum == quote.amount_in * 10_030 // 10_000
            assert result.amount_in <= result.amount_in_maximum
            assert result.amount_in == quote.amount_in
            assert result.amount_out == WBTC // 10 == after[1] - before[1]
            assert before[0] - after[0] == result.amount_in
            assert 5_500 * USDT < result.amount_in < 6_500 * USDT  # ~ 60k USD per BTC

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
def test_multi_hop_wbtc_weth_usdt(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            key = c.keys[2]
            wbtc, weth, usdt = c.tokens["WBTC"], c.tokens["WETH"], c.tokens["USDT"]
            await c.fund(wbtc, key, WBTC)
            trader = trader_for(c, key, kind=kind)
            path = [wbtc.address, weth.address, usdt.address]
            quote = await trader.quote_exact_input(path, [3000, 3000], WBTC // 10)
            before = await balances(c, trader.wallet.address, "WBTC", "WETH", "USDT")

            sold = await trader.swap_exact_input(path, [3000, 3000], WBTC // 10, 100, 120)
            bought = await trader.swap_exact_output(path, [3000, 3000], 1_000 * USDT, 100, 120)

            after = await balances(c, trader.wallet.address, "WBTC", "WETH", "USDT")
            assert sold.status == bought.status == "filled"
            assert len(quote.sqrt_prices_after) == 2
            assert sold.amount_out == quote.amount_out >= sold.amount_out_minimum
            assert 5_800 * USDT < sold.amount_out < 6_100 * USDT  # two 0.3% hops at ~60k
            assert bought.amount_out == 1_000 * USDT and bought.amount_in <= bought.amount_in_maximum
            assert after[2] - before[2] == sold.amount_out + bought.amount_out
            assert before[0] - after[0] == sold.amount_in + bought.amount_in
            assert after[1] == before[1]  # WETH only passed through the router

    run(body(), 90)


def test_price_moved_past_tolerance_in_the_same_block_reverts_and_is_not_filled(chain: Deployment) -> None:
    """The quote is taken, then a large swap lands first in the same block: the trader's swap,
    bound by the stale quote and 10 bps, reverts on chain and is reported as such."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[1], 20_000 * USDT)
            await c.fund(usdt, c.keys[2], 2_000_000 * USDT)
            trader = trader_for(c, c.keys[1])
            # the mover pays a higher tip so the block puts it first whatever the pool's ordering
            mover = trader_for(c, c.keys[2], wallet=Wallet(c.evm, c.keys[2], GasPolicy(tip_gwei=5.0)))
            await trader.ensure_allowance(usdt.address, c.addresses["swap_router"], 20_000 * USDT)
            await mover.ensure_allowance(usdt.address, c.addresses["swap_router"], 2_000_000 * USDT)
            quote = await trader.quote_exact_input([usdt.address, wbtc.address], [3000], 20_000 * USDT)
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")
            ether_before = await trader.wallet.balance()

            await rpc(c, "evm_setAutomine", False)
            try:
                moving = asyncio.create_task(mover.swap_exact_input_single(usdt.address, wbtc.address, 3000, 1_000_000 * USDT, 5000, 120))
                await until_pending(c, 1)
                swapping = asyncio.create_task(trader.swap_exact_input_single(
                    usdt.address, wbtc.address, 3000, 20_000 * USDT, 10, 120, expected_out=quote.amount_out))
                await until_pending(c, 2)
                await rpc(c, "evm_mine")
                moved, result = await asyncio.gather(moving, swapping)
            finally:
                await rpc(c, "evm_setAutomine", True)

            assert moved.status == "filled"
            assert result.status == "reverted" and not result.filled
            assert (result.amount_in, result.amount_out) == (0, 0)
            assert result.tx_hash is not None and result.gas_used > 0  # it was mined, and reverted
            assert "Too little received" in result.reason
            assert await balances(c, trader.wallet.address, "USDT", "WBTC") == before
            assert ether_before - await trader.wallet.balance() == result.gas_cost_wei

    run(body(), 90)


def test_price_already_moved_past_tolerance_sends_nothing(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[1], 20_000 * USDT, spenders=("swap_router",))
            await c.fund(usdt, c.keys[2], 2_000_000 * USDT)
            trader, mover = trader_for(c, c.keys[1]), trader_for(c, c.keys[2])
            quote = await trader.quote_exact_input([usdt.address, wbtc.address], [3000], 20_000 * USDT)
            assert (await mover.swap_exact_input_single(usdt.address, wbtc.address, 3000, 1_000_000 * USDT, 5000, 120)).filled
            sent = await nonce(c, trader.wallet.address)

            result = await trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 20_000 * USDT, 10, 120,
                                                          expected_out=quote.amount_out)

            assert result.status == "reverted" and (result.amount_in, result.amount_out) == (0, 0)
            assert result.tx_hash is None and result.gas_used == 0
            assert "Too little received" in result.reason
            assert await nonce(c, trader.wallet.address) == sent

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
def test_mined_after_its_deadline_is_expired_not_filled(chain: Deployment, kind: RouterKind) -> None:
    """SwapRouter checks the deadline in the swap, SwapRouter02 in multicall(deadline, ...): both
    revert "Transaction too old" when the block is late."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[1], 20_000 * USDT, spenders=(kind,))
            trader = trader_for(c, c.keys[1], kind=kind)
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")
            await rpc(c, "evm_setAutomine", False)
            try:
                swapping = asyncio.create_task(trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 20_000 * USDT, 50, 30))
                await until_pending(c, 1)
                await c.advance(120)  # the block that includes it is two minutes late
                result = await swapping
            finally:
                await rpc(c, "evm_setAutomine", True)

            assert result.status == "expired" and not result.filled
            assert (result.amount_in, result.amount_out) == (0, 0) and result.gas_used > 0
            assert "Transaction too old" in result.reason
            assert await balances(c, trader.wallet.address, "USDT", "WBTC") == before

    run(body(), 90)


def test_never_mined_by_its_deadline_is_expired(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[1], 20_000 * USDT, spenders=("swap_router",))
            trader = trader_for(c, c.keys[1])
            sent = await nonce(c, trader.wallet.address)
            await rpc(c, "evm_setAutomine", False)
            try:
                swapping = asyncio.create_task(trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 20_000 * USDT, 50, 30))
                await until_pending(c, 1)
                await rpc(c, "anvil_dropAllTransactions")
                await c.advance(120)
                result = await swapping
            finally:
                await rpc(c, "evm_setAutomine", True)

            assert result.status == "expired" and result.tx_hash is not None
            assert (result.amount_in, result.amount_out, result.gas_used) == (0, 0, 0)
            assert await nonce(c, trader.wallet.address) == sent
            # the wallet gave the unmined nonce back: the next swap goes through
            assert (await trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 1_000 * USDT, 50, 120)).filled

    run(body(), 90)


def test_concurrent_swaps_from_one_wallet_all_mine(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[3], 40_000 * USDT)
            trader = trader_for(c, c.keys[3])  # exact approvals: in-flight swaps reserve theirs
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")

            results: list[SwapResult] = await asyncio.gather(*(
                trader.swap_exact_input_single(usdt.address, wbtc.address, fee, 5_000 * USDT, 100, 120)
                for fee in (500, 3000, 10000, 3000)
            ))

            after = await balances(c, trader.wallet.address, "USDT", "WBTC")
            assert [r.status for r in results] == ["filled"] * 4
            assert len({r.tx_hash for r in results}) == 4
            assert before[0] - after[0] == 20_000 * USDT
            assert after[1] - before[1] == sum(r.amount_out for r in results)

    run(body(), 90)


def test_allowance_is_approved_once_then_reused(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt, wbtc = c.tokens["USDT"], c.tokens["WBTC"]
            await c.fund(usdt, c.keys[4], 20_000 * USDT)
            trader = trader_for(c, c.keys[4], unlimited=True)
            address = trader.wallet.address
            first_nonce = await nonce(c, address)
            assert (await trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 5_000 * USDT, 50, 120)).filled
            second_nonce = await nonce(c, address)
            assert (await trader.swap_exact_input_single(usdt.address, wbtc.address, 3000, 5_000 * USDT, 50, 120)).filled
            assert second_nonce - first_nonce == 2  # approve + swap
            assert await nonce(c, address) - second_nonce == 1  # swap only
            assert not await trader.ensure_allowance(usdt.address, c.addresses["swap_router"], 10_000 * USDT)

    run(body(), 90)


def test_short_allowance_is_reset_to_zero_before_the_new_approval(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            usdt = c.tokens["USDT"]
            trader = trader_for(c, c.keys[5])
            router = c.addresses["swap_router"]
            assert await trader.ensure_allowance(usdt.address, router, 100)
            sent = await nonce(c, trader.wallet.address)
            assert await trader.ensure_allowance(usdt.address, router, 500)
            assert await nonce(c, trader.wallet.address) - sent == 2  # approve(0), approve(500)
            assert (await c.evm.call(usdt.address, ALLOWANCE, trader.wallet.address, router))[0] == 500

    run(body(), 60)


@pytest.mark.parametrize("kind", ROUTERS)
def test_native_ether_in_is_wrapped_by_the_router(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            weth, usdt = c.tokens["WETH"], c.tokens["USDT"]
            trader = trader_for(c, c.keys[6], kind=kind)
            ether_before = await trader.wallet.balance()
            (usdt_before,) = await balances(c, trader.wallet.address, "USDT")

            result = await trader.swap_exact_input_single(weth.address, usdt.address, 3000, 10**18, 50, 120, use_native=True)

            assert result.filled and result.amount_in == 10**18
            assert ether_before - await trader.wallet.balance() == 10**18 + result.gas_cost_wei
            assert (await balances(c, trader.wallet.address, "USDT"))[0] - usdt_before == result.amount_out >= result.amount_out_minimum

    run(body(), 60)


@pytest.mark.parametrize("change, field", [
    ({"amount_in": 0}, "amount_in"),
    ({"slippage_bps": 5001}, "slippage_bps"),
    ({"slippage_bps": -1}, "slippage_bps"),
    ({"deadline_seconds": 0}, "deadline_seconds"),
    ({"fee": 123}, "fee"),
    ({"token_out": "0x" + "12" * 20}, "unknown token"),
    ({"token_out": "not-an-address"}, "tokens[1]"),
    ({"recipient": "0x1234"}, "recipient"),
])
def test_bad_input_sends_nothing(chain: Deployment, change: dict[str, Any], field: str) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            trader = trader_for(c, c.keys[1])
            args: dict[str, Any] = {"token_in": c.tokens["USDT"].address, "token_out": c.tokens["WBTC"].address, "fee": 3000,
                                    "amount_in": 1_000 * USDT, "slippage_bps": 50, "deadline_seconds": 60} | change
            sent = await nonce(c, trader.wallet.address)
            with pytest.raises(InvalidOrder, match=re.escape(field)):
                await trader.swap_exact_input_single(**args)
            assert await nonce(c, trader.wallet.address) == sent

    run(body(), 60)


@pytest.mark.parametrize("hops", [("USDT", "WBTC"), ("USDT", "WETH", "WBTC")])
def test_swap_router02_swaps_through_multicall_with_the_deadline(chain: Deployment, hops: tuple[str, ...]) -> None:
    """SwapRouter02 (BNB Chain, Avalanche) has no deadline in the swap struct: the transaction
    mined is multicall(deadline, [exactInput(Single) without deadline]), and it fills."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            await c.fund(c.tokens["USDT"], c.keys[1], 20_000 * USDT, spenders=("swap_router02",))
            trader = trader_for(c, c.keys[1], kind="swap_router02")
            path, fees = [c.tokens[s].address for s in hops], [500] if len(hops) == 2 else [3000, 3000]
            quote = await trader.quote_exact_input(path, fees, 12_000 * USDT)
            before = await balances(c, trader.wallet.address, "USDT", "WBTC")

            result = await trader.swap_exact_input(path, fees, 12_000 * USDT, 50, 120)

            assert result.filled and result.amount_out == quote.amount_out >= result.amount_out_minimum
            assert 0.19 * WBTC < result.amount_out < 0.201 * WBTC  # 12,000 USDT at ~60,000 USD per bitcoin, less fees
            after = await balances(c, trader.wallet.address, "USDT", "WBTC")
            assert (before[0] - after[0], after[1] - before[1]) == (result.amount_in, result.amount_out)
            sent = await c.evm.w3.eth.get_transaction(result.tx_hash)  # type: ignore[arg-type]
            assert sent["to"] == c.addresses["swap_router02"]
            data = bytes(sent["input"])
            assert data[:4] == MULTICALL_WITH_DEADLINE.selector
            deadline, calls = abi_decode(["uint256", "bytes[]"], data[4:])
            assert deadline == result.deadline and len(calls) == 1
            if len(hops) == 2:
                assert calls[0][:4] == EXACT_INPUT_SINGLE_02.selector
                (params,) = abi_decode(["(address,address,uint24,address,uint256,uint256,uint160)"], calls[0][4:])
                assert params[2:] == (500, trader.wallet.address.lower(), 12_000 * USDT, result.amount_out_minimum, 0)
            else:
                assert calls[0][:4] == EXACT_INPUT_02.selector
                (params,) = abi_decode(["(bytes,address,uint256,uint256)"], calls[0][4:])
                assert params[1:] == (trader.wallet.address.lower(), 12_000 * USDT, result.amount_out_minimum)

    run(body(), 90)
