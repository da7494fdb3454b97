"""Simulated dYdX v4: the indexer, a full node's REST (LCD) and its CometBFT RPC on one server.

Market data (indexer): REST ``/v4/perpetualMarkets`` and ``/v4/orderbooks/perpetualMarket/{ticker}``,
and the WebSocket ``/v4/ws`` with a ``connected`` greeting, ``subscribe``/``unsubscribe`` for
``v4_orderbook`` and ``v4_trades`` (plain or ``batched``), ``subscribed`` answers carrying the
initial state, ``unsubscribed`` acks, ``error`` frames, and protocol pings every 30 s.

As the real indexer (indexer/services/socks in dydxprotocol/v4-chain) does, ``message_id`` is
one counter per connection: a subscribe request takes its id on arrival but is answered only
after the initial state is fetched, so ``subscribed`` frames come late, out of id order; errors
about a malformed request repeat the current id; more than 2 subscribes to one channel and id
within a second are answered with an error and a closed socket. Each tick's book change goes
out as one message per side (the indexer sends one per order update), so a client sees its
book cross for a moment when the price moves up past the old best ask.

Trading, as ccxt calls it: there is no API key. An account is a secp256k1 key and its bech32
``dydx1...`` address; the node serves ``/cosmos/auth/v1beta1/account_info/{address}`` (account
number, public key), ``/abci_info`` (block height, one block a second) and
``/broadcast_tx_sync?tx=0x<TxRaw>``, which checks a transaction as the chain's CheckTx does
(message ValidateBasic, signer account and public key, timestamp nonce unless every message is
short-term, the SIGN_MODE_DIRECT signature over the SignDoc with chain id ``dydx-mainnet-1``)
and answers Cosmos error codes and logs in ``result``. ``MsgPlaceOrder`` becomes an engine
order: long-term (GTT) and short-term (goodTilBlock) limits, IOC, post-only, reduce-only IOC and
stop-loss conditionals; ``MsgCancelOrder`` cancels. The indexer serves the subaccount
(``/v4/addresses/{address}/subaccountNumber/0``, USDC collateral, perpetual positions at the
market's initial margin fraction), ``/v4/orders``, ``/v4/orders/{id}`` under the indexer's uuid
and ``/v4/fills``. Orders the chain accepts and then removes (a short-term order that would
leave the subaccount undercollateralized, a post-only order that would cross) are listed as
canceled, ``BEST_EFFORT_CANCELED`` while a short-term order's goodTilBlock has not passed.

Private stream (indexer): ``v4_subaccounts`` on the same socket, id ``{address}/{subaccountNumber}``,
no signature (the indexer streams any subaccount). ``subscribed`` carries the subaccount, its open
orders and ``blockHeight``; then every engine event of the account is one ``channel_data`` with
``orders`` (the REST order shape, same uuid, ``clientId`` the uint32 client id) and, for a fill,
``fills`` (the REST fill shape plus ``subaccountId``, ``clobPairId``, ``ticker``, ``quoteAmount``).
Positions and asset updates are not pushed.

Fault ``skip``: the next message for the symbol on each connection skips one message_id.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import WSCloseCode, web

from ...model import OrderStatus, OrderType, Side, TimeInForce
from ...symbols import parse_standard
from ...venues.protowire import DecodeError
from ..access import READ_TRADE, ApiKey, ccxt_urls
from ..engine import OrderEvent, Reject, SimFill, SimOrder
from ..market import Ladder
from ..ratelimit import Over, refusal, retry_after
from ..server import Change, Frame, SimConnection, SimTrade, SimVenue, json_response
from . import dydx_tx
from .dydx_tx import CancelOrder, Message, Order, OrderId, Tx

BOOK = "v4_orderbook"
TRADES = "v4_trades"
SUBACCOUNTS = "v4_subaccounts"
CHANNELS = (BOOK, TRADES, SUBACCOUNTS)
RECENT_TRADES = 100  # what /v4/trades/perpetualMarket/{ticker} returns by default
SUBSCRIBE_POINTS = 2  # subscribes per (connection, channel, id) ...
SUBSCRIBE_WINDOW = 1.0  # ... per this many seconds
QUANTUM_CONVERSION_EXPONENT = -9
HEIGHT_EPOCH = 1_660_000_000  # a plausible block height, one block a second
INDEXER_IDS = uuid.UUID("0f9da948-a6fb-4c45-9edc-4685c3f3317d")  # the indexer's uuid5 namespace
BOOK_VERSION = "1.0.0"
TRADES_VERSION = "2.1.0"
SUBACCOUNTS_VERSION = "3.0.0"

CHAIN_ID = "dydx-mainnet-1"
APP_VERSION = "9.1.0"
QUOTE = "USD"  # the engine's quote of every market listed here: USDC collateral on the chain
INITIAL_MARGIN_FRACTION = Decimal("0.02")
FIRST_ACCOUNT_NUMBER = 40_000
SHORT_BLOCK_WINDOW = 20  # blocks ahead a short-term order's goodTilBlock may be
STEP_BASE_QUANTUMS = 10**6  # every market here: one lot
STATEFUL_ORDER_TIME_WINDOW = 95 * 86_400  # seconds ahead a stateful order's goodTilBlockTime may be
TIMESTAMP_NONCE_CUTOFF = 1 << 40  # sequences from here on are millisecond timestamps
NONCE_WINDOW_MS = 30_000
MAX_TIMESTAMP_NONCES = 20
LONG_TERM, CONDITIONAL = 64, 32
IOC, POST_ONLY, FILL_OR_KILL = 1, 2, 3
STOP_LOSS, TAKE_PROFIT = 1, 2
ORDER_TYPES = {0: "LIMIT", STOP_LOSS: "STOP_LIMIT", TAKE_PROFIT: "TAKE_PROFIT"}
API_TIME_IN_FORCE = {0: "GTT", IOC: "IOC", POST_ONLY: "GTT", FILL_OR_KILL: "FOK"}
# engine rejects that make the chain drop an order it accepted (short-term ones, and a stateful
# post-only that would cross) rather than refuse the transaction
REMOVALS = frozenset({"insufficient_balance", "post_only_would_take", "reduce_only_would_increase"})

# registered Cosmos errors by codespace: cosmos-sdk types/errors, v4-chain x/clob/types/errors.go
SDK_ERRORS = {
    2: "tx parse error",
    4: "unauthorized",
    8: "invalid pubkey",
    9: "unknown address",
    15: "no signatures supplied",
    18: "invalid request",
    32: "incorrect account sequence",
}
CLOB_ERRORS = {
    3: "Invalid order side",
    4: "Invalid order quantums",
    5: "Invalid order goodTilBlock",
    6: "Invalid order subticks",
    8: "ClobPair ID does not reference a valid CLOB",
    10: "The next block height is greater than the GoodTilBlock of the message",
    11: "The GoodTilBlock of the message is further than ShortBlockWindow blocks into the future",
    12: "MsgPlaceOrder is invalid",
    20: "An order with the same `OrderId` already exists for this CLOB with a greater-than-or-equal `GoodTilBlock` or Order Hash",
    44: "invalid time in force",
    48: "This field has been deprecated",
    3000: "Invalid order flags",
    3001: "Invalid order goodTilBlockTime",
    3002: "Stateful orders cannot require immediate execution",
    3003: "The block time is greater than the GoodTilBlockTime of the message",
    3004: "The GoodTilBlockTime of the message is further than StatefulOrderTimeWindow into the future",
    3005: "Existing stateful order has higher-or-equal priority than the new one",
    3006: "Stateful order does not exist",
    3007: "Stateful order collateralization check failed",
    6000: "Conditional type is invalid",
    6001: "Conditional order trigger subticks is invalid",
    9002: "This function is not implemented",
    9003: "Reduce-only is currently disabled for non-IOC orders",
}

Levels = list[list[str]]


class TxError(Exception):
    """A transaction CheckTx refuses: its code, codespace and log (``detail: registered text``)."""

    def __init__(self, code: int, detail: str = "", codespace: str = "clob") -> None:
        registered = (SDK_ERRORS if codespace == "sdk" else CLOB_ERRORS)[code]
        super().__init__(f"{detail}: {registered}" if detail else registered)
        self.code = code
        self.codespace = codespace


def sdk_error(code: int, detail: str = "") -> TxError:
    return TxError(code, detail, "sdk")


@dataclass
class Wallet:
    """A chain account the simulator issued: its key, account number, sequence and the
    timestamp nonces it used (x/accountplus keeps the 20 newest and the largest one ejected)."""

    key: ApiKey
    public_key: bytes
    account_number: int
    sequence: int = 0
    nonces: list[int] = field(default_factory=list)
    max_ejected: int = 0

    @property
    def address(self) -> str:
        return self.key.key

    def take_nonce(self, nonce: int, now_ms: int) -> None:
        if not now_ms - NONCE_WINDOW_MS <= nonce <= now_ms + NONCE_WINDOW_MS:
            raise sdk_error(32, f"timestamp nonce {nonce} not within valid time window")
        stale = [n for n in self.nonces if n < now_ms - NONCE_WINDOW_MS]
        self.nonces = [n for n in self.nonces if n >= now_ms - NONCE_WINDOW_MS]
        self.max_ejected = max([self.max_ejected, *stale])
        if nonce <= self.max_ejected or nonce in self.nonces:
            raise sdk_error(32, f"timestamp nonce {nonce} rejected")
        if len(self.nonces) < MAX_TIMESTAMP_NONCES:
            self.nonces.append(nonce)
            return
        oldest = min(self.nonces)
        if nonce <= oldest:
            raise sdk_error(32, f"timestamp nonce {nonce} rejected")
        self.max_ejected = oldest
        self.nonces[self.nonces.index(oldest)] = nonce


@dataclass
class Placement:
    """An order the chain accepted, as signed; ``engine_id`` is None when the chain removed it at
    once (it never reached the book)."""

    order: Order
    engine_id: str | None
    placed: float = field(default_factory=time.time)


def _text(payload: Any) -> str:
    return orjson.dumps(payload).decode()


def _num(text: str) -> str:
    """The indexer's decimal strings carry no trailing zeros: "60000.1", "0.25", "3"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _dec(value: Decimal) -> str:
    return _num(f"{value:f}")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _height(ts: float | None = None) -> int:
    return int(time.time() if ts is None else ts) - HEIGHT_EPOCH


