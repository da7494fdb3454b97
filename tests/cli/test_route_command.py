"""``crossbook route`` end to end on the simulated venues (127.0.0.1, port 0)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs

from ..conftest import run

runner = CliRunner()
KEYS = {"symbol", "side", "amount", "plan", "filled", "avg_price", "fees", "all_in_avg_price",
        "best_single_venue_all_in_price", "savings_bps"}


def route_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["route", *args, "--sim", "--json", "--venues", "binance,okx,bybit"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = orjson.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_route_fills_and_reports_in_the_documented_shape() -> None:
    data = route_json("BTC-USDT", "sell", "3")
    assert set(data) >= KEYS
    assert (data["symbol"], data["side"], data["amount"]) == ("BTC-USDT", "sell", 3.0)
    assert data["outcome"] == "filled" and data["filled"] == pytest.approx(3.0)
    plan = data["plan"]
    assert isinstance(plan, list) and plan and sum(c["amount"] for c in plan) == pytest.approx(3.0)
    assert all({"venue", "amount", "expected_vwap", "fee"} <= set(c) for c in plan)
    avg, fees, all_in = data["avg_price"], data["fees"], data["all_in_avg_price"]
    assert isinstance(avg, float) and isinstance(fees, float) and fees > 0
    assert all_in == pytest.approx(avg - fees / 3.0)  # a seller nets the price less the fees
    assert isinstance(data["savings_bps"], float)


def test_a_dry_run_plans_without_trading() -> None:
    data = route_json("BTC-USDT", "buy", "2", "--dry-run")
    assert data["outcome"] == "dry_run" and data["filled"] == 0 and data["children"] == []
    assert data["plan"] and data["best_single_venue_all_in_price"] is not None


def test_route_refuses_bad_input_before_anything_starts() -> None:
    for args, message in (
        (["BTC-USDT", "buy", "1"], "exactly one of --sim or --config"),
        (["BTC-USDT", "hold", "1", "--sim"], "side must be buy or sell"),
        (["BTC-USDT", "buy", "0", "--sim"], "amount must be positive, not 0"),
        (["BTC-USDT", "buy", "-1", "--sim"], "amount must be positive, not -1"),
        (["BTC-USDT", "buy", "1", "--sim", "--limit", "-5"], "route limit must be a positive price"),
        (["BTC-USDT", "buy", "1", "--sim", "--venues", "nasdaq"], "unknown venue"),
        (["BTC-USDT", "buy", "1", "--sim", "--urgency", "now"], "--urgency must be take or passive"),
        (["BTC-USDT", "buy", "1", "--sim", "--urgency", "passive", "--passive-seconds", "-1"], "passive_seconds must not be negative"),
    ):
        result = runner.invoke(app, ["route", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_an_unreachable_configured_venue_is_a_clear_error_without_the_signed_request(tmp_path: Path) -> None:
    async def closed_venue_config() -> dict[str, object]:
        async with SimCluster(["binance"]) as cluster:
            return ccxt_configs(cluster)  # the port closes with the cluster

    (tmp_path / "sim.json").write_bytes(orjson.dumps(run(closed_venue_config())))
    (tmp_path / "crossbook.toml").write_text('journal = "j.db"\n[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\n')
    result = runner.invoke(app, ["route", "BTC-USDT", "buy", "1", "--config", str(tmp_path / "crossbook.toml")])
    assert result.exit_code == 2, result.output
    assert "binance: cannot load its markets" in result.output
    assert "signature" not in result.output and "timestamp=" not in result.output
