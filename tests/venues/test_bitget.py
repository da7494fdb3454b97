"""Bitget's wire rules: the recorded checksums, the checksum vectors, book sync by checksum,
trades, keep-alive and symbol mapping from the venue's metadata."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook.book.l2 import L2Book
from crossbook.errors import VenueUnavailable
from crossbook.market.replay import replay_files
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.venues.bitget import BitgetFutures, BitgetSpot, checksum
from crossbook.venues.registry import base_fees

from ..conftest import CAPTURES, run, wait_for
from .contract import Harness

CAPTURE = CAPTURES / "BITGET.ws.1.0.gz"
RECORDED_CHECKSUMS = 443  # every v1 books message in the capture carries one (README: "checksums the exchange computed")


# ---- the recorded capture ---------------------------------------------------------------------


def v1_book_messages() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(instId, action, data[0]) of every ``books`` push in the legacy v1 envelope."""
    with gzip.open(CAPTURE, "rt") as fh:
        for line in fh:
            if not line[0].isdigit():
                continue  # connection and sent lines
            msg = orjson.loads(line.split(": ", 1)[1])
            arg = msg.get("arg", {})
            if "action" in msg and arg.get("channel") == "books":
                yield arg["instId"], msg["action"], msg["data"][0]


def replay_checksums(fmt: Callable[[str], str] | None = None) -> tuple[int, int]:
    books: dict[str, L2Book] = {}
    verified = failed = 0
    for native, action, d in v1_book_messages():
        book = books.setdefault(native, L2Book("bitget", native, keep_strings=True))
        bids, asks = d["bids"], d["asks"]
        if fmt is not None:
            bids, asks = [[fmt(p), fmt(q)] for p, q in bids], [[fmt(p), fmt(q)] for p, q in asks]
        if action == "snapshot":
            book.snapshot(bids, asks)
        else:
            book.update(bids, asks)
        if checksum(book) == d["checksum"]:
            verified += 1
        else:
            failed += 1
    return verified, failed


def test_capture_every_recorded_checksum_is_reproduced() -> None:
    actions = [action for _, action, d in v1_book_messages() if d["checksum"] != 0]
    assert len(actions) == RECORDED_CHECKSUMS and actions.count("snapshot") == 8
    assert replay_checksums() == (RECORDED_CHECKSUMS, 0)


def test_capture_books_replay_through_the_v2_handler() -> None:
    """v1 ``books`` pushes have v2's shape, so the product's handler verifies them too; only the
    v1 trade arrays (30 of them) are unreadable to it."""
    replay = replay_files([CAPTURE])
    totals = replay.report()["totals"]
    assert (totals["checksums_ok"], totals["checksums_failed"], totals["gaps"]) == (RECORDED_CHECKSUMS, 0, 0)
    assert [(type(h), h.errors, h.trades) for h in replay.handlers.values()] == [(BitgetSpot, 30, 0)]


def test_capture_checksums_need_the_exchange_strings() -> None:
    verified, failed = replay_checksums(fmt=lambda s: repr(float(s)))  # "11.0000" -> "11.0"
    assert failed > 0 and verified + failed == RECORDED_CHECKSUMS


# ---- checksum vectors ---------------------------------------------------------------------------


def string_book(bids: list[list[str]], asks: list[list[str]]) -> L2Book:
    book = L2Book("bitget", "BTCUSDT", keep_strings=True)
    book.snapshot(bids, asks)
    return book


