"""Property: any order request on the simulated Binance USD-M perpetual either arrives complete
(the engine holds its side, type, prices, flags, position side, margin mode and leverage as
asked) or is refused with an error naming the venue; a refusal never leaves a setting changed
without saying so (the error names it and the journal has it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crossbook.errors import InvalidOrder, VenueRefused
from crossbook.model import MarginMode, OrderRequest, OrderType, PositionSide, Side, TimeInForce
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.client_ids import client_id_rule
from crossbook.trading.journal import Journal

SYMBOL = "BTC-USDT-PERP"
REFERENCE = D("60000")

@st.composite
def requests(draw: st.DrawFn) -> OrderRequest:
    """Mostly well-formed orders (so that many arrive), with every field in play."""
    kind = draw(st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET, OrderType.MARKET, OrderType.STOP,
                                 OrderType.STOP_LIMIT]))
    rarely = st.sampled_from([False] * 5 + [True])
    limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    trigger = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
    return OrderRequest(
        "binance", SYMBOL, draw(st.sampled_from(list(Side))), kind,
        draw(st.sampled_from([D("0.001"), D("0.01"), D("0.05")])),
        price=draw(st.sampled_from([D("50000"), D("59000"), D("61000"), D("70000")])) if limit else None,
        stop_price=draw(st.sampled_from([D("55000"), D("65000")])) if trigger else None,
        time_in_force=draw(st.sampled_from([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK])),
        post_only=limit and draw(rarely),
        reduce_only=draw(rarely),
        iceberg_visible=D("0.001") if limit and draw(rarely) else None,
        take_profit=D("80000") if draw(rarely) else None,
        position_side=draw(st.sampled_from(list(PositionSide))),
        margin_mode=draw(st.one_of(st.none(), st.sampled_from(list(MarginMode)))),
        leverage=draw(st.one_of(st.none(), st.sampled_from([D(1), D(3), D(20), D(500)]))),
    )


class Venue:
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.cluster = SimCluster(["binanceusdm"], interval=3600.0, levels=60, enforce_limits=False)
        self.loop.run_until_complete(self.cluster.start())
        self.sim = self.cluster.venues["binanceusdm"]
        self.engine = self.sim.engine
        self.journal = Journal(tmp / "j.db")
        config = ccxt_configs(self.cluster)["binanceusdm"]
        self.account = VenueAccount("binance", ccxt_async.binanceusdm(config), self.journal)
        self.loop.run_until_complete(self.account.load())

    def settings(self) -> tuple[bool, dict[str, MarginMode], dict[str, D]]:
        held = self.engine.account("main")
        return held.hedge_mode, dict(held.margin_modes), dict(held.leverages)

    def close(self) -> None:
        self.loop.run_until_complete(self.account.client.close())
        self.loop.run_until_complete(self.cluster.stop())
        self.journal.close()
        self.loop.close()


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    v = Venue(tmp_path_factory.mktemp("venue"))
    yield v
    v.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_an_order_arrives_complete_or_is_refused_naming_what_changed(venue: Venue, request: OrderRequest) -> None:
    before = venue.settings()
    orders_before = len(venue.engine.orders)
    try:
        placed = venue.loop.run_until_complete(venue.account.create_order(request, reference_price=REFERENCE))
    except (InvalidOrder, VenueRefused) as exc:
        event(f"refused: {type(exc).__name__}")
        text = str(exc)
        assert "binance" in text, text
        if venue.settings() != before:
            assert "changed at the venue before that, and journaled" in text, text
            rejected = venue.journal.orders("binance")[-1]
            assert [e for e in venue.journal.events(rejected.client_order_id) if e.kind == "setting"], text
        assert len(venue.engine.orders) == orders_before or "refused" in text
        return
    event("arrived")
    wire = str(client_id_rule("binance").wire_value(placed.client_order_id))
    order = venue.engine.find("main", client_id=wire)
    sent = placed.request
    market = venue.engine.markets[SYMBOL]
    assert (order.side, order.type, order.amount * market.lot) == (sent.side, sent.type, sent.amount)
    assert (order.price is None and sent.price is None) or order.price * market.tick == sent.price
    assert (order.stop is None and sent.stop_price is None) or order.stop * market.tick == sent.stop_price
    assert (order.tif, order.post_only, order.reduce_only) == (sent.time_in_force, sent.post_only, sent.reduce_only)
    assert order.position_side is sent.position_side
    if sent.margin_mode is not None:
        assert order.margin_mode is sent.margin_mode
    if sent.leverage is not None:
        assert order.leverage == sent.leverage
    if not order.status.final:
        venue.engine.cancel("main", order.order_id)
