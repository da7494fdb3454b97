"""Captures: raw frames with timestamps and URLs, written by ``crossbook record`` and replayed by
``crossbook replay``.

Two formats are read:
- crossbook's own: JSON lines after a ``{"crossbook_capture": 1}`` header, one event per line
  (``ts``, ``kind`` = open | sent | recv | http, ``url``, and ``text`` or base64 ``b64`` for binary
  frames such as MEXC's protobuf);
- the recorded-traffic format of shared/data/captures (``URL <-> TS``, ``URL <- TS: MSG``,
  ``TS: MSG``, ``URL -> TS: BODY``); a ``.gz`` file is read as is.
Several files merge by timestamp, so a REST snapshot file replays with its WebSocket file.
"""

from __future__ import annotations

import base64
import gzip
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from ..errors import CaptureFormatError

FORMAT_KEY = "crossbook_capture"


@dataclass(frozen=True, slots=True)
class CaptureEvent:
    ts: float
    kind: str  # open | sent | recv | http
    url: str  # the connection's URL (open, sent, recv) or the request URL (http)
    data: bytes | str  # frame or body; "" for open
    conn: str  # identifies one connection: file + how many opens came before
    feed: str | None = None  # the feed id, where the capture names it (crossbook's own format)


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_capture(path: str | Path) -> Iterator[CaptureEvent]:
    path = Path(path)
    with _open(path) as fh:
        first = fh.readline()
        header = _own_header(first)
        if header is not None:
            yield from _read_own(fh, path, header.get("feed"))
        else:
            yield from _read_recorded(_chain(first, fh), path)


def _own_header(line: bytes) -> dict[str, object] | None:
    if not line.startswith(b"{"):
        return None
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return header if isinstance(header, dict) and FORMAT_KEY in header else None


def _chain(first: bytes, rest: IO[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _read_own(lines: Iterable[bytes], path: Path, feed: object) -> Iterator[CaptureEvent]:
    feed_id = feed if isinstance(feed, str) else None
    for n, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            ev = orjson.loads(line)
            data = base64.b64decode(ev["b64"]) if "b64" in ev else ev.get("text", "")
            yield CaptureEvent(float(ev["ts"]), ev["kind"], ev["url"], data, f"{path.name}#{ev.get('conn', 0)}", feed_id)
        except (orjson.JSONDecodeError, KeyError, ValueError) as exc:
            raise CaptureFormatError(f"{path}:{n}: not a crossbook capture event ({exc})") from None


def _read_recorded(lines: Iterable[bytes], path: Path) -> Iterator[CaptureEvent]:
    url = ""
    opens = 0
    for n, raw in enumerate(lines, start=1):
        line = raw.decode().rstrip("\r\n")
        if not line:
            continue
        try:
            if line[0].isdigit():
                ts, _, msg = line.partition(": ")
                yield CaptureEvent(float(ts), "recv", url, msg, f"{path.name}#{opens}")
                continue
            target, _, rest = line.partition(" ")
            arrow, _, rest = rest.partition(" ")
            if arrow == "<->":
                url = target
                opens += 1
                yield CaptureEvent(float(rest), "open", url, "", f"{path.name}#{opens}")
            elif arrow in ("<-", "->"):
                ts, _, msg = rest.partition(": ")
                kind = "sent" if arrow == "<-" else "http"
                yield CaptureEvent(float(ts), kind, target, msg, f"{path.name}#{opens}")
            else:
                raise ValueError(f"unknown arrow {arrow!r}")
        except ValueError as exc:
            raise CaptureFormatError(f"{path}:{n}: not a capture line ({exc}): {line[:80]!r}") from None


def merge_captures(paths: Iterable[str | Path]) -> Iterator[CaptureEvent]:
    """Events of several files in timestamp order (stable for equal timestamps)."""
    return heapq.merge(*(read_capture(p) for p in paths), key=lambda e: e.ts)


def _open_for_writing(path: Path) -> IO[bytes]:
    """The writer keeps the file open until close(), so no with-block: gzip-compressed for *.gz."""
    if str(path).endswith(".gz"):
        return gzip.open(path, "wb")  # type: ignore[return-value]  # GzipFile is a binary IO, typeshed says BufferedIOBase
    return open(path, "wb")


class CaptureWriter:
    """Appends events in crossbook's own format."""

    def __init__(self, out: str | Path | IO[bytes], feed: str | None = None) -> None:
        if isinstance(out, (str, Path)):
            self._fh: IO[bytes] = _open_for_writing(Path(out))
            self._owned = True
        else:
            self._fh = out
            self._owned = False
        header: dict[str, object] = {FORMAT_KEY: 1}
        if feed is not None:
            header["feed"] = feed
        self._fh.write(orjson.dumps(header) + b"\n")
        self._conns = 0
        self.events = 0

    def new_connection(self) -> int:
        self._conns += 1
        return self._conns

    def write(self, ts: float, kind: str, url: str, data: bytes | str, conn: int = 0) -> None:
        ev: dict[str, object] = {"ts": ts, "kind": kind, "url": url, "conn": conn}
        if isinstance(data, bytes):  # a binary frame stays binary on replay
            ev["b64"] = base64.b64encode(data).decode()
        else:
            ev["text"] = data
        self._fh.write(orjson.dumps(ev) + b"\n")
        self.events += 1

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.flush()
        if self._owned:
            self._fh.close()

