"""The dashboard's funding table and consolidated-mid candle chart in headless Chromium, over
`crossbook serve --sim` as a subprocess: both render with real numbers and their units, and the
page raises no error. The screenshot is saved under the test's tmp_path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run

from .cdp import Chromium
from .serve_process import Serving, serve_sim

SHOWN_WITHIN = 120.0  # seconds: funding is read from every venue's REST API; a loaded machine is slow
FUNDING_ROWS = """[...document.querySelectorAll('#funding tbody tr[data-venue]')].map((tr) =>
  [...tr.cells].map((c) => c.textContent))"""
RATE = re.compile(r"^-?\d+\.\d{2,4} % / \d+(\.\d+)? h$")
ANNUAL = re.compile(r"^-?[\d,]+\.\d{2} %$")
NEXT = re.compile(r"^\d\d:\d\d UTC \(in \d+ h \d+ min\)$")


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with serve_sim(tmp_path_factory.mktemp("serve")) as served:
        yield served


def test_funding_table_and_mid_candles_render_with_units(serving: Serving, tmp_path: Path) -> None:
    run(_watch(serving, tmp_path), timeout=400)


async def _watch(serving: Serving, tmp_path: Path) -> None:
    async with Chromium.start() as browser:
        page = await browser.page()
        await page.navigate(serving.dashboard)
        rows = await page.wait_for(f"(() => {{ const rows = {FUNDING_ROWS}; return rows.length >= 2 && rows; }})()",
                                   SHOWN_WITHIN, "funding rows on two venues or more")
        for perpetual, venue, rate, annualized, following, spread in rows:
            assert perpetual.endswith("-PERP") and venue, rows
            assert RATE.match(rate), f"rate per interval in % per hours: {rate!r}"
            assert ANNUAL.match(annualized), f"annualized in %: {annualized!r}"
            assert NEXT.match(following), f"next funding time: {following!r}"
            assert spread.startswith("+") and ANNUAL.match(spread[1:]), spread
        spreads = await page.evaluate("""[...document.querySelectorAll('#funding-spreads tbody tr:not(.placeholder)')]
            .map((tr) => [...tr.cells].map((c) => c.textContent))""")
        assert spreads and all(ANNUAL.match(s[3]) for s in spreads), spreads

        candles = await page.wait_for("""(() => { const n = document.querySelectorAll('#mid-chart svg rect.candle').length;
            return n >= 1 && n; })()""", SHOWN_WITHIN, "the mid's candles drawn")
        labels = await page.evaluate("[...document.querySelectorAll('#mid-chart svg text.axis')].map((t) => t.textContent)")
        assert any(re.fullmatch(r"[\d,]+\.\d\d USDT", t) for t in labels), labels
        summary = await page.evaluate("document.getElementById('mid-summary').textContent")
        assert re.search(r"1m candles, last [\d,]+\.\d\d USDT$", summary), summary

        shot = await page.screenshot(tmp_path / "dashboard-market.png")
        print(f"dashboard screenshot: {shot} ({candles} candles, {len(rows)} funding rows)")
        assert shot.stat().st_size > 10_000
        assert page.errors == [], page.errors
        await page.close()