def test_checksum_vectors_from_the_docs() -> None:
    assert checksum(string_book([["3366.1", "7"]], [["3366.8", "9"], ["3368", "8"], ["3372", "8"]])) == 831078360
    assert checksum(string_book([["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]])) == -1881014294


def test_checksum_covers_25_levels_of_the_original_strings() -> None:
    bids = [[f"{100 - i}.00", "1.50"] for i in range(30)]
    asks = [[f"{101 + i}.00", "2.50"] for i in range(30)]
    full = string_book(bids, asks)
    assert checksum(full) == checksum(string_book(bids[:25], asks[:25]))
    assert checksum(full) != checksum(string_book(bids[:24], asks[:25]))
    assert checksum(string_book([["0.5000", "1"]], [])) != checksum(string_book([["0.5", "1"]], []))


# ---- the handler on hand-built v2 frames -------------------------------------------------------


def books_frame(action: str, bids: list[list[str]], asks: list[list[str]], check: int, seq: int, native: str = "BTCUSDT") -> bytes:
    arg = {"instType": "SPOT", "channel": "books", "instId": native}
    data = {"asks": asks, "bids": bids, "checksum": check, "seq": seq, "ts": "1700000000000"}
    return orjson.dumps({"action": action, "arg": arg, "data": [data], "ts": 1700000000001})


def crc(bids: list[list[str]], asks: list[list[str]]) -> int:
    return checksum(string_book(bids, asks))


def spot(*natives: str) -> tuple[BitgetSpot, list[tuple[str, str]]]:
    resyncs: list[tuple[str, str]] = []
    h = BitgetSpot(on_resync=lambda _h, native, reason: resyncs.append((native, reason)))
    for native in natives or ("BTCUSDT",):
        h.add_book(native)
    return h, resyncs


SNAP_B, SNAP_A = [["100.0", "1.000"], ["99.5", "2.000"]], [["100.5", "1.500"]]


def test_snapshot_then_updates_keep_the_book_live() -> None:
    h, resyncs = spot()
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, crc(SNAP_B, SNAP_A), 10), 1700000000.2)
    book = h.books["BTCUSDT"]
    assert book.state is BookState.LIVE and book.seq == 10
    after_b, after_a = [["100.0", "1.000"], ["99.8", "0.500"], ["99.5", "2.000"]], [["101.0", "3.000"]]
    h.on_frame(books_frame("update", [["99.8", "0.500"]], [["100.5", "0"], ["101.0", "3.000"]], crc(after_b, after_a), 17), 1700000000.3)
    assert book.depth(5) == ([(100.0, 1.0), (99.8, 0.5), (99.5, 2.0)], [(101.0, 3.0)])
    assert book.seq == 17 and book.stats.updates == 1 and book.stats.checksums_ok == 2
    assert book.top_strings(Side.BUY, 1) == [("100.0", "1.000")]
    assert h.latency.count == 2 and h.errors == 0 and resyncs == []


def test_checksum_mismatch_on_an_update_is_the_gap_signal_for_that_book_only() -> None:
    h, resyncs = spot("BTCUSDT", "ETHUSDT")
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, crc(SNAP_B, SNAP_A), 10), 1.0)
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, crc(SNAP_B, SNAP_A), 10, "ETHUSDT"), 1.0)
    h.on_frame(books_frame("update", [["99.9", "1.000"]], [], 12345, 11), 2.0)  # a lost update shows only here
    book = h.books["BTCUSDT"]
    assert resyncs == [("BTCUSDT", "gap")]
    assert book.stats.checksums_failed == 1 and book.stats.gaps == 1
    assert book.state is BookState.RESYNCING and book.best_bid() is None
    assert h.books["ETHUSDT"].stats.resyncs == 0 and h.books["ETHUSDT"].state is BookState.LIVE
    h.on_frame(books_frame("update", [["99.9", "2.000"]], [], 0, 12), 2.1)  # from the old subscription
    assert book.best_bid() is None and book.stats.updates == 0
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, crc(SNAP_B, SNAP_A), 40), 2.2)
    assert book.state is BookState.LIVE and book.best_bid() == (100.0, 1.0)


def test_snapshot_checksum_zero_is_not_checked_and_a_wrong_one_resyncs() -> None:
    h, resyncs = spot()
    book = h.books["BTCUSDT"]
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, 0, 5), 1.0)
    assert book.state is BookState.LIVE and book.stats.checksums_ok == 0 and book.stats.checksums_failed == 0
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, 777, 6), 2.0)
    assert resyncs == [("BTCUSDT", "checksum")]
    assert book.stats.checksums_failed == 1 and book.stats.gaps == 0 and book.state is not BookState.LIVE


def test_seq_may_jump_without_a_resync() -> None:
    h, resyncs = spot()
    h.on_frame(books_frame("snapshot", SNAP_B, SNAP_A, crc(SNAP_B, SNAP_A), 100), 1.0)
    b2 = [["100.0", "4.000"], ["99.5", "2.000"]]
    h.on_frame(books_frame("update", [["100.0", "4.000"]], [], crc(b2, SNAP_A), 9000), 2.0)
    assert resyncs == [] and h.books["BTCUSDT"].seq == 9000


