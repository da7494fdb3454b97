"""Hand-made live books for the arbitrage tests."""

from __future__ import annotations

from crossbook.book.consolidated import ConsolidatedBook
from crossbook.book.l2 import L2Book
from crossbook.model import BookState

NOW = 1_700_000_000.0
Levels = list[tuple[float, float]]


def l2(venue: str, symbol: str, bids: Levels, asks: Levels, at: float = NOW) -> L2Book:
    book = L2Book(venue, symbol, stale_after=5.0)
    book.snapshot(bids, asks)
    book.state = BookState.LIVE
    book.updated_at = at
    return book


def consolidated(symbol: str, venues: dict[str, tuple[Levels, Levels, float]]) -> ConsolidatedBook:
    """venue -> (bids, asks, taker fee)."""
    book = ConsolidatedBook(symbol)
    for venue, (bids, asks, fee) in venues.items():
        book.add(venue, l2(venue, symbol, bids, asks), fee)
    return book
