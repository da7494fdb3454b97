"""BusBooks against a real nats-server: frames published by hand with the codec on a raw client,
the snapshot bucket filled and snapshot requests answered by the test as a publisher would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import nats

from crossbook.bus import subjects
from crossbook.bus.connect import ensure_bus
from crossbook.bus.consumer import BusBook, BusBooks, open_books
from crossbook.bus.natsd import NatsServer
from crossbook.model import BookState
from tests.bus.handbus import HandPublisher
from tests.conftest import run, wait_for

VENUE, SYMBOL = "binance", "BTC-USDT"
DEADLINE = 30.0


@asynccontextmanager
async def bus(server: NatsServer) -> AsyncIterator[tuple[HandPublisher, BusBooks]]:
    raw = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    await ensure_bus(raw.jetstream())
    books = await open_books(server.url, name="desk-test")
    try:
        yield HandPublisher(raw), books
    finally:
        await books.close()
        await raw.close()


def levels(book: BusBook) -> tuple[dict[float, float], dict[float, float]]:
    return dict(book.bids), dict(book.asks)


def at(pub: HandPublisher) -> Callable[[BusBook], bool]:
    """The consumer's book is the publisher's, live, at its seq."""
    return lambda b: b.state is BookState.LIVE and b.seq == pub.seq and levels(b) == (pub.bids, pub.asks)


async def live_book(pub: HandPublisher, books: BusBooks, stale_after: float = 30.0) -> BusBook:
    """A book followed from a stored snapshot, live."""
    pub.change([(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.5), (102.0, 3.0)])
    await pub.store()
    book = await books.follow(VENUE, SYMBOL, stale_after)
    await wait_for(lambda: at(pub)(book), DEADLINE, "the book from the snapshot bucket")
    return book


def test_snapshot_then_deltas_give_the_published_book() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            assert books.counters.snapshot_loads >= 1
            await pub.delta([(100.0, 0.0), (100.5, 4.0)], [(101.0, 2.5)])
            await pub.delta([], [(100.8, 0.7), (102.0, 0.0)])
            await wait_for(lambda: book.seq == pub.seq, DEADLINE, "the deltas")
            assert levels(book) == ({100.5: 4.0, 99.0: 2.0}, {100.8: 0.7, 101.0: 2.5})
            assert book.best_bid() == (100.5, 4.0) and book.best_ask() == (100.8, 0.7)
            assert book.status() is BookState.LIVE
    run(body())


def test_a_gap_resyncs_until_the_snapshot_bucket_heals_it() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            pub.change([(98.0, 1.0)], [])  # published while this consumer was not listening
            pub.change([(97.0, 1.0)], [])
            await pub.delta([(96.0, 1.0)], [(101.0, 0.0)])
            # the bucket holds the old snapshot and nobody answers requests: the book waits, cleared
            await wait_for(lambda: book.status() is BookState.RESYNCING and books.counters.requests >= 1,
                           DEADLINE, "the gap")
            assert not book.bids and not book.asks
            await pub.delta([(95.0, 1.0)], [])  # buffered while healing
            pub.seq -= 1  # the bucket gets the snapshot taken before that last delta
            pub.bids.pop(95.0)
            await pub.store()
            pub.seq += 1
            pub.bids[95.0] = 1.0
            await wait_for(lambda: at(pub)(book), DEADLINE, "the book healed from the bucket")
            assert book.status() is BookState.LIVE and 95.0 in book.bids and 101.0 not in book.asks
    run(body())


def test_a_gap_heals_from_an_on_demand_snapshot() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            await pub.answer_requests()
            requests = books.counters.requests
            pub.change([(98.0, 1.0)], [])  # lost
            await pub.delta([(97.0, 1.0)], [(103.0, 1.0)])
            await wait_for(lambda: at(pub)(book), DEADLINE, "the book healed on request")
            assert books.counters.requests > requests
            assert 98.0 in book.bids and 103.0 in book.asks
    run(body())


def test_heartbeats_keep_a_quiet_book_live_and_silence_makes_it_stale() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books, stale_after=1.0)
            heard = book.link.last_rx if book.link is not None else 0.0
            for _ in range(25):  # 5 s of heartbeats, no frame: five times the bound
                await pub.heartbeat()
                await asyncio.sleep(0.2)
                assert book.status() is BookState.LIVE
            assert book.link is not None and book.link.last_rx > heard + 3.0
            await wait_for(lambda: book.status() is BookState.STALE, DEADLINE, "the silent book to go stale")
            for _ in range(10):
                assert book.status() is not BookState.LIVE
                await asyncio.sleep(0.05)
            view = books.publishers()
            assert [p.name for p in view.publishers] == ["feed-test"]
            assert view.publishers[0].books == {VENUE: 1} and view.publishers[0].heartbeat_age_s >= 0
            lag = {v.venue: v for v in view.venues}[VENUE]
            assert lag.publishers == ("feed-test",)
            assert lag.lag_ms is None or lag.max_lag_ms is not None
    run(body())


def test_a_published_stale_status_and_a_lost_tail() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            await pub.heartbeat(BookState.STALE)
            await wait_for(lambda: book.status() is BookState.STALE, DEADLINE, "the published stale status")
            await pub.state(BookState.LIVE)
            await wait_for(lambda: book.status() is BookState.LIVE and book.seq == pub.seq, DEADLINE, "live again")
            assert levels(book) == (pub.bids, pub.asks)  # a STATE(live) after stale keeps the levels
            await pub.answer_requests()
            pub.change([(99.5, 9.0)], [])  # the last delta, lost: only the heartbeats tell
            deadline = time.monotonic() + DEADLINE
            while not at(pub)(book):
                assert time.monotonic() < deadline, "the lost tail was not healed"
                await pub.heartbeat()
                await asyncio.sleep(0.2)
            assert book.bids[99.5] == 9.0
    run(body())


def test_a_resyncing_state_frame_clears_the_book() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            await pub.state(BookState.RESYNCING)
            await wait_for(lambda: book.seq == pub.seq, DEADLINE, "the state frame")
            assert book.status() is BookState.RESYNCING and not book.bids and not book.asks
            pub.bids, pub.asks = {90.0: 1.0}, {91.0: 1.0}
            pub.seq += 1
            await pub.nc.publish(subjects.book_subject(VENUE, SYMBOL), pub.snapshot())
            await wait_for(lambda: at(pub)(book), DEADLINE, "the snapshot after the resync")
    run(body())


def test_a_bus_outage_resyncs_every_book_until_healed() -> None:
    async def body() -> None:
        async with NatsServer() as server, bus(server) as (pub, books):
            book = await live_book(pub, books)
            await pub.answer_requests()
            server.kill()
            await wait_for(lambda: book.status() is BookState.RESYNCING, DEADLINE, "the outage")
            assert not book.bids and not book.asks and not books.publishers().connected
            await server.start()
            await wait_for(lambda: at(pub)(book), DEADLINE, "the book healed after the reconnect")
            assert books.publishers().connected
    run(body())
