"""MEXC's, Bitget's and dYdX's streams beyond book and trades, from their simulators through the real
feed: candles equal to the simulator's own (one stream per venue repaired from REST after a lost
final frame), tickers, and on contracts funding, mark, index and open interest; and Bitget's
recorded capture (v1 ``ticker`` and ``candle1m``) replayed equal to its frames. The MEXC and dYdX
captures carry none of these channels (there is no MEXC capture; DYDX.ws.1.0 is v3 books and trades)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any

import aiohttp

from crossbook.feeds.handler import Channels, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay
from crossbook.model import Candle, FundingRate, IndexPrice, Interval, MarkPrice, OpenInterest, Ticker
from crossbook.sim.cluster import SimCluster
from crossbook.venues.bitget import BitgetFutures, BitgetSpot
from crossbook.venues.dydx import DydxPerp
from crossbook.venues.mexc import MexcSpot, decode_push, decode_strings

from ..conftest import CAPTURES, run, wait_for
from .streams_kit import assert_equal_to_tape, closed_candles, fast_clock, losing_one_close, run_until_repaired


def bitget_final_candle(raw: bytes) -> bool:
    """A Bitget candle push made at or after its window's end: the candle's final figures."""
    if b'"channel":"candle1m"' not in raw or b'"action":"update"' not in raw:
        return False
    msg = json.loads(raw)
    return int(msg["data"][0][0]) + 60_000 <= msg["ts"]


BitgetLosesOneClose: Any = losing_one_close(BitgetSpot, bitget_final_candle)


def test_bitget_spot_candles_and_ticker_repaired_after_a_lost_final_push() -> None:
    async def body() -> None:
        async with SimCluster(["bitget"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["bitget"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("bitget")
            events: list[MarketEvent] = []
            BitgetLosesOneClose.lost = []
            feed = VenueFeed(BitgetLosesOneClose, ["BTC-USDT"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))
            await run_until_repaired(feed, BitgetLosesOneClose, events)
            got = closed_candles(events, "BTC-USDT")
            lost = json.loads(BitgetLosesOneClose.lost[0])["data"][0]
            assert int(lost[0]) / 1000 in got, "the candle whose final push was lost came back from REST"
            assert_equal_to_tape(got, sim, "BTC-USDT", Interval.M1)
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers and all(t.symbol == "BTC-USDT" and t.bid is not None and t.ask is not None and t.bid < t.ask
                                   for t in tickers)
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in tickers)

    run(body(), timeout=120)


def test_bitget_futures_ticker_funding_mark_index_open_interest_and_candles() -> None:
    async def body() -> None:
        async with SimCluster(["bitgetfutures"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["bitgetfutures"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("bitgetfutures")
            events: list[MarketEvent] = []
            feed = VenueFeed(BitgetFutures, ["BTC-USDT-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), funding=True))
            kinds = (Ticker, FundingRate, MarkPrice, IndexPrice, OpenInterest)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds)
                                   and len(closed_candles(events)) >= 3, 30, "every stream and three closed candles")
                    query = "symbol=BTCUSDT&productType=USDT-FUTURES"
                    async with session.get(f"{rest}/api/v2/mix/market/current-fund-rate?{query}") as resp:
                        funding_rest = (await resp.json())["data"][0]
                finally:
                    await feed.stop()
            funding = [e for e in events if isinstance(e, FundingRate)][-1]
            assert funding.symbol == "BTC-USDT-PERP" and funding.venue == "bitgetfutures"
            # the premium moves: the stream's rate and the REST one a moment later are both the venue's formula on it
            assert abs(funding.rate) <= float(funding_rest["maxFundingRate"])
            assert abs(funding.rate - float(funding_rest["fundingRate"])) < 5e-4
            assert funding.next_time is not None and funding.next_time % (8 * 3600) == 0 and funding.interval_hours == 8.0
            assert abs(funding.next_time - int(funding_rest["nextUpdate"]) / 1000) in (0, 8 * 3600)
            mark = next(e for e in events if isinstance(e, MarkPrice))
            index = next(e for e in events if isinstance(e, IndexPrice))
            assert mark.symbol == index.symbol == "BTC-USDT-PERP" and abs(index.price / mark.price - 1) < 0.05
            oi = next(e for e in events if isinstance(e, OpenInterest))
            assert oi.symbol == "BTC-USDT-PERP" and oi.amount > 0
            assert_equal_to_tape(closed_candles(events), sim, "BTC-USDT-PERP", Interval.M1)

    run(body(), timeout=90)


def bitget_capture_frames() -> list[tuple[float, dict[str, object]]]:
    """The recorded frames the exchange sent, with their receive times."""
    out = []
    with gzip.open(CAPTURES / "BITGET.ws.1.0.gz", "rt") as f:
        for line in f:
            stamp, sep, message = line.partition(": ")
            if sep and line[0].isdigit():
                out.append((float(stamp), json.loads(message)))
    return out


def test_the_bitget_capture_replays_tickers_and_candles_equal_to_its_frames() -> None:
    """v1 (2022) pushes: tickers name ``last``/``bestBid``/``bestAsk``, candle rows end at the base
    volume and a push carries no ``ts`` (its arrival dates it); closed candles are those pushed after
    their minute, each once, the forming ones every push."""
    events: list[MarketEvent] = []
    Replay(on_market=events.append).run([CAPTURES / "BITGET.ws.1.0.gz"])
    tickers: list[Ticker] = []
    candles: list[Candle] = []
    final: set[tuple[str, int]] = set()
    for received, msg in bitget_capture_frames():
        arg, data = msg.get("arg"), msg.get("data")
        if not isinstance(arg, dict) or not isinstance(data, list) or "action" not in msg:
            continue
        if arg["channel"] == "ticker":
            tickers += [Ticker("bitget", d["instId"], d["ts"] / 1000, float(d["open24h"]), float(d["high24h"]),
                               float(d["low24h"]), float(d["last"]), float(d["baseVolume"]), float(d["quoteVolume"]),
                               float(d["bestBid"]), float(d["bestAsk"])) for d in data]
        elif arg["channel"] == "candle1m":
            for row in data:
                opened = int(row[0])
                closed = received * 1000 >= opened + 60_000
                if closed and (arg["instId"], opened) in final:
                    continue
                if closed:
                    final.add((arg["instId"], opened))
                candles.append(Candle("bitget", arg["instId"], Interval.M1, opened / 1000, float(row[1]), float(row[2]),
                                      float(row[3]), float(row[4]), float(row[5]), None, closed))
    assert len(tickers) > 100 and len(candles) > 100 and any(not c.closed for c in candles)
    assert [e for e in events if isinstance(e, Ticker)] == tickers
    assert [e for e in events if isinstance(e, Candle)] == candles


def test_dydx_candles_repaired_after_a_lost_final_frame_and_the_markets_channel() -> None:
    async def body() -> None:
        async with SimCluster(["dydx"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["dydx"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("dydx")

            def final_candle(raw: bytes) -> bool:
                """A v4_candles frame of a candle whose minute is over on the simulator's clock."""
                if b'"channel":"v4_candles"' not in raw or b'"channel_data"' not in raw:
                    return False
                started = json.loads(raw)["contents"]["startedAt"]
                return iso_ms(started) + 60_000 <= sim.tape.clock()

            loses: Any = losing_one_close(DydxPerp, final_candle)
            events: list[MarketEvent] = []
            feed = VenueFeed(loses, ["BTC-USD-PERP"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True, funding=True))
            kinds = (Ticker, FundingRate, MarkPrice, OpenInterest)
            market: dict[str, Any] = {}

            async def markets_then_read_them(session: aiohttp.ClientSession) -> None:
                """Read last, just before the feed stops: its figures are compared with the last events."""
                await wait_for(lambda: all(any(isinstance(e, k) for e in events) for k in kinds), 30, "markets")
                async with session.get(f"{rest}/v4/perpetualMarkets?ticker=BTC-USD") as resp:
                    market.update((await resp.json())["markets"]["BTC-USD"])

            await run_until_repaired(feed, loses, events, then=markets_then_read_them)
            got = closed_candles(events, "BTC-USD-PERP")
            assert iso_ms(json.loads(loses.lost[0])["contents"]["startedAt"]) / 1000 in got
            assert_equal_to_tape(got, sim, "BTC-USD-PERP", Interval.M1)
            funding = [e for e in events if isinstance(e, FundingRate)][-1]
            assert funding.symbol == "BTC-USD-PERP" and funding.interval_hours == 1.0
            assert funding.rate == funding.predicted and abs(funding.rate) <= 0.0004  # dYdX's cap on the premium / 8
            assert abs(funding.rate - float(market["nextFundingRate"])) < 2e-4  # the premium moves meanwhile
            assert funding.next_time is not None and funding.next_time % 3600 == 0 and funding.next_time > funding.ts
            mark = [e for e in events if isinstance(e, MarkPrice)][-1]
            assert mark.symbol == "BTC-USD-PERP" and abs(mark.price / float(market["oraclePrice"]) - 1) < 0.01
            oi = [e for e in events if isinstance(e, OpenInterest)][-1]
            assert oi.amount == float(market["openInterest"]) > 0
            ticker = [e for e in events if isinstance(e, Ticker)][-1]
            assert ticker.symbol == "BTC-USD-PERP" and ticker.quote_volume == float(market["volume24H"])
            assert not [e for e in events if e.symbol == "ETH-USD-PERP"], "markets the feed does not follow are left out"

    run(body(), timeout=120)


def iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_the_dydx_capture_carries_no_market_channel() -> None:
    """DYDX.ws.1.0 is v3 (``v3_orderbook``, ``v3_trades``): replayed through the v4 feed, it yields
    its trades and no market event."""
    events: list[MarketEvent] = []
    replay = Replay(venue="dydx", on_market=events.append).run([CAPTURES / "DYDX.ws.1.0.gz"])
    assert sum(h.messages for h in replay.handlers.values()) > 4000 and events == []


def test_mexc_protobuf_klines_repaired_after_a_lost_final_push_and_the_mini_ticker() -> None:
    async def body() -> None:
        async with SimCluster(["mexc"], interval=0.05, levels=50) as cluster:
            sim = cluster.venues["mexc"]
            sim.tape.clock = fast_clock()
            ws, rest = cluster.urls("mexc")

            def final_kline(raw: bytes) -> bool:
                """A kline push sent at or after its window's end (the wrapper's sendTime)."""
                push = decode_push(raw) if raw[:1] != b"{" else None
                if push is None or push.kline is None:
                    return False
                k = decode_strings(push.kline, 9)
                return push.send_time_ms >= int(k[9]) * 1000

            loses: Any = losing_one_close(MexcSpot, final_kline)
            events: list[MarketEvent] = []
            feed = VenueFeed(loses, ["BTC-USDT"], ws_url=ws, rest_url=rest, on_market=events.append,
                             channels=Channels(candles=(Interval.M1,), ticker=True))
            await run_until_repaired(feed, loses, events)
            got = closed_candles(events, "BTC-USDT")
            lost = decode_strings(decode_push(loses.lost[0]).kline or b"", 9)
            assert float(lost[2]) in got, "the candle whose final push was lost came back from REST"
            assert_equal_to_tape(got, sim, "BTC-USDT", Interval.M1)
            tickers = [e for e in events if isinstance(e, Ticker)]
            assert tickers and all(t.symbol == "BTC-USDT" and t.bid is None and t.ask is None for t in tickers)
            assert all(t.low is not None and t.high is not None and t.low <= t.last <= t.high for t in tickers)
            day = sim.tape.day("BTC-USDT")
            assert tickers[-1].open is not None and abs(tickers[-1].open / float(day.open) - 1) < 0.01

    run(body(), timeout=120)