def subaccount_uuid(owner: str, number: int) -> str:
    return str(uuid.uuid5(INDEXER_IDS, f"{owner}-{number}"))


def order_uuid(oid: OrderId) -> str:
    """The indexer's order id, which clients (ccxt too) compute the same way."""
    subaccount = subaccount_uuid(oid.owner, oid.number)
    return str(uuid.uuid5(INDEXER_IDS, f"{subaccount}-{oid.client_id}-{oid.clob_pair_id}-{oid.order_flags}"))


def validate_basic(msg: Message) -> None:
    """The message's ValidateBasic (v4-chain x/clob/types/message_place_order.go and
    message_cancel_order.go), before any state is read."""
    oid = msg.order_id
    if oid.order_flags not in (0, CONDITIONAL, LONG_TERM):
        raise TxError(3000, f"invalid order flag {oid.order_flags}")
    if isinstance(msg, CancelOrder):
        if oid.short_term and not msg.good_til_block:
            raise TxError(5, "cancellation goodTilBlock cannot be 0")
        if not oid.short_term and not msg.good_til_block_time:
            raise TxError(3001, "cancellation goodTilBlockTime cannot be 0")
        return
    if msg.side not in (1, 2):
        raise TxError(3, f"invalid order side ({msg.side})")
    if msg.time_in_force not in API_TIME_IN_FORCE:
        raise TxError(44, f"invalid time in force ({msg.time_in_force})")
    if msg.condition_type not in ORDER_TYPES:
        raise TxError(6000, f"invalid condition type ({msg.condition_type})")
    if msg.quantums == 0:
        raise TxError(4, "order size quantums cannot be 0")
    if oid.short_term and not msg.good_til_block:
        raise TxError(5, "order goodTilBlock cannot be 0")
    if not oid.short_term and not msg.good_til_block_time:
        raise TxError(3001, "stateful order goodTilBlockTime cannot be 0")
    if oid.order_flags == LONG_TERM and msg.time_in_force in (IOC, FILL_OR_KILL):
        raise TxError(3002)
    if msg.time_in_force == FILL_OR_KILL:
        raise TxError(48)
    if msg.reduce_only and msg.time_in_force != IOC:
        raise TxError(9003)
    if msg.subticks == 0:
        raise TxError(6, "order subticks cannot be 0")
    conditional = oid.order_flags == CONDITIONAL
    if conditional != bool(msg.condition_type):
        raise TxError(6000, "condition type cannot be unspecified" if conditional else "condition type specified for non-conditional order")
    if conditional != bool(msg.trigger_subticks):
        raise TxError(6001, "conditional order trigger subticks cannot be 0" if conditional
                      else "conditional order trigger subticks greater than 0 for non-conditional order")


