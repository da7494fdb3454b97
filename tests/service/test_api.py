"""The service's API against a Service on a simulated desk (tests/service/conftest.py): every
endpoint's happy path and shape, bad input (400 naming the field, nothing sent), dry runs sending
nothing, real routes and orders reaching the simulated venues, and the WebSocket stream."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run

from .conftest import SYMBOLS, VENUES, Served

READY_WITHIN = 90.0


async def _get(served: Served, path: str, **params: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers=served.auth) as http, http.get(served.url + path, params=params) as r:
        return r.status, await r.json()


async def _send(served: Served, method: str, path: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers=served.auth) as http, http.request(method, served.url + path, json=body) as r:
        return r.status, await r.json()


def get(served: Served, path: str, **params: Any) -> tuple[int, Any]:
    return run(_get(served, path, **params))


def send(served: Served, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return run(_send(served, method, path, body), timeout=90)


def wait_ready(served: Served) -> dict[str, Any]:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        status, health = get(served, "/health")
        if status == 200 and all(v["ready"] for v in health["venues"].values()):
            return health
        if time.monotonic() > deadline:
            raise AssertionError(f"not every venue ready within {READY_WITHIN} s: {health}")
        time.sleep(0.2)


def test_health_says_every_venue_ready_with_its_books(served: Served) -> None:
    health = wait_ready(served)
    assert health["status"] == "ok"
    assert sorted(health["venues"]) == sorted(VENUES)
    for venue in VENUES:
        entry = health["venues"][venue]
        assert entry["connected"] is True
        assert entry["books"] == dict.fromkeys(SYMBOLS, "live")


def test_metrics_are_prometheus_text_and_count_api_requests(served: Served) -> None:
    wait_ready(served)
    get(served, "/venues")

    async def scrape() -> tuple[int, str, str]:
        async with aiohttp.ClientSession() as http, http.get(served.url + "/metrics") as r:
            return r.status, r.headers["Content-Type"], await r.text()

    status, content_type, text = run(scrape())
    assert status == 200 and content_type.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = [s for s in families["crossbook_api_requests"].samples if s.name.endswith("_total")]
    assert any(s.labels == {"route": "/venues", "status": "200"} and s.value >= 1 for s in requests)
    assert all("{" not in s.labels["route"] or s.labels["route"].endswith("}") for s in requests)
    assert "process_resident_memory_bytes" in families


def test_venues_lists_each_venue_with_its_feeds(served: Served) -> None:
    wait_ready(served)
    status, body = get(served, "/venues")
    assert status == 200
    assert sorted(v["venue"] for v in body["venues"]) == sorted(VENUES)
    for venue in body["venues"]:
        assert venue["ready"] and venue["trading"]
        assert venue["feeds"] and all(f["connected"] == f["connections"] >= 1 for f in venue["feeds"].values())


def test_book_is_consolidated_best_first_to_the_depth_asked(served: Served) -> None:
    wait_ready(served)
    status, book = get(served, "/books/BTC-USDT", depth=5)
    assert status == 200
    assert book["symbol"] == "BTC-USDT"
    assert 0 < len(book["bids"]) <= 5 and 0 < len(book["asks"]) <= 5
    bids = [lv["price"] for lv in book["bids"]]
    asks = [lv["price"] for lv in book["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert book["bid"] == bids[0] and book["ask"] == asks[0]  # two venues' books may cross: arbitrage
    assert {lv["venue"] for lv in book["bids"]} <= set(VENUES)
    assert set(book["venues"]) == set(VENUES)
    assert all(v["state"] == "live" and v["bid"] < v["ask"] for v in book["venues"].values())


def _shape(value: Any) -> Any:
    """The keys of every object, recursively, and the shape of lists' first items: what two JSON
    documents share when they have one shape with different numbers."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def test_quote_has_the_shape_crossbook_quote_json_prints(served: Served) -> None:
    wait_ready(served)
    status, quote = get(served, "/quote", symbol="BTC-USDT", side="buy", amount="0.5")
    assert status == 200
    assert quote["symbol"] == "BTC-USDT" and quote["side"] == "buy" and quote["amount"] == 0.5
    assert set(VENUES) <= set(quote["venues"])  # and the same instrument in USDC, USD
    assert quote["best"]["venue"] in VENUES
    cli = subprocess.run([os.path.join(os.path.dirname(sys.executable), "crossbook"), "quote", "BTC-USDT", "buy", "0.5",
                          "--sim", "--json", "--venues", ",".join(VENUES)],
                         capture_output=True, text=True, timeout=180, check=True)
    printed = json.loads(cli.stdout)
    assert _shape(quote) == _shape(printed)


