"""SimDesk: a trading desk on the simulated venues, all on 127.0.0.1 with no keys and no network:
the venues running, an account funded and keyed on each, unmodified ccxt clients trading them
through crossbook's trading layer on one journal, and live books from crossbook's own feeds.
What ``crossbook route --sim``, ``crossbook arb --sim`` and the demo run on."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async

from ..feeds.market import MarketData
from ..routing.executor import Router
from ..routing.fees import FeeBook
from ..trading.pool_account import PoolAccount
from ..trading.account import VenueAccount
from ..trading.journal import Journal
from ..trading.limiter import Limiter
from ..trading.session import TRANSIT_MARGIN
from ..venues import venue_feeds, venue_module
from .cluster import SimCluster
from .dex import SimDex
from .market import START_USD
from .serve import ACCOUNT, fund


class SimDesk:
    def __init__(self, venues: list[str], symbols: list[str], *, seed: int = 7, journal: Path | None = None,
                 interval: float = 0.1, levels: int = 300, funds: Mapping[str, Mapping[str, Decimal]] | None = None,
                 dex: bool = False) -> None:
        """``funds``: venue -> asset -> amount, replacing those assets of the standard funding
        (every listed stablecoin 1,000,000, every other asset 100). ``dex``: the local chain's
        Uniswap V3 pools of the first symbol join as venues (needs node: sim.chain.chain_available)."""
        self.venues = venues
        self.symbols = symbols
        self.cluster = SimCluster([f for v in venues for f in venue_feeds(v)], seed=seed, interval=interval, levels=levels)
        self.market = MarketData(venues, symbols, endpoints=self.cluster.urls)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if journal is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="crossbook-desk-")
            journal = Path(self._tmp.name) / "journal.sqlite"
        self.journal = Journal(journal)
        self.funds = funds or {}
        self.accounts: dict[str, VenueAccount] = {}
        self.dex: SimDex | None = SimDex(symbols[0], self.journal, START_USD) if dex else None
        self._session: aiohttp.ClientSession | None = None

    async def start(self, live_within: float = 15.0) -> SimDesk:
        # the chain deploys and seeds while the exchanges start and their books sync
        launching = asyncio.create_task(self.dex.launch()) if self.dex is not None else None
        try:
            await self._start_exchanges(live_within)
        except BaseException:
            if launching is not None:
                launching.cancel()  # an exchange failed to start: don't leave the chain half made
            raise
        if launching is not None and self.dex is not None:
            await launching
            await self.dex.attach(self.market.consolidated[self.symbols[0]])
        return self

    async def _start_exchanges(self, live_within: float) -> None:
        await self.cluster.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        await self.market.start(self._session)
        self.accounts = {v: self._account(v) for v in self.venues if self.trading_sim(v) is not None}
        await asyncio.gather(*(account.load() for account in self.accounts.values()))
        await self.market.wait_live(live_within)

    async def router(self, symbol: str) -> Router:
        """A Router over every venue of the desk trading ``symbol``: the exchanges at their accounts'
        own fee rates, the pools at their fee tier with a swap's gas as the cost per order."""
        accounts: dict[str, VenueAccount | PoolAccount] = dict(self.accounts)
        fee_rates: dict[str, float] = {}
        fixed_costs: dict[str, float] = {}
        if self.dex is not None and symbol == self.dex.symbol:
            accounts.update(self.dex.accounts)
            fee_rates.update(self.dex.fee_rates)
            fixed_costs.update(await self.dex.fixed_costs())
        return Router(self.market.consolidated[symbol], accounts, fee_rates=fee_rates, fixed_costs=fixed_costs,
                      fee_book=FeeBook(accounts=self.accounts))

    async def stop(self) -> None:
        if self.dex is not None:
            await self.dex.stop()
        await self.market.stop()
        for account in self.accounts.values():
            await account.client.close()
        if self._session is not None:
            await self._session.close()
        await self.cluster.stop()
        self.journal.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def __aenter__(self) -> SimDesk:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def trading_sim(self, venue: str) -> Any:
        """The venue's simulator that ccxt trades (its spot one; dYdX's perpetuals)."""
        return next((self.cluster.venues[f] for f in venue_feeds(venue) if self.cluster.venues[f].ccxt_id), None)

    def _account(self, venue: str) -> VenueAccount:
        sim = self.trading_sim(venue)
        fund(sim)
        sim.engine.accounts[ACCOUNT].balances.update(self.funds.get(venue, {}))
        config: dict[str, Any] = sim.ccxt_config(sim.issue_key(ACCOUNT))
        client = getattr(ccxt_async, sim.ccxt_id)(config)
        limiter = Limiter(venue_module(venue).LIMITS, margin=TRANSIT_MARGIN)
        return VenueAccount(venue, client, self.journal, limiter, ACCOUNT)

    async def balances(self) -> dict[str, dict[str, float]]:
        """venue -> asset -> what the account there holds now (what an opportunity is sized to)."""
        held = await asyncio.gather(*(a.balances() for a in self.accounts.values()))
        return {v: {asset: float(x) for asset, x in b.items()} for v, b in zip(self.accounts, held)}

    def dislocate(self, venue: str, bps: float, symbol: str | None = None) -> None:
        """Move one venue's prices ``bps`` away from the others (arbitrage on demand)."""
        self.cluster.market.dislocate(venue, bps, symbol)
