"""BookWatch: which books of one connection are due a fresh attempt.

A book may be SYNCING or RESYNCING at most its venue's ``resync_bound`` seconds; past that it is
due a fresh attempt (a new snapshot request or a resubscribe) and its waiting starts over, so a
book that keeps failing gets an attempt every bound and is counted each time. A LIVE book whose
own updates stopped for longer than its venue allows (``L2Book.silent_after``) while its connection
still hears the other books is due one too.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import Enum

from ..book.l2 import L2Book
from ..model import BookState


class Due(str, Enum):
    STUCK = "not live within its bound"
    SILENT = "its own updates stopped"


@dataclass
class BookWatch:
    bound: float
    since: dict[str, float] = field(default_factory=dict)  # native -> when its wait (re)started
    kicks: dict[str, int] = field(default_factory=dict)  # native -> fresh attempts since it was last LIVE

    def restart(self, natives: list[str], now: float) -> None:
        """A new connection is everyone's fresh attempt."""
        for native in natives:
            self.since[native] = now

    def check(self, books: Mapping[str, L2Book], now: float, waiting: Set[str] = frozenset()) -> list[tuple[str, Due]]:
        """The books due a fresh attempt now. ``waiting``: books whose first attempt has not even
        started (their subscribe waits for the venue's pace): their bound starts when it does."""
        due: list[tuple[str, Due]] = []
        for native, book in books.items():
            if native in waiting:
                self.since[native] = now
            elif book.state is BookState.LIVE:
                if book.silent():
                    self.since[native] = now
                    due.append((native, Due.SILENT))
                else:
                    self.since.pop(native, None)
                    self.kicks.pop(native, None)
                continue
            since = self.since.setdefault(native, now)
            if now - since >= self.bound:
                self.since[native] = now
                self.kicks[native] = self.kicks.get(native, 0) + 1
                due.append((native, Due.STUCK))
        return due
