"""The publisher side: a feed process on the simulated venues publishes on a real nats-server, and a
plain subscription rebuilds every book from the frames alone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import nats
import nats.errors
import nats.js.errors
import orjson
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from crossbook.book.l2 import L2Book
from crossbook.bus import subjects
from crossbook.bus.codec import BookFrame, FrameKind, decode_book, decode_event
from crossbook.bus.natsd import NatsServer
from crossbook.bus.publisher import Heartbeat, PublishedBook, instruments_from_json, run_base
from crossbook.desk.bus_feed import FeedProcess
from crossbook.model import BookState, Trade
from crossbook.venues.registry import venue_of

from ..conftest import run, wait_for

VENUES = ["binance", "okx"]
SYMBOL = "BTC-USDT"
WITHIN = 60.0


@dataclass
class Listener:
    """A raw subscriber: every frame per book subject, the book each subject's frames rebuild, the
    heartbeats and trades heard."""

    frames: dict[str, list[BookFrame]] = field(default_factory=lambda: defaultdict(list))
    mirrors: dict[str, L2Book] = field(default_factory=dict)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)

    async def book(self, msg: Msg) -> None:
        frame = decode_book(msg.data)
        self.frames[msg.subject].append(frame)
        mirror = self.mirrors.setdefault(msg.subject, L2Book("bus", msg.subject))
        if frame.kind is FrameKind.SNAPSHOT:
            mirror.snapshot(frame.bids, frame.asks)
        elif frame.kind is FrameKind.DELTA:
            mirror.update_floats(frame.bids, frame.asks)
        elif frame.state not in (BookState.LIVE, BookState.STALE):
            mirror.clear()

    async def heartbeat(self, msg: Msg) -> None:
        self.heartbeats.append(Heartbeat.from_bytes(msg.data))

    async def trade(self, msg: Msg) -> None:
        event = decode_event(msg.data)
        assert isinstance(event, Trade) and msg.subject == subjects.trade_subject(venue_of(event.venue), event.symbol)
        self.trades.append(event)

    async def subscribe(self, nc: Client) -> None:
        await nc.subscribe(f"{subjects.PREFIX}.{subjects.BOOK}.>", cb=self.book)
        await nc.subscribe(subjects.HEARTBEATS, cb=self.heartbeat)
        await nc.subscribe(f"{subjects.PREFIX}.{subjects.TRADE}.>", cb=self.trade)

    def seqs(self, subject: str) -> list[int]:
        return [f.seq for f in self.frames[subject]]

    def caught_up(self, entry: PublishedBook) -> bool:
        """Every frame the publisher sent on the book's subject has arrived, and it owes none."""
        got = self.frames.get(entry.subject)
        return bool(got) and got[-1].seq == entry.seq and not entry.book.dirty

    def equal(self, entry: PublishedBook) -> bool:
        mirror = self.mirrors.get(entry.subject)
        return mirror is not None and mirror.bids == entry.book.bids and mirror.asks == entry.book.asks


def entries(feed: FeedProcess) -> list[PublishedBook]:
    assert feed.publisher is not None
    return [feed.publisher.books[(venue, SYMBOL)] for venue in VENUES]


def check_sequences(listener: Listener, entry: PublishedBook, base: int) -> None:
    """Gap-free from the run's base, and no delta before the book's first snapshot."""
    frames = listener.frames[entry.subject]
    assert listener.seqs(entry.subject) == list(range(base + 1, base + len(frames) + 1)), entry.subject
    first_snapshot = next(i for i, f in enumerate(frames) if f.kind is FrameKind.SNAPSHOT)
    assert all(f.kind is FrameKind.STATE for f in frames[:first_snapshot]), entry.subject


async def settled_equal(listener: Listener, feed: FeedProcess) -> None:
    """Hold the market still, then every rebuilt book must be the publisher's, level for level."""
    assert feed.cluster is not None
    feed.cluster.pause()
    try:
        await wait_for(lambda: all(listener.caught_up(e) for e in entries(feed)), WITHIN, "every frame delivered")
        for entry in entries(feed):
            assert listener.equal(entry), entry.subject
            assert entry.book.best_bid() is not None and entry.book.best_ask() is not None
    finally:
        feed.cluster.resume()


