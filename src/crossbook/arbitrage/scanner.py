"""The streaming scanner: runs every scanner over the consolidated books and reports each
opportunity once when it opens and once when it closes (net profit, size, duration).

Only books whose status is LIVE at the scan's time are read (ConsolidatedBook.live_books), so a
syncing, resyncing or stale book can neither open an opportunity nor keep one open. An opportunity
keeps its identity (``Opportunity.key``: kind and each leg's venue, symbol and side) while its
prices and size move; the close reports its last values.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..book.consolidated import ConsolidatedBook
from ..errors import ConfigError
from .basis import Funding, basis_all
from .cross_venue import Balances, Transfer, cross_venue
from .model import Fees, Opportunity, OpportunityKind, SizeCap
from .triangular import triangular_all

KINDS: tuple[OpportunityKind, ...] = ("cross_venue", "triangular", "basis")


@dataclass(frozen=True, slots=True)
class Event:
    """An opportunity opened or closed at ``at``."""

    kind: Literal["open", "close"]
    opportunity: Opportunity
    at: float

    @property
    def duration(self) -> float | None:
        return self.opportunity.duration

    def as_json(self) -> dict[str, Any]:
        return {"event": self.kind, "at": self.at, "duration": self.duration, **self.opportunity.as_json()}


OnEvent = Callable[[Event], Awaitable[None] | None]


class OpportunityLog:
    """Every opportunity a scan saw, as ``--json`` entries in the order they opened; a close
    updates its open entry with the last values (keys added to an entry, such as ``executed``,
    stay)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._open: dict[tuple[object, ...], dict[str, Any]] = {}

    def record(self, event: Event) -> dict[str, Any]:
        """The entry ``event`` opened or closed."""
        opp = event.opportunity
        if event.kind == "open":
            entry = opp.as_json()
            self._open[opp.key] = entry
            self.entries.append(entry)
            return entry
        entry = self._open.pop(opp.key)
        entry.update(opp.as_json())
        return entry


class Scanner:
    def __init__(
        self,
        books: Mapping[str, ConsolidatedBook],
        *,
        kinds: Iterable[str] = KINDS,
        fees: Fees | None = None,
        balances: Balances | None = None,
        transfer: Transfer | None = None,
        funding: Funding | None = None,
        min_bps: float = 0.0,
        max_notional: float | None = None,
        fixed_costs: Mapping[str, float] | None = None,
    ) -> None:
        """``fees``: venue -> taker rate, or a (venue, symbol) -> rate function (default: each
        book's own); ``balances``: venue -> asset -> available (a DEX venue's: its wallet's);
        ``max_notional``: the most one opportunity spends, in its quote currency (default:
        DEFAULT_MAX_NOTIONAL when no balances are given, else none); ``transfer``: report
        cross-venue transfer costs; ``funding``: (venue, perpetual) -> funding rate; ``min_bps``:
        ignore opportunities earning no more than this; ``fixed_costs``: venue -> cost per order
        in the quote currency of the symbol it trades (a DEX venue's swap gas), read at every scan,
        so its owner may update it as gas moves."""
        self.books = books
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ConfigError(f"unknown opportunity kinds {', '.join(sorted(unknown))}; known: {', '.join(KINDS)}")
        self.fees = fees
        self.balances = balances
        self.cap = SizeCap.of(balances, max_notional)
        self.transfer = transfer
        self.funding = funding
        self.min_bps = min_bps
        self.fixed_costs = fixed_costs if fixed_costs is not None else {}
        self.open: dict[tuple[object, ...], Opportunity] = {}
        self.scans = 0

    def find(self, now: float) -> list[Opportunity]:
        """Every opportunity in the live books at ``now`` (no open/close bookkeeping)."""
        found: list[Opportunity] = []
        if "cross_venue" in self.kinds:
            for book in self.books.values():
                found += cross_venue(book, now, fees=self.fees, transfer=self.transfer, cap=self.cap,
                                     fixed_costs=self.fixed_costs)
        if "triangular" in self.kinds:
            # a venue with a cost per order (a swap's gas, in each leg's own currency) forms no triangle
            found += triangular_all(self.books, now, fees=self.fees, cap=self.cap, skip=frozenset(self.fixed_costs))
        if "basis" in self.kinds:
            found += basis_all(self.books, now, fees=self.fees, funding=self.funding, max_notional=self.cap.max_notional,
                               fixed_costs=self.fixed_costs)
        return [o for o in found if o.net_bps > self.min_bps]

    def scan(self, now: float | None = None) -> list[Event]:
        """Opens for opportunities new since the last scan, closes for those gone."""
        now = time.time() if now is None else now
        self.scans += 1
        current = {o.key: o for o in self.find(now)}
        events = []
        for key, opp in current.items():
            before = self.open.get(key)
            self.open[key] = opp.seen(now if before is None else before.opened_at)
            if before is None:
                events.append(Event("open", self.open[key], now))
        for key in [k for k in self.open if k not in current]:
            last = self.open.pop(key)
            events.append(Event("close", last.seen(last.opened_at, now), now))
        return events

    def close_all(self, now: float | None = None) -> list[Event]:
        """Close every open opportunity (the scanner stops watching)."""
        now = time.time() if now is None else now
        events = [Event("close", o.seen(o.opened_at, now), now) for o in self.open.values()]
        self.open.clear()
        return events

    def _fingerprint(self) -> tuple[object, ...]:
        """Changes whenever any book applies an update, resyncs or changes state."""
        return tuple(
            (b.stats.updates, b.stats.resyncs, b.updated_at, b.state) for c in self.books.values() for b in c.books.values()
        )

    async def run(self, seconds: float, on_event: OnEvent | None = None, *, poll: float = 0.02, idle: float = 0.25) -> list[Event]:
        """Scan for ``seconds``: after any book update (checked every ``poll`` seconds) and at
        least every ``idle`` seconds (a book can turn stale with no update). Returns every event,
        ``on_event`` (sync or async) having seen each as it happened. Opportunities still open at
        the end stay open."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        events: list[Event] = []
        seen: tuple[object, ...] | None = None
        last_scan = -float("inf")
        while loop.time() < deadline:
            fingerprint = self._fingerprint()
            if fingerprint != seen or loop.time() - last_scan >= idle:
                seen, last_scan = fingerprint, loop.time()
                for event in self.scan():
                    events.append(event)
                    if on_event is not None:
                        result = on_event(event)
                        if inspect.isawaitable(result):
                            await result
            await asyncio.sleep(min(poll, max(0.0, deadline - loop.time())))
        return events
