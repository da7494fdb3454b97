from __future__ import annotations

import random

import aiohttp

from crossbook.feeds.connection import Backoff, ResyncGuard
from crossbook.feeds.manager import VenueFeed, chunk
from crossbook.model import BookState
from crossbook.sim.cluster import SimCluster
from crossbook.venues.binance import BinanceSpot

from ..conftest import run, wait_for


def test_backoff_is_full_jitter_capped_at_60s() -> None:
    b = Backoff(base=0.5, cap=60.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(40)]
    ceilings = [min(60.0, 0.5 * 2**i) for i in range(40)]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[10:]) > 30.0  # later attempts do reach far into the 60 s window
    assert b.ceiling() == 60.0
    b.reset()
    assert b.ceiling() == 0.5


def test_resync_guard_throttles_a_book_that_keeps_failing() -> None:
    g = ResyncGuard(window=60.0, first_delay=0.5, cap=30.0)
    delays = [g.delay_for("BTC", now=float(t)) for t in range(10)]
    assert delays[0] == 0.0
    assert delays[1:5] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 30.0
    assert g.delay_for("ETH", now=5.0) == 0.0  # other books are not held back
    assert g.delay_for("BTC", now=500.0) == 0.0  # quiet for a window: back to immediate


def test_chunk_splits_by_per_connection_limit() -> None:
    assert chunk(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]


def test_subscriptions_split_across_connections_and_roll_over() -> None:
    Small = type("Small", (BinanceSpot,), {"max_streams": 4, "max_connection_age": 1.0})

    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=50) as cluster:
            ws, rest = cluster.urls("binance")
            feed = VenueFeed(Small, ["BTC-USDT", "ETH-USDT", "SOL-USDT"], ws_url=ws, rest_url=rest)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    assert len(feed.connections) == 2  # 2 streams per symbol, 4 per connection
                    await wait_for(lambda: all(b.state is BookState.LIVE for b in feed.books.values()), 10, "live")
                    await wait_for(lambda: all(c.rollovers >= 1 and c.connects >= 2 for c in feed.connections), 10, "rollover")
                    await wait_for(lambda: all(b.state is BookState.LIVE for b in feed.books.values()), 10, "live again")
                    assert all(c.backoff.attempt == 0 for c in feed.connections)  # a rollover is not a failure
                finally:
                    await feed.stop()

    run(body())
