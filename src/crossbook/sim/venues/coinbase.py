"""Simulated Coinbase Advanced Trade.

Market data: the public products endpoint, and the WebSocket with one subscribe per channel
(``level2``, ``market_trades``, ``heartbeats``), ``subscriptions`` acks, an in-band ``l2_data``
snapshot then updates, trades, heartbeats every second, and one ``sequence_num`` counter per
connection across every channel.

Spot trading, as ccxt calls it: the public ``/v2`` currency and exchange-rate lists load_markets
reads, ``/api/v3/brokerage/transaction_summary`` (the fee tier), ``accounts`` (cursor-paginated),
``orders`` (create, with Coinbase's ``order_configuration`` objects and client-id idempotency),
``orders/batch_cancel``, ``orders/historical/{id}``, ``orders/historical/batch``,
``orders/historical/fills``, ``key_permissions``, ``orders/edit`` (ccxt's edit_order: a GTC
limit order's size and price changed in place, the order id kept, queue priority kept only by a
smaller size at the same price; failures as ``success: false`` with ``errors``), and the user's
portfolios (``portfolios``; ``portfolios/move_funds``, ccxt's transfer(): the key's main account is
the DEFAULT portfolio, each engine sub-account under it a CONSUMER one). Keys are CDP keys: the name
``organizations/{org}/apiKeys/{id}`` and an EC P-256 private key in PEM, of which the simulator
keeps only the public half. Every private call carries ``Authorization: Bearer <JWT>``, an ES256
JWT whose signature, ``kid``/``sub`` (the key name), ``iss``, ``nbf``/``exp`` (at most 120 s) and
``uri`` claim (``METHOD host/path``, no query) are checked; any failure is Coinbase's bare
``401 Unauthorized``. Refused orders answer ``success: false`` with Coinbase's ``error_response``.
Fees are charged in the quote currency on both sides, as Coinbase charges them.

Private stream: the ``user`` channel on the Advanced Trade socket ("/", the market-data host
ccxt.pro uses; Coinbase also serves it on advanced-trade-ws-user). The subscribe carries ``jwt``,
checked as on REST (signature, ``kid``/``sub``, issuer, 120 s window) less the ``uri`` claim a
WebSocket JWT has none of; a bad one gets ``{"type": "error", "message": "authentication
failure"}``. A good one gets the ``subscriptions`` ack, a ``snapshot`` of the open orders (50 to a
message), then an ``update`` per order event with the order's cumulative state
(``cumulative_quantity``, ``leaves_quantity``, ``avg_price``, ``total_fees``, ``status``...), all
numbered by the connection's ``sequence_num``. The channel has no fills of its own: a client reads
them over REST.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...model import OrderStatus, OrderType, Side, TimeInForce
from ...symbols import parse_standard
from ..access import READ_TRADE, ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..market import Ladder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response

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
# engine reject reason -> Coinbase's (error, message, preview_failure_reason)
REFUSALS: dict[str, tuple[str, str, str]] = {
    "insufficient_balance": ("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND"),
    "post_only_would_take": ("INVALID_LIMIT_PRICE_POST_ONLY", "Invalid limit price for post only order", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"),
    "price_off_grid": ("INVALID_PRICE_PRECISION", "Invalid price precision", "PREVIEW_INVALID_PRICE_PRECISION"),
    "stop_price_off_grid": ("INVALID_PRICE_PRECISION", "Invalid stop price precision", "PREVIEW_INVALID_STOP_PRICE_PRECISION"),
    "amount_off_grid": ("INVALID_SIZE_PRECISION", "Invalid size precision", "PREVIEW_INVALID_SIZE_PRECISION"),
    "bad_amount": ("UNKNOWN_FAILURE_REASON", "Base size is too small", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"),
    "no_liquidity": ("INVALID_NO_LIQUIDITY", "Not enough liquidity", "UNKNOWN_PREVIEW_FAILURE_REASON"),
}

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


class BadArgument(Exception):
    """A request Coinbase's gateway refuses before the order system sees it: HTTP 400
    ``INVALID_ARGUMENT``."""


class Refusal(Exception):
    """An order Coinbase turns down: HTTP 200, ``success: false`` and this ``error_response``."""

    def __init__(self, error: str, message: str, preview: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.preview = preview

    @classmethod
    def of(cls, reject: Reject) -> Refusal:
        return cls(*REFUSALS.get(reject.reason, ("UNKNOWN_FAILURE_REASON", str(reject), "UNKNOWN_PREVIEW_FAILURE_REASON")))

    def body(self, configuration: Any) -> dict[str, Any]:
        return {
            "success": False,
            "failure_reason": "UNKNOWN_FAILURE_REASON",
            "order_id": "",
            "error_response": {
                "error": self.error,
                "message": self.message,
                "error_details": "",
                "preview_failure_reason": self.preview,
                "new_order_failure_reason": self.error,
            },
            "order_configuration": configuration,
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


def failure(status: int, error: str, message: str) -> web.Response:
    return json_response({"error": error, "error_details": message, "message": message}, status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise BadArgument("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadArgument("the request body must be a JSON object")
    return body


def decimal_field(fields: dict[str, Any], name: str) -> Decimal:
    value = fields.get(name)
    if not isinstance(value, str):
        raise BadArgument(f"{name} is required, as a string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise BadArgument(f"invalid {name} {value!r}") from None
    if not number.is_finite():
        raise BadArgument(f"invalid {name} {value!r}")
    return number


def num(value: Decimal) -> str:
    """Coinbase's plain decimal strings: no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise BadArgument(f"invalid timestamp {text!r}") from None


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
        raise BadArgument("invalid limit or cursor") from None
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


