"""The Desk's accounts under bus leases (a base of Desk): with ``[bus]`` in its config, each account
is traded only while this process holds its lease (crossbook.bus.lease). On acquiring one (the
first start, or a takeover once another process's lease lapsed) the account is reconciled first,
then its orders may go; while the lease is held elsewhere (or lost) every order call refuses with
LeaseNotHeld naming the holder, before anything is journaled or sent. Its fills and execution
reports are published on ``crossbook.fills.<venue>.<account>``. What follows an account in the
background (its OCO keeper here, the service's order streams through ``watch_leases``) runs only
while the lease is held and the account reconciled: stopped when it is lost or released, started
again once it is ready. Without ``[bus]`` nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..bus.fills import FillsPublisher
from ..bus.lease import AccountLease, LeaseBucket, LeaseStatus, default_holder, open_lease_bucket
from ..config import BusConfig, Config
from ..errors import LeaseNotHeld
from ..monitor.metrics import Metrics
from ..trading.account import ReconcileReport, VenueAccount
from ..trading.events import FillEvent, OrderOutcome
from ..trading.oco import OcoKeeper

log = logging.getLogger(__name__)

SETTLE_WITHIN = 60.0  # seconds a start waits for each lease's first attempt (and reconciliation)

# told ``(venue, account)`` each time that account's lease became ready here, or stopped being held
LeaseListener = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class LeaseView:
    """One account's lease as the service shows it: the lease, and the reconciliation that opened
    its trading here (``reconciled_at``: epoch seconds; None before one)."""

    process: str
    status: LeaseStatus
    reconciled: tuple[ReconcileReport, ...] = ()
    reconciled_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.status.to_json(), "process": self.process, "reconciled_at": self.reconciled_at,
                "reconciliation": [r.as_dict() for r in self.reconciled]}


@dataclass
class Leasing:
    """What a desk on the bus keeps for its leases."""

    process: str  # this process on the bus
    bucket: LeaseBucket
    fills: FillsPublisher
    leases: dict[tuple[str, str], AccountLease] = field(default_factory=dict)
    reconciled: dict[tuple[str, str], tuple[float, tuple[ReconcileReport, ...]]] = field(default_factory=dict)
    listeners: list[LeaseListener] = field(default_factory=list)
    stopping: set[asyncio.Task[None]] = field(default_factory=set)  # OCO keepers being stopped after a loss


def fill_json(event: FillEvent) -> dict[str, Any]:
    fill = event.fill
    return {"venue": fill.venue, "account": event.account, "symbol": fill.symbol, "client_order_id": fill.client_order_id,
            "venue_order_id": fill.venue_order_id, "trade_id": fill.trade_id, "side": fill.side.value,
            "price": str(fill.price), "amount": str(fill.amount), "fee": str(fill.fee), "fee_currency": fill.fee_currency,
            "taker": fill.taker, "ts": fill.ts, "quote": event.quote, "notional": str(event.notional)}


def outcome_json(event: OrderOutcome) -> dict[str, Any]:
    return {"venue": event.venue, "account": event.account, "symbol": event.symbol,
            "client_order_id": event.client_order_id, "outcome": event.outcome.value}


def lease_gate(lease: AccountLease) -> Callable[[], None]:
    """The account's gate: LeaseNotHeld, saying why, unless this process may trade it now."""

    def gate() -> None:
        why = lease.refusal()
        if why:
            raise LeaseNotHeld(why)

    return gate


def _tell(listeners: list[LeaseListener], status: LeaseStatus) -> None:
    for listener in listeners:
        try:
            listener(status.venue, status.account)
        except Exception:  # a listener's bug must not stop the lease's keeper
            log.exception("lease %s/%s: a listener failed", status.venue, status.account)


