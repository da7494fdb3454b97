"""Closing what a cross-venue execution left open when one leg filled more than the other.

The missing leg is first traded on the other venues through the router, no worse than
``max_loss_bps`` from the price the filled leg got (the loss is small and known); whatever that
leaves is unwound on the filled leg's own venue, no worse than ``max_unwind_bps`` from it; all
within ``deadline`` seconds. Every flatten order is an ordinary journaled IOC, tagged with the
journal note ``flatten`` so it can be found (``Journal.noted("flatten")``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..book.consolidated import ConsolidatedBook
from ..errors import CrossbookError
from ..model import Side
from ..routing.executor import ExecutionReport, Router, RouteRequest
from ..trading.account import VenueAccount
from ..trading.oneinch_account import ChainAccount

FLATTEN_NOTE = "flatten"
DUST = 1e-9  # base units: less than this open is flat
TradingAccount = VenueAccount | ChainAccount  # what the router trades through: an exchange's, or a chain's

Step = Literal["hedge", "unwind"]


@dataclass(frozen=True, slots=True)
class FlattenStep:
    """One attempt: ``hedge`` (the missing leg on the other venues) or ``unwind`` (the filled leg
    reversed on its venue), as the router executed it; ``error`` when it could not be sent."""

    how: Step
    report: ExecutionReport | None
    error: str = ""

    @property
    def filled(self) -> float:
        return self.report.filled if self.report is not None else 0.0

    @property
    def venues(self) -> list[str]:
        if self.report is None:
            return []
        return sorted({c.venue for c in self.report.children if c.filled > 0})

    def as_json(self) -> dict[str, object]:
        report = self.report
        return {"how": self.how, "filled": self.filled, "venues": self.venues,
                "all_in_price": report.all_in_avg_price if report is not None else None,
                "client_order_ids": [c.client_order_id for c in report.children if c.client_order_id] if report else [],
                **({"error": self.error} if self.error else {})}


@dataclass(frozen=True, slots=True)
class Flatten:
    """How an open amount (``side`` to trade, ``amount`` base units) was closed."""

    side: Side
    amount: float
    steps: tuple[FlattenStep, ...]

    @property
    def filled(self) -> float:
        return sum(step.filled for step in self.steps)

    @property
    def remaining(self) -> float:
        """Base units still open after the flatten (0 when flat)."""
        left = self.amount - self.filled
        return left if left > DUST else 0.0

    @property
    def venue(self) -> str | None:
        """Where it was flattened (the venues joined by commas when the router split it)."""
        venues = [v for step in self.steps for v in step.venues]
        return ", ".join(dict.fromkeys(venues)) or None

    def trades(self) -> list[tuple[Side, float, float]]:
        """(side, base filled, all-in average price) of every step that filled."""
        return [(self.side, s.filled, s.report.all_in_avg_price or 0.0) for s in self.steps
                if s.report is not None and s.filled > 0]

    def as_json(self) -> dict[str, object]:
        return {"side": self.side.value, "amount": self.amount, "filled": self.filled, "venue": self.venue,
                "remaining": self.remaining, "steps": [s.as_json() for s in self.steps]}


async def flatten(
    book: ConsolidatedBook,
    accounts: Mapping[str, TradingAccount],
    side: Side,
    amount: float,
    *,
    filled_venue: str,
    missing_venue: str,
    reference: float,
    deadline: float = 5.0,
    max_loss_bps: float = 50.0,
    max_unwind_bps: float = 200.0,
) -> Flatten:
    """Trade ``amount`` base units of ``side`` to close an open position: first on every venue but
    ``filled_venue`` and ``missing_venue`` (where the missing leg failed), bounded at
    ``max_loss_bps`` from ``reference`` (the filled leg's average price), then on ``filled_venue``
    bounded at ``max_unwind_bps``; ``deadline`` seconds for both."""
    until = time.monotonic() + deadline
    others = {v: a for v, a in accounts.items() if v not in (filled_venue, missing_venue) and v in book.books}
    steps: list[FlattenStep] = []
    left = amount
    plan: list[tuple[Step, Mapping[str, TradingAccount], float]] = [
        ("hedge", others, max_loss_bps),
        ("unwind", {filled_venue: accounts[filled_venue]}, max_unwind_bps),
    ]
    for how, venues, bps in plan:
        seconds = until - time.monotonic()
        if left <= DUST or seconds <= 0 or not venues:
            continue
        step = await _step(book, venues, how, side, left, _bound(side, reference, bps), seconds)
        steps.append(step)
        left -= step.filled
    result = Flatten(side, amount, tuple(steps))
    _tag(accounts, result)
    return result


def _bound(side: Side, reference: float, bps: float) -> float:
    """A sell no lower, a buy no higher, than ``bps`` from ``reference``."""
    return reference * (1 - bps / 1e4) if side is Side.SELL else reference * (1 + bps / 1e4)


async def _step(book: ConsolidatedBook, venues: Mapping[str, TradingAccount], how: Step, side: Side, amount: float,
                limit: float, seconds: float) -> FlattenStep:
    router = Router(book, dict(venues))
    try:
        request = RouteRequest(book.symbol, side, amount, limit=limit, deadline=seconds)
        return FlattenStep(how, await router.route(request))
    except CrossbookError as exc:
        return FlattenStep(how, None, str(exc)[:300])


def _tag(accounts: Mapping[str, TradingAccount], result: Flatten) -> None:
    """Note every flatten order in its journal, with what it closed."""
    for step in result.steps:
        if step.report is None:
            continue
        for child in step.report.children:
            account = accounts.get(child.venue)
            if child.client_order_id and account is not None and account.journal.order(child.client_order_id):
                account.journal.record_note(child.client_order_id, FLATTEN_NOTE,
                                            {"how": step.how, "side": result.side.value, "open": result.amount})
