"""Soak and load: `crossbook serve` for N minutes under random venue faults, a route every few
seconds and a bounded client load on its API; then every order the venues hold is checked against
the journal. A benchmark, not a test: it never runs in the suite.

    python bench/soak.py --minutes N [--json] [--seed S] [--quote-rate 200] [--subscribers 50]

The simulated venues run in their own process (`crossbook sim --write-config`), the service in
another (`crossbook serve --config` on them, 127.0.0.1 port 0): the venues' keys stay out of the
service's API, and this script reads each venue's account through an unmodified ccxt client with
the settings `crossbook sim` wrote, exactly as an operator would.

For the whole run:
- faults, one every ``--fault-every`` seconds on average, on a random feed that lists a soak symbol:
  ``drop`` (every socket closed), ``skip`` (a sequence gap), ``corrupt`` (a wrong checksum), ``stall``
  and ``freeze`` (the stream, or one symbol of it, goes silent), ``timeout`` (the next book snapshot
  answers 30 s late), ``http_5xx`` on the snapshot for a few seconds, ``malformed_frame``; each
  only where the venue's protocol can show it (POST /_crossbook/fault on the simulator);
- a real route (POST /route) every ``--route-every`` seconds, sides alternating so balances hold;
- ``--quote-rate`` GET /quote per second from a pool of at most ``MAX_IN_FLIGHT`` requests (a tick
  that finds the pool full is counted as shed, not queued) and ``--subscribers`` WebSocket clients
  on /stream (prices, routes, health);
- GET /health every second (the share of samples in which each venue's books were all live).

Reported: that share per venue, resyncs per venue (crossbook_book_resyncs_total over the run), /quote
p50/p99 latency (ms, send to body read, measured by a client that shares this process with the
subscribers), WebSocket messages, the service's RSS at start and end, routes by outcome, faults
injected, and orders lost (a venue order whose client id the journal does not have) or doubled (a
client id the venue holds more than once). Exit code 1 if any order is lost or doubled, 2 if the run
could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import orjson
from prometheus_client.parser import text_string_to_metric_families

from crossbook.config import CCXT_IDS, load_config
from crossbook.sim.venues import sim_class
from crossbook.trading.account import VenueAccount
from crossbook.trading.client_ids import client_id_rule
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec, venue_of
from crossbook.venues.spec.limiter import Limiter

CROSSBOOK = Path(sys.executable).with_name("crossbook")
SERVE_LINE = re.compile(r"crossbook serve: (http://\S+?)/? \(dashboard \S*#token=(\S+?)\)")
START_DEADLINE = 180.0  # seconds for the venues and the service to start (a loaded machine is slow)
READY_DEADLINE = 120.0  # seconds for every venue's books to go live before the load starts
STOP_DEADLINE = 60.0  # seconds for a process to stop on its signal before it is killed
REQUEST_TIMEOUT = 10.0  # one /quote, /health or /metrics request
ROUTE_TIMEOUT = 60.0  # one POST /route
MAX_IN_FLIGHT = 64  # /quote requests outstanding at once
RECONNECT_PAUSE = 1.0  # a subscriber whose socket closed waits this long before it connects again
SETTLE_SECONDS = 3.0  # after the load stops, before the service is stopped: late fills reach the journal
SYMBOL_FAULTS = ("skip", "corrupt", "freeze", "malformed_frame")
SOCKET_FAULTS = ("drop", "stall")
SNAPSHOT_FAULTS = ("timeout", "http_5xx")


# ---- options -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    minutes: float
    seed: int
    symbols: tuple[str, ...]
    venues: str | None
    quote_rate: float
    quote_amount: float
    subscribers: int
    route_every: float
    route_amount: float
    fault_every: float
    json: bool

    @property
    def seconds(self) -> float:
        return self.minutes * 60.0


def positive(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {text!r}")
        return value
    return parse


def parse_options(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=positive("--minutes"), required=True)
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated market and of the faults")
    p.add_argument("--symbols", default="BTC-USDT,ETH-USDT", help="the service's symbols; routes trade the first")
    p.add_argument("--venues", default=None, help="comma-separated venue ids (default: all ten)")
    p.add_argument("--quote-rate", type=positive("--quote-rate"), default=200.0, help="GET /quote per second")
    p.add_argument("--quote-amount", type=positive("--quote-amount"), default=0.1)
    p.add_argument("--subscribers", type=int, default=50, help="WebSocket clients on /stream")
    p.add_argument("--route-every", type=positive("--route-every"), default=5.0, help="seconds between routes")
    p.add_argument("--route-amount", type=positive("--route-amount"), default=0.01, help="base units per route")
    p.add_argument("--fault-every", type=positive("--fault-every"), default=3.0, help="mean seconds between faults")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    a = p.parse_args(argv)
    if a.subscribers < 0:
        p.error(f"--subscribers must be 0 or more, got {a.subscribers}")
    symbols = tuple(s.strip().upper() for s in a.symbols.split(",") if s.strip())
    if not symbols:
        p.error("--symbols names no symbol")
    return Options(a.minutes, a.seed, symbols, a.venues, a.quote_rate, a.quote_amount, a.subscribers,
                   a.route_every, a.route_amount, a.fault_every, a.json)


# ---- results -----------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(slots=True)
class HealthSamples:
    """GET /health once a second: per venue, how many samples saw every one of its books live."""

    samples: int = 0
    failed: int = 0  # samples the service did not answer
    live: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)

    def add(self, body: Any) -> None:
        self.samples += 1
        for venue, health in (body.get("venues") or {}).items():
            books = health.get("books") or {}
            if not books:
                continue
            self.seen[venue] += 1
            if all(state == "live" for state in books.values()):
                self.live[venue] += 1

    def live_share(self) -> dict[str, float]:
        return {v: round(self.live[v] / self.samples, 4) if self.samples else 0.0 for v in sorted(self.seen)}


@dataclass(slots=True)
class QuoteLoad:
    sent: int = 0
    shed: int = 0  # ticks that found MAX_IN_FLIGHT requests outstanding
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # no answer: exception class
    latencies_ms: list[float] = field(default_factory=list)  # answered with 200

    def to_json(self, seconds: float) -> dict[str, Any]:
        return {
            "sent": self.sent, "shed": self.shed, "rate_per_s": round(self.sent / seconds, 1) if seconds else 0.0,
            "ok": self.statuses[200], "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            "p50_ms": rounded(percentile(self.latencies_ms, 0.50)),
            "p99_ms": rounded(percentile(self.latencies_ms, 0.99)),
            "max_ms": rounded(max(self.latencies_ms, default=None)),
        }


@dataclass(slots=True)
class StreamLoad:
    subscribers: int = 0
    connects: int = 0
    disconnects: int = 0  # sockets that closed before the run ended
    messages: Counter[str] = field(default_factory=Counter)  # channel -> messages

    def to_json(self) -> dict[str, Any]:
        return {"subscribers": self.subscribers, "connects": self.connects, "disconnects": self.disconnects,
                "messages": sum(self.messages.values()), "by_channel": dict(sorted(self.messages.items()))}


@dataclass(slots=True)
class RouteLoad:
    outcomes: Counter[str] = field(default_factory=Counter)  # filled|partial|failed|dry_run, or http_<status>
    errors: list[str] = field(default_factory=list)  # the first few, for the report

    @property
    def done(self) -> int:
        return self.outcomes["filled"] + self.outcomes["partial"]

    @property
    def failed(self) -> int:
        return sum(self.outcomes.values()) - self.done

    def error(self, text: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(text[:200])

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "failed": self.failed, "by_outcome": dict(sorted(self.outcomes.items())),
                "first_errors": self.errors}


@dataclass(slots=True)
class FaultLoad:
    injected: Counter[str] = field(default_factory=Counter)  # "venue fault" -> times
    refused: Counter[str] = field(default_factory=Counter)  # the simulator said no: its message

    def to_json(self) -> dict[str, Any]:
        by_fault: Counter[str] = Counter()
        for key, n in self.injected.items():
            by_fault[key.split()[1]] += n
        return {"injected": sum(self.injected.values()), "by_fault": dict(sorted(by_fault.items())),
                "by_venue_fault": dict(sorted(self.injected.items())), "refused": dict(self.refused)}


@dataclass(slots=True)
class OrderCheck:
    """The venues' orders against the journal, per venue."""

    venue_orders: Counter[str] = field(default_factory=Counter)
    journaled: Counter[str] = field(default_factory=Counter)
    lost: dict[str, list[str]] = field(default_factory=dict)  # venue -> client ids (or venue ids) not journaled
    doubled: dict[str, list[str]] = field(default_factory=dict)  # venue -> client ids held more than once
    not_listed: Counter[str] = field(default_factory=Counter)  # acked in the journal, not in the venue's lists
    unresolved: Counter[str] = field(default_factory=Counter)  # still INTENT or SENT in the journal
    unreadable: dict[str, str] = field(default_factory=dict)  # venue -> why its orders could not be read
    fills_only: dict[str, str] = field(default_factory=dict)  # venue -> symbols read through fills (no history)

    @property
    def lost_count(self) -> int:
        return sum(len(v) for v in self.lost.values())

    @property
    def doubled_count(self) -> int:
        return sum(len(v) for v in self.doubled.values())

    def to_json(self) -> dict[str, Any]:
        return {"lost": self.lost_count, "doubled": self.doubled_count, "lost_ids": self.lost,
                "doubled_ids": self.doubled, "venue_orders": dict(sorted(self.venue_orders.items())),
                "journaled": dict(sorted(self.journaled.items())), "journaled_not_listed": dict(self.not_listed),
                "unresolved": dict(self.unresolved), "unreadable": self.unreadable,
                "read_through_fills": self.fills_only}


