"""Perpetual funding rates, read once through public (keyless) ccxt clients: against simulators
(a simulated desk's, or the running ``crossbook sim`` a config names in its ``[endpoints]``), or
the venues themselves. A desk on simulators never reads a production host: a feed without a
simulator's endpoint is left out, and every URL of a client pointed at a simulator stays on it.

Each (venue, perpetual) read gives a ``FundingRate`` (the rate, the time it is paid, the interval,
the predicted next rate where the venue publishes one) or an ``Unread`` saying why not. What the
venues publish, through ccxt's funding-rate structure:

- the next funding time is ``fundingTimestamp`` (ccxt's ``nextFundingTimestamp`` is the one after);
- the interval is ccxt's ``interval`` ("8h"), else the one ccxt's ``fetch_funding_intervals``
  lists for the contract, else the SPEC's ``funding.interval_hours`` (the venue's schedule);
- a venue where ccxt reads no funding rate reads it with its SPEC's ``funding.read`` hook.

What differs between venues (the client reading a feed, its settings, the schedule, the hook) is
in each venue's SPEC (``venues/spec/funding.py``); this module names no venue."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ccxt.async_support as ccxt_async

from ..model import FundingRate, Kind
from ..sim.access import ccxt_urls, confined
from ..sim.venues import sim_class
from ..symbols import parse_standard
from ..venues.registry import spec, venue_feeds, venue_of
from ..venues.spec.funding import FundingClient

log = logging.getLogger(__name__)

TIMEOUT = 10.0

SimEndpoints = Mapping[str, tuple[str, str]]  # feed id -> (ws url, rest url) of its simulator

_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)([mh])")


@dataclass(frozen=True, slots=True)
class Unread:
    """A (venue, perpetual) whose funding could not be read, and why."""

    venue: str
    symbol: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"venue": self.venue, "symbol": self.symbol, "reason": self.reason}


def ccxt_perp_symbol(symbol: str) -> str:
    """BTC-USDT-PERP -> BTC/USDT:USDT (linear), BTC-USD-PERP -> BTC/USD:BTC (inverse)."""
    base, quote, _, _ = parse_standard(symbol)
    settle = base if quote == "USD" else quote
    return f"{base}/{quote}:{settle}"


def funding_client(feed: str) -> FundingClient | None:
    """The ccxt client (and its settings) that reads ``feed``'s funding rates, None when none does."""
    own = spec(venue_of(feed)).funding.clients.get(feed)
    if own is not None:
        return own
    cls = sim_class(feed)
    ccxt_id = cls.ccxt_id or cls.client_ccxt_id
    return None if ccxt_id is None else FundingClient(ccxt_id)


def funding_ccxt_id(feed: str) -> str | None:
    """The ccxt client that reads ``feed``'s funding rates, None when none does."""
    client = funding_client(feed)
    return None if client is None else client.ccxt_id


def funding_sources(venues: list[str], symbols: list[str]) -> dict[str, tuple[str, str, list[str]]]:
    """feed id -> (venue, ccxt id, the perpetuals it lists among ``symbols``), for feeds ccxt
    can read a funding rate from."""
    perps = [s for s in symbols if parse_standard(s)[2] is Kind.PERP]
    out = {}
    for venue in venues:
        for feed in venue_feeds(venue):
            ccxt_id = funding_ccxt_id(feed)
            listed = [s for s in perps if s in sim_class(feed).markets]
            if ccxt_id is not None and listed:
                out[feed] = (venue, ccxt_id, listed)
    return out


def funding_client_config(feed: str, venue: str, endpoints: SimEndpoints | None) -> dict[str, Any] | None:
    """The keyless ccxt configuration that reads ``feed``'s funding rates: from its simulator at
    ``endpoints[feed]`` (every API URL on it), from the venue when ``endpoints`` is None; None
    when ``endpoints`` names simulators but not this feed's."""
    cls = sim_class(feed)
    reader = funding_client(feed)
    ccxt_id = None if reader is None else reader.ccxt_id
    settings = {} if reader is None else dict(reader.config)
    perp_options = dict(spec(venue).perp_ccxt_options) | settings.get("options", {})
    config: dict[str, Any] = settings | {"enableRateLimit": False, "options": perp_options}
    if endpoints is None:
        return config
    if feed not in endpoints or ccxt_id is None:
        return None
    ws, rest = endpoints[feed]
    hosts = dict.fromkeys(cls.ccxt_hosts, rest) | dict.fromkeys(cls.ccxt_ws_hosts, ws)
    config["options"] = dict(cls.ccxt_options) | perp_options
    return confined(config | {"urls": ccxt_urls(ccxt_id, hosts, ws)}, rest, ws)


