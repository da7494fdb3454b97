"""OKX: real frames from the 2022 capture, checksum vectors, the seqId/prevSeqId rules (in-band
snapshot, keepalive, maintenance reset, REST bridging), instruments, ping, and the simulator in
both of its sync modes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook.book.checksum import crc32_signed, interleaved
from crossbook.feeds.capture import read_capture
from crossbook.feeds.handler import FeedHandler, Resync
from crossbook.market.replay import replay_files
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.market import SimMarket
from crossbook.sim.venues.okx import OkxSim
from crossbook.symbols import SymbolMap
from crossbook.venues.okx import OkxFeed
from crossbook.venues.registry import feed_for_url

from ..conftest import CAPTURES, run
from .contract import Harness

CAPTURE = CAPTURES / "OKX.ws.1.0.gz"
TS = 1_700_000_000.0


def book_msg(
    action: str,
    bids: list[list[str]],
    asks: list[list[str]],
    *,
    checksum: int = 0,
    prev: int | None = None,
    seq: int | None = None,
    inst: str = "BTC-USDT",
) -> str:
    data: dict[str, Any] = {"asks": asks, "bids": bids, "ts": "1700000000000", "checksum": checksum}
    if seq is not None:
        data["prevSeqId"] = -1 if action == "snapshot" else prev
        data["seqId"] = seq
    return orjson.dumps({"arg": {"channel": "books", "instId": inst}, "action": action, "data": [data]}).decode()


def lv(px: str, sz: str) -> list[str]:
    return [px, sz, "0", "1"]


def rest_snapshot(seq: int | None, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    data: dict[str, Any] = {"asks": asks, "bids": bids, "ts": "1700000000000"}
    if seq is not None:
        data["seqId"] = seq
    return orjson.dumps({"code": "0", "msg": "", "data": [data]})


class Recorder:
    """A handler with one book and a log of its resync requests."""

    def __init__(self) -> None:
        self.resyncs: list[tuple[str, str]] = []
        self.handler = OkxFeed(on_resync=lambda h, native, reason: self.resyncs.append((native, reason)))
        self.book = self.handler.add_book("BTC-USDT", "BTC-USDT")

    def feed(self, frame: str) -> None:
        self.handler.on_frame(frame, TS)


SNAP_BIDS = [lv("100.5", "2"), lv("100", "1")]
SNAP_ASKS = [lv("101", "3"), lv("102", "4")]


# ---- the capture ----------------------------------------------------------------------------


def test_capture_replays_with_every_checksum_ok() -> None:
    replay = replay_files([CAPTURE])
    totals = replay.report()["totals"]
    assert totals["checksums_ok"] == 290
    assert totals["checksums_failed"] == 0
    assert totals["gaps"] == 0 and totals["resyncs"] == 0
    assert totals["books"] == 3
    assert replay.frame_errors == 0
    assert all(b["synced"] for b in replay.report()["books"].values())
    assert [h.errors for h in replay.handlers.values()] == [0]


def _capture_frame(needle: str) -> str:
    for ev in read_capture(CAPTURE):
        if ev.kind == "recv" and needle in str(ev.data):
            return str(ev.data)
    raise AssertionError(f"no frame with {needle!r}")


def test_capture_url_selects_okx() -> None:
    assert feed_for_url("wss://ws.okx.com:8443/ws/v5/public") is OkxFeed


def test_real_snapshot_frame_builds_the_book_and_checks_its_checksum() -> None:
    frame = _capture_frame('"instId":"BTC-USDT"},"action":"snapshot"')
    data = orjson.loads(frame)["data"][0]
    handler = OkxFeed(auto_books=True)
    handler.on_frame(frame, TS)
    book = handler.books["BTC-USDT"]
    assert book.state is BookState.LIVE
    assert book.stats.checksums_ok == 1
    assert book.best_bid() == (float(data["bids"][0][0]), float(data["bids"][0][1]))
    assert book.best_ask() == (float(data["asks"][0][0]), float(data["asks"][0][1]))
    assert book.levels(Side.BUY) == book.levels(Side.SELL) == 400
    assert handler.latency.count == 1


def test_real_trade_frame_is_normalized() -> None:
    trades: list[Trade] = []
    handler = OkxFeed(on_trade=trades.append)
    handler.add_book("BTC-USDT", "BTC-USDT")
    handler.on_frame(_capture_frame('"channel":"trades","instId":"BTC-USDT"},"data"'), TS)
    assert trades == [Trade("okx", "BTC-USDT", 30236.0, 0.0002, Side.BUY, 1652459224.818, "338476307")]


# ---- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bids", "asks", "checksum"),
    [
        # 3366.1:7:3366.8:9:3366:6:3368:8
        ([lv("3366.1", "7"), lv("3366", "6")], [lv("3366.8", "9"), lv("3368", "8")], -1881014294),
        # 3366.1:7:3366.8:9:3368:8:3372:8 (the missing second and third bids are skipped)
        ([lv("3366.1", "7")], [lv("3366.8", "9"), lv("3368", "8"), lv("3372", "8")], 831078360),
    ],
)
def test_checksum_vectors(bids: list[list[str]], asks: list[list[str]], checksum: int) -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", bids, asks, checksum=checksum, seq=1))
    assert r.book.stats.checksums_ok == 1 and r.book.state is BookState.LIVE


def test_checksum_uses_the_exchange_strings() -> None:
    r = Recorder()
    # "3366.10" parses to the same float as "3366.1" but is another string, so another CRC
    r.feed(book_msg("snapshot", [lv("3366.10", "7"), lv("3366", "6")], [lv("3366.8", "9"), lv("3368", "8")], checksum=-1881014294, seq=1))
    assert r.book.stats.checksums_failed == 1


def test_checksum_covers_25_levels_a_side() -> None:
    bids = [lv(str(1000 - i), "1") for i in range(30)]
    asks = [lv(str(1001 + i), "1") for i in range(30)]
    text = interleaved([(b[0], b[1]) for b in bids[:25]], [(a[0], a[1]) for a in asks[:25]])
    r = Recorder()
    r.feed(book_msg("snapshot", bids, asks, checksum=crc32_signed(text), seq=1))
    assert r.book.stats.checksums_ok == 1


def test_zero_checksum_means_none() -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, checksum=0, seq=10))
    r.feed(book_msg("update", [lv("100.5", "5")], [], checksum=0, prev=10, seq=11))
    assert r.book.state is BookState.LIVE
    assert r.book.stats.checksums_ok == 0 and r.book.stats.checksums_failed == 0
    assert r.book.best_bid() == (100.5, 5.0)


def test_checksum_mismatch_resyncs_that_book() -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, seq=10))
    r.feed(book_msg("update", [lv("100.5", "5")], [], checksum=12345, prev=10, seq=11))
    assert r.book.stats.checksums_failed == 1
    assert r.resyncs == [("BTC-USDT", "checksum")]
    assert r.book.state is BookState.RESYNCING and r.book.best_bid() is None


# ---- sequence -------------------------------------------------------------------------------


def test_documented_sequence_keepalive_and_maintenance_reset() -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, seq=10))
    r.feed(book_msg("update", [lv("100.5", "5")], [], prev=10, seq=15))
    r.feed(book_msg("update", [], [], prev=15, seq=15))  # keepalive: no change, same seqId
    r.feed(book_msg("update", [], [lv("101", "0")], prev=15, seq=3))  # reset after maintenance
    r.feed(book_msg("update", [lv("100", "0")], [], prev=3, seq=5))
    assert r.resyncs == []
    assert r.book.state is BookState.LIVE and r.book.seq == 5
    assert r.book.stats.updates == 4
    assert r.book.depth(5) == ([(100.5, 5.0)], [(102.0, 4.0)])


def test_gap_resyncs_and_keeps_the_update_for_the_rest_bridge() -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, seq=10))
    r.feed(book_msg("update", [lv("99", "1")], [], prev=12, seq=14))
    assert r.resyncs == [("BTC-USDT", "gap")]
    assert r.book.stats.gaps == 1 and r.book.state is BookState.RESYNCING
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(13, SNAP_BIDS, SNAP_ASKS), TS)
    assert r.book.state is BookState.LIVE and r.book.seq == 14
    assert r.book.depth(5)[0] == [(100.5, 2.0), (100.0, 1.0), (99.0, 1.0)]


def test_rest_sync_drops_stale_updates_and_bridges() -> None:
    r = Recorder()
    r.feed(book_msg("update", [lv("90", "9")], [], prev=90, seq=95))  # already in the snapshot
    r.feed(book_msg("update", [lv("100.5", "3")], [], prev=95, seq=100))  # bridges 97
    assert r.book.state is BookState.SYNCING
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(97, SNAP_BIDS, SNAP_ASKS), TS)
    assert r.book.state is BookState.LIVE and r.book.seq == 100
    r.feed(book_msg("update", [], [lv("101", "1")], prev=100, seq=104))
    assert r.book.depth(5) == ([(100.5, 3.0), (100.0, 1.0)], [(101.0, 1.0), (102.0, 4.0)])
    assert r.book.stats.updates == 2 and r.resyncs == []


def test_rest_snapshot_waits_for_the_bridging_update() -> None:
    r = Recorder()
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(97, SNAP_BIDS, SNAP_ASKS), TS)
    assert r.book.state is BookState.SYNCING  # not live until an update proves continuity
    r.feed(book_msg("update", [lv("90", "9")], [], prev=90, seq=96))
    assert r.book.state is BookState.SYNCING and r.book.levels(Side.BUY) == 2
    r.feed(book_msg("update", [lv("100.5", "3")], [], prev=96, seq=99))
    assert r.book.state is BookState.LIVE


def test_rest_snapshot_older_than_the_buffer_is_refetched() -> None:
    r = Recorder()
    r.feed(book_msg("update", [lv("100.5", "3")], [], prev=95, seq=100))
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(90, SNAP_BIDS, SNAP_ASKS), TS)
    assert r.resyncs == [("BTC-USDT", "stale snapshot")]
    assert r.book.state is not BookState.LIVE


def test_missing_update_after_rest_snapshot_is_a_gap() -> None:
    r = Recorder()
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(97, SNAP_BIDS, SNAP_ASKS), TS)
    r.feed(book_msg("update", [lv("100.5", "3")], [], prev=98, seq=100))
    assert r.resyncs == [("BTC-USDT", "gap")] and r.book.stats.gaps == 1


def test_rest_snapshot_is_ignored_once_an_in_band_snapshot_synced() -> None:
    r = Recorder()
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, seq=10))
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(5, [lv("1", "1")], [lv("2", "1")]), TS)
    assert r.book.state is BookState.LIVE and r.book.seq == 10 and r.book.best_bid() == (100.5, 2.0)


def test_in_band_snapshot_replaces_a_pending_rest_sync() -> None:
    r = Recorder()
    r.handler.on_snapshot("BTC-USDT", rest_snapshot(97, [lv("1", "1")], [lv("2", "1")]), TS)
    r.feed(book_msg("snapshot", SNAP_BIDS, SNAP_ASKS, seq=120))
    r.feed(book_msg("update", [lv("100", "7")], [], prev=120, seq=121))
    assert r.book.state is BookState.LIVE and r.book.depth(5)[0] == [(100.5, 2.0), (100.0, 7.0)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (orjson.dumps({"code": "50011", "msg": "Too Many Requests", "data": []}), "snapshot refused"),
        (rest_snapshot(None, SNAP_BIDS, SNAP_ASKS), "snapshot without seqId"),
    ],
)
def test_unusable_rest_snapshot_asks_again(body: bytes, reason: str) -> None:
    r = Recorder()
    r.handler.on_snapshot("BTC-USDT", body, TS)
    assert r.resyncs == [("BTC-USDT", reason)] and r.book.state is not BookState.LIVE


def test_resync_is_by_rest_snapshot() -> None:
    handler = OkxFeed(rest_url="http://127.0.0.1:1")
    assert OkxFeed.resync_by is Resync.SNAPSHOT
    url = handler.snapshot_url("BTC-USDT-SWAP")
    assert url == "http://127.0.0.1:1/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400"
    assert handler.snapshot_native(url) == "BTC-USDT-SWAP"
    assert handler.snapshot_native("http://127.0.0.1:1/api/v5/public/instruments?instType=SPOT") is None


# ---- wire basics ----------------------------------------------------------------------------


def test_subscribe_asks_for_books_and_trades() -> None:
    handler = OkxFeed()
    assert handler.connect_url(["BTC-USDT"]) == "wss://ws.okx.com:8443/ws/v5/public"
    (frame,) = handler.subscribe_messages(["BTC-USDT", "BTC-USDT-SWAP"])
    assert orjson.loads(frame) == {
        "op": "subscribe",
        "args": [
            {"channel": "books", "instId": "BTC-USDT"},
            {"channel": "trades", "instId": "BTC-USDT"},
            {"channel": "books", "instId": "BTC-USDT-SWAP"},
            {"channel": "trades", "instId": "BTC-USDT-SWAP"},
        ],
    }
    (frame,) = handler.unsubscribe_messages(["BTC-USDT"])
    assert orjson.loads(frame)["op"] == "unsubscribe"


def test_ping_pong_and_events_are_not_errors() -> None:
    handler = OkxFeed()
    assert handler.ping_message() == "ping"
    assert handler.ping_interval is not None and handler.ping_interval < 30
    assert handler.on_frame("pong", TS) is None
    handler.on_frame('{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}', TS + 1)
    assert handler.errors == 0 and handler.messages == 2 and handler.link.last_rx == TS + 1
    handler.on_frame('{"event":"error","code":"60018","msg":"bad instId","connId":"a4d3ae55"}', TS + 2)
    handler.on_frame("not json", TS + 3)
    assert handler.errors == 2


# ---- instruments ----------------------------------------------------------------------------


def _body(items: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"code": "0", "msg": "", "data": items})


SPOT = {
    "instType": "SPOT", "instId": "BTC-USDT", "baseCcy": "BTC", "quoteCcy": "USDT", "uly": "", "instFamily": "",
    "tickSz": "0.1", "lotSz": "0.00000001", "state": "live",
}
SWAP = {
    "instType": "SWAP", "instId": "BTC-USDT-SWAP", "baseCcy": "", "quoteCcy": "", "uly": "BTC-USDT", "instFamily": "BTC-USDT",
    "ctVal": "0.01", "ctValCcy": "BTC", "tickSz": "0.1", "lotSz": "0.01", "state": "live",
}
INVERSE = {**SWAP, "instId": "BTC-USD-SWAP", "uly": "BTC-USD", "instFamily": "BTC-USD", "ctVal": "100", "ctValCcy": "USD", "lotSz": "1"}
FUTURE = {
    "instType": "FUTURES", "instId": "BTC-USD-261225", "baseCcy": "", "quoteCcy": "", "uly": "BTC-USD", "instFamily": "BTC-USD",
    "ctVal": "100", "tickSz": "0.1", "lotSz": "1", "state": "live", "expTime": "1798185600000",
}
SUSPENDED = {**SPOT, "instId": "XBT-USDT", "baseCcy": "XBT", "state": "suspend"}


def test_instruments_map_both_ways() -> None:
    handler = OkxFeed(rest_url="https://www.okx.com")
    assert handler.instruments_urls() == [
        f"https://www.okx.com/api/v5/public/instruments?instType={t}" for t in ("SPOT", "SWAP", "FUTURES")
    ]
    instruments = handler.parse_instruments([_body([SPOT, SUSPENDED]), _body([SWAP, INVERSE]), _body([FUTURE])])
    symbols = SymbolMap("okx", instruments)
    assert len(symbols) == 4
    assert symbols.native("BTC-USDT") == "BTC-USDT"
    assert symbols.native("BTC-USDT-PERP") == "BTC-USDT-SWAP"
    assert symbols.native("BTC-USD-PERP") == "BTC-USD-SWAP"
    assert symbols.native("BTC-USD-20261225") == "BTC-USD-261225"
    assert symbols.standard("BTC-USD-261225") == "BTC-USD-20261225"
    future = symbols.by_native["BTC-USD-261225"]
    assert future.kind is Kind.FUTURE and future.expiry == "20261225" and future.lot == 1.0
    assert symbols.by_native["BTC-USDT"].tick == 0.1 and symbols.by_native["BTC-USDT"].lot == 1e-8


# ---- the simulator --------------------------------------------------------------------------


def test_sim_sizes_are_contracts_on_swaps() -> None:
    sim = OkxSim(SimMarket(levels=50))
    assert sim.native("BTC-USDT-PERP") == "BTC-USDT-SWAP"
    assert sim.size_text("BTC-USDT-PERP", 12) == "1.2"  # 12 x 0.001 BTC = 1.2 contracts of 0.01 BTC
    assert sim.size_text("BTC-USDT", 12) == "0.00012"
    assert sim.size_text("BTC-USD-PERP", 7) == "7"
    swap = sim.instrument("BTC-USDT-PERP")
    assert (swap["instType"], swap["ctVal"], swap["lotSz"], swap["ctType"]) == ("SWAP", "0.01", "0.1", "linear")
    assert sim.instrument("BTC-USD-PERP")["ctType"] == "inverse"


def test_sim_window_keeps_the_client_at_400_levels() -> None:
    """With more levels than the channel's 400, levels leaving the window arrive as deletes."""
    market = SimMarket(levels=450)
    sim = OkxSim(market)
    handler = OkxFeed(auto_books=True)
    handler.on_frame(sim._snapshot_frame("BTC-USDT"), TS)
    for _ in range(30):
        changes = market.advance()[("okx", "BTC-USDT")]
        frame = sim.encode("BTC-USDT", changes)
        if frame is not None:
            handler.on_frame(frame, TS)
    book = handler.books["BTC-USDT"]
    assert book.state is BookState.LIVE and book.stats.checksums_failed == 0
    assert book.stats.checksums_ok > 20
    assert book.levels(Side.BUY) == book.levels(Side.SELL) == 400
    assert book.depth(10) == sim.expected_top("BTC-USDT", 10)


