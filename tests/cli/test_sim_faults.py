"""`crossbook sim --faults FILE`: a timetable of faults, read from JSON or TOML, checked against the
venues it names, and played on the running simulators."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.errors import ConfigError
from crossbook.sim.cluster import SimCluster
from crossbook.sim.fault_plan import FaultPlan, load_fault_plan, parse_fault_plan, play
from crossbook.sim.venues import sim_class

from ..conftest import run, wait_for


def test_a_toml_fault_file_reads_as_its_json_twin(tmp_path: Path) -> None:
    toml = tmp_path / "faults.toml"
    toml.write_text(
        '[[faults]]\nvenue = "Binance"\nfault = "http_5xx"\nat = 1\nseconds = 2.5\nsymbol = "btc-usdt"\n\n'
        '[[faults]]\nvenue = "okx"\nfault = "hang"\nendpoint = "instruments"\n'
    )
    json = tmp_path / "faults.json"
    json.write_text(orjson.dumps({"faults": [
        {"venue": "binance", "fault": "http_5xx", "at": 1, "seconds": 2.5, "symbol": "BTC-USDT"},
        {"venue": "okx", "fault": "hang", "endpoint": "instruments"},
    ]}).decode())
    first, second = load_fault_plan(toml).faults
    assert (first.venue, first.fault, first.at, first.seconds, first.symbol, first.endpoint) == (
        "binance", "http_5xx", 1.0, 2.5, "BTC-USDT", None,
    )
    assert (second.venue, second.fault, second.at, second.seconds, second.endpoint) == ("okx", "hang", 0.0, 0.0, "instruments")
    assert [f.describe() for f in load_fault_plan(json).faults] == [f.describe() for f in (first, second)]
    assert first.describe() == "binance http_5xx on snapshot of BTC-USDT at 1 s for 2.5 s"


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"venue": "binance"}, "faults[0]: 'fault' None is not one of"),
        ({"venue": "nasdaq", "fault": "hang"}, "faults[0]: 'venue' 'nasdaq' is not a venue or feed id"),
        ({"venue": "okx", "fault": "eclipse"}, "'fault' 'eclipse' is not one of drop, skip, corrupt, stall, timeout, hang"),
        ({"venue": "okx", "fault": "delay"}, "'fault' 'delay' is not one of"),
        ({"venue": "okx", "fault": "hang", "at": -1}, "faults[0]: 'at' must be a number of seconds >= 0, not -1"),
        ({"venue": "okx", "fault": "hang", "seconds": "long"}, "'seconds' must be a number of seconds"),
        ({"venue": "okx", "fault": "hang", "endpoint": "candles"}, "'endpoint' 'candles'"),
        ({"venue": "okx", "fault": "drop", "endpoint": "snapshot"}, "for a REST fault only"),
        ({"venue": "okx", "fault": "hang", "when": 3}, "faults[0]: unknown keys when"),
        ({"venue": "okx", "fault": "skip"}, "'symbol' is needed"),
        ({"venue": "okx", "fault": "http_429", "endpoint": "instruments", "symbol": "BTC-USDT"}, "lists every market"),
    ],
)
def test_a_bad_entry_is_named_with_its_field(entry: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        parse_fault_plan({"faults": [entry]}, "faults.json")


def test_a_plan_is_checked_against_the_venues_it_runs_on() -> None:
    venues = {feed: sim_class(feed) for feed in ("binance", "binanceusdm", "kraken", "coinbase")}
    for entry, words in (
        ({"venue": "okx", "fault": "hang"}, "venue 'okx' is not simulated here"),
        ({"venue": "kraken", "fault": "hang", "symbol": "DOGE-EUR"}, "no simulated feed of kraken lists DOGE-EUR"),
        ({"venue": "kraken", "fault": "skip", "symbol": "BTC-USD"}, "kraken's protocol cannot show 'skip'"),
    ):
        with pytest.raises(ConfigError, match=words):
            parse_fault_plan({"faults": [entry]}, "f.json").check(venues)
    plan = parse_fault_plan({"faults": [{"venue": "binance", "fault": "truncated", "symbol": "BTC-USDT-PERP"}]})
    plan.check(venues)
    assert plan.targets(plan.faults[0], venues) == ["binanceusdm"]  # the feed of binance that lists it


def test_play_injects_each_fault_at_its_time() -> None:
    plan = parse_fault_plan({"faults": [
        {"venue": "kraken", "fault": "http_5xx", "at": 0.3, "seconds": 5},
        {"venue": "binance", "fault": "malformed", "endpoint": "instruments", "seconds": 5},
    ]})

    async def body() -> None:
        async with SimCluster(["binance", "kraken"], interval=0.05, levels=20) as cluster:
            started = time.monotonic()
            player = asyncio.create_task(play(plan, cluster.venues))
            kraken, binance = cluster.venues["kraken"], cluster.venues["binance"]
            await wait_for(lambda: bool(binance.faults.windows), 5, "the fault at 0 s")
            assert kraken.faults.windows == [], "the fault at 0.3 s came early"
            await wait_for(lambda: bool(kraken.faults.windows), 5, "the fault at 0.3 s")
            assert time.monotonic() - started >= 0.25
            [window] = kraken.faults.windows
            assert (window.fault, window.endpoint, window.symbol) == ("http_5xx", "snapshot", None)
            await player

    run(body())


def test_the_command_refuses_a_bad_file_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "faults.json"
    bad.write_text('{"faults": [{"venue": "binance", "fault": "http_5xx", "at": 1}, {"venue": "okx", "fault": "hangs"}]}')
    result = CliRunner().invoke(app, ["sim", "--venues", "binance,okx", "--faults", str(bad), "--seconds", "5"])
    assert result.exit_code != 0
    assert "faults[1]: 'fault' 'hangs' is not one of" in result.output
    absent = CliRunner().invoke(app, ["sim", "--venues", "binance", "--faults", str(tmp_path / "none.toml")])
    assert absent.exit_code != 0 and "cannot read fault file" in absent.output
    elsewhere = tmp_path / "okx.json"
    elsewhere.write_text('{"faults": [{"venue": "okx", "fault": "hang"}]}')
    result = CliRunner().invoke(app, ["sim", "--venues", "binance", "--faults", str(elsewhere), "--seconds", "5"])
    assert result.exit_code != 0 and "venue 'okx' is not simulated here" in result.output


def test_the_command_plays_its_fault_file(tmp_path: Path) -> None:
    """End to end: the faults of the file reach the wire of the simulators the command runs."""
    path = tmp_path / "faults.toml"
    path.write_text(
        '[[faults]]\nvenue = "binance"\nfault = "http_5xx"\nsymbol = "BTC-USDT"\nat = 0.5\nseconds = 60\n\n'
        '[[faults]]\nvenue = "binance"\nfault = "http_429"\nendpoint = "instruments"\nseconds = 60\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crossbook.cli import app; app()", "sim", "--venues", "binance",
         "--print-ccxt-config", "--faults", str(path), "--seconds", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        api = orjson.loads(proc.stdout.readline())["binance"]["urls"]["api"]
        rest = api["public"].split("/api/")[0]

        async def body() -> None:
            async with aiohttp.ClientSession() as session:
                async def status(path: str) -> int:
                    async with session.get(rest + path) as resp:
                        return resp.status

                await wait_until_status(status, "/api/v3/depth?symbol=BTCUSDT", 503)
                assert await status("/api/v3/depth?symbol=ETHUSDT") == 200, "the fault names BTC-USDT only"
                assert await status("/api/v3/exchangeInfo") == 429

        run(body())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
        assert "fault binance http_5xx on snapshot of BTC-USDT at 0.5 s for 60 s" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()


async def wait_until_status(status: Callable[[str], Awaitable[int]], path: str, want: int) -> None:
    deadline = time.monotonic() + 20
    while (seen := await status(path)) != want:
        assert time.monotonic() < deadline, f"{path} never answered {want} (last {seen})"
        await asyncio.sleep(0.05)


def test_an_empty_plan_plays_nothing() -> None:
    async def body() -> None:
        async with SimCluster(["okx"], interval=0.05, levels=20) as cluster:
            await play(FaultPlan(), cluster.venues)
            assert cluster.venues["okx"].faults.windows == []

    run(body())
