"""``crossbook withdraw VENUE ASSET AMOUNT --to NAME``: a withdrawal to an entry of crossbook's
whitelist, behind a TOTP code, journaled and sent once (crossbook.desk.withdrawals)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import ConfigError, CrossbookError, InvalidOrder, NotWhitelisted, SecondFactorError
from .app import app, fail, out, parse_number, parse_venue, print_json

if TYPE_CHECKING:
    from ..trading.withdraw import Withdrawal


@app.command("withdraw")
def withdraw_command(
    venue: str = typer.Argument(..., help="Venue id."),
    asset: str = typer.Argument(..., help="Currency, e.g. BTC."),
    amount: str = typer.Argument(..., help="How much to withdraw (the venue's fee comes out of it or on top, as it charges)."),
    to: str = typer.Option(..., "--to", metavar="NAME", help="The whitelist entry to send it to (crossbook keys whitelist list)."),
    network: str | None = typer.Option(None, "--network", metavar="NET", help="The network, where the entry must match it."),
    code: str | None = typer.Option(None, "--code", metavar="CODE", help="The TOTP code (else asked)."),
    account: str = typer.Option("main", "--account", metavar="SUB", help="The sub-account."),
    sim: bool = typer.Option(False, "--sim", help="On the simulated venues."),
    config: Path | None = typer.Option(None, "--config", help="crossbook.toml: the accounts."),
    vault_file: Path | None = typer.Option(None, "--vault", metavar="FILE", help="The vault file (default: $CROSSBOOK_VAULT)."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Withdraw to a whitelisted address, with the second factor.

    Anything not on the whitelist is refused before anything is sent."""
    from ..desk import Desk
    from ..security.vault import unlock

    venue = parse_venue(venue)
    size = parse_number(amount, "amount", venue)
    assert size is not None
    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")
    if not code and sys.stdin.isatty():
        code = getpass.getpass("TOTP code: ").strip()

    async def work() -> Withdrawal:
        vault = unlock(vault_file)
        desk = Desk.sim([venue]) if sim else Desk.from_config(config or Path(), venues=[venue], vault=vault)
        async with desk:
            return await desk.withdraw(venue, asset, size, to, network=network, code=code, account=account, vault=vault)

    try:
        done = asyncio.run(work())
    except (InvalidOrder, ConfigError, NotWhitelisted, SecondFactorError) as exc:
        fail(f"{venue}: {exc}" if not str(exc).startswith(venue) else str(exc))
        return
    except CrossbookError as exc:
        fail(str(exc), code=1)
        return
    if json:
        print_json(done.to_json())
    else:
        out.print(f"{venue}: withdrew {done.amount} {done.asset} to {done.to} ({done.address} on {done.network}), "
                  f"fee {done.fee if done.fee is not None else 'unknown'}; withdrawal {done.venue_id} {done.status.value}",
                  soft_wrap=True, markup=False, highlight=False)
