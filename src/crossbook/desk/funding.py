"""Perpetual funding rates for the basis scanner, read once through public (keyless) ccxt clients:
against simulators (a simulated desk's, or the running ``crossbook sim`` a config names in its
``[endpoints]``), or the venues themselves. A desk on simulators never reads a production host:
a feed without a simulator's endpoint is left out, and every URL of a client pointed at a
simulator stays on it. A venue whose rate cannot be read is left out (the basis opportunity then
shows the rate as unknown)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt_async

from ..model import Kind
from ..sim.access import ccxt_urls, confined
from ..sim.venues import sim_class
from ..symbols import parse_standard
from ..venues.registry import spec, venue_feeds

log = logging.getLogger(__name__)

TIMEOUT = 10.0

SimEndpoints = Mapping[str, tuple[str, str]]  # feed id -> (ws url, rest url) of its simulator


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


def funding_client_config(feed: str, venue: str, endpoints: SimEndpoints | None) -> dict[str, Any] | None:
    """The keyless ccxt configuration that reads ``feed``'s funding rates: from its simulator at
    ``endpoints[feed]`` (every API URL on it), from the venue when ``endpoints`` is None; None
    when ``endpoints`` names simulators but not this feed's."""
    cls = sim_class(feed)
    ccxt_id = cls.ccxt_id or cls.client_ccxt_id
    perp_options = dict(spec(venue).perp_ccxt_options)
    config: dict[str, Any] = {"enableRateLimit": False, "options": perp_options}
    if endpoints is None:
        return config
    if feed not in endpoints or ccxt_id is None:
        return None
    ws, rest = endpoints[feed]
    hosts = dict.fromkeys(cls.ccxt_hosts, rest) | dict.fromkeys(cls.ccxt_ws_hosts, ws)
    config["options"] = dict(cls.ccxt_options) | perp_options
    return confined(config | {"urls": ccxt_urls(ccxt_id, hosts, ws)}, rest, ws)


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


async def fetch_funding(venues: list[str], symbols: list[str],
                        endpoints: SimEndpoints | None = None) -> dict[tuple[str, str], float]:
    """(venue, perpetual) -> funding rate per interval, from the simulators at ``endpoints`` if
    given (feeds it does not name are left out), else from the venues."""
    reads = []
    for feed, (venue, ccxt_id, listed) in funding_sources(venues, symbols).items():
        config = funding_client_config(feed, venue, endpoints)
        if config is None:
            log.info("no funding rate from %s: the desk's simulators do not include %s", venue, feed)
            continue
        reads.append(_read(venue, getattr(ccxt_async, ccxt_id)(config), listed))
    rates: dict[tuple[str, str], float] = {}
    for found in await asyncio.gather(*reads):
        rates |= found
    return rates
