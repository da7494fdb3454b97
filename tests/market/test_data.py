"""MarketData on simulated venues (127.0.0.1, port 0): a venue that could not be reached when one
symbol was followed is tried again when later symbols are followed."""

from __future__ import annotations

import aiohttp

from crossbook.market.data import MarketData, RetryPolicy, VenueRetry
from crossbook.sim.cluster import SimCluster

from ..conftest import run, wait_for


def test_a_venue_down_for_one_symbol_is_tried_again_when_the_next_is_followed() -> None:
    async def body() -> None:
        async with SimCluster(["binance", "kraken"]) as cluster:
            refusing = {"kraken"}

            def endpoints(feed: str) -> tuple[str, str]:
                ws, rest = cluster.urls(feed)
                return (ws, rest + "/refused") if feed in refusing else (ws, rest)  # its metadata call: 404

            market = MarketData(["binance", "kraken"], ["BTC-USDT"], endpoints=endpoints)
            async with aiohttp.ClientSession() as session:
                await market.start(session)
                try:
                    assert "HTTP 404" in market.down["kraken"]
                    assert set(market.consolidated["BTC-USDT"].books) == {"binance"}

                    refusing.clear()  # kraken answers again
                    assert await market.add_symbols(["ETH-USDT"]) == ["ETH-USDT"]
                    assert "kraken" not in market.down
                    for symbol in ("BTC-USDT", "ETH-USDT"):  # the symbol it missed too
                        assert set(market.consolidated[symbol].books) == {"binance", "kraken"}
                    assert await market.wait_live(30.0)
                finally:
                    await market.stop()

    run(body(), timeout=90)


def test_a_metadata_request_refused_for_the_rate_limit_is_waited_out_not_marked_down() -> None:
    """Kraken allows about one public call a second per IP: a feed whose AssetPairs request comes
    right after another client's is refused in Kraken's words, waits what the SPEC's breach table
    says and asks again, and the venue syncs instead of being reported unreachable."""

    async def body() -> None:
        async with SimCluster(["kraken"]) as cluster:
            sim = cluster.venues["kraken"]
            _ws, rest = cluster.urls("kraken")
            market = MarketData(["kraken"], ["BTC-USDT"], endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                for _ in range(3):  # another client spends the IP's public budget first
                    async with session.get(rest + "/0/public/AssetPairs") as resp:
                        await resp.read()
                refused_before = sim.rate_limited
                assert refused_before >= 1  # the budget is spent: the next public call is refused
                await market.start(session)
                try:
                    assert market.down == {}, market.down
                    assert sim.rate_limited > refused_before  # the feed's own request was refused, then waited out
                    assert await market.wait_live(30.0)
                finally:
                    await market.stop()

    run(body(), timeout=90)


def test_a_venue_whose_instruments_fail_every_attempt_comes_up_by_itself_once_they_answer() -> None:
    """Binance answers 503 to its instrument list for longer than MarketData's attempts at the start
    take (at most 7.5 s of backoff): the venue is reported down and tried again in the background,
    and its books go live without anyone following a symbol again once the fault ends."""

    async def body() -> None:
        async with SimCluster(["binance", "okx"]) as cluster:
            sim = cluster.venues["binance"]
            fault = sim.inject("http_5xx", endpoint="instruments", seconds=15.0)
            assert fault is not None
            market = MarketData(["binance", "okx"], ["BTC-USDT"], endpoints=cluster.urls,
                                retry=RetryPolicy(base=0.5, cap=2.0))
            async with aiohttp.ClientSession() as session:
                await market.start(session)
                try:
                    assert "binance" in market.down, "binance should be down while its instruments fail"
                    assert "cannot load instruments" in market.down["binance"], market.down
                    assert "binance" in market.retrying  # visible: being tried again
                    assert set(market.consolidated["BTC-USDT"].books) == {"okx"}
                    await wait_for(lambda: market.retrying.get("binance", VenueRetry()).attempts >= 1, 30.0,
                                   "a background attempt while the fault lasts")
                    assert "binance" in market.down  # the fault still holds

                    await wait_for(lambda: "binance" not in market.down, 60.0, "binance up again by itself")
                    assert fault.hits > 0
                    assert market.retrying == {}
                    assert set(market.consolidated["BTC-USDT"].books) == {"binance", "okx"}
                    assert await market.wait_live(30.0)
                finally:
                    await market.stop()

    run(body(), timeout=150)
