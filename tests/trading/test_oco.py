"""OCO through crossbook on the simulated venues: the venue's own (Binance's order list, OKX's oco
algo order) and crossbook's own elsewhere (Kraken), each ending with one leg filled and the other
canceled once the market moves through a leg, with no call but waiting: the keeper runs in the
background, from the private stream where the account's client streams, polling otherwise; a
partial fill reduces the other leg; a restart finishes a group whose leg filled while crossbook
was down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import ROUND_DOWN, Decimal
from typing import TypeVar

import ccxt
import ccxt.pro as ccxt_pro
import pytest

from crossbook.desk import Desk
from crossbook.errors import VenueUnavailable
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.engine import MatchingEngine
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import OcoState
from crossbook.trading.oco import STREAMED_CHECK_EVERY
from crossbook.trading.trader import OcoView, Trader
from crossbook.venues.registry import capabilities
from crossbook.venues.spec.capabilities import OcoMode, Product, oco_mode

from ..conftest import run

D = Decimal
SYMBOL = "BTC-USDT"
T = TypeVar("T")


def engine(desk: Desk, venue: str) -> MatchingEngine:
    sim = desk.simulator.trading_sim(venue)  # type: ignore[union-attr]
    assert sim is not None
    return sim.engine


def bid(desk: Desk, venue: str) -> Decimal:
    sim = desk.simulator.trading_sim(venue)  # type: ignore[union-attr]
    assert sim is not None
    return D(str(sim.expected_top(SYMBOL, 1)[0][0][0]))


def at(trader: Trader, price: Decimal) -> Decimal:
    tick = trader.market(SYMBOL).tick
    return (price / tick).to_integral_value(rounding=ROUND_DOWN) * tick


async def until(read: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: last {value!r}")
        await asyncio.sleep(0.1)


async def kraken_bracket(desk: Desk, trader: Trader) -> OcoView:
    """crossbook's own OCO on Kraken: a sell 0.3 % above the bid and a buy 1 % below it, 0.01 BTC each."""
    px = bid(desk, "kraken")
    above = OrderRequest("kraken", SYMBOL, Side.SELL, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("1.003")))
    below = OrderRequest("kraken", SYMBOL, Side.BUY, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("0.99")))
    return await trader.oco_pair(above, below)


def statuses(view: OcoView) -> list[OrderStatus]:
    return [leg.status for leg in view.legs]


def test_the_matrix_says_how_each_venue_places_an_oco() -> None:
    assert oco_mode(capabilities("binance"), Product.SPOT) is OcoMode.NATIVE
    assert oco_mode(capabilities("okx"), Product.SPOT) is OcoMode.NATIVE  # its oco algo order
    assert oco_mode(capabilities("binance"), Product.LINEAR_PERP) is OcoMode.CROSSBOOK  # Binance's lists are spot only
    for venue in ("kraken", "coinbase", "bybit", "gate"):
        assert oco_mode(capabilities(venue), Product.SPOT) is OcoMode.CROSSBOOK, venue
    assert oco_mode(capabilities("kraken"), Product.OPTIONS) is OcoMode.NONE
    row = capabilities("kraken").as_dict()["orders"]["oco"]  # type: ignore[index]
    assert row["offered"] is False and row["placed_as"]["spot"] == "crossbook"


def test_a_binance_order_list_ends_with_its_limit_filled_and_its_stop_canceled() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("binance")
            px = bid(desk, "binance")
            pair = await trader.oco(SYMBOL, Side.SELL, D("0.01"), price=at(trader, px * D("1.003")),
                                    stop_price=at(trader, px * D("0.99")), stop_limit=at(trader, px * D("0.989")))
            assert (pair.mode, pair.state) == ("native", OcoState.OPEN) and pair.list_id
            limit, stop = (engine(desk, "binance").find("main", client_id=leg.client_order_id) for leg in pair.legs)
            assert limit.linked == stop.order_id  # one list at the venue, two linked orders in the journal
            assert trader.account.journal.oco_of(pair.legs[1].client_order_id).group_id == pair.group_id  # type: ignore[union-attr]
            desk.dislocate("binance", 100, SYMBOL)  # the market makers' bids move through the limit
            done = await until(lambda: trader.oco_group(pair.group_id), lambda v: v.state.final, "the list to end")
            assert done.state is OcoState.DONE and statuses(done) == [OrderStatus.FILLED, OrderStatus.CANCELED]
            assert done.filled == (D("0.01"), D(0))
            assert (limit.status, stop.status) == (OrderStatus.FILLED, OrderStatus.CANCELED)

    run(body())


