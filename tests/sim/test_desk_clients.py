"""Every ccxt client a simulated desk builds stays on 127.0.0.1: each URL of ``urls['api']``, at
any depth, is its simulator's, or the simulator's path for an API it does not serve; a call to
such an API fails on the simulator, naming the host it was meant for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from crossbook import Desk
from crossbook.desk.funding import funding_client_config, funding_sources
from crossbook.sim.access import UNSIMULATED
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.sim.server import SimVenue
from crossbook.venues.registry import VENUES, venue_feeds

from ..conftest import run


def urls(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from urls(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from urls(value, f"{path}/{i}")
    elif isinstance(node, str) and "://" in node:
        yield path, node


def assert_on(sim: SimVenue, api: Any, what: str) -> int:
    """Every URL of ``api`` is at ``sim``'s REST or WebSocket base; returns how many are there
    only as its path for an API it does not serve."""
    found = list(urls(api))
    assert found, f"{what}: no URL"
    for path, url in found:
        assert url.startswith((sim.rest_url + "/", sim.ws_url + "/")) or url in (sim.rest_url, sim.ws_url), \
            f"{what}: urls['api']{path} = {url} is not on its simulator ({sim.rest_url})"
    return sum(url.startswith(sim.rest_url + UNSIMULATED) for _, url in found)


def test_every_client_of_a_simulated_desk_points_at_its_simulator() -> None:
    async def body() -> None:
        async with Desk.sim() as desk:
            simulator = desk.simulator
            assert simulator is not None
            sims = simulator.cluster.venues
            unserved = 0
            for venue in VENUES:
                trading = simulator.trading_sim(venue)
                assert trading is not None
                sub = await desk.venue_account(venue, "alpha")  # a sub-account's client too
                for account in (simulator.accounts[venue], sub):
                    unserved += assert_on(trading, account.client.urls["api"], f"{venue}/{account.account}")
            assert set(simulator.derivatives) == {"binanceusdm", "binancecoinm", "okx", "bybitlinear",
                                                               "dydx", "gateswap"}
            for feed, account in simulator.derivatives.items():
                assert_on(sims[feed], account.client.urls["api"], f"{feed} derivatives")
            perps = ["BTC-USDT-PERP", "BTC-USD-PERP", "ETH-USDT-PERP"]
            sources = funding_sources(list(VENUES), perps)
            assert sources
            for feed, (venue, ccxt_id, _) in sources.items():
                config = funding_client_config(feed, venue, desk.sim_endpoints())
                assert config is not None
                client = getattr(ccxt_async, ccxt_id)(config)
                try:
                    assert_on(sims[feed], client.urls["api"], f"{feed} funding")
                finally:
                    await client.close()
            assert unserved > 0  # Binance's fapi, KuCoin's futures host, ...: kept on 127.0.0.1

            spot = simulator.accounts["binance"].client  # a spot client asked for positions calls fapi
            with pytest.raises(ccxt.ExchangeNotAvailable, match=r"127\.0\.0\.1:\d+/_crossbook/unsimulated/fapi\.binance\.com/"):
                await spot.fetch_positions()

    run(body(), timeout=120)


def test_the_ccxt_settings_crossbook_sim_prints_stay_on_the_simulators() -> None:
    async def body() -> None:
        feeds = [f for v in VENUES for f in venue_feeds(v)]
        async with SimCluster(feeds) as cluster:
            configs = ccxt_configs(cluster)
            for sim in cluster.venues.values():
                if sim.ccxt_id is None:
                    continue
                client = getattr(ccxt_async, sim.ccxt_id)(configs[sim.ccxt_id])
                try:
                    assert_on(sim, client.urls["api"], sim.venue)
                finally:
                    await client.close()

    run(body(), timeout=120)
