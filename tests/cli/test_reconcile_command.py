"""`crossbook reconcile`: the configured accounts against a running simulator."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.config import load_config
from crossbook.errors import ConfigError
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.journal import Journal

from ..conftest import run, wait_for

runner = CliRunner()


def write_config(tmp: Path, body: str) -> Path:
    path = tmp / "crossbook.toml"
    path.write_text(body)
    return path


def test_reconcile_adopts_an_order_whose_ack_was_lost_and_closes_one_never_sent(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            (tmp_path / "sim.json").write_bytes(orjson.dumps(ccxt_configs(cluster)))
            config = write_config(tmp_path, 'journal = "j.db"\n[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\n')
            engine = cluster.venues["binance"].engine
            # journaled a minute ago: past the grace in which a request sent then could still arrive
            with Journal(tmp_path / "j.db", clock=lambda: time.time() - 60) as journal:
                request = OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("50000"))
                lost_ack = journal.record_intent(request, sending=True)
                never_sent = journal.record_intent(request, sending=True)
            placed = engine.submit("main", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("50000"),
                                   client_id=lost_ack.client_order_id)
            result = await asyncio.to_thread(runner.invoke, app,
                                             ["reconcile", "--config", str(config), "--json"])
            assert result.exit_code == 0, result.output
            (report,) = orjson.loads(result.stdout)
            assert report["ok"] and report["adopted"] == [lost_ack.client_order_id]
            assert report["never_placed"] == [never_sent.client_order_id]
            with Journal(tmp_path / "j.db") as journal:
                adopted = journal.order(lost_ack.client_order_id)
                assert adopted is not None and adopted.status is OrderStatus.OPEN and adopted.venue_order_id == placed.order_id
                closed = journal.order(never_sent.client_order_id)
                assert closed is not None and closed.status is OrderStatus.REJECTED
            assert len(engine.orders) == 1  # nothing was resent

    run(body())


def test_config_errors_name_the_setting_and_never_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        '[[accounts]]\nvenue = "nasdaq"\nccxt_config = "x"\n': "venue must be one of",
        '[[accounts]]\nvenue = "okx"\nmode = "paper"\n': "mode must be one of",
        '[[accounts]]\nvenue = "okx"\nmode = "live"\n': "needs key = \"vault:NAME\" (crossbook keys add okx), or api_key_env",
        '[[accounts]]\nvenue = "okx"\nccxt_config = "x"\ncolour = "blue"\n': "unknown setting(s) colour",
        'journal = \n': "not valid TOML",
    }
    for text, message in cases.items():
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(write_config(tmp_path, text))
    config = load_config(write_config(tmp_path, '[[accounts]]\nvenue = "okx"\nmode = "live"\napi_key_env = "K"\nsecret_env = "S"\n'))
    monkeypatch.setenv("K", "key-value")
    monkeypatch.delenv("S", raising=False)
    with pytest.raises(ConfigError, match="environment variable S is not set") as err:
        config.accounts[0].ccxt_settings()
    assert "key-value" not in str(err.value)
    monkeypatch.setenv("S", "very-secret")
    assert config.accounts[0].ccxt_settings() == {"apiKey": "key-value", "secret": "very-secret"}
    result = runner.invoke(app, ["reconcile", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_follow_reconciles_at_start_then_takes_fills_from_the_stream(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            cluster.pause()
            sim = cluster.venues["binance"]
            (tmp_path / "sim.json").write_bytes(orjson.dumps(ccxt_configs(cluster)))
            config = write_config(tmp_path, 'journal = "j.db"\n[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\n')
            ladder = sim.ladders["BTC-USDT"]
            price = D(ladder.price_str(max(ladder.bids) + 1))  # the best bid once it rests
            with Journal(tmp_path / "j.db") as journal:
                request = OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price)
                lost_ack = journal.record_intent(request, sending=True)
            sim.engine.submit("main", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price, client_id=lost_ack.client_order_id)
            sim.engine.open_account("taker", {"BTC": D(10)})
            following = asyncio.create_task(asyncio.to_thread(
                runner.invoke, app, ["follow", "--config", str(config), "--seconds", "4", "--json"]))
            await wait_for(lambda: sim.streaming_to("main"), 15.0, "the account's private stream")
            sim.engine.submit("taker", "BTC-USDT", Side.SELL, OrderType.LIMIT, D("0.01"), price, tif=TimeInForce.IOC)
            result = await following
            assert result.exit_code == 0, result.output
            start, end = (orjson.loads(line) for line in result.stdout.splitlines())
            (report,) = start["reconciled"]
            assert report["ok"] and report["adopted"] == [lost_ack.client_order_id]
            (figures,) = end["streams"]
            assert figures["streaming"] and figures["fills"] == 1 and figures["failures"] == 0
            with Journal(tmp_path / "j.db") as journal:
                filled = journal.order(lost_ack.client_order_id)
                assert filled is not None and filled.status is OrderStatus.FILLED and filled.filled == D("0.01")

    run(body())
