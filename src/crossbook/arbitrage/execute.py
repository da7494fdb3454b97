"""Trading opportunities through the router, capped per opportunity.

* Cross-venue: both legs at once, each an IOC on its own venue, neither past the price where it
  would lose against the other leg's planned price (both legs' fixed costs counted). A DEX leg is
  the same IOC on its chain account: a swap whose slippage bound is that limit. When one leg
  fills more than the other the difference is ``unhedged``, and it is flattened at once
  (``flatten``): the missing leg on the other venues, else the filled leg unwound on its own.
* Triangular: the three legs in turn on their venue, each trading what the one before handed on,
  none giving up more than a third of the opportunity's edge against its planned price.
* Basis trades are reported, not traded: they need a derivatives account beside the spot one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..book.consolidated import ConsolidatedBook
from ..errors import CrossbookError, InvalidOrder
from ..model import Side
from ..routing.executor import ExecutionReport, Router, RouteRequest
from ..symbols import parse_standard
from .flatten import DUST, Flatten, TradingAccount, flatten
from .model import Leg, Opportunity
from .scanner import Event, OpportunityLog, Scanner


@dataclass(frozen=True, slots=True)
class ArbExecution:
    """Both legs as the router executed them, and the flatten of what one filled beyond the other
    (None when they matched, or flattening was not asked for)."""

    opportunity: Opportunity
    buy: ExecutionReport
    sell: ExecutionReport
    flatten: Flatten | None = None

    @property
    def bought(self) -> float:
        return self.buy.filled

    @property
    def sold(self) -> float:
        return self.sell.filled

    def _trades(self) -> list[tuple[Side, float, float]]:
        """(side, base, all-in price) of the legs and the flatten orders that filled."""
        legs = [(Side.BUY, self.bought, self.buy.all_in_avg_price or 0.0),
                (Side.SELL, self.sold, self.sell.all_in_avg_price or 0.0)]
        return [t for t in legs if t[1] > 0] + (self.flatten.trades() if self.flatten is not None else [])

    @property
    def realised_profit(self) -> float:
        """Sell proceeds net of fees minus buy cost with fees, the flatten orders included, on the
        amount bought and sold both; what is still open (``remaining_unhedged``) is not in it."""
        trades = self._trades()
        buys = [(q, p) for side, q, p in trades if side is Side.BUY]
        sells = [(q, p) for side, q, p in trades if side is Side.SELL]
        bought, sold = sum(q for q, _ in buys), sum(q for q, _ in sells)
        if bought <= 0 or sold <= 0:
            return 0.0
        matched = min(bought, sold)
        return matched * (sum(q * p for q, p in sells) / sold - sum(q * p for q, p in buys) / bought)

    @property
    def unhedged(self) -> float:
        """Base bought but not sold (positive) or sold but not bought (negative) by the two legs."""
        return self.bought - self.sold

    @property
    def remaining_unhedged(self) -> float:
        """What is still open after the flatten, signed like ``unhedged``."""
        if abs(self.unhedged) <= DUST:
            return 0.0
        if self.flatten is None:
            return self.unhedged
        return self.flatten.remaining if self.unhedged > 0 else -self.flatten.remaining

    def as_json(self) -> dict[str, object]:
        return {
            **self.opportunity.as_json(),
            "executed": {
                "bought": self.bought, "sold": self.sold,
                "buy_all_in_price": self.buy.all_in_avg_price, "sell_all_in_price": self.sell.all_in_avg_price,
                "buy_outcome": self.buy.outcome.value, "sell_outcome": self.sell.outcome.value,
                "buy_orders": _order_ids(self.buy), "sell_orders": _order_ids(self.sell),
                "realised_profit": self.realised_profit, "unhedged": self.unhedged,
                "flatten": self.flatten.as_json() if self.flatten is not None else None,
                "remaining_unhedged": self.remaining_unhedged,
            },
        }


def _order_ids(report: ExecutionReport) -> list[str]:
    """The client order ids a leg sent (its journal entries)."""
    return [c.client_order_id for c in report.children if c.client_order_id]


async def execute_cross_venue(
    opportunity: Opportunity,
    books: Mapping[str, ConsolidatedBook],
    accounts: Mapping[str, TradingAccount],
    *,
    max_size: float,
    deadline: float = 2.0,
    flatten_deadline: float | None = 5.0,
    max_loss_bps: float = 50.0,
) -> ArbExecution:
    """Buy on the cheap venue and sell on the dear one, at most ``max_size`` base units each.
    When one leg fills more than the other, the difference is flattened within
    ``flatten_deadline`` seconds (None: left open and reported), the missing leg on the other
    venues no worse than ``max_loss_bps`` from the filled leg's price, else the filled leg
    unwound on its venue."""
    _check(opportunity, "cross_venue", accounts, max_size)
    buy, sell = _legs(opportunity)
    amount = min(buy.amount, sell.amount, max_size)
    book = books[buy.symbol]
    # neither leg pays past the price where it would lose against the other leg's planned price,
    # the legs' fixed costs (gas) spread over the amount traded
    fixed = (buy.fixed_cost + sell.fixed_cost) / amount
    buy_cap = (sell.price * (1 - sell.fee_rate) - fixed) / (1 + buy.fee_rate)
    sell_floor = (buy.price * (1 + buy.fee_rate) + fixed) / (1 - sell.fee_rate)
    if buy_cap <= buy.price:
        raise InvalidOrder(f"{amount:g} {buy.symbol} at the planned prices does not pay the legs' fixed costs "
                           f"({buy.fixed_cost + sell.fixed_cost:g} in the quote currency)")
    buy_report, sell_report = await asyncio.gather(
        _take(book, accounts, buy, amount, buy_cap, deadline), _take(book, accounts, sell, amount, sell_floor, deadline)
    )
    done = ArbExecution(opportunity, buy_report, sell_report)
    if flatten_deadline is None or abs(done.unhedged) <= DUST:
        return done
    return replace(done, flatten=await _flatten(done, book, accounts, flatten_deadline, max_loss_bps))


async def _flatten(done: ArbExecution, book: ConsolidatedBook, accounts: Mapping[str, TradingAccount], deadline: float,
                   max_loss_bps: float) -> Flatten:
    """Sell what was bought and not sold (or buy back what was sold and not bought): the base the
    buy leg received (less a fee the venue took in base) against what the sell leg sold."""
    buy, sell = _legs(done.opportunity)
    if done.unhedged > 0:
        filled, missing, side, report = buy.venue, sell.venue, Side.SELL, done.buy
    else:
        filled, missing, side, report = sell.venue, buy.venue, Side.BUY, done.sell
    reference = report.avg_price or (buy.price if side is Side.SELL else sell.price)
    open_amount = abs(_base_received(done.buy, accounts) - done.sold)
    return await flatten(book, accounts, side, open_amount, filled_venue=filled, missing_venue=missing,
                         reference=reference, deadline=deadline, max_loss_bps=max_loss_bps)


def _base_received(report: ExecutionReport, accounts: Mapping[str, TradingAccount]) -> float:
    """The base a buy's orders brought in, net of any fee charged in the base (from the journal's
    fills; the report's filled amount where the journal has none)."""
    base = parse_standard(report.request.symbol)[0]
    received = 0.0
    for child in report.children:
        account = accounts.get(child.venue)
        fills = account.journal.fills(child.client_order_id) if account is not None and child.client_order_id else []
        if not fills:
            received += child.filled
            continue
        received += child.filled - sum(float(f.fee) for f in fills if f.fee_currency == base)
    return received


