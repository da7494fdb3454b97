"""Simulated OKX options' marks: the ``mark-price`` and ``opt-summary`` rows of one option, from
its own book and the perpetual's fair price (the forward it is marked from).

The mark is the book's mid (in the base coin, as OKX quotes), inside the touch by construction;
the mark volatility is the one that prices the mark by Black-76 on the forward, the bid and ask
volatilities those that price the touch ("0" where none does, as OKX sends), the greeks
Black-Scholes' at the mark volatility (``*BS``, in USD) and price-adjusted in coin (``delta``
minus the premium, the others over the forward)."""

from __future__ import annotations

from dataclasses import dataclass

from .... import black76
from ....symbols import parse_option
from ...market import Ladder
from ...options import surface_vol, years_to

DIGITS = 10  # OKX writes vols and greeks with up to 10 decimals


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One option's mark in coin, its volatilities and greeks, at ``forward`` in USD."""

    mark: float
    forward: float
    mark_vol: float
    bid_vol: float | None
    ask_vol: float | None
    greeks: black76.Greeks


def text(value: float | None) -> str:
    return "0" if value is None else f"{value:.{DIGITS}f}".rstrip("0").rstrip(".") or "0"


def touch(ladder: Ladder) -> tuple[float | None, float | None]:
    bids, asks = ladder.top(True, 1), ladder.top(False, 1)
    return (ladder.price(bids[0][0]) if bids else None), (ladder.price(asks[0][0]) if asks else None)


def option_quote(symbol: str, ladder: Ladder, forward: float, expiry_ts: float, now: float) -> OptionQuote:
    option = parse_option(symbol)
    call, years = option.right.value == "C", years_to(expiry_ts, now)
    bid, ask = touch(ladder)
    sides = [p for p in (bid, ask) if p is not None]
    mark = sum(sides) / len(sides) if sides else 0.0

    def vol_of(coin: float | None) -> float | None:
        return None if coin is None else black76.implied_vol(coin * forward, forward, option.strike, years, call)

    mark_vol = vol_of(mark) or surface_vol(option.base, option.strike, forward, years)
    greeks = black76.greeks(forward, option.strike, years, mark_vol, call)
    return OptionQuote(mark, forward, mark_vol, vol_of(bid), vol_of(ask), greeks)


def mark_row(native: str, quote: OptionQuote, ms: int) -> dict[str, str]:
    """``mark-price`` (and ``/public/mark-price``): the mark in coin."""
    return {"instType": "OPTION", "instId": native, "markPx": text(quote.mark), "ts": str(ms)}


def summary_row(native: str, quote: OptionQuote, ms: int) -> dict[str, str]:
    """``opt-summary`` (and ``/public/opt-summary``): one option of a family."""
    g, forward = quote.greeks, quote.forward
    return {
        "instType": "OPTION", "instId": native, "uly": "-".join(native.split("-")[:2]),
        "delta": text(g.delta - quote.mark), "gamma": text(g.gamma * forward), "vega": text(g.vega / forward),
        "theta": text(g.theta / forward), "lever": text(1 / quote.mark if quote.mark else None),
        "markVol": text(quote.mark_vol), "bidVol": text(quote.bid_vol), "askVol": text(quote.ask_vol), "realVol": "",
        "volLv": text(quote.mark_vol), "deltaBS": text(g.delta), "gammaBS": text(g.gamma), "thetaBS": text(g.theta),
        "vegaBS": text(g.vega), "fwdPx": text(forward), "ts": str(ms),
    }
