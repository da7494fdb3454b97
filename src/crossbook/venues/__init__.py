"""The venue registry: one module per venue, each exporting ``FEEDS`` (feed id -> FeedHandler
class). The first entry of a module's FEEDS is that venue's primary (spot) feed."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from types import ModuleType
from urllib.parse import urlsplit

from ..errors import UnknownVenue
from ..feeds.handler import FeedHandler

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


@cache
def venue_module(venue: str) -> ModuleType:
    """``venues/<venue>.py``: its FEEDS, LIMITS, CAPABILITIES, CLIENT_ID and hooks."""
    if venue not in VENUES:
        raise UnknownVenue(f"unknown venue {venue!r}; known: {', '.join(VENUES)}")
    return import_module(f"{__name__}.{venue}")


def venue_feeds(venue: str) -> dict[str, type[FeedHandler]]:
    return dict(venue_module(venue).FEEDS)


@cache
def all_feeds() -> dict[str, type[FeedHandler]]:
    feeds: dict[str, type[FeedHandler]] = {}
    for venue in VENUES:
        feeds.update(venue_feeds(venue))
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
    return next((v for v in VENUES if feed_id in venue_feeds(v)), feed_id)


def feed_for_url(url: str) -> type[FeedHandler] | None:
    """The feed whose recorded hosts match this URL (capture replay). An entry may carry a path
    prefix (``stream.bybit.com/v5/public/linear``) where feeds share a host; the most specific
    match wins."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    best: tuple[int, type[FeedHandler] | None] = (-1, None)
    for cls in all_feeds().values():
        for entry in cls.url_hosts:
            entry_host, _, prefix = entry.partition("/")
            if (host == entry_host or host.endswith("." + entry_host)) and parts.path.startswith("/" + prefix):
                if len(entry) > best[0]:
                    best = (len(entry), cls)
    return best[1]
