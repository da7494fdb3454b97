"""The simulated venues: one module per venue, each exporting ``SIMS`` (feed id -> SimVenue
class), the same feed ids as the client side's SPEC feeds."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from ...errors import UnknownVenue
from ...venues.registry import VENUES
from ..server import SimVenue


@cache
def venue_sims(venue: str) -> dict[str, type[SimVenue]]:
    if venue not in VENUES:
        raise UnknownVenue(f"unknown venue {venue!r}; known: {', '.join(VENUES)}")
    return dict(import_module(f"{__name__}.{venue}").SIMS)


def sim_class(feed_id: str) -> type[SimVenue]:
    for venue in VENUES:
        sims = venue_sims(venue)
        if feed_id in sims:
            return sims[feed_id]
        if feed_id == venue and sims:
            return next(iter(sims.values()))
    raise UnknownVenue(f"no simulated venue {feed_id!r}")
