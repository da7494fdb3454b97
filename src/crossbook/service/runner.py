"""``crossbook serve``: one Desk as a long-running service.

It builds the desk (simulated, or the accounts of a crossbook.toml), keeps the books of the
configured symbols live, reconciles every account on start and follows their private streams,
evaluates the alerts, and serves the API (crossbook.service.api) until SIGTERM or SIGINT. On stop
it takes no new route (503), lets the routes in flight finish within ``finish_timeout`` seconds
(policy "finish") or cancels them at once ("cancel"), cancels what they left resting at the
venues, stops the streams and closes the journal.

    crossbook serve: http://127.0.0.1:8700/ (dashboard http://127.0.0.1:8700/#token=...)

is the one line it prints on stdout once it listens (the real port when asked for port 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import ccxt

from ..config import (
    DEFAULT_LISTEN,
    SHUTDOWN_POLICIES,
    Config,
    ServiceConfig,
    finish_timeout,
    is_loopback,
    load_config,
    parse_listen,
    service_symbols,
)
from ..desk import Desk
from ..desk.key_audit import audit_desk, refuse_on_high
from ..errors import ConfigError, VenueUnavailable
from ..market.bus_data import with_bus_url
from ..monitor.alerts import AlertEngine, AlertSink, AlertThresholds
from ..monitor.sinks import LogSink, WebhookSink
from .api import SERVICE_CHANNELS, Service, listen
from .auth import load_or_create_token
from .drain import drain_routes
from .following import AccountFollower
from .stream import StreamHub

log = logging.getLogger(__name__)

DEFAULT_SYMBOLS = ("BTC-USDT", "BTC-USD-PERP")  # spot on nine venues, dYdX's perpetual on the tenth
TOKEN_FILE = "crossbook-token"  # beside the config file, unless [service] token_file names another
SHUTDOWN_TIMEOUT = 3.0  # seconds the HTTP server gives its open requests once the routes are settled


def sim_token_file() -> Path:
    """Where a simulated service keeps its token: the user's cache, like the local chain's builds."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crossbook" / "serve-token"


@dataclass(frozen=True)
class ServeOptions:
    """What ``crossbook serve`` was asked for; None: the config's ``[service]`` setting, else the
    default."""

    sim: bool = False
    config: Path | None = None
    listen: str | None = None  # named on the command line: any host, a non-loopback one included
    symbols: tuple[str, ...] | None = None
    token_file: Path | None = None
    shutdown: str | None = None  # "finish" | "cancel"
    finish_timeout: float | None = None
    venues: tuple[str, ...] | None = None  # --sim: the simulated venues (default: all)
    seed: int = 7  # --sim: the simulated market's seed
    strict: bool | None = None  # refuse to start on a high-severity key audit finding
    bus: str | None = None  # --bus: the config's books from feed processes over this NATS bus


@dataclass(frozen=True)
class ServePlan:
    """The options over the config's ``[service]`` table, every value checked."""

    host: str
    port: int
    symbols: tuple[str, ...]
    token_file: Path
    shutdown: str
    finish_timeout: float
    config: Config | None
    alerts: AlertThresholds
    strict: bool = False

    @property
    def exposed(self) -> bool:
        """Whether the service listens beyond this machine."""
        return not is_loopback(self.host)


def plan_service(options: ServeOptions) -> ServePlan:
    """The plan ``serve`` runs, or a ConfigError naming what is wrong (nothing is started)."""
    if options.sim == (options.config is not None):
        raise ConfigError("give exactly one of --sim (simulated venues) and --config FILE (a crossbook.toml)")
    if options.venues is not None and not options.sim:
        raise ConfigError("--venues picks simulated venues: it needs --sim (a config names its own accounts)")
    if options.bus is not None and options.config is None:
        raise ConfigError("--bus reads the books of a config's accounts from the bus: it needs --config FILE")
    config = with_bus_url(load_config(options.config), options.bus) if options.config is not None else None
    table = config.service if config is not None else ServiceConfig()
    host, port = parse_listen(options.listen or table.listen or DEFAULT_LISTEN, "--listen")
    if options.shutdown is not None and options.shutdown not in SHUTDOWN_POLICIES:
        raise ConfigError(f"--shutdown must be one of {', '.join(SHUTDOWN_POLICIES)}, got {options.shutdown!r}")
    timeout = table.finish_timeout if options.finish_timeout is None else finish_timeout(options.finish_timeout,
                                                                                         "--finish-timeout")
    symbols = service_symbols(list(options.symbols), "--symbols") if options.symbols is not None else None
    return ServePlan(host, port, symbols or table.symbols or DEFAULT_SYMBOLS,
                     options.token_file or table.token_file or _default_token_file(config),
                     options.shutdown or table.shutdown, timeout, config,
                     AlertThresholds.from_mapping(config.alerts if config is not None else {}),
                     table.strict if options.strict is None else options.strict)


