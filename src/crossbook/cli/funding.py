"""crossbook funding: every perpetual's funding rate across venues, annualized, with the spread
between the venues."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from ..errors import CrossbookError
from .app import app, err, fail, out, parse_venues, print_json

if TYPE_CHECKING:
    from ..desk.funding_view import FundingBoard
    from ..model import FundingRate


@app.command()
def funding(
    symbols: str | None = typer.Option(None, "--symbols", help="Comma-separated perpetuals (default: the standard ones listed)."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    sim: bool = typer.Option(False, "--sim", help="Read the simulated venues."),
    config: Path | None = typer.Option(None, "--config", help="crossbook.toml: its venues (its simulators where it names them)."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Perpetual funding rates across venues, annualized, with spreads.

    Per venue and perpetual: the rate of the current period, the hours between payments, the next
    payment (UTC), the rate annualized (simple) and the predicted next rate where published; per
    perpetual, the widest spread between two venues' annualized rates."""
    chosen = parse_venues(venues)
    wanted = None if symbols is None else [s for s in symbols.split(",") if s.strip()]
    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")
    try:
        board = asyncio.run(_funding(sim, config, chosen, wanted))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(board.to_json())
    else:
        print_board(board)
    if not board.rates:
        raise typer.Exit(1)


async def _funding(sim: bool, config: Path | None, venues: list[str], symbols: list[str] | None) -> FundingBoard:
    from ..desk import Desk

    desk = Desk.sim(venues) if sim else Desk.from_config(config or Path(), venues=venues)
    async with desk:
        return await desk.funding(symbols)


def _pct(fraction: float | None, places: int) -> str:
    return "-" if fraction is None else f"{fraction * 100:.{places}f}"


def _utc(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _row(rate: FundingRate) -> list[str]:
    return [rate.symbol, rate.venue, _pct(rate.rate, 4), f"{rate.interval_hours:g}", _utc(rate.next_time),
            _pct(rate.annualized, 2), _pct(rate.predicted, 4)]


def print_board(board: FundingBoard) -> None:
    table = Table(title="funding", box=box.SIMPLE_HEAD, padding=0, pad_edge=False, show_edge=False)
    for col in ("symbol", "venue", "rate (%)", "every (h)", "next (UTC)", "annual (%)", "pred. (%)"):
        table.add_column(col, justify="left" if col in ("symbol", "venue", "next (UTC)") else "right", no_wrap=True)
    for rate in board.rates:
        table.add_row(*_row(rate))
    out.print(table)
    spreads = Table(title="spread between venues", box=box.SIMPLE_HEAD, padding=0, pad_edge=False, show_edge=False)
    for col in ("symbol", "spread (% a year)", "highest (% a year)", "lowest (% a year)"):
        spreads.add_column(col, justify="right" if col.startswith("spread") else "left", no_wrap=True)
    for spread in board.spreads:
        spreads.add_row(spread.symbol, _pct(spread.annualized, 2), f"{spread.high.venue} {_pct(spread.high.annualized, 2)}",
                        f"{spread.low.venue} {_pct(spread.low.annualized, 2)}")
    if board.spreads:
        out.print(spreads)
    for unread in board.unavailable:
        err.print(f"{unread.venue} {unread.symbol}: unavailable: {unread.reason}", markup=False, soft_wrap=True)