def trade_frame(action: str, trades: list[dict[str, str]]) -> bytes:
    arg = {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"}
    return orjson.dumps({"action": action, "arg": arg, "data": trades, "ts": 1700000000100})


def test_trade_updates_are_normalized_in_time_order_and_history_is_not_replayed() -> None:
    trades: list[Trade] = []
    h = BitgetSpot(on_trade=trades.append)
    h.add_book("BTCUSDT", "BTC-USDT")
    old = {"ts": "1699999999000", "price": "42000.00", "size": "0.5000", "side": "sell", "tradeId": "1"}
    h.on_frame(trade_frame("snapshot", [old]), 1.0)
    assert trades == []
    newer = {"ts": "1700000000050", "price": "43854.01", "size": "0.0535", "side": "buy", "tradeId": "1116461060594286593"}
    new = {"ts": "1700000000010", "price": "43854.00", "size": "0.0100", "side": "sell", "tradeId": "1116461060594286590"}
    h.on_frame(trade_frame("update", [newer, new]), 2.0)
    assert [t.trade_id for t in trades] == ["1116461060594286590", "1116461060594286593"]
    t = trades[-1]
    assert (t.venue, t.symbol, t.price, t.amount, t.side, t.ts) == ("bitget", "BTC-USDT", 43854.01, 0.0535, Side.BUY, 1700000000.05)
    assert trades[0].side is Side.SELL and h.errors == 0


def test_pongs_and_acks_are_normal_errors_and_garbage_are_counted() -> None:
    h, _ = spot()
    h.on_frame("pong", 1.0)
    h.on_frame(b"pong", 1.0)
    h.on_frame(orjson.dumps({"event": "subscribe", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}}), 1.0)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 1.0
    h.on_frame(orjson.dumps({"event": "error", "code": 30001, "msg": "instType:SPOT,channel:books,instId:NOPE doesn't exist"}), 2.0)
    h.on_frame("not json", 2.0)
    h.on_frame(orjson.dumps({"action": "update", "arg": {"channel": "books", "instId": "BTCUSDT"}, "data": []}), 2.0)
    assert h.errors == 3 and h.messages == 6