def _default_token_file(config: Config | None) -> Path:
    return config.path.parent / TOKEN_FILE if config is not None else sim_token_file()


def _desk(options: ServeOptions, plan: ServePlan) -> Desk:
    if plan.config is not None:
        return Desk.from_config(plan.config.path, bus_url=options.bus)
    return Desk.sim(list(options.venues) if options.venues else None, seed=options.seed, symbols=plan.symbols)


def url_line(host: str, port: int, token: str) -> str:
    """The line printed once listening: the API's base URL, and the dashboard's with the token in
    its fragment (a fragment never reaches a server or its logs)."""
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    return f"crossbook serve: {base} (dashboard {base}#token={token})"


async def serve(options: ServeOptions, announce: Callable[[str], None] | None = None) -> None:
    """Run the service until SIGTERM or SIGINT, then stop it cleanly. ``announce`` gets the URL
    line once listening (default: printed on stdout)."""
    plan = plan_service(options)
    token = _token(plan.token_file)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await _run(_desk(options, plan), plan, token, stopping, announce or _print_line)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def _token(path: Path) -> str:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return load_or_create_token(path)
    except OSError as exc:
        raise ConfigError(f"cannot read or create the token file {path}: {exc.strerror}") from None


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _run(desk: Desk, plan: ServePlan, token: str, stopping: asyncio.Event,
               announce: Callable[[str], None]) -> None:
    """Start, listen, wait for the stop signal, stop. A signal while starting stops the start
    where it is (what was started is stopped)."""
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(desk.stop)
        starting = asyncio.create_task(_start(desk, plan, token, stack))
        waiting = asyncio.create_task(stopping.wait())
        stack.callback(waiting.cancel)
        await asyncio.wait((starting, waiting), return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return
        service, port = starting.result()
        since = time.time()
        announce(url_line(plan.host, port, token))
        sys.stderr.write(f"the API's bearer token is in {plan.token_file}\n")
        await waiting
        sys.stderr.write("stopping...\n")
        drained = await drain_routes(service, plan.shutdown, plan.finish_timeout, since)
        if drained.finished or drained.cancelled:
            sys.stderr.write(drained.describe() + "\n")


async def _start(desk: Desk, plan: ServePlan, token: str, stack: contextlib.AsyncExitStack) -> tuple[Service, int]:
    """Start the desk, its accounts' streams, the alerts and the API; ``stack`` stops each (in
    reverse order) when the service stops, or at once should a later step fail."""
    desk.subscribe_market(SERVICE_CHANNELS)  # the symbols' feeds start with the streams the service carries
    await desk.start()
    await audit_keys(desk, plan.strict)
    await desk.follow(plan.symbols)
    if not desk.leased:  # on the bus, each account is reconciled when its lease is acquired (crossbook.desk.leases)
        await _reconcile(desk)
    follower = AccountFollower(desk)
    stack.push_async_callback(follower.stop)
    await follower.start()
    session = await stack.enter_async_context(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)))
    alerts = AlertEngine(desk.metrics.registry, plan.alerts, sinks=_sinks(plan, session, stack))
    stack.push_async_callback(_cancelled, asyncio.create_task(alerts.run()))
    service = Service(desk=desk, symbols=list(plan.symbols), token=token, alerts=alerts, hub=StreamHub())
    runner, port = await listen(service, plan.host, plan.port, SHUTDOWN_TIMEOUT)
    stack.push_async_callback(runner.cleanup)
    if plan.exposed:
        log.warning("listening on %s: the API is reachable from the network (bearer token required)", plan.host)
    return service, port


async def audit_keys(desk: Desk, strict: bool) -> None:
    """The key permission audit on start: its findings become metrics (and the KeyAudit alert);
    strict, a high-severity finding refuses the start (KeyAuditFailed names it)."""
    report = await audit_desk(desk)
    desk.metrics.key_audit(report.counts())
    for finding in report.findings:
        log.warning("key audit: %s/%s key %s: %s %s (%s)", finding.venue, finding.account, finding.key,
                    finding.severity, finding.finding, finding.detail)
    if strict:
        refuse_on_high(report)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _sinks(plan: ServePlan, session: aiohttp.ClientSession, stack: contextlib.AsyncExitStack) -> list[AlertSink]:
    """Alerts go to the log, and to the config's ``[alerts] webhook`` when it names one."""
    if plan.alerts.webhook is None:
        return [LogSink()]
    webhook = WebhookSink(plan.alerts.webhook, session)
    stack.push_async_callback(webhook.close)
    return [LogSink(), webhook]


async def _reconcile(desk: Desk) -> None:
    """Every account matched with its venue before the API takes an order."""
    try:
        await desk.reconcile_all()
    except ccxt.BaseError as exc:  # the type only: its text can carry a signed request
        raise VenueUnavailable(f"cannot reconcile the accounts with their venues ({type(exc).__name__})") from None
