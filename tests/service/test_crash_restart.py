"""kill -9 in the middle of a route, then a restart on the same config and journal: every order the
simulated venues hold for the account is in the journal exactly once, none lost, none doubled, no
child sent twice. The venues live in their own `crossbook sim` process so they outlive the kill;
the service trades them through proxies that hold the answer to one venue's order, so the kill
lands while that child is at the venue but its answer has not come back."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async

from ..conftest import run
from .serving import Served, SimProcess, all_ready, proxied_trading, start_serve, start_sim, until

VENUES = ["binance", "okx"]
READY_WITHIN = 120.0
SETTLED_WITHIN = 120.0  # reconciliation adopts an order once its send can no longer be in transit


def _journal(sim: SimProcess) -> list[sqlite3.Row]:
    db = sqlite3.connect(sim.config.with_name(f"{sim.config.stem}-journal.sqlite"))
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT venue, client_order_id, venue_order_id, status FROM orders").fetchall()
    finally:
        db.close()


async def _venue_orders(sim: SimProcess, venue: str) -> list[dict[str, Any]]:
    """Every BTC/USDT order the venue holds for the account, open and closed, read by an unmodified
    ccxt client straight from the simulator."""
    client = getattr(ccxt_async, venue)(sim.ccxt_configs[venue])
    try:
        orders = [*await client.fetch_open_orders("BTC/USDT"), *await client.fetch_closed_orders("BTC/USDT")]
    finally:
        await client.close()
    return orders


async def _splitting_amount(served: Served, session: aiohttp.ClientSession) -> float:
    """An amount the router splits across both venues with a fifth or more on each (a dry run sends
    nothing): the books move between this plan and the route, and a venue planned a sliver could
    lose it by then."""
    for amount in (1, 5, 20, 50):
        status, report = await served.post(session, "/route", {"symbol": "BTC-USDT", "side": "buy", "amount": amount,
                                                               "dry_run": True})
        assert status == 200, report
        shares = dict.fromkeys(VENUES, 0.0)
        for child in report["plan"]:
            shares[child["venue"]] = shares.get(child["venue"], 0.0) + child["amount"]
        if min(shares.values()) >= amount / 5:
            return float(amount)
    raise AssertionError(f"no amount up to 50 BTC splits across {VENUES} a fifth or more each: {report['plan']}")


def test_kill_9_mid_route_then_restart_leaves_every_venue_order_in_the_journal_once(tmp_path: Path) -> None:
    async def body() -> None:
        sim = await start_sim(VENUES, tmp_path)
        proxies = await proxied_trading(sim)
        args = ["--config", str(sim.config), "--listen", "127.0.0.1:0", "--token-file", str(tmp_path / "token")]
        try:
            served = await start_serve(args, tmp_path, "serve1")
            try:
                async with aiohttp.ClientSession() as session:
                    await until(lambda: all_ready(served, session, set(VENUES)), READY_WITHIN, "the venues ready")
                    amount = await _splitting_amount(served, session)
                    proxies["okx"].holding = True  # okx's child reaches okx; its answer never comes back
                    routing = asyncio.create_task(served.post(session, "/route", {"symbol": "BTC-USDT", "side": "buy",
                                                                                  "amount": amount}))
                    await asyncio.wait_for(proxies["okx"].held.wait(), 60)
                    served.proc.send_signal(signal.SIGKILL)
                    assert await asyncio.wait_for(served.proc.wait(), 30) == -signal.SIGKILL
                    await asyncio.gather(routing, return_exceptions=True)  # its connection died with the process
            finally:
                await served.reap()
            proxies["okx"].release()
            before = {row["client_order_id"]: row["status"] for row in _journal(sim) if row["venue"] == "okx"}
            assert before, "the okx child was not journaled before it was sent"
            at_okx = await _venue_orders(sim, "okx")
            assert {o["clientOrderId"] for o in at_okx} & set(before), (at_okx, before)  # the venue has it

            restarted = await start_serve(args, tmp_path, "serve2")
            try:
                await until(_settled(sim), SETTLED_WITHIN, "no journaled order left in flight (INTENT or SENT)")
                for venue in VENUES:
                    _exactly_once(venue, await _venue_orders(sim, venue), _journal(sim))
                assert (await restarted.stop(signal.SIGTERM)) == 0, restarted.stderr()
            finally:
                await restarted.reap()
        finally:
            for proxy in proxies.values():
                await proxy.stop()
            await sim.stop()

    run(body(), timeout=600)


def _settled(sim: SimProcess) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return all(row["status"] not in ("intent", "sent") for row in _journal(sim))
    return check


def _exactly_once(venue: str, at_venue: list[dict[str, Any]], journal: list[sqlite3.Row]) -> None:
    """Each order at the venue is one journal row (by client and venue order id); each journaled
    order that reached the venue is there; no client order id was sent twice."""
    sent_twice = [cid for cid, n in Counter(o["clientOrderId"] for o in at_venue).items() if n > 1]
    assert not sent_twice, f"{venue}: sent twice: {sent_twice}"
    rows = {row["client_order_id"]: row for row in journal if row["venue"] == venue}
    for order in at_venue:
        row = rows.get(order["clientOrderId"])
        assert row is not None, f"{venue}: order {order['id']} ({order['clientOrderId']}) is not in the journal"
        assert row["venue_order_id"] == str(order["id"]), (venue, dict(row), order["id"])
    by_venue_id = Counter(row["venue_order_id"] for row in rows.values() if row["venue_order_id"])
    assert all(n == 1 for n in by_venue_id.values()), f"{venue}: a venue order journaled twice: {by_venue_id}"
    reached = {cid for cid, row in rows.items() if row["venue_order_id"]}
    assert reached == {o["clientOrderId"] for o in at_venue}, (venue, reached, at_venue)
