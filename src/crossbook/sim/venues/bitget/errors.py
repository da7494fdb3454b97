"""Bitget's refusals as the simulator answers them: ``{"code", "msg", "requestTime", "data": null}``
with HTTP 400 (429 for the rate limit)."""

from __future__ import annotations

import time

from aiohttp import web

from ...refusal import ErrorShape, Reason, Refusal
from ...server import json_response

# the matching engine's reasons; each code is one ccxt 4.5.90 maps to the matching exception
# (43012 InsufficientFunds, 43001 OrderNotFound, 41103/40808/45110/43011 InvalidOrder)
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("43012", "Insufficient balance", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(
        "43011", "The parameter does not meet the specification: the post_only order would take liquidity", 400
    ),
    Reason.PRICE_OFF_GRID: ErrorShape("41103", "param price scale error error", 400),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape("41103", "param price scale error error", 400),
    Reason.AMOUNT_OFF_GRID: ErrorShape("40808", "Parameter verification exception size checkBDScale error", 400),
    Reason.BAD_AMOUNT: ErrorShape("45110", "less than the minimum order quantity", 400),
    Reason.BAD_NUMBER: ErrorShape("40017", "Parameter verification failed", 400),
    Reason.MISSING_PRICE: ErrorShape("40019", "Parameter price cannot be empty", 400),
    Reason.MISSING_STOP: ErrorShape("40019", "Parameter triggerPrice cannot be empty", 400),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape("40500", "Client_oid check error", 400),
    Reason.NO_LIQUIDITY: ErrorShape("43011", "The parameter does not meet the specification: no liquidity", 400),
    Reason.UNKNOWN_ORDER: ErrorShape("43001", "The order does not exist", 400),
    Reason.ORDER_FINAL: ErrorShape("43001", "The order does not exist", 400),
}
BAD_PARAMETER = ErrorShape("40017", "Parameter verification failed", 400)
CLASSIC_ACCOUNT = ErrorShape("40084", "You are in Classic Account mode, and the Unified Account API is not supported", 400)
PLAN_NOT_FOUND = ErrorShape("43025", "Plan order does not exist", 400)
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_SYMBOL: ErrorShape("40034", "Parameter {symbol} does not exist", 400),
    Reason.BAD_PARAMETER: BAD_PARAMETER,
    Reason.STALE_TIMESTAMP: ErrorShape("40008", "Request timestamp expired", 400),
    Reason.UNKNOWN_KEY: ErrorShape("40006", "Invalid ACCESS_KEY", 400),
    Reason.BAD_PASSPHRASE: ErrorShape("40012", "apikey/password is incorrect", 400),
    Reason.BAD_SIGNATURE: ErrorShape("40009", "sign signature error", 400),
    Reason.PERMISSION_DENIED: ErrorShape("40014", "Incorrect permissions", 400),
    Reason.RATE_LIMITED: ErrorShape("429", "Too Many Requests", 429),
}
CANCEL_UNKNOWN = REFUSALS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers


def bitget_error(code: str, msg: str, status: int = 400) -> Refusal:
    """A refusal of Bitget's with no entry in the tables (a parameter's own message, one endpoint's code)."""
    return ErrorShape(code, msg, status).refuse()


def unknown_symbol(native: str) -> Refusal:
    shape = REFUSALS[Reason.UNKNOWN_SYMBOL]
    return shape.refuse(shape.message.format(symbol=native))


def render(refusal: Refusal) -> web.Response:
    body = {"code": refusal.code, "msg": refusal.message, "requestTime": int(time.time() * 1000), "data": None}
    return json_response(body, status=refusal.status)
