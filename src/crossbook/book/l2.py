"""L2Book: one venue's price-level book for one instrument. The hot path.

Each side is a dict price -> size plus a sorted list of keys with the best level last, so an
update that changes the size of an existing level costs one dict store, and inserting or removing
a level is a C-level bisect and a short memmove near the list's end. Ask keys are negated prices,
so both lists ascend towards their best level.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import BookState, Side

Level = tuple[float, float]
RawLevel = Sequence  # [price, size, ...] as the venue sent them (strings or numbers)


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
        "venue",
        "symbol",
        "bids",
        "asks",
        "_bk",
        "_ak",
        "strings",
        "state",
        "seq",
        "updated_at",
        "stale_after",
        "link",
        "stats",
    )

    def __init__(
        self,
        venue: str,
        symbol: str,
        *,
        keep_strings: bool = False,
        stale_after: float = 60.0,
        link: Link | None = None,
    ) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bk: list[float] = []
        self._ak: list[float] = []
        # price -> (price string, size string) as the venue sent them, for checksums
        self.strings: tuple[dict[float, tuple[str, str]], dict[float, tuple[str, str]]] | None = (
            ({}, {}) if keep_strings else None
        )
        self.state = BookState.SYNCING
        self.seq: int | None = None
        self.updated_at = 0.0
        self.stale_after = stale_after
        self.link = link
        self.stats = BookStats()

    # ----------------------------------------------------------------- writing (hot path)

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self._bk.clear()
        self._ak.clear()
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
        sizes = self.bids
        keys = self._bk
        for lv in bids:
            p = float(lv[0])
            q = float(lv[1])
            if q > 0.0:
                if p not in sizes:
                    insort(keys, p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                del keys[bisect_left(keys, p)]
        sizes = self.asks
        keys = self._ak
        for lv in asks:
            p = float(lv[0])
            q = float(lv[1])
            if q > 0.0:
                if p not in sizes:
                    insort(keys, -p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                del keys[bisect_left(keys, -p)]

    def update_floats(self, bids: Iterable[Sequence[float]], asks: Iterable[Sequence[float]]) -> None:
        """``update`` for levels already parsed to floats (the fast decoders of venue modules)."""
        sizes = self.bids
        keys = self._bk
        for p, q in bids:
            if q > 0.0:
                if p not in sizes:
                    insort(keys, p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                del keys[bisect_left(keys, p)]
        sizes = self.asks
        keys = self._ak
        for p, q in asks:
            if q > 0.0:
                if p not in sizes:
                    insort(keys, -p)
                sizes[p] = q
            elif p in sizes:
                del sizes[p]
                del keys[bisect_left(keys, -p)]

    def _update_keeping_strings(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]) -> None:
        assert self.strings is not None
        for levels, sizes, keys, strings, sign in (
            (bids, self.bids, self._bk, self.strings[0], 1.0),
            (asks, self.asks, self._ak, self.strings[1], -1.0),
        ):
            for lv in levels:
                ps = lv[0]
                qs = lv[1]
                p = float(ps)
                q = float(qs)
                if q > 0.0:
                    if p not in sizes:
                        insort(keys, sign * p)
                    sizes[p] = q
                    strings[p] = (ps, qs)
                elif p in sizes:
                    del sizes[p]
                    del strings[p]
                    del keys[bisect_left(keys, sign * p)]

    def remove(self, side: Side, price: float) -> None:
        """Delete one level (used by venues that resolve crossed books by dropping levels)."""
        if side is Side.BUY:
            sizes, keys, key = self.bids, self._bk, price
        else:
            sizes, keys, key = self.asks, self._ak, -price
        if price in sizes:
            del sizes[price]
            del keys[bisect_left(keys, key)]
            if self.strings is not None:
                self.strings[0 if side is Side.BUY else 1].pop(price, None)

    def truncate(self, depth: int) -> None:
        """Keep only the best ``depth`` levels per side (venues that send no delete for levels
        that fall out of the subscribed depth)."""
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
        if not self._bk:
            return None
        p = self._bk[-1]
        return p, self.bids[p]

    def best_ask(self) -> Level | None:
        if not self._ak:
            return None
        p = -self._ak[-1]
        return p, self.asks[p]

    def crossed(self) -> bool:
        return bool(self._bk and self._ak and self._bk[-1] >= -self._ak[-1])

    def mid(self) -> float | None:
        if not (self._bk and self._ak):
            return None
        return (self._bk[-1] - self._ak[-1]) / 2.0

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """Best ``n`` levels per side, best first."""
        bids, asks = self.bids, self.asks
        top_b = self._bk[-1 : -n - 1 : -1] if n > 0 else []
        top_a = self._ak[-1 : -n - 1 : -1] if n > 0 else []
        return [(p, bids[p]) for p in top_b], [(-k, asks[-k]) for k in top_a]

    def levels(self, side: Side) -> int:
        return len(self._bk if side is Side.BUY else self._ak)

    def top_strings(self, side: Side, n: int) -> list[tuple[str, str]]:
        """The venue's own strings for the best ``n`` levels of one side (for checksums)."""
        if self.strings is None:
            raise ValueError(f"{self.venue}:{self.symbol} was not built with keep_strings")
        if side is Side.BUY:
            return [self.strings[0][p] for p in self._bk[-1 : -n - 1 : -1]]
        return [self.strings[1][-k] for k in self._ak[-1 : -n - 1 : -1]]

    def sweep(self, side: Side, amount: float, contract_size: float = 1.0, inverse: bool = False) -> Sweep:
        """Walk the side an order of ``side`` takes from (a buy takes asks) for ``amount`` base
        units. Sizes in contracts convert with ``contract_size`` (quote units each if ``inverse``)."""
        if side is Side.BUY:
            keys, sizes, sign = self._ak, self.asks, -1.0
        else:
            keys, sizes, sign = self._bk, self.bids, 1.0
        left = amount
        cost = 0.0
        used = 0
        for i in range(len(keys) - 1, -1, -1):
            if left <= 0.0:
                break
            p = sign * keys[i]
            take = sizes[p] * contract_size
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
        venue's expected interval reads as STALE."""
        if self.state is not BookState.LIVE:
            return self.state
        if now is None:
            now = time.time()
        heard = self.updated_at
        if self.link is not None and self.link.last_rx > heard:
            heard = self.link.last_rx
        if now - heard > self.stale_after:
            return BookState.STALE
        return BookState.LIVE

    def is_live(self, now: float | None = None) -> bool:
        return self.status(now) is BookState.LIVE

    def __repr__(self) -> str:
        return (
            f"L2Book({self.venue}:{self.symbol} {self.state.value} "
            f"bid={self.best_bid()} ask={self.best_ask()} levels={len(self._bk)}/{len(self._ak)})"
        )
