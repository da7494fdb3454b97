"""Coinbase's refusals as the simulator answers them. The gateway's (a malformed request, a missing
scope, an unknown id, the rate limit) are ``{"error", "error_details", "message"}`` with the HTTP
status; an order Coinbase's order system turns down is HTTP 200, ``success: false`` and an
``error_response`` with the error, message and ``preview_failure_reason`` (the shape's ``detail``).
An authentication failure is a bare 401 (``wire.unauthorized``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal, refuse
from ...server import json_response

ORDER_REFUSED = 200  # the status of an order's refusal: the body says ``success: false``
# the matching engine's reasons, as an order's error_response names them
ORDER_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(
        "INSUFFICIENT_FUND", "Insufficient balance in source account", ORDER_REFUSED, "PREVIEW_INSUFFICIENT_FUND"
    ),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(
        "INVALID_LIMIT_PRICE_POST_ONLY", "Invalid limit price for post only order", ORDER_REFUSED, "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"
    ),
    Reason.PRICE_OFF_GRID: ErrorShape(
        "INVALID_PRICE_PRECISION", "Invalid price precision", ORDER_REFUSED, "PREVIEW_INVALID_PRICE_PRECISION"
    ),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape(
        "INVALID_PRICE_PRECISION", "Invalid stop price precision", ORDER_REFUSED, "PREVIEW_INVALID_STOP_PRICE_PRECISION"
    ),
    Reason.AMOUNT_OFF_GRID: ErrorShape("INVALID_SIZE_PRECISION", "Invalid size precision", ORDER_REFUSED, "PREVIEW_INVALID_SIZE_PRECISION"),
    Reason.BAD_AMOUNT: ErrorShape("UNKNOWN_FAILURE_REASON", "Base size is too small", ORDER_REFUSED, "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"),
    Reason.NO_LIQUIDITY: ErrorShape("INVALID_NO_LIQUIDITY", "Not enough liquidity", ORDER_REFUSED, "UNKNOWN_PREVIEW_FAILURE_REASON"),
}
UNKNOWN_FAILURE = ErrorShape("UNKNOWN_FAILURE_REASON", "", ORDER_REFUSED, "UNKNOWN_PREVIEW_FAILURE_REASON")
INVALID_PRODUCT = ErrorShape("INVALID_PRODUCT_ID", "Invalid product_id", ORDER_REFUSED, "PREVIEW_INVALID_PRODUCT_ID")
INVALID_SIDE = ErrorShape("INVALID_SIDE", "Invalid side", ORDER_REFUSED, "PREVIEW_INVALID_SIDE")
UNSUPPORTED_CONFIGURATION = ErrorShape(
    "UNSUPPORTED_ORDER_CONFIGURATION", "{name} is not supported by the simulator", ORDER_REFUSED, "PREVIEW_INVALID_ORDER_CONFIG"
)
QUOTE_TOO_SMALL = ErrorShape("UNKNOWN_FAILURE_REASON", "Quote size is too small", ORDER_REFUSED, "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL")
STOP_BELOW_LAST = ErrorShape("UNKNOWN_FAILURE_REASON", "", ORDER_REFUSED, "PREVIEW_STOP_PRICE_BELOW_LAST_TRADE_PRICE")
STOP_ABOVE_LAST = ErrorShape("UNKNOWN_FAILURE_REASON", "", ORDER_REFUSED, "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE")
# a cancel's failure_reason, by why it failed
CANCEL_FAILURES: dict[Reason, str] = {Reason.UNKNOWN_ORDER: "UNKNOWN_CANCEL_ORDER", Reason.ORDER_FINAL: "DUPLICATE_CANCEL_REQUEST"}
# what a cancel of an unknown order answers: its result's failure_reason (the batch answer is HTTP 200)
CANCEL_UNKNOWN = ErrorShape(CANCEL_FAILURES[Reason.UNKNOWN_ORDER], "", ORDER_REFUSED)
# the gateway's
REFUSALS: dict[Reason, ErrorShape] = {
    **ORDER_ERRORS,
    Reason.UNKNOWN_SYMBOL: INVALID_PRODUCT,
    Reason.UNKNOWN_ORDER: ErrorShape("NOT_FOUND", "order with this orderID was not found", 404),
    Reason.UNKNOWN_ACCOUNT: ErrorShape("NOT_FOUND", "portfolio not found", 404),
    Reason.BAD_PARAMETER: ErrorShape("INVALID_ARGUMENT", "invalid argument", 400),
    Reason.PERMISSION_DENIED: ErrorShape("PERMISSION_DENIED", "Missing required scopes", 403),
    Reason.RATE_LIMITED: ErrorShape("rate_limit_exceeded", "Too many requests", 429),
}
TRANSFER_SHORT = ErrorShape("INSUFFICIENT_FUND", "Insufficient balance in source account", 400)


def bad_argument(message: str) -> Refusal:
    """A request the gateway refuses before the order system sees it: 400 ``INVALID_ARGUMENT``."""
    return REFUSALS[Reason.BAD_PARAMETER].refuse(message)


def order_refusal(reject: Reject) -> Refusal:
    return refuse(ORDER_ERRORS, reject, UNKNOWN_FAILURE.reworded(str(reject)))


def order_failure(refusal: Refusal, configuration: Any) -> dict[str, Any]:
    """A refused order's answer: ``success: false`` with its ``error_response``."""
    return {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": refusal.code,
            "message": refusal.message,
            "error_details": "",
            "preview_failure_reason": refusal.shape.detail,
            "new_order_failure_reason": refusal.code,
        },
        "order_configuration": configuration,
    }


def render(refusal: Refusal) -> web.Response:
    body = {"error": refusal.code, "error_details": refusal.message, "message": refusal.message}
    return json_response(body, status=refusal.status)
