"""Mexc's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import orjson
from aiohttp import web

from ....model import OrderStatus, OrderType, Side, TimeInForce
from ....venues.protowire import len_field, string_field, varint_field
from ...access import ApiKey
from ...engine import SimOrder
from ...refusal import Reason
from .errors import ILLEGAL, REFUSALS, mandatory, mexc_error

DEPTH = "public.aggre.depth.v3.api.pb"


DEALS = "public.aggre.deals.v3.api.pb"


INTERVALS = ("100ms", "10ms")


DEPTH_LIMIT_MAX = 5000


Handler = Callable[[web.Request], Awaitable[web.Response]]


SignedHandler = Callable[[ApiKey, dict[str, str]], Awaitable[web.Response]]


RECV_WINDOW_DEFAULT = 5000


RECV_WINDOW_MAX = 60_000


MIN_ORDER_QUOTE = Decimal(1)  # exchangeInfo's quoteAmountPrecision: the smallest order value


ORDER_ID_PREFIX = "C02__"  # MEXC spot order ids look like C02__443776347957968896


ORDER_ID_BASE = 443_776_347_957_968_896


MY_TRADES_LIMIT = 100  # default and maximum


ALL_ORDERS_LIMIT, ALL_ORDERS_LIMIT_MAX = 500, 1000


SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}


# MEXC order type -> (engine type, time in force, post-only)
ORDER_TYPES: dict[str, tuple[OrderType, TimeInForce, bool]] = {
    "LIMIT": (OrderType.LIMIT, TimeInForce.GTC, False),
    "LIMIT_MAKER": (OrderType.LIMIT, TimeInForce.GTC, True),
    "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC, False),
    "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK, False),
    "MARKET": (OrderType.MARKET, TimeInForce.GTC, False),
}


STATUS = {OrderStatus.OPEN: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED", OrderStatus.FILLED: "FILLED"}


# ---- private stream (user data stream) ----
ORDERS = "private.orders.v3.api.pb"


DEALS_PRIVATE = "private.deals.v3.api.pb"


PRIVATE_CHANNELS = (f"spot@{ORDERS}", f"spot@{DEALS_PRIVATE}")


LISTEN_KEY_LIFETIME = 3600.0  # seconds: a listenKey lives 60 minutes past its creation or last PUT


LISTEN_KEYS_MAX = 60  # per account


# PrivateOrdersV3Api's status and orderType numbers
PB_STATUS = {OrderStatus.OPEN: 1, OrderStatus.FILLED: 2, OrderStatus.PARTIALLY_FILLED: 3}


PB_ORDER_TYPES = {"LIMIT": 1, "LIMIT_MAKER": 2, "IMMEDIATE_OR_CANCEL": 3, "FILL_OR_KILL": 4, "MARKET": 5}


# the one deposit network listed per coin in capital/config/getall: (network, coin name)
NETWORKS = {
    "BTC": ("BTC", "Bitcoin"),
    "ETH": ("ERC20", "Ethereum"),
    "SOL": ("SOL", "Solana"),
    "USDT": ("ERC20", "Tether"),
    "USDC": ("ERC20", "USD Coin"),
}


@dataclass(slots=True)
class ListenKey:
    account: str
    api_key: str
    expires: float


@dataclass(frozen=True, slots=True)
class EncodedDepth:
    """One tick's depth change, encoded once; each connection gets it under its own channel."""

    levels: bytes  # PublicAggreDepthsV3Api asks (1) and bids (2)
    versions: bytes  # fromVersion (4) and toVersion (5)
    send_time_ms: int


def wrapper(channel: str, native: str, send_time_ms: int, body_field: int, body: bytes) -> bytes:
    """PushDataV3ApiWrapper: channel 1, symbol 3, sendTime 6, then the oneof body."""
    return (
        string_field(1, channel)
        + string_field(3, native)
        + varint_field(6, send_time_ms)
        + len_field(body_field, body)
    )


