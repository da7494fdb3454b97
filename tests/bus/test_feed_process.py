"""``crossbook feed`` as its own process: it publishes on a real nats-server, stops cleanly on
SIGTERM, refuses bad input before connecting, and N shards split the market without overlap."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from crossbook.bus import subjects
from crossbook.bus.codec import FrameKind, decode_book
from crossbook.bus.natsd import NatsServer
from crossbook.bus.publisher import Heartbeat, instruments_from_json
from crossbook.desk.bus_feed import Shard
from crossbook.errors import ConfigError
from crossbook.model import BookState
from crossbook.venues.registry import venue_feeds

from ..conftest import run, wait_for

CLI = [sys.executable, "-c", "from crossbook.cli import app; app()", "feed"]
WITHIN = 60.0


# ---- the shard rule --------------------------------------------------------------------------------


def test_shards_split_every_venue_and_symbol_exactly_once() -> None:
    pairs = [(v, f"{base}-{quote}{suffix}") for v in ("binance", "okx", "bybit", "kraken")
             for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA") for quote in ("USDT", "USD")
             for suffix in ("", "-PERP")]
    for n in (1, 2, 3, 4, 7):
        owners = [[k for k in range(1, n + 1) if Shard(k, n).owns(v, s)] for v, s in pairs]
        assert all(len(o) == 1 for o in owners), n
        assert len({o[0] for o in owners}) == n, f"every one of {n} shards gets a share"
    assert Shard(1, 2).owns("binance", "BTC-USDT") != Shard(1, 2).owns("binance", "BTC-USDT-PERP")  # stable: crc32


def test_shard_is_parsed_or_refused_naming_it() -> None:
    assert Shard.parse("2/4") == Shard(2, 4) and str(Shard.parse(" 3 / 5 ")) == "3/5"
    for bad in ("5/4", "0/4", "1/0", "2", "a/b", "-1/2"):
        with pytest.raises(ConfigError, match="shard"):
            Shard.parse(bad)


# ---- bad input: one line, exit 2, nothing started ------------------------------------------------


@pytest.mark.parametrize(("args", "named"), [
    (["--bus", "http://127.0.0.1:4222", "--sim", "--symbols", "BTC-USDT"], "bus url 'http://127.0.0.1:4222'"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--symbols", "BTC-USDT", "--shard", "5/4"], "shard 5/4"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--symbols", "BTC-USDT", "--shard", "0/4"], "shard 0/4"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--venues", "binance,nowhere", "--symbols", "BTC-USDT"], "nowhere"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--symbols", "BTC-USDT", "--all-symbols"], "--all-symbols, not both"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--symbols", "BTCUSDT"], "'BTCUSDT'"),
    (["--bus", "nats://127.0.0.1:4222", "--sim", "--config", "x.toml", "--symbols", "BTC-USDT"], "--sim or --config"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], named: str) -> None:
    # port 4222 is never listened on in these tests: a refusal must come before any connection
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert not done.stdout


# ---- a running feed process ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def feed_process(url: str, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``crossbook feed --bus url ARGS`` until its publishing line; killed on the way out."""
    proc = await asyncio.create_subprocess_exec(*CLI, "--bus", url, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), WITHIN)).decode()
        assert line.startswith("crossbook feed: publishing ") and f"to {url} as " in line, line
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_the_feed_command_publishes_and_stops_cleanly_on_sigterm() -> None:
    async def body() -> None:
        async with NatsServer() as server:
            nc = await nats.connect(server.url)
            frames: list[tuple[FrameKind, BookState, int]] = []
            beats: list[Heartbeat] = []

            async def on_frame(msg: Msg) -> None:
                frame = decode_book(msg.data)
                frames.append((frame.kind, frame.state, frame.seq))

            async def on_beat(msg: Msg) -> None:
                beats.append(Heartbeat.from_bytes(msg.data))

            try:
                await nc.subscribe(subjects.book_subject("binance", "BTC-USDT"), cb=on_frame)
                await nc.subscribe(subjects.heartbeat_subject("feed-cli"), cb=on_beat)
                async with feed_process(server.url, "--sim", "--venues", "binance", "--symbols", "BTC-USDT",
                                        "--name", "feed-cli") as proc:
                    await wait_for(lambda: any(k is FrameKind.DELTA for k, _s, _q in frames), WITHIN, "deltas")
                    await wait_for(lambda: bool(beats and beats[-1].books), WITHIN, "a heartbeat naming the book")
                    assert [(v, s) for v, s, _q, _st in beats[-1].books] == [("binance", "BTC-USDT")]
                    proc.send_signal(signal.SIGTERM)
                    assert await asyncio.wait_for(proc.wait(), WITHIN) == 0
                    assert proc.stderr is not None
                    assert (await proc.stderr.read()).decode().strip().endswith("stopped.")
                await wait_for(lambda: frames[-1][1] is BookState.STALE, WITHIN, "the book told stale on stop")
                assert [q for _k, _s, q in frames] == list(range(frames[0][2], frames[-1][2] + 1))
            finally:
                await nc.close()

    run(body(), 180)


def test_two_shards_publish_every_listed_symbol_once() -> None:
    async def body() -> None:
        async with NatsServer() as server:
            nc = await nats.connect(server.url)
            beats: dict[str, set[tuple[str, str]]] = {}

            async def on_beat(msg: Msg) -> None:
                beat = Heartbeat.from_bytes(msg.data)
                beats[beat.process] = {(v, s) for v, s, _q, _st in beat.books}

            try:
                await nc.subscribe(subjects.HEARTBEATS, cb=on_beat)
                common = ["--sim", "--venues", "binance", "--all-symbols"]
                async with feed_process(server.url, *common, "--shard", "1/2", "--name", "shard-1"), \
                        feed_process(server.url, *common, "--shard", "2/2", "--name", "shard-2"):
                    await wait_for(lambda: bool(beats.get("shard-1")) and bool(beats.get("shard-2")), WITHIN,
                                   "both shards' heartbeats naming their books")
                    listed = await listed_symbols(nc, list(venue_feeds("binance")))
                    one, two = beats["shard-1"], beats["shard-2"]
                    assert one and two and not one & two
                    assert one | two == {("binance", s) for s in listed}
                    assert all(Shard(1, 2).owns(v, s) for v, s in one) and all(Shard(2, 2).owns(v, s) for v, s in two)
            finally:
                await nc.close()

    run(body(), 180)


async def listed_symbols(nc: Client, feeds: Sequence[str]) -> set[str]:
    """Every symbol the feeds list, as their publishers put them in the instrument bucket."""
    bucket = await nc.jetstream().key_value(subjects.INSTRUMENT_BUCKET)
    symbols: set[str] = set()
    for feed in feeds:
        symbols |= {i.symbol for i in instruments_from_json((await bucket.get(feed)).value or b"")}
    return symbols
