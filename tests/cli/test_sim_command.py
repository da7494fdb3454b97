"""`crossbook sim --print-ccxt-config`: an unmodified ccxt client built from its first line trades."""

from __future__ import annotations

import signal
import subprocess
import sys

import ccxt.async_support as ccxt_async
import orjson

from ..conftest import run


def test_first_line_configures_an_unmodified_ccxt_client() -> None:
    proc = subprocess.Popen(
        [
            sys.executable, "-c", "from crossbook.cli import app; app()",
            "sim", "--venues", "binance", "--print-ccxt-config", "--seconds", "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        configs = orjson.loads(proc.stdout.readline())
        assert set(configs) == {"binance", "binanceusdm", "binancecoinm"}  # `--venues binance`: spot, USD-M and COIN-M trade
        config = configs["binance"]
        assert {"urls", "options", "apiKey", "secret"} <= set(config)

        async def trade() -> None:
            ex = ccxt_async.binance(config)
            try:
                balance = await ex.fetch_balance()
                assert balance["USDT"]["free"] == 1_000_000 and balance["BTC"]["free"] == 100
                order = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
                assert (await ex.fetch_order(order["id"], "BTC/USDT"))["status"] == "closed"
            finally:
                await ex.close()

        run(trade())
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_each_ccxt_id_is_configured_for_its_spot_venue_alone() -> None:
    """Gate's and Bybit's perpetual servers share the spot venue's ccxt id: the spot one keeps it."""
    from crossbook.sim.cluster import SimCluster
    from crossbook.sim.serve import ccxt_configs

    async def body() -> None:
        async with SimCluster(["gate", "gateswap", "bybit", "bybitlinear"], interval=3600.0, levels=20) as cluster:
            configs = ccxt_configs(cluster)
            assert set(configs) == {"gate", "bybit"}
            for spot in ("gate", "bybit"):
                rest = cluster.venues[spot].rest_url
                assert orjson.dumps(configs[spot]["urls"]).decode().count(rest) > 0
                assert cluster.venues[spot + ("swap" if spot == "gate" else "linear")].rest_url not in orjson.dumps(configs[spot]).decode()

    run(body())
