"""The 1inch API's refusals as the simulator answers them: ``{error, description, statusCode,
requestId, meta: [{type, value}]}`` with the HTTP status, ``error`` its phrase and ``meta`` the
parameter the refusal names."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

from ...refusal import ErrorShape, Reason, Refusal


def status_shape(status: int, description: str) -> ErrorShape:
    """1inch's code is the HTTP status itself."""
    return ErrorShape(status, description, status)


BAD_REQUEST = status_shape(400, "Bad Request")
REFUSALS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: status_shape(400, "Not enough {symbol} balance. Amount: {amount}. Balance: {balance}."),
    Reason.NO_LIQUIDITY: status_shape(400, "insufficient liquidity"),
    Reason.UNKNOWN_SYMBOL: status_shape(400, "{name} is not a token this chain trades: {raw}"),
    Reason.UNKNOWN_ORDER: status_shape(404, "order not found"),
    Reason.BAD_PARAMETER: BAD_REQUEST,
    Reason.UNKNOWN_KEY: status_shape(401, "Unauthorized: missing or unknown API key"),
    Reason.RATE_LIMITED: status_shape(429, "Too many requests: the plan's rate limit was exceeded"),
}


def api_error(status: int, description: str, param: str | None = None, value: Any = None) -> Refusal:
    """A refusal with its own description, naming ``param`` (given as ``value``) when there is one."""
    return status_shape(status, description).refuse(param=None if param is None else (param, str(value)))


def refused(reason: Reason, param: str | None = None, value: Any = None, **fields: object) -> Refusal:
    """``REFUSALS[reason]`` with its description's ``{fields}`` filled in, naming ``param``."""
    shape = REFUSALS[reason]
    return shape.refuse(shape.message.format(**fields), param=None if param is None else (param, str(value)))


def render(refusal: Refusal) -> web.Response:
    meta = [] if refusal.param is None else [{"type": refusal.param[0], "value": refusal.param[1]}]
    body = {"error": HTTPStatus(refusal.status).phrase, "description": refusal.message, "statusCode": refusal.status,
            "requestId": str(uuid.uuid4()), "meta": meta}
    return web.Response(body=orjson.dumps(body), status=refusal.status, content_type="application/json",
                        headers=refusal.headers)
