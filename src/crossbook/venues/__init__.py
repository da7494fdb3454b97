"""The venue registry: one module per venue, each exporting ``FEEDS`` (feed id -> FeedHandler
class). The first entry of a module's FEEDS is that venue's primary (spot) feed."""

from __future__ import annotations

from functools import cache
from importlib import import_module
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
def venue_feeds(venue: str) -> dict[str, type[FeedHandler]]:
    if venue not in VENUES:
        raise UnknownVenue(f"unknown venue {venue!r}; known: {', '.join(VENUES)}")
    return dict(import_module(f"{__name__}.{venue}").FEEDS)


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


def feed_for_url(url: str) -> type[FeedHandler] | None:
    """The feed whose recorded hosts include this URL's host (capture replay)."""
    host = urlsplit(url).hostname or ""
    for cls in all_feeds().values():
        if any(host == h or host.endswith("." + h) for h in cls.url_hosts):
            return cls
    return None
