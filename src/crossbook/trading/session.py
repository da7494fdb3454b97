"""The configured venue accounts, opened together on one journal, and reconciled together."""

from __future__ import annotations

import importlib
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from ..config import CCXT_IDS, AccountConfig, Config
from ..errors import CrossbookError
from .account import VenueAccount
from .journal import Journal
from .limiter import Limiter


# seconds added to every limit window: requests granted a window apart may arrive closer than that
TRANSIT_MARGIN = 0.1


def open_account(cfg: AccountConfig, journal: Journal) -> VenueAccount:
    client = getattr(ccxt_async, CCXT_IDS[cfg.venue])(cfg.ccxt_settings())
    if cfg.mode == "testnet":
        client.set_sandbox_mode(True)
    limits = importlib.import_module(f"crossbook.venues.{cfg.venue}").LIMITS
    return VenueAccount(cfg.venue, client, journal, Limiter(limits, margin=TRANSIT_MARGIN), cfg.account)


async def reconcile_all(config: Config) -> list[dict[str, Any]]:
    """One entry per account: what reconciliation found, or why the account could not be
    reached (the others carry on)."""
    results: list[dict[str, Any]] = []
    with Journal(config.journal) as journal:
        for cfg in config.accounts:
            account = open_account(cfg, journal)
            try:
                await account.load()
                results.append({"ok": True, "mode": cfg.mode, **(await account.reconcile()).as_dict()})
            except (ccxt.BaseError, CrossbookError) as exc:
                results.append({"ok": False, "venue": cfg.venue, "account": cfg.account, "mode": cfg.mode,
                                "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            finally:
                await account.client.close()
    return results
