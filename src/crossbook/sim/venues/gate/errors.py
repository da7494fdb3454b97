"""Gate's refusals as the simulator answers them: ``{"label", "message"}`` with the HTTP status;
ccxt maps the label to its exception."""

from __future__ import annotations

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal, refuse
from ...server import json_response

# the matching engine's reasons, in Gate's spot labels
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("BALANCE_NOT_ENOUGH", "Not enough balance", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape("POC_FILL_IMMEDIATELY", "Order would match and take immediately so it's cancelled", 400),
    Reason.PRICE_OFF_GRID: ErrorShape("INVALID_PRECISION", "Invalid precision", 400),
    Reason.AMOUNT_OFF_GRID: ErrorShape("INVALID_PRECISION", "Invalid precision", 400),
    Reason.ICEBERG_OFF_GRID: ErrorShape("INVALID_PRECISION", "Invalid precision", 400),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape("INVALID_PRECISION", "Invalid precision", 400),
    Reason.BAD_AMOUNT: ErrorShape("INVALID_PARAM_VALUE", "Invalid parameter `amount`: must be positive", 400),
    Reason.BAD_NUMBER: ErrorShape("INVALID_PARAM_VALUE", "Invalid parameter value: not a finite number", 400),
    Reason.MISSING_PRICE: ErrorShape("MISSING_REQUIRED_PARAM", "Missing required parameter: price", 400),
    Reason.BAD_ICEBERG: ErrorShape("INVALID_PARAM_VALUE", "Invalid parameter `iceberg`: must be below the amount", 400),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape("REPEATED_CREATION", "Repeated creation", 400),
    Reason.NO_LIQUIDITY: ErrorShape("ORDER_BOOK_NOT_FOUND", "Insufficient liquidity", 400),
}
# the same reasons on /futures/usdt, in Gate's futures labels
FUTURES_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("INSUFFICIENT_AVAILABLE", "Insufficient available balance", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape("ORDER_POC_IMMEDIATE", "Order would match and take immediately", 400),
    Reason.REDUCE_ONLY_WOULD_INCREASE: ErrorShape("INCREASE_POSITION", "Reduce-only order would increase the position", 400),
    Reason.POSITION_OPEN: ErrorShape("POSITION_HOLDING", "Positions or orders are open", 400),
    Reason.NO_LIQUIDITY: ErrorShape("CONTRACT_NO_COUNTER", "No counterparty orders", 400),
    Reason.BAD_LEVERAGE: ErrorShape("LEVERAGE_TOO_HIGH", "Leverage out of range", 400),
}
INVALID_PARAM = ErrorShape("INVALID_PARAM_VALUE", "Invalid parameter value", 400)
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_SYMBOL: ErrorShape("INVALID_CURRENCY_PAIR", "Invalid currency pair {pair}", 400),
    Reason.UNKNOWN_ORDER: ErrorShape("ORDER_NOT_FOUND", "Order with ID {ref} not found", 404),
    Reason.BAD_PARAMETER: INVALID_PARAM,
    Reason.MISSING_CREDENTIALS: ErrorShape("MISSING_REQUIRED_HEADER", "Missing required header: {name}", 400),
    Reason.STALE_TIMESTAMP: ErrorShape("REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds {window}", 403),
    Reason.UNKNOWN_KEY: ErrorShape("INVALID_KEY", "Invalid key provided", 401),
    Reason.BAD_SIGNATURE: ErrorShape("INVALID_SIGNATURE", "Signature mismatch", 401),
    Reason.PERMISSION_DENIED: ErrorShape("READ_ONLY", "API key is read-only", 403),
    Reason.RATE_LIMITED: ErrorShape("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429),
}
CANCEL_UNKNOWN = REFUSALS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers


def gate_error(label: str, message: str, status: int = 400) -> Refusal:
    """A refusal of Gate's with no entry in the tables (a parameter's own message, one endpoint's label)."""
    return ErrorShape(label, message, status).refuse()


def refused(reason: Reason, **fields: object) -> Refusal:
    """``REFUSALS[reason]`` with its message's ``{fields}`` filled in."""
    shape = REFUSALS[reason]
    return shape.refuse(shape.message.format(**fields))


def rejected(reject: Reject, table: dict[Reason, ErrorShape]) -> Refusal:
    """The engine's reject in ``table``, else ``INVALID_PARAM_VALUE`` with the engine's message."""
    return refuse(table, reject, INVALID_PARAM.reworded(str(reject)))


def render(refusal: Refusal) -> web.Response:
    return json_response({"label": refusal.code, "message": refusal.message}, status=refusal.status)
