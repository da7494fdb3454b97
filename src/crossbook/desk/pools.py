"""On-chain venues for the router, chain-generic: ``ChainVenues`` is the DEX venues of one chain for
one symbol, built the same way on a configured chain (``[chains.X]``) and on the simulator's local
chain. The symbol's assets map to tokens through the chain's token table; every Uniswap V3 pool of
the pair that exists at each fee tier and holds liquidity becomes a venue: its ladder in the
consolidated book (``PoolBook``) and a ``PoolAccount`` the router trades through, with the pool's fee
tier as the taker fee and a swap's gas as the fixed cost per order.

``ConfiguredChains`` is a configured desk's chains: each connected at start (its chain id checked),
then for every spot symbol the desk follows, each chain's venues of it. ``SimDex`` is the simulated
desk's: a local chain (anvil with the real Uniswap V3 contracts, sim/chain.py) seeded at the
simulator's prices and a funded trader wallet, then the same ``ChainVenues``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from eth_utils import to_checksum_address

from ..book.consolidated import ConsolidatedBook
from ..errors import ConfigError, UnknownSymbol, VenueUnavailable
from ..sim.chain import Anvil, LocalChain, seed_market, sqrt_price_x96
from ..sim.venues.oneinch.api import OneInchSim
from ..symbols import Kind, parse_standard
from ..trading.journal import Journal
from ..trading.oneinch_account import ChainAccount, OneInchAccount
from ..trading.pool_account import GasCost, PoolAccount
from ..venues.dex import oneinch_venue, pool_venue
from ..venues.dex.amm import PoolBook, PoolMarket
from ..venues.dex.chains import ChainConfig, OneInchConfig, local_chain_config
from ..venues.dex.evm import DECIMALS, Evm, Wallet
from ..venues.dex.oneinch import OneInchClient, key_account, limits_for
from ..venues.dex.oneinch_ladder import QuoteLadder
from ..venues.dex.tokens import ChainToken, chain_token
from ..venues.dex.uniswap_v3 import LIQUIDITY, SLOT0, PoolWatcher
from ..venues.dex.uniswap_v3_exec import EXACT_INPUT_SINGLE, GET_POOL
from ..venues.dex.v3math import PoolState
from ..venues.spec.limiter import Limiter

log = logging.getLogger(__name__)

# Uniswap V3's fee tiers in pips: 500, 3000 and 10000 enabled at deployment, 100 by governance
# (Nov 2021). https://docs.uniswap.org/concepts/protocol/fees#pool-fees-tiers
FEE_TIERS = (100, 500, 3000, 10000)
# market makers' concentrated liquidity on the symbol's pools, beyond the standard market's wide
# ranges: quote value per fee tier, so the pools compete with the exchanges near the price
CONCENTRATED = {500: 4_000_000.0, 3000: 1_500_000.0, 10000: 300_000.0}
TRADER_KEY = 1  # anvil's dev key index the desk trades with (0 deploys and provides liquidity)
TRADER_FUNDS = {"WBTC": 100.0, "USDT": 1_000_000.0, "USDC": 1_000_000.0}
SIM_ONEINCH_PLAN = "business"  # the simulated 1inch API's key: 30 requests/s, a ladder refresh about every second
ONEINCH_SWAP_GAS = 250_000  # a 1inch swap's gas until its first quote says (a two-hop route's order)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One chain as the desk reaches it: its configuration, its RPC endpoint and the wallet the desk
    trades with there (one per key, so concurrent swaps never race for a nonce)."""

    config: ChainConfig
    evm: Evm
    wallet: Wallet
    oneinch: OneInchClient | None = None  # the chain's 1inch API client, when [chains.X.oneinch] is set

    @classmethod
    async def connect(cls, config: ChainConfig, limiters: dict[str, Limiter] | None = None) -> ChainLink:
        """The chain at ``config.rpc_url``, refused (ConfigError) when that endpoint serves another
        chain than the one configured: a wallet must never sign for the wrong chain. ``limiters``:
        the 1inch request budgets by API key, shared by every chain using the key."""
        evm = Evm(config.rpc_url)
        try:
            answered = await _chain_id(config, evm)
            if answered != config.chain_id:
                raise ConfigError(f"[chains.{config.name}]: rpc_url {config.rpc_url} answers chain id {answered}, "
                                  f"but {config.name} is chain id {config.chain_id}")
        except BaseException:
            await evm.close()
            raise
        return cls(config, evm, Wallet(evm, config.wallet_key), oneinch_client(config, {} if limiters is None else limiters))

    async def close(self) -> None:
        if self.oneinch is not None:
            await self.oneinch.close()
        await self.evm.close()


