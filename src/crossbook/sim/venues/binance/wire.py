"""binance's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    OrderStatus,
    OrderType,
)
from ...refusal import Refusal
from ...server import json_response
from .errors import body_of

Handler = Callable[[web.Request], Awaitable[web.Response]]


STATUS = {
    OrderStatus.OPEN: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.EXPIRED: "EXPIRED",
}


ORDER_TYPES = {
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LOSS": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.STOP,
    "TAKE_PROFIT_LIMIT": OrderType.STOP_LIMIT,
}


@dataclass
class OrderList:
    """A Binance order list (an OCO): its two legs, in the order Binance reports them."""

    list_id: int
    client_id: str
    symbol: str
    legs: tuple[str, str]


FUNDING_RATE = Decimal("0.0001")  # every 8 hours; the engine charges no funding


FUNDING_PERIOD_MS = 8 * 3600 * 1000


FUTURES_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")


@dataclass
class Transfer:
    """A sub-account universal transfer, as the history lists it."""

    tran_id: int
    client_id: str
    source: str
    target: str
    asset: str
    amount: Decimal
    ts: int


def places_of(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def ws_api_error(rid: Any, status: int, code: int, msg: str) -> str:
    return orjson.dumps({"id": rid, "status": status, "error": {"code": code, "msg": msg}}).decode()


def cancel_replace_response(canceled: dict[str, Any] | Refusal, placed: dict[str, Any] | Refusal | None) -> web.Response:
    def result(part: dict[str, Any] | Refusal | None) -> str:
        return "NOT_ATTEMPTED" if part is None else "FAILURE" if isinstance(part, Refusal) else "SUCCESS"

    def shown(part: dict[str, Any] | Refusal | None) -> dict[str, Any] | None:
        return body_of(part) if isinstance(part, Refusal) else part

    body = {"cancelResult": result(canceled), "newOrderResult": result(placed),
            "cancelResponse": shown(canceled), "newOrderResponse": shown(placed)}
    failures = [r for r in (body["cancelResult"], body["newOrderResult"]) if r != "SUCCESS"]
    if not failures:
        return json_response(body)
    if len(failures) == 2:
        return json_response({"code": -2022, "msg": "Order cancel-replace failed.", "data": body}, status=400)
    return json_response({"code": -2021, "msg": "Order cancel-replace partially failed.", "data": body}, status=409)
