"""Two `crossbook serve` processes configured for the same account, on one bus: only the one that
holds the account's lease trades it (the other answers 409 naming the holder, and nothing reaches
the venue); kill -9 the holder, and the other takes the account over once the lease lapsed (not
before), reconciles it, and only then trades it. The venues live in their own `crossbook sim`. The
waiting one's dashboard (headless Chromium) shows the lease: held by the other, waiting here; then
held here and ready once taken over."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import nats
import orjson

from crossbook.bus import subjects
from crossbook.bus.natsd import NatsServer

from ..conftest import run
from .cdp import Chromium, Page
from .serving import Served, SimProcess, start_serve, start_sim, until

LEASE_SECONDS = 4.0
WITHIN = 120.0  # seconds for a loaded machine to start a service or take a lease over
MARGIN = 1.0  # seconds: a takeover's attempt is stamped just before its create reaches the server


def _configs(sim: SimProcess, url: str) -> tuple[Path, Path]:
    """The sim's config twice, each with a [bus] table naming its own process (same journal, same keys)."""
    made = []
    for name in ("desk-a", "desk-b"):
        path = sim.config.with_name(f"{name}.toml")
        path.write_text(sim.config.read_text() + f'\n[bus]\nurl = "{url}"\nname = "{name}"\nlease_seconds = {LEASE_SECONDS}\n')
        made.append(path)
    return made[0], made[1]


async def _venue_open_orders(sim: SimProcess) -> list[dict[str, Any]]:
    client = ccxt_async.binance(sim.ccxt_configs["binance"])
    try:
        return list(await client.fetch_open_orders("BTC/USDT"))
    finally:
        await client.close()


async def _resting_price(sim: SimProcess) -> str:
    """A buy price a tenth under the best bid: the order rests at the venue."""
    client = ccxt_async.binance(sim.ccxt_configs["binance"])
    try:
        book = await client.fetch_order_book("BTC/USDT")
    finally:
        await client.close()
    return str((Decimal(str(book["bids"][0][0])) * Decimal("0.9")).quantize(Decimal("1"), rounding=ROUND_DOWN))


async def _lease(served: Served, session: aiohttp.ClientSession) -> dict[str, Any]:
    status, body = await served.get(session, "/leases")
    assert status == 200, body
    (binance,) = [lease for lease in body["leases"] if (lease["venue"], lease["account"]) == ("binance", "main")]
    return dict(binance)


LEASE_ROW = """(() => {{ const panel = document.getElementById('lease-panel');
  const tr = document.querySelector('#leases tbody tr[data-account="binance/main"]');
  return !panel.hidden && tr && tr.dataset.state === {state!r} && tr.dataset.ready === {ready!r}
    && [...tr.cells].map((c) => c.textContent); }})()"""


async def _lease_shown(page: Page, state: str, ready: bool, holder: str) -> None:
    """The dashboard's lease panel shows binance/main in ``state`` here, traded by ``holder``."""
    row = await page.wait_for(LEASE_ROW.format(state=state, ready="1" if ready else "0"), WITHIN,
                              f"the dashboard to show the lease {state} (ready: {ready})")
    assert row[1].startswith(f"{holder} (pid "), row
    assert row[2] != "–", f"since when it is held: {row}"


def _order(price: str) -> dict[str, Any]:
    return {"venue": "binance", "symbol": "BTC-USDT", "side": "buy", "amount": "0.01", "type": "limit", "price": price}


