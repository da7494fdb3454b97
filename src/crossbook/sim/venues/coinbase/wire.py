"""coinbase's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from multidict import MultiMapping

from ....model import OrderStatus, OrderType, Side, TimeInForce
from ...access import ApiKey
from ...engine import SimOrder
from .errors import bad_argument

MAX_BOOKS_PER_CONNECTION = 16  # more level2 products on one socket are refused


HEARTBEAT_INTERVAL = 1.0


RECENT_TRADES = 50


JWT_LIFETIME = 120  # seconds: Coinbase's tokens live two minutes at most


# Coinbase's SDKs sign with issuer "cdp", ccxt with the Coinbase Cloud issuer; Coinbase takes both
JWT_ISSUERS = frozenset({"cdp", "coinbase-cloud"})


NO_PREVIEW_FAILURE = "UNKNOWN_PREVIEW_FAILURE_REASON"


MAX_CANCEL = 100  # order ids per batch_cancel


ID_SPACE = uuid.UUID("0b4f2a8e-6c1d-4e57-9a3b-5d2c7e9f1a60")  # the simulator's stable ids (uuid5)


ZERO = Decimal(0)


FIAT = frozenset({"USD"})


CURRENCIES: dict[str, tuple[str, int]] = {  # code -> (name, exponent)
    "BTC": ("Bitcoin", 8),
    "ETH": ("Ethereum", 8),
    "SOL": ("Solana", 9),
    "USDT": ("Tether", 6),
    "USDC": ("USDC", 6),
    "USD": ("US Dollar", 2),
}


SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}


STOP_DIRECTIONS = {True: "STOP_DIRECTION_STOP_UP", False: "STOP_DIRECTION_STOP_DOWN"}  # rising?


STATUS = {
    OrderStatus.OPEN: "OPEN",
    OrderStatus.PARTIALLY_FILLED: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "FAILED",
}


USER_ORDER_TYPES = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop", OrderType.STOP_LIMIT: "Stop Limit"}


SNAPSHOT_BATCH = 50  # the user channel's snapshot sends open orders 50 to a message


NO_POSITIONS: dict[str, list[Any]] = {"perpetual_futures_positions": [], "expiring_futures_positions": []}


ORDER_TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP", OrderType.STOP_LIMIT: "STOP_LIMIT"}


Handler = Callable[[web.Request], Awaitable[web.Response]]


Private = Callable[[ApiKey, web.Request], Awaitable[web.Response]]


Query = MultiMapping[str]


@dataclass(frozen=True, slots=True)
class Configuration:
    """One of Coinbase's ``order_configuration`` objects that the engine can run."""

    type: OrderType
    tif: TimeInForce
    time_in_force: str  # Coinbase's name for it
    fields: tuple[str, ...]  # the prices it needs besides the size


CONFIGURATIONS = {
    "market_market_ioc": Configuration(OrderType.MARKET, TimeInForce.IOC, "IMMEDIATE_OR_CANCEL", ()),
    "limit_limit_gtc": Configuration(OrderType.LIMIT, TimeInForce.GTC, "GOOD_UNTIL_CANCELLED", ("limit_price",)),
    "sor_limit_ioc": Configuration(OrderType.LIMIT, TimeInForce.IOC, "IMMEDIATE_OR_CANCEL", ("limit_price",)),
    "limit_limit_fok": Configuration(OrderType.LIMIT, TimeInForce.FOK, "FILL_OR_KILL", ("limit_price",)),
    "stop_limit_stop_limit_gtc": Configuration(
        OrderType.STOP_LIMIT, TimeInForce.GTC, "GOOD_UNTIL_CANCELLED", ("limit_price", "stop_price")
    ),
}


