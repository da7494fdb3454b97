"""``crossbook sim``: the simulated venues as a long-running service, with a funded account and an
API key per venue and the ccxt configuration that points an unmodified ccxt client at each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..symbols import parse_standard
from .access import confined
from .cluster import SimCluster
from .market import STABLE
from .scenario import Scenario
from .server import SimVenue

ACCOUNT = "main"


def fund(sim: SimVenue) -> None:
    """An account holding every asset the venue lists: 1,000,000 of a stablecoin, 100 otherwise."""
    assets = {a for s in sim.markets for a in parse_standard(s)[:2]}
    sim.engine.open_account(ACCOUNT, {a: Decimal(1_000_000 if a in STABLE else 100) for a in assets})


def ccxt_configs(cluster: SimCluster) -> dict[str, dict[str, Any]]:
    """ccxt id -> config, for every simulated venue that trades (every URL on its simulator)."""
    configs: dict[str, dict[str, Any]] = {}
    for sim in cluster.venues.values():
        if sim.ccxt_id is None:
            continue
        fund(sim)
        configs[sim.ccxt_id] = confined(sim.ccxt_config(sim.issue_key(ACCOUNT)), sim.rest_url, sim.ws_url)
    return configs


async def serve(
    feeds: list[str], seed: int, seconds: float | None, ready: Callable[[SimCluster, dict[str, dict[str, Any]]], None],
    scenario: Scenario | None = None,
) -> None:
    async with SimCluster(feeds, seed=seed, scenario=scenario) as cluster:
        ready(cluster, ccxt_configs(cluster))
        if seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(seconds)
