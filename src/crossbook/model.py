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
    OPTION = "option"


class OptionRight(str, Enum):
    CALL = "C"
    PUT = "P"


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
    # options: the strike (in ``quote``), call or put, the asset it settles in, and whether its
    # price is quoted in the base asset (OKX's coin-margined options: 0.0125 BTC per contract unit)
    strike: float | None = None
    right: OptionRight | None = None
    settle: str | None = None
    premium_in_base: bool = False
    funding_hours: float | None = None  # a perpetual's hours between fundings, where its listing says


@dataclass(frozen=True, slots=True)
class Trade:
    venue: str
    symbol: str
    price: float
    amount: float
    side: Side
    ts: float
    trade_id: str = ""


# ---- market data beyond the book ----------------------------------------------------------

SECONDS_PER_YEAR = 365 * 24 * 3600


class Interval(str, Enum):
    """A candle's length, crossbook's names (each venue's own are mapped in its spec)."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return {"m": 60, "h": 3600, "d": 86400}[self.value[-1]] * int(self.value[:-1])

    def open_of(self, ts: float) -> float:
        """The open time of the candle ``ts`` falls in (candles start on multiples of their length, UTC)."""
        return ts - ts % self.seconds


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLC of ``interval`` from ``open_time`` (epoch seconds); ``volume`` in base units,
    ``quote_volume`` in quote units where the venue publishes it; ``closed``: final, or still forming."""

    venue: str
    symbol: str
    interval: Interval
    open_time: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None = None
    closed: bool = True


@dataclass(frozen=True, slots=True)
class Ticker:
    """The rolling 24 hours: open, high, low, last; volume in base and quote units; the touch where
    the venue's ticker carries it."""

    venue: str
    symbol: str
    ts: float
    open: float | None
    high: float | None
    low: float | None
    last: float
    volume: float | None
    quote_volume: float | None
    bid: float | None = None
    ask: float | None = None


@dataclass(frozen=True, slots=True)
class FundingRate:
    """A perpetual's funding: the ``rate`` of the period that ends at ``next_time`` (epoch seconds),
    ``predicted`` the next period's where published, paid every ``interval_hours``."""

    venue: str
    symbol: str
    ts: float
    rate: float
    next_time: float | None
    interval_hours: float = 8.0
    predicted: float | None = None

    @property
    def annualized(self) -> float:
        """The rate as a yearly rate: paid every ``interval_hours``, simple (not compounded)."""
        return self.rate * SECONDS_PER_YEAR / (self.interval_hours * 3600)


@dataclass(frozen=True, slots=True)
class MarkPrice:
    venue: str
    symbol: str
    ts: float
    price: float


@dataclass(frozen=True, slots=True)
class IndexPrice:
    venue: str
    symbol: str
    ts: float
    price: float


@dataclass(frozen=True, slots=True)
class OptionMark:
    """An option's mark as its venue publishes it: ``mark`` in the option's own price unit (the
    base asset where the instrument's ``premium_in_base``), ``underlying`` the forward or index
    price it was marked from, volatilities annualized (0.55 is 55 %), greeks per unit of
    underlying (``vega`` per 1.00 of vol, ``theta`` per day); None where the venue publishes none."""

    venue: str
    symbol: str
    ts: float
    mark: float
    underlying: float | None = None
    iv: float | None = None
    bid_iv: float | None = None
    ask_iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None


@dataclass(frozen=True, slots=True)
class OpenInterest:
    """Open contracts of a derivative, in base units (``value``: in quote units where published)."""

    venue: str
    symbol: str
    ts: float
    amount: float
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Liquidation:
    """A forced order the venue published: ``side`` is the liquidated order's (a long is sold)."""

    venue: str
    symbol: str
    ts: float
    side: Side
    price: float
    amount: float


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