def oneinch_client(config: ChainConfig, limiters: dict[str, Limiter]) -> OneInchClient | None:
    """The chain's 1inch client: 1inch counts requests per API key, whichever chain they are for,
    so every client of one key (every chain, every symbol's ladder, every swap) paces on one budget."""
    if config.oneinch is None:
        return None
    settings = config.oneinch
    limiter = limiters.setdefault(key_account(settings.api_key), Limiter(limits_for(settings.plan), margin=0.25))
    return OneInchClient(settings.base_url, settings.api_key, config.chain_id, plan=settings.plan, limiter=limiter)


async def _chain_id(config: ChainConfig, evm: Evm) -> int:
    try:
        return await evm.chain_id()
    except (TimeoutError, OSError) as exc:
        raise VenueUnavailable(f"[chains.{config.name}]: rpc_url {config.rpc_url} unreachable: {type(exc).__name__}") from None


@dataclass(frozen=True, slots=True)
class DexVenues:
    """What the router needs of a symbol's on-chain venues: their accounts, taker fee rates and
    fixed cost per order (quote currency)."""

    accounts: dict[str, ChainAccount] = field(default_factory=dict)
    fee_rates: dict[str, float] = field(default_factory=dict)
    fixed_costs: dict[str, float] = field(default_factory=dict)


