"""Candles and tickers read through each venue's own REST API with an unmodified, keyless ccxt
client (``fetch_ohlcv``, ``fetch_ticker``): against simulators (a simulated desk's, or the running
``crossbook sim`` a config names in its ``[endpoints]``), every URL of the client confined to
them as in ``funding.py``, or against the venues themselves. A client lives for one read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async

from ..errors import UnknownSymbol, UnsupportedFeature, VenueUnavailable
from ..model import Candle, Interval, Kind, Ticker
from ..sim.access import ccxt_urls, confined
from ..sim.venues import sim_class
from ..symbols import parse_standard, requoted
from ..trading.validation import rules_from_ccxt_market
from ..venues.registry import spec, venue_feeds, venue_of

TIMEOUT = 10.0  # seconds one REST read may take
ATTEMPTS = 3  # a read the venue refuses for its rate limit is tried again, this often in all

T = TypeVar("T")

SimEndpoints = Mapping[str, tuple[str, str]]  # feed id -> (ws url, rest url) of its simulator


def _ccxt_id(feed: str) -> str | None:
    cls = sim_class(feed)
    return cls.ccxt_id or cls.client_ccxt_id


def candidate_feeds(venue: str, symbol: str, endpoints: SimEndpoints | None) -> list[str]:
    """``venue``'s feeds a ccxt client can read ``symbol`` from: on simulators, those whose
    simulator runs and lists it; on the venue itself, the feeds whose simulator lists it first,
    then the others (their markets decide). VenueUnavailable where only a feed without a ccxt
    client lists it (Bybit's inverse perpetuals)."""
    listing = [f for f in venue_feeds(venue) if symbol in sim_class(f).markets]
    readable = [f for f in venue_feeds(venue) if _ccxt_id(f) is not None]
    if listing and not any(f in readable for f in listing):
        raise VenueUnavailable(f"{venue}: {symbol} is on its {', '.join(listing)} feed, which no ccxt client reads")
    if endpoints is not None:
        return [f for f in listing if f in readable and f in endpoints]
    return [f for f in listing if f in readable] + [f for f in readable if f not in listing]


def client_config(feed: str, symbol: str, endpoints: SimEndpoints | None) -> dict[str, Any]:
    """The keyless ccxt configuration that reads ``symbol`` on ``feed``: its simulator's (every
    API URL on it) when ``endpoints`` is given, else the venue's."""
    cls = sim_class(feed)
    derivative = parse_standard(symbol)[2] is not Kind.SPOT
    options = dict(cls.ccxt_options) | (dict(spec(venue_of(feed)).perp_ccxt_options) if derivative else {})
    config: dict[str, Any] = {"options": options}
    if endpoints is None:
        return config
    ccxt_id = _ccxt_id(feed)
    assert ccxt_id is not None
    ws, rest = endpoints[feed]
    hosts = dict.fromkeys(cls.ccxt_hosts, rest) | dict.fromkeys(cls.ccxt_ws_hosts, ws)
    return confined(config | {"urls": ccxt_urls(ccxt_id, hosts, ws)}, rest, ws)


async def _paced(client: Any, read: Callable[[], Awaitable[T]]) -> T:
    """``read()`` within TIMEOUT, tried again after ccxt's own pause between requests where the
    venue refuses it for its rate limit (the desk's feeds share the IP's budget: Kraken's public
    one is a request a second)."""
    for attempt in range(ATTEMPTS):
        try:
            return await asyncio.wait_for(read(), TIMEOUT)
        except (ccxt_async.RateLimitExceeded, ccxt_async.DDoSProtection):
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(max(1.0, client.rateLimit / 1000))
    raise AssertionError("unreachable")


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: the error's type and ccxt's first line (a keyless read
    carries no secret)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    text = str(exc).strip()
    return type(exc).__name__ + (f": {text.splitlines()[0][:160]}" if text else "")


class RestMarket:
    """Reads candles and tickers of one desk's venues through their REST APIs; ``endpoints``: the
    simulators to read (feed id -> (ws url, rest url)), None for the venues themselves."""

    def __init__(self, endpoints: SimEndpoints | None) -> None:
        self.endpoints = endpoints

    @asynccontextmanager
    async def _client(self, venue: str, symbol: str) -> AsyncIterator[tuple[Any, str]]:
        """A loaded ccxt client of the feed of ``venue`` that lists ``symbol``, and the symbol ccxt
        names it by; UnknownSymbol where no feed does."""
        for feed in candidate_feeds(venue, symbol, self.endpoints):
            client = getattr(ccxt_async, _ccxt_id(feed) or "")(client_config(feed, symbol, self.endpoints))
            try:
                markets = await self._markets(venue, client)
                if symbol in markets:
                    yield client, markets[symbol]
                    return
            finally:
                await client.close()
        raise UnknownSymbol(f"{venue} does not list {symbol}")

    @staticmethod
    async def _markets(venue: str, client: Any) -> dict[str, str]:
        """standard symbol -> ccxt symbol of the markets ``client`` loads, named by the venue's
        quote currency where ccxt names them by their settle one (the SPEC's ``ccxt_quotes``)."""
        try:
            loaded = await _paced(client, client.load_markets)
        except (TimeoutError, ccxt_async.BaseError) as exc:
            raise VenueUnavailable(f"{venue}: cannot load its markets ({_reason(exc)})") from None
        quotes = spec(venue).ccxt_quotes
        found: dict[str, str] = {}
        for market in loaded.values():
            try:
                rules = rules_from_ccxt_market(market)
            except ValueError:  # an instrument crossbook has no symbol for (an option, a leveraged token)
                continue
            standard = requoted(rules.symbol, quotes[rules.quote]) if rules.quote in quotes else rules.symbol
            found.setdefault(standard, rules.ccxt_symbol)
        return found

    async def candles(self, venue: str, symbol: str, interval: Interval, since: float | None,
                      limit: int | None) -> list[Candle]:
        """``venue``'s candles of ``symbol``, oldest first; the newest ``closed=False`` while it
        is still forming (by this machine's clock)."""
        async with self._client(venue, symbol) as (client, ccxt_symbol):
            if interval.value not in (client.timeframes or {}):
                raise UnsupportedFeature(f"{venue} has no {interval.value} candles (ccxt: {', '.join(client.timeframes or {})})")
            since_ms = None if since is None else int(since * 1000)
            try:
                rows = await _paced(client, lambda: client.fetch_ohlcv(ccxt_symbol, interval.value, since_ms, limit))
            except (TimeoutError, ccxt_async.BaseError) as exc:
                raise VenueUnavailable(f"{venue}: no {symbol} candles ({_reason(exc)})") from None
        now = time.time()
        candles = [candle_of(venue, symbol, interval, row, now) for row in sorted(rows, key=lambda r: r[0])]
        return candles[-limit:] if limit else candles

    async def ticker(self, venue: str, symbol: str) -> Ticker:
        """``venue``'s rolling 24-hour ticker of ``symbol``."""
        async with self._client(venue, symbol) as (client, ccxt_symbol):
            try:
                raw = await _paced(client, lambda: client.fetch_ticker(ccxt_symbol))
            except (TimeoutError, ccxt_async.BaseError) as exc:
                raise VenueUnavailable(f"{venue}: no {symbol} ticker ({_reason(exc)})") from None
        return ticker_of(venue, symbol, raw)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def candle_of(venue: str, symbol: str, interval: Interval, row: list[Any], now: float) -> Candle:
    """A ccxt OHLCV row ``[open ms, open, high, low, close, volume]`` as a Candle; closed once its
    interval has ended by ``now``."""
    open_time = row[0] / 1000
    return Candle(venue, symbol, interval, open_time, float(row[1]), float(row[2]), float(row[3]), float(row[4]),
                  float(row[5] or 0.0), closed=open_time + interval.seconds <= now)


def ticker_of(venue: str, symbol: str, raw: Mapping[str, Any]) -> Ticker:
    """A ccxt unified ticker as a Ticker; its time is the reading's where the venue sends none."""
    last = raw.get("last") if raw.get("last") is not None else raw.get("close")
    if last is None:
        raise VenueUnavailable(f"{venue}: its {symbol} ticker carries no last price")
    ts = raw["timestamp"] / 1000 if raw.get("timestamp") else time.time()
    return Ticker(venue, symbol, ts, _float(raw.get("open")), _float(raw.get("high")), _float(raw.get("low")),
                  float(last), _float(raw.get("baseVolume")), _float(raw.get("quoteVolume")),
                  _float(raw.get("bid")), _float(raw.get("ask")))
