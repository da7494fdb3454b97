"""VenueAccount: one account (a strategy's sub-account) on one venue, traded through ccxt.

Every order goes: validation (grid, limits, balance, capabilities) -> the journal's intent (its
client order id) -> SENT -> the rate limiter -> ccxt -> the ack or the refusal in the journal. A
timeout leaves the order SENT: the venue may have it, and ``reconcile`` finds out by client order
id, so a retry never makes a second order. Reconciliation leaves alone an order whose send is still
in flight in this process, and one sent less than ``sent_grace`` seconds ago (another process may be
sending it): the venue may not have it yet, and "never placed" is only concluded once it cannot.

ccxt's own throttle is off; every HTTP call ccxt makes waits for the venue's limiter before ccxt
signs it, and the venue's breach replies hold the limiter back.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import ccxt

from ..errors import InsufficientFunds, InvalidOrder, VenueRefused, VenueUnavailable
from ..model import Fill, OrderRequest, OrderStatus, PositionSide, Side, TimeInForce
from ..security.redact import safe_error_text
from ..security.strategies import check_strategy
from ..symbols import requoted
from ..venues.registry import spec
from ..venues.spec.capabilities import PERPETUALS
from ..venues.spec.limiter import Limiter
from ..venues.spec.limits import Reply, request_params
from .client_ids import client_id_rule
from .events import AccountEvents, FillEvent, OrderOutcome, Outcome, ended_as
from .in_flight import resolve_in_flight
from .journal import Journal, JournaledOrder
from .settings import PositionSettings, SettingChange, SettingFailed
from .validation import TradingRules, require_sent, rules_from_ccxt_market, validate_order

_symbol: contextvars.ContextVar[str] = contextvars.ContextVar("venue_symbol", default="")

CCXT_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


@cache
def unparsed_statuses(venue: str) -> Mapping[str, OrderStatus]:
    """The venue's raw order statuses that ccxt passes through unparsed (its SPEC's)."""
    return spec(venue).unparsed_statuses


@dataclass(frozen=True, slots=True)
class PositionView:
    """A derivatives position as the venue reports it; ``size`` is contracts times the contract
    size (base units on linear contracts, quote units on inverse ones), positive long, negative
    short."""

    symbol: str
    side: str  # "long", "short", or "both" in one-way mode
    contracts: Decimal
    size: Decimal
    entry_price: Decimal | None
    leverage: Decimal | None
    margin_mode: str | None
    unrealized_pnl: Decimal | None


@dataclass(frozen=True, slots=True)
class FundingRate:
    symbol: str
    rate: Decimal  # per funding interval
    next_funding_time: float | None  # unix seconds


SENT_GRACE = 10.0  # seconds an order sent by another process may still be on its way to the venue


def sent_grace(client: Any) -> float:
    """How long after its send an order may still reach the venue: the ``recvWindow`` ccxt signs
    requests with where it sends one (the venue refuses a request older than that), at least
    ``SENT_GRACE``."""
    window = (getattr(client, "options", None) or {}).get("recvWindow")
    return max(SENT_GRACE, float(window) / 1000 if isinstance(window, (int, float)) else 0.0)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    venue: str
    account: str
    adopted: list[str]  # in-flight orders the venue turned out to have
    never_placed: list[str]  # in-flight orders the venue does not have: closed as rejected
    updated: list[str]  # open orders whose status moved
    new_fills: int
    # in-flight orders left as they are: still being sent here, or sent too recently to tell
    pending: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "account": self.account,
            "adopted": self.adopted,
            "never_placed": self.never_placed,
            "pending": self.pending,
            "updated": self.updated,
            "new_fills": self.new_fills,
        }


class VenueAccount:
    balance_ttl = 1.0  # seconds a fetched balance serves validation (the venue has the last word)

    def __init__(self, venue: str, client: Any, journal: Journal, limiter: Limiter | None = None, account: str = "main") -> None:
        self.venue = venue
        self.client = client
        self.journal = journal
        self.limiter = limiter
        self.account = account
        self.strategy: str | None = None  # the strategy whose sub-account this is ([strategies]): only its orders, or an operator's
        self.capabilities = spec(venue).capabilities
        self.rules: dict[str, TradingRules] = {}
        self.settings = PositionSettings(venue, client, lambda rules: self.order_takes(rules, "marginMode"),
                                         hedging=self.capabilities.wire.position_side is not None)
        self._by_ccxt_symbol: dict[str, str] = {}
        self._available: dict[str, Decimal] = {}
        self._available_at = -1e18
        self._refresh: asyncio.Future[dict[str, Decimal]] | None = None
        self.sent_grace = sent_grace(client)
        self.clock: Callable[[], float] = time.time  # epoch seconds, as the journal stamps its orders
        self._sending: Counter[str] = Counter()  # client ids whose send is in flight in this process
        self.events = AccountEvents()  # every order that ends and every new fill, to whoever subscribes
        # raises while this process may not send the account's orders (its bus lease held elsewhere)
        self.require_tradeable: Callable[[], None] = _tradeable
        client.enableRateLimit = False  # the limiter paces every call instead
        if limiter is not None:
            client.fetch2 = self._pace(client.fetch2)

    # ---- set-up ------------------------------------------------------------------------------

    async def load(self, attempts: int = 3) -> dict[str, TradingRules]:
        """The venue's markets as TradingRules. A rate-limit refusal (another client on the same
        IP, e.g. the market-data feed, spent the budget) is retried: the limiter holds the retry
        for as long as the venue asked."""
        for attempt in range(attempts):
            try:
                markets = await self.client.load_markets()
                break
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection):
                if attempt == attempts - 1 or self.limiter is None:
                    raise
        self.rules = {}
        for market in markets.values():
            rules = self._venue_quoted(rules_from_ccxt_market(market))
            self.rules.setdefault(rules.symbol, rules)
        return self.rules

    def _venue_quoted(self, rules: TradingRules) -> TradingRules:
        """The market named by the venue's quote currency where ccxt names it by its settle one
        (the SPEC's ``ccxt_quotes``), so trading and the feeds share one symbol per instrument."""
        quote = spec(self.venue).ccxt_quotes.get(rules.quote)
        if quote is None:
            return rules
        return replace(rules, symbol=requoted(rules.symbol, quote), quote=quote)

    def _pace(self, fetch2: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """ccxt's ``fetch2`` behind the limiter. The wait comes before ccxt signs the request
        (signatures carry a timestamp the venue checks): the request is signed to see where it
        goes, sent as signed if the limiter lets it go at once, else signed again when it goes."""
        limiter = self.limiter
        client = self.client
        assert limiter is not None

        async def fetch2_paced(path: Any, api: Any = "public", method: str = "GET", params: Any = None, config: Any = None) -> Any:
            request = client.sign(path, api, method, copy.copy(params) if params is not None else {})
            parts = urlsplit(request["url"])
            waited = await limiter.acquire(request["method"], parts.path, params=request_params(parts.query, request["body"]),
                                           account=self.account, symbol=_symbol.get())
            try:
                if not waited:  # the signature (its timestamp, its nonce) is as fresh as a new one
                    return await client.fetch(request["url"], request["method"], request["headers"], request["body"])
                return await fetch2(path, api, method, params or {}, config or {})
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection):
                reply = Reply(429, client.last_response_headers or {}, client.last_http_response or "")
                if limiter.observe(reply, account=self.account) is None:
                    limiter.penalize(1.0, account=self.account)  # a breach the table does not describe
                raise

        return fetch2_paced

    # ---- reading -----------------------------------------------------------------------------

    async def balances(self) -> dict[str, Decimal]:
        """Available (free) amount per currency, from the venue."""
        raw = await self.client.fetch_balance()
        self._available = {cur: Decimal(str(v)) for cur, v in raw.get("free", {}).items() if v is not None}
        self._available_at = time.monotonic()
        return dict(self._available)

    async def _available_for_validation(self) -> dict[str, Decimal]:
        """The last balance if fresh enough, less what this process's orders have committed
        since (so a burst of orders is checked against what is really left). Orders that find
        it stale share one refresh."""
        if time.monotonic() - self._available_at > self.balance_ttl:
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.ensure_future(self.balances())
            await asyncio.shield(self._refresh)
        return dict(self._available)

    def _commit_locally(self, order: OrderRequest) -> None:
        rules = self.market(order.symbol)
        if rules.derivative:
            return
        if order.side is Side.BUY and order.price is not None:
            self._available[rules.quote] = self._available.get(rules.quote, Decimal(0)) - order.amount * order.price
        elif order.side is Side.SELL:
            self._available[rules.base] = self._available.get(rules.base, Decimal(0)) - order.amount

    def symbol_of(self, ccxt_symbol: str) -> str:
        """crossbook's symbol for a market ccxt names ``ccxt_symbol`` (itself if not loaded)."""
        if len(self._by_ccxt_symbol) != len(self.rules):
            self._by_ccxt_symbol = {r.ccxt_symbol: r.symbol for r in self.rules.values()}
        return self._by_ccxt_symbol.get(ccxt_symbol, ccxt_symbol)

    def market(self, symbol: str) -> TradingRules:
        try:
            return self.rules[symbol]
        except KeyError:
            raise InvalidOrder(f"{self.venue} has no market {symbol!r} (load() first?)") from None

    # ---- orders ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest, *, reference_price: Decimal | None = None) -> JournaledOrder:
        """Validate, journal, bring the instrument's margin mode, leverage and position mode to
        what the order asks, send. Returns the order as the journal now knows it. Every field
        reaches the venue in its own terms or the order is refused before anything is sent, with
        an InvalidOrder naming the venue and the field."""
        if request.venue != self.venue or request.account != self.account:
            raise InvalidOrder(f"order for {request.venue}/{request.account} sent to {self.venue}/{self.account}")
        self.require_tradeable()
        check_strategy(request.strategy, self.strategy, self.venue, self.account)
        order = self._checked(request, await self._available_for_validation(), reference_price)
        worst = self._market_worst_price(order, reference_price)
        journaled = self.journal.record_intent(order, sending=True)
        with self.sending(journaled.client_order_id):
            changes = await self._apply_settings(journaled)
            self._commit_locally(order)
            return await self._send(journaled, worst, changes)

    @contextlib.contextmanager
    def sending(self, *client_order_ids: str) -> Iterator[None]:
        """Orders this process is sending, from their journaling until the venue's answer (or its
        absence): reconciliation leaves them alone meanwhile."""
        self._sending.update(client_order_ids)
        try:
            yield
        finally:
            self._sending.subtract(client_order_ids)
            self._sending += Counter()  # drop the zero counts

    def is_sending(self, client_order_id: str) -> bool:
        return self._sending[client_order_id] > 0

    def _checked(self, request: OrderRequest, available: Mapping[str, Decimal], reference_price: Decimal | None) -> OrderRequest:
        """The request validated and on the venue's grid, once every field of it is one crossbook
        sends here; InvalidOrder naming the venue otherwise."""
        try:
            order = validate_order(request, self.rules, self.capabilities, available, reference_price)
            rules = self.market(order.symbol)
            require_sent(order, rules, self.capabilities)
            self.settings.check(order, rules)
        except InvalidOrder as exc:
            raise exc if self.venue in str(exc) else type(exc)(f"{self.venue}: {exc}") from None
        return order

    async def _apply_settings(self, journaled: JournaledOrder) -> list[SettingChange]:
        """The order's settings made at the venue, each change journaled on the order; a refused
        change rejects the order (nothing of it was sent) and names what had changed already."""
        cid = journaled.client_order_id
        order = journaled.request

        def journal_it(change: SettingChange) -> None:
            self.journal.record_setting(cid, change.setting, change.symbol, change.before, change.after)

        try:
            return await self.settings.apply(order, self.market(order.symbol), journal_it)
        except SettingFailed as failed:
            self._reject(cid, str(failed))
            text = f"{failed} ({_FIELD_OF_SETTING[failed.field]}; {cid} not sent){changed_before(failed.changes)}"
            if failed.unanswered:
                raise VenueUnavailable(text, cid) from None
            raise InvalidOrder(text) from None

    def _market_worst_price(self, order: OrderRequest, reference_price: Decimal | None) -> Decimal | None:
        """The worst price a market order goes out with where the venue's SPEC asks for one
        (``market_price_bps`` past the reference, on the tick, away from the book)."""
        bps = spec(self.venue).market_price_bps
        if bps is None or order.price is not None or order.stop_price is not None:
            return None
        if reference_price is None:
            raise InvalidOrder(f"{self.venue}: a market order is sent with a worst price here and needs a reference price")
        tick = self.market(order.symbol).tick
        buy = order.side is Side.BUY
        worst = reference_price * (1 + Decimal(bps if buy else -bps) / 10_000)
        return (worst / tick).to_integral_value(rounding=ROUND_CEILING if buy else ROUND_FLOOR) * tick

    async def send(self, journaled: JournaledOrder) -> JournaledOrder:
        """Send an order journaled and validated already (an OCO leg, a reduced leg's replacement)."""
        self.require_tradeable()
        with self.sending(journaled.client_order_id):
            return await self._send(journaled)

    async def _send(self, journaled: JournaledOrder, worst_price: Decimal | None = None,
                    changes: Sequence[SettingChange] = ()) -> JournaledOrder:
        cid = journaled.client_order_id
        also = changed_before(changes)
        order = journaled.request
        rules = self.market(order.symbol)
        if journaled.status is not OrderStatus.SENT:
            self.journal.mark_sent(cid)
        price = order.price if order.price is not None else worst_price
        token = _symbol.set(self.client.market_id(rules.ccxt_symbol))
        try:
            reply = await self.client.create_order(
                rules.ccxt_symbol,
                "limit" if order.price is not None else "market",
                order.side.value,
                plain(order.amount),
                None if price is None else plain(price),
                self._params(order, cid),
            )
        except ccxt.InsufficientFunds as exc:
            self._reject(cid, safe_error_text(exc, 300))
            raise InsufficientFunds(f"{self.venue} refused {cid}: {safe_error_text(exc, 300)}{also}") from None
        except (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.BadSymbol) as exc:
            self._reject(cid, safe_error_text(exc, 300))
            raise InvalidOrder(f"{self.venue} refused {cid}: {safe_error_text(exc, 300)}{also}") from None
        except (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended) as exc:
            self._reject(cid, type(exc).__name__)
            raise VenueRefused(f"{self.venue} refused {cid}: {type(exc).__name__}{also}") from None
        except ccxt.ExchangeError as exc:  # a refusal ccxt has no finer class for (Binance's -2019 on futures)
            self._reject(cid, safe_error_text(exc, 300))
            raise VenueRefused(f"{self.venue} refused {cid}: {type(exc).__name__} {safe_error_text(exc)}{also}") from None
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
            self.settings.forget()  # the connection failed: read the settings again before the next order
            self.events.outcome(OrderOutcome(self.venue, self.account, order.symbol, cid, Outcome.ERROR))
            raise VenueUnavailable(
                f"{self.venue}: no answer for {cid} ({type(exc).__name__}); it stays SENT until reconciled{also}", cid
            ) from None
        finally:
            _symbol.reset(token)
        acked = self.journal.record_ack(cid, str(reply["id"]))
        if self._may_have_traded(order, reply):
            return await self.sync(cid)
        return acked

    def _reject(self, client_order_id: str, reason: str) -> None:
        """The venue refused the order (or a setting it needed): journaled, and told the observers."""
        rejected = self.journal.record_reject(client_order_id, reason)
        self.events.outcome(OrderOutcome(self.venue, self.account, rejected.request.symbol, client_order_id, Outcome.REJECTED))

    def tell_ended(self, before: JournaledOrder, after: JournaledOrder) -> None:
        """Tell the observers an order that was not final before a sync and is now."""
        outcome = None if before.status.final else ended_as(after.status, after.filled)
        if outcome is not None:
            self.events.outcome(OrderOutcome(self.venue, self.account, after.request.symbol, after.client_order_id, outcome))

    @staticmethod
    def _may_have_traded(order: OrderRequest, reply: Mapping[str, Any]) -> bool:
        """Whether to sync the order right after its ack: an IOC, FOK or market order has traded
        (or not) by then. A GTC limit order's fills come from the private stream, or from
        reconciliation, unless its ack already says it traded: two more round trips per order
        would spend the budget of venues that count every call (Kraken's decaying counter)."""
        if order.price is None or order.time_in_force is not TimeInForce.GTC:
            return True
        status = reply.get("status")
        return status not in (None, "open") or bool(reply.get("filled"))

    def order_takes(self, rules: TradingRules, field: str) -> bool:
        """Whether ccxt's ``create_order`` on this market reads ``field`` (``marginMode``: OKX's
        orders carry their margin mode, where other venues set it on the instrument beforehand),
        by the client's ``features`` table."""
        features: Mapping[str, Any] = getattr(self.client, "features", None) or {}
        kind = "spot" if not rules.derivative else "swap" if rules.product in PERPETUALS else "future"
        node = features.get(kind) or {}
        if rules.derivative:
            node = node.get("inverse" if rules.inverse else "linear") or {}
        return bool((node.get("createOrder") or {}).get(field))

    def _params(self, order: OrderRequest, cid: str) -> dict[str, Any]:
        params: dict[str, Any] = dict(client_id_rule(self.venue).ccxt_params(cid))
        rules = self.market(order.symbol)
        if order.margin_mode is not None and rules.derivative and self.order_takes(rules, "marginMode"):
            params["marginMode"] = order.margin_mode.value
        if order.post_only:
            params["postOnly"] = True
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = order.time_in_force.value.upper()
        if order.stop_price is not None:
            params[self.capabilities.wire.stop_trigger] = plain(order.stop_price)
        if order.take_profit is not None:
            params["takeProfit"] = {"triggerPrice": plain(order.take_profit)}
        if order.stop_loss is not None:
            params["stopLoss"] = {"triggerPrice": plain(order.stop_loss)}
        params.update(self._wire_params(order))
        return params

    def _wire_params(self, order: OrderRequest) -> dict[str, Any]:
        """The fields ccxt has no unified name for, in the venue's own terms (its SPEC's wire
        table; ``require_sent`` refused the order already where the table has none)."""
        wire = self.capabilities.wire
        params: dict[str, Any] = {}
        if order.iceberg_visible is not None:
            assert wire.iceberg is not None
            params.update(wire.iceberg.flags)
            params[wire.iceberg.visible] = plain(order.iceberg_visible)
        if order.position_side is not PositionSide.BOTH:
            assert wire.position_side is not None
            params[wire.position_side.name] = wire.position_side.value(order.position_side)
        if order.stop_price is not None and self.market(order.symbol).product in wire.trigger_direction:
            params["triggerDirection"] = "ascending" if order.side is Side.BUY else "descending"
        return params

    async def amend(self, client_order_id: str, *, amount: Decimal | None = None, price: Decimal | None = None) -> JournaledOrder:
        """Change a live limit order's amount and/or price at the venue (ccxt ``edit_order``),
        then in the journal. New values are checked against the venue's grid and limits first;
        a venue that amends by cancel-replace gives the order a new venue id, which the journal
        follows; one that amends in place and answers with an amend id (the SPEC's
        ``amend_keeps_order_id``: Kraken) keeps the order's."""
        self.require_tradeable()
        order = self._journaled(client_order_id)
        if order.status.final or order.venue_order_id is None or order.request.price is None:
            raise InvalidOrder(f"{client_order_id} is {order.status.value}: only a live, acked limit order can be amended")
        if amount is None and price is None:
            raise InvalidOrder(f"amend of {client_order_id}: give a new amount, a new price or both")
        if order.filled > 0 and not spec(self.venue).amend_keeps_order_id:
            # a cancel-replace sends the whole new amount as a fresh order: what filled would fill again
            raise InvalidOrder(f"{self.venue} amends by replacing the order, and {client_order_id} has {order.filled} filled: "
                               f"cancel it and place the rest as a new order")
        rules = self.market(order.request.symbol)
        available = await self._available_for_validation()
        if not rules.derivative:  # what the order holds now is available to its amended self
            buy = order.request.side is Side.BUY
            held_in, held = (rules.quote, order.remaining * order.request.price) if buy else (rules.base, order.remaining)
            available[held_in] = available.get(held_in, Decimal(0)) + held
        amended = validate_order(
            replace(order.request, amount=order.request.amount if amount is None else amount, price=price or order.request.price),
            self.rules, self.capabilities, available,
        )
        new_amount, new_price = amended.amount, amended.price
        assert new_price is not None
        if new_amount <= order.filled:
            raise InvalidOrder(f"amend of {client_order_id}: amount {new_amount} is not above the {order.filled} already filled")
        token = _symbol.set(self.client.market_id(rules.ccxt_symbol))
        try:
            remote = await self.client.edit_order(
                order.venue_order_id, rules.ccxt_symbol, "limit", order.request.side.value, plain(new_amount), plain(new_price)
            )
        except (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.OrderNotFound) as exc:
            raise InvalidOrder(f"{self.venue} refused the amend of {client_order_id}: {safe_error_text(exc, 300)}") from None
        finally:
            _symbol.reset(token)
        if remote.get("id") is None and not spec(self.venue).amend_keeps_order_id:
            await self._check_replaced(client_order_id, remote)
        self.journal.record_amend(client_order_id, amount=None if amount is None else new_amount,
                                  price=None if price is None else new_price)
        new_id = order.venue_order_id if spec(self.venue).amend_keeps_order_id else str(remote.get("id") or order.venue_order_id)
        if new_id != order.venue_order_id:
            self.journal.transition(client_order_id, self._journaled(client_order_id).status, venue_order_id=new_id)
        return self._journaled(client_order_id)

    async def _check_replaced(self, client_order_id: str, remote: Mapping[str, Any]) -> None:
        """An amend answered with no order id: an edit in place (Coinbase) leaves the order live,
        but a cancel-replace whose new order the venue refused (Bitget's ``success: "failure"``)
        has only canceled it. That is an error, with the order's end journaled, never an amend."""
        synced = await self.sync(client_order_id)
        if synced.status.final:
            info = remote.get("info")
            why = info.get("msg") if isinstance(info, dict) else None
            raise InvalidOrder(f"{self.venue} canceled {client_order_id} but refused its replacement"
                               f"{f': {why}' if why else ''}; the order is {synced.status.value}")

    async def cancel(self, client_order_id: str) -> JournaledOrder:
        self.require_tradeable()
        order = self._journaled(client_order_id)
        if order.venue_order_id is None:
            raise InvalidOrder(f"{client_order_id} has no venue order id yet: reconcile first")
        rules = self.market(order.request.symbol)
        with contextlib.suppress(ccxt.OrderNotFound):  # already final at the venue: sync records how it ended
            await self.client.cancel_order(order.venue_order_id, rules.ccxt_symbol, self._lookup(order.request))
        lookup = self._lookup(order.request)
        wire = self.capabilities.wire
        fired = lookup and wire.fired_id and wire.fired(await self.client.fetch_order(order.venue_order_id, rules.ccxt_symbol, lookup))
        if fired:  # a trigger kept apart that had fired: cancel the order it placed
            with contextlib.suppress(ccxt.OrderNotFound):
                await self.client.cancel_order(fired, rules.ccxt_symbol)
        return await self.sync(client_order_id)

    async def sync(self, client_order_id: str) -> JournaledOrder:
        """Bring one order's status and fills in the journal up to what the venue says."""
        order = self._journaled(client_order_id)
        assert order.venue_order_id is not None
        rules = self.market(order.request.symbol)
        remote = await self.client.fetch_order(order.venue_order_id, rules.ccxt_symbol, self._lookup(order.request))
        fired = self.capabilities.wire.fired(remote)
        if fired is not None:  # the status and fills are the fired order's
            remote = await self.client.fetch_order(fired, rules.ccxt_symbol)
        await self._record_fills(order, rules, fired)
        status = remote_status(remote, order.request)
        if status is not None and status is not OrderStatus.OPEN:
            self.journal.transition(client_order_id, status)
        synced = self._journaled(client_order_id)
        self.tell_ended(order, synced)
        return synced

    def _lookup(self, request: OrderRequest) -> dict[str, Any]:
        """ccxt's params to fetch or cancel this order (Binance futures' algo orders, Bybit spot
        conditional ones: ``trigger``)."""
        return self.capabilities.wire.lookup_params(self.market(request.symbol).product, request.stop_price is not None)

    async def _record_fills(self, order: JournaledOrder, rules: TradingRules, fired: str | None = None) -> int:
        trades = await self._my_trades(rules.ccxt_symbol, int((order.created_at - 60) * 1000))
        new = 0
        for trade in trades:
            if str(trade.get("order")) not in (order.venue_order_id, fired):
                continue
            fill = fill_from_ccxt(self.venue, order.request.symbol, trade, order)
            if self.journal.record_fill(fill):
                new += 1
                self.events.fill(FillEvent(fill, self.account, rules.quote, rules.notional(fill.amount, fill.price)))
        return new

    async def _my_trades(self, ccxt_symbol: str, since: int) -> list[Mapping[str, Any]]:
        """The account's trades, from ccxt or, where ccxt cannot fetch them, the venue module's
        SPEC's ``fetch_my_trades`` hook (dYdX's indexer fills)."""
        if self.client.has.get("fetchMyTrades"):
            return list(await self.client.fetch_my_trades(ccxt_symbol, since))
        fetch = spec(self.venue).fetch_my_trades
        if fetch is None:
            raise VenueUnavailable(f"{self.venue}: neither ccxt nor crossbook can fetch this account's trades")
        return list(await fetch(self.client, ccxt_symbol, since))

    def _journaled(self, client_order_id: str) -> JournaledOrder:
        order = self.journal.order(client_order_id)
        if order is None:
            raise InvalidOrder(f"no order {client_order_id!r} in the journal")
        return order

    # ---- derivatives --------------------------------------------------------------------------

    async def positions(self, symbols: list[str] | None = None) -> list[PositionView]:
        """Open positions (all, or in crossbook ``symbols``), as the venue reports them."""
        ccxt_symbols = [self.market(s).ccxt_symbol for s in symbols] if symbols else None
        views = []
        for raw in await self.client.fetch_positions(ccxt_symbols):
            contracts = _dec(raw.get("contracts")) or Decimal(0)
            if contracts == 0:
                continue
            symbol = self.symbol_of(str(raw["symbol"]))
            size = contracts * (_dec(raw.get("contractSize")) or Decimal(1))
            side = str(raw.get("side") or "both")
            views.append(PositionView(symbol, side, contracts, -size if side == "short" else size, _dec(raw.get("entryPrice")),
                                      _dec(raw.get("leverage")), raw.get("marginMode"), _dec(raw.get("unrealizedPnl"))))
        return views

    async def funding_rate(self, symbol: str) -> FundingRate:
        """The perpetual's current funding rate and next funding time."""
        rules = self.market(symbol)
        if not rules.derivative:
            raise InvalidOrder(f"{self.venue} {symbol} is not a perpetual: it has no funding rate")
        raw = await self.client.fetch_funding_rate(rules.ccxt_symbol)
        rate = _dec(raw.get("fundingRate"))
        if rate is None:
            raise VenueUnavailable(f"{self.venue} gave no funding rate for {symbol}")
        when = raw.get("fundingTimestamp") or raw.get("nextFundingTimestamp")
        return FundingRate(symbol, rate, when / 1000.0 if when else None)

    # ---- reconciliation ----------------------------------------------------------------------

    async def reconcile(self) -> ReconcileReport:
        """Match the journal with the venue: resolve every order whose fate is unknown (journaled
        but never answered) by its client order id, refresh every open one, record missed fills.
        An order still being sent, or sent within ``sent_grace`` seconds, is left pending: the
        venue may not have it yet, so not finding it proves nothing."""
        found: dict[str, list[str]] = {"adopted": [], "never_placed": [], "pending": []}
        updated: list[str] = []
        fills = 0
        for order in self._mine(self.journal.in_flight(self.venue, self.account)):
            outcome = await resolve_in_flight(self, order)
            if outcome is not None:
                found[outcome].append(order.client_order_id)
        for order in self._mine(self.journal.open_orders(self.venue, self.account)):
            if order.venue_order_id is None:
                continue  # in flight, or a trigger with no venue order until it fires (an OKX OCO's leg)
            before = order.status
            rules = self.market(order.request.symbol)
            fills += await self._record_fills(order, rules)
            after = await self.sync(order.client_order_id)
            if after.status is not before:
                updated.append(order.client_order_id)
        return ReconcileReport(self.venue, self.account, found["adopted"], found["never_placed"], updated, fills,
                               found["pending"])

    def _mine(self, orders: list[JournaledOrder]) -> list[JournaledOrder]:
        """The orders on markets this client loaded: the same (venue, account) may trade other
        products through another client (Binance USD-M beside spot), which reconciles those."""
        return [o for o in orders if o.request.symbol in self.rules]


def _tradeable() -> None:
    """An account's orders may go (no lease restricts them)."""


async def close_accounts(accounts: Iterable[VenueAccount]) -> None:
    """Close every account's client at once: each ccxt client waits a quarter second on close,
    so closing fifteen one by one holds a Ctrl-C for four seconds."""
    await asyncio.gather(*(a.client.close() for a in {id(a): a for a in accounts}.values()))


def remote_status(remote: Mapping[str, Any], request: OrderRequest) -> OrderStatus | None:
    """The journal status of a ccxt order. ccxt's "closed" means done, not filled: a market or
    IOC order done with less than its amount filled expired (a GTC one was canceled)."""
    raw = str(remote.get("status"))
    status = CCXT_STATUS.get(raw) or unparsed_statuses(request.venue).get(raw)
    filled, amount = remote.get("filled"), remote.get("amount")
    if status is OrderStatus.FILLED and filled is not None and amount is not None and Decimal(str(filled)) < Decimal(str(amount)):
        taker = request.price is None or request.time_in_force is not TimeInForce.GTC
        return OrderStatus.EXPIRED if taker else OrderStatus.CANCELED
    return status


_FIELD_OF_SETTING = {"margin_mode": "margin_mode", "leverage": "leverage", "position_mode": "position_side"}


def changed_before(changes: Sequence[SettingChange]) -> str:
    """What an order's settings changed at the venue before the order failed, for its error."""
    if not changes:
        return ""
    return "; changed at the venue before that, and journaled: " + ", ".join(str(c) for c in changes)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def plain(value: Decimal) -> str:
    """A Decimal as a venue reads it: positional digits, never an exponent (``1.4E-5``)."""
    return format(value, "f")


def fill_from_ccxt(venue: str, symbol: str, trade: Mapping[str, Any], order: JournaledOrder | None) -> Fill:
    """A ccxt unified trade of ours as a journal fill (``order``: the journal's order, if known)."""
    fee = trade.get("fee") or {}
    return Fill(
        venue=venue,
        symbol=symbol,
        client_order_id=order.client_order_id if order is not None else str(trade.get("clientOrderId") or ""),
        venue_order_id=str(order.venue_order_id if order is not None and order.venue_order_id else trade.get("order") or ""),
        trade_id=str(trade["id"]),
        side=Side(trade["side"]),
        price=Decimal(str(trade["price"])),
        amount=Decimal(str(trade["amount"])),
        fee=Decimal(str(fee.get("cost") or 0)),
        fee_currency=str(fee.get("currency") or ""),
        taker=trade.get("takerOrMaker") != "maker",
        ts=(trade.get("timestamp") or time.time() * 1000) / 1000.0,
    )
