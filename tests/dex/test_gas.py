"""Gas priced from the chain's fee history: the next block's base fee plus the median priority fee,
in the native coin and in the quote currency; eth_gasPrice only where there is no fee history."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from crossbook.sim.chain import ANVIL_PACKAGE, Deployment, LocalChain, _read_banner, node_modules
from crossbook.trading.pool_account import GasCost
from crossbook.venues.dex.chains import local_chain_config
from crossbook.venues.dex.evm import Evm
from crossbook.venues.dex.gas import FeeHistoryGas
from crossbook.venues.dex.uniswap_v3_exec import UniswapV3Trader
from tests.conftest import run

USDT = 10**6
ETH_PRICE = 3_000.0
UNITS = 150_000


async def eth_price() -> float:
    return ETH_PRICE


def median_by_hand(values: list[int]) -> int:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) // 2


def test_the_estimate_is_the_pending_base_fee_plus_the_median_priority_fee_and_a_swap_pays_about_that(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            config = local_chain_config(chain, key_index=1)
            await c.fund(c.tokens["USDT"], config.wallet_key, 50_000 * USDT)
            trader = UniswapV3Trader.from_config(config)
            try:
                swap = await trader.swap_exact_input_single(c.tokens["USDT"].address, c.tokens["WBTC"].address,
                                                            3000, 1_000 * USDT, 50, 120)
                assert swap.filled and swap.gas_used > 0
                gas = FeeHistoryGas(trader.wallet.evm, eth_price)
                estimate = await gas.price()

                w3 = trader.wallet.evm.w3
                history = await w3.eth.fee_history(10, "latest", [50.0])
                pending = await w3.eth.get_block("pending")
                tips = [int(block[0]) for block in history["reward"]]
                assert estimate.source == "fee_history"
                assert estimate.base_fee == int(pending["baseFeePerGas"]) == int(history["baseFeePerGas"][-1])
                assert estimate.priority_fee == median_by_hand(tips) > 0
                assert await gas.wei_per_gas() == estimate.base_fee + estimate.priority_fee

                paid_per_gas = swap.gas_cost_wei / swap.gas_used  # what the swap's receipt says it paid
                assert estimate.wei_per_gas / 10 < paid_per_gas < estimate.wei_per_gas * 10

                assert await gas.native(UNITS) == pytest.approx(UNITS * estimate.wei_per_gas / 1e18)
                assert await gas.cost(UNITS) == pytest.approx(UNITS * estimate.wei_per_gas / 1e18 * ETH_PRICE)
                cost = GasCost(trader.wallet, eth_price, UNITS)
                assert await cost.per_swap() == pytest.approx(await gas.cost(UNITS))
                assert await cost.for_units(2 * UNITS) == pytest.approx(2 * await gas.cost(UNITS))
            finally:
                await trader.evm.close()

    run(body(), 120)


@pytest.fixture
def berlin_node() -> Iterator[str]:
    """An anvil before London: no base fee, so its fee history is all zeros."""
    process = subprocess.Popen([str(node_modules() / ANVIL_PACKAGE), "--host", "127.0.0.1", "--port", "0", "--hardfork", "berlin"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        rpc_url, _ = _read_banner(process, timeout=30.0)
        yield rpc_url
    finally:
        process.terminate()
        process.wait(10)


def test_a_chain_without_fee_history_is_priced_at_eth_gas_price(berlin_node: str) -> None:
    async def body() -> None:
        evm = Evm(berlin_node)
        try:
            estimate = await FeeHistoryGas(evm, eth_price).price()
            gas_price = int(await evm.w3.eth.gas_price)
            assert gas_price > 0
            assert estimate.source == "gas_price" and estimate.wei_per_gas == gas_price and estimate.base_fee == 0
        finally:
            await evm.close()

    run(body(), 60)
