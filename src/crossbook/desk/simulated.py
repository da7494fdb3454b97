"""SimDesk: a trading desk on the simulated venues, all on 127.0.0.1 with no keys and no network:
the venues running, an account funded and keyed on each, unmodified ccxt clients trading them
through crossbook's trading layer on one journal, and live books from crossbook's own feeds.
What ``Desk.sim`` (and so ``crossbook route --sim``, ``arb --sim`` and the demo) runs on.

Every ccxt client it builds stays on 127.0.0.1: an API of the venue that its simulator does not
serve (Binance's ``fapi`` on the spot simulator, KuCoin's futures host) is sent to a path the
simulator answers 404, never to the venue."""

from __future__ import annotations

import asyncio
import copy
import os
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import aiohttp
import ccxt.async_support as ccxt_async
import orjson

from ..config import CCXT_IDS, sim_config_text
from ..errors import ConfigError
from ..market.data import MarketData
from ..precision import DEFAULT_PRECISION, Precision
from ..routing.executor import Router
from ..routing.fees import FeeBook
from ..security.redact import guard_client
from ..sim.access import confined
from ..sim.cluster import SimCluster
from ..sim.market import START_USD
from ..sim.scenario import Scenario
from ..sim.serve import ACCOUNT, derivatives_clients, derivatives_config, fund, trades_derivatives
from ..sim.server import SimVenue
from ..trading.account import VenueAccount, close_accounts
from ..trading.journal import Journal
from ..trading.oneinch_account import ChainAccount
from ..venues.registry import venue_feeds, venue_of
from .pools import DexVenues, SimDex

DEX_SYMBOL = "BTC-USDT"  # the pools' market when no symbol is followed from the start


