"""Account leases on a real nats-server: one holder at a time, a lapsed lease taken over only after
the bucket's TTL, a lost lease known as lost, a released one free at once, a race won by one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from crossbook.bus.lease import AccountLease, LeaseBucket, LeaseState, open_lease_bucket
from crossbook.bus.natsd import NatsServer

from ..conftest import run

TTL = 2.0
WITHIN = 30.0  # seconds a takeover gets on a loaded machine


@asynccontextmanager
async def buckets(count: int, ttl: float = TTL) -> AsyncIterator[list[LeaseBucket]]:
    """A nats-server and ``count`` processes' own connections to its lease bucket."""
    async with NatsServer() as server:
        opened = [await open_lease_bucket(server.url, f"p{i}", ttl) for i in range(count)]
        try:
            yield opened
        finally:
            for bucket in opened:
                await bucket.close()


def lease(bucket: LeaseBucket, holder: str, account: str = "main") -> AccountLease:
    return AccountLease(bucket.kv, "binance", account, holder=holder, ttl=bucket.ttl)


async def until(check: object, within: float, what: str) -> float:
    """Poll ``check()`` until true; the monotonic time it first was."""
    assert callable(check)
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic()


def test_one_holds_the_other_waits_naming_the_holder() -> None:
    async def body() -> None:
        async with buckets(2) as (one, two):
            first, second = lease(one, "desk-a"), lease(two, "desk-b")
            assert await first.acquire() is LeaseState.HELD
            assert await second.acquire() is LeaseState.WAITING
            assert second.holder is not None and second.holder.holder == "desk-a"
            assert "desk-a" in second.refusal() and "binance/main" in second.refusal()
            assert first.holds() and not second.holds()
            assert await first.renew() is LeaseState.HELD  # renewing what it holds keeps it
            assert await second.acquire() is LeaseState.WAITING

    run(body())


def test_an_unrenewed_lease_is_taken_over_only_after_the_ttl_and_the_old_holder_learns_it_lost() -> None:
    async def body() -> None:
        async with buckets(2) as (one, two):
            acquired_at: list[float] = []

            async def note() -> None:
                acquired_at.append(time.monotonic())

            first = lease(one, "desk-a")
            second = AccountLease(two.kv, "binance", "main", holder="desk-b", ttl=two.ttl, on_acquired=note)
            first.start()
            await until(lambda: first.tradeable, WITHIN, "the first lease held")
            second.start()
            try:
                await until(lambda: second.state is LeaseState.WAITING and second.holder is not None, WITHIN,
                            "the second waiting")
                await asyncio.sleep(first.every * 1.5)  # a renewal or two go by: the second still waits
                assert second.state is LeaseState.WAITING
                await first.stop(release=False)  # a crash: no more renewals, no goodbye
                last_renewal = first.renewed_at
                await until(lambda: bool(acquired_at), WITHIN, "the second to take over")
                # the server expires the key TTL after it received the last renewal, sent at last_renewal
                assert acquired_at[0] >= last_renewal + TTL - 0.05, (acquired_at[0] - last_renewal)
                await until(lambda: second.tradeable, WITHIN, "the second tradeable")
                assert second.holder is not None and second.holder.holder == "desk-b"
                assert first.state is LeaseState.HELD and not first.holds()  # it cannot trust it any more
                assert await first.renew() is LeaseState.LOST
                assert not first.tradeable and "lost" in first.refusal()
            finally:
                await first.stop(release=False)
                await second.stop()

    run(body())


def test_a_lost_lease_calls_on_lost() -> None:
    async def body() -> None:
        async with buckets(2) as (one, two):
            lost: list[LeaseState] = []
            first = AccountLease(one.kv, "binance", "main", holder="desk-a", ttl=one.ttl,
                                 on_lost=lambda status: lost.append(status.state))
            assert await first.acquire() is LeaseState.HELD
            await two.kv.purge(first.key)  # the key gone (as an expiry leaves it)
            assert await first.renew() is LeaseState.LOST
            assert lost == [LeaseState.LOST]

    run(body())


def test_a_released_lease_is_free_at_once() -> None:
    async def body() -> None:
        async with buckets(2, ttl=60.0) as (one, two):
            first, second = lease(one, "desk-a"), lease(two, "desk-b")
            first.start()
            await until(lambda: first.tradeable, WITHIN, "the first lease held")
            assert await second.acquire() is LeaseState.WAITING
            released = time.monotonic()
            await first.stop()  # a clean stop releases
            assert first.state is LeaseState.RELEASED and not first.tradeable
            assert await second.acquire() is LeaseState.HELD
            assert time.monotonic() - released < 60.0  # long before the 60 s TTL could lapse
            assert await first.acquire() is LeaseState.WAITING  # and the first one now waits for it

    run(body())


def test_two_acquiring_at_once_exactly_one_wins() -> None:
    async def body() -> None:
        async with buckets(3) as bucket_list:
            for round_ in range(20):
                account = f"race{round_}"
                contenders = [lease(b, f"desk-{i}", account) for i, b in enumerate(bucket_list)]
                if round_ % 2:  # a key released before: the create goes over its delete marker
                    assert await contenders[0].acquire() is LeaseState.HELD
                    await contenders[0].release()
                    contenders = [lease(b, f"desk-{i}", account) for i, b in enumerate(bucket_list)]
                states = await asyncio.gather(*(c.acquire() for c in contenders))
                winners = [c for c, s in zip(contenders, states, strict=True) if s is LeaseState.HELD]
                assert len(winners) == 1, states
                name = winners[0].holder.holder if winners[0].holder else None
                for loser in (c for c in contenders if c is not winners[0]):
                    assert loser.state is LeaseState.WAITING
                    assert loser.holder is not None and loser.holder.holder == name

    run(body(), timeout=120.0)