class CoinbaseSim(SimVenue):
    venue = "coinbase"
    ccxt_id = "coinbase"
    ccxt_hosts = ("https://api.coinbase.com",)
    buy_fee_in_base = False  # Coinbase charges every fill's fee in the quote currency
    # balances from the Advanced Trade accounts (v3), not the Coinbase App's /v2/accounts
    ccxt_options = {"fetchBalance": "v3PrivateGetBrokerageAccounts"}
    markets = ("BTC-USD", "BTC-USDT", "ETH-USD", "ETH-USDT", "SOL-USDT", "ETH-BTC", "USDT-USD")
    # ccxt.pro subscribes the user channel on the market-data host, which serves both (Coinbase's
    # advanced-trade-ws-user host serves only user and heartbeats), so the private stream shares
    # "/" with market data
    ws_paths = ("/",)
    private_ws_paths = ("/",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})

    def request_key(self, headers: Mapping[str, str]) -> str:
        """The CDP key named by the bearer JWT's ``sub``."""
        bearer = headers.get("Authorization", "")
        try:
            return str(parse_jwt(bearer.removeprefix("Bearer ")).claims.get("sub", "")) if bearer.startswith("Bearer ") else ""
        except (ValueError, orjson.JSONDecodeError):
            return ""

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"error": "rate_limit_exceeded", "message": "Too many requests"}, 429)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self.public_keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self.uuids: dict[str, str] = {}  # engine order id -> Coinbase order id
        self.order_ids: dict[str, str] = {}  # Coinbase order id -> engine order id
        self.quote_sizes: dict[str, Decimal] = {}  # engine order id -> quote_size of a market order
        self.opened = time.time()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A CDP key: its name and a PEM EC P-256 private key, which Coinbase hands out once; the
        simulator verifies with the public half only."""
        self.engine.account(account)
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
        key = ApiKey(key=name, secret=pem.decode(), account=account, permissions=permissions)
        self.api_keys[name] = key
        self.public_keys[name] = private.public_key()
        return key

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v3/brokerage/market/products", self.products), *self.trading_routes()]

    def trading_routes(self) -> list[web.RouteDef]:
        api = "/api/v3/brokerage"
        return [
            web.get("/v2/currencies", self.fiat_currencies),
            web.get("/v2/currencies/crypto", self.crypto_currencies),
            web.get("/v2/exchange-rates", self.exchange_rates),
            web.get(f"{api}/products", self.private(self.private_products)),
            web.get(f"{api}/key_permissions", self.private(self.key_permissions)),
            web.get(f"{api}/transaction_summary", self.private(self.transaction_summary)),
            web.get(f"{api}/accounts", self.private(self.accounts)),
            web.post(f"{api}/orders", self.private(self.create_order, trade=True)),
            web.post(f"{api}/orders/batch_cancel", self.private(self.cancel_orders, trade=True)),
            web.post(f"{api}/orders/edit", self.private(self.edit_order, trade=True)),
            web.get(f"{api}/portfolios", self.private(self.portfolios)),
            web.post(f"{api}/portfolios/move_funds", self.private(self.move_funds, trade=True)),
            # the fixed paths first: aiohttp matches in this order
            web.get(f"{api}/orders/historical/batch", self.private(self.list_orders)),
            web.get(f"{api}/orders/historical/fills", self.private(self.list_fills)),
            web.get(f"{api}/orders/historical/{{order_id}}", self.private(self.get_order)),
        ]

    async def products(self, request: web.Request) -> web.Response:
        rows: list[dict[str, Any]] = []
        if request.query.get("product_type", "SPOT") == "SPOT":
            for symbol in self.markets:
                rows.append(self.product(symbol))
                if symbol.endswith("-USD"):
                    rows.append(self.usdc_alias(rows[-1]))
        return json_response({"products": rows, "num_products": len(rows), "pagination": None})

    def product(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        best = ladder.top(True, 1)
        tick = ladder.price_str(1)
        return {
            "product_id": self.native(symbol),
            "price": ladder.price_str(best[0][0]) if best else "",
            "base_increment": ladder.size_str(1),
            "quote_increment": tick,
            "price_increment": tick,
            "base_min_size": ladder.size_str(1),
            "base_max_size": "3400",
            "quote_min_size": "1",
            "quote_max_size": "150000000",
            "status": "online",
            "product_type": "SPOT",
            "base_currency_id": base,
            "quote_currency_id": quote,
            "base_display_symbol": base,
            "quote_display_symbol": quote,
            "display_name": self.native(symbol),
            "product_venue": "CBE",
            "is_disabled": False,
            "trading_disabled": False,
            "cancel_only": False,
            "limit_only": False,
            "post_only": False,
            "auction_mode": False,
            "view_only": False,
            "alias": "",
            "alias_to": [],
        }

    def usdc_alias(self, usd: dict[str, Any]) -> dict[str, Any]:
        """Coinbase lists X-USDC as an alias of X-USD: same book, same market data."""
        native = usd["product_id"] + "C"
        usd["alias_to"] = [native]
        return {**usd, "product_id": native, "display_name": native, "quote_currency_id": "USDC", "alias": usd["product_id"], "alias_to": []}

    # ---- auth -------------------------------------------------------------------------------

    def private(self, handler: Private, *, trade: bool = False) -> Handler:
        """A private endpoint: a valid JWT, and for ``trade`` endpoints a key allowed to trade."""

        async def check(request: web.Request) -> web.Response:
            key = self.authenticate(request)
            if key is None:
                return unauthorized()
            if trade and "trade" not in key.permissions:
                return failure(403, "PERMISSION_DENIED", "Missing required scopes")
            try:
                return await handler(key, request)
            except BadArgument as exc:
                return failure(400, "INVALID_ARGUMENT", str(exc))

        return check

    def authenticate(self, request: web.Request) -> ApiKey | None:
        """A REST call's JWT, whose ``uri`` claim must name this request."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer":
            return None
        checked = self.verify_jwt(token)
        if checked is None:
            return None
        key, claims = checked
        if uri_target(claims.get("uri"), request.method) != f"{request.host}{request.rel_url.raw_path}":
            return None
        return key

    def verify_jwt(self, token: Any) -> tuple[ApiKey, dict[str, Any]] | None:
        """The key that signed ``token`` and its claims, if the signature, ``kid``/``sub``, issuer
        and lifetime hold (a WebSocket JWT has no ``uri`` claim: that is the REST check's)."""
        if not isinstance(token, str):
            return None
        try:
            jwt = parse_jwt(token)
        except ValueError:
            return None
        name = jwt.claims.get("sub")
        if not isinstance(name, str):
            return None
        public, key = self.public_keys.get(name), self.api_keys.get(name)
        if public is None or key is None or jwt.header.get("kid") != name or not es256_valid(public, jwt):
            return None
        if not claims_valid(jwt.claims, name, time.time()):
            return None
        return key, jwt.claims

    # ---- currencies, fees, accounts -----------------------------------------------------------

    def currencies(self) -> list[str]:
        codes = {c for s in self.markets for c in parse_standard(s)[:2]} | {"USDC"}  # USDC: the aliases' quote
        return sorted(codes)

    async def fiat_currencies(self, request: web.Request) -> web.Response:
        rows = [{"id": c, "name": CURRENCIES[c][0], "min_size": "0.01"} for c in self.currencies() if c in FIAT]
        return json_response({"data": rows})

    async def crypto_currencies(self, request: web.Request) -> web.Response:
        rows = [
            {
                "asset_id": stable_id(f"asset/{code}"),
                "code": code,
                "name": CURRENCIES[code][0],
                "color": "#0052FF",
                "sort_index": index,
                "exponent": CURRENCIES[code][1],
                "type": "crypto",
                "address_regex": "^.+$",
            }
            for index, code in enumerate(c for c in self.currencies() if c not in FIAT)
        ]
        return json_response({"data": rows})

    async def exchange_rates(self, request: web.Request) -> web.Response:
        usd = self.market.fair.usd
        rates = {c: num(Decimal(1) / Decimal(repr(usd.get(c, 1.0)))) for c in self.currencies()}
        return json_response({"data": {"currency": "USD", "rates": rates}})

    async def private_products(self, key: ApiKey, request: web.Request) -> web.Response:
        return await self.products(request)

    async def key_permissions(self, key: ApiKey, request: web.Request) -> web.Response:
        return json_response(
            {
                "can_view": "read" in key.permissions,
                "can_trade": "trade" in key.permissions,
                "can_transfer": "withdraw" in key.permissions,
                "portfolio_uuid": stable_id(f"portfolio/{key.account}"),
                "portfolio_type": "DEFAULT",
            }
        )

    async def transaction_summary(self, key: ApiKey, request: web.Request) -> web.Response:
        fills = self.engine.account_fills(key.account)
        volume = float(sum((f.price * f.amount for f in fills), ZERO))  # quote units taken as USD
        fees = float(sum((f.fee for f in fills), ZERO))
        tier = {
            "pricing_tier": "Advanced 1",
            "usd_from": "0",
            "usd_to": "1000",
            "taker_fee_rate": num(self.engine.taker_fee),
            "maker_fee_rate": num(self.engine.maker_fee),
            "aop_from": "",
            "aop_to": "",
        }
        return json_response(
            {
                "total_volume": volume,
                "total_fees": fees,
                "fee_tier": tier,
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": volume,
                "advanced_trade_only_fees": fees,
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
                "total_balance": "",
                "has_promo_fee": False,
            }
        )

    async def accounts(self, key: ApiKey, request: web.Request) -> web.Response:
        codes = sorted(set(self.currencies()) | set(self.engine.account(key.account).balances))
        rows, cursor, more = page(codes, request.query, 49, 250)
        return json_response({"accounts": [self.wallet(key.account, c) for c in rows], "has_next": more, "cursor": cursor, "size": len(rows)})

    def wallet(self, name: str, code: str) -> dict[str, Any]:
        account = self.engine.account(name)
        return {
            "uuid": stable_id(f"wallet/{name}/{code}"),
            "name": f"Cash ({code})" if code in FIAT else f"{code} Wallet",
            "currency": code,
            "available_balance": {"value": num(account.available(code)), "currency": code},
            "default": True,
            "active": True,
            "created_at": iso(self.opened),
            "updated_at": iso(time.time()),
            "deleted_at": None,
            "type": "ACCOUNT_TYPE_FIAT" if code in FIAT else "ACCOUNT_TYPE_CRYPTO",
            "ready": True,
            "hold": {"value": num(account.locked.get(code, ZERO)), "currency": code},
            "retail_portfolio_id": stable_id(f"portfolio/{name}"),
        }

    # ---- orders -------------------------------------------------------------------------------

    async def create_order(self, key: ApiKey, request: web.Request) -> web.Response:
        body = await json_body(request)
        client_id = body.get("client_order_id")
        if not isinstance(client_id, str) or not client_id:
            raise BadArgument("client_order_id is required")
        try:
            order = self.existing(key.account, client_id) or self.place(key.account, client_id, body)
        except Refusal as exc:
            return json_response(exc.body(body.get("order_configuration")))
        oid = self.uuid_of(order.order_id)
        return json_response(
            {
                "success": True,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": oid,
                "success_response": {"order_id": oid, "product_id": self.native(order.symbol), "side": order.side.value.upper(), "client_order_id": client_id},
                "order_configuration": self.configuration_json(order),
            }
        )

    def existing(self, account: str, client_id: str) -> SimOrder | None:
        """Coinbase answers a reused client_order_id with the order it already names."""
        try:
            return self.engine.find(account, client_id=client_id)
        except Reject:
            return None

    def place(self, account: str, client_id: str, body: dict[str, Any]) -> SimOrder:
        symbol = self.symbol_of(str(body.get("product_id", "")))
        if symbol is None:
            raise Refusal("INVALID_PRODUCT_ID", "Invalid product_id", "PREVIEW_INVALID_PRODUCT_ID")
        side = SIDES.get(str(body.get("side")))
        if side is None:
            raise Refusal("INVALID_SIDE", "Invalid side", "PREVIEW_INVALID_SIDE")
        name, fields = self.read_configuration(body.get("order_configuration"))
        amount, quote = self.sizes(symbol, side, name, fields)
        limit = decimal_field(fields, "limit_price") if "limit_price" in CONFIGURATIONS[name].fields else None
        if side is Side.BUY:
            self.check_funds(account, symbol, quote if limit is None else limit * amount * (1 + self.engine.taker_fee))
        order = self.submit(account, client_id, symbol, side, name, fields, amount, limit)
        if quote is not None:
            self.quote_sizes[order.order_id] = quote
        return order

    def submit(
        self, account: str, client_id: str, symbol: str, side: Side, name: str, fields: dict[str, Any], amount: Decimal, limit: Decimal | None
    ) -> SimOrder:
        config = CONFIGURATIONS[name]
        post_only = fields.get("post_only", False)
        if not isinstance(post_only, bool):
            raise BadArgument("post_only must be a boolean")
        stop, rising = self.stop_price(symbol, fields) if "stop_price" in config.fields else (None, None)
        try:
            return self.engine.submit(
                account, symbol, side, config.type, amount, limit, stop_price=stop, tif=config.tif,
                post_only=post_only, client_id=client_id, trigger_above=rising,
            )
        except Reject as exc:
            raise Refusal.of(exc) from None

    def check_funds(self, account: str, symbol: str, cost: Decimal | None) -> None:
        """Coinbase wants a buy's cost and its fee in the quote currency (the engine checks the
        cost alone: it takes a buy's fee from the base bought). ``cost`` is None for a base-sized
        market buy, whose cost only the engine's sweep knows."""
        quote = self.engine.markets[symbol].quote
        if cost is not None and self.engine.account(account).available(quote) < cost:
            raise Refusal(*REFUSALS["insufficient_balance"])

    @staticmethod
    def read_configuration(value: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(value, dict) or len(value) != 1:
            raise BadArgument("order_configuration must hold exactly one order configuration")
        ((name, fields),) = value.items()
        if name not in CONFIGURATIONS:
            raise Refusal("UNSUPPORTED_ORDER_CONFIGURATION", f"{name} is not supported by the simulator", "PREVIEW_INVALID_ORDER_CONFIG")
        if not isinstance(fields, dict):
            raise BadArgument(f"{name} must be an object")
        return name, fields

    def sizes(self, symbol: str, side: Side, name: str, fields: dict[str, Any]) -> tuple[Decimal, Decimal | None]:
        """The base amount to submit, and the quote_size it came from (market orders only)."""
        if name != "market_market_ioc" or "quote_size" not in fields:
            return decimal_field(fields, "base_size"), None
        if "base_size" in fields:
            raise BadArgument("give base_size or quote_size, not both")
        quote = decimal_field(fields, "quote_size")
        return self.base_for_quote(symbol, side, quote), quote

    def base_for_quote(self, symbol: str, side: Side, quote: Decimal) -> Decimal:
        """The whole lots the book gives now for ``quote``; a buy's quote_size includes the taker
        fee, as on Coinbase (filled_value + total_fees = quote_size)."""
        market, ladder = self.engine.markets[symbol], self.ladders[symbol]
        left = quote / (1 + self.engine.taker_fee) if side is Side.BUY else quote
        lots = 0
        book = ladder.asks if side is Side.BUY else ladder.bids
        for ticks, available in ladder.top(side is Side.SELL, len(book)) if left > 0 else []:
            take = min(available, int(left / (ticks * market.tick * market.lot)))
            lots += take
            left -= take * ticks * market.tick * market.lot
            if take < available:
                break
        if lots == 0:
            raise Refusal("UNKNOWN_FAILURE_REASON", "Quote size is too small", "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL")
        return lots * market.lot

    def stop_price(self, symbol: str, fields: dict[str, Any]) -> tuple[Decimal, bool]:
        """A stop-limit's trigger and whether it fires on a rise. Coinbase wants a STOP_UP trigger
        above the last trade and a STOP_DOWN one below it."""
        stop = decimal_field(fields, "stop_price")
        direction = fields.get("stop_direction")
        if direction not in STOP_DIRECTIONS.values():
            raise BadArgument(f"stop_direction must be one of {', '.join(STOP_DIRECTIONS.values())}")
        rising = direction == STOP_DIRECTIONS[True]
        last = self.last_price(symbol)
        if rising and stop <= last:
            raise Refusal("UNKNOWN_FAILURE_REASON", "", "PREVIEW_STOP_PRICE_BELOW_LAST_TRADE_PRICE")
        if not rising and stop >= last:
            raise Refusal("UNKNOWN_FAILURE_REASON", "", "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE")
        return stop, rising

    def last_price(self, symbol: str) -> Decimal:
        """The last trade's price, or the mid before any trade printed."""
        if self.recent[symbol]:
            return Decimal(self.recent[symbol][-1]["price"])
        ladder = self.ladders[symbol]
        return (Decimal(ladder.price_str(max(ladder.bids))) + Decimal(ladder.price_str(min(ladder.asks)))) / 2

    def uuid_of(self, order_id: str) -> str:
        if order_id not in self.uuids:
            public = str(uuid.uuid4())
            self.uuids[order_id] = public
            self.order_ids[public] = order_id
        return self.uuids[order_id]

    def owned(self, account: str, public_id: str) -> SimOrder | None:
        try:
            return self.engine.find(account, self.order_ids.get(public_id, ""))
        except Reject:
            return None

    async def get_order(self, key: ApiKey, request: web.Request) -> web.Response:
        order = self.owned(key.account, request.match_info["order_id"])
        if order is None:
            return failure(404, "NOT_FOUND", "order with this orderID was not found")
        return json_response({"order": self.order_json(order)})

    async def cancel_orders(self, key: ApiKey, request: web.Request) -> web.Response:
        ids = (await json_body(request)).get("order_ids")
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_CANCEL or not all(isinstance(i, str) for i in ids):
            raise BadArgument(f"order_ids must list 1 to {MAX_CANCEL} order ids")
        results = []
        for public_id in ids:
            reason = self.cancel_one(key.account, public_id)
            results.append({"success": reason is None, "failure_reason": reason or "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": public_id})
        return json_response({"results": results})

    def cancel_one(self, account: str, public_id: str) -> str | None:
        """Cancels the order, or names why not."""
        order = self.owned(account, public_id)
        if order is None:
            return "UNKNOWN_CANCEL_ORDER"
        if order.status is OrderStatus.FILLED:
            return "ORDER_IS_FULLY_FILLED"
        if order.status.final:
            return "DUPLICATE_CANCEL_REQUEST"
        self.engine.cancel(account, order.order_id)
        return None

    async def edit_order(self, key: ApiKey, request: web.Request) -> web.Response:
        """Edit a GTC limit order's ``size`` (the new total) and ``price`` in place: the order id
        stays; a smaller size at the same price keeps its queue place, anything else goes to the
        back of its (new) level and may take at once. Refused edits answer ``success: false`` with
        ``errors`` [{edit_failure_reason, preview_failure_reason}]."""
        body = await json_body(request)
        reasons = self.edit(key.account, body)
        errors = [] if reasons is None else [{"edit_failure_reason": reasons[0], "preview_failure_reason": reasons[1]}]
        return json_response({"success": reasons is None, "errors": errors})

    def edit(self, account: str, body: dict[str, Any]) -> tuple[str, str] | None:
        """Edits the order, or names why not (edit and preview failure reasons)."""
        order = self.owned(account, str(body.get("order_id", "")))
        if order is None:
            return "ORDER_NOT_FOUND", NO_PREVIEW_FAILURE
        if order.status.final:
            return "ONLY_OPEN_ORDERS_CAN_BE_EDITED", NO_PREVIEW_FAILURE
        if order.type is not OrderType.LIMIT or order.tif is not TimeInForce.GTC or order.stop is not None:
            return "ONLY_LIMIT_ORDER_EDITS_SUPPORTED", NO_PREVIEW_FAILURE
        market = self.engine.markets[order.symbol]
        assert order.price is not None
        lots = self.edited_units(body, "size", market.lot, order.amount)
        ticks = self.edited_units(body, "price", market.tick, order.price)
        if lots is None:
            return "INVALID_EDITED_SIZE", NO_PREVIEW_FAILURE
        if ticks is None:
            return "INVALID_EDITED_PRICE", NO_PREVIEW_FAILURE
        if lots <= order.filled:
            return "CANNOT_EDIT_TO_BELOW_FILLED_SIZE", NO_PREVIEW_FAILURE
        if (lots, ticks) == (order.amount, order.price):
            return "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST", NO_PREVIEW_FAILURE
        try:
            self.engine.amend(order, lots, ticks)
        except Reject as exc:
            return "COMMANDER_REJECTED_EDIT_ORDER", Refusal.of(exc).preview
        return None

    @staticmethod
    def edited_units(body: dict[str, Any], name: str, step: Decimal, current: int) -> int | None:
        """A new size or price in lots or ticks (``current`` when not given); None when invalid."""
        if name not in body:
            return current
        try:
            units = decimal_field(body, name) / step
        except BadArgument:
            return None
        return int(units) if units > 0 and units == units.to_integral_value() else None

    def family(self, account: str) -> list[str]:
        """The portfolios of the key's user: its main account and the sub-accounts under it."""
        root = self.engine.account(account).parent or account
        return [root, *(n for n, a in self.engine.accounts.items() if a.parent == root)]

    async def portfolios(self, key: ApiKey, request: web.Request) -> web.Response:
        rows = [
            {"name": "Default" if i == 0 else name, "uuid": stable_id(f"portfolio/{name}"),
             "type": "DEFAULT" if i == 0 else "CONSUMER", "deleted": False}
            for i, name in enumerate(self.family(key.account))
        ]
        return json_response({"portfolios": rows})

    async def move_funds(self, key: ApiKey, request: web.Request) -> web.Response:
        """Move ``funds`` {value, currency} from one of the user's portfolios (main account or a
        sub-account) to another; refused when the source's available balance is short."""
        body = await json_body(request)
        funds = body.get("funds")
        if not isinstance(funds, dict) or not isinstance(funds.get("currency"), str):
            raise BadArgument("funds must hold value and currency")
        amount = decimal_field(funds, "value")
        by_uuid = {stable_id(f"portfolio/{n}"): n for n in self.family(key.account)}
        source, target = (by_uuid.get(str(body.get(f))) for f in ("source_portfolio_uuid", "target_portfolio_uuid"))
        if source is None or target is None:
            return failure(404, "NOT_FOUND", "portfolio not found")
        if source == target or amount <= 0:
            raise BadArgument("funds must move a positive value between two different portfolios")
        try:
            self.engine.transfer(funds["currency"], amount, source, target)
        except Reject:
            return failure(400, "INSUFFICIENT_FUND", "Insufficient balance in source account")
        return json_response({"source_portfolio_uuid": body["source_portfolio_uuid"],
                              "target_portfolio_uuid": body["target_portfolio_uuid"]})

    async def list_orders(self, key: ApiKey, request: web.Request) -> web.Response:
        query = request.query
        statuses, products = listed(query, "order_status"), listed(query, "product_id", "product_ids")
        ids, sides = listed(query, "order_ids"), listed(query, "order_side")
        start, end = time_range(query, "start_date", "end_date")
        orders = [
            o for o in sorted(self.engine.orders.values(), key=lambda o: o.seq, reverse=True)
            if o.account == key.account
            and (not statuses or STATUS[o.status] in statuses)
            and (not products or self.native(o.symbol) in products)
            and (not ids or self.uuid_of(o.order_id) in ids)
            and (not sides or o.side.value.upper() in sides)
            and start <= o.created <= end
        ]
        rows, cursor, more = page(orders, query, 100, 1000)
        return json_response({"orders": [self.order_json(o) for o in rows], "sequence": "0", "has_next": more, "cursor": cursor})

    async def list_fills(self, key: ApiKey, request: web.Request) -> web.Response:
        query = request.query
        products, ids = listed(query, "product_id", "product_ids"), listed(query, "order_id", "order_ids")
        start, end = time_range(query, "start_sequence_timestamp", "end_sequence_timestamp")
        fills = [
            f for f in reversed(self.engine.account_fills(key.account))
            if (not products or self.native(f.symbol) in products)
            and (not ids or self.uuid_of(f.order_id) in ids)
            and start <= f.ts <= end
        ]
        rows, cursor, _ = page(fills, query, 100, 1000)
        return json_response({"fills": [self.fill_json(f) for f in rows], "cursor": cursor})

    # ---- Coinbase shapes ----------------------------------------------------------------------

    def configuration_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        name = configuration_name(order)
        quote = self.quote_sizes.get(order.order_id)
        fields: dict[str, Any] = {"quote_size": num(quote)} if quote is not None else {"base_size": num(order.amount * market.lot)}
        if order.price is not None:
            fields["limit_price"] = num(order.price * market.tick)
        if order.stop is not None:
            fields["stop_price"] = num(order.stop * market.tick)
            fields["stop_direction"] = STOP_DIRECTIONS[order.is_bid if order.trigger_above is None else order.trigger_above]
        if name == "limit_limit_gtc":
            fields["post_only"] = order.post_only
        return {name: fields}

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        fills = [f for f in self.engine.fills if f.order_id == order.order_id]
        in_quote = order.order_id in self.quote_sizes
        fees = sum((f.fee for f in fills), ZERO)
        return {
            "order_id": self.uuid_of(order.order_id),
            "product_id": self.native(order.symbol),
            "user_id": stable_id(f"user/{order.account}"),
            "order_configuration": self.configuration_json(order),
            "side": order.side.value.upper(),
            "client_order_id": order.client_id,
            "status": STATUS[order.status],
            "time_in_force": CONFIGURATIONS[configuration_name(order)].time_in_force,
            "created_time": iso(order.created),
            "completion_percentage": num((Decimal(100) * order.filled / order.amount).quantize(Decimal("0.01"))),
            "filled_size": num(filled),
            "average_filled_price": num(order.cost / filled) if filled else "0",
            "fee": "",
            "number_of_fills": str(len(fills)),
            "filled_value": num(order.cost),
            "pending_cancel": False,
            "size_in_quote": in_quote,
            "total_fees": num(fees),
            "size_inclusive_of_fees": in_quote,
            "total_value_after_fees": num(order.cost + fees if order.is_bid else order.cost - fees),
            "trigger_status": trigger_status(order),
            "order_type": ORDER_TYPES[order.type],
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": order.status.final,
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "User requested cancel" if order.status is OrderStatus.CANCELED else "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": num(order.reserved),
            "is_liquidation": False,
            "last_fill_time": iso(fills[-1].ts) if fills else None,
            "edit_history": [],
            "leverage": "",
            "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": stable_id(f"portfolio/{order.account}"),
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        """One fill; a quote-sized order's fills give their size in the quote currency."""
        in_quote = fill.order_id in self.quote_sizes
        return {
            "entry_id": hashlib.sha256(f"{fill.trade_id}/{fill.order_id}".encode()).hexdigest(),
            "trade_id": stable_id(f"trade/{fill.trade_id}"),
            "order_id": self.uuid_of(fill.order_id),
            "trade_time": iso(fill.ts),
            "trade_type": "FILL",
            "price": num(fill.price),
            "size": num(fill.price * fill.amount if in_quote else fill.amount),
            "commission": num(fill.fee),
            "product_id": self.native(fill.symbol),
            "sequence_timestamp": iso(fill.ts),
            "liquidity_indicator": "TAKER" if fill.taker else "MAKER",
            "size_in_quote": in_quote,
            "user_id": stable_id(f"user/{fill.account}"),
            "side": fill.side.value.upper(),
            "retail_portfolio_id": stable_id(f"portfolio/{fill.account}"),
        }

    # ---- WebSocket: requests ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["seq"] = 0
        conn.state["heartbeats"] = False
        conn.state["heartbeat_task"] = asyncio.ensure_future(self._heartbeat_loop(conn))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        kind, channel = msg.get("type"), msg.get("channel")
        symbols = [self.symbol_of(n) for n in msg.get("product_ids") or []]
        if kind not in ("subscribe", "unsubscribe") or channel not in ("level2", "market_trades", "heartbeats", "user"):
            conn.send(self.error("failure to subscribe"))
            return
        if None in symbols:
            conn.send(self.error(f"invalid product_ids {msg.get('product_ids')}"))
            return
        known = [s for s in symbols if s is not None]
        if channel == "user":
            self.user_request(conn, kind, known, msg.get("jwt"))
            return
        if kind == "unsubscribe":
            self.unsubscribe(conn, channel, known)
        elif channel == "level2" and self.books_after(conn, known) > MAX_BOOKS_PER_CONNECTION:
            conn.send(self.error("too many L2 streams requested in a single session"))
            return
        else:
            self.subscribe(conn, channel, known)
        self.acknowledge(conn)

    def subscribe(self, conn: SimConnection, channel: str, symbols: list[str]) -> None:
        if channel == "heartbeats":
            conn.state["heartbeats"] = True
            return
        for symbol in symbols:
            conn.subs.setdefault(symbol, set()).add(channel)
        now = rfc3339(time.time_ns())
        if channel == "level2":
            for symbol in symbols:
                events = [{"type": "snapshot", "product_id": self.native(symbol), "updates": self.snapshot_levels(symbol, now)}]
                conn.send(self.envelope(conn, "l2_data", now, orjson.dumps(events)))
        else:
            trades = [t for s in symbols for t in reversed(self.recent[s])]  # newest first
            conn.send(self.envelope(conn, "market_trades", now, orjson.dumps([{"type": "snapshot", "trades": trades}])))

    def unsubscribe(self, conn: SimConnection, channel: str, symbols: list[str]) -> None:
        if channel == "heartbeats":
            conn.state["heartbeats"] = False
            return
        for symbol in symbols:
            channels = conn.subs.get(symbol)
            if channels is not None:
                channels.discard(channel)
                if not channels:
                    del conn.subs[symbol]

    def books_after(self, conn: SimConnection, symbols: list[str]) -> int:
        return len({s for s, ch in conn.subs.items() if "level2" in ch} | set(symbols))

    def subscriptions(self, conn: SimConnection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for symbol, channels in conn.subs.items():
            for channel in sorted(channels):
                out.setdefault(channel, []).append(self.native(symbol))
        if conn.state["heartbeats"]:
            out["heartbeats"] = ["heartbeats"]
        if "user" in conn.state:
            out["user"] = [self.native(s) for s in conn.state["user"]]
        return out

    def acknowledge(self, conn: SimConnection) -> None:
        conn.send(self.envelope(conn, "subscriptions", rfc3339(time.time_ns()), orjson.dumps([{"subscriptions": self.subscriptions(conn)}])))

    def error(self, message: str) -> bytes:
        return orjson.dumps({"type": "error", "message": message})

    # ---- WebSocket: the user channel (private stream) ------------------------------------------

    def user_request(self, conn: SimConnection, kind: str, symbols: list[str], token: Any) -> None:
        """Subscribe (or unsubscribe) the account's orders: the ``jwt`` must be a live CDP JWT
        (checked as on REST, less the ``uri`` claim a WebSocket JWT does not carry). Empty
        ``product_ids`` follow every product."""
        checked = self.verify_jwt(token)
        if checked is None:
            conn.send(self.error("authentication failure"))
            return
        key = checked[0]
        if kind == "unsubscribe":
            conn.state.pop("user", None)
            conn.account = None
            self.acknowledge(conn)
            return
        conn.account = key.account
        conn.state["user"] = set(symbols)
        self.acknowledge(conn)
        open_orders = [
            self.user_order(o) for o in sorted(self.engine.orders.values(), key=lambda o: o.seq)
            if o.account == key.account and not o.status.final and self.follows(conn, o.symbol)
        ]
        for start in range(0, max(len(open_orders), 1), SNAPSHOT_BATCH):
            event = {"type": "snapshot", "orders": open_orders[start:start + SNAPSHOT_BATCH], "positions": NO_POSITIONS}
            conn.send(self.envelope(conn, "user", rfc3339(time.time_ns()), orjson.dumps([event])))

    def follows(self, conn: SimConnection, symbol: str) -> bool:
        products: set[str] | None = conn.state.get("user")
        return products is not None and (not products or symbol in products)

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        if not self.follows(conn, event.order.symbol):
            return []
        events = [{"type": "update", "orders": [self.user_order(event.order)]}]
        return [self.envelope(conn, "user", rfc3339(time.time_ns()), orjson.dumps(events))]

    def user_order(self, order: SimOrder) -> dict[str, Any]:
        """An order as the user channel reports it: cumulative fills, never one fill."""
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        fills = [f for f in self.engine.fills if f.order_id == order.order_id]
        fees = sum((f.fee for f in fills), ZERO)
        leaves = ZERO if order.status.final else (order.amount - order.filled) * market.lot
        return {
            "avg_price": num(order.cost / filled) if filled else "0",
            "cancel_reason": "User requested cancel" if order.status is OrderStatus.CANCELED else "",
            "client_order_id": order.client_id,
            "completion_percentage": num((Decimal(100) * order.filled / order.amount).quantize(Decimal("0.01"))),
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "cumulative_quantity": num(filled),
            "filled_value": num(order.cost),
            "leaves_quantity": num(leaves),
            "limit_price": num(order.price * market.tick) if order.price is not None else "0",
            "number_of_fills": str(len(fills)),
            "order_id": self.uuid_of(order.order_id),
            "order_side": order.side.value.upper(),
            "order_type": USER_ORDER_TYPES[order.type],
            "outstanding_hold_amount": num(order.reserved),
            "post_only": order.post_only,
            "product_id": self.native(order.symbol),
            "product_type": "SPOT",
            "reject_reason": "",
            "retail_portfolio_id": stable_id(f"portfolio/{order.account}"),
            "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
            "status": STATUS[order.status],
            "stop_price": num(order.stop * market.tick) if order.stop is not None else "0",
            "time_in_force": CONFIGURATIONS[configuration_name(order)].time_in_force,
            "total_fees": num(fees),
            "total_value_after_fees": num(order.cost + fees if order.is_bid else order.cost - fees),
            "trigger_status": trigger_status(order),
            "creation_time": iso(order.created),
            "end_time": "0001-01-01T00:00:00Z",
            "start_time": "0001-01-01T00:00:00Z",
        }

    # ---- WebSocket: market data ---------------------------------------------------------------

    def envelope(self, conn: SimConnection, channel: str, timestamp: str, events: bytes, skip: bool = False) -> bytes:
        """One message with this connection's next ``sequence_num`` (``skip`` loses one)."""
        seq = conn.state["seq"] + (1 if skip else 0)
        conn.state["seq"] = seq + 1
        head = orjson.dumps({"channel": channel, "client_id": "", "timestamp": timestamp, "sequence_num": seq})
        return head[:-1] + b',"events":' + events + b"}"

    def snapshot_levels(self, symbol: str, now: str) -> list[dict[str, str]]:
        ladder = self.ladders[symbol]
        bids = ladder.top(True, len(ladder.bids))
        asks = ladder.top(False, len(ladder.asks))
        return [self.level(ladder, True, p, q, now) for p, q in bids] + [self.level(ladder, False, p, q, now) for p, q in asks]

    def level(self, ladder: Ladder, is_bid: bool, ticks: int, lots: int, now: str) -> dict[str, str]:
        return {
            "side": "bid" if is_bid else "offer",
            "event_time": now,
            "price_level": ladder.price_str(ticks),
            "new_quantity": ladder.size_str(lots) if lots else "0",
        }

    def encode(self, symbol: str, changes: list[Change]) -> Tick:
        ladder = self.ladders[symbol]
        now = rfc3339(time.time_ns())
        updates = [self.level(ladder, b, p, q, now) for b, p, q in changes]
        events = orjson.dumps([{"type": "update", "product_id": self.native(symbol), "updates": updates}])
        return Tick(now, events, self.faults.take("skip", symbol))

    def frames_for(self, conn: SimConnection, symbol: str, encoded: Tick) -> list[Frame]:
        if "level2" not in conn.subs[symbol]:
            return []
        return [self.envelope(conn, "l2_data", encoded.timestamp, encoded.book_events, skip=encoded.skip)]

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[str, bytes] | None:
        """The tick's trades as one ``market_trades`` update; each connection numbers it."""
        if not trades:
            return None
        ladder = self.ladders[symbol]
        now = rfc3339(time.time_ns())
        rows = []
        for t in trades:
            row = {
                "trade_id": str(t.trade_id),
                "product_id": self.native(symbol),
                "price": ladder.price_str(t.ticks),
                "size": ladder.size_str(t.lots),
                "side": "SELL" if t.buy else "BUY",  # the maker's side
                "time": now,
            }
            rows.append(row)
            self.recent[symbol].append(row)
        return now, orjson.dumps([{"type": "update", "trades": rows}])

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[str, bytes] | None) -> list[Frame]:
        if encoded is None or "market_trades" not in conn.subs[symbol]:
            return []
        return [self.envelope(conn, "market_trades", *encoded)]

    async def _heartbeat_loop(self, conn: SimConnection) -> None:
        counter = 0
        while not conn.ws.closed:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            if conn.state["heartbeats"] and not conn.ws.closed:
                counter += 1
                now = rfc3339(time.time_ns())
                event = {"current_time": now.replace("T", " ").replace("Z", " +0000 UTC"), "heartbeat_counter": counter}
                conn.send(self.envelope(conn, "heartbeats", now, orjson.dumps([event])))


SIMS: dict[str, type[SimVenue]] = {
    "coinbase": CoinbaseSim,
}
