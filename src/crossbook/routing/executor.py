"""The smart order router's executor: plan on the live books, send the child orders concurrently
through the trading layer, and re-route what is left on fresh books until the parent is filled,
the limit leaves nothing to take, or the deadline passes.

Each child is an IOC limit order at the worst price its plan reaches (never past the parent's
limit), so a book that moved between plan and arrival costs a partial fill, not a worse price:
the remainder is planned again on the books as they are then. Every child goes through
``VenueAccount.create_order``, so it is journaled before it is sent and a crash mid-route is
recovered by reconciliation (the trading layer's guarantee). A child whose fate is unknown (no
answer) is reconciled before its amount may be routed again, so an order is never doubled.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

import ccxt

from ..book.consolidated import ConsolidatedBook, SizeUnit
from ..book.l2 import L2Book
from ..errors import CrossbookError, InvalidOrder, VenueUnavailable
from ..model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from ..precision import DEFAULT_PRECISION, Precision
from ..trading.account import VenueAccount
from ..trading.journal import JournaledOrder
from ..trading.oneinch_account import ChainAccount
from ..trading.validation import TradingRules
from ..venues.registry import spec
from .fees import FeeBook
from .planner import BookLevels, Child, Plan, VenueSide, best_single_venue, plan

# rounds of re-routing before giving up on liquidity that keeps moving away
MAX_ROUNDS = 8


class Outcome(str, Enum):
    FILLED = "filled"
    LIMIT = "limit"  # nothing left within the limit price (or max slippage)
    DEADLINE = "deadline"
    NO_LIQUIDITY = "no_liquidity"  # no live venue can take any of it
    DRY_RUN = "dry_run"


class Urgency(str, Enum):
    TAKE = "take"  # IOC orders against the books now
    PASSIVE = "passive"  # post-only orders at (or one tick inside) the touch first, then take what is left


@dataclass(frozen=True, slots=True)
class RouteRequest:
    symbol: str
    side: Side
    amount: float  # base units
    limit: float | None = None
    max_slippage_bps: float | None = None  # from the arrival mid
    max_venues: int | None = None
    deadline: float = 10.0  # seconds
    max_rounds: int = MAX_ROUNDS
    urgency: Urgency = Urgency.TAKE
    passive_seconds: float = 2.0  # PASSIVE: how long the posted orders rest before the rest is taken

    def __post_init__(self) -> None:
        if not self.amount > 0 or math.isinf(self.amount):
            raise InvalidOrder(f"route amount must be a positive finite number, got {self.amount!r}")
        if self.limit is not None and not (self.limit > 0 and math.isfinite(self.limit)):
            raise InvalidOrder(f"route limit must be a positive price, got {self.limit!r}")
        if self.max_slippage_bps is not None and not self.max_slippage_bps >= 0:
            raise InvalidOrder(f"max_slippage_bps must not be negative, got {self.max_slippage_bps!r}")
        if not self.deadline > 0:
            raise InvalidOrder(f"route deadline must be positive seconds, got {self.deadline!r}")
        if not self.passive_seconds >= 0:
            raise InvalidOrder(f"passive_seconds must not be negative, got {self.passive_seconds!r}")


@dataclass(frozen=True, slots=True)
class ChildReport:
    venue: str
    round: int
    client_order_id: str | None
    status: str
    planned_amount: float
    planned_vwap: float
    limit_price: float
    filled: float = 0.0
    avg_price: float | None = None
    fee: float = 0.0  # quote
    error: str = ""
    passive: bool = False  # a post-only order that rested, rather than an IOC

    def to_json(self, precision: Precision = DEFAULT_PRECISION) -> dict[str, object]:
        p = precision
        return {
            "venue": self.venue, "round": self.round, "client_order_id": self.client_order_id, "status": self.status,
            "passive": self.passive, "planned_amount": p.amount(self.planned_amount),
            "planned_vwap": p.price(self.planned_vwap), "limit_price": p.price(self.limit_price),
            "filled": p.amount(self.filled), "avg_price": p.price(self.avg_price), "fee": p.money(self.fee),
            "error": self.error,
        }


@dataclass(slots=True)
class ExecutionReport:
    request: RouteRequest
    plan: Plan  # the first round's plan, against the arrival books
    best_single: Plan | None  # the cheapest venue that could fill the whole order alone, if any
    arrival_mid: float | None
    children: list[ChildReport] = field(default_factory=list)
    outcome: Outcome = Outcome.DRY_RUN
    rounds: int = 0
    precision: Precision = DEFAULT_PRECISION  # the symbol's tick and lot, for to_json

    @property
    def filled(self) -> float:
        return sum(c.filled for c in self.children)

    @property
    def notional(self) -> float:
        return sum(c.filled * (c.avg_price or 0.0) for c in self.children)

    @property
    def fees(self) -> float:
        return sum(c.fee for c in self.children)

    @property
    def avg_price(self) -> float | None:
        return self.notional / self.filled if self.filled > 0 else None

    @property
    def all_in_avg_price(self) -> float | None:
        if self.filled <= 0:
            return None
        sign = 1.0 if self.request.side is Side.BUY else -1.0
        return (self.notional + sign * self.fees) / self.filled

    def _bps_worse(self, price: float | None, reference: float | None) -> float | None:
        """How much worse ``price`` is than ``reference`` for this side, in bps (negative: better)."""
        if price is None or not reference:
            return None
        sign = 1.0 if self.request.side is Side.BUY else -1.0
        return sign * (price - reference) / reference * 1e4

    @property
    def best_single_venue_all_in_price(self) -> float | None:
        return self.best_single.all_in_price if self.best_single is not None else None

    @property
    def savings_bps(self) -> float | None:
        """What routing saved against the best single venue's all-in price for the same order:
        realised after execution, expected on a dry run."""
        mine = self.all_in_avg_price if self.outcome is not Outcome.DRY_RUN else self.plan.all_in_price
        worse = self._bps_worse(mine, self.best_single_venue_all_in_price)
        return None if worse is None else -worse

    def to_json(self) -> dict[str, object]:
        """The report as ``crossbook route --json`` prints it: prices at the symbol's tick, amounts
        at its lot, fees as money."""
        r, p = self.request, self.precision
        return {
            "symbol": r.symbol,
            "side": r.side.value,
            "amount": p.amount(r.amount),
            "plan": [{"venue": c.venue, "amount": p.amount(c.amount), "expected_vwap": p.price(c.expected_vwap),
                      "fee": p.money(c.fee + c.fixed_cost)} for c in self.plan.children],
            "expected_all_in_price": p.price(self.plan.all_in_price),
            "filled": p.amount(self.filled),
            "avg_price": p.price(self.avg_price),
            "fees": p.money(self.fees),
            "all_in_avg_price": p.price(self.all_in_avg_price),
            "best_single_venue": self.best_single.children[0].venue if self.best_single and self.best_single.children else None,
            "best_single_venue_all_in_price": p.price(self.best_single_venue_all_in_price),
            "savings_bps": p.bps(self.savings_bps),
            "arrival_mid": p.price(self.arrival_mid),
            "slippage_vs_arrival_bps": p.bps(self._bps_worse(self.avg_price, self.arrival_mid)),
            "slippage_vs_plan_bps": p.bps(self._bps_worse(self.all_in_avg_price, self.plan.all_in_price)),
            "outcome": self.outcome.value,
            "rounds": self.rounds,
            "children": [c.to_json(p) for c in self.children],
        }


@dataclass(frozen=True, slots=True)
class _Venue:
    """What the router knows of one venue for one symbol: its book, fee, account and rules."""

    venue: str
    book: L2Book
    unit: SizeUnit
    fee_rate: float
    account: VenueAccount | ChainAccount | None
    rules: TradingRules | None


class Router:
    """Routes parent orders on one symbol across the venues of a ConsolidatedBook. ``accounts``
    trade (venue -> VenueAccount with its markets loaded, or a chain venue's PoolAccount or
    OneInchAccount); venues without one are planned only on a dry run. Taker fees are
    ``fee_rates``, else the ``fee_book``'s (the account's own rates, or its tier's), else the
    book's (the venue's base tier)."""

    def __init__(
        self,
        book: ConsolidatedBook,
        accounts: Mapping[str, VenueAccount | ChainAccount],
        *,
        fee_rates: Mapping[str, float] | None = None,
        fee_book: FeeBook | None = None,
        fixed_costs: Mapping[str, float] | None = None,
        poll: float = 0.05,
        precision: Precision = DEFAULT_PRECISION,
        strategy: str | None = None,
    ) -> None:
        """``strategy``: the strategy routing, named on every child order (its accounts refuse another's)."""
        self.book = book
        self.strategy = strategy
        self.precision = precision
        self.accounts = dict(accounts)
        self.fee_rates = dict(fee_rates or {})
        self.fee_book = fee_book
        self.fixed_costs = dict(fixed_costs or {})
        self.poll = poll

    # ---- planning ----------------------------------------------------------------------------

    def arrival_mid(self, now: float | None = None) -> float | None:
        bid, ask = self.book.best_bid(now), self.book.best_ask(now)
        return (bid.price + ask.price) / 2 if bid and ask else None

    def effective_limit(self, request: RouteRequest, mid: float | None) -> float | None:
        """The parent's limit, tightened by its max slippage from the arrival mid."""
        if request.max_slippage_bps is None or mid is None:
            return request.limit
        sign = 1.0 if request.side is Side.BUY else -1.0
        cap = mid * (1 + sign * request.max_slippage_bps / 1e4)
        if request.limit is None:
            return cap
        return min(request.limit, cap) if request.side is Side.BUY else max(request.limit, cap)

    def venues(self, *, trading: bool, excluded: Mapping[str, str]) -> list[_Venue]:
        out = []
        for venue, l2 in self.book.live_books().items():
            if venue in excluded:
                continue
            account = self.accounts.get(venue)
            if trading and account is None:
                continue
            rules = account.rules.get(self.book.symbol) if account is not None else None
            if account is not None and rules is None:
                continue
            fee = self.fee_rates.get(venue, self.book.taker_fees[venue])
            out.append(_Venue(venue, l2, self.book.units[venue], fee, account, rules))
        return out

    def venue_side(self, v: _Venue, side: Side, balances: Mapping[str, Decimal] | None) -> VenueSide:
        levels = BookLevels(v.book, side, v.unit)
        lot = min_amount = min_notional = 0.0
        max_amount = math.inf
        max_orders = 1
        if v.rules is not None:
            size = float(v.rules.contract_size)
            lot = float(v.rules.lot) * size
            min_amount = float(v.rules.min_amount or 0) * size
            min_notional = float(v.rules.min_notional or 0)
            cap = v.rules.max_market_amount or v.rules.max_amount
            max_amount = float(cap) * size if cap else math.inf
        if v.account is not None:
            max_orders = order_budget(v.account, v.rules)
        available = math.inf
        if balances is not None and v.rules is not None:
            available = affordable(side, levels, v.fee_rate, v.rules, balances)
        return VenueSide(v.venue, levels, v.fee_rate, lot=lot, min_amount=min_amount, min_notional=min_notional,
                         max_amount=max_amount, available=available, fixed_cost=self.fixed_costs.get(v.venue, 0.0),
                         max_orders=max_orders)

    async def sides(self, side: Side, *, trading: bool, excluded: Mapping[str, str]) -> list[VenueSide]:
        """Each usable venue's liquidity and rules for an order of ``side``, its balance fetched now."""
        venues = self.venues(trading=trading, excluded=excluded)
        balances = await asyncio.gather(*(self._balances(v) for v in venues))
        return [self.venue_side(v, side, b) for v, b in zip(venues, balances, strict=True)]

    async def plan(self, request: RouteRequest, amount: float, *, excluded: Mapping[str, str] | None = None,
                   limit: float | None) -> Plan:
        """The cheapest split of ``amount`` on the venues that trade now, on fresh balances."""
        sides = await self.sides(request.side, trading=True, excluded=excluded or {})
        return plan(request.side, amount, sides, limit=limit, max_venues=request.max_venues)

    async def _resolve_fees(self) -> None:
        if self.fee_book is None:
            return
        missing = [v for v in self.book.books if v not in self.fee_rates]
        rates = await asyncio.gather(*(self.fee_book.rates(v, self.book.symbol) for v in missing))
        self.fee_rates.update({v: r.taker for v, r in zip(missing, rates, strict=True)})

    @staticmethod
    async def _balances(v: _Venue) -> Mapping[str, Decimal] | None:
        if v.account is None:
            return None
        try:
            return await v.account.balances()
        except (CrossbookError, ccxt.BaseError):
            return {}  # a venue that cannot say its balance takes no share

    # ---- executing ---------------------------------------------------------------------------

    async def route(self, request: RouteRequest, *, dry_run: bool = False) -> ExecutionReport:
        if request.symbol.upper() != self.book.symbol:
            raise InvalidOrder(f"this router trades {self.book.symbol}, not {request.symbol!r}")
        await self._resolve_fees()
        mid = self.arrival_mid()
        limit = self.effective_limit(request, mid)
        sides = await self.sides(request.side, trading=not dry_run, excluded={})
        first = plan(request.side, request.amount, sides, limit=limit, max_venues=request.max_venues)
        single = best_single_venue(request.side, request.amount, sides, limit=limit)  # None: no one venue can fill it
        report = ExecutionReport(request, first, single, mid, precision=self.precision)
        if dry_run:
            return report
        deadline = time.monotonic() + request.deadline
        excluded: dict[str, str] = {}
        waiting: dict[str, int] = {}  # venue -> its book's update count when its last child found nothing
        current = first
        if request.urgency is Urgency.PASSIVE:
            # the split is the taker plan's, found without the limit: a passive order rests inside it
            shares = first if limit is None else await self.plan(request, request.amount, limit=None)
            report.rounds += 1
            report.children += await self._rest(shares, request, limit, min(request.passive_seconds, request.deadline))
            left = request.amount - report.filled
            if left <= dust(self.venues(trading=True, excluded=excluded)):
                report.outcome = Outcome.FILLED
                return report
            current = await self.plan(request, left, excluded=excluded, limit=limit)
        while True:
            report.rounds += 1
            if not current.children:
                if waiting and time.monotonic() >= deadline:  # the books that could take the rest never changed
                    report.outcome = Outcome.DEADLINE
                else:
                    report.outcome = Outcome.LIMIT if limit is not None and self._liquid_past_limit(excluded) else Outcome.NO_LIQUIDITY
                return report
            venues = {v.venue: v for v in self.venues(trading=True, excluded=excluded)}
            sends = [self._send(venues[c.venue], amount, c, report.rounds, limit, request.side)
                     for c in current.children if c.venue in venues for amount in split(c, venues[c.venue].rules)]
            for child in await asyncio.gather(*sends):
                report.children.append(child)
                if child.status in (OrderStatus.REJECTED.value, "refused", "unknown"):
                    excluded[child.venue] = child.error or child.status
                elif child.status == OrderStatus.EXPIRED.value and child.filled <= 0:
                    waiting[child.venue] = venues[child.venue].book.stats.updates
            left = request.amount - report.filled
            if left <= dust(list(venues.values())):
                report.outcome = Outcome.FILLED
                return report
            if time.monotonic() >= deadline or report.rounds >= request.max_rounds:
                report.outcome = Outcome.DEADLINE
                return report
            await asyncio.sleep(self.poll)  # let the books move past what the last round took
            current = await self._replan(request, left, excluded, waiting, limit, deadline)

    async def _replan(self, request: RouteRequest, left: float, excluded: Mapping[str, str], waiting: Mapping[str, int],
                      limit: float | None, deadline: float) -> Plan:
        """The next round's plan without the venues whose last child found nothing at its planned
        price (an IOC that expired, a swap that reverted) while their book has not changed since:
        sending there again would find nothing again. When only those venues could take the rest,
        wait (until the deadline) for one of their books to change."""
        while True:
            unchanged = {v: "its last child found nothing at the planned price and its book has not changed since"
                         for v, count in waiting.items() if v in self.book.books and self.book.books[v].stats.updates == count}
            current = await self.plan(request, left, excluded={**excluded, **unchanged}, limit=limit)
            if current.children or not unchanged or time.monotonic() >= deadline:
                return current
            await asyncio.sleep(self.poll)

    async def _rest(self, planned: Plan, request: RouteRequest, limit: float | None, seconds: float) -> list[ChildReport]:
        """Post the plan's split as post-only orders at each venue's touch (one tick inside it when
        the spread leaves room), let them rest ``seconds``, cancel what is left."""
        venues = {v.venue: v for v in self.venues(trading=True, excluded={})}
        posted = await asyncio.gather(*(self._post(venues[c.venue], c, request.side, limit)
                                        for c in planned.children if c.venue in venues))
        resting = [(v, base, order) for v, base, order in posted if order is not None]
        until = time.monotonic() + seconds
        while resting and time.monotonic() < until and not all(o.status.final for _, _, o in resting):
            await asyncio.sleep(min(0.25, max(0.0, until - time.monotonic())))
            resting = [(v, base, o if o.status.final else await self._sync(v, o)) for v, base, o in resting]
        done = [(v, base, o if o.status.final else await self._cancel(v, o)) for v, base, o in resting]
        reports = [self._child_report(v, base, o) for v, base, o in done]
        return reports + [base for _, base, order in posted if order is None]

    async def _post(self, v: _Venue, child: Child, side: Side, limit: float | None) -> tuple[_Venue, ChildReport, JournaledOrder | None]:
        assert v.account is not None and v.rules is not None
        price = passive_price(v.book, side, float(v.rules.tick), limit)
        base = ChildReport(v.venue, 1, None, "not_sent", child.amount, child.expected_vwap, price or 0.0, passive=True)
        if price is None:
            return v, replace(base, error="no touch to post at within the limit"), None
        request = OrderRequest(
            venue=v.venue, symbol=self.book.symbol, side=side, type=OrderType.LIMIT,
            amount=Decimal(repr(child.amount / float(v.rules.contract_size))), price=Decimal(repr(price)),
            post_only=True, account=v.account.account, strategy=self.strategy,
        )
        try:
            return v, base, await v.account.create_order(request)
        except CrossbookError as exc:  # refused or unanswered: the taker rounds route the amount
            status = OrderStatus.REJECTED.value if isinstance(exc, InvalidOrder) else "refused"
            if isinstance(exc, VenueUnavailable):
                return v, await self._settle_unknown(v, base, exc), None
            return v, replace(base, status=status, error=str(exc)[:300]), None

    @staticmethod
    async def _sync(v: _Venue, order: JournaledOrder) -> JournaledOrder:
        assert v.account is not None
        return await v.account.sync(order.client_order_id)

    @staticmethod
    async def _cancel(v: _Venue, order: JournaledOrder) -> JournaledOrder:
        assert v.account is not None
        try:
            return await v.account.cancel(order.client_order_id)
        except CrossbookError:
            return await v.account.sync(order.client_order_id)

    def _liquid_past_limit(self, excluded: Mapping[str, str]) -> bool:
        return any(v.book.best_bid() or v.book.best_ask() for v in self.venues(trading=True, excluded=excluded))

    async def _send(self, v: _Venue, amount: float, child: Child, round_no: int, limit: float | None, side: Side) -> ChildReport:
        assert v.account is not None and v.rules is not None
        price = child_limit_price(v.book, side, v.unit, child.amount, limit)
        base = ChildReport(v.venue, round_no, None, "not_sent", amount, child.expected_vwap, price)
        size = float(v.rules.contract_size)
        request = OrderRequest(
            venue=v.venue, symbol=self.book.symbol, side=side, type=OrderType.LIMIT,
            amount=Decimal(repr(amount / size)), price=Decimal(repr(price)),
            time_in_force=TimeInForce.IOC, account=v.account.account, strategy=self.strategy,
        )
        try:
            order = await v.account.create_order(request)
        except VenueUnavailable as exc:
            return await self._settle_unknown(v, base, exc)
        except InvalidOrder as exc:
            return replace(base, status=OrderStatus.REJECTED.value, error=str(exc)[:300])
        except CrossbookError as exc:
            return replace(base, status="refused", error=str(exc)[:300])
        order = await self._final(v.account, order)
        return self._child_report(v, base, order)

    async def _final(self, account: VenueAccount | ChainAccount, order: JournaledOrder) -> JournaledOrder:
        """An IOC ends at once at the venue; the ack may still read open: sync until final."""
        for _ in range(20):
            if order.status.final:
                return order
            await asyncio.sleep(self.poll)
            order = await account.sync(order.client_order_id)
        return order

    async def _settle_unknown(self, v: _Venue, base: ChildReport, exc: VenueUnavailable) -> ChildReport:
        """No answer: find out from the venue what happened before anything is routed again."""
        assert v.account is not None
        cid = exc.client_order_id
        try:
            await asyncio.wait_for(v.account.reconcile(), timeout=5.0)
        except (TimeoutError, CrossbookError) as again:
            return replace(base, client_order_id=cid, status="unknown", error=f"{exc}; reconcile failed: {again}"[:300])
        except ccxt.BaseError as again:
            return replace(base, client_order_id=cid, status="unknown", error=f"{exc}; reconcile failed: {type(again).__name__}"[:300])
        order = v.account.journal.order(cid) if cid else None
        if order is None:
            return replace(base, status="unknown", error=str(exc)[:300])
        return self._child_report(v, base, order)

    def _child_report(self, v: _Venue, base: ChildReport, order: JournaledOrder) -> ChildReport:
        assert v.rules is not None and v.account is not None
        size = float(v.rules.contract_size)
        fills = v.account.journal.fills(order.client_order_id)
        fee = sum(float(f.fee) * (float(f.price) if f.fee_currency == v.rules.base else 1.0)
                  for f in fills if f.fee_currency in (v.rules.base, v.rules.quote))
        return replace(
            base, client_order_id=order.client_order_id, status=order.status.value,
            filled=float(order.filled) * size, avg_price=float(order.avg_price) if order.avg_price is not None else None,
            fee=fee, error=order.reason[:300] if order.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED) else "",
        )


