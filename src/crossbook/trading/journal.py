"""The crash-safe order journal: one SQLite file (WAL mode) per deployment.

Every order is journaled before it is sent; what the venue answers is appended after. The
``orders`` table holds each order's current state, ``fills`` every execution, ``events`` the
append-only trail of what was recorded (intent, sent, ack, fill, amend, cancel, reject, expire),
``oco_groups`` / ``oco_legs`` the OCO groups that link two orders (crossbook.trading.oco).
Amounts and prices are Decimals stored as TEXT. The journal stores what is needed to re-send or
reconcile an order (every ``OrderRequest`` field) and no credential of any kind.

Order life (``crossbook.model.OrderStatus``)::

    INTENT -> SENT -> OPEN -> PARTIALLY_FILLED -> FILLED | CANCELED | EXPIRED
       |        |                                  (REJECTED only before the venue accepted it)
       +--------+--> any later state, when the venue's answer is the first thing heard

A status never moves backwards and a final state (FILLED, CANCELED, REJECTED, EXPIRED) never
changes: ``transition`` raises ``IllegalTransition`` for anything else. Recording the same status
twice is a no-op, and so is a venue calling a partially filled order "open". ``record_ack`` is
lenient on purpose: the REST answer to create_order often arrives after the private stream has
already reported fills, so an ack only opens an order still in INTENT or SENT (it always keeps
the venue order id); only an ack for an order journaled as REJECTED raises, since the venue then
has an order the journal believed refused.

Fills are idempotent: a fill is keyed by (venue, symbol, trade id, side) -- Binance numbers
trades per symbol, and when two of our sub-accounts trade with each other both sides carry the
same trade id -- so a replayed fill stream never counts twice. The filled amount and average
price are recomputed from the fills in the transaction that adds one. A fill that arrives after
its order is final (a late fill after a cancel) is recorded and counted; the status stays. A fill
for an order the journal does not know (yet) is kept unlinked and joins its order when an ack
brings the matching venue order id.

Recovery semantics (what holds after the process is killed with SIGKILL at any point):

1. Each ``record_*``, ``mark_sent``, ``transition`` call is one SQLite transaction, committed
   before the call returns. With ``synchronous=FULL`` (the default) the WAL is fsynced at each
   commit, so a returned call survives a process kill and a power loss alike.
2. A transaction is all or nothing: SQLite ignores WAL frames without a commit record when the
   file is reopened. After a kill the journal holds every call that returned, plus at most the
   call in progress applied entirely. Fill totals never disagree with the fills, and an intent
   row never exists without its client order id.
3. ``record_intent`` allocates the row and derives the client order id from it in one
   transaction (``ClientIds``); an id counts as issued only once the call returns, and nothing
   may be sent before that. A kill before the commit leaves no row and nothing sent (the row id
   may then be handed out again, harmlessly). A kill after it leaves an INTENT; with
   ``mark_sent`` called before every send, an INTENT was never sent and a SENT may or may not
   have reached the venue.
4. On restart, ``in_flight()`` lists the orders in INTENT or SENT. The reconciler looks each
   client order id up at the venue, among open and closed orders, and records the answer with
   ``transition`` / ``record_ack``. Only an id the venue does not know may be sent again, with
   the same id: a venue refuses an id it has open, but Binance and Kraken check uniqueness only
   among open orders, so a blind resend of an order that already filled would trade twice.
   ``open_orders()`` is what to compare with the venue's open orders; replaying the venue's
   recent fills through ``record_fill`` fills any gap without double counting
   (``recent_fills`` shows what the journal has).

``synchronous="NORMAL"`` is accepted for hosts where that trade-off is wanted: in WAL mode it
still survives any process crash, but a power loss can undo the last commits -- including an
intent whose order was already sent, whose row id (hence client order id) would then be issued
again. Measured here: about 0.2 ms per commit with FULL, 0.02 ms with NORMAL.

A ``Journal`` may be shared by threads (calls are serialized), and several connections or
processes may open the same file (writers wait up to ``busy_timeout`` seconds for each other).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from ..errors import CrossbookError, InvalidOrder
from ..model import Fill, MarginMode, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from .client_ids import ClientIds, client_id_rule

SCHEMA_VERSION = "1"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS orders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_order_id TEXT UNIQUE,
        venue TEXT NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        amount TEXT NOT NULL,
        price TEXT,
        stop_price TEXT,
        time_in_force TEXT NOT NULL,
        post_only INTEGER NOT NULL,
        reduce_only INTEGER NOT NULL,
        iceberg_visible TEXT,
        take_profit TEXT,
        stop_loss TEXT,
        position_side TEXT NOT NULL,
        margin_mode TEXT,
        leverage TEXT,
        status TEXT NOT NULL,
        venue_order_id TEXT,
        filled TEXT NOT NULL DEFAULT '0',
        avg_price TEXT,
        reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, venue, account)",
    "CREATE INDEX IF NOT EXISTS orders_by_venue_id ON orders (venue, venue_order_id)",
    """CREATE TABLE IF NOT EXISTS fills (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        trade_id TEXT NOT NULL,
        side TEXT NOT NULL,
        order_id INTEGER REFERENCES orders (id),
        client_order_id TEXT NOT NULL,
        venue_order_id TEXT NOT NULL,
        price TEXT NOT NULL,
        amount TEXT NOT NULL,
        fee TEXT NOT NULL,
        fee_currency TEXT NOT NULL,
        taker INTEGER NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY (venue, symbol, trade_id, side)
    )""",
    "CREATE INDEX IF NOT EXISTS fills_by_order ON fills (order_id)",
    "CREATE INDEX IF NOT EXISTS fills_by_time ON fills (venue, ts)",
    "CREATE INDEX IF NOT EXISTS fills_unlinked ON fills (venue, venue_order_id) WHERE order_id IS NULL",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id INTEGER NOT NULL REFERENCES orders (id),
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL,
        ts REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_by_order ON events (order_id)",
    # an OCO group: two legs, a fill of one cancels (or reduces) the other; ``mode`` says who does
    # that (the venue: native; crossbook: its own), ``amount`` is what each leg was asked for
    """CREATE TABLE IF NOT EXISTS oco_groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        venue TEXT NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        mode TEXT NOT NULL,
        amount TEXT NOT NULL,
        list_id TEXT,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS oco_by_state ON oco_groups (state, venue, account)",
    # a group's orders: slot 0 or 1, the side of the pair; a leg reduced by cancel-and-replace adds
    # its replacement to the same slot
    """CREATE TABLE IF NOT EXISTS oco_legs (
        group_id INTEGER NOT NULL REFERENCES oco_groups (id),
        slot INTEGER NOT NULL CHECK (slot IN (0, 1)),
        order_id INTEGER NOT NULL UNIQUE REFERENCES orders (id),
        PRIMARY KEY (group_id, order_id)
    )""",
    # a withdrawal, journaled like an order: its intent (with its client id) before it is sent,
    # the venue's id and status after (crossbook.trading.withdraw keeps this table)
    """CREATE TABLE IF NOT EXISTS withdrawals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT UNIQUE,
        venue TEXT NOT NULL,
        account TEXT NOT NULL,
        asset TEXT NOT NULL,
        amount TEXT NOT NULL,
        fee TEXT,
        address TEXT NOT NULL,
        network TEXT,
        memo TEXT,
        whitelist_name TEXT NOT NULL,
        status TEXT NOT NULL,
        venue_id TEXT,
        venue_status TEXT,
        reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS withdrawals_by_status ON withdrawals (status, venue, account)",
)

S = OrderStatus
_LIVE = (S.INTENT, S.SENT, S.OPEN, S.PARTIALLY_FILLED)
_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.INTENT: frozenset({S.SENT, S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}),
    S.SENT: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}),
    S.OPEN: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.FILLED, S.CANCELED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}

# Venue error texts can quote a signed request; keep credentials and signatures out of the file.
_CREDENTIAL = re.compile(
    r"""(?ix)
    ("?[\w-]*(?:signature|sign|secret|passphrase|password|token|api[_-]?key|private[_-]?key)"?\s*[:=]\s*"?)
    [^&\s",}]+"""
)
_MAX_REASON = 500


class JournalError(CrossbookError):
    """The journal cannot record what it was asked to."""


class UnknownOrder(JournalError):
    pass


class IllegalTransition(JournalError):
    """A status change the order life does not allow (backwards, or out of a final state)."""


class ConflictingFill(JournalError):
    """The same venue trade recorded again with a different price, amount or order."""


@dataclass(frozen=True, slots=True)
class JournaledOrder:
    """One order as the journal knows it; ``request.client_order_id`` is always set."""

    intent_id: int
    request: OrderRequest
    status: OrderStatus
    venue_order_id: str | None
    filled: Decimal
    avg_price: Decimal | None
    reason: str
    created_at: float
    updated_at: float

    @property
    def client_order_id(self) -> str:
        assert self.request.client_order_id is not None
        return self.request.client_order_id

    @property
    def remaining(self) -> Decimal:
        return max(self.request.amount - self.filled, Decimal(0))


class OcoState(str, Enum):
    OPEN = "open"  # either leg may still trade
    DONE = "done"  # a leg traded and the other is canceled (or traded the rest)
    CANCELED = "canceled"  # both legs canceled with nothing traded
    FAILED = "failed"  # the pair could not be placed whole: what was placed is canceled

    @property
    def final(self) -> bool:
        return self is not OcoState.OPEN


@dataclass(frozen=True, slots=True)
class OcoRecord:
    """One OCO group as the journal knows it. ``legs`` holds each slot's client order ids, oldest
    first: the last one is the slot's current order (earlier ones were replaced by a smaller one).
    ``mode`` is who cancels the other leg: "native" (the venue) or "crossbook"."""

    group_id: int
    venue: str
    account: str
    symbol: str
    mode: str
    amount: Decimal
    legs: tuple[tuple[str, ...], tuple[str, ...]]
    list_id: str | None
    state: OcoState
    reason: str
    created_at: float
    updated_at: float

    @property
    def current(self) -> tuple[str, str]:
        return self.legs[0][-1], self.legs[1][-1]


@dataclass(frozen=True, slots=True)
class JournalEvent:
    kind: str
    status: OrderStatus  # the order's status after the event
    detail: dict[str, Any]
    ts: float


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _redact(reason: str) -> str:
    return _CREDENTIAL.sub(r"\1<redacted>", reason)[:_MAX_REASON]


def _require_decimal(name: str, value: Decimal | None, *, positive: bool) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidOrder(f"{name} must be a finite Decimal, got {value!r}")
    if positive and value <= 0:
        raise InvalidOrder(f"{name} must be positive, got {value}")


_ORDER_COLUMNS = (
    "venue, account, symbol, side, type, amount, price, stop_price, time_in_force, post_only, reduce_only, "
    "iceberg_visible, take_profit, stop_loss, position_side, margin_mode, leverage"
)


def _request_values(r: OrderRequest) -> tuple[Any, ...]:
    return (
        r.venue, r.account, r.symbol, r.side.value, r.type.value, str(r.amount), _text(r.price), _text(r.stop_price),
        r.time_in_force.value, int(r.post_only), int(r.reduce_only), _text(r.iceberg_visible), _text(r.take_profit),
        _text(r.stop_loss), r.position_side.value, r.margin_mode.value if r.margin_mode else None, _text(r.leverage),
    )


def _order_from_row(row: sqlite3.Row) -> JournaledOrder:
    request = OrderRequest(
        venue=row["venue"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        type=OrderType(row["type"]),
        amount=Decimal(row["amount"]),
        price=_decimal(row["price"]),
        stop_price=_decimal(row["stop_price"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        post_only=bool(row["post_only"]),
        reduce_only=bool(row["reduce_only"]),
        iceberg_visible=_decimal(row["iceberg_visible"]),
        take_profit=_decimal(row["take_profit"]),
        stop_loss=_decimal(row["stop_loss"]),
        position_side=PositionSide(row["position_side"]),
        margin_mode=MarginMode(row["margin_mode"]) if row["margin_mode"] else None,
        leverage=_decimal(row["leverage"]),
        account=row["account"],
        client_order_id=row["client_order_id"],
    )
    return JournaledOrder(
        intent_id=row["id"],
        request=request,
        status=OrderStatus(row["status"]),
        venue_order_id=row["venue_order_id"],
        filled=Decimal(row["filled"]),
        avg_price=_decimal(row["avg_price"]),
        reason=row["reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _fill_from_row(row: sqlite3.Row) -> Fill:
    return Fill(
        venue=row["venue"],
        symbol=row["symbol"],
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        trade_id=row["trade_id"],
        side=Side(row["side"]),
        price=Decimal(row["price"]),
        amount=Decimal(row["amount"]),
        fee=Decimal(row["fee"]),
        fee_currency=row["fee_currency"],
        taker=bool(row["taker"]),
        ts=row["ts"],
    )


def _next_status(order: sqlite3.Row, requested: OrderStatus) -> OrderStatus | None:
    """The status to store when ``requested`` is reported, None when nothing changes."""
    current = OrderStatus(order["status"])
    if requested is current or (current is S.PARTIALLY_FILLED and requested is S.OPEN):
        return None
    if requested not in _NEXT[current]:
        why = "a final state never changes" if current.final else "an order's status never goes back"
        raise IllegalTransition(f"order {order['client_order_id']}: {current.value} -> {requested.value} is not allowed ({why})")
    return requested


class Journal:
    """The order journal in one SQLite file; see the module docstring for its guarantees."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise JournalError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); the journal needs a local file")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self.instance_id = self._init_schema()
        self.client_ids = ClientIds(self.instance_id)

    def _init_schema(self) -> str:
        with self._write() as db:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('instance_id', ?)", (ClientIds.new_instance_id(),))
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if meta["schema_version"] != SCHEMA_VERSION:
            raise JournalError(f"{self.path}: journal schema {meta['schema_version']}, this crossbook reads {SCHEMA_VERSION}")
        return str(meta["instance_id"])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. IMMEDIATE takes the write lock up front, so two writers wait
        for each other instead of failing on a lock upgrade."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- writes ------------------------------------------------------------------------------

    def record_intent(self, request: OrderRequest, *, sending: bool = False) -> JournaledOrder:
        """Journal an order before it is sent and give it its client order id.

        Without ``request.client_order_id`` the id is derived from the new row (``ClientIds``).
        A request that carries one (an order adopted from a venue, or a caller's own key) must
        satisfy the venue's rule; journaling the same id again with the same request returns the
        existing order, with a different request raises ``JournalError``. With ``sending`` the
        order is journaled as SENT in the same durable commit (one fsync before the send, not two;
        reconciliation treats INTENT and SENT alike)."""
        rule = client_id_rule(request.venue)
        _require_decimal("amount", request.amount, positive=True)
        for name in ("price", "stop_price", "iceberg_visible", "take_profit", "stop_loss", "leverage"):
            _require_decimal(name, getattr(request, name), positive=True)
        if request.client_order_id is not None:
            rule.validate(request.client_order_id)
        now = self._clock()
        with self._write() as db:
            if request.client_order_id is not None:
                existing = db.execute("SELECT * FROM orders WHERE client_order_id = ?", (request.client_order_id,)).fetchone()
                if existing is not None:
                    return self._same_intent(_order_from_row(existing), request)
            cur = db.execute(
                f"INSERT INTO orders (client_order_id, {_ORDER_COLUMNS}, status, created_at, updated_at) "
                f"VALUES (?, {', '.join('?' * 17)}, ?, ?, ?)",
                (request.client_order_id, *_request_values(request), S.INTENT.value, now, now),
            )
            intent_id = cur.lastrowid
            assert intent_id is not None
            if request.client_order_id is None:
                self._assign_client_id(db, request.venue, intent_id)
            self._event(db, intent_id, "intent", S.INTENT, {}, now)
            if sending:
                db.execute("UPDATE orders SET status = ? WHERE id = ?", (S.SENT.value, intent_id))
                self._event(db, intent_id, S.SENT.value, S.SENT, {}, now)
            row = self._row_by_id(db, intent_id)
        return _order_from_row(row)

    def _assign_client_id(self, db: sqlite3.Connection, venue: str, intent_id: int) -> None:
        cid = self.client_ids.for_intent(venue, intent_id)
        try:
            db.execute("UPDATE orders SET client_order_id = ? WHERE id = ?", (cid, intent_id))
        except sqlite3.IntegrityError:
            raise JournalError(f"client order id {cid} of intent {intent_id} is already taken by an adopted order") from None

    def _same_intent(self, existing: JournaledOrder, request: OrderRequest) -> JournaledOrder:
        if existing.request != request:
            raise JournalError(f"client order id {request.client_order_id} is already journaled for a different order")
        return existing

    def mark_sent(self, client_order_id: str) -> JournaledOrder:
        """Record that the order is about to go out (call it right before each send; again on a
        retry with the same id). Raises IllegalTransition once the venue has answered."""
        return self.transition(client_order_id, S.SENT)

    def record_ack(self, client_order_id: str, venue_order_id: str) -> JournaledOrder:
        """The venue accepted the order: keep its order id, link fills that came first, and open
        the order if it is still in INTENT or SENT (an ack never moves an order back). An ack for
        an order journaled as REJECTED raises IllegalTransition: the venue has an order the
        journal believed it refused."""
        now = self._clock()
        with self._write() as db:
            order = self._row(db, client_order_id)
            status = OrderStatus(order["status"])
            if status is S.REJECTED:
                raise IllegalTransition(
                    f"order {client_order_id}: the venue acked it as {venue_order_id} but it is journaled as rejected"
                )
            if status in (S.INTENT, S.SENT):
                status = S.OPEN
            elif order["venue_order_id"] == venue_order_id:
                return _order_from_row(order)  # the same ack again (stream and REST both answer)
            db.execute(
                "UPDATE orders SET venue_order_id = ?, status = ?, updated_at = ? WHERE id = ?",
                (venue_order_id, status.value, now, order["id"]),
            )
            self._link_fills(db, order["id"], order["venue"], venue_order_id)
            row = self._row_by_id(db, order["id"])
            self._event(db, order["id"], "ack", OrderStatus(row["status"]), {"venue_order_id": venue_order_id}, now)
        return _order_from_row(row)

    def record_cancel(self, client_order_id: str, reason: str = "") -> JournaledOrder:
        return self.transition(client_order_id, S.CANCELED, reason=reason)

    def record_reject(self, client_order_id: str, reason: str) -> JournaledOrder:
        return self.transition(client_order_id, S.REJECTED, reason=reason)

    def record_expire(self, client_order_id: str, reason: str = "") -> JournaledOrder:
        return self.transition(client_order_id, S.EXPIRED, reason=reason)

    def transition(
        self, client_order_id: str, status: OrderStatus, *, venue_order_id: str | None = None, reason: str = ""
    ) -> JournaledOrder:
        """Move an order to ``status`` (what the venue reported); the same status again is a
        no-op, anything the order life forbids raises ``IllegalTransition``."""
        now = self._clock()
        with self._write() as db:
            order = self._row(db, client_order_id)
            new = _next_status(order, status)
            if new is None and venue_order_id in (None, order["venue_order_id"]):
                return _order_from_row(order)
            new = new or OrderStatus(order["status"])
            reason = _redact(reason) if reason else order["reason"]
            venue_id = venue_order_id or order["venue_order_id"]
            db.execute(
                "UPDATE orders SET status = ?, venue_order_id = ?, reason = ?, updated_at = ? WHERE id = ?",
                (new.value, venue_id, reason, now, order["id"]),
            )
            if venue_order_id:
                self._link_fills(db, order["id"], order["venue"], venue_order_id)
            detail = {"reason": reason} if reason != order["reason"] else {}
            if venue_order_id and venue_order_id != order["venue_order_id"]:
                detail["venue_order_id"] = venue_order_id
            row = self._row_by_id(db, order["id"])
            self._event(db, order["id"], status.value, OrderStatus(row["status"]), detail, now)
        return _order_from_row(row)

    def record_amend(
        self, client_order_id: str, *, amount: Decimal | None = None, price: Decimal | None = None
    ) -> JournaledOrder:
        """The venue accepted an amendment of a live order's amount and/or price."""
        _require_decimal("amount", amount, positive=True)
        _require_decimal("price", price, positive=True)
        now = self._clock()
        with self._write() as db:
            order = self._row(db, client_order_id)
            if OrderStatus(order["status"]).final:
                raise IllegalTransition(f"order {client_order_id}: cannot amend a {order['status']} order")
            detail: dict[str, Any] = {}
            if amount is not None:
                detail["amount"] = [order["amount"], str(amount)]
            if price is not None:
                detail["price"] = [order["price"], str(price)]
            db.execute(
                "UPDATE orders SET amount = ?, price = ?, updated_at = ? WHERE id = ?",
                (str(amount) if amount is not None else order["amount"], _text(price) or order["price"], now, order["id"]),
            )
            status = self._apply_fills(db, order["id"], now)
            self._event(db, order["id"], "amend", status, detail, now)
            row = self._row_by_id(db, order["id"])
        return _order_from_row(row)

    def record_setting(self, client_order_id: str, setting: str, symbol: str, before: str | None, after: str) -> None:
        """A position setting (margin mode, leverage, position mode) the venue changed for this
        order before it was sent: a ``setting`` event, kept whatever becomes of the order."""
        now = self._clock()
        with self._write() as db:
            order = self._row(db, client_order_id)
            detail = {"setting": setting, "symbol": symbol, "before": before, "after": after}
            self._event(db, order["id"], "setting", OrderStatus(order["status"]), detail, now)

    def record_note(self, client_order_id: str, note: str, detail: dict[str, Any] | None = None) -> None:
        """A tag a strategy puts on one of its orders (``flatten``: it closes an unhedged
        arbitrage leg): a ``note`` event, found again with ``noted``."""
        now = self._clock()
        with self._write() as db:
            order = self._row(db, client_order_id)
            self._event(db, order["id"], "note", OrderStatus(order["status"]), {"note": note, **(detail or {})}, now)

    def noted(self, note: str) -> list[JournaledOrder]:
        """The orders tagged ``note`` (record_note), oldest first."""
        rows = self._query(
            "SELECT DISTINCT o.* FROM orders o JOIN events e ON e.order_id = o.id "
            "WHERE e.kind = 'note' AND json_extract(e.detail, '$.note') = ? ORDER BY o.id",
            (note,),
        )
        return [_order_from_row(r) for r in rows]

    def record_fill(self, fill: Fill) -> bool:
        """Record one execution; True if it is new, False if the journal already had it (a
        replay). The same trade with a different price, amount or order raises ConflictingFill."""
        _require_decimal("fill price", fill.price, positive=True)
        _require_decimal("fill amount", fill.amount, positive=True)
        _require_decimal("fill fee", fill.fee, positive=False)
        now = self._clock()
        with self._write() as db:
            known = db.execute(
                "SELECT * FROM fills WHERE venue = ? AND symbol = ? AND trade_id = ? AND side = ?",
                (fill.venue, fill.symbol, fill.trade_id, fill.side.value),
            ).fetchone()
            if known is not None:
                self._check_replay(known, fill)
                return False
            order = self._order_of_fill(db, fill)
            db.execute(
                "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fill.venue, fill.symbol, fill.trade_id, fill.side.value, order["id"] if order else None,
                    order["client_order_id"] if order else fill.client_order_id, fill.venue_order_id,
                    str(fill.price), str(fill.amount), str(fill.fee), fill.fee_currency, int(fill.taker), fill.ts,
                ),
            )
            if order is not None:
                status = self._apply_fills(db, order["id"], now)
                detail = {"trade_id": fill.trade_id, "price": str(fill.price), "amount": str(fill.amount)}
                self._event(db, order["id"], "fill", status, detail, now)
        return True

    def _check_replay(self, known: sqlite3.Row, fill: Fill) -> None:
        same = Decimal(known["price"]) == fill.price and Decimal(known["amount"]) == fill.amount
        if fill.client_order_id and fill.client_order_id != known["client_order_id"]:
            same = False
        if not same:
            raise ConflictingFill(
                f"{fill.venue} trade {fill.trade_id} ({fill.symbol} {fill.side.value}) is journaled as "
                f"{known['amount']} @ {known['price']} for {known['client_order_id'] or '?'}, now reported as "
                f"{fill.amount} @ {fill.price} for {fill.client_order_id or '?'}"
            )

    def _order_of_fill(self, db: sqlite3.Connection, fill: Fill) -> sqlite3.Row | None:
        order = None
        if fill.client_order_id:
            order = db.execute("SELECT * FROM orders WHERE client_order_id = ?", (fill.client_order_id,)).fetchone()
        if order is None and fill.venue_order_id:
            matches = db.execute(
                "SELECT * FROM orders WHERE venue = ? AND venue_order_id = ? AND symbol = ?",
                (fill.venue, fill.venue_order_id, fill.symbol),
            ).fetchall()
            order = matches[0] if len(matches) == 1 else None
        if order is not None and order["venue"] != fill.venue:
            raise ConflictingFill(
                f"{fill.venue} fill {fill.trade_id} names order {order['client_order_id']}, which is on {order['venue']}"
            )
        return order

    def _link_fills(self, db: sqlite3.Connection, order_id: int, venue: str, venue_order_id: str) -> None:
        """Attach fills that arrived before the order's venue id was known."""
        order = self._row_by_id(db, order_id)
        waiting = db.execute(
            "SELECT rowid, trade_id, price, amount FROM fills "
            "WHERE order_id IS NULL AND venue = ? AND venue_order_id = ? AND symbol = ?",
            (venue, venue_order_id, order["symbol"]),
        ).fetchall()
        if not waiting:
            return
        now = self._clock()
        for fill in waiting:
            db.execute(
                "UPDATE fills SET order_id = ?, client_order_id = ? WHERE rowid = ?",
                (order_id, order["client_order_id"], fill["rowid"]),
            )
        status = self._apply_fills(db, order_id, now)
        for fill in waiting:
            detail = {"trade_id": fill["trade_id"], "price": fill["price"], "amount": fill["amount"], "linked": True}
            self._event(db, order_id, "fill", status, detail, now)

    def _apply_fills(self, db: sqlite3.Connection, order_id: int, now: float) -> OrderStatus:
        """Recompute filled amount and average price from the fills; a live order becomes
        PARTIALLY_FILLED or FILLED by them, a final one keeps its status."""
        order = self._row_by_id(db, order_id)
        filled = Decimal(0)
        notional = Decimal(0)
        for price, amount in db.execute("SELECT price, amount FROM fills WHERE order_id = ?", (order_id,)):
            filled += Decimal(amount)
            notional += Decimal(price) * Decimal(amount)
        status = OrderStatus(order["status"])
        if status in _LIVE and filled > 0:
            status = S.FILLED if filled >= Decimal(order["amount"]) else S.PARTIALLY_FILLED
        db.execute(
            "UPDATE orders SET filled = ?, avg_price = ?, status = ?, updated_at = ? WHERE id = ?",
            (str(filled), str(notional / filled) if filled else None, status.value, now, order_id),
        )
        return status

    def _event(
        self, db: sqlite3.Connection, order_id: int, kind: str, status: OrderStatus, detail: dict[str, Any], ts: float
    ) -> None:
        db.execute(
            "INSERT INTO events (order_id, kind, status, detail, ts) VALUES (?, ?, ?, ?, ?)",
            (order_id, kind, status.value, json.dumps(detail, sort_keys=True), ts),
        )

    def _row(self, db: sqlite3.Connection, client_order_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = db.execute("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,)).fetchone()
        if row is None:
            raise UnknownOrder(f"no journaled order with client order id {client_order_id!r}")
        return row

    def _row_by_id(self, db: sqlite3.Connection, order_id: int) -> sqlite3.Row:
        row: sqlite3.Row = db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        return row

    # ---- OCO groups ----------------------------------------------------------------------------

    def record_oco(self, venue: str, account: str, symbol: str, mode: str, amount: Decimal,
                   legs: tuple[str, str], list_id: str | None = None) -> OcoRecord:
        """Link two journaled orders as one OCO group (call it before either is sent, so a
        restart finds the pair)."""
        _require_decimal("amount", amount, positive=True)
        now = self._clock()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO oco_groups (venue, account, symbol, mode, amount, list_id, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (venue, account, symbol, mode, str(amount), list_id, OcoState.OPEN.value, now, now),
            )
            assert cur.lastrowid is not None
            for slot, cid in enumerate(legs):
                self._add_leg(db, cur.lastrowid, slot, cid)
            return self._oco_row(db, cur.lastrowid)

    def add_oco_leg(self, group_id: int, slot: int, client_order_id: str) -> OcoRecord:
        """A journaled order becomes ``slot``'s current leg (the replacement of a reduced one)."""
        with self._write() as db:
            self._add_leg(db, group_id, slot, client_order_id)
            db.execute("UPDATE oco_groups SET updated_at = ? WHERE id = ?", (self._clock(), group_id))
            return self._oco_row(db, group_id)

    def update_oco(self, group_id: int, *, state: OcoState | None = None, list_id: str | None = None,
                   reason: str = "") -> OcoRecord:
        """The group's venue list id and / or its state; a final state never changes."""
        with self._write() as db:
            group = self._oco_row(db, group_id)
            if state is not None and group.state.final and state is not group.state:
                raise IllegalTransition(f"OCO group {group_id}: {group.state.value} -> {state.value} is not allowed")
            db.execute(
                "UPDATE oco_groups SET state = ?, list_id = ?, reason = ?, updated_at = ? WHERE id = ?",
                ((state or group.state).value, list_id or group.list_id, _redact(reason) if reason else group.reason,
                 self._clock(), group_id),
            )
            return self._oco_row(db, group_id)

    def _add_leg(self, db: sqlite3.Connection, group_id: int, slot: int, client_order_id: str) -> None:
        order = self._row(db, client_order_id)
        try:
            db.execute("INSERT INTO oco_legs VALUES (?, ?, ?)", (group_id, slot, order["id"]))
        except sqlite3.IntegrityError:
            raise JournalError(f"order {client_order_id} is already a leg of an OCO group") from None

    def _oco_row(self, db: sqlite3.Connection, group_id: int) -> OcoRecord:
        row = db.execute("SELECT * FROM oco_groups WHERE id = ?", (group_id,)).fetchone()
        if row is None:
            raise JournalError(f"no OCO group {group_id} in the journal")
        legs: tuple[list[str], list[str]] = ([], [])
        for slot, cid in db.execute(
            "SELECT l.slot, o.client_order_id FROM oco_legs l JOIN orders o ON l.order_id = o.id "
            "WHERE l.group_id = ? ORDER BY o.id", (group_id,),
        ):
            legs[slot].append(cid)
        return OcoRecord(row["id"], row["venue"], row["account"], row["symbol"], row["mode"], Decimal(row["amount"]),
                         (tuple(legs[0]), tuple(legs[1])), row["list_id"], OcoState(row["state"]), row["reason"],
                         row["created_at"], row["updated_at"])

    def oco(self, group_id: int) -> OcoRecord | None:
        with self._lock:
            found = self._db.execute("SELECT 1 FROM oco_groups WHERE id = ?", (group_id,)).fetchone()
            return self._oco_row(self._db, group_id) if found else None

    def oco_of(self, client_order_id: str) -> OcoRecord | None:
        """The OCO group ``client_order_id`` is a leg of, if any."""
        rows = self._query("SELECT l.group_id FROM oco_legs l JOIN orders o ON l.order_id = o.id "
                           "WHERE o.client_order_id = ?", (client_order_id,))
        return self.oco(rows[0]["group_id"]) if rows else None

    def ocos(self, venue: str | None = None, account: str | None = None, *, open_only: bool = False) -> list[OcoRecord]:
        """OCO groups, oldest first (``open_only``: those whose legs may still trade)."""
        sql = "SELECT id FROM oco_groups WHERE 1 = 1"
        args: tuple[Any, ...] = ()
        for column, value in (("venue", venue), ("account", account), ("state", OcoState.OPEN.value if open_only else None)):
            if value is not None:
                sql, args = f"{sql} AND {column} = ?", (*args, value)
        with self._lock:
            return [self._oco_row(self._db, r["id"]) for r in self._db.execute(sql + " ORDER BY id", args).fetchall()]

    # ---- queries -----------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def order(self, client_order_id: str) -> JournaledOrder | None:
        rows = self._query("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,))
        return _order_from_row(rows[0]) if rows else None

    def order_by_venue_id(self, venue: str, venue_order_id: str, symbol: str | None = None) -> JournaledOrder | None:
        """The order the venue knows as ``venue_order_id``. Venue order ids can repeat across a
        venue's products (Binance spot and futures number orders separately): pass ``symbol``
        when the venue has several; an ambiguous lookup raises JournalError."""
        sql = "SELECT * FROM orders WHERE venue = ? AND venue_order_id = ?"
        args: tuple[Any, ...] = (venue, venue_order_id)
        if symbol is not None:
            sql, args = sql + " AND symbol = ?", (*args, symbol)
        rows = self._query(sql, args)
        if len(rows) > 1:
            symbols = sorted({r["symbol"] for r in rows})
            raise JournalError(
                f"{venue} order id {venue_order_id} matches {len(rows)} orders ({', '.join(symbols)}); pass the symbol"
            )
        return _order_from_row(rows[0]) if rows else None

    def _by_status(self, statuses: tuple[OrderStatus, ...], venue: str | None, account: str | None) -> list[JournaledOrder]:
        sql = f"SELECT * FROM orders WHERE status IN ({', '.join('?' * len(statuses))})"
        args: tuple[Any, ...] = tuple(s.value for s in statuses)
        if venue is not None:
            sql, args = sql + " AND venue = ?", (*args, venue)
        if account is not None:
            sql, args = sql + " AND account = ?", (*args, account)
        return [_order_from_row(r) for r in self._query(sql + " ORDER BY id", args)]

    def open_orders(self, venue: str | None = None, account: str | None = None) -> list[JournaledOrder]:
        """Orders not in a final state, oldest first."""
        return self._by_status(_LIVE, venue, account)

    def orders(self, venue: str | None = None, account: str | None = None) -> list[JournaledOrder]:
        """Every order, in any state, oldest first."""
        return self._by_status(tuple(OrderStatus), venue, account)

    def in_flight(self, venue: str | None = None, account: str | None = None) -> list[JournaledOrder]:
        """Orders in INTENT or SENT: whether the venue has them is unknown until asked."""
        return self._by_status((S.INTENT, S.SENT), venue, account)

    def fills(self, client_order_id: str) -> list[Fill]:
        rows = self._query(
            "SELECT f.* FROM fills f JOIN orders o ON f.order_id = o.id WHERE o.client_order_id = ? ORDER BY f.ts, f.rowid",
            (client_order_id,),
        )
        return [_fill_from_row(r) for r in rows]

    def recent_fills(self, venue: str, since: float) -> list[Fill]:
        """The venue's fills at or after ``since`` (fill time, epoch seconds), linked or not."""
        rows = self._query("SELECT * FROM fills WHERE venue = ? AND ts >= ? ORDER BY ts, rowid", (venue, since))
        return [_fill_from_row(r) for r in rows]

    def unlinked_fills(self, venue: str | None = None) -> list[Fill]:
        """Fills for orders the journal does not know: placed elsewhere, or acked later."""
        sql = "SELECT * FROM fills WHERE order_id IS NULL"
        args: tuple[str, ...] = ()
        if venue is not None:
            sql, args = sql + " AND venue = ?", (venue,)
        return [_fill_from_row(r) for r in self._query(sql + " ORDER BY ts, rowid", args)]

    def events(self, client_order_id: str) -> list[JournalEvent]:
        rows = self._query(
            "SELECT e.* FROM events e JOIN orders o ON e.order_id = o.id WHERE o.client_order_id = ? ORDER BY e.id",
            (client_order_id,),
        )
        return [JournalEvent(r["kind"], OrderStatus(r["status"]), json.loads(r["detail"]), r["ts"]) for r in rows]