@dataclass(frozen=True, slots=True)
class TriangleExecution:
    opportunity: Opportunity
    legs: tuple[ExecutionReport, ...]  # in trading order; fewer than three when one filled nothing

    @property
    def complete(self) -> bool:
        return len(self.legs) == len(self.opportunity.legs) and all(r.filled > 0 for r in self.legs)

    @property
    def realised_profit(self) -> float | None:
        """What the last leg handed back minus what the first spent, in the start asset, fees
        included; None unless every leg traded."""
        if not self.complete:
            return None
        return _received(self.legs[-1]) - _spent(self.legs[0])

    def as_json(self) -> dict[str, object]:
        return {
            **self.opportunity.as_json(),
            "executed": {
                "legs": [{"symbol": r.request.symbol, "side": r.request.side.value, "filled": r.filled,
                          "all_in_price": r.all_in_avg_price} for r in self.legs],
                "complete": self.complete, "realised_profit": self.realised_profit,
            },
        }


def _spent(report: ExecutionReport) -> float:
    """A buy spends quote (notional and fees), a sell the base it sells."""
    return report.filled * (report.all_in_avg_price or 0.0) if report.request.side is Side.BUY else report.filled


def _received(report: ExecutionReport) -> float:
    """A sell receives quote net of fees; a buy the base, less its fee (valued at the price)."""
    if report.request.side is Side.SELL:
        return report.filled * (report.all_in_avg_price or 0.0)
    return report.filled * (report.avg_price or 0.0) / (report.all_in_avg_price or 1.0)