def test_dry_run_route_plans_and_sends_nothing(served: Served) -> None:
    wait_ready(served)
    before = {v: served.venue_orders(v) for v in VENUES}
    status, report = send(served, "POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": 1.5, "dry_run": True})
    assert status == 200, report
    assert report["outcome"] == "dry_run" and report["children"] == []
    assert report["plan"] and sum(c["amount"] for c in report["plan"]) == pytest.approx(1.5)
    assert {v: served.venue_orders(v) for v in VENUES} == before
    status, recent = get(served, "/routes", limit=1)
    assert status == 200 and recent["routes"][0]["outcome"] == "dry_run"


def test_route_trades_at_the_venues_and_is_kept_in_recent_routes(served: Served) -> None:
    wait_ready(served)
    before = sum(served.venue_orders(v) for v in VENUES)
    status, report = send(served, "POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": "0.05"})
    assert status == 200, report
    assert report["outcome"] in ("filled", "partial") and report["filled"] > 0
    children = [c for c in report["children"] if c["client_order_id"]]
    assert sum(served.venue_orders(v) for v in VENUES) == before + len(children) > before
    status, recent = get(served, "/routes")
    assert recent["routes"][0]["children"] == report["children"]
    assert not served.service.in_flight
    status, stats = get(served, "/stats")
    assert status == 200 and stats


def test_an_order_is_placed_listed_and_canceled(served: Served) -> None:
    wait_ready(served)
    _, book = get(served, "/books/BTC-USDT", depth=1)
    far_below = round(book["bid"] * 0.8)
    before = served.venue_orders("okx")
    status, order = send(served, "POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy",
                                                      "amount": "0.01", "price": far_below})
    assert status == 200, order
    assert order["status"] == "open" and order["price"] == far_below and order["venue"] == "okx"
    assert served.venue_orders("okx") == before + 1
    status, listed = get(served, "/orders", venue="okx", open="true")
    assert status == 200 and order["client_order_id"] in [o["client_order_id"] for o in listed["orders"]]
    status, canceled = send(served, "DELETE", f"/orders/okx/{order['client_order_id']}")
    assert status == 200 and canceled["status"] == "canceled"
    status, missing = send(served, "DELETE", "/orders/okx/no-such-order")
    assert status == 404 and "no-such-order" in missing["error"]


