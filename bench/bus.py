"""Bus: a Binance diff-depth stream from feed processes to a consuming desk over a local nats-server.

    python bench/bus.py [--messages N] [--books-per-process B] [--processes 1,2,4] [--yield-every K] [--json]

The stream is bench/feed.py's (same generator, same bytes). In-process path: crossbook's Binance
handler applying it to an L2Book in one process, as bench/feed.py measures it. Bus path: each feed
process (a separate OS process, multiprocessing spawn) drives the real BinanceSpot handler on
TappedBooks with the real BusPublisher, replaying the stream on ``--books-per-process`` books of
its own symbols, interleaved as one socket carrying them all, yielding to the event loop every
``--yield-every`` messages so the publisher flushes as in production; the consumer is the real
BusBooks in this process, following every book. Per configuration (1, 2, 4 feed processes) a
fresh nats-server with JetStream is started on 127.0.0.1 (the book stream captures every frame).

Figures: end-to-end messages/s (messages replayed by every feed process / wall time from the
first message handed to a handler to the last delta applied by the consumer), frames and payload
bytes per second on the wire over the same time, latency p50/p99 (consumer apply time minus the
frame's ts: the feed's receive time of the newest message it carries; one clock, one machine), and
the feed side's own rate (messages / time to apply and publish them). Every consumer book must
end identical, level for level, to its feed process's book and to the in-process book; a mismatch
exits 1. Bounded: deadlines on every wait; workers and servers are torn down in finally.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import orjson

from crossbook.book.tapped import TappedBook
from crossbook.bus.codec import BookFrame, FrameKind
from crossbook.bus.connect import connect, ensure_bus
from crossbook.bus.consumer import BusBook, BusBooks, open_books
from crossbook.bus.natsd import NatsServer, nats_server_binary
from crossbook.bus.publisher import COALESCE, BusPublisher
from crossbook.model import BookState
from crossbook.venues.binance import BinanceSpot
from feed import generate, run_crossbook

VENUE = "binance"
READY_WITHIN = 120.0  # seconds the feed processes get to start, connect and publish their snapshots
LIVE_WITHIN = 60.0  # seconds the consumer's books get to load their snapshots
REPLAY_WITHIN = 600.0  # seconds a feed process gets to replay its stream
CATCH_UP_WITHIN = 120.0  # seconds the consumer gets, after the last publish, to apply every frame
POLL = 0.05  # seconds between two looks at a pipe or a condition

Book = tuple[dict[float, float], dict[float, float]]


@dataclass(frozen=True)
class FeedJob:
    """What one feed process replays: ``books`` as (native, standard symbol) pairs."""

    url: str
    name: str
    books: list[tuple[str, str]]
    snapshot: bytes
    messages: list[bytes]  # the first bridges the snapshot (sent before the clock starts)
    yield_every: int
    coalesce: float  # seconds the publisher batches a book's changes per delta


@dataclass(frozen=True)
class FeedResult:
    start: float  # epoch s: the first timed message handed to the handler
    end: float  # epoch s: the last frame flushed to the server
    messages: int
    seqs: dict[str, int]  # symbol -> the sequence of its last published frame
    books: dict[str, Book]
    gaps: int  # gaps the feed's handler saw (must be 0)
    stats: dict[str, int]  # the publisher's counters over the replay


@dataclass(frozen=True)
class RunResult:
    processes: int
    books: int
    messages: int
    wall_s: float
    msg_s: float
    frames: int
    frames_s: float
    bytes: int
    bytes_s: float
    p50_ms: float
    p99_ms: float
    feed_msg_s: float  # the feed processes' own rate: apply + tap + encode + publish
    gaps_healed: int  # consumer heals beyond each book's first snapshot
    snapshot_requests: int
    identical: bool
    mismatched: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def symbols_of(process: int, books: int) -> list[tuple[str, str]]:
    return [(f"P{process}B{b}USDT", f"P{process}B{b}-USDT") for b in range(books)]


def renamed(messages: list[bytes], native: str) -> list[bytes]:
    """The stream with BTCUSDT's symbol and stream name replaced by ``native``'s."""
    symbol, stream = f'"s":"{native}"'.encode(), f'"{native.lower()}@'.encode()
    return [m.replace(b'"s":"BTCUSDT"', symbol).replace(b'"btcusdt@', stream) for m in messages]


# ---- the feed process ------------------------------------------------------------------------


def feed_worker(conn: Connection, job: FeedJob) -> None:
    try:
        asyncio.run(publish_stream(conn, job))
    finally:
        conn.close()


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {within:.0f} s")
        await asyncio.sleep(POLL)


async def told(conn: Connection, word: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not conn.poll():
        if time.monotonic() > deadline:
            raise TimeoutError(f"feed process: no {word!r} from the bench after {within:.0f} s")
        await asyncio.sleep(POLL)
    got = conn.recv()
    if got != word:
        raise RuntimeError(f"feed process: expected {word!r}, got {got!r}")


async def publish_stream(conn: Connection, job: FeedJob) -> None:
    nc = await connect(job.url, name=job.name)
    publisher = await BusPublisher(nc, job.name, coalesce=job.coalesce).start()
    try:
        handler = BinanceSpot(book_class=TappedBook)
        streams = []
        for native, symbol in job.books:
            book = handler.add_book(native, symbol)
            handler.on_snapshot(native, job.snapshot, time.time())
            publisher.attach_book(handler.venue, symbol, book)
            streams.append(renamed(job.messages, native))
        for stream in streams:
            handler.on_frame(stream[0], time.time())  # bridges the snapshot: the book goes live
        await until(lambda: all(e.state is BookState.LIVE for e in publisher.books.values()), READY_WITHIN,
                    "the feed's books live at the publisher")
        interleaved = [m for batch in zip(*(s[1:] for s in streams), strict=True) for m in batch]
        del streams
        conn.send("ready")
        await told(conn, "go", READY_WITHIN)
        before = publisher.stats.to_json()
        start = await replay(handler, publisher, interleaved, job.yield_every)
        await nc.flush()  # the server has every frame
        end = time.time()
        entries = list(publisher.books.values())
        stats = {k: v - before[k] for k, v in publisher.stats.to_json().items()}
        conn.send(FeedResult(start, end, len(interleaved), {e.symbol: e.seq for e in entries},
                             {e.symbol: (dict(e.book.bids), dict(e.book.asks)) for e in entries},
                             sum(b.stats.gaps for b in handler.books.values()), stats))
        await told(conn, "stop", CATCH_UP_WITHIN + REPLAY_WITHIN)
    finally:
        await publisher.stop()
        await nc.close()


async def replay(handler: BinanceSpot, publisher: BusPublisher, messages: list[bytes],
                 yield_every: int) -> float:
    """Hand each message to the handler as a socket read would, yielding every ``yield_every``;
    then publish what every book still owes. When it started, epoch seconds."""
    on_frame, clock = handler.on_frame, time.time
    start = clock()
    for i, message in enumerate(messages, 1):
        on_frame(message, clock())
        if i % yield_every == 0:
            await asyncio.sleep(0)
    for entry in list(publisher.books.values()):
        await publisher.snapshot_frame(entry)  # flushes what the book owes, under the publisher's lock
    return start


# ---- the consumer ----------------------------------------------------------------------------


class Recorder:
    """Wraps a BusBooks' ``receive``: each delta's latency (applied minus its ts) and the time of the last."""

    def __init__(self, books: BusBooks) -> None:
        self.latencies: list[float] = []
        self.last_applied = 0.0
        inner = books.receive
        record = self.latencies.append

        def receive(book: BusBook, frame: BookFrame, now: float) -> None:
            inner(book, frame, now)
            if frame.kind is FrameKind.DELTA:
                applied = time.time()
                record(applied - frame.ts)
                self.last_applied = applied

        books.receive = receive  # type: ignore[method-assign]


@dataclass
class Worker:
    process: BaseProcess
    conn: Connection
    symbols: list[str]


async def received(worker: Worker, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while not worker.conn.poll():
        if not worker.process.is_alive():
            raise RuntimeError(f"{worker.process.name} exited ({worker.process.exitcode}) before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{worker.process.name}: no {what} after {within:.0f} s")
        await asyncio.sleep(POLL)
    return worker.conn.recv()


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``ordered`` (nan when empty)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


async def run_bus(processes: int, books_per_process: int, snapshot: bytes, messages: list[bytes], yield_every: int,
                  coalesce: float, reference: Book) -> RunResult:
    ctx = multiprocessing.get_context("spawn")
    workers: list[Worker] = []
    consumer: BusBooks | None = None
    async with NatsServer(name=f"bench{processes}") as server:
        try:
            setup = await connect(server.url, name="bench-setup")
            await ensure_bus(setup.jetstream())
            await setup.close()
            for p in range(processes):
                books = symbols_of(p, books_per_process)
                job = FeedJob(server.url, f"bench-feed-{p}", books, snapshot, messages, yield_every, coalesce)
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=feed_worker, args=(child, job), name=f"feed-{p}", daemon=True)
                proc.start()
                child.close()
                workers.append(Worker(proc, parent, [s for _, s in books]))
            for w in workers:
                if (got := await received(w, READY_WITHIN, "ready")) != "ready":
                    raise RuntimeError(f"{w.process.name}: expected 'ready', got {got!r}")
            consumer = await open_books(server.url, name="bench-desk")
            recorder = Recorder(consumer)
            followed = {s: await consumer.follow(VENUE, s, BinanceSpot.stale_after) for w in workers for s in w.symbols}
            await until(lambda: all(b.state is BookState.LIVE and not b.healing for b in followed.values()), LIVE_WITHIN,
                        "the consumer's books live")
            healed_before = consumer.counters.gaps_healed
            requests_before = consumer.counters.requests
            frames_before = consumer.counters.frames
            recorder.latencies.clear()
            for w in workers:
                w.conn.send("go")
            results: list[FeedResult] = [await received(w, REPLAY_WITHIN, "result") for w in workers]
            targets = {s: r.seqs[s] for r in results for s in r.seqs}
            await until(lambda: all((b.seq or 0) >= targets[s] and not b.healing for s, b in followed.items()),
                        CATCH_UP_WITHIN, "the consumer caught up with every book")
            mismatched = [f"{s}: {why}" for r in results for s, book in r.books.items()
                          if (why := difference((dict(followed[s].bids), dict(followed[s].asks)), book, reference))]
            mismatched += [f"feed-{i}: {r.gaps} gaps" for i, r in enumerate(results) if r.gaps]
            start = min(r.start for r in results)
            wall = recorder.last_applied - start
            total = sum(r.messages for r in results)
            frames = consumer.counters.frames - frames_before
            payload = sum(r.stats["bytes"] for r in results)
            lat = sorted(recorder.latencies)
            feed_wall = max(r.end for r in results) - start
            return RunResult(processes, processes * books_per_process, total, wall, total / wall, frames, frames / wall,
                             payload, payload / wall, percentile(lat, 50) * 1000, percentile(lat, 99) * 1000,
                             total / feed_wall, consumer.counters.gaps_healed - healed_before,
                             consumer.counters.requests - requests_before, not mismatched, mismatched)
        finally:
            if consumer is not None:
                await consumer.close()
            await stop_workers(workers)


def difference(consumer: Book, feed: Book, reference: Book) -> str:
    """Empty when the three books hold the same levels, else which differ and at how many prices."""
    def levels_apart(a: Book, b: Book) -> int:
        return sum(len({p for p in x.keys() | y.keys() if x.get(p) != y.get(p)}) for x, y in zip(a, b, strict=True))

    parts = []
    if consumer != feed:
        parts.append(f"consumer differs from its feed at {levels_apart(consumer, feed)} level(s)")
    if feed != reference:
        parts.append(f"feed differs from the in-process book at {levels_apart(feed, reference)} level(s)")
    return "; ".join(parts)


async def stop_workers(workers: list[Worker]) -> None:
    for w in workers:
        with contextlib.suppress(OSError):  # one already gone has closed its end
            w.conn.send("stop")
    for w in workers:
        await asyncio.to_thread(w.process.join, 10)
        if w.process.is_alive():
            w.process.terminate()
            await asyncio.to_thread(w.process.join, 5)
        if w.process.is_alive():
            w.process.kill()
            await asyncio.to_thread(w.process.join, 5)
        w.conn.close()


# ---- main ------------------------------------------------------------------------------------


def in_process(snapshot: dict[str, object], messages: list[bytes], repeat: int = 3) -> tuple[float, Book]:
    """bench/feed.py's crossbook path, best of ``repeat``: msg/s and the final book."""
    best, book = None, None
    for _ in range(repeat):
        elapsed, book = run_crossbook(snapshot, messages)
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None and book is not None
    return len(messages) / best, book


