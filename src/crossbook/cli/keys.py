"""``crossbook keys``: the key vault. ``add``, ``list``, ``remove`` and ``wallet`` live here; the
audit, the second factor, the whitelist and rotation register their subcommands on ``keys_app``.

Secrets are read from a prompt without echo or, for automation, from environment variables
(``--from-env PREFIX``: PREFIX_KEY, PREFIX_SECRET, PREFIX_PASSWORD), never from the command line,
and no command prints one."""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from ..errors import CrossbookError
from .app import app, fail, out, parse_venue, print_json
from .helpformat import CONTEXT, Group

if TYPE_CHECKING:
    from ..security.vault import StoredKey, Vault

keys_app = typer.Typer(help="The encrypted key vault: add, list, audit, rotate, remove keys.", no_args_is_help=True,
                       cls=Group, rich_markup_mode=None, context_settings=CONTEXT)
app.add_typer(keys_app, name="keys")

# the options every keys subcommand shares (the others' modules use them too)
VAULT = typer.Option(None, "--vault", metavar="FILE",
                     help="The vault file (default: $CROSSBOOK_VAULT, else ~/.config/crossbook/vault).")
CODE = typer.Option(None, "--code", metavar="CODE", help="The TOTP code, once a second factor is enrolled (else asked).")
JSON = typer.Option(False, "--json", help="Print one JSON object.")
FROM_ENV = typer.Option(None, "--from-env", metavar="PREFIX",
                        help="Read PREFIX_KEY, PREFIX_SECRET and PREFIX_PASSWORD instead of prompting.")


def second_factor(vault: Vault, code: str | None) -> None:
    """Refuse unless ``code`` (asked for in a terminal when not given) is a fresh TOTP code, where a
    second factor is enrolled."""
    from ..security.totp import require_second_factor

    if vault.totp is not None and not code and sys.stdin.isatty():
        code = getpass.getpass("TOTP code: ").strip()
    require_second_factor(vault, code)


def run_on_vault(action: Callable[[], None]) -> None:
    """``action``, its crossbook errors (a locked or damaged vault, an unknown key) as one line, exit 2."""
    try:
        action()
    except CrossbookError as exc:
        fail(str(exc))


# ---- keys add ---------------------------------------------------------------------------------


def _needs_password(venue: str) -> bool:
    """Whether the venue's API keys come with a passphrase (OKX, KuCoin, Bitget...), as ccxt says."""
    import ccxt

    return bool(getattr(ccxt, venue)().requiredCredentials.get("password"))


def _from_env(prefix: str, venue: str) -> tuple[str, str, str | None]:
    names = (f"{prefix}_KEY", f"{prefix}_SECRET", f"{prefix}_PASSWORD")
    values = [os.environ.get(name) or None for name in names]
    missing = [name for name, value in zip(names[:2], values[:2], strict=True) if value is None]
    if values[2] is None and _needs_password(venue):
        missing.append(names[2])
    if missing:
        fail(f"--from-env {prefix}: {', '.join(missing)} not set ({venue} keys need "
             f"{'a key, a secret and a passphrase' if _needs_password(venue) else 'a key and a secret'})")
    key, secret, password = values
    assert key is not None and secret is not None
    return key, secret, password


def _prompted(venue: str) -> tuple[str, str, str | None]:
    if not sys.stdin.isatty():
        fail("no terminal to read the key from: run in a terminal, or give --from-env PREFIX "
             "(PREFIX_KEY, PREFIX_SECRET, PREFIX_PASSWORD)")
    key = getpass.getpass(f"{venue} API key: ").strip()
    secret = getpass.getpass(f"{venue} API secret: ").strip()
    password = getpass.getpass(f"{venue} API passphrase: ").strip() if _needs_password(venue) else ""
    if not key or not secret:
        fail("the API key and secret must not be empty: nothing was stored")
    return key, secret, password or None


@keys_app.command("add")
def keys_add(
    venue: str = typer.Argument(..., metavar="VENUE", help="The venue the key belongs to."),
    account: str = typer.Option("main", "--account", metavar="SUB", help="The sub-account the key trades."),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="The key's name (default VENUE-SUB)."),
    from_env: str | None = FROM_ENV,
    vault_file: Path | None = VAULT,
    code: str | None = CODE,
    json_out: bool = JSON,
) -> None:
    """Store a venue API key in the vault; crossbook.toml names it key = "vault:NAME".

    The vault is created on first use. The key, secret and passphrase are asked without echo, or
    read from PREFIX_KEY, PREFIX_SECRET and PREFIX_PASSWORD with --from-env PREFIX."""
    from ..security.vault import StoredKey, editing

    venue = parse_venue(venue)
    name = name or f"{venue}-{account}"
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        fail(f"a key name is letters, digits, '-', '_' and '.', not {name!r}")
    key, secret, password = _from_env(from_env, venue) if from_env else _prompted(venue)

    def add() -> None:
        with editing(vault_file, create=True) as vault:
            if name in vault.keys:
                fail(f"the vault already holds a key {name!r}: rotate it (crossbook keys rotate {name}) or remove it first")
            second_factor(vault, code)
            vault.put_key(StoredKey(name, venue, account, key, secret, password, created=time.time()))
        if json_out:
            print_json({"added": vault.keys[name].to_json(), "vault": str(vault.path)})
        else:
            out.print(f"stored {name} ({venue}/{account}) in {vault.path}; name it in crossbook.toml as key = \"vault:{name}\"",
                      soft_wrap=True, markup=False, highlight=False)

    run_on_vault(add)