def check_good_til(oid: OrderId, good_til_block: int, good_til_block_time: int) -> None:
    """A short-term message lives until a block at most ShortBlockWindow ahead of the next one, a
    stateful one until a time at most StatefulOrderTimeWindow ahead."""
    if oid.short_term:
        next_block = _height() + 1
        if good_til_block < next_block:
            raise TxError(10, f"GoodTilBlock {good_til_block} is less than the next block height {next_block}")
        if good_til_block > next_block + SHORT_BLOCK_WINDOW:
            raise TxError(11, f"GoodTilBlock {good_til_block} is more than {SHORT_BLOCK_WINDOW} blocks after {next_block}")
        return
    now = int(time.time())
    if good_til_block_time <= now:
        raise TxError(3003, f"GoodTilBlockTime {good_til_block_time} is not after the block time {now}")
    if good_til_block_time > now + STATEFUL_ORDER_TIME_WINDOW:
        raise TxError(3004, f"GoodTilBlockTime {good_til_block_time} is more than {STATEFUL_ORDER_TIME_WINDOW} s after {now}")


def _not_found(message: str) -> web.Response:
    return json_response({"errors": [{"msg": message}]}, status=404)


def _invalid(param: str, value: str, message: str, location: str = "query") -> web.Response:
    return json_response({"errors": [{"value": value, "msg": message, "param": param, "location": location}]}, status=400)


