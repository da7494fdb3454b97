"""The desk's accounts followed while the service runs: each account's private order stream (REST
polling where it has none) and its OCO keeper, as ``crossbook follow`` runs them
(crossbook.trading.session), on the desk's own clients and journal.

On the bus (``[bus]``) an account is followed only while this process holds its lease and has
reconciled it (crossbook.desk.leases): a stream reconciles its account and a keeper cancels legs,
which only the lease holder may do. Its following starts when the lease becomes ready and stops
when it is lost or released; an account whose lease another process holds is not touched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from ..desk import Desk
from ..errors import CrossbookError
from ..trading.account import VenueAccount
from ..trading.oco import POLL_EVERY, STREAMED_CHECK_EVERY
from ..trading.stream import OrderStream

log = logging.getLogger(__name__)

RECONCILE_EVERY = 10.0  # seconds between reconciliations of an account (its stream's safety net)
# seconds between checks that what is followed matches the leases held, besides each lease change
ALIGN_EVERY = 5.0


@dataclass
class Following:
    """One account followed: its streams (the primary's and its products') and their tasks with the keeper's."""

    streams: list[OrderStream]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


class AccountFollower:
    def __init__(self, desk: Desk, reconcile_every: float = RECONCILE_EVERY) -> None:
        self.desk = desk
        self.reconcile_every = reconcile_every
        self.followed: dict[tuple[str, str], Following] = {}  # (venue, account) -> its following now
        self._lease_changed = asyncio.Event()
        self._aligning: asyncio.Task[None] | None = None

    @property
    def streams(self) -> list[OrderStream]:
        return [s for following in self.followed.values() for s in following.streams]

    async def start(self) -> None:
        """Start every account's stream (each reconciles its account first) and keeper; on the bus,
        of the accounts whose lease is ready here, and of the others as their leases become ready."""
        if self.desk.leased:
            self.desk.watch_leases(lambda _venue, _account: self._lease_changed.set())
        await self._align()
        if self.desk.leased:
            self._aligning = asyncio.create_task(self._keep_aligned(), name="follow-leased-accounts")

    async def _keep_aligned(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lease_changed.wait(), ALIGN_EVERY)
            self._lease_changed.clear()
            try:
                await self._align()
            except CrossbookError as exc:  # retried on the next change or round
                log.warning("following the leased accounts: not aligned this round (%s)", type(exc).__name__)

    async def _align(self) -> None:
        """Follow each account this process may trade now, stop following each it may not."""
        for venue, primary in self.desk.accounts.items():
            key = (venue, primary.account)
            wanted = self.desk.account_tradeable(venue, primary.account)
            if wanted and key not in self.followed:
                self.followed[key] = await self._follow(venue, primary)
                if self.desk.leased:
                    log.info("%s/%s: lease ready: following the account", venue, primary.account)
            elif not wanted and key in self.followed:
                await self.followed.pop(key).stop()
                log.info("%s/%s: lease not held: the account is not followed any more", venue, primary.account)

    async def _follow(self, venue: str, primary: VenueAccount) -> Following:
        try:
            products = await self.desk.product_accounts(venue, primary.account)
        except CrossbookError as exc:  # its derivatives cannot be loaded: its spot is still followed
            log.warning("%s: derivatives accounts not followed (%s)", venue, type(exc).__name__)
            products = []
        keeper = (await self.desk.account(venue, primary.account)).keeper
        changed = asyncio.Event()  # one per account: its product clients' streams wake its keeper
        streams = [OrderStream(a, changed=changed, reconcile_every=self.reconcile_every) for a in (primary, *products)]
        following = Following(streams, [asyncio.create_task(s.run()) for s in streams])
        every = STREAMED_CHECK_EVERY if any(s.streaming for s in streams) else POLL_EVERY
        following.tasks.append(asyncio.create_task(keeper.follow(changed, every)))
        return following

    async def stop(self) -> None:
        if self._aligning is not None:
            self._aligning.cancel()
            await asyncio.gather(self._aligning, return_exceptions=True)
            self._aligning = None
        for following in self.followed.values():
            await following.stop()
        self.followed.clear()
