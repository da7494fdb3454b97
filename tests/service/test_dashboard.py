"""The built-in dashboard in headless Chromium (the Debian package; its absence fails the test), over
`crossbook serve --sim` as a subprocess: the page loads with no console error, shows every simulated
venue live, its numbers move while it is open, a route shows up with its slippage and savings, and a
missing or wrong token is said as such. The screenshot is saved under the test's tmp_path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import run

from .cdp import Chromium, Page
from .serve_process import Serving, following, serve_sim

SHOWN_WITHIN = 90.0  # seconds: the page polls each second; a loaded machine is slow
PRICE = re.compile(r"^[\d,]+(\.\d+)? USDT$")
VENUE_ROWS = """(() => Object.fromEntries([...document.querySelectorAll('#venues tbody tr[data-venue]')].map((tr) => [
  tr.dataset.venue, {
    ready: tr.dataset.ready === '1',
    books: [...tr.querySelectorAll('td[data-field=books] .pill')].map((p) => p.className),
    messages: tr.querySelector('td[data-field=messages]').textContent,
    latency: tr.querySelector('td[data-field=latency]').textContent,
  }])))()"""
TEXT = "document.getElementById({!r}).textContent"


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with serve_sim(tmp_path_factory.mktemp("serve")) as served:
        yield served


def test_every_venue_is_shown_live_and_the_numbers_move(serving: Serving, tmp_path: Path) -> None:
    expected = following(serving.health())
    assert len(expected) >= 2, serving.health()
    run(_watch(serving, expected, tmp_path), timeout=400)


async def _watch(serving: Serving, expected: dict[str, Any], tmp_path: Path) -> None:
    async with Chromium.start() as browser:
        page = await browser.page()
        await page.navigate(serving.dashboard)
        await page.wait_for(TEXT.format("status") + " === 'live'", SHOWN_WITHIN, "the status to say live")
        rows = await page.wait_for(f"""(() => {{ const rows = {VENUE_ROWS};
            const want = {sorted(expected)!r};
            return want.every((v) => rows[v] && rows[v].ready && rows[v].books.length
              && rows[v].books.every((c) => c.includes('state-live')) && rows[v].latency !== '–') && rows; }})()""",
            SHOWN_WITHIN, f"every venue of {sorted(expected)} shown live with its latency")
        assert set(rows) == set(serving.health()["venues"]), "every venue of the service has a row"
        assert await page.evaluate("document.getElementById('lease-panel').hidden"), "no lease panel off the bus"

        best_bid = await page.wait_for(f"(() => {{ const t = {TEXT.format('best-bid')}; return /{PRICE.pattern}/.test(t) && t; }})()",
                                       SHOWN_WITHIN, "the best bid in USDT")
        assert await page.evaluate("document.querySelectorAll('#depth-chart canvas').length") == 1, "the depth chart is drawn"

        first = {v: row["messages"] for v, row in rows.items() if v in expected}
        await page.wait_for(f"""(() => {{ const rows = {VENUE_ROWS}; const first = {first!r};
            return Object.keys(first).some((v) => rows[v].messages !== first[v]); }})()""",
            SHOWN_WITHIN, f"a venue's message count to move from {first}")

        report = await _route(serving)
        route_row = await page.wait_for("""(() => { const row = document.querySelector('#routes tbody tr:not(.placeholder)');
            return row && [...row.cells].map((c) => c.textContent); })()""", SHOWN_WITHIN, "the route in the recent routes")
        assert route_row[1] == "BTC-USDT" and route_row[2] == "buy", route_row
        assert route_row[5] == report["outcome"], (route_row, report["outcome"])
        assert re.fullmatch(r"-?\d+\.\d\d", route_row[6]), f"slippage vs arrival in bps: {route_row}"
        assert route_row[9].endswith(" USDT") or route_row[9] == "–", f"savings in USDT: {route_row}"
        await page.wait_for("document.querySelector('#stats tbody tr[data-venue]') !== null", SHOWN_WITHIN,
                            "the route's venues in fees and volume")

        assert serving.token not in await page.evaluate("document.documentElement.outerHTML"), "the page never shows the token"
        shot = await page.screenshot(tmp_path / "dashboard.png")
        print(f"dashboard screenshot: {shot} (best bid then {best_bid})")
        assert shot.stat().st_size > 10_000
        assert page.errors == [], page.errors
        await page.close()


async def _route(serving: Serving) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(
            serving.url + "route", json={"symbol": "BTC-USDT", "side": "buy", "amount": 0.01}, headers=serving.auth) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body


def test_a_missing_or_wrong_token_is_said(serving: Serving) -> None:
    run(_tokens(serving), timeout=300)


async def _tokens(serving: Serving) -> None:
    async with Chromium.start() as browser:
        page = await browser.page()
        await page.navigate(serving.url)
        await _says(page, "no token", "needs the service's token")
        assert page.errors == [], "without a token the page calls nothing that needs one"
        # the venues' health needs no token, so the page is not blank
        await page.wait_for("document.querySelectorAll('#venues tbody tr[data-venue]').length > 0", SHOWN_WITHIN, "the venues")

        wrong = await browser.page()
        await wrong.navigate(serving.url + "#token=not-the-token-0123456789")
        await _says(wrong, "token refused", "refused this page's token (401)")
        assert all("401" in error for error in wrong.errors), f"one refused call, nothing else: {wrong.errors}"
        assert len(wrong.errors) == 1, wrong.errors
        await page.close()
        await wrong.close()


async def _says(page: Page, status: str, banner: str) -> None:
    await page.wait_for(f"{TEXT.format('status')} === {status!r}", SHOWN_WITHIN, f"the status {status!r}")
    text = await page.evaluate(TEXT.format("banner"))
    assert banner in text and await page.evaluate("!document.getElementById('banner').hidden"), text


def test_the_page_and_its_files_need_no_token_and_hold_no_data(serving: Serving) -> None:
    run(_files(serving), timeout=60)


async def _files(serving: Serving) -> None:
    async with aiohttp.ClientSession() as session:
        for path, kind, starts in (("", "text/html", "<!doctype html>"), ("static/dashboard.js", "application/javascript", "//"),
                                   ("static/dashboard.css", "text/css", ":root"),
                                   ("vendor/uPlot.iife.min.js", "application/javascript", "/*! https://github.com/leeoniya/uPlot"),
                                   ("vendor/uPlot.min.css", "text/css", ".uplot")):
            async with session.get(serving.url + path) as response:
                body = await response.text()
                assert response.status == 200, (path, response.status, body[:200])
                assert response.content_type == kind, (path, response.content_type)
                assert body.startswith(starts), (path, body[:80])
                assert serving.token not in body
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        for path in ("static/api.py", "static/..%2Fapi.py", "vendor/package.json", "vendor/..%2F..%2Fpackage.json"):
            async with session.get(serving.url + path) as response:
                assert response.status == 404, (path, response.status)
