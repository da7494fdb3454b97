"""Routing sessions: the books and accounts a route needs, on the simulated desk (``--sim``) or on
the venues a configuration names, and the route run on them (``crossbook route``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import ccxt

from ..config import load_config
from ..errors import ConfigError, VenueUnavailable
from ..feeds.market import MarketData
from ..trading.account import VenueAccount
from ..trading.journal import Journal
from ..trading.session import open_account
from .executor import Router
from .fees import FeeBook, FeeProfile


@asynccontextmanager
async def sim_router(symbol: str, venues: list[str], *, seed: int = 7, journal: Path | None = None,
                     dex: bool = False) -> AsyncIterator[Router]:
    """A Router on the simulated venues: funded accounts, unmodified ccxt, crossbook's own feeds;
    with ``dex`` the local chain's Uniswap V3 pools of the symbol too."""
    from ..sim.desk import SimDesk

    async with SimDesk(venues, [symbol], seed=seed, journal=journal, dex=dex) as desk:
        yield await desk.router(symbol)


@asynccontextmanager
async def configured_router(symbol: str, config_path: Path, venues: list[str] | None, live_within: float = 15.0) -> AsyncIterator[Router]:
    """A Router on the configured accounts (one per venue: the first configured there) and the
    venues' live books."""
    config = load_config(config_path)
    chosen = [a for a in config.accounts if venues is None or a.venue in venues]
    by_venue = {a.venue: a for a in reversed(chosen)}
    if not by_venue:
        raise ConfigError(f"{config_path}: no configured account on {', '.join(venues or [])}")
    market = MarketData(list(by_venue), [symbol])
    with Journal(config.journal) as journal:
        accounts: dict[str, VenueAccount] = {v: open_account(cfg, journal) for v, cfg in by_venue.items()}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            try:
                for venue, account in accounts.items():
                    try:
                        await account.load()
                    except ccxt.BaseError as exc:  # the type only: its text can carry a signed request
                        raise VenueUnavailable(f"{venue}: cannot load its markets ({type(exc).__name__})") from None
                await market.start(session)
                await market.wait_live(live_within)
                fee_book = FeeBook(FeeProfile.of(config.accounts), accounts)
                yield Router(market.consolidated[symbol], accounts, fee_book=fee_book)
            finally:
                await market.stop()
                for account in accounts.values():
                    await account.client.close()
