"""All ten venues on the simulator at once: every book syncs, the consolidated book is never
crossed by a stale venue, and the quote picks the lowest all-in price."""

from __future__ import annotations

import aiohttp

from crossbook.demo import EXTRA, SYMBOL
from crossbook.market.data import MarketData
from crossbook.model import Side
from crossbook.sim.cluster import SimCluster
from crossbook.venues.registry import VENUES, venue_feeds

from ..conftest import run


def test_every_venue_syncs_and_the_best_all_in_price_wins() -> None:
    async def body() -> None:
        async with SimCluster([f for v in VENUES for f in venue_feeds(v)], interval=0.1, levels=200) as cluster:
            venues = [v for v in VENUES if v not in EXTRA]
            md = MarketData(venues, [SYMBOL], endpoints=cluster.urls)
            extra = MarketData(list(EXTRA), list(set(EXTRA.values())), endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                await extra.start(session)
                try:
                    assert md.down == {} and extra.down == {}
                    assert md.unlisted == {}, "every venue but dYdX lists BTC-USDT"
                    assert await md.wait_live(30), {v: b.status().value for v, b in md.consolidated[SYMBOL].books.items()}
                    assert await extra.wait_live(30)
                    quote = md.quote(SYMBOL, Side.BUY, 1.0)
                    prices = {v: q["all_in_price"] for v, q in quote["venues"].items()}  # type: ignore[union-attr]
                    assert set(prices) == set(venues)
                    assert all(p is not None for p in prices.values()), prices
                    best = quote["best"]
                    assert isinstance(best, dict)
                    assert best["all_in_price"] == min(prices.values())  # type: ignore[type-var]
                    consolidated = md.consolidated[SYMBOL]
                    bid, ask = consolidated.best_bid(), consolidated.best_ask()
                    assert bid is not None and ask is not None
                    fair = cluster.market.fair.fair(SYMBOL)
                    assert abs(bid.price / fair - 1) < 0.002 and abs(ask.price / fair - 1) < 0.002
                finally:
                    await md.stop()
                    await extra.stop()

    run(body(), timeout=90)


def test_perpetual_quotes_are_in_base_units_whatever_the_venue_contract() -> None:
    """OKX swaps trade 0.01 BTC contracts, Gate 0.0001 BTC, Binance COIN-M and Bybit inverse 100
    USD ones: a quote for 0.2 BTC must cost about 0.2 BTC at the fair price on every venue."""
    symbols = ["BTC-USDT-PERP", "BTC-USD-PERP"]

    async def body() -> None:
        async with SimCluster([f for v in VENUES for f in venue_feeds(v)], interval=0.1, levels=200) as cluster:
            md = MarketData(list(VENUES), symbols, endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    for symbol in symbols:
                        venues = md.consolidated[symbol].books
                        assert len(venues) >= 3, (symbol, list(venues))
                        fair = cluster.market.fair.fair(symbol)
                        quote = md.quote(symbol, Side.BUY, 0.2)
                        for venue, q in quote["venues"].items():  # type: ignore[union-attr]
                            assert q["filled"] == 0.2 or abs(q["filled"] - 0.2) < 1e-9, (symbol, venue, q)
                            assert abs(q["vwap"] / fair - 1) < 0.003, (symbol, venue, q, fair)
                finally:
                    await md.stop()

    run(body(), timeout=90)
