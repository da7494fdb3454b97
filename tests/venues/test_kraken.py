"""Kraken spot v2: checksums (recorded v1 traffic and recorded v2 frames), the lossless reading of
v2's numeric levels, truncation to the subscribed depth, resync on a bad checksum, trades, pings,
symbols from AssetPairs, and the simulator's wire."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook.book.l2 import L2Book
from crossbook.errors import VenueUnavailable
from crossbook.feeds.capture import read_capture
from crossbook.model import BookState, Side, Trade
from crossbook.sim.market import SimMarket
from crossbook.sim.venues.kraken import KrakenSpotSim, window_changes
from crossbook.venues.kraken import (
    SPEC,
    KrakenSpot,
    book_checksum,
    checksum_token,
    raw_levels,
)

from ..conftest import CAPTURES, run

CAPTURE = CAPTURES / "KRAKEN.ws.50.0.gz"

# A Kraken v2 session recorded in October 2024 (default depth 10; the snapshot had no timestamp).
RECORDED_SNAPSHOT = (
    '{"channel":"book","type":"snapshot","data":[{"symbol":"ALGO/USD","bids":['
    '{"price":0.12291,"qty":27039.62776299},{"price":0.12290,"qty":8136.33288180},'
    '{"price":0.12287,"qty":10984.20817349},{"price":0.12283,"qty":28027.05025639},'
    '{"price":0.12280,"qty":9705.60000000},{"price":0.12279,"qty":15215.53522714},'
    '{"price":0.12275,"qty":4067.00000000},{"price":0.12274,"qty":30639.39949109},'
    '{"price":0.12268,"qty":2531.96119986},{"price":0.12267,"qty":16299.00000000}],"asks":['
    '{"price":0.12307,"qty":600.00000000},{"price":0.12308,"qty":4042.11919517},'
    '{"price":0.12312,"qty":10284.53891000},{"price":0.12314,"qty":16155.08885299},'
    '{"price":0.12315,"qty":5186.05778473},{"price":0.12316,"qty":32828.24000000},'
    '{"price":0.12317,"qty":7751.65718582},{"price":0.12318,"qty":32298.82000000},'
    '{"price":0.12319,"qty":1864.66899600},{"price":0.12322,"qty":4718.99755630}],'
    '"checksum":2375857985}]}'
)
RECORDED_UPDATE = (
    '{"channel":"book","type":"update","data":[{"symbol":"ALGO/USD","bids":'
    '[{"price":0.12275,"qty":6597.51731160}],"asks":[],"checksum":1100635717,'
    '"timestamp":"2024-10-03T02:46:57.050170Z"}]}'
)


class Depth10(KrakenSpot):
    depth = 10


def test_feeds_registry_names_the_spot_feed() -> None:
    assert list(SPEC.feeds) == ["kraken"] and SPEC.feeds["kraken"] is KrakenSpot


# ---- the capture must-hold: recorded v1 book-1000 traffic, unwrapped here ---------------------------


def v1_book_messages(path: Path) -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
    """(pair, depth, payload dicts) of every v1 book message: ``[channelID, {..}, ({..},) "book-N", pair]``."""
    for ev in read_capture(path):
        if ev.kind != "recv":
            continue
        msg = orjson.loads(ev.data)
        if isinstance(msg, list) and msg[-2].startswith("book-"):
            yield msg[-1], int(msg[-2].split("-")[1]), msg[1:-2]


def test_capture_reproduces_every_kraken_checksum() -> None:
    books: dict[str, L2Book] = {}
    verified = failed = 0
    for pair, depth, parts in v1_book_messages(CAPTURE):
        if "as" in parts[0]:  # v1 snapshots carry no checksum
            books[pair] = L2Book("kraken", pair, keep_strings=True)
            books[pair].snapshot(parts[0]["bs"], parts[0]["as"])
            continue
        book = books[pair]
        for part in parts:  # levels are [price, volume, time(, "r" when republished)], as strings
            book.update(part.get("b", ()), part.get("a", ()))
        book.truncate(depth)
        expected = next(int(part["c"]) for part in parts if "c" in part)
        if book_checksum(book) == expected:
            verified += 1
        else:
            failed += 1
    assert (verified, failed) == (4269, 0)
    assert len(books) == 10


# ---- checksum and level text ---------------------------------------------------------------------


def test_checksum_tokens_follow_the_documented_examples() -> None:
    assert checksum_token("45285.2") + checksum_token("0.00100000") == "452852100000"
    assert checksum_token("0.05000") + checksum_token("0.00000304") == "5000304"


def test_levels_are_read_as_the_number_text_sent() -> None:
    assert raw_levels(RECORDED_UPDATE, '"bids"') == [("0.12275", "6597.51731160")]
    assert raw_levels(RECORDED_UPDATE, '"asks"') == []
    pretty = '{"channel": "book", "data": [{"symbol": "BTC/USD",\n "asks": [\n {"price": 45285.2, "qty": 0.00100000}\n]}]}'
    assert raw_levels(pretty, '"asks"') == [("45285.2", "0.00100000")]
    assert raw_levels(pretty, '"bids"') == []


def test_recorded_v2_frames_verify_and_keep_full_precision() -> None:
    handler = Depth10(auto_books=True)
    handler.on_frame(RECORDED_SNAPSHOT, 1727923617.0)
    book = handler.books["ALGO/USD"]
    assert book.state is BookState.LIVE and book.stats.checksums_ok == 1
    assert book.top_strings(Side.BUY, 2) == [("0.12291", "27039.62776299"), ("0.12290", "8136.33288180")]
    handler.on_frame(RECORDED_UPDATE.encode(), 1727923618.0)
    assert (book.stats.checksums_ok, book.stats.checksums_failed, book.stats.updates) == (2, 0, 1)
    assert book.bids[0.12275] == 6597.5173116
    assert handler.errors == 0 and handler.latency.count == 1
    assert handler.latency.samples[0] == pytest.approx(1727923618.0 - 1727923617.05017)


# ---- book maintenance with hand-made frames --------------------------------------------------------


def crc(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """The checksum computed independently of the product: int() drops the leading zeros."""
    return zlib.crc32("".join(str(int(p.replace(".", ""))) + str(int(q.replace(".", ""))) for p, q in asks + bids).encode())


def book_frame(kind: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], checksum: int) -> str:
    def side(levels: list[tuple[str, str]]) -> str:
        return ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels)

    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"BTC/USD","bids":[{side(bids)}],'
        f'"asks":[{side(asks)}],"checksum":{checksum},"timestamp":"2026-01-02T03:04:05.000006Z"}}]}}'
    )


BIDS = [(f"{60000 - i}.0", "0.50000000") for i in range(10)]
ASKS = [(f"{60001 + i}.0", "1.00000000") for i in range(10)]


def live_handler(resyncs: list[tuple[str, str]] | None = None) -> Depth10:
    handler = Depth10(on_resync=lambda h, native, reason: (resyncs if resyncs is not None else []).append((native, reason)))
    handler.add_book("BTC/USD", "BTC-USD")
    handler.on_frame(book_frame("snapshot", BIDS, ASKS, crc(ASKS, BIDS)), 1.0)
    assert handler.books["BTC/USD"].state is BookState.LIVE
    return handler


def test_an_insert_pushes_the_worst_level_out_without_a_delete() -> None:
    handler = live_handler()
    book = handler.books["BTC/USD"]
    better = ("60000.5", "2.00000000")
    bids = [better, *BIDS[:9]]  # the venue's window: 59991.0 fell out, and no qty 0 comes for it
    handler.on_frame(book_frame("update", [better], [], crc(ASKS, bids)), 2.0)
    assert book.levels(Side.BUY) == 10 and 59991.0 not in book.bids
    # the best bid goes: Kraken deletes it and re-sends the level that re-enters the window
    handler.on_frame(book_frame("update", [(better[0], "0.00000000"), BIDS[9]], [], crc(ASKS, BIDS)), 3.0)
    assert book.depth(10)[0] == [(float(p), float(q)) for p, q in BIDS]
    assert (book.stats.checksums_ok, book.stats.checksums_failed) == (3, 0)


def test_the_checksum_covers_the_qty_text_and_a_mismatch_resyncs() -> None:
    resyncs: list[tuple[str, str]] = []
    handler = live_handler(resyncs)
    book = handler.books["BTC/USD"]
    changed = [("60000.0", "0.75000000")]
    # the checksum over "0.75" (a float's text) is not Kraken's, which covers "0.75000000"
    wrong = crc(ASKS, [("60000.0", "0.75"), *BIDS[1:]])
    handler.on_frame(book_frame("update", changed, [], wrong), 2.0)
    assert resyncs == [("BTC/USD", "checksum")]
    assert book.state is BookState.RESYNCING and book.stats.checksums_failed == 1 and book.levels(Side.BUY) == 0
    # the old subscription's tail is ignored until the fresh snapshot arrives
    handler.on_frame(book_frame("update", changed, [], crc(ASKS, [changed[0], *BIDS[1:]])), 2.1)
    assert book.stats.updates == 1 and book.levels(Side.BUY) == 0
    handler.on_frame(book_frame("snapshot", BIDS, ASKS, crc(ASKS, BIDS)), 2.2)
    assert handler.books["BTC/USD"].state is BookState.LIVE and handler.errors == 0


def test_a_snapshot_with_a_bad_checksum_never_goes_live() -> None:
    resyncs: list[tuple[str, str]] = []
    handler = Depth10(on_resync=lambda h, native, reason: resyncs.append((native, reason)))
    handler.add_book("BTC/USD")
    handler.on_frame(book_frame("snapshot", BIDS, ASKS, crc(ASKS, BIDS) ^ 1), 1.0)
    assert handler.books["BTC/USD"].state is not BookState.LIVE and resyncs == [("BTC/USD", "checksum")]


# ---- trades, control frames, requests ----------------------------------------------------------------


def test_trades_are_normalized() -> None:
    trades: list[Trade] = []
    handler = KrakenSpot(on_trade=trades.append)
    handler.add_book("MATIC/USD", "MATIC-USD")
    frame = (
        '{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5147,'
        '"qty":6423.46326,"ord_type":"limit","trade_id":4665846,"timestamp":"2023-09-25T07:48:36.925533Z"}]}'
    )
    handler.on_frame(frame, 0.0)
    (trade,) = trades
    assert (trade.venue, trade.symbol, trade.side, trade.price, trade.amount) == ("kraken", "MATIC-USD", Side.SELL, 0.5147, 6423.46326)
    assert trade.trade_id == "4665846" and trade.ts == pytest.approx(1695628116.925533)


def test_control_frames_are_not_errors_but_legacy_frames_are(caplog: pytest.LogCaptureFixture) -> None:
    handler = KrakenSpot()
    frames = [
        '{"channel":"status","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.8"}],"type":"update"}',
        '{"channel":"heartbeat"}',
        '{"method":"pong","req_id":7,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}',
        '{"method":"subscribe","result":{"channel":"book","depth":100,"snapshot":true,"symbol":"BTC/USD"},"success":true}',
        '{"error":"Currency pair not supported XYZ/USD","method":"subscribe","success":false,"symbol":"XYZ/USD"}',
    ]
    for n, frame in enumerate(frames):
        handler.on_frame(frame, 10.0 + n)  # nothing to answer: the server sends no app pings
    assert handler.errors == 0 and handler.messages == 5 and handler.link.last_rx == 14.0
    assert "Currency pair not supported" in caplog.text
    handler.on_frame('[1360,{"a":[["0.000022900","1.0","1618678133.1"]],"c":"1"},"book-1000","ADA/XBT"]', 15.0)
    assert handler.errors == 1


def test_requests() -> None:
    handler = KrakenSpot(ws_url="ws://127.0.0.1:1")
    assert handler.connect_url(["BTC/USD"]) == "ws://127.0.0.1:1/v2"
    book, trade = (orjson.loads(f) for f in handler.subscribe_messages(["BTC/USD", "ETH/USD"]))
    assert book["method"] == "subscribe"
    assert book["params"] == {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 100, "snapshot": True}
    assert trade["params"] == {"channel": "trade", "symbol": ["BTC/USD", "ETH/USD"], "snapshot": False}
    unbook, untrade = (orjson.loads(f) for f in handler.unsubscribe_messages(["BTC/USD"]))
    # a book unsubscribe names its depth: left out, it means the default depth 10
    assert unbook["params"] == {"channel": "book", "symbol": ["BTC/USD"], "depth": 100}
    assert untrade == {"method": "unsubscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"]}, "req_id": untrade["req_id"]}
    ping = orjson.loads(handler.ping_message())
    assert ping["method"] == "ping" and ping["req_id"] > untrade["req_id"]


# ---- instruments ------------------------------------------------------------------------------------


ASSET_PAIRS = {
    "error": [],
    "result": {
        "XXBTZUSD": {
            "altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD",
            "pair_decimals": 1, "lot_decimals": 8, "tick_size": "0.1", "status": "online",
        },
        "XXBTZUSD.d": {"altname": "XBTUSD.d", "base": "XXBT", "quote": "ZUSD", "pair_decimals": 1, "lot_decimals": 8},
        "XDGUSD": {
            "altname": "XDGUSD", "wsname": "XDG/USD", "base": "XXDG", "quote": "ZUSD",
            "pair_decimals": 7, "lot_decimals": 8, "status": "online",
        },
        "SOLUSDT": {
            "altname": "SOLUSDT", "wsname": "SOL/USDT", "base": "SOL", "quote": "USDT",
            "pair_decimals": 2, "lot_decimals": 8, "tick_size": "0.01",
        },
    },
}


def test_instruments_map_v2_symbols_from_asset_pairs() -> None:
    handler = KrakenSpot(rest_url="http://127.0.0.1:1")
    assert handler.instruments_urls() == ["http://127.0.0.1:1/0/public/AssetPairs"]
    by_native = {i.native: i for i in handler.parse_instruments([orjson.dumps(ASSET_PAIRS)])}
    assert set(by_native) == {"BTC/USD", "DOGE/USD", "SOL/USDT"}  # the dark pool has no wsname
    btc = by_native["BTC/USD"]
    assert (btc.symbol, btc.base, btc.quote, btc.tick, btc.lot) == ("BTC-USD", "BTC", "USD", 0.1, 1e-8)
    assert by_native["DOGE/USD"].symbol == "DOGE-USD" and by_native["DOGE/USD"].tick == pytest.approx(1e-7)


def test_an_asset_pairs_error_envelope_raises() -> None:
    with pytest.raises(VenueUnavailable, match="EGeneral:Too many requests"):
        KrakenSpot().parse_instruments([b'{"error":["EGeneral:Too many requests"]}'])


# ---- the simulator -----------------------------------------------------------------------------------


class FakeConn:
    """What the simulator's protocol code uses of a connection."""

    def __init__(self) -> None:
        self.ws = SimpleNamespace(closed=False)
        self.subs: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.sent: list[dict[str, Any]] = []
        self.raw: list[str] = []

    def send(self, frame: str) -> None:
        self.raw.append(frame)
        self.sent.append(orjson.loads(frame))


