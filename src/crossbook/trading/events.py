"""What an account tells its observers: an order that ended (or failed to be sent) and each new fill.

Trading never imports whoever listens (metrics, the service): the desk subscribes them. A listener
that raises is logged and never stops the order it heard about.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from ..model import Fill, OrderStatus

log = logging.getLogger(__name__)
E = TypeVar("E")


class Outcome(str, Enum):
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"  # ended (canceled or expired) with part of it filled
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"  # refused by the venue (or a setting it needed was)
    ERROR = "error"  # no answer: its fate is left to reconciliation


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    venue: str
    account: str
    symbol: str
    client_order_id: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A fill the journal had not seen, with its value in the instrument's quote currency."""

    fill: Fill
    account: str
    quote: str
    notional: Decimal


def ended_as(status: OrderStatus, filled: Decimal) -> Outcome | None:
    """The outcome of an order that reached the final ``status`` with ``filled`` of it done;
    None while it is not final."""
    if not status.final:
        return None
    if status is OrderStatus.FILLED:
        return Outcome.FILLED
    if status is OrderStatus.REJECTED:
        return Outcome.REJECTED
    if filled > 0:
        return Outcome.PARTIALLY_FILLED
    return Outcome.CANCELED if status is OrderStatus.CANCELED else Outcome.EXPIRED


class AccountEvents:
    """One account's listeners: ``on_outcome`` hears every order that ends, ``on_fill`` every new fill."""

    def __init__(self) -> None:
        self._outcome_listeners: list[Callable[[OrderOutcome], None]] = []
        self._fill_listeners: list[Callable[[FillEvent], None]] = []

    def subscribe(self, on_outcome: Callable[[OrderOutcome], None] | None = None,
                  on_fill: Callable[[FillEvent], None] | None = None) -> None:
        """Add listeners; one already subscribed is not added twice."""
        if on_outcome is not None and on_outcome not in self._outcome_listeners:
            self._outcome_listeners.append(on_outcome)
        if on_fill is not None and on_fill not in self._fill_listeners:
            self._fill_listeners.append(on_fill)

    def outcome(self, event: OrderOutcome) -> None:
        for listener in self._outcome_listeners:
            _call(listener, event)

    def fill(self, event: FillEvent) -> None:
        for listener in self._fill_listeners:
            _call(listener, event)


def _call(listener: Callable[[E], None], event: E) -> None:
    try:
        listener(event)
    except Exception:  # an observer's bug must not fail the order it observed
        log.exception("account event listener %r failed on %r", listener, event)
