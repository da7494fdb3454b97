"""``crossbook sim``: the simulated venues as a long-running service, with a funded account and an
API key per venue and the ccxt configuration that points an unmodified ccxt client at each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..config import SimClientEntry
from ..model import Kind
from ..symbols import parse_standard
from ..venues.registry import spec, venue_of
from .access import confined
from .cluster import SimCluster
from .fault_plan import FaultPlan, play
from .keys import SimKeySpec, issue_sim_keys
from .market import STABLE
from .scenario import Scenario
from .server import SimVenue

ACCOUNT = "main"


def fund(sim: SimVenue, account: str = ACCOUNT) -> None:
    """An account holding every asset the venue's markets trade in (the engine's: an option's
    settle coin, where it is not the quote its symbol names): 1,000,000 of a stablecoin, 100 otherwise."""
    assets = {a for m in sim.engine.markets.values() for a in (m.base, m.quote)}
    sim.engine.open_account(account, {a: Decimal(1_000_000 if a in STABLE else 100) for a in assets})


def ccxt_configs(cluster: SimCluster) -> dict[str, dict[str, Any]]:
    """ccxt id -> config, for every simulated venue that trades (every URL on its simulator)."""
    configs: dict[str, dict[str, Any]] = {}
    for sim in cluster.venues.values():
        if sim.ccxt_id is None:
            continue
        fund(sim)
        configs[sim.ccxt_id] = confined(sim.ccxt_config(sim.issue_key(ACCOUNT)), sim.rest_url, sim.ws_url)
    return configs


def _kinds(sim: SimVenue) -> set[Kind]:
    return {parse_standard(s)[2] for s in sim.markets}


def trades_derivatives(sim: SimVenue) -> bool:
    """Whether ccxt trades derivatives on ``sim``: it has a ccxt surface and lists a perpetual
    or a future."""
    return (sim.ccxt_id or sim.client_ccxt_id) is not None and bool(_kinds(sim) - {Kind.SPOT})


def spot_surface(sim: SimVenue) -> bool:
    """Whether ``sim`` is its venue's primary ccxt surface (the spot client's; dYdX's perpetuals)."""
    return sim.ccxt_id is not None and sim.ccxt_id == spec(sim.venue_id).ccxt_id


def derivatives_clients(cluster: SimCluster) -> dict[str, SimClientEntry]:
    """feed id -> the ccxt client trading that simulator's derivatives beside the venue's primary
    (spot) client: on its own simulator (Binance USD-M, Bybit linear, Gate swap) or on the spot
    one, reading its perpetuals (OKX); none where the primary client trades them already (dYdX).
    Its entry in a ccxt config file is its ccxt id where that is its own, else the feed id."""
    clients = {}
    for feed, sim in cluster.venues.items():
        if not trades_derivatives(sim) or (spot_surface(sim) and Kind.SPOT not in _kinds(sim)):
            continue
        ccxt_id = sim.ccxt_id or sim.client_ccxt_id
        assert ccxt_id is not None
        primary = spec(venue_of(feed)).ccxt_id
        entry = ccxt_id if ccxt_id != primary else feed if feed != primary else f"{feed}-derivatives"
        clients[feed] = SimClientEntry(venue_of(feed), ccxt_id, entry)
    return clients


def derivatives_config(sim: SimVenue, account: str = ACCOUNT) -> dict[str, Any]:
    """The ccxt config of ``account`` (its new key) trading ``sim``'s derivatives: the venue SPEC's
    ``perp_ccxt_options`` where one server trades spot and perpetuals (OKX's); a server of its own
    (OKX's options) keeps its own ccxt options."""
    config = confined(sim.ccxt_config(sim.issue_key(account)), sim.rest_url, sim.ws_url)
    if spot_surface(sim):
        config["options"] = {**config.get("options", {}), **spec(sim.venue_id).perp_ccxt_options}
    return config


def client_configs(cluster: SimCluster, configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``configs`` (``ccxt_configs``: ccxt id -> config) and a config per derivatives client of
    the funded account, by entry: a ccxt config file's contents."""
    out = dict(configs)
    for feed, client in derivatives_clients(cluster).items():
        sim = cluster.venues[feed]
        if client.entry not in out:
            if ACCOUNT not in sim.engine.accounts:
                fund(sim)
            out[client.entry] = derivatives_config(sim)
    return out


async def serve(
    feeds: list[str], seed: int, seconds: float | None, ready: Callable[[SimCluster, dict[str, dict[str, Any]]], None],
    scenario: Scenario | None = None, faults: FaultPlan | None = None, keys: Sequence[SimKeySpec] = (),
) -> None:
    """Run ``feeds`` until ``seconds`` pass (or forever), ``faults`` played from the start; the
    ``keys`` of a keys file issued, each with its own account, its ccxt config under its name."""
    async with SimCluster(feeds, seed=seed, scenario=scenario) as cluster:
        plan = faults or FaultPlan()
        plan.check(cluster.venues)
        player = asyncio.create_task(play(plan, cluster.venues))
        ready(cluster, ccxt_configs(cluster) | issue_sim_keys(cluster, list(keys), fund))
        try:
            if seconds is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(seconds)
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
