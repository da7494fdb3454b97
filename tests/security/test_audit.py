"""The key permission audit on the simulators: `crossbook sim --keys FILE` issues keys with chosen
rights, bound addresses and age; `crossbook keys audit` asks each venue's own key-information
endpoint (through ccxt) and reports a withdrawal-enabled key, a key bound to no address and an old
key, and a minimal key as clean; with --strict (and `crossbook serve --strict`, or `strict = true`
in [service]) a high finding refuses. The simulators enforce the rights: a read-only key's order is
refused with the venue's own error, and a key without the withdraw right cannot withdraw."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import orjson
import pytest

from crossbook.security.audit import AuditPolicy, KeyNeeds, KeySubject, judge
from crossbook.security.permissions import KeyPermissions

CLI = [sys.executable, "-c", "from crossbook.cli import app; app()"]
DAY = 86_400
URL_LINE = re.compile(r"crossbook serve: (http://127\.0\.0\.1:\d+/)")
START_WITHIN = 180.0  # seconds: the CI machine is loaded


def keys_file(path: Path) -> Path:
    now = time.time()
    keys = [
        {"venue": "binance", "name": "withdrawer", "permissions": ["read", "trade", "withdraw"], "ips": ["127.0.0.1"]},
        {"venue": "okx", "name": "anywhere", "permissions": ["read", "trade"]},
        {"venue": "bybit", "name": "old", "permissions": ["read", "trade"], "ips": ["127.0.0.1"], "created": now - 60 * DAY},
        {"venue": "kucoin", "name": "minimal", "permissions": ["read", "trade"], "ips": ["127.0.0.1"],
         "created": now - 2 * DAY},
        {"venue": "binance", "name": "reader", "permissions": ["read"], "ips": ["127.0.0.1"]},
        {"venue": "okx", "name": "viewer", "permissions": ["read"], "ips": ["127.0.0.1"]},
    ]
    path.write_bytes(orjson.dumps(keys))
    return path


@dataclass
class RunningSim:
    config: Path
    ccxt: dict[str, dict[str, Any]]

    def client(self, entry: str, ccxt_id: str) -> Any:
        return getattr(ccxt_async, ccxt_id)(dict(self.ccxt[entry]))

    def only(self, accounts: list[str], name: str, service: str = "") -> Path:
        """A crossbook.toml of the running simulators naming only ``accounts`` (the keys file's)."""
        data = tomllib.loads(self.config.read_text())
        lines = [f"journal = {orjson.dumps(name + '-journal.sqlite').decode()}", service, ""]
        for entry in data["accounts"]:
            if entry["account"] in accounts:
                lines += ["[[accounts]]", *(f"{k} = {orjson.dumps(v).decode()}" for k, v in entry.items()), ""]
        for feed, urls in data["endpoints"].items():
            lines += [f"[endpoints.{feed}]", *(f"{k} = {orjson.dumps(v).decode()}" for k, v in urls.items()), ""]
        path = self.config.with_name(f"{name}.toml")
        path.write_text("\n".join(lines))
        path.chmod(0o600)
        return path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    folder = tmp_path_factory.mktemp("audit")
    cfg = folder / "cfg.toml"
    proc = subprocess.Popen([*CLI, "sim", "--venues", "binance,okx,bybit,kucoin", "--keys", str(keys_file(folder / "keys.json")),
                             "--write-config", str(cfg), "--print-ccxt-config", "--seconds", "900"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        configs = orjson.loads(proc.stdout.readline())  # printed once the config file is written
        assert cfg.is_file()
        yield RunningSim(cfg, configs)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def crossbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def report(running: RunningSim) -> dict[tuple[str, str], dict[str, Any]]:
    done = crossbook("keys", "audit", "--config", str(running.config), "--json")
    assert done.returncode == 0, done.stderr
    return {(k["venue"], k["account"]): k for k in orjson.loads(done.stdout)["keys"]}


def findings(result: dict[str, Any]) -> dict[str, str]:
    return {f["finding"]: f["severity"] for f in result["findings"]}


def test_a_withdrawal_enabled_trading_key_is_a_high_finding(report: dict[tuple[str, str], dict[str, Any]]) -> None:
    withdrawer = report[("binance", "withdrawer")]
    assert withdrawer["permissions"]["withdraw"] and withdrawer["permissions"]["trade"]
    assert withdrawer["permissions"]["source"] == "GET /sapi/v1/account/apiRestrictions"  # the venue's own word
    assert findings(withdrawer) == {"withdraw_on_trading_key": "high"}


def test_a_key_bound_to_no_address_and_an_old_key_are_reported(report: dict[tuple[str, str], dict[str, Any]]) -> None:
    anywhere = report[("okx", "anywhere")]
    assert anywhere["permissions"]["ips"] == [] and anywhere["permissions"]["source"] == "GET /api/v5/account/config"
    assert findings(anywhere) == {"no_ip_restriction": "medium"}
    old = report[("bybit", "old")]
    assert old["permissions"]["source"] == "GET /v5/user/query-api"
    assert time.time() - old["permissions"]["created"] > 59 * DAY
    assert findings(old) == {"key_age": "medium"}


def test_a_minimal_key_is_clean(report: dict[tuple[str, str], dict[str, Any]]) -> None:
    minimal = report[("kucoin", "minimal")]
    assert minimal["clean"] and minimal["findings"] == []
    assert minimal["permissions"] | {"created": None} == {
        "read": True, "trade": True, "withdraw": False, "transfer": False, "ips": ["127.0.0.1"], "created": None,
        "expires": None, "source": "GET /api/v1/user/api-key"}
    assert report[("binance", "reader")]["clean"]


def test_strict_audit_exits_1_on_a_high_finding_only(running: RunningSim) -> None:
    done = crossbook("keys", "audit", "--config", str(running.only(["withdrawer", "minimal"], "strict-high")), "--strict")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "withdraw_on_trading_key" in done.stdout
    done = crossbook("keys", "audit", "--config", str(running.only(["minimal"], "strict-clean")), "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean" in done.stdout


@pytest.mark.parametrize("how", ["flag", "config"])
def test_strict_serve_refuses_to_start_on_a_withdrawal_key(running: RunningSim, how: str) -> None:
    service = "[service]\nstrict = true" if how == "config" else ""
    config = running.only(["withdrawer", "minimal"], f"serve-{how}", service)
    args = ["serve", "--config", str(config), "--listen", "127.0.0.1:0", "--symbols", "BTC-USDT",
            "--token-file", str(config.with_suffix(".token"))]
    done = crossbook(*args, *(["--strict"] if how == "flag" else []))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "crossbook serve: http" not in done.stdout  # it never listened
    assert "withdraw_on_trading_key" in done.stderr and "binance/withdrawer" in done.stderr


def test_serve_exports_the_findings_as_a_gauge(running: RunningSim) -> None:
    config = running.only(["withdrawer", "anywhere", "minimal"], "serve-metrics")
    metrics = asyncio.run(scrape_serve(["serve", "--config", str(config), "--listen", "127.0.0.1:0", "--symbols", "BTC-USDT",
                                        "--token-file", str(config.with_suffix(".token"))]))
    assert 'crossbook_key_findings{finding="withdraw_on_trading_key",severity="high",venue="binance"} 1.0' in metrics
    assert 'crossbook_key_findings{finding="no_ip_restriction",severity="medium",venue="okx"} 1.0' in metrics
    assert 'venue="kucoin"' not in "\n".join(line for line in metrics.splitlines() if line.startswith("crossbook_key_findings"))


async def scrape_serve(args: list[str]) -> str:
    """Start ``crossbook serve ARGS``, read /metrics once it listens, stop it."""
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), START_WITHIN)).decode()
        match = URL_LINE.search(line)
        assert match, f"no URL line: {line!r}"
        return await asyncio.to_thread(lambda: urllib.request.urlopen(match[1] + "metrics", timeout=30).read().decode())
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def test_a_read_only_key_order_is_refused_with_the_venues_error(running: RunningSim) -> None:
    async def place(entry: str, ccxt_id: str) -> Any:
        client = running.client(entry, ccxt_id)
        try:
            await client.load_markets()
            return await client.create_order("BTC/USDT", "limit", "buy", 0.001, 1000)
        finally:
            await client.close()

    with pytest.raises(ccxt_async.AuthenticationError, match='"code":-2015,"msg":"Invalid API-key, IP, or permissions'):
        asyncio.run(place("reader", "binance"))
    with pytest.raises(ccxt_async.ExchangeError, match="\"code\":\"50120\""):  # OKX: "API key doesn't have permission"
        asyncio.run(place("viewer", "okx"))
    assert asyncio.run(place("withdrawer", "binance"))["id"]  # the same order with a trading key goes through
    done = crossbook("order", "place", "okx", "BTC-USDT", "buy", "0.001", "--type", "limit", "--price", "1000",
                     "--account", "viewer", "--config", str(running.config))
    assert done.returncode == 1 and "okx refused" in done.stderr, done.stderr


def test_a_key_without_the_withdraw_right_cannot_withdraw(running: RunningSim) -> None:
    async def withdraw(entry: str) -> Any:
        client = running.client(entry, "binance")
        try:
            return await client.sapiPostCapitalWithdrawApply({"coin": "USDT", "address": "0x" + "1" * 40, "amount": "10",
                                                              "network": "ETH"})
        finally:
            await client.close()

    with pytest.raises(ccxt_async.AuthenticationError, match="-2015"):
        asyncio.run(withdraw("reader"))


def test_findings_follow_the_needs_the_age_and_the_expiry() -> None:
    now = 1_800_000_000.0
    held = KeyPermissions(read=True, trade=False, withdraw=True, transfer=True, ips=("10.0.0.1",), created=now - DAY,
                          expires=now + 3 * DAY, source="GET /x")
    withdrawing = KeySubject("binance", "payouts", "payouts", "vault", needs=KeyNeeds(trade=False, transfer=True, withdraw=True))
    assert [f.finding for f in judge(withdrawing, held, AuditPolicy(), now)] == ["key_expiring"]
    trading = KeySubject("binance", "main", "main", "vault")
    assert sorted(f.finding for f in judge(trading, held, AuditPolicy(), now)) == [
        "excess_permission", "excess_permission", "key_expiring"]
    assert [f.finding for f in judge(trading, held, AuditPolicy(expiry_warning_days=1), now)] == [
        "excess_permission", "excess_permission"]
