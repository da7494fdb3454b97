"""`crossbook sim --print-ccxt-config`: an unmodified ccxt client built from its first line trades."""

from __future__ import annotations

import signal
import subprocess
import sys

import ccxt.async_support as ccxt_async
import orjson

from .conftest import run


def test_first_line_configures_an_unmodified_ccxt_client() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crossbook.cli import app; app()", "sim", "--venues", "binance", "--print-ccxt-config", "--seconds", "60"],
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
