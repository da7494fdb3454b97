"""SimCluster: the simulated venues, each on its own 127.0.0.1 port, ticking one shared market."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from ..errors import VenueUnavailable
from .market import SimMarket
from .scenario import Scenario, load_scenario
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
        scenario: Scenario | str | Path | None = None,
    ) -> None:
        """``scenario``: timed dislocations (a Scenario or a scenario file, see sim/scenario.py),
        played from ``start``."""
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
        self.scenario = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario or Scenario()
        for d in self.scenario.dislocations:
            self.market.ladders_of(d.venue, d.symbol)  # an unknown venue or symbol fails here, not mid-run
        self._player: asyncio.Task[None] | None = None
        self.started = asyncio.Event()  # set once every venue listens

    async def start(self) -> SimCluster:
        for sim in self.venues.values():
            await sim.start(self.host, 0)
        self._ticker = asyncio.create_task(self._tick_loop())
        if self.scenario.dislocations:
            self._player = asyncio.create_task(self._play_scenario())
        self.started.set()
        return self

    async def stop(self) -> None:
        for task in (self._ticker, self._player):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for sim in self.venues.values():
            await sim.stop()

    async def __aenter__(self) -> SimCluster:
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
        """(ws base URL, REST base URL) to hand to the feed handler in place of the venue's;
        VenueUnavailable for a feed this cluster does not simulate."""
        sim = self.venues.get(feed_id)
        if sim is None:
            raise VenueUnavailable(f"{feed_id}: not simulated here (simulated: {', '.join(self.venues)})")
        return sim.ws_url, sim.rest_url

    def tick(self) -> None:
        for (venue, symbol), changes in self.market.advance().items():
            if changes:
                self.venues[venue].tick(symbol, changes)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.tick()

    def dislocate(self, venue: str, bps: float, symbol: str | None = None) -> list[tuple[str, str]]:
        """See SimMarket.dislocate: the venue's books move by the next tick."""
        return self.market.dislocate(venue, bps, symbol)

    async def _play_scenario(self) -> None:
        started = asyncio.get_running_loop().time()
        for action in self.scenario.actions():
            await asyncio.sleep(max(0.0, started + action.at - asyncio.get_running_loop().time()))
            self.market.dislocate(action.venue, action.bps, action.symbol)