class ChainVenues:
    """The DEX venues of one chain for one symbol. ``prices``: the desk's consolidated books by
    symbol (the native coin's price for gas is read there when its book is followed); ``named``:
    venue names carry the chain's name (a configured chain's; the local chain's do not)."""

    def __init__(self, link: ChainLink, symbol: str, journal: Journal, prices: Mapping[str, ConsolidatedBook], *,
                 named: bool = True, poll: float = 1.0) -> None:
        base, quote = parse_standard(symbol)[:2]
        self.link = link
        self.symbol = symbol
        self.journal = journal
        self.prices = prices
        self.poll = poll
        self.chain_name = link.config.name
        self.venue_chain = link.config.name if named else None
        tokens = link.config.tokens
        self.base: ChainToken = chain_token(tokens, base, self.chain_name)
        self.quote: ChainToken = chain_token(tokens, quote, self.chain_name)
        self.gas = GasCost(link.wallet, self.native_price)
        self.books: dict[str, PoolBook | QuoteLadder] = {}
        self.accounts: dict[str, ChainAccount] = {}
        self.fee_rates: dict[str, float] = {}
        self._native_pool: tuple[str, bool, int] | None = None  # (pool, wrapped native is token0, decimals shift)

    async def start(self) -> ChainVenues:
        """Find the symbol's venues on the chain and start following each."""
        await self._add_pools()
        await self._add_oneinch()
        return self

    def attach(self, consolidated: ConsolidatedBook) -> None:
        """Every venue as a venue of ``consolidated`` (the symbol's), at its taker fee rate."""
        for venue, book in self.books.items():
            consolidated.add(venue, book.book, self.fee_rates[venue])

    async def _add_pools(self) -> None:
        for fee, pool in await self._pools():
            await self._add_pool(fee, pool)

    async def _pools(self) -> list[tuple[int, str]]:
        """(fee tier, pool) of every pool of the pair that exists and has liquidity in range now."""
        found = await asyncio.gather(*(self._pool(fee) for fee in FEE_TIERS))
        return [(fee, pool) for fee, pool in zip(FEE_TIERS, found, strict=True) if pool is not None]

    async def _pool(self, fee: int) -> str | None:
        evm = self.link.evm
        (address,) = await evm.call(self.link.config.addresses["factory"], GET_POOL, self.base.address, self.quote.address, fee)
        if int(address, 16) == 0:
            return None
        pool = to_checksum_address(address)
        (liquidity,) = await evm.call(pool, LIQUIDITY)
        return pool if liquidity else None

    async def _add_pool(self, fee: int, pool: str) -> None:
        venue = pool_venue(fee, self.venue_chain)
        base_is_token0 = int(self.base.address, 16) < int(self.quote.address, 16)
        token0, token1 = (self.base, self.quote) if base_is_token0 else (self.quote, self.base)
        market = PoolMarket(self.symbol, base_is_token0, token0.decimals, token1.decimals, fee)
        watcher = PoolWatcher(self.link.evm, pool, tick_lens=self.link.config.addresses.get("tick_lens"))

        async def changed_state() -> PoolState | None:
            return watcher.state if await watcher.refresh() else None

        book = PoolBook(venue, market, changed_state, poll=self.poll)
        await book.start()
        self.books[venue] = book
        self.fee_rates[venue] = market.fee_rate
        self.accounts[venue] = PoolAccount(
            venue, market, pool, self.base, self.quote, self.link.config.router,
            self.link.wallet, self.journal, self.gas, router_kind=self.link.config.router_kind,
        )

    async def _add_oneinch(self) -> None:
        """The chain's 1inch venue beside its pools, when ``[chains.X.oneinch]`` is configured: its
        ladder of quotes in the book, at a taker fee of 0 (1inch's quotes are net of the pools'
        fees), its swaps through the aggregation API from the chain wallet, and the gas of its
        latest quote as the cost per order."""
        client = self.link.oneinch
        if client is None:
            return
        venue = oneinch_venue(self.venue_chain)
        ladder = QuoteLadder(venue, self.symbol, client, self.link.evm, self.base, self.quote, poll=self.poll)
        await ladder.start()
        if ladder.refused:  # 1inch trades no route between the two tokens: not a venue of this symbol
            await ladder.stop()
            log.warning("%s: 1inch quotes no %s: %s", self.chain_name, self.symbol, ladder.last_error)
            return
        self.books[venue] = ladder
        self.fee_rates[venue] = 0.0
        gas = GasCost(self.link.wallet, self.native_price, units=ladder.gas_units or ONEINCH_SWAP_GAS)
        self.accounts[venue] = OneInchAccount(venue, self.symbol, client, self.base, self.quote, self.link.wallet,
                                              self.journal, gas)

    async def native_price(self) -> float:
        """The chain's native coin in the symbol's quote currency: the live books of NATIVE-QUOTE
        when the desk follows them, else the chain's own wrapped-native/quote pool."""
        native = self.link.config.chain.native_symbol
        if native == self.quote.asset:
            return 1.0
        book = self.prices.get(f"{native}-{self.quote.asset}")
        mids = [m for b in book.live_books().values() if (m := b.mid()) is not None] if book is not None else []
        if mids:
            return sum(mids) / len(mids)
        return await self._native_pool_price()

    async def _native_pool_price(self) -> float:
        if self._native_pool is None:
            self._native_pool = await self._find_native_pool()
        pool, native_is_token0, shift = self._native_pool
        sqrt_price = (await self.link.evm.call(pool, SLOT0))[0]
        token1_per_token0 = (sqrt_price / 2**96) ** 2 * 10.0**shift
        return token1_per_token0 if native_is_token0 else 1 / token1_per_token0

    async def _find_native_pool(self) -> tuple[str, bool, int]:
        """The most liquid pool of the wrapped native coin (the token table's, else the chain's) against
        the quote token."""
        native = self.link.config.chain.native_symbol
        listed = self.link.config.tokens.get(native)
        wrapped = listed.address if listed is not None else to_checksum_address(self.link.config.chain.wrapped_native)
        evm, factory = self.link.evm, self.link.config.addresses["factory"]
        best: tuple[int, str] | None = None
        for fee in FEE_TIERS:
            (address,) = await evm.call(factory, GET_POOL, wrapped, self.quote.address, fee)
            if int(address, 16):
                pool = to_checksum_address(address)
                (liquidity,) = await evm.call(pool, LIQUIDITY)
                if liquidity and (best is None or liquidity > best[0]):
                    best = (int(liquidity), pool)
        if best is None:
            raise VenueUnavailable(f"{self.chain_name}: no {native} price in {self.quote.asset} to price gas: no "
                                   f"wrapped {native}/{self.quote.symbol} pool, and {native}-{self.quote.asset} is not followed")
        native_is_token0 = int(wrapped, 16) < int(self.quote.address, 16)
        (native_decimals,) = await evm.call(wrapped, DECIMALS)
        shift = native_decimals - self.quote.decimals if native_is_token0 else self.quote.decimals - native_decimals
        return best[1], native_is_token0, shift

    async def fixed_costs(self) -> dict[str, float]:
        """Each venue's gas for one swap now, in the quote currency (priced once per ``GasCost``: the
        pools share one; 1inch's follows the gas its latest quotes estimate)."""
        for venue, book in self.books.items():
            if isinstance(book, QuoteLadder) and book.gas_units:
                self.accounts[venue].gas.units = book.gas_units
        gas = {id(a.gas): a.gas for a in self.accounts.values()}
        priced = {key: await cost.per_swap() for key, cost in gas.items()}
        return {venue: priced[id(a.gas)] for venue, a in self.accounts.items()}

    async def venues(self) -> DexVenues:
        return DexVenues(dict(self.accounts), dict(self.fee_rates), await self.fixed_costs())

    async def stop(self) -> None:
        for book in self.books.values():
            await book.stop()


