"""CEX-DEX arbitrage on a configured chain: a local anvil answering Ethereum's chain id (1) with the
standard market deployed, its BTC 2 % below the simulated exchange's, and a crossbook.toml whose
``[chains.ethereum]`` points at it (see test_configured_chain.py). ``crossbook arb --config`` finds
the pools against the exchange through the Desk's on-chain venues: the wallet's USDT sizes the
buy on a pool, the pool's fee tier and a swap's gas (in USDT) count in the net profit; with
``--execute`` both legs trade, the pool's as a swap from the chain wallet."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from crossbook import Desk
from crossbook.cli import app
from crossbook.desk.arb import run_arb, scan_parts, trade_on
from crossbook.model import Side
from crossbook.sim.chain import Anvil, Deployment, LocalChain, seed_market
from crossbook.sim.market import START_USD
from crossbook.trading.pool_account import PoolAccount
from crossbook.venues.dex import dex_family

from ..arbitrage.test_cex_dex import recomputed
from ..conftest import run
from .test_configured_chain import KEY_ENV, TRADER, chain_tables

SYMBOL = "BTC-USDT"
CHEAP_BTC = {**START_USD, "BTC": START_USD["BTC"] * 0.98}  # the chain's BTC 2 % below the exchange's
WALLET_USDT = 20_000.0  # the chain wallet's USDT: it, not the pools' depth, bounds a buy on a pool


async def _deploy(anvil: Anvil) -> Deployment:
    async with await LocalChain.deployed(anvil) as chain:
        await seed_market(chain, CHEAP_BTC)
        usdt = chain.tokens["USDT"]
        await chain.fund(usdt, chain.keys[TRADER], usdt.raw(WALLET_USDT))
        return chain.deployment


@pytest.fixture(scope="module")
def cheap_btc_chain() -> Iterator[Deployment]:
    with Anvil(chain_id=1) as anvil:
        yield run(_deploy(anvil), 300)


def _configured(simulated: Desk, deployment: Deployment, tmp_path: Path) -> Path:
    config = simulated.write_config(tmp_path / "crossbook.toml")
    config.write_text(config.read_text() + chain_tables(deployment))
    return config


def _pool_buys(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cross-venue opportunities buying on one of the chain's pools and selling on binance."""
    return [o for o in seen if o["kind"] == "cross_venue" and o["legs"][0]["venue"].startswith("uniswap_v3_ethereum_")
            and o["legs"][1]["venue"] == "binance"]


def test_arb_config_finds_a_configured_chain_s_pool_against_an_exchange_net_of_gas_sized_to_the_wallet(
        cheap_btc_chain: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, cheap_btc_chain.keys[TRADER])

    async def body() -> None:
        async with Desk.sim(["binance"], symbols=[SYMBOL]) as simulated:
            config = _configured(simulated, cheap_btc_chain, tmp_path)
            seen = await run_arb([SYMBOL], 3.0, sim=False, config=config, kinds=["cross_venue"])
            found = _pool_buys(seen)
            assert found, seen
            for opp in found:
                buy, sell = opp["legs"]
                assert buy["fee_rate"] == int(buy["venue"].rsplit("_", 1)[1]) / 1e6  # the pool's fee tier
                assert buy["fixed_cost"] > 0 and sell["fixed_cost"] == 0.0  # a swap's gas, in USDT; none on binance
                assert 0 < opp["net_profit"] == pytest.approx(recomputed(opp), rel=1e-9, abs=1e-9)
                assert opp["profit_currency"] == "USDT"
                # sized to the chain wallet's USDT (and binance's BTC): 20,000 USDT buys about a third of a BTC
                assert buy["price"] * buy["amount"] * (1 + buy["fee_rate"]) <= WALLET_USDT * (1 + 1e-9), opp
                assert sell["amount"] == pytest.approx(buy["amount"])
            assert any(o["capped_by"] == "balances" for o in found), found

            # the command: the same opportunity in --json
            args = ["arb", "--config", str(config), "--symbols", SYMBOL, "--kinds", "cross_venue", "--seconds", "3", "--json"]
            done = await asyncio.to_thread(CliRunner().invoke, app, args)
            assert done.exit_code == 0, done.output
            listed = _pool_buys(orjson.loads(done.stdout))
            assert listed and all(o["net_profit"] > 0 and o["legs"][0]["fixed_cost"] > 0 for o in listed), listed

    run(body(), 150)


