"""The configured venue accounts, opened together on one journal, and reconciled together."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from ..config import AccountConfig, Config
from ..errors import CrossbookError
from ..security.redact import guard_client, safe_error_text
from ..security.vault import Vault, unlock
from ..venues.registry import spec
from ..venues.spec.limiter import TRANSIT_MARGIN, Limiter
from .account import VenueAccount, close_accounts
from .journal import Journal
from .oco import POLL_EVERY, STREAMED_CHECK_EVERY, OcoKeeper
from .stream import OrderStream


def config_vault(config: Config, path: Path | None = None) -> Vault | None:
    """The vault unlocked (``path``, else $CROSSBOOK_VAULT or the default) when the configuration
    names a vault key, else None: a config of environment keys never asks for a passphrase."""
    return unlock(path) if config.needs_vault else None


def open_account(cfg: AccountConfig, journal: Journal, limiter: Limiter | None = None,
                 vault: Vault | None = None) -> VenueAccount:
    """The account's VenueAccount on a ccxt.pro client (REST, and the private stream where ccxt.pro
    follows the venue's), else a ccxt async one; ``limiter``: the venue's, shared with whatever else
    spends its budget (default: one of its own); ``vault``: unlocked, where the account names a
    vault key (unlocked here when not given)."""
    if cfg.key_ref is not None and vault is None:
        vault = unlock()
    ccxt_id = cfg.client_id
    client = guard_client((getattr(ccxt_pro, ccxt_id, None) or getattr(ccxt_async, ccxt_id))(cfg.ccxt_settings(vault)))
    if cfg.mode == "testnet":
        client.set_sandbox_mode(True)
    if limiter is None:
        limiter = Limiter(spec(cfg.venue).limit_table(), margin=TRANSIT_MARGIN)
    return VenueAccount(cfg.venue, client, journal, limiter, cfg.account)


async def reconcile_all(config: Config, vault: Vault | None = None) -> list[dict[str, Any]]:
    """One entry per account: what reconciliation found, or why the account could not be
    reached (the others carry on)."""
    results: list[dict[str, Any]] = []
    vault = vault or config_vault(config)
    with Journal(config.journal) as journal:
        for cfg in config.accounts:
            account = open_account(cfg, journal, vault=vault)
            try:
                await account.load()
                results.append({"ok": True, "mode": cfg.mode, **(await account.reconcile()).as_dict()})
            except (ccxt.BaseError, CrossbookError) as exc:
                results.append({"ok": False, "venue": cfg.venue, "account": cfg.account, "mode": cfg.mode,
                                "error": f"{type(exc).__name__}: {safe_error_text(exc, 300)}"})
            finally:
                await account.client.close()
    return results


async def follow(config: Config, seconds: float | None, started: Callable[[list[dict[str, Any]]], None],
                 vault: Vault | None = None) -> list[dict[str, Any]]:
    """Follow every configured account: reconcile each at start (``started`` gets the reports),
    then keep the journal up to date from the private streams, reconciling periodically, and keep
    every account's OCO groups (woken by its streams, polled without one), until ``seconds`` pass
    (or forever). Returns each account's stream figures."""
    vault = vault or config_vault(config)
    with Journal(config.journal) as journal:
        accounts = [open_account(cfg, journal, vault=vault) for cfg in config.accounts]
        streams: list[OrderStream] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            changed: dict[tuple[str, str], asyncio.Event] = {}  # one per account: its product clients share it
            for account in accounts:
                await account.load()
                streams.append(OrderStream(account, changed=changed.setdefault((account.venue, account.account),
                                                                               asyncio.Event())))
            tasks = [asyncio.create_task(s.run()) for s in streams]
            streamed = {(s.account.venue, s.account.account) for s in streams if s.streaming}
            for keeper in _keepers(accounts):
                key = (keeper.venue, keeper.name)
                every = STREAMED_CHECK_EVERY if key in streamed else POLL_EVERY
                tasks.append(asyncio.create_task(keeper.follow(changed[key], every)))
            await asyncio.gather(*(s.first_reconcile_done.wait() for s in streams))
            started([_start_entry(cfg, s) for cfg, s in zip(config.accounts, streams, strict=True)])
            await (asyncio.sleep(seconds) if seconds is not None else asyncio.Event().wait())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_accounts(accounts)
    return [{"venue": cfg.venue, "account": cfg.account, "streaming": s.streaming, **dataclasses.asdict(s.stats)}
            for cfg, s in zip(config.accounts, streams, strict=True)]


def _keepers(accounts: list[VenueAccount]) -> list[OcoKeeper]:
    """One OcoKeeper per (venue, account): on its first client, the others its products."""
    by_account: dict[tuple[str, str], list[VenueAccount]] = {}
    for account in accounts:
        by_account.setdefault((account.venue, account.account), []).append(account)
    return [OcoKeeper(first, rest) for first, *rest in by_account.values()]


def _start_entry(cfg: AccountConfig, stream: OrderStream) -> dict[str, Any]:
    if stream.last_report is None:
        return {"ok": False, "venue": cfg.venue, "account": cfg.account, "mode": cfg.mode, "error": stream.last_error}
    return {"ok": True, "mode": cfg.mode, **stream.last_report.as_dict()}
