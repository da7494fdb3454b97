"""OCO groups: two orders of which the first to trade cancels the other.

Where the venue has an OCO of its own and crossbook sends it (the capability matrix's
``oco_mode``: Binance's spot order lists, OKX's ``oco`` algo orders) the venue places the pair and
cancels the other leg; crossbook journals both legs as orders linked in one OCO group and follows
them. Elsewhere crossbook keeps the OCO itself: two ordinary orders, journaled as a group before
either is sent, and an :class:`OcoKeeper` that watches them. When a leg trades, the other is
brought to what is left of the group's amount: a partial fill of one leg reduces the other to the
unfilled rest (canceled and placed again at the smaller amount, its replacement journaled in the
same slot of the group), a full fill cancels it. Cancelling the group cancels both; a leg that is
gone before anything traded (refused by the venue, found never placed after a restart, canceled)
takes the other with it: the pair is placed whole or not at all.

What the keeper acts on is the journal, so it works from whichever source brought the journal up to
date: the private stream (:class:`~crossbook.trading.stream.OrderStream`) where the account has one,
else polling (``check``: each live leg synced over REST). Nobody has to call it: placing a group
starts ``keep``, which follows the account in the background (an OrderStream of its own where the
account's client streams orders, else polling) until no group of the account is open; ``crossbook
follow`` (trading.session) runs ``follow`` on the OrderStream it already has. Crash safety is the
journal's: after a restart ``resume`` reconciles the account and settles every open group, so a leg
that filled while crossbook was down gets its other leg canceled.

A crossbook OCO is two orders at the venue: each holds its own funds there (a spot sell OCO of
1 BTC needs 2 BTC free), and between a fill and the cancel of the other leg (one round trip; a poll
interval without a private stream) the other leg can trade too. The group then reports both fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import ccxt

from ..errors import CrossbookError, InvalidOrder, VenueUnavailable
from ..model import OrderRequest, OrderStatus
from ..venues.registry import spec
from ..venues.spec.capabilities import OcoMode
from ..venues.spec.hooks import OcoLegs
from .account import VenueAccount, plain
from .client_ids import client_id_rule
from .journal import JournaledOrder, OcoRecord, OcoState
from .stream import OrderStream

log = logging.getLogger(__name__)

_IN_FLIGHT = (OrderStatus.INTENT, OrderStatus.SENT)
POLL_EVERY = 2.0  # seconds between REST checks of the live legs where nothing streams (4 calls a group)
STREAMED_CHECK_EVERY = 30.0  # the same where the private stream wakes the keeper: a safety net only


@dataclass(frozen=True, slots=True)
class OcoSlot:
    """One side of a group as the journal has it now: every order the slot has had (a reduced leg's
    replacement after the order it replaced), what they traded together, and the live ones."""

    orders: tuple[JournaledOrder, ...]

    @property
    def filled(self) -> Decimal:
        return sum((o.filled for o in self.orders), Decimal(0))

    @property
    def live(self) -> tuple[JournaledOrder, ...]:
        return tuple(o for o in self.orders if not o.status.final)

    @property
    def open_amount(self) -> Decimal:
        """What the live orders may still trade."""
        return sum((o.remaining for o in self.live), Decimal(0))

    @property
    def current(self) -> JournaledOrder:
        return self.orders[-1]


class OcoKeeper:
    """One account's OCO groups (on its venue and account name; ``products`` are the other clients
    of the same account, as for a Trader): placing, cancelling and keeping them."""

    def __init__(self, account: VenueAccount, products: Sequence[VenueAccount] = (), *, every: float = POLL_EVERY) -> None:
        self.account = account
        self.journal = account.journal
        self.venue = account.venue
        self.name = account.account
        self.accounts = (account, *(p for p in products if p is not account))
        self.every = every  # seconds between REST checks of the live legs when nothing else wakes ``keep``
        self.stream: OrderStream | None = None  # the private stream ``keep`` followed last, if any
        self._lock = asyncio.Lock()  # one settlement at a time: two would cancel or reduce twice
        self._keeping: asyncio.Task[None] | None = None

    # ---- placing --------------------------------------------------------------------------------

    async def place_native(self, limit: OrderRequest, stop: OrderRequest) -> OcoRecord:
        """The venue's own OCO of a limit leg and a stop (-limit) leg (validated by the caller):
        both journaled and linked before the venue's SPEC hook sends the pair; a venue refusal is
        raised as ccxt's error."""
        place_oco = spec(self.venue).place_oco
        if place_oco is None:
            raise InvalidOrder(f"{self.venue}: crossbook places no OCO order list there")
        account = self.account_for(limit.symbol)
        account.require_tradeable()
        rules = account.rules[limit.symbol]
        group = self._journal_group(OcoMode.NATIVE, limit, stop, sending=True)
        limit_j, stop_j = (self.journal.order(c) for c in group.current)
        assert limit_j is not None and stop_j is not None and limit.price is not None and stop.stop_price is not None
        rule = client_id_rule(self.venue)
        legs = OcoLegs(account.client.market_id(rules.ccxt_symbol), limit.side, plain(limit.amount), plain(limit.price),
                       plain(stop.stop_price), None if stop.price is None else plain(stop.price),
                       rule.wire_value(limit_j.client_order_id), rule.wire_value(stop_j.client_order_id))
        try:
            with account.sending(*group.current):
                ack = await place_oco(account.client, legs)
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
            raise VenueUnavailable(f"{self.venue}: no answer for the OCO ({type(exc).__name__}); its legs stay SENT "
                                   "until reconciled") from None
        except ccxt.BaseError as exc:
            for leg in (limit_j, stop_j):
                self.journal.record_reject(leg.client_order_id, type(exc).__name__)
            self.journal.update_oco(group.group_id, state=OcoState.FAILED, reason=f"refused: {type(exc).__name__}")
            raise
        for leg, order_id in ((limit_j, ack.limit_order_id), (stop_j, ack.stop_order_id)):
            if order_id is not None:
                self.journal.record_ack(leg.client_order_id, order_id)
            else:  # a trigger at the venue, no order until it fires: open, without an order id yet
                self.journal.transition(leg.client_order_id, OrderStatus.OPEN, reason=f"a trigger of OCO {ack.list_id}")
        return self.journal.update_oco(group.group_id, list_id=ack.list_id)

    async def place_own(self, first: OrderRequest, second: OrderRequest) -> OcoRecord:
        """crossbook's own OCO of two validated orders: journaled and linked, then sent one after
        the other. A leg the venue refuses cancels the one already placed (and the error is raised);
        a leg whose send goes unanswered stays SENT, and the group settles once reconciliation
        knows it."""
        account = self.account_for(first.symbol)
        account.require_tradeable()
        group = self._journal_group(OcoMode.CROSSBOOK, first, second, sending=False)
        with account.sending(*group.current):  # the second leg waits unsent while the first goes
            for slot, cid in enumerate(group.current):
                order = self.journal.order(cid)
                assert order is not None
                try:
                    await account.send(order)
                except VenueUnavailable:
                    continue
                except CrossbookError as exc:
                    await self._undo(group, slot, f"leg {cid} refused: {exc}")
                    raise
        return await self.settle(group.group_id)

    def _journal_group(self, mode: OcoMode, first: OrderRequest, second: OrderRequest, *, sending: bool) -> OcoRecord:
        if (first.venue, first.account, first.symbol) != (second.venue, second.account, second.symbol):
            raise InvalidOrder(f"{self.venue}: an OCO's two legs trade one market of one account")
        if first.amount != second.amount:
            raise InvalidOrder(f"{self.venue}: an OCO's legs have one amount, not {first.amount} and {second.amount}")
        a = self.journal.record_intent(first, sending=sending)
        b = self.journal.record_intent(second, sending=sending)
        return self.journal.record_oco(self.venue, self.name, first.symbol, mode.value, first.amount,
                                       (a.client_order_id, b.client_order_id))

    async def _undo(self, group: OcoRecord, refused_slot: int, reason: str) -> None:
        """The pair could not be placed whole: the legs not refused are rejected if unsent, canceled
        if placed."""
        for slot, cid in enumerate(group.current):
            order = self.journal.order(cid)
            if slot == refused_slot or order is None or order.status.final:
                continue
            if order.status is OrderStatus.INTENT:
                self.journal.record_reject(cid, f"OCO group {group.group_id}: its other leg was refused")
            elif order.venue_order_id is not None:
                await self.account_for(order.request.symbol).cancel(cid)
        self.journal.update_oco(group.group_id, state=OcoState.FAILED, reason=reason)

    # ---- cancelling and following ---------------------------------------------------------------

    async def cancel(self, group_id: int) -> OcoRecord:
        """Cancel both legs (the venue's list goes with them, for a native OCO)."""
        self.account.require_tradeable()
        async with self._lock:
            group = self.group(group_id)
            cancel_whole = spec(self.venue).cancel_oco
            if self._triggers(group) and cancel_whole is not None:
                account = self.account_for(group.symbol)
                await cancel_whole(account.client, self._market_id(group), group.list_id)  # type: ignore[arg-type]
                await self._sync_triggers(group)
            for slot in self._slots(group):
                for order in slot.live:
                    if order.venue_order_id is not None:
                        await self.account_for(order.request.symbol).cancel(order.client_order_id)
            return self._conclude(group, reason="canceled")

    async def check(self, group_id: int) -> OcoRecord:
        """Bring the group's live legs up to date from the venue, then settle it."""
        group = self.group(group_id)
        if self._triggers(group):
            await self._sync_triggers(group)
        for slot in self._slots(group):
            for order in slot.live:
                if order.venue_order_id is not None:
                    await self.account_for(order.request.symbol).sync(order.client_order_id)
        return await self.settle(group_id)

    def _triggers(self, group: OcoRecord) -> bool:
        """Whether the group is a native OCO whose legs the order endpoints do not show until one
        fires (OKX's algo order): read whole through the venue's SPEC hook."""
        return (group.mode == OcoMode.NATIVE.value and group.list_id is not None and not group.state.final
                and spec(self.venue).fetch_oco is not None)

    async def _sync_triggers(self, group: OcoRecord) -> None:
        """The legs brought to what the venue says of the whole: the fired one acked with the order
        it placed (its fills then synced as any order's), the other canceled by the venue."""
        fetch = spec(self.venue).fetch_oco
        assert fetch is not None and group.list_id is not None
        account = self.account_for(group.symbol)
        status = await fetch(account.client, self._market_id(group), group.list_id)
        if status.state == "live":
            return
        limit, stop = (self._slots(group)[i].current for i in (0, 1))
        fired, other = (limit, stop) if status.leg == "limit" else (stop, limit) if status.leg == "stop" else (None, None)
        why = f"OCO {group.list_id}: the venue ended it ({status.state})"
        if fired is not None and status.state == "fired" and status.order_id is not None:
            if fired.venue_order_id is None:
                self.journal.record_ack(fired.client_order_id, status.order_id)
            await account.sync(fired.client_order_id)
        elif fired is not None and status.state == "failed" and not fired.status.final:
            self.journal.record_reject(fired.client_order_id, f"{why}: its order was refused")
        for leg in (limit, stop) if fired is None else (other,):
            assert leg is not None
            if not self.journal.order(leg.client_order_id).status.final:  # type: ignore[union-attr]
                self.journal.record_cancel(leg.client_order_id, why)

    def _market_id(self, group: OcoRecord) -> str:
        account = self.account_for(group.symbol)
        return str(account.client.market_id(account.rules[group.symbol].ccxt_symbol))

    async def check_open(self) -> list[OcoRecord]:
        return [await self.check(g.group_id) for g in self._open_groups()]

    async def resume(self) -> list[OcoRecord]:
        """After a restart: reconcile every account of the keeper with the venue (in-flight legs
        adopted or found never placed, fills missed while down recorded), then settle every open
        group."""
        for account in self.accounts:
            await account.reconcile()
        return [await self.settle(g.group_id) for g in self._open_groups()]

    def keep(self) -> None:
        """Keep the account's open groups in the background until none is open (or ``stop``): woken
        by the account's private stream where its client streams orders (an OrderStream run for
        the purpose; checked over REST every ``STREAMED_CHECK_EVERY`` seconds too), checked over
        REST every ``every`` seconds otherwise. Placing a group calls
        it; a call while it runs does nothing."""
        if self.keeping or not self._open_groups():
            return
        self._keeping = asyncio.create_task(self._keep())
        self._keeping.add_done_callback(self._kept)

    @property
    def keeping(self) -> bool:
        return self._keeping is not None and not self._keeping.done()

    async def stop(self) -> None:
        """Stop keeping in the background (before the account's client closes)."""
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
            self._keeping = None

    async def _keep(self) -> None:
        stream = OrderStream(self.account)
        if not stream.streaming:
            await self.follow(None, self.every, while_open=True)
            return
        self.stream = stream
        running = asyncio.create_task(stream.run())
        try:
            await self.follow(stream.changed, max(self.every, STREAMED_CHECK_EVERY), while_open=True)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    def _kept(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s/%s: keeping the OCO groups stopped: %r", self.venue, self.name, task.exception())

    def _open_groups(self) -> list[OcoRecord]:
        return self.journal.ocos(self.venue, self.name, open_only=True)

    async def follow(self, changed: asyncio.Event | None = None, every: float = 5.0, *, while_open: bool = False) -> None:
        """Keep the open groups until cancelled (``while_open``: until none is open): settle them
        from the journal whenever ``changed`` is set (an OrderStream's ``changed``: the private
        stream or a reconciliation updated the journal), and check them over REST every ``every``
        seconds without one."""
        while not (while_open and not self._open_groups()):
            woke = False
            if changed is not None:
                with contextlib.suppress(TimeoutError):
                    woke = await asyncio.wait_for(changed.wait(), every)
                changed.clear()
            else:
                await asyncio.sleep(every)
            try:
                if woke:  # settled from the journal; a native OCO of triggers is read whole (one call)
                    for group in self._open_groups():
                        await (self.check(group.group_id) if self._triggers(group) else self.settle(group.group_id))
                else:
                    await self.check_open()
            except (ccxt.BaseError, CrossbookError, OSError) as exc:
                log.warning("%s/%s: OCO groups not settled this round (%s)", self.venue, self.name, type(exc).__name__)

    # ---- settling -------------------------------------------------------------------------------

    async def settle(self, group_id: int) -> OcoRecord:
        """Apply the OCO rule to the group as the journal has it: a native group only records how it
        ended (the venue cancels); crossbook's own cancels or reduces the other leg of a leg that
        traded, or the other leg of a leg that is gone before anything traded."""
        async with self._lock:
            group = self.group(group_id)
            if group.state.final:
                return group
            if group.mode == OcoMode.CROSSBOOK.value:
                slots = self._slots(group)
                if any(o.status in _IN_FLIGHT for s in slots for o in s.orders):
                    return group  # reconciliation first tells whether the venue has it
                if slots[0].filled or slots[1].filled:
                    for slot in (0, 1):
                        await self._bound(group, slot, slots)
                else:
                    await self._break_if_one_gone(group, slots)
            return self._conclude(group)

    async def _bound(self, group: OcoRecord, slot: int, slots: tuple[OcoSlot, OcoSlot]) -> None:
        """Hold ``slot`` to what the other slot left of the group's amount."""
        mine, other = slots[slot], slots[1 - slot]
        allowed = group.amount - other.filled - mine.filled  # what the slot may still trade
        if not mine.live or mine.open_amount <= allowed:
            return
        why = f"OCO group {group.group_id}: the other leg traded {other.filled}"
        if allowed <= 0:
            for order in mine.live:
                await self._cancel_leg(order, why)
            return
        await self._reduce(group, slot, mine.current, allowed, why)

    async def _reduce(self, group: OcoRecord, slot: int, order: JournaledOrder, rest: Decimal, why: str) -> None:
        """The leg trades at most ``rest`` more: canceled and replaced by one for ``rest`` in the same
        slot, journaled before the cancel is sent so a restart finds the slot's replacement. (Not
        amended down: an amend keeps the queue place, but venues answer it differently, Kraken
        with an amend id in place of the order id.)"""
        account = self.account_for(order.request.symbol)
        smaller = replace(order.request, amount=rest, client_order_id=None)
        new = self.journal.record_intent(smaller)
        with account.sending(new.client_order_id):
            self.journal.add_oco_leg(group.group_id, slot, new.client_order_id)
            await self._cancel_leg(order, f"{why}: replaced by {new.client_order_id} for {rest}")
            if self._slots(self.group(group.group_id))[1 - slot].filled >= group.amount:
                self.journal.record_reject(new.client_order_id, "not sent: the other leg filled in full meanwhile")
                return
            await account.send(new)

    async def _break_if_one_gone(self, group: OcoRecord, slots: tuple[OcoSlot, OcoSlot]) -> None:
        """Nothing traded and one leg is gone (canceled, expired, refused, never placed): an OCO
        of one order is not what was asked, so the other leg goes too."""
        for slot in (0, 1):
            if not slots[slot].live and slots[1 - slot].live:
                gone = slots[slot].current
                for order in slots[1 - slot].live:
                    await self._cancel_leg(order, f"OCO group {group.group_id}: leg {gone.client_order_id} is "
                                                  f"{gone.status.value}")

    async def _cancel_leg(self, order: JournaledOrder, reason: str) -> None:
        if order.venue_order_id is None:
            return  # not acked yet: the next settlement, after reconciliation, cancels it
        account = self.account_for(order.request.symbol)
        done = await account.cancel(order.client_order_id)
        if done.status is OrderStatus.CANCELED:
            log.info("%s: %s canceled (%s)", self.venue, order.client_order_id, reason)

    def _conclude(self, group: OcoRecord, reason: str = "") -> OcoRecord:
        """The group's state once no leg is live any more: done if anything traded, else canceled
        (failed if a leg was refused or never placed)."""
        slots = self._slots(self.group(group.group_id))
        if any(s.live for s in slots):
            return self.group(group.group_id)
        orders = [o for s in slots for o in s.orders]
        if any(s.filled for s in slots):
            state = OcoState.DONE
        elif any(o.status is OrderStatus.REJECTED for o in orders):
            state = OcoState.FAILED
        else:
            state = OcoState.CANCELED
        filled = "; ".join(f"leg {s.current.client_order_id} traded {s.filled}" for s in slots if s.filled)
        return self.journal.update_oco(group.group_id, state=state, reason=reason or filled or state.value)

    # ---- lookups --------------------------------------------------------------------------------

    def group(self, group_id: int) -> OcoRecord:
        group = self.journal.oco(group_id)
        if group is None or (group.venue, group.account) != (self.venue, self.name):
            raise InvalidOrder(f"{self.venue}: no OCO group {group_id} of account {self.name!r} in the journal")
        return group

    def _slots(self, group: OcoRecord) -> tuple[OcoSlot, OcoSlot]:
        def slot(cids: tuple[str, ...]) -> OcoSlot:
            orders = tuple(o for o in (self.journal.order(c) for c in cids) if o is not None)
            return OcoSlot(orders)

        return slot(group.legs[0]), slot(group.legs[1])

    def account_for(self, symbol: str) -> VenueAccount:
        for account in self.accounts:
            if symbol in account.rules:
                return account
        raise InvalidOrder(f"symbol {symbol!r}: {self.venue} has no such market")


__all__ = ["OcoKeeper", "OcoSlot"]