def ask(sim: KrakenSpotSim, conn: FakeConn, msg: dict[str, Any]) -> list[dict[str, Any]]:
    start = len(conn.sent)
    run(sim.on_client_message(conn, orjson.dumps(msg)), 5)  # type: ignore[arg-type]
    return conn.sent[start:]


def test_window_changes_emulate_the_venue_window() -> None:
    before = [(100, 1), (99, 1), (98, 1)]
    # 101 inserted: 98 is pushed out but still rests in the book, so nothing is sent for it
    assert window_changes(before, [(101, 5), (100, 1), (99, 1)], {101: 5, 100: 1, 99: 1, 98: 1}, 3) == [(101, 5)]
    # 100 deleted: qty 0 for it, and 97 enters the window
    assert window_changes(before, [(99, 1), (98, 1), (97, 2)], {99: 1, 98: 1, 97: 2}, 3) == [(100, 0), (97, 2)]
    assert window_changes(before, before, {100: 1, 99: 1, 98: 1}, 3) == []


def test_sim_subscribes_per_symbol_with_numbers_at_full_precision() -> None:
    sim = KrakenSpotSim(SimMarket(levels=50))
    conn = FakeConn()
    subscribe = {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 25}, "req_id": 3}
    replies = ask(sim, conn, subscribe)
    acks = [r for r in replies if "method" in r]
    assert [(a["result"]["symbol"], a["result"]["depth"], a["success"], a["req_id"]) for a in acks] == [
        ("BTC/USD", 25, True, 3), ("ETH/USD", 25, True, 3)
    ]
    snapshot = next(f for f in conn.raw if '"type":"snapshot"' in f and "BTC/USD" in f)
    bids = raw_levels(snapshot, '"bids"')
    assert len(bids) == 25 and all(len(q.split(".")[1]) == 8 for _, q in bids)
    handler = KrakenSpot(auto_books=True)
    handler.on_frame(snapshot, 0.0)
    assert handler.books["BTC/USD"].stats.checksums_ok == 1
    again = ask(sim, conn, {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 25}})
    assert again[0]["success"] is False and again[0]["error"] == "Already subscribed"


