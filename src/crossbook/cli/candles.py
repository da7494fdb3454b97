"""crossbook candles and ticker: a venue's candles, and a symbol's 24-hour ticker on every venue
side by side, read through the venues' REST APIs (the simulators' with ``--sim``, a config's
``[endpoints]`` or its venues' with ``--config FILE``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich import box
from rich.table import Table

from ..errors import ConfigError, CrossbookError, InvalidOrder
from ..symbols import parse_standard
from .app import app, err, fail, out, parse_symbol, parse_venue, parse_venues, print_json

if TYPE_CHECKING:
    from ..desk import Desk
    from ..desk.market_queries import TickerBoard
    from ..model import Candle

T = TypeVar("T")

_SIM = typer.Option(False, "--sim", help="Read the simulated venues (started for this command).")
_CONFIG = typer.Option(None, "--config", help="crossbook.toml: its [endpoints] (a running crossbook sim) or venues.")
_JSON = typer.Option(False, "--json", help="Print one JSON object.")


def _desk(sim: bool, config: Path | None, venues: list[str] | None) -> Desk:
    """The simulated ``venues`` (None: all), or the config's accounts on them (None: all its own)."""
    from ..desk import Desk

    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")
    return Desk.sim(venues, seed=7) if sim else Desk.from_config(config or Path(), venues=venues)


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work``: exit 2 for what names something that does not exist (a symbol a venue does
    not list, an interval), 1 for a venue that could not be read."""
    try:
        return asyncio.run(work())
    except (InvalidOrder, ConfigError) as exc:
        fail(str(exc))
    except CrossbookError as exc:
        fail(str(exc), code=1)
    raise AssertionError("unreachable")


def column_format(values: Iterable[float | None], most: int = 8, grouped: bool = True) -> Callable[[float | None], str]:
    """One column's numbers with the same decimals (the most any of them has, at most ``most``),
    thousands separated if ``grouped``; "-" where a venue gives none."""
    places = min(max((_decimals(v) for v in values if v is not None), default=0), most)
    group = "," if grouped else ""
    return lambda v: "-" if v is None else f"{v:{group}.{places}f}"


def _decimals(value: float) -> int:
    """The decimals ``value`` is written with (8 for one only exponent notation writes)."""
    text = repr(value)
    return 8 if "e" in text else len(text.partition(".")[2].rstrip("0"))


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _number_column(table: Table, name: str, unit: str) -> None:
    table.add_column(f"{name}\n({unit})", justify="right", no_wrap=True)  # a number is never cut


# ---- candles ---------------------------------------------------------------------------------


@app.command()
def candles(
    venue: str = typer.Argument(..., help="Venue id, e.g. binance."),
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    interval: str = typer.Option("1m", help="Candle length: 1m, 5m, 15m, 1h, 4h or 1d."),
    limit: int | None = typer.Option(None, metavar="N", help="The newest N candles (default: as many as the venue sends)."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """A venue's candles of a symbol (OHLC and volume), oldest first."""
    from ..desk.market_queries import candle_json, parse_interval

    chosen, wanted = parse_venue(venue), parse_symbol(symbol, venue)
    if limit is not None and limit <= 0:
        fail(f"--limit must be a positive number of candles, not {limit}")
    try:
        length = parse_interval(interval)
    except ConfigError as exc:
        fail(f"--{exc}")
    desk = _desk(sim, config, [chosen])

    async def work() -> list[Candle]:
        async with desk:
            return await desk.candles(chosen, wanted, length, limit=limit)

    found = _run(work)
    if json:
        print_json({"venue": chosen, "symbol": wanted, "interval": length.value, "candles": [candle_json(c) for c in found]})
        return
    print_candles(chosen, wanted, length.value, found)


def print_candles(venue: str, symbol: str, interval: str, found: list[Candle]) -> None:
    base, quote = parse_standard(symbol)[:2]
    table = Table(title=f"{venue} {symbol} {interval} candles", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False)
    table.add_column("open time\n(UTC)", no_wrap=True)
    for name in ("open", "high", "low", "close"):
        _number_column(table, name, quote)
    _number_column(table, "volume", base)
    table.add_column("state")
    price = column_format(v for c in found for v in (c.open, c.high, c.low, c.close))
    volume = column_format(c.volume for c in found)
    for c in found:
        table.add_row(_utc(c.open_time), price(c.open), price(c.high), price(c.low), price(c.close), volume(c.volume),
                      "closed" if c.closed else "forming")
    out.print(table)
    if not found:
        err.print(f"{venue} sent no {symbol} candles", markup=False)


# ---- ticker ----------------------------------------------------------------------------------


@app.command()
def ticker(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten, or the config's)."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """A symbol's 24-hour ticker on every venue, side by side."""
    wanted = parse_symbol(symbol)
    chosen = parse_venues(venues)
    desk = _desk(sim, config, chosen if sim or venues is not None else None)

    async def work() -> TickerBoard:
        async with desk:
            return await desk.ticker(wanted)

    board = _run(work)
    if json:
        print_json(board.to_json())
    else:
        print_board(board)
    if not board.tickers:
        raise typer.Exit(1)


def print_board(board: TickerBoard) -> None:
    from ..desk.market_queries import change_pct
    from ..desk.results import FIAT_LIKE

    base, quote = parse_standard(board.symbol)[:2]
    table = Table(title=f"{board.symbol}, rolling 24 hours", box=box.SIMPLE_HEAD, padding=0, pad_edge=False)
    table.add_column("venue", no_wrap=True)
    for name, unit in (("last", quote), ("24h", "%"), ("high", quote), ("low", quote), ("volume", base),
                       ("volume", quote), ("bid", quote), ("ask", quote)):
        _number_column(table, name, unit)
    rows = board.tickers
    # nine columns fit an 80-column terminal uncut: prices ungrouped, volumes to 4 decimals (a
    # dollar-like quote's to the unit)
    price = column_format((v for t in rows for v in (t.last, t.high, t.low, t.bid, t.ask)), grouped=False)
    volume = column_format((t.volume for t in rows), most=4)
    quote_volume = column_format((t.quote_volume for t in rows), most=0 if quote in FIAT_LIKE else 4)
    for t in rows:
        pct = change_pct(t)
        table.add_row(t.venue, price(t.last), "-" if pct is None else f"{pct:+.2f}", price(t.high), price(t.low),
                      volume(t.volume), quote_volume(t.quote_volume), price(t.bid), price(t.ask))
    out.print(table)
    for venue, why in board.unavailable.items():
        err.print(f"unavailable: {why if why.startswith(venue) else f'{venue}: {why}'}", markup=False, soft_wrap=True)
    if board.not_listed:
        err.print(f"not listed on {', '.join(board.not_listed)}", markup=False, soft_wrap=True)
