"""Fault files for ``crossbook sim --faults FILE``: faults of the simulated venues, on a timetable.

A fault file is JSON (``.json``) or TOML (``.toml``)::

    {"faults": [
        {"venue": "binance", "fault": "http_5xx", "at": 5, "seconds": 10, "symbol": "BTC-USDT"},
        {"venue": "okx", "fault": "malformed_frame", "at": 20, "seconds": 2}
    ]}

    [[faults]]
    venue = "kraken"
    fault = "hang"
    endpoint = "instruments"
    at = 3
    seconds = 30

``venue`` is a venue id (every simulated feed of it that lists ``symbol``, if given) or one feed id
(``binanceusdm``); ``fault`` one of sim/faults.py's (``delay`` excepted: it holds frames until undone,
which a timetable does not say); ``at`` seconds after the venues start (default 0); ``seconds`` how
long it lasts (default 0: the next request or frame only); ``symbol`` (optional) one standard symbol;
``endpoint`` (REST faults, optional) ``snapshot`` (the default) or ``instruments``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..venues.registry import VENUES, venue_of
from .faults import ENDPOINTS, FAULTS, REST_FAULTS
from .scenario import read_timetable
from .server import SimVenue
from .venues import venue_sims

SCHEDULABLE = tuple(f for f in FAULTS if f != "delay")
KEYS = ("venue", "fault", "at", "seconds", "symbol", "endpoint")


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    venue: str  # a venue id or a feed id
    fault: str
    at: float = 0.0
    seconds: float = 0.0
    symbol: str | None = None
    endpoint: str | None = None
    where: str = ""  # the entry in its file, for errors

    def describe(self) -> str:
        """``binance http_5xx on snapshot of BTC-USDT at 5 s for 10 s``"""
        on = f" on {self.endpoint or 'snapshot'}" if self.fault in REST_FAULTS else ""
        of = f" of {self.symbol}" if self.symbol else ""
        lasting = f"for {self.seconds:g} s" if self.seconds else "once"
        return f"{self.venue} {self.fault}{on}{of} at {self.at:g} s {lasting}"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    faults: tuple[ScheduledFault, ...] = ()

    def targets(self, fault: ScheduledFault, venues: Mapping[str, SimVenue | type[SimVenue]]) -> list[str]:
        """The feeds of ``venues`` (feed id -> simulator) that ``fault`` acts on."""
        feeds = [f for f in venues if fault.venue in (f, venue_of(f))]
        return [f for f in feeds if fault.symbol is None or fault.symbol in venues[f].markets]

    def check(self, venues: Mapping[str, SimVenue | type[SimVenue]]) -> None:
        """Every fault acts on at least one of ``venues``, each of which can show it: a
        ConfigError names the entry and what is wrong."""
        for fault in self.faults:
            feeds = [f for f in venues if fault.venue in (f, venue_of(f))]
            if not feeds:
                raise ConfigError(f"{fault.where}: venue {fault.venue!r} is not simulated here; running: {', '.join(venues)}")
            if not self.targets(fault, venues):
                raise ConfigError(f"{fault.where}: no simulated feed of {fault.venue} lists {fault.symbol}")
            for feed in self.targets(fault, venues):
                _check_feed(fault, feed, venues[feed])


def _check_feed(fault: ScheduledFault, feed: str, sim: SimVenue | type[SimVenue]) -> None:
    if fault.fault in REST_FAULTS:
        endpoint = fault.endpoint or "snapshot"
        if not (sim.snapshot_paths if endpoint == "snapshot" else sim.instruments_paths):
            raise ConfigError(f"{fault.where}: {feed} serves no {endpoint} endpoint the REST faults act on")
    elif fault.fault in ("skip", "corrupt", "stall", "drop") and fault.fault not in sim.faults_supported:
        raise ConfigError(f"{fault.where}: {feed}'s protocol cannot show {fault.fault!r}")


async def play(plan: FaultPlan, venues: Mapping[str, SimVenue]) -> None:
    """Inject each fault at its time (seconds from now) on every feed it acts on."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for fault in sorted(plan.faults, key=lambda f: f.at):
        await asyncio.sleep(max(0.0, started + fault.at - loop.time()))
        for feed in plan.targets(fault, venues):
            venues[feed].inject(fault.fault, fault.symbol, fault.seconds, fault.endpoint)


def load_fault_plan(path: str | Path) -> FaultPlan:
    """Read a fault file (``.toml`` as TOML, anything else as JSON)."""
    path = Path(path)
    return parse_fault_plan(read_timetable(path, "fault"), f"fault file {path}")


def parse_fault_plan(raw: Any, where: str = "faults") -> FaultPlan:
    if not isinstance(raw, dict) or not isinstance(raw.get("faults"), list):
        raise ConfigError(f"{where}: expected an object with a list 'faults'")
    unknown = set(raw) - {"faults"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return FaultPlan(tuple(_entry(item, f"{where}: faults[{i}]") for i, item in enumerate(raw["faults"])))


def _entry(item: Any, where: str) -> ScheduledFault:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected an object with {', '.join(KEYS)}")
    unknown = set(item) - set(KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}; known: {', '.join(KEYS)}")
    venue, fault = item.get("venue"), item.get("fault")
    if not isinstance(venue, str) or not _known_venue(venue.lower()):
        raise ConfigError(f"{where}: 'venue' {venue!r} is not a venue or feed id; venues: {', '.join(VENUES)}")
    if fault not in SCHEDULABLE:
        raise ConfigError(f"{where}: 'fault' {fault!r} is not one of {', '.join(SCHEDULABLE)}")
    symbol, endpoint = item.get("symbol"), item.get("endpoint")
    if symbol is not None and (not isinstance(symbol, str) or not symbol):
        raise ConfigError(f"{where}: 'symbol' must be a standard symbol such as BTC-USDT, not {symbol!r}")
    if endpoint is not None and (endpoint not in ENDPOINTS or fault not in REST_FAULTS):
        raise ConfigError(f"{where}: 'endpoint' {endpoint!r}: one of {', '.join(ENDPOINTS)}, for a REST fault only")
    if fault in ("skip", "corrupt") and symbol is None:
        raise ConfigError(f"{where}: 'symbol' is needed: {fault!r} acts on one book")
    if fault in REST_FAULTS and endpoint == "instruments" and symbol is not None:
        raise ConfigError(f"{where}: 'symbol': the instruments endpoint lists every market")
    at = _seconds(item.get("at", 0), f"{where}: 'at'")
    seconds = _seconds(item.get("seconds", 0), f"{where}: 'seconds'")
    return ScheduledFault(venue.lower(), fault, at, seconds, symbol.upper() if symbol else None, endpoint, where)


def _known_venue(name: str) -> bool:
    return name in VENUES or any(name in venue_sims(v) for v in VENUES)


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{what} must be a number of seconds >= 0, not {value!r}")
    return float(value)