def level(price: str, quantity: str) -> bytes:
    """PublicAggreDepthV3ApiItem: price 1, quantity 2."""
    return string_field(1, price) + string_field(2, quantity)


def ack(msg: str) -> str:
    """JSON replies travel as text frames; only the data pushes are binary."""
    return orjson.dumps({"id": 0, "code": 0, "msg": msg}).decode()


def refused(params: list[str]) -> str:
    # the venue acks a refused subscription with code 0 and this text (its colon is fullwidth)
    return ack(f"Not Subscribed successfully! [{','.join(params)}].  Reason： Blocked! ")


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def num(value: Decimal) -> str:
    """MEXC's plain decimals: no exponent, no trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def native_order_id(order_id: str) -> str:
    return f"{ORDER_ID_PREFIX}{ORDER_ID_BASE + int(order_id)}"


def engine_order_id(native: str) -> str | None:
    digits = native.removeprefix(ORDER_ID_PREFIX)
    if digits == native or not digits.isdigit() or int(digits) <= ORDER_ID_BASE:
        return None
    return str(int(digits) - ORDER_ID_BASE)


def client_order_id(order_id: str, client_id: str) -> str | None:
    """The client's own id, or null where it sent none (the engine then made one up)."""
    return None if client_id == f"sim-{order_id}" else client_id


def order_type(order: SimOrder) -> str:
    if order.type is OrderType.MARKET:
        return "MARKET"
    if order.post_only:
        return "LIMIT_MAKER"
    return {TimeInForce.IOC: "IMMEDIATE_OR_CANCEL", TimeInForce.FOK: "FILL_OR_KILL"}.get(order.tif, "LIMIT")


def order_status(order: SimOrder) -> str:
    """MEXC has no EXPIRED: what an IOC, FOK or market order leaves unfilled is canceled."""
    if order.status in STATUS:
        return STATUS[order.status]
    return "PARTIALLY_CANCELED" if order.filled else "CANCELED"


def pb_status(order: SimOrder) -> int:
    """NEW 1, FILLED 2, PARTIALLY_FILLED 3, CANCELED 4, PARTIALLY_CANCELED 5."""
    if order.status in PB_STATUS:
        return PB_STATUS[order.status]
    return 5 if order.filled else 4


def bool_field(field: int, value: bool) -> bytes:
    """proto3 leaves a false bool out."""
    return varint_field(field, 1) if value else b""


def optional_string(field: int, value: str | None) -> bytes:
    return string_field(field, value) if value else b""


def sign(secret: str, total_params: str) -> str:
    """The SIGNED rule: lowercase hex HMAC-SHA256 of totalParams, the secret as the key."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def split_signature(params: str) -> tuple[str, str | None]:
    """A raw parameter string without its ``signature`` pair, and that signature."""
    pairs = params.split("&") if params else []
    signatures = [p.removeprefix("signature=") for p in pairs if p.startswith("signature=")]
    return "&".join(p for p in pairs if not p.startswith("signature=")), signatures[0] if signatures else None


def check_timing(params: dict[str, str]) -> None:
    """MEXC's rule: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow."""
    if "timestamp" not in params:
        raise mandatory("timestamp")
    try:
        stamp, window = int(params["timestamp"]), int(params.get("recvWindow", RECV_WINDOW_DEFAULT))
    except ValueError:
        raise ILLEGAL.refuse() from None
    if window > RECV_WINDOW_MAX:
        raise mexc_error(700005, "recvWindow must less than 60000")
    now = ms(time.time())
    if not (stamp < now + 1000 and now - stamp <= window):
        raise REFUSALS[Reason.STALE_TIMESTAMP].refuse()


def in_window(stamp: float, params: dict[str, str]) -> bool:
    """Whether a time lies in the request's optional startTime / endTime (ms, inclusive)."""
    at = ms(stamp)
    return int(params.get("startTime", at)) <= at <= int(params.get("endTime", at))
