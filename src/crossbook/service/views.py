"""The API's typed results that the Desk has no ``to_json()`` for: health and readiness per venue,
the consolidated book and its top of book per venue, the venues' feeds, a fill as streamed."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..book.consolidated import BestLevel, ConsolidatedBook
from ..bus.consumer import BusView
from ..market.data import MarketData
from ..model import BookState, Fill, Side
from ..precision import Precision
from ..venues.registry import venue_of
from .bus_view import bus_connected, bus_view


@dataclass(frozen=True, slots=True)
class VenueHealth:
    """``ready``: up, connected, and every book of the followed symbols it lists live."""

    venue: str
    books: dict[str, BookState]
    connected: bool
    down: str | None = None

    @property
    def ready(self) -> bool:
        return self.down is None and self.connected and bool(self.books) and all(
            state is BookState.LIVE for state in self.books.values())

    def to_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "books": {s: state.value for s, state in self.books.items()},
                "connected": self.connected, "down": self.down}


UNLISTED = "lists none of the served symbols"


@dataclass(frozen=True, slots=True)
class Health:
    venues: dict[str, VenueHealth]
    bus: BusView | None = None  # the feed processes and each venue's lag, for a desk on the bus

    @property
    def status(self) -> str:
        """``ok``: every venue that lists a served symbol ready; ``degraded``: some; ``down``: none."""
        ready = [v.ready for v in self.venues.values() if v.books or v.down != UNLISTED]
        return "ok" if ready and all(ready) else "degraded" if any(ready) else "down"

    def to_json(self) -> dict[str, Any]:
        out = {"status": self.status, "venues": {v: h.to_json() for v, h in self.venues.items()}}
        return out if self.bus is None else {**out, "bus": self.bus.to_json()}


def feeds_connected(market: MarketData) -> dict[str, bool]:
    """venue -> every connection of every feed it runs is up (False while it runs none)."""
    up: dict[str, bool] = {}
    for feed in market.feeds:
        venue = venue_of(feed.venue)
        connected = bool(feed.connections) and all(c.connected for c in feed.connections)
        up[venue] = up.get(venue, True) and connected
    return up


def health_of(market: MarketData, symbols: list[str], now: float | None = None) -> Health:
    now = time.time() if now is None else now
    connected = bus_connected(market) or feeds_connected(market)
    venues: dict[str, VenueHealth] = {}
    for venue in market.venues:
        books = {s: market.consolidated[s].books[venue].status(now) for s in symbols
                 if s in market.consolidated and venue in market.consolidated[s].books}
        down = market.down.get(venue) or (None if books else UNLISTED)
        venues[venue] = VenueHealth(venue, books, connected.get(venue, False), down)
    return Health(venues, bus_view(market))


@dataclass(frozen=True, slots=True)
class VenueTop:
    """One venue's best bid and ask of a symbol and its book's state (no prices unless live)."""

    state: BookState
    bid: float | None
    ask: float | None

    def to_json(self, p: Precision) -> dict[str, Any]:
        return {"bid": p.price(self.bid), "ask": p.price(self.ask), "state": self.state.value}


def tops(book: ConsolidatedBook, now: float) -> dict[str, VenueTop]:
    out: dict[str, VenueTop] = {}
    for venue, l2 in book.books.items():
        state = l2.status(now)
        bid, ask = (l2.best_bid(), l2.best_ask()) if state is BookState.LIVE else (None, None)
        out[venue] = VenueTop(state, bid[0] if bid else None, ask[0] if ask else None)
    return out


@dataclass(frozen=True, slots=True)
class PriceView:
    """The ``prices`` channel's message: the consolidated best bid and ask, and each venue's."""

    symbol: str
    bid: float | None
    ask: float | None
    venues: dict[str, VenueTop]
    at: float
    precision: Precision

    @classmethod
    def of(cls, book: ConsolidatedBook, precision: Precision, now: float | None = None) -> PriceView:
        now = time.time() if now is None else now
        bid, ask = book.best_bid(now), book.best_ask(now)
        return cls(book.symbol, bid.price if bid else None, ask.price if ask else None, tops(book, now), now, precision)

    def to_json(self) -> dict[str, Any]:
        p = self.precision
        return {"symbol": self.symbol, "bid": p.price(self.bid), "ask": p.price(self.ask),
                "venues": {v: top.to_json(p) for v, top in self.venues.items()}, "at": round(self.at, 3)}


@dataclass(frozen=True, slots=True)
class BookView:
    """GET /books/{symbol}: the best ``depth`` levels of each side across every live venue, best
    first, sizes in base units, each level naming its venue; and every venue's top and state."""

    prices: PriceView
    bids: list[BestLevel]
    asks: list[BestLevel]

    @classmethod
    def of(cls, book: ConsolidatedBook, precision: Precision, depth: int) -> BookView:
        now = time.time()
        return cls(PriceView.of(book, precision, now), book.ladder(Side.BUY, depth, now), book.ladder(Side.SELL, depth, now))

    def to_json(self) -> dict[str, Any]:
        p = self.prices.precision

        def levels(side: list[BestLevel]) -> list[dict[str, Any]]:
            return [{"venue": lv.venue, "price": p.price(lv.price), "size": p.amount(lv.size)} for lv in side]

        return {**self.prices.to_json(), "bids": levels(self.bids), "asks": levels(self.asks)}


@dataclass(frozen=True, slots=True)
class VenueView:
    """GET /venues: one venue of the desk, its feeds and whether the desk trades there."""

    health: VenueHealth
    trading: bool
    feeds: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.health.venue, **self.health.to_json(), "trading": self.trading, "feeds": self.feeds}


def venues_of(market: MarketData, symbols: list[str], trading: set[str],
              endpoints: Mapping[str, tuple[str, str]] | None = None) -> list[VenueView]:
    """``endpoints``: feed id -> (ws url, rest url) of the simulators the desk reads, shown as each
    feed's ``sim`` (where to inject faults or point a ccxt client)."""
    health = health_of(market, symbols)
    feeds: dict[str, dict[str, dict[str, Any]]] = {}
    for feed in market.feeds:
        status = feed.status()
        view: dict[str, Any] = {"connections": status["connections"], "connected": status["connected"],
                                "symbols": sorted(feed.books)}
        if endpoints is not None and feed.venue in endpoints:
            ws, rest = endpoints[feed.venue]
            view["sim"] = {"ws": ws, "rest": rest}
        feeds.setdefault(venue_of(feed.venue), {})[feed.venue] = view
    return [VenueView(h, venue in trading, feeds.get(venue, {})) for venue, h in health.venues.items()]


def fill_json(fill: Fill) -> dict[str, Any]:
    """The ``fills`` channel's message: a fill as the journal recorded it (its amount in the
    venue's unit: contracts on a contract market)."""
    return {"venue": fill.venue, "symbol": fill.symbol, "client_order_id": fill.client_order_id,
            "venue_order_id": fill.venue_order_id, "trade_id": fill.trade_id, "side": fill.side.value,
            "price": float(fill.price), "amount": float(fill.amount), "fee": float(fill.fee),
            "fee_currency": fill.fee_currency, "taker": fill.taker, "ts": round(fill.ts, 3)}
