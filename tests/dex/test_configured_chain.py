"""A configured chain's Uniswap V3 pools as venues of a configured desk: a local anvil that answers
Ethereum's chain id (1), the standard market deployed on it, and a crossbook.toml whose
``[chains.ethereum]`` points at it (addresses and tokens overridden with the deployment's). The
desk quotes and routes through those pools exactly as ``--sim --dex`` does through the local ones.
BNB Chain (56) has only SwapRouter02: there the desk's swaps go through its
``multicall(deadline, [swap])``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from eth_abi import decode as abi_decode
from typer.testing import CliRunner

from crossbook import Desk
from crossbook.book import QuoteStatus
from crossbook.cli import app
from crossbook.errors import ConfigError
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.routing.executor import Outcome
from crossbook.sim.chain import Anvil, Deployment, LocalChain, seed_market
from crossbook.sim.market import START_USD
from crossbook.sim.venues.oneinch.api import OneInchSim
from crossbook.trading.oneinch_account import OneInchAccount
from crossbook.trading.pool_account import PoolAccount
from crossbook.venues.dex import dex_family
from crossbook.venues.dex.evm import Evm
from crossbook.venues.dex.uniswap_v3 import SWAP_TOPIC
from crossbook.venues.dex.uniswap_v3_exec import MULTICALL_WITH_DEADLINE

from ..conftest import run

SYMBOL = "BTC-USDT"
KEY_ENV = "CROSSBOOK_TEST_ETHEREUM_KEY"
ONEINCH_KEY_ENV = "CROSSBOOK_TEST_ONEINCH_KEY"
TRADER = 1  # anvil's dev key index the desk trades with
POOLS = {"uniswap_v3_ethereum_500", "uniswap_v3_ethereum_3000", "uniswap_v3_ethereum_10000"}
BSC_POOLS = {"uniswap_v3_bsc_500", "uniswap_v3_bsc_3000", "uniswap_v3_bsc_10000"}
# the chain's BTC 2 % below the exchanges', so a buy is cheapest on the pools
CHEAP_BTC = {**START_USD, "BTC": START_USD["BTC"] * 0.98}


async def _deploy(anvil: Anvil) -> Deployment:
    async with await LocalChain.deployed(anvil) as chain:
        await seed_market(chain, CHEAP_BTC)
        usdt = chain.tokens["USDT"]
        await chain.fund(usdt, chain.keys[TRADER], usdt.raw(1_000_000))
        return chain.deployment


@pytest.fixture(scope="module")
def mainnet_like() -> Iterator[Deployment]:
    """The standard market on an anvil answering chain id 1, the trader funded with USDT."""
    with Anvil(chain_id=1) as anvil:
        yield run(_deploy(anvil), 300)


@pytest.fixture(scope="module")
def bnb_like() -> Iterator[Deployment]:
    """The standard market on an anvil answering BNB Chain's id (56), the trader funded with USDT."""
    with Anvil(chain_id=56) as anvil:
        yield run(_deploy(anvil), 300)


def chain_tables(deployment: Deployment, chain: str = "ethereum", router: str = "swap_router",
                 native: tuple[tuple[str, str], ...] = ()) -> str:
    """``[chains.<chain>]`` on the deployment: its ``router`` and other contracts, its tokens, and
    ``native`` (asset, local token) pairs, such as BNB priced as the local WETH for gas."""
    addresses = "\n".join(f'{name} = "{deployment.addresses[name]}"'
                          for name in ("factory", router, "quoter_v2", "position_manager", "tick_lens"))
    tokens = "\n".join(f'{asset} = {{ address = "{deployment.tokens[symbol].address}", decimals = {deployment.tokens[symbol].decimals} }}'
                       for asset, symbol in (("BTC", "WBTC"), ("USDT", "USDT"), ("ETH", "WETH"), *native))
    return (f'\n[chains.{chain}]\nrpc_url = "{deployment.rpc_url}"\nwallet_key_env = "{KEY_ENV}"\n'
            f"[chains.{chain}.addresses]\n{addresses}\n[chains.{chain}.tokens]\n{tokens}\n")


async def swapped(evm: Evm, account: PoolAccount, tx_hash: str) -> tuple[int, int]:
    """(base, quote) raw amounts the pool's Swap event in the transaction's receipt moved."""
    receipt = await evm.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    for log in receipt["logs"]:
        if log["address"] == account.pool and bytes(log["topics"][0]) == SWAP_TOPIC:
            amount0, amount1 = abi_decode(["int256", "int256"], bytes(log["data"])[:64])
            base, quote = (amount0, amount1) if account.market.base_is_token0 else (amount1, amount0)
            return abs(base), abs(quote)
    raise AssertionError(f"no Swap of {account.pool} in {tx_hash}")


