"""The simulated desk's on-chain venues: a local chain (anvil with the real Uniswap V3 contracts,
sim/chain.py) seeded at the simulator's prices, a funded trader wallet, and each of the symbol's
pools as a venue: its ladder in the consolidated book (``PoolBook``) and a ``PoolAccount`` the
router trades through, with the pool's fee tier as the taker fee and a swap's gas as the fixed cost
per order."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ..book.consolidated import ConsolidatedBook
from ..errors import UnknownSymbol
from ..sim.chain import UNDERLYING, Anvil, LocalChain, Pool, seed_market, sqrt_price_x96
from ..trading.journal import Journal
from ..trading.pool_account import GasCost, PoolAccount, PoolToken
from ..venues.dex import pool_venue
from ..venues.dex.amm import PoolBook, PoolMarket
from ..venues.dex.evm import Wallet
from ..venues.dex.uniswap_v3 import SLOT0, PoolWatcher
from ..venues.dex.uniswap_v3_exec import EXACT_INPUT_SINGLE
from ..venues.dex.v3math import PoolState

# market makers' concentrated liquidity on the symbol's pools, beyond the standard market's wide
# ranges: quote value per fee tier, so the pools compete with the exchanges near the price
CONCENTRATED = {500: 4_000_000.0, 3000: 1_500_000.0, 10000: 300_000.0}
TRADER_KEY = 1  # anvil's dev key index the desk trades with (0 deploys and provides liquidity)
TRADER_FUNDS = {"WBTC": 100.0, "USDT": 1_000_000.0, "USDC": 1_000_000.0}
WRAPPED = {v: k for k, v in UNDERLYING.items()}  # BTC -> WBTC


class SimDex:
    def __init__(self, symbol: str, journal: Journal, usd_prices: Mapping[str, float], poll: float = 0.5) -> None:
        base, quote = symbol.split("-")[:2]
        self.symbol = symbol
        self.base_token, self.quote_token = WRAPPED.get(base, base), WRAPPED.get(quote, quote)
        self.journal = journal
        self.usd_prices = dict(usd_prices)
        self.poll = poll
        self.anvil: Anvil | None = None
        self.chain: LocalChain | None = None
        self.books: dict[str, PoolBook] = {}
        self.accounts: dict[str, PoolAccount] = {}
        self.fee_rates: dict[str, float] = {}

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
        base = self.chain.tokens[self.base_token]
        for n, pool in enumerate(self._pools()):
            await self.chain.add_liquidity_around(pool, base, price, CONCENTRATED.get(pool.fee, 0.0), positions=20,
                                                  seed=100 + n, spread=3.0, widths=(1, 2, 3, 5, 10))
        return self

    async def attach(self, consolidated: ConsolidatedBook) -> None:
        """Every pool of the symbol as a venue of ``consolidated``, first moved to the exchanges' mid
        there (as arbitrage keeps pools in line)."""
        assert self.chain is not None
        trader = self.chain.wallet_for(self.chain.keys[TRADER_KEY])
        gas = GasCost(trader, self._native_price)
        for pool in self._pools():
            await self._add_pool(pool, trader, gas, consolidated)
        exchanges = [b for v, b in consolidated.live_books().items() if v not in self.books]
        mids = [m for m in (b.mid() for b in exchanges) if m is not None]
        if mids:
            await self.align(sum(mids) / len(mids))

    def _pools(self) -> list[Pool]:
        assert self.chain is not None
        pools = [p for (b, q, _), p in self.chain.pools.items() if (b, q) == (self.base_token, self.quote_token)]
        if not pools:
            raise UnknownSymbol(f"the local chain has no pool for {self.symbol}")
        return pools

    async def _add_pool(self, pool: Pool, trader: Wallet, gas: GasCost, consolidated: ConsolidatedBook) -> None:
        assert self.chain is not None
        venue = pool_venue(pool.fee)
        base_is_token0 = pool.token0.symbol == self.base_token
        market = PoolMarket(self.symbol, base_is_token0, pool.token0.decimals, pool.token1.decimals, pool.fee)
        watcher = PoolWatcher(self.chain.evm, pool.address, tick_lens=self.chain.addresses["tick_lens"])

        async def changed_state() -> PoolState | None:
            return watcher.state if await watcher.refresh() else None

        book = PoolBook(venue, market, changed_state, poll=self.poll)
        await book.start()
        self.books[venue] = book
        consolidated.add(venue, book.book, market.fee_rate)
        self.fee_rates[venue] = market.fee_rate
        base, quote = (pool.token0, pool.token1) if base_is_token0 else (pool.token1, pool.token0)
        self.accounts[venue] = PoolAccount(
            venue, market, pool.address,
            PoolToken(base.address, UNDERLYING.get(base.symbol, base.symbol), base.decimals),
            PoolToken(quote.address, UNDERLYING.get(quote.symbol, quote.symbol), quote.decimals),
            self.chain.addresses["swap_router"], trader, self.journal, gas,
        )

    async def align(self, price: float) -> None:
        """Move every pool of the symbol to ``price`` (quote per base) by swapping against it from
        the liquidity provider's wallet, as arbitrageurs keep pools in line with the exchanges."""
        assert self.chain is not None
        chain = self.chain
        provider = chain.keys[0]
        for venue, account in self.accounts.items():
            pool = next(p for p in chain.pools.values() if p.address == account.pool)
            state = self.books[venue].state
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

    async def _native_price(self) -> float:
        """ETH in the symbol's quote currency, from the chain's own WETH pool."""
        assert self.chain is not None
        pool = self.chain.pools[("WETH", "USDT", 3000)]
        sqrt_price = (await self.chain.evm.call(pool.address, SLOT0))[0]
        token1_per_token0 = (sqrt_price / 2**96) ** 2 * 10 ** (pool.token0.decimals - pool.token1.decimals)
        return token1_per_token0 if pool.token0.symbol == "WETH" else 1 / token1_per_token0

    async def fixed_costs(self) -> dict[str, float]:
        """Each pool venue's gas for one swap now, in the quote currency."""
        if not self.accounts:
            return {}
        cost = await next(iter(self.accounts.values())).gas.per_swap()  # one wallet, one chain: one price
        return dict.fromkeys(self.accounts, cost)

    async def stop(self) -> None:
        for book in self.books.values():
            await book.stop()
        if self.chain is not None:
            await self.chain.close()
        if self.anvil is not None:
            self.anvil.stop()


def _raw_price(price: float, account: PoolAccount) -> float:
    """Quote per base in human units -> the pool's token1 per token0 in raw units."""
    raw = price * 10**account.quote.decimals / 10**account.base.decimals
    return raw if account.market.base_is_token0 else 1 / raw
