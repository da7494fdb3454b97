"""Simulated KuCoin spot.

Market data: POST /api/v1/bullet-public (token, endpoint, pingInterval), the WebSocket endpoint that
only accepts issued tokens, sends ``welcome``, acks subscriptions, answers ``ping`` with ``pong``
and drops a connection that stays silent past pingInterval + pingTimeout; ``/market/level2``
increments numbered per change (with the price-"0" entries that only consume a number),
``/market/match`` trades, the public /api/v1/market/orderbook/level2_20 and level2_100 snapshots
and /api/v2/symbols.

Spot trading, as ccxt calls it: the probes load_markets makes when keyed (``/api/ua/v1/account/mode``
answering CLASSIC, ``/api/v1/hf/accounts/opened``, the margin symbol lists, ``/api/v3/currencies``),
``/api/v1/accounts``, the signed full book ``/api/v3/market/orderbook/level2``, ``/api/v1/trade-fees``
and both of KuCoin's spot order families over one matching engine: high-frequency
(``/api/v1/hf/orders...``, ``/api/v1/hf/fills``; what ccxt uses when ``hf/accounts/opened`` says so,
the default here, as for KuCoin's Pro accounts) and classic (``/api/v1/orders``,
``/api/v1/order/client-order``, ``/api/v1/fills``), plus stop orders on ``/api/v1/stop-order``.
ccxt's edit_order is the HF modify ``/api/v1/hf/orders/alter``: a cancel and a new order (new
``orderId``, same ``clientOid``). ccxt's transfer() with ``transferType`` PARENT_TO_SUB or
SUB_TO_PARENT is the flex transfer ``/api/v3/accounts/universal-transfer`` between the master's
TRADE account and a sub-account's (sub-accounts are engine accounts whose parent is the key's; their
``userId`` is ``user_id(name)``).
Every private call is checked as KuCoin checks it: the key, the timestamp within 5 s, the
passphrase sent as base64 HMAC-SHA256(secret, passphrase) (key version 2), and KC-API-SIGN =
base64 HMAC-SHA256(secret, timestamp + method + path?query + body) over the bytes received.
Answers come in the ``{"code": "200000", "data": ...}`` envelope, refusals in KuCoin's codes.

Private stream, as ccxt.pro follows a classic (non-UTA) account: the signed POST
/api/v1/bullet-private issues a token bound to the key's account, with an instance server on
``/endpoint`` (KuCoin's private push endpoint path). That socket only accepts a private token; it
sends ``welcome``, acks subscriptions, answers ``ping`` with ``pong``, drops a silent connection like
the public one, and pushes ``orderChange`` messages on ``/spotMarket/tradeOrders`` (and
``/spotMarket/tradeOrdersV2``, which adds the ``received`` message): ``open`` when an order rests,
``match`` per fill (matchPrice, matchSize, tradeId, liquidity, feeType; status ``open`` for a resting
maker, ``match`` for a taker), ``filled`` or ``canceled`` with status ``done``. Fills carry no fee
(KuCoin's order-change messages have none). Trigger orders' ``/spotMarket/advancedOrders`` is not
served.
"""

from __future__ import annotations

import math
import asyncio
import base64
import contextlib
import hashlib
import hmac
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from string import hexdigits
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...model import OrderStatus, OrderType, Side, TimeInForce
from ..access import ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

OK = "200000"
CHANNELS = {"/market/level2": "level2", "/market/match": "match"}
ORDER_TOPICS = ("/spotMarket/tradeOrders", "/spotMarket/tradeOrdersV2")
TIMESTAMP_WINDOW_MS = 5_000
ZERO = Decimal(0)
Params = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]
Private = Callable[[ApiKey, web.Request, Params], Awaitable[Any]]

# engine reject reason -> (KuCoin code, message); KuCoin sends business errors with HTTP 200
ERRORS: dict[str, tuple[str, str]] = {
    "insufficient_balance": ("200004", "Balance insufficient!"),
    # KuCoin's own answer to a crossing post-only order is not documented; 300000 reaches ccxt as InvalidOrder
    "post_only_would_take": ("300000", "Post only order would be filled as taker."),
    "price_off_grid": ("400100", "Price increment invalid."),
    "stop_price_off_grid": ("400100", "Price increment invalid."),
    "amount_off_grid": ("400100", "Order size increment invalid."),
    "iceberg_visible_amount_off_grid": ("400100", "Order size increment invalid."),
    "bad_amount": ("400100", "Order size below the minimum requirement."),
    "bad_iceberg": ("400100", "visibleSize invalid."),
    "bad_number": ("400100", "Parameter error"),
    "missing_price": ("400100", "price is required"),
    "missing_stop": ("400100", "stopPrice is required"),
    "duplicate_client_id": ("126044", "clientOid duplicate"),
    "no_liquidity": ("400100", "No liquidity in the order book."),
    "unknown_symbol": ("400100", "Unsupported trading pair."),
}
ORDER_NOT_EXIST = "order not exist."
CLASSIC_NOT_CANCELABLE = "order_not_exist_or_not_allow_to_cancel"
HF_NOT_CANCELABLE = "Order not exist or not allow to be cancelled"
ENGINE_TYPES = {
    ("limit", False): OrderType.LIMIT,
    ("market", False): OrderType.MARKET,
    ("limit", True): OrderType.STOP_LIMIT,
    ("market", True): OrderType.STOP,
}
TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
CANCELED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
CHAINS = {"BTC": ("BTC", "btc"), "ETH": ("ERC20", "eth"), "SOL": ("SOL", "sol"), "USDT": ("ERC20", "eth"), "USDC": ("ERC20", "eth")}


