"""L2Book: one venue's price-level book for one instrument. The hot path.

Each side is a dict price -> size plus a sorted list of keys with the best level last, so an
update that changes the size of an existing level costs one dict store and inserting a level is a
C-level bisect and a short memmove near the list's end. Ask keys are negated prices, so both lists
ascend towards their best level. Deletes are lazy: the dict entry goes, the key stays in the list
(remembered in a per-side set) until a reader passes it at the top or the set outgrows
GHOST_LIMIT; a level that comes back at the same price then costs no insert at all. Readers see
only the dicts' levels.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import neg

from ..model import BookState, Side

Level = tuple[float, float]
RawLevel = Sequence  # [price, size, ...] as the venue sent them (strings or numbers)
GHOST_LIMIT = 512  # deleted keys a side may carry before the sorted lists are compacted


class Link:
    """What a book knows of the connection that feeds it: when that connection last heard anything."""

    __slots__ = ("last_rx",)

    def __init__(self) -> None:
        self.last_rx = 0.0


@dataclass(slots=True)
class BookStats:
    updates: int = 0
    checksums_ok: int = 0
    checksums_failed: int = 0
    gaps: int = 0
    resyncs: int = 0
    malformed: int = 0  # frames of this book that could not be read
    fetch_failures: int = 0  # snapshot requests that failed (timeout, HTTP error, unreadable body)
    stuck: int = 0  # times it stayed syncing past its venue's bound and was given a fresh attempt
    silences: int = 0  # times its own updates stopped while its connection still heard others


@dataclass(frozen=True, slots=True)
class Sweep:
    """Result of walking one side of a book for an order of a given size."""

    filled: float
    cost: float
    levels: int

    @property
    def vwap(self) -> float | None:
        return self.cost / self.filled if self.filled else None


class L2Book:
    __slots__ = (
        "_ag",
        "_ak",
        "_bg",
        "_bk",
        "asks",
        "bids",
        "link",
        "seq",
        "silent_after",
        "stale_after",
        "state",
        "stats",
        "strings",
        "symbol",
        "updated_at",
        "venue",
    )

    def __init__(
        self,
        venue: str,
        symbol: str,
        *,
        keep_strings: bool = False,
        stale_after: float = 60.0,
        silent_after: float | None = None,
        link: Link | None = None,
    ) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bk: list[float] = []
        self._ak: list[float] = []
        # prices deleted from the dicts whose keys are still in _bk / _ak (see _compact)
        self._bg: set[float] = set()
        self._ag: set[float] = set()
        # price -> (price string, size string) as the venue sent them, for checksums
        self.strings: tuple[dict[float, tuple[str, str]], dict[float, tuple[str, str]]] | None = (
            ({}, {}) if keep_strings else None
        )
        self.state = BookState.SYNCING
        self.seq: int | None = None
        self.updated_at = 0.0
        self.stale_after = stale_after
        # a LIVE book whose own updates stopped this long before its connection last heard
        # anything reads STALE (None: the venue promises no traffic for a quiet book)
        self.silent_after = silent_after
        self.link = link
        self.stats = BookStats()

    # ----------------------------------------------------------------- writing (hot path)

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self._bk.clear()
        self._ak.clear()
        self._bg.clear()
        self._ag.clear()
        if self.strings is not None:
            self.strings[0].clear()
            self.strings[1].clear()

    def snapshot(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]) -> None:
        """Replace the whole book. Levels with size 0 are ignored."""
        self.clear()
        self.update(bids, asks)

    def update(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]) -> None:
        """Apply absolute sizes per level; size 0 deletes the level."""
        if self.strings is not None:
            self._update_keeping_strings(bids, asks)
            return
        self.update_floats([(float(lv[0]), float(lv[1])) for lv in bids], [(float(lv[0]), float(lv[1])) for lv in asks])

    def update_floats(self, bids: Iterable[Sequence[float]], asks: Iterable[Sequence[float]]) -> None:
        """``update`` for levels already parsed to floats (the fast decoders of venue modules)."""
        sizes = self.bids
        keys = self._bk
        ghosts = self._bg
        for p, q in bids:
            if q > 0.0:
                if p not in sizes:
                    if p in ghosts:
                        ghosts.discard(p)
                    else:
                        insort(keys, p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                ghosts.add(p)
        sizes = self.asks
        keys = self._ak
        ghosts = self._ag
        for p, q in asks:
            if q > 0.0:
                if p not in sizes:
                    if p in ghosts:
                        ghosts.discard(p)
                    else:
                        insort(keys, -p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                ghosts.add(p)
        if len(self._bg) > GHOST_LIMIT or len(self._ag) > GHOST_LIMIT:
            self._compact()

    def _update_keeping_strings(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]) -> None:
        assert self.strings is not None
        for levels, sizes, keys, ghosts, strings, sign in (
            (bids, self.bids, self._bk, self._bg, self.strings[0], 1.0),
            (asks, self.asks, self._ak, self._ag, self.strings[1], -1.0),
        ):
            for lv in levels:
                ps = lv[0]
                qs = lv[1]
                p = float(ps)
                q = float(qs)
                if q > 0.0:
                    if p not in sizes:
                        if p in ghosts:
                            ghosts.discard(p)
                        else:
                            insort(keys, sign * p)
                    sizes[p] = q
                    strings[p] = (ps, qs)
                elif p in sizes:
                    del sizes[p]
                    del strings[p]
                    ghosts.add(p)
        if len(self._bg) > GHOST_LIMIT or len(self._ag) > GHOST_LIMIT:
            self._compact()

    def _compact(self) -> None:
        """Drop the keys of deleted levels from the sorted lists (deletes are lazy: a deleted
        level's key stays until here, so a level that comes back costs no insert)."""
        bids, asks = self.bids, self.asks
        self._bk[:] = [k for k in self._bk if k in bids]
        self._ak[:] = [k for k in self._ak if -k in asks]
        self._bg.clear()
        self._ag.clear()

    def remove(self, side: Side, price: float) -> None:
        """Delete one level (used by venues that resolve crossed books by dropping levels)."""
        bid = side is Side.BUY
        sizes = self.bids if bid else self.asks
        if price in sizes:
            del sizes[price]
            (self._bg if bid else self._ag).add(price)
            if self.strings is not None:
                self.strings[0 if bid else 1].pop(price, None)

    def truncate(self, depth: int) -> None:
        """Keep only the best ``depth`` levels per side (venues that send no delete for levels
        that fall out of the subscribed depth)."""
        self._compact()
        for sizes, keys, sign, idx in ((self.bids, self._bk, 1.0, 0), (self.asks, self._ak, -1.0, 1)):
            extra = len(keys) - depth
            if extra > 0:
                for key in keys[:extra]:
                    p = sign * key
                    del sizes[p]
                    if self.strings is not None:
                        del self.strings[idx][p]
                del keys[:extra]

    # ----------------------------------------------------------------- reading

    def best_bid(self) -> Level | None:
        keys, sizes = self._bk, self.bids
        while keys:
            p = keys[-1]
            q = sizes.get(p)
            if q is not None:
                return p, q
            self._bg.discard(keys.pop())  # a deleted level's key surfaced: drop it now
        return None

    def best_ask(self) -> Level | None:
        keys, sizes = self._ak, self.asks
        while keys:
            p = -keys[-1]
            q = sizes.get(p)
            if q is not None:
                return p, q
            keys.pop()
            self._ag.discard(p)
        return None

    def crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def mid(self) -> float | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return (bid[0] + ask[0]) / 2.0

    def _walk(self, side: Side) -> Iterator[Level]:
        """Live levels of one book side (BUY = bids), best first."""
        if side is Side.BUY:
            sizes = self.bids
            for p in reversed(self._bk):
                q = sizes.get(p)
                if q is not None:
                    yield p, q
        else:
            sizes = self.asks
            for k in reversed(self._ak):
                q = sizes.get(-k)
                if q is not None:
                    yield -k, q

    def raw_side(self, side: Side) -> tuple[list[float], dict[float, float], float]:
        """One side's slot keys (best LAST), its price -> size dict and the sign that turns a key
        into its price, for a reader that walks a few levels from the best at the cost of a list
        index and a dict lookup each (the router's small-order path). A key whose price is not in
        the dict is a deleted level: skip it. Read only; valid until the book next changes."""
        if side is Side.BUY:
            return self._bk, self.bids, 1.0
        return self._ak, self.asks, -1.0

    def slots(self, side: Side) -> int:
        """Price slots of one side (BUY = bids): its live levels plus deleted ones whose keys are
        not compacted away yet (see ``slot_levels``)."""
        return len(self._bk if side is Side.BUY else self._ak)

    def slot_levels(self, side: Side, start: int, stop: int) -> tuple[list[float], list[float]]:
        """The live levels among slots ``[start, stop)`` of one side (BUY = bids) counted from the
        best, as (prices, sizes) best first: a reader takes a deep side in chunks this way without
        walking it whole. Deleted levels still holding a slot are left out."""
        keys = self._bk if side is Side.BUY else self._ak
        n = len(keys)
        window = keys[max(n - stop, 0) : max(n - start, 0)]
        window.reverse()
        if side is Side.BUY:
            prices = window
            sizes = list(map(self.bids.get, prices))
        else:
            prices = list(map(neg, window))
            sizes = list(map(self.asks.get, prices))
        live = list(filter(None, sizes))  # live sizes are > 0, deleted levels' None
        if len(live) < len(sizes):
            prices = list(compress(prices, sizes))
        return prices, live

    def slot_sizes(self, side: Side, start: int, stop: int) -> tuple[list[float], list[float]]:
        """Slots ``[start, stop)`` of one side (BUY = bids) counted from the best, as (prices,
        sizes) best first, a deleted level's size 0.0: ``slot_levels`` without the filtering, for
        readers that treat an empty slot as a level of no size."""
        keys = self._bk if side is Side.BUY else self._ak
        n = len(keys)
        window = keys[max(n - stop, 0) : max(n - start, 0)]
        window.reverse()
        if side is Side.BUY:
            return window, list(map(self.bids.get, window, repeat(0.0)))
        prices = list(map(neg, window))
        return prices, list(map(self.asks.get, prices, repeat(0.0)))

    def slots_within(self, side: Side, price: float) -> int:
        """The number of slots of one side (BUY = bids) from the best whose price is ``price`` or
        better (deleted levels still holding a slot included)."""
        if side is Side.BUY:
            keys = self._bk
            return len(keys) - bisect_left(keys, price)
        keys = self._ak
        return len(keys) - bisect_left(keys, -price)

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """Best ``n`` levels per side, best first."""
        return list(islice(self._walk(Side.BUY), max(n, 0))), list(islice(self._walk(Side.SELL), max(n, 0)))

    def levels(self, side: Side) -> int:
        return len(self.bids if side is Side.BUY else self.asks)

    def top_strings(self, side: Side, n: int) -> list[tuple[str, str]]:
        """The venue's own strings for the best ``n`` levels of one side (for checksums)."""
        if self.strings is None:
            raise ValueError(f"{self.venue}:{self.symbol} was not built with keep_strings")
        strings = self.strings[0 if side is Side.BUY else 1]
        return [strings[p] for p, _ in islice(self._walk(side), n)]

    def sweep(self, side: Side, amount: float, contract_size: float = 1.0, inverse: bool = False) -> Sweep:
        """Walk the side an order of ``side`` takes from (a buy takes asks) for ``amount`` base
        units. Sizes in contracts convert with ``contract_size`` (quote units each if ``inverse``)."""
        left = amount
        cost = 0.0
        used = 0
        for p, size in self._walk(Side.SELL if side is Side.BUY else Side.BUY):
            if left <= 0.0:
                break
            take = size * contract_size
            if inverse:
                take /= p
            if take > left:
                take = left
            cost += take * p
            left -= take
            used += 1
        return Sweep(amount - left if left > 0.0 else amount, cost, used)

    # ----------------------------------------------------------------- state

    def status(self, now: float | None = None) -> BookState:
        """The state a reader must respect: a LIVE book that has heard nothing for longer than the
        venue's expected interval, or whose own updates stopped for longer than the venue allows,
        reads as STALE."""
        if self.state is not BookState.LIVE:
            return self.state
        if now is None:
            now = time.time()
        if self.silent():
            return BookState.STALE
        heard = self.updated_at
        if self.link is not None and self.link.last_rx > heard:
            heard = self.link.last_rx
        if now - heard > self.stale_after:
            return BookState.STALE
        return BookState.LIVE

    def silent(self) -> bool:
        """Its connection heard something after the book's own updates had stopped for longer than
        the venue allows (see ``silent_after``). A wholly quiet connection is not this but STALE by
        ``stale_after``; a process too busy to read its sockets is neither."""
        return (
            self.silent_after is not None
            and self.link is not None
            and self.link.last_rx - self.updated_at > self.silent_after
        )

    def is_live(self, now: float | None = None) -> bool:
        return self.status(now) is BookState.LIVE

    def __repr__(self) -> str:
        return (
            f"L2Book({self.venue}:{self.symbol} {self.state.value} "
            f"bid={self.best_bid()} ask={self.best_ask()} levels={len(self._bk)}/{len(self._ak)})"
        )
