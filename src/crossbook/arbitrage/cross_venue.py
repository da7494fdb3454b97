"""Cross-venue arbitrage: buy a symbol where it is cheap, sell it where it is dear, at the same
time, both as takers.

Per ordered pair of live venues the two ladders are walked together, best levels first, while the
marginal unit still earns: a unit bought at ask ``a`` (fee ``fa``) and sold at bid ``b`` (fee
``fb``) earns ``b (1 - fb) - a (1 + fa)``, which only falls as the walk goes deeper, so the size
is where it turns non-positive, or where depth or a balance runs out. ``net_profit`` is exactly
sum(sell price x amount x (1 - fee)) - sum(buy price x amount x (1 + fee)) over the two legs, less
each leg's fixed cost per order (a DEX venue's swap gas, in the quote currency); a transfer cost
(withdrawing the bought asset to the selling venue) is reported beside it.

A fixed cost does not change the size: it is the same whatever the amount, so the size where the
marginal unit stops earning (the most the walk can earn before it) is also the most it earns
after it. The pair only opens when that most pays for both legs' fixed costs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from ..book.consolidated import ConsolidatedBook, SizeUnit
from ..book.l2 import L2Book, Level
from ..errors import ConfigError
from ..model import Side
from ..symbols import parse_standard
from .model import Balances, CapKind, Fees, Leg, Opportunity, OpportunityKind, SizeCap, TransferCost, fee_lookup, pair_profit


@dataclass(frozen=True, slots=True)
class Transfer:
    """What moving the bought asset to the selling venue costs: the withdrawal fee in that asset
    and the time it takes, one figure for every venue or per venue withdrawn from."""

    withdrawal_fee: float | Mapping[str, float] = 0.0
    seconds: float | Mapping[str, float] = 0.0

    def cost(self, venue: str, asset: str, price: float) -> TransferCost:
        fee = _per_venue(self.withdrawal_fee, venue, "withdrawal_fee")
        return TransferCost(asset, fee, fee * price, _per_venue(self.seconds, venue, "seconds"))


def _per_venue(value: float | Mapping[str, float], venue: str, what: str) -> float:
    if not isinstance(value, Mapping):
        return value
    if venue not in value:
        raise ConfigError(f"transfer {what} has no figure for {venue}")
    return value[venue]


@dataclass(slots=True)
class PairFill:
    """How much a walk of two ladders trades: base amount, quote paid, quote received, and which
    limit stopped it, if one did (``max_amount`` or ``max_quote``) rather than depth or profit."""

    amount: float = 0.0
    cost: float = 0.0
    proceeds: float = 0.0
    capped: Literal["amount", "quote"] | None = None


def book_levels(book: L2Book, unit: SizeUnit, side: Side) -> Iterator[Level]:
    """One side of a venue's book (BUY = bids), best first, sizes in base units."""
    for price, size in book._walk(side):
        yield price, unit.to_base(size, price)


def walk_pair(
    asks: Iterable[Level],
    bids: Iterable[Level],
    buy_fee: float,
    sell_fee: float,
    *,
    max_amount: float = math.inf,
    max_quote: float = math.inf,
) -> PairFill:
    """Take ``asks`` and hit ``bids`` together while each further unit earns after both fees, up
    to ``max_amount`` base units and ``max_quote`` spent on the buy side (fee included)."""
    fill = PairFill()
    ask_it, bid_it = iter(asks), iter(bids)
    ask, bid = next(ask_it, None), next(bid_it, None)
    ask_left = ask[1] if ask else 0.0
    bid_left = bid[1] if bid else 0.0
    while ask is not None and bid is not None:
        buy_unit = ask[0] * (1 + buy_fee)
        if bid[0] * (1 - sell_fee) - buy_unit <= 0.0:
            break
        room_amount = max_amount - fill.amount
        room_quote = (max_quote - fill.cost * (1 + buy_fee)) / buy_unit
        room = min(room_amount, room_quote)
        take = min(ask_left, bid_left, room)
        if take <= 0.0:
            fill.capped = "amount" if room_amount <= room_quote else "quote"
            break
        fill.amount += take
        fill.cost += take * ask[0]
        fill.proceeds += take * bid[0]
        if take == room:  # a balance or the notional cap ran out
            fill.capped = "amount" if room_amount <= room_quote else "quote"
            break
        ask_left -= take
        bid_left -= take
        if ask_left <= 0.0:
            ask = next(ask_it, None)
            ask_left = ask[1] if ask else 0.0
        if bid_left <= 0.0:
            bid = next(bid_it, None)
            bid_left = bid[1] if bid else 0.0
    return fill


