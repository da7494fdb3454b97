"""TappedBook: an L2Book that remembers which levels changed since it was last drained, for a
feed process that publishes each book's changes (crossbook.bus). The plain L2Book's hot path is
untouched; this one costs a set insert per level written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..model import Side
from .l2 import L2Book, Level, RawLevel


class TappedBook(L2Book):
    __slots__ = ("on_dirty", "reset", "touched_asks", "touched_bids")

    def __init__(self, venue: str, symbol: str, **kwargs: object) -> None:
        super().__init__(venue, symbol, **kwargs)  # type: ignore[arg-type]
        self.touched_bids: set[float] = set()
        self.touched_asks: set[float] = set()
        self.reset = True  # cleared since the last drain: the next publication is a snapshot
        self.on_dirty: Callable[[TappedBook], None] | None = None  # told when a clean book first changes

    def _dirty(self) -> None:
        if self.on_dirty is not None and not (self.touched_bids or self.touched_asks or self.reset):
            self.on_dirty(self)

    def clear(self) -> None:
        self._dirty()
        super().clear()
        self.reset = True
        self.touched_bids.clear()
        self.touched_asks.clear()

    def update_floats(self, bids: Iterable[Sequence[float]], asks: Iterable[Sequence[float]]) -> None:
        bid_list = bids if isinstance(bids, list) else list(bids)
        ask_list = asks if isinstance(asks, list) else list(asks)
        if not self.reset and (bid_list or ask_list):
            self._dirty()
            self.touched_bids.update([lv[0] for lv in bid_list])
            self.touched_asks.update([lv[0] for lv in ask_list])
        super().update_floats(bid_list, ask_list)

    def _update_keeping_strings(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]) -> None:
        bid_list = bids if isinstance(bids, list) else list(bids)
        ask_list = asks if isinstance(asks, list) else list(asks)
        if not self.reset and (bid_list or ask_list):
            self._dirty()
            self.touched_bids.update([float(lv[0]) for lv in bid_list])
            self.touched_asks.update([float(lv[0]) for lv in ask_list])
        super()._update_keeping_strings(bid_list, ask_list)

    def remove(self, side: Side, price: float) -> None:
        if not self.reset:
            self._dirty()
            (self.touched_bids if side is Side.BUY else self.touched_asks).add(price)
        super().remove(side, price)

    def truncate(self, depth: int) -> None:
        if not self.reset:
            self._compact()
            dropped_bids = self._bk[: max(0, len(self._bk) - depth)]
            dropped_asks = [-k for k in self._ak[: max(0, len(self._ak) - depth)]]
            if dropped_bids or dropped_asks:
                self._dirty()
                self.touched_bids.update(dropped_bids)
                self.touched_asks.update(dropped_asks)
        super().truncate(depth)

    def drain(self) -> tuple[bool, list[Level], list[Level]]:
        """What changed since the last drain: (True, every level) after a clear, else (False, each
        touched level at its size now, 0.0 where it is gone); then the book is clean again."""
        if self.reset:
            self.reset = False
            self.touched_bids.clear()
            self.touched_asks.clear()
            return True, list(self.bids.items()), list(self.asks.items())
        bids, asks = self.bids, self.asks
        changed_bids = [(p, bids.get(p, 0.0)) for p in self.touched_bids]
        changed_asks = [(p, asks.get(p, 0.0)) for p in self.touched_asks]
        self.touched_bids.clear()
        self.touched_asks.clear()
        return False, changed_bids, changed_asks

    @property
    def dirty(self) -> bool:
        return self.reset or bool(self.touched_bids or self.touched_asks)
