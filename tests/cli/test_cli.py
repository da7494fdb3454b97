"""The crossbook command, end to end, on the simulated venues (127.0.0.1, port 0)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.feeds.capture import CaptureWriter
from crossbook.market.data import MarketData

from ..conftest import CAPTURES, run

runner = CliRunner()


def test_quote_json_on_the_simulator() -> None:
    result = runner.invoke(app, ["quote", "BTC-USDT", "buy", "1.5", "--venues", "binance", "--sim", "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert set(data) == {"symbol", "side", "amount", "best", "venues"}
    assert (data["symbol"], data["side"], data["amount"]) == ("BTC-USDT", "buy", 1.5)
    q = data["venues"]["binance"]
    assert set(q) == {"status", "filled", "vwap", "fee_rate", "all_in_price"}
    assert q["status"] == "live" and q["filled"] == 1.5
    tick = 0.01  # the simulated binance's BTC-USDT tick: both prices are rounded to it
    assert round(q["vwap"] / tick) * tick == pytest.approx(q["vwap"], abs=1e-9)
    assert round(q["all_in_price"] / tick) * tick == pytest.approx(q["all_in_price"], abs=1e-9)
    # each of the two is within half a tick of its exact value
    assert abs(q["all_in_price"] - q["vwap"] * (1 + q["fee_rate"])) <= tick / 2 * (2 + q["fee_rate"]) + 1e-9
    assert data["best"] == {"venue": "binance", "all_in_price": q["all_in_price"]}


def test_quote_rejects_bad_input_before_anything_starts() -> None:
    for args, message in (
        (["BTC-USDT", "hold", "1"], "side must be buy or sell"),
        (["BTC-USDT", "buy", "0"], "amount must be positive, not 0"),
        (["BTC-USDT", "buy", "-1"], "amount must be positive, not -1"),
        (["BTC-USDT", "buy", "inf"], "amount must be a finite number"),
        (["BTC-USDT", "buy", "nan"], "amount must be a finite number"),
        (["BTC-USDT", "buy", "1", "--venues", "nasdaq"], "unknown venue"),
        (["BTC/USDT", "buy", "1", "--sim"], "not a standard symbol"),
    ):
        result = runner.invoke(app, ["quote", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_unreachable_venue_quote_is_down() -> None:
    from crossbook.model import Side

    async def body() -> tuple[dict[str, str], dict[str, object]]:
        md = MarketData(["binance"], ["BTC-USDT"], endpoints=lambda _f: ("ws://127.0.0.1:9", "http://127.0.0.1:9"))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            await md.start(session)
        return md.down, md.quote("BTC-USDT", Side.BUY, 1.0)

    down, quote = run(body())
    assert "cannot load instruments" in down["binance"] and "Cannot connect to host 127.0.0.1:9" in down["binance"]
    assert quote["best"] is None
    assert quote["venues"]["binance"]["status"] == "down"  # type: ignore[index]


def test_replay_json_and_exit_codes(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["replay", str(CAPTURES / "BINANCE.ws.1.0.gz"), str(CAPTURES / "BINANCE.http.0.0.gz"), "--json"])
    assert ok.exit_code == 0, ok.output
    report = orjson.loads(ok.stdout)
    assert report["totals"]["gaps"] == 0 and report["totals"]["books"] >= 4

    gap = tmp_path / "gap.jsonl"
    w = CaptureWriter(gap, feed="binance")
    url = "ws://127.0.0.1:1/stream"
    w.write(1.0, "open", url, "", 1)
    w.write(1.1, "http", "http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=1000",
            orjson.dumps({"lastUpdateId": 10, "bids": [["1", "1"]], "asks": [["2", "1"]]}), 1)
    for first, last in ((9, 11), (12, 13), (15, 16)):  # 14 is missing
        ev = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last, "b": [], "a": []}
        w.write(1.2, "recv", url, orjson.dumps({"stream": "btcusdt@depth@100ms", "data": ev}).decode(), 1)
    w.close()
    bad = runner.invoke(app, ["replay", str(gap), "--json"])
    assert bad.exit_code == 1
    assert orjson.loads(bad.stdout)["books"]["binance:BTCUSDT"]["gaps"] == 1

    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.gz")])
    assert missing.exit_code == 2 and "no such capture file" in missing.output


def test_record_from_the_simulator_replays_clean(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl.gz"
    rec = runner.invoke(app, ["record", "binanceusdm", "BTC-USDT-PERP", "--out", str(out), "--seconds", "1.5", "--sim"])
    assert rec.exit_code == 0, rec.output
    result = runner.invoke(app, ["replay", str(out), "--json"])
    assert result.exit_code == 0, result.output
    book = orjson.loads(result.stdout)["books"]["binanceusdm:BTCUSDT"]
    assert book["synced"] and book["updates"] > 0


def test_demo_runs_for_seconds_and_prints_the_best_price() -> None:
    result = runner.invoke(app, ["demo", "--seconds", "4"])
    assert result.exit_code == 0, result.output
    assert "best all-in price" in result.output
    assert "BTC-USDT" in result.output
