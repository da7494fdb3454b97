"""dYdX v4's wire rules: one message_id counter per socket with late subscribe answers, crossed
books resolved by level age, trades, batches, keep-alive and symbol mapping from the indexer's
metadata; the legacy v3 capture for the message shapes v4 kept."""

from __future__ import annotations

import asyncio
import gzip
import random
from itertools import pairwise
from typing import Any

import aiohttp
import orjson
import pytest

import crossbook.venues.dydx as dydx
from crossbook.book.l2 import L2Book
from crossbook.feeds.handler import Frame, Resync
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.venues.dydx import DydxSim
from crossbook.venues.dydx import DydxPerp
from crossbook.venues.registry import base_fees

from ..conftest import CAPTURES, run, wait_for
from .contract import Harness

CAPTURE = CAPTURES / "DYDX.ws.1.0.gz"
CONN = "ee5a4696-dce8-44ef-8d68-f0e0d0b06160"


# ---- the recorded capture (v3: shapes and message_id only) ------------------------------------


def recorded() -> tuple[list[str], list[tuple[float, str]]]:
    """(orderbook markets subscribed, every received frame with its time)."""
    markets: list[str] = []
    frames: list[tuple[float, str]] = []
    with gzip.open(CAPTURE, "rt") as fh:
        for line in fh:
            if line[0].isdigit():
                ts, _, msg = line.rstrip("\n").partition(": ")
                frames.append((float(ts), msg))
            elif " <- " in line:
                sub = orjson.loads(line.split(": ", 1)[1])
                if sub["channel"] == "v3_orderbook":
                    markets.append(sub["id"])
    return markets, frames


def replay_as_v4(announce_subscribes: bool) -> tuple[DydxPerp, list[tuple[str, str]], int]:
    """The capture through the v4 handler, its v3 channel names renamed in test code (v4 kept
    the envelope, the level shapes and the message_id counter). Returns the handler, its resync
    requests and how many times a LIVE book was crossed after a frame."""
    markets, frames = recorded()
    resyncs: list[tuple[str, str]] = []
    h = DydxPerp(auto_books=True, on_resync=lambda _h, native, reason: resyncs.append((native, reason)))
    if announce_subscribes:
        h.subscribe_messages(markets)  # what the recorded client sent: 10 books + 10 trades
    crossed = 0
    for ts, msg in frames:
        h.on_frame(msg.replace('"channel":"v3_', '"channel":"v4_'), ts)
        crossed += sum(b.state is BookState.LIVE and b.crossed() for b in h.books.values())
    return h, resyncs, crossed


def test_capture_message_id_is_one_counter_per_socket_with_late_subscribe_answers() -> None:
    _, frames = recorded()
    msgs = [orjson.loads(m) for _, m in frames]
    ids = [m["message_id"] for m in msgs]
    assert len(ids) == 4733 and sorted(ids) == list(range(4733))  # across channels, none lost
    late = [m for prev, m in pairwise(msgs) if m["message_id"] < prev["message_id"]]
    assert len(late) == 4 and {m["type"] for m in late} == {"subscribed"}
    assert sum(b != a + 1 for a, b in pairwise(ids)) == 8  # what a naive +1 check calls gaps


def test_capture_replays_without_a_false_gap_and_never_crossed() -> None:
    h, resyncs, crossed = replay_as_v4(announce_subscribes=True)
    assert resyncs == [] and h.errors == 0 and crossed == 0
    assert len(h.books) == 10 and all(b.state is BookState.LIVE and b.stats.gaps == 0 for b in h.books.values())
    assert sum(b.stats.updates for b in h.books.values()) == 4687
    assert (h.trades, h.latency.count, h.awaiting, h.missing) == (26, 25, 0, set())
    eth = h.books["ETH-USD"]
    assert eth.best_bid() is not None and eth.best_ask() is not None and not eth.crossed()


