"""OKX's streams beyond book and trades: tickers, mark, index, funding and open interest on the public
socket, candles on the business one, from the simulator through the real feed; the capture's tickers
replayed; a candle gap repaired from REST."""

from __future__ import annotations

import gzip
import json
import time

import aiohttp

from crossbook.feeds.handler import Channels, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay
from crossbook.model import FundingRate, IndexPrice, Interval, MarkPrice, OpenInterest, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.okx import OkxCandles, OkxFeed

from ..conftest import CAPTURES, run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, losing_one_close, run_until_repaired

LosesOneClose = losing_one_close(OkxCandles, lambda raw: raw.endswith(b'"1"]]}'))  # a closed (confirm "1") candle


def test_candles_from_the_business_socket_repaired_after_a_lost_frame() -> None:
    async def body() -> None:
        async with SimCluster(["okx"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["okx"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("okx")
            events: list[MarketEvent] = []
            LosesOneClose.lost = []
            feed = VenueFeed(LosesOneClose, ["BTC-USDT", "BTC-USDT-PERP"], ws_url=ws, rest_url=rest,
                             on_market=events.append, channels=Channels(candles=(Interval.M1,)))
            await run_until_repaired(feed, LosesOneClose, events, "BTC-USDT")
            for symbol in ("BTC-USDT", "BTC-USDT-PERP"):
                got = closed_candles(events, symbol)
                assert len(got) >= 2
                assert all(c.venue == "okx" for c in got.values())
                assert_equal_to_tape(got, sim, symbol, Interval.M1)

    run(body(), timeout=120)


def test_tickers_mark_index_funding_and_open_interest_from_the_simulator() -> None:
    async def body() -> None:
        async with SimCluster(["okx"], interval=0.05, levels=50) as cluster:
            ws, rest = cluster.urls("okx")
            events: list[MarketEvent] = []
            feed = VenueFeed(OkxFeed, ["BTC-USDT", "BTC-USDT-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(ticker=True, funding=True))
            kinds = (Ticker, MarkPrice, IndexPrice, FundingRate, OpenInterest)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 20, "every stream")
                    async with session.get(f"{rest}/api/v5/public/funding-rate?instId=BTC-USDT-SWAP") as resp:
                        funding_rest = (await resp.json())["data"][0]
                    async with session.get(f"{rest}/api/v5/public/open-interest?instType=SWAP&instId=BTC-USDT-SWAP") as resp:
                        oi_rest = (await resp.json())["data"][0]
                finally:
                    await feed.stop()
            funding = next(e for e in events if isinstance(e, FundingRate))
            assert funding.symbol == "BTC-USDT-PERP" and funding.venue == "okx"
            assert funding.rate == float(funding_rest["fundingRate"]) and funding.next_time == int(funding_rest["fundingTime"]) / 1000
            assert funding.interval_hours == 8.0 and funding.next_time > time.time() and funding.predicted is None
            mark = next(e for e in events if isinstance(e, MarkPrice))
            index = next(e for e in events if isinstance(e, IndexPrice))
            assert mark.symbol == index.symbol == "BTC-USDT-PERP"
            assert abs(index.price / mark.price - 1) < 0.05  # the spot book's mid against the perpetual's
            oi = next(e for e in events if isinstance(e, OpenInterest))
            assert oi.symbol == "BTC-USDT-PERP" and oi.amount > 0
            assert abs(oi.amount / float(oi_rest["oiCcy"]) - 1) < 0.5
            tickers = {e.symbol: e for e in events if isinstance(e, Ticker)}
            assert set(tickers) == {"BTC-USDT", "BTC-USDT-PERP"}
            for t in tickers.values():
                assert t.bid is not None and t.ask is not None and t.bid < t.ask
                assert t.low is not None and t.high is not None and t.low <= t.last <= t.high
            assert not [e for e in events if isinstance(e, (MarkPrice, FundingRate)) and e.symbol == "BTC-USDT"]

    run(body(), timeout=60)


def test_candles_are_refused_on_the_public_feed() -> None:
    try:
        OkxFeed(channels=Channels(candles=(Interval.M1,)))
    except ValueError as exc:
        assert "business" in str(exc)
    else:
        raise AssertionError("OkxFeed took candles it cannot subscribe")


def test_the_capture_replays_tickers_equal_to_its_frames() -> None:
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([CAPTURES / "OKX.ws.1.0.gz"])
    expected = []
    with gzip.open(CAPTURES / "OKX.ws.1.0.gz", "rt") as f:
        for line in f:
            _, sep, message = line.partition(": ")
            if not sep or line.startswith("wss://") or '"channel":"tickers"' not in message or '"data"' not in message:
                continue
            for d in json.loads(message)["data"]:
                contract = d["instId"].count("-") >= 2
                expected.append(Ticker("okx", d["instId"], int(d["ts"]) / 1000, float(d["open24h"]), float(d["high24h"]),
                                       float(d["low24h"]), float(d["last"]),
                                       float(d["volCcy24h"] if contract else d["vol24h"]),
                                       None if contract else float(d["volCcy24h"]), float(d["bidPx"]), float(d["askPx"])))
    assert len(expected) > 10
    assert [e for e in events if isinstance(e, Ticker)] == expected
