"""The Desk's funding across venues: every perpetual's funding on every venue of the desk, side by
side, annualized, and per perpetual the spread between the venues that pay the most and the least;
and the live funding the basis scanner reads (``live_funding``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..arbitrage.basis import LiveFunding
from ..errors import UnknownSymbol
from ..feeds.handler import Channels
from ..model import FundingRate, Kind
from ..symbols import parse_standard
from ..venues.registry import venue_of
from .funding import Unread, fetch_funding, funding_sources, read_funding

if TYPE_CHECKING:
    from .desk import Desk

# the perpetuals read when none are named (those the desk's venues list)
DEFAULT_PERPETUALS = ("BTC-USDT-PERP", "ETH-USDT-PERP", "BTC-USD-PERP", "ETH-USD-PERP")
FUNDING = Channels(funding=True)
FIRST_STREAMED = 10.0  # seconds a publishing feed has to deliver its first funding before REST is read


def rate_json(rate: FundingRate) -> dict[str, Any]:
    """Rates as fractions per interval (0.0001 = 0.01 %), ``annualized`` a fraction per year, times
    in epoch seconds."""
    return {"venue": rate.venue, "symbol": rate.symbol, "ts": rate.ts, "rate": rate.rate, "next_time": rate.next_time,
            "interval_hours": rate.interval_hours, "annualized": rate.annualized, "predicted": rate.predicted}


@dataclass(frozen=True, slots=True)
class FundingSpread:
    """One perpetual's widest gap between venues: ``high`` pays the highest annualized rate."""

    symbol: str
    high: FundingRate
    low: FundingRate

    @property
    def annualized(self) -> float:
        """The high venue's annualized rate less the low one's (a fraction per year)."""
        return self.high.annualized - self.low.annualized

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "annualized": self.annualized, "high_venue": self.high.venue,
                "high_annualized": self.high.annualized, "low_venue": self.low.venue, "low_annualized": self.low.annualized}


@dataclass(frozen=True, slots=True)
class FundingBoard:
    """``rates`` per (venue, perpetual), by symbol then venue; ``unavailable``: those that could
    not be read and why."""

    symbols: tuple[str, ...]
    rates: tuple[FundingRate, ...]
    unavailable: tuple[Unread, ...]

    def of(self, symbol: str) -> list[FundingRate]:
        return [r for r in self.rates if r.symbol == symbol]

    @property
    def spreads(self) -> list[FundingSpread]:
        """Per perpetual read on two venues or more, the highest and lowest annualized rate."""
        out = []
        for symbol in self.symbols:
            rates = sorted(self.of(symbol), key=lambda r: r.annualized)
            if len(rates) > 1:
                out.append(FundingSpread(symbol, rates[-1], rates[0]))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"symbols": list(self.symbols), "rates": [rate_json(r) for r in self.rates],
                "spreads": [s.to_json() for s in self.spreads], "unavailable": [u.to_json() for u in self.unavailable]}


def _perpetuals(symbols: Sequence[str]) -> list[str]:
    wanted = [s.strip().upper() for s in symbols if s.strip()]
    if not wanted:
        raise UnknownSymbol("name at least one perpetual (e.g. BTC-USDT-PERP)")
    for symbol in wanted:
        if parse_standard(symbol)[2] is not Kind.PERP:
            raise UnknownSymbol(f"{symbol} is not a perpetual: funding is paid on perpetuals (e.g. {symbol.split('-')[0]}-USDT-PERP)")
    return list(dict.fromkeys(wanted))


def _listed(venues: list[str], symbols: list[str], named: bool) -> list[str]:
    """The ``symbols`` a feed of ``venues`` lists; when they were named, each one must be."""
    sources = funding_sources(venues, symbols)
    listed = {s for _, _, found in sources.values() for s in found}
    missing = [s for s in symbols if s not in listed]
    if named and missing:
        raise UnknownSymbol(f"no perpetual {', '.join(missing)} with a funding rate on {', '.join(venues)}")
    return [s for s in symbols if s in listed]


async def _heard(desk: Desk, live: LiveFunding, pairs: Set[tuple[str, str]], within: float) -> None:
    """Until each (venue, perpetual) of ``pairs`` streamed a rate to ``live``, at most ``within`` s."""
    heard = asyncio.Event()

    def look(_: object = None) -> None:
        if pairs <= live.streamed.keys():
            heard.set()

    stop = desk.on_market(look)  # after live's own sink: it sees the rate just received
    try:
        look()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(heard.wait(), within)
    finally:
        stop()


class FundingView:
    """The Desk's funding method (a base of Desk)."""

    async def funding(self, symbols: Sequence[str] | None = None) -> FundingBoard:
        """Every (venue, perpetual) funding of ``symbols`` (default: the standard perpetuals the
        desk's venues list) across the desk's venues, read now from their public APIs (the
        simulators' on a simulated desk or a config that names them); a venue that cannot be
        read is listed in ``unavailable`` with the reason."""
        desk = self._funding_desk()
        wanted = _listed(desk.venues, _perpetuals(symbols or DEFAULT_PERPETUALS), symbols is not None)
        rates, unread = await read_funding(desk.venues, wanted, desk.endpoint_overrides())
        order = {s: i for i, s in enumerate(wanted)}
        return FundingBoard(tuple(wanted), tuple(sorted(rates, key=lambda r: (order[r.symbol], r.venue))),
                            tuple(sorted(unread, key=lambda u: (order[u.symbol], u.venue))))

    async def live_funding(self, symbols: Sequence[str], first_within: float = FIRST_STREAMED) -> LiveFunding:
        """(venue, perpetual) -> funding rate for the perpetuals among ``symbols``, kept current by
        the venues' funding streams (followed now); a venue whose feed publishes no funding, or
        none within ``first_within`` seconds, is read once over REST. ``close()`` it when done."""
        desk = self._funding_desk()
        perps = [s.upper() for s in symbols if parse_standard(s.upper())[2] is Kind.PERP]
        live = LiveFunding(venue_of)
        if not perps:
            return live
        live.close = desk.on_market(live.receive)
        await desk.follow_market(perps, FUNDING)
        publishing = {(venue_of(f.venue), s) for f in desk.market.feeds for s in perps
                      if s in f.books and f.handler_cls.market_streams(FUNDING)}
        await _heard(desk, live, publishing, first_within)
        unheard = [(v, s) for v, _, listed in funding_sources(desk.venues, perps).values() for s in listed
                   if (v, s) not in live.streamed]
        if unheard:
            read = await fetch_funding(sorted({v for v, _ in unheard}), sorted({s for _, s in unheard}),
                                       desk.endpoint_overrides())
            live.read.update((k, r) for k, r in read.items() if k in unheard)
        return live

    def _funding_desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self
