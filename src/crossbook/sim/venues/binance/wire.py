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
from ...tape import Candle, Print, Tape
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


# Binance's candle intervals (MEXC names some differently, see mexc/public.py)
BINANCE_INTERVALS: dict[str, int] = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14_400,
    "6h": 21_600, "8h": 28_800, "12h": 43_200, "1d": 86_400, "3d": 259_200, "1w": 604_800, "1M": 2_592_000,
}


def binance_ticker(tape: Tape, symbol: str, native: str) -> dict[str, Any]:
    """The 24-hour ticker as Binance (and MEXC, its copy) lays it out."""
    day = tape.day(symbol)
    return {
        "symbol": native, "priceChange": str(day.change), "priceChangePercent": f"{day.change_ratio * 100:.3f}",
        "weightedAvgPrice": f"{day.vwap:.8f}", "prevClosePrice": day.open, "lastPrice": day.last, "lastQty": day.last_size,
        "openPrice": day.open, "highPrice": day.high, "lowPrice": day.low, "volume": day.volume,
        "quoteVolume": day.quote_volume, "openTime": day.open_ms, "closeTime": day.close_ms,
        "firstId": day.first_id, "lastId": day.last_id, "count": day.count,
    }


def binance_agg_trade(p: Print) -> dict[str, Any]:
    """``m``: the buyer was the maker (the taker sold)."""
    return {"a": p.trade_id, "p": p.price, "q": p.size, "f": p.trade_id * 3, "l": p.trade_id * 3, "T": p.ms,
            "m": not p.buy, "M": True}


def binance_kline(c: Candle, seconds: int) -> list[Any]:
    return [c.start_ms, c.open, c.high, c.low, c.close, c.volume, c.start_ms + seconds * 1000 - 1, c.quote_volume,
            c.count, "0", "0", "0"]
