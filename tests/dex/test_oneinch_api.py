"""The 1inch Aggregation API v6 client against the simulated API over the local chain: quotes are
the best local route, swaps really swap, approvals, and the API's refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from crossbook.errors import InvalidOrder, RateLimited, VenueRefused
from crossbook.sim.chain import MAX_UINT, Deployment, LocalChain, Token
from crossbook.sim.venues.oneinch import OneInchSim
from crossbook.venues.dex.evm import GasPolicy, Wallet, encode_path, fn
from crossbook.venues.dex.oneinch import BALANCE_OF, OneInchClient, execute_swap
from tests.conftest import run

QUOTE_SINGLE = fn("quoteExactInputSingle((address,address,uint256,uint24,uint160))", "uint256,uint160,uint32,uint256")
QUOTE_PATH = fn("quoteExactInput(bytes,uint256)", "uint256,uint160[],uint32[],uint256")
ALLOWANCE = fn("allowance(address,address)", "uint256")
EXACT_INPUT_SINGLE = fn("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "uint256")

Body = Callable[[LocalChain, OneInchSim, OneInchClient], Awaitable[None]]


def with_api(chain: Deployment, body: Body, plan: str = "business", client_plan: str = "business",
             prepare: Callable[[LocalChain], Awaitable[None]] | None = None) -> None:
    async def main() -> None:
        async with LocalChain(chain) as c:
            if prepare is not None:
                await prepare(c)
            async with (
                OneInchSim(chain, plan=plan) as sim,
                OneInchClient(sim.base_url, sim.issue_key(), chain.chain_id, plan=client_plan) as client,
            ):
                await body(c, sim, client)

    run(main(), 120)


async def direct_quotes(c: LocalChain, src: Token, dst: Token, amount: int) -> dict[str, int]:
    """QuoterV2 over every pool between the tokens and every two-hop path through WETH."""
    quoter, weth = c.addresses["quoter_v2"], c.tokens["WETH"]
    quotes: dict[str, int] = {}
    for fee in (500, 3000, 10000):
        if (src.symbol, dst.symbol, fee) in c.pools or (dst.symbol, src.symbol, fee) in c.pools:
            out, *_ = await c.evm.call(quoter, QUOTE_SINGLE, (src.address, dst.address, amount, fee, 0))
            quotes[f"direct {fee}"] = out
    for first in (500, 3000, 10000):
        for second in (500, 3000, 10000):
            legs = ((src, weth, first), (weth, dst, second))
            if all((a.symbol, b.symbol, f) in c.pools or (b.symbol, a.symbol, f) in c.pools for a, b, f in legs):
                path = encode_path([src.address, weth.address, dst.address], [first, second])
                out, *_ = await c.evm.call(quoter, QUOTE_PATH, path, amount)
                quotes[f"via WETH {first}/{second}"] = out
    return quotes


async def balance(c: LocalChain, token: Token, owner: str) -> int:
    (raw,) = await c.evm.call(token.address, BALANCE_OF, owner)
    return int(raw)


def test_quote_is_the_best_local_route(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        wbtc, usdt = c.tokens["WBTC"], c.tokens["USDT"]
        for amount in (10**6, 5 * 10**8):  # 0.01 and 5 WBTC: the best fee tier differs with size
            quotes = await direct_quotes(c, wbtc, usdt, amount)
            assert len(quotes) == 4  # three fee tiers and WBTC -> WETH -> USDT
            quote = await client.quote(wbtc.address, usdt.address, amount, includeGas=True, includeProtocols=True)
            assert quote.dst_amount == max(quotes.values()), quotes
            assert quote.gas and quote.gas > 60_000
            assert quote.protocols[0][0][0]["fromTokenAddress"] == wbtc.address

    with_api(chain, body)


async def _pool_only_through_weth(c: LocalChain) -> None:
    """LINK, traded only against WETH: any LINK -> USDT route runs through WETH."""
    link = await c.deploy_token("LINK", 18)
    await c.seed_pool(link, c.tokens["WETH"], 3000, 0.01, 100.0, positions=6)


def test_swap_executes_and_balances_move_by_the_reported_amounts(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        trader = c.wallet_for(c.keys[3])
        cases = ((c.tokens["WBTC"], c.tokens["USDT"], 10**7), (c.tokens["LINK"], c.tokens["USDT"], 5 * 10**18))
        for src, dst, amount in cases:
            await c.fund(src, c.keys[3], 2 * amount)  # not approved to the router: execute_swap approves
            quote = await client.quote(src.address, dst.address, amount, includeProtocols=True)
            hops = len(quote.protocols[0])
            before = (await balance(c, src, trader.address), await balance(c, dst, trader.address))
            result = await execute_swap(client, trader, src.address, dst.address, amount, slippage=1.0)
            after = (await balance(c, src, trader.address), await balance(c, dst, trader.address))
            assert result.status == "filled", result.reason
            assert result.amount_in == amount and result.amount_out >= quote.dst_amount * 99 // 100
            assert result.amount_out == quote.dst_amount  # nothing traded in between
            assert after == (before[0] - result.amount_in, before[1] + result.amount_out)
            assert result.gas_used > 0 and result.gas_cost_wei > 0
            assert await client.allowance(src.address, trader.address) == MAX_UINT  # unlimited stays unlimited
            assert hops == (1 if src.symbol == "WBTC" else 2)

    with_api(chain, body, prepare=_pool_only_through_weth)


def test_front_run_swap_reverts_and_is_reported_reverted(chain: Deployment) -> None:
    """With no slippage allowed, a trade mined just before the swap moves the price: the router's
    minimum makes the swap revert, and execute_swap reports that instead of a fill."""
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        wbtc, usdt, router = c.tokens["WBTC"], c.tokens["USDT"], c.addresses["swap_router"]
        victim = c.wallet_for(c.keys[3])
        front_runner = Wallet(c.evm, c.keys[6], gas=GasPolicy(tip_gwei=5.0))  # outbids the victim's tip
        await c.fund(wbtc, c.keys[3], 10**6, spenders=("swap_router",))
        await c.fund(wbtc, c.keys[6], 3 * 10**6, spenders=("swap_router",))
        before = await balance(c, wbtc, victim.address)
        await c.evm.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        try:
            swap = asyncio.create_task(execute_swap(client, victim, wbtc.address, usdt.address, 10**6, slippage=0.0))
            for _ in range(200):
                status = (await c.evm.w3.provider.make_request("txpool_status", []))["result"]  # type: ignore[arg-type]
                if int(status["pending"], 16) == 1:
                    break
                await asyncio.sleep(0.02)
            deadline = await c.evm.timestamp() + 600
            for fee in (500, 3000, 10000):
                params = (wbtc.address, usdt.address, fee, front_runner.address, deadline, 10**6, 0, 0)
                await front_runner.send(router, EXACT_INPUT_SINGLE.encode(params), gas=300_000, wait=False)
            await c.evm.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            result = await asyncio.wait_for(swap, 30)
        finally:
            await c.evm.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        # evm.Wallet replays a revert on the block before, where the front-run had not happened,
        # so the router's own reason ("Too little received") is not recoverable here
        assert result.status == "reverted" and "reverted" in result.reason
        assert (result.amount_in, result.amount_out) == (0, 0) and result.gas_used > 0
        assert await balance(c, wbtc, victim.address) == before

    with_api(chain, body)


def test_approve_flow(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        trader, usdt = c.wallet_for(c.keys[4]), c.tokens["USDT"]
        spender = await client.approve_spender()
        assert spender == c.addresses["swap_router"]
        assert await client.allowance(usdt.address, trader.address) == 0
        approval = await client.approve_transaction(usdt.address)
        assert approval["to"] == usdt.address
        await trader.send(approval["to"], approval["data"], value=approval["value"])
        assert await client.allowance(usdt.address, trader.address) == MAX_UINT
        (on_chain,) = await c.evm.call(usdt.address, ALLOWANCE, trader.address, spender)
        assert on_chain == MAX_UINT
        limited = await client.approve_transaction(usdt.address, amount=1234)
        await trader.send(limited["to"], limited["data"])
        assert await client.allowance(usdt.address, trader.address) == 1234
        assert [p["id"] for p in await client.liquidity_sources()] == ["UNISWAP_V3"]

    with_api(chain, body)


def test_bad_key_is_refused_without_the_key_in_the_error(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        wrong = "f00d" * 8
        async with OneInchClient(sim.base_url, wrong, chain.chain_id) as stranger:
            with pytest.raises(VenueRefused) as refused:
                await stranger.quote(c.tokens["WBTC"].address, c.tokens["USDT"].address, 10**6)
        message = str(refused.value)
        assert "GET /swap/v6.0/31337/quote" in message and "HTTP 401" in message and "API key" in message
        assert wrong not in message and wrong not in repr(stranger)

    with_api(chain, body)


def test_rate_limit_breach_raises_rate_limited_with_retry_after(chain: Deployment) -> None:
    """A client that believes in a bigger plan than its key has gets 429 from the API."""
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        with pytest.raises(RateLimited) as limited:
            for _ in range(4):  # at 1 request per second, some of 4 quick requests must be refused
                await client.approve_spender()
        assert limited.value.retry_after is not None and limited.value.retry_after >= 1
        assert "HTTP 429" in str(limited.value) and sim.rate_limited == 1

    with_api(chain, body, plan="developer", client_plan="business")


def test_clients_own_limiter_keeps_under_the_plan(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        for _ in range(3):
            await client.approve_spender()
        assert sim.rate_limited == 0

    with_api(chain, body, plan="developer", client_plan="developer")


def test_bad_parameters_are_named(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, client: OneInchClient) -> None:
        wbtc, usdt = c.tokens["WBTC"].address, c.tokens["USDT"].address
        with pytest.raises(InvalidOrder, match=r"src is not a token.*\[src=0x1234\].*HTTP 400"):
            await client.quote("0x1234", usdt, 10**6)
        with pytest.raises(InvalidOrder, match=r"from must be an address"):
            await client.swap(wbtc, usdt, 10**6, "nobody", 1.0)
        trader = c.wallet_for(c.keys[5])
        await c.fund(c.tokens["WBTC"], c.keys[5], 10**6)
        with pytest.raises(InvalidOrder, match=r"allowance"):  # the sender never approved the router
            await client.swap(wbtc, usdt, 10**6, trader.address, 1.0)
        with pytest.raises(InvalidOrder, match=r"balance"):
            await client.swap(wbtc, usdt, 2 * 10**6, trader.address, 1.0)
        with pytest.raises(InvalidOrder, match="amount"):
            await client.quote(wbtc, usdt, 0)
        with pytest.raises(InvalidOrder, match="slippage"):
            await client.swap(wbtc, usdt, 10**6, c.wallet.address, 60)
        with pytest.raises(InvalidOrder, match=r"chainId"):
            async with OneInchClient(sim.base_url, next(iter(sim.api_keys)), 1, plan="business") as mainnet:
                await mainnet.approve_spender()

    with_api(chain, body)
