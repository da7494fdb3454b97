"""Perpetual funding rates for the basis scanner, read once through public (keyless) ccxt clients:
against the simulated venues, or the venues themselves. A venue whose rate cannot be read is left
out (the basis opportunity then shows the rate as unknown)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ccxt.async_support as ccxt_async

from ..model import Kind
from ..sim.access import ccxt_urls
from ..sim.cluster import SimCluster
from ..sim.venues import sim_class
from ..symbols import parse_standard
from ..venues.registry import spec, venue_feeds

log = logging.getLogger(__name__)

TIMEOUT = 10.0


def ccxt_perp_symbol(symbol: str) -> str:
    """BTC-USDT-PERP -> BTC/USDT:USDT (linear), BTC-USD-PERP -> BTC/USD:BTC (inverse)."""
    base, quote, _, _ = parse_standard(symbol)
    settle = base if quote == "USD" else quote
    return f"{base}/{quote}:{settle}"


def funding_sources(venues: list[str], symbols: list[str]) -> dict[str, tuple[str, str, list[str]]]:
    """feed id -> (venue, ccxt id, the perpetuals it lists among ``symbols``), for feeds ccxt
    can read a funding rate from."""
    perps = [s for s in symbols if parse_standard(s)[2] is Kind.PERP]
    out = {}
    for venue in venues:
        for feed in venue_feeds(venue):
            cls = sim_class(feed)
            ccxt_id = cls.ccxt_id or cls.client_ccxt_id
            listed = [s for s in perps if s in cls.markets]
            if ccxt_id is not None and listed:
                out[feed] = (venue, ccxt_id, listed)
    return out


async def _read(venue: str, client: Any, symbols: list[str]) -> dict[tuple[str, str], float]:
    rates = {}
    try:
        for symbol in symbols:
            raw = await asyncio.wait_for(client.fetch_funding_rate(ccxt_perp_symbol(symbol)), TIMEOUT)
            if raw.get("fundingRate") is not None:
                rates[(venue, symbol)] = float(raw["fundingRate"])
    except (TimeoutError, ccxt_async.BaseError) as exc:
        log.warning("no funding rate from %s: %s", venue, type(exc).__name__)
    finally:
        await client.close()
    return rates


async def fetch_funding(venues: list[str], symbols: list[str], cluster: SimCluster | None = None) -> dict[tuple[str, str], float]:
    """(venue, perpetual) -> funding rate per interval, from ``cluster``'s simulators if given,
    else from the venues."""
    reads = []
    for feed, (venue, ccxt_id, listed) in funding_sources(venues, symbols).items():
        config: dict[str, Any] = {"enableRateLimit": False}
        perp_options = dict(spec(venue).perp_ccxt_options)
        if cluster is not None:
            if feed not in cluster.venues:
                continue
            sim = cluster.venues[feed]
            config["urls"] = ccxt_urls(ccxt_id, sim.ccxt_host_map(), sim.ws_url)
            config["options"] = dict(sim.ccxt_options) | perp_options
        else:
            config["options"] = perp_options
        reads.append(_read(venue, getattr(ccxt_async, ccxt_id)(config), listed))
    rates: dict[tuple[str, str], float] = {}
    for found in await asyncio.gather(*reads):
        rates |= found
    return rates
