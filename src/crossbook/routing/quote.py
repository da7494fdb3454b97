"""Best price: an order of a given size priced on every venue through its live depth, after its
taker fee, the same instrument in an equivalent quote currency converted at the live rate; the
typed result (``Quote``) that ``Desk.best_price`` returns and ``crossbook quote --json`` prints."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..book.consolidated import ConsolidatedBook, QuoteStatus, VenueQuote
from ..errors import NoConversionRate
from ..model import Side
from ..precision import DEFAULT_PRECISION, Precision
from ..symbols import parse_standard
from .conversion import DEFAULT_EQUIVALENTS, Conversion, equivalent_symbols


@dataclass(frozen=True, slots=True)
class Converted:
    """A row priced in another quote currency, converted at ``rate`` (through ``via``), or not
    convertible now (``error``)."""

    quote_currency: str
    rate: float | None = None
    via: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """One venue's price for the order; ``key`` is the venue, or ``venue:symbol`` for an equivalent
    market. A ``partial`` row's ``filled`` and ``vwap`` are for the part its book can fill, and it
    has no all-in price. ``affordable`` and ``max_amount`` (base units) are set when balances were
    given."""

    key: str
    venue: str
    symbol: str
    status: QuoteStatus
    filled: float
    vwap: float | None
    fee_rate: float
    all_in_price: float | None
    conversion: Converted | None = None
    affordable: bool | None = None
    max_amount: float | None = None
    fixed_cost: float = 0.0  # per order, in the quote currency (a swap's gas), inside all_in_price

    def to_json(self, p: Precision = DEFAULT_PRECISION) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status.value, "filled": p.amount(self.filled), "vwap": p.price(self.vwap),
                                  "fee_rate": p.rate(self.fee_rate), "all_in_price": p.price(self.all_in_price)}
        if self.fixed_cost:
            out["fixed_cost"] = p.money(self.fixed_cost)
        c = self.conversion
        if c is not None:
            out |= {"symbol": self.symbol, "quote_currency": c.quote_currency}
            out |= {"conversion_error": c.error} if c.error else {"conversion_rate": p.rate(c.rate), "conversion_via": list(c.via)}
        if self.affordable is not None:
            out |= {"affordable": self.affordable, "max_amount": p.amount(self.max_amount)}
        return out


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    side: Side
    amount: float  # base units
    rows: tuple[QuoteRow, ...]
    best: QuoteRow | None  # the best all-in price among the rows that fill completely (and are affordable)
    precision: Precision = DEFAULT_PRECISION

    @property
    def partial(self) -> tuple[QuoteRow, ...]:
        """The live venues that cannot fill the whole amount."""
        return tuple(r for r in self.rows if r.status is QuoteStatus.PARTIAL)

    def to_json(self) -> dict[str, object]:
        p = self.precision
        best: dict[str, object] | None = None
        if self.best is not None:
            best = {"venue": self.best.venue, "all_in_price": p.price(self.best.all_in_price)}
            if self.best.conversion is not None:
                best |= {"symbol": self.best.symbol, "quote_currency": self.best.conversion.quote_currency,
                         "conversion_rate": p.rate(self.best.conversion.rate)}
        return {"symbol": self.symbol, "side": self.side.value, "amount": p.amount(self.amount), "best": best,
                "venues": {r.key: r.to_json(p) for r in self.rows}}


def price_order(
    books: Mapping[str, ConsolidatedBook],
    symbol: str,
    side: Side,
    amount: float,
    *,
    venues: Iterable[str] | None = None,
    equivalents: Iterable[str] = DEFAULT_EQUIVALENTS,
    fee_rates: Mapping[str, float] | None = None,
    fixed_costs: Mapping[str, float] | None = None,
    balances: Mapping[str, Mapping[str, float]] | None = None,
    down: Mapping[str, float] | None = None,
    precision: Precision = DEFAULT_PRECISION,
    now: float | None = None,
) -> Quote:
    """``amount`` of ``symbol`` priced on every venue of ``books[symbol]`` (only ``venues``, when
    given), and on the equivalent markets in ``books``. ``fee_rates``: venue -> taker rate (the
    account's), else the book's; ``fixed_costs``: venue -> cost per order in ``symbol``'s quote
    currency (a swap's gas), spread over the amount in the all-in price; ``balances``: venue ->
    currency -> available, marking what each venue can afford; ``down``: unreachable venue -> its
    taker rate, listed without a price."""
    now = time.time() if now is None else now
    fees = fee_rates or {}
    wanted = None if venues is None else set(venues)
    rows = [_with_fixed_cost(_row(q, q.venue, symbol, None), side, (fixed_costs or {}).get(q.venue, 0.0))
            for q in books[symbol].quote(side, amount, now, fees).values()]
    conversion = Conversion(books, equivalents)
    for other in equivalent_symbols(symbol, equivalents):
        if other in books:
            rows += [_converted(q, other, symbol, side, conversion, now) for q in books[other].quote(side, amount, now, fees).values()]
    rows = [r for r in rows if wanted is None or r.venue in wanted]
    if balances is not None:
        rows = [_with_affordability(r, books, side, amount, balances, fees) for r in rows]
    rows += [QuoteRow(v, v, symbol, QuoteStatus.DOWN, 0.0, None, fee, None) for v, fee in (down or {}).items()
             if wanted is None or v in wanted]
    return Quote(symbol, side, amount, tuple(rows), best_row(rows, side), precision)


def _row(q: VenueQuote, key: str, symbol: str, conversion: Converted | None) -> QuoteRow:
    return QuoteRow(key, q.venue, symbol, q.status, q.filled, q.vwap, q.fee_rate, q.all_in_price, conversion)


def _with_fixed_cost(row: QuoteRow, side: Side, cost: float) -> QuoteRow:
    """The row with ``cost`` (quote currency, once per order) in its all-in price."""
    if not cost:
        return row
    if row.all_in_price is None or not row.filled:
        return replace(row, fixed_cost=cost)
    per_unit = cost / row.filled
    return replace(row, fixed_cost=cost, all_in_price=row.all_in_price + (per_unit if side is Side.BUY else -per_unit))


def _converted(q: VenueQuote, market: str, asked: str, side: Side, conversion: Conversion, now: float) -> QuoteRow:
    """A venue's quote of ``market`` with its prices expressed in ``asked``'s quote currency."""
    source, target = parse_standard(market)[1], parse_standard(asked)[1]
    key = f"{q.venue}:{market}"
    if q.all_in_price is None:
        return _row(q, key, market, Converted(source))
    try:
        rate = conversion.rate(source, target, side, now)
    except NoConversionRate as exc:
        return replace(_row(q, key, market, Converted(source, error=str(exc))), all_in_price=None)
    vwap = None if q.vwap is None else q.vwap * rate.rate
    return replace(_row(q, key, market, Converted(source, rate.rate, tuple(rate.via))), vwap=vwap,
                   all_in_price=q.all_in_price * rate.rate)


def _with_affordability(row: QuoteRow, books: Mapping[str, ConsolidatedBook], side: Side, amount: float,
                        balances: Mapping[str, Mapping[str, float]], fees: Mapping[str, float]) -> QuoteRow:
    """Whether the account on the row's venue can pay for the order in the currency it spends
    there (no account: nothing available)."""
    if row.all_in_price is None:
        return row
    base, quote, _, _ = parse_standard(row.symbol)
    funds = balances.get(row.venue, {}).get(quote if side is Side.BUY else base, 0.0)
    most = books[row.symbol].max_amount(row.venue, side, funds, fees.get(row.venue))
    return replace(row, affordable=most >= amount * (1 - 1e-12), max_amount=most)


def best_row(rows: Iterable[QuoteRow], side: Side) -> QuoteRow | None:
    """The lowest all-in price for a buy, highest for a sell, among rows that fill completely and
    that the account can afford (where balances were given)."""
    priced = [r for r in rows if r.status is QuoteStatus.LIVE and r.all_in_price is not None and r.affordable is not False]
    if not priced:
        return None
    pick = min if side is Side.BUY else max
    return pick(priced, key=lambda r: r.all_in_price or 0.0)