def pair_opportunity(
    kind: OpportunityKind, buy: tuple[str, str], sell: tuple[str, str], fill: PairFill, fees: tuple[float, float], quote: str,
    capped_by: CapKind | None = None, fixed: tuple[float, float] = (0.0, 0.0),
) -> Opportunity | None:
    """The two legs of a walk, or None if it traded nothing or earns nothing after the legs'
    ``fixed`` costs (buy's, sell's: per order, in the quote); ``capped_by``: the cap that stopped
    the walk, if one did."""
    if fill.amount <= 0.0:
        return None
    buy_leg = Leg(buy[0], buy[1], Side.BUY, fill.cost / fill.amount, fill.amount, fees[0], fixed[0])
    sell_leg = Leg(sell[0], sell[1], Side.SELL, fill.proceeds / fill.amount, fill.amount, fees[1], fixed[1])
    net = pair_profit(buy_leg, sell_leg)
    if net <= 0.0:
        return None
    return Opportunity(kind, (buy_leg, sell_leg), net, net / buy_leg.notional * 1e4, quote,
                       capped_by=capped_by if fill.capped is not None else None)


def cross_venue(
    book: ConsolidatedBook,
    now: float | None = None,
    *,
    fees: Fees | None = None,
    balances: Balances | None = None,
    transfer: Transfer | None = None,
    cap: SizeCap | None = None,
    fixed_costs: Mapping[str, float] | None = None,
) -> list[Opportunity]:
    """Every profitable (buy venue, sell venue) pair of ``book``'s live venues, the most profitable
    first. With ``balances`` the size is capped by the base asset available on the selling venue
    and the quote available on the buying one (a venue or asset missing from it has none); ``cap``
    (which carries balances of its own) adds a notional per opportunity. ``fixed_costs``: venue ->
    cost per order in the quote currency (a DEX venue's swap gas; none elsewhere)."""
    now = time.time() if now is None else now
    cap = cap if cap is not None else SizeCap(balances)
    base, quote, _, _ = parse_standard(book.symbol)
    fee_of = fee_lookup(fees, book.taker_fees)
    fixed = fixed_costs or {}
    live = book.live_books(now)
    found = []
    for buy_venue, buy_book in live.items():
        for sell_venue, sell_book in live.items():
            if buy_venue == sell_venue:
                continue
            pair_fees = (fee_of(buy_venue, book.symbol), fee_of(sell_venue, book.symbol))
            max_quote, quote_cap = cap.spend(buy_venue, quote)
            fill = walk_pair(
                book_levels(buy_book, book.units[buy_venue], Side.SELL),
                book_levels(sell_book, book.units[sell_venue], Side.BUY),
                *pair_fees,
                max_amount=cap.available(sell_venue, base),
                max_quote=max_quote,
            )
            capped_by: CapKind = "balances" if fill.capped == "amount" else quote_cap
            opp = pair_opportunity("cross_venue", (buy_venue, book.symbol), (sell_venue, book.symbol), fill, pair_fees, quote,
                                   capped_by, (fixed.get(buy_venue, 0.0), fixed.get(sell_venue, 0.0)))
            if opp is not None and transfer is not None:
                opp = _with_transfer(opp, transfer, base)
            if opp is not None:
                found.append(opp)
    return sorted(found, key=lambda o: -o.net_profit)


def _with_transfer(opp: Opportunity, transfer: Transfer, base: str) -> Opportunity:
    buy, sell = opp.legs
    return replace(opp, transfer=transfer.cost(buy.venue, base, sell.price))