def test_capture_late_answers_read_as_a_gap_without_the_outstanding_subscribes() -> None:
    h, resyncs, _ = replay_as_v4(announce_subscribes=False)
    assert sorted(resyncs) == sorted((m, "gap") for m in h.books) and len(resyncs) == 10


# ---- hand-built v4 frames (documented shapes) --------------------------------------------------


def frame(kind: str, mid: int, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, "connection_id": CONN, "message_id": mid, **fields})


def snapshot(mid: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], native: str = "BTC-USD") -> bytes:
    contents = {"bids": [{"price": p, "size": q} for p, q in bids], "asks": [{"price": p, "size": q} for p, q in asks]}
    return frame("subscribed", mid, channel="v4_orderbook", id=native, contents=contents)


def update(mid: int, native: str = "BTC-USD", **sides: list[list[str]]) -> bytes:
    return frame("channel_data", mid, id=native, channel="v4_orderbook", version="1.0.0", contents=sides)


def batch(mid: int, contents: list[dict[str, Any]], native: str = "BTC-USD") -> bytes:
    return frame("channel_batch_data", mid, id=native, channel="v4_orderbook", version="1.0.0", contents=contents)


def handler(*natives: str) -> tuple[DydxPerp, list[tuple[str, str]]]:
    """A handler that has subscribed ``natives`` and heard the ``connected`` greeting."""
    resyncs: list[tuple[str, str]] = []
    h = DydxPerp(on_resync=lambda _h, native, reason: resyncs.append((native, reason)))
    natives = natives or ("BTC-USD",)
    for native in natives:
        h.add_book(native, native + "-PERP")
    h.connection_opened()
    h.subscribe_messages(list(natives))
    h.on_frame(frame("connected", 0), 1.0)
    return h, resyncs


def depth(h: DydxPerp, native: str = "BTC-USD") -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    return h.books[native].depth(10)


def test_documented_snapshot_and_updates_build_the_book() -> None:
    h, resyncs = handler()
    h.on_frame(snapshot(1, [("28194", "4.764826096"), ("28193", "3.115323739")], [("28195", "3.219612343")]), 1.1)
    book = h.books["BTC-USD"]
    assert book.state is BookState.LIVE and book.seq == 1 and book.updated_at == 1.1
    h.on_frame(update(3, bids=[["27773", "1.986168516"]]), 1.2)  # the docs' channel_data: bids only
    h.on_frame(update(4, asks=[["28195", "0"], ["28196", "2.5"]]), 1.3)  # asks only, "0" deletes
    h.on_frame(update(5, bids=[["28193", "0"]], asks=[["28197", "1"]]), 1.4)
    assert depth(h) == ([(28194.0, 4.764826096), (27773.0, 1.986168516)], [(28196.0, 2.5), (28197.0, 1.0)])
    assert book.seq == 5 and book.stats.updates == 3 and book.updated_at == 1.4
    assert resyncs == [] and h.errors == 0 and h.latency.count == 0  # book messages carry no time


def test_batch_data_applies_every_update_in_order() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(batch(3, [{"bids": [["100", "2"]]}, {"bids": [["100", "0"], ["99.5", "3"]]}, {"asks": [["101.5", "4"]]}]), 1.1)
    assert depth(h) == ([(99.5, 3.0)], [(101.0, 1.0), (101.5, 4.0)])
    assert h.books["BTC-USD"].stats.updates == 3 and h.books["BTC-USD"].seq == 3


# ---- crossed books --------------------------------------------------------------------------------


def test_a_newer_bid_through_the_asks_drops_the_older_asks() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("100", "1"), ("99", "1")], [("101", "1"), ("102", "1"), ("104", "1")]), 1.0)
    h.on_frame(update(2, bids=[["102.5", "5"]]), 1.1)
    assert depth(h) == ([(102.5, 5.0), (100.0, 1.0), (99.0, 1.0)], [(104.0, 1.0)])
    assert not h.books["BTC-USD"].crossed()


