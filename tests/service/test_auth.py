"""The bearer token: every protected endpoint answers 401 without it (or with a wrong one) and does
nothing; the open ones answer; the stream takes the token as a header or a first message; the
token file is made with mode 0600, kept, and refused when others can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crossbook.errors import ConfigError
from crossbook.service.api import endpoints
from crossbook.service.auth import UNAUTHORIZED, load_or_create_token
from tests.conftest import run

from .conftest import VENUES, Served
from .test_api import get, send, wait_ready

BODIES: dict[str, Any] = {
    "/route": {"symbol": "BTC-USDT", "side": "buy", "amount": 0.05},
    "/orders": {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": "0.01", "type": "market"},
}


async def _attempt(served: Served, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers=headers) as http, \
            http.request(method, served.url + path, json=BODIES.get(path)) as r:
        return r.status, await r.json(content_type=None)


def _balances(served: Served) -> dict[str, Any]:
    report = served.call(served.service.desk.balances(VENUES, value_in=None))
    return {(r.venue, r.asset): r.total for r in report.rows}


def test_every_protected_endpoint_is_401_without_the_right_token_and_does_nothing(served: Served) -> None:
    wait_ready(served)
    _, book = get(served, "/books/BTC-USDT", depth=1)
    status, resting = send(served, "POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy",
                                                        "amount": "0.01", "price": round(book["bid"] * 0.8)})
    assert status == 200
    orders_before = {v: served.venue_orders(v) for v in VENUES}
    routes_before = len(served.service.routes)
    balances_before = _balances(served)
    protected = [e for e in endpoints() if e.auth]
    assert {e.path for e in protected} >= {"/route", "/orders", "/orders/{venue}/{id}", "/balances", "/stream"}
    for endpoint in protected:
        path = endpoint.path.format(symbol="BTC-USDT", venue="okx", id=resting["client_order_id"])
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": served.token}):
            if endpoint.path == "/stream" and not headers:
                continue  # a browser's stream authenticates by its first message: tested below
            status, body = run(_attempt(served, endpoint.method, path, headers))
            assert (status, body) == (401, {"error": UNAUTHORIZED}), f"{endpoint.method} {path} with {headers}"
    assert {v: served.venue_orders(v) for v in VENUES} == orders_before
    assert len(served.service.routes) == routes_before
    assert _balances(served) == balances_before
    status, still = get(served, "/orders", venue="okx", open="true")
    assert resting["client_order_id"] in [o["client_order_id"] for o in still["orders"]]
    send(served, "DELETE", f"/orders/okx/{resting['client_order_id']}")


def test_health_and_metrics_are_open_and_never_show_the_token(served: Served) -> None:
    async def fetch(path: str, headers: dict[str, str]) -> tuple[int, str]:
        async with aiohttp.ClientSession(headers=headers) as http, http.get(served.url + path) as r:
            return r.status, await r.text()

    for path in ("/health", "/metrics"):
        status, _ = run(fetch(path, {}))
        assert status == 200, path
    for path in ("/health", "/metrics", "/openapi.json", "/venues", "/stats", "/routes"):
        status, text = run(fetch(path, served.auth))
        assert status == 200 and served.token not in text, path


async def _stream_auth(served: Served, token: str) -> tuple[list[Any], int | None]:
    async with aiohttp.ClientSession() as http, http.ws_connect(served.url + "/stream") as ws:
        await ws.send_json({"op": "auth", "token": token})
        seen = []
        async for message in ws:
            seen.append(message.json())
            if seen[-1].get("op") == "authenticated":
                break
        return seen, ws.close_code


def test_stream_takes_the_token_as_its_first_message_and_closes_on_a_wrong_one(served: Served) -> None:
    seen, _ = run(_stream_auth(served, served.token))
    assert seen == [{"op": "authenticated"}]
    seen, code = run(_stream_auth(served, "wrong-token"))
    assert seen == [{"error": UNAUTHORIZED}] and code == 4401


def test_stream_takes_the_header(served: Served) -> None:
    async def subscribe() -> Any:
        async with aiohttp.ClientSession(headers=served.auth) as http, http.ws_connect(served.url + "/stream") as ws:
            await ws.send_json({"op": "subscribe", "channels": ["health"]})
            return await ws.receive_json(timeout=10)

    assert run(subscribe())["op"] == "subscribed"


def test_the_token_file_is_made_0600_kept_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    path = tmp_path / "token"
    token = load_or_create_token(path)
    assert len(token) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == token
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by others") as refused:
        load_or_create_token(path)
    assert token not in str(refused.value)
