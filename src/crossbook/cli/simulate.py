"""crossbook simulator commands: demo, sim."""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ..errors import CrossbookError

if TYPE_CHECKING:
    from ..sim.cluster import SimCluster
from .app import app, err, fail, out, parse_venues, print_json

# ---- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    seconds: float | None = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
    show_endpoints: bool = typer.Option(False, "--show-endpoints", help="Show the simulated venues' API addresses."),
    json: bool = typer.Option(False, "--json", help="No live view: print one JSON summary at the end."),
) -> None:
    """Ten simulated venues: live books, a quote, a route, an arbitrage.

    The simulated venues start on 127.0.0.1 (and, with node, a local chain's Uniswap V3 pools):
    their books sync, the consolidated BTC-USDT book runs live, a sample order is quoted on every
    venue and routed with a split, then one venue is dislocated and the arbitrage found and
    traded. No keys, no network."""
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if json and seconds is None:
        fail("--json needs --seconds (the summary is printed when the demo ends)")
    if json:
        from ..demo import run_demo

        print_json(asyncio.run(run_demo(seconds, seed)))
        return
    _watch_demo(seconds, seed, show_endpoints)


def _watch_demo(seconds: float | None, seed: int, show_endpoints: bool) -> None:
    """The live demo: the screen paints at once, then the trading stack is imported behind it."""
    from ..demo_view import Painter, Scene, closing_lines
    from ..venues.registry import VENUES

    scene = Scene(VENUES, show_endpoints=show_endpoints)
    painter = Painter(scene, out).start()
    try:
        from ..demo import run_demo

        scene.mark_loaded()
        painter.handover()
        result = asyncio.run(run_demo(seconds, seed, scene, painter.paint))
    except KeyboardInterrupt:
        painter.stop()
        out.print("stopped.")
        return
    painter.stop()
    out.print("\n" + "\n".join(closing_lines(result, scene.precision(), show_endpoints)))


# ---- sim ---------------------------------------------------------------------------------------


@app.command()
def sim(
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
    print_ccxt_config: bool = typer.Option(
        False, "--print-ccxt-config", help="First line: one JSON object of ccxt configs keyed by ccxt id."
    ),
    seconds: float | None = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="JSON or TOML file of timed price dislocations (see crossbook.sim.scenario)."
    ),
    faults: Path | None = typer.Option(
        None, "--faults", help="JSON or TOML file of timed venue faults (crossbook.sim.fault_plan)."
    ),
    write_config: Path | None = typer.Option(
        None, "--write-config", help="Write the simulators' crossbook.toml (accounts, keys, endpoints)."
    ),
    keys: Path | None = typer.Option(
        None, "--keys", help="Keys with chosen rights: JSON/TOML list of {venue, name, permissions}."
    ),
) -> None:
    """Run the simulated venues on 127.0.0.1, funded and keyed.

    They run until stopped (Ctrl-C) or for --seconds."""
    from ..sim.fault_plan import FaultPlan, load_fault_plan
    from ..sim.keys import load_sim_keys
    from ..sim.scenario import Scenario, load_scenario
    from ..sim.serve import serve
    from ..sim.venues import sim_class
    from ..venues.registry import venue_feeds

    feeds = [f for v in parse_venues(venues) for f in venue_feeds(v)]
    try:
        played = load_scenario(scenario) if scenario is not None else Scenario()
        plan = load_fault_plan(faults) if faults is not None else FaultPlan()
        plan.check({feed: sim_class(feed) for feed in feeds})
        extra_keys = load_sim_keys(keys) if keys is not None else []
    except CrossbookError as exc:
        fail(str(exc))
        return

    def ready(cluster: SimCluster, configs: dict[str, dict[str, object]]) -> None:
        if write_config is not None:
            written_config(write_config, cluster, configs, [(k.venue, k.name) for k in extra_keys])
        if print_ccxt_config:
            print_json(configs)
            sys.stdout.flush()
        table = Table(title="simulated venues (127.0.0.1)")
        for col in ("feed", "REST", "WebSocket", "ccxt"):
            table.add_column(col, no_wrap=col in ("feed", "REST", "WebSocket"))  # an address is never cut
        for feed_id, venue in cluster.venues.items():
            trading_client = venue.ccxt_id or venue.client_ccxt_id  # bybitlinear, gateswap: the venue's client
            table.add_row(feed_id, venue.rest_url, venue.ws_url, trading_client or "not traded")
        err.print(table)
        for fault in plan.faults:
            err.print(f"fault {fault.describe()}")

    try:
        asyncio.run(serve(feeds, seed, seconds, ready, played, plan, extra_keys))
    except CrossbookError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err.print("stopped.")


def written_config(path: Path, cluster: SimCluster, configs: dict[str, dict[str, object]],
                   key_accounts: Sequence[tuple[str, str]] = ()) -> None:
    """``path``: a crossbook.toml naming the running simulators (journal, one sim account per
    trading venue, one per key of a keys file (``key_accounts``: venue, name), every feed's
    endpoints); their ccxt settings, keys included, go to ``<name>-ccxt.json`` beside it, both
    readable by their owner only."""
    import os

    import orjson

    from ..config import CCXT_IDS, sim_config_text
    from ..venues.registry import venue_of

    ccxt_file = path.with_name(f"{path.stem}-ccxt.json")
    trading = [venue_of(feed) for feed, sim in cluster.venues.items() if sim.ccxt_id is not None
               and sim.ccxt_id == CCXT_IDS.get(venue_of(feed))]
    endpoints = {feed: cluster.urls(feed) for feed in cluster.venues}
    from ..sim.serve import client_configs, derivatives_clients

    configs = client_configs(cluster, configs)  # the derivatives clients' accounts too
    text = sim_config_text(f"{path.stem}-journal.sqlite", ccxt_file.name, list(dict.fromkeys(trading)), endpoints,
                           list(derivatives_clients(cluster).values()))
    for venue, name in key_accounts:  # each key trades its own account, its ccxt entry named as it
        text += "\n".join(["", "[[accounts]]", f'venue = "{venue}"', f'account = "{name}"', 'mode = "sim"',
                           f'ccxt_entry = "{name}"', f"ccxt_config = {orjson.dumps(ccxt_file.name).decode()}", ""])
    try:
        for target, data in ((ccxt_file, orjson.dumps(configs)), (path, text.encode())):
            partial = target.with_name(target.name + ".partial")  # a reader never sees half a file
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(partial, target)
    except OSError as exc:
        raise CrossbookError(f"cannot write {path}: {exc.strerror}") from None
    err.print(f"wrote {path} (ccxt settings in {ccxt_file.name})")


