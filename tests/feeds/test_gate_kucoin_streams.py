"""Gate's (spot and USDT perpetuals) and KuCoin's (spot) streams beyond book and trades: tickers,
candles, funding, mark, index and open interest from their simulators through the real feed, a
candle stream that lost a frame repaired from REST, and the recorded captures replayed.

GATEIO.ws.1.0 (2021) carries ``spot.tickers`` and ``spot.candlesticks``; its candle pushes predate
Gate's ``a`` (base amount) and ``w`` (closed) fields, so they make no candle (no base volume) and
its tickers are checked. KUCOIN.ws.1.0 carries ``/market/candles`` and ``/market/ticker``."""

from __future__ import annotations

import gzip
import json
from typing import Any, ClassVar

import aiohttp
import orjson

from crossbook.feeds.handler import Channels, Frame, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay
from crossbook.model import Candle, FundingRate, IndexPrice, Interval, MarkPrice, OpenInterest, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.gate import GateSpot, GateSwap
from crossbook.venues.kucoin import KucoinSpot

from ..conftest import CAPTURES, run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, losing_one_close, run_until_repaired


def frames_of(path: Any) -> list[tuple[float, dict[str, Any]]]:
    """The frames the venue sent, as plain JSON, with their receive times."""
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            stamp, sep, message = line.partition(": ")
            if sep and " <- " not in line and not line.startswith(("wss://", "https://")) and message.startswith("{"):
                out.append((float(stamp), json.loads(message)))
    return out


