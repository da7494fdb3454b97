"""KuCoin's refusals as the simulator answers them: ``{"code", "msg"}``, business errors with HTTP
200 (authentication and permission with 401/403, the rate limit with 429)."""

from __future__ import annotations

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal, refuse
from ...server import json_response

# the matching engine's reasons (and an unknown pair)
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape("200004", "Balance insufficient!"),
    # KuCoin's own answer to a crossing post-only order is not documented; 300000 reaches ccxt as InvalidOrder
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape("300000", "Post only order would be filled as taker."),
    Reason.PRICE_OFF_GRID: ErrorShape("400100", "Price increment invalid."),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape("400100", "Price increment invalid."),
    Reason.AMOUNT_OFF_GRID: ErrorShape("400100", "Order size increment invalid."),
    Reason.ICEBERG_OFF_GRID: ErrorShape("400100", "Order size increment invalid."),
    Reason.BAD_AMOUNT: ErrorShape("400100", "Order size below the minimum requirement."),
    Reason.BAD_ICEBERG: ErrorShape("400100", "visibleSize invalid."),
    Reason.BAD_NUMBER: ErrorShape("400100", "Parameter error"),
    Reason.MISSING_PRICE: ErrorShape("400100", "price is required"),
    Reason.MISSING_STOP: ErrorShape("400100", "stopPrice is required"),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape("126044", "clientOid duplicate"),
    Reason.NO_LIQUIDITY: ErrorShape("400100", "No liquidity in the order book."),
    Reason.UNKNOWN_SYMBOL: ErrorShape("400100", "Unsupported trading pair."),
}
PARAMETER_ERROR = ErrorShape("400100", "Parameter error")
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_ORDER: ErrorShape("400100", "order not exist."),
    Reason.BAD_PARAMETER: PARAMETER_ERROR,
    Reason.UNKNOWN_ACCOUNT: ErrorShape("400100", "sub account not exist"),
    Reason.MISSING_CREDENTIALS: ErrorShape(
        "400001", "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE", 401
    ),
    Reason.UNKNOWN_KEY: ErrorShape("400003", "KC-API-KEY not exists", 401),
    Reason.STALE_TIMESTAMP: ErrorShape("400002", "Invalid KC-API-TIMESTAMP", 400),
    Reason.BAD_PASSPHRASE: ErrorShape("400004", "Invalid KC-API-PASSPHRASE", 401),
    Reason.BAD_SIGNATURE: ErrorShape("400005", "Invalid KC-API-SIGN", 401),
    Reason.PERMISSION_DENIED: ErrorShape("400007", "Access denied, require more permission.", 403),
    Reason.RATE_LIMITED: ErrorShape("429000", "Too Many Requests", 429),
}
# a cancel that finds nothing to cancel: the classic and the HF endpoints word it differently
CLASSIC_NOT_CANCELABLE = ErrorShape("400100", "order_not_exist_or_not_allow_to_cancel")
HF_NOT_CANCELABLE = ErrorShape("400100", "Order not exist or not allow to be cancelled")
ORDER_NOT_EXIST = REFUSALS[Reason.UNKNOWN_ORDER]
CANCEL_UNKNOWN = HF_NOT_CANCELABLE  # what a cancel of an unknown order answers on the HF endpoint ccxt uses


def kucoin_error(code: str, msg: str, status: int = 200) -> Refusal:
    """A refusal of KuCoin's with no entry in the tables (a parameter's own message)."""
    return ErrorShape(code, msg, status).refuse()


def rejected(reject: Reject) -> Refusal:
    return refuse(ERRORS, reject, PARAMETER_ERROR)


def render(refusal: Refusal) -> web.Response:
    return json_response({"code": refusal.code, "msg": refusal.message}, status=refusal.status)