def test_a_newer_ask_through_the_bids_drops_the_older_bids_one_by_one() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("100", "1"), ("99", "1")], [("101", "1"), ("102", "1")]), 1.0)
    h.on_frame(update(2, bids=[["101.5", "1"]]), 1.1)  # drops ask 101 (older)
    h.on_frame(update(3, asks=[["99.5", "2"]]), 1.2)  # newer than bid 101.5 and bid 100: both go
    assert depth(h) == ([(99.0, 1.0)], [(99.5, 2.0), (102.0, 1.0)])


def test_the_older_side_goes_even_when_it_is_the_one_that_moved() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("100", "1")], [("103", "1")]), 1.0)
    h.on_frame(update(2, asks=[["102", "1"]]), 1.1)
    h.on_frame(update(3, bids=[["101", "1"]]), 1.2)
    h.on_frame(update(4, asks=[["102", "3"]]), 1.3)  # ask 102 re-set at 4: younger than bid 101
    h.on_frame(update(5, asks=[["100.5", "1"]]), 1.4)  # crosses bid 101 (set at 3): the bid goes
    assert depth(h) == ([(100.0, 1.0)], [(100.5, 1.0), (102.0, 3.0), (103.0, 1.0)])


def test_a_crossed_snapshot_drops_asks_on_a_tie() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("101", "1"), ("100", "1")], [("100.5", "1"), ("101", "2"), ("102", "1")]), 1.0)
    assert depth(h) == ([(101.0, 1.0), (100.0, 1.0)], [(102.0, 1.0)])
    assert h.books["BTC-USD"].state is BookState.LIVE


def test_updates_within_a_batch_are_ordered_by_their_place() -> None:
    h, _ = handler()
    h.on_frame(snapshot(1, [("100", "1")], [("102", "1")]), 1.0)
    h.on_frame(batch(3, [{"bids": [["102.5", "1"]]}, {"asks": [["101", "2"]]}]), 1.1)
    # the bid (first) drops ask 102; the later ask 101 then drops that bid
    assert depth(h) == ([(100.0, 1.0)], [(101.0, 2.0)])


def test_random_updates_never_leave_the_book_crossed() -> None:
    h, _ = handler()
    rng = random.Random(3)
    h.on_frame(snapshot(1, [(str(100 - i), "1") for i in range(5)], [(str(101 + i), "1") for i in range(5)]), 1.0)
    book = h.books["BTC-USD"]
    for mid in range(2, 2000):
        side = "bids" if rng.random() < 0.5 else "asks"
        levels = [[f"{rng.uniform(95, 106):.1f}", rng.choice(["0", "1", "2.5"])] for _ in range(rng.randint(1, 3))]
        h.on_frame(update(mid, **{side: levels}), 1.0 + mid / 1000)
        assert not book.crossed()
    assert book.state is BookState.LIVE and h.errors == 0


# ---- message_id ----------------------------------------------------------------------------------


def test_a_lost_message_resyncs_every_synced_book_on_the_socket_once() -> None:
    h, resyncs = handler("BTC-USD", "ETH-USD", "SOL-USD")
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(snapshot(2, [("10", "1")], [("11", "1")], native="ETH-USD"), 1.0)
    h.on_frame(update(7, native="ETH-USD", bids=[["10.5", "1"]]), 1.1)  # 3..6: SOL's and 3 trades answers, late
    assert resyncs == []
    h.on_frame(update(9, bids=[["99", "1"]]), 1.2)  # now 5 ids missing, 4 answers outstanding
    assert sorted(resyncs) == [("BTC-USD", "gap"), ("ETH-USD", "gap")]  # SOL awaits its snapshot
    for native in ("BTC-USD", "ETH-USD"):
        book = h.books[native]
        assert book.state is BookState.RESYNCING and book.stats.gaps == 1 and book.best_bid() is None
    h.on_frame(update(10, bids=[["98", "1"]]), 1.3)  # from the old subscription: ignored
    h.on_frame(frame("unsubscribed", 11, channel="v4_orderbook", id="BTC-USD"), 1.4)
    h.subscribe_messages(["BTC-USD"])  # the driver's resubscribe
    h.on_frame(snapshot(12, [("97", "1")], [("98", "1")]), 1.5)
    assert h.books["BTC-USD"].state is BookState.LIVE and depth(h) == ([(97.0, 1.0)], [(98.0, 1.0)])
    assert len(resyncs) == 2 and h.errors == 0


