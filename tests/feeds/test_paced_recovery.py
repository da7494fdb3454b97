"""Recovery is paced: a venue with hundreds of books, its connection dropped, resubscribes and
re-fetches every snapshot within its REST limits and its WebSocket subscribe limits, and the
simulator, which enforces both, refuses nothing.

Each simulated venue lists 300 books. Its REST table is the venue's own with the pool the
snapshots spend compressed in time (Binance's 6,000 weight per minute becomes 6,000 per 3 s), so
that recovering is bound by the limit for seconds rather than minutes and a client that did not
pace would be refused: the simulator and the desk's limiter use the same compressed table.

At its real rates a venue recovers 300 books in a few subscribe messages, well inside its message
limit, so the subscribe pacing is tested apart: KuCoin's message rate compressed (on the client,
through ``MarketData.subscribe_limits``, and in the simulator alike) so far that recovering must
spread its subscribes over seconds."""

from __future__ import annotations

import itertools
import math
import string
from dataclasses import replace

import aiohttp
import pytest

from crossbook.market.data import MarketData
from crossbook.model import BookState
from crossbook.sim.cluster import SimCluster
from crossbook.sim.market import MarketSpec
from crossbook.sim.ratelimit import VenueLimits, scaled
from crossbook.sim.server import SimVenue
from crossbook.sim.venues import sim_class
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import VenueLimiters
from crossbook.venues.spec.limits import LimitTable, SubscribeLimits, Window

from ..conftest import run, wait_for

BOOKS = 300
BASES = ["Q" + "".join(pair) for pair in itertools.islice(itertools.product(string.ascii_uppercase, repeat=2), BOOKS)]
SYMBOLS = [f"{base}-USDT" for base in BASES]
DEADLINE = 120.0  # seconds for all books to go live, at the start and again after the drop

# venue -> (the pool its book snapshots spend, the factor its window is compressed by)
SNAPSHOT_POOL = {"binance": ("REQUEST_WEIGHT", 1 / 20), "kucoin": ("public", 1 / 10)}


def wide_venue(feed_id: str, cluster: SimCluster) -> SimVenue:
    """``feed_id``'s simulator listing the BOOKS symbols too (each base a new asset at about 10 USDT),
    beside its own (whose ladders the market already moves)."""
    for i, base in enumerate(BASES):
        cluster.market.fair.usd[base] = 10.0 + i / 100
    base_cls = sim_class(feed_id)
    wide = type(f"Wide{base_cls.__name__}", (base_cls,), {
        "markets": (*base_cls.markets, *SYMBOLS),
        "specs": {s: MarketSpec(s, 0.001, 0.01) for s in SYMBOLS},
    })
    sim: SimVenue = wide(cluster.market)
    cluster.venues[feed_id] = sim
    return sim


def compressed(venue: str) -> LimitTable:
    pool, factor = SNAPSHOT_POOL[venue]
    return scaled(spec(venue).limit_table(), {pool}, time_factor=factor)


def refusals(sim: SimVenue) -> int:
    """Requests and socket messages the simulator refused for a limit (429, 418, ban, subscribe)."""
    return sim.rate_limited + sim.subscribe_refused


@pytest.mark.parametrize("venue", sorted(SNAPSHOT_POOL))
def test_three_hundred_books_recover_from_a_drop_with_no_refusal(venue: str) -> None:
    async def body() -> None:
        cluster = SimCluster([venue], seed=3, interval=0.5, levels=20)
        sim = wide_venue(venue, cluster)
        table = compressed(venue)
        sim.limits = VenueLimits(table)
        async with cluster, aiohttp.ClientSession() as session:
            market = MarketData([venue], SYMBOLS, endpoints=cluster.urls, limiters=VenueLimiters(lambda _: table))
            await market.start(session)
            try:
                assert market.down == {} and market.unlisted == {}
                assert await market.wait_live(DEADLINE), f"{venue}: not every book went live"
                assert refusals(sim) == 0, f"{venue} refused {refusals(sim)} at the start: {sim.last_refusal}"
                connections = [c for feed in market.feeds for c in feed.connections]
                connects = sum(c.connects for c in connections)

                sim.inject("drop")
                await wait_for(lambda: sum(c.connects for c in connections) >= connects + len(connections),
                               DEADLINE, f"{venue}: every connection back")
                books = [b for c in market.consolidated.values() for b in c.books.values()]
                assert len(books) == BOOKS
                assert await market.wait_live(DEADLINE), (
                    f"{venue}: {sum(b.state is not BookState.LIVE for b in books)} books not live again")
                assert refusals(sim) == 0, f"{venue} refused {refusals(sim)} recovering: {sim.last_refusal}"
            finally:
                await market.stop()

    run(body(), timeout=3 * DEADLINE)


def slow_subscribes(feed_id: str) -> SubscribeLimits:
    """``feed_id``'s subscribe limits with its message rate cut to 2 a second (KuCoin: 100 per 10 s)."""
    limits = spec(feed_id).limits
    assert limits is not None and limits.subscribe[feed_id].messages is not None
    real = limits.subscribe[feed_id]
    assert real.messages is not None
    return replace(real, messages=Window(real.messages.name, 2, 1.0))


def test_three_hundred_books_resubscribe_at_a_compressed_message_rate_with_no_refusal() -> None:
    async def body() -> None:
        cluster = SimCluster(["kucoin"], seed=5, interval=0.5, levels=20)
        sim = wide_venue("kucoin", cluster)
        slow = slow_subscribes("kucoin")
        sim.subscribe_limits = slow  # the simulator counts every socket's messages by the same numbers
        async with cluster, aiohttp.ClientSession() as session:
            market = MarketData(["kucoin"], SYMBOLS, endpoints=cluster.urls, subscribe_limits={"kucoin": slow})
            await market.start(session)
            try:
                connections = [c for feed in market.feeds for c in feed.connections]
                assert all(c.subscribe_limits is slow for c in connections)
                # more subscribe messages on a socket than the compressed rate allows at once: a
                # client that sent them without waiting would be refused
                per_message = (slow.topics_per_message or 1) // 2  # books per subscribe: book and trades topics
                assert max(2 * math.ceil(len(c.natives) / per_message) for c in connections) > slow.messages.limit
                assert await market.wait_live(DEADLINE), "kucoin: not every book went live"
                assert refusals(sim) == 0, f"kucoin refused {refusals(sim)} at the start: {sim.last_refusal}"
                connects = sum(c.connects for c in connections)

                sim.inject("drop")
                await wait_for(lambda: sum(c.connects for c in connections) >= connects + len(connections),
                               DEADLINE, "kucoin: every connection back")
                assert await market.wait_live(DEADLINE), "kucoin: not every book live again"
                assert refusals(sim) == 0, f"kucoin refused {refusals(sim)} recovering: {sim.last_refusal}"
            finally:
                await market.stop()

    run(body(), timeout=3 * DEADLINE)
