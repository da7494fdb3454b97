"""No secret anywhere: known secret values in the vault, then a full run with crossbook's debug
logging and ccxt's verbose HTTP logging on (where peers leaked keys and signatures): routes, an
arbitrage executed, orders placed and canceled, the service's API, and provoked errors (a bad
signature, timeouts, refusals), all on a separately started `crossbook sim` with keys from the
vault only. Then every log line, error message, metric, journal row, API response and file written
is scanned: zero occurrences of any secret, in any of the forms a secret takes on the wire."""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook import Desk
from crossbook.arbitrage.execute import execute_cross_venue
from crossbook.errors import CrossbookError
from crossbook.model import OrderRequest, OrderType, Side
from crossbook.security.redact import derived_forms, secret_filter, verbose_ccxt
from crossbook.security.vault import StoredKey, StoredWallet, Vault
from tests.conftest import run

PASSPHRASE = "redaction test passphrase"
VENUES = ("binance", "okx")
WALLET_KEY = "0x" + "5e" * 32
LISTENING = re.compile(r"crossbook serve: (http://127\.0\.0\.1:\d+/) \(dashboard \S+#token=(\S+)\)")
START_WITHIN = 120.0


def _crossbook(*args: str) -> list[str]:
    return [sys.executable, "-c", "from crossbook.cli import app; app()", *args]


