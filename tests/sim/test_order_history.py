"""Order history as ccxt reads it: on every simulated venue an unmodified ccxt client places a
resting limit buy and cancels it, sells at market (filled), and reads both back from the venue's
order history (the reads crossbook's reconciler makes to find an in-flight order by its client id:
``fetch_closed_orders`` from a ``since``, and the canceled lists where ccxt keeps them apart), each
with its final status and the client id it was placed with."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ..conftest import run
from .test_ccxt_surface import CCXT_IDS, DERIVATIVE_SERVERS, Surface
from .trading_contract import TradingHarness

HISTORY_READS = ("fetchClosedOrders", "fetchCanceledOrders", "fetchCanceledAndClosedOrders", "fetchOrders")


async def history(s: Surface, since: int) -> dict[str, list[dict[str, Any]]]:
    """Every history read ccxt has for the id: method -> the orders it returned."""
    return {m: list(await getattr(s.ex, m)(s.symbol, since)) for m in HISTORY_READS if s.ex.has.get(m)}


@pytest.mark.parametrize("server", CCXT_IDS + DERIVATIVE_SERVERS)
def test_filled_and_canceled_orders_read_back_from_the_history(server: str) -> None:
    async def body() -> None:
        async with TradingHarness(server) as h:
            ex = h.client()
            await ex.load_markets()
            s = Surface(h, ex)
            since = int(time.time() * 1000) - 60_000
            bid, _ = s.touch()
            rested = await ex.create_order(s.symbol, "limit", "buy", s.resting, s.price(bid * 0.99))
            await ex.cancel_order(rested["clientOrderId"] if ex.id == "dydx" else rested["id"], s.symbol)
            worst = s.price(bid * 0.95) if ex.id == "dydx" else None  # dYdX's market orders carry their worst price
            filled = await ex.create_order(s.symbol, "market", "sell", s.taken, worst)
            reads = await history(s, since)
            assert "fetchClosedOrders" in reads, f"{server}: ccxt reads no closed orders"
            closed = {o["id"]: o for o in reads["fetchClosedOrders"]}
            assert closed[filled["id"]]["status"] == "closed" and closed[filled["id"]]["filled"] == s.taken
            seen = {o["id"]: o for orders in reads.values() for o in orders}
            assert seen[rested["id"]]["status"] == "canceled" and seen[rested["id"]]["filled"] == 0
            for sent, side in ((rested, "buy"), (filled, "sell")):
                got = seen[sent["id"]]
                assert got["symbol"] == s.symbol and got["side"] == side
                if sent.get("clientOrderId") is not None:  # the reconciler finds an order by it
                    assert got["clientOrderId"] == sent["clientOrderId"]
            for method, orders in reads.items():
                assert all(o["status"] in ("closed", "canceled") for o in orders), f"{server} {method}: an open order"
            await ex.close()

    run(body(), timeout=90)
