"""BusMarketData: MarketData whose books come from feed processes over the bus (crossbook.bus).

The same surface the desk, router, quotes, service and metering read (``consolidated``, ``down``,
``unlisted``, ``instruments()``, ``precision()``, ``add_symbols()``, ``wait_live()``, ...), but no
socket is opened here: each venue feed's instruments are read from the instrument bucket (a feed
process put them there), each followed symbol a feed lists becomes a ``BusBook`` in
``consolidated`` with the same fees and size unit an in-process feed would have, and trades and
market events arrive from the bus. ``feeds`` stays empty.

A venue none of whose feeds' instruments appear on the bus within ``instruments_within`` seconds
is down with that reason, and tried again in the background like MarketData's down venues.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field, replace

import aiohttp
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from ..book.consolidated import SizeUnit
from ..bus import subjects
from ..bus.connect import bus_urls, ensure_bus
from ..bus.consumer import BusBooks, BusView, open_books
from ..bus.publisher import instruments_from_json
from ..config import BusConfig, Config
from ..model import Instrument
from ..symbols import SymbolMap
from ..venues.registry import base_fees, venue_feeds
from .data import MarketData

INSTRUMENTS_WITHIN = 15.0  # seconds a venue's instruments get to appear on the bus
POLL = 0.2  # seconds between two looks at the instrument bucket while waiting


def with_bus_url(config: Config, url: str | None) -> Config:
    """``config`` with its ``[bus] url`` set to ``url`` (a command line's --bus), the rest of its
    [bus] kept; ``config`` itself when ``url`` is None. ConfigError when ``url`` is not a bus."""
    if url is None:
        return config
    bus_urls(url)
    bus = replace(config.bus, url=url.strip()) if config.bus is not None else BusConfig(url.strip())
    return replace(config, bus=bus)


@dataclass
class BusMarketData(MarketData):
    url: str = ""
    name: str = ""  # this process on the bus
    instruments_within: float = INSTRUMENTS_WITHIN
    bus: BusBooks | None = field(default=None, repr=False)
    _followed: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)  # (venue, symbol) -> feed id
    _instrument_kv: KeyValue | None = field(default=None, repr=False)

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self.bus = await open_books(self.url, name=self.name)
        js = self.bus.nc.jetstream()
        await ensure_bus(js)
        self._instrument_kv = await js.key_value(subjects.INSTRUMENT_BUCKET)
        await asyncio.gather(*(self._start_venue(session, v, self.symbols) for v in self.venues))

    async def load_instruments(self) -> None:
        """The instruments are the bus's, read as each venue starts: nothing more to load."""

    async def stop(self) -> None:
        await super().stop()
        if self.bus is not None:
            await self.bus.close()
            self.bus = None

    def publishers(self) -> BusView | None:
        """The feed processes, each venue's publisher and lag, the counters (None before start)."""
        return self.bus.publishers() if self.bus is not None else None

    def connected(self) -> bool:
        return self.bus is not None and self.bus.connected

    # ---- a venue's books from the bus -----------------------------------------------------------

    async def _start_venue(self, session: aiohttp.ClientSession, venue: str, symbols: list[str]) -> None:
        maps = await self._venue_instruments(venue, wait=venue not in self.down)
        if not maps:
            feeds = ", ".join(venue_feeds(venue))
            self._went_down(session, venue, f"{venue}: no feed process put instruments of {feeds} on the bus "
                                             f"within {self.instruments_within:.0f} s")
            return
        remaining = list(symbols)
        for feed_id, cls in venue_feeds(venue).items():
            symbol_map = maps.get(feed_id)
            if symbol_map is None or not remaining:
                continue
            listed = [s for s in remaining if s in symbol_map]
            for symbol in listed:
                await self._follow(venue, feed_id, symbol_map.by_symbol[symbol], cls.stale_after)
            remaining = [s for s in remaining if s not in listed]
        self.down.pop(venue, None)
        if remaining:
            self.unlisted.setdefault(venue, []).extend(remaining)

    async def _follow(self, venue: str, feed_id: str, inst: Instrument, stale_after: float) -> None:
        assert self.bus is not None
        book = await self.bus.follow(venue, inst.symbol, stale_after)
        if self.on_trade is not None or self.on_market is not None:
            await self.bus.follow_events(venue, inst.symbol, self.on_trade, self.on_market)
        unit = SizeUnit(inst.contract_size, inst.inverse)
        self.consolidated[inst.symbol].add(venue, book, base_fees(feed_id, inst).taker, unit)
        self._followed[(venue, inst.symbol)] = feed_id

    async def _venue_instruments(self, venue: str, *, wait: bool) -> dict[str, SymbolMap]:
        """Each of ``venue``'s feeds whose instruments are on the bus; while none is, waited for
        up to ``instruments_within`` seconds (a venue already down is looked at once: its
        background retry does the waiting)."""
        deadline = time.monotonic() + (self.instruments_within if wait else 0.0)
        feed_ids = list(venue_feeds(venue))
        while True:
            for feed_id in feed_ids:
                if feed_id not in self._symbol_maps:
                    await self._read_instruments(feed_id)
            found = {f: self._symbol_maps[f] for f in feed_ids if f in self._symbol_maps}
            if found or time.monotonic() > deadline:
                return found
            await asyncio.sleep(POLL)

    async def _read_instruments(self, feed_id: str) -> None:
        if self._instrument_kv is None:
            raise RuntimeError("BusMarketData: start() first")
        with contextlib.suppress(KeyNotFoundError):
            entry = await self._instrument_kv.get(subjects.token(feed_id, "feed id"))
            self._symbol_maps[feed_id] = SymbolMap(feed_id, instruments_from_json(entry.value or b"[]"))

    # ---- what MarketData reads from its feeds ---------------------------------------------------

    def instruments(self, symbol: str) -> list[Instrument]:
        symbol = symbol.upper()
        book = self.consolidated.get(symbol)
        if book is None:
            return []
        feed_ids = (self._followed.get((venue, symbol)) for venue in book.books)
        found = (self._symbol_maps[f].by_symbol.get(symbol) for f in feed_ids if f in self._symbol_maps)
        return [i for i in found if i is not None]