def test_frames_are_gap_free_snapshot_first_and_rebuild_every_book_also_across_a_resync() -> None:
    async def body() -> None:
        listener = Listener()
        async with NatsServer() as server:
            nc = await nats.connect(server.url)
            try:
                await listener.subscribe(nc)
                # heartbeats far apart: a book going live is published by the flush task's own look
                async with FeedProcess(server.url, VENUES, [SYMBOL], sim=True, name="feed-test",
                                       heartbeat_every=60.0) as feed:
                    await wait_for(lambda: all(len(listener.frames[e.subject]) > 20 for e in entries(feed)), WITHIN,
                                   "deltas on every book")
                    await settled_equal(listener, feed)
                    assert feed.publisher is not None
                    base = feed.publisher.seq_base
                    # a run counts from its start (ms << 20): after any earlier run's frames
                    assert base == run_base(feed.publisher.started) > run_base(feed.publisher.started - 0.001)
                    for entry in entries(feed):
                        check_sequences(listener, entry, base)
                        kinds = {f.kind for f in listener.frames[entry.subject]}
                        assert FrameKind.DELTA in kinds and FrameKind.SNAPSHOT in kinds

                    # a resync: STATE(resyncing) then a fresh SNAPSHOT, the sequence carrying on
                    binance = entries(feed)[0]
                    handler = next(c.handler for f in feed.markets["binance"].feeds for c in f.connections
                                   if binance.book in c.handler.books.values())
                    native = next(n for n, b in handler.books.items() if b is binance.book)
                    before = len(listener.frames[binance.subject])
                    handler.resync(native, "test")

                    def rebuilt() -> bool:
                        after = listener.frames[binance.subject][before:]
                        states = [i for i, f in enumerate(after) if f.kind is FrameKind.STATE
                                  and f.state is not BookState.LIVE]
                        return bool(states) and any(f.kind is FrameKind.SNAPSHOT for f in after[states[0]:])

                    await wait_for(rebuilt, WITHIN, "the resynced book published again")
                    await settled_equal(listener, feed)
                    check_sequences(listener, binance, base)
                    assert listener.trades, "trades on the trade subjects"
            finally:
                await nc.close()

    run(body(), 180)


def test_snapshot_bucket_requests_instruments_heartbeat_and_stop() -> None:
    async def body() -> None:
        listener = Listener()
        async with NatsServer() as server:
            nc = await nats.connect(server.url)
            try:
                await listener.subscribe(nc)
                js = nc.jetstream()
                feed = FeedProcess(server.url, VENUES, [SYMBOL], sim=True, name="feed-kv", heartbeat_every=0.2,
                                   snapshot_every=0.5)
                await feed.start()
                assert feed.publisher is not None
                base = feed.publisher.seq_base
                try:
                    await wait_for(lambda: all(e.state is BookState.LIVE and e.seq > base + 5 for e in entries(feed)),
                                   WITHIN, "every book live")
                    snapshots = await js.key_value(subjects.SNAPSHOT_BUCKET)

                    async def stored(entry: PublishedBook) -> BookFrame:
                        return decode_book((await snapshots.get(subjects.book_key(entry.venue, SYMBOL))).value or b"")

                    for entry in entries(feed):
                        frame = await stored(entry)
                        assert frame.kind is FrameKind.SNAPSHOT and frame.state is BookState.LIVE
                        assert base < frame.seq <= entry.seq and frame.bids and frame.asks

                    # on demand: the answer is the book as published up to its current sequence
                    assert feed.cluster is not None
                    feed.cluster.pause()
                    await wait_for(lambda: all(listener.caught_up(e) for e in entries(feed)), WITHIN, "a quiet market")
                    for entry in entries(feed):
                        reply = await nc.request(subjects.snapshot_request_subject(entry.venue, SYMBOL), b"", timeout=10)
                        frame = decode_book(reply.data)
                        assert frame.kind is FrameKind.SNAPSHOT and frame.seq == entry.seq
                        assert dict(frame.bids) == entry.book.bids and dict(frame.asks) == entry.book.asks
                        assert (await stored(entry)).seq == entry.seq  # and put in the bucket
                    with pytest.raises(nats.errors.TimeoutError):  # nobody publishes it: nobody answers
                        await nc.request(subjects.snapshot_request_subject("kraken", SYMBOL), b"", timeout=0.5)
                    feed.cluster.resume()

                    instruments = await js.key_value(subjects.INSTRUMENT_BUCKET)
                    listed = instruments_from_json((await instruments.get("binance")).value or b"")
                    assert any(i.symbol == SYMBOL and i.venue == "binance" for i in listed)

                    publishers = await js.key_value(subjects.PUBLISHER_BUCKET)
                    info = orjson.loads((await publishers.get("feed-kv")).value or b"")
                    assert info["venues"] == VENUES and info["books"] == 2 and info["process"] == "feed-kv"

                    await wait_for(lambda: len(listener.heartbeats) >= 3, WITHIN, "heartbeats")
                    beat = listener.heartbeats[-1]
                    assert beat.process == "feed-kv"
                    named = {(v, s): (seq, status) for v, s, seq, status in beat.books}
                    assert set(named) == {(v, SYMBOL) for v in VENUES}
                    assert all(status == "live" and seq > base + 5 for seq, status in named.values())
                finally:
                    await feed.stop()
                # a clean stop tells every consumer its books are no longer kept, and leaves the bucket
                await wait_for(lambda: all(f[-1].state is BookState.STALE for f in frames_of(listener)), WITHIN,
                               "every book told stale")
                for frames in frames_of(listener):
                    assert frames[-1].kind is FrameKind.STATE
                    assert [f.seq for f in frames] == list(range(base + 1, base + len(frames) + 1))
                with pytest.raises(nats.js.errors.KeyNotFoundError):
                    await publishers.get("feed-kv")
            finally:
                await nc.close()

    run(body(), 180)


def frames_of(listener: Listener) -> list[list[BookFrame]]:
    return [listener.frames[subjects.book_subject(v, SYMBOL)] for v in VENUES]