# ---- reading books and accounts ----------------------------------------------------------------


def split(child: Child, rules: TradingRules | None) -> list[float]:
    """The child's amount as the ``child.orders`` orders it takes, as equal as the lot allows
    (none larger than ceil(amount / orders), so none over the venue's max order size)."""
    lot = float(rules.lot * rules.contract_size) if rules is not None else 0.0
    if child.orders <= 1 or lot <= 0:
        return [child.amount / child.orders] * child.orders
    lots = round(child.amount / lot)
    each, extra = divmod(lots, child.orders)
    return [n * lot for n in [each + 1] * extra + [each] * (child.orders - extra) if n > 0]


def dust(venues: Sequence[_Venue]) -> float:
    """Less than half the smallest lot of the venues in play cannot be routed."""
    lots = [float(v.rules.lot * v.rules.contract_size) for v in venues if v.rules is not None]
    return min(lots) * 0.5 if lots else 1e-12


def child_limit_price(book: L2Book, side: Side, unit: SizeUnit, amount: float, limit: float | None) -> float:
    """The worst price taking ``amount`` reaches on ``book`` now, never past ``limit``."""
    left, worst = amount, None
    for price, size in BookLevels(book, side, unit):
        worst = price
        left -= size
        if left <= 1e-12:
            break
    if worst is None:
        raise InvalidOrder(f"{book.venue}:{book.symbol} has no levels to take")
    if limit is not None:
        worst = min(worst, limit) if side is Side.BUY else max(worst, limit)
    return worst