class DydxSim(SimVenue):
    venue = "dydx"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    ws_paths = ("/v4/ws",)
    server_ping_interval = 30.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    fills_per_tick = 3  # a block usually has several fills; only trades carry a time (latency)
    fetch_delay: tuple[float, float] = (0.005, 0.06)  # the initial-state fetch, seconds
    ccxt_id: ClassVar[str | None] = "dydx"
    ccxt_hosts = ("https://indexer.dydx.trade", "https://dydx-rest.publicnode.com", "https://dydx-ops-rpc.kingnodes.com")

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"errors": [{"msg": "Too many requests"}]}, 429, retry_after(over.wait))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.market.seed)
        self.recent: dict[str, deque[dict[str, Any]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._tasks: set[asyncio.Task[None]] = set()
        self.wallets: dict[str, Wallet] = {}  # address -> account
        self.placements: dict[str, Placement] = {}  # indexer order id -> order

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().stop()

    # ---- accounts ---------------------------------------------------------------------------

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A new chain account (secp256k1 key, ``dydx1...`` address) trading as engine ``account``.
        The chain has no key permissions (whoever holds the key trades) and no leverage setting:
        cross margin at each market's initial margin fraction."""
        self.engine.account(account)
        secret = dydx_tx.new_private_key()
        public = dydx_tx.public_key(secret)
        key = ApiKey(key=dydx_tx.address(public), secret=secret, account=account, permissions=permissions)
        self.api_keys[key.key] = key
        self.wallets[key.key] = Wallet(key, public, FIRST_ACCOUNT_NUMBER + len(self.wallets))
        for symbol in self.markets:
            self.engine.set_leverage(account, symbol, 1 / INITIAL_MARGIN_FRACTION)
        return key

    def ccxt_config(self, key: ApiKey) -> dict[str, Any]:
        """ccxt signs with ``options.privateKey`` (a hex Cosmos key) for ``walletAddress``."""
        assert self.ccxt_id is not None
        return {
            "urls": ccxt_urls(self.ccxt_id, self.ccxt_host_map(), self.ws_url),
            "options": {**self.ccxt_options, "privateKey": key.secret},
            "walletAddress": key.key,
        }

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v4/perpetualMarkets", self.perpetual_markets),
            web.get("/v4/orderbooks/perpetualMarket/{ticker}", self.orderbook),
            web.get("/v4/addresses/{address}/subaccountNumber/{number}", self.subaccount),
            web.get("/v4/orders", self.list_orders),
            web.get("/v4/orders/{order_id}", self.get_order),
            web.get("/v4/fills", self.fills),
            web.get("/cosmos/auth/v1beta1/account_info/{address}", self.account_info),
            web.get("/abci_info", self.abci_info),
            web.get("/broadcast_tx_sync", self.broadcast_tx_sync),
        ]

    async def perpetual_markets(self, request: web.Request) -> web.Response:
        wanted = request.query.get("ticker")
        listed = [s for s in self.markets if wanted in (None, self.native(s))]
        return json_response({"markets": {self.native(s): self.market_info(s) for s in listed}})

    def grid(self, symbol: str) -> tuple[int, int]:
        """(atomicResolution, subticksPerTick) as the chain sets them: one lot is one step."""
        ladder = self.ladders[symbol]
        atomic = -ladder.size_decimals - 6  # 10^6 quantums a lot
        return atomic, round(ladder.spec.tick * 10 ** (atomic - QUANTUM_CONVERSION_EXPONENT + 6))

    def amount(self, symbol: str, quantums: int) -> Decimal:
        return Decimal(quantums).scaleb(self.grid(symbol)[0])

    def price(self, symbol: str, subticks: int) -> Decimal:
        return Decimal(subticks).scaleb(QUANTUM_CONVERSION_EXPONENT - self.grid(symbol)[0] - 6)

    def oracle(self, symbol: str) -> Decimal:
        """The oracle price stands at the middle of the book."""
        ladder = self.ladders[symbol]
        best_bid, best_ask = ladder.top(True, 1), ladder.top(False, 1)
        if not (best_bid and best_ask):
            return Decimal(0)
        return Decimal(ladder.price_str((best_bid[0][0] + best_ask[0][0]) // 2))

    def market_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        atomic, subticks_per_tick = self.grid(symbol)
        return {
            "clobPairId": str(self.markets.index(symbol)),
            "ticker": self.native(symbol),
            "status": "ACTIVE",
            "oraclePrice": _dec(self.oracle(symbol)),
            "priceChange24H": "0",
            "volume24H": "0",
            "trades24H": 0,
            "nextFundingRate": "0",
            "initialMarginFraction": str(INITIAL_MARGIN_FRACTION),
            "maintenanceMarginFraction": "0.012",
            "openInterest": "0",
            # strings, not the indexer's ints: ccxt's dydx create_order needs them as strings
            "atomicResolution": str(atomic),
            "quantumConversionExponent": str(QUANTUM_CONVERSION_EXPONENT),
            "tickSize": _num(ladder.price_str(1)),
            "stepSize": _num(ladder.size_str(1)),
            "stepBaseQuantums": STEP_BASE_QUANTUMS,
            "subticksPerTick": subticks_per_tick,
            "marketType": "CROSS",
            "openInterestLowerCap": "0",
            "openInterestUpperCap": "0",
            "baseOpenInterest": "0",
            "defaultFundingRate1H": "0",
        }

    async def orderbook(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.match_info["ticker"])
        if symbol is None:
            return _invalid("ticker", request.match_info["ticker"], "ticker must be a valid ticker (BTC-USD, etc)", "params")
        return json_response(self.book_state(symbol))

    def book_state(self, symbol: str) -> dict[str, list[dict[str, str]]]:
        ladder = self.ladders[symbol]
        return {
            "bids": [self._level(ladder, p, q) for p, q in ladder.top(True, len(ladder.bids))],
            "asks": [self._level(ladder, p, q) for p, q in ladder.top(False, len(ladder.asks))],
        }

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> dict[str, str]:
        return {"price": _num(ladder.price_str(ticks)), "size": _num(ladder.size_str(lots))}

    # ---- indexer: the account's state ---------------------------------------------------------

    async def subaccount(self, request: web.Request) -> web.Response:
        address, number = request.match_info["address"], request.match_info["number"]
        wallet = self.wallets.get(address)
        if wallet is None or number != "0":
            return _not_found(f"No subaccount found with address {address} and subaccountNumber {number}")
        self.expire()
        return json_response({"subaccount": self.subaccount_json(wallet)})

    def subaccount_json(self, wallet: Wallet) -> dict[str, Any]:
        """USDC moves with every fill (buying a perpetual pays its notional); equity adds the
        positions at the oracle price; free collateral is what the engine leaves unreserved."""
        account = self.engine.account(wallet.key.account)
        positions = {s: p for (s, _), p in account.positions.items() if p.size}
        usdc = account.balances.get(QUOTE, Decimal(0)) - sum((p.size * p.entry for p in positions.values()), Decimal(0))
        equity = usdc + sum((p.size * self.oracle(s) for s, p in positions.items()), Decimal(0))
        return {
            "address": wallet.address,
            "subaccountNumber": 0,
            "equity": _dec(equity),
            "freeCollateral": _dec(equity - account.locked.get(QUOTE, Decimal(0))),
            "openPerpetualPositions": {
                self.native(s): {
                    "market": self.native(s),
                    "status": "OPEN",
                    "side": "LONG" if p.size > 0 else "SHORT",
                    "size": _dec(p.size),
                    "entryPrice": _dec(p.entry),
                    "unrealizedPnl": _dec(p.size * (self.oracle(s) - p.entry)),
                    "netFunding": "0",
                    "subaccountNumber": 0,
                }
                for s, p in positions.items()
            },
            "assetPositions": {
                "USDC": {"size": _dec(abs(usdc)), "symbol": "USDC", "side": "LONG" if usdc >= 0 else "SHORT", "assetId": "0", "subaccountNumber": 0}
            },
            "marginEnabled": True,
            "updatedAtHeight": str(_height()),
            "latestProcessedBlockHeight": str(_height()),
        }

    async def list_orders(self, request: web.Request) -> web.Response:
        """Newest goodTil first, as the indexer sorts them; ``status`` filters (comma-separated)."""
        query = request.query
        if "address" not in query or "subaccountNumber" not in query:
            missing = "address" if "address" not in query else "subaccountNumber"
            return _invalid(missing, "", f"{missing} is required")
        symbol = self.symbol_of(query["ticker"]) if "ticker" in query else None
        if "ticker" in query and symbol is None:
            return _invalid("ticker", query["ticker"], "ticker must be a valid ticker (BTC-USD, etc)")
        self.expire()
        statuses = set(query["status"].split(",")) if "status" in query else None
        listed = [
            self.order_json(oid, p)
            for oid, p in self.placements.items()
            if p.order.order_id.owner == query["address"] and str(p.order.order_id.number) == query["subaccountNumber"]
            and symbol in (None, self.order_symbol(p.order))
        ]
        listed = [o for o in listed if statuses is None or o["status"] in statuses]
        listed.sort(key=lambda o: ("goodTilBlockTime" in o, o.get("goodTilBlockTime") or int(o["goodTilBlock"])), reverse=True)
        return json_response(listed[: int(query.get("limit", "1000"))])

    async def get_order(self, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        try:
            uuid.UUID(order_id)
        except ValueError:
            return _invalid("orderId", order_id, "Invalid value", "params")
        placement = self.placements.get(order_id)
        if placement is None:
            return _not_found(f"Unable to find order id {order_id}")
        self.expire()
        return json_response(self.order_json(order_id, placement))

    async def fills(self, request: web.Request) -> web.Response:
        query = request.query
        wallet = self.wallets.get(query.get("address", ""))
        market = query.get("market")
        if market is not None and self.symbol_of(market) is None:
            return _not_found(f"{market} not found in markets of type {query.get('marketType')}")
        if wallet is None or query.get("subaccountNumber") != "0":
            return json_response({"fills": [], "pageSize": 0, "totalResults": 0, "offset": 0})
        symbol = None if market is None else self.symbol_of(market)
        mine = [
            f for f in self.engine.account_fills(wallet.key.account, symbol)
            if f.client_id in self.placements and self.placements[f.client_id].order.order_id.owner == wallet.address
        ]
        listed = [self.fill_json(f) for f in reversed(mine)][: int(query.get("limit", "1000"))]
        return json_response({"fills": listed, "pageSize": len(listed), "totalResults": len(mine), "offset": 0})

    # ---- indexer shapes -------------------------------------------------------------------------

    def order_json(self, order_id: str, placement: Placement, engine: SimOrder | None = None) -> dict[str, Any]:
        """``engine``: the order as an engine event reports it (default: as it stands now)."""
        order, symbol = placement.order, self.order_symbol(placement.order)
        engine = engine or self.engine_order(placement)
        oid = order.order_id
        filled = Decimal(0) if engine is None else engine.filled * self.engine.markets[symbol].lot
        updated = placement.placed if engine is None else engine.updated
        body: dict[str, Any] = {
            "id": order_id,
            "subaccountId": subaccount_uuid(oid.owner, oid.number),
            "clientId": str(oid.client_id),
            "clobPairId": str(oid.clob_pair_id),
            "side": "BUY" if order.side == 1 else "SELL",
            "size": _dec(self.amount(symbol, order.quantums)),
            "totalFilled": _dec(filled),
            "price": _dec(self.price(symbol, order.subticks)),
            "type": ORDER_TYPES[order.condition_type],
            "status": self.status(order, engine),
            "timeInForce": API_TIME_IN_FORCE[order.time_in_force],
            "postOnly": order.time_in_force == POST_ONLY,
            "reduceOnly": order.reduce_only,
            "orderFlags": str(oid.order_flags),
            "createdAtHeight": str(_height(placement.placed)),
            "clientMetadata": str(order.client_metadata),
            "ticker": self.native(symbol),
            "updatedAt": _iso(updated),
            "updatedAtHeight": str(_height(updated)),
            "subaccountNumber": oid.number,
        }
        if oid.short_term:
            body["goodTilBlock"] = str(order.good_til_block)
        else:
            body["goodTilBlockTime"] = _iso(order.good_til_block_time)
        if order.condition_type:
            body["triggerPrice"] = _dec(self.price(symbol, order.trigger_subticks))
        return body

    def status(self, order: Order, engine: SimOrder | None) -> str:
        if engine is not None and not engine.status.final:
            return "UNTRIGGERED" if engine.waiting else "OPEN"
        if engine is not None and engine.status is OrderStatus.FILLED:
            return "FILLED"
        # a short-term removal is final only once its goodTilBlock has passed
        if order.order_id.short_term and _height() <= order.good_til_block:
            return "BEST_EFFORT_CANCELED"
        return "CANCELED"

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        placement = self.placements[fill.client_id]
        liquidity = "TAKER" if fill.taker else "MAKER"
        return {
            "id": str(uuid.uuid5(INDEXER_IDS, f"{fill.client_id}-{fill.trade_id}-{liquidity}")),
            "side": "BUY" if fill.side is Side.BUY else "SELL",
            "liquidity": liquidity,
            "type": "LIMIT",
            "market": self.native(fill.symbol),
            "marketType": "PERPETUAL",
            "price": _dec(fill.price),
            "size": _dec(fill.amount),
            "fee": _dec(fill.fee),
            "affiliateRevShare": "0",
            "createdAt": _iso(fill.ts),
            "createdAtHeight": str(_height(fill.ts)),
            "orderId": fill.client_id,
            "clientMetadata": str(placement.order.client_metadata),
            "subaccountNumber": placement.order.order_id.number,
        }

    def subaccount_fill_json(self, fill: SimFill) -> dict[str, Any]:
        """A fill as the subaccount channel pushes it: the REST fill's fields, with the ids of the
        subaccount and the clob pair, the ticker and the quote amount."""
        oid = self.placements[fill.client_id].order.order_id
        return {
            **self.fill_json(fill),
            "subaccountId": subaccount_uuid(oid.owner, oid.number),
            "clobPairId": str(oid.clob_pair_id),
            "ticker": self.native(fill.symbol),
            "quoteAmount": _dec(fill.price * fill.amount),
        }

    # ---- node: LCD and CometBFT RPC -------------------------------------------------------------

    async def account_info(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        wallet = self.wallets.get(address)
        if wallet is None:
            return json_response({"code": 5, "message": f"account {address} not found", "details": []}, status=404)
        return json_response(
            {
                "info": {
                    "address": address,
                    "pub_key": {"@type": dydx_tx.SECP256K1_PUBKEY, "key": base64.b64encode(wallet.public_key).decode()},
                    "account_number": str(wallet.account_number),
                    "sequence": str(wallet.sequence),
                }
            }
        )

    async def abci_info(self, request: web.Request) -> web.Response:
        height = _height()
        app_hash = base64.b64encode(hashlib.sha256(str(height).encode()).digest()).decode()
        info = {"data": "dydxprotocol", "version": APP_VERSION, "last_block_height": str(height), "last_block_app_hash": app_hash}
        return json_response({"jsonrpc": "2.0", "id": -1, "result": {"response": info}})

    async def broadcast_tx_sync(self, request: web.Request) -> web.Response:
        """CometBFT's URI form: ``tx=0x<hex>``; CheckTx's verdict in ``result``."""
        param = request.query.get("tx", "")
        try:
            raw = bytes.fromhex(param[2:]) if param.startswith("0x") else None
        except ValueError:
            raw = None
        if raw is None:
            error = {"code": -32602, "message": "Invalid params", "data": "error converting http params to arguments: tx must be 0x-prefixed hex"}
            return json_response({"jsonrpc": "2.0", "id": -1, "error": error}, status=500)
        self.expire()
        code, codespace, log = 0, "", "[]"
        try:
            self.check_tx(dydx_tx.decode_tx(raw))
        except DecodeError as exc:
            code, codespace, log = 2, "sdk", f"{exc}: {SDK_ERRORS[2]}"
        except TxError as exc:
            code, codespace, log = exc.code, exc.codespace, str(exc)
        result = {"code": code, "data": "", "log": log, "codespace": codespace, "hash": dydx_tx.tx_hash(raw)}
        return json_response({"jsonrpc": "2.0", "id": -1, "result": result})

    # ---- CheckTx ----------------------------------------------------------------------------------

    def check_tx(self, tx: Tx) -> None:
        if not tx.messages:
            raise sdk_error(18, "must contain at least one message")
        for msg in tx.messages:
            validate_basic(msg)
        wallet = self.authenticate(tx)
        for msg in tx.messages:
            if isinstance(msg, Order):
                self.place(wallet, msg)
            else:
                self.cancel(msg)

    def authenticate(self, tx: Tx) -> Wallet:
        """The ante handler: signer account, public key, sequence (skipped when every message is
        short-term: goodTilBlock protects against replay), then the signature."""
        if not tx.signatures:
            raise sdk_error(15)
        owners = {m.order_id.owner for m in tx.messages}
        if len(owners) != 1 or len(tx.signatures) != 1 or len(tx.signers) != 1:
            raise sdk_error(4, f"invalid number of signer;  expected: {len(owners)}, got {len(tx.signatures)}")
        owner, signer = owners.pop(), tx.signers[0]
        wallet = self.wallets.get(owner)
        if wallet is None:
            raise sdk_error(9, f"account {owner} does not exist")
        if signer.key_type != dydx_tx.SECP256K1_PUBKEY or dydx_tx.address(signer.public_key) != owner:
            raise sdk_error(8, f"pubKey does not match signer address {owner} with signer index: 0")
        if not all(m.order_id.short_term for m in tx.messages):
            self.check_sequence(wallet, signer.sequence)
        signed = dydx_tx.sign_doc(tx, CHAIN_ID, wallet.account_number)
        if signer.sign_mode != dydx_tx.SIGN_MODE_DIRECT or not dydx_tx.verify(wallet.public_key, tx.signatures[0], signed):
            detail = f"signature verification failed; please verify account number ({wallet.account_number}) and chain-id ({CHAIN_ID})"
            raise sdk_error(4, f"{detail}: (unable to verify single signer signature)")
        return wallet

    def check_sequence(self, wallet: Wallet, sequence: int) -> None:
        if sequence >= TIMESTAMP_NONCE_CUTOFF:
            wallet.take_nonce(sequence, int(time.time() * 1000))
        elif sequence == wallet.sequence:
            wallet.sequence += 1
        else:
            raise sdk_error(32, f"account sequence mismatch, expected {wallet.sequence}, got {sequence}")

    def place(self, wallet: Wallet, order: Order) -> None:
        oid = order.order_id
        symbol = self.clob_symbol(oid.clob_pair_id)
        self.check_grid(symbol, order)
        check_good_til(oid, order.good_til_block, order.good_til_block_time)
        if order.condition_type == TAKE_PROFIT:
            raise TxError(9002, "take-profit orders are not simulated")
        order_id = order_uuid(oid)
        if order_id in self.placements:
            raise TxError(20) if oid.short_term else TxError(3005)
        # registered first: the engine's events for the order (accepted, filled) stream at once
        placement = self.placements[order_id] = Placement(order, None)
        try:
            if oid.number != 0:
                raise Reject("insufficient_balance", "the simulator funds subaccount 0 only")
            placement.engine_id = self.submit(wallet.key.account, symbol, order, order_id).order_id
        except Reject as exc:
            if exc.reason in REMOVALS and (exc.reason != "insufficient_balance" or oid.short_term):
                return
            del self.placements[order_id]
            if exc.reason == "insufficient_balance":
                raise TxError(3007, f"PlaceStatefulOrder: order ({order_id}), result (NewlyUndercollateralized)") from None
            raise TxError(12, str(exc)) from None

    def submit(self, account: str, symbol: str, order: Order, order_id: str) -> SimOrder:
        conditional = order.condition_type == STOP_LOSS
        return self.engine.submit(
            account,
            symbol,
            Side.BUY if order.side == 1 else Side.SELL,
            OrderType.STOP_LIMIT if conditional else OrderType.LIMIT,
            self.amount(symbol, order.quantums),
            self.price(symbol, order.subticks),
            stop_price=self.price(symbol, order.trigger_subticks) if conditional else None,
            tif=TimeInForce.IOC if order.time_in_force == IOC else TimeInForce.GTC,
            post_only=order.time_in_force == POST_ONLY,
            reduce_only=order.reduce_only,
            client_id=order_id,
        )

    def cancel(self, msg: CancelOrder) -> None:
        oid = msg.order_id
        self.clob_symbol(oid.clob_pair_id)
        check_good_til(oid, msg.good_til_block, msg.good_til_block_time)
        order_id = order_uuid(oid)
        placement = self.placements.get(order_id)
        engine = None if placement is None else self.engine_order(placement)
        if engine is None or engine.status.final:
            if oid.short_term:
                return  # the memclob keeps a short-term cancel even for an order it does not hold
            raise TxError(3006, f"Order Id to cancel does not exist. OrderId : {order_id}")
        self.engine.cancel(engine.account, engine.order_id)

    def clob_symbol(self, clob_pair_id: int) -> str:
        if clob_pair_id >= len(self.markets):
            raise TxError(8, f"Clob {clob_pair_id} is not a valid clob")
        return self.markets[clob_pair_id]

    def order_symbol(self, order: Order) -> str:
        return self.markets[order.order_id.clob_pair_id]

    def engine_order(self, placement: Placement) -> SimOrder | None:
        return None if placement.engine_id is None else self.engine.orders[placement.engine_id]

    def check_grid(self, symbol: str, order: Order) -> None:
        subticks_per_tick = self.grid(symbol)[1]
        if order.quantums % STEP_BASE_QUANTUMS:
            raise TxError(12, f"Order Quantums {order.quantums} must be a multiple of the ClobPair's StepBaseQuantums {STEP_BASE_QUANTUMS}")
        for what, value in (("subticks", order.subticks), ("conditional order trigger subticks", order.trigger_subticks)):
            if value % subticks_per_tick:
                raise TxError(12, f"Order {what} {value} must be a multiple of the ClobPair's SubticksPerTick {subticks_per_tick}")

    def expire(self) -> None:
        """Orders whose goodTilBlock or goodTilBlockTime has passed leave the book."""
        height, now = _height(), time.time()
        for placement in self.placements.values():
            engine, order = self.engine_order(placement), placement.order
            passed = order.good_til_block < height if order.order_id.short_term else order.good_til_block_time < now
            if engine is not None and passed and not engine.status.final:
                self.engine.cancel(engine.account, engine.order_id)

    # ---- WebSocket: requests ----------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["connection_id"] = str(uuid.uuid4())
        conn.state["message_id"] = 0
        conn.state["subscribes"] = {}  # channel + id -> (window start, subscribes in it)
        conn.send(_text({"type": "connected", "connection_id": conn.state["connection_id"], "message_id": 0}))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._error(conn, "Invalid message: could not parse", conn.state["message_id"])
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if not kind:
            self._error(conn, "Invalid message: type is required", conn.state["message_id"])
        elif kind == "ping":
            self.client_pings += 1  # the indexer accepts these and answers nothing
        elif kind not in ("subscribe", "unsubscribe"):
            self._error(conn, f"Invalid message type: {kind}", conn.state["message_id"])
        elif self._valid_request(conn, msg):
            if kind == "subscribe" and msg["channel"] == SUBACCOUNTS:
                self._subscribe_subaccount(conn, msg["id"])
            elif kind == "subscribe":
                self._subscribe(conn, msg["channel"], msg["id"], bool(msg.get("batched")))
            else:
                self._unsubscribe(conn, msg["channel"], msg["id"])

    def _valid_request(self, conn: SimConnection, msg: dict[str, Any]) -> bool:
        channel = msg.get("channel")
        if not channel:
            problem = "Invalid subscribe message: channel is required"
        elif channel not in CHANNELS:
            problem = f"Invalid channel: {channel}"
        elif not isinstance(msg.get("id"), str):
            problem = f"Invalid id: {msg.get('id')}"
        else:
            return True
        self._error(conn, problem, conn.state["message_id"])
        return False

    def _subscribe(self, conn: SimConnection, channel: str, ticker: str, batched: bool) -> None:
        mid = self._next_id(conn)
        symbol = self.symbol_of(ticker)
        if symbol is None:
            self._error(conn, f"Invalid subscription id for channel: ({channel}-{ticker})", mid)
        elif self._rate_limited(conn, channel + ticker):
            self._error(conn, f"Too many subscribe attempts for channel {channel}-{ticker}. Please reconnect and try again.", mid)
            self._spawn(self._close_rate_limited(conn))
        else:
            self._spawn(self._answer_subscribe(conn, symbol, channel, batched, mid))

    def _rate_limited(self, conn: SimConnection, key: str) -> bool:
        now = time.time()
        start, points = conn.state["subscribes"].get(key, (None, 0))
        if start is not None and now - start < SUBSCRIBE_WINDOW:
            conn.state["subscribes"][key] = (start, points + 1)
            return points + 1 > SUBSCRIBE_POINTS
        conn.state["subscribes"][key] = (now, 1)
        return False

    async def _close_rate_limited(self, conn: SimConnection) -> None:
        await asyncio.sleep(0.05)  # let the error frame go out first
        await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b'{"message":"Rate limited"}')

    async def _answer_subscribe(self, conn: SimConnection, symbol: str, channel: str, batched: bool, mid: int) -> None:
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        ticker = self.native(symbol)
        channels: dict[str, bool] = conn.subs.setdefault(symbol, {})
        if channel in channels:
            self._error(conn, f"Invalid subscribe message: already subscribed ({channel}-{ticker})", mid)
            return
        channels[channel] = batched
        contents = self.book_state(symbol) if channel == BOOK else {"trades": list(self.recent[symbol])}
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid, "channel": channel, "id": ticker, "contents": contents}))

    # ---- WebSocket: the subaccount channel -----------------------------------------------------

    def _subscribe_subaccount(self, conn: SimConnection, subaccount_id: str) -> None:
        """``{address}/{subaccountNumber}``: no signature, the address is public (the indexer
        streams any subaccount to anyone)."""
        mid = self._next_id(conn)
        address, _, number = subaccount_id.partition("/")
        wallet = self.wallets.get(address)
        if wallet is None or number != "0":
            self._error(conn, f"Invalid subscription id for channel: ({SUBACCOUNTS}-{subaccount_id})", mid)
        elif conn.state.get(SUBACCOUNTS) is not None:
            self._error(conn, f"Invalid subscribe message: already subscribed ({SUBACCOUNTS}-{subaccount_id})", mid)
        else:
            self._spawn(self._answer_subaccount(conn, wallet, subaccount_id, mid))

    async def _answer_subaccount(self, conn: SimConnection, wallet: Wallet, subaccount_id: str, mid: int) -> None:
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        self.expire()
        orders = [self.order_json(oid, p) for oid, p in self.placements.items() if p.order.order_id.owner == wallet.address]
        contents = {
            "subaccount": self.subaccount_json(wallet),
            "orders": [o for o in orders if o["status"] in ("OPEN", "UNTRIGGERED")],
            "blockHeight": str(_height()),
        }
        conn.state[SUBACCOUNTS] = subaccount_id
        conn.account = wallet.key.account
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid,
                         "channel": SUBACCOUNTS, "id": subaccount_id, "contents": contents}))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get(SUBACCOUNTS) for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The order as it now stands and, for a fill, the fill: one ``channel_data`` (the indexer
        sends a block's updates of a subaccount together)."""
        placement = self.placements.get(event.order.client_id)
        subaccount_id = conn.state.get(SUBACCOUNTS)
        if placement is None or subaccount_id is None:
            return []
        contents: dict[str, Any] = {"orders": [self.order_json(event.order.client_id, placement, event.order)]}
        if event.fill is not None:
            contents["fills"] = [self.subaccount_fill_json(event.fill)]
        contents["blockHeight"] = str(_height())
        return [self._message(conn, "channel_data", SUBACCOUNTS, subaccount_id, SUBACCOUNTS_VERSION, contents)]

    def _unsubscribe(self, conn: SimConnection, channel: str, ticker: str) -> None:
        if channel == SUBACCOUNTS and conn.state.get(SUBACCOUNTS) == ticker:
            conn.state[SUBACCOUNTS] = None
            conn.account = None
        symbol = self.symbol_of(ticker)
        if symbol is not None and symbol in conn.subs:
            conn.subs[symbol].pop(channel, None)
            if not conn.subs[symbol]:
                del conn.subs[symbol]
        mid = self._next_id(conn)
        conn.send(_text({"type": "unsubscribed", "connection_id": conn.state["connection_id"], "message_id": mid, "channel": channel, "id": ticker}))

    def _error(self, conn: SimConnection, message: str, mid: int) -> None:
        conn.send(_text({"type": "error", "message": message, "connection_id": conn.state["connection_id"], "message_id": mid}))

    def _next_id(self, conn: SimConnection) -> int:
        conn.state["message_id"] += 1
        return int(conn.state["message_id"])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- WebSocket: market data -------------------------------------------------------------

    def encode(self, symbol: str, changes: list[Change]) -> tuple[Levels, Levels, bool]:
        """This tick's levels per side and whether the skip fault takes an id; message ids are
        per connection, so ``frames_for`` frames them."""
        ladder = self.ladders[symbol]
        bids = [self._pair(ladder, p, q) for is_bid, p, q in changes if is_bid]
        asks = [self._pair(ladder, p, q) for is_bid, p, q in changes if not is_bid]
        return bids, asks, self.faults.take("skip", symbol)

    def _pair(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [_num(ladder.price_str(ticks)), _num(ladder.size_str(lots)) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[Levels, Levels, bool]) -> list[Frame]:
        bids, asks, skip = encoded
        if skip:
            conn.state["message_id"] += 1  # an id spent on a message this connection never gets
        channels: dict[str, bool] = conn.subs[symbol]
        if BOOK not in channels:
            return []
        updates = ([{"bids": bids}] if bids else []) + ([{"asks": asks}] if asks else [])
        return self._data(conn, BOOK, self.native(symbol), BOOK_VERSION, updates, channels[BOOK])

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[dict[str, Any]]) -> list[Frame]:
        channels: dict[str, bool] = conn.subs[symbol]
        if TRADES not in channels or not encoded:
            return []
        return self._data(conn, TRADES, self.native(symbol), TRADES_VERSION, [{"trades": encoded}], channels[TRADES])

    def _data(self, conn: SimConnection, channel: str, ticker: str, version: str, updates: list[dict[str, Any]], batched: bool) -> list[Frame]:
        """A batched subscription gets the updates in one ``channel_batch_data``, others one
        ``channel_data`` each."""
        if batched:
            return [self._message(conn, "channel_batch_data", channel, ticker, version, updates)] if updates else []
        return [self._message(conn, "channel_data", channel, ticker, version, contents) for contents in updates]

    def _message(self, conn: SimConnection, kind: str, channel: str, ticker: str, version: str, contents: Any) -> str:
        mid = self._next_id(conn)
        return _text({"type": kind, "connection_id": conn.state["connection_id"], "message_id": mid, "id": ticker, "channel": channel, "version": version, "contents": contents})

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> list[dict[str, Any]]:
        """A block's fills, published together in one trades message per connection."""
        ladder = self.ladders[symbol]
        out = []
        for t in trades:
            trade = {
                "id": str(uuid.uuid5(INDEXER_IDS, f"{symbol}:{t.trade_id}")),
                "side": "BUY" if t.buy else "SELL",
                "size": _num(ladder.size_str(t.lots)),
                "price": _num(ladder.price_str(t.ticks)),
                "type": "LIMIT",
                "createdAt": _iso(time.time()),
                "createdAtHeight": str(_height()),
            }
            out.append(trade)
            self.recent[symbol].appendleft(trade)  # newest first, as the indexer lists them
        return out


SIMS: dict[str, type[SimVenue]] = {
    "dydx": DydxSim,
}
