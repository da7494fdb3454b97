"""Orders journaled as sent whose answer never came: what the venue says of each, and when not
finding one proves it was never placed.

An order whose send is in flight in this process is left alone (its send answers). An order the
venue has, found by its client order id, is adopted at once. One the venue does not have is only
closed as never placed once its request can no longer arrive: sent more than the account's
``sent_grace`` seconds ago (judged before the venue is asked). A leg of a native OCO whose legs are
triggers, no orders (OKX's algo order), is looked up by the client id the OCO carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..model import OrderStatus
from ..venues.registry import spec
from ..venues.spec.capabilities import OcoMode
from .client_ids import client_id_rule
from .journal import JournaledOrder

if TYPE_CHECKING:
    from .account import VenueAccount


async def resolve_in_flight(account: VenueAccount, order: JournaledOrder) -> str | None:
    """What the venue says of an order journaled as sent: "adopted" (it has it), "never_placed"
    (it has not, and the request can no longer reach it), "pending" (being sent here, or not at
    the venue but sent too recently to tell), or None (answered meanwhile, by its own send or
    the private stream)."""
    cid = order.client_order_id
    if account.is_sending(cid):
        return "pending"  # its send answers (or leaves it SENT for a later reconciliation)
    may_arrive = _may_still_arrive(account, order)  # judged before asking: the request may land after
    oco = _native_trigger_oco(account, order)
    if oco is not None:
        return await _resolve_trigger_oco(account, order, *oco, may_arrive=may_arrive)
    remote = await _find_by_client_id(account, order)
    if not _still_in_flight(account, cid):
        return None
    if remote is not None:
        account.journal.record_ack(cid, str(remote["id"]))
        return "adopted"
    if may_arrive or account.is_sending(cid):
        return "pending"
    account.journal.record_reject(cid, "not at the venue: never placed")
    return "never_placed"


def _may_still_arrive(account: VenueAccount, order: JournaledOrder) -> bool:
    """Whether the order's request may not have reached the venue yet: sent (by any process)
    less than ``sent_grace`` seconds ago."""
    return account.clock() - order.updated_at < account.sent_grace


def _still_in_flight(account: VenueAccount, client_order_id: str) -> bool:
    now = account.journal.order(client_order_id)
    return now is not None and now.status in (OrderStatus.INTENT, OrderStatus.SENT)


def _native_trigger_oco(account: VenueAccount, order: JournaledOrder) -> tuple[int, str] | None:
    """(group id, the client id it was sent with) where ``order`` is a leg of a native OCO whose
    legs are triggers, no orders, until one fires (OKX's algo order): the order endpoints never
    show it, the venue's ``find_oco`` hook looks the OCO up by the client id it carries (its
    limit leg's)."""
    group = account.journal.oco_of(order.client_order_id)
    if group is None or group.mode != OcoMode.NATIVE.value or spec(account.venue).find_oco is None:
        return None
    return group.group_id, group.current[0]


async def _resolve_trigger_oco(account: VenueAccount, order: JournaledOrder, group_id: int, carried_id: str, *,
                               may_arrive: bool) -> str | None:
    find = spec(account.venue).find_oco
    assert find is not None
    rules = account.market(order.request.symbol)
    list_id = await find(account.client, account.client.market_id(rules.ccxt_symbol),
                         client_id_rule(account.venue).wire_value(carried_id))
    cid = order.client_order_id
    if not _still_in_flight(account, cid):
        return None
    if list_id is not None:
        account.journal.update_oco(group_id, list_id=list_id)
        account.journal.transition(cid, OrderStatus.OPEN, reason=f"a trigger of OCO {list_id}")
        return "adopted"
    if may_arrive or account.is_sending(cid):
        return "pending"
    account.journal.record_reject(cid, "no OCO at the venue with its client id: never placed")
    return "never_placed"


async def _find_by_client_id(account: VenueAccount, order: JournaledOrder) -> Mapping[str, Any] | None:
    """The venue's order with this client order id, open or closed (a blind resend of a
    filled order would trade twice)."""
    rules = account.market(order.request.symbol)
    since = int((order.created_at - 60) * 1000)
    candidates = list(await account.client.fetch_open_orders(rules.ccxt_symbol))
    if account.client.has.get("fetchClosedOrders"):
        candidates += await account.client.fetch_closed_orders(rules.ccxt_symbol, since)
    elif account.client.has.get("fetchOrders"):
        candidates += await account.client.fetch_orders(rules.ccxt_symbol, since)
    wire = str(client_id_rule(account.venue).wire_value(order.client_order_id))
    return next((o for o in candidates if str(o.get("clientOrderId")) == wire), None)
