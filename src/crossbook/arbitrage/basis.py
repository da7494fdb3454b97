"""Spot-perpetual basis: the same base bought on a spot book and sold on a perpetual's (or the
reverse), on one venue or across two, as takers, with the perpetual's funding rate shown.

The legs are sized and priced like a cross-venue pair (``walk_pair``, amounts in base units whatever
the contract), so ``net_profit`` is the price gap captured now after both taker fees, in the quote.
Carrying the position earns or pays funding on top: ``funding_rate`` is the perpetual's rate per
funding interval (longs pay shorts when positive), reported beside the profit, not in it. A
``LiveFunding`` keeps that rate current from the venues' funding streams.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from ..book.consolidated import ConsolidatedBook
from ..errors import UnknownSymbol
from ..model import FundingRate as StreamedFunding
from ..model import Kind, Side
from ..symbols import parse_standard, standard_symbol
from .cross_venue import book_levels, pair_opportunity, walk_pair
from .model import Fees, Opportunity, fee_lookup

# the funding rate of (venue, perpetual symbol), None when unknown; a dict keyed the same way works
FundingRate = Callable[[str, str], float | None]
Funding = Mapping[tuple[str, str], float] | FundingRate


class LiveFunding:
    """(venue, perpetual) -> the funding rate its venue's stream delivered last (``receive`` is the
    streams' sink), else the one read once over REST (``read``: for a venue whose feed publishes no
    funding, or had not yet when the scan began). ``venue_of``: the venue of a stream's feed id
    (binanceusdm -> binance). ``close`` stops following the streams."""

    def __init__(self, venue_of: Callable[[str], str] = str, close: Callable[[], None] = lambda: None) -> None:
        self.streamed: dict[tuple[str, str], float] = {}
        self.read: dict[tuple[str, str], float] = {}
        self.venue_of = venue_of
        self.close = close

    def receive(self, event: object) -> None:
        if isinstance(event, StreamedFunding):
            self.streamed[(self.venue_of(event.venue), event.symbol)] = event.rate

    def __call__(self, venue: str, symbol: str) -> float | None:
        key = (venue, symbol)
        return self.streamed[key] if key in self.streamed else self.read.get(key)


def funding_lookup(funding: Funding | None) -> FundingRate:
    if callable(funding):
        return funding
    table = dict(funding or {})
    return lambda venue, symbol: table.get((venue, symbol))


def spot_of(perp: str) -> str:
    """The spot symbol of a perpetual's base and quote (BTC-USDT-PERP -> BTC-USDT)."""
    base, quote, kind, _ = parse_standard(perp)
    if kind is not Kind.PERP:
        raise UnknownSymbol(f"{perp} is not a perpetual")
    return standard_symbol(base, quote)


def basis(
    spot: ConsolidatedBook,
    perp: ConsolidatedBook,
    now: float | None = None,
    *,
    fees: Fees | None = None,
    funding: Funding | None = None,
    max_notional: float = math.inf,
    fixed_costs: Mapping[str, float] | None = None,
) -> list[Opportunity]:
    """Every profitable (spot venue, perpetual venue) pair in either direction, the most profitable
    first: buy spot and sell the perpetual when the perpetual trades rich, the reverse when cheap;
    at most ``max_notional`` bought (a basis trade's balances sit in two products: not capped by
    them); ``fixed_costs``: a spot venue's cost per order (a DEX venue's gas), in the quote."""
    now = time.time() if now is None else now
    quote = parse_standard(spot.symbol)[1]
    spot_fee, perp_fee = fee_lookup(fees, spot.taker_fees), fee_lookup(fees, perp.taker_fees)
    rate_of = funding_lookup(funding)
    found = []
    for spot_venue, spot_book in spot.live_books(now).items():
        for perp_venue, perp_book in perp.live_books(now).items():
            s_fee, p_fee = spot_fee(spot_venue, spot.symbol), perp_fee(perp_venue, perp.symbol)
            s_unit, p_unit = spot.units[spot_venue], perp.units[perp_venue]
            rich = walk_pair(book_levels(spot_book, s_unit, Side.SELL), book_levels(perp_book, p_unit, Side.BUY), s_fee, p_fee,
                             max_quote=max_notional)
            cheap = walk_pair(book_levels(perp_book, p_unit, Side.SELL), book_levels(spot_book, s_unit, Side.BUY), p_fee, s_fee,
                              max_quote=max_notional)
            spot_leg, perp_leg = (spot_venue, spot.symbol), (perp_venue, perp.symbol)
            gas = (fixed_costs or {}).get(spot_venue, 0.0)
            for opp in (
                pair_opportunity("basis", spot_leg, perp_leg, rich, (s_fee, p_fee), quote, "max_notional", (gas, 0.0)),
                pair_opportunity("basis", perp_leg, spot_leg, cheap, (p_fee, s_fee), quote, "max_notional", (0.0, gas)),
            ):
                if opp is not None:
                    found.append(replace(opp, funding_rate=rate_of(perp_venue, perp.symbol)))
    return sorted(found, key=lambda o: -o.net_profit)


def basis_all(
    books: Mapping[str, ConsolidatedBook], now: float | None = None, *, fees: Fees | None = None, funding: Funding | None = None,
    max_notional: float = math.inf, fixed_costs: Mapping[str, float] | None = None,
) -> list[Opportunity]:
    """``basis`` for every perpetual in ``books`` whose spot symbol is there too."""
    found = []
    for symbol, perp in books.items():
        if parse_standard(symbol)[2] is Kind.PERP and spot_of(symbol) in books:
            found.extend(basis(books[spot_of(symbol)], perp, now, fees=fees, funding=funding, max_notional=max_notional,
                               fixed_costs=fixed_costs))
    return found
