"""``crossbook keys rotate NAME``: a new key stored beside the old one, verified at the venue (a
read call, and the permission audit where the venue has one), switched in under NAME (what the
config's ``key = "vault:NAME"`` uses), and with ``--retire`` the old one retired once the venue
refuses it (the user revoked it there). See crossbook.security.rotation for the states."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .app import fail, out, print_json
from .keys import CODE, FROM_ENV, JSON, VAULT, _from_env, _prompted, keys_app, run_on_vault, second_factor

if TYPE_CHECKING:
    from ..config import AccountConfig
    from ..security.audit import KeyResult
    from ..security.vault import StoredKey, Vault

READ_TIMEOUT = 30.0  # seconds the verifying read call may take


@dataclass(frozen=True)
class Probe:
    """One read call made with a key: ``refused`` by the venue (bad or revoked key), or not answered."""

    ok: bool
    refused: bool
    error: str  # the ccxt error's type only: its text can carry a signed request

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "refused": self.refused, "error": self.error or None}


def _account_config(name: str, venue: str, account: str, config_file: Path | None) -> AccountConfig:
    """The configured account whose key is vault:NAME (its mode and endpoints are where the key is
    tried); without a config, the venue itself (live)."""
    from ..config import AccountConfig, load_config

    if config_file is None:
        return AccountConfig(venue, account, "live", key_ref=name)
    config = load_config(config_file)
    named = [cfg for cfg in config.accounts if cfg.key_ref == name]
    if not named:
        fail(f"{config_file}: no account names key = \"vault:{name}\"")
    return sorted(named, key=lambda cfg: not cfg.primary)[0]


def _settings(cfg: AccountConfig, vault: Vault, key: StoredKey) -> dict[str, Any]:
    """The account's ccxt settings (a simulator's endpoints included) with ``key``'s credentials."""
    from ..config import CREDENTIAL_FIELDS

    base = cfg.ccxt_settings(vault) if cfg.mode == "sim" else {}
    return {k: v for k, v in base.items() if k not in CREDENTIAL_FIELDS} | key.ccxt_credentials()


async def probe(cfg: AccountConfig, settings: dict[str, Any]) -> Probe:
    """A read call (the account's balance) with these settings."""
    import ccxt
    import ccxt.async_support as ccxt_async

    from ..security.redact import guard_client

    client = guard_client(getattr(ccxt_async, cfg.client_id)(settings))
    if cfg.mode == "testnet":
        client.set_sandbox_mode(True)
    try:
        await asyncio.wait_for(client.fetch_balance(), READ_TIMEOUT)
        return Probe(True, False, "")
    except (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended) as exc:
        return Probe(False, True, type(exc).__name__)
    except (ccxt.BaseError, TimeoutError) as exc:
        return Probe(False, False, type(exc).__name__)
    finally:
        await client.close()


async def verify(cfg: AccountConfig, settings: dict[str, Any], key: StoredKey) -> tuple[Probe, KeyResult | None]:
    """A new key tried at the venue: a read call, then (if it answers) the permission audit."""
    import ccxt.async_support as ccxt_async

    from ..security.audit import AuditPolicy, KeySubject, audit_key
    from ..security.redact import guard_client

    checked = await probe(cfg, settings)
    if not checked.ok:
        return checked, None
    client = guard_client(getattr(ccxt_async, cfg.client_id)(settings))
    if cfg.mode == "testnet":
        client.set_sandbox_mode(True)
    try:
        subject = KeySubject(cfg.venue, cfg.account, key.name, "vault", client, created=key.created)
        return checked, await audit_key(subject, AuditPolicy(), time.time())
    finally:
        await client.close()


@keys_app.command("rotate")
def keys_rotate(
    name: str = typer.Argument(..., metavar="NAME", help="The key the config names (key = \"vault:NAME\")."),
    retire: bool = typer.Option(False, "--retire", help="Retire the switched-out key, once revoked at the venue."),
    from_env: str | None = FROM_ENV,
    config_file: Path | None = typer.Option(None, "--config", metavar="FILE",
                                            help="Verify through this crossbook.toml's account (default: the venue)."),
    vault_file: Path | None = VAULT,
    code: str | None = CODE,
    json_out: bool = JSON,
) -> None:
    """Rotate a key: store the new one, verify it, switch vault:NAME to it.

    The old key stays beside it until --retire, once it is revoked at the venue."""
    from ..security import rotation
    from ..security.vault import unlock

    def rotate() -> None:
        vault = unlock(vault_file)
        second_factor(vault, code)
        current = vault.key(name)
        cfg = _account_config(name, current.venue, current.account, config_file)
        if retire:
            _retire(vault, name, cfg, json_out)
            return
        key, secret, password = _from_env(from_env, current.venue) if from_env else _prompted(current.venue)
        staged = rotation.stage(vault, name, key, secret, password)
        vault.save()  # stored beside the old one before anything is tried
        settings = _settings(cfg, vault, staged)
        checked, audited = asyncio.run(verify(cfg, settings, staged))
        refusal = _refusal(checked, audited)
        if refusal:
            rotation.abandon(vault, name)
            vault.save()
            fail(f"the new key for {name} {refusal} on {cfg.label}: nothing switched, {name} still uses its old key", code=1)
        assert audited is not None
        switched = rotation.switch(vault, name, audited.permissions, time.time())
        vault.save()
        _report({"rotated": switched.to_json(), "previous": vault.key(rotation.previous_name(name)).to_json(),
                 "verified_on": cfg.label, "findings": [f.to_json() for f in audited.findings]}, json_out,
                f"{name} now uses the new key (verified on {cfg.label}); the old one is kept as "
                f"{rotation.previous_name(name)}: revoke it at {current.venue}, then crossbook keys rotate {name} --retire")

    run_on_vault(rotate)


def _refusal(checked: Probe, audited: KeyResult | None) -> str:
    """Why the new key is not switched in ("" when it is): its read call failed, or its audit has a
    high-severity finding (a trading key that may withdraw)."""
    if not checked.ok:
        return f"failed its read call ({checked.error})"
    assert audited is not None
    high = [f for f in audited.findings if f.severity == "high"]
    return f"failed its audit: {'; '.join(f.detail for f in high)}" if high else ""


def _retire(vault: Vault, name: str, cfg: AccountConfig, json_out: bool) -> None:
    from ..security import rotation

    old = rotation.retiring(vault, name)
    checked = asyncio.run(probe(cfg, _settings(cfg, vault, old)))
    if checked.ok:
        fail(f"{old.name} still works at {cfg.label}: revoke it at {old.venue} first (nothing retired)", code=1)
    if not checked.refused:
        fail(f"{cfg.label} did not answer ({checked.error}): cannot tell whether {old.name} is revoked (nothing retired)",
             code=1)
    retired = rotation.retire(vault, name)
    vault.save()
    _report({"retired": retired.to_json(), "refused_by_venue": checked.error}, json_out,
            f"retired {retired.name}: the venue refuses it ({checked.error}) and its secrets are erased from the vault")


def _report(payload: dict[str, Any], json_out: bool, text: str) -> None:
    if json_out:
        print_json(payload)
    else:
        out.print(text, soft_wrap=True, markup=False, highlight=False)
