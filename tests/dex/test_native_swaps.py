"""The native coin on both routers, on the local chain: ether out (the router unwraps the WETH
bought in the same multicall) and exact output paid in ether (the unspent ether refunded in the
same multicall); amounts from the receipt, balances checked on chain."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crossbook.errors import InvalidOrder
from crossbook.sim.chain import Deployment, LocalChain
from crossbook.venues.dex.chains import RouterKind
from crossbook.venues.dex.evm import fn
from crossbook.venues.dex.uniswap_v3_exec import SwapResult, TraderAddresses, UniswapV3Trader
from tests.conftest import run

BALANCE = fn("balanceOf(address)", "uint256")
USDT = 10**6
WBTC = 10**8
ETHER = 10**18
ROUTERS: tuple[RouterKind, ...] = ("swap_router", "swap_router02")


def trader_for(c: LocalChain, key: str, kind: RouterKind, wrapped_native: str | None = "weth") -> UniswapV3Trader:
    addresses = TraderAddresses(c.addresses[kind], c.addresses["quoter_v2"], c.addresses["position_manager"])
    weth = c.addresses[wrapped_native] if wrapped_native else None
    return UniswapV3Trader(c.evm, c.wallet_for(key), addresses, kind, weth)


async def token_balance(c: LocalChain, symbol: str, owner: str) -> int:
    return int((await c.evm.call(c.tokens[symbol].address, BALANCE, owner))[0])


async def ether(c: LocalChain, owner: str) -> int:
    return int(await c.evm.w3.eth.get_balance(owner))  # type: ignore[arg-type]


async def holdings(c: LocalChain, owner: str) -> tuple[int, int, int]:
    """(ether, WETH, USDT) of ``owner``."""
    return await ether(c, owner), await token_balance(c, "WETH", owner), await token_balance(c, "USDT", owner)


async def nonce(c: LocalChain, address: str) -> int:
    return int(await c.evm.w3.eth.get_transaction_count(address))  # type: ignore[arg-type]


async def assert_router_holds_nothing(c: LocalChain, kind: RouterKind) -> None:
    router = c.addresses[kind]
    assert await ether(c, router) == 0
    assert await token_balance(c, "WETH", router) == 0


@pytest.mark.parametrize("kind", ROUTERS)
@pytest.mark.parametrize("hops", [("USDT", "WETH"), ("USDT", "WBTC", "WETH")])
def test_native_out_pays_the_wallet_ether(chain: Deployment, kind: RouterKind, hops: tuple[str, ...]) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            key = c.keys[1]
            await c.fund(c.tokens["USDT"], key, 10_000 * USDT, spenders=(kind,))
            trader = trader_for(c, key, kind)
            me = trader.wallet.address
            path, fees = [c.tokens[s].address for s in hops], [3000] * (len(hops) - 1)
            quote = await trader.quote_exact_input(path, fees, 6_000 * USDT)
            ether_before, weth_before, usdt_before = await holdings(c, me)

            result = await trader.swap_exact_input(path, fees, 6_000 * USDT, 50, 120, native_out=True)

            assert result.status == "filled"
            assert result.amount_out_minimum == quote.amount_out * 9950 // 10_000
            assert result.amount_out == quote.amount_out >= result.amount_out_minimum > 0
            assert 1.9 * ETHER < result.amount_out < 2.01 * ETHER  # 6,000 USD at ~3,000 USD per ether, less fees
            assert await ether(c, me) - ether_before == result.amount_out - result.gas_cost_wei
            assert await token_balance(c, "WETH", me) == weth_before
            assert usdt_before - await token_balance(c, "USDT", me) == result.amount_in == 6_000 * USDT
            await assert_router_holds_nothing(c, kind)

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
def test_native_out_to_another_recipient(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            await c.fund(c.tokens["USDT"], c.keys[2], 5_000 * USDT, spenders=(kind,))
            trader = trader_for(c, c.keys[2], kind)
            recipient = c.wallet_for(c.keys[3]).address
            before = await ether(c, recipient)

            result = await trader.swap_exact_input_single(c.tokens["USDT"].address, c.tokens["WETH"].address, 3000, 3_000 * USDT,
                                                          50, 120, recipient=recipient, native_out=True)

            assert result.filled and result.amount_out >= result.amount_out_minimum > 0
            assert await ether(c, recipient) - before == result.amount_out  # it paid no gas
            assert await token_balance(c, "WETH", recipient) == 0

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
@pytest.mark.parametrize("hops", [("WETH", "USDT"), ("WETH", "WBTC", "USDT")])
def test_exact_output_paid_in_ether_refunds_what_it_did_not_spend(chain: Deployment, kind: RouterKind, hops: tuple[str, ...]) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            trader = trader_for(c, c.keys[4], kind)
            me = trader.wallet.address
            path, fees = [c.tokens[s].address for s in hops], [3000] * (len(hops) - 1)
            quote = await trader.quote_exact_output(path, fees, 1_500 * USDT)
            ether_before, weth_before, usdt_before = await holdings(c, me)

            result: SwapResult = await trader.swap_exact_output(path, fees, 1_500 * USDT, 100, 120, use_native=True)

            assert result.status == "filled"
            assert await token_balance(c, "USDT", me) - usdt_before == result.amount_out == 1_500 * USDT
            assert result.amount_in_maximum == quote.amount_in * 10_100 // 10_000
            assert result.amount_in == quote.amount_in < result.amount_in_maximum
            # the whole maximum was sent; all but what the swap spent came back in the same transaction
            assert ether_before - await ether(c, me) == result.amount_in + result.gas_cost_wei
            assert await token_balance(c, "WETH", me) == weth_before
            await assert_router_holds_nothing(c, kind)

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
def test_exact_input_paid_in_ether(chain: Deployment, kind: RouterKind) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            trader = trader_for(c, c.keys[5], kind)
            me = trader.wallet.address
            ether_before, usdt_before = await ether(c, me), await token_balance(c, "USDT", me)

            result = await trader.swap_exact_input_single(c.tokens["WETH"].address, c.tokens["USDT"].address, 3000, ETHER // 2,
                                                          50, 120, use_native=True)

            assert result.filled and result.amount_in == ETHER // 2
            assert ether_before - await ether(c, me) == ETHER // 2 + result.gas_cost_wei
            assert await token_balance(c, "USDT", me) - usdt_before == result.amount_out >= result.amount_out_minimum > 0
            await assert_router_holds_nothing(c, kind)

    run(body(), 90)


@pytest.mark.parametrize("kind", ROUTERS)
@pytest.mark.parametrize("call, field", [
    ({"exact": "input", "hops": ("USDT", "WBTC"), "native_out": True}, "native_out needs the wrapped native token"),
    ({"exact": "input", "hops": ("WETH", "USDT"), "native_out": True}, "native_out needs the wrapped native token"),
    ({"exact": "output", "hops": ("USDT", "WETH"), "use_native": True}, "use_native needs the wrapped native token"),
    ({"exact": "input", "hops": ("USDT", "WETH"), "native_out": True, "weth": None}, "native_out needs the wrapped native token (None)"),
])
def test_native_ends_that_are_not_the_wrapped_token_send_nothing(chain: Deployment, kind: RouterKind, call: dict[str, Any],
                                                                 field: str) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            trader = trader_for(c, c.keys[1], kind, wrapped_native="weth" if call.get("weth", True) else None)
            path = [c.tokens[s].address for s in call["hops"]]
            native = {k: v for k, v in call.items() if k in ("native_out", "use_native")}
            sent, ether_before = await nonce(c, trader.wallet.address), await ether(c, trader.wallet.address)
            with pytest.raises(InvalidOrder, match=re.escape(field)):
                if call["exact"] == "input":
                    await trader.swap_exact_input(path, [3000], 1_000 * USDT, 50, 120, **native)
                else:
                    await trader.swap_exact_output(path, [3000], ETHER // 10, 50, 120, **native)
            assert await nonce(c, trader.wallet.address) == sent
            assert await ether(c, trader.wallet.address) == ether_before

    run(body(), 60)
