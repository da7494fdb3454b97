"""Scenario files for the simulator: timed dislocations of one venue's prices.

A scenario is JSON (``.json``) or TOML (``.toml``)::

    {"dislocations": [
        {"venue": "kraken", "bps": 40, "symbol": "BTC-USDT", "at": 0.0, "seconds": 30}
    ]}

    [[dislocations]]
    venue = "kraken"
    bps = 40

``venue`` is a venue id (every feed of it) or one feed id (``binanceusdm``); ``bps`` the offset
from the fair price, positive above it; ``symbol`` (optional) limits it to one market; ``at`` is
seconds after the cluster starts (default 0); ``seconds`` (optional) how long it lasts before the
venue quotes at the fair price again (default: to the end of the run).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class Dislocation:
    venue: str
    bps: float
    symbol: str | None = None
    at: float = 0.0
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """Set ``venue``'s (and ``symbol``'s) dislocation to ``bps`` at ``at`` seconds after start."""

    at: float
    venue: str
    symbol: str | None
    bps: float


@dataclass(frozen=True, slots=True)
class Scenario:
    dislocations: tuple[Dislocation, ...] = ()

    def actions(self) -> list[Action]:
        """Every start and end of a dislocation, in time order (an end before a start at the same
        moment, so back-to-back dislocations of one venue chain)."""
        timed = []
        for d in self.dislocations:
            timed.append((d.at, 1, Action(d.at, d.venue, d.symbol, d.bps)))
            if d.seconds is not None:
                timed.append((d.at + d.seconds, 0, Action(d.at + d.seconds, d.venue, d.symbol, 0.0)))
        return [a for _, _, a in sorted(timed, key=lambda t: (t[0], t[1]))]


def read_timetable(path: Path, kind: str) -> Any:
    """A timetable file's data (``.toml`` as TOML, anything else as JSON); ``kind`` names the file
    in errors ("scenario", "fault")."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {kind} file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text.decode()) if path.suffix == ".toml" else orjson.loads(text)
    except (tomllib.TOMLDecodeError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{kind} file {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (``.toml`` as TOML, anything else as JSON)."""
    return parse_scenario(read_timetable(Path(path), "scenario"), str(path))


def parse_scenario(raw: Any, where: str = "scenario") -> Scenario:
    if not isinstance(raw, dict) or not isinstance(raw.get("dislocations", []), list):
        raise ConfigError(f"{where}: expected an object with a list 'dislocations'")
    return Scenario(tuple(_dislocation(item, f"{where}: dislocations[{i}]") for i, item in enumerate(raw.get("dislocations", []))))


def _dislocation(item: Any, where: str) -> Dislocation:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected an object")
    unknown = set(item) - {"venue", "bps", "symbol", "at", "seconds"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    venue, symbol = item.get("venue"), item.get("symbol")
    if not isinstance(venue, str) or not venue:
        raise ConfigError(f"{where}: 'venue' must be a venue id")
    if symbol is not None and not isinstance(symbol, str):
        raise ConfigError(f"{where}: 'symbol' must be a standard symbol such as BTC-USDT")
    bps = _number(item.get("bps"), f"{where}: 'bps'")
    at = _number(item.get("at", 0.0), f"{where}: 'at'")
    seconds = None if item.get("seconds") is None else _number(item["seconds"], f"{where}: 'seconds'")
    if at < 0 or (seconds is not None and seconds <= 0):
        raise ConfigError(f"{where}: 'at' must be >= 0 and 'seconds' > 0")
    return Dislocation(venue.lower(), bps, symbol.upper() if symbol else None, at, seconds)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, not {value!r}")
    return float(value)
