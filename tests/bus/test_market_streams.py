"""The market streams beyond the book on the bus: a feed process asked for them (``crossbook feed
--streams``) publishes each venue's candles, tickers, funding, mark and index prices and
liquidations on their own subjects, OKX's candles from its business socket included, and a desk on
the bus hears them through ``on_market`` with the venue id and the standard symbol."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import nats
from nats.aio.msg import Msg

from crossbook.bus.codec import EVENT_KINDS, decode_event
from crossbook.bus.natsd import NatsServer
from crossbook.bus.subjects import MARKET_KINDS
from crossbook.desk.bus_feed import FeedProcess
from crossbook.feeds.handler import Channels
from crossbook.market.bus_data import BusMarketData
from crossbook.model import Candle, FundingRate, Interval, MarkPrice, Ticker
from crossbook.venues.registry import venue_of

from ..conftest import run, wait_for

VENUES = ["binance", "okx"]
PERP = "BTC-USDT-PERP"
WITHIN = 60.0
CHANNELS = Channels(candles=(Interval.M1,), ticker=True, funding=True, liquidations=True)


def test_a_feed_process_publishes_every_asked_stream_and_a_bus_desk_hears_them(tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server:
            nc = await nats.connect(server.url)
            seen: dict[str, list[Any]] = defaultdict(list)

            async def listen(msg: Msg) -> None:
                if msg.subject.split(".")[1] in MARKET_KINDS:
                    seen[msg.subject].append(decode_event(msg.data))

            await nc.subscribe("crossbook.*.*.BTC-USDT-PERP", cb=listen)
            try:
                async with FeedProcess(server.url, VENUES, [PERP], sim=True, name="feed-streams", channels=CHANNELS):
                    heard: list[Any] = []
                    desk_market = BusMarketData(VENUES, [PERP], url=server.url, name="desk-streams",
                                                on_market=heard.append)
                    async with aiohttp.ClientSession() as session:
                        await desk_market.start(session)
                        try:
                            kinds = [(EVENT_KINDS[cls], cls) for cls in (Candle, Ticker, FundingRate, MarkPrice)]
                            wanted = {f"crossbook.{kind}.{venue}.{PERP}" for kind, _ in kinds for venue in VENUES}
                            await wait_for(lambda: wanted <= set(seen), WITHIN, f"every stream of {sorted(wanted)}")
                            for kind, cls in kinds:
                                for venue in VENUES:
                                    events = seen[f"crossbook.{kind}.{venue}.{PERP}"]
                                    assert all(isinstance(e, cls) and e.symbol == PERP for e in events), (kind, venue)
                            okx_candles = seen[f"crossbook.candle.okx.{PERP}"]  # from OKX's business socket
                            assert all(c.interval is Interval.M1 and c.high >= max(c.open, c.close) for c in okx_candles)
                            await wait_for(lambda: {(type(e), venue_of(e.venue)) for e in heard}
                                           >= {(cls, v) for _, cls in kinds for v in VENUES}, WITHIN,
                                           "the desk on the bus hearing every stream of both venues")
                        finally:
                            await desk_market.stop()
            finally:
                await nc.close()

    run(body(), 180)
