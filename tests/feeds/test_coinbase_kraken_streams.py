"""Coinbase's and Kraken's streams beyond book and trades (tickers and candles), from their
simulators through the real feed, and a Kraken candle gap repaired from REST.

Neither recorded capture carries these channels as the feeds read them: COINBASE.ws.28.0 is the
retired Coinbase Pro protocol (its ``ticker`` frames route to no feed) and KRAKEN.ws.50.0 holds v1
``book`` frames only."""

from __future__ import annotations

import time
from typing import ClassVar

import aiohttp

from crossbook.feeds.handler import Channels, Frame, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import Interval, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.coinbase import CoinbaseSpot
from crossbook.venues.kraken import KrakenSpot

from ..conftest import run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, run_until_repaired


class KrakenLosesOneCandle(KrakenSpot):
    """Kraken whose socket loses every ``ohlc`` frame of one candle, the one after two closed."""

    lost: ClassVar[list[str]] = []  # the interval_begin of the candle lost

    def receive(self, data: Frame, ts: float) -> list[Frame] | None:
        text = data.decode() if isinstance(data, bytes) else data
        if '"interval_begin":"' in text:
            begin = text.split('"interval_begin":"', 1)[1][:19]
            closed = sum(1 for s in self.candle_series.values() for _ in s.closed)
            if not type(self).lost and closed >= 2 and not any(begin in t for t in self.seen_begins()):
                type(self).lost.append(begin)
            if begin in type(self).lost:
                return None
        return super().receive(data, ts)

    def seen_begins(self) -> list[str]:
        return [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(c.open_time)) for c in self.forming.values()]


def test_kraken_ticker_and_1m_candles_from_the_simulator_repaired_after_a_lost_candle() -> None:
    async def body() -> None:
        async with SimCluster(["kraken"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["kraken"]
            sim.tape.clock = fast_clock(60)  # 1m candles close every second
            ws, rest = cluster.urls("kraken")
            events: list[MarketEvent] = []
            KrakenLosesOneCandle.lost = []
            feed = VenueFeed(KrakenLosesOneCandle, ["BTC-USD"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))
            await run_until_repaired(feed, KrakenLosesOneCandle, events)
            got = closed_candles(events)
            lost = time.mktime(time.strptime(KrakenLosesOneCandle.lost[0], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            assert lost in got, "the lost candle came back from REST"
            assert_equal_to_tape(got, sim, "BTC-USD", Interval.M1, quote_volume="close")
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers and all(t.symbol == "BTC-USD" for t in tickers)
            assert all(t.bid is not None and t.ask is not None and t.bid < t.ask for t in tickers)
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in tickers)
            day = sim.tape.day("BTC-USD")
            assert tickers[-1].open is not None and float(day.low) <= tickers[-1].open <= float(day.high)

    run(body(), timeout=120)


def test_coinbase_ticker_and_5m_candles_from_the_simulator() -> None:
    async def body() -> None:
        async with SimCluster(["coinbase"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["coinbase"]
            sim.tape.clock = fast_clock(300)  # 5m candles close every second
            ws, rest = cluster.urls("coinbase")
            events: list[MarketEvent] = []
            feed = VenueFeed(CoinbaseSpot, ["BTC-USD"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M5,), ticker=True))
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: len(closed_candles(events)) >= 3, 30, "three closed candles")
                finally:
                    await feed.stop()
            assert_equal_to_tape(closed_candles(events), sim, "BTC-USD", Interval.M5, quote_volume="unpublished")
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers and all(t.bid is not None and t.ask is not None and t.bid < t.ask for t in tickers)
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in tickers)
            assert all(t.open is not None and t.low <= t.open * (1 + 1e-9) and t.open <= t.high * (1 + 1e-9) for t in tickers)

    run(body(), timeout=90)
