"""Bitget's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import OrderStatus, TimeInForce
from ...access import ApiKey
from ...withdrawals import networks_of
from .errors import bitget_error

CHECKSUM_DEPTH = 25


RECENT_TRADES = 50


CHANNELS = ("books", "trade")


PRIVATE_CHANNELS = ("orders", "fill")


LOGIN_WINDOW_S = 30  # "the request will expire 30 seconds after the timestamp"


TIMESTAMP_WINDOW_MS = 30_000  # "rejected if the timestamp differs from the server's by more than 30 s"


Handler = Callable[[web.Request], Awaitable[web.Response]]


Params = dict[str, Any]


Private = Callable[[ApiKey, Params], Awaitable[web.Response]]


STATUS = {
    OrderStatus.OPEN: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",  # IOC / FOK / market remainders
    OrderStatus.REJECTED: "cancelled",
}


FORCES = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "post_only": TimeInForce.GTC}


# headers every private request carries -> the code Bitget answers when one is missing
REQUIRED_HEADERS = (
    ("ACCESS-KEY", "40001", "ACCESS_KEY cannot be empty"),
    ("ACCESS-SIGN", "40003", "Signature cannot be empty"),
    ("ACCESS-TIMESTAMP", "40005", "Invalid ACCESS_TIMESTAMP"),
    ("ACCESS-PASSPHRASE", "40011", "ACCESS_PASSPHRASE cannot be empty"),
)


FUNDING_RATE = "0.0001"  # a fixed funding rate: the engine settles none


FUNDING_HOURS = 8


# the simulator's withdrawal networks as Bitget names its chains (any other: the network's own name)
CHAINS = {"BTC": "BTC", "ETH": "ERC20", "TRX": "TRC20", "SOL": "SOL"}


def chain_of(network: str) -> str:
    return CHAINS.get(network, network)


def network_of(asset: str, chain: str) -> str | None:
    """The simulator's network of ``asset`` a Bitget ``chain`` names (any case, as its docs write
    ``trc20``); None: not one it withdraws on."""
    return next((n.name for n in networks_of(asset) if chain_of(n.name).lower() == chain.lower()), None)


def _ms(seconds: float | None = None) -> int:
    return int((time.time() if seconds is None else seconds) * 1000)


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": _ms(), "data": data}


def _text(payload: Any) -> str:
    """Bitget sends JSON in text frames (the base sends bytes as binary frames)."""
    return orjson.dumps(payload).decode()


def _error(code: int, msg: str, **extra: Any) -> str:
    return _text({"event": "error", "code": code, "msg": msg, **extra})


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def prehash(timestamp: str, method: str, path: str, query: str, body: str) -> str:
    """Bitget's string to sign; the ``?`` appears only with a query."""
    return timestamp + method.upper() + path + (f"?{query}" if query else "") + body


def signature(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise bitget_error("40019", f"Parameter {name} cannot be empty")
    return str(value)


def _decimal(params: Params, name: str) -> Decimal:
    return Decimal(_required(params, name))
