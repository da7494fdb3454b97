"""Value types shared across crossbook."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"


class Kind(str, Enum):
    SPOT = "spot"
    PERP = "perp"
    FUTURE = "future"


class BookState(str, Enum):
    SYNCING = "syncing"
    LIVE = "live"
    RESYNCING = "resyncing"
    STALE = "stale"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable market on one venue, keyed both ways: standard symbol and native id."""

    venue: str
    native: str
    symbol: str
    base: str
    quote: str
    kind: Kind = Kind.SPOT
    tick: float = 0.0
    lot: float = 0.0
    expiry: str | None = None
    # The unit of the feed's book sizes: contracts worth ``contract_size`` base units, or, when
    # ``inverse``, ``contract_size`` quote units (a 100 USD BTC contract). 1.0 = base units.
    contract_size: float = 1.0
    inverse: bool = False


@dataclass(frozen=True, slots=True)
class Trade:
    venue: str
    symbol: str
    price: float
    amount: float
    side: Side
    ts: float
    trade_id: str = ""


# ---- trading ------------------------------------------------------------------------------


class OrderType(str, Enum):
    LIMIT = "limit"
    MARKET = "market"
    STOP = "stop"  # a market order once the trigger trades
    STOP_LIMIT = "stop_limit"  # a limit order once the trigger trades


class TimeInForce(str, Enum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class PositionSide(str, Enum):
    """Hedge mode keeps a long and a short position per instrument; one-way mode has BOTH."""

    BOTH = "both"
    LONG = "long"
    SHORT = "short"


class MarginMode(str, Enum):
    CROSS = "cross"
    ISOLATED = "isolated"


class OrderStatus(str, Enum):
    INTENT = "intent"  # journaled, not yet sent
    SENT = "sent"  # sent, no answer yet (or the answer was lost)
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a strategy asks for, in standard symbols and Decimals; validated and quantized to the
    venue's tick and lot before anything is sent."""

    venue: str
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None = None  # limit price (LIMIT, STOP_LIMIT)
    stop_price: Decimal | None = None  # trigger (STOP, STOP_LIMIT)
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    iceberg_visible: Decimal | None = None  # shown slice of an iceberg order
    take_profit: Decimal | None = None  # attached TP trigger price
    stop_loss: Decimal | None = None  # attached SL trigger price
    position_side: PositionSide = PositionSide.BOTH
    margin_mode: MarginMode | None = None
    leverage: Decimal | None = None
    account: str = "main"  # the sub-account (one per strategy)
    client_order_id: str | None = None
    strategy: str | None = None  # the strategy asking: sent only through its own sub-account (None: an operator's)


@dataclass(frozen=True, slots=True)
class Fill:
    venue: str
    symbol: str
    client_order_id: str
    venue_order_id: str
    trade_id: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    taker: bool
    ts: float
