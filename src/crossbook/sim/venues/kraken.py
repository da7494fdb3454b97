"""Simulated Kraken spot: market data on WebSocket v2 at /v2 (``book`` with depth windows and CRC32
checksums, ``trade``, ``ping``, ``heartbeat``, ``status``), public REST, and trading through REST.

Prices and quantities go out as JSON numbers at full precision ("qty":0.50000000), as Kraken prints
them, so the frames are written as text rather than through a JSON encoder that would shorten them.
A subscriber's book is the top ``depth`` levels: an update carries the levels that changed or
entered that window and deletes for levels removed from the book, but nothing for a level pushed
out of the window by a better one (the client truncates).

REST: public ``Assets``, ``AssetPairs`` and ``Depth``; spot trading as an unmodified ccxt client calls
it, on ``/0/private/*`` with form bodies: ``Balance``, ``BalanceEx``, ``TradeVolume``, ``AddOrder``
(market, limit, iceberg, stop-loss, stop-loss-limit; ``oflags=post``; ``timeinforce`` GTC or IOC;
``validate``), ``AmendOrder`` (ccxt's edit_order: ``order_qty`` and ``limit_price`` of an open limit
order changed in place, the txid kept, queue priority kept only by a shrink at the same price; an
``amended`` execution report on the stream), ``CancelOrder``, ``CancelAll``, ``QueryOrders``, ``OpenOrders``, ``ClosedOrders`` and
``TradesHistory`` (taker fills of one order consolidated, as Kraken's ``consolidate_taker``
default). Every answer is the ``{"error": [...], "result": ...}`` envelope with HTTP 200. A private
request carries ``API-Key`` and ``API-Sign`` = base64 HMAC-SHA512, keyed with the base64-decoded
secret, of the URI path + SHA256(nonce + POST body); the ``nonce`` must exceed the last one the key
used. As on Kraken, a signature that does not match the body answers "EAPI:Invalid key", and a
post-only order that would take is accepted and then canceled ("Post only order"). Orders and
trades get Kraken-shaped txids (``OUF4EM-FRGI2-MQMWZD``). Fees are the engine's rates, in the
currency the engine charges (``oflags`` says which: ``fciq`` quote, ``fcib`` base).

Private stream (WebSocket v2 ``executions``, as ccxt.pro's watch_orders and watch_my_trades follow
it): ``GetWebSocketsToken`` (signed like every private method) issues a token for the key's account,
to be used within 900 s and valid for good once used. The ws-auth socket is ``/ws-auth/v2`` here
(``/v2`` serves market data); it greets with ``status``, answers ``ping``, and a subscribe to
``executions`` with an issued token is acked and followed by a ``snapshot`` (open orders unless
``snap_orders`` is false, the last 50 fills if ``snap_trades``); any other token gets "ESession:Invalid
session". Then every order event of the account comes as ``update`` messages numbered by
``sequence``, one report each: ``pending_new`` and ``new`` on acceptance, ``trade`` per fill
(``exec_id``, ``trade_id``, ``last_qty``, ``last_price``, ``cost``, ``liquidity_ind``, ``fees``),
``filled`` on the last, ``canceled`` or ``expired``, ``status`` when a stop triggers. Every report
names the order by its txid, ``order_userref`` and ``cl_ord_id`` as placed, and carries its symbol,
side, quantity, limit and the cumulative ``cum_qty``, ``cum_cost``, ``avg_price``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ...book.checksum import crc32_unsigned
from ...model import OrderStatus, OrderType, Side, TimeInForce
from ...symbols import parse_standard
from ..access import READ_TRADE, ApiKey
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..market import Ladder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

Level = tuple[int, int]  # (ticks, lots)
Top = tuple[list[Level], list[Level]]  # bids best first, asks best first

DEPTHS = (10, 25, 100, 500, 1000)
CHECKSUM_LEVELS = 10
QTY_PLACES = 8  # Kraken prints every quantity with 8 decimals
# REST asset codes of the assets that predate Kraken's plain codes; v1 and AssetPairs say XBT
LEGACY_CODES = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD"}
WS_NAMES = {"BTC": "XBT"}

# ---- trading: Kraken's rules, words and shapes ------------------------------------------------

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
ICEBERG_MIN_SHOWN = Decimal(1) / 15  # displayvol is at least 1/15 of the volume
STATUS = {
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",  # an IOC or market remainder
    OrderStatus.REJECTED: "canceled",  # a triggered stop the engine could not place
}
# engine reject reason -> Kraken's error; {limit} is the parameter that carried the limit price
ERRORS = {
    "insufficient_balance": "EOrder:Insufficient funds",
    "price_off_grid": "EGeneral:Invalid arguments:{limit}",
    "stop_price_off_grid": "EGeneral:Invalid arguments:price",
    "amount_off_grid": "EGeneral:Invalid arguments:volume",
    "iceberg_visible_amount_off_grid": "EGeneral:Invalid arguments:displayvol",
    "bad_iceberg": "EGeneral:Invalid arguments:displayvol",
    "duplicate_client_id": "EGeneral:Invalid arguments:cl_ord_id",
}
# engine reject reason -> Kraken's error for a refused amend
AMEND_ERRORS = {"insufficient_balance": "EOrder:Insufficient funds", "post_only_would_take": "EOrder:Post only order"}
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


class KrakenError(Exception):
    """A request Kraken refuses, with the message it puts in ``error``."""


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


def failure(message: str) -> web.Response:
    return json_response({"error": [message]})


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
        raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None
    if not value.is_finite() or value <= 0:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def required(params: dict[str, str], name: str) -> Decimal:
    value = positive(params, name)
    if value is None:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def whole(params: dict[str, str], name: str, low: int, high: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None
    if not low <= value <= high:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def window(params: dict[str, str]) -> tuple[float, float]:
    """``start`` (exclusive) and ``end`` (inclusive) as unix seconds; order-id bounds are not simulated."""
    bounds = []
    for name, default in (("start", float("-inf")), ("end", float("inf"))):
        text = params.get(name)
        try:
            bounds.append(default if text is None or text == "" else float(text))
        except ValueError:
            raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None
    return bounds[0], bounds[1]


def form(request: web.Request, body: bytes) -> dict[str, str]:
    """A private request's parameters: Kraken takes a form body, or JSON with that content type."""
    if request.content_type == "application/json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise KrakenError("EGeneral:Invalid arguments") from None
        if not isinstance(data, dict):
            raise KrakenError("EGeneral:Invalid arguments")
        return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in data.items()}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def rfc3339_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