class ConfiguredChains:
    """A configured desk's ``[chains.X]``: each chain connected at ``start`` (its chain id checked),
    and for every spot symbol the desk follows, each chain's venues of it in the symbol's
    consolidated book. A chain without a token for one of the symbol's assets does not list it; one
    that cannot be reached is tried again when the symbol is next followed."""

    def __init__(self, configs: Sequence[ChainConfig], journal: Journal, books: Mapping[str, ConsolidatedBook],
                 poll: float = 1.0) -> None:
        self.configs = list(configs)
        self.journal = journal
        self.books = books
        self.poll = poll
        self.links: list[ChainLink] = []
        self.venues: dict[str, dict[str, ChainVenues]] = {}  # symbol -> chain -> its venues of the symbol
        self.unlisted: set[tuple[str, str]] = set()  # (symbol, chain) without a token for an asset
        self._adding = asyncio.Lock()
        self.oneinch_limiters: dict[str, Limiter] = {}  # one request budget per 1inch API key

    async def start(self) -> None:
        for config in self.configs:
            self.links.append(await ChainLink.connect(config, self.oneinch_limiters))

    async def follow(self, symbols: Sequence[str]) -> None:
        """Each chain's venues of the spot ``symbols`` not followed yet, in their consolidated books."""
        async with self._adding:
            for symbol in dict.fromkeys(symbols):
                if parse_standard(symbol)[2] is not Kind.SPOT:
                    continue
                done = self.venues.setdefault(symbol, {})
                for link in self.links:
                    if link.config.name not in done and (symbol, link.config.name) not in self.unlisted:
                        await self._assemble(symbol, link, done)

    async def _assemble(self, symbol: str, link: ChainLink, done: dict[str, ChainVenues]) -> None:
        try:
            venues = ChainVenues(link, symbol, self.journal, self.books, poll=self.poll)
        except UnknownSymbol:
            self.unlisted.add((symbol, link.config.name))
            return
        try:
            await venues.start()
        except VenueUnavailable as exc:
            await venues.stop()
            log.warning("%s: %s left out for now: %s", link.config.name, symbol, exc)
            return
        except BaseException:
            await venues.stop()
            raise
        venues.attach(self.books[symbol])
        done[link.config.name] = venues

    async def router_venues(self, symbol: str) -> DexVenues:
        """Every chain's venues of ``symbol`` for the router (none before ``follow``)."""
        merged = DexVenues()
        for venues in self.venues.get(symbol, {}).values():
            part = await venues.venues()
            merged.accounts.update(part.accounts)
            merged.fee_rates.update(part.fee_rates)
            merged.fixed_costs.update(part.fixed_costs)
        return merged

    async def stop(self) -> None:
        for assembled in self.venues.values():
            for venues in assembled.values():
                await venues.stop()
        self.venues.clear()
        for link in self.links:
            await link.close()
        self.links.clear()