def test_subscription_ping_and_url_match_the_v2_api() -> None:
    h = BitgetSpot()
    assert h.connect_url(["BTCUSDT"]) == "wss://ws.bitget.com/v2/ws/public"
    assert orjson.loads(h.subscribe_messages(["BTCUSDT"])[0]) == {
        "op": "subscribe",
        "args": [
            {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
            {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"},
        ],
    }
    assert orjson.loads(h.unsubscribe_messages(["BTCUSDT"])[0])["op"] == "unsubscribe"
    futures = orjson.loads(BitgetFutures().subscribe_messages(["BTCUSDT"])[0])
    assert {a["instType"] for a in futures["args"]} == {"USDT-FUTURES"}
    assert h.ping_message() == "ping" and BitgetSpot.ping_interval == 30.0
    assert (base_fees("bitget").taker, base_fees("bitget").maker) == (0.001, 0.001)
    assert (base_fees("bitgetfutures").taker, base_fees("bitgetfutures").maker) == (0.0006, 0.0002)


# ---- symbols from the venue's metadata -------------------------------------------------------------


def envelope(data: Any, code: str = "00000") -> bytes:
    return orjson.dumps({"code": code, "msg": "success", "requestTime": 1695808949356, "data": data})


def test_spot_symbols_map_from_the_symbols_endpoint() -> None:
    row = {"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "pricePrecision": "2", "quantityPrecision": "6", "status": "online"}
    off = {**row, "symbol": "OLDUSDT", "baseCoin": "OLD", "status": "offline"}
    h = BitgetSpot()
    assert h.instruments_urls() == ["https://api.bitget.com/api/v2/spot/public/symbols"]
    (inst,) = h.parse_instruments([envelope([row, off])])
    assert (inst.native, inst.symbol, inst.kind) == ("BTCUSDT", "BTC-USDT", Kind.SPOT)
    assert inst.tick == pytest.approx(0.01) and inst.lot == pytest.approx(0.000001)
    with pytest.raises(VenueUnavailable, match="40034"):
        h.parse_instruments([envelope(None, code="40034")])


def test_futures_symbols_map_from_the_contracts_endpoint() -> None:
    perp = {
        "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "priceEndStep": "1", "pricePlace": "1",
        "sizeMultiplier": "0.001", "symbolType": "perpetual", "symbolStatus": "normal", "deliveryTime": "",
    }
    dated = {**perp, "symbol": "BTCUSDT0627", "priceEndStep": "5", "symbolType": "delivery", "deliveryTime": "1782547200000"}
    halted = {**perp, "symbol": "XUSDT", "baseCoin": "X", "symbolStatus": "maintain"}
    h = BitgetFutures()
    assert h.instruments_urls() == ["https://api.bitget.com/api/v2/mix/market/contracts?productType=USDT-FUTURES"]
    got = {i.native: i for i in h.parse_instruments([envelope([perp, dated, halted])])}
    assert set(got) == {"BTCUSDT", "BTCUSDT0627"}
    assert got["BTCUSDT"].symbol == "BTC-USDT-PERP" and got["BTCUSDT"].kind is Kind.PERP
    assert got["BTCUSDT"].tick == pytest.approx(0.1) and got["BTCUSDT"].lot == pytest.approx(0.001)
    assert got["BTCUSDT0627"].symbol == "BTC-USDT-20260627" and got["BTCUSDT0627"].tick == pytest.approx(0.5)


# ---- against the simulated venue -------------------------------------------------------------------


def test_client_pings_keep_the_socket_that_the_venue_drops_without_them() -> None:
    async def body() -> None:
        fast = {"ping_interval": 0.1}
        async with Harness("bitget", handler_overrides=fast, sim_overrides={"ping_timeout": 0.6}) as h:
            await h.live()
            await asyncio.sleep(2.0)
            assert h.feed is not None and [c.connects for c in h.feed.connections] == [1]
            assert h.sim.client_pings >= 10 and h.handlers[0].errors == 0
            assert all(b.stats.checksums_ok > 0 and b.stats.checksums_failed == 0 for b in h.books.values())
        async with Harness("bitget", handler_overrides={"ping_interval": None}, sim_overrides={"ping_timeout": 0.6}) as h:
            await h.live()
            await wait_for(lambda: h.feed is not None and h.feed.connections[0].connects >= 2, 10, "the venue drops a silent client")

    run(body())


def test_sim_acks_errors_pongs_and_snapshots() -> None:
    async def body() -> None:
        async with SimCluster(["bitgetfutures"], interval=0.05, levels=60) as cluster, aiohttp.ClientSession() as session:
            sim = cluster.venues["bitgetfutures"]
            ws_url, rest_url = cluster.urls("bitgetfutures")
            async with session.get(f"{rest_url}/api/v2/mix/market/contracts?productType=usdt-futures") as resp:
                assert [c["symbol"] for c in (await resp.json())["data"]] == ["BTCUSDT", "ETHUSDT"]
            async with session.get(f"{rest_url}/api/v2/mix/market/contracts") as resp:
                assert resp.status == 400 and (await resp.json())["code"] == "40019"
            async with session.ws_connect(f"{ws_url}/v2/ws/public") as ws:
                await ws.send_str("ping")
                assert await ws.receive_str(timeout=5) == "pong"
                bad = {"instType": "USDT-FUTURES", "channel": "books", "instId": "NOPEUSDT"}
                good = {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}
                await ws.send_str(orjson.dumps({"op": "subscribe", "args": [bad, good]}).decode())
                error = orjson.loads(await ws.receive_str(timeout=5))
                assert error["event"] == "error" and error["code"] == 30001 and "NOPEUSDT" in error["msg"]
                assert orjson.loads(await ws.receive_str(timeout=5)) == {"event": "subscribe", "arg": good}
                snap = orjson.loads(await ws.receive_str(timeout=5))
                assert snap["action"] == "snapshot" and snap["arg"] == good
                book = string_book(snap["data"][0]["bids"], snap["data"][0]["asks"])
                assert checksum(book) == snap["data"][0]["checksum"] != 0
                assert len(snap["data"][0]["bids"]) == 60  # books is the full depth
                update = orjson.loads(await ws.receive_str(timeout=5))
                assert update["action"] == "update" and update["data"][0]["seq"] > snap["data"][0]["seq"]
            assert sim.client_pings == 1

    run(body())
