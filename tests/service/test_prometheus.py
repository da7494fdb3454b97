"""A real Prometheus (the Debian ``prometheus`` binary) on 127.0.0.1 scrapes `crossbook serve --sim`
every second with the repo's alert rules (their ``for`` shortened for the test); one simulated venue
is made to drop its connections, and Prometheus's own /api/v1/alerts shows ConnectionLost for it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.system_packages import require_binary

from ..conftest import run
from .serving import Served, all_ready, start_serve, until

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
VENUES = {"binance", "okx"}
DROPPED = "okx"
SHORT_FOR = "2s"  # production waits 30 s before ConnectionLost fires; the test's copy waits 2 s
PROMETHEUS_READY_WITHIN = 60.0
ALERT_WITHIN = 120.0


def prometheus_binary() -> str:
    try:
        return require_binary("prometheus", "prometheus")
    except RuntimeError as exc:
        pytest.fail(f"prometheus is missing ({exc}); .ci/run installs the Debian package prometheus")


def short_rules(target: Path) -> Path:
    """alerts.yml with every ``for`` cut to SHORT_FOR, written to ``target``."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = SHORT_FOR
    target.write_text(yaml.safe_dump(rules, sort_keys=False))
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prometheus_config(workdir: Path, scraped: str) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(short_rules(workdir / "alerts.yml"))],
        "scrape_configs": [{"job_name": "crossbook", "metrics_path": "/metrics", "static_configs": [{"targets": [scraped]}]}],
    }
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.asynccontextmanager
async def prometheus(workdir: Path, scraped: str) -> AsyncIterator[str]:
    """Prometheus on 127.0.0.1 scraping ``scraped`` (host:port), its storage in ``workdir``; its URL."""
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        prometheus_binary(), f"--config.file={prometheus_config(workdir, scraped)}",
        f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
        stdout=log, stderr=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


async def api(session: aiohttp.ClientSession, url: str) -> Any:
    """The ``data`` of a Prometheus API answer, None when it does not answer (yet)."""
    try:
        async with session.get(url) as response:
            if response.status != 200:
                return None
            return (await response.json())["data"]
    except aiohttp.ClientError:
        return None


def sim_rest_url(venues: dict[str, Any], venue: str) -> str:
    """The REST URL of ``venue``'s simulator, as GET /venues gives it for a simulated desk (each
    feed's ``sim`` endpoints)."""
    view = next(v for v in venues["venues"] if v["venue"] == venue)
    return str(view["feeds"][venue]["sim"]["rest"]).rstrip("/")


def connection_lost(alerts: Any, venue: str) -> list[dict[str, Any]]:
    if not alerts:
        return []
    return [a for a in alerts["alerts"] if a["labels"].get("alertname") == "ConnectionLost"
            and a["labels"].get("venue") == venue and a["state"] in ("pending", "firing")]


def test_prometheus_sees_connection_lost_when_a_simulated_venue_drops(tmp_path: Path) -> None:
    async def body() -> None:
        served: Served = await start_serve(["--sim", "--venues", ",".join(sorted(VENUES)), "--symbols", "BTC-USDT",
                                            "--listen", "127.0.0.1:0", "--token-file", str(tmp_path / "token")], tmp_path)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                await until(lambda: all_ready(served, session, VENUES), 120, "every venue ready on /health")
                status, venues = await served.get(session, "/venues")
                assert status == 200, venues
                fault_url = sim_rest_url(venues, DROPPED) + "/_crossbook/fault"
                scraped = served.url.removeprefix("http://").rstrip("/")
                async with prometheus(tmp_path, scraped) as prom:
                    await scraped_up(session, prom)
                    assert connection_lost(await api(session, f"{prom}/api/v1/alerts"), DROPPED) == []
                    found = await drop_until_alerted(session, prom, fault_url)
                    assert found[0]["labels"]["severity"] == "critical"
                    assert DROPPED in found[0]["annotations"]["summary"]
                    assert connection_lost(await api(session, f"{prom}/api/v1/alerts"), "binance") == []
        finally:
            served.kill()
            await served.proc.wait()
    run(body(), timeout=420)


async def scraped_up(session: aiohttp.ClientSession, prom: str) -> None:
    """Wait until Prometheus has scraped the service and holds the dropped venue connected."""
    query = f'{prom}/api/v1/query?query=crossbook_feed_connected{{venue="{DROPPED}"}}'

    async def connected() -> bool:
        data = await api(session, query)
        return bool(data and data["result"] and all(r["value"][1] == "1" for r in data["result"]))

    await until(connected, PROMETHEUS_READY_WITHIN, f"Prometheus scraping {DROPPED} connected")


async def drop_until_alerted(session: aiohttp.ClientSession, prom: str, fault_url: str) -> list[dict[str, Any]]:
    """Drop the venue's connections again and again (each reconnect is dropped, its backoff grows)
    until Prometheus shows ConnectionLost for it, pending or firing; that alert."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ALERT_WITHIN
    while loop.time() < deadline:
        async with session.post(fault_url, json={"fault": "drop"}) as response:
            assert response.status == 200, await response.text()
        found = connection_lost(await api(session, f"{prom}/api/v1/alerts"), DROPPED)
        if found:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"Prometheus showed no ConnectionLost for {DROPPED} within {ALERT_WITHIN:.0f} s")
