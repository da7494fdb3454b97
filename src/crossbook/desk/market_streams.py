"""The Desk's subscriptions to the streams beyond the book (a base of Desk): candles, tickers,
funding, mark and index prices, open interest, from each venue's own WebSocket channels.

    await desk.follow_market(["BTC-USDT-PERP"], Channels(candles=(Interval.M1,), ticker=True, funding=True))
    async for event in desk.market_events(["BTC-USDT-PERP"]):
        ...

``subscribe_market(channels)`` adds the ticker, funding and liquidation streams to what every
symbol the desk follows from then on subscribes on its own sockets (before ``start``: the symbols
followed from the start too); ``follow_market`` also follows the symbols, and what a symbol's
sockets do not carry (its candles, always; streams asked for after it was followed) comes from a
companion feed per venue feed (its own book beside, never read; OKX's candle socket has none). Once a symbol's streams are followed
and live, ``desk.candles`` and ``desk.ticker`` answer from them (``StreamReads``) and fall back to
each venue's REST API for anything else."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..book.l2 import L2Book
from ..errors import CrossbookError
from ..feeds.handler import NO_CHANNELS, Channels, FeedHandler, MarketEvent
from ..feeds.manager import VenueFeed
from ..model import BookState, Candle, FundingRate, IndexPrice, Interval, MarkPrice, OpenInterest, Ticker
from ..venues.registry import venue_of
from .rest_market import RestMarket

if TYPE_CHECKING:
    from .desk import Desk

KEEP_CANDLES = 1500  # candles held per (venue, symbol, interval): a day of 1m
TICKER_FRESH = 30.0  # seconds: a streamed ticker older than this (by receipt) is not answered from
QUEUE_SIZE = 10_000  # events a market_events reader may fall behind before events are dropped
StreamKey = tuple[str, str]  # (venue, symbol)


def merged(a: Channels, b: Channels) -> Channels:
    """Every stream of ``a`` or ``b``."""
    return Channels(tuple(dict.fromkeys((*a.candles, *b.candles))), a.ticker or b.ticker, a.funding or b.funding,
                    a.liquidations or b.liquidations)


def missing(wanted: Channels, held: Channels) -> Channels:
    """The streams of ``wanted`` that ``held`` lacks."""
    return Channels(tuple(i for i in wanted.candles if i not in held.candles), wanted.ticker and not held.ticker,
                    wanted.funding and not held.funding, wanted.liquidations and not held.liquidations)


@dataclass
class StreamStore:
    """The latest of each stream per (venue, symbol), the recent candles, and the callbacks every
    event goes to. ``carriers``: the books whose sockets carry a (venue, symbol)'s streams (one
    live means the streams are)."""

    tickers: dict[StreamKey, tuple[Ticker, float]] = field(default_factory=dict)  # with when it came (time.time)
    funding: dict[StreamKey, FundingRate] = field(default_factory=dict)
    marks: dict[StreamKey, MarkPrice] = field(default_factory=dict)
    indexes: dict[StreamKey, IndexPrice] = field(default_factory=dict)
    open_interest: dict[StreamKey, OpenInterest] = field(default_factory=dict)
    carriers: dict[StreamKey, list[L2Book]] = field(default_factory=dict)
    callbacks: list[Callable[[MarketEvent], None]] = field(default_factory=list)
    _candles: dict[tuple[str, str, Interval], OrderedDict[float, Candle]] = field(default_factory=dict)

    def receive(self, event: MarketEvent) -> None:
        venue = venue_of(event.venue)
        if venue != event.venue:  # a product feed (binanceusdm): the desk names the venue
            event = replace(event, venue=venue)
        key = (venue, event.symbol)
        if isinstance(event, Candle):
            self._keep_candle(event)
        elif isinstance(event, Ticker):
            self.tickers[key] = (event, time.time())
        elif isinstance(event, FundingRate):
            self.funding[key] = event
        elif isinstance(event, MarkPrice):
            self.marks[key] = event
        elif isinstance(event, IndexPrice):
            self.indexes[key] = event
        elif isinstance(event, OpenInterest):
            self.open_interest[key] = event
        for callback in list(self.callbacks):
            callback(event)

    def _keep_candle(self, candle: Candle) -> None:
        held = self._candles.setdefault((candle.venue, candle.symbol, candle.interval), OrderedDict())
        if held and candle.open_time < next(iter(held)):
            return  # older than what is held: a REST repair never reaches before the stream's start
        held[candle.open_time] = candle
        if len(held) > 1 and candle.open_time < next(reversed(held)):
            for t in sorted(held):  # a repaired candle arrived after newer ones: keep them in order
                held.move_to_end(t)
        while len(held) > KEEP_CANDLES:
            held.popitem(last=False)

    def candles(self, venue: str, symbol: str, interval: Interval) -> list[Candle]:
        """The streamed candles held, oldest first."""
        return list(self._candles.get((venue, symbol, interval), {}).values())

    def live(self, venue: str, symbol: str) -> bool:
        """Whether a socket carrying ``venue``'s streams of ``symbol`` is live now."""
        now = time.time()
        return any(book.status(now) is BookState.LIVE for book in self.carriers.get((venue, symbol), ()))


