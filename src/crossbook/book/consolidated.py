"""ConsolidatedBook: one standard symbol across venues, read on demand.

Only books whose status is LIVE and whose own bid is below their own ask are read as prices; every
other venue is reported with its status and no price, so a syncing, resyncing, stale or crossed
book can never win a quote. Two venues' books crossing each other is another matter: that is an
opportunity, reported by ``cross``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from ..model import BookState, Side
from .l2 import L2Book


class QuoteStatus(str, Enum):
    """What a venue's quote for an amount is: ``live`` fills the whole amount; ``partial`` is a
    live book shallower than the amount (its filled amount and VWAP are for that part only, and it
    has no all-in price); ``crossed``: the venue's own book is crossed, served to no one until it
    uncrosses; otherwise the book's state."""

    LIVE = "live"
    PARTIAL = "partial"
    CROSSED = "crossed"
    SYNCING = "syncing"
    RESYNCING = "resyncing"
    STALE = "stale"
    DOWN = "down"

    @classmethod
    def of(cls, state: BookState) -> QuoteStatus:
        return cls(state.value)


@dataclass(frozen=True, slots=True)
class VenueQuote:
    venue: str
    status: QuoteStatus
    filled: float
    vwap: float | None  # of the filled part: the whole amount only when the status is live
    fee_rate: float
    all_in_price: float | None

    @property
    def complete(self) -> bool:
        return self.all_in_price is not None


@dataclass(frozen=True, slots=True)
class BestLevel:
    venue: str
    price: float
    size: float


@dataclass(frozen=True, slots=True)
class Cross:
    """The consolidated book crossed across venues: ``bid`` (on one venue) at or above ``ask`` (on
    another), by ``bps`` of the ask."""

    bid: BestLevel
    ask: BestLevel

    @property
    def bps(self) -> float:
        return (self.bid.price - self.ask.price) / self.ask.price * 1e4


@dataclass(frozen=True, slots=True)
class SizeUnit:
    """What one unit of a venue's book size is worth: ``contract_size`` base units, or quote
    units when ``inverse``. Every price and amount a ConsolidatedBook reports is in base units."""

    contract_size: float = 1.0
    inverse: bool = False

    def to_base(self, size: float, price: float) -> float:
        base = size * self.contract_size
        return base / price if self.inverse else base


BASE_UNITS = SizeUnit()