@dataclass(frozen=True, slots=True)
class Jwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes  # "header.payload" as received: what the signature covers
    signature: bytes


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_jwt(token: str) -> Jwt:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three parts")
    header, claims = orjson.loads(b64url(parts[0])), orjson.loads(b64url(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("a JWT's header and claims are JSON objects")
    return Jwt(header, claims, f"{parts[0]}.{parts[1]}".encode(), b64url(parts[2]))


def es256_valid(public_key: ec.EllipticCurvePublicKey, jwt: Jwt) -> bool:
    """JWS ES256: the signature is r || s, 32 bytes each, ECDSA P-256 over SHA-256 of header.payload."""
    if jwt.header.get("alg") != "ES256" or len(jwt.signature) != 64:
        return False
    r, s = int.from_bytes(jwt.signature[:32], "big"), int.from_bytes(jwt.signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), jwt.signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def uri_target(uri: Any, method: str) -> str | None:
    """The ``host/path`` a ``uri`` claim names for ``method``. A scheme is dropped: ccxt strips only
    ``https://``, so pointed at this plain-HTTP simulator it signs ``GET http://127.0.0.1:port/...``."""
    if not isinstance(uri, str) or not uri.startswith(method + " "):
        return None
    target = uri[len(method) + 1:]
    for scheme in ("https://", "http://"):
        target = target.removeprefix(scheme)
    return target


def claims_valid(claims: dict[str, Any], name: str, now: float) -> bool:
    """The claims every CDP JWT must carry: subject, issuer, and a live window of at most 120 s."""
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int):
        return False
    return claims.get("sub") == name and claims.get("iss") in JWT_ISSUERS and nbf <= now < exp and exp - nbf <= JWT_LIFETIME


def unauthorized() -> web.Response:
    """Coinbase's answer to any authentication failure: a bare 401, no JSON."""
    return web.Response(status=401, text="Unauthorized\n")


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise bad_argument("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_argument("the request body must be a JSON object")
    return body


def decimal_field(fields: dict[str, Any], name: str) -> Decimal:
    value = fields.get(name)
    if not isinstance(value, str):
        raise bad_argument(f"{name} is required, as a string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise bad_argument(f"invalid {name} {value!r}") from None
    if not number.is_finite():
        raise bad_argument(f"invalid {name} {value!r}")
    return number


def num(value: Decimal) -> str:
    """Coinbase's plain decimal strings: no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise bad_argument(f"invalid timestamp {text!r}") from None


def time_range(query: Query, start: str, end: str) -> tuple[float, float]:
    return (parse_time(query[start]) if start in query else 0.0, parse_time(query[end]) if end in query else float("inf"))


def listed(query: Query, *names: str) -> set[str]:
    """A filter Coinbase takes as repeated query parameters, under any of ``names``."""
    return {v for name in names for v in query.getall(name, [])}


def page(items: list[Any], query: Query, default: int, most: int) -> tuple[list[Any], str, bool]:
    """Coinbase's cursor pagination: (this page, the next cursor or "", whether more follow)."""
    try:
        limit = int(query.get("limit") or default)
        start = int(query.get("cursor") or 0)
    except ValueError:
        raise bad_argument("invalid limit or cursor") from None
    limit = min(max(limit, 1), most)
    more = start + limit < len(items)
    return items[start:start + limit], str(start + limit) if more else "", more


def stable_id(text: str) -> str:
    return str(uuid.uuid5(ID_SPACE, text))


def configuration_name(order: SimOrder) -> str:
    return next(
        name for name, c in CONFIGURATIONS.items()
        if c.type is order.type and (c.tif is order.tif or c.type is OrderType.MARKET)
    )


def trigger_status(order: SimOrder) -> str:
    if order.stop is None:
        return "INVALID_ORDER_TYPE"
    return "STOP_TRIGGERED" if order.triggered else "STOP_PENDING"


def rfc3339(ns: int) -> str:
    """Coinbase's nanosecond timestamps: ``2023-02-09T20:32:50.714964855Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


@dataclass(frozen=True, slots=True)
class Tick:
    """One symbol's book change of one market tick, encoded once for every connection."""

    timestamp: str
    book_events: bytes
    skip: bool
