"""SimCluster: the simulated venues, each on its own 127.0.0.1 port, ticking one shared market."""

from __future__ import annotations

import asyncio
import contextlib

from .market import SimMarket
from .server import SimVenue
from .venues import sim_class


class SimCluster:
    def __init__(
        self,
        feeds: list[str],
        *,
        seed: int = 7,
        interval: float = 0.1,
        levels: int = 300,
        host: str = "127.0.0.1",
        overrides: dict[str, object] | None = None,
        enforce_limits: bool = True,
    ) -> None:
        self.market = SimMarket(seed=seed, levels=levels)
        self.interval = interval
        self.host = host
        self.venues: dict[str, SimVenue] = {f: sim_class(f)(self.market) for f in feeds}
        for sim in self.venues.values():
            if not enforce_limits:
                sim.limits = None  # tests of other behaviour send unpaced bursts on purpose
            for name, value in (overrides or {}).items():
                setattr(sim, name, value)  # e.g. a short ping_interval in tests
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> "SimCluster":
        for sim in self.venues.values():
            await sim.start(self.host, 0)
        self._ticker = asyncio.create_task(self._tick_loop())
        return self

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for sim in self.venues.values():
            await sim.stop()

    async def __aenter__(self) -> "SimCluster":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def pause(self) -> None:
        """Stop the market moving (tests compare a settled client book with the venue's)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def resume(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_loop())

    def urls(self, feed_id: str) -> tuple[str, str]:
        """(ws base URL, REST base URL) to hand to the feed handler in place of the venue's."""
        sim = self.venues[feed_id]
        return sim.ws_url, sim.rest_url

    def tick(self) -> None:
        for (venue, symbol), changes in self.market.advance().items():
            if changes:
                self.venues[venue].tick(symbol, changes)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.tick()
