"""Replay captures through the product's real feed handlers.

Each recorded connection gets its own handler (as a live connection does), chosen from the URL
(or forced with ``venue``); recorded REST snapshots go to the handler that holds that book.
Nothing is requested during replay: a resync waits for a later snapshot in the capture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..book.l2 import L2Book
from ..errors import UnknownVenue
from ..feeds.capture import CaptureEvent, merge_captures
from ..feeds.handler import FeedHandler, MarketSink
from ..model import BookState
from ..venues.registry import feed_class, feed_for_url


@dataclass
class Replay:
    venue: str | None = None  # feed id that overrides URL inference
    on_market: MarketSink | None = None  # every candle, ticker, mark, funding, ... the frames carry
    handlers: dict[str, FeedHandler] = field(default_factory=dict)  # connection -> handler
    unknown_urls: set[str] = field(default_factory=set)
    _idle: dict[type[FeedHandler], FeedHandler] = field(default_factory=dict)  # snapshot seen, no socket yet

    def run(self, paths: Iterable[str | Path]) -> Replay:
        for event in merge_captures(paths):
            self.feed(event)
        return self

    def feed(self, ev: CaptureEvent) -> None:
        if ev.kind == "sent":
            return
        if ev.kind == "http":
            self._snapshot(ev)
            return
        handler = self.handlers.get(ev.conn)
        if handler is None:
            cls = self._class_for(ev.url, ev.feed)
            if cls is None:
                return
            handler = self._idle.pop(cls, None) or self._handler(cls)
            self.handlers[ev.conn] = handler
        if ev.kind == "recv":
            # the one guard a live socket has too: an unreadable frame is counted and resyncs its
            # books, which then wait for a later snapshot in the capture
            handler.receive(ev.data, ev.ts)

    @property
    def frame_errors(self) -> int:
        """Recorded frames the handlers could not read."""
        return sum(h.malformed for h in [*self.handlers.values(), *self._idle.values()])

    def _handler(self, cls: type[FeedHandler]) -> FeedHandler:
        """A replay handler: books made on sight; a candle gap is counted, not fetched (nothing is
        requested during replay)."""
        return cls(auto_books=True, on_market=self.on_market)

    def _class_for(self, url: str, feed: str | None) -> type[FeedHandler] | None:
        if self.venue or feed:
            return feed_class(self.venue or feed)  # type: ignore[arg-type]
        cls = feed_for_url(url)
        if cls is None:
            self.unknown_urls.add(url)
        return cls

    def _snapshot(self, ev: CaptureEvent) -> None:
        cls = self._class_for(ev.url, ev.feed)
        if cls is None:
            return
        probe = next((h for h in reversed(self.handlers.values()) if type(h) is cls), None)
        native = (probe or self._handler(cls)).snapshot_native(ev.url)
        if native is None:
            return
        holder = next(
            (h for h in reversed(self.handlers.values()) if type(h) is cls and native in h.books),
            probe,
        )
        if holder is None:
            holder = self._idle.setdefault(cls, self._handler(cls))
        holder.on_snapshot(native, ev.data, ev.ts)

    # ---- report ---------------------------------------------------------------------------

    def books(self) -> dict[str, tuple[L2Book, list[L2Book]]]:
        """``venue:native`` -> (latest book, every book that carried it across connections)."""
        out: dict[str, tuple[L2Book, list[L2Book]]] = {}
        for handler in [*self.handlers.values(), *self._idle.values()]:
            for native, book in handler.books.items():
                key = f"{handler.venue}:{native}"
                history = out[key][1] if key in out else []
                history.append(book)
                out[key] = (book, history)
        return out

    def report(self) -> dict[str, Any]:
        books: dict[str, Any] = {}
        totals = {"messages": 0, "books": 0, "checksums_ok": 0, "checksums_failed": 0, "gaps": 0, "resyncs": 0}
        for handler in [*self.handlers.values(), *self._idle.values()]:
            totals["messages"] += handler.messages
        for key, (book, history) in sorted(self.books().items()):
            stats = {
                name: sum(getattr(b.stats, name) for b in history)
                for name in ("updates", "checksums_ok", "checksums_failed", "gaps", "resyncs")
            }
            bid, ask = book.best_bid(), book.best_ask()
            books[key] = {
                "synced": book.state is BookState.LIVE,
                "updates": stats["updates"],
                "checksums_ok": stats["checksums_ok"],
                "checksums_failed": stats["checksums_failed"],
                "gaps": stats["gaps"],
                "best_bid": list(bid) if bid else None,
                "best_ask": list(ask) if ask else None,
            }
            totals["books"] += 1
            for name in ("checksums_ok", "checksums_failed", "gaps", "resyncs"):
                totals[name] += stats[name]
        market: dict[str, int] = {}
        for handler in [*self.handlers.values(), *self._idle.values()]:
            for name, count in handler.market_stats.events.items():
                market[name] = market.get(name, 0) + count
            market["candle_gaps"] = market.get("candle_gaps", 0) + handler.market_stats.candle_gaps
        # events by type (Candle, Ticker, MarkPrice, ...) and the gaps found in candle streams
        return {"totals": totals, "books": books, "market": dict(sorted(market.items()))}

    def failed(self) -> bool:
        totals = self.report()["totals"]
        return bool(totals["checksums_failed"] or totals["gaps"])


def replay_files(paths: list[str | Path], venue: str | None = None) -> Replay:
    if venue is not None:
        feed_class(venue)  # fail early, naming the known venues
    replay = Replay(venue=venue).run(paths)
    if not replay.handlers and not replay._idle:
        raise UnknownVenue(
            "no recorded connection matched a known venue"
            + (f" (URLs seen: {', '.join(sorted(replay.unknown_urls))})" if replay.unknown_urls else "")
            + "; pass --venue"
        )
    return replay
