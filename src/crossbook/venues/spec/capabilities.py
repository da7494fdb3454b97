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

from ...errors import UnsupportedFeature


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
class VenueCapabilities:
    """A venue's row of the matrix: every product and every feature, each with its Support."""

    venue: str
    products: Mapping[Product, Support]
    features: Mapping[Feature, Support]

    def __post_init__(self) -> None:
        missing = [p.value for p in Product if p not in self.products]
        missing += [f.value for f in Feature if f not in self.features]
        if missing:
            raise ValueError(f"{self.venue} capability table has no row for {', '.join(missing)}")

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

    def traded(self, by_crossbook: Iterable[Product | Feature]) -> VenueCapabilities:
        """This table with crossbook's trading support marked: what ``by_crossbook`` names, where
        the venue offers it."""
        done = frozenset(by_crossbook)
        return replace(
            self,
            products={p: replace(s, crossbook=s.offered and p in done) for p, s in self.products.items()},
            features={f: replace(s, crossbook=s.offered and f in done) for f, s in self.features.items()},
        )

    def as_dict(self) -> dict[str, object]:
        def rows(features: Iterable[Feature]) -> dict[str, object]:
            return {f.value: self.features[f].as_dict() for f in features}

        products: dict[str, dict[str, object]] = {}
        for p in Product:
            support = self.products[p]
            products[p.value] = {"offered": support.offered, "crossbook_market_data": support.market_data}
            products[p.value].update(support.as_dict())
        return {"products": products, "orders": rows(ORDER_FEATURES), "account": rows(ACCOUNT_FEATURES)}


def _note(support: Support) -> str:
    return f" ({support.note})" if support.note else ""


BASIC_ORDERS: tuple[Feature, ...] = (Feature.LIMIT, Feature.MARKET, Feature.POST_ONLY, Feature.IOC, Feature.FOK)
"""The order types and flags crossbook trades on most venues (a SPEC's ``crossbook_trades``)."""
