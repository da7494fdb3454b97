"""gate's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    OrderStatus,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...engine import MatchingEngine, Reject, SimOrder, to_units
from ...refusal import Reason, Refusal
from .errors import gate_error, refused

View = dict[int, int]  # ticks -> lots of one side's window


def _plain(text: str) -> str:
    """Gate's book strings carry no trailing zeros: "60000.10" -> "60000.1", "5.000" -> "5"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


API = "/api/v4"


WINDOW = 60  # seconds a request's Timestamp may be off the server's clock


TEXT = re.compile(r"t-[0-9A-Za-z_.-]{1,28}")  # a user-defined order text (client order id)


DEFAULT_TEXT = "apiv4"  # what Gate shows as the text of an order placed without one


ORDERS, USER_TRADES = "spot.orders", "spot.usertrades"  # the private channels simulated


ALL = "!all"  # the payload that subscribes every pair


MIN_QUOTE = {"USDT": Decimal(3), "USDC": Decimal(3), "BTC": Decimal("0.0001")}  # min_quote_amount


TIME_IN_FORCE: dict[str, tuple[TimeInForce, bool]] = {  # Gate's time_in_force -> (tif, post-only)
    "gtc": (TimeInForce.GTC, False),
    "ioc": (TimeInForce.IOC, False),
    "fok": (TimeInForce.FOK, False),
    "poc": (TimeInForce.GTC, True),
}


FUTURES = f"{API}/futures/usdt"


LEVERAGE_MAX = "100"


CROSS_DEFAULT = "10"  # cross_leverage_default: the cross leverage when none is given


FUNDING_INTERVAL = 8 * 3600  # seconds


@dataclass(frozen=True)
class Call:
    """An authenticated request: whose key, its query, its JSON body, the ``{order_id}`` and
    ``{contract}`` in its path."""

    key: ApiKey
    query: Mapping[str, str]
    body: dict[str, Any]
    order_id: str = ""
    contract: str = ""


@dataclass(frozen=True)
class Placement:
    """What every new order states, parsed from a spot order or a price order's ``put``."""

    account: str
    symbol: str
    side: Side
    amount: Decimal
    tif: TimeInForce
    post_only: bool
    text: str | None


Private = Callable[[Call], web.Response]


def gate_signature(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    """Gate APIv4's SIGN header for a request."""
    payload = "\n".join((method.upper(), path, query, hashlib.sha512(body).hexdigest(), timestamp))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def fresh(stamp: str) -> bool:
    try:
        return abs(time.time() - float(stamp)) <= WINDOW
    except ValueError:
        return False


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise gate_error("INVALID_REQUEST_BODY", "Invalid request body") from None
    if not isinstance(body, dict):
        raise gate_error("INVALID_REQUEST_BODY", "Invalid request body")
    return body


def iceberg(body: Mapping[str, Any]) -> Decimal | None:
    """The displayed amount: "0" (or none) for a normal order; Gate's -1 (fully hidden) is not
    simulated."""
    shown = optional_decimal(body, "iceberg")
    if shown is None or shown == 0:
        return None
    if shown < 0:
        raise invalid("iceberg", body["iceberg"])
    return shown


def currency_info(code: str) -> dict[str, Any]:
    flags = {"withdraw_disabled": False, "withdraw_delayed": False, "deposit_disabled": False}
    return {
        "currency": code,
        "name": code,
        "delisted": False,
        **flags,
        "trade_disabled": False,
        "fixed_rate": "",
        "chain": code,
        "chains": [{"name": code, "addr": "", **flags}],
    }


def invalid(name: str, value: Any) -> Refusal:
    return gate_error("INVALID_PARAM_VALUE", f"Invalid parameter `{name}` with value: {value}")


def required(source: Mapping[str, Any], name: str) -> Any:
    if source.get(name) is None:
        raise gate_error("MISSING_REQUIRED_PARAM", f"Missing required parameter: {name}")
    return source[name]


def decimal_param(source: Mapping[str, Any], name: str) -> Decimal:
    raw = required(source, name)
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise invalid(name, raw) from None


def optional_decimal(source: Mapping[str, Any], name: str) -> Decimal | None:
    return None if source.get(name) is None else decimal_param(source, name)


def int_param(source: Mapping[str, str], name: str, default: int) -> int:
    raw = source.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise invalid(name, raw) from None


def nested(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = required(body, name)
    if not isinstance(value, dict):
        raise invalid(name, value)
    return value


def side_of(raw: Any) -> Side:
    if raw not in ("buy", "sell"):
        raise invalid("side", raw)
    return Side(raw)


def time_in_force(raw: Any) -> tuple[TimeInForce, bool]:
    if raw not in TIME_IN_FORCE:
        raise invalid("time_in_force", raw)
    return TIME_IN_FORCE[raw]


def client_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not TEXT.fullmatch(raw):
        raise invalid("text", raw)
    return raw


def shown_text(client_id: str) -> str:
    """The engine names orders placed without a text itself; Gate shows those as ``apiv4``."""
    return client_id if TEXT.fullmatch(client_id) else DEFAULT_TEXT


def not_found(ref: str) -> Refusal:
    if ref.startswith("t-"):
        return gate_error("CLIENT_ID_NOT_FOUND", f"Order with text {ref} not found", 404)
    return refused(Reason.UNKNOWN_ORDER, ref=ref)


def num(value: Decimal) -> str:
    """Gate's decimal strings: plain notation, no trailing zeros."""
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") or "0") if "." in text else text


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def user_id(account: str) -> int:
    return zlib.crc32(account.encode()) % 100_000_000


def order_status(order: SimOrder) -> str:
    if not order.status.final:
        return "open"
    return "closed" if order.status is OrderStatus.FILLED else "cancelled"


def finish_as(order: SimOrder) -> str:
    if not order.status.final:
        return "open"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return order.tif.value if order.status is OrderStatus.EXPIRED else "cancelled"


def futures_finish_as(order: SimOrder) -> str:
    """``_new`` while open; ``ioc`` for a market / ioc / fok remainder, as Gate reports those."""
    if not order.status.final:
        return "_new"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return "ioc" if order.status is OrderStatus.EXPIRED else "cancelled"


def trigger_status(order: SimOrder) -> str:
    """A price order: ``open`` until its trigger trades, then ``finish`` (its order was placed) or
    ``failed``; ``cancelled`` if cancelled before."""
    if not order.triggered:
        return "cancelled" if order.status.final else "open"
    return "failed" if order.status is OrderStatus.REJECTED else "finish"


def final_refusal(order: SimOrder) -> Refusal:
    if order.status is OrderStatus.CANCELED:
        return gate_error("ORDER_CANCELLED", "Order already cancelled")
    return gate_error("ORDER_CLOSED", "Order already closed")


def amend(engine: MatchingEngine, order: SimOrder, amount: Decimal | None, price: Decimal | None) -> None:
    """Gate's amend: a new total amount (filled part included) and/or price, in place (see
    ``MatchingEngine.amend``: only a cut at the same price keeps the queue place; an amount at or
    below what has filled cancels the rest)."""
    market = engine.markets[order.symbol]
    lots = order.amount if amount is None else to_units(amount, market.lot, "amount")
    ticks = order.price if price is None else to_units(price, market.tick, "price")
    if lots <= 0:
        raise Reject("bad_amount", "amount must be positive")
    assert ticks is not None
    engine.amend(order, lots, ticks)