def candle_socket(handler: type[FeedHandler]) -> type[FeedHandler]:
    """The handler whose socket carries ``handler``'s candles: the one its venue names, else itself."""
    return handler.candle_feed or handler


def contiguous(candles: Sequence[Candle]) -> bool:
    step = candles[0].interval.seconds if candles else 0
    return all(b.open_time - a.open_time == step for a, b in itertools.pairwise(candles))


def from_stream(held: list[Candle], since: float | None, limit: int | None) -> list[Candle] | None:
    """What a REST read of ``since`` / ``limit`` would answer, from ``held`` (oldest first); None
    when ``held`` does not cover it without a hole (a gap not yet repaired), or when neither is
    given (the venue's default length, which only REST knows)."""
    if since is not None:
        if not held or since < held[0].open_time:
            return None
        chosen = [c for c in held if c.open_time >= since]
        chosen = chosen[:limit] if limit is not None else chosen
    elif limit is None or limit > len(held):
        return None
    else:
        chosen = held[-limit:]
    return chosen if contiguous(chosen) else None


class StreamReads:
    """``MarketReads`` from the desk's streams where they are followed and live, else ``rest()``."""

    def __init__(self, store: StreamStore, rest: Callable[[], RestMarket]) -> None:
        self.store = store
        self.rest = rest
        self.streamed = 0  # reads answered from the streams
        self.fell_back = 0  # reads answered by REST

    async def candles(self, venue: str, symbol: str, interval: Interval, since: float | None,
                      limit: int | None) -> list[Candle]:
        if self.store.live(venue, symbol):
            answer = from_stream(self.store.candles(venue, symbol, interval), since, limit)
            if answer is not None:
                self.streamed += 1
                return answer
        self.fell_back += 1
        return await self.rest().candles(venue, symbol, interval, since, limit)

    async def ticker(self, venue: str, symbol: str) -> Ticker:
        held = self.store.tickers.get((venue, symbol))
        if held is not None and time.time() - held[1] < TICKER_FRESH and self.store.live(venue, symbol):
            self.streamed += 1
            return held[0]
        self.fell_back += 1
        return await self.rest().ticker(venue, symbol)


