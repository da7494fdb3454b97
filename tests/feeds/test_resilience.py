"""Nothing stays dead, nothing bad is served: every venue's real feed against its simulated twin.

A reconnect rebuilds every book from its new snapshot (no ghost level survives it); one book whose
updates stop while its socket carries on is read STALE and resynced; a book that keeps failing to
sync is given a fresh attempt every bound and reported; an unreadable frame never ends the socket.
"""

from __future__ import annotations

import logging
import time

import pytest

from crossbook.model import BookState

from ..conftest import run, wait_for
from ..venues.contract import Harness, contract_feeds

FEEDS = contract_feeds()
EVERY_LEVEL = 10_000


def connects(h: Harness) -> int:
    assert h.feed is not None
    return sum(c.connects for c in h.feed.connections)


def levels_not_at_the_venue(h: Harness, symbol: str) -> list[tuple[str, float, float]]:
    """Every level the client's book holds that the venue's book does not hold at that size."""
    bids, asks = h.sim.expected_top(symbol, EVERY_LEVEL)
    venue = {"bid": dict(bids), "ask": dict(asks)}
    have_bids, have_asks = h.books[symbol].depth(EVERY_LEVEL)
    return [(side, p, q) for side, levels in (("bid", have_bids), ("ask", have_asks))
            for p, q in levels if venue[side].get(p) != q]


@pytest.mark.parametrize("feed_id", FEEDS)
def test_a_reconnect_leaves_no_ghost_level(feed_id: str) -> None:
    """A level the book held before a drop, removed at the venue while the client was away (no
    update about it ever sent), is not in the book once it is LIVE again."""

    async def body() -> None:
        async with Harness(feed_id) as h:
            await h.live()
            assert h.cluster is not None
            target = h.symbols[0]
            before = connects(h)
            h.cluster.pause()
            await wait_for(lambda: h.mismatch(target) is None, 10, f"{feed_id} {target} caught up with the venue")
            ghost = h.books[target].depth(3)[0][1][0]  # the second-best bid, held by the client and the venue
            ladder = h.sim.ladders[target]
            ticks = next(px for px in ladder.bids if ladder.price(px) == ghost)
            # the market makers pull the level and the venue publishes it (its own book, sequence
            # and checksum state move on), but the frame reaches no socket; all before the drop,
            # with nothing awaited, so no reconnect (however quick) can snapshot the level
            h.sim.inject("freeze", target, seconds=60.0)
            h.sim.publish(target, [ladder.take_mm(True, ticks, ladder.mm_lots(True, ticks))], [])
            assert ticks not in ladder.bids
            h.sim.inject("drop")
            h.sim.inject("freeze", target, seconds=0.0)  # thawed: the new connections hear every update
            h.cluster.resume()
            await wait_for(lambda: connects(h) >= before + len(h.feed.connections) and h.all_live(), 20,
                           f"{feed_id} every connection reconnected and live")
            h.cluster.pause()
            try:
                await h.settled(15)
                assert ghost not in h.books[target].bids or ghost in {p for p, _ in h.sim.expected_top(target, EVERY_LEVEL)[0]}
                for symbol in h.symbols:
                    assert levels_not_at_the_venue(h, symbol) == [], f"{feed_id} {symbol}: levels from before the drop"
            finally:
                h.cluster.resume()
            assert h.violations == []

    run(body())