@contextmanager
def _process(command: list[str], folder: Path, name: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A child whose stdout and stderr go to files in ``folder`` (scanned like every file), stopped
    with Ctrl-C at the end."""
    with (folder / f"{name}.stdout").open("w") as out, (folder / f"{name}.stderr").open("w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(condition: Any, what: str, process: subprocess.Popen[str], within: float = START_WITHIN) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what}: the child exited with {process.returncode}"
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")


def _move_keys_into_the_vault(folder: Path, vault: Vault) -> Path:
    """The simulators' keys (issued by the venue, here `crossbook sim`) put in the vault, the ccxt
    file rewritten without them and every account naming its vault key: keys from the vault only."""
    config = folder / "sim.toml"
    ccxt_file = folder / "sim-ccxt.json"
    entries = orjson.loads(ccxt_file.read_bytes())
    for venue in VENUES:
        settings = entries[venue]
        vault.put_key(StoredKey(f"{venue}-main", venue, "main", settings.pop("apiKey"), settings.pop("secret"),
                                settings.pop("password", None), created=time.time()))
    # a key whose secret is wrong: every request it signs has a bad signature
    good = vault.key("binance-main")
    vault.put_key(StoredKey("binance-bad", "binance", "main", good.api_key, "wrong-secret-" + "7f" * 16, None,
                            created=time.time()))
    vault.put_wallet(StoredWallet("arb-wallet", "arbitrum", WALLET_KEY, created=time.time()))
    vault.save()
    ccxt_file.write_bytes(orjson.dumps({venue: entries[venue] for venue in VENUES}))
    # the derivatives clients' accounts (their own simulators' keys) are left out of this run
    first, *blocks = config.read_text().split("[[accounts]]\n")
    text = first
    for block in blocks:  # each: the account's lines, a blank line, then what follows it ([endpoints] after the last)
        account, blank, after = block.partition("\n\n")
        text += ("" if "ccxt_id" in account else "[[accounts]]\n" + account + blank) + after
    for venue in VENUES:
        named = f'venue = "{venue}"\naccount = "main"\n'
        text = text.replace(named, f'{named}key = "vault:{venue}-main"\n', 1)
    config.write_text(text)
    return config


def _variant(config: Path, name: str, *, replace: tuple[str, str] | None = None, ccxt_timeout: int | None = None) -> Path:
    """A copy of the config: one key reference swapped, or every client's timeout cut to ``ccxt_timeout`` ms."""
    text = config.read_text()
    if replace is not None:
        text = text.replace(*replace)
    if ccxt_timeout is not None:
        entries = orjson.loads((config.parent / "sim-ccxt.json").read_bytes())
        (config.parent / f"{name}-ccxt.json").write_bytes(orjson.dumps({k: v | {"timeout": ccxt_timeout}
                                                                       for k, v in entries.items()}))
        text = text.replace('"sim-ccxt.json"', f'"{name}-ccxt.json"')
    path = config.with_name(f"{name}.toml")
    path.write_text(text)
    return path


async def _errors_of(*calls: Any) -> list[str]:
    """Each call's error message (each must fail as a crossbook error)."""
    messages = []
    for call in calls:
        try:
            result = await call
        except CrossbookError as exc:
            messages.append(f"{type(exc).__name__}: {exc}")
        else:
            messages.append(orjson.dumps(result.to_json() if hasattr(result, "to_json") else result).decode())
    return messages


async def _unknown_strategy(desk: Desk) -> Any:
    return await desk.strategy("nobody").route("BTC-USDT", "buy", 0.1)


async def _desk_flows(config: Path, sim_rest: dict[str, str]) -> list[str]:
    """Routes, an arbitrage executed, orders placed and canceled, refusals: what they returned and raised."""
    seen: list[str] = []
    async with Desk.from_config(config) as desk:
        route = await desk.route("BTC-USDT", "buy", 0.2)
        seen.append(orjson.dumps(route.to_json()).decode())
        seen.append(orjson.dumps((await desk.balances()).to_json()).decode())
        okx = await desk.account("okx")
        book = await desk.book("okx", "BTC-USDT")
        bid = book.best_bid()
        assert bid is not None
        far = Decimal(round(bid[0] * 0.8))
        placed = await okx.place(OrderRequest("okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("0.01"), price=far))
        seen += [orjson.dumps(placed.to_json()).decode(), orjson.dumps((await okx.cancel(placed.client_order_id)).to_json()).decode()]
        seen += await _errors_of(  # refusals: before sending, and by the venue
            okx.place(OrderRequest("okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("100000"), price=far)),
            okx.cancel("no-such-order"),
            _unknown_strategy(desk),
        )
        dislocate = {"bps": 80, "symbol": "BTC-USDT"}  # one venue dislocated: the arbitrage found and executed
        async with aiohttp.ClientSession() as http, http.post(sim_rest["binance"] + "/_crossbook/dislocate", json=dislocate) as r:
            assert r.status == 200
        async for event in desk.arbitrage(["BTC-USDT"], kinds=("cross",), seconds=30):
            if event.kind == "open":
                executed = await execute_cross_venue(event.opportunity, {"BTC-USDT": await desk.consolidated("BTC-USDT")},
                                                     desk.accounts, max_size=0.05)
                seen.append(orjson.dumps(executed.as_json()).decode())
                break
        else:
            raise AssertionError("no cross-venue opportunity opened after the dislocation")
        seen.append(desk.metrics.exposition()[0].decode())
    return seen


async def _provoked_errors(config: Path) -> list[str]:
    """A bad signature (a key with the wrong secret) and timeouts (every request cut at 1 ms)."""
    seen: list[str] = []
    bad = _variant(config, "bad-signature", replace=('key = "vault:binance-main"', 'key = "vault:binance-bad"'))
    async with Desk.from_config(bad, venues=["binance"]) as desk:
        account = await desk.account("binance")
        seen += await _errors_of(account.balances(), desk.route("BTC-USDT", "buy", 0.1))
    slow = _variant(config, "timeouts", ccxt_timeout=1)
    try:
        async with Desk.from_config(slow, venues=["okx"]) as desk:
            seen += await _errors_of(desk.route("BTC-USDT", "buy", 0.1))
    except CrossbookError as exc:  # the markets themselves could not be loaded in time
        seen.append(f"{type(exc).__name__}: {exc}")
    return seen


async def _api_flows(url: str, token: str, sim_rest: dict[str, str]) -> list[str]:
    """The service's API: reads, a route, an order placed and canceled, refusals, /metrics."""
    auth = {"Authorization": f"Bearer {token}"}
    bodies: list[str] = []
    async with aiohttp.ClientSession(headers=auth) as http:
        async def call(method: str, path: str, body: Any = None) -> Any:
            async with http.request(method, url + path.lstrip("/"), json=body) as response:
                text = await response.text()
                bodies.append(text)
                return orjson.loads(text) if response.content_type == "application/json" else text

        await call("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": "0.05"})
        book = await call("GET", "/books/BTC-USDT?depth=1")
        order = await call("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": "0.01",
                                               "price": round(book["bid"] * 0.8)})
        await call("DELETE", f"/orders/okx/{order['client_order_id']}")
        await call("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": "100000",
                                       "price": round(book["bid"] * 0.8)})
        for path in ("/health", "/orders", "/balances", "/positions", "/routes", "/alerts", "/stats", "/arbitrage",
                     "/metrics"):
            await call("GET", path)
    return bodies


def _scanned_text(folder: Path, caplog: pytest.LogCaptureFixture, seen: list[str]) -> dict[str, bytes]:
    """Everything to scan: the log records, the messages and responses, every journal row, every file."""
    texts: dict[str, bytes] = {"logs": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records).encode(),
                               "caplog": caplog.text.encode(), "seen": "\n".join(seen).encode()}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            texts[str(path)] = path.read_bytes()
        if path.suffix == ".sqlite" or path.name.endswith(".db"):
            with sqlite3.connect(path) as db:
                tables = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
                texts[f"{path} rows"] = "\n".join(repr(row) for t in tables for row in db.execute(f"select * from {t}")).encode()
    return texts


def test_no_secret_reaches_a_log_an_error_a_metric_the_journal_the_api_or_a_file(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    vault_file = tmp_path / "vault"
    env = {**os.environ, "CROSSBOOK_VAULT": str(vault_file), "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE,
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    for name in ("CROSSBOOK_VAULT", "CROSSBOOK_VAULT_PASSPHRASE", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, env[name])
    vault = Vault.create(vault_file, PASSPHRASE)
    caplog.set_level(logging.DEBUG)
    verbose_ccxt(True)
    seen: list[str] = []
    try:
        with _process(_crossbook("--debug", "sim", "--venues", ",".join(VENUES), "--write-config", str(tmp_path / "sim.toml")),
                      tmp_path, "sim", env) as sim:
            _wait(lambda: (tmp_path / "sim.toml").exists() and (tmp_path / "sim-ccxt.json").exists(), "the sim's config", sim)
            config = _move_keys_into_the_vault(tmp_path, Vault.open(vault_file, PASSPHRASE))
            rest = dict(re.findall(r'\[endpoints\.(\w+)\]\nws = "[^"]+"\nrest = "([^"]+)"', config.read_text()))
            seen += run(_desk_flows(config, rest), timeout=240)
            seen += run(_provoked_errors(config), timeout=240)
            with _process(_crossbook("--debug", "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                                     "--token-file", str(tmp_path / "token"), "--symbols", "BTC-USDT"),
                          tmp_path, "serve", env) as serve:
                found = _wait(lambda: LISTENING.search((tmp_path / "serve.stdout").read_text()), "the service's address", serve)
                url, token = found[1], found[2]
                seen += run(_api_flows(url, token, rest), timeout=240)
    finally:
        verbose_ccxt(False)

    vault = Vault.open(vault_file, PASSPHRASE)
    secrets = vault.secrets()
    assert len(secrets) >= 5 and WALLET_KEY in secrets
    texts = _scanned_text(tmp_path, caplog, seen)
    # the run did log the signed requests (verbose on) and the filter did mask them
    assert "fetch Request" in texts["caplog"].decode() and "<redacted>" in texts["caplog"].decode()
    assert any("AuthenticationError" in s or "refused" in s for s in seen)
    serve_log = (tmp_path / "serve.stderr").read_text()
    assert "fetch Request" in serve_log and "<redacted>" in serve_log  # the service logged its signed requests, masked
    api = [text for text in seen if "crossbook_" in text or '"outcome"' in text]
    assert len(api) >= 3  # the desk's metrics, its route, the service's route and /metrics
    secrets_and_token = secrets | {token}
    texts_without_token_file = {where: text for where, text in texts.items() if not where.endswith(("/token", "serve.stdout"))}
    leaks = [(where, form[:6] + "...") for secret in secrets_and_token for form in derived_forms(secret)
             for where, text in texts_without_token_file.items() if form.encode() in text]
    assert not leaks, f"secrets found in: {leaks}"
    assert secret_filter().redact(" ".join(secrets)).count("<redacted>") == len(secrets)
