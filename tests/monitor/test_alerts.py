"""The in-process alert engine: each alert over a registry it is handed (explicit clock), its
thresholds from crossbook.toml, and, on a real Desk.sim, a venue made to drop its connections, slow
down and refuse orders, each alert seen firing then resolved at a webhook receiver on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from crossbook import Desk
from crossbook.config import load_config
from crossbook.errors import ConfigError, InsufficientFunds
from crossbook.model import OrderRequest, OrderType, Side
from crossbook.monitor.alerts import AlertEngine, AlertEvent, AlertThresholds
from crossbook.monitor.sinks import LogSink, WebhookSink
from crossbook.monitor.windows import histogram_quantile

from ..conftest import run

SYMBOL = "BTC-USDT"


def firing(registry: CollectorRegistry, alert: str) -> float | None:
    return registry.get_sample_value("crossbook_alerts_firing", {"alert": alert})


# ---- the engine over a registry it is handed ------------------------------------------------------


def test_connection_lost_goes_pending_then_firing_then_resolved() -> None:
    registry = CollectorRegistry()
    connected = Gauge("crossbook_feed_connected", "", ["venue", "feed"], registry=registry)
    connected.labels("okx", "okx").set(1)
    engine = AlertEngine(registry, AlertThresholds(connection_lost_for=30))
    seen: list[AlertEvent] = []
    engine.subscribe(seen.append)
    assert engine.evaluate(0.0) == [] and firing(registry, "ConnectionLost") == 0
    connected.labels("okx", "okx").set(0)
    [pending] = engine.evaluate(10.0)
    assert (pending.name, pending.state, dict(pending.labels)) == ("ConnectionLost", "pending", {"venue": "okx", "feed": "okx"})
    assert engine.evaluate(39.0) == [] and firing(registry, "ConnectionLost") == 0  # 29 s down: not yet
    [fired] = engine.evaluate(40.0)
    assert fired.state == "firing" and fired.since == 10.0 and fired.at == 40.0 and fired.severity == "critical"
    assert "okx" in fired.summary and firing(registry, "ConnectionLost") == 1
    assert [a.to_json()["state"] for a in engine.active()] == ["firing"]
    connected.labels("okx", "okx").set(1)
    [resolved] = engine.evaluate(41.0)
    assert resolved.state == "resolved" and resolved.to_json()["labels"] == {"venue": "okx", "feed": "okx"}
    assert engine.active() == [] and firing(registry, "ConnectionLost") == 0
    assert [e.state for e in seen] == ["pending", "firing", "resolved"] == [e.state for e in engine.recent(10)]
    assert set(resolved.to_json()) == {"name", "state", "severity", "labels", "summary", "value", "since", "at"}


def test_order_failures_need_the_share_and_the_count_within_the_window() -> None:
    registry = CollectorRegistry()
    orders = Counter("crossbook_orders", "", ["venue", "outcome"], registry=registry)
    orders.labels("kraken", "filled").inc(10)
    engine = AlertEngine(registry, AlertThresholds(order_failures_window=60, order_failure_min_count=3))
    engine.evaluate(0.0)
    orders.labels("kraken", "rejected").inc(2)  # a series created after the engine started counts from 0
    orders.labels("kraken", "filled").inc(2)
    assert engine.evaluate(10.0) == []  # 2 of 4: the share is there, the count is not
    orders.labels("kraken", "error").inc(1)
    [fired] = engine.evaluate(20.0)
    assert (fired.name, fired.state, fired.labels["venue"]) == ("OrderFailures", "firing", "kraken")
    assert fired.value == pytest.approx(3 / 5)
    assert engine.evaluate(50.0) == []  # still within the window
    [resolved] = engine.evaluate(90.0)  # the failures left the 60 s window
    assert resolved.state == "resolved" and resolved.labels["venue"] == "kraken"


def test_high_latency_is_the_p99_of_the_windowed_histogram() -> None:
    registry = CollectorRegistry()
    latency = Histogram("crossbook_feed_latency_seconds", "", ["venue"], buckets=(0.1, 0.5, 1.0, 2.5), registry=registry)
    latency.labels("okx").observe(0.05)
    latency.labels("bybit").observe(0.05)
    engine = AlertEngine(registry, AlertThresholds(latency_window=30, high_latency_for=0))
    engine.evaluate(0.0)
    for _ in range(100):
        latency.labels("okx").observe(2.0)
        latency.labels("bybit").observe(0.05)
    [fired] = engine.evaluate(10.0)
    assert (fired.name, fired.labels["venue"], fired.severity) == ("HighLatency", "okx", "warning")
    assert 1.0 < fired.value <= 2.5
    for _ in range(100):
        latency.labels("okx").observe(0.05)
    assert engine.evaluate(20.0) == []  # half the window's frames are slow: p99 still above
    [resolved] = engine.evaluate(45.0)  # the slow ones left the window; the fast ones alone remain
    assert resolved.state == "resolved"


def test_rate_limit_slippage_stale_book_and_resync_storm() -> None:
    registry = CollectorRegistry()
    usage = Gauge("crossbook_ratelimit_usage_ratio", "", ["venue", "pool"], registry=registry)
    slippage = Histogram("crossbook_slippage_bps", "", ["venue", "against"], buckets=(5, 25, 100), registry=registry)
    state = Gauge("crossbook_book_state", "", ["venue", "symbol", "state"], registry=registry)
    age = Gauge("crossbook_book_age_seconds", "", ["venue", "symbol"], registry=registry)
    resyncs = Counter("crossbook_book_resyncs", "", ["venue", "symbol"], registry=registry)
    usage.labels("gate", "rest").set(0.5)
    state.labels("mexc", SYMBOL, "stale").set(0)
    age.labels("mexc", SYMBOL).set(1)
    resyncs.labels("bitget", SYMBOL).inc(0)
    zero = AlertThresholds(rate_limit_for=0, stale_book_for=0)
    engine = AlertEngine(registry, zero)
    assert engine.evaluate(0.0) == []
    usage.labels("gate", "rest").set(0.95)
    for _ in range(3):
        slippage.labels("okx", "arrival").observe(40)
        slippage.labels("okx", "plan").observe(2)
    state.labels("mexc", SYMBOL, "stale").set(1)
    resyncs.labels("bitget", SYMBOL).inc(6)
    fired = {e.name: e for e in engine.evaluate(1.0)}
    assert set(fired) == {"RateLimitWarning", "UnusualSlippage", "StaleBook", "ResyncStorm"}
    assert fired["RateLimitWarning"].labels == {"venue": "gate", "pool": "rest"}
    assert fired["UnusualSlippage"].labels == {"venue": "okx", "against": "arrival"}
    assert fired["UnusualSlippage"].value == pytest.approx(40)
    assert fired["StaleBook"].labels == {"venue": "mexc", "symbol": SYMBOL}
    assert fired["ResyncStorm"].value == 6
    state.labels("mexc", SYMBOL, "stale").set(0)
    age.labels("mexc", SYMBOL).set(90)  # live by its state, but unchanged for 90 s
    assert [e.name for e in engine.evaluate(2.0)] == []  # still stale: the same alert, no transition
    age.labels("mexc", SYMBOL).set(1)
    usage.labels("gate", "rest").set(0.2)
    assert sorted(e.name for e in engine.evaluate(3.0)) == ["RateLimitWarning", "StaleBook"]


def test_histogram_quantile_is_prometheus() -> None:
    # the case of deploy/prometheus/alerts_test.yml, where promtool says 2.485
    assert histogram_quantile(0.99, [(0.1, 0), (0.5, 0), (1.0, 0), (2.5, 100), (math.inf, 100)]) == pytest.approx(2.485)
    assert histogram_quantile(0.99, [(1.0, 0), (math.inf, 5)]) == 1.0  # in the +Inf bucket: the highest bound
    assert math.isnan(histogram_quantile(0.99, [(1.0, 0), (math.inf, 0)]))


def test_thresholds_from_crossbook_toml() -> None:
    thresholds = AlertThresholds.from_mapping({"connection_lost_for": 5, "order_failure_ratio": 0.5,
                                               "webhook": "http://127.0.0.1:9000/hook"})
    assert thresholds.connection_lost_for == 5.0 and thresholds.order_failure_ratio == 0.5
    assert thresholds.webhook == "http://127.0.0.1:9000/hook" and thresholds.latency_window == AlertThresholds().latency_window
    with pytest.raises(ConfigError, match="conection_lost_for"):
        AlertThresholds.from_mapping({"conection_lost_for": 5})
    with pytest.raises(ConfigError, match="latency_p99_seconds must be a number"):
        AlertThresholds.from_mapping({"latency_p99_seconds": "1s"})
    with pytest.raises(ConfigError, match="order_failure_ratio is a share"):
        AlertThresholds.from_mapping({"order_failure_ratio": 20})
    with pytest.raises(ConfigError, match="resync_window is a window") as raised:
        AlertThresholds.from_mapping({"resync_window": 0})
    assert "resync_window" in str(raised.value)
    with pytest.raises(ConfigError, match="webhook") as bad_url:
        AlertThresholds.from_mapping({"webhook": "ftp://hooks.example/secret-path"})
    assert "secret-path" not in str(bad_url.value)


def test_the_alerts_table_of_crossbook_toml(tmp_path: Path) -> None:
    account = '[[accounts]]\nvenue = "okx"\nmode = "sim"\nccxt_config = "sim-ccxt.json"\n'
    path = tmp_path / "crossbook.toml"
    path.write_text(account + '[alerts]\nconnection_lost_for = 5\nwebhook = "http://127.0.0.1:9/hook"\n')
    thresholds = AlertThresholds.from_mapping(load_config(path).alerts)
    assert (thresholds.connection_lost_for, thresholds.webhook) == (5.0, "http://127.0.0.1:9/hook")
    path.write_text(account)
    assert AlertThresholds.from_mapping(load_config(path).alerts) == AlertThresholds()
    path.write_text('alerts = 5\n' + account)
    with pytest.raises(ConfigError, match=r"alerts must be a table \[alerts\]"):
        load_config(path)


def test_a_failing_consumer_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    Gauge("crossbook_feed_connected", "", ["venue", "feed"], registry=registry).labels("okx", "okx").set(0)
    engine = AlertEngine(registry, AlertThresholds(connection_lost_for=0), sinks=[LogSink()])
    seen: list[AlertEvent] = []

    def broken(event: AlertEvent) -> None:
        raise RuntimeError("consumer bug")

    engine.subscribe(broken)
    engine.subscribe(seen.append)
    with caplog.at_level(logging.INFO):
        events = engine.evaluate(0.0)
    assert [e.state for e in events] == ["firing"] == [e.state for e in seen]
    assert any("alert ConnectionLost firing" in r.getMessage() and "venue=okx" in r.getMessage() for r in caplog.records)
    assert any("alert subscriber failed" in r.getMessage() for r in caplog.records)


# ---- a real simulated desk, a webhook receiver on loopback ---------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1:0 keeping every JSON body POSTed to /hook."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.refuse = 0  # answer the next N posts with 503

    async def hook(self, request: web.Request) -> web.Response:
        if self.refuse:
            self.refuse -= 1
            return web.Response(status=503)
        self.bodies.append(orjson.loads(await request.read()))
        return web.Response(status=204)

    def states(self, name: str, venue: str) -> list[object]:
        return [b["state"] for b in self.bodies if b["name"] == name and b["labels"]["venue"] == venue]  # type: ignore[index]


@contextlib.asynccontextmanager
async def watched(desk: Desk, thresholds: AlertThresholds) -> AsyncIterator[tuple[Receiver, AlertEngine]]:
    """A webhook receiver and an engine over the desk's metrics posting to it, evaluating every 0.1 s."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        sink = WebhookSink(f"http://127.0.0.1:{port}/hook", session, retry_delay=0.05)
        engine = AlertEngine(desk.metrics.registry, thresholds, sinks=[sink])
        task = asyncio.create_task(engine.run(every=0.1))
        try:
            yield receiver, engine
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await sink.close()
            await runner.cleanup()