def test_balances_positions_arbitrage_alerts_and_stats_answer_their_shapes(served: Served) -> None:
    wait_ready(served)
    status, balances = get(served, "/balances", venues="binance,okx")
    assert status == 200 and balances["value_in"] == "USDT" and balances["total"] > 0
    assert {a["venue"] for a in balances["accounts"]} == {"binance", "okx"}
    status, positions = get(served, "/positions")
    assert status == 200 and set(positions) == {"positions", "unavailable", "no_derivatives"}
    status, arbitrage = get(served, "/arbitrage")
    assert status == 200 and arbitrage["symbols"] == SYMBOLS and isinstance(arbitrage["open"], list)
    status, alerts = get(served, "/alerts")
    assert status == 200 and alerts == {"active": [], "recent": []}  # no engine in this service


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy"}, "amount"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": -1}, "amount"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "hold", "amount": 1}, "side"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": "1e999"}, "amount"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": 1, "max_venues": 0}, "max_venues"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": 1, "dry_run": "maybe"}, "dry_run"),
    ("POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": 1, "colour": "red"}, "colour"),
    ("POST", "/route", [1, 2], "body"),
    ("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": "0.01"}, "price"),
    ("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": "x", "price": 1}, "amount"),
    ("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": 1, "type": "market", "price": 1},
     "price"),
    ("POST", "/orders", {"venue": "okx", "symbol": "BTC/USDT", "side": "buy", "amount": 1, "price": 1}, "symbol"),
    ("POST", "/orders", {"venue": "okx", "symbol": "BTC-USDT", "side": "buy", "amount": 1, "price": 1, "type": "stop"},
     "type"),
])
def test_bad_input_is_400_naming_the_field_and_nothing_is_sent(served: Served, method: str, path: str, body: Any,
                                                                field: str) -> None:
    wait_ready(served)
    before = {v: served.venue_orders(v) for v in VENUES}
    routes_before = len(served.service.routes)
    status, error = send(served, method, path, body)
    assert status == 400, error
    assert error["field"] == field and field in error["error"]
    assert {v: served.venue_orders(v) for v in VENUES} == before
    assert len(served.service.routes) == routes_before


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/quote", {"symbol": "BTC-USDT", "side": "buy"}, "amount"),
    ("/quote", {"symbol": "BTC-USDT", "side": "buy", "amount": "nan"}, "amount"),
    ("/quote", {"symbol": "BTC-USDT", "side": "buy", "amount": 1, "venues": "binance,nowhere"}, "venues"),
    ("/books/BTC-USDT", {"depth": "0"}, "depth"),
    ("/routes", {"limit": "ten"}, "limit"),
    ("/balances", {"in": "US$"}, "in"),
])
def test_bad_query_is_400_naming_the_parameter(served: Served, path: str, params: dict[str, Any], field: str) -> None:
    status, error = get(served, path, **params)
    assert status == 400 and error["field"] == field, error


def test_unknown_symbol_and_venue_are_404_naming_them(served: Served) -> None:
    status, error = get(served, "/books/DOGE-USDT")
    assert status == 404 and "DOGE-USDT" in error["error"]
    status, error = send(served, "POST", "/route", {"symbol": "DOGE-USDT", "side": "buy", "amount": 1})
    assert status == 404 and "DOGE-USDT" in error["error"]
    status, error = send(served, "POST", "/orders", {"venue": "nowhere", "symbol": "BTC-USDT", "side": "buy",
                                                      "amount": 1, "price": 1})
    assert status == 404 and "nowhere" in error["error"]
    status, error = get(served, "/no/such/path")
    assert status == 404 and "error" in error


async def _stream(served: Served, channels: list[str], until: Any, act: Any = None, timeout: float = 60.0) -> list[Any]:
    """Subscribe to ``channels``, run ``act`` once subscribed, and collect messages until ``until``
    holds for the collected ones."""
    seen: list[Any] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(served.url + "/stream") as ws:
        await ws.send_json({"op": "auth", "token": served.token})
        assert (await ws.receive_json(timeout=10))["op"] == "authenticated"
        await ws.send_json({"op": "subscribe", "channels": channels, "symbols": ["BTC-USDT"]})
        subscribed = await ws.receive_json(timeout=10)
        assert subscribed == {"op": "subscribed", "channels": channels, "symbols": ["BTC-USDT"]}
        if act is not None:
            await act()
        deadline = time.monotonic() + timeout
        while not until(seen):
            seen.append(await ws.receive_json(timeout=max(0.1, deadline - time.monotonic())))
    return seen


