"""A desk whose books come from the bus (``[bus] url`` in its config) reads the published prices:
instruments and a book published by hand here, the accounts on an in-process simulator."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import nats
import pytest

from crossbook.bus import subjects
from crossbook.bus.connect import ensure_bus
from crossbook.bus.natsd import NatsServer
from crossbook.bus.publisher import instruments_to_json
from crossbook.desk import Desk
from crossbook.errors import ConfigError
from crossbook.market.bus_data import BusMarketData
from crossbook.model import BookState, Instrument, Side
from crossbook.routing.quote import QuoteStatus
from crossbook.service.runner import ServeOptions, plan_service
from tests.bus.handbus import HandPublisher
from tests.conftest import run, wait_for
from tests.service.serving import start_serve, start_sim

SYMBOL = "BTC-USDT"
BINANCE_SPOT = Instrument(venue="binance", native="BTCUSDT", symbol=SYMBOL, base="BTC", quote="USDT",
                          tick=0.01, lot=0.00001)


async def publish_binance(raw: nats.NATS) -> HandPublisher:
    """Binance spot's instruments and its BTC-USDT book, as a feed process would put them."""
    js = raw.jetstream()
    await ensure_bus(js)
    kv = await js.key_value(subjects.INSTRUMENT_BUCKET)
    await kv.put("binance", instruments_to_json([BINANCE_SPOT]))
    pub = HandPublisher(raw, venue="binance", symbol=SYMBOL)
    pub.change([(60000.0, 1.0), (59990.0, 2.0)], [(60010.0, 0.5), (60020.0, 3.0)])
    await pub.store()
    return pub


def with_bus(config: Path, url: str) -> Path:
    config.write_text(config.read_text() + f'\n[bus]\nurl = "{url}"\nname = "desk-test"\n')
    return config


