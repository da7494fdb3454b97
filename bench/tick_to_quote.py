"""Tick to quote: from a WebSocket frame received by a feed to the updated best price across venues.

    python bench/tick_to_quote.py [--venues binance,okx,...] [--seconds T] [--ticks N] [--json]

The simulated venues run on 127.0.0.1 (SimCluster) and MarketData consumes them with its own feed
handlers, as in production. For every frame that changes a book of the quoted symbol, the latency
runs from the feed's receive timestamp (FeedConnection's clock, read when ``ws.receive`` returns,
the ``ts`` the handler gets) to the moment the consolidated best bid and best ask across every
live venue have been computed from the changed books (ConsolidatedBook.best_bid / best_ask). It
covers parsing, sequence and checksum checks, the book update and the consolidated read; not the
time the frame spent in the kernel and aiohttp's reader before ``receive`` returned. The handlers'
``on_frame`` is wrapped here, in the benchmark only: the library carries no hook for this.

Bounded: it stops after ``--ticks`` measured frames or ``--seconds`` of measuring, whichever
comes first. The simulator and the client share this process and its event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import orjson

from crossbook.book.consolidated import ConsolidatedBook
from crossbook.book.l2 import L2Book
from crossbook.feeds.manager import VenueFeed
from crossbook.market.data import MarketData
from crossbook.sim.cluster import SimCluster
from crossbook.venues.registry import VENUES, venue_feeds

DEFAULT_VENUES = ("binance", "okx", "bybit", "coinbase", "kraken", "kucoin", "gate", "bitget", "mexc")


@dataclass
class Samples:
    total: list[float] = field(default_factory=list)  # receive ts -> consolidated best computed, s
    best: list[float] = field(default_factory=list)  # the consolidated best_bid + best_ask part, s
    frames: int = 0  # every frame the feeds received, book-changing or not
    enough: asyncio.Event = field(default_factory=asyncio.Event)  # set when ``wanted`` samples are in


def timed(on_frame: Callable[..., object], books: list[L2Book], consolidated: ConsolidatedBook,
          samples: Samples, wanted: int) -> Callable[..., object]:
    """``on_frame`` followed, when the frame changed one of ``books``, by the consolidated best
    price and one latency sample."""
    def wrapper(data: object, ts: float) -> object:
        replies = on_frame(data, ts)
        samples.frames += 1
        # handlers stamp a book they changed with the frame's receive ts
        if len(samples.total) < wanted and any(b.updated_at == ts for b in books):
            start = time.perf_counter()
            consolidated.best_bid()
            consolidated.best_ask()
            done = time.time()
            samples.best.append(time.perf_counter() - start)
            samples.total.append(done - ts)
            if len(samples.total) == wanted:
                samples.enough.set()
        return replies
    return wrapper


def instrument(feeds: list[VenueFeed], consolidated: ConsolidatedBook, samples: Samples, wanted: int) -> None:
    for feed in feeds:
        books = list(feed.books.values())
        for conn in feed.connections:
            conn.handler.on_frame = timed(conn.handler.on_frame, books, consolidated, samples, wanted)  # type: ignore[method-assign]


async def measure(venues: list[str], symbol: str, ticks: int, seconds: float, interval: float) -> tuple[Samples, list[str]]:
    feeds = [f for v in venues for f in venue_feeds(v)]
    samples = Samples()
    async with SimCluster(feeds, interval=interval, levels=300) as cluster:
        md = MarketData(venues, [symbol], endpoints=cluster.urls)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await md.start(session)
            try:
                if not await md.wait_live(30):
                    raise SystemExit(f"books not live after 30 s: {md.consolidated[symbol].books}")
                instrument(md.feeds, md.consolidated[symbol], samples, ticks)
                with contextlib.suppress(TimeoutError):  # bounded: what came in by then is the result
                    await asyncio.wait_for(samples.enough.wait(), seconds)
            finally:
                await md.stop()
    return samples, sorted(md.consolidated[symbol].books)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def host() -> dict[str, object]:
    return {"node": platform.node(), "machine": platform.machine(), "processor": platform.processor() or None,
            "cpus": os.cpu_count(), "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venues", default=",".join(DEFAULT_VENUES), help="comma-separated venue ids")
    parser.add_argument("--symbol", default="BTC-USDT")
    parser.add_argument("--ticks", type=int, default=5000, help="stop after this many measured frames")
    parser.add_argument("--seconds", type=float, default=20.0, help="stop after this long measuring")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between simulated market steps")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    venues = [v.strip() for v in args.venues.split(",") if v.strip()]
    unknown = [v for v in venues if v not in VENUES]
    if unknown:
        parser.error(f"unknown venue(s) {', '.join(unknown)}; known: {', '.join(VENUES)}")
    if args.ticks <= 0 or args.seconds <= 0 or args.interval <= 0:
        parser.error("--ticks, --seconds and --interval must be positive")
    samples, quoted = asyncio.run(measure(venues, args.symbol.upper(), args.ticks, args.seconds, args.interval))
    if not samples.total:
        print("no book-changing frame was measured", file=sys.stderr)
        return 1
    us = [s * 1e6 for s in samples.total]
    best_us = [s * 1e6 for s in samples.best]
    result = {
        "symbol": args.symbol.upper(),
        "venues": quoted,
        "samples": len(us),
        "frames": samples.frames,
        "tick_to_quote_us": {"median": statistics.median(us), "p99": percentile(us, 0.99), "max": max(us)},
        "consolidated_best_us": {"median": statistics.median(best_us), "p99": percentile(best_us, 0.99)},
        "host": host(),
    }
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        report(result)
    return 0


def report(r: dict[str, object]) -> None:
    total, best = r["tick_to_quote_us"], r["consolidated_best_us"]
    assert isinstance(total, dict) and isinstance(best, dict)
    print(f"tick to quote, {r['symbol']} across {len(r['venues'])} simulated venues on loopback "  # type: ignore[arg-type]
          f"({r['samples']} book-changing frames of {r['frames']})")
    print(f"  receive -> consolidated best  median {total['median']:8.1f} us   p99 {total['p99']:8.1f} us   max {total['max']:8.1f} us")
    print(f"  of which consolidated best    median {best['median']:8.1f} us   p99 {best['p99']:8.1f} us")
    h = r["host"]
    assert isinstance(h, dict)
    print(f"  host: {h['node']}, {h['machine']}, {h['cpus']} CPUs, Python {h['python']}, {h['system']}")


if __name__ == "__main__":
    sys.exit(main())