def test_stream_delivers_prices_and_a_route_report_after_subscribing(served: Served) -> None:
    wait_ready(served)

    async def route() -> None:
        status, _ = await _send(served, "POST", "/route", {"symbol": "BTC-USDT", "side": "sell", "amount": 0.2,
                                                           "dry_run": True})
        assert status == 200

    def done(seen: list[Any]) -> bool:
        return {m["channel"] for m in seen} >= {"prices", "routes"}

    seen = run(_stream(served, ["prices", "routes"], done, route), timeout=90)
    prices = [m["data"] for m in seen if m["channel"] == "prices"]
    assert all(p["symbol"] == "BTC-USDT" for p in prices)
    assert prices[0]["bid"] > 0 and prices[0]["ask"] > 0 and set(prices[0]["venues"]) == set(VENUES)
    assert {"bid", "ask", "state"} == set(prices[0]["venues"]["okx"])
    routes = [m["data"] for m in seen if m["channel"] == "routes"]
    assert routes[0]["side"] == "sell" and routes[0]["outcome"] == "dry_run"
    assert {m["channel"] for m in seen} <= {"prices", "routes"}


def test_stream_sends_health_every_second(served: Served) -> None:
    wait_ready(served)
    seen = run(_stream(served, ["health"], lambda s: len(s) >= 2), timeout=60)
    assert all(m["channel"] == "health" and set(m["data"]["venues"]) == set(VENUES) for m in seen)


def test_a_client_too_slow_for_its_queue_is_closed_and_publishing_never_waits() -> None:
    from aiohttp import WSMsgType, web

    from crossbook.service.stream import CLOSE_TOO_SLOW, StreamHub

    hub = StreamHub(queue_size=8)

    async def stream(request: web.Request) -> web.StreamResponse:
        return await hub.serve(request, "token", ["BTC-USDT"])

    async def body() -> int | None:
        app = web.Application()
        app.router.add_get("/stream", stream)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/stream"
        try:
            async with aiohttp.ClientSession() as http, http.ws_connect(url, headers={"Authorization": "Bearer token"}) as ws:
                await ws.send_json({"op": "subscribe", "channels": ["health"]})
                assert (await ws.receive_json(timeout=10))["op"] == "subscribed"
                padding = "x" * 65536
                for _ in range(5000):  # the client reads nothing: its socket, then its queue, fill up
                    hub.publish("health", {"pad": padding})
                    await asyncio.sleep(0)
                    if hub.dropped:
                        break
                assert hub.dropped == 1 and not hub.clients
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # what was sent before the close, then the close
                    message = await ws.receive(timeout=30)
                    if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                        break
                return ws.close_code
        finally:
            await runner.cleanup()

    assert run(body()) == CLOSE_TOO_SLOW


def test_stream_delivers_fills_and_opportunities_and_arbitrage_lists_them(served: Served) -> None:
    """Last in this module: it leaves okx dislocated."""
    wait_ready(served)

    async def dislocate() -> None:
        served.service.desk.dislocate("okx", 80, "BTC-USDT")

    async def act() -> None:
        status, report = await _send(served, "POST", "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": 0.02})
        assert status == 200 and report["filled"] > 0, report
        served.call(dislocate())

    def done(seen: list[Any]) -> bool:
        return {m["channel"] for m in seen} >= {"fills", "opportunities"}

    seen = run(_stream(served, ["fills", "opportunities"], done, act, timeout=90), timeout=120)
    fill = next(m["data"] for m in seen if m["channel"] == "fills")
    assert fill["symbol"] == "BTC-USDT" and fill["side"] == "buy" and fill["amount"] > 0 and fill["venue"] in VENUES
    opened = next(m["data"] for m in seen if m["channel"] == "opportunities")
    assert opened["event"] == "open" and opened["net_profit"] > 0
    status, arbitrage = get(served, "/arbitrage")
    assert status == 200 and arbitrage["recent"] and arbitrage["recent"][0]["kind"] == opened["kind"]