def test_a_desk_on_the_bus_reads_the_published_book(tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server, Desk.sim(["binance"]) as simulated:
            config = with_bus(simulated.write_config(tmp_path / "crossbook.toml"), server.url)
            raw = await nats.connect(server.url)
            try:
                pub = await publish_binance(raw)
                async with Desk.from_config(config) as desk:
                    assert isinstance(desk.market, BusMarketData) and desk.market.feeds == []
                    quote = await desk.best_price(SYMBOL, "buy", 1)
                    row = next(r for r in quote.rows if r.venue == "binance")
                    assert row.status is QuoteStatus.LIVE
                    book = await desk.consolidated(SYMBOL)
                    assert book.best_ask(time.time()).price == 60010.0  # type: ignore[union-attr]
                    assert book.best_bid(time.time()).price == 60000.0  # type: ignore[union-attr]
                    await pub.delta([(60005.0, 1.0)], [(60010.0, 0.0)])
                    await wait_for(lambda: book.books["binance"].best_ask() == (60020.0, 3.0), 30, "the delta")
                    assert book.best_bid(time.time()).price == 60005.0  # type: ignore[union-attr]
                    assert book.books["binance"].status() is BookState.LIVE
                    assert desk.market.instruments(SYMBOL) == [BINANCE_SPOT]
                    sell = await desk.best_price(SYMBOL, Side.SELL, 0.5)
                    assert next(r for r in sell.rows if r.venue == "binance").status is QuoteStatus.LIVE
            finally:
                await raw.close()

    run(body(), timeout=120)


def test_serve_bus_needs_a_config() -> None:
    with pytest.raises(ConfigError, match=r"--bus .* needs --config FILE"):
        plan_service(ServeOptions(sim=True, bus="nats://127.0.0.1:4222"))


def test_serve_on_the_bus_shows_each_venues_publisher_and_lag(tmp_path: Path) -> None:
    async def health(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        async with session.get(url + "health") as response:
            body: dict[str, Any] = await response.json()
            return body

    async def body() -> None:
        async with NatsServer() as server:
            sim = await start_sim(["binance"], tmp_path)
            raw = await nats.connect(server.url)
            served = None
            try:
                pub = await publish_binance(raw)
                served = await start_serve(["--config", str(sim.config), "--bus", server.url, "--listen", "127.0.0.1:0",
                                            "--token-file", str(tmp_path / "token"), "--symbols", SYMBOL], tmp_path)
                async with aiohttp.ClientSession() as session:
                    deadline = time.monotonic() + 120
                    while True:  # the feed process's heartbeats and frames, until the service has seen them
                        await pub.heartbeat()
                        await pub.delta([(60000.0 - pub.seq, 1.0)], [])
                        seen = await health(session, served.url)
                        lags = {v["venue"]: v for v in seen.get("bus", {}).get("venues", [])}
                        if seen["venues"]["binance"]["ready"] and lags.get("binance", {}).get("lag_ms") is not None \
                                and lags["binance"]["publishers"]:
                            break
                        assert time.monotonic() < deadline, (seen, served.stderr()[-3000:])
                        await asyncio.sleep(0.2)
                    bus = seen["bus"]
                    assert bus["connected"] is True and bus["counters"]["frames"] >= 1
                    assert lags["binance"]["publishers"] == ["feed-test"]
                    assert lags["binance"]["max_lag_ms"] >= 0
                    assert [p["name"] for p in bus["publishers"]] == ["feed-test"]
                    assert bus["publishers"][0]["venues"] == {"binance": 1}
                    assert bus["publishers"][0]["heartbeat_age_s"] >= 0
                    status, spec = await served.get(session, "/openapi.json")
                    assert status == 200 and "bus" in spec["components"]["schemas"]["Health"]["properties"]
            finally:
                if served is not None:
                    await served.stop()
                    await served.reap()
                await raw.close()
                await sim.stop()

    run(body(), timeout=300)


def test_a_feed_process_and_a_bus_desk_agree_with_an_in_process_desk(tmp_path: Path) -> None:
    """The must-hold: the same simulators read in-process and through a feed process on the bus
    give every venue the same best bid and ask once the market is held still."""
    from crossbook.desk.bus_feed import FeedProcess, config_endpoints

    venues = ["binance", "okx"]

    def tops(desk: Desk) -> dict[str, tuple[Any, Any]]:
        now = time.time()
        books = desk.market.consolidated[SYMBOL].books
        return {v: (b.best_bid(), b.best_ask()) for v, b in books.items() if b.status(now) is BookState.LIVE}

    async def body() -> None:
        async with NatsServer() as server, Desk.sim(venues) as simulated:
            assert simulated.simulator is not None
            config = simulated.write_config(tmp_path / "crossbook.toml")
            on_bus_config = tmp_path / "bus.toml"
            on_bus_config.write_text(config.read_text() + f'\n[bus]\nurl = "{server.url}"\nname = "desk-bus"\n')
            async with FeedProcess(server.url, venues, [SYMBOL], endpoints=config_endpoints(str(config)),
                                   name="feed-e2e"), \
                    Desk.from_config(on_bus_config) as on_bus, Desk.from_config(config) as local:
                assert isinstance(on_bus.market, BusMarketData) and not isinstance(local.market, BusMarketData)
                await asyncio.gather(on_bus.follow([SYMBOL]), local.follow([SYMBOL]))
                await wait_for(lambda: set(tops(on_bus)) == set(tops(local)) == set(venues), 60,
                               "every venue live on both desks")
                simulated.simulator.cluster.pause()  # the market holds still: both settle on its last update
                await wait_for(lambda: tops(on_bus) == tops(local) and set(tops(local)) == set(venues), 60,
                               "the bus desk's best prices to equal the in-process desk's")
                for venue in venues:
                    bid, ask = tops(local)[venue]
                    assert bid is not None and ask is not None and bid[0] < ask[0]
                market = on_bus.market

                def published_by() -> dict[str, tuple[str, ...]]:
                    view = market.publishers()
                    return {v.venue: v.publishers for v in view.venues} if view is not None else {}

                await wait_for(lambda: published_by() == dict.fromkeys(venues, ("feed-e2e",)), 30,
                               "the feed process's heartbeats naming both venues")

    run(body(), timeout=300)
