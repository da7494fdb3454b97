"""One sub-account per strategy: crossbook.toml's [strategies], a strategy's view of the desk that
sees only its own sub-accounts, and the trading layer refusing a strategy's order on another
strategy's (or no strategy's) sub-account before anything is sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from crossbook import Desk
from crossbook.config import load_config, sim_config_text
from crossbook.errors import ConfigError, StrategyMismatch
from crossbook.model import OrderRequest, OrderType, Side, TimeInForce
from crossbook.routing.executor import Outcome
from crossbook.security.strategies import check_strategy
from tests.conftest import run

ACCOUNTS = """
[[accounts]]
venue = "binance"
account = "main"
mode = "sim"
ccxt_config = "sim-ccxt.json"

[[accounts]]
venue = "binance"
account = "momo"
mode = "sim"
ccxt_config = "sim-ccxt.json"
ccxt_entry = "binance-momo"

[[accounts]]
venue = "okx"
account = "arb"
mode = "sim"
ccxt_config = "sim-ccxt.json"
ccxt_entry = "okx-arb"
"""


def _config(tmp_path: Path, strategies: str) -> Path:
    path = tmp_path / "crossbook.toml"
    path.write_text(ACCOUNTS + strategies)
    return path


def test_strategies_map_each_to_its_own_sub_accounts(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, '[strategies.momentum]\nvenue = "binance"\naccount = "momo"\n\n'
                                           '[strategies.basis]\naccounts = ["okx/arb", "binance/main"]\n'))
    momentum, basis = config.strategies.get("momentum"), config.strategies.get("basis")
    assert momentum.accounts == (("binance", "momo"),) and basis.account_on("okx") == "arb"
    assert config.strategies.owner("binance", "main") == "basis" and config.strategies.owner("okx", "main") is None
    with pytest.raises(StrategyMismatch, match="unknown strategy 'other'; known: momentum, basis"):
        config.strategies.get("other")


@pytest.mark.parametrize(("table", "message"), [
    ('[strategies.a]\nvenue = "binance"\naccount = "ghost"\n', "no \\[\\[accounts\\]\\] entry for binance/ghost"),
    ('[strategies.a]\nvenue = "binance"\naccount = "momo"\n[strategies.b]\naccounts = ["binance/momo"]\n',
     "binance/momo is already the sub-account of strategy 'a': each strategy needs its own"),
    ('[strategies.a]\nvenue = "binance"\naccount = "momo"\naccounts = ["okx/arb"]\n', "one of them"),
    ('[strategies.a]\naccounts = ["binance/main", "binance/momo"]\n', "one sub-account per venue"),
    ('[strategies.a]\naccounts = "okx/arb"\n', 'a list of "venue/account"'),
    ('[strategies.a]\nvenue = "binance"\n', "needs venue"),
    ('[strategies.a]\nvenue = "binance"\naccount = "momo"\nkey = "x"\n', "unknown setting\\(s\\) key"),
    ('[strategies."a b"]\nvenue = "binance"\naccount = "momo"\n', "a strategy name is"),
])
def test_a_bad_strategies_table_is_a_config_error(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path, table))


def test_the_check_refuses_only_a_named_strategy_on_a_sub_account_not_its_own() -> None:
    check_strategy(None, "momentum", "binance", "momo")  # an operator's order goes where it is addressed
    check_strategy("momentum", "momentum", "binance", "momo")
    with pytest.raises(StrategyMismatch, match="strategy 'arb' may not trade through binance/momo: it is the "
                                               "sub-account of strategy 'momentum'; nothing was sent"):
        check_strategy("arb", "momentum", "binance", "momo")
    with pytest.raises(StrategyMismatch, match="no strategy owns it"):
        check_strategy("arb", None, "binance", "main")


def _order(venue: str, account: str, strategy: str | None = None) -> OrderRequest:
    return OrderRequest(venue, "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("0.01"), price=Decimal("1000"),
                        account=account, strategy=strategy)


def test_a_strategy_trades_only_through_its_own_sub_accounts(tmp_path: Path) -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"]) as simulated:
            sim = simulated.simulator
            assert sim is not None
            for venue, account in (("binance", "momo"), ("okx", "arb")):
                await simulated.venue_account(venue, account)  # opened with its own key
                funded = sim.trading_sim(venue)
                assert funded is not None
                funded.engine.accounts[account].balances.update({"USDT": Decimal(200_000)})
            keys = {"binance": sim.ccxt_configs[("binance", "main")], "binance-momo": sim.ccxt_configs[("binance", "momo")],
                    "okx-arb": sim.ccxt_configs[("okx", "arb")]}
            (tmp_path / "sim-ccxt.json").write_bytes(orjson.dumps(keys))
            endpoints = sim_config_text("journal.sqlite", "sim-ccxt.json", [], simulated.sim_endpoints())
            path = tmp_path / "crossbook.toml"
            path.write_text(endpoints + ACCOUNTS + '\n[strategies.momentum]\nvenue = "binance"\naccount = "momo"\n\n'
                                                   '[strategies.arb]\naccounts = ["okx/arb"]\n')
            async with Desk.from_config(path) as desk:
                momentum = desk.strategy("momentum")
                assert set(await momentum.accounts()) == {"binance"}
                report = await momentum.route("BTC-USDT", "buy", 0.05)
                assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.05)
                journal = (await desk.venue_account("binance", "momo")).journal
                routed = [o for o in journal.orders() if o.filled > 0]
                assert routed and {(o.request.venue, o.request.account) for o in routed} == {("binance", "momo")}
                held = await (await momentum.account("binance")).balances()
                assert held.to_json()  # the strategy reads its own balance
                main = await desk.venue_account("binance", "main")
                main_btc = (await main.balances()).get("BTC", Decimal(0))
                before = len(journal.orders())

                # another strategy's or no strategy's sub-account: refused before anything is journaled or sent
                with pytest.raises(StrategyMismatch, match="'momentum' may not trade through binance/main"):
                    await momentum.place(_order("binance", "main"))
                with pytest.raises(StrategyMismatch, match="'arb' may not trade through binance/momo"):
                    await (await desk.venue_account("binance", "momo")).create_order(_order("binance", "momo", "arb"))
                with pytest.raises(StrategyMismatch, match="no sub-account on binance"):
                    await desk.strategy("arb").account("binance")
                with pytest.raises(StrategyMismatch, match="an order of strategy 'arb' placed as strategy 'momentum'"):
                    await momentum.place(_order("binance", "momo", "arb"))
                assert len(journal.orders()) == before
                assert not await main.client.fetch_open_orders("BTC/USDT")
                assert (await main.balances()).get("BTC", Decimal(0)) == main_btc

                # its own sub-account takes its order, and an operator's (no strategy) too
                placed = await momentum.place(_order("binance", "momo"))
                assert placed.to_json()["status"] == "open"
                operator = await (await desk.venue_account("binance", "momo")).create_order(
                    OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("0.01"), price=Decimal("1000"),
                                 time_in_force=TimeInForce.IOC, account="momo"))
                assert operator.request.account == "momo"
                arb_report = await desk.strategy("arb").route("BTC-USDT", "buy", 0.02)
                assert {c.venue for c in arb_report.children if c.client_order_id} == {"okx"}

    run(body(), timeout=150)
