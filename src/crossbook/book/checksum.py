"""CRC32 building blocks for venue book checksums. Which levels and strings go in is venue
knowledge (``venues/<id>.py``); these only do the arithmetic."""

from __future__ import annotations

from itertools import zip_longest
from zlib import crc32


def crc32_signed(text: str) -> int:
    value = crc32(text.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


def crc32_unsigned(text: str) -> int:
    return crc32(text.encode())


def interleaved(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> str:
    """``bid1px:bid1sz:ask1px:ask1sz:...``, a side's missing levels skipped."""
    parts: list[str] = []
    for bid, ask in zip_longest(bids, asks):
        if bid is not None:
            parts.append(bid[0])
            parts.append(bid[1])
        if ask is not None:
            parts.append(ask[0])
            parts.append(ask[1])
    return ":".join(parts)
