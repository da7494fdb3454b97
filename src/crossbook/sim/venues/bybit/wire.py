"""bybit's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...refusal import ErrorShape, Reason, Refusal

Levels = dict[int, int]  # ticks -> lots


Params = dict[str, Any]


Private = Callable[[ApiKey, Params], Awaitable[dict[str, Any]]]


Handler = Callable[[web.Request], Awaitable[web.Response]]


ZERO = Decimal(0)


STABLE = frozenset({"USDT", "USDC"})  # valued at par


DEFAULT_RECV_WINDOW = 5000


RECENT_CLOSED = 500  # closed orders /v5/order/realtime still shows, per account


WEEK_MS = 7 * 24 * 3600 * 1000


CATEGORIES = frozenset({"spot", "linear", "inverse", "option"})


WALLETS = frozenset({"UNIFIED", "FUND"})  # the engine keeps one balance per account for both



PRIVATE_TOPICS = frozenset({"order", "execution"})  # the private topics simulated


SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}


ORDER_TYPES = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}


TRIGGERED_TYPES = {OrderType.LIMIT: OrderType.STOP_LIMIT, OrderType.MARKET: OrderType.STOP}


TIME_IN_FORCE = {  # Bybit's timeInForce -> (the engine's, post-only)
    "GTC": (TimeInForce.GTC, False),
    "IOC": (TimeInForce.IOC, False),
    "FOK": (TimeInForce.FOK, False),
    "PostOnly": (TimeInForce.GTC, True),
}


POSITION_IDX = {PositionSide.BOTH: 0, PositionSide.LONG: 1, PositionSide.SHORT: 2}


STATUS = {
    OrderStatus.OPEN: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.EXPIRED: "Cancelled",  # IOC, FOK and market remainders
    OrderStatus.REJECTED: "Rejected",
}


# engine reject reason -> (retCode, retMsg), Bybit's spot codes
ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(170131, "Insufficient balance."),
    Reason.POST_ONLY_WOULD_TAKE: ErrorShape(170218, "The LIMIT-MAKER order is rejected due to invalid price."),
    Reason.PRICE_OFF_GRID: ErrorShape(170134, "Order price decimal too long."),
    Reason.STOP_PRICE_OFF_GRID: ErrorShape(170134, "Order price decimal too long."),
    Reason.AMOUNT_OFF_GRID: ErrorShape(170137, "Order volume decimal too long."),
    Reason.BAD_AMOUNT: ErrorShape(170136, "Order quantity lower than the minimum."),
    Reason.MISSING_PRICE: ErrorShape(170105, "Parameter 'price' was empty."),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape(170141, "Duplicate clientOrderId."),
    Reason.NO_LIQUIDITY: ErrorShape(170210, "New order rejected."),
    Reason.UNKNOWN_ORDER: ErrorShape(170213, "Order does not exist."),
    Reason.ORDER_FINAL: ErrorShape(170213, "Order does not exist."),
}


@dataclass(frozen=True)
class OrderRequest:
    """A new order as the engine takes it, after Bybit's own checks."""

    account: str
    symbol: str
    side: Side
    kind: OrderType
    amount: Decimal
    price: Decimal | None
    stop: Decimal | None
    tif: TimeInForce
    post_only: bool
    client_id: str | None
    reduce_only: bool
    position_side: PositionSide
    take_profit: Decimal | None = None  # attached: placed as a trigger order once the entry fills
    stop_loss: Decimal | None = None
    trigger_above: bool | None = None  # a conditional order's triggerDirection (None: the engine's default)


# engine reject reason -> (retCode, retMsg), Bybit's contract codes
LINEAR_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(110007, "CheckMarginRatio fail! InsufficientAB"),
    Reason.REDUCE_ONLY_WOULD_INCREASE: ErrorShape(110017, "Reduce-only rule not satisfied"),
    Reason.POSITION_SIDE_REQUIRED: ErrorShape(10001, "position idx not match position mode"),
    Reason.POSITION_SIDE_IN_ONE_WAY: ErrorShape(10001, "position idx not match position mode"),
    Reason.POSITION_OPEN: ErrorShape(110024, "You have an existing position, so position mode cannot be switched"),
    Reason.PRICE_OFF_GRID: ErrorShape(10001, "params error: price is not a multiple of the tick size"),
    Reason.AMOUNT_OFF_GRID: ErrorShape(10001, "params error: qty is not a multiple of the qty step"),
    Reason.BAD_AMOUNT: ErrorShape(10001, "params error: qty must be positive"),
    Reason.MISSING_PRICE: ErrorShape(10001, "params error: price is required for a limit order"),
    Reason.DUPLICATE_CLIENT_ID: ErrorShape(110072, "OrderLinkedID is duplicate"),
    Reason.NO_LIQUIDITY: ErrorShape(110074, "The order is rejected: there is no liquidity to match"),
    Reason.BAD_LEVERAGE: ErrorShape(10001, "params error: leverage is invalid"),
    Reason.UNKNOWN_ORDER: ErrorShape(110001, "Order does not exist"),
    Reason.ORDER_FINAL: ErrorShape(110001, "Order does not exist"),
}


RATE_LIMITED = ErrorShape(10006, "Too many visits!")  # HTTP 200, as Bybit answers it
PARAMS_ERROR = ErrorShape(10001, "params error")


def bybit_error(code: int, message: str) -> Refusal:
    """A refusal of Bybit's with no entry in the tables: answered as the v5 envelope with this ``retCode``."""
    return ErrorShape(code, message).refuse()


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def plain(value: Decimal) -> str:
    """A Decimal as Bybit writes amounts: positional, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def sign(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    """X-BAPI-SIGN: hex HMAC-SHA256 of timestamp + api key + recv window + (query | body)."""
    origin = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), origin.encode(), hashlib.sha256).hexdigest()


@dataclass
class Window:
    """What subscribers of one book topic have been told: its top levels and its update id."""

    symbol: str
    depth: int
    u: int
    bids: Levels = field(default_factory=dict)
    asks: Levels = field(default_factory=dict)


def side_diff(old: Levels, new: Levels) -> list[tuple[int, int]]:
    """(ticks, lots) for every level that changed, left (lots 0) or entered the window."""
    out = [(p, 0) for p in old if p not in new]
    out.extend((p, q) for p, q in new.items() if old.get(p) != q)
    return out