class KeyWatch:
    """Polls the lease key from the test's own connection: the wall-clock time before which its
    latest revision cannot have been written (the start of the last poll that still saw an older one)."""

    def __init__(self, kv: Any) -> None:
        self.kv = kv
        self.seen: list[tuple[float, int]] = []  # (poll started, revision seen)

    async def poll(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.time()
            entry = await self.kv.get(subjects.lease_key("binance", "main"))
            assert entry.revision is not None
            self.seen.append((started, entry.revision))
            await asyncio.sleep(0.05)

    def written_after(self, revision: int) -> float:
        older = [started for started, seen in self.seen if seen < revision]
        assert older, "the holder never renewed while watched"
        return max(older)


def test_two_services_one_account_only_the_lease_holder_trades_and_the_other_takes_over_after_expiry(
        tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server:
            sim = await start_sim(["binance"], tmp_path)
            served: list[Served] = []
            bus = await nats.connect(server.url)
            try:
                config_a, config_b = _configs(sim, server.url)
                common = ["--listen", "127.0.0.1:0", "--token-file", str(tmp_path / "token"), "--symbols", "BTC-USDT"]
                holder = await start_serve(["--config", str(config_a), *common], tmp_path, "serve-a")
                served.append(holder)
                async with aiohttp.ClientSession() as session, contextlib.AsyncExitStack() as stack:
                    await until(lambda: _ready(holder, session), WITHIN, "desk-a to hold and reconcile the account")
                    other = await start_serve(["--config", str(config_b), *common], tmp_path, "serve-b")
                    served.append(other)
                    waiting = await _lease(other, session)
                    assert waiting["state"] == "waiting" and waiting["holder"]["holder"] == "desk-a", waiting
                    assert not waiting["ready"]
                    page = await (await stack.enter_async_context(Chromium.start())).page()
                    await page.navigate(f"{other.url}#token={other.token}")
                    await _lease_shown(page, "waiting", False, "desk-a")

                    price = await _resting_price(sim)
                    status, placed = await holder.post(session, "/orders", _order(price))
                    assert status == 200, placed
                    status, refused = await other.post(session, "/orders", _order(price))
                    assert status == 409, refused
                    assert "desk-a" in refused["error"] and "binance/main" in refused["error"], refused
                    cancel = f"/orders/binance/{placed['client_order_id']}"
                    async with session.delete(other.url + cancel.lstrip("/"), headers=other.auth) as response:
                        assert response.status == 409, await response.text()
                    assert len(await _venue_open_orders(sim)) == 1

                    watch = KeyWatch(await bus.jetstream().key_value(subjects.LEASE_BUCKET))
                    await watch.poll(LEASE_SECONDS + 1.0)  # renewals seen landing
                    holder.proc.send_signal(signal.SIGKILL)
                    assert await asyncio.wait_for(holder.proc.wait(), 30) == -signal.SIGKILL
                    last = await watch.kv.get(subjects.lease_key("binance", "main"))
                    assert last.revision is not None
                    lapses_after = watch.written_after(last.revision) + LEASE_SECONDS

                    await until(lambda: _ready(other, session), WITHIN, "desk-b to take the account over")
                    taken = await _lease(other, session)
                    assert taken["holder"]["holder"] == "desk-b" and taken["process"] == "desk-b", taken
                    await _lease_shown(page, "held", True, "desk-b")
                    assert "this process: desk-b" in await page.evaluate("document.getElementById('lease-summary').textContent")
                    since = taken["holder"]["since"]
                    assert since >= lapses_after - MARGIN, (since, lapses_after)
                    # reconciled first: the report is there, made after the takeover, before its first order
                    assert taken["reconciled_at"] is not None and taken["reconciled_at"] >= since, taken
                    assert any(r["venue"] == "binance" for r in taken["reconciliation"]), taken

                    status, placed_b = await other.post(session, "/orders", _order(price))
                    assert status == 200, placed_b
                    assert placed_b["created_at"] >= round(taken["reconciled_at"], 3) - 0.001
                    assert len(await _venue_open_orders(sim)) == 2

                    # its execution reports on the bus: the cancel's outcome on crossbook.fills.binance.main
                    reports = await bus.subscribe(subjects.fills_subject("binance", "main"))
                    cancel_b = f"/orders/binance/{placed_b['client_order_id']}"
                    async with session.delete(other.url + cancel_b.lstrip("/"), headers=other.auth) as response:
                        assert response.status == 200, await response.text()
                    report = orjson.loads((await reports.next_msg(timeout=60)).data)
                    assert report == {"kind": "outcome", "venue": "binance", "account": "main", "symbol": "BTC-USDT",
                                      "client_order_id": placed_b["client_order_id"], "outcome": "canceled"}
                    assert page.errors == [], page.errors
                    await page.close()
            finally:
                for process in served:
                    await process.reap()
                await bus.close()
                await sim.stop()

    run(body(), timeout=600.0)


async def _ready(served: Served, session: aiohttp.ClientSession) -> bool:
    lease = await _lease(served, session)
    return bool(lease["state"] == "held" and lease["ready"])
