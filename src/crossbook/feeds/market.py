"""MarketData: live consolidated books for standard symbols across venues.

For each venue it walks the venue's feeds in order (spot first), loads each feed's instruments from
the venue's own metadata endpoint and subscribes the requested symbols that feed lists, so
BTC-USDT lands on Binance spot and BTC-USDT-PERP on Binance USD-M. A venue that cannot be reached
is reported down with the reason; one that does not list a symbol is reported as such.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from ..book.consolidated import ConsolidatedBook, SizeUnit, VenueQuote
from ..errors import VenueUnavailable
from ..model import BookState, Side, Trade
from ..symbols import parse_standard
from ..venues import feed_class, venue_feeds
from .capture import CaptureWriter
from .manager import VenueFeed

Endpoints = Callable[[str], tuple[str | None, str | None]]  # feed id -> (ws base, REST base)


def production(feed_id: str) -> tuple[str | None, str | None]:
    return None, None


@dataclass
class MarketData:
    venues: list[str]
    symbols: list[str]
    endpoints: Endpoints = production
    recorder: CaptureWriter | None = None
    on_trade: Callable[[Trade], None] | None = None
    feeds: list[VenueFeed] = field(default_factory=list)
    consolidated: dict[str, ConsolidatedBook] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)  # venue -> why it is unreachable
    unlisted: dict[str, list[str]] = field(default_factory=dict)  # venue -> symbols it lacks

    def __post_init__(self) -> None:
        self.symbols = [s.upper() for s in self.symbols]
        for symbol in self.symbols:
            parse_standard(symbol)  # a clear error for a malformed symbol, before any I/O
        self.consolidated = {s: ConsolidatedBook(s) for s in self.symbols}

    async def start(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(*(self._start_venue(session, v) for v in self.venues))

    async def _start_venue(self, session: aiohttp.ClientSession, venue: str) -> None:
        remaining = list(self.symbols)
        for feed_id, cls in venue_feeds(venue).items():
            if not remaining:
                break
            ws, rest = self.endpoints(feed_id)
            feed = VenueFeed(cls, remaining, ws_url=ws, rest_url=rest, on_trade=self.on_trade, recorder=self.recorder)
            try:
                symbol_map = await feed.load_instruments(session)
            except VenueUnavailable as exc:
                self.down[venue] = str(exc)
                return
            listed = [s for s in remaining if s in symbol_map]
            if not listed:
                continue
            feed.wanted = listed
            await feed.start(session)
            self.feeds.append(feed)
            for symbol in listed:
                inst = symbol_map.by_symbol[symbol]
                unit = SizeUnit(inst.contract_size, inst.inverse)
                self.consolidated[symbol].add(venue, feed.books[symbol], cls.taker_fee_for(inst), unit)
            remaining = [s for s in remaining if s not in listed]
        if remaining:
            self.unlisted[venue] = remaining

    async def stop(self) -> None:
        await asyncio.gather(*(f.stop() for f in self.feeds))

    def all_live(self) -> bool:
        now = time.time()
        return all(
            book.status(now) is BookState.LIVE for c in self.consolidated.values() for book in c.books.values()
        )

    async def wait_live(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.all_live():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def quote(self, symbol: str, side: Side, amount: float) -> dict[str, object]:
        """The best all-in price for ``amount`` of ``symbol`` and every venue's quote, as the
        ``crossbook quote --json`` object."""
        book = self.consolidated[symbol.upper()]
        quotes = book.quote(side, amount)
        best = ConsolidatedBook.best(quotes, side)
        venues: dict[str, object] = {v: quote_json(q) for v, q in quotes.items()}
        for venue in self.venues:
            if venue in self.down:
                venues[venue] = {
                    "status": BookState.DOWN.value,
                    "filled": 0.0,
                    "vwap": None,
                    "fee_rate": feed_class(venue).taker_fee,
                    "all_in_price": None,
                }
        return {
            "symbol": book.symbol,
            "side": side.value,
            "amount": amount,
            "best": {"venue": best.venue, "all_in_price": best.all_in_price} if best else None,
            "venues": venues,
        }


def quote_json(q: VenueQuote) -> dict[str, object]:
    return {
        "status": q.status.value,
        "filled": q.filled,
        "vwap": q.vwap,
        "fee_rate": q.fee_rate,
        "all_in_price": q.all_in_price,
    }