class SimDex:
    """The simulated desk's on-chain venues of ``symbol``: ``launch`` starts and seeds the local
    chain, funds the trader and starts the simulated 1inch API over the chain; ``attach`` builds
    the chain's venues (its pools and 1inch) and joins them to the book."""

    def __init__(self, symbol: str, journal: Journal, usd_prices: Mapping[str, float], poll: float = 0.5) -> None:
        self.symbol = symbol
        self.journal = journal
        self.usd_prices = dict(usd_prices)
        self.poll = poll
        self.anvil: Anvil | None = None
        self.chain: LocalChain | None = None
        self.oneinch: OneInchSim | None = None
        self.venues: ChainVenues | None = None

    @property
    def books(self) -> dict[str, PoolBook | QuoteLadder]:
        return self.venues.books if self.venues is not None else {}

    @property
    def accounts(self) -> dict[str, ChainAccount]:
        return self.venues.accounts if self.venues is not None else {}

    @property
    def pools(self) -> dict[str, PoolAccount]:
        """The Uniswap V3 pool venues' accounts (1inch aside)."""
        return {v: a for v, a in self.accounts.items() if isinstance(a, PoolAccount)}

    @property
    def fee_rates(self) -> dict[str, float]:
        return self.venues.fee_rates if self.venues is not None else {}

    async def launch(self) -> SimDex:
        """Start the chain, seed the market at ``usd_prices`` with market makers' concentrated
        liquidity on the symbol's pools, and fund the trader (no books yet: see ``attach``)."""
        base_ccy, quote_ccy = self.symbol.split("-")[:2]
        self.anvil = await asyncio.to_thread(Anvil)
        self.chain = await LocalChain.deployed(self.anvil)
        await seed_market(self.chain, self.usd_prices)
        for symbol, amount in TRADER_FUNDS.items():
            token = self.chain.tokens[symbol]
            await self.chain.fund(token, self.chain.keys[TRADER_KEY], token.raw(amount))
        price = self.usd_prices[base_ccy] / self.usd_prices[quote_ccy]
        tokens = local_chain_config(self.chain.deployment, TRADER_KEY).tokens
        base_token, quote_token = (chain_token(tokens, asset, "local").symbol for asset in (base_ccy, quote_ccy))
        base = self.chain.tokens[base_token]
        pools = [p for (b, q, _), p in self.chain.pools.items() if (b, q) == (base_token, quote_token)]
        for n, pool in enumerate(pools):
            await self.chain.add_liquidity_around(pool, base, price, CONCENTRATED.get(pool.fee, 0.0), positions=20,
                                                  seed=100 + n, spread=3.0, widths=(1, 2, 3, 5, 10))
        self.oneinch = OneInchSim(self.chain.deployment, plan=SIM_ONEINCH_PLAN)
        await self.oneinch.start()
        return self

    async def attach(self, books: Mapping[str, ConsolidatedBook]) -> None:
        """Every pool of the symbol as a venue of its consolidated book in ``books`` (the desk's, by
        symbol), first moved to the exchanges' mid there (as arbitrage keeps pools in line)."""
        assert self.chain is not None and self.oneinch is not None
        oneinch = OneInchConfig(self.oneinch.base_url, SIM_ONEINCH_PLAN, self.oneinch.issue_key())
        config = replace(local_chain_config(self.chain.deployment, TRADER_KEY), oneinch=oneinch)
        link = ChainLink(config, self.chain.evm, self.chain.wallet_for(self.chain.keys[TRADER_KEY]), oneinch_client(config, {}))
        self.venues = await ChainVenues(link, self.symbol, self.journal, books, named=False, poll=self.poll).start()
        if not self.venues.books:
            raise UnknownSymbol(f"the local chain has no pool for {self.symbol}")
        consolidated = books[self.symbol]
        self.venues.attach(consolidated)
        exchanges = [b for v, b in consolidated.live_books().items() if v not in self.books]
        mids = [m for m in (b.mid() for b in exchanges) if m is not None]
        if mids:
            await self.align(sum(mids) / len(mids))

    async def align(self, price: float) -> None:
        """Move every pool of the symbol to ``price`` (quote per base) by swapping against it from
        the liquidity provider's wallet, as arbitrageurs keep pools in line with the exchanges."""
        assert self.chain is not None
        chain = self.chain
        provider = chain.keys[0]
        for venue, account in self.pools.items():
            pool = next(p for p in chain.pools.values() if p.address == account.pool)
            book = self.books[venue]
            state = book.state if isinstance(book, PoolBook) else None
            assert state is not None
            target = sqrt_price_x96(_raw_price(price, account))
            up = target > state.sqrt_price_x96  # token1 per token0 rises: token1 goes in
            token_in, token_out = (pool.token1, pool.token0) if up else (pool.token0, pool.token1)
            held = token_in.raw(10**9 if token_in.decimals <= 8 else 10**7)
            await chain.fund(token_in, provider, held, spenders=("swap_router",))
            deadline = await chain.evm.timestamp() + 600
            params = (token_in.address, token_out.address, pool.fee, chain.wallet.address, deadline, held, 0, target)
            await chain.wallet.send(chain.addresses["swap_router"], EXACT_INPUT_SINGLE.encode(params))
            await self.books[venue].refresh()
        for book in self.books.values():
            if isinstance(book, QuoteLadder):
                await book.refresh()  # quoted on the pools as they now are

    async def fixed_costs(self) -> dict[str, float]:
        """Each pool venue's gas for one swap now, in the quote currency."""
        return await self.venues.fixed_costs() if self.venues is not None else {}

    async def stop(self) -> None:
        if self.venues is not None:
            await self.venues.stop()
            if self.venues.link.oneinch is not None:
                await self.venues.link.oneinch.close()
        if self.oneinch is not None:
            await self.oneinch.stop()
        if self.chain is not None:
            await self.chain.close()
        if self.anvil is not None:
            self.anvil.stop()


def _raw_price(price: float, account: PoolAccount) -> float:
    """Quote per base in human units -> the pool's token1 per token0 in raw units."""
    raw = price * 10**account.quote.decimals / 10**account.base.decimals
    return raw if account.market.base_is_token0 else 1 / raw
