"""Every OrderRequest field reaches the venue in the venue's own terms, or the order is refused
before anything is sent with an error naming the venue and the field: margin mode and leverage
set through the venue's own endpoints (and read back through an unmodified ccxt client), a
hedge-mode position side, an iceberg's visible slice in the simulated public book."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crossbook.errors import InvalidOrder, VenueRefused
from crossbook.feeds.handler import FeedHandler
from crossbook.feeds.manager import VenueFeed
from crossbook.model import BookState, MarginMode, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from crossbook.sim.server import SimVenue
from crossbook.trading.account import VenueAccount
from crossbook.trading.client_ids import client_id_rule
from crossbook.trading.journal import Journal
from crossbook.trading.stream import OrderStream
from crossbook.venues.registry import all_feeds, spec

from ..conftest import run, wait_for
from ..sim.trading_contract import TradingHarness


@dataclass(frozen=True)
class Perp:
    venue: str
    feed: str
    symbol: str  # crossbook's (and the engine's)
    amount: D  # contracts


PERPS = {
    "binance": Perp("binance", "binanceusdm", "BTC-USDT-PERP", D("0.01")),
    "bybit": Perp("bybit", "bybitlinear", "BTC-USDT-PERP", D("0.01")),
    "okx": Perp("okx", "okx", "BTC-USDT-PERP", D(1)),
}


@asynccontextmanager
async def perp_account(perp: Perp, tmp: Path) -> AsyncIterator[tuple[TradingHarness, VenueAccount, Any]]:
    """The simulated perpetual venue, a VenueAccount on it and a second, unmodified ccxt client
    of the same key to read the venue back with."""
    async with TradingHarness(perp.feed) as h:
        options = {"options": dict(spec(perp.venue).perp_ccxt_options)} if perp.feed == "okx" else {}
        with Journal(tmp / "j.db") as journal:
            account = VenueAccount(perp.venue, h.client(**options), journal)
            await account.load()
            reader = h.client(**options)
            await reader.load_markets()
            yield h, account, reader


def engine_order(sim: SimVenue, cid: str) -> Any:
    return sim.engine.find("main", client_id=sim_client_id(sim, cid))


def sim_client_id(sim: SimVenue, cid: str) -> str:
    """The client order id as the simulator's engine keeps it (the wire value of crossbook's)."""
    return str(client_id_rule(sim.venue_id).wire_value(cid))


@pytest.mark.parametrize("venue", list(PERPS))
def test_an_isolated_3x_order_leaves_the_position_isolated_at_3x_as_ccxt_reads_it(venue: str, tmp_path: Path) -> None:
    perp = PERPS[venue]

    async def body() -> None:
        async with perp_account(perp, tmp_path) as (h, account, reader):
            request = OrderRequest(venue, perp.symbol, Side.BUY, OrderType.MARKET, perp.amount,
                                   margin_mode=MarginMode.ISOLATED, leverage=D(3))
            placed = await account.create_order(request, reference_price=h.touch()[1])
            assert placed.status is OrderStatus.FILLED
            held = h.sim.engine.account("main")
            assert held.margin_modes[perp.symbol] is MarginMode.ISOLATED and held.leverages[perp.symbol] == 3
            at_venue = engine_order(h.sim, placed.client_order_id)
            assert (at_venue.margin_mode, at_venue.leverage) == (MarginMode.ISOLATED, D(3))

            ccxt_symbol = account.market(perp.symbol).ccxt_symbol
            (position,) = [p for p in await reader.fetch_positions([ccxt_symbol]) if p.get("contracts")]
            # every margin mode ccxt reads back (a position's where ccxt parses one, the venue's setting where ccxt reads it)
            modes = {position.get("marginMode")} - {None}
            if reader.has.get("fetchMarginMode"):
                modes.add((await reader.fetch_margin_mode(ccxt_symbol))["marginMode"])
            assert modes == {"isolated"}, position
            assert position.get("leverage") is None or D(str(position["leverage"])) == 3, position
            leverage = await reader.fetch_leverage(ccxt_symbol, {"marginMode": "isolated"} if venue == "okx" else {})
            assert leverage["longLeverage"] == 3, leverage
            settings = [e.detail for e in account.journal.events(placed.client_order_id) if e.kind == "setting"]
            assert {s["setting"] for s in settings} >= {"leverage"}, settings
            assert {s["after"] for s in settings if s["setting"] == "leverage"} == {"3"}

    run(body(), timeout=60)


@pytest.mark.parametrize("venue", list(PERPS))
def test_settings_already_held_are_not_set_again(venue: str, tmp_path: Path) -> None:
    perp = PERPS[venue]

    async def body() -> None:
        async with perp_account(perp, tmp_path) as (h, account, _):
            request = OrderRequest(venue, perp.symbol, Side.BUY, OrderType.MARKET, perp.amount,
                                   margin_mode=MarginMode.ISOLATED, leverage=D(3))
            first = await account.create_order(request, reference_price=h.touch()[1])
            second = await account.create_order(request, reference_price=h.touch()[1])
            assert [e for e in account.journal.events(first.client_order_id) if e.kind == "setting"]
            assert [e for e in account.journal.events(second.client_order_id) if e.kind == "setting"] == []
            assert second.status is OrderStatus.FILLED

    run(body(), timeout=60)


@pytest.mark.parametrize("venue", list(PERPS))
def test_a_hedge_mode_order_carries_its_position_side(venue: str, tmp_path: Path) -> None:
    perp = PERPS[venue]

    async def body() -> None:
        async with perp_account(perp, tmp_path) as (h, account, _):
            bid = h.touch()[0]
            price = (bid * D("0.95")).quantize(account.market(perp.symbol).tick)
            for side, position_side in ((Side.BUY, PositionSide.LONG), (Side.SELL, PositionSide.SHORT)):
                limit = price if side is Side.BUY else (bid * D("1.05")).quantize(account.market(perp.symbol).tick)
                request = OrderRequest(venue, perp.symbol, side, OrderType.LIMIT, perp.amount, limit, position_side=position_side)
                placed = await account.create_order(request)
                assert placed.status is OrderStatus.OPEN
                at_venue = engine_order(h.sim, placed.client_order_id)
                assert at_venue.position_side is position_side and at_venue.side is side
            assert h.sim.engine.account("main").hedge_mode

    run(body(), timeout=60)


def test_a_leverage_change_the_order_then_fails_after_is_reported_and_journaled(tmp_path: Path) -> None:
    perp = PERPS["binance"]

    async def body() -> None:
        async with perp_account(perp, tmp_path) as (h, account, _):
            h.sim.engine.inject("reject")  # the venue refuses the order itself, after the leverage is set
            request = OrderRequest("binance", perp.symbol, Side.BUY, OrderType.MARKET, perp.amount, leverage=D(7))
            with pytest.raises(VenueRefused, match=r"binance refused .*leverage of BTC-USDT-PERP 1 -> 7") as refused:
                await account.create_order(request, reference_price=h.touch()[1])
            assert "journaled" in str(refused.value)
            assert h.sim.engine.account("main").leverages[perp.symbol] == 7
            (order,) = account.journal.orders("binance")
            assert order.status is OrderStatus.REJECTED
            (setting,) = [e.detail for e in account.journal.events(order.client_order_id) if e.kind == "setting"]
            assert setting == {"setting": "leverage", "symbol": perp.symbol, "before": "1", "after": "7"}

    run(body(), timeout=60)


def test_a_refused_setting_sends_no_order_and_names_the_field(tmp_path: Path) -> None:
    perp = PERPS["binance"]

    async def body() -> None:
        async with perp_account(perp, tmp_path) as (h, account, _):
            request = OrderRequest("binance", perp.symbol, Side.BUY, OrderType.MARKET, perp.amount, leverage=D(125),
                                   margin_mode=MarginMode.ISOLATED)
            before = len(h.sim.engine.orders)
            # a position held in cross makes the venue refuse the margin mode change
            opened = await account.create_order(OrderRequest("binance", perp.symbol, Side.BUY, OrderType.MARKET, perp.amount),
                                                reference_price=h.touch()[1])
            assert opened.status is OrderStatus.FILLED
            with pytest.raises(InvalidOrder, match=r"binance refused the margin_mode of BTC-USDT-PERP.*\(margin_mode; .* not sent\)"):
                await account.create_order(request, reference_price=h.touch()[1])
            assert len(h.sim.engine.orders) == before + 1  # only the first order reached the venue
            assert h.sim.engine.account("main").leverages.get(perp.symbol, D(1)) == 1

    run(body(), timeout=60)


# ---- iceberg -------------------------------------------------------------------------------


def test_an_iceberg_on_binance_spot_shows_only_its_visible_slice_in_the_public_book(tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness("binance") as h:
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("binance", h.client(), journal)
                await account.load()
                reader = h.client()
                await reader.load_markets()
                rules = account.market(h.symbol)
                price = h.inside_bid()  # the market paused; a buy here rests alone at the top of the book
                request = OrderRequest("binance", h.symbol, Side.BUY, OrderType.LIMIT, D("0.5"), price, iceberg_visible=D("0.1"))
                placed = await account.create_order(request)
                at_venue = engine_order(h.sim, placed.client_order_id)
                lot = h.sim.engine.markets[h.symbol].lot
                assert (at_venue.amount * lot, at_venue.visible * lot, at_venue.price * rules.tick) == (D("0.5"), D("0.1"), price)

                async def shown_at_price() -> D:
                    book = await reader.fetch_order_book(rules.ccxt_symbol, 1000)
                    return sum((D(str(a)) for p, a, *_ in book["bids"] if D(str(p)) == price), D(0))

                assert await shown_at_price() == D("0.1")
                # a sell of 0.15 at that price trades the slice and 0.05 of the next, which shows in its place
                taker = OrderRequest("binance", h.symbol, Side.SELL, OrderType.LIMIT, D("0.15"), price, time_in_force=TimeInForce.IOC)
                await account.create_order(taker)
                assert at_venue.filled * lot == D("0.15")
                assert await shown_at_price() == D("0.05")

    run(body(), timeout=60)


@asynccontextmanager
async def public_feed(h: TradingHarness) -> AsyncIterator[VenueFeed]:
    """crossbook's own feed of the simulated venue's public WebSocket on ``h``'s symbol: the
    book its handler keeps from the REST snapshot and the depth diffs, LIVE."""
    assert h.cluster is not None
    ws, rest = h.cluster.urls(h.feed_id)
    async with aiohttp.ClientSession() as session:
        feed = VenueFeed(all_feeds()[h.feed_id], [h.symbol], ws_url=ws, rest_url=rest)
        await feed.start(session)
        try:
            await wait_for(lambda: h.symbol in feed.books and feed.books[h.symbol].status() is BookState.LIVE,
                           30.0, f"the {h.feed_id} {h.symbol} book to be live")
            yield feed
        finally:
            await feed.stop()


def test_an_iceberg_on_binance_spot_shows_only_its_visible_slice_in_the_websocket_depth_diffs(tmp_path: Path) -> None:
    """The book crossbook's feed handler keeps from the public depth diffs (not only the REST
    snapshot ccxt reads) shows the iceberg's slice at its price, never the full size: first the
    slice, then, after a taker trades through it, the refilled slice less what the taker took."""
    async def body() -> None:
        async with TradingHarness("binance") as h, public_feed(h) as feed:
            book = feed.books[h.symbol]
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("binance", h.client(), journal)
                await account.load()
                reader = h.client()
                await reader.load_markets()
                rules = account.market(h.symbol)
                price = h.inside_bid()  # the market paused; nobody else quotes this tick
                best_bid = float(h.touch()[0])
                await wait_for(lambda: (top := book.best_bid()) is not None and top[0] == best_bid, 30.0,
                               "the feed's book to settle on the paused market")
                level = float(price)
                seen: list[float] = []  # the level's size after every frame that changed it

                def watch(handler: FeedHandler) -> None:
                    on_frame = handler.on_frame

                    def watched(data: bytes | str, ts: float) -> Any:
                        replies = on_frame(data, ts)
                        size = book.bids.get(level, 0.0)
                        if size != (seen[-1] if seen else 0.0):
                            seen.append(size)
                        return replies

                    handler.on_frame = watched  # type: ignore[method-assign]

                for conn in feed.connections:
                    watch(conn.handler)

                async def rest_shown() -> D:
                    snapshot = await reader.fetch_order_book(rules.ccxt_symbol, 1000)
                    return sum((D(str(a)) for p, a, *_ in snapshot["bids"] if D(str(p)) == price), D(0))

                request = OrderRequest("binance", h.symbol, Side.BUY, OrderType.LIMIT, D("0.5"), price, iceberg_visible=D("0.1"))
                placed = await account.create_order(request)
                await wait_for(lambda: bool(seen), 30.0, "the iceberg's level in the feed's book")
                assert (seen, await rest_shown()) == ([0.1], D("0.1"))
                # a sell of 0.15 trades the slice and 0.05 of the next, which shows in its place
                taker = OrderRequest("binance", h.symbol, Side.SELL, OrderType.LIMIT, D("0.15"), price, time_in_force=TimeInForce.IOC)
                await account.create_order(taker)
                assert engine_order(h.sim, placed.client_order_id).filled * h.sim.engine.markets[h.symbol].lot == D("0.15")
                await wait_for(lambda: len(seen) > 1, 30.0, f"the refilled slice in the feed's book (seen {seen})")
                assert (seen, await rest_shown()) == ([0.1, 0.05], D("0.05"))

    run(body(), timeout=90)


# ---- the settings cache --------------------------------------------------------------------


def test_settings_are_read_again_after_the_private_stream_reconnects(tmp_path: Path) -> None:
    """A leverage changed elsewhere while the private stream was down is not trusted from the
    cache: the next order asking for 3x sets it again."""
    perp = PERPS["binance"]

    async def body() -> None:
        async with TradingHarness(perp.feed) as h:
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("binance", h.client(pro=True), journal)
                await account.load()
                stream = OrderStream(account, reconcile_every=3600.0)
                task = asyncio.create_task(stream.run())
                try:
                    await wait_for(lambda: h.sim.streaming_to("main"), 20.0, "the private stream to be subscribed")
                    request = OrderRequest("binance", perp.symbol, Side.BUY, OrderType.MARKET, perp.amount, leverage=D(3))
                    await account.create_order(request, reference_price=h.touch()[1])
                    h.sim.engine.set_leverage("main", perp.symbol, D(5))  # changed elsewhere (the venue's web page)
                    h.sim.inject("drop")
                    await wait_for(lambda: stream.stats.failures >= 1 and h.sim.streaming_to("main"), 30.0, "the stream to reconnect")
                    second = await account.create_order(request, reference_price=h.touch()[1])
                    assert engine_order(h.sim, second.client_order_id).leverage == 3
                    settings = [e.detail for e in journal.events(second.client_order_id) if e.kind == "setting"]
                    assert settings == [{"setting": "leverage", "symbol": perp.symbol, "before": "5", "after": "3"}]
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    run(body(), timeout=90)
