"""Desk: the one entry point to crossbook for a program; the CLI, the demo and the service are thin
layers over it.

    async with Desk.sim(["binance", "okx", "bybit"]) as desk:
        quote = await desk.best_price("BTC-USDT", "buy", 2)
        report = await desk.route("BTC-USDT", "buy", 2)

A desk is simulated (``Desk.sim``: the venues started in-process on 127.0.0.1, each with a funded,
keyed account), configured (``Desk.from_config``: the accounts of a crossbook.toml, sim, testnet
or live) or public (``Desk.public``: the venues' market data, no account). Feeds start per symbol
on first use: a symbol not yet followed starts its feeds on every venue of the desk, then waits
for their books to go live. Leaving the ``async with`` stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Self

import aiohttp
import ccxt

from ..arbitrage.basis import Funding
from ..arbitrage.cross_venue import Balances, Transfer
from ..arbitrage.model import Fees
from ..arbitrage.scanner import KINDS, Event, Scanner
from ..book.consolidated import ConsolidatedBook
from ..book.l2 import L2Book
from ..bus.lease import default_holder
from ..config import Config, load_config
from ..errors import (
    ConfigError,
    CrossbookError,
    InvalidOrder,
    UnknownSymbol,
    UnknownVenue,
    VenueUnavailable,
)
from ..market.bus_data import BusMarketData, with_bus_url
from ..market.data import Endpoints, MarketData, production
from ..model import Side, Trade
from ..monitor.metrics import Metrics
from ..precision import Precision
from ..routing.conversion import (
    DEFAULT_EQUIVALENTS,
    conversion_symbols,
    equivalent_symbols,
)
from ..routing.executor import ExecutionReport, Router, RouteRequest, Urgency
from ..routing.fees import FeeBook, FeeProfile
from ..routing.quote import Quote, price_order
from ..sim.scenario import Scenario
from ..sim.serve import ACCOUNT
from ..symbols import parse_standard
from ..trading.account import PositionView, ReconcileReport, VenueAccount, close_accounts
from ..trading.journal import Journal
from ..trading.oco import OcoKeeper
from ..trading.session import config_vault, open_account
from ..venues.registry import VENUES
from .funding import fetch_funding
from .funding_history import FundingHistoryView
from .funding_view import FundingView
from .leases import LeasedAccounts
from .market_queries import MarketQueries
from .market_streams import MarketStreams
from .metering import AccountMeter, market_view, route_record
from .onchain import OnChainVenues
from .options import OptionChains
from .results import BalanceReport, OpportunityEvent, Position, PositionReport
from .simulated import SimDesk, SimulatedVenues
from .strategy import StrategyDesk
from .valuation import Wallet, balance_rows, same_wallet, valuation_symbols, value_rows, wallet_name
from .withdrawals import Withdrawing

if TYPE_CHECKING:
    from ..security.vault import Vault
    from ..trading.trader import Trader

LIVE_WITHIN = 15.0  # seconds a newly followed symbol's books get to go live
KIND_NAMES = {"cross": "cross_venue"}  # the short names arbitrage() also takes


def _known(venues: Sequence[str] | None) -> list[str]:
    chosen = list(VENUES) if venues is None else [v.lower() for v in venues]
    unknown = [v for v in chosen if v not in VENUES]
    if unknown or not chosen:
        raise UnknownVenue(f"unknown venue(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(VENUES)}")
    return chosen


def _side(side: Side | str) -> Side:
    try:
        return Side(side.lower() if isinstance(side, str) else side)
    except ValueError:
        raise InvalidOrder(f"side must be buy or sell, not {side!r}") from None


def _sized(amount: float | Decimal | None, notional: float | Decimal | None) -> float | None:
    """The amount in base units, None when the order is sized by ``notional``; exactly one of
    them, positive."""
    if (amount is None) == (notional is None):
        raise InvalidOrder("give an amount in base units or a notional in the quote currency (one of them)")
    _positive("notional", notional)
    return _positive("amount", amount)


def _positive(name: str, value: float | Decimal | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise InvalidOrder(f"{name} must be a positive finite number, not {value!r}")
    return number


async def _positions_of(account: VenueAccount) -> list[PositionView]:
    if not account.rules:  # a simulated desk's derivatives accounts load on first use
        await account.load()
    return await account.positions()


class Desk(Withdrawing, SimulatedVenues, OnChainVenues, MarketQueries, FundingView, FundingHistoryView, OptionChains,
           MarketStreams, LeasedAccounts):
    def __init__(self, venues: list[str], *, simulator: SimDesk | None = None, config: Config | None = None,
                 endpoints: Endpoints = production, vault: Vault | None = None) -> None:
        """Use ``Desk.sim``, ``Desk.from_config`` or ``Desk.public``."""
        self.venues = venues
        self.simulator = simulator
        self.config = config
        self.vault = vault  # unlocked, where the config names vault keys
        self.equivalents = config.equivalents if config is not None else DEFAULT_EQUIVALENTS
        if simulator is not None:
            self.market = simulator.market
        elif config is not None and config.bus is not None:  # books from feed processes over the bus
            self.market = BusMarketData(venues, [], url=config.bus.url, name=config.bus.name or default_holder())
        else:
            self.market = MarketData(venues, [], endpoints=endpoints)
        self.market.on_trade = self._trade
        self._trade_callbacks: list[Callable[[Trade], None]] = []
        self._accounts: dict[tuple[str, str], VenueAccount] = {}  # (venue, account) -> loaded account
        # (venue, account) -> its other products' accounts (a configured desk's: Binance USD-M beside spot)
        self._products: dict[tuple[str, str], list[VenueAccount]] = {}
        self._keepers: dict[tuple[str, str], OcoKeeper] = {}  # (venue, account) -> the one keeper of its OCO groups
        self._fee_book = FeeBook()
        self._journal: Journal | None = None
        self._session: aiohttp.ClientSession | None = None
        self._started = False
        self._stopped = False  # stop() undoes start() once: a failed start has stopped already
        self._followed_at: dict[str, float] = {}  # symbol -> when it was first followed (monotonic)
        self.live_within = LIVE_WITHIN  # seconds a newly followed symbol's books get to go live
        # every metric of the desk: its feeds read at scrape time, its accounts' orders and fills,
        # its routes, arbitrage and reconciliations recorded as they happen
        self.metrics = Metrics()
        self.metrics.watch_feeds(lambda: market_view(self.market))
        self._meter = AccountMeter(self.metrics)

    # ---- making one --------------------------------------------------------------------------

    @classmethod
    def sim(cls, venues: Sequence[str] | None = None, seed: int = 0, dex: bool = False, *, symbols: Sequence[str] = (),
            funds: Mapping[str, Mapping[str, Decimal]] | None = None, journal: Path | None = None,
            scenario: Scenario | None = None, options: bool = False) -> Desk:
        """The simulated ``venues`` (default: all) started in-process on 127.0.0.1, an account
        funded and keyed on each; ``dex``: the local chain's Uniswap V3 pools of the first symbol
        join (needs node). ``symbols`` are followed from the start; ``funds`` replaces assets of
        the standard funding (venue -> asset -> amount); ``scenario`` moves prices on a schedule;
        ``options``: the venues' options markets are simulated too (``option_chain``)."""
        chosen = _known(venues)
        wanted = [s.upper() for s in symbols]
        for symbol in wanted:
            parse_standard(symbol)
        return cls(chosen, simulator=SimDesk(chosen, wanted, seed=seed, journal=journal, funds=funds, dex=dex,
                                             scenario=scenario, options=options))

    @classmethod
    def from_config(cls, path: str | Path, *, venues: Sequence[str] | None = None, vault: Vault | None = None,
                    bus_url: str | None = None) -> Desk:
        """The accounts of a crossbook.toml (only those on ``venues``, when given) and their venues'
        books, from the endpoints it names (a running ``crossbook sim``) else the venues'. Where
        it names vault keys (key = "vault:NAME"), ``vault``, else the vault unlocked now
        ($CROSSBOOK_VAULT, $CROSSBOOK_VAULT_PASSPHRASE, the keyring or a prompt). ``bus_url`` sets
        (or overrides) its ``[bus] url``: the books come from feed processes over that bus."""
        config = with_bus_url(load_config(path), bus_url)
        chosen = [a for a in config.accounts if venues is None or a.venue in venues]
        if not chosen:
            raise ConfigError(f"{config.path}: no configured account on {', '.join(venues or [])}")
        config = replace(config, accounts=chosen)
        endpoints = config.endpoints

        def configured(feed: str) -> tuple[str | None, str | None]:
            if feed not in endpoints:  # the config names simulators: the venue itself is not read
                raise VenueUnavailable(f"{feed}: {config.path} names no endpoint for it in [endpoints]")
            return endpoints[feed]

        return cls(list(dict.fromkeys(a.venue for a in chosen)), config=config,
                   endpoints=configured if endpoints else production, vault=vault or config_vault(config))

    @classmethod
    def public(cls, venues: Sequence[str] | None = None) -> Desk:
        """The venues' public market data, no account: prices and arbitrage, no trading."""
        return cls(_known(venues))

    # ---- starting and stopping ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the venues (a simulated desk's), load the accounts, start the feeds of the symbols
        followed from the start; what ``async with`` does (``stop`` undoes it)."""
        self._stopped = False
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        self._started = True

    async def _start(self) -> None:
        if self.simulator is not None:
            await self.simulator.start(self.live_within)
            self._accounts = {(v, ACCOUNT): self._meter.watch(a) for v, a in self.simulator.accounts.items()}
            for account in self.simulator.derivatives.values():
                self._meter.watch(account)
            self._fee_book = FeeBook(accounts=self.simulator.accounts)
            return
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.config is not None:  # an account that cannot be reached is the first thing said
            self._journal = Journal(self.config.journal)
            primary_first = sorted(self.config.accounts, key=lambda cfg: not cfg.primary)
            for cfg in primary_first:
                opened = self._meter.watch(open_account(cfg, self._journal, self.market.limiters(cfg.venue), self.vault))
                opened.strategy = self.config.strategies.owner(cfg.venue, cfg.account)
                if (cfg.venue, cfg.account) in self._accounts:
                    self._products.setdefault((cfg.venue, cfg.account), []).append(opened)
                else:
                    self._accounts[(cfg.venue, cfg.account)] = opened
            products = [a for accounts in self._products.values() for a in accounts]
            await asyncio.gather(*(self._load(a) for a in (*self._accounts.values(), *products)))
            self._fee_book = FeeBook(FeeProfile.of(self.config.accounts), self.accounts)
            await self._start_leases()  # with [bus]: each account traded only under its lease, reconciled first
            await self._start_chains(self._journal)
        await self.market.start(self._session)
        await self.market.load_instruments()

    @staticmethod
    async def _load(account: VenueAccount) -> None:
        try:
            await account.load()
        except ccxt.BaseError as exc:  # the type only: its text can carry a signed request
            raise VenueUnavailable(f"{account.venue}: cannot load its markets ({type(exc).__name__})") from None

    async def stop(self) -> None:
        if self._stopped:
            return
        self._started, self._stopped = False, True
        await self._stop_trading()  # the OCO keepers and the leases, before the clients they trade through close
        simulated = self.simulator.accounts.values() if self.simulator is not None else ()
        await close_accounts(a for a in self._accounts.values() if a not in simulated)
        if self.simulator is None:  # a simulated desk's are the simulator's to close
            await close_accounts(a for products in self._products.values() for a in products)
        self._accounts.clear()
        self._products.clear()
        await self._stop_option_chains()
        await self.stop_market_streams()
        if self.simulator is not None:
            await self.simulator.stop()
            return
        await self._stop_chains()
        await self.market.stop()
        if self._session is not None:
            await self._session.close()
        if self._journal is not None:
            self._journal.close()

    # ---- market data -------------------------------------------------------------------------

    async def follow(self, symbols: Iterable[str], live_within: float | None = None) -> None:
        """Follow ``symbols`` on every venue of the desk (those not followed yet start their
        feeds) and wait up to ``live_within`` seconds (default: the desk's) for their books to go
        live. Without ``live_within``, a symbol followed earlier waits only for what is left of its
        first wait: a service answering many requests while one venue is down must not hold each
        of them for the whole bound (its quote says which books are not live)."""
        if not self._started:
            raise CrossbookError("the desk is not started: use it as `async with Desk...(...) as desk:`")
        wanted = [s.upper() for s in symbols]
        now = time.monotonic()
        for symbol in wanted:
            self._followed_at.setdefault(symbol, now)
        await self.market.add_symbols(wanted)
        await self._follow_chains(wanted)
        if live_within is None:
            live_within = max(0.0, max(self._followed_at[s] for s in wanted) + self.live_within - now)
        await self.market.wait_live(live_within, wanted)

    async def book(self, venue: str, symbol: str) -> L2Book:
        """One venue's live L2 book of ``symbol``."""
        symbol = symbol.upper()
        if venue not in self.venues:
            raise UnknownVenue(f"{venue!r} is not a venue of this desk ({', '.join(self.venues)})")
        await self.follow([symbol])
        if venue in self.market.down:
            raise VenueUnavailable(self.market.down[venue])
        book = self.market.consolidated[symbol].books.get(venue)
        if book is None:
            raise UnknownSymbol(f"{venue} does not list {symbol}")
        return book

    async def consolidated(self, symbol: str) -> ConsolidatedBook:
        """``symbol`` across every venue of the desk that lists it."""
        await self.follow([symbol])
        return self.market.consolidated[symbol.upper()]

    def on_trade(self, callback: Callable[[Trade], None]) -> None:
        """Call ``callback`` with every public trade of the symbols the desk follows."""
        self._trade_callbacks.append(callback)

    def _trade(self, trade: Trade) -> None:
        for callback in self._trade_callbacks:
            callback(trade)

    def precision(self, symbol: str) -> Precision:
        """The finest tick and lot of ``symbol`` among the venues that list it."""
        return self.market.precision(symbol)

    def display_precision(self, symbol: str) -> Precision:
        """For tables: the tick and lot most venues use (one venue's 8-decimal lot does not pad
        every amount on screen); JSON keeps ``precision``'s finest grid."""
        return self.market.display_precision(symbol)

    # ---- prices and routes -------------------------------------------------------------------

    async def best_price(self, symbol: str, side: Side | str, amount: float | Decimal | None = None, *,
                         notional: float | Decimal | None = None, venues: Sequence[str] | None = None,
                         equivalents: Collection[str] | None = None,
                         balances: Mapping[str, Mapping[str, float]] | None = None,
                         fee_rates: Mapping[str, float] | None = None) -> Quote:
        """``amount`` (base units; or ``notional`` in the quote currency) of ``symbol`` priced on
        every venue (only ``venues``, when given) through its live depth after its taker fee (the
        account's, or ``fee_rates``: venue -> rate), the same instrument in an equivalent quote
        currency (``equivalents``, default the config's, else USDT, USDC, USD) included at the live
        conversion rate. With ``balances`` (venue -> currency -> available) each row says whether
        that venue can pay for the order, and only one that can is best."""
        symbol, order_side = symbol.upper(), _side(side)
        parse_standard(symbol)
        _sized(amount, notional)
        same = frozenset(self.equivalents if equivalents is None else (c.upper() for c in equivalents))
        others = equivalent_symbols(symbol, same)
        await self.follow([symbol, *others, *(conversion_symbols(same) if others else [])])
        size = self._amount(symbol, amount, notional)
        rates = await self._fee_rates(symbol) | dict(fee_rates or {})
        down = {v: rates.get(v, self._fee_book.scheduled(v, symbol).taker) for v in self.market.down}
        return price_order(self.market.consolidated, symbol, order_side, size, venues=venues, equivalents=same,
                           fee_rates=rates, fixed_costs=(await self.dex_venues(symbol)).fixed_costs, balances=balances,
                           down=down, precision=self.precision(symbol))

    async def route(self, symbol: str, side: Side | str, amount: float | Decimal | None = None, *,
                    notional: float | Decimal | None = None, limit: float | None = None,
                    max_slippage_bps: float | None = None, max_venues: int | None = None,
                    urgency: Urgency | str = Urgency.TAKE, deadline: float = 10.0, passive_seconds: float = 2.0,
                    dry_run: bool = False, strategy: str | None = None) -> ExecutionReport:
        """Route ``amount`` (or ``notional``) of ``symbol`` across the desk's venues at the least
        all-in cost: the cheapest split, IOC child orders (passive: post-only at the touch first),
        what is left re-routed on fresh books until filled, the limit or the deadline. A dry run
        plans and sends nothing. ``strategy``: through that strategy's sub-accounts only."""
        symbol, order_side = symbol.upper(), _side(side)
        size = _sized(amount, notional)
        try:
            how = Urgency(urgency)
        except ValueError:
            raise InvalidOrder(f"urgency must be take or passive, not {urgency!r}") from None
        request = RouteRequest(symbol, order_side, size or 1.0, limit=limit, max_slippage_bps=max_slippage_bps,
                               max_venues=max_venues, deadline=deadline, urgency=how, passive_seconds=passive_seconds)
        if size is None:
            await self.follow([symbol])
            request = replace(request, amount=self._amount(symbol, None, notional))
        return await self.route_request(request, dry_run=dry_run, strategy=strategy)

    async def route_request(self, request: RouteRequest, *, dry_run: bool = False,
                            strategy: str | None = None) -> ExecutionReport:
        """``route`` for a RouteRequest built (and so checked) beforehand."""
        await self.follow([request.symbol])
        router = await self.router(request.symbol, strategy)
        report = await router.route(request, dry_run=dry_run)
        self.metrics.route(route_record(report))
        return report

    async def router(self, symbol: str, strategy: str | None = None) -> Router:
        """The Router over the desk's books of ``symbol`` and its accounts (its chains' DEX venues
        too: a simulated desk's local chain, a configured desk's [chains.X]), at the accounts' own
        fee rates; ``strategy``: that strategy's sub-accounts only, its name on every child order."""
        symbol = symbol.upper()
        await self.follow([symbol])
        if strategy is not None:
            return Router(self.market.consolidated[symbol], await self.strategy(strategy).accounts(),
                          fee_book=self._fee_book, precision=self.precision(symbol), strategy=strategy)
        if self.simulator is not None:
            return await self.simulator.router(symbol, self.precision(symbol))
        dex = await self.dex_venues(symbol)
        return Router(self.market.consolidated[symbol], {**self.accounts, **dex.accounts}, fee_rates=dex.fee_rates,
                      fixed_costs=dex.fixed_costs, fee_book=self._fee_book, precision=self.precision(symbol))

    def _amount(self, symbol: str, amount: float | Decimal | None, notional: float | Decimal | None) -> float:
        """Base units: ``amount``, or ``notional`` over the live mid rounded down to the lot most
        venues use, so the size sits on their grid (an amount off it could only be filled exactly
        by the one venue with the finest lot, whatever its price)."""
        if amount is not None:
            return float(amount)
        assert notional is not None
        book = self.market.consolidated[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            raise VenueUnavailable(f"no live {symbol} price on {', '.join(self.venues)} to size a notional by")
        scale = 10 ** self.display_precision(symbol).amount_decimals
        base = math.floor(float(notional) / ((bid.price + ask.price) / 2) * scale) / scale
        if base <= 0:
            raise InvalidOrder(f"a notional of {notional} buys less than one lot of {symbol}")
        return base

    async def _fee_rates(self, symbol: str) -> dict[str, float]:
        """venue -> taker rate, the account's own, for the venues the desk trades ``symbol`` on."""
        venues = [v for v in self._fee_book.accounts if v in self.market.consolidated[symbol].books]
        rates = await asyncio.gather(*(self._fee_book.rates(v, symbol) for v in venues))
        return {v: r.taker for v, r in zip(venues, rates, strict=True)}

    # ---- arbitrage ---------------------------------------------------------------------------

    async def arbitrage(self, symbols: Sequence[str], kinds: Collection[str] = ("cross", "triangular", "basis"), *,
                        seconds: float | None = None, fees: Fees | None = None, balances: Balances | None = None,
                        transfer: Transfer | None = None, funding: Funding | None = None, min_bps: float = 0.0,
                        live_within: float | None = None, max_notional: float | None = None,
                        fixed_costs: Mapping[str, float] | None = None) -> AsyncIterator[OpportunityEvent]:
        """Opportunities among ``symbols`` as they open and close, net of fees: cross-venue
        (``cross``), triangular and spot-perpetual ``basis``; for ``seconds`` (default: until the
        caller stops iterating). ``funding`` defaults to the perpetuals' live rates (``live_funding``).
        Sizes are capped by ``balances`` and ``max_notional``; ``fixed_costs`` (a DEX venue's gas
        per order) count in the net profit (see ``Scanner``)."""
        wanted = [s.upper() for s in symbols]
        looked_for = [KIND_NAMES.get(k, k) for k in kinds]
        unknown = sorted(set(looked_for) - set(KINDS))
        if unknown:
            raise ConfigError(f"unknown opportunity kinds {', '.join(unknown)}; known: cross, {', '.join(KINDS)}")
        await self.follow(wanted, live_within)
        live = await self.live_funding(wanted) if funding is None and "basis" in looked_for else None
        funding = live if live is not None else funding
        scanner = Scanner({s: self.market.consolidated[s] for s in wanted}, kinds=looked_for, fees=fees,
                          balances=balances, transfer=transfer, funding=funding, min_bps=min_bps, max_notional=max_notional,
                          fixed_costs=fixed_costs)
        events: asyncio.Queue[Event | None] = asyncio.Queue()

        async def scan() -> None:
            try:
                await scanner.run(math.inf if seconds is None else seconds, events.put_nowait)
            finally:
                events.put_nowait(None)

        scanning = asyncio.create_task(scan())
        try:
            while (event := await events.get()) is not None:
                if event.kind == "open":
                    self.metrics.opportunity(event.opportunity.kind)
                yield OpportunityEvent(event)
            await scanning  # a scan that failed raises here
        finally:
            scanning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scanning
            if live is not None:
                live.close()

    async def funding_rates(self, symbols: Sequence[str]) -> dict[tuple[str, str], float]:
        """(venue, perpetual) -> funding rate per interval, from the venues' public APIs: the
        simulators' on a simulated desk, and on a configured desk whose config names simulators
        (``[endpoints]``) those only, never the venues'."""
        return await fetch_funding(self.venues, [s.upper() for s in symbols], self.endpoint_overrides())

    def endpoint_overrides(self) -> dict[str, tuple[str, str]] | None:
        """feed id -> (ws url, rest url) of the simulators the desk reads; None: the venues' own."""
        if self.simulator is not None:
            return self.sim_endpoints()
        if self.config is not None and self.config.endpoints:
            return dict(self.config.endpoints)
        return None

    # ---- accounts ----------------------------------------------------------------------------

    @property
    def accounts(self) -> dict[str, VenueAccount]:
        """venue -> the account the desk routes through there (a simulated desk's funded one; a
        configured desk's first configured there)."""
        primary: dict[str, VenueAccount] = {}
        for (venue, _), account in self._accounts.items():
            primary.setdefault(venue, account)
        return primary

    def strategy(self, name: str) -> StrategyDesk:
        """What strategy ``name`` of the config's ``[strategies]`` sees: its own sub-accounts only
        (StrategyMismatch for a strategy the config does not name)."""
        if self.config is None:
            raise ConfigError("strategies come from a config's [strategies]: use Desk.from_config")
        return StrategyDesk(self, self.config.strategies.get(name))

    async def venue_account(self, venue: str, account: str = "main") -> VenueAccount:
        """The loaded ccxt-backed account ``account`` on ``venue``: on a simulated desk a
        sub-account other than the funded one opens empty with its own key."""
        if (venue, account) in self._accounts:
            return self._accounts[(venue, account)]
        if venue not in self.venues:
            raise UnknownVenue(f"{venue!r} is not a venue of this desk ({', '.join(self.venues)})")
        if self.simulator is None:
            where = self.config.path if self.config is not None else "a public desk (no accounts)"
            raise ConfigError(f"{venue}: no account {account!r} in {where}")
        if venue not in self.simulator.accounts:
            raise ConfigError(f"{venue}: its simulator has no ccxt trading surface")
        opened = self._meter.watch(self.simulator.open_account(venue, account))
        self._accounts[(venue, account)] = opened
        await self._load(opened)
        return opened

    async def account(self, venue: str, account: str = "main") -> Trader:
        """Orders, fills, balances, positions and settings of one (sub-)account on ``venue``, on
        every product the desk has an account for there (an order's symbol picks spot or the
        derivatives account that lists it)."""
        from ..trading.trader import Trader

        primary = await self.venue_account(venue, account)
        trader = Trader(primary, await self.product_accounts(venue, account), keeper=self._keepers.get((venue, account)))
        self._keepers[(venue, account)] = trader.keeper  # every Trader of the account shares it
        return trader

    async def product_accounts(self, venue: str, account: str = "main") -> list[VenueAccount]:
        """``account``'s loaded accounts on ``venue``'s other products (derivatives), besides the
        one ``venue_account`` gives: a simulated desk's derivatives simulators, a configured desk's
        entries with their own ccxt client (``ccxt_id = "binanceusdm"``)."""
        if self.simulator is None:
            return list(self._products.get((venue, account), []))
        opened = [self._meter.watch(a) for a in self.simulator.derivatives_accounts(venue, account)]
        await asyncio.gather(*(self._load(a) for a in opened if not a.rules))
        return opened

    async def reconcile_all(self) -> list[ReconcileReport]:
        """Reconcile every account of the desk (each product's too) with its venue, each report
        recorded in the metrics; what the service does on start. An account whose venue cannot
        be reached raises."""
        products = [a for accounts in self._products.values() for a in accounts]
        simulated = self.simulator.derivatives.values() if self.simulator is not None else ()
        accounts = list({id(a): a for a in (*self._accounts.values(), *products, *simulated)}.values())
        reports = list(await asyncio.gather(*(a.reconcile() for a in accounts)))
        for report in reports:
            self.metrics.reconciled(report.venue, report)
        return reports

    async def balances(self, venues: Sequence[str] | None = None, *, value_in: str | None = "USDT") -> BalanceReport:
        """What every account of the desk (on ``venues``, when given) holds, per venue and
        sub-account, and (unless ``value_in`` is None) its value in ``value_in`` at live prices."""
        wallets = await self._wallets(venues)
        fetched = await asyncio.gather(*(a.client.fetch_balance() for a in wallets.values()), return_exceptions=True)
        rows, unavailable = balance_rows(list(wallets), fetched)
        primary: dict[str, str] = {}
        for venue, _, wallet in wallets:  # each venue's first: its primary account's
            primary.setdefault(venue, wallet)
        if value_in is None:
            return BalanceReport("", tuple(rows), unavailable, primary)
        currency = value_in.upper()
        candidates = valuation_symbols({r.asset for r in rows if r.total > 0}, currency)
        await self.follow(candidates)
        return BalanceReport(currency, tuple(value_rows(rows, currency, self.market.consolidated)), unavailable, primary)

    async def _wallets(self, venues: Sequence[str] | None) -> dict[Wallet, VenueAccount]:
        """Each wallet of the desk's accounts (on ``venues``), the primary account's first: its
        spot wallet and its derivatives wallets (Binance USD-M and COIN-M, Bybit linear, Gate
        futures), a unified account (OKX's, read by its spot and its swap clients) once, as
        ``unified``. A derivatives account that cannot be opened is
        left to ``positions`` to report."""
        wallets: dict[Wallet, VenueAccount] = {}
        for (venue, name), primary in self._accounts.items():
            if venues is not None and venue not in venues:
                continue
            try:
                products = [a for a in await self.product_accounts(venue, name) if a is not primary]
            except CrossbookError:
                products = []
            own = [a for a in products if not same_wallet(a, primary)]
            unified = len(own) < len(products)
            wallets[(venue, name, "unified" if unified else wallet_name(primary, primary))] = primary
            for account in own:
                wallets.setdefault((venue, name, wallet_name(account, primary)), account)
        return wallets

    async def positions(self, venues: Sequence[str] | None = None) -> PositionReport:
        """Open derivatives positions in every account of the desk that trades derivatives (on
        ``venues``, when given): a simulated desk's accounts on its derivatives simulators, a
        configured desk's accounts that loaded a derivative market. A venue where none does is
        listed in ``no_derivatives``; one whose positions cannot be read, in ``unavailable``."""
        wanted = [a for a in self._position_accounts() if venues is None or a.venue in venues]
        found = await asyncio.gather(*(_positions_of(a) for a in wanted), return_exceptions=True)
        positions: list[Position] = []
        unavailable: dict[str, str] = {}
        for account, result in zip(wanted, found, strict=True):
            if isinstance(result, (ccxt.BaseError, CrossbookError)):
                where = f"{account.venue}/{account.account}"  # the type only: its text may carry a signed request
                unavailable[where] = ", ".join(filter(None, (unavailable.get(where), type(result).__name__)))
            elif isinstance(result, BaseException):
                raise result
            else:
                positions += [Position(account.venue, account.account, view) for view in result]
        held = {v for v, _ in self._accounts if venues is None or v in venues}
        without = tuple(v for v in self.venues if v in held and all(a.venue != v for a in wanted))
        return PositionReport(tuple(positions), unavailable, without)

    def _position_accounts(self) -> list[VenueAccount]:
        """The desk's accounts that trade derivatives, each once."""
        products = [a for accounts in self._products.values() for a in accounts]
        trading = [a for a in (*self._accounts.values(), *products) if any(r.derivative for r in a.rules.values())]
        simulated = self.simulator.derivatives.values() if self.simulator is not None else ()
        return list({id(a): a for a in (*trading, *simulated)}.values())