def test_a_configured_chain_s_pools_are_quoted_with_gas_and_routed_through(
        mainnet_like: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, mainnet_like.keys[TRADER])

    async def body() -> None:
        async with Desk.sim(["binance"], symbols=[SYMBOL]) as simulated:
            assert simulated.simulator is not None
            config = simulated.write_config(tmp_path / "crossbook.toml")
            config.write_text(config.read_text() + chain_tables(mainnet_like))
            # the commands: the pools beside the exchange, gas in their all-in price, the wallet paying
            quoted = await asyncio.to_thread(CliRunner().invoke, app, ["quote", SYMBOL, "buy", "1", "--config", str(config), "--json"])
            assert quoted.exit_code == 0, quoted.output
            venues = orjson.loads(quoted.stdout)["venues"]
            assert {"binance", *POOLS} <= set(venues), venues
            assert all(venues[v]["fixed_cost"] > 0 and venues[v]["affordable"] for v in POOLS), venues
            planned = await asyncio.to_thread(CliRunner().invoke, app, ["route", SYMBOL, "buy", "0.5", "--config", str(config),
                                                                        "--dry-run", "--json"])
            assert planned.exit_code == 0, planned.output
            children = orjson.loads(planned.stdout)["plan"]
            assert any(c["venue"] in POOLS for c in children), children

            simulated.simulator.cluster.pause()  # the exchange holds still while the pools are compared with it
            async with Desk.from_config(config) as desk:
                quote = await desk.best_price(SYMBOL, "buy", 1)
                rows = {r.venue: r for r in quote.rows}
                assert set(rows) >= POOLS, sorted(rows)
                for venue in POOLS:
                    row = rows[venue]
                    assert row.status is QuoteStatus.LIVE and row.all_in_price is not None and row.vwap is not None
                    assert row.fee_rate == int(venue.rsplit("_", 1)[1]) / 1e6
                    assert row.fixed_cost > 0  # a swap's gas, in USDT, at the chain's WETH price
                    assert row.all_in_price == pytest.approx(row.vwap * (1 + row.fee_rate) + row.fixed_cost / row.filled)
                    assert row.to_json()["fixed_cost"] > 0
                assert quote.best is not None and quote.best.venue in POOLS  # 2 % cheaper than the exchange

                router = await desk.router(SYMBOL)
                pools = {v: a for v, a in router.accounts.items() if isinstance(a, PoolAccount)}
                assert set(pools) == POOLS and all(router.fixed_costs[v] > 0 for v in POOLS)
                wallet = next(iter(pools.values()))
                before = await wallet.balances()
                report = await desk.route(SYMBOL, "buy", 0.5)
                assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.5), report.to_json()
                on_pools = [c for c in report.children if dex_family(c.venue) and c.filled > 0]
                assert on_pools, [c.as_json() for c in report.children]

                base_in = quote_out = 0
                for child in on_pools:
                    account = pools[child.venue]
                    (fill,) = account.journal.fills(child.client_order_id)
                    base, paid = await swapped(account.wallet.evm, account, fill.venue_order_id)
                    assert Decimal(base).scaleb(-8) == fill.amount
                    base_in, quote_out = base_in + base, quote_out + paid
                after = await wallet.balances()
                assert after["BTC"] - before["BTC"] == Decimal(base_in).scaleb(-8)
                assert before["USDT"] - after["USDT"] == Decimal(quote_out).scaleb(-6)


    run(body(), 240)


