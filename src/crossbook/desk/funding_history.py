"""The Desk's funding history: a perpetual's settled funding rates on one venue, read through an
unmodified, keyless ccxt client's ``fetch_funding_rate_history`` (the client that reads the feed's
funding, ``funding.py``), every request paced by the venue's limiter so that the backfill and the
desk's feeds spend one budget; on a simulated desk (or a config naming simulators) from the
simulators only."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async

from ..errors import ConfigError, UnknownSymbol, UnknownVenue, UnsupportedFeature, VenueUnavailable
from ..model import FundingRate, Kind
from ..symbols import parse_standard
from ..venues.registry import spec
from ..venues.spec.limiter import Limiter
from ..venues.spec.limits import request_params
from .funding import funding_client_config, funding_sources
from .funding_view import rate_json
from .rest_market import RestMarket, _paced, _reason

if TYPE_CHECKING:
    from .desk import Desk

DEFAULT_HOURS = 8.0  # the interval of a one-row history on a venue whose SPEC names no schedule


@dataclass(frozen=True, slots=True)
class FundingHistory:
    """``venue``'s settled funding of ``symbol``, oldest first: each row's ``ts`` and ``next_time``
    are its settlement time (epoch seconds), ``rate`` what was paid then."""

    venue: str
    symbol: str
    rates: tuple[FundingRate, ...]

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "symbol": self.symbol, "rates": [rate_json(r) for r in self.rates]}


def paced_by(client: Any, limiter: Limiter) -> None:
    """Every request ``client`` sends waits for ``limiter`` first (keyless: nothing is signed, so
    the wait cannot age a signature)."""
    fetch = client.fetch

    async def fetch_paced(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        parts = urlsplit(url)
        await limiter.acquire(method, parts.path, params=request_params(parts.query, body))
        return await fetch(url, method, headers, body)

    client.fetch = fetch_paced


def history_of(venue: str, symbol: str, rows: list[Mapping[str, Any]], hours: float | None) -> FundingHistory:
    """ccxt's funding-rate-history rows as a FundingHistory; the interval is the gap between two
    settlements, ``hours`` (the venue's schedule) for a single one."""
    by_time = {float(r["timestamp"]) / 1000: float(r["fundingRate"]) for r in rows
               if r.get("timestamp") is not None and r.get("fundingRate") is not None}
    times = sorted(by_time)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    interval = min(gaps) / 3600 if gaps else hours or DEFAULT_HOURS
    return FundingHistory(venue, symbol, tuple(FundingRate(venue, symbol, t, by_time[t], t, interval) for t in times))


class FundingHistoryView:
    """The Desk's funding history method (a base of Desk)."""

    async def funding_history(self, venue: str, symbol: str, since: float | None = None,
                              limit: int | None = None) -> FundingHistory:
        """``venue``'s settled funding rates of the perpetual ``symbol``, oldest first: from
        ``since`` (epoch seconds) when given, else the newest; at most ``limit`` (the venue's
        default page when None)."""
        desk = self._history_desk()
        symbol = symbol.upper()
        if parse_standard(symbol)[2] is not Kind.PERP:
            raise UnknownSymbol(f"{symbol} is not a perpetual: funding is paid on perpetuals")
        if venue not in desk.venues:
            raise UnknownVenue(f"{venue!r} is not a venue of this desk ({', '.join(desk.venues)})")
        if limit is not None and limit <= 0:
            raise ConfigError(f"limit must be a positive number of settlements, not {limit}")
        sources = funding_sources([venue], [symbol])
        if not sources:
            raise UnknownSymbol(f"{venue} lists no perpetual {symbol} with a funding rate")
        feed, (_, ccxt_id, _) = next(iter(sources.items()))
        config = funding_client_config(feed, venue, desk.endpoint_overrides())
        if config is None:
            raise VenueUnavailable(f"{venue}: the desk's simulators do not include {feed}")
        client = getattr(ccxt_async, ccxt_id)(config)
        limiter = desk.market.limiters(venue)
        if limiter is not None:
            paced_by(client, limiter)
        try:
            return await self._read_history(client, venue, symbol, since, limit)
        finally:
            await client.close()

    @staticmethod
    async def _read_history(client: Any, venue: str, symbol: str, since: float | None,
                            limit: int | None) -> FundingHistory:
        if not client.has.get("fetchFundingRateHistory"):
            raise UnsupportedFeature(f"{venue}: ccxt reads no funding history there")
        markets = await RestMarket._markets(venue, client)
        if symbol not in markets:
            raise UnknownSymbol(f"{venue} does not list {symbol}")
        since_ms = None if since is None else int(since * 1000)
        try:
            rows = await _paced(client, lambda: client.fetch_funding_rate_history(markets[symbol], since_ms, limit))
        except (TimeoutError, ccxt_async.BaseError) as exc:
            raise VenueUnavailable(f"{venue}: no {symbol} funding history ({_reason(exc)})") from None
        history = history_of(venue, symbol, rows, spec(venue).funding.interval_hours)
        if limit is None or len(history.rates) <= limit:
            return history
        kept = history.rates[:limit] if since is not None else history.rates[-limit:]
        return FundingHistory(venue, symbol, kept)

    def _history_desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self

