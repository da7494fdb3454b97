"""Bitget USDT-M futures: the current funding rate on the wire, parsed by unmodified ccxt. (Futures
trading is not simulated yet.)"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import ccxt

from crossbook.sim.cluster import SimCluster

from ..conftest import run


async def get(cluster: SimCluster, query: str) -> tuple[int, Any]:
    url = f"{cluster.venues['bitgetfutures'].rest_url}/api/v2/mix/market/current-fund-rate?{query}"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


def test_current_funding_rate_and_next_funding_time() -> None:
    async def body() -> None:
        cluster = SimCluster(["bitgetfutures"], interval=0.05, levels=20, enforce_limits=False)
        await cluster.start()
        try:
            status, reply = await get(cluster, "symbol=BTCUSDT&productType=USDT-FUTURES")
            assert status == 200 and reply["code"] == "00000"
            [row] = reply["data"]
            rate = ccxt.bitget().parse_funding_rate(row)
            assert rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"
            now_ms = time.time() * 1000
            assert rate["fundingTimestamp"] % (8 * 3600 * 1000) == 0
            assert now_ms < rate["fundingTimestamp"] <= now_ms + 8 * 3600 * 1000
            status, reply = await get(cluster, "symbol=BTCUSDT")
            assert status == 400 and reply["code"] == "40019"
            status, reply = await get(cluster, "symbol=XYZUSDT&productType=USDT-FUTURES")
            assert status == 400 and reply["code"] == "40034"
        finally:
            await cluster.stop()

    run(body())