@keys_app.command("wallet")
def keys_wallet(
    name: str = typer.Argument(..., metavar="NAME", help="The wallet's name."),
    chain: str = typer.Option(..., "--chain", metavar="CHAIN", help="The EVM chain (ethereum, arbitrum, ...)."),
    from_env: str | None = typer.Option(None, "--from-env", metavar="PREFIX", help="Read PREFIX_KEY instead of prompting."),
    vault_file: Path | None = VAULT,
    code: str | None = CODE,
) -> None:
    """Store a DEX wallet's private key; [chains.CHAIN] names it wallet = "vault:NAME"."""
    from ..security.vault import StoredWallet, editing
    from ..venues.dex.chains import CHAINS, normalized_private_key

    if chain not in CHAINS:
        fail(f"unknown chain {chain!r}; known chains: {', '.join(CHAINS)}")
    if from_env:
        private_key = os.environ.get(f"{from_env}_KEY", "")
    elif sys.stdin.isatty():
        private_key = getpass.getpass(f"{chain} wallet private key: ").strip()
    else:
        fail("no terminal to read the private key from: run in a terminal, or give --from-env PREFIX (PREFIX_KEY)")
    if not private_key:
        fail(f"no private key given{f' ({from_env}_KEY is not set)' if from_env else ''}: nothing was stored")
    normalized = normalized_private_key(private_key)
    if normalized is None:
        fail("that is not a 32-byte hex private key: nothing was stored")

    def add() -> None:
        with editing(vault_file, create=True) as vault:
            if name in vault.wallets:
                fail(f"the vault already holds a wallet {name!r}: remove it first (crossbook keys remove {name})")
            second_factor(vault, code)
            vault.put_wallet(StoredWallet(name, chain, str(normalized), created=time.time()))
        out.print(f"stored the {chain} wallet {name} in {vault.path}; name it in [chains.{chain}] as wallet = \"vault:{name}\"",
                  soft_wrap=True, markup=False, highlight=False)

    run_on_vault(add)


# ---- keys list / remove -----------------------------------------------------------------------


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M") if stamp is not None else "never"


def _permissions(key: StoredKey) -> str:
    return key.permissions.summary() if key.permissions is not None else "not audited"


@keys_app.command("list")
def keys_list(vault_file: Path | None = VAULT, json_out: bool = JSON) -> None:
    """The vault's keys and wallets, when verified, what they may do (never a secret).

    Each key's name, venue, account, creation and last verification, permission summary and state."""
    from ..security.vault import unlock

    def show() -> None:
        vault = unlock(vault_file)
        keys = sorted(vault.keys.values(), key=lambda k: (k.venue, k.account, k.name))
        wallets = sorted(vault.wallets.values(), key=lambda w: w.name)
        if json_out:
            print_json({"vault": str(vault.path), "keys": [k.to_json() for k in keys], "wallets": [w.to_json() for w in wallets]})
            return
        table = Table(box=box.SIMPLE_HEAD, title=f"keys in {vault.path}")
        for column in ("name", "venue", "account", "created (UTC)", "last verified", "permissions", "state"):
            table.add_column(column, overflow="fold")
        for key in keys:
            table.add_row(key.name, key.venue, key.account, _when(key.created), _when(key.verified), _permissions(key),
                          key.state + (f" (replaces {key.replaces})" if key.replaces else ""))
        for wallet in wallets:
            table.add_row(wallet.name, wallet.chain, "wallet", _when(wallet.created), "", "", "")
        out.print(table if keys or wallets else f"no keys in {vault.path} yet: crossbook keys add VENUE")

    run_on_vault(show)


@keys_app.command("remove")
def keys_remove(
    name: str = typer.Argument(..., metavar="NAME", help="The key (or wallet) to remove."),
    vault_file: Path | None = VAULT,
    code: str | None = CODE,
) -> None:
    """Remove a key or a wallet from the vault (revoke it at the venue too)."""
    from ..security.vault import editing

    def remove() -> None:
        with editing(vault_file) as vault:
            if name not in vault.keys and name not in vault.wallets:
                vault.key(name)  # raises UnknownKey naming what the vault holds
            second_factor(vault, code)
            removed = vault.remove_key(name).venue if name in vault.keys else vault.remove_wallet(name).chain
        out.print(f"removed {name} ({removed}) from {vault.path}", soft_wrap=True, markup=False, highlight=False)

    run_on_vault(remove)
