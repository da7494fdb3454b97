"""The desk's accounts followed while the service runs: each account's private order stream (REST
polling where it has none) and its OCO keeper, as ``crossbook follow`` runs them
(crossbook.trading.session), on the desk's own clients and journal."""

from __future__ import annotations

import asyncio
import logging

from ..desk import Desk
from ..errors import CrossbookError
from ..trading.account import VenueAccount
from ..trading.oco import POLL_EVERY, STREAMED_CHECK_EVERY
from ..trading.stream import OrderStream

log = logging.getLogger(__name__)

RECONCILE_EVERY = 10.0  # seconds between reconciliations of an account (its stream's safety net)


class AccountFollower:
    def __init__(self, desk: Desk, reconcile_every: float = RECONCILE_EVERY) -> None:
        self.desk = desk
        self.reconcile_every = reconcile_every
        self.streams: list[OrderStream] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every account's stream (each reconciles its account first) and keeper."""
        for venue, primary in self.desk.accounts.items():
            try:
                products = await self.desk.product_accounts(venue, primary.account)
            except CrossbookError as exc:  # its derivatives cannot be loaded: its spot is still followed
                log.warning("%s: derivatives accounts not followed (%s)", venue, type(exc).__name__)
                products = []
            await self._follow(venue, primary, products)

    async def _follow(self, venue: str, primary: VenueAccount, products: list[VenueAccount]) -> None:
        changed = asyncio.Event()  # one per account: its product clients' streams wake its keeper
        streams = [OrderStream(a, changed=changed, reconcile_every=self.reconcile_every) for a in (primary, *products)]
        self.streams += streams
        self._tasks += [asyncio.create_task(s.run()) for s in streams]
        keeper = (await self.desk.account(venue, primary.account)).keeper
        every = STREAMED_CHECK_EVERY if any(s.streaming for s in streams) else POLL_EVERY
        self._tasks.append(asyncio.create_task(keeper.follow(changed, every)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
