"""Dydx's wire vocabulary for the simulator: constants, codes, JSON and signing helpers."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ...access import ApiKey
from ...server import json_response
from ..dydx_tx import CancelOrder, Message, Order, OrderId
from .errors import clob_error, sdk_error

BOOK = "v4_orderbook"


TRADES = "v4_trades"


SUBACCOUNTS = "v4_subaccounts"


MARKETS = "v4_markets"  # every market, subscribed without an id


CANDLES = "v4_candles"  # id "BTC-USD/1MIN"


CHANNELS = (BOOK, TRADES, SUBACCOUNTS, MARKETS, CANDLES)


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


Levels = list[list[str]]


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
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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
        raise clob_error(3000, f"invalid order flag {oid.order_flags}")
    if isinstance(msg, CancelOrder):
        if oid.short_term and not msg.good_til_block:
            raise clob_error(5, "cancellation goodTilBlock cannot be 0")
        if not oid.short_term and not msg.good_til_block_time:
            raise clob_error(3001, "cancellation goodTilBlockTime cannot be 0")
        return
    if msg.side not in (1, 2):
        raise clob_error(3, f"invalid order side ({msg.side})")
    if msg.time_in_force not in API_TIME_IN_FORCE:
        raise clob_error(44, f"invalid time in force ({msg.time_in_force})")
    if msg.condition_type not in ORDER_TYPES:
        raise clob_error(6000, f"invalid condition type ({msg.condition_type})")
    if msg.quantums == 0:
        raise clob_error(4, "order size quantums cannot be 0")
    if oid.short_term and not msg.good_til_block:
        raise clob_error(5, "order goodTilBlock cannot be 0")
    if not oid.short_term and not msg.good_til_block_time:
        raise clob_error(3001, "stateful order goodTilBlockTime cannot be 0")
    if oid.order_flags == LONG_TERM and msg.time_in_force in (IOC, FILL_OR_KILL):
        raise clob_error(3002)
    if msg.time_in_force == FILL_OR_KILL:
        raise clob_error(48)
    if msg.reduce_only and msg.time_in_force != IOC:
        raise clob_error(9003)
    if msg.subticks == 0:
        raise clob_error(6, "order subticks cannot be 0")
    conditional = oid.order_flags == CONDITIONAL
    if conditional != bool(msg.condition_type):
        raise clob_error(6000, "condition type cannot be unspecified" if conditional
                         else "condition type specified for non-conditional order")
    if conditional != bool(msg.trigger_subticks):
        raise clob_error(6001, "conditional order trigger subticks cannot be 0" if conditional
                      else "conditional order trigger subticks greater than 0 for non-conditional order")


def check_good_til(oid: OrderId, good_til_block: int, good_til_block_time: int) -> None:
    """A short-term message lives until a block at most ShortBlockWindow ahead of the next one, a
    stateful one until a time at most StatefulOrderTimeWindow ahead."""
    if oid.short_term:
        next_block = _height() + 1
        if good_til_block < next_block:
            raise clob_error(10, f"GoodTilBlock {good_til_block} is less than the next block height {next_block}")
        if good_til_block > next_block + SHORT_BLOCK_WINDOW:
            raise clob_error(11, f"GoodTilBlock {good_til_block} is more than {SHORT_BLOCK_WINDOW} blocks after {next_block}")
        return
    now = int(time.time())
    if good_til_block_time <= now:
        raise clob_error(3003, f"GoodTilBlockTime {good_til_block_time} is not after the block time {now}")
    if good_til_block_time > now + STATEFUL_ORDER_TIME_WINDOW:
        raise clob_error(3004, f"GoodTilBlockTime {good_til_block_time} is more than {STATEFUL_ORDER_TIME_WINDOW} s after {now}")


def _not_found(message: str) -> web.Response:
    return json_response({"errors": [{"msg": message}]}, status=404)


def _invalid(param: str, value: str, message: str, location: str = "query") -> web.Response:
    return json_response({"errors": [{"value": value, "msg": message, "param": param, "location": location}]}, status=400)
