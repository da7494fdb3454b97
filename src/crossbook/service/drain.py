"""The routes in flight when the service stops: no new route is taken (503); policy "finish" lets
those running end within a timeout, "cancel" (or a finish that ran out of time) cancels them, then
cancels what they left resting at the venues (a passive route's post-only orders; an IOC ends on
its own at the venue)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import ccxt

from ..desk import Desk
from ..errors import CrossbookError
from ..model import TimeInForce
from ..trading.account import VenueAccount
from ..trading.journal import JournaledOrder
from .api import Service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drained:
    """What stopping did to the routes in flight."""

    finished: int  # routes that ended on their own after the stop
    cancelled: int
    orders_cancelled: int  # their child orders cancelled at the venues

    def describe(self) -> str:
        return (f"routes in flight on stop: {self.finished} finished, {self.cancelled} cancelled "
                f"({self.orders_cancelled} open child order(s) cancelled)")


async def drain_routes(service: Service, policy: str, finish_timeout: float, since: float) -> Drained:
    """Apply ``policy`` to the routes in flight; ``since``: when the service began taking routes
    (the epoch time: orders journaled before it are no route's of this run)."""
    service.stop_taking_routes()
    running = len(service.in_flight)
    if policy == "finish" and await service.finish_routes(finish_timeout):
        return Drained(running, 0, 0)
    left = len(service.in_flight)
    if not left:
        return Drained(running, 0, 0)
    await service.cancel_routes()
    canceled = await cancel_route_children(service.desk, service.symbols, since)
    return Drained(running - left, left, len(canceled))


async def cancel_route_children(desk: Desk, symbols: list[str], since: float) -> list[JournaledOrder]:
    """Cancel every route child order the desk's routing accounts have open: on ``symbols``,
    journaled at or after ``since``, an IOC or a post-only limit (what a route sends). Each account
    is reconciled first, so an order whose send was cut short is known before it is looked for."""
    canceled: list[JournaledOrder] = []
    for account in desk.accounts.values():
        if not desk.account_tradeable(account.venue, account.account):
            continue  # its bus lease is another process's: that one reconciles and cancels its orders
        try:
            await account.reconcile()
            for order in account.journal.open_orders(account.venue, account.account):
                if order.venue_order_id is not None and _route_child(order, symbols, since):
                    canceled.append(await account.cancel(order.client_order_id))
        except (CrossbookError, ccxt.BaseError, OSError) as exc:  # the type only: a ccxt text may carry a signed request
            log.warning("%s: open route orders not all cancelled (%s); reconciliation on the next start will see them",
                        _where(account), type(exc).__name__)
    return canceled


def _route_child(order: JournaledOrder, symbols: list[str], since: float) -> bool:
    request = order.request
    return (request.symbol in symbols and order.created_at >= since
            and (request.time_in_force is TimeInForce.IOC or request.post_only))


def _where(account: VenueAccount) -> str:
    return f"{account.venue}/{account.account}"
