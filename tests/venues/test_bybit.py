"""Bybit v5: documented frames, the u sequence rules, subscription limits, pings, instruments, the
inverse size units, the simulator's window and acks, and the legacy capture's shapes."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import aiohttp
import orjson
import pytest

from crossbook.book.l2 import L2Book
from crossbook.errors import VenueUnavailable
from crossbook.market.replay import replay_files
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.market import SimMarket
from crossbook.sim.venues.bybit import BybitInverseSim, BybitLinearSim, BybitSpotSim
from crossbook.symbols import SymbolMap
from crossbook.venues.bybit import BybitInverse, BybitLinear, BybitSpot
from crossbook.venues.registry import feed_for_url

from ..conftest import CAPTURES, run, wait_for
from .contract import Harness

# ---- frames as the v5 docs show them -----------------------------------------------------------


def book_msg(kind: str, u: int, bids: list[list[str]], asks: list[list[str]], symbol: str = "BTCUSDT") -> bytes:
    data = {"s": symbol, "b": bids, "a": asks, "u": u, "seq": 7961638724 + 13 * u}
    return orjson.dumps({"topic": f"orderbook.50.{symbol}", "type": kind, "ts": 1672304484978, "data": data, "cts": 1672304484976})


DOC_SNAPSHOT = book_msg(
    "snapshot", 18521288, [["16493.50", "0.006"], ["16493.00", "0.100"]], [["16611.00", "0.029"], ["16612.00", "0.213"]]
)
DOC_TRADE = (
    b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,'
    b'"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}'
)


def spot(*natives: str) -> tuple[BybitSpot, list[tuple[str, str]], list[Trade]]:
    resyncs: list[tuple[str, str]] = []
    trades: list[Trade] = []
    h = BybitSpot(on_resync=lambda _h, native, reason: resyncs.append((native, reason)), on_trade=trades.append)
    for native in natives or ("BTCUSDT",):
        h.add_book(native, "BTC-USDT" if native == "BTCUSDT" else None)
    return h, resyncs, trades


def test_documented_snapshot_makes_the_book_live() -> None:
    h, resyncs, _ = spot()
    h.on_frame(DOC_SNAPSHOT, 1672304485.0)
    book = h.books["BTCUSDT"]
    assert book.state is BookState.LIVE and book.seq == 18521288
    assert book.depth(5) == ([(16493.5, 0.006), (16493.0, 0.1)], [(16611.0, 0.029), (16612.0, 0.213)])
    assert book.stats.updates == 1 and book.updated_at == 1672304485.0
    assert h.latency.samples[-1] == pytest.approx(1672304485.0 - 1672304484.976)  # from cts, the engine time
    assert resyncs == [] and h.errors == 0 and h.messages == 1


def test_documented_trade_is_normalized() -> None:
    h, _, trades = spot()
    h.on_frame(DOC_TRADE, 1672304487.0)
    (t,) = trades
    assert (t.venue, t.symbol, t.price, t.amount, t.side, t.ts) == ("bybit", "BTC-USDT", 16578.5, 0.001, Side.BUY, 1672304486.865)
    assert t.trade_id == "20f43950-d8dd-5b31-9112-a178eb6023af"


# ---- the u rules ---------------------------------------------------------------------------------


def test_deltas_need_u_plus_one_and_stale_ones_are_dropped() -> None:
    h, resyncs, _ = spot()
    h.on_frame(book_msg("delta", 9, [["99", "1"]], []), 1.0)  # before any snapshot: nothing to apply to
    book = h.books["BTCUSDT"]
    assert book.state is BookState.SYNCING and book.best_bid() is None
    h.on_frame(book_msg("snapshot", 10, [["100", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(book_msg("delta", 11, [["100", "0"], ["99.5", "2"]], [["101", "3"]]), 2.0)
    assert book.depth(5) == ([(99.5, 2.0)], [(101.0, 3.0)]) and book.seq == 11
    h.on_frame(book_msg("delta", 11, [["99.5", "7"]], []), 3.0)  # a repeat of u 11: ignored
    h.on_frame(book_msg("delta", 10, [["99.5", "8"]], []), 3.0)
    assert book.best_bid() == (99.5, 2.0) and book.stats.updates == 2 and resyncs == []


def test_a_gap_resyncs_that_book_only_and_waits_for_its_snapshot() -> None:
    h, resyncs, _ = spot("BTCUSDT", "ETHUSDT")
    h.on_frame(book_msg("snapshot", 10, [["100", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(book_msg("snapshot", 500, [["5", "1"]], [["6", "1"]], "ETHUSDT"), 1.0)
    h.on_frame(book_msg("delta", 12, [["100", "2"]], []), 1.0)
    book = h.books["BTCUSDT"]
    assert resyncs == [("BTCUSDT", "gap")] and book.stats.gaps == 1
    assert book.state is BookState.RESYNCING and book.best_bid() is None
    h.on_frame(book_msg("delta", 13, [["100", "3"]], []), 1.0)  # still the old subscription
    assert book.best_bid() is None and resyncs == [("BTCUSDT", "gap")]
    h.on_frame(book_msg("snapshot", 13, [["100", "4"]], [["101", "1"]]), 2.0)
    assert book.state is BookState.LIVE and book.best_bid() == (100.0, 4.0)
    assert h.books["ETHUSDT"].state is BookState.LIVE and h.books["ETHUSDT"].stats.resyncs == 0


def test_any_snapshot_and_u_one_replace_the_book() -> None:
    h, resyncs, _ = spot()
    h.on_frame(book_msg("snapshot", 10, [["100", "1"], ["99", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(book_msg("snapshot", 40, [["98", "2"]], [["102", "2"]]), 1.0)  # Bybit re-sent one
    book = h.books["BTCUSDT"]
    assert book.depth(5) == ([(98.0, 2.0)], [(102.0, 2.0)]) and book.seq == 40
    h.on_frame(book_msg("delta", 1, [["97", "5"]], [["103", "5"]]), 2.0)  # service restart
    assert book.depth(5) == ([(97.0, 5.0)], [(103.0, 5.0)]) and book.seq == 1
    h.on_frame(book_msg("delta", 2, [["97", "6"]], []), 2.0)
    assert book.best_bid() == (97.0, 6.0) and resyncs == [] and book.state is BookState.LIVE


# ---- subscriptions, pings, replies -------------------------------------------------------------


def test_spot_subscribes_at_most_ten_topics_per_request() -> None:
    natives = [f"C{i}USDT" for i in range(6)]
    frames = [orjson.loads(f) for f in BybitSpot().subscribe_messages(natives)]
    assert [len(f["args"]) for f in frames] == [10, 2]
    assert frames[0]["op"] == "subscribe" and frames[0]["args"][:2] == ["orderbook.50.C0USDT", "publicTrade.C0USDT"]
    assert len({f["req_id"] for f in frames}) == 2
    (linear,) = [orjson.loads(f) for f in BybitLinear().unsubscribe_messages(natives)]
    assert linear["op"] == "unsubscribe" and len(linear["args"]) == 12


def test_a_full_connection_stays_under_the_21000_character_args_limit() -> None:
    per_conn = BybitSpot.max_streams // BybitSpot.streams_per_symbol
    natives = [f"{i:0>16}USDT" for i in range(per_conn)]  # 20-character symbols, longer than any listed
    args = [a for f in BybitLinear().subscribe_messages(natives) for a in orjson.loads(f)["args"]]
    assert len(args) == BybitSpot.max_streams
    assert len(orjson.dumps(args)) <= 21_000


def test_pongs_and_acks_are_quiet_and_refusals_count() -> None:
    h, _, _ = spot()
    assert orjson.loads(h.ping_message()) == {"op": "ping"}
    for reply in (
        {"success": True, "ret_msg": "pong", "conn_id": "0970e817", "op": "ping"},  # spot
        {"success": True, "ret_msg": "pong", "conn_id": "465772b1", "req_id": "", "op": "ping"},  # linear/inverse
        {"success": True, "ret_msg": "subscribe", "conn_id": "2324d924", "req_id": "10001", "op": "subscribe"},
        {"success": True, "ret_msg": "", "conn_id": "3cd84cb1", "req_id": "", "op": "subscribe"},
    ):
        assert h.on_frame(orjson.dumps(reply), 1.0) is None
    assert h.errors == 0 and h.messages == 4 and h.link.last_rx == 1.0
    h.on_frame(b'{"success":false,"ret_msg":"args size >10","conn_id":"x","op":"subscribe"}', 2.0)
    assert h.errors == 1


# ---- instruments -------------------------------------------------------------------------------


def envelope(category: str, rows: list[dict[str, Any]], cursor: str = "") -> bytes:
    return orjson.dumps({"retCode": 0, "retMsg": "OK", "result": {"category": category, "list": rows, "nextPageCursor": cursor}, "time": 1})


def contract(symbol: str, kind: str, base: str, quote: str, delivery: str = "0", status: str = "Trading") -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": kind,
        "status": status,
        "baseCoin": base,
        "quoteCoin": quote,
        "deliveryTime": delivery,
        "priceFilter": {"minPrice": "0.10", "maxPrice": "199999.80", "tickSize": "0.10"},
        "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001"},
    }


def test_spot_instruments_map_both_ways() -> None:
    rows = [
        {
            "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "status": "Trading",
            "lotSizeFilter": {"basePrecision": "0.000001", "minOrderQty": "0.000048"}, "priceFilter": {"tickSize": "0.01"},
        },
        {
            "symbol": "XBTEUR", "baseCoin": "XBT", "quoteCoin": "EUR", "status": "Trading",
            "lotSizeFilter": {"basePrecision": "0.0001"}, "priceFilter": {"tickSize": "1"},
        },
        {
            "symbol": "OLDUSDT", "baseCoin": "OLD", "quoteCoin": "USDT", "status": "Closed",
            "lotSizeFilter": {"basePrecision": "1"}, "priceFilter": {"tickSize": "1"},
        },
    ]
    insts = BybitSpot().parse_instruments([envelope("spot", rows)])
    symbols = SymbolMap("bybit", insts)
    assert symbols.native("BTC-USDT") == "BTCUSDT" and symbols.standard("XBTEUR") == "BTC-EUR"
    assert "OLD-USDT" not in symbols
    btc = symbols.by_symbol["BTC-USDT"]
    assert (btc.kind, btc.tick, btc.lot) == (Kind.SPOT, 0.01, 0.000001)


def test_derivative_instruments_name_perpetuals_and_dated_futures() -> None:
    rows = [
        contract("BTCUSDT", "LinearPerpetual", "BTC", "USDT"),
        contract("BTCPERP", "LinearPerpetual", "BTC", "USDC"),
        contract("BTCUSDT-26DEC25", "LinearFutures", "BTC", "USDT", "1766736000000"),
        contract("ETHUSDT", "LinearPerpetual", "ETH", "USDT", status="PreLaunch"),
    ]
    symbols = SymbolMap("bybitlinear", BybitLinear().parse_instruments([envelope("linear", rows)]))
    assert symbols.native("BTC-USDT-PERP") == "BTCUSDT" and symbols.native("BTC-USDC-PERP") == "BTCPERP"
    assert symbols.standard("BTCUSDT-26DEC25") == "BTC-USDT-20251226"
    assert symbols.by_native["BTCUSDT-26DEC25"].expiry == "20251226" and "ETH-USDT-PERP" not in symbols
    inverse = [contract("BTCUSD", "InversePerpetual", "BTC", "USD"), contract("BTCUSDH26", "InverseFutures", "BTC", "USD", "1774598400000")]
    symbols = SymbolMap("bybitinverse", BybitInverse().parse_instruments([envelope("inverse", inverse)]))
    assert symbols.native("BTC-USD-PERP") == "BTCUSD" and symbols.standard("BTCUSDH26") == "BTC-USD-20260327"
    assert BybitLinear(rest_url="https://x").instruments_urls() == ["https://x/v5/market/instruments-info?category=linear&limit=1000"]


def test_a_refused_instruments_request_raises() -> None:
    body = b'{"retCode":10001,"retMsg":"params error","result":{},"time":1}'
    with pytest.raises(VenueUnavailable, match="10001"):
        BybitSpot().parse_instruments([body])


# ---- inverse units -----------------------------------------------------------------------------


def test_inverse_books_and_trades_hold_base_coin_not_usd_contracts() -> None:
    trades: list[Trade] = []
    h = BybitInverse(on_trade=trades.append)
    h.add_book("BTCUSD", "BTC-USD-PERP")
    h.on_frame(book_msg("snapshot", 5, [["50000.0", "25000"]], [["50000.5", "100"]], "BTCUSD"), 1.0)
    h.on_frame(book_msg("delta", 6, [["50000.0", "0"], ["49999.5", "10000"]], [], "BTCUSD"), 1.0)
    book = h.books["BTCUSD"]
    assert book.depth(2) == ([(49999.5, 10000 / 49999.5)], [(50000.5, 100 / 50000.5)])
    trade = DOC_TRADE.replace(b"BTCUSDT", b"BTCUSD").replace(b'"v":"0.001"', b'"v":"1000"')
    h.on_frame(trade, 2.0)
    assert trades[0].amount == pytest.approx(1000 / 16578.5) and trades[0].symbol == "BTC-USD-PERP"


# ---- the simulator -----------------------------------------------------------------------------


class Socket:
    """Stands in for a SimConnection: records what the sim sends."""

    def __init__(self) -> None:
        self.subs: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.sent: list[dict[str, Any]] = []

    def send(self, frame: bytes) -> None:
        self.sent.append(orjson.loads(frame))


def ask(sim: BybitSpotSim, conn: Socket, msg: dict[str, Any]) -> dict[str, Any]:
    asyncio.run(sim.on_client_message(conn, orjson.dumps(msg)))  # type: ignore[arg-type]
    return conn.sent[-1]


def connected(sim: BybitSpotSim) -> Socket:
    conn = Socket()
    sim.on_connect(conn)  # type: ignore[arg-type]
    return conn


def test_sim_acks_pongs_and_refusals_in_each_category_shape() -> None:
    sim = BybitSpotSim(SimMarket(levels=80))
    conn = connected(sim)
    pong = ask(sim, conn, {"op": "ping"})
    assert {k: pong[k] for k in ("success", "ret_msg", "op")} == {"success": True, "ret_msg": "pong", "op": "ping"}
    assert "req_id" not in pong and sim.client_pings == 1
    eleven = [f"publicTrade.C{i}" for i in range(11)]
    assert ask(sim, conn, {"op": "subscribe", "args": eleven, "req_id": "7"})["ret_msg"] == "args size >10"
    ask(sim, conn, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"], "req_id": "8"})
    ack, snapshot = conn.sent[-2:]
    assert (ack["success"], ack["ret_msg"], ack["req_id"], ack["conn_id"]) == (True, "subscribe", "8", pong["conn_id"])
    assert snapshot["type"] == "snapshot" and len(snapshot["data"]["b"]) == 50 == len(snapshot["data"]["a"])
    again = ask(sim, conn, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
    assert again["success"] is False and "already subscribed" in again["ret_msg"]
    assert ask(sim, conn, {"op": "subscribe", "args": ["orderbook.7.BTCUSDT"]})["success"] is False
    linear = BybitLinearSim(SimMarket(levels=80))
    lconn = connected(linear)
    assert ask(linear, lconn, {"op": "ping"})["req_id"] == ""
    assert ask(linear, lconn, {"op": "subscribe", "args": ["publicTrade.BTCUSDT"]})["ret_msg"] == ""


def test_sim_window_deltas_delete_what_leaves_and_insert_what_enters() -> None:
    market = SimMarket(levels=80)
    sim = BybitSpotSim(market)
    conn = connected(sim)
    ask(sim, conn, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
    h, resyncs, _ = spot()
    h.on_frame(orjson.dumps(conn.sent[-1]), 1.0)
    book = h.books["BTCUSDT"]
    deletes = 0
    for tick in range(200):
        for (_, symbol), changes in market.advance().items():
            for frame in sim.encode(symbol, changes).values():
                delta = orjson.loads(frame)
                deletes += sum(lv[1] == "0" for lv in delta["data"]["b"] + delta["data"]["a"])
                h.on_frame(frame, 2.0 + tick)
        assert book.levels(Side.BUY) == 50 == book.levels(Side.SELL)
        assert book.depth(50) == sim.expected_top("BTC-USDT", 50)
    assert deletes > 0 and resyncs == [] and book.state is BookState.LIVE


def test_sim_skip_fault_leaves_a_hole_in_u() -> None:
    market = SimMarket(levels=80)
    sim = BybitLinearSim(market)
    conn = connected(sim)
    ask(sim, conn, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
    us = [conn.sent[-1]["data"]["u"]]
    sim.inject("skip", "BTC-USDT-PERP")
    while len(us) < 4:
        frames = sim.encode("BTC-USDT-PERP", market.advance()[("bybitlinear", "BTC-USDT-PERP")])
        us.extend(orjson.loads(f)["data"]["u"] for f in frames.values())
    assert us[1] == us[0] + 2 and us[2:] == [us[1] + 1, us[1] + 2]


def test_inverse_sim_sends_whole_usd_contracts_and_expects_base_coin() -> None:
    sim = BybitInverseSim(SimMarket(levels=80))
    conn = connected(sim)
    ask(sim, conn, {"op": "subscribe", "args": ["orderbook.50.BTCUSD"]})
    price, size = conn.sent[-1]["data"]["b"][0]
    assert size.isdigit() and int(size) >= 1
    assert sim.expected_top("BTC-USD-PERP", 1)[0] == [(float(price), float(size) / float(price))]


def test_sim_instruments_page_like_bybit() -> None:
    async def body() -> None:
        sim = BybitLinearSim(SimMarket(levels=80))
        await sim.start()
        try:
            async with aiohttp.ClientSession() as session:
                url = f"{sim.rest_url}/v5/market/instruments-info?category=linear"
                async with session.get(url + "&limit=1") as resp:
                    first = await resp.json()
                async with session.get(url + f"&limit=1&cursor={first['result']['nextPageCursor']}") as resp:
                    second = await resp.json()
                async with session.get(f"{sim.rest_url}/v5/market/instruments-info?category=spot") as resp:
                    wrong = await resp.json()
        finally:
            await sim.stop()
        assert [r["symbol"] for r in first["result"]["list"] + second["result"]["list"]] == ["BTCUSDT", "ETHUSDT"]
        assert second["result"]["nextPageCursor"] == "" and wrong["retCode"] == 10001
        assert first["result"]["list"][0]["contractType"] == "LinearPerpetual"

    run(body(), 20)


def test_live_feed_pings_and_hears_pongs() -> None:
    async def body() -> None:
        async with Harness("bybit", handler_overrides={"ping_interval": 0.2}) as h:
            await h.live()
            await wait_for(lambda: h.sim.client_pings >= 3, 10, "three client pings")
            assert all(hd.errors == 0 for hd in h.handlers)
            for book in h.books.values():
                assert book.levels(Side.BUY) == BybitSpot.depth == book.levels(Side.SELL)

    run(body(), 30)


# ---- the legacy capture (pre-v5 realtime_public): shapes only ----------------------------------


def legacy_messages() -> list[dict[str, Any]]:
    with gzip.open(CAPTURES / "BYBIT.ws.25.0.gz", "rt") as fh:
        return [orjson.loads(line.partition(": ")[2]) for line in fh if line[0].isdigit()]


def test_legacy_capture_goes_to_the_bybit_feed_and_is_ignored_cleanly() -> None:
    assert feed_for_url("wss://stream.bybit.com/realtime_public") is BybitSpot
    replay = replay_files([CAPTURES / "BYBIT.ws.25.0.gz"])
    (handler,) = replay.handlers.values()
    assert replay.frame_errors == 0 and handler.errors == 0
    assert handler.messages == len(legacy_messages()) == 3342
    assert handler.books == {} and handler.trades == 0  # orderBookL2_25 / trade are not v5 topics


def test_legacy_top_25_feed_deletes_levels_that_leave_the_window() -> None:
    books: dict[str, L2Book] = {}
    checked = 0
    for msg in legacy_messages():
        if not msg.get("topic", "").startswith("orderBookL2_25."):
            continue
        book = books.setdefault(msg["topic"], L2Book("bybit", msg["topic"]))
        if msg["type"] == "snapshot":
            rows = msg["data"]["order_book"]
            book.snapshot(*legacy_sides(rows, with_size=True))
        else:
            data = msg["data"]
            book.update(*legacy_sides(data["delete"], with_size=False))
            book.update(*legacy_sides(data["update"] + data["insert"], with_size=True))
        assert book.levels(Side.BUY) == 25 == book.levels(Side.SELL), msg["topic"]
        assert not book.crossed()
        checked += 1
    assert checked == 3260 and len(books) == 8


def legacy_sides(rows: list[dict[str, Any]], *, with_size: bool) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    levels = [(r["side"], (r["price"], float(r["size"]) if with_size else 0.0)) for r in rows]
    return [lv for side, lv in levels if side == "Buy"], [lv for side, lv in levels if side == "Sell"]