def test_gate_spot_candles_repaired_after_a_lost_close_and_tickers() -> None:
    lossy = losing_one_close(GateSpot, lambda raw: b'"w":true' in raw)

    async def body() -> None:
        async with SimCluster(["gate"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["gate"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("gate")
            events: list[MarketEvent] = []
            feed = VenueFeed(lossy, ["BTC-USDT", "ETH-USDT"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))
            await run_until_repaired(feed, lossy, events, "BTC-USDT")
            for symbol in ("BTC-USDT", "ETH-USDT"):
                assert_equal_to_tape(closed_candles(events, symbol), sim, symbol, Interval.M1)
            tickers = {e.symbol: e for e in events if isinstance(e, Ticker)}
            assert set(tickers) == {"BTC-USDT", "ETH-USDT"}
            for t in tickers.values():
                assert t.venue == "gate" and t.bid is not None and t.ask is not None and t.bid < t.ask
                assert t.low is not None and t.high is not None and t.low <= t.last <= t.high
                assert t.volume is not None and t.quote_volume is not None and t.open is None

    run(body(), timeout=120)


def test_gate_perpetual_ticker_funding_mark_index_open_interest_and_candles() -> None:
    lossy = losing_one_close(GateSwap, lambda raw: b'"w":true' in raw)

    async def body() -> None:
        async with SimCluster(["gateswap"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["gateswap"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("gateswap")
            events: list[MarketEvent] = []
            feed = VenueFeed(lossy, ["BTC-USDT-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), funding=True))
            kinds = (Ticker, FundingRate, MarkPrice, IndexPrice, OpenInterest)
            contract: dict[str, Any] = {}

            async def every_stream(session: aiohttp.ClientSession) -> None:
                await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 20, "every stream")

            async def read_contract(session: aiohttp.ClientSession) -> None:
                async with session.get(f"{rest}/api/v4/futures/usdt/contracts/BTC_USDT") as resp:
                    contract.update(await resp.json())

            await run_until_repaired(feed, lossy, events, during=every_stream, then=read_contract)
            size = float(contract["quanto_multiplier"])
            funding = [e for e in events if isinstance(e, FundingRate)][-1]
            assert funding.symbol == "BTC-USDT-PERP" and funding.venue == "gateswap"
            assert funding.interval_hours == contract["funding_interval"] / 3600 and funding.predicted is not None
            assert abs(funding.rate) <= 0.003  # Gate's cap, from the premium of sim/perp_prices
            mark = [e for e in events if isinstance(e, MarkPrice)][-1]
            index = [e for e in events if isinstance(e, IndexPrice)][-1]
            assert abs(mark.price / index.price - 1) <= 0.01 + 1e-9  # the mark stays within 1 % of the index
            oi = next(e for e in events if isinstance(e, OpenInterest))
            assert oi.amount > 0 and abs(oi.amount / size - round(oi.amount / size)) < 1e-6  # whole contracts
            assert oi.value is not None and abs(oi.value / (oi.amount * mark.price) - 1) < 0.05
            ticker = next(e for e in events if isinstance(e, Ticker))
            assert ticker.symbol == "BTC-USDT-PERP" and ticker.bid is None and ticker.volume is not None
            got = closed_candles(events, "BTC-USDT-PERP")
            own = {c.start_ms / 1000: c for c in sim.tape.candles("BTC-USDT-PERP", 60, 1000, int(min(got) * 1000),
                                                                 int(max(got) * 1000))}
            assert set(got) == set(own)
            for t, c in own.items():
                ours = got[t]
                assert (ours.open, ours.high, ours.low, ours.close) == tuple(float(x) for x in (c.open, c.high, c.low, c.close))
                assert ours.volume == float(c.volume)  # contracts times the contract size
            repaired = [c for c in got.values() if c.quote_volume is not None]  # REST's sum; the stream has none
            assert repaired and all(c.quote_volume == float(own[c.open_time].quote_volume) for c in repaired)

    run(body(), timeout=120)


def test_the_gate_capture_replays_tickers_equal_to_its_frames_and_no_candle() -> None:
    path = CAPTURES / "GATEIO.ws.1.0.gz"
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([path])
    expected = []
    candle_pushes = 0
    for _, msg in frames_of(path):
        if msg.get("event") != "update":
            continue
        if msg["channel"] == "spot.tickers":
            t = msg["result"]
            expected.append(Ticker("gate", t["currency_pair"], float(msg["time"]), None, float(t["high_24h"]),
                                   float(t["low_24h"]), float(t["last"]), float(t["base_volume"]), float(t["quote_volume"]),
                                   float(t["highest_bid"]), float(t["lowest_ask"])))
        elif msg["channel"] == "spot.candlesticks":
            candle_pushes += 1
            assert "a" not in msg["result"]  # no base amount in 2021's pushes
    assert len(expected) > 10 and candle_pushes > 10
    assert [e for e in events if isinstance(e, Ticker)] == expected
    assert not [e for e in events if isinstance(e, Candle)]



class KucoinLosesOneCandle(KucoinSpot):
    """KuCoin whose socket loses every frame of one BTC-USDT candle (the first to start after two
    closed): KuCoin sends no final frame, so a lost candle is one never seen at all."""

    lost: ClassVar[list[str]] = []  # the start of the candle lost, as KuCoin sends it

    def receive(self, data: Frame, ts: float) -> list[Frame] | None:
        raw = data.encode() if isinstance(data, str) else data
        if b'"trade.candles.' in raw and b'"symbol":"BTC-USDT"' in raw:
            start = orjson.loads(raw)["data"]["candles"][0]
            closed = sum(len(s.closed) for s in self.candle_series.values())
            if not type(self).lost and closed >= 2 and b'"trade.candles.add"' in raw:
                type(self).lost.append(start)
            if start in type(self).lost:
                return None
        return super().receive(data, ts)


def test_kucoin_snapshot_tickers_and_candles_repaired_after_a_lost_candle() -> None:
    async def body() -> None:
        async with SimCluster(["kucoin"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["kucoin"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("kucoin")
            events: list[MarketEvent] = []
            KucoinLosesOneCandle.lost = []
            feed = VenueFeed(KucoinLosesOneCandle, ["BTC-USDT", "ETH-USDT"], ws_url=ws, rest_url=rest,
                             on_market=events.append, channels=Channels(candles=(Interval.M1,), ticker=True))

            async def a_snapshot_of_each_symbol(session: aiohttp.ClientSession) -> None:
                await wait_for(lambda: {e.symbol for e in events if isinstance(e, Ticker)} == {"BTC-USDT", "ETH-USDT"},
                               20, "a snapshot of each symbol")

            await run_until_repaired(feed, KucoinLosesOneCandle, events, "BTC-USDT", then=a_snapshot_of_each_symbol)
            lost = float(KucoinLosesOneCandle.lost[0])
            assert lost in closed_candles(events, "BTC-USDT")  # from REST
            for symbol in ("BTC-USDT", "ETH-USDT"):
                assert_equal_to_tape(closed_candles(events, symbol), sim, symbol, Interval.M1)
            ticker = [e for e in events if isinstance(e, Ticker) and e.symbol == "BTC-USDT"][-1]
            assert ticker.venue == "kucoin" and ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
            assert ticker.low is not None and ticker.high is not None and ticker.low <= ticker.last <= ticker.high
            assert ticker.open is not None and ticker.low <= ticker.open <= ticker.high
            assert ticker.volume is not None and ticker.quote_volume is not None and ticker.volume > 0

    run(body(), timeout=120)


def test_the_kucoin_capture_replays_candles_and_tickers_equal_to_its_frames() -> None:
    path = CAPTURES / "KUCOIN.ws.1.0.gz"
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([path])
    candles: list[Candle] = []
    tickers: list[Ticker] = []
    newest: dict[str, list[str]] = {}  # symbol -> its newest candle row
    for _, msg in frames_of(path):
        subject, data = msg.get("subject"), msg.get("data") or {}
        if subject == "trade.ticker":
            tickers.append(Ticker("kucoin", msg["topic"].split(":")[1], data["time"] / 1000, None, None, None,
                                  float(data["price"]), None, None, float(data["bestBid"]), float(data["bestAsk"])))
        elif subject in ("trade.candles.add", "trade.candles.update"):
            symbol, row = data["symbol"], data["candles"]
            held = newest.get(symbol)
            if held is not None and int(held[0]) < int(row[0]):
                candles.append(kucoin_candle(symbol, held, True))
            newest[symbol] = row
            candles.append(kucoin_candle(symbol, row, False))
    assert len(tickers) > 100 and any(c.closed for c in candles) and len(candles) >= 6
    assert [e for e in events if isinstance(e, Ticker)] == tickers
    assert [e for e in events if isinstance(e, Candle)] == candles


def kucoin_candle(symbol: str, row: list[str], closed: bool) -> Candle:
    start, o, c, h, low, volume, turnover = (float(x) for x in row)
    return Candle("kucoin", symbol, Interval.M1, start, o, h, low, c, volume, turnover, closed)