def test_a_swap_router02_only_chain_s_pools_are_routed_through_its_multicall(
        bnb_like: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, bnb_like.keys[TRADER])

    async def body() -> None:
        async with Desk.sim(["binance"], symbols=[SYMBOL]) as simulated:
            assert simulated.simulator is not None
            config = simulated.write_config(tmp_path / "crossbook.toml")
            # BNB Chain has no SwapRouter: only swap_router02 is given; gas is priced in BNB, here the local WETH
            tables = chain_tables(bnb_like, "bsc", router="swap_router02", native=(("BNB", "WETH"),))
            config.write_text(config.read_text() + tables)
            simulated.simulator.cluster.pause()
            async with Desk.from_config(config) as desk:
                router = await desk.router(SYMBOL)
                pools = {v: a for v, a in router.accounts.items() if isinstance(a, PoolAccount)}
                assert set(pools) == BSC_POOLS, sorted(router.accounts)
                assert all(a.router_kind == "swap_router02" and a.router == bnb_like.addresses["swap_router02"]
                           for a in pools.values())
                wallet = next(iter(pools.values()))
                before = await wallet.balances()
                report = await desk.route(SYMBOL, "buy", 0.5)
                assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.5), report.to_json()
                on_pools = [c for c in report.children if dex_family(c.venue) and c.filled > 0]
                assert on_pools, [c.as_json() for c in report.children]

                base_in = quote_out = 0
                for child in on_pools:
                    account = pools[child.venue]
                    (fill,) = account.journal.fills(child.client_order_id)
                    tx = await account.wallet.evm.w3.eth.get_transaction(fill.venue_order_id)  # type: ignore[arg-type]
                    assert tx["to"] == bnb_like.addresses["swap_router02"]
                    assert bytes(tx["input"])[:4] == MULTICALL_WITH_DEADLINE.selector, bytes(tx["input"])[:4].hex()
                    base, paid = await swapped(account.wallet.evm, account, fill.venue_order_id)
                    assert Decimal(base).scaleb(-8) == fill.amount
                    base_in, quote_out = base_in + base, quote_out + paid
                after = await wallet.balances()
                assert after["BTC"] - before["BTC"] == Decimal(base_in).scaleb(-8)
                assert before["USDT"] - after["USDT"] == Decimal(quote_out).scaleb(-6)

    run(body(), 240)


def test_a_chain_whose_rpc_answers_another_chain_id_is_refused(
        mainnet_like: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = mainnet_like.keys[TRADER]
    monkeypatch.setenv(KEY_ENV, key)

    async def body() -> None:
        async with Desk.sim(["binance"]) as simulated:
            config = simulated.write_config(tmp_path / "crossbook.toml")
            config.write_text(config.read_text() + chain_tables(mainnet_like, "arbitrum"))  # 42161, but the RPC is 1
            with pytest.raises(ConfigError) as refused:
                async with Desk.from_config(config):
                    pass
            said = str(refused.value)
            assert "arbitrum" in said and mainnet_like.rpc_url in said and "42161" in said and "chain id 1," in said
            assert key.removeprefix("0x") not in said

    run(body(), 120)


def test_a_configured_chain_s_1inch_is_a_venue_beside_its_pools(
        mainnet_like: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``[chains.ethereum.oneinch]``: the aggregation API (here the simulated one over the same
    chain) is quoted as ``oneinch_ethereum`` with its swap's gas, and a child order on it is the
    API's swap transaction, filled as the receipt says."""
    monkeypatch.setenv(KEY_ENV, mainnet_like.keys[TRADER])

    async def body() -> None:
        async with OneInchSim(mainnet_like, plan="business") as api, Desk.sim(["binance"], symbols=[SYMBOL]) as simulated:
            monkeypatch.setenv(ONEINCH_KEY_ENV, api.issue_key())
            config = simulated.write_config(tmp_path / "crossbook.toml")
            config.write_text(config.read_text() + chain_tables(mainnet_like)
                              + f'[chains.ethereum.oneinch]\napi_key_env = "{ONEINCH_KEY_ENV}"\n'
                                f'base_url = "{api.base_url}"\nplan = "business"\n')
            async with Desk.from_config(config) as desk:
                quote = await desk.best_price(SYMBOL, "buy", 1)
                row = {r.key: r for r in quote.rows}["oneinch_ethereum"]
                assert row.status is QuoteStatus.LIVE and row.fee_rate == 0.0 and row.fixed_cost > 0
                assert row.vwap is not None and row.all_in_price == pytest.approx(row.vwap + row.fixed_cost / row.filled)

                router = await desk.router(SYMBOL)
                account = router.accounts["oneinch_ethereum"]
                assert isinstance(account, OneInchAccount) and router.fee_rates["oneinch_ethereum"] == 0.0
                before = await account.balances()
                ask = router.book.books["oneinch_ethereum"].best_ask()
                assert ask is not None
                order = await account.create_order(OrderRequest(
                    "oneinch_ethereum", SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("0.05"),
                    price=Decimal(repr(round(ask[0] * 1.01, 2))), time_in_force=TimeInForce.IOC))
                assert order.status is OrderStatus.FILLED, order
                (fill,) = account.journal.fills(order.client_order_id)
                after = await account.balances()
                assert after["BTC"] - before["BTC"] == fill.amount == Decimal("0.05")
                assert before["USDT"] - after["USDT"] == pytest.approx(fill.amount * fill.price, abs=Decimal("0.000001"))
                assert api.served["swap"] == 1

    run(body(), 240)
