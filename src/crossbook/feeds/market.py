"""MarketData: live consolidated books for standard symbols across venues.

For each venue it walks the venue's feeds in order (spot first), loads each feed's instruments from
the venue's own metadata endpoint and subscribes the requested symbols that feed lists, so
BTC-USDT lands on Binance spot and BTC-USDT-PERP on Binance USD-M. A venue that cannot be reached
is reported down with the reason; one that does not list a symbol is reported as such.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp

from ..book.consolidated import ConsolidatedBook, SizeUnit, VenueQuote
from ..errors import NoConversionRate, VenueUnavailable
from ..model import BookState, Side, Trade
from ..routing.conversion import DEFAULT_EQUIVALENTS, Conversion, equivalent_symbols
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

    def quote(
        self,
        symbol: str,
        side: Side,
        amount: float,
        *,
        equivalents: Iterable[str] = DEFAULT_EQUIVALENTS,
        balances: Mapping[str, Mapping[str, float]] | None = None,
        fee_rates: Mapping[str, float] | None = None,
    ) -> dict[str, object]:
        """The best all-in price for ``amount`` of ``symbol`` and every venue's quote, as the
        ``crossbook quote --json`` object.

        The same instrument quoted in a currency declared equivalent (BTC-USD, BTC-USDC for
        BTC-USDT), where subscribed, joins as ``"<venue>:<symbol>"`` with its prices converted into
        the asked quote currency at the live rate from the subscribed conversion books
        (``quote_currency``, ``conversion_rate``, ``conversion_via``); one that cannot be converted
        carries ``conversion_error`` and no price. ``fee_rates`` (venue -> taker fee, the account's
        tier) overrides the venues' default fees. With ``balances`` (venue -> currency -> available)
        each priced entry says whether the venue's account can pay for it (``affordable``,
        ``max_amount`` in base units: the quote currency it spends for a buy, the base for a sell)
        and only an affordable one can be best.
        """
        symbol = symbol.upper()
        now = time.time()
        fees = fee_rates or {}
        entries = {venue: quote_json(q) for venue, q in self.consolidated[symbol].quote(side, amount, now, fees).items()}
        conversion = Conversion(self.consolidated, equivalents)
        for other in equivalent_symbols(symbol, equivalents):
            if other in self.consolidated:
                for venue, q in self.consolidated[other].quote(side, amount, now, fees).items():
                    entries[f"{venue}:{other}"] = converted_quote(q, other, symbol, side, conversion, now)
        if balances is not None:
            for key, entry in entries.items():
                if entry["all_in_price"] is not None:
                    entry.update(self._affordability(key, symbol, side, amount, balances, fees))
        venues: dict[str, object] = dict(entries)
        for venue in self.venues:
            if venue in self.down:
                venues[venue] = {
                    "status": BookState.DOWN.value,
                    "filled": 0.0,
                    "vwap": None,
                    "fee_rate": fees.get(venue, feed_class(venue).taker_fee),
                    "all_in_price": None,
                }
        return {
            "symbol": self.consolidated[symbol].symbol,
            "side": side.value,
            "amount": amount,
            "best": best_entry(entries, side),
            "venues": venues,
        }

    def _affordability(
        self,
        key: str,
        symbol: str,
        side: Side,
        amount: float,
        balances: Mapping[str, Mapping[str, float]],
        fees: Mapping[str, float],
    ) -> dict[str, object]:
        """Whether the account on the entry's venue can pay for the order in the currency the
        order spends there (no account: nothing available)."""
        venue, _, market = key.partition(":")
        market = market or symbol
        base, quote, _, _ = parse_standard(market)
        spends = quote if side is Side.BUY else base
        funds = balances.get(venue, {}).get(spends, 0.0)
        most = self.consolidated[market].max_amount(venue, side, funds, fees.get(venue))
        return {"affordable": most >= amount * (1 - 1e-12), "max_amount": most}


def quote_json(q: VenueQuote) -> dict[str, object]:
    return {
        "status": q.status.value,
        "filled": q.filled,
        "vwap": q.vwap,
        "fee_rate": q.fee_rate,
        "all_in_price": q.all_in_price,
    }


def converted_quote(q: VenueQuote, market: str, asked: str, side: Side, conversion: Conversion, now: float) -> dict[str, object]:
    """A venue's quote of ``market`` with its prices expressed in ``asked``'s quote currency."""
    source, target = parse_standard(market)[1], parse_standard(asked)[1]
    entry = quote_json(q) | {"symbol": market, "quote_currency": source}
    if q.all_in_price is None:
        return entry
    try:
        rate = conversion.rate(source, target, side, now)
    except NoConversionRate as exc:
        return entry | {"all_in_price": None, "conversion_error": str(exc)}
    vwap = None if q.vwap is None else q.vwap * rate.rate
    return entry | {"vwap": vwap, "all_in_price": q.all_in_price * rate.rate, "conversion_rate": rate.rate,
                    "conversion_via": rate.via}


def best_entry(entries: Mapping[str, dict[str, object]], side: Side) -> dict[str, object] | None:
    """The lowest all-in price for a buy, highest for a sell, among entries that fill completely
    (and that the account can afford, where balances were given). A converted market's best also
    names its symbol, quote currency and rate."""
    priced = {k: e for k, e in entries.items() if e["all_in_price"] is not None and e.get("affordable", True)}
    if not priced:
        return None
    pick = min if side is Side.BUY else max
    key = pick(priced, key=lambda k: priced[k]["all_in_price"])  # type: ignore[arg-type,return-value]
    entry = priced[key]
    best: dict[str, object] = {"venue": key.partition(":")[0], "all_in_price": entry["all_in_price"]}
    if "conversion_rate" in entry:
        best |= {"symbol": entry["symbol"], "quote_currency": entry["quote_currency"], "conversion_rate": entry["conversion_rate"]}
    return best
