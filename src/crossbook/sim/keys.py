"""Simulated API keys with chosen rights, bound addresses and age: ``crossbook sim --keys FILE``.

The file is JSON (a list, or ``{"keys": [...]}``) or TOML (``[[keys]]`` tables); each key is
``{venue, name, permissions, ips, created, expires}``: ``permissions`` a list of read, trade,
transfer and withdraw (default read and trade), ``ips`` the addresses it is bound to (default
none: any), ``created`` and ``expires`` unix seconds or ISO 8601 times (default now and never).
Each key trades its own funded account, named ``name``, on the venue's primary simulator; its
ccxt configuration joins the simulators' under ``name``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..venues.registry import VENUES, venue_of
from .access import READ_TRADE, RIGHTS, confined
from .cluster import SimCluster
from .scenario import read_timetable
from .server import SimVenue

NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
KEYLESS = frozenset({"dydx"})  # orders are signed by a wallet: no API key, no permissions


@dataclass(frozen=True)
class SimKeySpec:
    venue: str
    name: str
    permissions: frozenset[str] = READ_TRADE
    ips: tuple[str, ...] = ()
    created: float | None = None  # None: when the simulator starts
    expires: float | None = None


def load_sim_keys(path: str | Path) -> list[SimKeySpec]:
    """Read a keys file (``.toml`` as TOML, anything else as JSON)."""
    return parse_sim_keys(read_timetable(Path(path), "keys"), str(path))


def parse_sim_keys(raw: Any, where: str = "keys") -> list[SimKeySpec]:
    items = raw.get("keys") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list of keys (or an object with a list 'keys')")
    keys = [_key(item, f"{where}: keys[{i}]") for i, item in enumerate(items)]
    names = [k.name for k in keys]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(f"{where}: key name(s) used twice: {', '.join(doubled)}")
    return keys


def _key(item: Any, where: str) -> SimKeySpec:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected an object")
    unknown = set(item) - {"venue", "name", "permissions", "ips", "created", "expires"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    venue = item.get("venue")
    if venue not in VENUES or venue in KEYLESS:
        keyed = ", ".join(v for v in VENUES if v not in KEYLESS)
        raise ConfigError(f"{where}: venue must be one of {keyed} (dYdX has no API keys), got {venue!r}")
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name) or name == "main":
        raise ConfigError(f"{where}: name must be lower-case letters, digits, - or _ (not 'main'), got {name!r}")
    permissions = item.get("permissions", sorted(READ_TRADE))
    if not isinstance(permissions, list) or not set(permissions) <= RIGHTS:
        raise ConfigError(f"{where}: permissions must be a list of {', '.join(sorted(RIGHTS))}, got {permissions!r}")
    ips = item.get("ips", [])
    if not isinstance(ips, list) or not all(isinstance(ip, str) and ip for ip in ips):
        raise ConfigError(f"{where}: ips must be a list of addresses, got {ips!r}")
    return SimKeySpec(venue, name, frozenset(permissions), tuple(ips), _time(item, "created", where),
                      _time(item, "expires", where))


def _time(item: dict[str, Any], field: str, where: str) -> float | None:
    value = item.get(field)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):  # a TOML date-time
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ConfigError(f"{where}: {field} must be unix seconds or an ISO 8601 time, got {value!r}")


def primary_sim(cluster: SimCluster, venue: str) -> SimVenue:
    """The simulator of ``venue``'s primary (spot) ccxt client."""
    for feed, sim in cluster.venues.items():
        if venue_of(feed) == venue and sim.ccxt_id is not None:
            return sim
    raise ConfigError(f"keys: {venue} is not among the simulated venues ({', '.join(cluster.venues)})")


def issue_sim_keys(cluster: SimCluster, keys: list[SimKeySpec], fund: Callable[[SimVenue, str], None]) -> dict[str, dict[str, Any]]:
    """Each key issued on its venue's primary simulator for its own account (``fund(sim,
    name)`` opens and funds it): key name -> that account's ccxt configuration."""
    configs: dict[str, dict[str, Any]] = {}
    for spec in keys:
        sim = primary_sim(cluster, spec.venue)
        fund(sim, spec.name)
        key = sim.issue_key(spec.name, spec.permissions)
        key = sim.restrict_key(key, spec.ips, spec.created if spec.created is not None else time.time(), spec.expires)
        configs[spec.name] = confined(sim.ccxt_config(key), sim.rest_url, sim.ws_url)
    return configs
