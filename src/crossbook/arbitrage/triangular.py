"""Triangular arbitrage within one venue: three spot books joining three assets (BTC-USDT, ETH-BTC,
ETH-USDT) traded round, start asset -> X -> Y -> start asset, in both directions.

The start asset is the one the triangle's books quote most (USDT above). Each leg's fee is paid in
what it receives, so what a leg hands on is exactly what the next one spends: buying ``q`` base
for quote at ``p`` spends ``q p`` and hands on ``q (1 - fee)``; selling ``q`` base hands on
``q p (1 - fee)``. The cycle's size grows level by level while the product of the three marginal
rates stays above 1 (it only falls going deeper), within depth and the start asset's balance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import combinations, pairwise

from ..book.consolidated import ConsolidatedBook, SizeUnit
from ..book.l2 import L2Book, Level
from ..model import Kind, Side
from ..symbols import parse_standard
from .cross_venue import Balances, book_levels
from .model import CapKind, Fees, Leg, Opportunity, SizeCap, fee_lookup

Step = tuple[str, Side]  # (symbol, side): BUY spends the quote for the base, SELL the reverse


@cache
def triangles(symbols: frozenset[str]) -> list[tuple[str, list[Step], list[Step]]]:
    """Every three spot symbols that join exactly three assets, as (start asset, one direction's
    steps, the other direction's steps)."""
    spot = [s for s in symbols if parse_standard(s)[2] is Kind.SPOT]
    found = []
    for trio in combinations(sorted(spot), 3):
        pairs = [parse_standard(s)[:2] for s in trio]
        assets = {a for pair in pairs for a in pair}
        if len(assets) != 3 or len({frozenset(p) for p in pairs}) != 3:
            continue
        start = max(sorted(assets), key=lambda a: sum(quote == a for _, quote in pairs))
        x, y = sorted(assets - {start})
        found.append((start, _cycle(trio, [start, x, y, start]), _cycle(trio, [start, y, x, start])))
    return found


def _cycle(trio: tuple[str, ...], path: list[str]) -> list[Step]:
    steps = []
    for spend, get in pairwise(path):
        symbol = next(s for s in trio if set(parse_standard(s)[:2]) == {spend, get})
        steps.append((symbol, Side.BUY if parse_standard(symbol)[1] == spend else Side.SELL))
    return steps


@dataclass(slots=True)
class _LegWalk:
    """One leg's walk of its book: the current level, what is left of it, and what it traded."""

    levels: Iterator[Level]
    side: Side
    fee: float
    level: Level | None = None
    left: float = 0.0
    base: float = 0.0
    quote: float = 0.0

    def advance(self) -> None:
        self.level = next(self.levels, None)
        self.left = self.level[1] if self.level else 0.0

    def rate(self) -> float:
        """What one unit spent here hands on, after the fee."""
        assert self.level is not None
        price = self.level[0]
        return (1 - self.fee) / price if self.side is Side.BUY else price * (1 - self.fee)

    def capacity(self) -> float:
        """How much can be spent at the current level."""
        assert self.level is not None
        return self.left * self.level[0] if self.side is Side.BUY else self.left

    def spend(self, amount: float, whole_level: bool) -> None:
        assert self.level is not None
        price = self.level[0]
        base = amount / price if self.side is Side.BUY else amount
        self.base += base
        self.quote += base * price
        self.left = 0.0 if whole_level else self.left - base
        if self.left <= 0.0:
            self.advance()

    @property
    def spent(self) -> float:
        return self.quote if self.side is Side.BUY else self.base

    @property
    def handed_on(self) -> float:
        return self.base * (1 - self.fee) if self.side is Side.BUY else self.quote * (1 - self.fee)


def walk_cycle(legs: list[_LegWalk], max_start: float = math.inf) -> bool:
    """Trade the cycle level by level while the product of the marginal rates is above 1; True
    when ``max_start`` stopped it."""
    for leg in legs:
        leg.advance()
    spent = 0.0
    while all(leg.level is not None for leg in legs):
        rates = [leg.rate() for leg in legs]
        if math.prod(rates) <= 1.0:
            return False
        scales = [math.prod(rates[:i]) for i in range(len(legs))]  # a leg's spend per unit started
        limits = [leg.capacity() / scale for leg, scale in zip(legs, scales, strict=True)]
        binding = min(range(len(legs)), key=limits.__getitem__)
        chunk = min(limits[binding], max_start - spent)
        if chunk <= 0.0:
            return True
        for i, (leg, scale) in enumerate(zip(legs, scales, strict=True)):
            leg.spend(chunk * scale, whole_level=i == binding and chunk == limits[binding])
        spent += chunk
        if chunk < limits[binding]:  # the balance or the notional cap ran out
            return True
    return False


def triangular(
    venue: str,
    books: Mapping[str, tuple[L2Book, SizeUnit, float]],
    *,
    balances: Balances | None = None,
    cap: SizeCap | None = None,
) -> list[Opportunity]:
    """Every profitable round of three on one venue. ``books``: symbol -> (live book, its size
    unit, taker fee rate); the start asset spent is capped by ``balances`` or ``cap``."""
    cap = cap if cap is not None else SizeCap(balances)
    found = []
    for start, *directions in triangles(frozenset(books)):
        for steps in directions:
            legs = [_LegWalk(_taken_levels(books[s], side), side, books[s][2]) for s, side in steps]
            most, which = cap.spend(venue, start)
            capped = walk_cycle(legs, most)
            opp = _opportunity(venue, start, steps, legs, which if capped else None)
            if opp is not None:
                found.append(opp)
    return sorted(found, key=lambda o: -o.net_bps)


def _taken_levels(book: tuple[L2Book, SizeUnit, float], side: Side) -> Iterator[Level]:
    """The levels an order of ``side`` takes: a buy the asks, a sell the bids."""
    return book_levels(book[0], book[1], Side.SELL if side is Side.BUY else Side.BUY)


def _opportunity(venue: str, start: str, steps: list[Step], legs: list[_LegWalk],
                 capped_by: CapKind | None) -> Opportunity | None:
    put_in, got_back = legs[0].spent, legs[-1].handed_on
    if put_in <= 0.0 or got_back <= put_in:
        return None
    out = tuple(Leg(venue, s, side, leg.quote / leg.base, leg.base, leg.fee) for (s, side), leg in zip(steps, legs, strict=True))
    net = got_back - put_in
    return Opportunity("triangular", out, net, net / put_in * 1e4, start, capped_by=capped_by)


def venue_books(
    books: Mapping[str, ConsolidatedBook], now: float | None = None, fees: Fees | None = None
) -> dict[str, dict[str, tuple[L2Book, SizeUnit, float]]]:
    """venue -> symbol -> (live book, size unit, taker fee) across consolidated books."""
    now = time.time() if now is None else now
    out: dict[str, dict[str, tuple[L2Book, SizeUnit, float]]] = {}
    for symbol, consolidated in books.items():
        fee_of = fee_lookup(fees, consolidated.taker_fees)
        for venue, book in consolidated.live_books(now).items():
            out.setdefault(venue, {})[symbol] = (book, consolidated.units[venue], fee_of(venue, symbol))
    return out


def triangular_all(
    books: Mapping[str, ConsolidatedBook], now: float | None = None, *, fees: Fees | None = None,
    balances: Balances | None = None, cap: SizeCap | None = None, skip: Collection[str] = (),
) -> list[Opportunity]:
    """``triangular`` on every venue of ``books`` but those in ``skip``."""
    return [o for venue, mine in venue_books(books, now, fees).items() if venue not in skip
            for o in triangular(venue, mine, balances=balances, cap=cap)]
