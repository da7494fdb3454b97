"""Binance's refusals as the simulator answers them: ``{"code", "msg"}`` with the HTTP status (400
for a request Binance read and turned down, 401 for a key without the right, 429/418 for limits)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal
from ...server import json_response

# the matching engine's reasons, as Binance spot answers them
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(-2010, "Account has insufficient balance for requested action.", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(-2010, "Order would immediately match and take.", 400),
    Reason.PRICE_OFF_GRID: ErrorShape(-1013, "Filter failure: PRICE_FILTER", 400),
    Reason.AMOUNT_OFF_GRID: ErrorShape(-1013, "Filter failure: LOT_SIZE", 400),
    Reason.ICEBERG_OFF_GRID: ErrorShape(-1013, "Filter failure: LOT_SIZE", 400),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape(-1013, "Filter failure: PRICE_FILTER", 400),
    Reason.BAD_AMOUNT: ErrorShape(-1013, "Invalid quantity.", 400),
    Reason.BAD_NUMBER: ErrorShape(-1100, "Illegal characters found in a parameter.", 400),
    Reason.MISSING_PRICE: ErrorShape(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.", 400),
    Reason.MISSING_STOP: ErrorShape(-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.", 400),
    Reason.BAD_ICEBERG: ErrorShape(-1013, "Filter failure: ICEBERG_PARTS", 400),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape(-2010, "Duplicate order sent.", 400),
    Reason.NO_LIQUIDITY: ErrorShape(-2010, "Market is closed.", 400),
    Reason.UNKNOWN_ORDER: ErrorShape(-2013, "Order does not exist.", 400),
    Reason.ORDER_FINAL: ErrorShape(-2011, "Unknown order sent.", 400),
    Reason.OCO_PRICES: ErrorShape(-2010, "The relationship of the prices for the orders is not correct.", 400),
}
# where USD-M answers differently from spot
FUTURES_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(-2019, "Margin is insufficient.", 400),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history",
        400,
    ),
    Reason.REDUCE_ONLY_WOULD_INCREASE: ErrorShape(-2022, "ReduceOnly Order is rejected.", 400),
    Reason.POSITION_SIDE_REQUIRED: ErrorShape(-4061, "Order's position side does not match user's setting.", 400),
    Reason.POSITION_SIDE_IN_ONE_WAY: ErrorShape(-4061, "Order's position side does not match user's setting.", 400),
    Reason.UNKNOWN_ORDER: ErrorShape(-2013, "Order does not exist.", 400),
    Reason.ORDER_FINAL: ErrorShape(-2013, "Order does not exist.", 400),
}
# a transfer between the master and its sub-accounts
TRANSFER_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(-3041, "Balance is not enough", 400),
    Reason.BAD_AMOUNT: ERRORS[Reason.BAD_AMOUNT],
}
# a cancel of an order Binance does not know answers as one already final
CANCEL_ERRORS: dict[Reason, ErrorShape] = {Reason.UNKNOWN_ORDER: ERRORS[Reason.ORDER_FINAL]}
CANCEL_UNKNOWN = CANCEL_ERRORS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers
REJECTED = ErrorShape(-2010, "New order rejected.", 400)  # a reason no table names: the engine's own message
INVALID_KEY = ErrorShape(-2015, "Invalid API-key, IP, or permissions for action.", 401)
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_SYMBOL: ErrorShape(-1121, "Invalid symbol.", 400),
    Reason.UNKNOWN_KEY: INVALID_KEY,
    Reason.PERMISSION_DENIED: INVALID_KEY,
    Reason.BAD_SIGNATURE: ErrorShape(-1022, "Signature for this request is not valid.", 400),
    Reason.STALE_TIMESTAMP: ErrorShape(-1021, "Timestamp for this request is outside of the recvWindow.", 400),
    Reason.RATE_LIMITED: ErrorShape(
        -1003, "Too much request weight used; please use WebSocket Streams for live updates to avoid polling the API.", 429
    ),
    Reason.BANNED: ErrorShape(
        -1003,
        "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans.",
        418,
    ),
}
ORDER_RATE_LIMITED = ErrorShape(-1015, "Too many new orders; current limit exceeded.", 429)  # the ORDERS pool's


def binance_error(code: int, msg: str, status: int = 400) -> Refusal:
    """A refusal of Binance's with no entry in the tables (a parameter's own message, one endpoint's code)."""
    return ErrorShape(code, msg, status).refuse()


def rejected(exc: Reject, *tables: dict[Reason, ErrorShape]) -> Refusal:
    """The engine's reject as the first table that knows its reason says it, else -2010 with the engine's message."""
    for table in tables:
        if exc.reason in table:
            return table[Reason(exc.reason)].refuse()
    return REJECTED.refuse(str(exc))


def body_of(refusal: Refusal) -> dict[str, Any]:
    return {"code": refusal.code, "msg": refusal.message}


def render(refusal: Refusal) -> web.Response:
    return json_response(body_of(refusal), status=refusal.status)
