"""Withdrawals through ccxt, journaled like orders, so none is ever sent twice.

The caller (the Desk) has already resolved the destination from crossbook's whitelist and checked
the second factor; this layer checks what the venue says (the asset can be withdrawn on that
network, the amount is at least the venue's minimum and covers its fee, and the address is on the
venue's own whitelist where the venue keeps one), then:

1. journals the intent with its client id (``withdrawals`` table of the order journal) as SENT,
   one durable commit before anything is sent;
2. sends it with ccxt's ``withdraw`` (the client id in the parameter the venue's SPEC names);
3. records the venue's withdrawal id and status (ACCEPTED), or the venue's refusal (REFUSED).

A process killed between 1 and 3 leaves a SENT row. ``reconcile`` (run before any new withdrawal
and by the Desk on start) looks each one up in ``fetch_withdrawals``: by client id where the venue
echoes one, else by asset, amount, address and time among withdrawals no other row claims. Found:
ACCEPTED with the venue's id; not there: REFUSED (it never reached the venue). A SENT row is never
sent again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt

from ..errors import CrossbookError, InvalidOrder, NotWhitelisted, UnsupportedFeature, VenueRefused, VenueUnavailable
from ..venues.registry import spec
from ..venues.spec.withdrawals import VenueAddress, WithdrawalLimits, WithdrawalRules
from .account import VenueAccount

CLIENT_ID_PREFIX = "cbw"
LOOKBACK_MS = 10 * 60_000  # how far before its intent a withdrawal is looked for at the venue


class WithdrawalStatus(str, Enum):
    SENT = "sent"  # journaled before sending: may or may not have reached the venue
    ACCEPTED = "accepted"  # the venue has it (its id in venue_id, its own status in venue_status)
    REFUSED = "refused"  # the venue refused it, or never received it


@dataclass(frozen=True)
class WithdrawalRequest:
    """A withdrawal to a whitelisted destination (``to``: the whitelist entry's name)."""

    venue: str
    account: str
    asset: str
    amount: Decimal
    address: str
    network: str | None
    memo: str | None
    to: str
    venue_name: str | None = None  # the venue's name for the address, where it withdraws by name (Kraken's key)


@dataclass(frozen=True)
class Withdrawal:
    """One journaled withdrawal."""

    client_id: str
    venue: str
    account: str
    asset: str
    amount: Decimal
    fee: Decimal | None
    address: str
    network: str | None
    memo: str | None
    to: str
    status: WithdrawalStatus
    venue_id: str | None
    venue_status: str | None
    reason: str
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "venue": self.venue, "account": self.account, "asset": self.asset,
                "amount": str(self.amount), "fee": None if self.fee is None else str(self.fee), "to": self.to,
                "address": self.address, "network": self.network, "memo": self.memo, "status": self.status.value,
                "venue_id": self.venue_id, "venue_status": self.venue_status, "reason": self.reason,
                "created_at": self.created_at, "updated_at": self.updated_at}


def _withdrawal(row: sqlite3.Row) -> Withdrawal:
    return Withdrawal(row["client_id"], row["venue"], row["account"], row["asset"], Decimal(row["amount"]),
                      None if row["fee"] is None else Decimal(row["fee"]), row["address"], row["network"], row["memo"],
                      row["whitelist_name"], WithdrawalStatus(row["status"]), row["venue_id"], row["venue_status"],
                      row["reason"], row["created_at"], row["updated_at"])


