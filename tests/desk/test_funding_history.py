"""desk.funding_history: a perpetual's settled funding through ccxt's fetch_funding_rate_history,
paced by the venue's limiter, equal to the simulator's own settlements."""

from __future__ import annotations

import itertools

import pytest

from crossbook import Desk
from crossbook.desk.funding_history import FundingHistory
from crossbook.errors import UnknownSymbol
from crossbook.sim.perp_prices import PerpPrices

from ..conftest import run

PERP = "BTC-USDT-PERP"


def own_rates(desk: Desk, feed: str, symbol: str, history: FundingHistory) -> dict[float, float]:
    """The simulator's own settlements at the history's times."""
    sim = desk._simulated().cluster.venues[feed]
    assert isinstance(sim, PerpPrices)
    first, last = (int(history.rates[k].ts * 1000) for k in (0, -1))
    return {s.ms / 1000: float(s.rate) for s in sim.funding_history(symbol, first, last, len(history.rates))}


def test_the_history_is_the_simulators_own_settlements() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "bybit"]) as desk:
            limiter = desk.market.limiters("binance")
            assert limiter is not None
            spent = sum(limiter.usage().values())
            newest = await desk.funding_history("binance", PERP, limit=5)
            assert sum(limiter.usage().values()) > spent, "the reads went through the venue's limiter"
            assert [r.venue for r in newest.rates] == ["binance"] * 5
            assert {r.ts: r.rate for r in newest.rates} == own_rates(desk, "binanceusdm", PERP, newest)
            assert all(r.interval_hours == 8.0 and r.next_time == r.ts for r in newest.rates)
            assert [b.ts - a.ts for a, b in itertools.pairwise(newest.rates)] == [8 * 3600.0] * 4

            since = await desk.funding_history("binance", PERP, since=newest.rates[1].ts, limit=3)
            assert since.rates == newest.rates[1:4], "from since, oldest first"
            inverse = await desk.funding_history("bybit", "btc-usd-perp", limit=4)  # the SPEC's funding client
            assert {r.ts: r.rate for r in inverse.rates} == own_rates(desk, "bybitinverse", "BTC-USD-PERP", inverse)
            assert newest.to_json()["rates"][0]["rate"] == newest.rates[0].rate

            with pytest.raises(UnknownSymbol, match="not a perpetual"):
                await desk.funding_history("binance", "BTC-USDT")

    run(body(), timeout=120)
