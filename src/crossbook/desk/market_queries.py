"""The Desk's market data beyond the book: a venue's candles and a symbol's ticker on every venue.

Both are read through ``MarketReads``: today ``RestMarket`` (each venue's REST API through a
keyless ccxt client, on the desk's simulators when it has them); a live stream sets
``desk.market_reads`` to a reader that answers from its candles and tickers (and falls back to
REST for what it does not hold)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError, CrossbookError, UnknownSymbol, UnknownVenue
from ..model import Candle, Interval, Ticker
from ..symbols import parse_standard
from .rest_market import RestMarket

if TYPE_CHECKING:
    from .desk import Desk


class MarketReads(Protocol):
    async def candles(self, venue: str, symbol: str, interval: Interval, since: float | None,
                      limit: int | None) -> list[Candle]: ...

    async def ticker(self, venue: str, symbol: str) -> Ticker: ...


def parse_interval(interval: Interval | str) -> Interval:
    """``interval`` as an Interval; ConfigError naming the allowed ones."""
    try:
        return Interval(interval)
    except ValueError:
        raise ConfigError(f"interval must be one of {', '.join(i.value for i in Interval)}, not {interval!r}") from None


def change_pct(ticker: Ticker) -> float | None:
    """The 24-hour change of ``ticker`` in percent of its open (None without an open)."""
    if not ticker.open:
        return None
    return (ticker.last - ticker.open) / ticker.open * 100


def candle_json(candle: Candle) -> dict[str, Any]:
    return {"venue": candle.venue, "symbol": candle.symbol, "interval": candle.interval.value,
            "open_time": candle.open_time, "open": candle.open, "high": candle.high, "low": candle.low,
            "close": candle.close, "volume": candle.volume, "quote_volume": candle.quote_volume, "closed": candle.closed}


def ticker_json(ticker: Ticker) -> dict[str, Any]:
    pct = change_pct(ticker)
    return {"venue": ticker.venue, "symbol": ticker.symbol, "ts": ticker.ts, "open": ticker.open, "high": ticker.high,
            "low": ticker.low, "last": ticker.last, "change_pct": None if pct is None else round(pct, 4),
            "volume": ticker.volume, "quote_volume": ticker.quote_volume, "bid": ticker.bid, "ask": ticker.ask}


@dataclass(frozen=True, slots=True)
class TickerBoard:
    """``symbol``'s ticker on each venue that lists it; ``unavailable``: venue -> why its ticker
    could not be read; ``not_listed``: the desk's venues without the symbol."""

    symbol: str
    tickers: tuple[Ticker, ...]
    unavailable: dict[str, str] = field(default_factory=dict)
    not_listed: tuple[str, ...] = ()

    def of(self, venue: str) -> Ticker | None:
        return next((t for t in self.tickers if t.venue == venue), None)

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "tickers": [ticker_json(t) for t in self.tickers],
                "unavailable": dict(self.unavailable), "not_listed": list(self.not_listed)}


class MarketQueries:
    """The Desk's candle and ticker methods (a base of Desk)."""

    venues: list[str]
    market_reads: MarketReads | None = None  # None: each venue's REST API

    def _reads(self) -> MarketReads:
        if self.market_reads is not None:
            return self.market_reads
        desk = self._market_desk()
        if not desk._started:
            raise CrossbookError("the desk is not started: use it as `async with Desk...(...) as desk:`")
        return RestMarket(desk.endpoint_overrides())

    async def candles(self, venue: str, symbol: str, interval: Interval | str = Interval.M1, since: float | None = None,
                      limit: int | None = None) -> list[Candle]:
        """``venue``'s candles of ``symbol`` of ``interval`` (1m 5m 15m 1h 4h 1d), oldest first,
        from ``since`` (epoch seconds; default: the venue's latest), at most ``limit``; the newest
        is ``closed=False`` while it is still forming."""
        symbol, length = symbol.upper(), parse_interval(interval)
        parse_standard(symbol)
        if venue not in self.venues:
            raise UnknownVenue(f"{venue!r} is not a venue of this desk ({', '.join(self.venues)})")
        if limit is not None and limit <= 0:
            raise ConfigError(f"limit must be a positive number of candles, not {limit}")
        return await self._reads().candles(venue, symbol, length, since, limit)

    async def ticker(self, symbol: str, venues: Sequence[str] | None = None) -> TickerBoard:
        """``symbol``'s rolling 24-hour ticker on every venue of the desk (only ``venues``, when
        given) that lists it, read concurrently; a venue that cannot be read is listed in
        ``unavailable`` with the reason. UnknownSymbol when none of them lists it."""
        symbol = symbol.upper()
        parse_standard(symbol)
        chosen = self.venues if venues is None else [v.lower() for v in venues]
        unknown = [v for v in chosen if v not in self.venues]
        if unknown:
            raise UnknownVenue(f"{', '.join(unknown)}: not a venue of this desk ({', '.join(self.venues)})")
        reads = self._reads()
        found = await asyncio.gather(*(reads.ticker(v, symbol) for v in chosen), return_exceptions=True)
        tickers: list[Ticker] = []
        unavailable: dict[str, str] = {}
        not_listed: list[str] = []
        for venue, result in zip(chosen, found, strict=True):
            if isinstance(result, UnknownSymbol):
                not_listed.append(venue)
            elif isinstance(result, CrossbookError):
                unavailable[venue] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                tickers.append(result)
        if not_listed and len(not_listed) == len(chosen):
            raise UnknownSymbol(f"no venue of {', '.join(chosen)} lists {symbol}")
        return TickerBoard(symbol, tuple(tickers), unavailable, tuple(not_listed))

    def _market_desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self