class WithdrawalJournal:
    """The ``withdrawals`` table of an order journal file, on its own connection (WAL, FULL
    synchronous: each call is one durable transaction, as the order journal's are)."""

    def __init__(self, path: str | Path, instance_id: str, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.instance_id = instance_id
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def record_sending(self, request: WithdrawalRequest, fee: Decimal | None, id_length: int) -> Withdrawal:
        """Journal ``request`` as SENT with its new client id, before it is sent."""
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO withdrawals (venue, account, asset, amount, fee, address, network, memo, whitelist_name, "
                "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (request.venue, request.account, request.asset, str(request.amount), None if fee is None else str(fee),
                 request.address, request.network, request.memo, request.to, WithdrawalStatus.SENT.value, now, now))
            row_id = cur.lastrowid
            assert row_id is not None
            digits = str(row_id)
            client_id = CLIENT_ID_PREFIX + self.instance_id[:max(1, id_length - len(CLIENT_ID_PREFIX) - len(digits))] + digits
            db.execute("UPDATE withdrawals SET client_id = ? WHERE id = ?", (client_id, row_id))
            row = db.execute("SELECT * FROM withdrawals WHERE id = ?", (row_id,)).fetchone()
        return _withdrawal(row)

    def record_accepted(self, client_id: str, venue_id: str, venue_status: str | None) -> Withdrawal:
        return self._update(client_id, WithdrawalStatus.ACCEPTED, venue_id=venue_id, venue_status=venue_status)

    def record_refused(self, client_id: str, reason: str) -> Withdrawal:
        return self._update(client_id, WithdrawalStatus.REFUSED, reason=reason[:300])

    def _update(self, client_id: str, status: WithdrawalStatus, *, venue_id: str | None = None,
                venue_status: str | None = None, reason: str = "") -> Withdrawal:
        with self._write() as db:
            db.execute("UPDATE withdrawals SET status = ?, venue_id = COALESCE(?, venue_id), "
                       "venue_status = COALESCE(?, venue_status), reason = ?, updated_at = ? WHERE client_id = ?",
                       (status.value, venue_id, venue_status, reason, time.time(), client_id))
            row = db.execute("SELECT * FROM withdrawals WHERE client_id = ?", (client_id,)).fetchone()
        if row is None:
            raise CrossbookError(f"no journaled withdrawal with client id {client_id!r}")
        return _withdrawal(row)

    def withdrawal(self, client_id: str) -> Withdrawal | None:
        rows = self._query("SELECT * FROM withdrawals WHERE client_id = ?", (client_id,))
        return _withdrawal(rows[0]) if rows else None

    def withdrawals(self, venue: str | None = None, account: str | None = None) -> list[Withdrawal]:
        rows = self._query("SELECT * FROM withdrawals WHERE (? IS NULL OR venue = ?) AND (? IS NULL OR account = ?) "
                           "ORDER BY id", (venue, venue, account, account))
        return [_withdrawal(r) for r in rows]

    def in_flight(self, venue: str, account: str) -> list[Withdrawal]:
        return [w for w in self.withdrawals(venue, account) if w.status is WithdrawalStatus.SENT]

    def claimed_venue_ids(self, venue: str) -> set[str]:
        return {r["venue_id"] for r in self._query("SELECT venue_id FROM withdrawals WHERE venue = ? AND venue_id IS NOT NULL",
                                                   (venue,))}

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class Withdrawer:
    """Withdrawals from one venue account: checked against the venue, journaled, sent once."""

    def __init__(self, account: VenueAccount, journal: WithdrawalJournal) -> None:
        self.account = account
        self.venue = account.venue
        self.journal = journal
        rules = spec(self.venue).withdrawals
        if rules is None:
            raise UnsupportedFeature(f"{self.venue}: crossbook does not withdraw there")
        self.rules: WithdrawalRules = rules

    @property
    def client(self) -> Any:
        return self.account.client

    async def venue_addresses(self) -> list[VenueAddress] | None:
        """The venue's own withdrawal whitelist; None where its API exposes none."""
        if self.rules.address_book is None:
            return None
        result: list[VenueAddress] = await self._call("its withdrawal address list", self.rules.address_book(self.client))
        return result

    async def limits(self, asset: str, network: str | None) -> WithdrawalLimits:
        if self.rules.limits is not None:
            result: WithdrawalLimits = await self._call("its withdrawal fees", self.rules.limits(self.client, asset, network))
            return result
        fees = await self._call("its withdrawal fees", self._fees(asset))
        entry = fees.get(asset) or {}
        withdraw = ((entry.get("networks") or {}).get(network) or {}).get("withdraw") if network else None
        fee = _dec((withdraw or entry.get("withdraw") or {}).get("fee"))
        currency = (self.client.currencies or {}).get(asset) or {}
        on_network = ((currency.get("networks") or {}).get(network) or {}) if network else {}
        minimum = _withdraw_min(on_network) or _withdraw_min(currency)
        return WithdrawalLimits(asset, network, fee, minimum, currency.get("withdraw") is not False)

    async def _fees(self, asset: str) -> Any:
        """ccxt's withdrawal fees of ``asset``. A rate-limit refusal (another process on the same IP
        spent the budget, as a restart after a crash does) is retried: the limiter holds the retry
        for as long as the venue asked."""
        for _ in range(2 if self.account.limiter is not None else 0):
            with suppress(ccxt.RateLimitExceeded, ccxt.DDoSProtection):
                return await self.client.fetch_deposit_withdraw_fees([asset])
        return await self.client.fetch_deposit_withdraw_fees([asset])

    def check_limits(self, request: WithdrawalRequest, limits: WithdrawalLimits) -> None:
        where = f"{request.asset}" + (f" on {request.network}" if request.network else "")
        if not limits.enabled:
            raise InvalidOrder(f"{self.venue}: withdrawals of {where} are disabled at the venue; nothing was sent")
        if limits.minimum is not None and request.amount < limits.minimum:
            raise InvalidOrder(f"{self.venue}: {request.amount} {request.asset} is below the venue's withdrawal minimum "
                               f"{limits.minimum} for {where}; nothing was sent")
        if limits.fee is not None and not self.rules.fee_on_top and request.amount <= limits.fee:
            raise InvalidOrder(f"{self.venue}: {request.amount} {request.asset} does not cover the venue's withdrawal fee "
                               f"{limits.fee} for {where}; nothing was sent")

    async def withdraw(self, request: WithdrawalRequest, limits: WithdrawalLimits) -> Withdrawal:
        """Journal, then send ``request`` (already checked: ``check_limits``, the whitelists)."""
        if not request.amount.is_finite() or request.amount <= 0:
            raise InvalidOrder(f"{self.venue}: withdrawal amount {request.amount} must be a positive number")
        await self.reconcile()  # an earlier withdrawal left in flight is settled before another is sent
        params = self.destination_params(request)
        journaled = self.journal.record_sending(request, limits.fee, self.rules.client_id_length)
        if self.rules.client_id_param is not None:
            params[self.rules.client_id_param] = journaled.client_id
        try:
            reply = await self.client.withdraw(request.asset, float(request.amount), request.address, params)
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable):
            found = await self._settle(journaled)
            if found.status is WithdrawalStatus.ACCEPTED:
                return found
            raise VenueUnavailable(f"{self.venue}: no answer to withdrawal {journaled.client_id}; "
                                   "the journal will look it up at the venue before anything is sent again") from None
        except ccxt.BaseError as exc:
            self.journal.record_refused(journaled.client_id, type(exc).__name__)
            raise _refusal(self.venue, exc) from None
        return self.journal.record_accepted(journaled.client_id, str(reply.get("id")), reply.get("status"))

    def destination_params(self, request: WithdrawalRequest) -> dict[str, Any]:
        """The network and memo, or the name of the venue's own entry for the address where the
        venue withdraws by name (refused here, before anything is journaled or sent, without one)."""
        if self.rules.address_param is not None:
            if request.venue_name is None:
                raise NotWhitelisted(f"{self.venue}: withdraws only to an address set up there by name, and "
                                     f"{request.address!r} has none: add it there first; nothing was sent")
            return {self.rules.address_param: request.venue_name}
        params: dict[str, Any] = {}
        if request.network:
            params["network"] = request.network
        if request.memo:
            params["tag"] = request.memo
        return params

    async def reconcile(self) -> list[Withdrawal]:
        """Settle every withdrawal of this account the journal has in flight (see the module)."""
        return [await self._settle(w) for w in self.journal.in_flight(self.venue, self.account.account)]

    async def _settle(self, journaled: Withdrawal) -> Withdrawal:
        since = int(journaled.created_at * 1000) - LOOKBACK_MS
        remote = await self._call("its withdrawal history", self.client.fetch_withdrawals(journaled.asset, since))
        match = self._find(journaled, remote)
        if match is None:
            return self.journal.record_refused(journaled.client_id, "not at the venue after the send was interrupted")
        return self.journal.record_accepted(journaled.client_id, str(match.get("id")), match.get("status"))

    def _find(self, journaled: Withdrawal, remote: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        param = self.rules.client_id_param
        if param is not None:
            return next((w for w in remote if str((w.get("info") or {}).get(param, "")) == journaled.client_id), None)
        claimed = self.journal.claimed_venue_ids(self.venue)
        earliest = journaled.created_at * 1000 - LOOKBACK_MS
        for w in remote:
            if str(w.get("id")) in claimed or (w.get("address") or w.get("addressTo")) != journaled.address:
                continue
            if _dec(w.get("amount")) == journaled.amount and (w.get("timestamp") or 0) >= earliest:
                return w
        return None

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except CrossbookError:
            raise
        except ccxt.BaseError as exc:
            raise _refusal(self.venue, exc, what) from None


def _withdraw_min(currency: Mapping[str, Any]) -> Decimal | None:
    """The withdrawal minimum a ccxt currency (or one of its networks) says; None: not said."""
    return _dec(((currency.get("limits") or {}).get("withdraw") or {}).get("min"))


def _refusal(venue: str, exc: ccxt.BaseError, what: str = "the withdrawal") -> CrossbookError:
    """A ccxt error as crossbook's: its type and no more (the text may quote a signed request)."""
    if isinstance(exc, (ccxt.NetworkError, ccxt.ExchangeNotAvailable)):
        return VenueUnavailable(f"{venue}: no answer for {what} ({type(exc).__name__})")
    if isinstance(exc, ccxt.InsufficientFunds):
        return InvalidOrder(f"{venue} refused {what}: insufficient funds")
    return VenueRefused(f"{venue} refused {what}: {type(exc).__name__}")
