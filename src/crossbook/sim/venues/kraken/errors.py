"""Kraken's refusals as the simulator answers them: HTTP 200, ``{"error": [code]}``; the code is
Kraken's whole error string, so it is the message too."""

from __future__ import annotations

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Reason, Refusal, refuse
from ...server import json_response


def kraken(error: str) -> ErrorShape:
    return ErrorShape(error, error)


INVALID_ARGUMENTS = kraken("EGeneral:Invalid arguments")
# the matching engine's reasons; {limit} is the parameter that carried the limit price
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: kraken("EOrder:Insufficient funds"),
    Reason.PRICE_OFF_GRID: kraken("EGeneral:Invalid arguments:{limit}"),
    Reason.STOP_PRICE_OFF_GRID: kraken("EGeneral:Invalid arguments:price"),
    Reason.AMOUNT_OFF_GRID: kraken("EGeneral:Invalid arguments:volume"),
    Reason.ICEBERG_OFF_GRID: kraken("EGeneral:Invalid arguments:displayvol"),
    Reason.BAD_ICEBERG: kraken("EGeneral:Invalid arguments:displayvol"),
    Reason.DUPLICATE_CLIENT_ID: kraken("EGeneral:Invalid arguments:cl_ord_id"),
}
# the reasons a refused amend answers with its own error
AMEND_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: kraken("EOrder:Insufficient funds"),
    Reason.POST_ONLY_WOULD_TAKE: kraken("EOrder:Post only order"),
}
REFUSALS: dict[Reason, ErrorShape] = {
    **ERRORS,
    Reason.UNKNOWN_SYMBOL: kraken("EQuery:Unknown asset pair"),
    Reason.UNKNOWN_ORDER: kraken("EOrder:Unknown order"),
    Reason.BELOW_MINIMUM: kraken("EOrder:Order minimum not met"),
    Reason.BAD_PARAMETER: INVALID_ARGUMENTS,
    Reason.UNKNOWN_KEY: kraken("EAPI:Invalid key"),
    Reason.BAD_SIGNATURE: kraken("EAPI:Invalid signature"),
    Reason.STALE_TIMESTAMP: kraken("EAPI:Invalid nonce"),
    Reason.PERMISSION_DENIED: kraken("EGeneral:Permission denied"),
    Reason.RATE_LIMITED: kraken("EAPI:Rate limit exceeded"),
}
CANCEL_UNKNOWN = REFUSALS[Reason.UNKNOWN_ORDER]  # what a cancel of an order the venue does not know answers
ORDER_RATE_LIMITED = kraken("EOrder:Rate limit exceeded")  # the matching engine's counter


def kraken_error(error: str) -> Refusal:
    """A refusal of Kraken's with no entry in the tables (one parameter's ``Invalid arguments``)."""
    return kraken(error).refuse()


def rejected(reject: Reject, table: dict[Reason, ErrorShape], limit: str = "price") -> Refusal:
    """The engine's reject in ``table``, else ``EGeneral:Invalid arguments``; ``limit`` names the
    parameter that carried the limit price."""
    refusal = refuse(table, reject, INVALID_ARGUMENTS)
    return kraken_error(str(refusal.code).format(limit=limit))


def render(refusal: Refusal) -> web.Response:
    return json_response({"error": [refusal.code]}, status=refusal.status)
