"""Binance's streams beyond book and trades: candles, tickers, mark, index and funding, from the
simulator through the real feed, from the recorded capture, and candle gaps repaired from REST."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import aiohttp

from crossbook.feeds.candles import CandleSeries
from crossbook.feeds.handler import Channels, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay
from crossbook.model import Candle, FundingRate, IndexPrice, Interval, MarkPrice, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.binance import BinanceSpot, BinanceUsdm

from ..conftest import CAPTURES, run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, losing_one_close, run_until_repaired

LosesOneClose = losing_one_close(BinanceSpot, lambda raw: b'"x":true' in raw)  # Binance's final candle frame


def test_a_candle_gap_is_found_at_the_next_candle() -> None:
    series = CandleSeries("BTCUSDT", Interval.M1)
    assert series.seen(0.0) is None and series.close(0.0)
    assert series.seen(60.0) is None  # the previous candle closed on the stream: no gap
    gap = series.seen(240.0)  # 60 never closed, 120 and 180 never seen
    assert gap is not None and (gap.start, gap.end) == (60.0, 180.0)
    assert not series.close(0.0)  # a closed candle goes out once


def test_spot_candles_and_tickers_from_the_simulator_repaired_after_a_lost_frame_and_a_reconnect() -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["binance"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("binance")
            events: list[MarketEvent] = []
            LosesOneClose.lost = []
            feed = VenueFeed(LosesOneClose, ["BTC-USDT"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))

            async def drop_and_reconnect(session: aiohttp.ClientSession) -> None:
                sim.inject("drop")  # every socket closed: candles close while the feed reconnects
                await wait_for(lambda: feed.connections[0].connects >= 2, 20, "reconnected")

            await run_until_repaired(feed, LosesOneClose, events, more=3, during=drop_and_reconnect)
            assert_equal_to_tape(closed_candles(events), sim, "BTC-USDT", Interval.M1)
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers, "no ticker"
            full = [t for t in tickers if t.volume is not None]
            assert full and all(t.bid is not None and t.ask is not None and t.bid < t.ask for t in full)
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in full)

    run(body(), timeout=120)


def test_usdm_mark_index_and_funding_from_the_simulator() -> None:
    async def body() -> None:
        async with SimCluster(["binanceusdm"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["binanceusdm"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("binanceusdm")
            events: list[MarketEvent] = []
            feed = VenueFeed(BinanceUsdm, ["BTC-USDT-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True, funding=True, liquidations=True))
            kinds = (Candle, Ticker, MarkPrice, IndexPrice, FundingRate)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 20, "every stream")
                    async with session.get(f"{rest}/fapi/v1/premiumIndex?symbol=BTCUSDT") as resp:
                        premium = await resp.json()
                finally:
                    await feed.stop()
            funding = next(e for e in events if isinstance(e, FundingRate))
            assert funding.symbol == "BTC-USDT-PERP" and funding.venue == "binanceusdm"
            assert funding.next_time == premium["nextFundingTime"] / 1000 and funding.rate == float(premium["lastFundingRate"])
            assert funding.next_time > time.time() and funding.next_time % (8 * 3600) == 0
            mark = next(e for e in events if isinstance(e, MarkPrice))
            index = next(e for e in events if isinstance(e, IndexPrice))
            assert abs(mark.price / float(premium["markPrice"]) - 1) < 0.01 and index.price > 0
            ticker = next(e for e in events if isinstance(e, Ticker) and e.volume is not None)
            assert ticker.symbol == "BTC-USDT-PERP" and ticker.last > 0

    run(body(), timeout=60)


def frames_of(path: Any) -> list[tuple[float, dict[str, Any]]]:
    """The recorded frames as plain JSON, with their receive times."""
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            stamp, sep, message = line.partition(": ")
            if sep and not line.startswith("wss://") and message.startswith("{"):
                out.append((float(stamp), json.loads(message)))
    return out


def test_the_capture_replays_candles_and_tickers_equal_to_its_frames() -> None:
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([CAPTURES / "BINANCE.ws.1.0.gz"])
    candles, tickers = [], []
    last_trade: dict[str, float] = {}
    for ts, msg in frames_of(CAPTURES / "BINANCE.ws.1.0.gz"):
        stream, data = msg["stream"], msg["data"]
        if "@kline_" in stream:
            k = data["k"]
            candles.append(Candle("binance", k["s"], Interval(k["i"]), k["t"] / 1000, float(k["o"]), float(k["h"]),
                                  float(k["l"]), float(k["c"]), float(k["v"]), float(k["q"]), k["x"]))
        elif stream.endswith("@aggTrade"):
            last_trade[data["s"]] = float(data["p"])
        elif stream.endswith("@bookTicker") and data["s"] in last_trade:
            tickers.append(Ticker("binance", data["s"], ts, None, None, None, last_trade[data["s"]], None, None,
                                  float(data["b"]), float(data["a"])))
    assert len(candles) == 2 and len(tickers) > 10
    assert [e for e in events if isinstance(e, Candle)] == candles
    assert [e for e in events if isinstance(e, Ticker)] == tickers
