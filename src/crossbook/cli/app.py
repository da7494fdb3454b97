"""The ``crossbook`` command."""

from __future__ import annotations

import logging
import math
import sys

import orjson
import typer
from rich.console import Console

from ..model import Side
from ..venues import VENUES

app = typer.Typer(help="crossbook: every crypto venue behind one interface, at the best all-in price.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)


@app.callback()
def main_options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log venue warnings to stderr.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def parse_venues(text: str | None) -> list[str]:
    if not text:
        return list(VENUES)
    venues = [v.strip().lower() for v in text.split(",") if v.strip()]
    unknown = [v for v in venues if v not in VENUES]
    if unknown:
        fail(f"unknown venue(s) {', '.join(unknown)}; known: {', '.join(VENUES)}")
    return venues


def parse_side(text: str) -> Side:
    try:
        return Side(text.lower())
    except ValueError:
        fail(f"side must be buy or sell, not {text!r}")
        raise


def parse_amount(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        fail(f"amount must be a positive finite number, not {value!r}")
    return value


def print_json(payload: object) -> None:
    sys.stdout.write(orjson.dumps(payload).decode() + "\n")