@dataclass(slots=True)
class SoakReport:
    minutes: float
    seed: int
    symbols: tuple[str, ...]
    seconds: float  # the load phase as it ran
    live_share: dict[str, float]
    health: HealthSamples
    resyncs: dict[str, float]
    quotes: QuoteLoad
    stream: StreamLoad
    routes: RouteLoad
    faults: FaultLoad
    rss_start_mb: float | None
    rss_end_mb: float | None
    orders: OrderCheck

    @property
    def ok(self) -> bool:
        return self.orders.lost_count == 0 and self.orders.doubled_count == 0 and not self.orders.unreadable

    def to_json(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes, "seed": self.seed, "symbols": list(self.symbols), "seconds": round(self.seconds, 1),
            "live_share": self.live_share, "health_samples": self.health.samples, "health_failed": self.health.failed,
            "resyncs": self.resyncs, "quote": self.quotes.to_json(self.seconds), "stream": self.stream.to_json(),
            "routes": self.routes.to_json(), "faults": self.faults.to_json(),
            "rss_start_mb": rounded(self.rss_start_mb, 1), "rss_end_mb": rounded(self.rss_end_mb, 1),
            "orders": self.orders.to_json(), "ok": self.ok,
        }


# ---- the processes -----------------------------------------------------------------------------