def test_late_subscribe_answers_fill_their_ids_without_a_gap() -> None:
    h, resyncs = handler("BTC-USD", "ETH-USD")  # ids 1..4 taken by the four subscribe answers
    h.on_frame(snapshot(2, [("10", "1")], [("11", "1")], native="ETH-USD"), 1.0)
    h.on_frame(update(5, native="ETH-USD", bids=[["10.5", "1"]]), 1.1)
    h.on_frame(update(6, native="ETH-USD", asks=[["10.9", "1"]]), 1.2)
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.3)
    h.on_frame(frame("subscribed", 4, channel="v4_trades", id="ETH-USD", contents={"trades": []}), 1.4)
    h.on_frame(frame("subscribed", 3, channel="v4_trades", id="BTC-USD", contents={"trades": []}), 1.5)
    h.on_frame(update(7, bids=[["100.5", "1"]]), 1.6)
    assert resyncs == [] and (h.awaiting, h.missing, h.last_id) == (0, set(), 7)
    assert all(b.state is BookState.LIVE for b in h.books.values())


def test_a_failed_subscribe_answers_with_its_id_and_other_errors_repeat_the_current_one() -> None:
    h, resyncs = handler("BTC-USD")  # ids 1 (book) and 2 (trades) pending
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(update(3, bids=[["99", "1"]]), 1.1)
    h.on_frame(frame("error", 2, message="Internal error, could not fetch data for subscription: v4_trades."), 1.2)
    h.on_frame(frame("error", 3, message="Invalid message: could not parse"), 1.3)
    h.on_frame(update(4, bids=[["98", "1"]]), 1.4)
    assert resyncs == [] and h.errors == 2 and h.awaiting == 0


def test_a_message_lost_while_an_answer_is_pending_is_found_when_the_answer_comes() -> None:
    h, resyncs = handler("BTC-USD")
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(update(3, bids=[["99", "1"]]), 1.1)  # 2 missing: the trades answer, or a loss
    assert resyncs == []
    h.on_frame(frame("subscribed", 4, channel="v4_trades", id="BTC-USD", contents={"trades": []}), 1.2)
    assert resyncs == [("BTC-USD", "gap")]


def test_a_new_socket_restarts_the_counter() -> None:
    h, resyncs = handler()
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(update(3, bids=[["99", "1"]]), 1.1)
    h.connection_opened()
    assert h.books["BTC-USD"].state is BookState.RESYNCING and h.books["BTC-USD"].best_bid() is None
    frames = [orjson.loads(f) for f in h.subscribe_messages(["BTC-USD"])]
    assert [f["channel"] for f in frames] == ["v4_orderbook", "v4_trades"]
    h.on_frame(frame("connected", 0), 2.0)
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 2.1)
    assert resyncs == [] and h.books["BTC-USD"].state is BookState.LIVE


# ---- trades, requests, instruments ----------------------------------------------------------------