async def execute_triangular(
    opportunity: Opportunity,
    books: Mapping[str, ConsolidatedBook],
    accounts: Mapping[str, TradingAccount],
    *,
    max_size: float,
    deadline: float = 2.0,
) -> TriangleExecution:
    """Trade the triangle's legs in turn, the first for at most ``max_size`` of its base."""
    _check(opportunity, "triangular", accounts, max_size)
    slack = opportunity.net_bps / 3 / 1e4
    share = min(1.0, max_size / opportunity.legs[0].amount)
    reports: list[ExecutionReport] = []
    for leg in opportunity.legs:
        amount = leg.amount * share
        bound = leg.price * (1 + slack) if leg.side is Side.BUY else leg.price * (1 - slack)
        report = await _take(books[leg.symbol], accounts, leg, amount, bound, deadline)
        reports.append(report)
        if report.filled <= 0:
            break
        share *= report.filled / amount  # the next leg trades only what this one handed on
    return TriangleExecution(opportunity, tuple(reports))


def _check(opportunity: Opportunity, kind: str, accounts: Mapping[str, TradingAccount], max_size: float) -> None:
    if opportunity.kind != kind:
        raise InvalidOrder(f"not a {kind} opportunity: {opportunity.kind}")
    if not max_size > 0:
        raise InvalidOrder(f"max_size must be positive, got {max_size!r}")
    missing = sorted({leg.venue for leg in opportunity.legs if leg.venue not in accounts})
    if missing:
        raise InvalidOrder(f"no trading account on {', '.join(missing)} for {opportunity.legs[0].symbol}")


def _legs(opportunity: Opportunity) -> tuple[Leg, Leg]:
    buys = [leg for leg in opportunity.legs if leg.side is Side.BUY]
    sells = [leg for leg in opportunity.legs if leg.side is Side.SELL]
    if len(buys) != 1 or len(sells) != 1:
        raise InvalidOrder(f"a cross-venue opportunity has one buy and one sell leg, got {len(buys)} and {len(sells)}")
    return buys[0], sells[0]


async def _take(book: ConsolidatedBook, accounts: Mapping[str, TradingAccount], leg: Leg, amount: float,
                bound: float, deadline: float) -> ExecutionReport:
    """One leg through the router, on its venue only, no worse than ``bound``. Each IOC's price
    is the level its amount reaches on the book as the router sends it (within ``bound``), not
    on the book the leg was sized on: by then that book may have moved (the router reads the
    balances first), and a limit from it could leave the order nothing to take."""
    router = Router(book, {leg.venue: accounts[leg.venue]}, fee_rates={leg.venue: leg.fee_rate},
                    fixed_costs={leg.venue: leg.fixed_cost})
    request = RouteRequest(leg.symbol, leg.side, amount, limit=bound, deadline=deadline, max_rounds=2)
    return await router.route(request)


TRADED = ("cross_venue", "triangular")


async def trade_as_they_open(
    books: Mapping[str, ConsolidatedBook],
    accounts: Mapping[str, TradingAccount],
    scanner: Scanner,
    seconds: float,
    log: OpportunityLog,
    *,
    max_size: float,
    max_trades: int | None = None,
    on_entry: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run ``scanner`` for ``seconds``, logging every event, and trade each cross-venue and
    triangular opportunity as it opens (the first ``max_trades``) on ``books`` through
    ``accounts`` (venue -> account), ``max_size`` each; ``on_entry`` sees every entry after its
    event (and its trade)."""
    traded = 0

    async def record(event: Event) -> None:
        nonlocal traded
        entry = log.record(event)
        opp = event.opportunity
        if event.kind == "open" and opp.kind in TRADED and (max_trades is None or traded < max_trades):
            traded += 1
            entry["executed"] = await _trade(opp, books, accounts, max_size)
        if on_entry is not None:
            on_entry({"event": event.kind, **entry})

    await scanner.run(seconds, record)


async def _trade(opp: Opportunity, books: Mapping[str, ConsolidatedBook], accounts: Mapping[str, TradingAccount],
                 max_size: float) -> dict[str, Any]:
    execute = execute_cross_venue if opp.kind == "cross_venue" else execute_triangular
    try:
        done = await execute(opp, books, accounts, max_size=max_size)
    except CrossbookError as exc:
        return {"error": str(exc)[:300]}
    executed = done.as_json()["executed"]
    assert isinstance(executed, dict)
    return executed
