"""The simulator told to dislocate one venue: its books shift at once, through the normal update
path (client books stay live, no resync), by call, scenario file or the control endpoint."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp
import ccxt.async_support as ccxt_async
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.errors import ConfigError, UnknownSymbol, UnknownVenue
from crossbook.market.data import MarketData
from crossbook.model import BookState
from crossbook.sim.cluster import SimCluster
from crossbook.sim.market import SimMarket
from crossbook.sim.scenario import load_scenario

from ..conftest import run, wait_for

SYMBOL = "BTC-USDT"
VENUES = ["binance", "okx", "kraken"]


def apply(book: dict[int, int], changes: list[tuple[bool, int, int]], is_bid: bool) -> dict[int, int]:
    out = dict(book)
    for bid, px, lots in changes:
        if bid is is_bid:
            if lots:
                out[px] = lots
            else:
                out.pop(px, None)
    return out


def test_a_dislocated_ladder_shifts_whole_and_its_changes_rebuild_it() -> None:
    market = SimMarket(seed=3, levels=50)
    ladder = market.ladder("kraken", SYMBOL)
    for _ in range(5):
        market.advance()
    fair = market.fair.fair(SYMBOL)
    bids, asks = dict(ladder.bids), dict(ladder.asks)
    assert market.dislocate("kraken", 50.0) == [("kraken", SYMBOL)]
    changes = market.advance()[("kraken", SYMBOL)]
    assert apply(bids, changes, True) == ladder.bids and apply(asks, changes, False) == ladder.asks
    assert len({(b, px) for b, px, _ in changes}) == len(changes)  # one net change per level
    mid = (max(ladder.bids) + min(ladder.asks)) / 2 * ladder.spec.tick
    assert mid / fair - 1 == pytest.approx(50e-4, abs=3e-4)
    assert min(ladder.bids) * ladder.spec.tick > fair * (1 + 40e-4)  # the deep levels moved too
    assert len(ladder.bids) >= 50 and len(ladder.asks) >= 50
    market.dislocate("kraken", 0.0)
    market.advance()
    mid = (max(ladder.bids) + min(ladder.asks)) / 2 * ladder.spec.tick
    assert mid / market.fair.fair(SYMBOL) - 1 == pytest.approx(0.0, abs=3e-4)


def test_a_venue_id_dislocates_every_feed_of_it_and_bad_targets_are_refused() -> None:
    market = SimMarket(levels=10)
    for feed, symbol in (("binance", "BTC-USDT"), ("binanceusdm", "BTC-USDT-PERP"), ("okx", "BTC-USDT")):
        market.ladder(feed, symbol)
    assert sorted(market.dislocate("binance", 25.0)) == [("binance", "BTC-USDT"), ("binanceusdm", "BTC-USDT-PERP")]
    assert market.ladders[("okx", "BTC-USDT")].dislocation_bps == 0.0
    assert market.dislocate("binanceusdm", -5.0, "btc-usdt-perp") == [("binanceusdm", "BTC-USDT-PERP")]
    with pytest.raises(UnknownVenue, match="kraken"):
        market.dislocate("kraken", 10.0)
    with pytest.raises(UnknownSymbol, match="ETH-BTC"):
        market.dislocate("okx", 10.0, "ETH-BTC")
    with pytest.raises(ConfigError, match="finite"):
        market.dislocate("okx", float("nan"))


def mids(md: MarketData) -> dict[str, float]:
    out = {}
    for venue, book in md.consolidated[SYMBOL].books.items():
        mid = book.mid()
        if mid is not None:
            out[venue] = mid
    return out


def kraken_premium(md: MarketData) -> float:
    m = mids(md)
    others = [m[v] for v in VENUES if v != "kraken"]
    return (m["kraken"] / (sum(others) / len(others)) - 1) * 1e4


def health(md: MarketData) -> dict[str, tuple[int, int, int]]:
    return {v: (b.stats.resyncs, b.stats.gaps, b.stats.checksums_failed) for v, b in md.consolidated[SYMBOL].books.items()}


def test_a_client_book_shows_the_dislocation_and_stays_live_without_a_resync() -> None:
    async def body() -> None:
        async with SimCluster(VENUES, interval=0.05, levels=100) as cluster:
            md = MarketData(VENUES, [SYMBOL], endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    before = health(md)
                    assert abs(kraken_premium(md)) < 5
                    cluster.dislocate("kraken", 50.0, SYMBOL)
                    await wait_for(lambda: abs(kraken_premium(md) - 50) < 5, 10, "kraken 50 bps above the others")
                    updates = md.consolidated[SYMBOL].books["kraken"].stats.updates
                    await wait_for(lambda: md.consolidated[SYMBOL].books["kraken"].stats.updates > updates + 5, 10, "more updates")
                    assert abs(kraken_premium(md) - 50) < 5
                    assert all(b.status() is BookState.LIVE for b in md.consolidated[SYMBOL].books.values())
                    assert health(md) == before
                    cluster.pause()  # the settled client book is exactly the venue's
                    sim = cluster.venues["kraken"]
                    book = md.consolidated[SYMBOL].books["kraken"]
                    await wait_for(lambda: book.depth(10) == tuple(sim.expected_top(SYMBOL, 10)), 10, "kraken's book settled")
                    cluster.resume()
                    cluster.dislocate("kraken", 0.0)
                    await wait_for(lambda: abs(kraken_premium(md)) < 5, 10, "kraken back with the others")
                    assert health(md) == before
                finally:
                    await md.stop()

    run(body(), timeout=90)


def test_the_control_endpoint_dislocates_its_venue_from_loopback() -> None:
    async def body() -> None:
        async with SimCluster(["kraken", "binance", "binanceusdm"], interval=0.05, levels=20) as cluster:
            url = cluster.venues["binanceusdm"].rest_url + "/_crossbook/dislocate"
            async with aiohttp.ClientSession() as session:
                async with session.post(url, json={"bps": 40, "symbol": "BTC-USDT"}) as resp:
                    assert resp.status == 200, await resp.text()
                    assert await resp.json() == {"venue": "binance", "bps": 40.0, "books": ["binance:BTC-USDT"]}
                assert cluster.market.ladders[("binance", SYMBOL)].dislocation_bps == 40.0
                assert cluster.market.ladders[("kraken", SYMBOL)].dislocation_bps == 0.0
                async with session.post(url, json={"bps": -15}) as resp:
                    assert resp.status == 200
                assert {k: lad.dislocation_bps for k, lad in cluster.market.ladders.items() if k[0].startswith("binance")} == {
                    ("binance", s): -15.0 for s in cluster.venues["binance"].markets
                } | {("binanceusdm", s): -15.0 for s in cluster.venues["binanceusdm"].markets}
                async with session.post(url, json={"bps": 10, "symbol": "DOGE-USDT"}) as resp:
                    assert resp.status == 400 and "DOGE-USDT" in (await resp.json())["error"]
                async with session.post(url, data=b"not json") as resp:
                    assert resp.status == 400
                async with session.post(url, json={"bps": "40"}) as resp:
                    assert resp.status == 400

    run(body())


def test_a_scenario_file_dislocates_on_time_and_undoes_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.json"
    path.write_text('{"dislocations": [{"venue": "kraken", "bps": 40, "symbol": "BTC-USDT", "at": 0.2, "seconds": 0.3}]}')

    async def body() -> None:
        async with SimCluster(["kraken"], interval=0.05, levels=20, scenario=path) as cluster:
            ladder = cluster.market.ladders[("kraken", SYMBOL)]
            assert ladder.dislocation_bps == 0.0
            await wait_for(lambda: ladder.dislocation_bps == 40.0, 5, "the dislocation to start")
            assert cluster.market.ladders[("kraken", "ETH-USDT")].dislocation_bps == 0.0
            await wait_for(lambda: ladder.dislocation_bps == 0.0, 5, "the dislocation to end")

    run(body())


def test_scenario_files_in_toml_and_their_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "s.toml"
    toml.write_text('[[dislocations]]\nvenue = "Kraken"\nbps = -20.5\n')
    [d] = load_scenario(toml).dislocations
    assert (d.venue, d.bps, d.symbol, d.at, d.seconds) == ("kraken", -20.5, None, 0.0, None)
    bad = tmp_path / "bad.json"
    for text, message in (
        ('{"dislocations": [{"venue": "kraken"}]}', "'bps' must be a finite number"),
        ('{"dislocations": [{"venue": "kraken", "bps": 5, "when": 1}]}', "unknown keys when"),
        ('{"dislocations": [{"venue": "kraken", "bps": 5, "seconds": 0}]}', "'seconds' > 0"),
        ("[1, 2]", "expected an object"),
        ("{", "not valid json"),
    ):
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_scenario(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")
    bad.write_text('{"dislocations": [{"venue": "nowhere", "bps": 5}]}')
    with pytest.raises(UnknownVenue, match="nowhere"):
        SimCluster(["kraken"], scenario=bad)


def test_crossbook_sim_plays_a_scenario_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.toml"
    path.write_text('[[dislocations]]\nvenue = "kraken"\nbps = 40\nsymbol = "BTC-USDT"\n')
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crossbook.cli import app; app()", "sim", "--venues", "kraken,binance",
         "--print-ccxt-config", "--seconds", "60", "--scenario", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        configs = orjson.loads(proc.stdout.readline())

        async def mid(ccxt_id: str) -> float:
            ex = getattr(ccxt_async, ccxt_id)(configs[ccxt_id])
            try:
                book = await ex.fetch_order_book("BTC/USDT")
                return (book["bids"][0][0] + book["asks"][0][0]) / 2
            finally:
                await ex.close()

        async def premium() -> float:
            for _ in range(50):  # the scenario applies from the first tick
                gap = (await mid("kraken") / await mid("binance") - 1) * 1e4
                if gap > 30:
                    return gap
                await asyncio.sleep(0.1)
            return gap

        assert abs(run(premium()) - 40) < 5
    finally:
        proc.kill()
        proc.wait(10)


def test_crossbook_sim_refuses_a_bad_scenario_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.json"
    path.write_text('{"dislocations": [{"venue": "kraken", "bps": "lots"}]}')
    result = CliRunner().invoke(app, ["sim", "--venues", "kraken", "--seconds", "1", "--scenario", str(path)])
    assert result.exit_code == 2 and "'bps' must be a finite number" in result.output
    path.write_text('{"dislocations": [{"venue": "okx", "bps": 5}]}')
    result = CliRunner().invoke(app, ["sim", "--venues", "kraken", "--seconds", "1", "--scenario", str(path)])
    assert result.exit_code == 2 and "no simulated venue 'okx'" in result.output
