"""Every subject, stream and key-value bucket of the bus, named once.

Subjects are ``crossbook.<kind>.<venue>.<symbol>`` (``crossbook.book.binance.BTC-USDT``): one
subject per book, so a consumer subscribes to exactly the books it follows, or to
``crossbook.book.binance.>`` for a venue. A book's deltas, snapshots and state changes share its
subject, so they arrive in the order they were published.
"""

from __future__ import annotations

import re
from typing import Final

PREFIX: Final = "crossbook"

# the streams beyond the book, each on its own subject kind (``crossbook.<kind>.<venue>.<symbol>``)
BOOK: Final = "book"
TRADE: Final = "trade"
MARKET_KINDS: Final = ("candle", "ticker", "funding", "mark", "index", "oi", "liquidation", "option")

# JetStream: deltas and events with bounded retention, fills kept longer
BOOK_STREAM: Final = "CROSSBOOK_BOOKS"
MARKET_STREAM: Final = "CROSSBOOK_MARKET"
FILLS_STREAM: Final = "CROSSBOOK_FILLS"

# key-value buckets: each book's latest snapshot, each feed's instruments, each feed process's
# status (expires when it stops renewing), each account's trading lease
SNAPSHOT_BUCKET: Final = "crossbook_snapshots"
INSTRUMENT_BUCKET: Final = "crossbook_instruments"
PUBLISHER_BUCKET: Final = "crossbook_publishers"
LEASE_BUCKET: Final = "crossbook_leases"

# a subject token: no dot, wildcard or whitespace (NATS splits on dots; * and > are wildcards)
_TOKEN = re.compile(r"^[A-Za-z0-9_\-=/]+$")


def token(value: str, what: str) -> str:
    """``value`` as one subject token; ValueError naming ``what`` when it cannot be one."""
    if not _TOKEN.match(value):
        raise ValueError(f"{what} {value!r} cannot be a bus subject token (letters, digits, - _ = / only)")
    return value


def book_subject(venue: str, symbol: str) -> str:
    return f"{PREFIX}.{BOOK}.{token(venue, 'venue')}.{token(symbol, 'symbol')}"


def trade_subject(venue: str, symbol: str) -> str:
    return f"{PREFIX}.{TRADE}.{token(venue, 'venue')}.{token(symbol, 'symbol')}"


def market_subject(kind: str, venue: str, symbol: str) -> str:
    if kind not in MARKET_KINDS:
        raise ValueError(f"unknown market stream {kind!r}; known: {', '.join(MARKET_KINDS)}")
    return f"{PREFIX}.{kind}.{token(venue, 'venue')}.{token(symbol, 'symbol')}"


def fills_subject(venue: str, account: str) -> str:
    return f"{PREFIX}.fills.{token(venue, 'venue')}.{token(account, 'account')}"


def snapshot_request_subject(venue: str, symbol: str) -> str:
    """Where a consumer asks the book's publisher for a snapshot now (request / reply)."""
    return f"{PREFIX}.snap.{token(venue, 'venue')}.{token(symbol, 'symbol')}"


SNAPSHOT_REQUESTS: Final = f"{PREFIX}.snap.>"  # every book's snapshot requests (a feed process answers its own)


def requested_book(subject: str) -> tuple[str, str] | None:
    """(venue, symbol) a ``snapshot_request_subject`` names, None for another subject."""
    parts = subject.split(".")
    if len(parts) != 4 or parts[:2] != [PREFIX, "snap"]:
        return None
    return parts[2], parts[3]


def heartbeat_subject(process: str) -> str:
    """Each feed process's heartbeat: the books it publishes, their sequences and states."""
    return f"{PREFIX}.heartbeat.{token(process, 'process')}"


HEARTBEATS: Final = f"{PREFIX}.heartbeat.*"


def book_key(venue: str, symbol: str) -> str:
    """A book's key in the snapshot bucket."""
    return f"{token(venue, 'venue')}.{token(symbol, 'symbol')}"


def lease_key(venue: str, account: str) -> str:
    return f"{token(venue, 'venue')}.{token(account, 'account')}"


def stream_subjects() -> dict[str, list[str]]:
    """Each JetStream stream and the subjects it captures."""
    return {
        BOOK_STREAM: [f"{PREFIX}.{BOOK}.>"],
        MARKET_STREAM: [f"{PREFIX}.{TRADE}.>"] + [f"{PREFIX}.{kind}.>" for kind in MARKET_KINDS],
        FILLS_STREAM: [f"{PREFIX}.fills.>"],
    }