class LeasedAccounts:
    """The Desk's lease methods (a base of Desk)."""

    config: Config | None
    metrics: Metrics
    _accounts: dict[tuple[str, str], VenueAccount]
    _products: dict[tuple[str, str], list[VenueAccount]]
    _keepers: dict[tuple[str, str], OcoKeeper]
    _leasing: Leasing | None = None

    @property
    def leased(self) -> bool:
        """Whether the desk trades its accounts under bus leases (its config has ``[bus]``)."""
        return self._leasing is not None

    def account_tradeable(self, venue: str, account: str) -> bool:
        """Whether this process may follow and trade ``venue``/``account`` now: always without
        ``[bus]``; with it, while it holds the account's lease and has reconciled the account since
        acquiring it (an account without a lease: never)."""
        leasing = self._leasing
        if leasing is None:
            return True
        lease = leasing.leases.get((venue, account))
        return lease is not None and lease.tradeable

    def watch_leases(self, listener: LeaseListener) -> None:
        """``listener(venue, account)`` is told each time an account's lease becomes ready here (held,
        and the account reconciled) and each time it stops being held (lost, or released on stop);
        ``account_tradeable`` says which. Nothing is ever told on a desk without ``[bus]``."""
        if self._leasing is not None:
            self._leasing.listeners.append(listener)

    def leases(self) -> list[LeaseView]:
        """Each account's lease (none without ``[bus]``)."""
        leasing = self._leasing
        if leasing is None:
            return []
        views = []
        for key, lease in leasing.leases.items():
            at, reports = leasing.reconciled.get(key, (None, ()))
            views.append(LeaseView(leasing.process, lease.status, reports, at))
        return views

    async def _start_leases(self) -> None:
        """With ``[bus]``: a lease per configured account, each account gated by it and its reports
        published; waits for each lease's first attempt (a lease acquired: its reconciliation too)."""
        bus: BusConfig | None = self.config.bus if self.config is not None else None
        if bus is None:
            return
        process = bus.name or default_holder()
        bucket = await open_lease_bucket(bus.url, process, bus.lease_seconds)
        leasing = self._leasing = Leasing(process, bucket, FillsPublisher(bucket.client))
        leasing.fills.start()
        for (venue, name), primary in self._accounts.items():
            accounts = list({id(a): a for a in (primary, *self._products.get((venue, name), []))}.values())
            lease = AccountLease(bucket.kv, venue, name, holder=process, ttl=bucket.ttl,
                                 on_acquired=self._reconciler(leasing, venue, name, accounts),
                                 on_ready=self._lease_ready, on_lost=self._lease_lost)
            leasing.leases[(venue, name)] = lease
            for account in accounts:
                account.require_tradeable = lease_gate(lease)
                account.events.subscribe(self._publish_outcome, self._publish_fill)
            lease.start()
        await asyncio.gather(*(lease.settled(SETTLE_WITHIN) for lease in leasing.leases.values()))
        for view in self.leases():
            log.info("lease %s/%s: %s (%s)", view.status.venue, view.status.account, view.status.state.value,
                     view.status.holder.describe() if view.status.holder else "no holder")

    def _reconciler(self, leasing: Leasing, venue: str, name: str, accounts: list[VenueAccount]) -> Callable[[], Any]:
        async def reconcile() -> None:
            reports = tuple(await asyncio.gather(*(a.reconcile() for a in accounts)))
            for report in reports:
                self.metrics.reconciled(report.venue, report)
                log.info("lease %s/%s acquired: reconciled %s", venue, name, report.as_dict())
            leasing.reconciled[(venue, name)] = (time.time(), reports)

        return reconcile

    def _lease_ready(self, status: LeaseStatus) -> None:
        """Held and reconciled: the account's OCO groups are kept again (if a keeper kept them before)."""
        keeper = self._keepers.get((status.venue, status.account))
        if keeper is not None:
            keeper.keep()
        _tell(self._leasing.listeners if self._leasing is not None else [], status)

    def _lease_lost(self, status: LeaseStatus) -> None:
        """Not held any more: nothing here follows the account until its lease is ready again."""
        log.error("%s/%s: lease lost: trading stopped", status.venue, status.account)
        keeper = self._keepers.get((status.venue, status.account))
        if keeper is not None and self._leasing is not None:
            stopping = asyncio.create_task(keeper.stop(), name=f"oco-stop:{status.venue}/{status.account}")
            self._leasing.stopping.add(stopping)
            stopping.add_done_callback(self._leasing.stopping.discard)
        _tell(self._leasing.listeners if self._leasing is not None else [], status)

    def _publish_fill(self, event: FillEvent) -> None:
        if self._leasing is not None:
            self._leasing.fills.publish(event.fill.venue, event.account, "fill", fill_json(event))

    def _publish_outcome(self, event: OrderOutcome) -> None:
        if self._leasing is not None:
            self._leasing.fills.publish(event.venue, event.account, "outcome", outcome_json(event))

    async def _stop_trading(self) -> None:
        """Stop the accounts' OCO keepers, then release every lease (another process may take the
        accounts at once) and flush the reports."""
        for keeper in self._keepers.values():
            await keeper.stop()
        self._keepers.clear()
        leasing, self._leasing = self._leasing, None
        if leasing is None:
            return
        await asyncio.gather(*leasing.stopping, return_exceptions=True)  # keepers stopping after a loss
        await asyncio.gather(*(lease.stop(release=True) for lease in leasing.leases.values()))
        for lease in leasing.leases.values():
            _tell(leasing.listeners, lease.status)  # released: nothing follows the accounts any more
        await leasing.fills.stop()
        await leasing.bucket.close()