class StartFailed(Exception):
    """The venues or the service did not start: the message says which and shows its stderr."""


@dataclass(slots=True)
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @classmethod
    def start(cls, name: str, args: list[str], folder: Path) -> Child:
        stdout, stderr = folder / f"{name}.out", folder / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen([str(CROSSBOOK), *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    cwd=folder)
        return cls(name, proc, stdout, stderr)

    def failure(self, what: str) -> StartFailed:
        tail = self.stderr.read_text(errors="replace")[-2000:]
        return StartFailed(f"{self.name}: {what} (exit code {self.proc.poll()}); its stderr ends:\n{tail}")

    async def wait_for(self, found: Callable[[], Any], what: str, deadline: float = START_DEADLINE) -> Any:
        """``found()``'s first truthy value, polled while the process runs, within ``deadline``."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            value = found()
            if value:
                return value
            if self.proc.poll() is not None:
                raise self.failure(f"exited before {what}")
            await asyncio.sleep(0.2)
        raise self.failure(f"no {what} within {deadline:g} s")

    async def stop(self, how: signal.Signals) -> int | None:
        """Signal the process and wait for it; killed if it outlives STOP_DEADLINE."""
        if self.proc.poll() is None:
            self.proc.send_signal(how)
        try:
            return await asyncio.to_thread(self.proc.wait, STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None  # did not stop on its signal

    def rss_mb(self) -> float | None:
        """Resident memory of the process now (Linux /proc), in MiB."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        return None


@dataclass(frozen=True, slots=True)
class Service:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/stream"


async def start_venues(options: Options, folder: Path) -> tuple[Child, Path]:
    """`crossbook sim --write-config`: the venues, and the crossbook.toml naming them once written."""
    config = folder / "sim.toml"
    args = ["sim", "--seed", str(options.seed), "--write-config", str(config)]
    if options.venues:
        args += ["--venues", options.venues]
    venues = Child.start("sim", args, folder)
    ccxt_file = config.with_name(f"{config.stem}-ccxt.json")
    await venues.wait_for(lambda: config.exists() and ccxt_file.exists(), "config file")
    return venues, config


async def start_service(options: Options, config: Path, folder: Path) -> tuple[Child, Service]:
    token_file = folder / "token"
    args = ["serve", "--config", str(config), "--listen", "127.0.0.1:0", "--symbols", ",".join(options.symbols),
            "--token-file", str(token_file)]
    serve = Child.start("serve", args, folder)

    def announced() -> re.Match[str] | None:
        return SERVE_LINE.search(serve.stdout.read_text(errors="replace"))

    line: re.Match[str] = await serve.wait_for(announced, "'crossbook serve: http://...' line")
    token = token_file.read_text().strip() if token_file.exists() else line.group(2)
    return serve, Service(line.group(1).rstrip("/"), token)


# ---- the load ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaultTarget:
    feed: str
    control: str  # the simulator's POST /_crossbook/fault URL
    symbols: tuple[str, ...]  # the soak symbols it lists
    supported: frozenset[str]  # the feed faults its protocol can show

    def catalogue(self) -> list[str]:
        return [f for f in (*SOCKET_FAULTS, *SYMBOL_FAULTS, *SNAPSHOT_FAULTS)
                if f not in ("drop", "stall", "skip", "corrupt") or f in self.supported]


def fault_targets(config: Path, symbols: tuple[str, ...]) -> list[FaultTarget]:
    """Every simulated feed that lists one of ``symbols``, with its control URL."""
    targets = []
    for feed, (_, rest) in load_config(config).endpoints.items():
        sim = sim_class(feed)
        listed = tuple(s for s in symbols if s in sim.markets)
        if listed:
            targets.append(FaultTarget(feed, rest.rstrip("/") + "/_crossbook/fault", listed, sim.faults_supported))
    return targets


def fault_body(rng: random.Random, fault: str, symbol: str) -> dict[str, Any]:
    """The control request of one fault: which symbol, endpoint and how long, as the fault takes them."""
    if fault == "drop":
        return {"fault": fault}
    if fault == "stall":
        return {"fault": fault, "seconds": round(rng.uniform(2, 8), 1)}
    if fault in ("skip", "corrupt", "malformed_frame"):
        return {"fault": fault, "symbol": symbol}  # the next update or frame of the symbol
    if fault == "freeze":
        return {"fault": fault, "symbol": symbol, "seconds": round(rng.uniform(2, 8), 1)}
    if fault == "timeout":  # the next snapshot of the symbol comes 30 s late
        return {"fault": fault, "endpoint": "snapshot", "symbol": symbol}
    return {"fault": fault, "endpoint": "snapshot", "symbol": symbol, "seconds": round(rng.uniform(2, 6), 1)}


class Load:
    """The client side of the run: health sampling, /quote load, subscribers, routes and faults,
    each stopping at ``end`` (time.monotonic())."""

    def __init__(self, options: Options, service: Service, session: aiohttp.ClientSession,
                 quote_session: aiohttp.ClientSession, targets: list[FaultTarget]) -> None:
        self.options = options
        self.service = service
        self.session = session  # health, metrics, routes and faults
        self.quote_session = quote_session  # its own pool: the quote load never queues the others
        self.targets = targets
        self.rng = random.Random(options.seed)
        self.end = 0.0
        self.health = HealthSamples()
        self.quotes = QuoteLoad()
        self.stream = StreamLoad()
        self.routes = RouteLoad()
        self.faults = FaultLoad()

    async def get_json(self, path: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with self.session.get(self.service.url + path, headers=self.service.headers, timeout=timeout) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def metrics_text(self) -> str:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with self.session.get(self.service.url + "/metrics", timeout=timeout) as resp:
            resp.raise_for_status()
            return await resp.text()

    async def wait_ready(self) -> None:
        """Until every venue with books has them all live (or READY_DEADLINE: the run then measures it)."""
        end = time.monotonic() + READY_DEADLINE
        while time.monotonic() < end:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                venues = (await self.get_json("/health")).get("venues") or {}
                books = [s for v in venues.values() for s in (v.get("books") or {}).values()]
                if books and all(state == "live" for state in books):
                    return
            await asyncio.sleep(0.5)

    async def run(self, seconds: float) -> float:
        """Every load for ``seconds``; returns how long it ran."""
        start = time.monotonic()
        self.end = start + seconds
        subscribers = [asyncio.create_task(self.subscribe()) for _ in range(self.options.subscribers)]
        self.stream.subscribers = len(subscribers)
        try:
            await asyncio.gather(self.sample_health(), self.load_quotes(), self.route_loop(), self.inject_faults())
        finally:
            for task in subscribers:
                task.cancel()
            await asyncio.gather(*subscribers, return_exceptions=True)
        return time.monotonic() - start

    async def every(self, interval: float, step: Callable[[int], Awaitable[None]]) -> None:
        """``step(k)`` at start + k * interval until the end; a late step is not made up for."""
        start = time.monotonic()
        k = 0
        while (due := start + k * interval) < self.end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await step(k)
            k = max(k + 1, math.ceil((time.monotonic() - start) / interval))

    async def sample_health(self) -> None:
        async def sample(_: int) -> None:
            try:
                self.health.add(await self.get_json("/health"))
            except (aiohttp.ClientError, TimeoutError, ValueError):
                self.health.failed += 1
        await self.every(1.0, sample)

    async def load_quotes(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        total = int(self.options.quote_rate * (self.end - time.monotonic()))
        start = time.monotonic()
        for i in range(total):
            due = start + i / self.options.quote_rate
            if due >= self.end:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if len(in_flight) >= MAX_IN_FLIGHT:
                self.quotes.shed += 1
                continue
            side = "buy" if i % 2 == 0 else "sell"
            task = asyncio.create_task(self.quote(self.options.symbols[i % len(self.options.symbols)], side))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight, return_exceptions=True)

    async def quote(self, symbol: str, side: str) -> None:
        self.quotes.sent += 1
        params = {"symbol": symbol, "side": side, "amount": str(self.options.quote_amount)}
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        sent = time.perf_counter()
        try:
            async with self.quote_session.get(self.service.url + "/quote", params=params,
                                              headers=self.service.headers, timeout=timeout) as resp:
                await resp.read()
                self.quotes.statuses[resp.status] += 1
                if resp.status == 200:
                    self.quotes.latencies_ms.append((time.perf_counter() - sent) * 1000.0)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.quotes.errors[type(exc).__name__] += 1

    async def subscribe(self) -> None:
        """One WebSocket client on /stream until cancelled, connecting again when its socket closes."""
        request = {"op": "subscribe", "channels": ["prices", "routes", "health"], "symbols": list(self.options.symbols)}
        while time.monotonic() < self.end:
            try:
                async with self.session.ws_connect(self.service.ws_url, headers=self.service.headers,
                                                   heartbeat=30.0) as ws:
                    self.stream.connects += 1
                    await ws.send_str(orjson.dumps(request).decode())
                    async for message in ws:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            data = orjson.loads(message.data)  # {"channel", "data"}, or an answer to an op
                            self.stream.messages[str(data.get("channel") or f"op {data.get('op')}")] += 1
            except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError):
                pass
            self.stream.disconnects += 1
            await asyncio.sleep(RECONNECT_PAUSE)

    async def route_loop(self) -> None:
        symbol = self.options.symbols[0]

        async def route(k: int) -> None:
            body = {"symbol": symbol, "side": "buy" if k % 2 == 0 else "sell", "amount": self.options.route_amount}
            timeout = aiohttp.ClientTimeout(total=ROUTE_TIMEOUT)
            try:
                async with self.session.post(self.service.url + "/route", json=body, headers=self.service.headers,
                                             timeout=timeout) as resp:
                    text = await resp.text()
                    if resp.status != 200:
                        self.routes.outcomes[f"http_{resp.status}"] += 1
                        self.routes.error(f"{resp.status}: {text}")
                        return
                    self.routes.outcomes[str(orjson.loads(text).get("outcome"))] += 1
            except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
                self.routes.outcomes["no_answer"] += 1
                self.routes.error(f"{type(exc).__name__}: {exc}")
        await self.every(self.options.route_every, route)

    async def inject_faults(self) -> None:
        if not self.targets:
            return
        while True:
            pause = self.rng.uniform(0.5, 1.5) * self.options.fault_every
            if time.monotonic() + pause >= self.end:
                return
            await asyncio.sleep(pause)
            target = self.rng.choice(self.targets)
            fault = self.rng.choice(target.catalogue())
            await self.inject(target, fault_body(self.rng, fault, self.rng.choice(target.symbols)))

    async def inject(self, target: FaultTarget, body: dict[str, Any]) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        try:
            async with self.session.post(target.control, json=body, timeout=timeout) as resp:
                if resp.status == 200:
                    self.faults.injected[f"{target.feed} {body['fault']}"] += 1
                else:
                    self.faults.refused[f"{target.feed} {body['fault']}: {(await resp.json()).get('error')}"] += 1
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self.faults.refused[f"{target.feed} {body['fault']}: {type(exc).__name__}"] += 1


def resyncs_by_venue(metrics: str) -> dict[str, float]:
    """crossbook_book_resyncs_total summed per venue, from a /metrics body."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "crossbook_book_resyncs_total":
                venue = sample.labels.get("venue", "?")
                totals[venue] = totals.get(venue, 0.0) + sample.value
    return totals


# ---- orders: the venues against the journal ----------------------------------------------------


async def venue_orders(account: VenueAccount, symbols: tuple[str, ...], since_ms: int,
                       unlisted: list[str]) -> list[dict[str, Any]]:
    """Every order of the account on ``symbols`` since ``since_ms``, open or closed, once each; the
    symbols whose closed orders the venue cannot list are added to ``unlisted``."""
    client = account.client
    found: dict[str, dict[str, Any]] = {}
    for symbol in symbols:
        if symbol not in account.rules:
            continue
        ccxt_symbol = account.market(symbol).ccxt_symbol
        orders = list(await client.fetch_open_orders(ccxt_symbol))
        try:
            if client.has.get("fetchClosedOrders"):
                orders += await client.fetch_closed_orders(ccxt_symbol, since_ms)
            else:  # fetchOrders lists the open ones again: the venue id keeps each once
                orders += await client.fetch_orders(ccxt_symbol, since_ms)
        except (ccxt_async.ExchangeError, ccxt_async.ExchangeNotAvailable) as exc:  # no order history (404)
            orders += await orders_of_fills(client, ccxt_symbol, since_ms)
            unlisted.append(f"{symbol}: {type(exc).__name__}")
        found |= {f"{symbol} {o['id']}": o for o in orders}
    return list(found.values())


async def orders_of_fills(client: Any, ccxt_symbol: str, since_ms: int) -> list[dict[str, Any]]:
    """The orders (each read by its venue id) behind the account's fills since ``since_ms``: where a
    venue serves no order history, every order that traded; one that never traded goes unseen."""
    ids = dict.fromkeys(str(t["order"]) for t in await client.fetch_my_trades(ccxt_symbol, since_ms) if t.get("order"))
    return [await client.fetch_order(order_id, ccxt_symbol) for order_id in ids]


async def check_venue(check: OrderCheck, venue: str, ccxt_config: dict[str, Any], journal: Journal,
                      symbols: tuple[str, ...], since_ms: int) -> None:
    client = getattr(ccxt_async, CCXT_IDS[venue])(ccxt_config)
    try:
        account = VenueAccount(venue, client, journal, Limiter(spec(venue).limit_table()))
        await account.load()
        unlisted: list[str] = []
        remote = await venue_orders(account, symbols, since_ms, unlisted)
        if unlisted:
            check.fills_only[venue] = ", ".join(unlisted)
    finally:
        await client.close()
    mine = [o for o in journal.orders(venue) if o.request.symbol in symbols]
    rule = client_id_rule(venue)
    by_wire = {str(rule.wire_value(o.client_order_id)): o.client_order_id for o in mine}
    held: Counter[str] = Counter()
    for order in remote:
        cid = order.get("clientOrderId")
        if cid is None or str(cid) not in by_wire:
            check.lost.setdefault(venue, []).append(str(cid if cid is not None else f"venue id {order['id']}"))
        else:
            held[str(cid)] += 1
    doubled = [by_wire[w] for w, n in held.items() if n > 1]
    if doubled:
        check.doubled[venue] = doubled
    listed = {str(o["id"]) for o in remote}
    check.venue_orders[venue] = len(remote)
    check.journaled[venue] = len(mine)
    check.not_listed[venue] = sum(1 for o in mine if o.venue_order_id is not None and o.venue_order_id not in listed)
    check.unresolved[venue] = len(journal.in_flight(venue))


async def check_orders(config: Path, symbols: tuple[str, ...], since: float) -> OrderCheck:
    """Each traded venue's orders (read through ccxt with `crossbook sim`'s settings) against the journal."""
    loaded = load_config(config)
    ccxt_configs = orjson.loads(config.with_name(f"{config.stem}-ccxt.json").read_bytes())
    venues = sorted({venue_of(feed) for feed in loaded.endpoints if set(symbols) & set(sim_class(feed).markets)})
    check = OrderCheck()
    with Journal(loaded.journal) as journal:
        for venue in venues:
            if CCXT_IDS[venue] not in ccxt_configs:
                continue  # a venue crossbook does not trade here
            try:
                await check_venue(check, venue, ccxt_configs[CCXT_IDS[venue]], journal, symbols, int(since * 1000))
            except Exception as exc:  # one venue that cannot be read must not hide the others
                check.unreadable[venue] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return check


# ---- the run -----------------------------------------------------------------------------------


async def soak(options: Options, folder: Path) -> SoakReport:
    started = time.time()
    venues, config = await start_venues(options, folder)
    try:
        serve, service = await start_service(options, config, folder)
        try:
            report = await load_service(options, service, serve, fault_targets(config, options.symbols))
        finally:
            stopped = await serve.stop(signal.SIGTERM)
            if stopped is None:
                print("soak: crossbook serve did not stop on SIGTERM and was killed", file=sys.stderr)
        report.orders = await check_orders(config, options.symbols, started - 60.0)
    finally:
        await venues.stop(signal.SIGINT)
    return report


async def load_service(options: Options, service: Service, serve: Child, targets: list[FaultTarget]) -> SoakReport:
    connector = aiohttp.TCPConnector(limit=options.subscribers + 16)
    quote_connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session, \
            aiohttp.ClientSession(connector=quote_connector) as quote_session:
        load = Load(options, service, session, quote_session, targets)
        await load.wait_ready()
        resyncs_before = resyncs_by_venue(await load.metrics_text())
        rss_start = serve.rss_mb()
        seconds = await load.run(options.seconds)
        await asyncio.sleep(SETTLE_SECONDS)
        resyncs_after = resyncs_by_venue(await load.metrics_text())
        rss_end = serve.rss_mb()
    resyncs = {v: resyncs_after[v] - resyncs_before.get(v, 0.0) for v in sorted(resyncs_after)}
    return SoakReport(options.minutes, options.seed, options.symbols, seconds, load.health.live_share(), load.health,
                      resyncs, load.quotes, load.stream, load.routes, load.faults, rss_start, rss_end, OrderCheck())


# ---- output ------------------------------------------------------------------------------------


def print_table(report: SoakReport) -> None:
    from rich.console import Console
    from rich.table import Table

    data = report.to_json()
    console = Console(width=max(100, Console().width))
    venues = Table(title=f"soak: {report.minutes:g} min, seed {report.seed}, {', '.join(report.symbols)}")
    for column in ("venue", "live", "resyncs", "faults", "venue orders", "journal", "lost", "doubled"):
        venues.add_column(column, justify="left" if column == "venue" else "right")
    faults_by_venue: Counter[str] = Counter()
    for key, n in report.faults.injected.items():
        faults_by_venue[venue_of(key.split()[0])] += n
    for venue in sorted(set(report.live_share) | set(report.resyncs) | set(report.orders.venue_orders)):
        share = report.live_share.get(venue)
        venues.add_row(venue, "-" if share is None else f"{share:.1%}", f"{report.resyncs.get(venue, 0):g}",
                       str(faults_by_venue[venue]), str(report.orders.venue_orders.get(venue, "-")),
                       str(report.orders.journaled.get(venue, "-")), str(len(report.orders.lost.get(venue, []))),
                       str(len(report.orders.doubled.get(venue, []))))
    console.print(venues)
    quote, stream, routes = data["quote"], data["stream"], data["routes"]
    summary = Table(show_header=False, title="load")
    summary.add_column("what")
    summary.add_column("figure", justify="right")
    for what, figure in (
        ("/quote sent (per s), shed", f"{quote['sent']} ({quote['rate_per_s']}), {quote['shed']}"),
        ("/quote 200, other, no answer", f"{quote['ok']}, {quote['sent'] - quote['ok'] - sum(quote['errors'].values())}, "
                                         f"{sum(quote['errors'].values())}"),
        ("/quote p50 / p99 / max (ms)", f"{quote['p50_ms']} / {quote['p99_ms']} / {quote['max_ms']}"),
        ("WS subscribers, connects, messages", f"{stream['subscribers']}, {stream['connects']}, {stream['messages']}"),
        ("WS messages by channel", ", ".join(f"{c} {n}" for c, n in stream["by_channel"].items()) or "-"),
        ("routes done, failed", f"{routes['done']}, {routes['failed']} {routes['by_outcome']}"),
        ("faults injected, refused", f"{data['faults']['injected']}, {sum(report.faults.refused.values())}"),
        ("health samples (unanswered)", f"{report.health.samples} ({report.health.failed})"),
        ("serve RSS start -> end (MiB)", f"{data['rss_start_mb']} -> {data['rss_end_mb']}"),
        ("orders lost, doubled", f"{report.orders.lost_count}, {report.orders.doubled_count}"),
        ("journal still in flight", str(sum(report.orders.unresolved.values()))),
    ):
        summary.add_row(what, figure)
    console.print(summary)
    for venue, why in report.orders.unreadable.items():
        console.print(f"[red]{venue}: its orders could not be read: {why}[/red]")
    for error in report.routes.errors:
        console.print(f"route error: {error}")


def main(argv: list[str]) -> int:
    options = parse_options(argv)
    with tempfile.TemporaryDirectory(prefix="crossbook-soak-") as tmp:
        try:
            report = asyncio.run(soak(options, Path(tmp)))
        except StartFailed as exc:
            print(f"soak: {exc}", file=sys.stderr)
            return 2
    if options.json:
        sys.stdout.write(orjson.dumps(report.to_json()).decode() + "\n")
    else:
        print_table(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
