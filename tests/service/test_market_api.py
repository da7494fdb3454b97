"""The API's market data beyond the book over the real service (simulated binance, okx, kraken):
candles, tickers on every venue, funding across venues, the consolidated mid's candles, and the
stream's ticker and candle channels, each checked against the desk or the simulators."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import run

from .conftest import Served
from .test_api import _get, _stream, wait_ready

WITHIN = 90.0  # seconds: the machine is shared and loaded


def _eventually(served: Served, path: str, ok: Any, **params: Any) -> Any:
    """GET ``path`` until ``ok(body)`` holds (bounded by WITHIN); the last body."""
    deadline = time.monotonic() + WITHIN
    while True:
        status, body = run(_get(served, path, **params))
        assert status == 200, body
        if ok(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_candles_of_one_venue_and_a_bad_interval(served: Served) -> None:
    status, body = run(_get(served, "/candles", venue="binance", symbol="BTC-USDT", interval="1m", limit="5"))
    assert status == 200, body
    assert body["venue"] == "binance" and body["interval"] == "1m" and 1 <= len(body["candles"]) <= 5
    times = [c["open_time"] for c in body["candles"]]
    assert times == sorted(times) and all(t % 60 == 0 for t in times)
    assert all(c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"] for c in body["candles"])
    status, error = run(_get(served, "/candles", venue="binance", symbol="BTC-USDT", interval="2m"))
    assert status == 400 and error["field"] == "interval" and "1m" in error["error"], error
    status, error = run(_get(served, "/candles", venue="nowhere", symbol="BTC-USDT"))
    assert status == 404 and "nowhere" in error["error"], error


def test_ticker_on_every_venue_equals_the_desks(served: Served) -> None:
    status, body = run(_get(served, "/ticker", symbol="BTC-USDT"))
    assert status == 200, body
    assert {t["venue"] for t in body["tickers"]} == {"binance", "okx", "kraken"}, body
    for ticker in body["tickers"]:
        assert ticker["symbol"] == "BTC-USDT" and ticker["last"] > 0
        assert ticker["bid"] is None or ticker["bid"] <= ticker["ask"]
    status, error = run(_get(served, "/ticker", symbol="not a symbol"))
    assert status == 400 and error["field"] == "symbol", error


def test_funding_across_venues_annualized_with_the_spread(served: Served) -> None:
    status, body = run(_get(served, "/funding", symbols="BTC-USDT-PERP"))
    assert status == 200, body
    venues = {r["venue"] for r in body["rates"]}
    assert len(venues) >= 2, body  # binance USD-M and OKX's swap at least
    now = time.time()
    for rate in body["rates"]:
        assert rate["symbol"] == "BTC-USDT-PERP" and rate["next_time"] > now - 60
        assert abs(rate["annualized"] - rate["rate"] * 365 * 24 / rate["interval_hours"]) < 1e-9
    (spread,) = body["spreads"]
    by_venue = {r["venue"]: r["annualized"] for r in body["rates"]}
    assert spread["high_annualized"] == max(by_venue.values()) and spread["low_annualized"] == min(by_venue.values())
    assert abs(spread["annualized"] - (max(by_venue.values()) - min(by_venue.values()))) < 1e-12
    status, error = run(_get(served, "/funding", symbols="BTC-USDT"))
    assert status == 404 and "perpetual" in error["error"], error


def test_mid_candles_of_the_consolidated_book(served: Served) -> None:
    wait_ready(served)
    body = _eventually(served, "/mid-candles", lambda b: b["candles"] and b["candles"][-1]["samples"] >= 5, symbol="BTC-USDT")
    assert body["interval"] == "1m" and body["candles"], body
    book = served.service.desk.market.consolidated["BTC-USDT"]
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None and ask is not None
    last = body["candles"][-1]
    assert last["open_time"] % 60 == 0 and last["low"] <= last["close"] <= last["high"]
    assert bid.price * 0.99 < last["close"] < ask.price * 1.01, (last, bid, ask)
    status, error = run(_get(served, "/mid-candles", symbol="DOGE-USDT"))
    assert status == 404 and "not followed" in error["error"], error


def test_options_without_an_options_market_says_so(served: Served) -> None:
    status, error = run(_get(served, "/options", underlying="BTC"))
    assert status == 400 and "options=True" in error["error"], error  # the simulated desk runs no options market
    status, error = run(_get(served, "/options", underlying="BTC", expiry="2026-12-25"))
    assert status == 400 and error["field"] == "expiry", error


def test_stream_carries_tickers_and_candles_of_followed_symbols(served: Served) -> None:
    wait_ready(served)

    def both(seen: list[Any]) -> bool:
        return {m.get("channel") for m in seen} >= {"ticker", "candles"}

    seen = run(_stream(served, ["ticker", "candles"], both, timeout=WITHIN), timeout=WITHIN + 30)
    tickers = [m["data"] for m in seen if m.get("channel") == "ticker"]
    candles = [m["data"] for m in seen if m.get("channel") == "candles"]
    assert all(t["symbol"] == "BTC-USDT" and t["last"] > 0 for t in tickers)
    assert all(c["symbol"] == "BTC-USDT" and c["interval"] == "1m" and c["high"] >= c["low"] for c in candles)
    desk = served.service.desk
    reads = desk.market_reads
    deadline = time.monotonic() + WITHIN
    while not desk.streams().live("binance", "BTC-USDT"):  # followed once a client asked, venue by venue
        assert time.monotonic() < deadline, "binance's BTC-USDT streams never went live"
        time.sleep(0.1)
    assert reads is not None
