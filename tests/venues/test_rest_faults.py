"""Every venue's real feed against every REST and frame fault of its simulated twin: the book the
fault hits is LIVE again within its venue's bound, and the other book never leaves LIVE.

A REST fault hits, at once, the target book's snapshot requests (the book is resynced to ask for
one: a venue that resyncs by resubscribing asks none) and the instruments request of a second feed
of the target started while it lasts, as a desk starts a feed on a symbol's first use. ``malformed_frame`` breaks the
target book's frames on the socket.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from crossbook.feeds.handler import Resync
from crossbook.feeds.manager import VenueFeed
from crossbook.model import BookState
from crossbook.sim.faults import FRAME_FAULTS, REST_FAULTS, Window

from ..conftest import run, wait_for
from .contract import Harness, contract_feeds, venue_feeds_any

FAULT_SECONDS = 0.5
# the client's request timeout, short enough that a hung or late answer costs the test little
OVERRIDES = {"request_timeout": 1.0}
CASES = [(feed, fault) for feed in contract_feeds() for fault in (*REST_FAULTS, *FRAME_FAULTS)]


def is_live(h: Harness, symbol: str) -> bool:
    return h.books[symbol].status() is BookState.LIVE


async def over_and_live(h: Harness, window: Window, symbol: str, bound: float, what: str) -> None:
    """Wait until the fault is over and ``symbol`` is LIVE again, within ``bound`` of now, on
    updates sent after the fault (a loss the fault caused shows by then)."""
    await wait_for(lambda: time.time() >= window.until, bound, f"the end of the fault ({what})")
    updates = h.books[symbol].stats.updates
    await wait_for(lambda: is_live(h, symbol) and h.books[symbol].stats.updates >= updates + 3, bound, what)


async def snapshot_fault(h: Harness, fault: str, target: str, bound: float) -> None:
    if not h.sim.snapshot_paths:
        assert venue_feeds_any(h.feed_id).resync_by is not Resync.SNAPSHOT, f"{h.feed_id} declares no snapshot endpoint"
        return  # the venue serves no REST book (its feed takes none)
    handler, native = h.handler_of(target)
    window = h.sim.inject(fault, target, FAULT_SECONDS, endpoint="snapshot")
    assert window is not None
    handler.resync(native, f"test: the next snapshot meets {fault}")
    await over_and_live(h, window, target, bound, f"{h.feed_id} {target} live again after a snapshot {fault}")
    if handler.resync_by is Resync.SNAPSHOT:
        assert window.hits >= 1, f"{h.feed_id}: the resync asked no snapshot during the fault"


async def instruments_fault(h: Harness, fault: str, target: str, bound: float) -> None:
    """A second feed of ``target`` starts while the instruments endpoint misbehaves."""
    assert h.session is not None and h.cluster is not None
    window = h.sim.inject(fault, seconds=FAULT_SECONDS, endpoint="instruments")
    assert window is not None
    ws, rest = h.cluster.urls(h.feed_id)
    cls = type("Faulted", (venue_feeds_any(h.feed_id),), dict(OVERRIDES))
    second = VenueFeed(cls, [target], ws_url=ws, rest_url=rest)
    try:
        await asyncio.wait_for(second.start(h.session), bound)
        await wait_for(
            lambda: time.time() >= window.until and second.books[target].status() is BookState.LIVE,
            bound,
            f"{h.feed_id} {target}: a feed started during an instruments {fault} live",
        )
        assert window.hits >= 1, f"{h.feed_id}: the second feed asked no instruments during the fault"
    finally:
        await second.stop()


@pytest.mark.parametrize(("feed_id", "fault"), CASES)
def test_a_fault_leaves_no_book_dead_and_touches_no_other(feed_id: str, fault: str) -> None:
    async def body() -> None:
        async with Harness(feed_id, handler_overrides=OVERRIDES) as h:
            await h.live()
            target, other = h.symbols
            handler, _ = h.handler_of(target)
            bound = handler.resync_bound + FAULT_SECONDS
            other_before = h.non_live[other]
            if fault in FRAME_FAULTS:
                window = h.sim.inject(fault, target, FAULT_SECONDS)
                assert window is not None
                await wait_for(lambda: window.hits >= 1, 10, f"{feed_id}: a frame of {target} broken")
                await over_and_live(h, window, target, bound, f"{feed_id} {target} live again after malformed frames")
            else:
                await asyncio.gather(snapshot_fault(h, fault, target, bound), instruments_fault(h, fault, target, bound))
            assert h.non_live[other] == other_before, f"{feed_id}: {other} left LIVE during a {fault} of {target}"
            await h.settled(15)
            assert h.violations == []

    run(body(), timeout=120)


def test_the_cases_cover_every_fault_on_every_feed() -> None:
    assert {fault for _, fault in CASES} == {*REST_FAULTS, *FRAME_FAULTS}
    assert len(CASES) == len(contract_feeds()) * 7
