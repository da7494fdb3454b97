"""``crossbook arb`` end to end on the simulated venues: a dislocated venue's opportunity is found
and, with --execute, traded through the router."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app

runner = CliRunner()


def test_arb_finds_and_trades_a_dislocation() -> None:
    result = runner.invoke(app, ["arb", "--sim", "--venues", "binance,okx,bybit", "--symbols", "BTC-USDT", "--seconds", "4",
                                 "--dislocate", "okx:-45", "--execute", "--max-size", "0.2",
                                 "--withdrawal-fee", "0.0002", "--transfer-seconds", "600", "--json"])
    assert result.exit_code == 0, result.output
    seen = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert seen, "no opportunity found"
    traded = []
    for opp in seen:
        assert opp["kind"] == "cross_venue"
        buy = next(leg for leg in opp["legs"] if leg["side"] == "buy")
        sell = next(leg for leg in opp["legs"] if leg["side"] == "sell")
        assert buy["venue"] == "okx" and sell["venue"] != "okx"
        net = sell["price"] * sell["amount"] * (1 - sell["fee_rate"]) - buy["price"] * buy["amount"] * (1 + buy["fee_rate"])
        # the JSON's prices are at the tick (0.01), amounts at the lot (1e-5 on these venues), profits at 1e-4
        rounding = sum(0.5e-2 * leg["amount"] * 1.001 + 0.5e-5 * leg["price"] for leg in opp["legs"]) + 0.5e-4
        assert opp["net_profit"] == pytest.approx(net, abs=rounding) and opp["net_bps"] > 0  # before the transfer
        assert opp["transfer"]["withdrawal_fee"] == 0.0002 and opp["transfer"]["seconds"] == 600
        assert opp["transfer"]["cost"] == pytest.approx(0.0002 * sell["price"], abs=1e-4)
        done = opp["executed"]
        assert 0 <= done["bought"] <= 0.2, done
        # a leg that filled less than the other leaves the difference unhedged: it is flattened
        assert done["remaining_unhedged"] == 0.0, done
        if done["unhedged"]:
            assert done["flatten"]["filled"] > 0 and done["flatten"]["venue"], done
        elif done["bought"] > 0:
            assert done["sold"] == pytest.approx(done["bought"]), done
            assert done["realised_profit"] > 0
            traded.append(opp)
    assert traded, seen


def test_arb_refuses_bad_input_before_anything_starts() -> None:
    for args, message in (
        (["--dislocate", "okx:-45"], "need --sim"),
        (["--sim", "--dislocate", "okx"], "VENUE:BPS"),
        (["--sim", "--dislocate", "nasdaq:5"], "VENUE:BPS"),
        (["--sim", "--execute", "--max-size", "0"], "--max-size must be a positive number"),
        (["--sim", "--seconds", "0"], "--seconds must be a positive number"),
        (["--sim", "--withdrawal-fee", "-1"], "must not be negative"),
        (["--dex"], "--dex needs --sim"),
    ):
        result = runner.invoke(app, ["arb", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_arb_with_the_local_pools_finds_an_exchange_against_a_pool_net_of_the_swap_gas() -> None:
    result = runner.invoke(app, ["arb", "--sim", "--dex", "--venues", "binance,okx", "--symbols", "BTC-USDT",
                                 "--kinds", "cross_venue", "--seconds", "3", "--dislocate", "binance:-80", "--json"])
    assert result.exit_code == 0, result.output
    seen = orjson.loads(result.stdout.strip().splitlines()[-1])
    with_pool = [o for o in seen if any(leg["venue"].startswith("uniswap_v3_") for leg in o["legs"])]
    assert with_pool, seen
    for opp in with_pool:
        buy, sell = opp["legs"]
        pool, exchange = (buy, sell) if buy["venue"].startswith("uniswap_v3_") else (sell, buy)
        assert exchange["venue"] in ("binance", "okx"), opp
        assert exchange["fixed_cost"] == 0.0 and pool["fixed_cost"] > 0, opp  # the swap's gas, in USDT
        net = (sell["price"] * sell["amount"] * (1 - sell["fee_rate"]) - buy["price"] * buy["amount"] * (1 + buy["fee_rate"])
               - buy["fixed_cost"] - sell["fixed_cost"])
        rounding = sum(0.5e-2 * leg["amount"] * 1.001 + 0.5e-5 * leg["price"] for leg in opp["legs"]) + 2e-4
        assert opp["net_profit"] == pytest.approx(net, abs=rounding) and opp["net_profit"] > 0


def test_arb_trades_a_triangle_leg_by_leg() -> None:
    result = runner.invoke(app, ["arb", "--sim", "--venues", "binance", "--symbols", "BTC-USDT,ETH-USDT,ETH-BTC",
                                 "--kinds", "triangular", "--seconds", "4", "--dislocate", "binance:80:ETH-BTC",
                                 "--execute", "--max-size", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    seen = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert seen and all(o["kind"] == "triangular" for o in seen)
    opp = seen[0]
    assert [(leg["symbol"], leg["side"]) for leg in opp["legs"]] == [("ETH-USDT", "buy"), ("ETH-BTC", "sell"), ("BTC-USDT", "sell")]
    done = opp["executed"]
    assert done["complete"] and 0 < done["legs"][0]["filled"] <= 0.5
    eth_bought, eth_sold = done["legs"][0]["filled"], done["legs"][1]["filled"]
    assert eth_sold <= eth_bought * (1 + 1e-9)  # no leg trades more than the one before handed on
    assert done["realised_profit"] > 0
