"""``crossbook demo --json``: the full demo on the ten simulated venues, end to end."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.venues.registry import VENUES

runner = CliRunner()


def test_demo_json_summary_covers_venues_quote_route_and_arbitrage() -> None:
    # 40 s: on a loaded machine the venues and the chain can take 20 s to start, and the demo ends
    # on time, with the steps that fitted
    result = runner.invoke(app, ["demo", "--seconds", "40", "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert {"venues", "quote", "route", "arbitrage", "dex"} <= set(data)
    # node is part of the set-up (npm ci): the local chain's pools are venues beside the exchanges
    pools = {"uniswap_v3_500", "uniswap_v3_3000", "uniswap_v3_10000"}
    assert data["dex"]["available"] and set(data["dex"]["pools"]) == pools, data["dex"]
    assert data["dex"]["rpc_url"].startswith("http://127.0.0.1:")
    assert data["dex"]["oneinch"].startswith("http://127.0.0.1:")  # the simulated 1inch API, a venue beside the pools
    assert set(data["venues"]) == set(VENUES) | pools | {"oneinch"}
    assert all(v["status"] == "live" for v in data["venues"].values()), {k: v for k, v in data["venues"].items() if v["status"] != "live"}
    assert pools | {"oneinch"} <= set(data["quote"]["venues"])

    assert data["quote"]["best"] is not None

    route = data["route"]
    assert route["outcome"] == "filled" and route["filled"] == pytest.approx(route["amount"])
    assert len({c["venue"] for c in route["children"]}) >= 2  # split
    assert route["best_single_venue_all_in_price"] is not None
    assert route["expected_all_in_price"] <= route["best_single_venue_all_in_price"]  # a buy: no dearer planned

    arbs = data["arbitrage"]
    assert arbs and all(a["kind"] == "cross_venue" for a in arbs)
    dislocated = [a for a in arbs if any(leg["venue"] == "okx" and leg["side"] == "buy" for leg in a["legs"])]
    assert dislocated, arbs
    for a in arbs:
        sells = sum(leg["price"] * leg["amount"] * (1 - leg["fee_rate"]) for leg in a["legs"] if leg["side"] == "sell")
        buys = sum(leg["price"] * leg["amount"] * (1 + leg["fee_rate"]) for leg in a["legs"] if leg["side"] == "buy")
        gas = sum(leg["fixed_cost"] for leg in a["legs"])  # a swap's, on a DEX leg
        assert a["net_profit"] == pytest.approx(sells - buys - gas, rel=1e-9) and a["net_profit"] > 0
        assert a["closed_at"] is not None and a["closed_at"] >= a["opened_at"]
    traded = [a["executed"] for a in arbs if "executed" in a]
    assert len(traded) == 1 and 0 < traded[0]["bought"] <= 0.5 and traded[0]["realised_profit"] > 0


def test_demo_refuses_bad_options() -> None:
    for args, message in ((["--seconds", "0"], "--seconds must be a positive number"),
                          (["--json"], "--json needs --seconds")):
        result = runner.invoke(app, ["demo", *args])
        assert result.exit_code == 2 and message in result.output, result.output


def test_without_node_the_demo_says_so_and_runs_the_exchanges(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--seconds", "25", "--json"], env={"CROSSBOOK_NODE_MODULES": str(tmp_path)})
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert data["dex"]["available"] is False and "npm ci" in data["dex"]["reason"]
    assert set(data["venues"]) == set(VENUES)
    assert data["route"]["outcome"] == "filled"