def passive_price(book: L2Book, side: Side, tick: float, limit: float | None) -> float | None:
    """Where a passive order of ``side`` rests: one tick inside the touch when that still leaves
    it passive (below the best ask for a buy), else at the touch; never past ``limit``."""
    bid, ask = book.best_bid(), book.best_ask()
    if bid is None or ask is None:
        return None
    if side is Side.BUY:
        price = bid[0] + tick if bid[0] + tick < ask[0] - tick / 2 else bid[0]
        return None if limit is not None and bid[0] > limit else (price if limit is None else min(price, limit))
    price = ask[0] - tick if ask[0] - tick > bid[0] + tick / 2 else ask[0]
    return None if limit is not None and ask[0] < limit else (price if limit is None else max(price, limit))


def affordable(side: Side, levels: Sequence[tuple[float, float]], fee_rate: float, rules: TradingRules,
               balances: Mapping[str, Decimal]) -> float:
    """Base units the account can trade on this venue now: what its quote buys through the levels
    (fee included) for a buy, the base it holds for a sell (spot); margin products are capped by
    the settle currency as notional at 1x."""
    if side is Side.SELL and not rules.derivative:
        return float(balances.get(rules.base, Decimal(0)))
    cash = float(balances.get(rules.settle or rules.quote if rules.derivative else rules.quote, Decimal(0)))
    bought = 0.0
    for price, size in levels:
        cost = price * size * (1 + fee_rate)
        if cost >= cash:
            return bought + cash / (price * (1 + fee_rate))
        cash -= cost
        bought += size
    return bought


def order_budget(account: VenueAccount | ChainAccount, rules: TradingRules | None) -> int:
    """Child orders the venue's rate limit grants now without queueing (at least 1: the limiter
    paces the rest rather than let the venue refuse them). A chain venue takes one swap per round."""
    if isinstance(account, ChainAccount) or account.limiter is None:
        return 1
    method, path = spec(account.venue).order_request
    symbol = account.client.market_id(rules.ccxt_symbol) if rules is not None else ""
    return max(1, account.limiter.headroom(method, path, account=account.account, symbol=symbol, most=10))