def test_an_okx_oco_algo_order_ends_with_its_take_profit_filled_and_its_stop_canceled() -> None:
    """OKX's legs are triggers, no orders, until one fires: crossbook reads the algo order whole,
    acks the fired leg with the order it placed, and records the other canceled; nothing but
    waiting on the test's side."""

    async def body() -> None:
        async with Desk.sim(["okx"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("okx")
            px = bid(desk, "okx")
            pair = await trader.oco(SYMBOL, Side.SELL, D("0.01"), price=at(trader, px * D("1.003")),
                                    stop_price=at(trader, px * D("0.99")))
            assert (pair.mode, pair.state, statuses(pair)) == ("native", OcoState.OPEN, [OrderStatus.OPEN] * 2)
            assert pair.list_id and all(leg.venue_order_id is None for leg in pair.legs)  # triggers, not orders yet
            client = trader.account.client
            algo = (await client.private_get_trade_order_algo({"algoId": pair.list_id}))["data"][0]
            assert (algo["ordType"], algo["state"], algo["algoClOrdId"]) == ("oco", "live", pair.legs[0].client_order_id)
            assert (await trader.account.reconcile()).updated == []  # reconciliation leaves the triggers alone
            desk.dislocate("okx", 100, SYMBOL)  # trades print through the take-profit trigger
            done = await ended(trader, pair.group_id)
            assert done.state is OcoState.DONE and statuses(done) == [OrderStatus.FILLED, OrderStatus.CANCELED]
            assert done.filled == (D("0.01"), D(0))
            algo = (await client.private_get_trade_order_algo({"algoId": pair.list_id}))["data"][0]
            assert (algo["state"], algo["actualSide"]) == ("effective", "tp")
            assert done.legs[0].venue_order_id == algo["ordIdList"][0]
            placed = engine(desk, "okx").find("main", order_id=algo["ordIdList"][0])
            assert placed.status is OrderStatus.FILLED and engine(desk, "okx").open_orders("main") == []

    run(body())


def test_cancelling_a_leg_of_an_okx_oco_cancels_the_algo_order() -> None:
    async def body() -> None:
        async with Desk.sim(["okx"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("okx")
            px = bid(desk, "okx")
            pair = await trader.oco(SYMBOL, Side.BUY, D("0.01"), price=at(trader, px * D("0.99")),
                                    stop_price=at(trader, px * D("1.01")), stop_limit=at(trader, px * D("1.011")))
            leg = await trader.cancel(pair.legs[1].client_order_id)  # a trigger: it goes with its algo order
            assert leg.status is OrderStatus.CANCELED
            canceled = await trader.oco_group(pair.group_id)
            assert canceled.state is OcoState.CANCELED and statuses(canceled) == [OrderStatus.CANCELED] * 2
            algo = (await trader.account.client.private_get_trade_order_algo({"algoId": pair.list_id}))["data"][0]
            assert algo["state"] == "canceled" and engine(desk, "okx").open_orders("main") == []

    run(body())


def test_crossbooks_own_oco_on_kraken_fills_one_leg_and_cancels_the_other() -> None:
    async def body() -> None:
        async with Desk.sim(["kraken"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("kraken")
            pair = await kraken_bracket(desk, trader)
            assert (pair.mode, pair.state, statuses(pair)) == ("crossbook", OcoState.OPEN, [OrderStatus.OPEN] * 2)
            # the desk's accounts trade through ccxt's REST client: the group is kept by polling, with no call of ours
            assert trader.keeper.keeping and (await desk.account("kraken")).keeper is trader.keeper
            desk.dislocate("kraken", 100, SYMBOL)
            view = await ended(trader, pair.group_id)
            assert view.state is OcoState.DONE and statuses(view) == [OrderStatus.FILLED, OrderStatus.CANCELED]
            sim_legs = [engine(desk, "kraken").find("main", client_id=leg.client_order_id) for leg in view.legs]
            assert [o.status for o in sim_legs] == [OrderStatus.FILLED, OrderStatus.CANCELED]
            await until(lambda: _async(trader.keeper.keeping), lambda k: not k, "the keeper to stop with no group open")

    run(body())


@pytest.mark.parametrize(("bps", "ends"), [(100, [OrderStatus.FILLED, OrderStatus.CANCELED]),
                                           (-100, [OrderStatus.CANCELED, OrderStatus.FILLED])], ids=["limit", "stop"])
def test_crossbooks_own_oco_of_a_limit_and_a_stop_on_bybit_spot(bps: int, ends: list[OrderStatus]) -> None:
    """A take-profit limit above the market and a stop below it: a rise fills the limit and the
    stop (a spot conditional order, read back and cancelled under orderFilter=StopOrder) is
    cancelled; a fall fires the stop and the limit is cancelled."""

    async def body() -> None:
        async with Desk.sim(["bybit"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("bybit")
            px = bid(desk, "bybit")
            limit = OrderRequest("bybit", SYMBOL, Side.SELL, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("1.003")))
            stop = OrderRequest("bybit", SYMBOL, Side.SELL, OrderType.STOP, D("0.01"), stop_price=at(trader, px * D("0.997")))
            pair = await trader.oco_pair(limit, stop)
            assert (pair.mode, pair.state, statuses(pair)) == ("crossbook", OcoState.OPEN, [OrderStatus.OPEN] * 2)
            eng = engine(desk, "bybit")
            held = eng.find("main", client_id=pair.legs[1].client_order_id)
            assert (held.type, held.waiting) == (OrderType.STOP, True)
            desk.dislocate("bybit", bps, SYMBOL)
            view = await ended(trader, pair.group_id)
            assert view.state is OcoState.DONE and statuses(view) == ends
            sim_legs = [eng.find("main", client_id=leg.client_order_id) for leg in view.legs]
            assert [o.status for o in sim_legs] == ends

    run(body())


@pytest.mark.parametrize("venue", ["kraken", "coinbase"])
def test_crossbooks_own_oco_is_kept_from_the_private_stream(venue: str) -> None:
    """An account whose client streams its orders (ccxt.pro's): the group is kept from the private
    stream, with the REST safety net far beyond the test's deadline."""

    async def body() -> None:
        async with Desk.sim([venue], symbols=[SYMBOL]) as desk:
            assert desk.simulator is not None
            primary = await desk.venue_account(venue)
            config = dict(desk.simulator.ccxt_configs[(venue, "main")])
            account = VenueAccount(venue, getattr(ccxt_pro, primary.client.id)(config), primary.journal,
                                   primary.limiter, "main")
            trader = Trader(account)
            try:
                await account.load()
                px = bid(desk, venue)
                above = OrderRequest(venue, SYMBOL, Side.SELL, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("1.003")))
                below = OrderRequest(venue, SYMBOL, Side.BUY, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("0.99")))
                pair = await trader.oco_pair(above, below)
                assert trader.keeper.keeping
                await until(lambda: _async(trader.keeper.stream), lambda s: s is not None and s.stats.reconciles > 0,
                            "the keeper's private stream to start")
                desk.dislocate(venue, 100, SYMBOL)
                view = await ended(trader, pair.group_id, timeout=STREAMED_CHECK_EVERY - 5)
                stream = trader.keeper.stream
                assert stream is not None and stream.streaming and stream.stats.order_updates > 0
                assert view.state is OcoState.DONE and statuses(view) == [OrderStatus.FILLED, OrderStatus.CANCELED]
                sim_legs = [engine(desk, venue).find("main", client_id=leg.client_order_id) for leg in view.legs]
                assert [o.status for o in sim_legs] == [OrderStatus.FILLED, OrderStatus.CANCELED]
            finally:
                await trader.stop()
                await account.client.close()

    run(body())


def test_a_partial_fill_reduces_the_other_leg_and_cancelling_the_group_cancels_both() -> None:
    async def body() -> None:
        async with Desk.sim(["kraken"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("kraken")
            px = bid(desk, "kraken")
            sell_px = at(trader, px * D("1.003"))
            above = OrderRequest("kraken", SYMBOL, Side.SELL, OrderType.LIMIT, D("0.01"), price=sell_px)
            below = OrderRequest("kraken", SYMBOL, Side.BUY, OrderType.LIMIT, D("0.01"), price=at(trader, px * D("0.99")))
            pair = await trader.oco_pair(above, below)
            eng = engine(desk, "kraken")
            take_half_of(eng, sell_px, D("0.004"))  # another account's buy takes the book up to 0.004 of our sell
            view = await trader.oco_group(pair.group_id)
            assert view.state is OcoState.OPEN and view.filled == (D("0.004"), D(0))
            buy_leg = eng.find("main", client_id=view.legs[1].client_order_id)
            assert buy_leg.status is OrderStatus.OPEN and buy_leg.remaining * eng.markets[SYMBOL].lot == D("0.006")
            canceled = await trader.cancel_oco(pair.group_id)
            assert canceled.state is OcoState.DONE  # something traded: done, not canceled
            assert statuses(canceled) == [OrderStatus.CANCELED, OrderStatus.CANCELED]
            assert eng.open_orders("main") == []

    run(body())


def test_an_okx_oco_whose_reply_was_lost_is_found_by_its_algo_client_id_and_kept() -> None:
    """The venue placed the algo order and the reply never came: the legs stay SENT, the order
    endpoints never show them (triggers are no orders), and reconciliation finds the OCO by the
    ``algoClOrdId`` it carries instead of closing the legs as never placed; then it is kept."""

    async def body() -> None:
        async with Desk.sim(["okx"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("okx")
            px = bid(desk, "okx")
            sim = desk.simulator.trading_sim("okx")  # type: ignore[union-attr]
            assert sim is not None
            sim.inject_trading("lost_ack")
            with pytest.raises(VenueUnavailable, match="stay SENT"):
                await trader.oco(SYMBOL, Side.SELL, D("0.01"), price=at(trader, px * D("1.003")),
                                 stop_price=at(trader, px * D("0.99")))
            journal = trader.account.journal
            (group,) = journal.ocos("okx")
            assert group.list_id is None  # the reply with the algo id was lost
            # the keeper's stream reconciles as it starts; reconciling here too must not hurt
            await trader.account.reconcile()
            found = await until(lambda: _async(journal.oco(group.group_id)), lambda g: g is not None and g.list_id is not None,
                                "reconciliation to find the algo order")
            assert found is not None
            limit_cid = found.current[0]
            adopted = trader.oco_view(found)
            assert adopted.state is OcoState.OPEN and statuses(adopted) == [OrderStatus.OPEN] * 2
            algo = (await trader.account.client.private_get_trade_order_algo({"algoClOrdId": limit_cid}))["data"][0]
            assert adopted.list_id == algo["algoId"] and algo["state"] == "live"
            desk.dislocate("okx", 100, SYMBOL)  # trades print through the take-profit trigger
            done = await ended(trader, group.group_id)
            assert done.state is OcoState.DONE and statuses(done) == [OrderStatus.FILLED, OrderStatus.CANCELED]

    run(body())


def test_an_okx_oco_the_venue_never_got_is_pending_then_never_placed() -> None:
    """The request never reached the OKX matching engine (a gateway timeout): no algo order has its
    client id. Within the grace it may still arrive, so the legs stay SENT; after it, both are
    closed as never placed and the group failed."""

    async def body() -> None:
        async with Desk.sim(["okx"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("okx")
            px = bid(desk, "okx")
            sim = desk.simulator.trading_sim("okx")  # type: ignore[union-attr]
            assert sim is not None
            sim.inject_trading("5xx")
            with pytest.raises(VenueUnavailable, match="stay SENT"):
                await trader.oco(SYMBOL, Side.SELL, D("0.01"), price=at(trader, px * D("1.003")),
                                 stop_price=at(trader, px * D("0.99")))
            (group,) = trader.account.journal.ocos("okx")
            legs = sorted(group.current)
            assert sorted((await trader.account.reconcile()).pending) == legs
            await trader.stop()  # the background keeper's own reconciliation would race this one
            trader.account.sent_grace = 0.0  # later: the request can no longer reach the venue
            assert sorted((await trader.account.reconcile()).never_placed) == legs
            failed = await trader.oco_group(group.group_id)
            assert failed.state is OcoState.FAILED and statuses(failed) == [OrderStatus.REJECTED] * 2
            assert sim.engine.open_orders("main") == [] and sim.oco_algos == {}  # type: ignore[attr-defined]

    run(body())


def test_a_leg_filled_while_crossbook_was_down_cancels_the_other_on_resume() -> None:
    async def body() -> None:
        async with Desk.sim(["kraken"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("kraken")
            pair = await kraken_bracket(desk, trader)
            await trader.stop()  # crossbook goes down
            await trader.account.client.close()
            eng = engine(desk, "kraken")
            sell, buy = (eng.find("main", client_id=leg.client_order_id) for leg in pair.legs)
            desk.dislocate("kraken", 100, SYMBOL)
            await until(lambda: _async(sell.status), lambda s: s is OrderStatus.FILLED, "the sell leg to fill at the venue")
            assert buy.status is OrderStatus.OPEN  # nobody canceled it: crossbook was down
            restarted = desk.simulator.open_account("kraken", "main")  # type: ignore[union-attr]
            try:
                await restarted.load()
                views = await Trader(restarted).resume_ocos()
            finally:
                await restarted.client.close()
            assert [(v.group_id, v.state) for v in views] == [(pair.group_id, OcoState.DONE)]
            assert statuses(views[0]) == [OrderStatus.FILLED, OrderStatus.CANCELED]
            assert buy.status is OrderStatus.CANCELED

    run(body())


def take_half_of(eng: MatchingEngine, price: Decimal, ours: Decimal) -> None:
    """Another account buys at ``price`` everything the market makers offer up to it and ``ours``
    of the resting sell there (market makers trade first at a level)."""
    market = eng.markets[SYMBOL]
    ticks = int(price / market.tick)
    ladder = eng.ladders[SYMBOL]
    lots = sum(ladder.mm_lots(False, p) for p in ladder.asks if p <= ticks) + int(ours / market.lot)
    eng.open_account("taker", {"USDT": D(10) ** 9})
    eng.submit("taker", SYMBOL, Side.BUY, OrderType.LIMIT, lots * market.lot, price, tif=TimeInForce.IOC)


async def _async(value: T) -> T:
    return value


async def ended(trader: Trader, group_id: int, timeout: float = 30.0) -> OcoView:
    """The group once it is final in the journal, which only the background keeper updates."""
    journal = trader.account.journal
    done = await until(lambda: _async(journal.oco(group_id)), lambda g: g is not None and g.state.final,
                       "the keeper to finish the group", timeout)
    assert done is not None
    return trader.oco_view(done)


def test_okx_serves_oco_algo_orders_in_its_own_terms() -> None:
    """The simulated OKX places, fires, cancels and reads an ``oco`` algo order as OKX does (what a
    native OKX OCO through crossbook sends: crossbook.venues.okx.place_oco)."""

    async def body() -> None:
        async with Desk.sim(["okx"], symbols=[SYMBOL]) as desk:
            trader = await desk.account("okx")
            client = trader.account.client
            px = bid(desk, "okx")

            def oco(tp: Decimal, sl: Decimal, cl_id: str) -> dict[str, str]:
                return {"instId": "BTC-USDT", "tdMode": "cash", "side": "sell", "ordType": "oco", "sz": "0.01",
                        "tpTriggerPx": str(at(trader, tp)), "tpOrdPx": "-1", "slTriggerPx": str(at(trader, sl)), "slOrdPx": "-1",
                        "algoClOrdId": cl_id}

            placed = (await client.private_post_trade_order_algo(oco(px * 1003 / 1000, px * 99 / 100, "ocoA")))["data"][0]
            assert placed["sCode"] == "0" and placed["algoClOrdId"] == "ocoA"
            other = (await client.private_post_trade_order_algo(oco(px * 2, px / 2, "ocoB")))["data"][0]
            with pytest.raises(ccxt.BadRequest, match='"sCode":"51000"'):  # a sell's take-profit below its stop-loss
                await client.private_post_trade_order_algo(oco(px / 2, px * 2, "ocoC"))
            pending = await client.private_get_trade_orders_algo_pending({"ordType": "oco"})
            assert {r["algoId"] for r in pending["data"]} == {placed["algoId"], other["algoId"]}
            gone = await client.private_post_trade_cancel_algos([{"algoId": other["algoId"], "instId": "BTC-USDT"}])
            assert gone["data"][0]["sCode"] == "0"
            desk.dislocate("okx", 100, SYMBOL)  # trades print through the take-profit trigger

            async def read() -> dict[str, str]:
                return (await client.private_get_trade_order_algo({"algoId": placed["algoId"]}))["data"][0]  # type: ignore[no-any-return]

            fired = await until(read, lambda r: r["state"] != "live", "the OCO to fire")
            assert (fired["state"], fired["actualSide"]) == ("effective", "tp") and len(fired["ordIdList"]) == 1
            order = (await client.private_get_trade_order({"instId": "BTC-USDT", "ordId": fired["ordIdList"][0]}))["data"][0]
            assert (order["state"], order["side"], order["accFillSz"]) == ("filled", "sell", "0.01")
            history = await client.private_get_trade_orders_algo_history({"ordType": "oco", "state": "canceled"})
            assert [r["algoId"] for r in history["data"]] == [other["algoId"]]
            assert engine(desk, "okx").open_orders("main") == []  # the stop-loss leg went with the take-profit

    run(body())
