"""The venue contract: one typed :class:`VenueSpec` per venue (``SPEC`` in ``venues/<id>.py``) and
the table types it is made of (fees, limits, client-id rule, capabilities, hooks).

This package is the lowest layer with ``model``, ``symbols`` and ``errors``: it imports nothing
else of crossbook, so every layer above (book, feeds, the venue modules, trading, routing, the
simulators) can read a SPEC without importing a layer that imports it back. A SPEC is generic in
its feed handler class, which lives in the layer above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from ...errors import ConfigError
from ...model import OrderStatus
from .capabilities import VenueCapabilities
from .client_ids import ClientIdRule
from .fees import FeeSchedule
from .funding import FundingSpec
from .hooks import (
    CancelOco,
    FetchKeyPermissions,
    FetchMyTrades,
    FetchOco,
    FindOco,
    PlaceOco,
    PrivateSourceFactory,
    StreamTrade,
    SubAccountTransfer,
)
from .limits import LimitTable
from .withdrawals import WithdrawalRules

FeedT = TypeVar("FeedT")

VenueKind = Literal["cex", "dex"]


@dataclass(frozen=True, slots=True)
class VenueSpec(Generic[FeedT]):
    """Everything crossbook knows about one venue, in one place.

    ``feeds`` maps a feed id (``binance``, ``binanceusdm``) to its handler class, the primary (spot)
    feed first. ``fees`` is the only place the venue's fee numbers are written: the feed handlers'
    books, the router and the simulators read it. ``order_endpoint`` is the request an unmodified
    ccxt client places a spot order with ("POST /api/v3/order"; dYdX: its order transaction), whose
    rate-limit headroom the router asks for. The hooks (typed in ``hooks.py``) are for what ccxt does not
    do on the venue; a hook left None is a feature crossbook refuses there.
    """

    venue: str
    kind: VenueKind
    tier: int | None  # 1 to 3 for the exchanges (DESIGN.md); None for an on-chain venue
    client_id: ClientIdRule
    capabilities: VenueCapabilities
    feeds: Mapping[str, FeedT] = field(default_factory=dict)
    ccxt_id: str | None = None  # the venue's spot (primary) ccxt client; None: no ccxt client
    perp_ccxt_options: Mapping[str, Any] = field(default_factory=dict)  # ccxt options reading perpetuals
    # ccxt's quote currency -> the venue's, where ccxt names a market's quote by its settle
    # currency (dYdX's BTC-USD perpetual, settled in USDC, is ccxt's BTC/USDC:USDC)
    ccxt_quotes: Mapping[str, str] = field(default_factory=dict)
    # market orders go out with a worst price this many bps past the reference (the venue has no
    # price-less market order: dYdX's is an IOC at a slippage-bounded price); None: no price sent
    market_price_bps: int | None = None
    fees: FeeSchedule | None = None  # None: set per pool or route (a DEX)
    limits: LimitTable | None = None  # None: no REST limits crossbook paces
    order_endpoint: str = ""  # "METHOD /path"
    unparsed_statuses: Mapping[str, OrderStatus] = field(default_factory=dict)  # raw statuses ccxt passes through
    # the venue amends an order in place and its amend reply names the amend, not the order
    # (Kraken's AmendOrder answers an amend_id, which ccxt reports as the order's id): the order
    # keeps its id; otherwise the id ccxt's edit_order reports is the order's from then on
    amend_keeps_order_id: bool = False
    fetch_my_trades: FetchMyTrades | None = None
    stream_trade: StreamTrade | None = None
    private_source: PrivateSourceFactory | None = None
    place_oco: PlaceOco | None = None  # None: crossbook places no OCO there
    # where the OCO's legs are triggers until one fires (OKX's algo order): read and cancel it whole
    fetch_oco: FetchOco | None = None
    cancel_oco: CancelOco | None = None
    find_oco: FindOco | None = None  # such an OCO by its client id (after its placement went unanswered)
    transfer: SubAccountTransfer | None = None  # None: crossbook moves nothing between its sub-accounts
    # what an API key may do, from the venue's key-information endpoint; None: the venue has none
    key_permissions: FetchKeyPermissions | None = None
    withdrawals: WithdrawalRules | None = None  # None: crossbook withdraws nothing there
    funding: FundingSpec = field(default_factory=FundingSpec)  # how its perpetuals' funding is read

    def __post_init__(self) -> None:
        named = [("capabilities", self.capabilities.venue), ("client id rule", self.client_id.venue)]
        if self.fees is not None:
            named.append(("fee schedule", self.fees.venue))
        if self.limits is not None:
            named.append(("limit table", self.limits.venue))
        for what, venue in named:
            if venue != self.venue:
                raise ConfigError(f"{self.venue} SPEC: its {what} is {venue!r}'s")
        if self.order_endpoint and len(self.order_endpoint.split(" ")) != 2:
            raise ConfigError(f"{self.venue} SPEC: order endpoint {self.order_endpoint!r} is not 'METHOD /path'")

    @property
    def order_request(self) -> tuple[str, str]:
        """(method, path) of ``order_endpoint``."""
        if not self.order_endpoint:
            raise ConfigError(f"{self.venue} places no order over REST")
        method, path = self.order_endpoint.split(" ", 1)
        return method, path

    def schedule(self) -> FeeSchedule:
        """The venue's fee schedule; ConfigError naming the venue where fees are set per pool."""
        if self.fees is None:
            raise ConfigError(f"{self.venue} has no fee schedule: its fee is set per pool or route")
        return self.fees

    def limit_table(self) -> LimitTable:
        """The venue's REST limits; ConfigError naming the venue where there are none."""
        if self.limits is None:
            raise ConfigError(f"{self.venue} has no REST limit table")
        return self.limits