def test_trades_are_normalized_and_the_subscribe_history_is_not_replayed() -> None:
    trades: list[Trade] = []
    h = DydxPerp(on_trade=trades.append)
    h.add_book("BTC-USD", "BTC-USD-PERP")
    old = {"side": "BUY", "size": "0.00396135", "price": "27848", "createdAt": "2023-04-04T00:28:56.226Z", "createdAtHeight": "49592"}
    h.on_frame(frame("subscribed", 1, channel="v4_trades", id="BTC-USD", contents={"trades": [old]}), 1680568160.0)
    assert trades == [] and h.latency.count == 0
    fills = [
        {
            "id": "8ee6d90d-272d-5edd-bf0f-2e4d6ae3d3b7", "size": "0.000100431", "price": "27839", "side": "BUY",
            "createdAt": "2023-04-04T00:29:19.353Z", "liquidation": False,
        },
        {
            "id": "d310c32c-f066-5ba8-a97d-10a29d9a6c84", "size": "0.000000005", "price": "27837", "side": "SELL",
            "createdAt": "2023-04-04T00:29:19.353Z", "liquidation": False,
        },
    ]
    h.on_frame(frame("channel_data", 2, id="BTC-USD", channel="v4_trades", version="1.1.0", contents={"trades": fills}), 1680568159.403)
    batched = frame("channel_batch_data", 3, id="BTC-USD", channel="v4_trades", version="1.1.0", contents=[{"trades": fills[:1]}])
    h.on_frame(batched, 1680568159.5)
    assert [t.trade_id for t in trades] == [fills[0]["id"], fills[1]["id"], fills[0]["id"]]
    t = trades[0]
    assert (t.venue, t.symbol, t.price, t.amount, t.side, t.ts) == ("dydx", "BTC-USD-PERP", 27839.0, 0.000100431, Side.BUY, 1680568159.353)
    assert trades[1].side is Side.SELL and h.latency.count == 2
    assert h.latency.samples[0] == pytest.approx(0.05, abs=1e-6) and h.errors == 0


def test_acks_are_normal_and_an_unreadable_frame_is_a_lost_message() -> None:
    h, resyncs = handler("BTC-USD", "ETH-USD")
    h.on_frame(snapshot(1, [("100", "1")], [("101", "1")]), 1.0)
    h.on_frame(frame("unsubscribed", 5, channel="v4_orderbook", id="ETH-USD"), 1.1)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 1.1 and resyncs == []
    h.on_frame(update(6, bids=[["99", "1"], ["98"]]), 2.0)  # a level without a size
    assert h.errors == 1 and resyncs == [("BTC-USD", "unreadable frame")]
    assert h.books["BTC-USD"].best_bid() is None and h.books["BTC-USD"].stats.gaps == 0
    h.on_frame("not json", 2.1)
    h.on_frame(frame("channel_data", 8, id="BTC-USD", channel="v4_trades", contents={}), 2.2)
    assert h.errors == 3 and h.messages == 6 and len(resyncs) == 1  # nothing synced left to resync


def test_requests_url_and_venue_facts() -> None:
    h = DydxPerp()
    assert h.connect_url(["BTC-USD"]) == "wss://indexer.dydx.trade/v4/ws"
    first = [orjson.loads(f) for f in h.subscribe_messages(["BTC-USD", "ETH-USD"])]
    assert first[0] == {"type": "subscribe", "channel": "v4_orderbook", "id": "BTC-USD", "batched": False}
    assert [(f["channel"], f["id"]) for f in first[2:]] == [("v4_trades", "BTC-USD"), ("v4_trades", "ETH-USD")]
    assert h.awaiting == 4
    # a resync resubscribes the book alone: the trades subscription stays
    assert orjson.loads(h.unsubscribe_messages(["BTC-USD"])[0]) == {"type": "unsubscribe", "channel": "v4_orderbook", "id": "BTC-USD"}
    assert [orjson.loads(f)["channel"] for f in h.subscribe_messages(["BTC-USD"])] == ["v4_orderbook"]
    assert (DydxPerp.resync_by, DydxPerp.sequence_scope, DydxPerp.ping_interval) == (Resync.RESUBSCRIBE, "connection", None)
    assert (base_fees("dydx").taker, base_fees("dydx").maker, DydxPerp.max_streams) == (0.0005, 0.0001, 64)
    assert DydxSim.server_ping_interval == 30.0 and "skip" in DydxSim.faults_supported


