"""Bybit's refusals as the simulator answers them: HTTP 200 and the v5 envelope with Bybit's
``retCode`` and ``retMsg`` (the spot codes; ``LINEAR_ERRORS`` has the derivatives')."""

from __future__ import annotations

from ...refusal import ErrorShape, Reason
from .wire import ERRORS, LINEAR_ERRORS, PARAMS_ERROR, RATE_LIMITED, bybit_error

REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_SYMBOL: ErrorShape(170121, "Invalid symbol."),
    Reason.RATE_LIMITED: RATE_LIMITED,
    Reason.BAD_PARAMETER: PARAMS_ERROR,
}
CANCEL_UNKNOWN = REFUSALS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers

__all__ = ["CANCEL_UNKNOWN", "ERRORS", "LINEAR_ERRORS", "PARAMS_ERROR", "RATE_LIMITED", "REFUSALS", "bybit_error"]
