"""The capability matrix: what each venue offers and what crossbook supports there today.

Each venue's SPEC carries a :class:`VenueCapabilities` table. Two columns are kept apart on purpose:

- ``offered``: the venue itself offers the product or feature through its API;
- crossbook's own support: market data per product where crossbook has a feed for it
  (``feeds``, keys of the SPEC's feeds), and ``crossbook`` for trading: the products and order
  features the SPEC lists as traded by crossbook (what the trading layer sends and has placed on
  the venue's simulator: tests/trading/test_crossbook_trades.py places every one), where the venue
  offers them (:meth:`VenueCapabilities.traded`).

Order validation consults ``offered`` (:meth:`VenueCapabilities.require`), so an order asking for
something the venue cannot do fails before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from ...errors import UnsupportedFeature
from ...model import PositionSide


class Product(str, Enum):
    SPOT = "spot"
    MARGIN = "margin"  # spot bought or sold on borrowed funds; trades the spot book
    LINEAR_PERP = "linear_perp"
    INVERSE_PERP = "inverse_perp"
    FUTURES = "futures"  # dated futures, linear or inverse
    OPTIONS = "options"

    @property
    def label(self) -> str:
        return _PRODUCT_LABELS[self]

    @property
    def derivative(self) -> bool:
        return self in DERIVATIVES


DERIVATIVES: frozenset[Product] = frozenset(
    {Product.LINEAR_PERP, Product.INVERSE_PERP, Product.FUTURES, Product.OPTIONS}
)
PERPETUALS: frozenset[Product] = frozenset({Product.LINEAR_PERP, Product.INVERSE_PERP})
CONTRACTS: frozenset[Product] = PERPETUALS | {Product.FUTURES}
SPOT_BOOK: frozenset[Product] = frozenset({Product.SPOT, Product.MARGIN})

_PRODUCT_LABELS = {
    Product.SPOT: "spot",
    Product.MARGIN: "margin",
    Product.LINEAR_PERP: "linear perpetuals",
    Product.INVERSE_PERP: "inverse perpetuals",
    Product.FUTURES: "dated futures",
    Product.OPTIONS: "options",
}


class Feature(str, Enum):
    # order types and flags
    LIMIT = "limit"
    MARKET = "market"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    POST_ONLY = "post_only"
    IOC = "ioc"
    FOK = "fok"
    REDUCE_ONLY = "reduce_only"
    ICEBERG = "iceberg"
    OCO = "oco"
    TP_SL = "tp_sl"
    # account
    HEDGE_MODE = "hedge_mode"
    CROSS_MARGIN = "cross_margin"
    ISOLATED_MARGIN = "isolated_margin"
    UNIFIED_ACCOUNT = "unified_account"
    PORTFOLIO_MARGIN = "portfolio_margin"
    SUB_ACCOUNTS = "sub_accounts"
    TESTNET = "testnet"
    KEY_PERMISSIONS = "key_permissions"  # an endpoint saying what the calling API key may do

    @property
    def label(self) -> str:
        return _FEATURE_LABELS[self]


_FEATURE_LABELS = {
    Feature.LIMIT: "limit orders",
    Feature.MARKET: "market orders",
    Feature.STOP: "stop (stop-market) orders",
    Feature.STOP_LIMIT: "stop-limit orders",
    Feature.POST_ONLY: "post-only orders",
    Feature.IOC: "immediate-or-cancel orders",
    Feature.FOK: "fill-or-kill orders",
    Feature.REDUCE_ONLY: "reduce-only orders",
    Feature.ICEBERG: "iceberg orders",
    Feature.OCO: "OCO orders",
    Feature.TP_SL: "take-profit/stop-loss attached to an order",
    Feature.HEDGE_MODE: "hedge mode",
    Feature.CROSS_MARGIN: "cross margin",
    Feature.ISOLATED_MARGIN: "isolated margin",
    Feature.UNIFIED_ACCOUNT: "a unified account",
    Feature.PORTFOLIO_MARGIN: "portfolio margin",
    Feature.SUB_ACCOUNTS: "sub-accounts",
    Feature.TESTNET: "a testnet",
    Feature.KEY_PERMISSIONS: "a key-permission endpoint (what the calling API key may do)",
}

ORDER_FEATURES: tuple[Feature, ...] = (
    Feature.LIMIT,
    Feature.MARKET,
    Feature.STOP,
    Feature.STOP_LIMIT,
    Feature.POST_ONLY,
    Feature.IOC,
    Feature.FOK,
    Feature.REDUCE_ONLY,
    Feature.ICEBERG,
    Feature.OCO,
    Feature.TP_SL,
)
ACCOUNT_FEATURES: tuple[Feature, ...] = tuple(f for f in Feature if f not in ORDER_FEATURES)


@dataclass(frozen=True, slots=True)
class Support:
    """One cell of the matrix."""

    offered: bool  # the venue offers it through its API
    crossbook: bool = False  # crossbook trades it today (set by VenueCapabilities.traded)
    only: frozenset[Product] = field(default_factory=frozenset)  # offered on these products only; empty: all
    feeds: tuple[str, ...] = ()  # products: crossbook's market-data feeds for it (the SPEC's feed ids)
    note: str = ""  # the source, or what the yes/no leaves out

    @classmethod
    def yes(
        cls, note: str = "", *, only: Iterable[Product] = (), feeds: tuple[str, ...] = (), crossbook: bool = False
    ) -> Support:
        return cls(True, crossbook, frozenset(only), feeds, note)

    @classmethod
    def no(cls, note: str = "") -> Support:
        return cls(False, note=note)

    def offered_on(self, product: Product) -> bool:
        return self.offered and (not self.only or product in self.only)

    @property
    def market_data(self) -> bool:
        return bool(self.feeds)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"offered": self.offered, "crossbook_trading": self.crossbook}
        if self.only:
            out["only"] = [p.value for p in Product if p in self.only]
        if self.feeds:
            out["feeds"] = list(self.feeds)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class IcebergParam:
    """How the venue's ccxt client takes an iceberg: ``visible`` names the create_order param that
    carries the shown amount, ``flags`` go with it (KuCoin's ``iceberg: true``)."""

    visible: str
    flags: Mapping[str, Any] = field(default_factory=dict)
    products: frozenset[Product] = field(default_factory=frozenset)  # sent on these products only; empty: all

    def sent_on(self, product: Product) -> bool:
        return not self.products or product in self.products


@dataclass(frozen=True, slots=True)
class PositionSideParam:
    """How the venue's ccxt client takes a hedge-mode order's position side: the param and its
    value per side (Binance ``positionSide`` LONG/SHORT, Bybit ``positionIdx`` 1/2, OKX
    ``posSide`` long/short)."""

    name: str
    long: str | int
    short: str | int
    reduce_only: bool = True  # the venue takes reduceOnly beside a position side (Binance refuses it: -1106)

    def value(self, side: PositionSide) -> str | int:
        return self.long if side is PositionSide.LONG else self.short


@dataclass(frozen=True, slots=True)
class OrderWire:
    """The order fields ccxt has no unified name for, in the venue's own terms; a field left None
    is one crossbook refuses on the venue (its matrix cell is not marked traded)."""

    iceberg: IcebergParam | None = None
    position_side: PositionSideParam | None = None
    # features marked traded that crossbook does not send on some products: feature -> (products, why)
    unsent: Mapping[Feature, tuple[frozenset[Product], str]] = field(default_factory=dict)
    # products whose trigger orders the venue keeps apart (Binance USD-M / COIN-M algo orders, Bybit
    # spot conditional orders under orderFilter=StopOrder): ccxt fetches and cancels them with
    # ``trigger: True``; where the order a trigger places has an id of its own (Binance), ``fired_id``
    # names it in the trigger's ``info``
    triggers_apart: frozenset[Product] = frozenset()
    fired_id: str = ""
    # products whose stop orders ccxt sends only with ``triggerDirection`` (Bybit's contracts): a
    # stop buys when the price rises to its trigger and sells when it falls to it
    trigger_direction: frozenset[Product] = frozenset()
    # the create_order param ccxt reads a stop's trigger from: ``triggerPrice`` on most venues;
    # Kraken's client sends its stop-loss / stop-loss-limit ordertype for ``stopLossPrice`` only
    # (a ``triggerPrice`` would go out as a plain order)
    stop_trigger: str = "triggerPrice"

    def lookup_params(self, product: Product, trigger: bool) -> dict[str, Any]:
        """ccxt's params to fetch or cancel an order: ``trigger`` for a trigger order kept apart."""
        return {"trigger": True} if trigger and product in self.triggers_apart else {}

    def fired(self, remote: Mapping[str, Any]) -> str | None:
        """The id of the order a trigger kept apart placed when it fired (ccxt order ``info``), if it has."""
        fired = (remote.get("info") or {}).get(self.fired_id) if self.fired_id else None
        return str(fired) if fired else None

    def sends(self, feature: Feature, product: Product) -> str | None:
        """None where crossbook sends ``feature`` on ``product``; else why it does not."""
        products, why = self.unsent.get(feature, (frozenset(), ""))
        return why if product in products else None


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """A venue's row of the matrix: every product and every feature, each with its Support;
    ``wire``: how crossbook sends the features ccxt has no unified parameter for."""

    venue: str
    products: Mapping[Product, Support]
    features: Mapping[Feature, Support]
    wire: OrderWire = field(default_factory=OrderWire)

    def __post_init__(self) -> None:
        missing = [p.value for p in Product if p not in self.products]
        missing += [f.value for f in Feature if f not in self.features]
        if missing:
            raise ValueError(f"{self.venue} capability table has no row for {', '.join(missing)}")
        unsent = [f.value for f, wired in ((Feature.ICEBERG, self.wire.iceberg), (Feature.HEDGE_MODE, self.wire.position_side))
                  if self.features[f].crossbook and wired is None]
        if unsent:
            raise ValueError(f"{self.venue} capability table marks {', '.join(unsent)} traded with no parameter to send it")

    def require_product(self, product: Product) -> None:
        if not self.products[product].offered:
            raise UnsupportedFeature(f"{self.venue} does not offer {product.label}{_note(self.products[product])}")

    def require(self, feature: Feature, product: Product) -> None:
        """Raise UnsupportedFeature unless the venue offers ``feature`` on ``product``."""
        support = self.features[feature]
        if not support.offered:
            raise UnsupportedFeature(f"{self.venue} does not offer {feature.label}{_note(support)}")
        if not support.offered_on(product):
            where = ", ".join(p.label for p in Product if p in support.only)
            raise UnsupportedFeature(
                f"{self.venue} offers {feature.label} on {where} only, not on {product.label}{_note(support)}"
            )

    def require_traded(self, feature: Feature, product: Product) -> None:
        """Raise UnsupportedFeature unless crossbook sends ``feature`` on ``product`` here (the
        venue offers it there and the SPEC marks it traded)."""
        self.require(feature, product)
        if not self.features[feature].crossbook:
            raise UnsupportedFeature(f"{self.venue} offers {feature.label}, but crossbook does not send them there yet")

    def traded(self, by_crossbook: Iterable[Product | Feature], wire: OrderWire | None = None) -> VenueCapabilities:
        """This table with crossbook's trading support marked: what ``by_crossbook`` names, where
        the venue offers it."""
        done = frozenset(by_crossbook)
        return replace(
            self,
            products={p: replace(s, crossbook=s.offered and p in done) for p, s in self.products.items()},
            features={f: replace(s, crossbook=s.offered and f in done) for f, s in self.features.items()},
            wire=wire or self.wire,
        )

    def as_dict(self) -> dict[str, object]:
        def rows(features: Iterable[Feature]) -> dict[str, object]:
            return {f.value: self.features[f].as_dict() for f in features}

        products: dict[str, dict[str, object]] = {}
        for p in Product:
            support = self.products[p]
            products[p.value] = {"offered": support.offered, "crossbook_market_data": support.market_data}
            products[p.value].update(support.as_dict())
        orders = rows(ORDER_FEATURES)
        orders[Feature.OCO.value] = {**self.features[Feature.OCO].as_dict(),
                                     "placed_as": {p.value: oco_mode(self, p).value for p in Product}}
        return {"products": products, "orders": orders, "account": rows(ACCOUNT_FEATURES)}


def _note(support: Support) -> str:
    return f" ({support.note})" if support.note else ""


BASIC_ORDERS: tuple[Feature, ...] = (Feature.LIMIT, Feature.MARKET, Feature.POST_ONLY, Feature.IOC, Feature.FOK)
"""The order types and flags crossbook trades on most venues (a SPEC's ``crossbook_trades``)."""


class OcoMode(str, Enum):
    """How crossbook places an OCO on a product of a venue."""

    NATIVE = "native"  # the venue's own OCO (an order list, an algo order): the venue cancels the other leg
    CROSSBOOK = "crossbook"  # crossbook's own: two orders, a fill of one cancels (or reduces) the other
    NONE = "none"


def oco_mode(caps: VenueCapabilities, product: Product) -> OcoMode:
    """The venue's own OCO where crossbook sends it (the OCO cell traded, on a product it is offered
    on and the wire table does not leave it unsent), else crossbook's own where crossbook trades the product's limit orders (each leg's own
    order type must then be one crossbook trades there too), else none."""
    oco = caps.features[Feature.OCO]
    if oco.crossbook and oco.offered_on(product) and caps.wire.sends(Feature.OCO, product) is None:
        return OcoMode.NATIVE
    if caps.products[product].crossbook and caps.features[Feature.LIMIT].crossbook:
        return OcoMode.CROSSBOOK
    return OcoMode.NONE
