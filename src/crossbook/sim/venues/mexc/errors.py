"""MEXC's refusals as the simulator answers them: ``{"code", "msg"}`` with HTTP 400 (429 for the
rate limit)."""

from __future__ import annotations

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal
from ...server import json_response

ILLEGAL = ErrorShape(700008, "Illegal characters found in parameter.", 400)
OVERSOLD = ErrorShape(30005, "Oversold", 400)  # a sell beyond the base balance
PARAM_INVALID = ErrorShape(400, "param invalid", 400)  # a reason no table names: the engine's message
# the matching engine's reasons (and this simulator's own lookups')
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(30004, "Insufficient position", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(30041, "current order type can not place order", 400),
    Reason.PRICE_OFF_GRID: ErrorShape(400, "price scale is invalid", 400),
    Reason.AMOUNT_OFF_GRID: ErrorShape(400, "quantity scale is invalid", 400),
    Reason.QUOTE_OFF_GRID: ErrorShape(400, "amount scale is invalid", 400),
    Reason.BAD_NUMBER: ILLEGAL,
    Reason.MISSING_PRICE: ErrorShape(700004, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.", 400),
    Reason.MISSING_QUANTITY: ErrorShape(700004, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.", 400),
    Reason.MISSING_ORDER_ID: ErrorShape(700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!", 400),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape(-2010, "Duplicate order sent.", 400),
    Reason.NO_LIQUIDITY: ErrorShape(30010, "no valid trade price", 400),
    Reason.UNKNOWN_SYMBOL: ErrorShape(-1121, "Invalid symbol.", 400),
    Reason.UNKNOWN_ORDER: ErrorShape(-2013, "Order does not exist.", 400),
    Reason.ORDER_FINAL: ErrorShape(-2011, "Unknown order sent.", 400),
}
# a cancel of an order MEXC does not know answers as one already final
CANCEL_ERRORS: dict[Reason, ErrorShape] = {Reason.UNKNOWN_ORDER: ERRORS[Reason.ORDER_FINAL]}
CANCEL_UNKNOWN = CANCEL_ERRORS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.BAD_PARAMETER: ILLEGAL,
    Reason.MISSING_CREDENTIALS: ErrorShape(400, "api key required", 400),
    Reason.UNKNOWN_KEY: ErrorShape(10072, "Api key info invalid", 400),
    Reason.BAD_SIGNATURE: ErrorShape(700002, "Signature for this request is not valid.", 400),
    Reason.STALE_TIMESTAMP: ErrorShape(700003, "Timestamp for this request is outside of the recvWindow.", 400),
    Reason.PERMISSION_DENIED: ErrorShape(700007, "No permission to access the endpoint.", 400),
    Reason.RATE_LIMITED: ErrorShape(429, "Too Many Requests", 429),
}


def mexc_error(code: int, msg: str, status: int = 400) -> Refusal:
    """A refusal of MEXC's with no entry in the tables (a parameter's own message, one endpoint's code)."""
    return ErrorShape(code, msg, status).refuse()


def mandatory(name: str) -> Refusal:
    return mexc_error(700004, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def rejected(reject: Reject, *tables: dict[Reason, ErrorShape]) -> Refusal:
    """The engine's reject as the first table that knows its reason says it, else code 400 with the engine's message."""
    for table in tables:
        if reject.reason in table:
            return table[Reason(reject.reason)].refuse()
    return PARAM_INVALID.refuse(str(reject))


def render(refusal: Refusal) -> web.Response:
    return json_response({"code": refusal.code, "msg": refusal.message}, status=refusal.status)
