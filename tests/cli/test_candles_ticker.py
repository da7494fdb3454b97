"""`crossbook candles` and `crossbook ticker` on the simulated venues: candles read through each
simulator's REST klines, tickers through its 24-hour ticker, with an unmodified ccxt client."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.sim.venues import sim_class
from crossbook.venues.registry import VENUES, venue_feeds

from ..conftest import run

runner = CliRunner()
CLI = [sys.executable, "-c", "from crossbook.cli import app; app()"]

# the simulators that serve ccxt's fetch_ticker for BTC-USDT (each of the nine spot venues; dYdX
# lists perpetuals only, and ccxt has no fetch_ticker for it)
SERVING_BTC_USDT = {"binance", "okx", "bybit", "coinbase", "kraken", "kucoin", "gate", "mexc", "bitget"}


def invoke_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = orjson.loads(result.stdout.strip().splitlines()[-1])
    return data


def listing(symbol: str) -> set[str]:
    return {v for v in VENUES for f in venue_feeds(v) if symbol in sim_class(f).markets}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``crossbook sim --write-config`` for binance and okx, once each has printed a BTC-USDT trade:
    a ``--sim`` command's fresh simulators may have none yet when it reads."""
    cfg = tmp_path_factory.mktemp("sim") / "cfg.toml"
    proc = subprocess.Popen([*CLI, "sim", "--venues", "binance,okx", "--write-config", str(cfg), "--print-ccxt-config",
                             "--seconds", "600"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        configs = orjson.loads(proc.stdout.readline())  # printed once the config file is written

        async def printed() -> None:
            for ccxt_id, symbol in (("binance", "BTC/USDT"), ("okx", "BTC/USDT")):
                client = getattr(ccxt_async, ccxt_id)(dict(configs[ccxt_id]))
                try:
                    await wait_until(lambda c=client, s=symbol: c.fetch_ohlcv(s, "1m"), 30.0)
                finally:
                    await client.close()

        run(printed())
        yield cfg
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def wait_until(read: Callable[[], Awaitable[list[Any]]], deadline: float) -> None:
    until = time.monotonic() + deadline
    while not await read():
        assert time.monotonic() < until, f"nothing within {deadline} s"
        await asyncio.sleep(0.2)


def check_candles(candles: list[dict[str, Any]]) -> None:
    for c in candles:
        assert c["open_time"] % 60 == 0
        assert c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"]
        assert c["volume"] > 0  # a simulated candle is printed only once it has a trade
    opens = [c["open_time"] for c in candles]
    assert all(later - earlier == 60 for earlier, later in pairwise(opens)), opens
    assert [c["closed"] for c in candles[:-1]] == [True] * (len(candles) - 1)


def test_candles_json_on_fresh_simulators() -> None:
    data = invoke_json("candles", "binance", "BTC-USDT", "--sim", "--interval", "1m", "--limit", "5")
    assert (data["venue"], data["symbol"], data["interval"]) == ("binance", "BTC-USDT", "1m")
    assert len(data["candles"]) <= 5  # none when the simulator has printed no trade yet
    check_candles(data["candles"])


def test_candles_json_are_ordered_one_interval_apart_and_consistent(running: Path) -> None:
    data = invoke_json("candles", "binance", "BTC-USDT", "--config", str(running), "--interval", "1m", "--limit", "5")
    candles = data["candles"]
    assert 1 <= len(candles) <= 5
    assert not candles[-1]["closed"] or candles[-1]["open_time"] + 60 <= time.time()
    for c in candles:
        assert c["open_time"] % 60 == 0
        assert c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"]
        assert c["volume"] > 0  # a simulated candle is printed only once it has a trade
    check_candles(candles)


def test_candles_table_names_units_and_state(running: Path) -> None:
    result = runner.invoke(app, ["candles", "okx", "BTC-USDT", "--config", str(running), "--interval", "5m",
                                 "--limit", "3"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "okx BTC-USDT 5m candles" in result.stdout
    assert "(USDT)" in result.stdout and "(BTC)" in result.stdout and "(UTC)" in result.stdout
    assert "forming" in result.stdout or "closed" in result.stdout


def test_ticker_json_lists_every_simulated_venue_that_lists_the_symbol() -> None:
    data = invoke_json("ticker", "BTC-USDT", "--sim")
    tickers = {t["venue"]: t for t in data["tickers"]}
    assert set(tickers) | set(data["unavailable"]) == listing("BTC-USDT")
    assert set(data["not_listed"]) == set(VENUES) - listing("BTC-USDT")
    assert data["not_listed"] == ["dydx"]
    assert set(tickers) >= SERVING_BTC_USDT, data["unavailable"]
    lasts = sorted(t["last"] for t in tickers.values())
    median = lasts[len(lasts) // 2]
    for venue, t in tickers.items():
        assert t["symbol"] == "BTC-USDT" and t["ts"] > 0
        if t["bid"] is not None and t["ask"] is not None:
            assert t["bid"] <= t["ask"], (venue, t)
            # the last trade printed at the touch moments ago: within a few ticks of today's
            assert t["bid"] * 0.995 <= t["last"] <= t["ask"] * 1.005, (venue, t)
        assert abs(t["last"] - median) <= median * 0.01, (venue, t)
        for field in ("volume", "quote_volume"):
            assert t[field] is None or t[field] >= 0, (venue, t)
        if t["high"] is not None:
            assert t["low"] <= t["last"] <= t["high"], (venue, t)


def test_ticker_table_fits_80_columns_with_units() -> None:
    result = runner.invoke(app, ["ticker", "BTC-USDT", "--sim", "--venues", "binance,okx,coinbase"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert "…" not in result.stdout  # no number cut
    assert "(USDT)" in result.stdout and "(BTC)" in result.stdout and "(%)" in result.stdout
    assert {"binance", "okx", "coinbase"} <= {line.split()[0] for line in lines if line.split()}


def test_a_venue_that_cannot_serve_a_ticker_is_listed_unavailable_with_its_reason() -> None:
    data = invoke_json("ticker", "BTC-USD-PERP", "--sim", "--venues", "binance,bybit,dydx,kraken")
    assert [t["venue"] for t in data["tickers"]] == ["binance"]
    assert "fetchTicker" in data["unavailable"]["dydx"]  # ccxt has no fetch_ticker for dYdX
    assert "ccxt" in data["unavailable"]["bybit"]  # Bybit's inverse perpetuals: no ccxt client reads that simulator
    assert data["not_listed"] == ["kraken"]


def test_bad_input_is_a_clear_error() -> None:
    cases = [
        (["candles", "binance", "BTC-USDT", "--sim", "--interval", "2m"], 2, "1m, 5m, 15m, 1h, 4h, 1d"),
        (["candles", "nasdaq", "BTC-USDT", "--sim"], 2, "unknown venue 'nasdaq'"),
        (["candles", "binance", "BTC-USDT"], 2, "--sim or --config"),
        (["candles", "binance", "BTC-USDT", "--sim", "--limit", "0"], 2, "--limit"),
        (["candles", "dydx", "BTC-USDT", "--sim"], 2, "dydx does not list BTC-USDT"),
        (["ticker", "BTCUSDT", "--sim"], 2, "not a standard symbol"),
        (["ticker", "DOGE-EUR", "--sim", "--venues", "binance,okx"], 2, "lists DOGE-EUR"),
    ]
    for args, code, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
