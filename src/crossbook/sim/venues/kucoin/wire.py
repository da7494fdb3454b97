"""kucoin's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import OrderStatus, OrderType, TimeInForce
from ...access import ApiKey
from ...withdrawals import networks_of

OK = "200000"


CHANNELS = {"/market/level2": "level2", "/market/match": "match", "/market/snapshot": "snapshot"}


ORDER_TOPICS = ("/spotMarket/tradeOrders", "/spotMarket/tradeOrdersV2")


TIMESTAMP_WINDOW_MS = 5_000


ZERO = Decimal(0)


Params = dict[str, Any]


Handler = Callable[[web.Request], Awaitable[web.Response]]


Private = Callable[[ApiKey, web.Request, Params], Awaitable[Any]]


ENGINE_TYPES = {
    ("limit", False): OrderType.LIMIT,
    ("market", False): OrderType.MARKET,
    ("limit", True): OrderType.STOP_LIMIT,
    ("market", True): OrderType.STOP,
}


TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}


CANCELED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


# the simulator's withdrawal networks as KuCoin names their chains: (chainName, chainId); any other
# network: its own name and, lowercased, its id
CHAINS = {"BTC": ("BTC", "btc"), "ETH": ("ERC20", "eth"), "TRX": ("TRC20", "trx"), "SOL": ("SOL", "sol")}


def chain_of(network: str) -> tuple[str, str]:
    """KuCoin's (chainName, chainId) of the simulator's ``network``."""
    return CHAINS.get(network, (network, network.lower()))


def network_of(asset: str, chain: str) -> str | None:
    """The simulator's network of ``asset`` a KuCoin ``chain`` id names (any case); None: not one it withdraws on."""
    return next((n.name for n in networks_of(asset) if chain_of(n.name)[1] == chain.lower()), None)


def text(payload: Any) -> str:
    """KuCoin pushes JSON in text frames (bytes would go out as binary frames)."""
    return orjson.dumps(payload).decode()


def trim(number: str) -> str:
    """KuCoin's number strings carry no trailing zeros: "60000.10" -> "60000.1", "5.000" -> "5"."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def dec(value: Decimal) -> str:
    return trim(f"{value:f}")


def decimal(value: Any) -> Decimal:
    return Decimal(str(value))  # InvalidOperation (an ArithmeticError) becomes "Parameter error"


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def b64_hmac(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


def in_window(stamp_ms: int, params: Params) -> bool:
    return int(params.get("startAt", 0)) <= stamp_ms <= int(params.get("endAt", 2**63))


def page(items: list[Any], params: Params) -> dict[str, Any]:
    """KuCoin's classic pagination: currentPage from 1, pageSize 10..500 (50 by default)."""
    size = min(500, max(10, int(params.get("pageSize", 50))))
    current = max(1, int(params.get("currentPage", 1)))
    return {
        "currentPage": current,
        "pageSize": size,
        "totalNum": len(items),
        "totalPage": (len(items) + size - 1) // size,
        "items": items[(current - 1) * size : current * size],
    }
