"""The bus's failover must-holds, on real nats-servers, real simulators and real processes.

1. Kill the feed process (SIGKILL: no goodbye): every book it published reads not LIVE on the
   consumer within its venue's bound, and is never served as live after it (nor to a consumer
   joining then, from the stored snapshots); a new feed process (its sequences counting from its
   own start, past the dead run's) makes them live again on both, at the simulator's prices.
2. Kill one node of a three-node cluster (the consumer's, or the publisher's; the other client is
   on another node): publishing and consuming continue, no book is served as live while outdated
   past its bound, every book ends live with exactly the publisher's levels, and a desk joining
   with the node still down reads them too (the streams and buckets are replicated on three).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import nats.errors
import pytest

from crossbook.book.l2 import L2Book
from crossbook.bus.connect import Retention
from crossbook.bus.consumer import BusBook, BusBooks, open_books
from crossbook.bus.natsd import NatsCluster, NatsServer
from crossbook.bus.publisher import RUN_SHIFT, PublishedBook
from crossbook.desk import Desk
from crossbook.desk.bus_feed import FeedProcess
from crossbook.market.bus_data import BusMarketData
from crossbook.model import BookState
from crossbook.venues.registry import venue_feeds
from tests.conftest import run, wait_for
from tests.service.serving import CLI, START_WITHIN, start_sim, tail

SYMBOL = "BTC-USDT"
VENUES = ["binance", "okx"]
MARGIN = 15.0  # seconds past a venue's bound a loaded machine may take to notice the silence
POLL = 0.05  # seconds between two looks at the books' status
LIVE_WITHIN = 60.0  # seconds books get to go live (again)
MOVED = 50  # frames each book must have had since it went live before a kill


def bound(venue: str) -> float:
    """How long ``venue``'s BTC-USDT book may go unheard before it must read STALE: its spot feed
    handler's ``stale_after``."""
    return venue_feeds(venue)[venue].stale_after


def all_live(books: Mapping[str, L2Book]) -> bool:
    now = time.time()
    return set(books) == set(VENUES) and all(b.status(now) is BookState.LIVE for b in books.values())


def tops(books: Mapping[str, L2Book]) -> dict[str, tuple[Any, Any]]:
    """Each live book's best bid and best ask, (price, size)."""
    now = time.time()
    return {v: (b.best_bid(), b.best_ask()) for v, b in books.items() if b.status(now) is BookState.LIVE}


# ---- 1: the feed process dies ------------------------------------------------------------------


async def start_feed(bus_url: str, config: Path, workdir: Path, run_no: int) -> asyncio.subprocess.Process:
    """``crossbook feed`` on the simulated venues of ``config``, once it says it publishes."""
    stderr_file = workdir / f"feed{run_no}.stderr"
    with stderr_file.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *CLI, "feed", "--bus", bus_url, "--config", str(config), "--venues", ",".join(VENUES),
            "--symbols", SYMBOL, "--name", "feed-failover", stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=workdir)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), START_WITHIN)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    assert line.startswith(b"crossbook feed: publishing"), (line, tail(stderr_file))
    return proc


async def last_live_sightings(books: Mapping[str, L2Book], until: float) -> dict[str, float | None]:
    """Poll every book's status every POLL s until each reads not LIVE (or ``until``, wall clock);
    per venue the last time it was seen LIVE (None: never)."""
    last: dict[str, float | None] = dict.fromkeys(books)
    while True:
        now = time.time()
        live = [v for v, b in books.items() if b.status(now) is BookState.LIVE]
        for venue in live:
            last[venue] = now
        if not live or now > until:
            return last
        await asyncio.sleep(POLL)


async def first_live_seqs(books: Mapping[str, BusBook], within: float) -> dict[str, int | None]:
    """Poll until every book reads LIVE (at most ``within`` s); per venue its seq when first seen LIVE."""
    first: dict[str, int | None] = dict.fromkeys(books)
    deadline = time.monotonic() + within
    while any(seq is None for seq in first.values()):
        assert time.monotonic() < deadline, f"not live again within {within:.0f} s: {first}"
        now = time.time()
        for venue, book in books.items():
            if first[venue] is None and book.status(now) is BookState.LIVE:
                first[venue] = book.seq
        await asyncio.sleep(POLL)
    return first


