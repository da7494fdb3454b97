"""1inch as an order book: a ladder of the aggregation API's quotes at increasing sizes, kept in an
``L2Book`` so the consolidated book, the quote and the router read 1inch as they read a pool.

Asks come from quotes of the quote token into the base token (sizes in quote units), bids from
quotes of the base token into the quote token (the same notional sizes, in base at the asks'
first price). Each level is the step between two consecutive sizes: its size the base amount
between them, its price the marginal price of that step, so the VWAP of the first k levels is the
quote for the k-th size. 1inch's ``dstAmount`` is what the swap delivers after its pools' fees,
so the ladder's prices are all-in except gas; the gas of a swap (``gas_units``, from the quotes'
``gas``) is the venue's fixed cost per order.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from web3.exceptions import Web3Exception

from ...book.l2 import L2Book
from ...errors import ConfigError, CrossbookError, InvalidOrder
from ...model import BookState
from ..spec.limits import Window
from .evm import Evm
from .oneinch import OneInchClient, Quote
from .polled import PolledBook
from .tokens import ChainToken

# notional sizes in quote units (USDT for BTC-USDT): a geometric ladder, about x3 a step
DEFAULT_SIZES: tuple[float, ...] = (1_000.0, 3_000.0, 9_000.0, 27_000.0, 80_000.0, 230_000.0, 680_000.0, 2_000_000.0)


@dataclass(frozen=True, slots=True)
class Step:
    """One level of the ladder: ``base`` bought or sold for ``quote`` between two sizes."""

    base: float
    quote: float

    @property
    def price(self) -> float:
        return self.quote / self.base


def marginal_levels(points: Sequence[tuple[float, float]], ask: bool) -> list[tuple[float, float]]:
    """(price, size) levels from cumulative (base, quote) points at increasing sizes. A step
    priced better than the one before it (1inch's best route changed between two sizes) is
    merged into that one, so asks rise and bids fall; the VWAP at the sizes kept stays exact."""
    steps: list[Step] = []
    last_base = last_quote = 0.0
    for base, quote in points:
        if base <= last_base or quote <= last_quote:
            break  # a larger size that gives no more: the ladder ends here
        step = Step(base - last_base, quote - last_quote)
        last_base, last_quote = base, quote
        while steps and (step.price <= steps[-1].price if ask else step.price >= steps[-1].price):
            previous = steps.pop()
            step = Step(previous.base + step.base, previous.quote + step.quote)
        steps.append(step)
    return [(step.price, step.base) for step in steps]


def plan_rate(client: OneInchClient) -> float:
    """Requests per second the client's plan grants (its limiter's tightest per-key window)."""
    rates = [pool.limit / pool.seconds for pool in client.limiter.table.pools if isinstance(pool, Window)]
    if not rates:
        raise ConfigError("the 1inch client's limiter has no request window to pace the ladder by")
    return min(rates)


class QuoteLadder(PolledBook):
    """An L2Book of one symbol from 1inch quotes.

    It refreshes when the chain's block number changes (read every ``poll`` seconds) and at least
    every ``refresh`` seconds, but never more often than the plan allows: one refresh asks
    ``2 * len(sizes)`` quotes, so refreshes are at least ``2 * len(sizes) / (plan rps * share)``
    seconds apart (``min_interval``), where the plan's requests per second are the client's
    limiter's (``OneInchClient.limiter``, built from ``PLAN_RPS``) and ``share`` is the part of
    them the ladder may use (the rest is left for the swaps). A refresh that fails (1inch
    unreachable, rate limited, the key refused) leaves the book as it was, to read STALE after
    ``stale_after`` seconds (by default three refresh intervals); a size 1inch cannot quote (no
    route takes it) ends that side of the ladder there.
    """

    def __init__(self, venue: str, symbol: str, client: OneInchClient, evm: Evm, base: ChainToken, quote: ChainToken, *,
                 sizes: Sequence[float] = DEFAULT_SIZES, refresh: float = 30.0, poll: float = 1.0,
                 stale_after: float | None = None, share: float = 0.5) -> None:
        if not sizes or any(s <= 0 for s in sizes) or list(sizes) != sorted(set(sizes)):
            raise ConfigError(f"1inch ladder sizes must be positive and increasing, got {list(sizes)}")
        if not 0 < share <= 1:
            raise ConfigError(f"the 1inch ladder's share of the plan must be in (0, 1], got {share}")
        self.client = client
        self.evm = evm
        self.base = base
        self.quote = quote
        self.sizes = tuple(sizes)
        self.refresh_every = refresh
        self.poll = poll
        self.min_interval = 2 * len(self.sizes) / (plan_rate(client) * share)
        stale = stale_after if stale_after is not None else 3 * max(refresh, self.min_interval)
        self.book = L2Book(venue, symbol, stale_after=stale)
        self.block: int | None = None  # the chain's block when the book was last quoted
        self.refreshes = 0
        self.errors = 0
        self.last_error = ""
        self.refused = False  # the last refresh was refused (a 4xx: no route, a token 1inch does not know)
        self._gas: int | None = None
        self._reference: float | None = None  # quote per base, to size the bids
        self._last = -float("inf")  # time.monotonic() of the last refresh's start
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def gas_units(self) -> int | None:
        """The gas 1inch estimates for one swap: the median over the latest refresh's quotes
        (None before any quote)."""
        return self._gas

    async def refresh(self) -> bool:
        """Quote the ladder once (waiting out ``min_interval`` since the last refresh first); True
        when the book was rebuilt, False when 1inch or the chain could not be read."""
        async with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last = time.monotonic()
            try:
                block = await self.evm.block_number()
                asks, ask_quotes = await self._side(True, [self._raw(s, self.quote) for s in self.sizes])
                reference = asks[0][0] if asks else self._reference
                if reference is None:
                    raise InvalidOrder(f"1inch quotes no {self.base.symbol} for {self.quote.symbol} at any size")
                bid_sizes = [self._raw(s / reference, self.base) for s in self.sizes]
                bids, bid_quotes = await self._side(False, bid_sizes)
            except (CrossbookError, Web3Exception, OSError, TimeoutError) as exc:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self.refused = isinstance(exc, InvalidOrder)
                return False
            self.refused = False
            self._apply(bids, asks, [q.gas for q in ask_quotes + bid_quotes if q.gas], block, reference)
            return True

    async def _side(self, ask: bool, amounts: list[int]) -> tuple[list[tuple[float, float]], list[Quote]]:
        """One side's levels and the quotes they came from, up to the first size 1inch refuses:
        asks pay the quote token for the base token, bids the other way round."""
        src, dst = (self.quote, self.base) if ask else (self.base, self.quote)
        answers = await asyncio.gather(*(self.client.quote(src.address, dst.address, a, includeGas=True) for a in amounts),
                                       return_exceptions=True)
        quotes: list[Quote] = []
        for answer in answers:
            if isinstance(answer, InvalidOrder):
                break  # no route takes this size: the side ends here
            if isinstance(answer, BaseException):
                raise answer
            quotes.append(answer)
        if ask:  # (base, quote) points: the base bought for each quote amount
            points = [(q.dst_amount / 10**dst.decimals, q.amount / 10**src.decimals) for q in quotes]
        else:
            points = [(q.amount / 10**src.decimals, q.dst_amount / 10**dst.decimals) for q in quotes]
        return marginal_levels(points, ask), quotes

    @staticmethod
    def _raw(amount: float, token: ChainToken) -> int:
        return max(1, round(amount * 10**token.decimals))

    def _apply(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]], gas: list[int], block: int,
               reference: float) -> None:
        self.book.snapshot(bids, asks)
        self.book.stats.updates += 1
        self.book.state = BookState.LIVE
        self.book.updated_at = time.time()
        self.block = block
        self.refreshes += 1
        self._reference = reference
        if gas:
            self._gas = round(statistics.median(gas))

    async def poll_once(self) -> None:
        """Quote again on a new block, and at least every ``refresh_every`` seconds."""
        block = await self.evm.block_number()
        if block != self.block or time.monotonic() - self._last >= self.refresh_every:
            await self.refresh()
