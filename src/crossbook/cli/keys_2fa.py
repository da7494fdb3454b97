"""``crossbook keys 2fa enroll`` (the second factor) and ``crossbook keys whitelist add|remove|list``
(the withdrawal whitelist), on the vault's ``keys`` group."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from .app import fail, out, print_json
from .helpformat import CONTEXT, Group
from .keys import CODE, JSON, VAULT, keys_app, run_on_vault, second_factor

factor_app = typer.Typer(help="The second factor (TOTP) that withdrawals and key changes need.", no_args_is_help=True,
                         cls=Group, rich_markup_mode=None, context_settings=CONTEXT)
whitelist_app = typer.Typer(help="The addresses crossbook may withdraw to.", no_args_is_help=True,
                            cls=Group, rich_markup_mode=None, context_settings=CONTEXT)
keys_app.add_typer(factor_app, name="2fa")
keys_app.add_typer(whitelist_app, name="whitelist")


def read_code(prompt: str) -> str:
    """A code from the terminal (no echo), else the next line of stdin (automation)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt).strip()
    return sys.stdin.readline().strip()


@factor_app.command("enroll")
def enroll_command(
    label: str = typer.Option("desk", "--label", help="The name the authenticator app shows."),
    vault_file: Path | None = VAULT,
    code: str | None = typer.Option(None, "--code", metavar="CODE",
                                    help="Replacing an enrolled second factor: a code of the current one."),
) -> None:
    """Enroll a TOTP second factor in an authenticator app.

    Scan the QR code (or enter the otpauth URI), then type its first code to confirm."""
    from ..security.totp import enroll, new_enrollment
    from ..security.vault import editing

    def run() -> None:
        with editing(vault_file, create=True) as vault:
            current = code
            if vault.totp is not None and not current:  # replacing one needs a code of it
                current = read_code("a code of the second factor enrolled now: ")
            enrollment = new_enrollment(label)
            out.print(enrollment.uri, soft_wrap=True, markup=False, highlight=False)
            out.print(enrollment.qr_text(), markup=False, highlight=False)
            first = read_code("the code the app shows now: ")
            if not first:
                fail("no code given: nothing was enrolled")
            enroll(vault, enrollment, first, current_code=current)
        out.print(f"second factor enrolled in {vault.path}: withdrawals, whitelist and key changes now need a code",
                  soft_wrap=True, markup=False, highlight=False)

    run_on_vault(run)


@whitelist_app.command("add")
def whitelist_add(
    name: str = typer.Argument(..., metavar="NAME", help="What withdrawals name it by (--to NAME)."),
    asset: str = typer.Argument(..., metavar="ASSET", help="The asset, e.g. BTC."),
    address: str = typer.Argument(..., metavar="ADDRESS", help="The destination address."),
    network: str = typer.Option(..., "--network", metavar="NET", help="The network, e.g. BTC, ETH, TRX."),
    memo: str | None = typer.Option(None, "--memo", metavar="MEMO", help="The memo or destination tag, where one is needed."),
    vault_file: Path | None = VAULT,
    code: str | None = CODE,
) -> None:
    """Put an address on the withdrawal whitelist (replacing the entry of that name)."""
    from ..security.vault import editing
    from ..security.whitelist import new_entry

    try:
        entry = new_entry(name, asset, address, network, memo)
    except ValueError as exc:
        fail(str(exc))

    def run() -> None:
        with editing(vault_file, create=True) as vault:
            second_factor(vault, code)
            vault.put_whitelist(entry)
        out.print(f"whitelisted {entry.name}: {entry.asset} on {entry.network} to {entry.address}",
                  soft_wrap=True, markup=False, highlight=False)

    run_on_vault(run)


@whitelist_app.command("remove")
def whitelist_remove(name: str = typer.Argument(..., metavar="NAME"), vault_file: Path | None = VAULT,
                     code: str | None = CODE) -> None:
    """Take an entry off the withdrawal whitelist."""
    from ..security.vault import editing

    def run() -> None:
        with editing(vault_file) as vault:
            if name not in vault.whitelist:
                vault.remove_whitelist(name)  # raises UnknownKey naming the entries, before a code is spent
            second_factor(vault, code)
            vault.remove_whitelist(name)
        out.print(f"removed {name} from the withdrawal whitelist", markup=False, highlight=False)

    run_on_vault(run)


@whitelist_app.command("list")
def whitelist_list(vault_file: Path | None = VAULT, json_out: bool = JSON) -> None:
    """The withdrawal whitelist."""
    from ..security.vault import unlock
    from ..security.whitelist import entries

    def run() -> None:
        listed = entries(unlock(vault_file))
        if json_out:
            print_json({"whitelist": [e.to_json() for e in listed]})
            return
        table = Table(box=box.SIMPLE)
        for column in ("name", "asset", "network", "address", "memo"):
            table.add_column(column)
        for e in listed:
            table.add_row(e.name, e.asset, e.network, e.address, e.memo or "")
        out.print(table if listed else "the withdrawal whitelist is empty: crossbook keys whitelist add NAME ASSET ADDRESS")

    run_on_vault(run)
