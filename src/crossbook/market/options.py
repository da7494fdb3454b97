"""Option chains: the listed options of an underlying on every venue that has an options feed, their
L2 books through the same feeds as every other book, and each option's latest mark, implied
volatility and greeks as its venue publishes them.

Option feeds are followed on demand (a chain is dozens of books), per underlying and expiry, and
kept once followed so a second look at the same chain sends nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import VenueUnavailable
from ..feeds.handler import FeedHandler, MarketEvent
from ..feeds.manager import VenueFeed
from ..model import BookState, Instrument, OptionMark, OptionRight
from ..symbols import SymbolMap
from ..venues.registry import option_feeds, venue_of
from .data import MarketData, _breach


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One option on one venue: its touch from the live book, its venue's mark, vols and greeks.
    Prices are in ``unit`` (the base asset for a coin-margined option, e.g. OKX's BTC; else the
    quote currency); ``mark_value`` is the mark in the quote currency either way."""

    venue: str
    symbol: str
    native: str
    expiry: str
    strike: float
    right: OptionRight
    unit: str
    contract_size: float
    settle: str | None
    book: BookState
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    mark: float | None
    mark_value: float | None
    underlying: float | None
    iv: float | None
    bid_iv: float | None
    ask_iv: float | None
    delta: float | None
    gamma: float | None
    vega: float | None
    theta: float | None
    marked_at: float | None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["right"] = self.right.value
        out["book"] = self.book.value
        return out


class OptionFollower:
    """The options a desk follows, per venue options feed, on the market data's endpoints and REST
    budgets."""

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self.marks: dict[tuple[str, str], OptionMark] = {}  # (venue, symbol) -> latest mark
        self.feeds: list[VenueFeed] = []
        self._listed: dict[str, list[Instrument]] = {}  # feed id -> its option instruments
        self._followed: dict[str, VenueFeed] = {}  # "venue symbol" -> the feed carrying its book
        self._lock = asyncio.Lock()

    @staticmethod
    def venues_with_options(venues: Iterable[str]) -> list[str]:
        return [v for v in venues if option_feeds(v)]

    async def listed(self, venue: str) -> list[Instrument]:
        """Every option ``venue`` lists, from its options feeds' instrument endpoints (read once)."""
        out: list[Instrument] = []
        for feed_id, cls in option_feeds(venue).items():
            if feed_id not in self._listed:
                ws, rest = self.market.endpoints(feed_id)
                probe = VenueFeed(cls, [], ws_url=ws, rest_url=rest, breach=_breach(venue),
                                  limiter=self.market.limiters(venue))
                symbol_map = await probe.load_instruments(self._session())
                self._listed[feed_id] = [i for i in symbol_map.by_native.values() if i.strike is not None]
            out += self._listed[feed_id]
        return out

    async def follow(self, venue: str, symbols: list[str]) -> None:
        """Follow the books and marks of ``symbols`` (options ``venue`` lists) if not yet: on the
        options feed and on each of its companions (a venue serving the marks on a socket of their
        own)."""
        async with self._lock:
            for feed_id, cls in option_feeds(venue).items():
                listed = {i.symbol for i in self._listed.get(feed_id, [])}
                new = [s for s in symbols if s in listed and f"{venue} {s}" not in self._followed]
                if not new:
                    continue
                feed = await self._start(venue, feed_id, cls, new)
                for companion in cls.companions:
                    await self._start(venue, feed_id, companion, new, feed.symbol_map)
                self._followed.update({f"{venue} {s}": feed for s in new})

    async def _start(self, venue: str, feed_id: str, cls: type[FeedHandler], symbols: list[str],
                     symbol_map: SymbolMap | None = None) -> VenueFeed:
        """A feed of ``cls`` for ``symbols`` on ``feed_id``'s endpoints, started and kept (to stop);
        ``symbol_map``: the listing already read for them."""
        ws, rest = self.market.endpoints(feed_id)
        feed = VenueFeed(cls, symbols, ws_url=ws, rest_url=rest, on_market=self._on_market,
                         breach=_breach(venue), limiter=self.market.limiters(venue))
        feed.symbol_map = symbol_map
        await feed.start(self._session())
        self.feeds.append(feed)
        return feed

    def _on_market(self, event: MarketEvent) -> None:
        if isinstance(event, OptionMark):  # a handler names its feed (binanceoptions)
            self.marks[(venue_of(event.venue), event.symbol)] = event

    def ready(self, venue: str, symbol: str) -> bool:
        """The option's book is live and its venue has marked it."""
        feed = self._followed.get(f"{venue} {symbol}")
        book = feed.books.get(symbol) if feed is not None else None
        return book is not None and book.status() is BookState.LIVE and (venue, symbol) in self.marks

    async def wait_ready(self, wanted: list[tuple[str, str]], within: float) -> None:
        deadline = time.monotonic() + within
        while not all(self.ready(v, s) for v, s in wanted):
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)

    def quote(self, venue: str, inst: Instrument) -> OptionQuote:
        feed = self._followed.get(f"{venue} {inst.symbol}")
        book = feed.books.get(inst.symbol) if feed is not None else None
        state = book.status() if book is not None else BookState.DOWN
        bid = book.best_bid() if book is not None and state is BookState.LIVE else None
        ask = book.best_ask() if book is not None and state is BookState.LIVE else None
        mark = self.marks.get((venue, inst.symbol))
        unit = inst.base if inst.premium_in_base else inst.quote
        value = None
        if mark is not None:
            value = mark.mark * mark.underlying if inst.premium_in_base and mark.underlying else mark.mark
        return OptionQuote(
            venue=venue, symbol=inst.symbol, native=inst.native, expiry=inst.expiry or "", strike=float(inst.strike or 0),
            right=inst.right or OptionRight.CALL, unit=unit, contract_size=inst.contract_size, settle=inst.settle,
            book=state,
            bid=bid[0] if bid else None, bid_size=bid[1] if bid else None,
            ask=ask[0] if ask else None, ask_size=ask[1] if ask else None,
            mark=mark.mark if mark else None, mark_value=value, underlying=mark.underlying if mark else None,
            iv=mark.iv if mark else None, bid_iv=mark.bid_iv if mark else None, ask_iv=mark.ask_iv if mark else None,
            delta=mark.delta if mark else None, gamma=mark.gamma if mark else None,
            vega=mark.vega if mark else None, theta=mark.theta if mark else None,
            marked_at=mark.ts if mark else None,
        )

    def _session(self) -> Any:
        session = self.market._session
        if session is None:
            raise VenueUnavailable("the market data is not started: no session to reach the options feeds")
        return session

    async def stop(self) -> None:
        await asyncio.gather(*(f.stop() for f in self.feeds))
        self.feeds.clear()
        self._followed.clear()