async def _first_frames(inband: bool) -> tuple[list[str], int]:
    async with SimCluster(["okx"], interval=0.05, levels=60, overrides={"inband_snapshot": inband}) as cluster:
        sim = cluster.venues["okx"]
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{sim.ws_url}/ws/v5/public") as ws:
            await ws.send_str("ping")
            await ws.send_str(OkxFeed().subscribe_messages(["BTC-USDT"])[0])  # type: ignore[arg-type]
            frames = [await asyncio.wait_for(ws.receive_str(), 5) for _ in range(5)]
        return frames, sim.client_pings


@pytest.mark.parametrize("inband", [True, False])
def test_sim_answers_ping_and_serves_the_chosen_sync_mode(inband: bool) -> None:
    frames, pings = run(_first_frames(inband))
    assert frames[0] == "pong" and pings == 1
    assert [orjson.loads(f).get("event") for f in frames[1:3]] == ["subscribe", "subscribe"]
    actions = [orjson.loads(f).get("action") for f in frames[3:] if '"channel":"books"' in f]
    assert actions and actions[0] == ("snapshot" if inband else "update")


def _no_rest_snapshot(self: FeedHandler, native: str) -> str:
    return f"{self.rest_base}/api/v5/market/none?instId={native}"


def test_syncs_from_the_in_band_snapshot_alone() -> None:
    async def body() -> None:
        async with Harness("okx", handler_overrides={"snapshot_url": _no_rest_snapshot}) as h:
            await h.live()
            await h.settled()
            assert all(b.stats.checksums_failed == 0 for b in h.books.values())

    run(body())


def test_syncs_from_rest_when_the_venue_sends_no_snapshot() -> None:
    async def body() -> None:
        async with Harness("okx", sim_overrides={"inband_snapshot": False}) as h:
            await h.live()
            await h.settled()
            target = h.symbols[0]
            h.sim.inject("skip", target)
            await asyncio.sleep(0.3)
            await h.settled(15)
            assert h.books[target].stats.gaps == 1
            assert all(b.stats.checksums_ok > 0 and b.stats.checksums_failed == 0 for b in h.books.values())
            assert h.violations == []

    run(body())
