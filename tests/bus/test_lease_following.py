"""The service's account follower on the bus follows only the accounts whose lease this process
holds: two desks configured for one simulated account (one journal, like two services on one
account), the waiting one neither reconciles nor writes the journal for it, even when the venue
changed the account behind the holder's back; once the holder releases, the waiting one takes the
lease, reconciles, and only then follows the account; a lease lost stops its following, and the
lease taken again starts it again."""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import nats

from crossbook.bus import subjects
from crossbook.bus.lease import LeaseState
from crossbook.bus.natsd import NatsServer
from crossbook.desk import Desk
from crossbook.market.bus_data import BusMarketData
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.service.following import AccountFollower
from tests.conftest import run, wait_for

SYMBOL = "BTC-USDT"
LEASE_SECONDS = 3.0
WITHIN = 60.0
WATCHED = 3.0  # seconds the waiting follower is watched doing nothing: 15 of its reconciliation periods
RECONCILE_EVERY = 0.2


def on_bus(config: Path) -> Desk:
    """A desk from ``config``; no feed process publishes here, so its venues are not waited for."""
    desk = Desk.from_config(config)
    assert isinstance(desk.market, BusMarketData)
    desk.market.instruments_within = 0.0
    return desk


def configs(simulated: Desk, folder: Path, url: str) -> tuple[Path, Path]:
    """The simulator's config twice (one journal, one key), each with a [bus] table naming its process."""
    base = simulated.write_config(folder / "crossbook.toml").read_text()
    made = []
    for name in ("desk-a", "desk-b"):
        path = folder / f"{name}.toml"
        path.write_text(base + f'\n[bus]\nurl = "{url}"\nname = "{name}"\nlease_seconds = {LEASE_SECONDS}\n')
        made.append(path)
    return made[0], made[1]


async def resting_buy(desk: Desk) -> str:
    """A limit buy a tenth under the best bid (it rests at the venue); its client order id."""
    trader = await desk.account("binance")
    bid = Decimal(str((await trader.account.client.fetch_order_book("BTC/USDT"))["bids"][0][0]))
    price = (bid * Decimal("0.9")).quantize(Decimal(1), rounding=ROUND_DOWN)
    placed = await trader.place(OrderRequest("binance", SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("0.01"), price))
    assert placed.status is OrderStatus.OPEN and placed.venue_order_id is not None, placed
    return placed.client_order_id


async def lose_the_lease(url: str) -> None:
    """The lease key purged behind its holder's back (as an expiry leaves it): its next renewal finds it lost."""
    raw = await nats.connect(url)
    try:
        await (await raw.jetstream().key_value(subjects.LEASE_BUCKET)).purge(subjects.lease_key("binance", "main"))
    finally:
        await raw.close()


def test_the_waiting_desk_does_not_follow_the_held_account_and_follows_it_once_it_takes_the_lease(
        tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server, Desk.sim(["binance"]) as simulated:
            config_a, config_b = configs(simulated, tmp_path, server.url)
            holder = on_bus(config_a)
            await holder.start()
            waiting = on_bus(config_b)
            follower = AccountFollower(waiting, reconcile_every=RECONCILE_EVERY)
            try:
                await waiting.start()
                (lease,) = waiting.leases()
                assert lease.status.state is LeaseState.WAITING and lease.status.holder is not None
                assert lease.status.holder.holder == "desk-a" and not waiting.account_tradeable("binance", "main")

                cid = await resting_buy(holder)
                venue_id = holder._journal.order(cid).venue_order_id  # type: ignore[union-attr]
                # canceled at the venue behind the holder's back: a reconciliation would journal it
                await (await simulated.venue_account("binance")).client.cancel_order(venue_id, "BTC/USDT")
                await follower.start()
                watched_until = time.monotonic() + WATCHED
                while time.monotonic() < watched_until:
                    assert follower.followed == {} and follower.streams == [], "the waiting desk follows the account"
                    assert waiting._journal.order(cid).status is OrderStatus.OPEN, "the waiting desk wrote the journal"  # type: ignore[union-attr]
                    await asyncio.sleep(RECONCILE_EVERY / 2)
                assert waiting.leases()[0].reconciled_at is None

                await holder.stop()  # a clean stop releases the lease: the waiting desk takes it
                await wait_for(lambda: ("binance", "main") in follower.followed, WITHIN, "the account followed")
                taken = waiting.leases()[0]
                assert taken.status.state is LeaseState.HELD and taken.status.ready, taken
                assert taken.reconciled_at is not None  # reconciled before it was followed
                assert waiting._journal.order(cid).status is OrderStatus.CANCELED  # type: ignore[union-attr]
                stream = follower.streams[0]  # the spot account's (its derivatives' follow it)
                assert stream.account.venue == "binance" and stream.account.account == "main"
                await wait_for(lambda: stream.stats.reconciles > 0, WITHIN, "the followed account's stream reconciling")

                before = follower.followed[("binance", "main")]
                tasks = list(before.tasks)  # its streams' and keeper's
                assert tasks and not any(t.done() for t in tasks)
                await lose_the_lease(server.url)
                await wait_for(lambda: all(t.done() for t in tasks), WITHIN, "its following stopped once the lease is lost")
                await wait_for(lambda: follower.followed.get(("binance", "main")) not in (None, before), WITHIN,
                               "the account followed again once the lease is taken again")
                assert waiting.leases()[0].status.ready
            finally:
                await follower.stop()
                await waiting.stop()
                await holder.stop()

    run(body(), timeout=240.0)
