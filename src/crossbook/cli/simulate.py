"""crossbook simulator commands: demo, sim."""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from ..errors import CrossbookError
from ..sim.cluster import SimCluster
from ..venues import venue_feeds

if TYPE_CHECKING:
    pass
from .app import app, err, fail, out, parse_venues, print_json

# ---- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
    json: bool = typer.Option(False, "--json", help="No live view: print one JSON summary at the end."),
) -> None:
    """The ten simulated venues on 127.0.0.1: live books, the consolidated BTC-USDT book, a sample
    order quoted and routed with a split, one venue dislocated and the arbitrage found and traded.
    No keys, no network."""
    from ..demo import closing_lines, live_demo, run_demo

    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if json and seconds is None:
        fail("--json needs --seconds (the summary is printed when the demo ends)")
    try:
        result = asyncio.run(run_demo(seconds, seed)) if json else live_demo(seconds, seed)
    except KeyboardInterrupt:
        out.print("stopped.")
        return
    if json:
        print_json(result)
    else:
        out.print("\n" + "\n".join(closing_lines(result)))


# ---- sim ---------------------------------------------------------------------------------------


@app.command()
def sim(
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
    print_ccxt_config: bool = typer.Option(False, "--print-ccxt-config", help="First line: one JSON object of ccxt configs keyed by ccxt id."),
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="JSON or TOML file of timed price dislocations (see crossbook.sim.scenario)."),
) -> None:
    """Run the simulated venues on 127.0.0.1 until stopped, each with a funded account and a key."""
    from ..sim.scenario import Scenario, load_scenario
    from ..sim.serve import serve

    feeds = [f for v in parse_venues(venues) for f in venue_feeds(v)]
    try:
        played = load_scenario(scenario) if scenario is not None else Scenario()
    except CrossbookError as exc:
        fail(str(exc))
        return

    def ready(cluster: SimCluster, configs: dict[str, dict[str, object]]) -> None:
        if print_ccxt_config:
            print_json(configs)
            sys.stdout.flush()
        table = Table(title="simulated venues (127.0.0.1)")
        for col in ("feed", "REST", "WebSocket", "ccxt"):
            table.add_column(col)
        for feed_id, venue in cluster.venues.items():
            table.add_row(feed_id, venue.rest_url, venue.ws_url, venue.ccxt_id or "market data only")
        err.print(table)

    try:
        asyncio.run(serve(feeds, seed, seconds, ready, played))
    except CrossbookError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err.print("stopped.")


