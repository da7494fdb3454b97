"""A cross-venue execution whose sell leg fills nothing leaves the bought base unhedged: crossbook
flattens it (the missing leg on the other venues, else the buy unwound), journals and tags the
flatten orders, and the desk ends flat, read back from the simulators."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from crossbook import Desk
from crossbook.arbitrage.execute import execute_cross_venue
from crossbook.arbitrage.flatten import FLATTEN_NOTE
from crossbook.arbitrage.model import Opportunity
from crossbook.arbitrage.scanner import Scanner

from ..conftest import run

SYMBOL = "BTC-USDT"
VENUES = ["binance", "okx", "kraken"]
SIZE = 0.05


async def _opportunity(desk: Desk, sell_venue: str) -> Opportunity:
    """The cross-venue sale on ``sell_venue`` once its dislocation shows in the books."""
    scanner = Scanner({SYMBOL: desk.market.consolidated[SYMBOL]}, kinds=["cross_venue"], max_notional=1e9)
    for _ in range(400):  # up to 20 s
        found = [o for o in scanner.find(time.time()) if o.legs[1].venue == sell_venue and o.legs[0].amount >= SIZE]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no opportunity selling on {sell_venue} within 20 s")


async def _btc(desk: Desk) -> Decimal:
    report = await desk.balances(VENUES, value_in=None)
    return sum((report.held(v, "BTC") for v in VENUES), Decimal(0))


def test_a_sell_leg_that_fills_nothing_is_flattened_and_the_desk_ends_flat() -> None:
    async def body() -> None:
        async with Desk.sim(VENUES, symbols=[SYMBOL]) as desk:
            before = await _btc(desk)
            desk.dislocate("kraken", 80.0, SYMBOL)
            opp = await _opportunity(desk, "kraken")
            assert desk.simulator is not None
            desk.simulator.cluster.venues["kraken"].inject_trading("reject")  # the sell leg is refused
            done = await execute_cross_venue(opp, desk.market.consolidated, desk.accounts, max_size=SIZE)
            assert done.bought > 0 and done.sold == 0
            assert done.unhedged == done.bought
            assert done.flatten is not None and done.flatten.filled > 0, done.as_json()
            assert done.remaining_unhedged == 0.0, done.as_json()
            assert done.flatten.venue is not None and "kraken" not in done.flatten.venue
            executed = done.as_json()["executed"]
            assert isinstance(executed, dict)
            assert executed["remaining_unhedged"] == 0.0 and executed["flatten"]["filled"] > 0  # type: ignore[index]
            # the flatten orders are journaled like any order, and tagged
            journal = desk.accounts[opp.legs[0].venue].journal
            tagged = journal.noted(FLATTEN_NOTE)
            assert tagged and {o.client_order_id for o in tagged} <= {
                c.client_order_id for step in done.flatten.steps if step.report for c in step.report.children}
            # flat: the BTC held across the venues is what it was, within one lot of rounding
            after = await _btc(desk)
            assert abs(after - before) <= Decimal("0.0001"), (before, after, done.as_json())

    run(body(), timeout=120)


def test_with_no_other_venue_the_filled_leg_is_unwound_on_its_own_venue() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "kraken"], symbols=[SYMBOL]) as desk:
            before = (await desk.balances(["binance", "kraken"], value_in=None))
            held = before.held("binance", "BTC") + before.held("kraken", "BTC")
            desk.dislocate("kraken", 80.0, SYMBOL)
            opp = await _opportunity(desk, "kraken")
            assert desk.simulator is not None
            desk.simulator.cluster.venues["kraken"].inject_trading("reject")
            done = await execute_cross_venue(opp, desk.market.consolidated, desk.accounts, max_size=SIZE)
            assert done.bought > 0 and done.sold == 0
            assert done.flatten is not None and [s.how for s in done.flatten.steps] == ["unwind"], done.as_json()
            assert done.flatten.venue == "binance" and done.remaining_unhedged == 0.0
            after = await desk.balances(["binance", "kraken"], value_in=None)
            assert abs(after.held("binance", "BTC") + after.held("kraken", "BTC") - held) <= Decimal("0.0001")

    run(body(), timeout=120)
