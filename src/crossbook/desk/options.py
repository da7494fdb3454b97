"""The Desk's option chains (a base of Desk): ``desk.option_chain("BTC")`` lists one expiry's options
on every venue of the desk that has an options market, each with its live touch and its venue's
mark, implied volatility and greeks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, CrossbookError, UnknownSymbol, UnknownVenue
from ..market.options import OptionFollower, OptionQuote
from ..model import Instrument

if TYPE_CHECKING:
    from .desk import Desk

CHAIN_WITHIN = 20.0  # seconds a newly followed chain's books and marks get to arrive


@dataclass(frozen=True, slots=True)
class OptionChain:
    """One underlying's options at one expiry, strike then call before put then venue. ``expiries``:
    every expiry the venues list; ``unavailable``: venue -> why its chain could not be read."""

    underlying: str
    expiry: str
    expiries: tuple[str, ...]
    quotes: tuple[OptionQuote, ...]
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def venues(self) -> list[str]:
        return list(dict.fromkeys(q.venue for q in self.quotes))

    @property
    def strikes(self) -> list[float]:
        return sorted({q.strike for q in self.quotes})

    def to_json(self) -> dict[str, Any]:
        return {"underlying": self.underlying, "expiry": self.expiry, "expiries": list(self.expiries),
                "venues": self.venues, "quotes": [q.to_json() for q in self.quotes], "unavailable": self.unavailable}


def parse_expiry(expiry: str | None) -> str | None:
    if expiry is None:
        return None
    if not re.fullmatch(r"\d{8}", expiry):
        raise ConfigError(f"expiry must be YYYYMMDD, not {expiry!r}")
    return expiry


class OptionChains:
    """``option_chain`` (a base of Desk)."""

    venues: list[str]
    _option_follower: OptionFollower | None = None

    async def option_chain(self, underlying: str, expiry: str | None = None, *, venues: Sequence[str] | None = None,
                           within: float = CHAIN_WITHIN) -> OptionChain:
        """``underlying``'s options (BTC, ETH) at ``expiry`` (YYYYMMDD; default: the nearest any
        venue lists) on every venue of the desk with an options market (only ``venues``, when
        given). Waits up to ``within`` seconds for a chain followed for the first time to have live
        books and marks; what has not arrived by then is listed without it."""
        desk = self._options_desk()
        if not desk._started:
            raise CrossbookError("the desk is not started: use it as `async with Desk...(...) as desk:`")
        if desk.simulator is not None and not desk.simulator.options:
            raise ConfigError("this simulated desk runs no options markets: start it with Desk.sim(..., options=True)")
        asset, wanted = underlying.upper(), parse_expiry(expiry)
        follower = self._follower(desk)
        chosen = self._option_venues(follower, venues)
        listed, unavailable = await self._listed(follower, chosen, asset)
        expiries = tuple(sorted({i.expiry for insts in listed.values() for i in insts if i.expiry}))
        if not expiries:
            raise UnknownSymbol(f"no venue of {', '.join(chosen)} lists an option on {asset}"
                                + (f" ({'; '.join(f'{v}: {r}' for v, r in unavailable.items())})" if unavailable else ""))
        if wanted is not None and wanted not in expiries:
            raise UnknownSymbol(f"no {asset} option expires on {wanted}; listed expiries: {', '.join(expiries)}")
        day = wanted or expiries[0]
        series = {v: [i for i in insts if i.expiry == day] for v, insts in listed.items()}
        await asyncio.gather(*(follower.follow(v, [i.symbol for i in insts]) for v, insts in series.items() if insts))
        await follower.wait_ready([(v, i.symbol) for v, insts in series.items() for i in insts], within)
        quotes = [follower.quote(v, i) for v, insts in series.items() for i in insts]
        quotes.sort(key=lambda q: (q.strike, q.right.value, chosen.index(q.venue)))
        return OptionChain(asset, day, expiries, tuple(quotes), unavailable)

    def _follower(self, desk: Desk) -> OptionFollower:
        if self._option_follower is None:
            self._option_follower = OptionFollower(desk.market)
        return self._option_follower

    def _option_venues(self, follower: OptionFollower, venues: Sequence[str] | None) -> list[str]:
        asked = self.venues if venues is None else [v.lower() for v in venues]
        unknown = [v for v in asked if v not in self.venues]
        if unknown:
            raise UnknownVenue(f"{', '.join(unknown)}: not a venue of this desk ({', '.join(self.venues)})")
        chosen = follower.venues_with_options(asked)
        if not chosen:
            raise UnknownVenue(f"none of {', '.join(asked)} has an options market crossbook follows")
        return chosen

    @staticmethod
    async def _listed(follower: OptionFollower, venues: list[str], asset: str
                      ) -> tuple[dict[str, list[Instrument]], dict[str, str]]:
        found = await asyncio.gather(*(follower.listed(v) for v in venues), return_exceptions=True)
        listed: dict[str, list[Instrument]] = {}
        unavailable: dict[str, str] = {}
        for venue, result in zip(venues, found, strict=True):
            if isinstance(result, CrossbookError):
                unavailable[venue] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                listed[venue] = [i for i in result if i.base == asset]
        return listed, unavailable

    async def _stop_option_chains(self) -> None:
        if self._option_follower is not None:
            await self._option_follower.stop()
            self._option_follower = None

    def _options_desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self
