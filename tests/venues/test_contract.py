"""Every venue's real feed handler against its simulated twin, with each fault its protocol has."""

from __future__ import annotations

import asyncio
import time

import pytest

from crossbook.model import BookState
from crossbook.sim.venues import venue_sims
from crossbook.venues.registry import VENUES, all_feeds, venue_feeds

from ..conftest import run, wait_for
from .contract import Harness, contract_feeds, fault_cases

FEEDS = contract_feeds()


def test_every_venue_has_feeds_and_a_simulated_twin() -> None:
    for venue in VENUES:
        feeds = venue_feeds(venue, options=True)  # an options feed has its twin too
        assert feeds, f"{venue} has no feed handler"
        assert set(venue_sims(venue)) == set(feeds), f"{venue}: feeds {set(feeds)} vs sims {set(venue_sims(venue))}"


@pytest.mark.parametrize("feed_id", FEEDS)
def test_syncs_matches_venue_and_normalizes(feed_id: str) -> None:
    async def body() -> None:
        async with Harness(feed_id) as h:
            await h.live()
            await h.settled()
            await wait_for(lambda: len(h.trades) >= 2, 10, f"{feed_id} trades")
            await asyncio.sleep(0.5)  # keep moving for a while under the watcher
            await h.settled()
            assert h.feed is not None and h.feed.symbol_map is not None
            for symbol in h.symbols:
                native = h.feed.symbol_map.native(symbol)
                assert native == h.sim.native(symbol)
                assert h.feed.symbol_map.standard(native) == symbol
            trade = h.trades[-1]
            assert trade.symbol in h.symbols and trade.price > 0 and trade.amount > 0
            assert trade.venue == all_feeds()[feed_id].venue
            for handler in h.handlers:
                assert handler.latency.count > 0
                assert handler.errors == 0
            for book in h.books.values():
                assert book.stats.updates > 0
                assert book.stats.gaps == 0 and book.stats.checksums_failed == 0
            assert h.live_samples > 0 and h.violations == []

    run(body())


def _recovered(h: Harness, symbol: str, counter: str) -> bool:
    book = h.books[symbol]
    return getattr(book.stats, counter) >= 1 and book.status() is BookState.LIVE


@pytest.mark.parametrize(("feed_id", "fault"), fault_cases())
def test_fault_recovers(feed_id: str, fault: str) -> None:
    overrides = {"stale_after": 1.5} if fault == "stall" else {}

    async def body() -> None:
        async with Harness(feed_id, handler_overrides=overrides) as h:
            await h.live()
            target, other = h.symbols
            connects = sum(c.connects for c in h.feed.connections)  # type: ignore[union-attr]
            other_resyncs = h.books[other].stats.resyncs
            if fault == "skip":
                h.sim.inject("skip", target)
                await wait_for(lambda: _recovered(h, target, "gaps"), 15, f"{target} gap detected and resynced")
                if h.handlers[0].sequence_scope == "book":
                    assert h.books[other].stats.resyncs == other_resyncs, "a gap on one book must not resync the others"
            elif fault == "corrupt":
                h.sim.inject("corrupt", target)
                await wait_for(lambda: _recovered(h, target, "checksums_failed"), 15, f"{target} checksum failure resynced")
                assert h.books[target].stats.resyncs >= 1
                assert h.books[other].stats.resyncs == other_resyncs, "a bad checksum on one book must not resync the others"
            elif fault == "drop":
                h.sim.inject("drop")
                await wait_for(
                    lambda: sum(c.connects for c in h.feed.connections) > connects and h.all_live(),  # type: ignore[union-attr]
                    20,
                    "reconnect and resync",
                )
            elif fault == "stall":
                h.sim.inject("stall", seconds=3.5)
                stalled_at = time.time()
                await asyncio.sleep(2.0)
                for symbol, book in h.books.items():
                    assert book.status() is not BookState.LIVE, f"{symbol} read LIVE {time.time() - stalled_at:.1f} s into a stall"
                await h.live(20)
            elif fault == "delay":
                h.sim.inject("delay", seconds=0.3)
                await asyncio.sleep(1.0)
                assert max(hd.latency.percentile(50, recent=10) for hd in h.handlers) >= 0.25
                h.sim.inject("delay", seconds=0.0)
            await h.settled(15)
            assert h.violations == []

    run(body())
