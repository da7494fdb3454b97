"""The local chain itself: the contracts are the published ones and the market is seeded."""

from __future__ import annotations

from crossbook.sim.chain import MARKET_POOLS, NO_V2_FACTORY, Anvil, Deployment, LocalChain
from crossbook.venues.dex.evm import fn
from tests.conftest import run

QUOTE = fn("quoteExactInputSingle((address,address,uint256,uint24,uint160))", "uint256,uint160,uint32,uint256")
POOL_INIT_CODE_HASH = "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"


def test_market_pools_quote_near_the_seeded_price(chain: Deployment) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            assert {(b, q, f) for b, q, f, _ in MARKET_POOLS} <= set(c.pools)
            wbtc, usdt = c.tokens["WBTC"], c.tokens["USDT"]
            for fee in (500, 3000, 10000):
                out, _, _, _ = await c.evm.call(c.addresses["quoter_v2"], QUOTE, (wbtc.address, usdt.address, 10**6, fee, 0))
                price = out / 1e6 / 0.01
                assert 59_000 < price * (1 + fee / 1e6) < 60_100, (fee, price)

    run(body(), 60)


def test_pool_init_code_hash_is_uniswaps(chain: Deployment) -> None:
    """The periphery computes pool addresses from the core's init code hash: a pool found through
    the factory must sit at the address the published hash gives."""
    from eth_abi import encode
    from eth_utils import keccak, to_checksum_address

    async def body() -> None:
        async with LocalChain(chain) as c:
            pool = c.pools[("WBTC", "USDT", 3000)]
            salt = keccak(encode(["address", "address", "uint24"], [pool.token0.address, pool.token1.address, 3000]))
            raw = keccak(b"\xff" + bytes.fromhex(c.addresses["factory"][2:]) + salt + bytes.fromhex(POOL_INIT_CODE_HASH))
            assert to_checksum_address(raw[12:]) == pool.address

    run(body(), 60)


def test_swap_router02_is_deployed_over_the_v3_contracts(chain: Deployment) -> None:
    """SwapRouter02 from Uniswap's published artifact, wired to this chain's V3 factory, position
    manager and WETH; its V2 factory is a placeholder (no V2 pools exist here)."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            router = c.addresses["swap_router02"]
            assert await c.evm.w3.eth.get_code(router)  # type: ignore[arg-type]
            wired = {name: (await c.evm.call(router, fn(f"{name}()", "address")))[0]
                     for name in ("factory", "factoryV2", "positionManager", "WETH9")}
            assert wired == {"factory": c.addresses["factory"].lower(), "factoryV2": NO_V2_FACTORY,
                             "positionManager": c.addresses["position_manager"].lower(), "WETH9": c.addresses["weth"].lower()}

    run(body(), 60)


def test_the_deployment_reports_the_chain_id_anvil_runs_with() -> None:
    async def deployed(anvil: Anvil) -> int:
        async with await LocalChain.deployed(anvil) as c:
            assert c.chain_id == await c.evm.chain_id()
            return c.deployment.chain_id

    with Anvil(chain_id=42161) as anvil:
        assert anvil.chain_id == 42161
        assert run(deployed(anvil), 120) == 42161
