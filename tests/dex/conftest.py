"""The local chain for DEX tests: one anvil per test worker with Uniswap V3 and the standard
market deployed; each test gets the chain reverted to that state afterwards."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from crossbook.sim.chain import Anvil, Deployment, LocalChain, seed_market
from crossbook.sim.market import START_USD
from tests.conftest import run


async def _deploy(anvil: Anvil) -> Deployment:
    async with await LocalChain.deployed(anvil) as chain:
        await seed_market(chain, START_USD)
        await chain.deploy_limit_order_protocol()
        return chain.deployment


async def _snapshot(deployment: Deployment) -> str:
    async with LocalChain(deployment) as chain:
        return await chain.snapshot()


async def _revert(deployment: Deployment, snapshot: str) -> None:
    async with LocalChain(deployment) as chain:
        await chain.revert(snapshot)


@pytest.fixture(scope="session")
def market_chain() -> Iterator[Deployment]:
    with Anvil() as anvil:
        yield run(_deploy(anvil), 300)


@pytest.fixture
def chain(market_chain: Deployment) -> Iterator[Deployment]:
    """The standard market, as deployed; whatever the test does to it is undone afterwards."""
    snapshot = run(_snapshot(market_chain))
    yield copy.deepcopy(market_chain)
    run(_revert(market_chain, snapshot))
