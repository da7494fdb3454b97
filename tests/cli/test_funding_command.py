"""`crossbook funding`: every simulated perpetual venue's funding, annualized, with the spread."""

from __future__ import annotations

import calendar
import math
import time
from typing import Any

import orjson
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.model import Kind
from crossbook.sim.venues import sim_class
from crossbook.symbols import parse_standard
from crossbook.venues.registry import VENUES, venue_feeds

runner = CliRunner()
HOURS_A_YEAR = 365 * 24


def simulated_perpetuals() -> dict[tuple[str, str], str]:
    """(venue, perpetual) -> feed, for every perpetual a venue's simulators list."""
    return {(venue, symbol): feed for venue in VENUES for feed in venue_feeds(venue)
            for symbol in sim_class(feed).markets if parse_standard(symbol)[2] is Kind.PERP}


def test_funding_sim_json_lists_every_simulated_perpetual_venue() -> None:
    before = time.time()
    result = runner.invoke(app, ["funding", "--sim", "--json"])
    after = time.time()
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = orjson.loads(result.stdout)
    expected = simulated_perpetuals()
    assert {v for v, _ in expected} >= {"binance", "okx", "bybit", "dydx", "gate", "bitget"}
    rows = {(r["venue"], r["symbol"]): r for r in data["rates"]}
    assert set(rows) == set(expected), (sorted(set(expected) - set(rows)), data["unavailable"])
    assert data["unavailable"] == []
    for key, row in rows.items():
        hours = row["interval_hours"]
        assert math.isfinite(row["rate"]) and hours > 0, (key, row)
        assert before < row["next_time"] <= after + hours * 3600, (key, row)  # the next payment, within one interval
        assert math.isclose(row["annualized"], row["rate"] * HOURS_A_YEAR / hours, rel_tol=1e-12, abs_tol=1e-15), (key, row)
    assert rows[("dydx", "BTC-USD-PERP")]["interval_hours"] == 1  # hourly by dYdX's protocol
    assert rows[("gate", "BTC-USDT-PERP")]["predicted"] is not None  # Gate publishes its indicative rate
    for spread in data["spreads"]:
        on = [r["annualized"] for r in data["rates"] if r["symbol"] == spread["symbol"]]
        assert (spread["high_annualized"], spread["low_annualized"]) == (max(on), min(on))
        assert math.isclose(spread["annualized"], max(on) - min(on), abs_tol=1e-15)
        assert rows[(spread["high_venue"], spread["symbol"])]["annualized"] == max(on)


def test_funding_table_shows_rates_in_percent_and_the_spread() -> None:
    result = runner.invoke(app, ["funding", "--sim", "--venues", "okx,dydx", "--symbols", "BTC-USD-PERP"], terminal_width=100)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("rate (%)" in line and "annual (%)" in line and "next (UTC)" in line for line in lines), result.stdout
    okx = next(line.split() for line in lines if line.startswith("BTC-USD-PERP") and " okx " in line)
    dydx = next(line.split() for line in lines if line.startswith("BTC-USD-PERP") and " dydx " in line)
    paid = calendar.timegm(time.strptime(f"{okx[4]} {okx[5]}", "%Y-%m-%d %H:%M"))  # shown in UTC
    assert paid % (8 * 3600) == 0 and 0 < paid - time.time() <= 8 * 3600 + 60  # the next 8-hour boundary
    assert (okx[3], dydx[3]) == ("8", "1")  # hours between payments
    assert math.isclose(float(okx[6]), float(okx[2]) * 3 * 365, abs_tol=0.06)  # % a year from % per 8 hours (4 places)
    spread = next(line.split() for line in lines if line.startswith("BTC-USD-PERP") and len(line.split()) == 6)
    assert spread[0] == "BTC-USD-PERP" and {spread[2], spread[4]} == {"okx", "dydx"}
    assert math.isclose(float(spread[1]), abs(float(okx[6]) - float(dydx[6])), abs_tol=0.011)


def test_funding_refuses_what_is_not_a_perpetual_and_a_missing_source() -> None:
    spot = runner.invoke(app, ["funding", "--sim", "--venues", "okx", "--symbols", "BTC-USDT"])
    assert spot.exit_code == 2 and "BTC-USDT is not a perpetual" in spot.output
    unlisted = runner.invoke(app, ["funding", "--sim", "--venues", "kraken", "--symbols", "BTC-USDT-PERP"])
    assert unlisted.exit_code == 2 and "no perpetual BTC-USDT-PERP with a funding rate on kraken" in unlisted.output
    neither = runner.invoke(app, ["funding", "--symbols", "BTC-USDT-PERP"])
    assert neither.exit_code == 2 and "--sim or --config" in neither.output