class ConsolidatedBook:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.books: dict[str, L2Book] = {}
        self.taker_fees: dict[str, float] = {}
        self.units: dict[str, SizeUnit] = {}

    def add(self, venue: str, book: L2Book, taker_fee: float, unit: SizeUnit = BASE_UNITS) -> None:
        self.books[venue] = book
        self.taker_fees[venue] = taker_fee
        self.units[venue] = unit

    def live_books(self, now: float | None = None) -> dict[str, L2Book]:
        """The books that may be read as prices: live, and not crossed in themselves."""
        now = time.time() if now is None else now
        return {v: b for v, b in self.books.items() if b.status(now) is BookState.LIVE and not b.crossed()}

    def crossed_venues(self, now: float | None = None) -> list[str]:
        """Live venues whose own best bid is at or above their own best ask (left out until they
        uncross)."""
        now = time.time() if now is None else now
        return [v for v, b in self.books.items() if b.status(now) is BookState.LIVE and b.crossed()]

    def venue_status(self, venue: str, now: float | None = None) -> QuoteStatus:
        """A venue's book as a reader sees it: its state, or ``crossed`` when it is live but crossed."""
        book = self.books[venue]
        state = book.status(time.time() if now is None else now)
        if state is BookState.LIVE and book.crossed():
            return QuoteStatus.CROSSED
        return QuoteStatus.of(state)

    def cross(self, now: float | None = None) -> Cross | None:
        """The best bid on one venue at or above the best ask on another (never within one venue:
        a crossed venue is not read), else None."""
        bid, ask = self.best_bid(now), self.best_ask(now)
        if bid is None or ask is None or bid.price < ask.price:
            return None
        return Cross(bid, ask)

    def best_bid(self, now: float | None = None) -> BestLevel | None:
        best: BestLevel | None = None
        for venue, book in self.live_books(now).items():
            top = book.best_bid()
            if top and (best is None or top[0] > best.price):
                best = BestLevel(venue, top[0], self.units[venue].to_base(top[1], top[0]))
        return best

    def best_ask(self, now: float | None = None) -> BestLevel | None:
        best: BestLevel | None = None
        for venue, book in self.live_books(now).items():
            top = book.best_ask()
            if top and (best is None or top[0] < best.price):
                best = BestLevel(venue, top[0], self.units[venue].to_base(top[1], top[0]))
        return best

    def ladder(self, side: Side, n: int, now: float | None = None) -> list[BestLevel]:
        """The best ``n`` levels of one side (BUY = bids) across every live venue, best first,
        sizes in base units."""
        levels: list[BestLevel] = []
        for venue, book in self.live_books(now).items():
            unit = self.units[venue]
            top = book.depth(n)[0 if side is Side.BUY else 1]
            levels.extend(BestLevel(venue, p, unit.to_base(q, p)) for p, q in top)
        levels.sort(key=lambda lv: -lv.price if side is Side.BUY else lv.price)
        return levels[:n]

    def quote_venue(
        self, venue: str, side: Side, amount: float, now: float | None = None, fee_rate: float | None = None
    ) -> VenueQuote:
        """VWAP through the venue's depth plus its taker fee (``fee_rate``, e.g. the account's tier,
        else the venue's default). ``all_in_price`` is None unless the book is live and deep enough
        to fill the whole amount; a live book that is not is ``partial``, with what it can fill."""
        book = self.books[venue]
        fee = self.taker_fees[venue] if fee_rate is None else fee_rate
        status = self.venue_status(venue, now)
        if status is not QuoteStatus.LIVE:
            return VenueQuote(venue, status, 0.0, None, fee, None)
        unit = self.units[venue]
        sweep = book.sweep(side, amount, unit.contract_size, unit.inverse)
        vwap = sweep.vwap
        if vwap is None or sweep.filled < amount * (1 - 1e-12):
            return VenueQuote(venue, QuoteStatus.PARTIAL, sweep.filled, vwap, fee, None)
        all_in = vwap * (1 + fee) if side is Side.BUY else vwap * (1 - fee)
        return VenueQuote(venue, status, sweep.filled, vwap, fee, all_in)

    def quote(
        self, side: Side, amount: float, now: float | None = None, fee_rates: Mapping[str, float] | None = None
    ) -> dict[str, VenueQuote]:
        """Every venue's quote; ``fee_rates`` overrides the taker fee of the venues it names."""
        now = time.time() if now is None else now
        fees = fee_rates or {}
        return {venue: self.quote_venue(venue, side, amount, now, fees.get(venue)) for venue in self.books}

    def max_amount(self, venue: str, side: Side, funds: float, fee_rate: float | None = None) -> float:
        """Base units an order can take on ``venue`` with ``funds``: quote units for a buy, paying
        each level's price plus the taker fee, as deep as the book goes; base units for a sell."""
        if side is Side.SELL:
            return max(funds, 0.0)
        fee = self.taker_fees[venue] if fee_rate is None else fee_rate
        unit = self.units[venue]
        left = funds
        bought = 0.0
        for price, size in self.books[venue].depth(self.books[venue].levels(Side.SELL))[1]:
            if left <= 0.0:
                break
            base = unit.to_base(size, price)
            take = min(base, left / (price * (1 + fee)))
            bought += take
            left -= take * price * (1 + fee)
        return bought

    @staticmethod
    def best(quotes: dict[str, VenueQuote], side: Side) -> VenueQuote | None:
        """Lowest all-in price for a buy, highest for a sell, among venues that fill completely."""
        complete = [q for q in quotes.values() if q.all_in_price is not None]
        if not complete:
            return None
        pick = min if side is Side.BUY else max
        return pick(complete, key=lambda q: q.all_in_price)  # type: ignore[arg-type,return-value]
