"""OKX's refusals, as the simulator answers them: ``{"code", "msg", "data": []}`` with HTTP 200 for
a request OKX read and turned down, 400 for a malformed one, and ``{"msg", "code"}`` with HTTP 401
for an authentication failure; an order of a batch carries its own ``sCode`` / ``sMsg``."""

from __future__ import annotations

from aiohttp import web

from ...refusal import ErrorShape, Reason, Refusal
from ...server import json_response

RATE_LIMITED = "50011"  # the code ccxt and the client's Breach read as a rate limit
# what the venue answers, by why it refuses; {ccy} is the currency that ran short
REFUSALS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("51008", "Order failed. Insufficient {ccy} balance in account."),
    Reason.AMOUNT_OFF_GRID: ErrorShape("51121", "Order quantity must be a multiple of the lot size."),
    Reason.PRICE_OFF_GRID: ErrorShape("51000", "Parameter px error"),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape("51016", "Duplicated clOrdId"),
    Reason.NO_LIQUIDITY: ErrorShape("51006", "Order price is not within the price limit"),
    Reason.REDUCE_ONLY_WOULD_INCREASE: ErrorShape(
        "51169", "Order failed because you don't have any positions in this direction for this contract to reduce or close."
    ),
    Reason.POSITION_SIDE_REQUIRED: ErrorShape("51000", "Parameter posSide error"),
    Reason.POSITION_SIDE_IN_ONE_WAY: ErrorShape("51000", "Parameter posSide error"),
    Reason.TAKE_PROFIT_OFF_GRID: ErrorShape("51000", "Parameter tpTriggerPx error"),
    Reason.STOP_LOSS_OFF_GRID: ErrorShape("51000", "Parameter slTriggerPx error"),
    Reason.UNKNOWN_SYMBOL: ErrorShape("51001", "Instrument ID does not exist"),
    Reason.UNKNOWN_ORDER: ErrorShape("51603", "Order does not exist"),
    Reason.RATE_LIMITED: ErrorShape(RATE_LIMITED, "Too Many Requests", 429),
    Reason.BAD_PARAMETER: ErrorShape("51000", "Parameter error", 400),
    Reason.UNKNOWN_KEY: ErrorShape("50111", "Invalid OK-ACCESS-KEY", 401),
    Reason.BAD_PASSPHRASE: ErrorShape("50105", "OK-ACCESS-PASSPHRASE incorrect", 401),
    Reason.STALE_TIMESTAMP: ErrorShape("50102", "Timestamp request expired", 401),
    Reason.BAD_SIGNATURE: ErrorShape("50113", "Invalid Sign", 401),
    Reason.PERMISSION_DENIED: ErrorShape("50120", "API key doesn't have permission to use this function", 401),
}
# the reasons an order's placement answers with their own code (others are a parameter error)
ORDER_REFUSALS = frozenset({
    Reason.INSUFFICIENT_BALANCE, Reason.AMOUNT_OFF_GRID, Reason.PRICE_OFF_GRID, Reason.DUPLICATE_CLIENT_ID,
    Reason.NO_LIQUIDITY, Reason.REDUCE_ONLY_WOULD_INCREASE, Reason.POSITION_SIDE_REQUIRED,
    Reason.POSITION_SIDE_IN_ONE_WAY, Reason.TAKE_PROFIT_OFF_GRID, Reason.STOP_LOSS_OFF_GRID,
})
# why an amend fails -> its sCode and sMsg
AMEND_REFUSALS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("51502", "Order modification failed for insufficient margin or balance"),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(
        "51511", "Modification failed as the order price did not meet the requirement for Post Only"
    ),
}
# a cancel of an order that is gone (unknown, filled or canceled) answers with one sCode
CANCEL_REFUSED = ErrorShape("51400", "Order cancellation failed as the order has been filled, canceled or does not exist.")
CANCEL_REFUSALS: dict[Reason, ErrorShape] = {Reason.UNKNOWN_ORDER: CANCEL_REFUSED, Reason.ORDER_FINAL: CANCEL_REFUSED}
CANCEL_UNKNOWN = CANCEL_REFUSED  # what a cancel of an order the venue does not know answers
AUTH = 401


def okx_error(code: str, msg: str, status: int = 200) -> Refusal:
    """A refusal of OKX's with no entry in ``REFUSALS`` (a parameter's own message, a code of one endpoint)."""
    return ErrorShape(code, msg, status).refuse()


def render(refusal: Refusal) -> web.Response:
    if refusal.status == AUTH:  # OKX answers an authentication failure without ``data``
        return json_response({"msg": refusal.message, "code": refusal.code}, status=AUTH)
    return json_response({"code": refusal.code, "msg": refusal.message, "data": []}, status=refusal.status)
