"""Routing across the simulated exchanges and the local chain's Uniswap V3 pools: the pools are
venues of the consolidated book (their ladders), the router trades them through swaps, gas counted."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.desk.simulated import SimDesk
from crossbook.model import OrderStatus, Side
from crossbook.routing.executor import RouteRequest
from crossbook.venues.dex import dex_family
from crossbook.venues.dex.evm import fn

from ..conftest import run

SYMBOL = "BTC-USDT"
VENUES = ["binance", "okx", "bybit"]
BALANCE_OF = fn("balanceOf(address)", "uint256")


async def wbtc_held(desk: SimDesk) -> int:
    assert desk.dex is not None and desk.dex.chain is not None
    account = next(iter(desk.dex.pools.values()))
    (raw,) = await account.wallet.evm.call(desk.dex.chain.tokens["WBTC"].address, BALANCE_OF, account.wallet.address)
    return int(raw)


def test_a_route_split_across_exchanges_and_a_pool_with_gas_costs_no_more_than_the_best_single_venue(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimDesk(VENUES, [SYMBOL], journal=tmp_path / "journal.sqlite", levels=120, dex=True) as desk:
            desk.cluster.pause()  # the exchanges' books hold still: what is planned is what is there
            assert desk.dex is not None
            book = desk.market.consolidated[SYMBOL]
            exchanges = [b for v, b in book.books.items() if not dex_family(v)]
            mid = sum(b.mid() or 0.0 for b in exchanges) / len(exchanges)
            await desk.dex.align(mid)  # the pools where arbitrage keeps them: at the exchanges' mid
            assert set(desk.dex.pools) == {"uniswap_v3_500", "uniswap_v3_3000", "uniswap_v3_10000"}
            assert set(desk.dex.books) == {*desk.dex.pools, "oneinch"}
            before = await wbtc_held(desk)
            router = await desk.router(SYMBOL)
            assert all(router.fixed_costs[v] > 0 for v in desk.dex.accounts)  # gas per swap (1inch's too), in USDT
            report = await router.route(RouteRequest(SYMBOL, Side.BUY, 12.0))

            assert report.outcome.value == "filled" and report.filled == pytest.approx(12.0, abs=1e-5), report.to_json()
            on_pools = [c for c in report.children if dex_family(c.venue) and c.filled > 0]
            on_exchanges = [c for c in report.children if not dex_family(c.venue) and c.filled > 0]
            assert on_pools and on_exchanges, [c.as_json() for c in report.children]
            assert report.best_single is not None and report.best_single.all_in_price is not None
            assert report.all_in_avg_price is not None
            assert report.all_in_avg_price <= report.best_single.all_in_price * (1 + 1e-9)

            # the pool children are swaps whose fills are what the chain moved, their fee the pool's
            # fee tier plus the gas the transaction burnt
            bought = sum(c.filled for c in on_pools)
            assert await wbtc_held(desk) - before == round(bought * 1e8)
            for child in on_pools:
                assert child.status == OrderStatus.FILLED.value
                fills = desk.journal.fills(child.client_order_id)
                assert len(fills) == 1 and fills[0].venue_order_id.startswith("0x")
                tier = Decimal(repr(desk.dex.fee_rates[child.venue]))
                pool_fee = fills[0].price * fills[0].amount * tier / (1 - tier)  # levied on the USDT paid in
                gas = fills[0].fee - pool_fee
                assert Decimal("0.0001") < gas < Decimal(50)  # the gas, converted at the chain's WETH price

    run(body(), 240)
