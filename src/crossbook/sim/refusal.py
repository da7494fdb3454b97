"""How a simulated venue refuses a request: one exception for every venue, each venue's codes in
a table in its own module.

A venue module names the refusals it can answer as ``ErrorShape``s (its code, message and HTTP
status), most of them in ``REFUSALS: Mapping[Reason, ErrorShape]`` keyed by the venue-neutral
``Reason``; a handler raises ``shape.refuse()`` (or ``refuse(table, reject)`` for the matching
engine's ``Reject``), and the server renders the ``Refusal`` in the venue's body shape
(``SimVenue.render_refusal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .engine import Reject


class Reason(StrEnum):
    """Why a venue refuses, independent of how the venue says it. The first group is the matching
    engine's ``Reject.reason``s (a ``StrEnum`` member equals its string, so tables keyed by
    ``Reason`` answer a ``Reject``'s reason directly)."""

    INSUFFICIENT_BALANCE = "insufficient_balance"
    UNKNOWN_ORDER = "unknown_order"
    ORDER_FINAL = "order_final"
    UNKNOWN_SYMBOL = "unknown_symbol"
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_EXISTS = "account_exists"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    REDUCE_ONLY_WOULD_INCREASE = "reduce_only_would_increase"
    NO_LIQUIDITY = "no_liquidity"
    BAD_AMOUNT = "bad_amount"
    BAD_NUMBER = "bad_number"
    BAD_ICEBERG = "bad_iceberg"
    BAD_LEVERAGE = "bad_leverage"
    BELOW_MINIMUM = "below_minimum"
    MISSING_PRICE = "missing_price"
    MISSING_STOP = "missing_stop"
    MISSING_QUANTITY = "missing_quantity"
    MISSING_ORDER_ID = "missing_order_id"
    PRICE_OFF_GRID = "price_off_grid"
    STOP_PRICE_OFF_GRID = "stop_price_off_grid"
    AMOUNT_OFF_GRID = "amount_off_grid"
    QUOTE_OFF_GRID = "quote_off_grid"
    ICEBERG_OFF_GRID = "iceberg_visible_amount_off_grid"
    TAKE_PROFIT_OFF_GRID = "take_profit_off_grid"
    STOP_LOSS_OFF_GRID = "stop_loss_off_grid"
    OCO_PRICES = "oco_prices"
    NOT_DERIVATIVE = "not_derivative"
    POSITION_OPEN = "position_open"
    POSITION_SIDE_REQUIRED = "position_side_required"
    POSITION_SIDE_IN_ONE_WAY = "position_side_in_one_way"
    # the gateway's: limits and authentication
    RATE_LIMITED = "rate_limited"
    BANNED = "banned"
    MISSING_CREDENTIALS = "missing_credentials"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    BAD_PASSPHRASE = "bad_passphrase"
    STALE_TIMESTAMP = "stale_timestamp"
    PERMISSION_DENIED = "permission_denied"
    BAD_PARAMETER = "bad_parameter"


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """One refusal as one venue says it: its code (number, string or label), message and HTTP
    status, and a second code where the venue gives two (Coinbase's ``preview_failure_reason``).
    The body around them is the venue's ``render_refusal``."""

    code: int | str
    message: str
    status: int = 200
    detail: str = ""

    def refuse(
        self, message: str | None = None, headers: Mapping[str, str] | None = None, param: tuple[str, str] | None = None
    ) -> Refusal:
        """This refusal, with a more specific message where the venue gives one (and the
        parameter it names, with the value given, where the venue's body says which)."""
        return Refusal(self, self.message if message is None else message, headers, param)

    def reworded(self, message: str) -> ErrorShape:
        return ErrorShape(self.code, message, self.status, self.detail)


class Refusal(Exception):
    """A request a simulated venue refuses; the venue's server renders it in the venue's shape."""

    def __init__(
        self, shape: ErrorShape, message: str | None = None, headers: Mapping[str, str] | None = None,
        param: tuple[str, str] | None = None,
    ) -> None:
        self.shape = shape
        self.message = shape.message if message is None else message
        self.headers: dict[str, str] = dict(headers or {})
        self.param = param  # the parameter the refusal names and the value it was given
        super().__init__(self.message)

    @property
    def code(self) -> int | str:
        return self.shape.code

    @property
    def status(self) -> int:
        return self.shape.status


def reason_of(reject: Reject) -> Reason | None:
    """The engine's reason as a ``Reason`` (None for one no table knows)."""
    try:
        return Reason(reject.reason)
    except ValueError:
        return None


def refuse(table: Mapping[Reason, ErrorShape], reject: Reject, fallback: ErrorShape | None = None) -> Refusal:
    """The matching engine's ``reject`` as the venue says it: the table's shape for its reason,
    else ``fallback`` (``fallback.reworded(str(reject))`` passes the engine's own message on)."""
    reason = reason_of(reject)
    shape = table.get(reason) if reason is not None else None
    if shape is not None:
        return shape.refuse()
    if fallback is None:
        raise KeyError(f"no refusal for the engine's reason {reject.reason!r}")
    return fallback.refuse()
