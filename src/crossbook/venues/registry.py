"""The venue registry: every venue's SPEC by id, and its feeds.

The exchanges (``VENUES``, each ``venues/<id>.py``) come first; the on-chain venues
(``DEX_VENUES``, in ``venues/dex/``) are registered beside them. Code that streams order books or
trades through ccxt iterates ``VENUES``; ``ALL_VENUES`` lists both. A venue module is imported the
first time its SPEC is asked for, so a command imports only the venues it uses.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from urllib.parse import urlsplit

from ..errors import UnknownVenue
from ..feeds.handler import FeedHandler
from ..model import Instrument, Kind
from .dex import DEX_VENUES, dex_family
from .spec import VenueSpec
from .spec.capabilities import Product, VenueCapabilities
from .spec.fees import FeeSchedule, FeeTier

VENUES: tuple[str, ...] = (
    "binance",
    "okx",
    "bybit",
    "dydx",
    "coinbase",
    "kraken",
    "kucoin",
    "gate",
    "mexc",
    "bitget",
)
ALL_VENUES: tuple[str, ...] = VENUES + DEX_VENUES

_MODULES: dict[str, str] = {
    **{venue: f"crossbook.venues.{venue}" for venue in VENUES},
    "uniswap_v3": "crossbook.venues.dex.uniswap_v3_spec",
    "oneinch": "crossbook.venues.dex.oneinch_spec",
}

Spec = VenueSpec[type[FeedHandler]]


@cache
def spec(venue: str) -> Spec:
    """The SPEC of ``venue``: an exchange, a DEX, or one pool venue of a DEX (``uniswap_v3_500``)."""
    name = dex_family(venue) or venue
    if name not in _MODULES:
        raise UnknownVenue(f"unknown venue {venue!r}; known: {', '.join(ALL_VENUES)}")
    found = import_module(_MODULES[name]).SPEC
    if not isinstance(found, VenueSpec) or found.venue != name:
        raise TypeError(f"{_MODULES[name]}.SPEC is not the VenueSpec of {name}")
    return found


def capabilities(venue: str) -> VenueCapabilities:
    return spec(venue).capabilities


def all_capabilities(venues: tuple[str, ...] = VENUES) -> dict[str, VenueCapabilities]:
    """The capability tables of ``venues`` (the exchanges unless told; ``ALL_VENUES`` adds the
    DEX venues), in registry order."""
    return {venue: capabilities(venue) for venue in venues}


def fee_schedule(venue: str) -> FeeSchedule:
    return spec(venue).schedule()


def venue_feeds(venue: str, *, options: bool = False) -> dict[str, type[FeedHandler]]:
    """The venue's feeds by id; its options feeds only with ``options`` (an option chain is
    followed on demand, never with every symbol's books)."""
    chains = option_feeds(venue)
    return {f: cls for f, cls in spec(venue).feeds.items() if options or f not in chains}


def option_feeds(venue: str) -> dict[str, type[FeedHandler]]:
    """The feeds of the venue's options markets (those its OPTIONS capability names)."""
    support = spec(venue).capabilities.products.get(Product.OPTIONS)
    named = support.feeds if support is not None else ()
    return {f: cls for f, cls in spec(venue).feeds.items() if f in named}


@cache
def all_feeds() -> dict[str, type[FeedHandler]]:
    feeds: dict[str, type[FeedHandler]] = {}
    for venue in VENUES:
        feeds.update(venue_feeds(venue, options=True))
    return feeds


def feed_class(feed_id: str) -> type[FeedHandler]:
    """A feed by id: a venue (its primary feed) or a product feed such as binanceusdm."""
    if feed_id in VENUES and venue_feeds(feed_id):
        return next(iter(venue_feeds(feed_id).values()))
    try:
        return all_feeds()[feed_id]
    except KeyError:
        raise UnknownVenue(f"unknown venue or feed {feed_id!r}; known: {', '.join(all_feeds())}") from None


def venue_of(feed_id: str) -> str:
    """The venue a feed belongs to (binanceusdm -> binance)."""
    if feed_id in VENUES:
        return feed_id
    return next((v for v in VENUES if feed_id in venue_feeds(v, options=True)), feed_id)


def feed_kind(feed_id: str) -> Kind:
    """The product kind a feed's books are quoted at by default: spot, else perpetuals."""
    return Kind.SPOT if feed_class(feed_id).product == "spot" else Kind.PERP


def base_fees(feed_id: str, inst: Instrument | None = None) -> FeeTier:
    """The base fee tier of the venue a feed belongs to, for ``inst``'s kind (a feed whose books
    span products, such as OKX's) or else the feed's product: what its books are quoted at until
    the account's own rates are known."""
    return fee_schedule(venue_of(feed_id)).base(inst.kind if inst is not None else feed_kind(feed_id))


def feed_for_url(url: str) -> type[FeedHandler] | None:
    """The feed whose recorded hosts match this URL (capture replay). An entry may carry a path
    prefix (``stream.bybit.com/v5/public/linear``) where feeds share a host; the most specific
    match wins."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path or "/"  # wss://advanced-trade-ws.coinbase.com: an empty path is the root
    best: tuple[int, type[FeedHandler] | None] = (-1, None)
    for cls in all_feeds().values():
        for entry in cls.url_hosts:
            entry_host, _, prefix = entry.partition("/")
            matches = (host == entry_host or host.endswith("." + entry_host)) and path.startswith("/" + prefix)
            if matches and len(entry) > best[0]:
                best = (len(entry), cls)
    return best[1]
