"""`crossbook serve` (and `crossbook sim`) as subprocesses for the service tests: started, their
URL read from stdout, talked to over HTTP on 127.0.0.1, stopped by a signal."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

URL_LINE = re.compile(r"^crossbook serve: (http://127\.0\.0\.1:(\d+)/) \(dashboard \1#token=(\S+)\)$")
START_WITHIN = 180.0  # seconds for a loaded machine to start the venues, sync the books and listen
STOP_WITHIN = 60.0
CLI = [sys.executable, "-c", "from crossbook.cli import app; app()"]


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    url: str  # http://127.0.0.1:PORT/
    token: str
    stderr_file: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stderr(self) -> str:
        return self.stderr_file.read_text(errors="replace")

    async def get(self, session: aiohttp.ClientSession, path: str, *, auth: bool = True) -> tuple[int, Any]:
        async with session.get(self.url + path.lstrip("/"), headers=self.auth if auth else None) as response:
            return response.status, await _body(response)

    async def post(self, session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with session.post(self.url + path.lstrip("/"), json=body, headers=self.auth) as response:
            return response.status, await _body(response)

    async def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        """Send ``signum`` and wait for the process to end; its exit code."""
        self.proc.send_signal(signum)
        return await asyncio.wait_for(self.proc.wait(), STOP_WITHIN)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()

    async def reap(self) -> None:
        """Kill the process if it still runs, and wait for it (no transport outlives the loop)."""
        self.kill()
        await self.proc.wait()


async def _body(response: aiohttp.ClientResponse) -> Any:
    if response.content_type == "application/json":
        return await response.json()
    return await response.text()


async def start_serve(args: list[str], workdir: Path, name: str = "serve") -> Served:
    """``crossbook serve ARGS`` started, once it printed its URL line (stderr into a file of
    ``workdir``, so a chatty process never blocks on a full pipe)."""
    stderr_file = workdir / f"{name}.stderr"
    with stderr_file.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(*CLI, "serve", *args, stdout=asyncio.subprocess.PIPE,
                                                    stderr=stderr, cwd=workdir)
    try:
        line = await _first_line(proc, stderr_file)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    match = URL_LINE.match(line)
    assert match is not None, f"not the URL line: {line!r}"
    return Served(proc, match.group(1), match.group(3), stderr_file)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


async def _first_line(proc: asyncio.subprocess.Process, stderr_file: Path) -> str:
    assert proc.stdout is not None
    try:
        raw = await asyncio.wait_for(proc.stdout.readline(), START_WITHIN)
    except TimeoutError:
        raise AssertionError(f"crossbook serve printed no URL within {START_WITHIN:.0f} s; stderr:\n"
                             f"{tail(stderr_file)}") from None
    if not raw:
        await proc.wait()
        raise AssertionError(f"crossbook serve exited ({proc.returncode}) before listening; stderr:\n"
                             f"{tail(stderr_file)}")
    return raw.decode().strip()


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Call ``check`` until it is true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


async def all_ready(served: Served, session: aiohttp.ClientSession, venues: set[str]) -> bool:
    """Whether /health says every one of ``venues`` is ready."""
    status, health = await served.get(session, "/health", auth=False)
    if status != 200:
        return False
    ready = {v for v, h in health["venues"].items() if h["ready"]}
    return venues <= ready


class HoldingProxy:
    """A loopback HTTP proxy in front of a simulated venue's REST port. It forwards every request;
    while ``holding``, the venue's answer to an order placement (a POST to a path naming an order)
    is held back: the venue has the order, the client hears nothing until ``release()``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.holding = False
        self.held = asyncio.Event()  # set once an answer is being held
        self.placed = 0  # order placements forwarded
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    def release(self) -> None:
        self.holding = False
        self._released.set()

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        placing = request.method == "POST" and "order" in request.path.lower() and "cancel" not in request.path.lower()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                         data=await request.read(), allow_redirects=False) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")}
        if placing:
            self.placed += 1
            if self.holding:
                self.held.set()
                await self._released.wait()
        return web.Response(status=answer.status, body=body, headers=kept)


@dataclass
class SimProcess:
    """``crossbook sim --write-config`` as its own process: the venues outlive any service."""

    proc: asyncio.subprocess.Process
    config: Path
    ccxt_configs: dict[str, Any]  # ccxt id -> the settings an unmodified ccxt client trades with

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_WITHIN)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def start_sim(venues: list[str], workdir: Path) -> SimProcess:
    config = workdir / "cfg.toml"
    with (workdir / "sim.stderr").open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *CLI, "sim", "--venues", ",".join(venues), "--write-config", str(config), "--print-ccxt-config",
            stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=workdir)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), START_WITHIN)
        assert line, tail(workdir / "sim.stderr")
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return SimProcess(proc, config, orjson.loads(line))


async def proxied_trading(sim: SimProcess) -> dict[str, HoldingProxy]:
    """Every venue's trading (REST) traffic of ``sim.config`` sent through a HoldingProxy: the
    ccxt settings file the config names is rewritten to the proxies (market data and the private
    streams stay direct). ccxt id -> its proxy."""
    ccxt_file = sim.config.with_name(f"{sim.config.stem}-ccxt.json")
    text = ccxt_file.read_text()
    proxies: dict[str, HoldingProxy] = {}
    for ccxt_id, settings in sim.ccxt_configs.items():
        rest = _rest_base(settings)
        if rest is None or any(p.upstream == rest for p in proxies.values()):  # okx's derivatives: the same port
            continue
        proxy = HoldingProxy(rest)
        text = text.replace(f'"{rest}', f'"{await proxy.start()}')
        proxies[ccxt_id] = proxy
    ccxt_file.write_text(text)
    return proxies


def _rest_base(settings: dict[str, Any]) -> str | None:
    """The simulator's http://127.0.0.1:PORT that a ccxt config's URLs point at."""
    match = re.search(r"http://127\.0\.0\.1:\d+", orjson.dumps(settings.get("urls", {})).decode())
    return match.group(0) if match else None
