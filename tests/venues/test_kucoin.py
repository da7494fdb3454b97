"""KuCoin: the recorded capture, the documented sequence rules, the partial-snapshot window, the
bullet/ping handshake and instrument parsing."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import orjson
import pytest

from crossbook.errors import VenueUnavailable
from crossbook.feeds.capture import merge_captures, read_capture
from crossbook.feeds.manager import VenueFeed
from crossbook.market.replay import Replay, replay_files
from crossbook.model import BookState, Side
from crossbook.sim.cluster import SimCluster
from crossbook.symbols import SymbolMap
from crossbook.venues.kucoin import KucoinSpot

from ..conftest import CAPTURES, run, wait_for

WS = CAPTURES / "KUCOIN.ws.1.0.gz"
HTTP = CAPTURES / "KUCOIN.http.0.0.gz"


def l2(start: int, bids: Sequence[list[str]] = (), asks: Sequence[list[str]] = (), symbol: str = "BTC-USDT") -> bytes:
    """A ``trade.l2update`` whose changes are numbered from ``start`` in the order given."""
    seq = start
    numbered: dict[str, list[list[str]]] = {"bids": [], "asks": []}
    for side, levels in (("bids", bids), ("asks", asks)):
        for price, size in levels:
            numbered[side].append([price, size, str(seq)])
            seq += 1
    data = {"changes": numbered, "sequenceStart": start, "sequenceEnd": seq - 1, "symbol": symbol, "time": 1_700_000_000_000}
    return orjson.dumps({"topic": f"/market/level2:{symbol}", "type": "message", "subject": "trade.l2update", "data": data})


def snapshot(sequence: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    return orjson.dumps({"code": "200000", "data": {"time": 1, "sequence": str(sequence), "bids": bids, "asks": asks}})


def handler(*natives: str) -> tuple[KucoinSpot, list[tuple[str, str]]]:
    resyncs: list[tuple[str, str]] = []
    h = KucoinSpot(on_resync=lambda _h, native, reason: resyncs.append((native, reason)))
    for native in natives or ("BTC-USDT",):
        h.add_book(native)
    return h, resyncs


# ---- the recorded capture (2021, current protocol) -----------------------------------------


def test_capture_syncs_every_book_with_a_snapshot_and_no_gaps() -> None:
    replay = replay_files([WS, HTTP])
    report = replay.report()
    snapshots = {parse_qs(urlsplit(ev.url).query)["symbol"][0] for ev in read_capture(HTTP)}
    assert len(snapshots) == 9
    assert report["totals"]["gaps"] == 0 and report["totals"]["resyncs"] == 0
    assert report["totals"]["messages"] == 4721
    for native in snapshots:
        book = report["books"][f"kucoin:{native}"]
        assert book["synced"], native
        assert book["updates"] > 0
        assert book["best_bid"][0] < book["best_ask"][0]
    assert sum(report["books"][f"kucoin:{n}"]["updates"] for n in snapshots) == 3805
    (h,) = replay.handlers.values()
    assert replay.frame_errors == 0 and h.errors == 0
    assert h.trades == 18


def test_capture_books_agree_with_the_exchanges_own_ticker() -> None:
    """``trade.ticker`` carries bestBid/bestAsk and the book sequence they belong to: wherever a
    synced book is at that sequence, its top must be the exchange's."""
    replay = Replay()
    agreed = 0
    for ev in merge_captures([WS, HTTP]):
        replay.feed(ev)
        if ev.kind != "recv" or "trade.ticker" not in ev.data:
            continue
        msg = orjson.loads(ev.data)
        book = next(iter(replay.handlers.values())).books.get(msg["topic"].split(":")[1])
        if book is None or book.state is not BookState.LIVE or book.seq != int(msg["data"]["sequence"]):
            continue
        assert book.best_bid()[0] == float(msg["data"]["bestBid"])  # type: ignore[index]
        assert book.best_ask()[0] == float(msg["data"]["bestAsk"])  # type: ignore[index]
        agreed += 1
    assert agreed == 766