def test_trade_on_a_configured_desk_trades_both_legs_the_pool_s_as_a_swap_from_the_chain_wallet(
        cheap_btc_chain: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, cheap_btc_chain.keys[TRADER])

    async def body() -> None:
        async with Desk.sim(["binance"], symbols=[SYMBOL]) as simulated:
            config = _configured(simulated, cheap_btc_chain, tmp_path)
            async with Desk.from_config(config) as desk:
                await desk.follow([SYMBOL, "ETH-USDT", "ETH-BTC"])
                pools = {v: a for v, a in (await desk.dex_venues(SYMBOL)).accounts.items() if isinstance(a, PoolAccount)}
                assert pools, "no pool of the configured chain"
                wallet = next(iter(pools.values()))

                # every spot symbol gets the chain's venues of it, one venue name for several pools, each
                # with its symbol's pool account and its gas in that symbol's quote currency
                parts = await scan_parts(desk, [SYMBOL, "ETH-USDT", "ETH-BTC"], ["cross_venue", "triangular"])
                by_spot = {p.spot: p for p in parts if p.spot is not None}
                assert set(by_spot) == {SYMBOL, "ETH-USDT", "ETH-BTC"}, parts
                venue = "uniswap_v3_ethereum_3000"
                assert len({id(p.dex.accounts[venue]) for p in by_spot.values()}) == 3
                in_usdt, in_btc = by_spot[SYMBOL].dex.fixed_costs[venue], by_spot["ETH-BTC"].dex.fixed_costs[venue]
                assert 0 < in_btc * 10_000 < in_usdt, (in_btc, in_usdt)  # BTC is worth ~60,000 USDT
                assert [p.symbols for p in parts if p.spot is None] == [(SYMBOL, "ETH-USDT", "ETH-BTC")]  # the triangles

                before = await wallet.balances()
                seen = await trade_on(desk, [SYMBOL], 6.0, max_size=0.05)
                after = await wallet.balances()
                journal = wallet.journal  # the desk's: the exchange's orders and the swaps alike

                traded = [o for o in _pool_buys(seen) if o.get("executed") and "error" not in o["executed"]]
                assert traded, seen
                filled = [o for o in traded if o["executed"]["bought"] > 0 and o["executed"]["sold"] > 0]
                assert filled, traded
                for opp in traded:
                    done = opp["executed"]
                    assert done["remaining_unhedged"] == pytest.approx(0.0, abs=1e-8), done
                    buys = [f for cid in done["buy_orders"] for f in journal.fills(cid)]
                    sells = [f for cid in done["sell_orders"] for f in journal.fills(cid)]
                    assert {dex_family(f.venue) for f in buys} <= {"uniswap_v3"}, done
                    assert {f.venue for f in sells} <= {"binance"}, done
                    assert (len(buys) > 0) == (done["bought"] > 0) and (len(sells) > 0) == (done["sold"] > 0), done
                # every swap the pools took (the legs', and a flatten's of what binance's lot left over) is in
                # the chain wallet: its BTC moved by what the journal says they filled
                swapped = sum((o.filled if o.request.side is Side.BUY else -o.filled
                               for venue in pools for o in journal.orders(venue)), Decimal(0))
                assert swapped > 0  # the pools were bought from
                assert after["BTC"] - before["BTC"] == swapped
                assert after["USDT"] < before["USDT"]

            # the command trades through the config too
            args = ["arb", "--config", str(config), "--symbols", SYMBOL, "--kinds", "cross_venue", "--seconds", "3",
                    "--execute", "--max-size", "0.02", "--json"]
            done = await asyncio.to_thread(CliRunner().invoke, app, args)
            assert done.exit_code == 0, done.output
            executed = [o["executed"] for o in _pool_buys(orjson.loads(done.stdout)) if "executed" in o]
            assert any("error" not in e and e["bought"] > 0 and e["sold"] > 0 for e in executed), executed

    run(body(), 150)
