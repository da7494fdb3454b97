"""A Service on a simulated desk (binance, okx, kraken; BTC-USDT and ETH-USDT followed), served
in-process on 127.0.0.1 port 0 by aiohttp's AppRunner. The desk and the server run on their own
event loop in a thread for the whole module (starting the venues takes seconds); a test talks to
them over HTTP like any client, and reads the simulated venues' own state through ``served.call``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from crossbook import Desk
from crossbook.service.api import Service, build_app

VENUES = ["binance", "okx", "kraken"]
SYMBOLS = ["BTC-USDT", "ETH-USDT"]
TOKEN = "test-token-0123456789abcdef"
START_WITHIN = 120.0  # seconds: the CI machine is loaded


@dataclass
class Served:
    url: str
    token: str
    service: Service
    loop: asyncio.AbstractEventLoop

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """Run ``coro`` on the server's loop (where the desk lives) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def venue_orders(self, venue: str) -> int:
        """How many orders the simulated venue has ever taken, from its matching engine."""
        async def count() -> int:
            simulator = self.service.desk.simulator
            assert simulator is not None
            sim = simulator.trading_sim(venue)
            assert sim is not None
            return len(sim.engine.orders)
        return int(self.call(count()))


async def _serve(ready: threading.Event, box: dict[str, Any], stop: asyncio.Event) -> None:
    async with Desk.sim(VENUES, seed=3, symbols=SYMBOLS) as desk:
        service = Service(desk, SYMBOLS, TOKEN)
        runner = web.AppRunner(build_app(service))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        box["served"] = Served(f"http://127.0.0.1:{port}", TOKEN, service, asyncio.get_running_loop())
        ready.set()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    ready = threading.Event()
    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(ready, box, stop))
        except BaseException as exc:  # the fixture reports it
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=main, name="service-under-test", daemon=True)
    thread.start()
    if not ready.wait(START_WITHIN) or "error" in box:
        raise AssertionError(f"the service did not start within {START_WITHIN} s: {box.get('error')!r}")
    try:
        yield box["served"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(60)
        loop.close()
