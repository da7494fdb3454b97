"""kraken's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ....book.checksum import crc32_unsigned
from ....model import OrderStatus, OrderType, Side, TimeInForce
from ...access import ApiKey
from ...engine import SimFill
from ...market import Ladder
from ...server import Frame, json_response
from .errors import kraken_error

Level = tuple[int, int]  # (ticks, lots)


Top = tuple[list[Level], list[Level]]  # bids best first, asks best first


DEPTHS = (10, 25, 100, 500, 1000)


CHECKSUM_LEVELS = 10


QTY_PLACES = 8  # Kraken prints every quantity with 8 decimals


# REST asset codes of the assets that predate Kraken's plain codes; v1 and AssetPairs say XBT
LEGACY_CODES = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD"}


WS_NAMES = {"BTC": "XBT"}


Handler = Callable[[web.Request], Awaitable[web.Response]]


Private = Callable[[ApiKey, dict[str, str]], Awaitable[web.Response]]


Price = Decimal | None


# /0/public/Assets: asset -> (decimals, display_decimals), as Kraken lists them
ASSET_DECIMALS = {"BTC": (10, 5), "ETH": (10, 5), "SOL": (10, 5), "USD": (4, 2), "USDT": (8, 4), "USDC": (8, 4)}


TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


PAGE = 50  # ClosedOrders and TradesHistory answer 50 entries per call, from ``ofs``


ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "iceberg": OrderType.LIMIT,
    "stop-loss": OrderType.STOP,
    "stop-loss-limit": OrderType.STOP_LIMIT,
}


TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC}  # Kraken spot has no FOK


ORDER_FLAGS = frozenset({"post", "fcib", "fciq", "nompp"})


ICEBERG_SHOWN_PARTS = 15  # displayvol is at least 1/15 of the volume


STATUS = {
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",  # an IOC or market remainder
    OrderStatus.REJECTED: "canceled",  # a triggered stop the engine could not place
}


# AmendOrder parameters of what the simulator does not amend: triggers, iceberg display, deadlines
AMEND_UNSIMULATED = ("trigger_price", "trigger_price_type", "limit_price_type", "display_qty", "deadline")


# AddOrder parameters of what the simulator does not trade: spot margin and conditional closes
UNSIMULATED = ("leverage", "reduce_only", "close[ordertype]")


TOKEN_SECONDS = 900  # a WebSocket token must be used within 15 minutes; once used it does not expire


SNAPSHOT_TRADES = 50  # what ``snap_trades`` replays


DOLLARS = ("USD", "USDT", "USDC")  # quotes whose fees count one for one in ``fee_usd_equiv``


@dataclass
class WsToken:
    account: str
    use_by: float  # unix seconds; infinite once a subscription used it


@dataclass(frozen=True, slots=True)
class Ticket:
    """One checked AddOrder, in the engine's terms."""

    symbol: str
    side: Side
    ordertype: str
    volume: Decimal
    limit: Price  # a limit or iceberg order's price, a stop-loss-limit's price2
    stop: Price  # a stop-loss's price
    shown: Price  # an iceberg's displayvol
    tif: TimeInForce
    post_only: bool
    client_id: str | None
    userref: int | None

    @property
    def kind(self) -> OrderType:
        return ORDER_TYPES[self.ordertype]


def api_sign(secret: str, path: str, nonce: str, postdata: bytes) -> str:
    """API-Sign: base64 HMAC-SHA512 of path + SHA256(nonce + POST data), keyed with the decoded secret."""
    message = path.encode() + hashlib.sha256(nonce.encode() + postdata).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), message, hashlib.sha512).digest()).decode()


def new_txid(prefix: str) -> str:
    """A Kraken transaction id: "O" (order) or "T" (trade) and 16 base32 characters, 6-5-6."""
    text = prefix + "".join(secrets.choice(TXID_ALPHABET) for _ in range(16))
    return f"{text[:6]}-{text[6:11]}-{text[11:]}"


def ok(result: Any) -> web.Response:
    return json_response({"error": [], "result": result})


def asset_code(asset: str) -> str:
    return LEGACY_CODES.get(asset, asset)


def fixed(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def flag(params: dict[str, str], name: str, default: bool = False) -> bool:
    text = params.get(name)
    return default if text is None else text.lower() in ("true", "1")


def positive(params: dict[str, str], name: str) -> Decimal | None:
    """A positive number parameter, or None when absent; anything else is an invalid argument."""
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise kraken_error(f"EGeneral:Invalid arguments:{name}") from None
    if not value.is_finite() or value <= 0:
        raise kraken_error(f"EGeneral:Invalid arguments:{name}")
    return value


def required(params: dict[str, str], name: str) -> Decimal:
    value = positive(params, name)
    if value is None:
        raise kraken_error(f"EGeneral:Invalid arguments:{name}")
    return value


def whole(params: dict[str, str], name: str, low: int, high: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise kraken_error(f"EGeneral:Invalid arguments:{name}") from None
    if not low <= value <= high:
        raise kraken_error(f"EGeneral:Invalid arguments:{name}")
    return value


def window(params: dict[str, str]) -> tuple[float, float]:
    """``start`` (exclusive) and ``end`` (inclusive) as unix seconds; order-id bounds are not simulated."""
    bounds = []
    for name, default in (("start", float("-inf")), ("end", float("inf"))):
        text = params.get(name)
        try:
            bounds.append(default if text is None or text == "" else float(text))
        except ValueError:
            raise kraken_error(f"EGeneral:Invalid arguments:{name}") from None
    return bounds[0], bounds[1]


def form(request: web.Request, body: bytes) -> dict[str, str]:
    """A private request's parameters: Kraken takes a form body, or JSON with that content type."""
    if request.content_type == "application/json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise kraken_error("EGeneral:Invalid arguments") from None
        if not isinstance(data, dict):
            raise kraken_error("EGeneral:Invalid arguments")
        return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in data.items()}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def rfc3339_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken's book checksum over the strings as sent: digits without "." or leading zeros."""
    return crc32_unsigned("".join(str(int(p.replace(".", ""))) + str(int(q.replace(".", ""))) for p, q in asks + bids))


@dataclass
class BookTick:
    """One symbol's change: the book before and after, the checksum of the new top 10, and the
    update frame per subscribed depth (built on first use)."""

    before: Top
    after: Top
    checksum: int
    timestamp: str
    frames: dict[int, list[Frame]] = field(default_factory=dict)


def usd_fee(fill: SimFill, quote: str) -> Decimal:
    """A fill's fee in the (dollar) quote currency, valued at the fill's price where charged in base."""
    return fill.fee if fill.fee_currency == quote else fill.fee * fill.price


def level_strings(ladder: Ladder, levels: list[Level]) -> list[tuple[str, str]]:
    return [(ladder.price_str(p), ladder.size_str(q, QTY_PLACES)) for p, q in levels]


def levels_json(ladder: Ladder, levels: list[Level]) -> str:
    return ",".join([f'{{"price":{p},"qty":{q}}}' for p, q in level_strings(ladder, levels)])


def window_changes(before: list[Level], after: list[Level], book: dict[int, int], depth: int) -> list[Level]:
    """What Kraken sends a ``depth`` subscriber for one side: levels that changed or entered the
    window, and qty 0 for window levels gone from the book. A level pushed out of the window while
    still in the book gets nothing; the client's truncation drops it."""
    was = dict(before[:depth])
    now = after[:depth]
    shown = {px for px, _ in now}
    deleted = [(px, 0) for px in was if px not in shown and px not in book]
    return deleted + [(px, lots) for px, lots in now if was.get(px) != lots]
