"""dYdX's refusals as the simulator answers them. The indexer's REST refusals are ``{"errors":
[{"msg"}]}`` with the HTTP status; the chain's are a transaction CheckTx turns down: HTTP 200 and a
``result`` with the registered Cosmos ``code``, its ``codespace`` (the shape's ``detail``) and the
``log`` (``detail: registered text``)."""

from __future__ import annotations

from aiohttp import web

from ...refusal import ErrorShape, Reason, Refusal
from ...server import json_response

# registered Cosmos errors by codespace: cosmos-sdk types/errors, v4-chain x/clob/types/errors.go
SDK_ERRORS: dict[int, str] = {
    2: "tx parse error",
    4: "unauthorized",
    8: "invalid pubkey",
    9: "unknown address",
    15: "no signatures supplied",
    18: "invalid request",
    32: "incorrect account sequence",
}

CLOB_ERRORS: dict[int, str] = {
    3: "Invalid order side",
    4: "Invalid order quantums",
    5: "Invalid order goodTilBlock",
    6: "Invalid order subticks",
    8: "ClobPair ID does not reference a valid CLOB",
    10: "The next block height is greater than the GoodTilBlock of the message",
    11: "The GoodTilBlock of the message is further than ShortBlockWindow blocks into the future",
    12: "MsgPlaceOrder is invalid",
    20: "An order with the same `OrderId` already exists for this CLOB with a greater-than-or-equal `GoodTilBlock` or Order Hash",
    44: "invalid time in force",
    48: "This field has been deprecated",
    3000: "Invalid order flags",
    3001: "Invalid order goodTilBlockTime",
    3002: "Stateful orders cannot require immediate execution",
    3003: "The block time is greater than the GoodTilBlockTime of the message",
    3004: "The GoodTilBlockTime of the message is further than StatefulOrderTimeWindow into the future",
    3005: "Existing stateful order has higher-or-equal priority than the new one",
    3006: "Stateful order does not exist",
    3007: "Stateful order collateralization check failed",
    6000: "Conditional type is invalid",
    6001: "Conditional order trigger subticks is invalid",
    9002: "This function is not implemented",
    9003: "Reduce-only is currently disabled for non-IOC orders",
}
SDK, CLOB = "sdk", "clob"  # the codespaces


def tx_shape(code: int, codespace: str = CLOB) -> ErrorShape:
    """A registered error, as CheckTx answers it."""
    registered = SDK_ERRORS if codespace == SDK else CLOB_ERRORS
    return ErrorShape(code, registered[code], 200, codespace)


# why the chain refuses a transaction -> its registered error
TX_REFUSALS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: tx_shape(3007),
    Reason.UNKNOWN_ORDER: tx_shape(3006),
    Reason.UNKNOWN_SYMBOL: tx_shape(8),
    Reason.BAD_PARAMETER: tx_shape(12),
    Reason.DUPLICATE_CLIENT_ID: tx_shape(20),
    Reason.STALE_TIMESTAMP: tx_shape(32, SDK),
    Reason.BAD_SIGNATURE: tx_shape(4, SDK),
    Reason.UNKNOWN_ACCOUNT: tx_shape(9, SDK),
}
# the indexer's
REFUSALS: dict[Reason, ErrorShape] = {
    Reason.RATE_LIMITED: ErrorShape(429, "Too many requests", 429),
}


def tx_refusal(shape: ErrorShape, detail: str = "") -> Refusal:
    """``shape`` with CheckTx's log: ``detail: registered text`` (the text alone without a detail)."""
    return shape.refuse(f"{detail}: {shape.message}" if detail else shape.message)


def clob_error(code: int, detail: str = "") -> Refusal:
    return tx_refusal(tx_shape(code), detail)


def sdk_error(code: int, detail: str = "") -> Refusal:
    return tx_refusal(tx_shape(code, SDK), detail)


def render(refusal: Refusal) -> web.Response:
    return json_response({"errors": [{"msg": refusal.message}]}, status=refusal.status)