class SimDesk:
    def __init__(self, venues: list[str], symbols: list[str], *, seed: int = 7, journal: Path | None = None,
                 interval: float = 0.1, levels: int = 300, funds: Mapping[str, Mapping[str, Decimal]] | None = None,
                 dex: bool = False, scenario: Scenario | None = None, options: bool = False) -> None:
        """``funds``: venue -> asset -> amount, replacing those assets of the standard funding
        (every listed stablecoin 1,000,000, every other asset 100). ``dex``: the local chain's
        Uniswap V3 pools of the first symbol (else DEX_SYMBOL) join as venues (needs node:
        sim.chain.chain_available). ``scenario``: timed dislocations, counted from the start.
        ``options``: the venues' options markets run too (their books step every tick)."""
        self.venues = venues
        self.options = options
        self.symbols = list(symbols) if symbols or not dex else [DEX_SYMBOL]
        self.cluster = SimCluster([f for v in venues for f in venue_feeds(v, options=options)], seed=seed, interval=interval, levels=levels,
                                  scenario=scenario)
        self.market = MarketData(venues, self.symbols, endpoints=self.cluster.urls)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if journal is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="crossbook-desk-")
            journal = Path(self._tmp.name) / "journal.sqlite"
        self.journal = Journal(journal)
        self.funds = funds or {}
        self.accounts: dict[str, VenueAccount] = {}  # venue -> the funded ACCOUNT there
        # feed id -> the funded ACCOUNT on each simulator that trades derivatives (opened at start,
        # loaded on first use; dYdX's is its trading account)
        self.derivatives: dict[str, VenueAccount] = {}
        self._sub_derivatives: dict[tuple[str, str], list[VenueAccount]] = {}  # (venue, sub-account) -> its
        self.ccxt_configs: dict[tuple[str, str], dict[str, Any]] = {}  # (venue, account) -> its ccxt config
        self.derivatives_configs: dict[str, dict[str, Any]] = {}  # DerivativesClient.entry -> the ACCOUNT's config
        self.dex: SimDex | None = SimDex(self.symbols[0], self.journal, START_USD) if dex else None
        self._session: aiohttp.ClientSession | None = None
        self._stopped = False

    async def start(self, live_within: float = 15.0) -> SimDesk:
        self._stopped = False
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
            await self.dex.attach(self.market.consolidated)
        return self

    async def _start_exchanges(self, live_within: float) -> None:
        await self.cluster.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        await self.market.start(self._session)
        await self.market.load_instruments()  # before the accounts spend the venues' REST budgets
        for venue in self.venues:
            sim = self.trading_sim(venue)
            if sim is not None:
                fund(sim)
                sim.engine.accounts[ACCOUNT].balances.update(self.funds.get(venue, {}))
                self.accounts[venue] = self.open_account(venue, ACCOUNT)
            self.derivatives.update(self._open_derivatives(venue))
        await asyncio.gather(*(account.load() for account in self.accounts.values()))
        await self.market.wait_live(live_within)

    async def router(self, symbol: str, precision: Precision = DEFAULT_PRECISION) -> Router:
        """A Router over every venue of the desk trading ``symbol``: the exchanges at their accounts'
        own fee rates, the pools at their fee tier with a swap's gas as the cost per order."""
        dex = await self.dex_venues(symbol)
        accounts: dict[str, VenueAccount | ChainAccount] = {**self.accounts, **dex.accounts}
        return Router(self.market.consolidated[symbol], accounts, fee_rates=dex.fee_rates, fixed_costs=dex.fixed_costs,
                      fee_book=FeeBook(accounts=self.accounts), precision=precision)

    async def dex_venues(self, symbol: str) -> DexVenues:
        """The local chain's venues of ``symbol`` for the router (none when the chain does not run
        or trades another symbol)."""
        if self.dex is None or self.dex.venues is None or symbol != self.dex.symbol:
            return DexVenues()
        return await self.dex.venues.venues()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.dex is not None:
            await self.dex.stop()
        await self.market.stop()
        subs = [a for accounts in self._sub_derivatives.values() for a in accounts]
        await close_accounts((*self.accounts.values(), *self.derivatives.values(), *subs))
        if self._session is not None:
            await self._session.close()
        await self.cluster.stop()
        self.journal.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def write_config(self, path: Path) -> Path:
        """``Desk.write_config``: a crossbook.toml and its ccxt settings for these simulators."""
        ccxt_file = path.with_name(f"{path.stem}-ccxt.json")
        configs: dict[str, Any] = {CCXT_IDS[v]: self.ccxt_configs[(v, ACCOUNT)] for v in self.accounts}
        products = [c for c in derivatives_clients(self.cluster).values() if c.entry in self.derivatives_configs]
        configs |= {c.entry: self.derivatives_configs[c.entry] for c in products}
        endpoints = {feed: self.cluster.urls(feed) for feed in self.cluster.venues}
        text = sim_config_text(f"{path.stem}-journal.sqlite", ccxt_file.name, list(self.accounts), endpoints, products)
        for target, data in ((ccxt_file, orjson.dumps(configs)), (path, text.encode())):
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        return path

    def trading_sim(self, venue: str) -> SimVenue | None:
        """The venue's simulator that ccxt trades (its spot one; dYdX's perpetuals)."""
        return next((self.cluster.venues[f] for f in venue_feeds(venue) if self.cluster.venues[f].ccxt_id), None)

    def open_account(self, venue: str, account: str) -> VenueAccount:
        """A keyed ccxt account on the venue's simulator, not loaded yet; an account other than the
        funded ACCOUNT opens empty, as its sub-account."""
        sim = self.trading_sim(venue)
        if sim is None or sim.ccxt_id is None:
            raise ValueError(f"{venue}: its simulator has no ccxt trading surface")
        if account not in sim.engine.accounts:
            sim.engine.open_account(account, parent=ACCOUNT)
        config = confined(sim.ccxt_config(sim.issue_key(account)), sim.rest_url, sim.ws_url)
        self.ccxt_configs[(venue, account)] = copy.deepcopy(config)
        return self._account(venue, sim, account, config)

    def _account(self, venue: str, sim: SimVenue, account: str, config: dict[str, Any]) -> VenueAccount:
        ccxt_id = sim.ccxt_id or sim.client_ccxt_id
        assert ccxt_id is not None
        client = guard_client(getattr(ccxt_async, ccxt_id)(config))
        return VenueAccount(venue, client, self.journal, self.market.limiters(venue), account)

    def _open_derivatives(self, venue: str) -> dict[str, VenueAccount]:
        """feed id -> the funded ACCOUNT on each of ``venue``'s simulators that trades derivatives:
        its own keyed client reading the perpetuals (the venue SPEC's ``perp_ccxt_options`` where
        one server trades spot and perpetuals, as OKX's does); the trading account itself where
        that already trades them (dYdX)."""
        opened: dict[str, VenueAccount] = {}
        trading = self.trading_sim(venue)
        if trading is not None and venue in self.accounts and trades_derivatives(trading):
            opened[trading.venue] = self.accounts[venue]  # dYdX's: replaced below where it trades spot
        for feed, client in derivatives_clients(self.cluster).items():
            if client.venue != venue:
                continue
            sim = self.cluster.venues[feed]
            if ACCOUNT not in sim.engine.accounts:
                fund(sim)
            config = derivatives_config(sim)
            self.derivatives_configs[client.entry] = copy.deepcopy(config)
            opened[feed] = self._account(venue, sim, ACCOUNT, config)
        return opened

    def derivatives_accounts(self, venue: str, account: str) -> list[VenueAccount]:
        """``account``'s derivatives accounts on ``venue`` (not loaded yet), besides its primary one:
        the funded ACCOUNT's opened at start; a sub-account's opened empty on first use, with its
        own keys."""
        primary = self.accounts.get(venue)
        if account == ACCOUNT:
            return [a for feed, a in self.derivatives.items() if venue_of(feed) == venue and a is not primary]
        if (venue, account) not in self._sub_derivatives:
            opened = []
            for feed, client in derivatives_clients(self.cluster).items():
                if client.venue == venue:
                    sim = self.cluster.venues[feed]
                    if account not in sim.engine.accounts:
                        sim.engine.open_account(account, parent=ACCOUNT)
                    opened.append(self._account(venue, sim, account, derivatives_config(sim, account)))
            self._sub_derivatives[(venue, account)] = opened
        return list(self._sub_derivatives[(venue, account)])

    async def balances(self) -> dict[str, dict[str, float]]:
        """venue -> asset -> what the account there holds now (what an opportunity is sized to)."""
        held = await asyncio.gather(*(a.balances() for a in self.accounts.values()))
        return {v: {asset: float(x) for asset, x in b.items()} for v, b in zip(self.accounts, held, strict=True)}

    def dislocate(self, venue: str, bps: float, symbol: str | None = None) -> None:
        """Move one venue's prices ``bps`` away from the others (arbitrage on demand)."""
        self.cluster.market.dislocate(venue, bps, symbol)


class SimulatedVenues:
    """The Desk's methods over its simulated venues (a base of Desk): a desk made by ``Desk.sim``
    runs them; any other refuses."""

    simulator: SimDesk | None

    def _simulated(self) -> SimDesk:
        if self.simulator is None:
            raise ConfigError("only a simulated desk (Desk.sim) runs its own venues")
        return self.simulator

    def dislocate(self, venue: str, bps: float, symbol: str | None = None) -> None:
        """Move one simulated venue's prices ``bps`` away from the others (arbitrage on demand)."""
        self._simulated().dislocate(venue, bps, symbol)

    def sim_endpoints(self) -> dict[str, tuple[str, str]]:
        """feed id -> (ws url, rest url) of each running simulator."""
        cluster = self._simulated().cluster
        return {feed: cluster.urls(feed) for feed in cluster.venues}

    def write_config(self, path: str | Path) -> Path:
        """A crossbook.toml at ``path`` for the running simulators (one sim account per venue, the
        endpoints), their ccxt settings, keys included, in ``<name>-ccxt.json`` beside it; both
        readable by their owner only. ``Desk.from_config(path)`` trades the same accounts."""
        return self._simulated().write_config(Path(path))
