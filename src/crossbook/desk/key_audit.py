"""The desk's keys as the key permission audit sees them: one subject per configured key (the
vault's, an environment variable's, a simulator's), with the ccxt client that signs with it, what
the vault knows of it and what the configuration needs of it (crossbook.security.audit)."""

from __future__ import annotations

import stat
from dataclasses import replace
from typing import TYPE_CHECKING

from ..config import AccountConfig, Config
from ..errors import KeyAuditFailed
from ..security.audit import AuditPolicy, AuditReport, Finding, KeyNeeds, KeyResult, KeySource, KeySubject, audit
from ..security.permissions import DECLARED, KeyPermissions

if TYPE_CHECKING:
    from ..security.vault import Vault
    from .desk import Desk


async def audit_desk(desk: Desk, policy: AuditPolicy = AuditPolicy()) -> AuditReport:
    """Audit every key the desk trades with: a configured desk's accounts (each key once) and its
    chains' wallets taken from the environment, a simulated desk's funded account on each venue."""
    report = await audit(await subjects(desk), policy)
    return replace(report, keys=report.keys + env_wallets(desk.config)) if desk.config is not None else report


async def subjects(desk: Desk) -> list[KeySubject]:
    if desk.config is None:
        return [KeySubject(venue, "main", f"{venue}/main (simulator)", "sim", account.client)
                for venue, account in desk.accounts.items()]
    seen: set[tuple[str, str, str]] = set()
    out = []
    for cfg in sorted(desk.config.accounts, key=lambda c: not c.primary):
        source, name = where_kept(cfg)
        if (cfg.venue, cfg.account, name) in seen:
            continue  # a product's entry (binanceusdm beside binance) with the same key
        seen.add((cfg.venue, cfg.account, name))
        client = (await desk.venue_account(cfg.venue, cfg.account)).client
        created, declared = vault_facts(desk.vault, cfg)
        out.append(KeySubject(cfg.venue, cfg.account, name, source, client, created, declared, needs(cfg)))
    return out


def env_wallets(config: Config) -> tuple[KeyResult, ...]:
    """A chain's wallet key from the environment (``wallet_key_env``, not a vault wallet) is a
    low finding; nothing is asked of a chain about a wallet's rights (it has every right)."""
    out = []
    for name, chain in config.chains.items():
        if chain.wallet_ref is None:
            finding = Finding(name, "wallet", "wallet_key_env", "env_key",
                              f"[chains.{name}] takes its wallet key from the environment: the vault keeps it encrypted")
            out.append(KeyResult(name, "wallet", "wallet_key_env", "env", None, (finding,)))
    return tuple(out)


def where_kept(cfg: AccountConfig) -> tuple[KeySource, str]:
    """Where the account's key is kept, and its name there. A simulator's ccxt config file holds
    keys in clear: readable by others than its owner, it counts as a plaintext key."""
    if cfg.key_ref is not None:
        return "vault", cfg.key_ref
    if cfg.api_key_env is not None:
        return "env", ",".join(v for v in (cfg.api_key_env, cfg.secret_env, cfg.password_env) if v)
    name = cfg.ccxt_entry or cfg.client_id
    if cfg.ccxt_config is not None and cfg.ccxt_config.exists() and cfg.ccxt_config.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return "plaintext", f"{cfg.ccxt_config.name}:{name}"
    return "sim", name


def vault_facts(vault: Vault | None, cfg: AccountConfig) -> tuple[float | None, KeyPermissions | None]:
    """The vault key's creation time and the permissions the user declared for it, if any."""
    if vault is None or cfg.key_ref is None or cfg.key_ref not in vault.keys:
        return None, None
    key = vault.keys[cfg.key_ref]
    declared = key.permissions if key.permissions is not None and key.permissions.source == DECLARED else None
    return key.created, declared


def needs(cfg: AccountConfig) -> KeyNeeds:
    """What the configuration uses the account's key for: trading always; moving funds and
    withdrawing only where the account says it does (``transfers`` / ``withdraws``)."""
    return KeyNeeds(trade=True, transfer=cfg.transfers, withdraw=cfg.withdraws)


def refuse_on_high(report: AuditReport) -> None:
    """KeyAuditFailed naming each high-severity finding (strict mode)."""
    if report.high:
        named = "; ".join(f"{f.venue}/{f.account} key {f.key}: {f.finding} ({f.detail})" for f in report.high)
        raise KeyAuditFailed(f"key audit (strict): {len(report.high)} high-severity finding(s): {named}")
