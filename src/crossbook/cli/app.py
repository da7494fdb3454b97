"""The ``crossbook`` command."""

from __future__ import annotations

import logging
import math
import sys
from decimal import Decimal

import orjson
import typer
from rich.console import Console

from ..model import Side
from ..venues.registry import VENUES
from .helpformat import CONTEXT, Group

app = typer.Typer(help="crossbook: every crypto venue behind one interface, at the best all-in price.",
                  no_args_is_help=True, add_completion=False, cls=Group, rich_markup_mode=None,
                  context_settings=CONTEXT)
out = Console()
err = Console(stderr=True)


@app.callback()
def main_options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log venue warnings to stderr."),
                 debug: bool = typer.Option(False, "--debug", help="Log all to stderr, venue HTTP too (secrets masked).")) -> None:
    from ..security.redact import install, verbose_ccxt

    install()  # every record masked from the first: credential fields now, the vault's secrets once it opens
    verbose_ccxt(debug)
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    warn_overdue_keys()


def warn_overdue_keys() -> None:
    """One warning on stderr per vault key past the rotation period, on every command, where the
    vault opens without asking (its passphrase in the environment, or no terminal to ask on)."""
    import os

    from ..errors import CrossbookError
    from ..security.rotation import overdue_keys
    from ..security.vault import PASSPHRASE_ENV, unlock, vault_path

    if not vault_path().exists() or (not os.environ.get(PASSPHRASE_ENV) and sys.stdin.isatty()):
        return
    try:
        keys = unlock().keys.values()
    except CrossbookError:
        return  # a locked or damaged vault is for the command that uses it to report
    for late in overdue_keys(keys):
        err.print(f"[yellow]warning:[/] {late.warning()}", soft_wrap=True, highlight=False)


def fail(message: str, code: int = 2) -> None:
    """One line on stderr (never wrapped, never read as markup), then exit ``code``."""
    from rich.markup import escape

    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
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


# context_settings of a command taking AMOUNT or PRICE arguments: "-1" reaches the command as a
# number (and is refused as one) instead of failing as an unknown option
NUMBERS = {"ignore_unknown_options": True}


def parse_number(text: str | None, name: str, venue: str | None = None) -> Decimal | None:
    """``text`` as a positive, finite Decimal (None stays None); else one line naming ``name``
    (and the venue) and exit 2."""
    if text is None:
        return None
    where = f"{venue}: " if venue else ""
    try:
        value = Decimal(text.strip().replace("_", ""))
    except ArithmeticError:
        fail(f"{where}{name} must be a number, not {text!r}")
        raise
    if not value.is_finite():
        fail(f"{where}{name} must be a finite number, not {text}")
    if value <= 0:
        fail(f"{where}{name} must be positive, not {text}")
    return value


def parse_size(amount: str | None, notional: str | None, venue: str | None = None) -> tuple[Decimal | None, Decimal | None]:
    """Exactly one of a base AMOUNT and ``--notional`` (quote currency), each a positive number."""
    if (amount is None) == (notional is None):
        fail(f"{venue + ': ' if venue else ''}give exactly one of AMOUNT (base units) and --notional (quote currency)")
    return parse_number(amount, "amount", venue), parse_number(notional, "--notional", venue)


def parse_venue(text: str) -> str:
    venue = text.strip().lower()
    if venue not in VENUES:
        fail(f"unknown venue {text!r}; known: {', '.join(VENUES)}")
    return venue


def parse_symbol(text: str, venue: str | None = None) -> str:
    from ..errors import UnknownSymbol
    from ..symbols import parse_standard

    try:
        parse_standard(text)
    except UnknownSymbol as exc:
        fail(f"{venue + ': ' if venue else ''}{exc}")
    return text.strip().upper()


def print_json(payload: object) -> None:
    sys.stdout.write(orjson.dumps(payload).decode() + "\n")


