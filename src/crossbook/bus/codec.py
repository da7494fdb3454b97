"""The bus's wire format.

A book frame is binary: a 26-byte little-endian header (kind, state, the book's sequence as
published, the time the publisher's book last changed, the level counts) followed by
(price, size) pairs as float64, bids then asks. A delta carries absolute sizes (0 deletes the
level), so applying one twice is harmless; a snapshot replaces the book; a state frame carries no
levels. Floats travel as the publisher's book holds them, so a consumer's book is bit-for-bit the
publisher's.

Trades and the other market streams are JSON objects tagged with their type (``"t"``).
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

import orjson

from ..model import (
    BookState,
    Candle,
    FundingRate,
    IndexPrice,
    Interval,
    Liquidation,
    MarkPrice,
    OpenInterest,
    OptionMark,
    Side,
    Ticker,
    Trade,
)

HEADER = struct.Struct("<BBQdII")
_LITTLE = sys.byteorder == "little"

Level = tuple[float, float]


class FrameKind(IntEnum):
    DELTA = 1
    SNAPSHOT = 2
    STATE = 3


STATE_CODES: dict[BookState, int] = {state: n for n, state in enumerate(BookState)}
STATES: list[BookState] = list(BookState)


@dataclass(frozen=True, slots=True)
class BookFrame:
    """One published change of one book: ``seq`` counts the book's frames gap-free from 1, ``ts``
    is when the publisher's book last changed (epoch seconds)."""

    kind: FrameKind
    state: BookState
    seq: int
    ts: float
    bids: list[Level]
    asks: list[Level]


def _doubles(values: Iterable[float]) -> bytes:
    packed = array("d", values)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def encode_book(kind: FrameKind, state: BookState, seq: int, ts: float,
                bids: Iterable[Level], asks: Iterable[Level]) -> bytes:
    """``kind`` of frame for a book at ``seq``: its changed (delta) or all (snapshot) levels."""
    bid_list = list(bids)
    ask_list = list(asks)
    head = HEADER.pack(kind, STATE_CODES[state], seq, ts, len(bid_list), len(ask_list))
    flat = [x for level in bid_list for x in level]
    flat.extend(x for level in ask_list for x in level)
    return head + _doubles(flat)


def encode_state(state: BookState, seq: int, ts: float) -> bytes:
    return HEADER.pack(FrameKind.STATE, STATE_CODES[state], seq, ts, 0, 0)


def decode_book(data: bytes) -> BookFrame:
    """A frame from its bytes; ValueError naming what is wrong when they are not one."""
    if len(data) < HEADER.size:
        raise ValueError(f"book frame of {len(data)} bytes is shorter than its {HEADER.size}-byte header")
    kind, state, seq, ts, nb, na = HEADER.unpack_from(data)
    if len(data) != HEADER.size + 16 * (nb + na):
        raise ValueError(f"book frame says {nb} bids and {na} asks but carries {len(data) - HEADER.size} bytes of levels")
    try:
        frame_kind = FrameKind(kind)
        book_state = STATES[state]
    except (ValueError, IndexError):
        raise ValueError(f"book frame of unknown kind {kind} or state {state}") from None
    values = array("d")
    values.frombytes(data[HEADER.size:])
    if not _LITTLE:
        values.byteswap()
    it = iter(values.tolist())
    pairs = list(zip(it, it, strict=True))
    return BookFrame(frame_kind, book_state, seq, ts, pairs[:nb], pairs[nb:])


# ---- trades and the market streams ---------------------------------------------------------

Event = Trade | Candle | Ticker | FundingRate | MarkPrice | IndexPrice | OpenInterest | Liquidation | OptionMark

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (Trade, Candle, Ticker, FundingRate, MarkPrice, IndexPrice, OpenInterest, Liquidation, OptionMark)
}
# the enum-typed fields, read back from their values
_ENUMS: dict[str, Callable[[Any], Any]] = {"side": Side, "interval": Interval}

# each event type's subject kind (``subjects.MARKET_KINDS``; trades have their own)
EVENT_KINDS: dict[type[Any], str] = {
    Candle: "candle", Ticker: "ticker", FundingRate: "funding", MarkPrice: "mark", IndexPrice: "index",
    OpenInterest: "oi", Liquidation: "liquidation", OptionMark: "option",
}


def encode_event(event: Event) -> bytes:
    body = {f.name: getattr(event, f.name) for f in fields(event)}
    body["t"] = type(event).__name__
    return orjson.dumps(body)


def decode_event(data: bytes) -> Event:
    """An event from its JSON; ValueError naming what is wrong when it is not one."""
    body = orjson.loads(data)
    if not isinstance(body, dict):
        raise ValueError("a market event is a JSON object")
    name = body.pop("t", None)
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown market event type {name!r}")
    for key, convert in _ENUMS.items():
        if key in body:
            body[key] = convert(body[key])
    try:
        event: Event = cls(**body)
    except TypeError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return event
