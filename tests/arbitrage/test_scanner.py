from __future__ import annotations

import asyncio

import pytest

from crossbook.arbitrage.scanner import Event, Scanner
from crossbook.model import BookState

from .books import NOW, consolidated


def dislocated_books() -> dict:
    return {"BTC-USDT": consolidated("BTC-USDT", {
        "a": ([(99.0, 1.0)], [(100.0, 1.0)], 0.001),
        "b": ([(99.5, 1.0)], [(100.5, 1.0)], 0.001),
        "c": ([(101.0, 2.0)], [(102.0, 1.0)], 0.001),
    })}


def test_an_opportunity_opens_once_and_closes_with_its_duration() -> None:
    books = dislocated_books()
    scanner = Scanner(books, kinds=["cross_venue"])
    opened = scanner.scan(NOW)
    assert [(e.kind, e.opportunity.legs[0].venue, e.opportunity.legs[1].venue) for e in opened] == [("open", "a", "c"), ("open", "b", "c")]
    assert all(e.opportunity.opened_at == NOW and e.opportunity.closed_at is None for e in opened)
    assert scanner.scan(NOW + 1.0) == []  # still open: nothing new
    books["BTC-USDT"].books["c"].update([(101.0, 0.0), (100.2, 1.0)], [])  # c's bid falls below a's and b's fees
    books["BTC-USDT"].books["c"].updated_at = NOW + 2.5
    closed = scanner.scan(NOW + 2.5)
    assert {e.kind for e in closed} == {"close"} and len(closed) == 2
    for event in closed:
        assert event.opportunity.opened_at == NOW and event.opportunity.closed_at == NOW + 2.5
        assert event.duration == pytest.approx(2.5)
        assert event.opportunity.net_profit > 0 and event.opportunity.size > 0  # its last values
        assert event.as_json()["event"] == "close" and event.as_json()["duration"] == pytest.approx(2.5)
    assert scanner.open == {}


def test_a_live_book_that_turns_stale_is_not_used() -> None:
    books = dislocated_books()
    scanner = Scanner(books, kinds=["cross_venue"])
    assert len(scanner.scan(NOW)) == 2
    for venue in ("a", "b"):
        books["BTC-USDT"].books[venue].updated_at = NOW + 4.0  # a and b keep talking, c falls silent
    assert books["BTC-USDT"].books["c"].status(NOW + 6.0) is BookState.STALE
    closed = scanner.scan(NOW + 6.0)
    assert [e.kind for e in closed] == ["close", "close"]
    assert scanner.find(NOW + 6.0) == []


def test_a_resyncing_book_is_not_used() -> None:
    books = dislocated_books()
    books["BTC-USDT"].books["c"].state = BookState.RESYNCING
    assert Scanner(books).scan(NOW) == []


def test_min_bps_filters_and_unknown_kinds_are_refused() -> None:
    from crossbook.errors import ConfigError

    assert Scanner(dislocated_books(), min_bps=500.0).scan(NOW) == []
    with pytest.raises(ConfigError, match="unknown opportunity kinds"):
        Scanner(dislocated_books(), kinds=["cross_venue", "carry"])


def test_run_reports_events_to_an_async_callback_and_stops_in_time() -> None:
    books = dislocated_books()
    for c in books.values():
        for book in c.books.values():
            book.stale_after = 1e9
    seen: list[Event] = []

    async def on_event(event: Event) -> None:
        seen.append(event)

    async def body() -> list[Event]:
        scanner = Scanner(books, kinds=["cross_venue"])
        return await scanner.run(0.3, on_event, poll=0.01)

    events = asyncio.run(asyncio.wait_for(body(), 10))
    assert events == seen and [e.kind for e in events] == ["open", "open"]
