"""AMM pools as order books: a Uniswap V3 pool's liquidity as price levels at its initialized-tick
boundaries, kept in an ``L2Book`` so ``ConsolidatedBook``, the quote, the router and the arbitrage
scanner read a pool exactly as they read an exchange.

The ladder's prices exclude the pool's fee; the fee tier is the venue's taker fee, and the gas one
swap costs is the venue's fixed cost per order (``GasCost``), both charged by the planner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ...book.l2 import L2Book
from ...model import BookState, Side
from .polled import PolledBook
from .v3math import PoolState, ladder

LADDER_LEVELS = 200


@dataclass(frozen=True, slots=True)
class PoolMarket:
    """How a pool maps onto a standard symbol: which token is the base, and their decimals."""

    symbol: str
    base_is_token0: bool
    decimals0: int
    decimals1: int
    fee: int  # pips: 500 = 0.05 %

    @property
    def fee_rate(self) -> float:
        return self.fee / 1e6


def ladder_levels(
    state: PoolState, market: PoolMarket, levels: int = LADDER_LEVELS
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(bids, asks) of the pool now, in quote per base and base units."""
    args = (levels, market.decimals0, market.decimals1, market.base_is_token0)
    return ladder(state, Side.BUY, *args), ladder(state, Side.SELL, *args)


class PoolBook(PolledBook):
    """An L2Book that mirrors one pool: rebuilt whenever the pool's state changes (a Swap, Mint or
    Burn), kept LIVE while the chain is being read, STALE when the reads stop."""

    def __init__(self, venue: str, market: PoolMarket, read_state: Callable[[], Awaitable[PoolState | None]],
                 poll: float = 1.0, stale_after: float = 30.0, levels: int = LADDER_LEVELS) -> None:
        self.market = market
        self.book = L2Book(venue, market.symbol, stale_after=stale_after)
        self.read_state = read_state  # returns a new PoolState when the pool changed, None when it did not
        self.poll = poll
        self.levels = levels
        self.state: PoolState | None = None
        self.errors = 0
        self._task: asyncio.Task[None] | None = None

    def apply(self, state: PoolState) -> None:
        bids, asks = ladder_levels(state, self.market, self.levels)
        self.state = state
        self.book.snapshot(bids, asks)
        self.book.stats.updates += 1
        self.book.state = BookState.LIVE
        self.book.updated_at = time.time()

    async def refresh(self) -> bool:
        """Read the pool once; True when its book changed."""
        state = await self.read_state()
        if state is None:
            self.book.updated_at = time.time()  # the chain was read: what the book shows is current
            return False
        self.apply(state)
        return True