async def until(cond: Callable[[], bool], timeout: float, what: str, every: Callable[[], None] | None = None) -> None:
    """Wait for ``cond`` (doing ``every`` between looks), bounded by ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        if every is not None:
            every()
        await asyncio.sleep(0.05)


def test_a_venue_dropping_its_connections_fires_connection_lost_until_it_reconnects() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"], symbols=[SYMBOL]) as desk, \
                watched(desk, AlertThresholds(connection_lost_for=0)) as (receiver, _):
            assert desk.simulator is not None
            okx = desk.simulator.cluster.venues["okx"]
            # every reconnect is dropped again until the engine has seen okx down
            await until(lambda: "firing" in receiver.states("ConnectionLost", "okx"), 40, "ConnectionLost firing for okx",
                        every=lambda: okx.inject("drop"))
            await until(lambda: "resolved" in receiver.states("ConnectionLost", "okx"), 90, "ConnectionLost resolved")
            assert receiver.states("ConnectionLost", "okx")[-2:] == ["firing", "resolved"]
            assert receiver.states("ConnectionLost", "binance") == []
    run(body(), timeout=180)


def test_a_slow_venue_fires_high_latency_until_its_frames_are_on_time_again() -> None:
    async def body() -> None:
        thresholds = AlertThresholds(latency_p99_seconds=0.8, latency_window=3, high_latency_for=0)
        async with Desk.sim(["binance", "okx"], symbols=[SYMBOL]) as desk, watched(desk, thresholds) as (receiver, engine):
            assert desk.simulator is not None
            okx = desk.simulator.cluster.venues["okx"]
            await asyncio.sleep(thresholds.latency_window)  # the start's own frames leave the window
            assert receiver.states("HighLatency", "okx") == []
            okx.inject("delay", seconds=1.5)  # every frame held 1.5 s
            await until(lambda: "firing" in receiver.states("HighLatency", "okx"), 60, "HighLatency firing for okx")
            okx.inject("delay", seconds=0.0)
            await until(lambda: "resolved" in receiver.states("HighLatency", "okx"), 60, "HighLatency resolved for okx")
            assert receiver.states("HighLatency", "binance") == []
            assert not [a for a in engine.active() if a.name == "HighLatency"]
    run(body(), timeout=180)


def test_a_venue_refusing_orders_fires_order_failures_then_resolves() -> None:
    async def body() -> None:
        thresholds = AlertThresholds(order_failures_window=4, order_failure_min_count=3)
        async with Desk.sim(["binance", "kraken"], symbols=[SYMBOL]) as desk, watched(desk, thresholds) as (receiver, _):
            assert desk.simulator is not None
            receiver.refuse = 1  # the webhook's first answer is a 503: the sink retries
            desk.simulator.cluster.venues["kraken"].inject_trading("reject", times=3)
            trader = await desk.account("kraken")
            for _ in range(3):
                with pytest.raises(InsufficientFunds, match="kraken refused"):
                    await trader.place(OrderRequest("kraken", SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal("1000")))
            await until(lambda: "firing" in receiver.states("OrderFailures", "kraken"), 30, "OrderFailures firing for kraken")
            await until(lambda: "resolved" in receiver.states("OrderFailures", "kraken"), 30, "OrderFailures resolved")
            assert receiver.states("OrderFailures", "kraken") == ["firing", "resolved"]
            fired = next(b for b in receiver.bodies if b["name"] == "OrderFailures")
            assert fired["severity"] == "critical" and fired["value"] == 1.0 and "kraken" in str(fired["summary"])
            assert receiver.states("OrderFailures", "binance") == []
    run(body(), timeout=120)


def test_webhook_sink_gives_up_after_its_attempts_without_blocking() -> None:
    async def body() -> None:
        async with aiohttp.ClientSession() as session:
            # a port nothing listens on: every attempt fails at once
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            sink = WebhookSink(f"http://127.0.0.1:{port}/secret-token", session, attempts=2, retry_delay=0.01)
            event = AlertEvent("ConnectionLost", "firing", "critical", {"venue": "okx", "feed": "okx"}, "okx down", 0.0, 0.0, 0.0)
            sink.emit(event)  # returns at once
            assert await sink.drain(10.0)
            assert (sink.delivered, sink.failed) == (0, 1)
            await sink.close()
            full = WebhookSink(f"http://127.0.0.1:{port}/secret-token", session, attempts=1, queue_size=1)
            for _ in range(3):  # emitted faster than posted: the oldest are dropped, never blocking
                full.emit(event)
            assert await full.drain(10.0)
            assert (full.delivered, full.failed) == (0, 3)
            await full.close()
    run(body(), timeout=30)