class Refusal(Exception):
    """A request KuCoin refuses: its code and message, and the HTTP status they come with."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    @classmethod
    def of(cls, reject: Reject) -> Refusal:
        return cls(*ERRORS.get(reject.reason, ("400100", "Parameter error")))

    def response(self) -> web.Response:
        return json_response({"code": self.code, "msg": self.msg}, status=self.status)


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


class KucoinSpotSim(SimVenue):
    venue = "kucoin"
    ccxt_id = "kucoin"
    ccxt_hosts = ("https://api.kucoin.com",)
    ccxt_options = {"fetchMarkets": {"types": ["spot"], "fetchTickersFees": False}}
    key_needs_passphrase = True
    markets = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDC-USDT")
    ws_paths = ("/",)
    private_ws_paths = ("/endpoint",)
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    bullet_ping_interval_ms: ClassVar[int] = 18_000
    bullet_ping_timeout_ms: ClassVar[int] = 10_000
    max_topics: ClassVar[int] = 400  # per connection
    max_batch: ClassVar[int] = 100  # topics in one subscribe message
    empty_change_rate: ClassVar[float] = 0.2  # share of messages with a price-"0" entry

    api_key_header = "KC-API-KEY"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        """429 with 429000 and gw-ratelimit-reset, the milliseconds until the pool resets."""
        return refusal({"code": "429000", "msg": "Too Many Requests"}, 429,
                       {"gw-ratelimit-remaining": "0", "gw-ratelimit-reset": str(math.ceil(over.wait * 1000))})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sequence: dict[str, int] = {s: 1_600_000_000_000 + 1_000_003 * i for i, s in enumerate(self.markets)}
        self.tokens: set[str] = set()
        self.private_tokens: dict[str, str] = {}  # bullet-private token -> account
        self.rng = random.Random(f"kucoin-sim:{self.market.seed}")
        self._watchdogs: set[asyncio.Task[None]] = set()
        self.hf_account = True  # what /api/v1/hf/accounts/opened answers; False sends ccxt to the classic endpoints
        self.funds: dict[str, Decimal] = {}  # engine order id -> the quote amount a market order was given

    def native(self, symbol: str) -> str:
        return symbol  # KuCoin spot ids are BASE-QUOTE already

    @property
    def account_type(self) -> str:
        return "trade_hf" if self.hf_account else "trade"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/bullet-public", self.bullet_public),
            web.post("/api/v1/bullet-private", self.signed(self.bullet_private, trading=False)),
            web.get("/api/v2/symbols", self.symbols),
            web.get("/api/v1/market/orderbook/level2_20", self.part_order_book),
            web.get("/api/v1/market/orderbook/level2_100", self.part_order_book),
            web.get("/api/v3/currencies", self.currencies),
            *self.account_routes(),
            *self.hf_routes(),
            *self.classic_routes(),
            *self.stop_routes(),
        ]

    def account_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.get("/api/ua/v1/account/mode", s(self.account_mode)),
            web.get("/api/v1/hf/accounts/opened", s(self.hf_opened)),
            web.get("/api/v3/margin/symbols", s(self.margin_symbols)),
            web.get("/api/v1/isolated/symbols", s(self.isolated_symbols)),
            web.get("/api/v3/market/orderbook/level2", s(self.full_order_book)),
            web.get("/api/v1/accounts", s(self.accounts)),
            web.get("/api/v1/trade-fees", s(self.trade_fees)),
            web.post("/api/v3/accounts/universal-transfer", s(self.universal_transfer)),
        ]

    def hf_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [  # the fixed paths first: aiohttp matches in this order
            web.post("/api/v1/hf/orders", s(self.hf_create)),
            web.post("/api/v1/hf/orders/alter", s(self.hf_alter)),
            web.delete("/api/v1/hf/orders", s(self.hf_cancel_symbol)),
            web.get("/api/v1/hf/orders/active", s(self.hf_active)),
            web.get("/api/v1/hf/orders/done", s(self.hf_done)),
            web.get("/api/v1/hf/orders/client-order/{clientOid}", s(self.hf_get)),
            web.delete("/api/v1/hf/orders/client-order/{clientOid}", s(self.hf_cancel)),
            web.get("/api/v1/hf/orders/{orderId}", s(self.hf_get)),
            web.delete("/api/v1/hf/orders/{orderId}", s(self.hf_cancel)),
            web.get("/api/v1/hf/fills", s(self.hf_fills)),
        ]

    def classic_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.post("/api/v1/orders", s(self.classic_create)),
            web.get("/api/v1/orders", s(self.classic_list)),
            web.delete("/api/v1/orders", s(self.classic_cancel_all)),
            web.get("/api/v1/orders/{orderId}", s(self.classic_get)),
            web.delete("/api/v1/orders/{orderId}", s(self.classic_cancel)),
            web.get("/api/v1/order/client-order/{clientOid}", s(self.classic_get)),
            web.delete("/api/v1/order/client-order/{clientOid}", s(self.classic_cancel)),
            web.get("/api/v1/fills", s(self.classic_fills)),
        ]

    def stop_routes(self) -> list[web.RouteDef]:
        s = self.signed
        return [
            web.post("/api/v1/stop-order", s(self.stop_create)),
            web.get("/api/v1/stop-order", s(self.stop_list)),
            web.get("/api/v1/stop-order/queryOrderByClientOid", s(self.stop_get)),
            web.delete("/api/v1/stop-order/cancelOrderByClientOid", s(self.stop_cancel)),
            web.get("/api/v1/stop-order/{orderId}", s(self.stop_get)),
            web.delete("/api/v1/stop-order/{orderId}", s(self.stop_cancel)),
        ]

    async def bullet_public(self, request: web.Request) -> web.Response:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return json_response({"code": OK, "data": {"token": token, "instanceServers": [self.instance_server("/")]}})

    async def bullet_private(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        token = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
        self.private_tokens[token] = key.account
        return {"token": token, "instanceServers": [self.instance_server(self.private_ws_paths[0])]}

    def instance_server(self, path: str) -> dict[str, Any]:
        return {
            "endpoint": f"{self.ws_url}{path}",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": self.bullet_ping_interval_ms,
            "pingTimeout": self.bullet_ping_timeout_ms,
        }

    async def symbols(self, request: web.Request) -> web.Response:
        return json_response({"code": OK, "data": [self.symbol_info(s) for s in self.markets]})

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        base, quote = symbol.split("-")
        return {
            "symbol": symbol,
            "name": symbol,
            "baseCurrency": base,
            "quoteCurrency": quote,
            "feeCurrency": quote,
            "market": "USDS" if quote in ("USDT", "USDC") else quote,
            "baseMinSize": trim(ladder.size_str(1)),
            "quoteMinSize": "0.1",
            "baseMaxSize": "10000000000",
            "quoteMaxSize": "99999999",
            "baseIncrement": trim(ladder.size_str(1)),
            "quoteIncrement": "0.000001",
            "priceIncrement": trim(ladder.price_str(1)),
            "priceLimitRate": "0.1",
            "minFunds": "0.1",
            "isMarginEnabled": True,
            "enableTrading": True,
            "feeCategory": 1,
            "makerFeeCoefficient": "1.00",
            "takerFeeCoefficient": "1.00",
            "st": False,
        }

    async def currencies(self, request: web.Request) -> web.Response:
        codes = sorted({c for s in self.markets for c in s.split("-")})
        return json_response({"code": OK, "data": [self.currency_info(c) for c in codes]})

    @staticmethod
    def currency_info(code: str) -> dict[str, Any]:
        """Deposits and withdrawals are not simulated: each coin lists one chain, both disabled."""
        name, chain_id = CHAINS.get(code, (code, code.lower()))
        chain = {
            "chainName": name, "chainId": chain_id, "withdrawalMinSize": None, "depositMinSize": None,
            "withdrawFeeRate": "0", "withdrawalMinFee": None, "isWithdrawEnabled": False, "isDepositEnabled": False,
            "confirms": 0, "preConfirms": 0, "withdrawPrecision": 8, "maxWithdraw": None, "maxDeposit": None,
            "needTag": False, "contractAddress": "",
        }
        return {"currency": code, "name": code, "fullName": code, "precision": 8, "confirms": None,
                "contractAddress": None, "isMarginEnabled": False, "isDebitEnabled": False, "chains": [chain]}

    async def part_order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        depth = int(request.path.rsplit("_", 1)[1])
        return json_response({"code": OK, "data": self.book_data(symbol, depth)})

    def book_data(self, symbol: str, depth: int) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        return {
            "time": int(time.time() * 1000),
            "sequence": str(self.sequence[symbol]),
            "bids": [self._level(symbol, p, q) for p, q in ladder.top(True, depth)],
            "asks": [self._level(symbol, p, q) for p, q in ladder.top(False, depth)],
        }

    def _level(self, symbol: str, ticks: int, lots: int) -> list[str]:
        ladder = self.ladders[symbol]
        return [trim(ladder.price_str(ticks)), trim(ladder.size_str(lots))]

    # ---- auth ---------------------------------------------------------------------------------

    def signed(self, handler: Private, trading: bool = True) -> Handler:
        """A private endpoint: KuCoin's checks first, then ``handler``'s ``data`` in the envelope.
        ``trading``: its POST and DELETE need the key's trade permission."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                key = self.authenticate(request, body)
                if trading and request.method != "GET" and "trade" not in key.permissions:
                    raise Refusal("400007", "Access denied, require more permission.", 403)
                data = await handler(key, request, self.params_of(request, body))
            except Refusal as exc:
                return exc.response()
            except Reject as exc:
                return Refusal.of(exc).response()
            except (ValueError, ArithmeticError):
                return Refusal("400100", "Parameter error").response()
            return json_response({"code": OK, "data": data})

        return check

    def authenticate(self, request: web.Request, body: bytes) -> ApiKey:
        """KuCoin checks the passphrase before the signature (a request with both hex-encoded is
        refused for its passphrase, ccxt issue 9369); both are keyed with the secret, so a wrong
        secret fails at the passphrase."""
        headers = request.headers
        stamp, sign, name, phrase = (headers.get(h, "") for h in ("KC-API-TIMESTAMP", "KC-API-SIGN", "KC-API-KEY", "KC-API-PASSPHRASE"))
        if not (stamp and sign and name and phrase):
            raise Refusal("400001", "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE", 401)
        key = self.api_keys.get(name)
        if key is None:
            raise Refusal("400003", "KC-API-KEY not exists", 401)
        if not stamp.isdigit() or abs(int(stamp) - ms(time.time())) > TIMESTAMP_WINDOW_MS:
            raise Refusal("400002", "Invalid KC-API-TIMESTAMP", 400)
        if not hmac.compare_digest(phrase, b64_hmac(key.secret, (key.passphrase or "").encode())):
            raise Refusal("400004", "Invalid KC-API-PASSPHRASE", 401)
        prehash = stamp.encode() + request.method.encode() + request.raw_path.encode() + body
        if not hmac.compare_digest(sign, b64_hmac(key.secret, prehash)):
            raise Refusal("400005", "Invalid KC-API-SIGN", 401)
        return key

    @staticmethod
    def params_of(request: web.Request, body: bytes) -> Params:
        """GET/DELETE carry their parameters in the query, POST in a JSON body."""
        params: Params = dict(request.query)
        if body:
            payload = orjson.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            params.update(payload)
        return params

    # ---- account --------------------------------------------------------------------------------

    async def account_mode(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"selfAccountMode": "CLASSIC", "unifiedSubAccount": [], "classicSubAccount": []}

    async def hf_opened(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.hf_account

    async def margin_symbols(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"timestamp": ms(time.time()), "items": []}  # margin trading is not simulated

    async def isolated_symbols(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return []

    async def full_order_book(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        symbol = self.symbol_param(params)
        ladder = self.ladders[symbol]
        return self.book_data(symbol, len(ladder.bids) + len(ladder.asks))

    async def accounts(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """The spot balance lives in one account, ``trade_hf`` or ``trade`` as the account is HF or not."""
        if params.get("type", self.account_type) != self.account_type:
            return []
        account = self.engine.account(key.account)
        currencies = sorted(set(account.balances) | set(account.locked))
        return [
            {
                "id": hashlib.sha256(f"{key.account}:{c}:{self.account_type}".encode()).hexdigest()[:24],
                "currency": c,
                "type": self.account_type,
                "balance": dec(account.balances.get(c, ZERO)),
                "available": dec(account.available(c)),
                "holds": dec(account.locked.get(c, ZERO)),
            }
            for c in currencies
            if params.get("currency", c) == c
        ]

    async def trade_fees(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        names = str(params.get("symbols", "")).split(",")
        if any(self.symbol_of(n) is None for n in names):
            raise Refusal(*ERRORS["unknown_symbol"])
        return [{"symbol": n, "takerFeeRate": dec(self.engine.taker_fee), "makerFeeRate": dec(self.engine.maker_fee)} for n in names]

    def user_id(self, account: str) -> str:
        """The account's KuCoin uid (a sub-account's ``userId``): a stable 9-digit number."""
        return str(100_000_000 + int(hashlib.sha256(account.encode()).hexdigest(), 16) % 900_000_000)

    def sub_account(self, master: str, uid: Any) -> str:
        """The sub-account of ``master`` with this uid."""
        for name, account in self.engine.accounts.items():
            if account.parent == master and self.user_id(name) == str(uid):
                return name
        raise Refusal("400100", "sub account not exist")

    async def universal_transfer(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """Flex transfer, as ccxt's transfer() makes it on a classic account: ``PARENT_TO_SUB``
        (``toUserId``) or ``SUB_TO_PARENT`` (``fromUserId``), called with the master's key, between
        TRADE accounts (the simulator keeps one spot balance per account). Refused when it would
        overdraw what is available (not held by orders)."""
        kind = params.get("type")
        if kind not in ("PARENT_TO_SUB", "SUB_TO_PARENT"):
            raise Refusal("400100", f"transfer type {kind} is not simulated")
        if {params.get("fromAccountType"), params.get("toAccountType")} != {"TRADE"}:
            raise Refusal("400100", "only TRADE to TRADE transfers are simulated")
        if not params.get("clientOid"):
            raise Refusal("400100", "clientOid is required")
        if kind == "PARENT_TO_SUB":
            source, target = key.account, self.sub_account(key.account, params.get("toUserId"))
        else:
            source, target = self.sub_account(key.account, params.get("fromUserId")), key.account
        currency = str(params.get("currency", ""))
        self.engine.transfer(currency, decimal(params.get("amount")), source, target)
        return {"orderId": uuid.uuid4().hex[:24]}

    # ---- placing orders ----------------------------------------------------------------------------

    async def hf_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.place(key, params, trigger=False)
        return {"orderId": self.order_id(order), "clientOid": order.client_id}

    async def classic_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"orderId": self.order_id(self.place(key, params, trigger=False))}

    async def stop_create(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"orderId": self.order_id(self.place(key, params, trigger=True))}

    def place(self, key: ApiKey, params: Params, trigger: bool) -> SimOrder:
        symbol = self.symbol_param(params)
        side, kind = params.get("side"), params.get("type", "limit")
        if side not in ("buy", "sell") or kind not in ("limit", "market"):
            raise Refusal("400100", "Parameter error")
        if truthy(params.get("hidden")):
            raise Refusal("400100", "hidden orders are not simulated")
        tif = self.time_in_force(params, kind)
        order_side = Side(side)
        stop = self.stop_price(symbol, order_side, params) if trigger else None
        amount = self.amount(symbol, order_side, kind, params, trigger)
        order = self.engine.submit(
            key.account,
            symbol,
            order_side,
            ENGINE_TYPES[(kind, trigger)],
            amount,
            decimal(params["price"]) if kind == "limit" and "price" in params else None,
            stop_price=stop,
            tif=tif,
            post_only=kind == "limit" and tif is TimeInForce.GTC and truthy(params.get("postOnly")),
            iceberg_visible=decimal(params.get("visibleSize", 0)) if truthy(params.get("iceberg")) else None,
            client_id=str(params["clientOid"]) if params.get("clientOid") else None,
        )
        if "size" not in params:  # placed by funds: KuCoin reports the funds given
            self.funds[order.order_id] = decimal(params["funds"])
        return order

    async def hf_alter(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """Modify an HF limit order as KuCoin does it: cancel it, then place a new order (a new
        ``orderId``, the same ``clientOid``) for ``newSize`` less what has filled, at ``newPrice``.
        A ``newSize`` at or below the filled size only cancels it. A new order that is refused
        leaves the old one canceled."""
        symbol = self.symbol_param(params)
        if "newPrice" not in params and "newSize" not in params:
            raise Refusal("400100", "newPrice or newSize is required")
        try:
            if params.get("clientOid"):
                order = self.engine.find(key.account, client_id=str(params["clientOid"]))
            else:
                order = self.by_id(key, str(params.get("orderId", "")))
        except Reject:
            raise Refusal("400100", ORDER_NOT_EXIST) from None
        if order.symbol != symbol or order.status.final or order.type is not OrderType.LIMIT or order.visible is not None:
            raise Refusal("400100", HF_NOT_CANCELABLE)  # iceberg modifies are not simulated
        market = self.engine.markets[symbol]
        assert order.price is not None
        size = decimal(params.get("newSize", order.amount * market.lot))
        price = decimal(params.get("newPrice", order.price * market.tick))
        self.engine.cancel(key.account, order.order_id)
        rest = size - order.filled * market.lot
        if rest <= 0:
            return {"newOrderId": None, "clientOid": order.client_id}
        del self.engine.by_client[(key.account, order.client_id)]  # the new order takes the clientOid over
        try:
            new = self.engine.submit(
                key.account, symbol, order.side, OrderType.LIMIT, rest, price, tif=order.tif,
                post_only=order.post_only, client_id=order.client_id,
            )
        except Reject:
            self.engine.by_client[(key.account, order.client_id)] = order.order_id
            raise
        return {"newOrderId": self.order_id(new), "clientOid": new.client_id}

    @staticmethod
    def time_in_force(params: Params, kind: str) -> TimeInForce:
        if kind == "market":
            return TimeInForce.GTC
        name = str(params.get("timeInForce", "GTC"))
        if name not in TIME_IN_FORCE:
            raise Refusal("400100", f"timeInForce {name} is not simulated")  # GTT: no expiring orders
        return TIME_IN_FORCE[name]

    def amount(self, symbol: str, side: Side, kind: str, params: Params, trigger: bool) -> Decimal:
        """``size`` in base, or for an immediate market order ``funds`` in quote."""
        if "size" in params:
            return decimal(params["size"])
        if kind == "market" and not trigger and "funds" in params:
            return self.size_for_funds(symbol, side, decimal(params["funds"]))
        raise Refusal("400100", "size is required")

    def size_for_funds(self, symbol: str, side: Side, funds: Decimal) -> Decimal:
        """What ``funds`` of quote buys (or a sale raises) walking the book now, whole lots only."""
        ladder, market = self.ladders[symbol], self.engine.markets[symbol]
        book = ladder.bids if side is Side.SELL else ladder.asks
        left, lots = funds, 0
        for px, level in ladder.top(side is Side.SELL, len(book)):
            lot_value = px * market.tick * market.lot
            take = min(level, int(left / lot_value))
            lots += take
            left -= take * lot_value
            if take < level:
                break
        return lots * market.lot

    def stop_price(self, symbol: str, side: Side, params: Params) -> Decimal:
        """KuCoin's ``stop`` is ``entry`` (trigger at or above) or ``loss`` (at or below), by default
        the side of the market the stop price lies on. The engine triggers a buy on a rise and a
        sell on a fall, so those are the stops simulated."""
        if "stopPrice" not in params:
            raise Refusal(*ERRORS["missing_stop"])
        stop = decimal(params["stopPrice"])
        direction = str(params.get("stop") or self.implied_direction(symbol, stop))
        if direction != ("entry" if side is Side.BUY else "loss"):
            raise Refusal("400100", f"a {direction} stop on a {side.value} order is not simulated")
        return stop

    def implied_direction(self, symbol: str, stop: Decimal) -> str:
        ladder = self.ladders[symbol]
        touch = [px for is_bid in (True, False) for px, _ in ladder.top(is_bid, 1)]
        mid = Decimal(sum(touch)) / len(touch) * self.engine.markets[symbol].tick if touch else ZERO
        return "entry" if stop >= mid else "loss"

    # ---- finding and cancelling orders ----------------------------------------------------------

    def order_id(self, order: SimOrder) -> str:
        """KuCoin's 24-hex order id: the creation second, then the engine's number."""
        return f"{int(order.created):08x}{int(order.order_id):016x}"

    def by_id(self, key: ApiKey, native: str) -> SimOrder:
        engine_id = str(int(native[8:], 16)) if len(native) == 24 and all(c in hexdigits for c in native) else ""
        order = self.engine.find(key.account, engine_id)
        if self.order_id(order) != native:
            raise Reject("unknown_order", "no such order")
        return order

    def lookup(self, key: ApiKey, request: web.Request, params: Params) -> SimOrder:
        client_oid = request.match_info.get("clientOid", params.get("clientOid"))
        if client_oid is not None:
            return self.engine.find(key.account, client_id=str(client_oid))
        return self.by_id(key, request.match_info["orderId"])

    def live_order(self, key: ApiKey, request: web.Request, params: Params, missing: str, symbol: str | None = None) -> SimOrder:
        """An order the order endpoints show: not an untriggered stop (those live on /stop-order)."""
        try:
            order = self.lookup(key, request, params)
        except Reject:
            raise Refusal("400100", missing) from None
        if order.waiting or symbol not in (None, order.symbol):
            raise Refusal("400100", missing)
        return order

    def cancel_live(self, key: ApiKey, request: web.Request, params: Params, missing: str, symbol: str | None = None) -> SimOrder:
        order = self.live_order(key, request, params, missing, symbol)
        try:
            return self.engine.cancel(key.account, order.order_id)
        except Reject:
            raise Refusal("400100", missing) from None

    def symbol_param(self, params: Params) -> str:
        symbol = self.symbol_of(str(params.get("symbol", "")))
        if symbol is None:
            raise Refusal(*ERRORS["unknown_symbol"])
        return symbol

    def listed(self, key: ApiKey, params: Params, active: bool) -> list[SimOrder]:
        """The account's orders (not untriggered stops), newest first, filtered as KuCoin filters."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [
            o for o in self.engine.orders.values()
            if o.account == key.account and not o.waiting and o.status.final != active
            and symbol in (None, o.symbol) and params.get("side", o.side.value) == o.side.value
            and params.get("type", self.kind(o)) == self.kind(o) and in_window(ms(o.created), params)
        ]
        return sorted(orders, key=lambda o: o.seq, reverse=True)

    def cancel_all(self, key: ApiKey, params: Params) -> list[SimOrder]:
        return [self.engine.cancel(key.account, o.order_id) for o in self.listed(key, params, active=True)]

    # ---- the high-frequency family --------------------------------------------------------------

    async def hf_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.hf_json(self.live_order(key, request, params, ORDER_NOT_EXIST, self.symbol_param(params)))

    async def hf_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.cancel_live(key, request, params, HF_NOT_CANCELABLE, self.symbol_param(params))
        if "clientOid" in request.match_info:
            return {"clientOid": order.client_id}
        return {"orderId": self.order_id(order)}

    async def hf_cancel_symbol(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        self.cancel_all(key, params)
        return "success"

    async def hf_active(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        return [self.hf_json(o) for o in self.listed(key, params, active=True)]

    async def hf_done(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        limit = min(100, max(1, int(params.get("limit", 20))))
        return {"lastId": 0, "items": [self.hf_json(o) for o in self.listed(key, params, active=False)[:limit]]}

    async def hf_fills(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        limit = min(100, max(1, int(params.get("limit", 20))))
        fills = self.my_fills(key, params)[:limit]
        return {"items": [self.hf_fill_json(n, f) for n, f in fills], "lastId": fills[-1][0] if fills else 0}

    # ---- the classic family --------------------------------------------------------------------

    async def classic_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.classic_json(self.live_order(key, request, params, ORDER_NOT_EXIST))

    async def classic_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.cancel_live(key, request, params, CLASSIC_NOT_CANCELABLE)
        if "clientOid" in request.match_info:
            return {"cancelledOrderId": self.order_id(order), "clientOid": order.client_id, "cancelledOcoOrderIds": None}
        return {"cancelledOrderIds": [self.order_id(order)]}

    async def classic_cancel_all(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"cancelledOrderIds": [self.order_id(o) for o in self.cancel_all(key, params)]}

    async def classic_list(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        orders = self.listed(key, params, active=params.get("status", "done") == "active")
        return page([self.classic_json(o) for o in orders], params)

    async def classic_fills(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return page([self.fill_json(f) for _, f in self.my_fills(key, params)], params)

    # ---- stop orders ------------------------------------------------------------------------------

    def stop_order(self, key: ApiKey, request: web.Request, params: Params, missing: str) -> SimOrder:
        """A stop order that has not been cancelled before its trigger."""
        try:
            order = self.lookup(key, request, params)
        except Reject:
            raise Refusal("400100", missing) from None
        if order.stop is None or (order.status.final and not order.triggered):
            raise Refusal("400100", missing)
        return order

    async def stop_get(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.stop_order(key, request, params, ORDER_NOT_EXIST)
        if "orderId" in request.match_info:
            return self.stop_json(order)
        return [self.stop_json(order)]  # the by-clientOid query answers a list

    async def stop_cancel(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        order = self.stop_order(key, request, params, CLASSIC_NOT_CANCELABLE)
        if not order.waiting:
            raise Refusal("400100", CLASSIC_NOT_CANCELABLE)
        self.engine.cancel(key.account, order.order_id)
        if "orderId" in request.match_info:
            return {"cancelledOrderIds": [self.order_id(order)]}
        return {"cancelledOrderId": self.order_id(order), "clientOid": order.client_id}

    async def stop_list(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [
            o for o in self.engine.orders.values()
            if o.account == key.account and o.waiting and not o.status.final and symbol in (None, o.symbol)
        ]
        return page([self.stop_json(o) for o in sorted(orders, key=lambda o: o.seq, reverse=True)], params)

    # ---- fills ------------------------------------------------------------------------------------

    def my_fills(self, key: ApiKey, params: Params) -> list[tuple[int, SimFill]]:
        """The account's fills, newest first, each with its position in the venue's fill log (the
        HF ``id``)."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        order_id = params.get("orderId")
        fills = [
            (n, f) for n, f in enumerate(self.engine.fills, 1)
            if f.account == key.account and symbol in (None, f.symbol)
            and order_id in (None, self.order_id(self.engine.orders[f.order_id]))
            and params.get("side", f.side.value) == f.side.value and in_window(ms(f.ts), params)
        ]
        return fills[::-1]

    # ---- KuCoin shapes ------------------------------------------------------------------------------

    @staticmethod
    def kind(order: SimOrder) -> str:
        return "limit" if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else "market"

    @staticmethod
    def direction(order: SimOrder) -> str:
        if order.stop is None:
            return ""
        return "entry" if order.side is Side.BUY else "loss"

    def price_of(self, symbol: str, ticks: int | None) -> str:
        return dec((ticks or 0) * self.engine.markets[symbol].tick)

    def size_of(self, symbol: str, lots: int | None) -> str:
        return dec((lots or 0) * self.engine.markets[symbol].lot)

    def order_fields(self, order: SimOrder) -> dict[str, Any]:
        """What KuCoin's classic and HF order records share."""
        return {
            "id": self.order_id(order),
            "clientOid": order.client_id,
            "symbol": order.symbol,
            "opType": "DEAL",
            "type": self.kind(order),
            "side": order.side.value,
            "price": self.price_of(order.symbol, order.price),
            "size": self.size_of(order.symbol, order.amount),
            "funds": dec(self.funds.get(order.order_id, ZERO)),
            "dealSize": self.size_of(order.symbol, order.filled),
            "dealFunds": dec(order.cost),
            "fee": dec(order.fee),
            "feeCurrency": self.engine.markets[order.symbol].quote,
            "timeInForce": order.tif.value.upper(),
            "postOnly": order.post_only,
            "hidden": False,
            "iceberg": order.visible is not None,
            "visibleSize": self.size_of(order.symbol, order.visible),
            "cancelAfter": 0,
            "channel": "API",
            "remark": None,
            "tags": None,
            "cancelExist": order.status in CANCELED,
            "tradeType": "TRADE",
            "createdAt": ms(order.created),
        }

    def classic_json(self, order: SimOrder) -> dict[str, Any]:
        return {
            **self.order_fields(order),
            "stp": "",
            "stop": self.direction(order),
            "stopTriggered": order.triggered,
            "stopPrice": self.price_of(order.symbol, order.stop),
            "isActive": not order.status.final,
        }

    def hf_json(self, order: SimOrder) -> dict[str, Any]:
        left = order.remaining
        return {
            **self.order_fields(order),
            "stp": "",
            "remainSize": self.size_of(order.symbol, 0 if order.status.final else left),
            "remainFunds": "0",
            "cancelledSize": self.size_of(order.symbol, left if order.status in CANCELED else 0),
            "cancelledFunds": "0",
            "inOrderBook": order.shown > 0,
            "active": not order.status.final,
            "tax": "0",
            "lastUpdatedAt": ms(order.updated),
        }

    def stop_json(self, order: SimOrder) -> dict[str, Any]:
        return {
            "id": self.order_id(order),
            "symbol": order.symbol,
            "status": "NEW" if order.waiting else "TRIGGERED",
            "type": self.kind(order),
            "side": order.side.value,
            "price": self.price_of(order.symbol, order.price),
            "size": self.size_of(order.symbol, order.amount),
            "funds": None,
            "stp": None,
            "timeInForce": order.tif.value.upper(),
            "cancelAfter": -1,
            "postOnly": order.post_only,
            "hidden": False,
            "iceberg": order.visible is not None,
            "visibleSize": self.size_of(order.symbol, order.visible),
            "channel": "API",
            "clientOid": order.client_id,
            "remark": None,
            "tags": None,
            "domainId": "kucoin",
            "tradeSource": "USER",
            "tradeType": "TRADE",
            "feeCurrency": self.engine.markets[order.symbol].quote,
            "takerFeeRate": dec(self.engine.taker_fee),
            "makerFeeRate": dec(self.engine.maker_fee),
            "createdAt": ms(order.created),
            "stop": self.direction(order),
            "stopTriggerTime": None,
            "stopPrice": self.price_of(order.symbol, order.stop),
            "orderTime": int(order.created * 1e9),
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        return {
            "symbol": fill.symbol,
            "tradeId": str(fill.trade_id),
            "orderId": self.order_id(order),
            "side": fill.side.value,
            "liquidity": "taker" if fill.taker else "maker",
            "forceTaker": False,
            "price": dec(fill.price),
            "size": dec(fill.amount),
            "funds": dec(fill.price * fill.amount),
            "fee": dec(fill.fee),
            "feeRate": dec(self.engine.taker_fee if fill.taker else self.engine.maker_fee),
            "feeCurrency": fill.fee_currency,
            "stop": self.direction(order),
            "tradeType": "TRADE",
            "type": self.kind(order),
            "createdAt": ms(fill.ts),
        }

    def hf_fill_json(self, number: int, fill: SimFill) -> dict[str, Any]:
        return {**self.fill_json(fill), "id": number, "tradeId": fill.trade_id, "taxRate": "0", "tax": "0"}

    # ---- WebSocket --------------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """Public and private tokens open the public endpoint (as on KuCoin); the private endpoint
        only takes a bullet-private token, which names the account."""
        token = request.query.get("token", "")
        private_only = request.path in self.private_ws_paths
        if token not in self.private_tokens and (private_only or token not in self.tokens):
            return json_response({"code": "401", "msg": "token is invalid"}, status=401)
        return await super()._ws_handler(request)

    def on_connect(self, conn: SimConnection) -> None:
        if conn.path in self.private_ws_paths:
            conn.account = self.private_tokens[conn.query["token"]]
        conn.state["heard"] = time.monotonic()
        conn.send(text({"id": uuid.uuid4().hex[:10], "type": "welcome"}))
        task = asyncio.create_task(self._ping_watchdog(conn))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def _ping_watchdog(self, conn: SimConnection) -> None:
        """KuCoin closes a connection that has sent nothing for pingInterval + pingTimeout."""
        allowed = (self.bullet_ping_interval_ms + self.bullet_ping_timeout_ms) / 1000.0
        while not conn.ws.closed:
            quiet = time.monotonic() - conn.state["heard"]
            if quiet > allowed:
                await conn.close()
                return
            await asyncio.sleep(allowed - quiet + 0.01)

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state["heard"] = time.monotonic()
        msg = orjson.loads(data)
        kind = msg.get("type")
        if kind == "ping":
            self.client_pings += 1
            conn.send(text({"id": msg.get("id"), "type": "pong", "timestamp": time.time_ns() // 1000}))
        elif kind in ("subscribe", "unsubscribe"):
            self._on_subscription(conn, msg)
        else:
            conn.send(self._error(msg, 400, f"unknown message type {kind!r}"))

    def _on_subscription(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        prefix, _, names = str(msg.get("topic", "")).partition(":")
        channel = CHANNELS.get(prefix)
        symbols = [self.symbol_of(n) for n in names.split(",")]
        if channel is None or None in symbols:
            conn.send(self._error(msg, 404, f"topic {msg.get('topic')} is not found"))
            return
        if len(symbols) > self.max_batch:
            conn.send(self._error(msg, 400, f"exceed max batch subscription count limitation of {self.max_batch}"))
            return
        topics: set[tuple[str, str]] = conn.state.setdefault("topics", set())
        wanted = {(channel, s) for s in symbols if s is not None}
        if msg["type"] == "subscribe" and len(topics | wanted) > self.max_topics:
            conn.send(self._error(msg, 509, f"exceed max subscription count limitation of {self.max_topics} per session"))
            return
        if msg["type"] == "subscribe":
            topics |= wanted
        else:
            topics -= wanted
        conn.subs = {s: True for _, s in topics}
        if msg.get("response"):
            conn.send(text({"id": str(msg.get("id")), "type": "ack"}))

    # ---- private stream ----------------------------------------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.state["heard"] = time.monotonic()
        msg = orjson.loads(data)
        kind = msg.get("type")
        if kind == "ping":
            conn.send(text({"id": msg.get("id"), "type": "pong", "timestamp": time.time_ns() // 1000}))
        elif kind in ("subscribe", "unsubscribe"):
            self._on_private_subscription(conn, msg)
        else:
            conn.send(self._error(msg, 400, f"unknown message type {kind!r}"))

    def _on_private_subscription(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        topic = str(msg.get("topic", ""))
        if topic not in ORDER_TOPICS:
            conn.send(self._error(msg, 404, f"topic {topic} is not found"))
            return
        topics: set[str] = conn.state.setdefault("private_topics", set())
        if msg["type"] == "subscribe":
            topics.add(topic)
        else:
            topics.discard(topic)
        if msg.get("response"):
            conn.send(text({"id": str(msg.get("id")), "type": "ack"}))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("private_topics") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        order, fill = event.order, event.fill
        if order.waiting:
            return []  # an untriggered stop is on /spotMarket/advancedOrders
        frames: list[Frame] = []
        for topic in sorted(conn.state.get("private_topics", ())):
            frames += [text({"type": "message", "topic": topic, "subject": "orderChange", "channelType": "private", "data": d})
                       for d in self.order_changes(order, fill, v2=topic.endswith("V2"))]
        return frames

    def order_changes(self, order: SimOrder, fill: SimFill | None, v2: bool) -> list[dict[str, Any]]:
        """KuCoin's orderChange messages for one engine event."""
        if fill is not None:
            changes = [self.order_change(order, "match", "match" if fill.taker else "open", fill)]
            if order.status is OrderStatus.FILLED:
                changes.append(self.order_change(order, "filled", "done"))
            return changes
        if order.status in CANCELED:
            return [self.order_change(order, "canceled", "done")]
        if order.status is not OrderStatus.OPEN:
            return []
        received = [self.order_change(order, "received", "new")] if v2 else []
        return received + ([self.order_change(order, "open", "open")] if order.tif is TimeInForce.GTC else [])

    def order_change(self, order: SimOrder, kind: str, status: str, fill: SimFill | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "symbol": order.symbol,
            "orderType": self.kind(order),
            "side": order.side.value,
            "orderId": self.order_id(order),
            "type": kind,
            "orderTime": ms(order.created),
            "size": self.size_of(order.symbol, order.amount),
            "filledSize": self.size_of(order.symbol, order.filled),
            "price": self.price_of(order.symbol, order.price),
            "clientOid": order.client_id,
            "remainSize": self.size_of(order.symbol, 0 if order.status.final else order.remaining),
            "status": status,
            "ts": time.time_ns(),
        }
        if fill is not None:
            data |= {
                "liquidity": "taker" if fill.taker else "maker",
                "feeType": "takerFee" if fill.taker else "makerFee",
                "matchPrice": dec(fill.price),
                "matchSize": dec(fill.amount),
                "tradeId": str(fill.trade_id),
            }
        return data

    def _error(self, msg: dict[str, Any], code: int, reason: str) -> str:
        return text({"id": str(msg.get("id")), "type": "error", "code": code, "data": reason})

    def encode(self, symbol: str, changes: list[Change]) -> str:
        ladder = self.ladders[symbol]
        seq = self.sequence[symbol] + (1 if self.faults.take("skip", symbol) else 0)
        start = seq + 1
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        empty_at = self.rng.randrange(len(changes)) if self.rng.random() < self.empty_change_rate else -1
        for i, (is_bid, ticks, lots) in enumerate(changes):
            if i == empty_at:
                seq += 1
                asks.append(["0", "0", str(seq)])
            seq += 1
            (bids if is_bid else asks).append([trim(ladder.price_str(ticks)), trim(ladder.size_str(lots)), str(seq)])
        self.sequence[symbol] = seq
        data = {
            "changes": {"asks": asks, "bids": bids},
            "sequenceEnd": seq,
            "sequenceStart": start,
            "symbol": symbol,
            "time": int(time.time() * 1000),
        }
        return text({"topic": f"/market/level2:{symbol}", "type": "message", "subject": "trade.l2update", "data": data})

    def frames_for(self, conn: SimConnection, symbol: str, encoded: Any) -> list[Frame]:
        return [encoded] if ("level2", symbol) in conn.state.get("topics", ()) else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        data = {
            "makerOrderId": uuid.uuid4().hex[:24],
            "price": self._level(symbol, ticks, lots)[0],
            "sequence": str(self.sequence[symbol]),
            "side": "buy" if buy else "sell",
            "size": self._level(symbol, ticks, lots)[1],
            "symbol": symbol,
            "takerOrderId": uuid.uuid4().hex[:24],
            "time": str(time.time_ns()),
            "tradeId": f"{trade_id:024x}",
            "type": "match",
        }
        return text({"topic": f"/market/match:{symbol}", "type": "message", "subject": "trade.l3match", "data": data})

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()


SIMS: dict[str, type[SimVenue]] = {"kucoin": KucoinSpotSim}
