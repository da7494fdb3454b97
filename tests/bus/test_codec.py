"""The bus's wire format and TappedBook: what a consumer rebuilds from the frames is the
publisher's book, level for level, over every recorded capture the feed handlers sync."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from crossbook.book.l2 import L2Book
from crossbook.book.tapped import TappedBook
from crossbook.bus.codec import (
    EVENT_KINDS,
    HEADER,
    BookFrame,
    FrameKind,
    decode_book,
    decode_event,
    encode_book,
    encode_event,
    encode_state,
)
from crossbook.bus.publisher import instruments_from_json, instruments_to_json
from crossbook.bus.subjects import MARKET_KINDS
from crossbook.feeds.capture import merge_captures
from crossbook.feeds.handler import FeedHandler
from crossbook.market.replay import Replay
from crossbook.model import (
    BookState,
    Candle,
    FundingRate,
    IndexPrice,
    Instrument,
    Interval,
    Kind,
    Liquidation,
    MarkPrice,
    OpenInterest,
    OptionMark,
    OptionRight,
    Side,
    Ticker,
    Trade,
)

from ..conftest import CAPTURES

# ---- book frames ---------------------------------------------------------------------------------


def test_a_delta_round_trips_bit_for_bit() -> None:
    bids = [(100.1, 2.5), (99.9, 0.0), (0.1 + 0.2, 1e-9)]
    asks = [(100.2, 3.0)]
    data = encode_book(FrameKind.DELTA, BookState.LIVE, 42, 1700000000.123456, bids, asks)
    assert len(data) == HEADER.size + 16 * 4
    frame = decode_book(data)
    assert frame == BookFrame(FrameKind.DELTA, BookState.LIVE, 42, 1700000000.123456, bids, asks)


def test_a_snapshot_and_a_state_round_trip_with_every_state() -> None:
    for state in BookState:
        snap = decode_book(encode_book(FrameKind.SNAPSHOT, state, 2**40, 5.0, [(1.0, 2.0)], []))
        assert (snap.kind, snap.state, snap.seq, snap.bids, snap.asks) == (FrameKind.SNAPSHOT, state, 2**40, [(1.0, 2.0)], [])
        st = decode_book(encode_state(state, 7, 6.0))
        assert (st.kind, st.state, st.seq, st.ts, st.bids, st.asks) == (FrameKind.STATE, state, 7, 6.0, [], [])


@pytest.mark.parametrize(("data", "named"), [
    (b"", "shorter than its"),
    (b"\x01" * 10, "shorter than its"),
    (HEADER.pack(1, 1, 1, 0.0, 1, 0), "carries 0 bytes"),
    (HEADER.pack(1, 1, 1, 0.0, 0, 0) + b"\x00" * 8, "carries 8 bytes"),
    (HEADER.pack(9, 1, 1, 0.0, 0, 0), "unknown kind 9"),
    (HEADER.pack(1, 77, 1, 0.0, 0, 0), "state 77"),
])
def test_bad_book_bytes_are_refused_naming_what_is_wrong(data: bytes, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        decode_book(data)


# ---- events --------------------------------------------------------------------------------------

EVENTS: list[Any] = [
    Trade("binance", "BTC-USDT", 65000.5, 0.25, Side.SELL, 1700000000.5, "123"),
    Candle("okx", "BTC-USDT", Interval("1m"), open_time=1700000000.0, open=1.0, high=2.0, low=0.5, close=1.5,
           volume=10.0, quote_volume=None, closed=False),
    Ticker("bybit", "BTC-USDT-PERP", ts=1700000000.0, open=64000.0, high=66000.0, low=None, last=65000.5, volume=123.0,
           quote_volume=8e6, bid=65000.0, ask=65001.0),
    FundingRate("binanceusdm", "BTC-USDT-PERP", ts=1700000000.0, rate=0.0001, next_time=1700003600.0, predicted=-1e-5),
    MarkPrice("binanceusdm", "BTC-USDT-PERP", ts=1700000000.0, price=65000.1),
    IndexPrice("binanceusdm", "BTC-USDT-PERP", ts=1700000000.0, price=65000.2),
    OpenInterest("okx", "BTC-USDT-PERP", ts=1700000000.0, amount=1234.5, value=8e7),
    Liquidation("bybit", "BTC-USDT-PERP", ts=1700000000.0, side=Side.BUY, price=64999.0, amount=0.5),
    OptionMark("okx", "BTC-USD-20250627-60000-C", ts=1700000000.0, mark=0.05, underlying=65000.0, iv=0.55, delta=0.5),
]


def test_every_event_type_is_covered_and_has_a_subject_kind() -> None:
    assert {type(e) for e in EVENTS} == {Trade, *EVENT_KINDS}
    assert set(EVENT_KINDS.values()) == set(MARKET_KINDS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_round_trip_with_their_enums(event: Any) -> None:
    back = decode_event(encode_event(event))
    assert back == event and type(back) is type(event)
    for name in ("side", "interval"):
        if hasattr(event, name):
            assert type(getattr(back, name)) is type(getattr(event, name))


@pytest.mark.parametrize(("data", "named"), [
    (b"[1, 2]", "JSON object"),
    (b'{"t": "Nope"}', "unknown market event type 'Nope'"),
    (b'{"price": 1}', "unknown market event type None"),
    (b'{"t": "Trade", "venue": "x"}', "Trade:"),
    (b'{"t": "Trade", "venue": "x", "symbol": "A-B", "price": 1, "amount": 1, "side": "up", "ts": 1}', "up"),
])
def test_bad_event_bytes_are_refused_naming_what_is_wrong(data: bytes, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        decode_event(data)


# ---- instruments ---------------------------------------------------------------------------------


def test_instruments_round_trip_through_the_bucket_encoding() -> None:
    listed = [
        Instrument("binance", "BTCUSDT", "BTC-USDT", "BTC", "USDT", tick=0.01, lot=1e-5),
        Instrument("okx", "BTC-USD-SWAP", "BTC-USD-PERP", "BTC", "USD", Kind.PERP, 0.1, 1.0, contract_size=100.0,
                   inverse=True, funding_hours=8.0),
        Instrument("okx", "BTC-USD-250627-60000-C", "BTC-USD-20250627-60000-C", "BTC", "USD", Kind.OPTION, 0.0005, 1.0,
                   expiry="2025-06-27", strike=60000.0, right=OptionRight.CALL, settle="BTC", premium_in_base=True),
    ]
    back = instruments_from_json(instruments_to_json(listed))
    assert back == listed
    assert back[1].kind is Kind.PERP and back[2].right is OptionRight.CALL


@pytest.mark.parametrize(("data", "named"), [
    (b"{", "not JSON"),
    (b"{}", "JSON list"),
    (b'[{"venue": "x", "colour": "red"}]', "instrument 0"),
    (b'[{"venue": "x", "native": "A", "symbol": "A-B", "base": "A", "quote": "B", "kind": "swap"}]', "instrument 0"),
])
def test_bad_instrument_bytes_are_refused_naming_what_is_wrong(data: bytes, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        instruments_from_json(data)


# ---- TappedBook ----------------------------------------------------------------------------------


def tapped() -> TappedBook:
    book = TappedBook("binance", "BTCUSDT")
    book.snapshot([["100", "1"], ["99", "2"], ["98", "3"]], [["101", "1"], ["102", "2"], ["103", "3"]])
    assert book.drain() == (True, [(100.0, 1.0), (99.0, 2.0), (98.0, 3.0)], [(101.0, 1.0), (102.0, 2.0), (103.0, 3.0)])
    return book


def test_a_new_book_starts_reset_and_a_drained_one_is_clean() -> None:
    assert TappedBook("x", "y").dirty
    book = tapped()
    assert not book.dirty and book.drain() == (False, [], [])


def test_drain_after_an_update_gives_exactly_the_changed_levels() -> None:
    book = tapped()
    book.update_floats([(100.0, 5.0), (97.0, 1.0), (99.0, 0.0)], [(104.0, 4.0)])
    reset, bids, asks = book.drain()
    assert not reset and sorted(bids) == [(97.0, 1.0), (99.0, 0.0), (100.0, 5.0)] and asks == [(104.0, 4.0)]
    book.update([["98", "7"]], [["101", "0"]])  # the string path too
    assert book.drain() == (False, [(98.0, 7.0)], [(101.0, 0.0)])
    keeping = TappedBook("okx", "BTC-USDT", keep_strings=True)  # a checksum venue's path
    keeping.update([["1.0", "2"]], [])
    keeping.drain()
    keeping.update([["1.0", "0"], ["0.5", "1"]], [])
    reset, bids, asks = keeping.drain()
    assert not reset and sorted(bids) == [(0.5, 1.0), (1.0, 0.0)] and asks == []


def test_a_level_changed_and_changed_back_is_sent_at_its_size_now() -> None:
    book = tapped()
    book.update_floats([(100.0, 7.0)], [])
    book.update_floats([(100.0, 1.0)], [])
    assert book.drain() == (False, [(100.0, 1.0)], [])


def test_drain_after_remove_and_truncate() -> None:
    book = tapped()
    book.remove(Side.BUY, 99.0)
    book.remove(Side.SELL, 103.0)
    assert book.drain() == (False, [(99.0, 0.0)], [(103.0, 0.0)])
    book.truncate(1)
    reset, bids, asks = book.drain()
    assert not reset and bids == [(98.0, 0.0)] and asks == [(102.0, 0.0)]
    assert book.bids == {100.0: 1.0} and book.asks == {101.0: 1.0}


def test_clear_makes_the_next_drain_a_snapshot() -> None:
    book = tapped()
    book.update_floats([(100.0, 9.0)], [])
    book.clear()
    book.update_floats([(50.0, 1.0)], [(60.0, 1.0)])
    assert book.drain() == (True, [(50.0, 1.0)], [(60.0, 1.0)])


def test_on_dirty_is_told_once_per_drain_and_on_the_first_clear() -> None:
    book = tapped()
    told: list[TappedBook] = []
    book.on_dirty = told.append
    book.update_floats([(100.0, 2.0)], [])
    book.update_floats([(99.0, 2.0)], [(101.0, 2.0)])
    assert told == [book]
    book.drain()
    book.clear()
    book.clear()
    book.update_floats([(1.0, 1.0)], [])
    assert told == [book, book]


# ---- the captures: a consumer's book equals the publisher's after every frame -------------------


class TappedReplay(Replay):
    def _handler(self, cls: type[FeedHandler]) -> FeedHandler:
        return cls(auto_books=True, book_class=TappedBook)


def apply(mirror: L2Book, frame: BookFrame) -> None:
    if frame.kind is FrameKind.SNAPSHOT:
        mirror.snapshot(frame.bids, frame.asks)
    elif frame.kind is FrameKind.DELTA:
        mirror.update_floats(frame.bids, frame.asks)


CAPTURE_SETS = {
    "binance": ["BINANCE.ws.1.0.gz", "BINANCE.http.0.0.gz"],
    "okx": ["OKX.ws.1.0.gz"],
    "bitget": ["BITGET.ws.1.0.gz"],
    "gate": ["GATEIO.ws.1.0.gz", "GATEIO.http.0.0.gz"],
    "kucoin": ["KUCOIN.ws.1.0.gz", "KUCOIN.http.0.0.gz"],
}
# the rest (Kraken v1, Coinbase Pro, Bybit and dYdX v3) are legacy protocols no handler syncs today
LEGACY = {"KRAKEN.ws.50.0.gz", "COINBASE.ws.28.0.gz", "BYBIT.ws.25.0.gz", "DYDX.ws.1.0.gz"}


def test_every_capture_is_replayed_here_or_known_legacy() -> None:
    named = {f for files in CAPTURE_SETS.values() for f in files} | LEGACY
    assert {p.name for p in Path(CAPTURES).glob("*.gz")} <= named


@pytest.mark.parametrize("venue", list(CAPTURE_SETS))
def test_frames_rebuild_the_tapped_book_after_every_recorded_frame(venue: str) -> None:
    """Replay a capture through the venue's real handler on TappedBooks; after every recorded
    event each LIVE book that changed is drained, its frame encoded, decoded and applied to a
    plain L2Book, which must then hold exactly the tapped book's levels."""
    replay = TappedReplay()
    mirrors: dict[int, L2Book] = {}
    published = {FrameKind.SNAPSHOT: 0, FrameKind.DELTA: 0}
    compared: set[int] = set()
    for event in merge_captures([CAPTURES / name for name in CAPTURE_SETS[venue]]):
        replay.feed(event)
        for book in live_tapped_books(replay):
            if not book.dirty:
                continue
            reset, bids, asks = book.drain()
            kind = FrameKind.SNAPSHOT if reset else FrameKind.DELTA
            frame = decode_book(encode_book(kind, BookState.LIVE, 1, book.updated_at, bids, asks))
            mirror = mirrors.setdefault(id(book), L2Book(book.venue, book.symbol))
            apply(mirror, frame)
            published[kind] += 1
            compared.add(id(book))
            assert mirror.best_bid() == book.best_bid() and mirror.best_ask() == book.best_ask(), book
            assert mirror.bids == book.bids and mirror.asks == book.asks, book
    assert compared, f"{venue}: no book went live"
    assert published[FrameKind.SNAPSHOT] >= len(compared) and published[FrameKind.DELTA] > 10, published


def live_tapped_books(replay: Replay) -> list[TappedBook]:
    books = [b for h in replay.handlers.values() for b in h.books.values()]
    assert all(isinstance(b, TappedBook) for b in books)
    return [b for b in books if isinstance(b, TappedBook) and b.state is BookState.LIVE]


def test_struct_header_is_the_documented_26_bytes() -> None:
    assert HEADER.size == 26 and struct.calcsize("<BBQdII") == 26