@pytest.mark.parametrize("feed_id", FEEDS)
def test_one_book_whose_updates_stop_reads_stale_and_is_resynced(feed_id: str) -> None:
    """One symbol's frames stop while the socket and the other symbol carry on: that book stops
    reading LIVE within its venue's silence bound, is resynced, and is LIVE again once its updates
    resume. The other book never leaves LIVE, unless one sequence runs per connection: there the
    lost frames are a gap in every book's stream, and the venue's rule resyncs them all."""

    async def body() -> None:
        async with Harness(feed_id, handler_overrides={"silent_after": 1.0}) as h:
            await h.live()
            target, other = h.symbols
            other_before = h.non_live[other]
            thawed_at = time.time() + 3.0
            h.sim.inject("freeze", target, seconds=3.0)
            await wait_for(lambda: h.books[target].status() is not BookState.LIVE, 5, f"{feed_id} {target} read stale")
            stats = h.books[target].stats  # its silence, or the gap its lost frames left in the socket's sequence
            await wait_for(lambda: stats.silences + stats.gaps >= 1, 5, f"{feed_id} {target} resynced for its silence")
            await wait_for(lambda: time.time() > thawed_at, 10, "the end of the freeze")
            updates = h.books[target].stats.updates
            fresh = h.books[target].stats
            await wait_for(lambda: h.all_live() and fresh.updates >= updates + 3, 20, f"{feed_id} {target} live after the freeze")
            handler, _ = h.handler_of(target)
            if handler.sequence_scope == "book":
                assert h.non_live[other] == other_before, f"{feed_id}: {other} left LIVE while {target} was frozen"
            await h.settled(15)
            assert h.violations == []

    run(body())


def test_a_book_that_keeps_failing_is_tried_again_every_bound_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    """Snapshot requests that keep failing for longer than the venue's bound: each failure is
    counted and kept, the watchdog reports the book (a counter, a WARNING naming venue and
    symbol, ``VenueFeed.failing``) and the book is LIVE again once the venue answers."""
    bound = 2.0

    async def body() -> None:
        overrides = {"resync_bound": bound, "request_timeout": 1.0}
        async with Harness("binance", handler_overrides=overrides) as h:
            await h.live()
            assert h.feed is not None
            target, other = h.symbols
            handler, native = h.handler_of(target)
            book = h.books[target]
            other_before = h.non_live[other]
            window = h.sim.inject("http_5xx", target, seconds=3 * bound, endpoint="snapshot")
            assert window is not None
            handler.resync(native, "test: its snapshots will fail")
            await wait_for(lambda: target in h.feed.failing and book.stats.stuck >= 1, 4 * bound, "the book reported failing")  # type: ignore[union-attr]
            assert book.status() is not BookState.LIVE
            assert book.stats.fetch_failures >= 2 and window.hits >= 2
            assert "HTTP 503" in (h.feed.status()["last_error"] or "")
            await h.live(6 * bound + 10)
            assert h.feed.failing == {} and h.feed.status()["failing"] == {}
            assert h.non_live[other] == other_before
            await h.settled(15)

    with caplog.at_level(logging.WARNING, logger="crossbook.feeds"):
        run(body())
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("binance" in m and "still" in m for m in warned), warned


@pytest.mark.parametrize("feed_id", ["binance", "coinbase", "mexc", "dydx"])
def test_unreadable_frames_never_end_the_socket(feed_id: str) -> None:
    """Frames broken on the wire are counted on the handler and the book, their book resynced,
    and the socket carries on: no reconnect, the other book never leaves LIVE."""

    async def body() -> None:
        async with Harness(feed_id) as h:
            await h.live()
            target, other = h.symbols
            handler, _ = h.handler_of(target)
            before = connects(h)
            other_before = h.non_live[other]
            window = h.sim.inject("malformed_frame", target, seconds=1.0)
            assert window is not None
            await wait_for(lambda: window.hits >= 3, 10, f"{feed_id}: frames of {target} broken")
            await wait_for(lambda: h.books[target].stats.malformed >= 1, 10, f"{feed_id}: a broken frame counted on its book")
            await h.live(20)
            assert handler.malformed >= 1
            assert connects(h) == before, f"{feed_id}: an unreadable frame ended the socket"
            assert h.non_live[other] == other_before
            await h.settled(15)
            assert h.violations == []

    run(body())