def test_symbols_map_from_the_perpetual_markets_endpoint() -> None:
    btc = {
        "clobPairId": "0", "ticker": "BTC-USD", "status": "ACTIVE", "baseAsset": "", "quoteAsset": "",
        "atomicResolution": -10, "quantumConversionExponent": -9, "tickSize": "1", "stepSize": "0.0001",
    }
    eth = {**btc, "clobPairId": "1", "ticker": "ETH-USD", "tickSize": "0.1", "stepSize": "0.001"}
    settled = {**btc, "clobPairId": "9", "ticker": "LUNA-USD", "status": "FINAL_SETTLEMENT"}
    h = DydxPerp()
    assert h.instruments_urls() == ["https://indexer.dydx.trade/v4/perpetualMarkets"]
    body = orjson.dumps({"markets": {m["ticker"]: m for m in (btc, eth, settled)}})
    got = {i.native: i for i in h.parse_instruments([body])}
    assert set(got) == {"BTC-USD", "ETH-USD"}
    btc_usd = got["BTC-USD"]
    assert (btc_usd.symbol, btc_usd.base, btc_usd.quote, btc_usd.kind) == ("BTC-USD-PERP", "BTC", "USD", Kind.PERP)
    assert got["ETH-USD"].tick == pytest.approx(0.1) and got["ETH-USD"].lot == pytest.approx(0.001)


# ---- against the simulated venue ------------------------------------------------------------------