class MarketStreams:
    """The Desk's market-stream subscriptions (a base of Desk)."""

    _stream_store: StreamStore | None = None
    _stream_channels: Channels = NO_CHANNELS
    _companions: list[VenueFeed] | None = None
    _carried: dict[tuple[str, str], Channels] | None = None  # (feed id, symbol) -> the streams carried
    _carrying: asyncio.Lock | None = None

    def streams(self) -> StreamStore:
        """What the desk's streams delivered last (and the hook every feed's events go to)."""
        desk = self._streams_desk()
        if self._stream_store is None:
            self._stream_store = StreamStore()
            desk.market.on_market = self._stream_store.receive
            desk.market_reads = StreamReads(self._stream_store, lambda: RestMarket(desk.endpoint_overrides()))
        return self._stream_store

    def subscribe_market(self, channels: Channels) -> None:
        """Every symbol the desk follows from now on (before ``start``: from the start) subscribes
        the ticker, funding and liquidation streams of ``channels`` on its own sockets, on each
        venue that publishes them (candles come per symbol, from ``follow_market``)."""
        desk = self._streams_desk()
        self.streams()
        self._stream_channels = replace(merged(self._stream_channels, channels), candles=())
        desk.market.channels = self._stream_channels

    async def follow_market(self, symbols: Iterable[str], channels: Channels) -> None:
        """Follow ``symbols`` with ``channels`` on every venue of the desk that publishes them;
        their events go to ``on_market`` callbacks and ``market_events`` readers."""
        desk = self._streams_desk()
        wanted = [s.upper() for s in symbols]
        self.subscribe_market(channels)
        await desk.follow(wanted)
        if self._carrying is None:
            self._carrying = asyncio.Lock()
        async with self._carrying:
            for symbol in wanted:
                await self._carry(symbol, channels)

    async def _carry(self, symbol: str, channels: Channels) -> None:
        """Make each venue feed of ``symbol`` carry ``channels``: what its own socket lacks comes
        from a companion feed (candles from the venue's candle socket, where it has its own)."""
        desk = self._streams_desk()
        store = self.streams()
        carried = self._carried if self._carried is not None else {}
        self._carried = carried
        for feed in [f for f in desk.market.feeds if symbol in f.books]:
            key = (feed.venue, symbol)
            own = feed.on_market is not None
            if own and feed.books[symbol] not in store.carriers.setdefault((venue_of(feed.venue), symbol), []):
                store.carriers[(venue_of(feed.venue), symbol)].append(feed.books[symbol])
            held = carried.get(key, feed.channels if own else NO_CHANNELS)
            lacking = missing(channels, held)
            flags = replace(lacking, candles=())
            if feed.handler_cls.market_streams(flags):
                await self._companion(feed, feed.handler_cls, symbol, flags)
            candles = tuple(i for i in lacking.candles if i in feed.handler_cls.interval_names)
            if candles:
                await self._companion(feed, candle_socket(feed.handler_cls), symbol, Channels(candles=candles))
            carried[key] = merged(held, channels)

    async def _companion(self, feed: VenueFeed, handler: type[FeedHandler], symbol: str, channels: Channels) -> None:
        desk = self._streams_desk()
        session = desk.market._session
        if session is None:
            raise CrossbookError("the desk's market data is not started")
        store = self.streams()
        companion = VenueFeed(handler, [symbol], ws_url=feed.ws_url, rest_url=feed.rest_url, on_market=store.receive,
                              channels=channels, breach=feed.breach, limiter=feed.limiter,
                              subscribe_limits=feed.subscribe_limits)
        companion.symbol_map = feed.symbol_map
        if self._companions is None:
            self._companions = []
        self._companions.append(companion)
        await companion.start(session)
        store.carriers.setdefault((venue_of(feed.venue), symbol), []).append(companion.books[symbol])

    async def stop_market_streams(self) -> None:
        """Stop the companion feeds (the desk's own stop does)."""
        companions, self._companions = self._companions or [], None
        await asyncio.gather(*(f.stop() for f in companions), return_exceptions=True)

    def on_market(self, callback: Callable[[MarketEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event of the followed streams (on the desk's event loop;
        it must not block); returns what unsubscribes it."""
        store = self.streams()
        store.callbacks.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                store.callbacks.remove(callback)

        return unsubscribe

    async def market_events(self, symbols: Sequence[str] | None = None,
                            channels: Channels | None = None) -> AsyncIterator[MarketEvent]:
        """The followed streams' events of ``symbols`` (default: every symbol) as they come;
        ``channels``: follow ``symbols`` with these first. A reader more than QUEUE_SIZE events
        behind loses the newest ones until it catches up."""
        wanted = None if symbols is None else {s.upper() for s in symbols}
        if channels is not None:
            if wanted is None:
                raise CrossbookError("market_events: name the symbols to follow with channels")
            await self.follow_market(wanted, channels)
        queue: asyncio.Queue[MarketEvent] = asyncio.Queue(QUEUE_SIZE)

        def offer(event: MarketEvent) -> None:
            if wanted is None or event.symbol in wanted:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(event)

        unsubscribe = self.on_market(offer)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    def _streams_desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self
