from __future__ import annotations

import gzip
from itertools import pairwise
from pathlib import Path

import orjson
import pytest

from crossbook.errors import CaptureFormatError, UnknownVenue
from crossbook.feeds.capture import CaptureWriter, merge_captures, read_capture
from crossbook.market.replay import replay_files

from ..conftest import CAPTURES


def test_binance_capture_syncs_every_book_with_a_snapshot_and_no_gaps() -> None:
    replay = replay_files([CAPTURES / "BINANCE.ws.1.0.gz", CAPTURES / "BINANCE.http.0.0.gz"])
    report = replay.report()
    snapshots = {
        ev.url.split("symbol=")[1].split("&")[0]
        for ev in read_capture(CAPTURES / "BINANCE.http.0.0.gz")
        if "/api/v3/depth" in ev.url
    }
    assert snapshots, "the capture has REST snapshots"
    for native in snapshots:
        book = report["books"][f"binance:{native}"]
        assert book["synced"], native
        assert book["updates"] > 0
        assert book["best_bid"][0] < book["best_ask"][0]
    assert report["totals"]["gaps"] == 0
    assert report["totals"]["messages"] > 200
    assert not replay.failed()


def test_replay_without_the_snapshots_never_syncs() -> None:
    report = replay_files([CAPTURES / "BINANCE.ws.1.0.gz"]).report()
    assert report["books"] and not any(b["synced"] for b in report["books"].values())


def test_recorded_format_is_parsed_and_files_merge_by_timestamp() -> None:
    events = list(merge_captures([CAPTURES / "BINANCE.ws.1.0.gz", CAPTURES / "BINANCE.http.0.0.gz"]))
    kinds = {e.kind for e in events}
    assert {"open", "recv", "http"} <= kinds
    assert all(a.ts <= b.ts for a, b in pairwise(events))
    opened = next(e for e in events if e.kind == "open")
    assert "stream.binance.com" in opened.url


def test_own_format_round_trip_keeps_binary_frames_and_feed(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    writer = CaptureWriter(path, feed="mexc")
    conn = writer.new_connection()
    writer.write(1.0, "open", "ws://127.0.0.1:1/ws", "", conn)
    writer.write(2.0, "recv", "ws://127.0.0.1:1/ws", b"\x0a\x03abc", conn)
    writer.write(3.0, "recv", "ws://127.0.0.1:1/ws", '{"a":1}', conn)
    writer.close()
    events = list(read_capture(path))
    assert [e.kind for e in events] == ["open", "recv", "recv"]
    assert events[1].data == b"\x0a\x03abc" and events[2].data == '{"a":1}'
    assert {e.feed for e in events} == {"mexc"}
    assert events[1].conn == events[2].conn


def test_malformed_capture_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"wss://x <-> 1.0\nwss://x ?? 2.0: {}\n")
    with pytest.raises(CaptureFormatError, match=r"bad.gz:2"):
        list(read_capture(path))


def test_unknown_venue_in_capture_asks_for_venue(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    writer = CaptureWriter(path)
    writer.write(1.0, "open", "wss://example.org/ws", "", 1)
    writer.close()
    with pytest.raises(UnknownVenue, match="--venue"):
        replay_files([path])
    with pytest.raises(UnknownVenue, match="known"):
        replay_files([path], venue="nope")


def test_report_schema_is_exact() -> None:
    report = replay_files([CAPTURES / "BINANCE.ws.1.0.gz", CAPTURES / "BINANCE.http.0.0.gz"]).report()
    assert set(report) == {"totals", "books", "market"}
    assert report["market"] == {"Candle": 2, "Ticker": 42, "candle_gaps": 0}  # klines; bookTickers after a trade
    assert set(report["totals"]) == {"messages", "books", "checksums_ok", "checksums_failed", "gaps", "resyncs"}
    for entry in report["books"].values():
        assert set(entry) == {"synced", "updates", "checksums_ok", "checksums_failed", "gaps", "best_bid", "best_ask"}
    orjson.dumps(report)


def test_feed_is_inferred_from_host_and_path() -> None:
    from crossbook.venues.registry import feed_for_url

    cases = {
        "wss://stream.binance.com:9443/stream": "binance",
        "wss://fstream.binance.com/stream": "binanceusdm",
        "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP": "binancecoinm",
        "wss://ws.okx.com:8443/ws/v5/public": "okx",
        "wss://stream.bybit.com/v5/public/spot": "bybit",
        "wss://stream.bybit.com/v5/public/linear": "bybitlinear",
        "wss://stream.bybit.com/v5/public/inverse": "bybitinverse",
    }
    for url, feed_id in cases.items():
        cls = feed_for_url(url)
        assert cls is not None and cls.venue == feed_id, url
    assert feed_for_url("wss://example.org/ws") is None