async def receive(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[dict[str, Any]]:
    """Every frame that arrives within ``seconds``."""
    out: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except TimeoutError:
            break
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        out.append(orjson.loads(msg.data))
    return out


def request(kind: str, channel: str, native: str) -> str:
    return orjson.dumps({"type": kind, "channel": channel, "id": native, "batched": False}).decode()


async def send_all(ws: aiohttp.ClientWebSocketResponse, frames: list[Frame]) -> None:
    for f in frames:
        await ws.send_str(f.decode() if isinstance(f, bytes) else f)


def test_sim_answers_a_subscribe_late_under_its_arrival_id() -> None:
    async def body() -> None:
        async with SimCluster(["dydx"], interval=0.05, levels=40) as cluster, aiohttp.ClientSession() as session:
            sim = cluster.venues["dydx"]
            assert isinstance(sim, DydxSim)
            ws_url, _ = cluster.urls("dydx")
            h, resyncs = DydxPerp(), []
            h.on_resync = lambda _h, native, reason: resyncs.append((native, reason))
            h.add_book("BTC-USD")
            h.add_book("ETH-USD")
            h.connection_opened()
            async with session.ws_connect(f"{ws_url}/v4/ws") as ws:
                await send_all(ws, h.subscribe_messages(["BTC-USD"]))
                msgs = await receive(ws, 0.4)
                sim.fetch_delay = (0.3, 0.3)
                await send_all(ws, h.subscribe_messages(["ETH-USD"]))
                msgs += await receive(ws, 0.6)
            ids = [m["message_id"] for m in msgs]
            assert msgs[0]["type"] == "connected" and sorted(ids) == list(range(len(ids)))  # one counter, none lost
            eth = [i for i, m in enumerate(msgs) if m["type"] == "subscribed" and m["id"] == "ETH-USD"]
            assert len(eth) == 2 and all(msgs[i]["message_id"] < max(ids[:i]) for i in eth)  # late, under older ids
            for m in msgs:
                h.on_frame(orjson.dumps(m), 1.0)
            assert resyncs == [] and h.errors == 0 and all(b.state is BookState.LIVE for b in h.books.values())
            assert (h.awaiting, h.missing) == (0, set()) and h.trades > 0

    run(body())


def test_sim_skip_spends_one_message_id_and_bad_requests_repeat_the_current_id() -> None:
    async def body() -> None:
        async with SimCluster(["dydx"], interval=0.05, levels=40) as cluster, aiohttp.ClientSession() as session:
            sim = cluster.venues["dydx"]
            ws_url, _ = cluster.urls("dydx")
            async with session.ws_connect(f"{ws_url}/v4/ws") as ws:
                await ws.send_str(request("subscribe", "v4_orderbook", "BTC-USD"))
                last = (await receive(ws, 0.3))[-1]["message_id"]
                sim.inject("skip", "BTC-USD-PERP")
                ids = [last] + [m["message_id"] for m in await receive(ws, 0.3)]
                assert len(ids) > 2 and [b - a for a, b in pairwise(ids) if b != a + 1] == [2]
                await ws.send_str('{"type":"subscribe","channel":"v4_nope","id":"BTC-USD"}')
                await ws.send_str(request("subscribe", "v4_orderbook", "NOPE-USD"))
                await ws.send_str("not json")
                msgs = await receive(ws, 0.3)
            errors = [(i, m) for i, m in enumerate(msgs) if m["type"] == "error"]
            assert [m["message"] for _, m in errors] == [
                "Invalid channel: v4_nope",
                "Invalid subscription id for channel: (v4_orderbook-NOPE-USD)",
                "Invalid message: could not parse",
            ]
            before = [msgs[i - 1]["message_id"] if i else ids[-1] for i, _ in errors]
            # a subscribe takes an id on arrival; a malformed request repeats the current one
            assert [m["message_id"] - b for (_, m), b in zip(errors, before, strict=True)] == [0, 1, 0]

    run(body())


def test_sim_acks_and_rate_limits_subscribes() -> None:
    async def body() -> None:
        async with SimCluster(["dydx"], interval=0.05, levels=40) as cluster, aiohttp.ClientSession() as session:
            sim = cluster.venues["dydx"]
            assert isinstance(sim, DydxSim)
            ws_url, _ = cluster.urls("dydx")
            async with session.ws_connect(f"{ws_url}/v4/ws") as ws:
                await ws.send_str(request("subscribe", "v4_orderbook", "ETH-USD"))
                await receive(ws, 0.2)
                await ws.send_str(request("subscribe", "v4_orderbook", "ETH-USD"))
                errors = [m["message"] for m in await receive(ws, 0.3) if m["type"] == "error"]
                assert errors == ["Invalid subscribe message: already subscribed (v4_orderbook-ETH-USD)"]
                await ws.send_str(request("unsubscribe", "v4_orderbook", "ETH-USD"))
                await ws.send_str('{"type":"ping"}')
                kinds = [(m["type"], m.get("channel"), m.get("id")) for m in await receive(ws, 0.3)]
                ack = kinds.index(("unsubscribed", "v4_orderbook", "ETH-USD"))
                assert kinds[ack + 1 :] == []  # nothing more for the book, no answer to the ping
            assert sim.client_pings == 1
            sim.fetch_delay = (0.0, 0.0)
            async with session.ws_connect(f"{ws_url}/v4/ws") as ws:
                for _ in range(3):  # a third subscribe to one channel and id within a second
                    await ws.send_str(request("subscribe", "v4_orderbook", "BTC-USD"))
                errors = []
                while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
                    errors += [m["message"] for m in [orjson.loads(msg.data)] if m["type"] == "error"]
                assert sorted(errors) == [
                    "Invalid subscribe message: already subscribed (v4_orderbook-BTC-USD)",
                    "Too many subscribe attempts for channel v4_orderbook-BTC-USD. Please reconnect and try again.",
                ]
                assert ws.close_code == 1008

    run(body())


def test_sim_rest_markets_and_book() -> None:
    async def body() -> None:
        async with SimCluster(["dydx"], interval=0.05, levels=40) as cluster, aiohttp.ClientSession() as session:
            sim = cluster.venues["dydx"]
            cluster.pause()
            _, rest_url = cluster.urls("dydx")
            async with session.get(f"{rest_url}/v4/perpetualMarkets") as resp:
                raw = await resp.read()
            markets = orjson.loads(raw)["markets"]
            btc = markets["BTC-USD"]
            assert (btc["ticker"], btc["status"], btc["tickSize"], btc["stepSize"]) == ("BTC-USD", "ACTIVE", "0.1", "0.0001")
            assert (btc["atomicResolution"], btc["quantumConversionExponent"], btc["subticksPerTick"]) == ("-10", "-9", 10_000)
            assert {i.symbol for i in DydxPerp().parse_instruments([raw])} == {"BTC-USD-PERP", "ETH-USD-PERP"}
            async with session.get(f"{rest_url}/v4/orderbooks/perpetualMarket/ETH-USD") as resp:
                book = await resp.json()
            bids, asks = sim.expected_top("ETH-USD-PERP", 40)
            assert [(float(lv["price"]), float(lv["size"])) for lv in book["bids"]] == bids
            assert [(float(lv["price"]), float(lv["size"])) for lv in book["asks"]] == asks
            assert all(not lv["price"].endswith("0") or "." not in lv["price"] for lv in book["asks"])
            async with session.get(f"{rest_url}/v4/orderbooks/perpetualMarket/NOPE-USD") as resp:
                assert resp.status == 400 and "errors" in await resp.json()

    run(body())


def test_a_gap_resubscribes_each_book_exactly_once() -> None:
    sent: list[dict[str, Any]] = []

    def subscribe_messages(self: DydxPerp, natives: list[str]) -> list[Frame]:
        frames = DydxPerp.subscribe_messages(self, natives)
        sent.extend(orjson.loads(f) for f in frames)
        return frames

    async def body() -> None:
        async with Harness("dydx", handler_overrides={"subscribe_messages": subscribe_messages}) as h:
            await h.live()
            h.sim.inject("skip", "ETH-USD-PERP")
            await wait_for(
                lambda: all(b.stats.gaps == 1 and b.status() is BookState.LIVE for b in h.books.values()), 10, "both books resynced"
            )
            await asyncio.sleep(1.5)  # long enough for a storm to show
            await h.settled()
            books = sorted(s["id"] for s in sent if s["channel"] == "v4_orderbook")
            trades = sorted(s["id"] for s in sent if s["channel"] == "v4_trades")
            assert books == ["BTC-USD", "BTC-USD", "ETH-USD", "ETH-USD"] and trades == ["BTC-USD", "ETH-USD"]
            assert all(b.stats.resyncs == 1 and b.stats.gaps == 1 for b in h.books.values())
            assert h.feed is not None and [c.connects for c in h.feed.connections] == [1]
            assert h.handlers[0].errors == 0 and h.violations == []

    run(body())


def test_per_side_messages_cross_the_book_and_the_handler_uncrosses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    dropped: list[int] = []
    uncross = dydx.uncross

    def counting(book: L2Book, ages: dydx.Ages) -> int:
        dropped.append(uncross(book, ages))
        return dropped[-1]

    monkeypatch.setattr(dydx, "uncross", counting)

    async def body() -> None:
        async with Harness("dydx") as h:
            await h.live()
            await wait_for(lambda: sum(dropped) >= 5, 15, "the market to move up through the asks")
            await h.settled()
            assert h.violations == [] and h.live_samples > 0

    run(body())


def test_batched_subscriptions_keep_the_books() -> None:
    async def body() -> None:
        async with Harness("dydx", handler_overrides={"batched": True}) as h:
            await h.live()
            await wait_for(lambda: len(h.trades) >= 3, 10, "batched trades")
            await h.settled()
            assert all(b.stats.updates > 0 for b in h.books.values()) and h.handlers[0].errors == 0

    run(body())


def test_protocol_pings_are_answered_and_a_silent_client_is_dropped() -> None:
    async def body() -> None:
        async with Harness("dydx", sim_overrides={"server_ping_interval": 0.4}) as h:
            await h.live()
            await asyncio.sleep(1.5)
            assert h.feed is not None and [c.connects for c in h.feed.connections] == [1] and h.all_live()
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/v4/ws", autoping=False) as ws:
                kinds = []
                closing = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
                while (msg := await ws.receive(timeout=5)).type not in closing:
                    kinds.append(msg.type)
                assert aiohttp.WSMsgType.PING in kinds

    run(body())
