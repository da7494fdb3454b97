"""Gate v4 spot and USDT perpetuals: recorded traffic, the U/u sync rule against the REST id, full
pushes, the 100-level window, symbols from the metadata endpoints, pings, and the simulators'
wire format."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request

from crossbook.feeds.capture import read_capture
from crossbook.market.replay import replay_files
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.market import SimMarket
from crossbook.sim.venues.gate import GateSpotSim, GateSwapSim
from crossbook.venues.gate import GateSpot, GateSwap
from crossbook.venues.registry import feed_for_url

from ..conftest import CAPTURES, run

WS = CAPTURES / "GATEIO.ws.1.0.gz"
HTTP = CAPTURES / "GATEIO.http.0.0.gz"


def depth(U: int, u: int, b: list[list[str]] | None = None, a: list[list[str]] | None = None, **extra: Any) -> bytes:
    result = {
        "t": 1_700_000_000_123, "e": "depthUpdate", "E": 1_700_000_000, "s": "BTC_USDT", "U": U, "u": u, "b": b or [], "a": a or [], **extra
    }
    return orjson.dumps(
        {"time": 1_700_000_000, "time_ms": 1_700_000_000_200, "channel": "spot.order_book_update", "event": "update", "result": result}
    )


def snapshot(book_id: int) -> bytes:
    return orjson.dumps(
        {"id": book_id, "current": 1, "update": 1, "asks": [["101", "1"], ["102", "2"]], "bids": [["99", "1"], ["98", "2"]]}
    )


class Recorder:
    def __init__(self) -> None:
        self.resyncs: list[tuple[str, str]] = []
        self.trades: list[Trade] = []

    def handler(self) -> GateSpot:
        h = GateSpot(on_resync=lambda _h, native, reason: self.resyncs.append((native, reason)), on_trade=self.trades.append)
        h.add_book("BTC_USDT", "BTC-USDT")
        return h


# ---- recorded traffic ---------------------------------------------------------------------


def test_capture_replay_syncs_every_book_with_a_snapshot_without_gaps() -> None:
    replay = replay_files([WS, HTTP])
    report = replay.report()
    snapshotted = {
        f"gate:{GateSpot().snapshot_native(ev.url)}" for ev in read_capture(HTTP) if ev.kind == "http"
    }
    assert len(snapshotted) == 10
    assert report["totals"]["gaps"] == 0
    assert report["totals"]["resyncs"] == 0
    assert report["totals"]["messages"] == 239
    for key in snapshotted:
        assert report["books"][key]["synced"] is True, key
    assert sum(report["books"][k]["updates"] for k in snapshotted) == 159
    assert replay.frame_errors == 0
    (handler,) = replay.handlers.values()
    assert handler.errors == 0 and handler.trades == 9
    # the last recorded OMG_USDT update (59231950) added bid 7.889 and deleted the window's 100th bid
    omg = handler.books["OMG_USDT"]
    assert omg.seq == 59231950 and omg.bids[7.889] == 65.638 and 6.258 not in omg.bids
    assert omg.levels(Side.BUY) == 100 and not omg.crossed()


def test_recorded_frames_parse() -> None:
    h = Recorder().handler()
    frames = [ev.data for ev in read_capture(WS) if ev.kind == "recv"]
    trade = next(f for f in frames if '"spot.trades","event":"update"' in f)
    h.on_frame(trade, 1619093543.8)
    assert (h.trades, h.errors) == (1, 0)
    ack = frames[0]
    assert '"event":"subscribe"' in ack
    h.on_frame(ack, 1.0)
    candle = next(f for f in frames if "spot.candlesticks" in f and '"update"' in f)
    h.on_frame(candle, 2.0)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 2.0


def test_recorded_trade_is_normalized() -> None:
    rec = Recorder()
    h = rec.handler()
    frame = next(ev.data for ev in read_capture(WS) if ev.kind == "recv" and '"spot.trades","event":"update"' in ev.data)
    h.on_frame(frame, 1619093543.8)
    (trade,) = rec.trades
    assert trade.venue == "gate" and trade.symbol == "DIS_USDT"  # not subscribed here: native kept
    assert (trade.price, trade.amount, trade.side, trade.trade_id) == (121.58, 0.201, Side.SELL, "816995772")
    assert trade.ts == pytest.approx(1619093543.7082642)


def test_capture_urls_map_to_gate() -> None:
    assert feed_for_url("wss://api.gateio.ws/ws/v4/") is GateSpot
    url = "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=HAI_ETH&limit=100&with_id=true"
    assert GateSpot().snapshot_native(url) == "HAI_ETH"
    assert GateSpot().snapshot_native("https://api.gateio.ws/api/v4/spot/tickers?currency_pair=HAI_ETH") is None


# ---- sync rule ----------------------------------------------------------------------------


def test_stale_updates_dropped_and_bridging_update_applied() -> None:
    rec = Recorder()
    h = rec.handler()
    h.on_frame(depth(95, 99, b=[["97", "5"]]), 1.0)
    h.on_frame(depth(100, 104, b=[["99", "3"]], a=[["101", "0"]]), 1.1)
    book = h.books["BTC_USDT"]
    assert book.state is BookState.SYNCING
    h.on_snapshot("BTC_USDT", snapshot(102), 1.2)  # 95..99 is stale, 100 <= 103 <= 104 bridges
    assert book.state is BookState.LIVE and book.seq == 104
    assert book.depth(5) == ([(99.0, 3.0), (98.0, 2.0)], [(102.0, 2.0)])
    assert 97.0 not in book.bids and book.stats.updates == 1
    h.on_frame(depth(105, 105, a=[["100.5", "1"]]), 1.3)
    assert book.best_ask() == (100.5, 1.0) and book.seq == 105 and rec.resyncs == []


def test_stream_that_reached_the_snapshot_id_is_in_sync() -> None:
    # INK_USDT in the capture: its only update ends exactly at the snapshot's id
    h = Recorder().handler()
    h.on_frame(depth(100, 102, b=[["97", "5"]]), 1.0)
    h.on_snapshot("BTC_USDT", snapshot(102), 1.1)
    book = h.books["BTC_USDT"]
    assert book.state is BookState.LIVE and book.seq == 102 and 97.0 not in book.bids


def test_snapshot_waits_for_the_stream_to_reach_it() -> None:
    h = Recorder().handler()
    h.on_snapshot("BTC_USDT", snapshot(102), 1.0)
    book = h.books["BTC_USDT"]
    h.on_frame(depth(100, 101), 1.1)
    assert book.state is BookState.SYNCING  # the stream is behind the snapshot
    h.on_frame(depth(102, 103, b=[["99", "7"]]), 1.2)
    assert book.state is BookState.LIVE and book.bids[99.0] == 7.0


def test_snapshot_older_than_the_stream_is_refetched_not_a_gap() -> None:
    rec = Recorder()
    h = rec.handler()
    h.on_frame(depth(105, 106), 1.0)
    h.on_snapshot("BTC_USDT", snapshot(102), 1.1)  # 103 and 104 are missing between them
    book = h.books["BTC_USDT"]
    assert rec.resyncs == [("BTC_USDT", "stale snapshot")]
    assert book.state is BookState.SYNCING and book.stats.gaps == 0 and book.bids == {}
    h.on_snapshot("BTC_USDT", snapshot(105), 1.2)  # the kept update 105..106 bridges the new one
    assert book.state is BookState.LIVE and book.seq == 106


def test_gap_after_sync_rebuilds_only_that_book() -> None:
    rec = Recorder()
    h = rec.handler()
    h.add_book("ETH_USDT", "ETH-USDT")
    h.on_snapshot("BTC_USDT", snapshot(100), 1.0)
    h.on_frame(depth(101, 101), 1.1)
    book = h.books["BTC_USDT"]
    assert book.state is BookState.LIVE
    h.on_frame(depth(103, 104, b=[["99", "9"]]), 1.2)
    assert rec.resyncs == [("BTC_USDT", "gap")]
    assert book.state is BookState.RESYNCING and book.stats.gaps == 1 and book.bids == {}
    assert h.books["ETH_USDT"].stats.resyncs == 0
    h.on_snapshot("BTC_USDT", snapshot(103), 1.3)  # the update that showed the gap bridges it
    assert book.state is BookState.LIVE and book.seq == 104 and book.bids[99.0] == 9.0


def test_full_push_replaces_the_book_and_outranks_a_late_snapshot() -> None:
    rec = Recorder()
    h = rec.handler()
    h.on_frame(depth(90, 91, b=[["50", "1"]]), 1.0)
    h.on_frame(depth(92, 200, b=[["99.5", "1"], ["99", "2"]], a=[["100", "3"]], full=True, l="100"), 1.1)
    book = h.books["BTC_USDT"]
    assert book.state is BookState.LIVE and book.seq == 200
    assert book.depth(5) == ([(99.5, 1.0), (99.0, 2.0)], [(100.0, 3.0)])
    h.on_snapshot("BTC_USDT", snapshot(150), 1.2)  # requested before the push; older: ignored
    assert book.seq == 200 and book.best_ask() == (100.0, 3.0)
    h.on_frame(depth(201, 201, a=[["100", "0"], ["100.5", "1"]]), 1.3)
    assert book.best_ask() == (100.5, 1.0) and rec.resyncs == []
    h.on_frame(depth(300, 310, b=[["1", "1"]], full=True), 1.4)  # a full push needs no continuity
    assert book.depth(5) == ([(1.0, 1.0)], []) and book.seq == 310 and book.stats.gaps == 0


def test_book_holds_the_venue_window_only() -> None:
    h = Recorder().handler()
    bids = [[str(1000 - i), "1"] for i in range(100)]
    h.on_snapshot("BTC_USDT", orjson.dumps({"id": 10, "bids": bids, "asks": [["1001", "1"]]}), 1.0)
    h.on_frame(depth(11, 11, b=[["1000.5", "2"]]), 1.1)  # a better bid pushes 901 out of the window
    book = h.books["BTC_USDT"]
    assert book.levels(Side.BUY) == 100 and 901.0 not in book.bids and book.bids[1000.5] == 2.0


def test_latency_from_the_update_time() -> None:
    h = Recorder().handler()
    h.on_frame(depth(1, 1), 1_700_000_000.323)
    assert h.latency.count == 1 and h.latency.percentile(50) == pytest.approx(0.2, abs=1e-3)


# ---- requests, pings, acks ----------------------------------------------------------------


def test_subscribe_and_ping_messages() -> None:
    h = GateSpot(clock=lambda: 1_700_000_000.9)
    trades, btc, eth = (orjson.loads(f) for f in h.subscribe_messages(["BTC_USDT", "ETH_USDT"]))
    assert trades == {"time": 1_700_000_000, "channel": "spot.trades", "event": "subscribe", "payload": ["BTC_USDT", "ETH_USDT"]}
    assert btc == {"time": 1_700_000_000, "channel": "spot.order_book_update", "event": "subscribe", "payload": ["BTC_USDT", "100ms"]}
    assert orjson.loads(h.unsubscribe_messages(["ETH_USDT"])[1])["event"] == "unsubscribe"
    assert eth["payload"] == ["ETH_USDT", "100ms"]
    assert orjson.loads(h.ping_message()) == {"time": 1_700_000_000, "channel": "spot.ping"}
    assert h.connect_url([]) == "wss://api.gateio.ws/ws/v4/"
    assert h.snapshot_url("BTC_USDT") == "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"


def test_pong_is_heard_and_a_rejected_subscription_is_an_error() -> None:
    h = GateSpot()
    assert h.on_frame(b'{"time":1545404023,"channel":"spot.pong","event":"","error":null,"result":null}', 5.0) is None
    assert h.errors == 0 and h.link.last_rx == 5.0
    h.on_frame(
        b'{"time":1,"channel":"spot.order_book_update","event":"subscribe","payload":["NOPE_USDT","100ms"],'
        b'"error":{"code":2,"message":"unknown currency pair NOPE_USDT"},"result":{"status":"fail"}}',
        6.0,
    )
    assert h.errors == 1


# ---- instruments --------------------------------------------------------------------------


def test_symbols_from_currency_pairs() -> None:
    body = orjson.dumps(
        [
            {"id": "BTC_USDT", "base": "BTC", "quote": "USDT", "precision": 1, "amount_precision": 6, "trade_status": "tradable"},
            {"id": "XBT_USDT", "base": "XBT", "quote": "USDT", "precision": 2, "amount_precision": 4, "trade_status": "tradable"},
            {"id": "OLD_USDT", "base": "OLD", "quote": "USDT", "precision": 4, "amount_precision": 2, "trade_status": "untradable"},
        ]
    )
    btc, xbt = GateSpot().parse_instruments([body])
    assert (btc.native, btc.symbol, btc.kind, btc.tick, btc.lot) == ("BTC_USDT", "BTC-USDT", Kind.SPOT, 0.1, pytest.approx(1e-6))
    assert xbt.symbol == "BTC-USDT" and xbt.native == "XBT_USDT"
    assert GateSpot().instruments_urls() == ["https://api.gateio.ws/api/v4/spot/currency_pairs"]


# ---- simulator ----------------------------------------------------------------------------


class StubConn:
    def __init__(self) -> None:
        self.subs: dict[str, Any] = {}
        self.sent: list[dict[str, Any]] = []

    def send(self, frame: bytes | str) -> None:
        self.sent.append(orjson.loads(frame))


FEEDS_BY_SIM: dict[type[GateSpotSim], type[GateSpot]] = {GateSpotSim: GateSpot, GateSwapSim: GateSwap}


async def rest_snapshot(sim: GateSpotSim, pair: str, limit: int = 100) -> tuple[int, bytes]:
    path = f"{sim.book_path}?{sim.pair_param}={pair}&limit={limit}&with_id=true"
    resp = await sim.order_book(make_mocked_request("GET", path))
    return resp.status, resp.body  # type: ignore[return-value]


@pytest.mark.parametrize(("sim_cls", "symbol"), [(GateSpotSim, "BTC-USDT"), (GateSwapSim, "ETH-USDT-PERP")])
def test_sim_stream_and_snapshot_rebuild_the_venue_window(sim_cls: type[GateSpotSim], symbol: str) -> None:
    market = SimMarket(seed=3, levels=130)
    sim = sim_cls(market)
    native = sim.native(symbol)
    rec = Recorder()
    h = FEEDS_BY_SIM[sim_cls](on_resync=lambda _h, n, r: rec.resyncs.append((n, r)))
    h.add_book(native, symbol)
    status, body = run(rest_snapshot(sim, native))
    assert status == 200 and len(orjson.loads(body)["bids"]) == 100
    h.on_snapshot(native, body, 0.0)
    fulls = 0
    for step in range(300):
        for (_venue, sym), changes in market.advance().items():
            frame = sim.encode(sym, changes)
            if sym == symbol and frame is not None:
                fulls += b'"full":true' in frame
                h.on_frame(frame, float(step))
        book = h.books[native]
        assert book.state is BookState.LIVE
        assert book.depth(100) == sim.expected_top(symbol, 100), step
    assert fulls == 300 // sim.full_every and rec.resyncs == [] and h.errors == 0


def test_sim_skip_fault_skips_one_update_id() -> None:
    market = SimMarket(seed=5, levels=120)
    sim = GateSpotSim(market)
    frames = []
    for i in range(3):
        if i == 1:
            sim.inject("skip", "ETH-USDT")
        changes = market.advance()[("gate", "ETH-USDT")]
        frames.append(orjson.loads(sim.encode("ETH-USDT", changes) or b"null")["result"])
    assert frames[1]["U"] == frames[0]["u"] + 2 and frames[2]["U"] == frames[1]["u"] + 1


def test_sim_rest_limits_and_ping() -> None:
    sim = GateSpotSim(SimMarket(seed=1, levels=120))
    assert run(rest_snapshot(sim, "BTC_USDT", limit=101))[0] == 400
    assert run(rest_snapshot(sim, "NOPE_USDT"))[0] == 400
    conn = StubConn()
    run(sim.on_client_message(conn, b'{"time":1,"channel":"spot.ping"}'))  # type: ignore[arg-type]
    assert sim.client_pings == 1 and conn.sent[-1]["channel"] == "spot.pong"
    run(sim.on_client_message(conn, b'{"time":1,"channel":"spot.order_book_update","event":"subscribe","payload":["ETH_BTC","100ms"]}'))  # type: ignore[arg-type]
    assert conn.subs == {"ETH-BTC": {"spot.order_book_update"}} and conn.sent[-1]["result"] == {"status": "success"}
    run(sim.on_client_message(conn, b'{"time":1,"channel":"spot.trades","event":"subscribe","payload":["NOPE_USDT"]}'))  # type: ignore[arg-type]
    assert conn.sent[-1]["error"]["code"] == 2 and conn.sent[-1]["result"] == {"status": "fail"}
    pairs = orjson.loads(run(sim.instruments(make_mocked_request("GET", "/api/v4/spot/currency_pairs"))).body)
    symbols = {i.symbol for i in GateSpot().parse_instruments([orjson.dumps(pairs)])}
    assert symbols == set(sim.markets)


# ---- USDT perpetuals ----------------------------------------------------------------------


def swap_depth(U: int, u: int, b: list[dict[str, Any]], a: list[dict[str, Any]], **extra: Any) -> bytes:
    # the shape of the docs' futures.order_book_update example
    result = {"t": 1615366381417, "s": "BTC_USDT", "U": U, "u": u, "b": b, "a": a, "l": "100", **extra}
    return orjson.dumps(
        {"time": 1615366381, "time_ms": 1615366381123, "channel": "futures.order_book_update", "event": "update", "result": result}
    )


def test_swap_book_in_contracts_from_object_levels() -> None:
    trades: list[Trade] = []
    h = GateSwap(on_trade=trades.append)
    h.add_book("BTC_USDT", "BTC-USDT-PERP")
    snap = {"id": 2517661100, "current": 1615366381.1, "update": 1615366381.0,
            "asks": [{"p": "54743.6", "s": 10}, {"p": "54750", "s": 5}], "bids": [{"p": "54672.1", "s": 7}]}
    h.on_snapshot("BTC_USDT", orjson.dumps(snap), 1.0)
    h.on_frame(swap_depth(2517661101, 2517661113, b=[{"p": "54672.1", "s": 0}, {"p": "54664.5", "s": 58794}],
                          a=[{"p": "54743.6", "s": 0}, {"p": "54742", "s": 95}]), 1615366381.5)
    book = h.books["BTC_USDT"]
    assert book.state is BookState.LIVE and book.seq == 2517661113
    assert book.depth(3) == ([(54664.5, 58794.0)], [(54742.0, 95.0), (54750.0, 5.0)])
    h.on_frame(swap_depth(2517661115, 2517661116, b=[], a=[]), 1615366381.6)
    assert book.stats.gaps == 1 and book.state is BookState.RESYNCING
    h.on_frame(swap_depth(2517661120, 2517661130, b=[{"p": "1", "s": 1}], a=[], full=True), 1615366381.7)
    assert book.state is BookState.LIVE and book.depth(2) == ([(1.0, 1.0)], [])
    h.on_frame(b'{"channel":"futures.trades","event":"update","time":1541503698,"time_ms":1541503698123,'
               b'"result":[{"size":-108,"id":27753479,"create_time":1545136464,"create_time_ms":1545136464123,'
               b'"price":"96.4","contract":"BTC_USDT","is_internal":true}]}', 1545136464.2)
    (trade,) = trades
    assert (trade.symbol, trade.side, trade.amount, trade.price, trade.ts) == ("BTC-USDT-PERP", Side.SELL, 108.0, 96.4, 1545136464.123)
    assert h.errors == 0


def test_swap_requests_urls_and_contracts() -> None:
    h = GateSwap(clock=lambda: 7.0)
    trades, book = (orjson.loads(f) for f in h.subscribe_messages(["BTC_USDT"]))
    assert trades == {"time": 7, "channel": "futures.trades", "event": "subscribe", "payload": ["BTC_USDT"]}
    assert book["channel"] == "futures.order_book_update" and book["payload"] == ["BTC_USDT", "100ms", "100"]
    assert orjson.loads(h.ping_message())["channel"] == "futures.ping"
    assert h.connect_url([]) == "wss://fx-ws.gateio.ws/v4/ws/usdt"
    url = h.snapshot_url("BTC_USDT")
    assert url == "https://fx-api.gateio.ws/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=100&with_id=true"
    assert feed_for_url(url) is GateSwap and h.snapshot_native(url) == "BTC_USDT"
    assert feed_for_url("wss://fx-ws.gateio.ws/v4/ws/usdt") is GateSwap
    body = orjson.dumps(
        [
            {"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001", "order_price_round": "0.1", "in_delisting": False},
            {"name": "LUNA_USDT", "type": "direct", "quanto_multiplier": "1", "order_price_round": "0.001", "in_delisting": True},
        ]
    )
    (btc,) = h.parse_instruments([body])
    assert (btc.symbol, btc.kind, btc.tick, btc.lot, btc.quote) == ("BTC-USDT-PERP", Kind.PERP, 0.1, 0.0001, "USDT")
    assert h.instruments_urls() == ["https://fx-api.gateio.ws/api/v4/futures/usdt/contracts"]


def test_swap_sim_contracts_pong_and_subscription_shape() -> None:
    sim = GateSwapSim(SimMarket(seed=2, levels=120))
    conn = StubConn()
    run(sim.on_client_message(conn, b'{"time":1,"channel":"futures.ping"}'))  # type: ignore[arg-type]
    assert conn.sent[-1]["channel"] == "futures.pong" and sim.client_pings == 1
    depth_20 = b'{"time":1,"channel":"futures.order_book_update","event":"subscribe","payload":["BTC_USDT","100ms","20"]}'
    depth_100 = b'{"time":1,"channel":"futures.order_book_update","event":"subscribe","payload":["BTC_USDT","100ms","100"]}'
    run(sim.on_client_message(conn, depth_20))  # type: ignore[arg-type]
    assert conn.sent[-1]["error"]["code"] == 2 and conn.subs == {}
    run(sim.on_client_message(conn, depth_100))  # type: ignore[arg-type]
    assert conn.subs == {"BTC-USDT-PERP": {"futures.order_book_update"}}
    contracts = orjson.loads(run(sim.instruments(make_mocked_request("GET", sim.instruments_path))).body)
    assert {i.symbol for i in GateSwap().parse_instruments([orjson.dumps(contracts)])} == set(sim.markets)
    frame = orjson.loads(sim.trade_frame("BTC-USDT-PERP", 600001, 3, False, 9))
    assert frame["result"][0]["size"] == -3 and frame["result"][0]["price"] == "60000.1"
