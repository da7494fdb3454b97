"""OrderStream: one account's order and fill updates from the venue's private WebSocket stream.

The stream is ccxt.pro's (``watch_orders``, ``watch_my_trades``) on the same client the account
trades through, so each venue's login, subscription and message format is the one an unmodified
ccxt.pro client speaks; the simulated venues serve exactly that. A venue whose private stream
ccxt.pro does not follow provides its own source with the same two calls: the ``private_source``
hook of its SPEC (dYdX's indexer subaccount channel).

What the stream reports goes into the journal: an order the journal still has in flight is acked
(a lost REST ack is resolved the moment the venue reports the order), fills are recorded once, a
final status is applied once the order's fills are in. Where the stream says an order filled but
the venue streams no trades, or its trade has not arrived within ``fill_grace`` seconds, the
order is synced over REST.

Polling is the fallback: reconciliation runs when the stream (re)connects, after every stream
failure, and every ``reconcile_every`` seconds, so an update the stream never delivered is caught
then. A venue with no private stream at all is only polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt

from ..errors import CrossbookError
from ..feeds.connection import Backoff
from ..model import Fill, OrderStatus
from ..security.redact import safe_error_text
from ..venues.registry import spec
from ..venues.spec.hooks import PrivateSource
from .account import ReconcileReport, VenueAccount, fill_from_ccxt, remote_status
from .client_ids import client_id_rule
from .events import FillEvent
from .journal import IllegalTransition, JournaledOrder

log = logging.getLogger(__name__)


@dataclass
class StreamStats:
    order_updates: int = 0
    fills: int = 0  # new fills the stream put in the journal
    foreign: int = 0  # updates of orders this journal does not have (placed elsewhere)
    failures: int = 0  # times the stream broke and was restarted
    reconciles: int = 0
    rest_syncs: int = 0  # orders brought up to date over REST because the stream lacked a fill


class OrderStream:
    def __init__(
        self,
        account: VenueAccount,
        *,
        source: PrivateSource | None = None,
        reconcile_every: float = 30.0,
        fill_grace: float = 0.5,
        backoff: Backoff | None = None,
        changed: asyncio.Event | None = None,
    ) -> None:
        """``changed``: the event to set whenever the journal may have changed (default: one of
        its own); streams of one account's product clients may share one, which its OcoKeeper
        follows."""
        self.account = account
        self.journal = account.journal
        has = getattr(account.client, "has", {})
        source = source or venue_source(account)
        self.source: PrivateSource | None = source or (account.client if has.get("watchOrders") else None)
        self.streams_trades = source is not None or bool(has.get("watchMyTrades"))
        # where ccxt.pro parses a venue's streamed trades differently from its REST ones, the venue's
        # SPEC puts them right (its ``stream_trade`` hook)
        self.normalize_trade: Callable[[Mapping[str, Any]], Mapping[str, Any]] = (
            spec(account.venue).stream_trade or _as_streamed
        )
        self.client_id_field = client_id_rule(account.venue).field
        self.reconcile_every = reconcile_every
        self.fill_grace = fill_grace
        self.backoff = backoff or Backoff(base=0.25, cap=30.0)
        self.stats = StreamStats()
        self.last_report: ReconcileReport | None = None
        self.last_error = ""  # why the last reconciliation failed, if it did
        self.first_reconcile_done = asyncio.Event()  # set once the first reconciliation succeeded or failed
        # set whenever the journal may have changed (an update applied, a reconciliation, a REST sync):
        # what wakes an OcoKeeper following the account; the one who waits clears it
        self.changed = changed or asyncio.Event()
        self._fill_seen = asyncio.Event()
        self._settling: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def streaming(self) -> bool:
        return self.source is not None

    async def run(self) -> None:
        """Follow the account until cancelled."""
        await self._reconcile()
        loops = [self._poll_loop()]
        if self.source is not None:
            loops.append(self._follow(self.source.watch_orders, self._apply_orders))
            if self.streams_trades:
                loops.append(self._follow(self.source.watch_my_trades, self._apply_trades))
        try:
            await asyncio.gather(*loops)
        finally:
            for task in self._tasks:
                task.cancel()

    # ---- loops -------------------------------------------------------------------------------

    async def _follow(self, watch: Callable[[], Awaitable[Sequence[Mapping[str, Any]]]],
                      apply: Callable[[Sequence[Mapping[str, Any]]], None]) -> None:
        while True:
            try:
                batch = await watch()
            except (ccxt.NetworkError, ccxt.ExchangeError, OSError) as exc:
                self.stats.failures += 1
                log.warning("%s/%s private stream broke (%s); reconciling, then reconnecting",
                            self.account.venue, self.account.account, type(exc).__name__)
                # the position settings may have changed meanwhile (another session, the venue's web
                # page): read them again before the next order that asks
                self.account.settings.forget()
                await asyncio.sleep(self.backoff.next_delay())
                await self._reconcile()
                continue
            self.backoff.reset()
            apply(batch)

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reconcile_every)
            await self._reconcile()

    async def _reconcile(self) -> None:
        try:
            self.last_report = await self.account.reconcile()
            self.stats.reconciles += 1
            self.changed.set()
        except (ccxt.BaseError, CrossbookError, OSError) as exc:
            self.last_error = f"{type(exc).__name__}: {safe_error_text(exc, 300)}"
            log.warning("%s/%s reconciliation failed: %s", self.account.venue, self.account.account, type(exc).__name__)
        self.first_reconcile_done.set()

    # ---- applying updates --------------------------------------------------------------------

    def _apply_orders(self, orders: Sequence[Mapping[str, Any]]) -> None:
        for remote in orders:
            self.stats.order_updates += 1
            order = self._journaled(remote)
            if order is None:
                self.stats.foreign += 1
                continue
            self._apply_order(order, remote)
        self.changed.set()

    def _apply_order(self, order: JournaledOrder, remote: Mapping[str, Any]) -> None:
        cid = order.client_order_id
        venue_id = str(remote.get("id") or "")
        if order.venue_order_id is None and venue_id:
            with contextlib.suppress(IllegalTransition):
                order = self.journal.record_ack(cid, venue_id)
        status = remote_status(remote, order.request)
        filled = _decimal(remote.get("filled"))
        missing_fills = filled is not None and filled > order.filled
        if missing_fills:
            self._settle_later(cid, filled or Decimal(0), status)
        elif status is not None and status.final:
            self._transition(cid, status)

    def _apply_trades(self, trades: Sequence[Mapping[str, Any]]) -> None:
        for trade in map(self.normalize_trade, trades):
            order = self._journaled_for_trade(trade)
            fee = trade.get("fee") or {}
            if fee.get("cost") is None:
                # the venue's stream does not say what the fill cost (KuCoin): the REST trade does
                if order is not None:
                    self._settle_later(order.client_order_id, order.filled + Decimal(str(trade["amount"])), None, wait=False)
                continue
            fill = fill_from_ccxt(self.account.venue, self.account.symbol_of(str(trade.get("symbol"))), trade, order)
            if self.journal.record_fill(fill):
                self.stats.fills += 1
                self._tell_fill(fill, order)
        self._fill_seen.set()
        self._fill_seen = asyncio.Event()
        self.changed.set()

    def _settle_later(self, cid: str, filled: Decimal, status: OrderStatus | None, *, wait: bool = True) -> None:
        """The stream says the order has more fills than the journal: wait for them on the trade
        stream (unless ``wait`` is False), else sync over REST; then apply the final status."""
        if cid in self._settling:
            return
        self._settling.add(cid)
        task = asyncio.create_task(self._settle(cid, filled, status, self.fill_grace if wait and self.streams_trades else 0.0))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, cid: str, filled: Decimal, status: OrderStatus | None, grace: float) -> None:
        try:
            deadline = time.monotonic() + grace
            while self._filled(cid) < filled and time.monotonic() < deadline:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._fill_seen.wait(), deadline - time.monotonic())
            if self._filled(cid) < filled:
                self.stats.rest_syncs += 1
                await self.account.sync(cid)
            elif status is not None and status.final:
                self._transition(cid, status)
        except (ccxt.BaseError, CrossbookError, OSError) as exc:
            log.warning("%s: could not settle %s (%s); reconciliation will", self.account.venue, cid, type(exc).__name__)
        finally:
            self._settling.discard(cid)
            self.changed.set()

    def _filled(self, cid: str) -> Decimal:
        order = self.journal.order(cid)
        return order.filled if order is not None else Decimal(0)

    def _tell_fill(self, fill: Fill, before: JournaledOrder | None) -> None:
        """A fill the stream brought to the journal, told to the account's observers as the account
        tells the fills it finds itself (metering, the bus's fills subject), and the order's end
        when the fill completed it."""
        rules = self.account.rules.get(fill.symbol)
        if rules is not None:
            self.account.events.fill(FillEvent(fill, self.account.account, rules.quote, rules.notional(fill.amount, fill.price)))
        after = self.journal.order(fill.client_order_id)
        if before is not None and after is not None:
            self.account.tell_ended(before, after)

    def _transition(self, cid: str, status: OrderStatus) -> None:
        before = self.journal.order(cid)
        with contextlib.suppress(IllegalTransition):  # the journal already holds a final state (the REST answer came first)
            after = self.journal.transition(cid, status)
            if before is not None:
                self.account.tell_ended(before, after)

    def _journaled(self, remote: Mapping[str, Any]) -> JournaledOrder | None:
        info = remote.get("info")
        # ccxt.pro's clientOrderId, else the venue's own field in the raw message (ccxt.pro's
        # Kraken reads order_userref, crossbook sends cl_ord_id)
        candidates = (remote.get("clientOrderId"), info.get(self.client_id_field) if isinstance(info, dict) else None)
        order = next((o for o in (self.journal.order(str(c)) for c in candidates if c is not None) if o is not None), None)
        if order is None and remote.get("id") is not None:
            symbol = self.account.symbol_of(str(remote["symbol"])) if remote.get("symbol") else None
            order = self.journal.order_by_venue_id(self.account.venue, str(remote["id"]), symbol)
        if order is not None and (order.request.venue, order.request.account) != (self.account.venue, self.account.account):
            return None
        return order

    def _journaled_for_trade(self, trade: Mapping[str, Any]) -> JournaledOrder | None:
        return self._journaled({"id": trade.get("order"), "clientOrderId": trade.get("clientOrderId"), "symbol": trade.get("symbol")})


def venue_source(account: VenueAccount) -> PrivateSource | None:
    """The venue's own private stream for ``account`` (its SPEC's hook), where ccxt.pro has none."""
    make = spec(account.venue).private_source
    return make(account) if make is not None else None


def _as_streamed(trade: Mapping[str, Any]) -> Mapping[str, Any]:
    return trade


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
