"""MEXC spot v3: the protobuf wire format, the documented sync rules, trades, instruments and
keep-alive. There is no recorded MEXC traffic, so the frames here are written byte by byte from the
published .proto field numbers, independently of the simulator's encoder."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook.feeds.capture import CaptureWriter
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import replay_files
from crossbook.model import BookState, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.market import SimMarket
from crossbook.sim.server import SimVenue
from crossbook.sim.venues.mexc import MexcSpotSim
from crossbook.symbols import SymbolMap
from crossbook.venues import mexc
from crossbook.venues.mexc import MexcSpot, decode_push
from crossbook.venues.protowire import (
    LEN,
    DecodeError,
    as_bytes,
    as_int,
    as_str,
    fields,
    key,
    read_varint,
    signed64,
    varint,
)
from crossbook.venues.registry import base_fees, feed_for_url

from ..conftest import run, wait_for
from .contract import DEPTH, Harness

# ---- frames written by hand from the .proto files ----------------------------------------------

DEPTH_CHANNEL = b"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"  # 47 bytes
DEPTH_EVENT = b"spot@public.aggre.depth.v3.api.pb@100ms"  # 39 bytes
DEPTH_BODY = (  # PublicAggreDepthsV3Api, 108 bytes
    b"\x0a\x13" + b"\x0a\x0860000.01" + b"\x12\x070.12345"  # asks (1): {price (1), quantity (2)}
    + b"\x12\x0f" + b"\x0a\x0859999.98" + b"\x12\x032.5"  # bids (2)
    + b"\x1a\x27" + DEPTH_EVENT  # eventType (3)
    + b"\x22\x0b43296363236"  # fromVersion (4)
    + b"\x2a\x0b43296363255"  # toVersion (5)
    + b"\x30\x96\x01"  # lastOrderCreateTime (6), newer than our decoder: skipped
)
DEPTH_FRAME = (  # PushDataV3ApiWrapper
    b"\x0a\x2f" + DEPTH_CHANNEL  # channel (1)
    + b"\x1a\x07BTCUSDT"  # symbol (3)
    + b"\x22\x02c1"  # symbolId (4): skipped
    + b"\x30\xa8\xe3\xee\xf5\x88\x33"  # sendTime (6) = 1754741322152
    + b"\xca\x13\x6c" + DEPTH_BODY  # publicAggreDepths (313): key (313 << 3 | 2) as a varint
)

DEALS_EVENT = b"spot@public.aggre.deals.v3.api.pb@100ms"  # 39 bytes
DEALS_BODY = (  # PublicAggreDealsV3Api
    b"\x0a\x19"  # deals (1): price 1, quantity 2, tradeType 3 (2 = sell), time 4 = 1754741322100
    + b"\x0a\x0860000.50" + b"\x12\x040.25" + b"\x18\x02" + b"\x20\xf4\xe2\xee\xf5\x88\x33"
    + b"\x0a\x1d"  # a buy at time 1754741322101 with tradeId 5 = "T9"
    + b"\x0a\x0860000.51" + b"\x12\x040.01" + b"\x18\x01" + b"\x20\xf5\xe2\xee\xf5\x88\x33" + b"\x2a\x02T9"
    + b"\x12\x27" + DEALS_EVENT  # eventType (2)
)
DEALS_FRAME = (
    b"\x0a\x2f" + b"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    + b"\x1a\x07BTCUSDT"
    + b"\x30\xa8\xe3\xee\xf5\x88\x33"
    + b"\xd2\x13" + bytes([len(DEALS_BODY)]) + DEALS_BODY  # publicAggreDeals (314)
)


def test_hand_written_frames_have_the_lengths_they_claim() -> None:
    assert len(DEPTH_CHANNEL) == 0x2F and len(DEPTH_EVENT) == 0x27 and len(DEPTH_BODY) == 0x6C
    assert len(DEALS_EVENT) == 0x27 and len(DEALS_BODY) < 0x80


# ---- the wire codec ------------------------------------------------------------------------


def test_varints_match_the_protobuf_spec_examples() -> None:
    assert read_varint(b"\x96\x01", 0) == (150, 2)
    assert varint(150) == b"\x96\x01" and varint(300) == b"\xac\x02" and varint(0) == b"\x00"
    assert varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1 takes ten bytes
    assert signed64(read_varint(varint(-5), 0)[0]) == -5
    assert key(313, LEN) == b"\xca\x13" and key(1, LEN) == b"\x0a"


@pytest.mark.parametrize(
    "bad",
    [
        b"\x0a\x05abc",  # a string longer than the message
        b"\x30\x96",  # a varint cut short
        b"\x0b\x00",  # wire type 3 (start group)
        b"\x02\x00",  # field number 0
        b"\x30" + b"\xff" * 10 + b"\x01",  # an eleven-byte varint
    ],
)
def test_malformed_messages_are_refused(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        list(fields(bad))


def test_fixed_width_fields_are_read_and_unknown_fields_skipped() -> None:
    msg = b"\x09" + (7).to_bytes(8, "little") + b"\x15" + (9).to_bytes(4, "little") + b"\x18\x01"
    assert list(fields(msg)) == [(1, 7), (2, 9), (3, 1)]


def _ccxt_schema(proto: str) -> dict[str, dict[str, int]]:
    """message -> field -> number, from the FileDescriptorProto ccxt compiled from
    mexcdevelop/websocket-proto (FileDescriptorProto.message_type 4 -> DescriptorProto name 1,
    field 2 -> FieldDescriptorProto name 1, number 3)."""
    spec = importlib.util.find_spec("ccxt")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "protobuf" / "mexc" / f"{proto}_pb2.py"
    if not path.exists():
        pytest.skip(f"this ccxt ships no {path.name}")
    literal = re.search(r"AddSerializedFile\((b'(?:[^'\\]|\\.)*')\)", path.read_text())
    assert literal is not None
    schema: dict[str, dict[str, int]] = {}
    for number, message in fields(ast.literal_eval(literal.group(1))):
        if number == 4:
            parts = list(fields(as_bytes(message)))
            name = as_str(next(v for n, v in parts if n == 1))
            attrs = [dict(fields(as_bytes(v))) for n, v in parts if n == 2]
            schema[name] = {as_str(a[1]): as_int(a[3]) for a in attrs}
    return schema


def test_field_numbers_match_the_published_schema() -> None:
    wrapper = _ccxt_schema("PushDataV3ApiWrapper")["PushDataV3ApiWrapper"]
    assert (wrapper["channel"], wrapper["symbol"], wrapper["sendTime"]) == (
        mexc.WRAPPER_CHANNEL,
        mexc.WRAPPER_SYMBOL,
        mexc.WRAPPER_SEND_TIME,
    )
    assert wrapper["publicAggreDepths"] == mexc.WRAPPER_AGGRE_DEPTHS
    assert wrapper["publicAggreDeals"] == mexc.WRAPPER_AGGRE_DEALS
    depths = _ccxt_schema("PublicAggreDepthsV3Api")
    assert depths["PublicAggreDepthsV3Api"] == {
        "asks": mexc.DEPTHS_ASKS,
        "bids": mexc.DEPTHS_BIDS,
        "eventType": 3,
        "fromVersion": mexc.DEPTHS_FROM_VERSION,
        "toVersion": mexc.DEPTHS_TO_VERSION,
    }
    assert depths["PublicAggreDepthV3ApiItem"] == {"price": mexc.LEVEL_PRICE, "quantity": mexc.LEVEL_QUANTITY}
    deals = _ccxt_schema("PublicAggreDealsV3Api")
    assert deals["PublicAggreDealsV3Api"]["deals"] == mexc.DEALS_ITEMS
    item = deals["PublicAggreDealsV3ApiItem"]
    assert (item["price"], item["quantity"], item["tradeType"], item["time"]) == (
        mexc.DEAL_PRICE,
        mexc.DEAL_QUANTITY,
        mexc.DEAL_TRADE_TYPE,
        mexc.DEAL_TIME,
    )


# ---- decoding pushes -------------------------------------------------------------------------


def test_hand_written_depth_push_decodes() -> None:
    push = decode_push(DEPTH_FRAME)
    assert (push.channel, push.symbol, push.send_time_ms) == (DEPTH_CHANNEL.decode(), "BTCUSDT", 1754741322152)
    assert push.deals is None and push.depth is not None
    assert push.depth.asks == [("60000.01", "0.12345")]
    assert push.depth.bids == [("59999.98", "2.5")]
    assert (push.depth.from_version, push.depth.to_version) == (43296363236, 43296363255)


def test_levels_in_any_field_order_decode_alike() -> None:
    item = b"\x12\x032.5" + b"\x0a\x0859999.98"  # quantity before price: legal protobuf
    frame = b"\xca\x13" + bytes([2 + len(item) + 26]) + b"\x12" + bytes([len(item)]) + item
    frame += b"\x22\x0b43296363236" + b"\x2a\x0b43296363236"
    push = decode_push(b"\x0a\x2f" + DEPTH_CHANNEL + frame)
    assert push.symbol == "BTCUSDT"  # no symbol field: taken from the channel
    assert push.depth is not None and push.depth.bids == [("59999.98", "2.5")]


def test_sim_frames_use_the_wrapper_field_numbers() -> None:
    sim = MexcSpotSim(SimMarket(levels=20))
    conn: Any = SimpleNamespace(subs={"BTC-USDT": {"public.aggre.depth.v3.api.pb": DEPTH_CHANNEL.decode()}})
    (frame,) = sim.frames_for(conn, "BTC-USDT", sim.encode("BTC-USDT", [(True, 6_000_000, 5)]))
    assert isinstance(frame, bytes) and [n for n, _ in fields(frame)] == [1, 3, 6, 313]
    trade = sim.trade_frame("BTC-USDT", 6_000_000, 5, True, 7)
    assert [n for n, _ in fields(trade)] == [1, 3, 6, 314]


# ---- the documented sync rules -----------------------------------------------------------------


def depth_frame(first: int, last: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]] | None = None) -> bytes:
    """A depth push built by hand (short strings only, so every length is one byte)."""

    def s(field: int, value: str) -> bytes:
        return bytes([field << 3 | 2, len(value)]) + value.encode()

    def item(field: int, level: tuple[str, str]) -> bytes:
        inner = s(1, level[0]) + s(2, level[1])
        return bytes([field << 3 | 2, len(inner)]) + inner

    body = b"".join(item(1, lv) for lv in asks or []) + b"".join(item(2, lv) for lv in bids)
    body += s(4, str(first)) + s(5, str(last))
    return b"\x0a\x2f" + DEPTH_CHANNEL + b"\x30\x01" + b"\xca\x13" + bytes([len(body)]) + body


def snapshot(last: int | str) -> bytes:
    return orjson.dumps({"lastUpdateId": last, "bids": [["100", "1"]], "asks": [["101", "1"]]})


def handler() -> tuple[MexcSpot, list[str]]:
    resyncs: list[str] = []
    h = MexcSpot(on_resync=lambda _h, native, reason: resyncs.append(reason))
    h.add_book("BTCUSDT", "BTC-USDT")
    h.add_book("ETHUSDT", "ETH-USDT")
    return h, resyncs


def test_buffers_until_snapshot_drops_covered_pushes_and_bridges() -> None:
    h, resyncs = handler()
    book = h.books["BTCUSDT"]
    h.on_frame(depth_frame(95, 102, [("99", "9")]), 1.0)  # toVersion <= lastUpdateId: dropped
    h.on_frame(depth_frame(100, 104, [("100", "2")]), 1.1)  # covers lastUpdateId + 1: bridges
    assert book.state is BookState.SYNCING and book.best_bid() is None
    h.on_snapshot("BTCUSDT", snapshot(102), 1.2)
    assert book.state is BookState.LIVE
    assert book.best_bid() == (100.0, 2.0) and book.seq == 104 and 99.0 not in book.bids
    h.on_frame(depth_frame(105, 106, [("100", "0")], [("101", "3")]), 2.0)
    assert book.best_bid() is None and book.best_ask() == (101.0, 3.0) and book.seq == 106
    assert book.updated_at == 2.0 and book.stats.updates == 2
    assert resyncs == [] and h.errors == 0 and h.latency.count == 3


def test_push_starting_right_after_the_snapshot_bridges() -> None:
    h, resyncs = handler()
    h.on_snapshot("BTCUSDT", snapshot("500"), 1.0)  # older replies sent the id as a string
    h.on_frame(depth_frame(501, 503, [("100", "5")]), 1.1)
    assert h.books["BTCUSDT"].state is BookState.LIVE and h.books["BTCUSDT"].seq == 503
    assert resyncs == []


def test_gap_after_sync_resyncs_only_that_book_and_keeps_the_push() -> None:
    h, resyncs = handler()
    for native in ("BTCUSDT", "ETHUSDT"):
        h.on_snapshot(native, snapshot(10), 1.0)
    h.on_frame(depth_frame(11, 12, [("100", "3")]), 1.0)
    book = h.books["BTCUSDT"]
    assert book.state is BookState.LIVE
    h.on_frame(depth_frame(14, 15, [("100", "4")]), 2.0)  # 13 went missing
    assert resyncs == ["gap"] and book.stats.gaps == 1
    assert book.state is BookState.RESYNCING and book.best_bid() is None
    assert h.books["ETHUSDT"].stats.resyncs == 0
    h.on_snapshot("BTCUSDT", snapshot(14), 3.0)  # the buffered push bridges the new snapshot
    assert book.state is BookState.LIVE and book.best_bid() == (100.0, 4.0) and book.seq == 15


def test_snapshot_older_than_the_first_push_is_fetched_again() -> None:
    h, resyncs = handler()
    h.on_frame(depth_frame(50, 60, [("100", "3")]), 1.0)
    h.on_snapshot("BTCUSDT", snapshot(40), 1.0)  # 41..49 are in neither
    assert resyncs == ["stale snapshot"]
    book = h.books["BTCUSDT"]
    assert book.state is not BookState.LIVE and book.stats.gaps == 0


def test_snapshot_that_predates_the_subscription_is_fetched_again() -> None:
    h, resyncs = handler()
    h.on_snapshot("BTCUSDT", snapshot(40), 1.0)
    h.on_frame(depth_frame(45, 46, [("100", "3")]), 1.1)
    assert resyncs == ["stale snapshot"] and h.books["BTCUSDT"].state is not BookState.LIVE


def test_reconnect_forgets_buffered_pushes() -> None:
    h, resyncs = handler()
    h.on_frame(depth_frame(5, 6, [("100", "3")]), 1.0)
    h.connection_opened()
    h.on_snapshot("BTCUSDT", snapshot(6), 1.0)
    assert h.pending == {} and h.books["BTCUSDT"].state is BookState.SYNCING and resyncs == []


# ---- trades, control frames, errors --------------------------------------------------------------


def test_hand_written_deals_become_normalized_trades() -> None:
    trades: list[Trade] = []
    h = MexcSpot(on_trade=trades.append)
    h.add_book("BTCUSDT", "BTC-USDT")
    h.on_frame(DEALS_FRAME, 5.0)
    sell, buy = trades
    assert (sell.symbol, sell.price, sell.amount, sell.side, sell.ts, sell.trade_id) == (
        "BTC-USDT",
        60000.5,
        0.25,
        Side.SELL,
        1754741322.1,
        "",
    )
    assert (buy.side, buy.price, buy.trade_id, buy.venue) == (Side.BUY, 60000.51, "T9", "mexc")
    assert h.trades == 2 and h.errors == 0


def test_acks_and_pongs_are_not_errors_but_garbage_is() -> None:
    h, _ = handler()
    h.on_frame('{"id":0,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"}', 1.0)
    h.on_frame(b'{"id":0,"code":0,"msg":"PONG"}', 2.0)
    h.on_frame('{"id":0,"code":0,"msg":"Not Subscribed successfully! [spot@x@BTCUSD].  Reason: Blocked! "}', 3.0)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 3.0
    h.on_frame(b"\xca\x13\x7f\x0a", 4.0)  # a body longer than the frame
    h.on_frame("not json", 5.0)
    assert h.errors == 2 and h.messages == 5


def test_requests_and_keepalive() -> None:
    h = MexcSpot(ws_url="ws://127.0.0.1:1", rest_url="http://127.0.0.1:1")
    (sub,) = h.subscribe_messages(["BTCUSDT", "ETHUSDT"])
    assert orjson.loads(sub) == {
        "method": "SUBSCRIPTION",
        "params": [
            "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
            "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
            "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT",
            "spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT",
        ],
    }
    (unsub,) = h.unsubscribe_messages(["BTCUSDT"])
    assert orjson.loads(unsub)["method"] == "UNSUBSCRIPTION"
    assert orjson.loads(h.ping_message()) == {"method": "PING"}
    assert h.connect_url(["BTCUSDT"]) == "ws://127.0.0.1:1/ws"
    assert MexcSpot.max_streams // MexcSpot.streams_per_symbol == 15
    assert MexcSpot.ping_interval is not None and MexcSpot.ping_interval < 60.0
    url = h.snapshot_url("BTCUSDT")
    assert url == "http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=5000"
    assert h.snapshot_native(url) == "BTCUSDT" and h.snapshot_native("http://x/api/v3/exchangeInfo") is None
    assert feed_for_url("wss://wbs-api.mexc.com/ws") is MexcSpot


def test_instruments_from_exchange_info() -> None:
    def row(native: str, base: str, status: str, base_places: int, quote_places: int) -> dict[str, object]:
        return {
            "symbol": native,
            "status": status,
            "baseAsset": base,
            "baseAssetPrecision": base_places,
            "quoteAsset": "USDT",
            "quotePrecision": quote_places,
            "quoteAssetPrecision": quote_places,
            "isSpotTradingAllowed": True,
        }

    rows = [
        row("BTCUSDT", "BTC", "1", 6, 2),
        row("METALUSDT", "METAL", "1", 2, 5),
        row("PAUSEDUSDT", "PAUSED", "2", 2, 5),  # 2: paused
        row("GONEUSDT", "GONE", "3", 2, 5),  # 3: offline
    ]
    body = orjson.dumps({"timezone": "CST", "serverTime": 1, "rateLimits": [], "exchangeFilters": [], "symbols": rows})
    instruments = MexcSpot().parse_instruments([body])
    symbols = SymbolMap("mexc", instruments)
    assert len(symbols) == 2
    assert symbols.native("BTC-USDT") == "BTCUSDT" and symbols.standard("METALUSDT") == "METAL-USDT"
    btc = symbols.by_symbol["BTC-USDT"]
    assert (btc.tick, btc.lot, btc.base, btc.quote) == (0.01, 0.000001, "BTC", "USDT")


def test_fees_are_the_base_tier() -> None:
    assert (base_fees("mexc").maker, base_fees("mexc").taker) == (0.0, 0.0005)


# ---- against the simulator -----------------------------------------------------------------------


def test_client_pings_are_answered_with_pong() -> None:
    async def body() -> None:
        async with Harness("mexc", handler_overrides={"ping_interval": 0.1}) as h:
            await h.live()
            await wait_for(lambda: h.sim.client_pings >= 3, 5, "client pings")
            await h.settled()
            assert all(hd.errors == 0 for hd in h.handlers)

    run(body())


def test_sim_answers_like_the_venue() -> None:
    async def body() -> None:
        async with SimCluster(["mexc"], interval=0.05, levels=30) as cluster:
            ws_url, rest = cluster.urls("mexc")
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{rest}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5"}) as resp:
                    snap = await resp.json()
                assert isinstance(snap["lastUpdateId"], int) and len(snap["bids"]) == len(snap["asks"]) == 5
                async with session.get(f"{rest}/api/v3/depth", params={"symbol": "NOPE"}) as resp:
                    assert resp.status == 400
                async with session.ws_connect(f"{ws_url}/ws") as ws:
                    await ws.send_str('{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@100ms@NOPEUSDT"]}')
                    refused = await ws.receive(timeout=5)
                    assert refused.type is aiohttp.WSMsgType.TEXT  # JSON replies are text, pushes binary
                    assert orjson.loads(refused.data)["msg"].startswith("Not Subscribed successfully!")
                    depth = "spot@public.aggre.depth.v3.api.pb@10ms@ETHUSDT"
                    await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [depth]}).decode())
                    assert orjson.loads((await ws.receive(timeout=5)).data) == {"id": 0, "code": 0, "msg": depth}
                    frame = await ws.receive(timeout=5)
                    assert frame.type is aiohttp.WSMsgType.BINARY
                    push = decode_push(frame.data)
                    assert push.channel == depth and push.symbol == "ETHUSDT" and push.depth is not None
                    await ws.send_str('{"method":"PING"}')
                    while (msg := await ws.receive(timeout=5)).type is not aiohttp.WSMsgType.TEXT:
                        pass
                    assert orjson.loads(msg.data) == {"id": 0, "code": 0, "msg": "PONG"}
                    assert cluster.venues["mexc"].client_pings == 1

    run(body())


def test_recorded_session_replays_to_the_same_books(tmp_path: Path) -> None:
    path = tmp_path / "mexc.jsonl.gz"
    symbols = ["BTC-USDT", "ETH-USDT"]

    async def record() -> SimVenue:
        async with SimCluster(["mexc"], interval=0.05, levels=60) as cluster:
            ws_url, rest = cluster.urls("mexc")
            sim = cluster.venues["mexc"]
            writer = CaptureWriter(path, feed="mexc")
            async with aiohttp.ClientSession() as session:
                feed = VenueFeed(MexcSpot, symbols, ws_url=ws_url, rest_url=rest, recorder=writer)
                await feed.start(session)
                try:
                    await wait_for(lambda: all(b.state is BookState.LIVE for b in feed.books.values()), 10, "live")
                    await wait_for(lambda: sum(b.stats.updates for b in feed.books.values()) > 20, 10, "updates")
                    cluster.pause()
                    await wait_for(
                        lambda: all(feed.books[s].depth(DEPTH) == sim.expected_top(s, DEPTH) for s in symbols), 10, "settled"
                    )
                finally:
                    await feed.stop()
                    writer.close()
            return sim

    sim = run(record())
    replay = replay_files([path])
    report = replay.report()
    assert replay.frame_errors == 0 and report["totals"]["gaps"] == 0 and not replay.failed()
    books = replay.books()
    for symbol in symbols:
        native = sim.native(symbol)
        assert report["books"][f"mexc:{native}"]["synced"]
        assert books[f"mexc:{native}"][0].depth(DEPTH) == sim.expected_top(symbol, DEPTH)