def test_a_live_book_of_a_venue_without_a_silence_rule_reads_live_while_its_socket_hears() -> None:
    """Where the venue promises nothing for a quiet book, only the socket's silence makes it STALE."""
    from crossbook.book.l2 import L2Book, Link

    link = Link()
    book = L2Book("binance", "BTCUSDT", stale_after=60.0, link=link)
    book.snapshot([["100", "1"]], [["101", "1"]])
    book.state = BookState.LIVE
    book.updated_at = 1000.0
    link.last_rx = 1100.0
    assert book.status(now=1110.0) is BookState.LIVE
    assert book.status(now=1161.0) is BookState.STALE
    quiet = L2Book("okx", "BTC-USDT", stale_after=60.0, silent_after=30.0, link=link)
    quiet.snapshot([["100", "1"]], [["101", "1"]])
    quiet.state = BookState.LIVE
    quiet.updated_at = 1000.0
    link.last_rx = 1029.0  # the socket hears others, the book has been quiet 29 s
    assert quiet.status(now=1031.0) is BookState.LIVE and not quiet.silent()
    link.last_rx = 1031.0  # ... and now 31 s
    assert quiet.status(now=1031.0) is BookState.STALE and quiet.silent()
    link.last_rx = 1000.5  # a socket that heard nothing since is STALE by its own silence only
    assert quiet.status(now=1050.0) is BookState.LIVE and quiet.status(now=1061.0) is BookState.STALE
    assert quiet.best_bid() == (100.0, 1.0)  # STALE is a reading: the levels are kept


def resyncs_of(h: Harness) -> dict[str, int]:
    return {symbol: book.stats.resyncs for symbol, book in h.books.items()}


async def inject_and_heal(h: Harness, fault: str) -> None:
    """Inject one ``fault`` on the first symbol (or the socket), see it hit, and wait until it is
    over and every book is LIVE again with updates of its own."""
    target = h.symbols[0]
    stats = {symbol: book.stats for symbol, book in h.books.items()}
    if fault == "drop":
        before = connects(h)
        h.sim.inject("drop")
        await wait_for(lambda: connects(h) > before, 20, f"{h.feed_id} reconnected after the drop")
    elif fault == "skip":
        gaps = sum(s.gaps for s in stats.values())
        h.sim.inject("skip", target)
        await wait_for(lambda: sum(s.gaps for s in stats.values()) > gaps, 10, f"{h.feed_id}: the skip seen as a gap")
    elif fault == "freeze":
        thawed_at = time.time() + 3.0
        h.sim.inject("freeze", target, seconds=3.0)
        await wait_for(lambda: time.time() > thawed_at, 10, "the end of the freeze")
    else:
        window = h.sim.inject(fault, target)
        assert window is not None
        await wait_for(lambda: window.hits >= 1, 10, f"{h.feed_id}: a frame of {target} broken")
    updates = {symbol: s.updates for symbol, s in stats.items()}
    await wait_for(lambda: h.all_live() and all(s.updates >= updates[n] + 3 for n, s in stats.items()), 30,
                   f"{h.feed_id} live again after {fault}")


@pytest.mark.parametrize("feed_id", ["coinbase", "dydx"])
def test_one_fault_costs_each_book_at_most_one_resync_where_one_sequence_runs_per_socket(feed_id: str) -> None:
    """Where one sequence runs per connection, a lost message resyncs every book being updated; a
    book already being rebuilt is not resynced (nor counted) again, and while the socket keeps
    losing messages (a frozen symbol's frames spend numbers it never gets) the resubscribe waits
    for the loss to stop: one fault, at most one resync per book, and every book LIVE after it."""

    async def body() -> None:
        async with Harness(feed_id) as h:
            await h.live()
            handler, _ = h.handler_of(h.symbols[0])
            assert handler.sequence_scope == "connection"
            for fault in ("skip", "freeze", "malformed_frame", "drop"):
                before = resyncs_of(h)
                await inject_and_heal(h, fault)
                cost = {symbol: n - before[symbol] for symbol, n in resyncs_of(h).items()}
                assert all(n <= 1 for n in cost.values()), f"{feed_id} {fault}: resyncs per book {cost}"
                if fault in ("skip", "freeze"):  # a lost message: every book on the socket was rebuilt
                    assert all(n == 1 for n in cost.values()), f"{feed_id} {fault}: resyncs per book {cost}"
            await h.settled(15)
            assert h.violations == []

    run(body())