def interval_hours(text: object) -> float | None:
    """ccxt's funding ``interval`` ("8h", "480m") in hours; None when it gives none."""
    found = _INTERVAL.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        return None
    return float(found[1]) / (60 if found[2] == "m" else 1)


def _seconds(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000


def _reason(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def from_ccxt(venue: str, symbol: str, raw: Mapping[str, Any], hours: float | None) -> FundingRate:
    """A FundingRate from ccxt's funding-rate structure; ``hours``: the interval where ``raw``
    carries none. ValueError when the answer lacks the rate or any interval."""
    if raw.get("fundingRate") is None:
        raise ValueError("the answer carries no funding rate")
    hours = interval_hours(raw.get("interval")) or hours
    if hours is None:
        raise ValueError("the answer carries no funding interval")
    predicted = raw.get("nextFundingRate")
    return FundingRate(venue, symbol, _seconds(raw.get("timestamp")) or time.time(), float(raw["fundingRate"]),
                       _seconds(raw.get("fundingTimestamp")), hours, None if predicted is None else float(predicted))


async def _intervals(client: Any, ccxt_symbol: str) -> dict[str, float]:
    """ccxt symbol -> hours, of the contracts the venue lists with an interval of their own."""
    if not client.has.get("fetchFundingIntervals"):
        return {}
    rows = await asyncio.wait_for(client.fetch_funding_intervals([ccxt_symbol]), TIMEOUT)
    return {s: h for s, row in rows.items() if (h := interval_hours(row.get("interval"))) is not None}


async def _read_ccxt(venue: str, client: Any, symbols: list[str]) -> list[FundingRate | Unread]:
    scheduled = spec(venue).funding.interval_hours
    out: list[FundingRate | Unread] = []
    for symbol in symbols:
        ccxt_symbol = ccxt_perp_symbol(symbol)
        try:
            raw = await asyncio.wait_for(client.fetch_funding_rate(ccxt_symbol), TIMEOUT)
            hours = None
            if interval_hours(raw.get("interval")) is None:
                hours = (await _intervals(client, ccxt_symbol)).get(ccxt_symbol, scheduled)
            out.append(from_ccxt(venue, symbol, raw, hours))
        except (TimeoutError, ccxt_async.BaseError, ValueError) as exc:
            out.append(Unread(venue, symbol, _reason(exc)))
    return out


async def _read_hook(venue: str, client: Any, symbols: list[str]) -> list[FundingRate | Unread]:
    """Through the venue's own funding read (its SPEC's ``funding.read``)."""
    read = spec(venue).funding.read
    assert read is not None
    try:
        found = await asyncio.wait_for(read(client, symbols), TIMEOUT)
    except (TimeoutError, ccxt_async.BaseError) as exc:
        return [Unread(venue, s, _reason(exc)) for s in symbols]
    return [found.get(s) or Unread(venue, s, f"{venue} lists no funding rate for {s}") for s in symbols]


async def _read(feed: str, venue: str, client: Any, symbols: list[str]) -> list[FundingRate | Unread]:
    try:
        reader = _read_ccxt if spec(venue).funding.read is None else _read_hook
        return await reader(venue, client, symbols)
    finally:
        await client.close()


async def read_funding(venues: list[str], symbols: list[str],
                       endpoints: SimEndpoints | None = None) -> tuple[list[FundingRate], list[Unread]]:
    """Every (venue, perpetual) among ``symbols`` a feed of ``venues`` lists: its funding, from
    the simulators at ``endpoints`` if given (a feed they do not name is unread), else from the
    venues; or why it could not be read."""
    reads, unread = [], []
    for feed, (venue, ccxt_id, listed) in funding_sources(venues, symbols).items():
        config = funding_client_config(feed, venue, endpoints)
        if config is None:
            unread += [Unread(venue, s, f"the desk's simulators do not include {feed}") for s in listed]
            continue
        reads.append(_read(feed, venue, getattr(ccxt_async, ccxt_id)(config), listed))
    rates = []
    for found in await asyncio.gather(*reads):
        for item in found:
            if isinstance(item, FundingRate):
                rates.append(item)
            else:
                log.warning("no funding rate from %s for %s: %s", item.venue, item.symbol, item.reason)
                unread.append(item)
    return rates, unread


async def fetch_funding(venues: list[str], symbols: list[str],
                        endpoints: SimEndpoints | None = None) -> dict[tuple[str, str], float]:
    """(venue, perpetual) -> funding rate per interval, from the simulators at ``endpoints`` if
    given (feeds it does not name are left out), else from the venues. A venue whose rate
    cannot be read is left out (the basis opportunity then shows the rate as unknown)."""
    rates, _ = await read_funding(venues, symbols, endpoints)
    return {(r.venue, r.symbol): r.rate for r in rates}
