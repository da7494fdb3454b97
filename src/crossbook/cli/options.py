"""crossbook options: an underlying's option chain at one expiry on every venue with an options
market: strikes down, calls on the left and puts on the right, each venue's touch from its live
book beside its own mark, implied volatility and delta."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from ..model import OptionRight
from .app import app, err, fail, out, parse_venues, print_json
from .candles import _CONFIG, _JSON, _SIM, _run, column_format

if TYPE_CHECKING:
    from ..desk import Desk
    from ..desk.options import OptionChain
    from ..market.options import OptionQuote

_SIDE = ("bid", "ask", "mark", "IV %", "delta")


def _desk(sim: bool, config: Path | None, venues: list[str] | None) -> Desk:
    """The simulated options venues (only ``venues``, when given), or the config's accounts."""
    from ..desk import Desk
    from ..venues.registry import option_feeds

    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")
    if sim:
        chosen = [v for v in (venues or parse_venues(None)) if option_feeds(v)]
        if not chosen:
            fail(f"none of {', '.join(venues or [])} has an options market crossbook follows")
        return Desk.sim(chosen, seed=7, options=True)
    return Desk.from_config(config or Path(), venues=venues)


@app.command()
def options(
    underlying: str = typer.Argument(..., help="Underlying asset, e.g. BTC or ETH."),
    expiry: str | None = typer.Option(None, metavar="YYYYMMDD", help="The expiry (default: the nearest listed)."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: every venue with options)."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Option chains across venues: bid, ask, mark, IV, delta by strike."""
    if not re.fullmatch(r"[A-Za-z0-9]{2,10}", underlying):
        fail(f"{underlying!r} is not an asset such as BTC or ETH")
    if expiry is not None and not re.fullmatch(r"\d{8}", expiry):
        fail(f"--expiry must be YYYYMMDD, not {expiry!r}")
    desk = _desk(sim, config, parse_venues(venues) if venues is not None else None)

    async def work() -> OptionChain:
        async with desk:
            return await desk.option_chain(underlying, expiry)

    chain = _run(work)
    if json:
        print_json(chain.to_json())
    else:
        print_chain(chain)
    if not chain.quotes:
        raise typer.Exit(1)


def print_chain(chain: OptionChain) -> None:
    day = datetime.strptime(chain.expiry, "%Y%m%d").replace(tzinfo=UTC).strftime("%Y-%m-%d")
    table = Table(title=f"{chain.underlying} options expiring {day} (calls | strike | puts)", box=box.SIMPLE_HEAD,
                  padding=(0, 1, 0, 0), pad_edge=False)
    table.add_column("venue", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for name in _SIDE:
        table.add_column(f"C {name}", justify="right", no_wrap=True)
    table.add_column("strike", justify="right", no_wrap=True, style="bold")
    for name in _SIDE:
        table.add_column(f"P {name}", justify="right", no_wrap=True)
    rows: dict[tuple[float, str], dict[OptionRight, OptionQuote]] = {}
    for q in chain.quotes:
        rows.setdefault((q.strike, q.venue), {})[q.right] = q
    price = {unit: column_format((v for q in chain.quotes if q.unit == unit for v in (q.bid, q.ask, q.mark)), grouped=False)
             for unit in {q.unit for q in chain.quotes}}
    strike = column_format((q.strike for q in chain.quotes), most=2)
    for (k, venue), pair in rows.items():
        unit = next(iter(pair.values())).unit
        cells = [venue, unit]
        for right in (OptionRight.CALL, OptionRight.PUT):
            found = pair.get(right)
            side = ["-"] * 5 if found is None else [
                price[unit](found.bid), price[unit](found.ask), price[unit](found.mark),
                "-" if found.iv is None else f"{found.iv * 100:.1f}", "-" if found.delta is None else f"{found.delta:+.3f}",
            ]
            cells += side if right is OptionRight.CALL else [strike(k), *side]
        table.add_row(*cells)
    out.print(table)
    out.print(f"expiries listed: {', '.join(chain.expiries)}; prices per unit of {chain.underlying} in the unit shown",
              markup=False, soft_wrap=True)
    for venue, why in chain.unavailable.items():
        err.print(f"unavailable: {why if why.startswith(venue) else f'{venue}: {why}'}", markup=False, soft_wrap=True)