def test_capture_without_snapshots_never_syncs() -> None:
    report = replay_files([WS]).report()
    assert report["books"] and not any(b["synced"] for b in report["books"].values())


def recorded(subject: str) -> bytes:
    with gzip.open(WS, "rt") as fh:
        for line in fh:
            if f'"subject":"{subject}"' in line:
                return line.split(": ", 1)[1].encode()
    raise AssertionError(subject)


def test_recorded_price_zero_change_only_advances_the_sequence() -> None:
    frame = recorded("trade.l2update")  # BCHSV-USDT asks [["0","0","1613277183874"]]
    h, _ = handler("BCHSV-USDT")
    h.on_snapshot("BCHSV-USDT", snapshot(1613277183873, [["242.6", "1"]], [["243", "2"]]), 1.0)
    h.on_frame(frame, 2.0)
    book = h.books["BCHSV-USDT"]
    assert book.state is BookState.LIVE and book.seq == 1613277183874
    assert book.depth(5) == ([(242.6, 1.0)], [(243.0, 2.0)])
    assert h.latency.count == 0  # 2021 increments carry no "time"


def test_price_zero_is_skipped_whatever_its_size() -> None:
    """The docs: "if the price is 0, ignore the messages and update the sequence"."""
    h, _ = handler()
    h.on_frame(l2(10, bids=[["100", "1"]]), 1.0)
    h.on_snapshot("BTC-USDT", snapshot(10, [["100", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(l2(11, bids=[["0", "3"]], asks=[["0", "5"]]), 2.0)
    book = h.books["BTC-USDT"]
    assert book.seq == 12 and not book.crossed()
    assert book.depth(5) == ([(100.0, 1.0)], [(101.0, 1.0)])


def test_recorded_match_is_a_normalized_trade() -> None:
    h, _ = handler()
    h.symbols["DAPPT-BTC"] = "DAPPT-BTC"
    trades: list[Any] = []
    h.on_trade = trades.append
    h.on_frame(recorded("trade.l3match"), 1.0)
    (trade,) = trades
    assert trade.venue == "kucoin" and trade.symbol == "DAPPT-BTC"
    assert (trade.price, trade.amount, trade.side) == (0.0000001117, 81.8814, Side.BUY)
    assert trade.ts == pytest.approx(1619378327.739050725)
    assert trade.trade_id == "6085c09769bc506996295e36"


# ---- sequence rules ------------------------------------------------------------------------


def test_cache_replays_onto_snapshot_and_overlap_applies_only_newer_changes() -> None:
    h, resyncs = handler()
    book = h.books["BTC-USDT"]
    h.on_frame(l2(14, bids=[["99", "9"]], asks=[["101", "9"]]), 1.0)  # 14..15: inside the snapshot
    # 16..19 straddles snapshot 17: the bid numbered 16 and the ask numbered 17 are in it already
    h.on_frame(l2(16, bids=[["98", "5"]], asks=[["101", "7"], ["102", "3"], ["103", "0"]]), 1.0)
    assert book.state is BookState.SYNCING and book.best_bid() is None
    h.on_snapshot("BTC-USDT", snapshot(17, [["100", "1"], ["99", "2"]], [["101", "7"], ["103", "4"]]), 2.0)
    assert book.state is BookState.LIVE and book.seq == 19 and resyncs == []
    assert book.depth(5) == ([(100.0, 1.0), (99.0, 2.0)], [(101.0, 7.0), (102.0, 3.0)])
    assert book.stats.updates == 1  # the message wholly inside the snapshot is not applied


def test_snapshot_without_cached_messages_waits_for_one_that_bridges() -> None:
    h, resyncs = handler()
    book = h.books["BTC-USDT"]
    h.on_snapshot("BTC-USDT", snapshot(50, [["100", "1"]], [["101", "1"]]), 1.0)
    assert book.state is BookState.SYNCING
    h.on_frame(l2(49, bids=[["100", "4"]]), 2.0)  # numbered 49: already in the snapshot, but it
    assert book.state is BookState.LIVE  # proves the stream covers everything after 50
    assert book.best_bid() == (100.0, 1.0) and resyncs == []
    h.on_frame(l2(51, bids=[["100", "0"]]), 3.0)
    assert book.best_bid() is None and book.seq == 51


def test_snapshot_older_than_the_cache_is_fetched_again() -> None:
    h, resyncs = handler()
    h.on_frame(l2(60, bids=[["100", "1"]]), 1.0)
    h.on_snapshot("BTC-USDT", snapshot(50, [["100", "1"]], [["101", "1"]]), 2.0)
    assert resyncs == [("BTC-USDT", "stale snapshot")]
    assert h.books["BTC-USDT"].stats.gaps == 0


def test_gap_resyncs_only_that_book_and_keeps_the_message_for_the_next_snapshot() -> None:
    h, resyncs = handler("BTC-USDT", "ETH-USDT")
    for native in h.books:
        h.on_frame(l2(10, bids=[["100", "1"]], symbol=native), 1.0)
        h.on_snapshot(native, snapshot(10, [["100", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(l2(11, asks=[["101", "2"]]), 2.0)
    h.on_frame(l2(13, asks=[["101", "3"]]), 2.0)  # 12 never came
    btc, eth = h.books["BTC-USDT"], h.books["ETH-USDT"]
    assert resyncs == [("BTC-USDT", "gap")] and btc.stats.gaps == 1
    assert btc.state is BookState.RESYNCING and btc.best_ask() is None
    assert eth.state is BookState.LIVE and eth.stats.resyncs == 0
    h.on_snapshot("BTC-USDT", snapshot(12, [["100", "1"]], [["101", "5"]]), 3.0)
    assert btc.state is BookState.LIVE and btc.best_ask() == (101.0, 3.0) and btc.seq == 13


def test_duplicate_message_is_ignored_once_live() -> None:
    h, resyncs = handler()
    h.on_frame(l2(10, bids=[["100", "1"]]), 1.0)
    h.on_snapshot("BTC-USDT", snapshot(10, [["100", "1"]], [["101", "1"]]), 1.0)
    h.on_frame(l2(11, bids=[["100", "2"]]), 2.0)
    h.on_frame(l2(11, bids=[["100", "7"]]), 2.0)
    assert h.books["BTC-USDT"].best_bid() == (100.0, 2.0) and resyncs == []


def test_refused_snapshot_counts_an_error_and_asks_again() -> None:
    h, resyncs = handler()
    h.on_snapshot("BTC-USDT", orjson.dumps({"code": "429000", "msg": "Too Many Requests"}), 1.0)
    assert h.errors == 1 and resyncs == [("BTC-USDT", "snapshot refused")]


# ---- partial snapshots (level2_100) --------------------------------------------------------


def ladder(n: int, first: int, step: int) -> list[list[str]]:
    return [[str(first + step * i), "1"] for i in range(n)]


def live_on_partial_snapshot(h: KucoinSpot, taken: float) -> None:
    h.on_frame(l2(10, bids=[["1000", "1"]]), taken)
    h.on_snapshot("BTC-USDT", snapshot(10, ladder(100, 1000, -1), ladder(100, 1001, 1)), taken)


def test_partial_snapshot_is_refreshed_once_the_top_leaves_its_window() -> None:
    h, resyncs = handler()
    live_on_partial_snapshot(h, taken=100.0)
    assert h.windows["BTC-USDT"][:2] == (901.0, 1100.0)
    # the bids fall below the lowest level the snapshot vouched for (901)
    h.on_frame(l2(11, bids=[[str(p), "0"] for p in range(901, 1001)] + [["850", "2"]]), 110.0)
    book = h.books["BTC-USDT"]
    assert book.best_bid() == (850.0, 2.0) and resyncs == []  # too soon after the snapshot
    h.on_frame(l2(112, bids=[["851", "1"]]), 160.0)
    assert resyncs == [("BTC-USDT", "depth")] and book.stats.gaps == 0
    h.on_frame(l2(113, bids=[["852", "1"]]), 160.1)
    h.on_snapshot("BTC-USDT", snapshot(112, [["851", "1"], ["850", "2"]], ladder(100, 1001, 1)), 160.2)
    assert book.state is BookState.LIVE and book.best_bid() == (852.0, 1.0)
    assert h.windows["BTC-USDT"].floor == 0.0  # two bids: the whole side


def test_partial_snapshot_inside_its_window_is_kept() -> None:
    h, resyncs = handler()
    live_on_partial_snapshot(h, taken=100.0)
    h.on_frame(l2(11, bids=[["1000", "0"], ["950", "3"]], asks=[["1050", "0"]]), 500.0)
    assert resyncs == [] and h.books["BTC-USDT"].best_bid() == (999.0, 1.0)


def test_full_snapshot_has_no_window() -> None:
    h, _ = handler()
    h.on_frame(l2(10, bids=[["1000", "1"]]), 1.0)
    h.on_snapshot("BTC-USDT", snapshot(10, ladder(101, 1000, -1), ladder(172, 1001, 1)), 1.0)
    assert "BTC-USDT" not in h.windows


def test_snapshot_urls() -> None:
    h = KucoinSpot()
    assert h.snapshot_url("BTC-USDT") == "https://api.kucoin.com/api/v1/market/orderbook/level2_100?symbol=BTC-USDT"
    assert h.snapshot_native("https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=SNX-BTC") == "SNX-BTC"
    assert h.snapshot_native(h.snapshot_url("ETH-USDT")) == "ETH-USDT"
    assert h.snapshot_native("https://api.kucoin.com/api/v1/market/orderbook/level2_20?symbol=A-B") == "A-B"
    assert h.snapshot_native("https://api.kucoin.com/api/v2/symbols") is None


# ---- wire: subscribe, bullet, ping ---------------------------------------------------------


def test_subscriptions_are_batched_by_100_topics_per_channel() -> None:
    natives = [f"C{i}-USDT" for i in range(150)]
    msgs = [orjson.loads(f) for f in KucoinSpot().subscribe_messages(natives)]
    topics = [m["topic"] for m in msgs]
    assert [t.split(":")[0] for t in topics] == ["/market/level2"] * 2 + ["/market/match"] * 2
    assert [len(t.split(":")[1].split(",")) for t in topics] == [100, 50, 100, 50]
    assert all(m["type"] == "subscribe" and m["response"] is True and m["privateChannel"] is False for m in msgs)
    assert len({m["id"] for m in msgs}) == 4
    assert KucoinSpot.max_streams // KucoinSpot.streams_per_symbol == 200


def test_bullet_sets_endpoint_token_and_ping_interval() -> None:
    h = KucoinSpot()
    with pytest.raises(VenueUnavailable):
        h.connect_url(["BTC-USDT"])
    server = {"endpoint": "wss://ws-api-spot.kucoin.com/", "protocol": "websocket", "pingInterval": 18000, "pingTimeout": 10000}
    h.use_bullet(orjson.dumps({"code": "200000", "data": {"token": "2neAiuYv==.x", "instanceServers": [server]}}))
    url = urlsplit(h.connect_url(["BTC-USDT"]))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("wss", "ws-api-spot.kucoin.com", "/")
    assert query["token"] == ["2neAiuYv==.x"] and len(query["connectId"][0]) == 32
    assert h.ping_interval == 18.0
    with pytest.raises(VenueUnavailable, match="400003"):
        h.use_bullet(orjson.dumps({"code": "400003", "msg": "KC-API-KEY not exists"}))


def test_ping_and_control_frames() -> None:
    h, _ = handler()
    ping = orjson.loads(h.ping_message())  # type: ignore[arg-type]
    assert ping["type"] == "ping" and isinstance(ping["id"], str)
    for frame in ('{"id":"NSkIrWGB1s","type":"welcome"}', '{"id":"1","type":"ack"}', '{"id":"7","type":"pong","timestamp":1}'):
        h.on_frame(frame, 5.0)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 5.0
    h.on_frame('{"id":"2","type":"error","code":509,"data":"exceed max subscription count limitation of 400 per session"}', 6.0)
    assert h.errors == 1


def symbol_row(base: str, quote: str, lot: str, tick: str, trading: bool = True) -> dict[str, Any]:
    """One /api/v2/symbols entry (the fields the handler reads, named as KuCoin names them)."""
    return {
        "symbol": f"{base}-{quote}",
        "name": f"{base}-{quote}",
        "baseCurrency": base,
        "quoteCurrency": quote,
        "baseIncrement": lot,
        "priceIncrement": tick,
        "enableTrading": trading,
    }


def test_instruments_from_api_v2_symbols() -> None:
    rows = [
        symbol_row("BTC", "USDT", "0.00000001", "0.1"),
        symbol_row("XBT", "EUR", "0.0001", "0.01"),
        symbol_row("OLD", "BTC", "1", "0.00000001", trading=False),
    ]
    body = orjson.dumps({"code": "200000", "data": rows})
    h = KucoinSpot()
    assert h.instruments_urls() == ["https://api.kucoin.com/api/v2/symbols"]
    instruments = h.parse_instruments([body])
    symbols = SymbolMap("kucoin", instruments)
    assert symbols.native("BTC-USDT") == "BTC-USDT" and symbols.standard("XBT-EUR") == "BTC-EUR"
    assert "OLD-BTC" not in symbols and len(symbols) == 2
    assert (instruments[0].tick, instruments[0].lot) == (0.1, 0.00000001)


# ---- against the simulator: the handshake and the keep-alive ------------------------------


def test_client_keeps_the_bullet_ping_interval_and_the_venue_refuses_unknown_tokens() -> None:
    async def body() -> None:
        overrides: dict[str, object] = {"bullet_ping_interval_ms": 200, "bullet_ping_timeout_ms": 200}
        async with SimCluster(["kucoin"], interval=0.05, levels=120, overrides=overrides) as cluster:
            sim = cluster.venues["kucoin"]
            ws, rest = cluster.urls("kucoin")
            async with aiohttp.ClientSession() as session:
                feed = VenueFeed(KucoinSpot, ["BTC-USDT"], ws_url=ws, rest_url=rest)
                await feed.start(session)
                try:
                    await wait_for(lambda: sim.client_pings >= 3, 5, "client pings")
                    await asyncio.sleep(0.5)  # longer than pingInterval + pingTimeout
                    (conn,) = feed.connections
                    assert conn.handler.ping_interval == 0.2
                    assert conn.connects == 1 and feed.books["BTC-USDT"].is_live()
                finally:
                    await feed.stop()
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await session.ws_connect(f"{ws}/?token=not-issued&connectId=x")

    run(body(), 20)


def test_silent_connection_is_closed_after_ping_timeout() -> None:
    async def body() -> None:
        overrides: dict[str, object] = {"bullet_ping_interval_ms": 200, "bullet_ping_timeout_ms": 200}
        async with SimCluster(["kucoin"], interval=0.05, levels=120, overrides=overrides) as cluster:
            ws, rest = cluster.urls("kucoin")
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{rest}/api/v1/bullet-public") as resp:
                    token = (await resp.json())["data"]["token"]
                async with session.ws_connect(f"{ws}/?token={token}&connectId=t") as sock:
                    welcome = await sock.receive_json(timeout=2)
                    assert welcome["type"] == "welcome"
                    closed = await sock.receive(timeout=2)
                    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    run(body(), 20)
