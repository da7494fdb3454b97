"""Coinbase Advanced Trade: documented frame shapes, the per-connection sequence, the batched
level2 resubscribe, trades, instruments, and the simulator's wire behaviour."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import aiohttp
import orjson

from crossbook.feeds.capture import read_capture
from crossbook.model import BookState, Kind, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.venues.coinbase import CoinbaseSpot, rfc3339_seconds
from crossbook.venues.registry import feed_for_url

from ..conftest import CAPTURES, run, wait_for
from .contract import Harness

TS = "2023-02-09T20:32:50.714964855Z"


def l2(seq: int, kind: str, product: str, levels: list[tuple[str, str, str]]) -> bytes:
    updates = [{"side": s, "event_time": TS, "price_level": p, "new_quantity": q} for s, p, q in levels]
    return orjson.dumps(
        {
            "channel": "l2_data", "client_id": "", "timestamp": TS, "sequence_num": seq,
            "events": [{"type": kind, "product_id": product, "updates": updates}],
        }
    )


def heartbeat(seq: int) -> bytes:
    return orjson.dumps(
        {
            "channel": "heartbeats", "client_id": "", "timestamp": TS, "sequence_num": seq,
            "events": [{"current_time": "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105", "heartbeat_counter": "3049"}],
        }
    )


def trades(seq: int, kind: str, side: str) -> bytes:
    trade = {
        "trade_id": "000000000", "product_id": "ETH-USD", "price": "1260.01", "size": "0.3", "side": side,
        "time": "2019-08-14T20:42:27.265Z",
    }
    return orjson.dumps(
        {"channel": "market_trades", "client_id": "", "timestamp": TS, "sequence_num": seq, "events": [{"type": kind, "trades": [trade]}]}
    )


def handler(*natives: str) -> tuple[CoinbaseSpot, list[tuple[str, str]]]:
    resyncs: list[tuple[str, str]] = []
    h = CoinbaseSpot(on_resync=lambda _h, native, reason: resyncs.append((native, reason)))
    for native in natives:
        h.add_book(native)
    h.connection_opened()
    return h, resyncs


SNAPSHOT = [("bid", "21921.73", "0.06317902"), ("bid", "21921.3", "0.02"), ("offer", "21921.74", "0.5"), ("offer", "21922", "1.2")]


# ---- book sync --------------------------------------------------------------------------------


def test_in_band_snapshot_then_absolute_updates_and_zero_removes() -> None:
    h, resyncs = handler("BTC-USD")
    book = h.books["BTC-USD"]
    h.on_frame(l2(0, "update", "BTC-USD", [("bid", "21900", "1")]), 1.0)  # before the snapshot: ignored
    assert book.state is BookState.SYNCING and book.best_bid() is None
    h.on_frame(l2(1, "snapshot", "BTC-USD", SNAPSHOT), 1.0)
    assert book.status(1.0) is BookState.LIVE
    assert book.depth(2) == ([(21921.73, 0.06317902), (21921.3, 0.02)], [(21921.74, 0.5), (21922.0, 1.2)])
    h.on_frame(l2(2, "update", "BTC-USD", [("bid", "21921.73", "0"), ("offer", "21922", "3.5")]), 2.0)
    assert book.best_bid() == (21921.3, 0.02) and book.asks[21922.0] == 3.5
    assert book.stats.updates == 1 and book.updated_at == 2.0 and book.seq == 2
    assert h.latency.count == 3 and resyncs == [] and h.errors == 0


def test_a_gap_on_any_channel_resyncs_every_book_of_the_connection() -> None:
    h, resyncs = handler("BTC-USD", "ETH-USD")
    h.on_frame(l2(0, "snapshot", "BTC-USD", SNAPSHOT), 1.0)
    h.on_frame(l2(1, "snapshot", "ETH-USD", [("bid", "1500", "1"), ("offer", "1501", "1")]), 1.0)
    h.on_frame(heartbeat(2), 1.0)
    h.on_frame(heartbeat(4), 2.0)  # 3 was lost: it may have been any book's update
    assert resyncs == [("BTC-USD", "gap"), ("ETH-USD", "gap")]
    for book in h.books.values():
        assert book.state is BookState.RESYNCING and book.stats.gaps == 1 and book.best_bid() is None
    h.on_frame(l2(5, "update", "BTC-USD", [("bid", "21000", "1")]), 2.0)  # old subscription: ignored
    assert h.books["BTC-USD"].best_bid() is None
    h.on_frame(l2(6, "snapshot", "BTC-USD", SNAPSHOT), 3.0)  # the resubscribe's snapshot
    assert h.books["BTC-USD"].state is BookState.LIVE and len(resyncs) == 2


def test_a_number_already_seen_is_dropped_not_a_gap() -> None:
    h, resyncs = handler("BTC-USD")
    h.on_frame(l2(7, "snapshot", "BTC-USD", SNAPSHOT), 1.0)  # any first number starts the count
    h.on_frame(l2(8, "update", "BTC-USD", [("bid", "21921.73", "5")]), 1.0)
    h.on_frame(l2(8, "update", "BTC-USD", [("bid", "21921.73", "9")]), 1.0)  # duplicate
    h.on_frame(heartbeat(9), 1.0)
    assert h.books["BTC-USD"].best_bid() == (21921.73, 5.0)
    assert resyncs == [] and h.books["BTC-USD"].stats.updates == 1


def test_sequence_starts_over_on_a_new_connection() -> None:
    h, resyncs = handler("BTC-USD")
    h.on_frame(heartbeat(40), 1.0)
    h.connection_opened()
    h.on_frame(heartbeat(0), 2.0)
    assert resyncs == []


def test_unreadable_frame_counts_an_error_and_resyncs() -> None:
    h, resyncs = handler("BTC-USD")
    h.on_frame(l2(0, "snapshot", "BTC-USD", SNAPSHOT), 1.0)
    h.on_frame(b'{"channel":"l2_data","sequence_num":1,"timestamp":"' + TS.encode() + b'","events":[{"type":"update"}]}', 1.0)
    assert h.errors == 1 and resyncs == [("BTC-USD", "bad frame")]
    h.on_frame(b"not json", 1.0)
    assert h.errors == 2


def test_acks_heartbeats_and_unknown_channels_are_normal_but_venue_errors_count() -> None:
    h, resyncs = handler("BTC-USD")
    ack = {
        "channel": "subscriptions", "client_id": "", "timestamp": TS, "sequence_num": 0,
        "events": [{"subscriptions": {"level2": ["BTC-USD"]}}],
    }
    h.on_frame(orjson.dumps(ack), 1.0)
    h.on_frame(heartbeat(1), 1.0)
    h.on_frame(orjson.dumps({"channel": "ticker", "client_id": "", "timestamp": TS, "sequence_num": 2, "events": []}), 1.0)
    assert h.errors == 0 and h.messages == 3 and h.link.last_rx == 1.0
    h.on_frame(orjson.dumps({"type": "error", "message": "too many L2 streams requested in a single session"}), 1.0)
    assert h.errors == 1 and resyncs == []


# ---- subscribe and the batched resubscribe ------------------------------------------------------


def requests(frames: list[Any]) -> list[tuple[str, str, list[str] | None]]:
    out = []
    for frame in frames:
        msg = orjson.loads(frame)
        ids = msg.get("product_ids")
        out.append((msg["type"], msg["channel"], sorted(ids) if ids is not None else None))
    return out


def test_subscribe_sends_one_message_per_channel_without_auth() -> None:
    h, _ = handler("BTC-USD", "ETH-USD")
    frames = h.subscribe_messages(["BTC-USD", "ETH-USD"])
    assert requests(frames) == [
        ("subscribe", "level2", ["BTC-USD", "ETH-USD"]),
        ("subscribe", "market_trades", ["BTC-USD", "ETH-USD"]),
        ("subscribe", "heartbeats", None),
    ]
    assert all("jwt" not in orjson.loads(f) for f in frames)


def test_gap_resubscribe_is_one_unsubscribe_and_one_subscribe_however_the_driver_interleaves() -> None:
    natives = ["BTC-USD", "ETH-USD", "SOL-USD"]
    h, resyncs = handler(*natives)
    h.subscribe_messages(natives)
    for native in natives:
        h.books[native].seq = 0  # being updated (a gap leaves books still awaiting their snapshot alone)
    h.on_frame(heartbeat(0), 1.0)
    h.on_frame(heartbeat(2), 1.0)
    assert [n for n, _ in resyncs] == natives
    # FeedConnection._resubscribe(native) per book: unsubscribe_messages([n]), then subscribe_messages([n]);
    # its tasks may interleave at the awaits between the two
    sent = h.unsubscribe_messages(["BTC-USD"]) + h.unsubscribe_messages(["ETH-USD"])
    sent += h.subscribe_messages(["ETH-USD"]) + h.subscribe_messages(["BTC-USD"])
    sent += h.unsubscribe_messages(["SOL-USD"]) + h.subscribe_messages(["SOL-USD"])
    assert requests(sent) == [("unsubscribe", "level2", natives), ("subscribe", "level2", natives)]


def test_a_book_resynced_between_unsubscribe_and_subscribe_gets_its_own_turn() -> None:
    h, _ = handler("BTC-USD", "ETH-USD")
    h.subscribe_messages(["BTC-USD", "ETH-USD"])
    h.resync("BTC-USD", "gap")
    first = h.unsubscribe_messages(["BTC-USD"])
    h.resync("ETH-USD", "gap")  # still subscribed: its own driver call must cycle it
    first += h.subscribe_messages(["BTC-USD"])
    second = h.unsubscribe_messages(["ETH-USD"]) + h.subscribe_messages(["ETH-USD"])
    assert requests(first) == [("unsubscribe", "level2", ["BTC-USD"]), ("subscribe", "level2", ["BTC-USD"])]
    assert requests(second) == [("unsubscribe", "level2", ["ETH-USD"]), ("subscribe", "level2", ["ETH-USD"])]


def test_live_gap_costs_two_messages_for_all_books() -> None:
    async def body() -> None:
        async with Harness("coinbase") as h:
            await h.live()
            received: list[dict[str, Any]] = []
            original = h.sim.on_client_message

            async def record(conn: Any, data: str | bytes) -> None:
                received.append(orjson.loads(data))
                await original(conn, data)

            h.sim.on_client_message = record  # type: ignore[method-assign]
            h.sim.inject("skip", h.symbols[0])
            await wait_for(lambda: all(b.stats.gaps == 1 for b in h.books.values()) and h.all_live(), 15, "gap resync")
            await asyncio.sleep(0.3)
            natives = [h.sim.native(s) for s in h.symbols]
            assert [(m["type"], m["channel"], sorted(m["product_ids"])) for m in received] == [
                ("unsubscribe", "level2", sorted(natives)),
                ("subscribe", "level2", sorted(natives)),
            ]
            await h.settled()

    run(body())


# ---- trades, time, instruments ----------------------------------------------------------------


def test_trades_report_the_taker_side_and_skip_the_subscribe_snapshot() -> None:
    out: list[Trade] = []
    h = CoinbaseSpot(on_trade=out.append)
    h.symbols["ETH-USD"] = "ETH-USD"
    h.on_frame(trades(0, "snapshot", "BUY"), 1.0)
    h.on_frame(trades(1, "update", "BUY"), 1.0)  # a resting buy was hit: the taker sold
    h.on_frame(trades(2, "update", "SELL"), 1.0)
    assert [t.side for t in out] == [Side.SELL, Side.BUY]
    t = out[0]
    assert (t.venue, t.symbol, t.price, t.amount, t.trade_id) == ("coinbase", "ETH-USD", 1260.01, 0.3, "000000000")
    assert abs(t.ts - 1565815347.265) < 1e-6


def test_rfc3339_keeps_sub_second_digits() -> None:
    assert abs(rfc3339_seconds(TS) - 1675974770.714964855) < 1e-6
    assert rfc3339_seconds("2023-02-09T20:32:50Z") == 1675974770.0


def product(pid: str, base: str, quote: str, **extra: Any) -> dict[str, Any]:
    row = {
        "product_id": pid,
        "base_increment": "0.00000001",
        "quote_increment": "0.01",
        "price_increment": "0.01",
        "status": "online",
        "product_type": "SPOT",
        "base_currency_id": base,
        "quote_currency_id": quote,
        "trading_disabled": False,
        "is_disabled": False,
        "alias": "",
        "alias_to": [],
    }
    row.update(extra)
    return row


def test_instruments_from_the_public_products_endpoint() -> None:
    body = orjson.dumps(
        {
            "products": [
                product("BTC-USD", "BTC", "USD", alias_to=["BTC-USDC"]),
                product("BTC-USDC", "BTC", "USDC", alias="BTC-USD"),  # same book as BTC-USD
                product("BTC-USDT", "BTC", "USDT"),
                product("ETH-BTC", "ETH", "BTC", price_increment="0.00001", base_increment="0.0001"),
                product("OLD-USD", "OLD", "USD", status="delisted", trading_disabled=True),
                product("BIT-24APR26-CDE", "", "USD", product_type="FUTURE", base_increment="1", price_increment="5"),
            ],
            "num_products": 6,
        }
    )
    h = CoinbaseSpot(rest_url="http://127.0.0.1:1")
    assert h.instruments_urls() == ["http://127.0.0.1:1/api/v3/brokerage/market/products?product_type=SPOT"]
    got = {i.native: i for i in h.parse_instruments([body])}
    assert sorted(got) == ["BTC-USD", "BTC-USDT", "ETH-BTC"]
    assert got["BTC-USD"].symbol == "BTC-USD" and got["BTC-USDT"].symbol == "BTC-USDT"
    eth = got["ETH-BTC"]
    assert (eth.symbol, eth.base, eth.quote, eth.kind, eth.tick, eth.lot) == ("ETH-BTC", "ETH", "BTC", Kind.SPOT, 0.00001, 0.0001)


# ---- the legacy capture -------------------------------------------------------------------------


def test_legacy_coinbase_pro_capture_is_not_this_feed() -> None:
    """COINBASE.ws.28.0 is the retired Coinbase Pro protocol (shapes only): its host does not route
    to the Advanced Trade feed, and its frames neither build books nor count as errors."""
    events = list(read_capture(CAPTURES / "COINBASE.ws.28.0.gz"))
    opened = next(e for e in events if e.kind == "open")
    assert "ws-feed.pro.coinbase.com" in opened.url and feed_for_url(opened.url) is None
    h = CoinbaseSpot(auto_books=True)
    frames = [e for e in events if e.kind == "recv"]
    for ev in frames:
        h.on_frame(ev.data, ev.ts)
    assert len(frames) > 9000 and h.books == {} and h.errors == 0 and h.trades == 0
    with gzip.open(CAPTURES / "COINBASE.ws.28.0.gz", "rt") as fh:
        assert '"type":"l2update"' in fh.read(200_000)  # the legacy shape this feed leaves alone


# ---- the simulator ----------------------------------------------------------------------------


def test_sim_numbers_every_message_per_connection_and_skip_loses_one() -> None:
    async def body() -> None:
        async with SimCluster(["coinbase"], interval=0.02, levels=30) as cluster:
            sim = cluster.venues["coinbase"]
            ws_url, _ = cluster.urls("coinbase")
            async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
                h = CoinbaseSpot()
                h.add_book("BTC-USD")
                for frame in h.subscribe_messages(["BTC-USD"]):
                    await ws.send_str(frame.decode() if isinstance(frame, bytes) else frame)
                seen: list[tuple[int, str]] = []
                while len({c for _, c in seen}) < 4 or len(seen) < 40:
                    msg = orjson.loads((await ws.receive(timeout=5)).data)
                    seen.append((msg["sequence_num"], msg["channel"]))
                numbers = [n for n, _ in seen]
                assert numbers == list(range(len(numbers)))
                assert {c for _, c in seen} == {"subscriptions", "l2_data", "market_trades", "heartbeats"}
                sim.inject("skip", "BTC-USD")
                last = numbers[-1]
                while True:
                    msg = orjson.loads((await ws.receive(timeout=5)).data)
                    if msg["sequence_num"] != last + 1:
                        assert msg["sequence_num"] == last + 2 and msg["channel"] == "l2_data"
                        break
                    last = msg["sequence_num"]

    run(body())


def test_sim_lists_usdc_books_as_aliases_and_answers_unknown_products_with_an_error() -> None:
    async def body() -> None:
        async with SimCluster(["coinbase"], interval=0.05, levels=30) as cluster:
            ws_url, rest_url = cluster.urls("coinbase")
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{rest_url}/api/v3/brokerage/market/products") as resp:
                    rows = (await resp.json())["products"]
                aliases = {r["product_id"]: r["alias"] for r in rows if r["alias"]}
                assert aliases == {"BTC-USDC": "BTC-USD", "ETH-USDC": "ETH-USD", "USDT-USDC": "USDT-USD"}
                async with session.get(f"{rest_url}/api/v3/brokerage/market/products?product_type=FUTURE") as resp:
                    assert (await resp.json())["products"] == []
                async with session.ws_connect(ws_url) as ws:
                    await ws.send_str('{"type":"subscribe","product_ids":["NOPE-USD"],"channel":"level2"}')
                    msg = orjson.loads((await ws.receive(timeout=5)).data)
                    assert msg["type"] == "error"

    run(body())
