"""``crossbook replay`` infers the venue from a capture's WebSocket URL, also where the URL has no
path at all (Coinbase Advanced Trade's ``wss://advanced-trade-ws.coinbase.com``, Kraken's
``wss://ws.kraken.com``), without ``--venue``."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.feeds.capture import CaptureWriter
from crossbook.market.replay import replay_files
from crossbook.venues.registry import feed_for_url

from ..conftest import CAPTURES

COINBASE_AT = "wss://advanced-trade-ws.coinbase.com"
STAMP = "2026-12-07T08:00:00.000000000Z"


def level(side: str, price: str, size: str) -> dict[str, str]:
    return {"side": side, "event_time": STAMP, "price_level": price, "new_quantity": size}


def l2_frame(seq: int, kind: str, updates: list[dict[str, str]]) -> str:
    events = [{"type": kind, "product_id": "BTC-USD", "updates": updates}]
    return orjson.dumps({"channel": "l2_data", "client_id": "", "timestamp": STAMP, "sequence_num": seq, "events": events}).decode()


def coinbase_capture(path: Path) -> Path:
    """A Coinbase Advanced Trade session in crossbook's capture format, with no feed in the header
    (the venue must come from the URL): the subscription answer, a snapshot, one update."""
    writer = CaptureWriter(path)
    conn = writer.new_connection()
    writer.write(1.0, "open", COINBASE_AT, "", conn)
    writer.write(1.1, "sent", COINBASE_AT, '{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}', conn)
    subscriptions = {"channel": "subscriptions", "client_id": "", "timestamp": STAMP, "sequence_num": 0,
                     "events": [{"subscriptions": {"level2": ["BTC-USD"]}}]}
    writer.write(1.2, "recv", COINBASE_AT, orjson.dumps(subscriptions).decode(), conn)
    snapshot = [level("bid", "60000.00", "1.5"), level("bid", "59999.00", "2"), level("offer", "60001.00", "0.7"),
                level("offer", "60002.50", "3")]
    writer.write(1.3, "recv", COINBASE_AT, l2_frame(1, "snapshot", snapshot), conn)
    writer.write(1.4, "recv", COINBASE_AT, l2_frame(2, "update", [level("bid", "60000.50", "0.4"), level("offer", "60001.00", "0")]), conn)
    writer.close()
    return path


def test_a_url_without_a_path_names_its_venue() -> None:
    cases = {COINBASE_AT: "coinbase", COINBASE_AT + "/": "coinbase", "wss://ws.kraken.com": "kraken",
             "wss://ws.kraken.com/v2": "kraken", "https://api.coinbase.com": "coinbase"}
    for url, feed_id in cases.items():
        cls = feed_for_url(url)
        assert cls is not None and cls.venue == feed_id, url
    assert feed_for_url("wss://example.org") is None


def test_a_coinbase_advanced_trade_capture_replays_without_venue(tmp_path: Path) -> None:
    replay = replay_files([coinbase_capture(tmp_path / "coinbase.jsonl")])
    assert {h.venue for h in replay.handlers.values()} == {"coinbase"} and not replay.unknown_urls
    book = replay.report()["books"]["coinbase:BTC-USD"]
    assert book["synced"] and book["updates"] == 1 and book["gaps"] == 0
    assert book["best_bid"] == [60000.5, 0.4] and book["best_ask"] == [60002.5, 3.0]


def test_the_replay_command_infers_coinbase_from_the_url(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(coinbase_capture(tmp_path / "coinbase.jsonl")), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert list(report["books"]) == ["coinbase:BTC-USD"] and report["books"]["coinbase:BTC-USD"]["synced"]


def test_the_recorded_kraken_capture_on_a_pathless_url_is_kraken() -> None:
    """shared/data/captures' Kraken session is on ``wss://ws.kraken.com`` (its frames are the
    retired v1 protocol, so its books do not sync through the v2 handler; the venue is inferred)."""
    replay = replay_files([CAPTURES / "KRAKEN.ws.50.0.gz"])
    assert replay.handlers and {h.venue for h in replay.handlers.values()} == {"kraken"}
    assert not replay.unknown_urls