class KrakenSpotSim(SimVenue):
    venue = "kraken"
    buy_fee_in_base = False  # Kraken's default (fciq): fees in the quote currency
    markets = ("BTC-USD", "ETH-USD", "BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC", "USDT-USD")
    ws_paths = ("/v2",)
    private_ws_paths = ("/ws-auth/v2",)  # wss://ws-auth.kraken.com/v2, on its own path here
    faults_supported = frozenset({"drop", "corrupt", "stall", "delay"})
    heartbeat_after: ClassVar[float] = 1.0  # heartbeat once a subscribed socket has been quiet this long
    recent_trades: ClassVar[int] = 50  # what a trade snapshot replays
    ccxt_id: ClassVar[str | None] = "kraken"
    ccxt_hosts = ("https://api.kraken.com",)

    api_key_header = "API-Key"
    limit_symbol_param = "pair"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        """HTTP 200 with the error in the body: the matching engine's counter or the API's."""
        error = "EOrder:Rate limit exceeded" if over.pool == "trading" else "EAPI:Rate limit exceeded"
        return refusal({"error": [error], "result": {}}, 200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tops: dict[str, Top] = {s: self.top_of(s) for s in self.markets}
        self.recent: dict[str, deque[str]] = {s: deque(maxlen=self.recent_trades) for s in self.markets}
        self._heartbeats: asyncio.Task[None] | None = None
        self._connection_id = 14949390454975033707
        self.nonces: dict[str, int] = {}  # API key -> the last nonce it used
        self.txids: dict[str, str] = {}  # order id -> txid
        self.order_ids: dict[str, str] = {}  # txid -> order id
        self.fill_txids: dict[tuple[int, str], str] = {}  # (trade id, order id) -> txid
        self.userrefs: dict[str, int] = {}  # order id -> userref
        self.killed: dict[str, SimOrder] = {}  # post-only orders accepted and canceled at once, by id
        self._killed_ids = itertools.count(1)
        self.ws_tokens: dict[str, WsToken] = {}  # GetWebSocketsToken's tokens
        # the userref of the order AddOrder is placing: the engine's first event (the acceptance,
        # which the stream reports with it) comes before the order id is known
        self.placing_userref: int | None = None
        self.amending: str | None = None  # the order AmendOrder is changing: its event is ``amended``
        self.engine.listeners.insert(0, self.note_userref)

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}/{quote}"

    def ccxt_market_id(self, symbol: str) -> str:
        return self.pair_id(symbol)

    def pair_id(self, symbol: str) -> str:
        """The REST name (the AssetPairs key ccxt uses as the market id): XXBTZUSD, XBTUSDT."""
        base, quote, _, _ = parse_standard(symbol)
        if base in LEGACY_CODES and quote in LEGACY_CODES:
            return LEGACY_CODES[base] + LEGACY_CODES[quote]
        return self.altname(symbol)

    def altname(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return WS_NAMES.get(base, base) + WS_NAMES.get(quote, quote)

    def rest_symbol(self, name: str) -> str | None:
        """The market a REST ``pair`` names: its id, altname or wsname, or BTC for XBT, any case."""
        wanted = name.upper()
        for symbol in self.markets:
            base, quote, _, _ = parse_standard(symbol)
            names = {self.pair_id(symbol), self.altname(symbol), self.native(symbol), base + quote}
            names.add(WS_NAMES.get(base, base) + "/" + WS_NAMES.get(quote, quote))
            if wanted in names:
                return symbol
        return None

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A Kraken key pair: a 56-character public key and a base64 private key of 64 bytes."""
        self.engine.account(account)
        key = ApiKey(
            key=base64.b64encode(secrets.token_bytes(42)).decode(),
            secret=base64.b64encode(secrets.token_bytes(64)).decode(),
            account=account,
            permissions=permissions,
        )
        self.api_keys[key.key] = key
        return key

    def note_userref(self, event: OrderEvent) -> None:
        if self.placing_userref is not None:
            self.userrefs[event.order.order_id] = self.placing_userref
            self.placing_userref = None

    def ccxt_host_map(self) -> dict[str, str]:
        """ccxt.pro's ws-auth host is the private socket's prefix (it connects to .../v2)."""
        return super().ccxt_host_map() | {"wss://ws-auth.kraken.com": f"{self.ws_url}/ws-auth"}

    def top_of(self, symbol: str) -> Top:
        ladder = self.ladders[symbol]
        return ladder.top(True, DEPTHS[-1]), ladder.top(False, DEPTHS[-1])

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        public = {"Assets": self.assets, "AssetPairs": self.asset_pairs, "Depth": self.depth}
        # Kraken's public methods answer GET and POST alike
        return [
            *(web.get(f"/0/public/{name}", handler) for name, handler in public.items()),
            *(web.post(f"/0/public/{name}", handler) for name, handler in public.items()),
            *self.trading_routes(),
        ]

    async def assets(self, request: web.Request) -> web.Response:
        listed = sorted({a for s in self.markets for a in parse_standard(s)[:2]})
        return ok({asset_code(a): self.asset_info(a) for a in listed})

    @staticmethod
    def asset_info(asset: str) -> dict[str, Any]:
        decimals, display = ASSET_DECIMALS.get(asset, (8, 4))
        return {
            "aclass": "currency",
            "altname": WS_NAMES.get(asset, asset),
            "decimals": decimals,
            "display_decimals": display,
            "collateral_value": 1.0,
            "status": "enabled",
        }

    async def asset_pairs(self, request: web.Request) -> web.Response:
        pairs = dict(self.asset_pair(s) for s in self.markets)
        return json_response({"error": [], "result": pairs})

    def asset_pair(self, symbol: str) -> tuple[str, dict[str, Any]]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        ws_base, ws_quote = WS_NAMES.get(base, base), WS_NAMES.get(quote, quote)
        return self.pair_id(symbol), {
            "altname": self.altname(symbol),
            "wsname": f"{ws_base}/{ws_quote}",
            "aclass_base": "currency",
            "base": asset_code(base),
            "aclass_quote": "currency",
            "quote": asset_code(quote),
            "lot": "unit",
            "cost_decimals": self.cost_decimals(symbol),
            "pair_decimals": ladder.price_decimals,
            "lot_decimals": QTY_PLACES,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, float(self.engine.taker_fee * 100)]],
            "fees_maker": [[0, float(self.engine.maker_fee * 100)]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": ladder.size_str(1, QTY_PLACES),
            "costmin": "0.00002" if quote == "BTC" else "0.5",
            "tick_size": ladder.price_str(1),
            "status": "online",
        }

    def cost_decimals(self, symbol: str) -> int:
        """Decimals of a cost or fee in the quote currency: 5 for USD and stablecoins, 10 for XBT."""
        return 10 if parse_standard(symbol)[1] == "BTC" else 5

    async def depth(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update(parse_qsl((await request.read()).decode("utf-8", "replace")))
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            return failure("EQuery:Unknown asset pair")
        try:
            count = whole(params, "count", 1, 500) or 100
        except KrakenError as exc:
            return failure(str(exc))
        ladder = self.ladders[symbol]
        stamp = int(time.time())
        book = {
            side: [[ladder.price_str(p), ladder.size_str(q, QTY_PLACES), stamp] for p, q in ladder.top(is_bid, count)]
            for side, is_bid in (("asks", False), ("bids", True))
        }
        return ok({self.pair_id(symbol): book})

    # ---- trading: routes and auth ---------------------------------------------------------------

    def trading_routes(self) -> list[web.RouteDef]:
        private: dict[str, tuple[Private, str]] = {
            "Balance": (self.balance, "read"),
            "BalanceEx": (self.balance_ex, "read"),
            "TradeVolume": (self.trade_volume, "read"),
            "AddOrder": (self.add_order, "trade"),
            "AmendOrder": (self.amend_order, "trade"),
            "CancelOrder": (self.cancel_order, "trade"),
            "CancelAll": (self.cancel_all, "trade"),
            "QueryOrders": (self.query_orders, "read"),
            "OpenOrders": (self.open_orders, "read"),
            "ClosedOrders": (self.closed_orders, "read"),
            "TradesHistory": (self.trades_history, "read"),
            "GetWebSocketsToken": (self.websockets_token, "read"),
        }
        return [web.post(f"/0/private/{name}", self.signed(h, needs)) for name, (h, needs) in private.items()]

    def signed(self, handler: Private, needs: str) -> Handler:
        """Kraken's private-method rule: a known API-Key, API-Sign over the exact body, a nonce
        above the key's last one, and the key's permission for the method."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                key, params = self.authenticate(request, body)
                if needs not in key.permissions:
                    raise KrakenError("EGeneral:Permission denied")
                return await handler(key, params)
            except KrakenError as exc:
                return failure(str(exc))

        return check

    def authenticate(self, request: web.Request, body: bytes) -> tuple[ApiKey, dict[str, str]]:
        key = self.api_keys.get(request.headers.get("API-Key", ""))
        if key is None:
            raise KrakenError("EAPI:Invalid key")
        params = form(request, body)
        nonce = params.get("nonce", "")
        sign = request.headers.get("API-Sign", "")
        try:
            if len(base64.b64decode(sign, validate=True)) != hashlib.sha512().digest_size:
                raise KrakenError("EAPI:Invalid signature")
        except ValueError:  # not base64, or not ASCII
            raise KrakenError("EAPI:Invalid signature") from None
        # Kraken answers a signature that does not match the body as an invalid key
        if not hmac.compare_digest(sign, api_sign(key.secret, request.path, nonce, body)):
            raise KrakenError("EAPI:Invalid key")
        if not nonce.isdecimal() or not self.nonces.get(key.key, 0) < int(nonce) < 2**64:
            raise KrakenError("EAPI:Invalid nonce")
        self.nonces[key.key] = int(nonce)
        return key, params

    # ---- trading: account ------------------------------------------------------------------------

    def holdings(self, key: ApiKey) -> list[tuple[str, Decimal, Decimal]]:
        """(asset, total, held by open orders) for every asset the account has had."""
        account = self.engine.account(key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        return [(a, account.balances.get(a, Decimal(0)), account.locked.get(a, Decimal(0))) for a in assets]

    async def balance(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return ok({asset_code(a): fixed(total, self.asset_info(a)["decimals"]) for a, total, _ in self.holdings(key)})

    async def balance_ex(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        rows = {}
        for asset, total, held in self.holdings(key):
            places = self.asset_info(asset)["decimals"]
            zero = fixed(Decimal(0), places)
            rows[asset_code(asset)] = {"balance": fixed(total, places), "credit": zero, "credit_used": zero,
                                       "hold_trade": fixed(held, places)}
        return ok(rows)

    async def trade_volume(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The fee tier: the simulator has one, the engine's maker and taker rates, in percent."""
        fills = self.engine.account_fills(key.account)
        dollars = ("USD", "USDT", "USDC")  # the volume counts what traded against the dollar
        volume = sum((f.price * f.amount for f in fills if self.engine.markets[f.symbol].quote in dollars), Decimal(0))
        result: dict[str, Any] = {"currency": "ZUSD", "volume": fixed(volume, 4)}
        names = [n.strip() for n in params.get("pair", "").split(",") if n.strip()]
        if names:
            symbols = [self.rest_symbol(n) for n in names]
            if None in symbols:
                raise KrakenError("EQuery:Unknown asset pair")
            for field_name, rate in (("fees", self.engine.taker_fee), ("fees_maker", self.engine.maker_fee)):
                tier = {"fee": fixed(rate * 100, 4), "minfee": fixed(rate * 100, 4), "maxfee": fixed(rate * 100, 4),
                        "nextfee": None, "tiervolume": fixed(Decimal(0), 4), "nextvolume": None}
                result[field_name] = {self.pair_id(s): tier for s in symbols if s is not None}
        return ok(result)

    async def websockets_token(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        token = base64.b64encode(secrets.token_bytes(32)).decode()
        self.ws_tokens[token] = WsToken(key.account, time.time() + TOKEN_SECONDS)
        return ok({"token": token, "expires": TOKEN_SECONDS})

    # ---- trading: placing and canceling --------------------------------------------------------------

    async def add_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        ticket = self.ticket(params)
        if flag(params, "validate"):  # checked, not placed
            return ok({"descr": {"order": self.order_text(ticket.symbol, ticket.side, ticket.kind, ticket.volume,
                                                          ticket.limit, ticket.stop)}})
        self.placing_userref = ticket.userref
        try:
            order = self.place(key, ticket)
        finally:
            self.placing_userref = None
        if ticket.userref is not None:  # a post-only order killed at once never reached the engine
            self.userrefs[order.order_id] = ticket.userref
        return ok({"descr": {"order": self.description(order)}, "txid": [self.txid(order)]})

    def ticket(self, params: dict[str, str]) -> Ticket:
        symbol, side, ordertype = self.what(params)
        flags = self.order_flags(params, ordertype)
        tif = TIME_IN_FORCE.get(params.get("timeinforce", "GTC").upper())
        if tif is None:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        volume = required(params, "volume")
        if volume < self.engine.markets[symbol].lot:
            raise KrakenError("EOrder:Order minimum not met")
        limit, stop, shown = self.prices(params, ordertype, volume)
        userref = whole(params, "userref", -(2**31), 2**31 - 1)
        client_id = params.get("cl_ord_id") or None
        if userref is not None and client_id is not None:
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")  # the two are mutually exclusive
        return Ticket(symbol, side, ordertype, volume, limit, stop, shown, tif, "post" in flags, client_id, userref)

    def what(self, params: dict[str, str]) -> tuple[str, Side, str]:
        """The pair, side and order type an AddOrder names."""
        symbol = self.rest_symbol(params.get("pair", ""))
        if symbol is None:
            raise KrakenError("EQuery:Unknown asset pair")
        if params.get("type") not in ("buy", "sell"):
            raise KrakenError("EGeneral:Invalid arguments:type")
        ordertype = params.get("ordertype", "")
        if ordertype not in ORDER_TYPES:
            raise KrakenError("EGeneral:Invalid arguments:ordertype")
        for name in UNSIMULATED:
            if name in params:
                raise KrakenError(f"EGeneral:Invalid arguments:{name}")
        return symbol, Side(params["type"]), ordertype

    def place(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        try:
            return self.engine.submit(
                key.account, ticket.symbol, ticket.side, ticket.kind, ticket.volume, ticket.limit,
                stop_price=ticket.stop, tif=ticket.tif, post_only=ticket.post_only, iceberg_visible=ticket.shown,
                client_id=ticket.client_id,
            )
        except Reject as exc:
            if exc.reason == "post_only_would_take":
                return self.kill(key, ticket)
            limit = "price2" if ticket.ordertype == "stop-loss-limit" else "price"
            raise KrakenError(ERRORS.get(exc.reason, "EGeneral:Invalid arguments").format(limit=limit)) from None

    @staticmethod
    def order_flags(params: dict[str, str], ordertype: str) -> set[str]:
        """``oflags``; the fee-currency flags are accepted, the engine's fee currency applies."""
        flags = {f.strip() for f in params.get("oflags", "").split(",") if f.strip()}
        if "viqc" in flags:
            raise KrakenError("EGeneral:Invalid arguments:viqc")  # quote-sized volumes are not simulated
        if not flags <= ORDER_FLAGS or {"fcib", "fciq"} <= flags:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        if "post" in flags and ordertype not in ("limit", "iceberg"):
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        return flags

    @staticmethod
    def prices(params: dict[str, str], ordertype: str, volume: Decimal) -> tuple[Price, Price, Price]:
        """(limit, trigger, iceberg display volume): ``price`` is the limit of a limit or iceberg
        order and the trigger of a stop-loss, whose limit is then ``price2``."""
        if ordertype == "market":
            return None, None, None
        price = required(params, "price")
        if ordertype == "stop-loss":
            return None, price, None
        if ordertype == "stop-loss-limit":
            return required(params, "price2"), price, None
        if ordertype == "limit":
            return price, None, None
        shown = required(params, "displayvol")
        if shown < volume * ICEBERG_MIN_SHOWN:
            raise KrakenError("EGeneral:Invalid arguments:displayvol")
        return price, None, shown

    def kill(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        """Kraken accepts a post-only order that would take and cancels it at once; the engine
        refuses it outright, so the venue keeps the record."""
        market = self.engine.markets[ticket.symbol]
        assert ticket.limit is not None
        order = SimOrder(
            order_id=f"post-only-{next(self._killed_ids)}", client_id=ticket.client_id or "", account=key.account,
            symbol=ticket.symbol, side=ticket.side, type=OrderType.LIMIT, amount=int(ticket.volume / market.lot),
            price=int(ticket.limit / market.tick), post_only=True, status=OrderStatus.CANCELED,
            visible=None if ticket.shown is None else int(ticket.shown / market.lot),
        )
        order.updated = order.created
        self.killed[order.order_id] = order
        return order

    async def amend_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """AmendOrder: ``order_qty`` and ``limit_price`` of an open limit order named by ``txid`` or
        ``cl_ord_id``, changed in place (the txid stays; see ``MatchingEngine.amend`` for the queue). A
        quantity at or below what has filled cancels the rest. Answers an ``amend_id``."""
        order = self.amendable(key, params)
        market = self.engine.markets[order.symbol]
        assert order.price is not None
        qty, limit = positive(params, "order_qty"), positive(params, "limit_price")
        lots = order.amount if qty is None else self.units(qty, market.lot, "order_qty")
        ticks = order.price if limit is None else self.units(limit, market.tick, "limit_price")
        if lots <= order.filled:
            self.engine.cancel(key.account, order.order_id)
        else:
            self.amending = order.order_id
            try:
                self.engine.amend(order, lots, ticks, post_only=order.post_only or flag(params, "post_only"))
            except Reject as exc:
                raise KrakenError(AMEND_ERRORS.get(exc.reason, "EGeneral:Invalid arguments")) from None
            finally:
                self.amending = None
        return ok({"amend_id": new_txid("T")})

    def amendable(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        for name in AMEND_UNSIMULATED:
            if name in params:
                raise KrakenError(f"EGeneral:Invalid arguments:{name}")
        if "cl_ord_id" in params:
            found = [o for o in self.engine.open_orders(key.account) if o.client_id == params["cl_ord_id"]]
            order = found[0] if found else None
        else:
            order = self.lookup(key, params.get("txid", ""))
        if order is None or order.status.final:
            raise KrakenError("EOrder:Unknown order")
        if order.type is not OrderType.LIMIT or order.visible is not None:
            raise KrakenError("EGeneral:Invalid arguments:order_type")
        return order

    @staticmethod
    def units(value: Decimal, step: Decimal, name: str) -> int:
        units = value / step
        if units != units.to_integral_value():
            raise KrakenError(f"EGeneral:Invalid arguments:{name}")
        return int(units)

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``txid`` is an order's txid or a userref (every open order carrying it); or ``cl_ord_id``."""
        reference = params.get("txid", "")
        if "cl_ord_id" in params:
            targets = [o for o in self.engine.open_orders(key.account) if o.client_id == params["cl_ord_id"]]
        elif reference.lstrip("-").isdigit():
            userref = int(reference)
            targets = [o for o in self.engine.open_orders(key.account) if self.userrefs.get(o.order_id) == userref]
        else:
            order = self.lookup(key, reference)
            targets = [order] if order is not None and not order.status.final else []
        if not targets:
            raise KrakenError("EOrder:Unknown order")
        for order in targets:
            self.engine.cancel(key.account, order.order_id)
        return ok({"count": len(targets)})

    async def cancel_all(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        targets = self.engine.open_orders(key.account)
        for order in targets:
            self.engine.cancel(key.account, order.order_id)
        return ok({"count": len(targets)})

    # ---- trading: orders and trades ------------------------------------------------------------------

    def txid(self, order: SimOrder) -> str:
        txid = self.txids.get(order.order_id)
        if txid is None:
            txid = self.txids[order.order_id] = new_txid("O")
            self.order_ids[txid] = order.order_id
        return txid

    def lookup(self, key: ApiKey, txid: str) -> SimOrder | None:
        order_id = self.order_ids.get(txid.strip(), "")
        order = self.engine.orders.get(order_id) or self.killed.get(order_id)
        return order if order is not None and order.account == key.account else None

    def account_orders(self, key: ApiKey) -> list[SimOrder]:
        orders = [o for o in [*self.engine.orders.values(), *self.killed.values()] if o.account == key.account]
        return sorted(orders, key=lambda o: o.created, reverse=True)

    def matches(self, order: SimOrder, params: dict[str, str]) -> bool:
        """The ``userref`` and ``cl_ord_id`` filters of the order queries."""
        userref = whole(params, "userref", -(2**31), 2**31 - 1)
        if userref is not None and self.userrefs.get(order.order_id) != userref:
            return False
        return "cl_ord_id" not in params or order.client_id == params["cl_ord_id"]

    async def query_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Unknown txids are left out of the result (ccxt then raises OrderNotFound)."""
        txids = [t.strip() for t in params.get("txid", "").split(",") if t.strip()]
        if not 1 <= len(txids) <= 50:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        trades = flag(params, "trades")
        found = {t: self.lookup(key, t) for t in txids}
        shown = {t: o for t, o in found.items() if o is not None and self.matches(o, params)}
        return ok({t: self.order_json(o, trades) for t, o in shown.items()})

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        trades = flag(params, "trades")
        rows = {self.txid(o): self.order_json(o, trades)
                for o in self.account_orders(key) if not o.status.final and self.matches(o, params)}
        return ok({"open": rows})

    async def closed_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        start, end = window(params)
        offset = whole(params, "ofs", 0, 2**31 - 1) or 0
        closed = [o for o in self.account_orders(key)
                  if o.status.final and start < o.updated <= end and self.matches(o, params)]
        trades = flag(params, "trades")
        rows = {self.txid(o): self.order_json(o, trades) for o in closed[offset:offset + PAGE]}
        return ok({"closed": rows, "count": len(closed)})

    async def trades_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        start, end = window(params)
        offset = whole(params, "ofs", 0, 2**31 - 1) or 0
        groups = self.trade_groups(self.engine.account_fills(key.account), flag(params, "consolidate_taker", True))
        groups = [g for g in reversed(groups) if start < g[0].ts <= end]
        rows = dict(self.trade_json(g) for g in groups[offset:offset + PAGE])
        return ok({"trades": rows, "count": len(groups)})

    @staticmethod
    def trade_groups(fills: list[SimFill], consolidate: bool) -> list[list[SimFill]]:
        """Trades as TradesHistory lists them: with ``consolidate_taker`` (Kraken's default) the
        taker fills of one order are one trade; maker fills are one trade each."""
        groups: dict[tuple[str, int], list[SimFill]] = {}
        for fill in fills:
            groups.setdefault((fill.order_id, -1 if fill.taker and consolidate else fill.trade_id), []).append(fill)
        return list(groups.values())

    def fill_txid(self, fill: SimFill) -> str:
        key = (fill.trade_id, fill.order_id)  # a self-trade's two fills share the trade id
        if key not in self.fill_txids:
            self.fill_txids[key] = new_txid("T")
        return self.fill_txids[key]

    def trade_json(self, fills: list[SimFill]) -> tuple[str, dict[str, Any]]:
        first = fills[0]
        order = self.engine.orders[first.order_id]
        places = self.cost_decimals(first.symbol)
        volume = sum((f.amount for f in fills), Decimal(0))
        cost = sum((f.price * f.amount for f in fills), Decimal(0))
        return self.fill_txid(first), {
            "ordertxid": self.txid(order),
            "pair": self.pair_id(first.symbol),
            "time": round(first.ts, 4),
            "type": first.side.value,
            "ordertype": self.kraken_type(order),
            "price": fixed(cost / volume, places),
            "cost": fixed(cost, places),
            "fee": self.fee_text(first.symbol, first.fee_currency, sum((f.fee for f in fills), Decimal(0))),
            "vol": fixed(volume, QTY_PLACES),
            "margin": fixed(Decimal(0), places),
            "leverage": "0",
            "misc": "",
            "trade_id": first.trade_id,
            "maker": not first.taker,
        }

    def fee_text(self, symbol: str, currency: str, fee: Decimal) -> str:
        quote = self.engine.markets[symbol].quote
        return fixed(fee, self.cost_decimals(symbol) if currency == quote else QTY_PLACES)

    @staticmethod
    def kraken_type(order: SimOrder) -> str:
        if order.visible is not None:
            return "iceberg"
        return {OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP: "stop-loss",
                OrderType.STOP_LIMIT: "stop-loss-limit"}[order.type]

    def description(self, order: SimOrder) -> str:
        market = self.engine.markets[order.symbol]
        limit = None if order.price is None else order.price * market.tick
        stop = None if order.stop is None else order.stop * market.tick
        return self.order_text(order.symbol, order.side, order.type, order.amount * market.lot, limit, stop)

    def order_text(self, symbol: str, side: Side, kind: OrderType, volume: Decimal, limit: Price, stop: Price) -> str:
        """``descr.order``: "buy 1.25000000 XBTUSD @ limit 27500.0"; a stop-loss-limit reads
        "@ stop loss 25000.0 -> limit 24900.0"."""
        limit_text, stop_text = (fixed(p or Decimal(0), self.ladders[symbol].price_decimals) for p in (limit, stop))
        what = {
            OrderType.MARKET: "market",
            OrderType.LIMIT: f"limit {limit_text}",
            OrderType.STOP: f"stop loss {stop_text}",
            OrderType.STOP_LIMIT: f"stop loss {stop_text} -> limit {limit_text}",
        }[kind]
        return f"{side.value} {fixed(volume, QTY_PLACES)} {self.altname(symbol)} @ {what}"

    def order_json(self, order: SimOrder, with_trades: bool) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        places = self.ladders[order.symbol].price_decimals
        filled = order.filled * market.lot
        fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
        fee_in_base = any(f.fee_currency == market.base for f in fills)
        info: dict[str, Any] = {"refid": None, "userref": self.userrefs.get(order.order_id)}
        if self.client_order_id(order) is not None:
            info["cl_ord_id"] = order.client_id
        info.update({
            "status": STATUS[order.status],
            "opentm": round(order.created, 4),
            "starttm": 0,
            "expiretm": 0,
            "descr": self.descr_json(order),
            "vol": fixed(order.amount * market.lot, QTY_PLACES),
            "vol_exec": fixed(filled, QTY_PLACES),
            "cost": fixed(order.cost, self.cost_decimals(order.symbol)),
            "fee": self.fee_text(order.symbol, market.base if fee_in_base else market.quote, order.fee),
            "price": fixed(order.cost / filled if filled else Decimal(0), places),
            "stopprice": fixed(Decimal(0), places),
            "limitprice": fixed(Decimal(0), places),
            "misc": "",
            "oflags": ",".join([*(["post"] if order.post_only else []), "fcib" if fee_in_base else "fciq"]),
        })
        if order.status.final:
            info["closetm"] = round(order.updated, 4)
            info["reason"] = self.close_reason(order)
        if with_trades and fills:
            info["trades"] = [self.fill_txid(g[0]) for g in self.trade_groups(fills, True)]
        return info

    @staticmethod
    def client_order_id(order: SimOrder) -> str | None:
        """The ``cl_ord_id`` the order was placed with (the engine names the rest "sim-<id>")."""
        return order.client_id if order.client_id and order.client_id != f"sim-{order.order_id}" else None

    def descr_json(self, order: SimOrder) -> dict[str, Any]:
        """``price`` is the limit, or a stop-loss's trigger, whose limit is then ``price2``."""
        tick, places = self.engine.markets[order.symbol].tick, self.ladders[order.symbol].price_decimals
        first, second = (order.stop, order.price) if order.stop is not None else (order.price, None)
        return {
            "pair": self.altname(order.symbol),
            "type": order.side.value,
            "ordertype": self.kraken_type(order),
            "price": fixed((first or 0) * tick, places),
            "price2": fixed((second or 0) * tick, places),
            "leverage": "none",
            "order": self.description(order),
            "close": "",
        }

    def close_reason(self, order: SimOrder) -> str | None:
        if order.order_id in self.killed:
            return "Post only order"
        return "User requested" if order.status is OrderStatus.CANCELED else None

    # ---- WebSocket: requests ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        self._connection_id += 1
        status = {"api_version": "v2", "connection_id": self._connection_id, "system": "online", "version": "2.0.10"}
        self.send(conn, orjson.dumps({"channel": "status", "type": "update", "data": [status]}).decode())

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        self.answer(conn, data, self.on_subscription)

    def answer(self, conn: SimConnection, data: str | bytes,
               subscription: Callable[[SimConnection, dict[str, Any], str], None]) -> None:
        """Kraken v2's request envelope, the same on both sockets: ping, (un)subscribe, errors."""
        time_in = rfc3339_now()
        try:
            msg = orjson.loads(data)
            method = msg["method"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.send(conn, self.reply({}, time_in, error="EGeneral:Invalid arguments"))
            return
        if method == "ping":
            self.client_pings += 1
            self.send(conn, self.reply(msg, time_in, method="pong"))
        elif method in ("subscribe", "unsubscribe"):
            subscription(conn, msg, time_in)
        else:
            self.send(conn, self.reply(msg, time_in, error="Method not found"))

    def on_subscription(self, conn: SimConnection, msg: dict[str, Any], time_in: str) -> None:
        params = msg.get("params") or {}
        channel = params.get("channel")
        if channel not in ("book", "trade"):
            self.send(conn, self.reply(msg, time_in, error="Channel not found"))
            return
        for native in params.get("symbol") or []:
            symbol = self.symbol_of(native)
            if symbol is None:
                self.send(conn, self.reply(msg, time_in, error=f"Currency pair not supported {native}", symbol=native))
            elif msg["method"] == "subscribe":
                self.subscribe(conn, msg, symbol, time_in)
            else:
                self.unsubscribe(conn, msg, symbol, time_in)

    def subscribe(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        params = msg["params"]
        channel = params["channel"]
        native = self.native(symbol)
        if channel in conn.subs.get(symbol, {}):
            self.send(conn, self.reply(msg, time_in, error="Already subscribed", symbol=native))
            return
        if channel == "book":
            depth = params.get("depth", 10)
            if depth not in DEPTHS:
                self.send(conn, self.reply(msg, time_in, error=f"Invalid depth {depth}", symbol=native))
                return
            snapshot = params.get("snapshot", True)
            result: dict[str, Any] = {"channel": "book", "depth": depth, "snapshot": snapshot, "symbol": native}
        else:
            depth = 0
            snapshot = params.get("snapshot", False)
            result = {"channel": "trade", "snapshot": snapshot, "symbol": native}
        conn.subs.setdefault(symbol, {})[channel] = depth
        self.send(conn, self.reply(msg, time_in, result=result))
        if snapshot:
            self.send(conn, self.book_snapshot(symbol, depth) if channel == "book" else self.trade_snapshot(symbol))

    def unsubscribe(self, conn: SimConnection, msg: dict[str, Any], symbol: str, time_in: str) -> None:
        params = msg["params"]
        channel = params["channel"]
        native = self.native(symbol)
        subs = conn.subs.get(symbol, {})
        if channel not in subs or (channel == "book" and params.get("depth", 10) != subs[channel]):
            self.send(conn, self.reply(msg, time_in, error="Subscription Not Found", symbol=native))
            return
        result: dict[str, Any] = {"channel": channel, "symbol": native}
        if channel == "book":
            result["depth"] = subs[channel]
        del subs[channel]
        if not subs:
            del conn.subs[symbol]
        self.send(conn, self.reply(msg, time_in, result=result))

    def reply(
        self,
        msg: dict[str, Any],
        time_in: str,
        *,
        method: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        symbol: str | None = None,
    ) -> str:
        out: dict[str, Any] = {"method": method or msg.get("method")}
        if result is not None:
            out["result"] = result
        if error is not None:
            out["error"] = error
            if symbol is not None:
                out["symbol"] = symbol
        out["success"] = error is None
        out["time_in"] = time_in
        out["time_out"] = rfc3339_now()
        if "req_id" in msg:
            out["req_id"] = msg["req_id"]
        return orjson.dumps(out).decode()

    def send(self, conn: SimConnection, frame: str) -> None:
        conn.state["last_tx"] = time.time()
        conn.send(frame)

    # ---- WebSocket: book ----------------------------------------------------------------------

    def book_snapshot(self, symbol: str, depth: int) -> str:
        ladder = self.ladders[symbol]
        bids, asks = self.tops[symbol]
        cs = self.checksum_of(ladder, bids, asks)
        return self.book_frame("snapshot", symbol, bids[:depth], asks[:depth], cs, rfc3339_now())

    def book_frame(self, kind: str, symbol: str, bids: list[Level], asks: list[Level], cs: int, stamp: str) -> str:
        ladder = self.ladders[symbol]
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{self.native(symbol)}",'
            f'"bids":[{levels_json(ladder, bids)}],"asks":[{levels_json(ladder, asks)}],'
            f'"checksum":{cs},"timestamp":"{stamp}"}}]}}'
        )

    def checksum_of(self, ladder: Ladder, bids: list[Level], asks: list[Level]) -> int:
        return checksum(level_strings(ladder, asks[:CHECKSUM_LEVELS]), level_strings(ladder, bids[:CHECKSUM_LEVELS]))

    def encode(self, symbol: str, changes: list[Change]) -> BookTick:
        before = self.tops[symbol]
        after = self.top_of(symbol)
        self.tops[symbol] = after
        ladder = self.ladders[symbol]
        cs = self.checksum_of(ladder, *after)
        top_moved = any(b[:CHECKSUM_LEVELS] != a[:CHECKSUM_LEVELS] for b, a in zip(before, after))
        # only a checksum that goes out can be wrong: every window shows a change in the top 10
        if top_moved and self.faults.take("corrupt", symbol):
            cs ^= 0x5A5A
        return BookTick(before, after, cs, rfc3339_now())

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if "trade" in conn.subs[symbol] else []

    def frames_for(self, conn: SimConnection, symbol: str, encoded: BookTick) -> list[Frame]:
        depth = conn.subs[symbol].get("book")
        if depth is None:
            return []
        frames = encoded.frames.get(depth)
        if frames is None:
            frames = encoded.frames[depth] = self.update_frames(symbol, encoded, depth)
        if frames:
            conn.state["last_tx"] = time.time()
        return frames

    def update_frames(self, symbol: str, tick: BookTick, depth: int) -> list[Frame]:
        ladder = self.ladders[symbol]
        bids = window_changes(tick.before[0], tick.after[0], ladder.bids, depth)
        asks = window_changes(tick.before[1], tick.after[1], ladder.asks, depth)
        if not bids and not asks:
            return []
        return [self.book_frame("update", symbol, bids, asks, tick.checksum, tick.timestamp)]

    # ---- WebSocket: trades and heartbeats -------------------------------------------------------

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        entry = (
            f'{{"symbol":"{self.native(symbol)}","side":"{"buy" if buy else "sell"}",'
            f'"price":{ladder.price_str(ticks)},"qty":{ladder.size_str(lots, QTY_PLACES)},'
            f'"ord_type":"market","trade_id":{trade_id},"timestamp":"{rfc3339_now()}"}}'
        )
        self.recent[symbol].append(entry)
        return f'{{"channel":"trade","type":"update","data":[{entry}]}}'

    def trade_snapshot(self, symbol: str) -> str:
        return f'{{"channel":"trade","type":"snapshot","data":[{",".join(self.recent[symbol])}]}}'

    # ---- WebSocket: private stream (executions) -------------------------------------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        self.answer(conn, data, self.on_executions)

    def on_executions(self, conn: SimConnection, msg: dict[str, Any], time_in: str) -> None:
        params = msg.get("params") or {}
        if params.get("channel") != "executions":
            self.send(conn, self.reply(msg, time_in, error="Channel not found"))
        elif (account := self.token_account(str(params.get("token", "")))) is None:
            self.send(conn, self.reply(msg, time_in, error="ESession:Invalid session"))
        elif msg["method"] == "subscribe":
            self.subscribe_executions(conn, msg, account, time_in)
        else:
            conn.state.pop("executions", None)
            self.send(conn, self.reply(msg, time_in, result={"channel": "executions"}))

    def token_account(self, token: str) -> str | None:
        """The account of an issued token used in time; its first use keeps it valid."""
        issued = self.ws_tokens.get(token)
        if issued is None or issued.use_by < time.time():
            return None
        issued.use_by = float("inf")
        return issued.account

    def subscribe_executions(self, conn: SimConnection, msg: dict[str, Any], account: str, time_in: str) -> None:
        if conn.state.get("executions"):
            self.send(conn, self.reply(msg, time_in, error="Already subscribed"))
            return
        params = msg["params"]
        snap_orders, snap_trades = bool(params.get("snap_orders", True)), bool(params.get("snap_trades", False))
        conn.account = account
        conn.state["executions"] = True
        result = {"channel": "executions", "maxratecount": 180, "snap_orders": snap_orders, "snap_trades": snap_trades}
        self.send(conn, self.reply(msg, time_in, result=result))
        reports = [self.report(o, "new") for o in self.engine.open_orders(account)] if snap_orders else []
        if snap_trades:
            fills = self.engine.account_fills(account)[-SNAPSHOT_TRADES:]
            reports += [self.trade_report(self.engine.orders[f.order_id], f) for f in fills]
        self.send(conn, self.executions_frame(conn, "snapshot", reports))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("executions") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        if not conn.state.get("executions"):
            return []
        return [self.executions_frame(conn, "update", [r]) for r in self.event_reports(event)]

    def executions_frame(self, conn: SimConnection, kind: str, reports: list[dict[str, Any]]) -> str:
        """One ``executions`` message, numbered by the socket's ``sequence``."""
        conn.state["sequence"] = conn.state.get("sequence", 0) + 1
        return orjson.dumps({"channel": "executions", "type": kind, "data": reports, "sequence": conn.state["sequence"]}).decode()

    def event_reports(self, event: OrderEvent) -> list[dict[str, Any]]:
        """Kraken's exec_types for one engine event: ``pending_new`` then ``new`` on acceptance,
        ``status`` when a stop triggers, ``trade`` per fill (then ``filled`` on the last), and
        ``canceled`` or ``expired``."""
        order, fill = event.order, event.fill
        if fill is not None:
            trade = self.trade_report(order, fill)
            return [trade, self.report(order, "filled")] if order.status is OrderStatus.FILLED else [trade]
        if order.status is OrderStatus.EXPIRED:
            return [self.report(order, "expired")]
        if order.status.final:  # canceled, or a triggered stop the engine could not place
            return [self.report(order, "canceled") | {"reason": "User requested", "cancel_reason": "User requested"}]
        if order.order_id == self.amending:
            return [self.report(order, "amended") | {"amended": True, "reason": "user_modified"}]
        if order.triggered:
            return [self.report(order, "status")]
        return [self.report(order, "pending_new", "pending_new"), self.report(order, "new")]

    def order_status(self, order: SimOrder) -> str:
        if order.status.final:
            return {OrderStatus.FILLED: "filled", OrderStatus.EXPIRED: "expired"}.get(order.status, "canceled")
        return "partially_filled" if order.filled else "new"

    def report(self, order: SimOrder, exec_type: str, status: str | None = None) -> dict[str, Any]:
        """An execution report's order fields: what the order is and how much of it has filled."""
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        userref = self.userrefs.get(order.order_id, 0)
        out: dict[str, Any] = {"order_id": self.txid(order), "order_userref": userref}
        client_id = self.client_order_id(order)
        if client_id is not None:
            out["cl_ord_id"] = client_id
        out.update({
            "exec_type": exec_type,
            "order_status": status or self.order_status(order),
            "symbol": self.native(order.symbol),
            "side": order.side.value,
            "order_type": self.kraken_type(order),
            "order_qty": float(order.amount * market.lot),
            "limit_price": float((order.price or 0) * market.tick),
            "time_in_force": order.tif.value.upper(),
            "post_only": order.post_only,
            "cum_qty": float(filled),
            "cum_cost": float(order.cost),
            "avg_price": float(order.cost / filled) if filled else 0.0,
            "fee_ccy_pref": "fciq",
            "timestamp": rfc3339_now(),
        })
        if order.stop is not None:
            out["triggers"] = {"reference": "last", "price": float(order.stop * market.tick), "price_type": "static",
                               "status": "triggered" if order.triggered else "untriggered"}
        if order.visible is not None:
            out["display_qty"] = float(order.visible * market.lot)
        if market.quote in DOLLARS:
            fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
            out["fee_usd_equiv"] = float(sum((usd_fee(f, market.quote) for f in fills), Decimal(0)))
        return out

    def trade_report(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        """A ``trade`` report: the order's fields and the fill's, with its fee and maker/taker."""
        out = self.report(order, "trade")
        out.update({
            "exec_id": self.fill_txid(fill),
            "trade_id": fill.trade_id,
            "last_qty": float(fill.amount),
            "last_price": float(fill.price),
            "cost": float(fill.price * fill.amount),
            "liquidity_ind": "t" if fill.taker else "m",
            "fees": [{"asset": fill.fee_currency, "qty": float(fill.fee)}],
            "timestamp": datetime.fromtimestamp(fill.ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        })
        quote = self.engine.markets[order.symbol].quote
        if quote in DOLLARS:
            out["fee_usd_equiv"] = float(usd_fee(fill, quote))
        return out

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await super().start(host, port)
        self._heartbeats = asyncio.create_task(self._heartbeat_loop())

    async def stop(self) -> None:
        if self._heartbeats is not None:
            self._heartbeats.cancel()
        await super().stop()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_after / 10)
            quiet_since = time.time() - self.heartbeat_after
            for conn in list(self.connections):
                if conn.subs and conn.state.get("last_tx", 0.0) <= quiet_since:
                    self.send(conn, '{"channel":"heartbeat"}')


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


SIMS: dict[str, type[SimVenue]] = {"kraken": KrakenSpotSim}