def test_a_killed_feed_process_goes_stale_within_its_bound_and_a_new_one_makes_it_live(tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server:
            sim = await start_sim(VENUES, tmp_path)  # its own process: the venues outlive the feed process
            feeds: list[asyncio.subprocess.Process] = []
            try:
                feeds.append(await start_feed(server.url, sim.config, tmp_path, 1))
                on_bus_config = tmp_path / "bus.toml"
                on_bus_config.write_text(sim.config.read_text() + f'\n[bus]\nurl = "{server.url}"\nname = "desk-k"\n')
                async with Desk.from_config(on_bus_config) as on_bus, Desk.from_config(sim.config) as local:
                    await asyncio.gather(on_bus.follow([SYMBOL]), local.follow([SYMBOL]))
                    books: dict[str, BusBook] = on_bus.market.consolidated[SYMBOL].books  # type: ignore[assignment]
                    assert all(isinstance(b, BusBook) for b in books.values())
                    for venue, book in books.items():
                        assert book.stale_after == bound(venue)
                    first = await first_live_seqs(books, LIVE_WITHIN)
                    await wait_for(lambda: all_live(books) and all((b.seq or 0) >= (first[v] or 0) + MOVED
                                                                   for v, b in books.items()),
                                   LIVE_WITHIN, "every bus book live and moving")
                    seq_before = {v: b.seq or 0 for v, b in books.items()}

                    feeds[0].kill()
                    killed_at = time.time()
                    await feeds[0].wait()
                    latest = killed_at + max(bound(v) for v in VENUES) + MARGIN
                    last_live = await last_live_sightings(books, until=latest + 5)
                    for venue, seen in last_live.items():
                        assert seen is None or seen <= killed_at + bound(venue) + MARGIN, \
                            f"{venue} served LIVE {seen - killed_at:.1f} s after its publisher died (bound {bound(venue)})"
                    now = time.time()
                    assert {v: b.status(now) for v, b in books.items() if b.status(now) is BookState.LIVE} == {}
                    consolidated = on_bus.market.consolidated[SYMBOL]
                    assert consolidated.best_bid(now) is None and consolidated.best_ask(now) is None

                    late = await open_books(server.url, name="desk-late")  # joins while no publisher lives
                    try:
                        late_books = await follow_all(late, VENUES)
                        await wait_for(lambda: all(b.seq is not None for b in late_books.values()), LIVE_WITHIN,
                                       "the late consumer to load the dead publisher's stored snapshots")
                        now = time.time()
                        assert {v: b.status(now) for v, b in late_books.items()
                                if b.status(now) is BookState.LIVE} == {}

                        feeds.append(await start_feed(server.url, sim.config, tmp_path, 2))
                        relived = await first_live_seqs(books, LIVE_WITHIN)
                        for venue, seq in relived.items():  # the book follows the new run, not the dead one's
                            assert seq is not None and seq > seq_before[venue] + (1 << RUN_SHIFT), (venue, seq)
                        local_books = local.market.consolidated[SYMBOL].books
                        await wait_for(lambda: set(tops(books)) == set(tops(late_books)) == set(VENUES)
                                       and tops(books) == tops(late_books) == tops(local_books), LIVE_WITHIN,
                                       "both bus consumers' best prices to equal the simulator's as read in-process")
                    finally:
                        await late.close()
            finally:
                for proc in feeds:
                    if proc.returncode is None:
                        proc.kill()
                    await proc.wait()
                await sim.stop()

    run(body(), timeout=300)


# ---- 2: a node of the cluster dies -------------------------------------------------------------


class SeqHistory:
    """The publisher's sequence of each book as sampled over time: since when a consumer's
    sequence has been outdated (the publisher had gone past it)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[float, int]]] = {}

    def sample(self, entries: Mapping[str, PublishedBook], now: float) -> None:
        for venue, entry in entries.items():
            self.samples.setdefault(venue, []).append((now, entry.seq))

    def outdated_since(self, venue: str, seq: int) -> float | None:
        return next((t for t, published in self.samples.get(venue, []) if published > seq), None)


@dataclass
class Watched:
    """What the books did after the kill: each sighting of a book read LIVE although the publisher
    had gone past its sequence longer than its bound (+ MARGIN) ago, and each not LIVE."""

    served_stale: list[str] = field(default_factory=list)
    not_live: list[str] = field(default_factory=list)


async def watch_failover(books: Mapping[str, BusBook], entries: Mapping[str, PublishedBook], moved_past: Mapping[str, int],
                         within: float) -> Watched:
    """Poll every POLL s until every book is LIVE and past ``moved_past`` (at most ``within`` s)."""
    history = SeqHistory()
    watched = Watched()
    deadline = time.monotonic() + within
    while True:
        now = time.time()
        history.sample(entries, now)
        for venue, book in books.items():
            status = book.status(now)
            if status is not BookState.LIVE:
                watched.not_live.append(f"{venue} {status.value} at seq {book.seq}")
                continue
            since = history.outdated_since(venue, book.seq or 0)
            if since is not None and now - since > bound(venue) + MARGIN:
                watched.served_stale.append(f"{venue} LIVE at seq {book.seq}, outdated for {now - since:.1f} s")
        if all_live(books) and all((b.seq or 0) > moved_past[v] for v, b in books.items()):
            return watched
        assert time.monotonic() < deadline, \
            f"books not live and moving within {within:.0f} s: {[(v, b.status(), b.seq) for v, b in books.items()]}"
        await asyncio.sleep(POLL)


def port_of(nc: Any) -> int:
    url = nc.connected_url
    assert nc.is_connected and url is not None
    port: int = url.port
    return port


def levels_equal(books: Mapping[str, BusBook], entries: Mapping[str, PublishedBook]) -> bool:
    now = time.time()
    return all(b.status(now) is BookState.LIVE and b.bids == entries[v].book.bids and b.asks == entries[v].book.asks
               for v, b in books.items())


async def follow_all(bus: BusBooks, venues: Iterable[str]) -> dict[str, BusBook]:
    return {v: await bus.follow(v, SYMBOL, bound(v)) for v in venues}


async def consumer_apart_from(url: str, port: int) -> BusBooks:
    """A consumer on ``url`` (every member) connected to another node than the one on ``port``:
    the client picks a member at random, so connect again until it has (bounded)."""
    for _ in range(30):
        bus = await open_books(url, name="desk-cluster")
        if port_of(bus.nc) != port:
            return bus
        await bus.close()
    raise AssertionError(f"30 connections to {url} all landed on port {port}")


async def start_joining_market(url: str, session: aiohttp.ClientSession) -> BusMarketData:
    """BusMarketData started on ``url``, tried again while the surviving nodes still elect the
    leaders of the bus's streams and buckets (a JetStream request then times out: reported)."""
    deadline = time.monotonic() + LIVE_WITHIN
    while True:
        market = BusMarketData(list(VENUES), [SYMBOL], url=url, name="desk-joining")
        try:
            await market.start(session)
            return market
        except nats.errors.TimeoutError:
            await market.stop()
            assert time.monotonic() < deadline, f"no desk could start on the bus within {LIVE_WITHIN:.0f} s"
            await asyncio.sleep(1.0)


async def a_joining_desk_reads_the_publishers_levels(url: str, entries: Mapping[str, PublishedBook]) -> None:
    """A desk's market data joining the replicated bus with one node down: instruments and
    snapshots from its buckets, its books live with the publisher's levels."""
    async with aiohttp.ClientSession() as session:
        market = await start_joining_market(url, session)
        try:
            joined: dict[str, BusBook] = market.consolidated[SYMBOL].books  # type: ignore[assignment]
            await wait_for(lambda: set(joined) == set(VENUES) and levels_equal(joined, entries), LIVE_WITHIN,
                           "the joining desk's books live with the publisher's levels")
        finally:
            await market.stop()


@pytest.mark.parametrize("victim", ["consumer", "publisher"])
def test_killing_one_node_of_three_leaves_every_book_live(victim: str) -> None:
    async def body() -> None:
        async with NatsCluster() as cluster, \
                FeedProcess(cluster.url, VENUES, [SYMBOL], sim=True, name="feed-cluster",
                            retention=Retention(replicas=3)) as feed:
            assert feed.publisher is not None and feed.nc is not None and feed.cluster is not None
            bus = await consumer_apart_from(cluster.url, port_of(feed.nc))
            try:
                books = await follow_all(bus, VENUES)
                entries = {v: feed.publisher.books[(v, SYMBOL)] for v in VENUES}
                base = feed.publisher.seq_base
                await wait_for(lambda: all_live(books) and all(e.seq >= base + MOVED for e in entries.values()),
                               LIVE_WITHIN, "every book live on the cluster")
                ports = [s.port for s in cluster.servers]
                killed = ports.index(port_of(bus.nc if victim == "consumer" else feed.nc))
                survivor_at = ports.index(port_of(feed.nc if victim == "consumer" else bus.nc))
                seq_at_kill = {v: e.seq for v, e in entries.items()}
                frames_at_kill, healed_at_kill = bus.counters.frames, bus.counters.gaps_healed
                cluster.servers[killed].kill()

                watched = await watch_failover(books, entries, {v: s + MOVED for v, s in seq_at_kill.items()},
                                               LIVE_WITHIN)
                assert watched.served_stale == []
                moved = bus.nc if victim == "consumer" else feed.nc
                assert moved.stats["reconnects"] >= 1  # the kill did cut the victim off
                if victim == "publisher":  # the consumer kept its link: a book leaves LIVE only for a gap it healed
                    assert watched.not_live == [] or bus.counters.gaps_healed > healed_at_kill, watched.not_live[:5]
                for client in (bus.nc, feed.nc):  # both on a surviving node now
                    assert port_of(client) != ports[killed]
                survivor = feed.nc if victim == "consumer" else bus.nc
                assert port_of(survivor) == ports[survivor_at]  # the other client never had to move
                assert bus.counters.frames > frames_at_kill + MOVED
                for venue, entry in entries.items():  # the same run's sequence carried on, no reset
                    assert entry.seq > seq_at_kill[venue] + MOVED
                feed.cluster.pause()  # the market holds still: the consumer must settle on the publisher's levels
                await wait_for(lambda: levels_equal(books, entries), LIVE_WITHIN,
                               "every book live with exactly the publisher's levels")
                assert all(b.bids and b.asks for b in books.values())
                await a_joining_desk_reads_the_publishers_levels(cluster.url, entries)
            finally:
                await bus.close()

    run(body(), timeout=240)