def server_version() -> str:
    try:
        out = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "nats-server"
    return out.stdout.strip() or "nats-server"


def parse_processes(text: str) -> list[int]:
    try:
        counts = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--processes must be counts like 1,2,4, not {text!r}") from None
    if not counts or any(c < 1 or c > 16 for c in counts):
        raise argparse.ArgumentTypeError(f"--processes must be counts from 1 to 16, not {text!r}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=25_000, help="messages each book replays")
    parser.add_argument("--books-per-process", type=int, default=2, help="books (symbols) each feed process publishes")
    parser.add_argument("--processes", type=parse_processes, default=[1, 2, 4], help="feed process counts to run")
    parser.add_argument("--yield-every", type=int, default=1, help="messages between two yields to the event loop")
    parser.add_argument("--coalesce-ms", type=float, default=COALESCE * 1000,
                        help="the publisher's batching per delta (crossbook feed --coalesce-ms; 0: a frame per message)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 0 <= args.coalesce_ms <= 1000:
        parser.error("--coalesce-ms must be 0 to 1000")
    for name in ("messages", "books_per_process", "yield_every"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    snapshot, messages = generate(args.messages + 1)  # the first bridges the snapshot, before the clock
    rate, reference = in_process(snapshot, messages)
    try:
        runs = [asyncio.run(run_bus(p, args.books_per_process, orjson.dumps(snapshot), messages, args.yield_every,
                                    args.coalesce_ms / 1000, reference)) for p in args.processes]
    except (RuntimeError, TimeoutError) as exc:  # a feed process died, or a deadline passed
        print(f"bench/bus.py: {exc}", file=sys.stderr)
        return 1
    facts = {"cpus": os.cpu_count(), "server": server_version(), "messages_per_book": args.messages,
             "books_per_process": args.books_per_process, "yield_every": args.yield_every,
             "coalesce_ms": args.coalesce_ms, "in_process_msg_s": rate,
             "runs": [r.to_json() for r in runs]}
    if args.json:
        sys.stdout.write(orjson.dumps(facts).decode() + "\n")
    else:
        report(facts, runs, rate)
    bad = [r for r in runs if not r.identical]
    for r in bad:
        print(f"{r.processes} feed process(es): consumer books differ: {', '.join(r.mismatched)}", file=sys.stderr)
    return 1 if bad else 0


def report(facts: dict[str, Any], runs: list[RunResult], rate: float) -> None:
    print(f"Binance diff depth over a local {facts['server']} (JetStream on, 127.0.0.1); "
          f"{facts['cpus']} CPU cores shared by the feed processes, the server and the consumer")
    print(f"each book replays {facts['messages_per_book']} messages (~20 level changes each); "
          f"{facts['books_per_process']} books per feed process, interleaved; a feed process yields to its "
          f"event loop every {facts['yield_every']} message(s); the publisher batches {facts['coalesce_ms']:g} ms "
          f"of changes per delta")
    print(f"in-process path (BinanceSpot -> L2Book, one process, best of 3): {rate:,.0f} msg/s")
    print(f"{'procs':>5} {'books':>5} {'e2e msg/s':>10} {'vs in-proc':>10} {'feed msg/s':>10} {'frames/s':>9} "
          f"{'MB/s':>6} {'p50 ms':>7} {'p99 ms':>8} {'heals':>5} {'identical':>9}")
    for r in runs:
        print(f"{r.processes:5d} {r.books:5d} {r.msg_s:10,.0f} {r.msg_s / rate:9.2f}x {r.feed_msg_s:10,.0f} "
              f"{r.frames_s:9,.0f} {r.bytes_s / 1e6:6.2f} {r.p50_ms:7.2f} {r.p99_ms:8.2f} {r.gaps_healed:5d} "
              f"{'yes' if r.identical else 'NO':>9}")
    print("e2e: messages replayed / (first message handed to a feed handler -> last delta applied by the consumer); "
          "feed msg/s: the feed processes' own apply+publish rate; MB/s: frame payload; latency: feed receive "
          "-> consumer apply")


if __name__ == "__main__":
    raise SystemExit(main())
