"""crossbook feed: a feed process publishing the venues' books on the bus (crossbook.desk.bus_feed)."""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import CrossbookError
from .app import app, err, fail, parse_venues

if TYPE_CHECKING:
    from ..desk.bus_feed import FeedProcess
    from ..feeds.handler import Channels

STATUS_EVERY = 5.0  # seconds between two status lines


@app.command()
def feed(
    bus: str = typer.Option(..., "--bus", help="nats://HOST:PORT, or a cluster's URLs comma-separated."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    symbols: str | None = typer.Option(None, help="Comma-separated standard symbols."),
    all_symbols: bool = typer.Option(False, "--all-symbols", help="Every symbol each venue lists."),
    shard: str | None = typer.Option(None, help="This shard K/N of the venues' symbols [default: 1/1]."),
    sim: bool = typer.Option(False, "--sim", help="Simulated venues started on 127.0.0.1 for this run."),
    config: Path | None = typer.Option(None, "--config", help="Feed from the [endpoints] of a crossbook.toml."),
    name: str | None = typer.Option(None, help="Name on the bus [default: feed-HOST-PID]."),
    seconds: float | None = typer.Option(None, help="Stop after this many seconds (default: until stopped)."),
    seed: int = typer.Option(7, help="With --sim: seed of the simulated market."),
    coalesce_ms: float = typer.Option(1.0, "--coalesce-ms", metavar="MS", help="Batch changes this long per delta (0: none)."),
    replicas: int = typer.Option(1, metavar="N", help="Copies of the streams and buckets it makes."),
    snapshot_every: float = typer.Option(5.0, "--snapshot-every", metavar="S", help="Seconds between stored snapshots."),
    streams: str | None = typer.Option(None, metavar="STREAM,...", help="Also ticker, funding, liquidations, 1m..1d."),
) -> None:
    """Publish venues' books, trades and events on a NATS bus.

    The venues' feeds run as in a desk (same handlers, sync and healing); each book's deltas,
    snapshots and state changes go to crossbook.book.<venue>.<symbol>, its latest snapshot to
    the bus's snapshot bucket. Several processes split the market with --shard K/N. SIGTERM or
    Ctrl-C stops it: every book is marked stale for its consumers, the connection drained."""
    process = _plan(bus, venues, symbols, all_symbols, shard, sim, config, name, seconds, seed, coalesce_ms, replicas,
                    snapshot_every, streams)
    try:
        asyncio.run(_run(process, seconds))
    except CrossbookError as exc:
        fail(str(exc), 1)
    err.print("stopped.")


def _plan(bus: str, venues: str | None, symbols: str | None, all_symbols: bool, shard: str | None, sim: bool,
          config: Path | None, name: str | None, seconds: float | None, seed: int, coalesce_ms: float,
          replicas: int, snapshot_every: float, streams: str | None) -> FeedProcess:
    """The feed process the flags describe; bad flags: one line naming them, exit 2, nothing started."""
    from ..bus.connect import Retention
    from ..desk.bus_feed import FeedProcess, Shard, config_endpoints
    from ..market.data import production

    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if symbols is not None and all_symbols:
        fail("give --symbols or --all-symbols, not both")
    if symbols is None and not all_symbols:
        fail("give --symbols S1,S2 or --all-symbols")
    if sim and config is not None:
        fail("give --sim or --config, not both")
    if not (math.isfinite(coalesce_ms) and 0 <= coalesce_ms <= 1000):
        fail(f"--coalesce-ms must be 0 to 1000, not {coalesce_ms!r}")
    if not 1 <= replicas <= 5:
        fail(f"--replicas must be 1 to 5, not {replicas}")
    if not (math.isfinite(snapshot_every) and 0.5 <= snapshot_every <= 3600):
        fail(f"--snapshot-every must be 0.5 to 3600 seconds, not {snapshot_every!r}")
    chosen = parse_venues(venues)
    wanted = [s.strip().upper() for s in (symbols or "").split(",") if s.strip()]
    if symbols is not None and not wanted:
        fail("--symbols names no symbol")
    try:
        endpoints = config_endpoints(str(config)) if config is not None else production
        return FeedProcess(bus, chosen, wanted, all_symbols=all_symbols, shard=Shard.parse(shard or "1/1"), endpoints=endpoints,
                           name=name, sim=sim, seed=seed, coalesce=coalesce_ms / 1000, snapshot_every=snapshot_every,
                           channels=_channels(streams),
                           retention=Retention(replicas=replicas))
    except CrossbookError as exc:
        fail(str(exc))
        raise


def _channels(text: str | None) -> Channels:
    """``--streams``: ticker, funding, liquidations and candle intervals; exit 2 naming an unknown one."""
    from ..feeds.handler import Channels
    from ..model import Interval

    names = [n.strip().lower() for n in (text or "").split(",") if n.strip()]
    intervals = {i.value: i for i in Interval}
    unknown = [n for n in names if n not in ("ticker", "funding", "liquidations") and n not in intervals]
    if unknown:
        fail(f"--streams: unknown stream(s) {', '.join(unknown)}; known: ticker, funding, liquidations, "
             f"{', '.join(intervals)}")
    return Channels(tuple(intervals[n] for n in dict.fromkeys(names) if n in intervals), "ticker" in names,
                    "funding" in names, "liquidations" in names)


async def _run(process: FeedProcess, seconds: float | None) -> None:
    from ..desk.bus_feed import shown_url

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await process.start()
        try:
            status = process.status()
            sys.stdout.write(f"crossbook feed: publishing {status.books} books of {len(process.venues)} venues to "
                             f"{shown_url(process.bus_url)} as {process.name}\n")
            sys.stdout.flush()  # a supervisor reading the pipe knows at once
            await _report_until(process, stopping, seconds)
        finally:
            await process.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _report_until(process: FeedProcess, stopping: asyncio.Event, seconds: float | None) -> None:
    """A status line on stderr every STATUS_EVERY seconds until stopped (or ``seconds`` have passed)."""
    started = time.monotonic()
    last, last_at = process.status(), started
    while not stopping.is_set():
        left = None if seconds is None else seconds - (time.monotonic() - started)
        if left is not None and left <= 0:
            return
        wait = STATUS_EVERY if left is None else min(STATUS_EVERY, left)
        try:
            await asyncio.wait_for(stopping.wait(), wait)
        except TimeoutError:
            now, status = time.monotonic(), process.status()
            rate = (status.frames - last.frames) / max(now - last_at, 1e-9)
            down = f", down: {', '.join(status.down)}" if status.down else ""
            err.print(f"crossbook feed: {status.live}/{status.books} books live, {rate:.0f} frames/s{down}",
                      soft_wrap=True, highlight=False)
            last, last_at = status, now

