"""Property: whatever order a caller asks for, the simulated venue never receives an invalid one
(it either gets an order it accepts, or nothing at all and the caller gets a clear error)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crossbook.errors import InvalidOrder
from crossbook.model import OrderRequest, OrderType, Side, TimeInForce
from crossbook.sim.cluster import SimCluster
from crossbook.sim.engine import Reject
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

LIMITS = spec("binance").limit_table()

decimals = st.one_of(
    st.decimals(min_value=D("-10"), max_value=D("100000"), places=8, allow_nan=False, allow_infinity=False),
    st.sampled_from([D("NaN"), D("Infinity"), D("-Infinity"), D(0), D("1e-12"), D("1e12")]),
)
plausible = st.builds(
    OrderRequest,
    venue=st.just("binance"),
    symbol=st.sampled_from(["BTC-USDT", "ETH-USDT"]),
    side=st.sampled_from(list(Side)),
    type=st.sampled_from([OrderType.LIMIT, OrderType.MARKET]),
    amount=st.decimals(min_value=D("0.000001"), max_value=D("0.5"), places=7),
    price=st.one_of(st.none(), st.decimals(min_value=D("2000"), max_value=D("70000"), places=3)),
    time_in_force=st.sampled_from(list(TimeInForce)),
    post_only=st.booleans(),
)
wild = st.builds(
    OrderRequest,
    venue=st.just("binance"),
    symbol=st.sampled_from(["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "NOPE-USDT", "btc-usdt"]),
    side=st.sampled_from(list(Side)),
    type=st.sampled_from([OrderType.LIMIT, OrderType.MARKET]),
    amount=decimals,
    price=st.one_of(st.none(), decimals),
    time_in_force=st.sampled_from(list(TimeInForce)),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
)
requests = st.one_of(plausible, wild)
# what only the venue's live book can decide: a post-only order that would take is the venue's call
DEPENDS_ON_THE_BOOK = {"post_only_would_take"}


class Venue:
    """One simulated Binance and a VenueAccount on it, on a loop of its own for the examples."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.cluster = SimCluster(["binance"], interval=3600.0, levels=60)
        self.loop.run_until_complete(self.cluster.start())
        self.engine = self.cluster.venues["binance"].engine
        self.journal = Journal(tmp / "j.db")
        config = ccxt_configs(self.cluster)["binance"]
        self.account = VenueAccount("binance", ccxt_async.binance(config), self.journal, Limiter(LIMITS))
        self.loop.run_until_complete(self.account.load())
        self.refused_by_venue: list[str] = []
        submit = self.engine.submit

        def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return submit(*args, **kwargs)
            except Reject as exc:
                if exc.reason not in DEPENDS_ON_THE_BOOK:
                    self.refused_by_venue.append(exc.reason)
                raise

        self.engine.submit = watched  # type: ignore[method-assign]

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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_an_order_either_fits_the_venue_or_never_leaves(venue: Venue, request: OrderRequest) -> None:
    before = len(venue.engine.orders)
    reference = D("60000")
    try:
        order = venue.loop.run_until_complete(venue.account.create_order(request, reference_price=reference))
    except InvalidOrder as exc:
        event(f"refused: {type(exc).__name__}")
        assert len(venue.engine.orders) == before, "a refused order reached the venue"
        return
    event("sent and accepted")
    assert venue.refused_by_venue == [], f"the venue refused what validation passed: {venue.refused_by_venue}"
    assert order.venue_order_id is not None
    if not venue.engine.find("main", order.venue_order_id).status.final:
        venue.engine.cancel("main", order.venue_order_id)  # keep the balance for the next example