def test_sim_unsubscribe_trade_snapshot_and_pings() -> None:
    sim = KrakenSpotSim(SimMarket(levels=50))
    conn = FakeConn()
    ask(sim, conn, {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 100}})
    wrong = ask(sim, conn, {"method": "unsubscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}})
    assert wrong[0]["error"] == "Subscription Not Found" and "BTC-USD" in conn.subs
    right = ask(sim, conn, {"method": "unsubscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 100}})
    assert right[0]["success"] is True and conn.subs == {}
    sim.trade_frame("BTC-USD", 6_000_000, 100, True, 7)
    ask(sim, conn, {"method": "subscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"], "snapshot": True}})
    trades = conn.sent[-1]
    assert (trades["type"], trades["data"][0]["trade_id"], conn.raw[-1].count('"qty":0.00100000')) == ("snapshot", 7, 1)
    pong = ask(sim, conn, {"method": "ping", "req_id": 42})
    assert pong[0]["method"] == "pong" and pong[0]["req_id"] == 42 and sim.client_pings == 1


def test_sim_corrupt_fault_spoils_exactly_the_next_checksum() -> None:
    market = SimMarket(levels=50)
    sim = KrakenSpotSim(market)
    handler = Depth10(auto_books=True, on_resync=lambda h, native, reason: None)
    conn = FakeConn()
    sim.connections.add(conn)  # type: ignore[arg-type]

    def deliver(frames: list[str]) -> None:
        for frame in frames:
            handler.on_frame(frame, 0.0)

    def tick() -> None:
        start = len(conn.raw)
        for (_, symbol), changes in market.advance().items():
            sim.tick(symbol, changes)
        deliver(conn.raw[start:])

    book_sub = {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
    ask(sim, conn, {"method": "subscribe", "params": {**book_sub, "symbol": ["BTC/USD", "ETH/USD"]}})
    deliver(conn.raw)
    sim.inject("corrupt", "BTC-USD")
    tick()
    btc, eth = handler.books["BTC/USD"], handler.books["ETH/USD"]
    assert (btc.stats.checksums_failed, btc.state) == (1, BookState.RESYNCING)
    start = len(conn.raw)
    ask(sim, conn, {"method": "unsubscribe", "params": book_sub})
    ask(sim, conn, {"method": "subscribe", "params": book_sub})
    deliver(conn.raw[start:])
    for _ in range(5):
        tick()
    assert btc.state is BookState.LIVE and btc.stats.checksums_failed == 1 and btc.stats.checksums_ok > 2
    assert eth.stats.checksums_failed == 0 and eth.stats.resyncs == 0


def test_sim_serves_asset_pairs_heartbeats_and_pongs_on_the_real_paths() -> None:
    async def body() -> None:
        sim = KrakenSpotSim(SimMarket(levels=30))
        await sim.start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{sim.rest_url}/0/public/AssetPairs") as resp:
                    pairs = await resp.read()
                natives = {i.native: i.symbol for i in KrakenSpot().parse_instruments([pairs])}
                assert natives == {sim.native(s): s for s in sim.markets}
                assert "XXBTZUSD" in orjson.loads(pairs)["result"]
                async with session.ws_connect(f"{sim.ws_url}/v2") as ws:
                    assert (await ws.receive_json(timeout=2))["channel"] == "status"
                    await ws.send_str('{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}}')
                    assert (await ws.receive_json(timeout=2))["result"] == {"channel": "trade", "snapshot": False, "symbol": "BTC/USD"}
                    assert await ws.receive_json(timeout=2) == {"channel": "heartbeat"}  # nothing else flows
                    await ws.send_str('{"method":"ping","req_id":5}')
                    assert (await ws.receive_json(timeout=2))["method"] == "pong"
            assert sim.client_pings == 1
        finally:
            await sim.stop()

    run(body(), 15)
