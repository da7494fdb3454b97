"""Bybit's streams beyond book and trades: candles and tickers on spot, tickers with mark, index,
funding and open interest on linear perpetuals, from the simulator through the real feed; candle
gaps repaired from REST; the ticker's snapshot + delta merge and liquidations from the documented
frames; the recorded capture (legacy, no such topics) yields no market events."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any, ClassVar

import aiohttp
import orjson

from crossbook.feeds.handler import Channels, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay
from crossbook.model import Candle, FundingRate, IndexPrice, Interval, Liquidation, MarkPrice, OpenInterest, Side, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.bybit import BybitLinear, BybitSpot

from ..conftest import CAPTURES, run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, losing_one_close, run_until_repaired

LosesOneClose = losing_one_close(BybitSpot, lambda raw: b'"confirm":true' in raw)  # Bybit's final candle frame


class CountsDeltas(BybitLinear):
    """Bybit linear that counts the ticker deltas it merged."""

    deltas: ClassVar[int] = 0

    def on_ticker(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "delta":
            type(self).deltas += 1
        super().on_ticker(msg)


def test_the_handler_subscribes_each_channel_it_is_asked_for() -> None:
    spot = BybitSpot(channels=Channels(candles=(Interval.M1, Interval.D1), ticker=True, funding=True, liquidations=True))
    topics = [t for f in spot.subscribe_messages(["BTCUSDT"]) for t in orjson.loads(f)["args"]]
    # spot has no funding and no liquidations: those channels add nothing there
    assert topics == ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "kline.1.BTCUSDT", "kline.D.BTCUSDT", "tickers.BTCUSDT"]
    linear = BybitLinear(channels=Channels(funding=True, liquidations=True))
    topics = [t for f in linear.subscribe_messages(["BTCUSDT"]) for t in orjson.loads(f)["args"]]
    assert topics == ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "allLiquidation.BTCUSDT"]
    assert linear.streams_per_symbol == 4


def test_linear_ticker_deltas_merge_into_the_last_snapshot() -> None:
    events: list[MarketEvent] = []
    feed = BybitLinear(on_market=events.append)
    snapshot = {"topic": "tickers.BTCUSDT", "type": "snapshot", "data": {
        "symbol": "BTCUSDT", "tickDirection": "PlusTick", "price24hPcnt": "0.017103", "lastPrice": "17216.00",
        "prevPrice24h": "16926.50", "highPrice24h": "17281.50", "lowPrice24h": "16915.00", "prevPrice1h": "17238.00",
        "markPrice": "17217.33", "indexPrice": "17227.36", "openInterest": "68744.761", "openInterestValue": "1183601235.91",
        "turnover24h": "1570383121.943499", "volume24h": "91705.276", "nextFundingTime": "1673280000000",
        "fundingRate": "-0.000212", "bid1Price": "17215.50", "bid1Size": "84.489", "ask1Price": "17216.00",
        "ask1Size": "83.020"}, "cs": 24987956059, "ts": 1673272861686}
    delta = {"topic": "tickers.BTCUSDT", "type": "delta", "data": {"symbol": "BTCUSDT", "markPrice": "17220.01",
             "bid1Price": "17219.00"}, "cs": 24987956060, "ts": 1673272861786}
    early = {**delta, "topic": "tickers.ETHUSDT", "data": {"symbol": "ETHUSDT", "markPrice": "1200"}}
    for msg in (early, snapshot, delta):
        feed.on_frame(orjson.dumps(msg), 0.0)
    t0, t1 = 1673272861.686, 1673272861.786
    assert events == [
        Ticker("bybitlinear", "BTCUSDT", t0, 16926.5, 17281.5, 16915.0, 17216.0, 91705.276, 1570383121.943499, 17215.5, 17216.0),
        MarkPrice("bybitlinear", "BTCUSDT", t0, 17217.33),
        IndexPrice("bybitlinear", "BTCUSDT", t0, 17227.36),
        FundingRate("bybitlinear", "BTCUSDT", t0, -0.000212, 1673280000.0, 8.0),
        OpenInterest("bybitlinear", "BTCUSDT", t0, 68744.761, 1183601235.91),
        # the delta: the ticker with its new bid, the new mark; index, funding and interest unchanged
        Ticker("bybitlinear", "BTCUSDT", t1, 16926.5, 17281.5, 16915.0, 17216.0, 91705.276, 1570383121.943499, 17219.0, 17216.0),
        MarkPrice("bybitlinear", "BTCUSDT", t1, 17220.01),
    ]


def test_liquidations_parse_with_the_forced_orders_side() -> None:
    events: list[MarketEvent] = []
    feed = BybitLinear(on_market=events.append)
    msg = {"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "ts": 1739502303204,
           "data": [{"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"},
                    {"T": 1739502302930, "s": "ROSEUSDT", "S": "Buy", "v": "10", "p": "0.045"}]}
    feed.on_frame(orjson.dumps(msg), 0.0)
    assert events == [Liquidation("bybitlinear", "ROSEUSDT", 1739502302.929, Side.BUY, 0.04499, 20000.0),
                      Liquidation("bybitlinear", "ROSEUSDT", 1739502302.93, Side.SELL, 0.045, 10.0)]


def test_spot_candles_and_tickers_from_the_simulator_repaired_after_a_lost_frame_and_a_reconnect() -> None:
    async def body() -> None:
        async with SimCluster(["bybit"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["bybit"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("bybit")
            events: list[MarketEvent] = []
            LosesOneClose.lost = []
            feed = VenueFeed(LosesOneClose, ["BTC-USDT"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))

            async def drop_and_reconnect(session: aiohttp.ClientSession) -> None:
                sim.inject("drop")  # every socket closed: candles close while the feed reconnects
                await wait_for(lambda: feed.connections[0].connects >= 2, 20, "reconnected")

            await run_until_repaired(feed, LosesOneClose, events, more=3, during=drop_and_reconnect)
            got = closed_candles(events)
            assert all(c.venue == "bybit" for c in got.values())
            assert_equal_to_tape(got, sim, "BTC-USDT", Interval.M1)
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers and all(t.symbol == "BTC-USDT" and t.bid is None for t in tickers)  # spot's ticker has no touch
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in tickers)
            assert any(t.volume for t in tickers)

    run(body(), timeout=120)


def test_linear_ticker_mark_index_funding_and_open_interest_from_the_simulator() -> None:
    async def body() -> None:
        async with SimCluster(["bybitlinear"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["bybitlinear"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("bybitlinear")
            events: list[MarketEvent] = []
            CountsDeltas.deltas = 0
            feed = VenueFeed(CountsDeltas, ["BTC-USDT-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True, funding=True, liquidations=True))
            kinds = (Candle, Ticker, MarkPrice, IndexPrice, FundingRate, OpenInterest)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds)
                                   and CountsDeltas.deltas >= 3, 30, "every stream, and ticker deltas")
                    async with session.get(f"{rest}/v5/market/tickers?category=linear&symbol=BTCUSDT") as resp:
                        ticker = (await resp.json())["result"]["list"][0]
                    async with session.get(f"{rest}/v5/market/open-interest?category=linear&symbol=BTCUSDT&intervalTime=5min") as resp:
                        interest = (await resp.json())["result"]["list"][0]
                finally:
                    await feed.stop()
            assert feed.connections[0].handler.errors == 0  # every topic accepted, allLiquidation too
            funding = [e for e in events if isinstance(e, FundingRate)][-1]
            assert funding.symbol == "BTC-USDT-PERP" and funding.venue == "bybitlinear"
            assert funding.rate == float(ticker["fundingRate"]) and funding.next_time == int(ticker["nextFundingTime"]) / 1000
            assert funding.next_time > time.time() and funding.next_time % (8 * 3600) == 0 and funding.interval_hours == 8
            oi = [e for e in events if isinstance(e, OpenInterest)][-1]
            assert oi.amount == float(interest["openInterest"]) == float(ticker["openInterest"])
            mark = [e for e in events if isinstance(e, MarkPrice)][-1]
            index = [e for e in events if isinstance(e, IndexPrice)][-1]
            assert abs(mark.price / float(ticker["markPrice"]) - 1) < 0.01 and abs(index.price / mark.price - 1) < 0.01
            last = [e for e in events if isinstance(e, Ticker)][-1]
            assert last.symbol == "BTC-USDT-PERP" and last.bid is not None and last.ask is not None and last.bid < last.ask
            assert abs(last.last / float(ticker["lastPrice"]) - 1) < 0.01

    run(body(), timeout=90)


def test_the_capture_carries_none_of_these_topics_and_replays_no_market_events() -> None:
    """BYBIT.ws.25.0 is the legacy ``realtime_public`` feed (orderBookL2_25 and trade only)."""
    path = CAPTURES / "BYBIT.ws.25.0.gz"
    topics = set()
    with gzip.open(path, "rt") as f:
        for line in f:
            _, sep, message = line.partition(": ")
            if sep and message.startswith("{"):
                topic = json.loads(message).get("topic")
                if topic:
                    topics.add(topic.split(".", 1)[0])
    assert topics == {"orderBookL2_25", "trade"}
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([path])
    assert events == []
