"""1inch as a routing venue on the simulator: its ladder of quotes beside the exchanges and the
pools, its child orders swaps through the simulated aggregation API on the local chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossbook.desk.simulated import SimDesk
from crossbook.model import OrderStatus, Side
from crossbook.routing.executor import Router, RouteRequest
from crossbook.routing.fees import FeeBook
from crossbook.venues.dex import dex_family
from crossbook.venues.dex.evm import fn

from ..conftest import run
from ..test_order_command import crossbook

SYMBOL = "BTC-USDT"
BALANCE_OF = fn("balanceOf(address)", "uint256")


def test_quote_lists_oneinch_beside_the_exchanges_and_pools_with_gas_in_its_all_in_price() -> None:
    result = crossbook("quote", SYMBOL, "buy", "2", "--sim", "--dex", "--json", "--venues", "binance,okx")
    assert result.returncode == 0, result.stderr
    venues = json.loads(result.stdout)["venues"]
    assert {"binance", "okx", "uniswap_v3_500", "uniswap_v3_3000", "oneinch"} <= set(venues)
    row = venues["oneinch"]
    assert row["status"] == "live" and row["filled"] == pytest.approx(2.0) and row["fee_rate"] == 0
    assert row["fixed_cost"] > 0  # the swap's gas, in USDT
    assert row["all_in_price"] == pytest.approx(row["vwap"] + row["fixed_cost"] / 2, abs=0.011)
    assert "fixed_cost" not in venues["binance"]


async def wbtc_held(desk: SimDesk) -> int:
    assert desk.dex is not None and desk.dex.chain is not None
    account = desk.dex.accounts["oneinch"]
    (raw,) = await account.wallet.evm.call(desk.dex.chain.tokens["WBTC"].address, BALANCE_OF, account.wallet.address)
    return int(raw)


def test_a_1inch_child_that_reverts_on_chain_is_not_filled_and_the_rest_is_routed_again(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimDesk(["binance"], [SYMBOL], journal=tmp_path / "journal.sqlite", dex=True) as desk:
            desk.cluster.pause()
            assert desk.dex is not None and desk.dex.oneinch is not None
            desk.dislocate("binance", 30, SYMBOL)  # binance dearer: 1inch takes the first round
            dex = await desk.dex_venues(SYMBOL)
            accounts = {"binance": desk.accounts["binance"], "oneinch": dex.accounts["oneinch"]}
            router = Router(desk.market.consolidated[SYMBOL], accounts, fee_rates=dex.fee_rates, fixed_costs=dex.fixed_costs,
                            fee_book=FeeBook(accounts=desk.accounts))  # the pools stay out: no account for them
            before = await wbtc_held(desk)
            desk.dex.oneinch.move_price_after_next_swap(150)  # the pools move past the swap's tolerance before it lands

            report = await router.route(RouteRequest(SYMBOL, Side.BUY, 1.5, deadline=60.0))

            first = report.children[0]
            assert first.venue == "oneinch" and first.round == 1, report.to_json()
            assert first.status == OrderStatus.EXPIRED.value and first.filled == 0.0
            assert "reverted" in first.error
            assert desk.journal.fills(first.client_order_id) == []
            assert report.outcome.value == "filled" and report.filled == pytest.approx(1.5, abs=1e-4), \
                [c.to_json() for c in report.children]
            later = [c for c in report.children if c.round > 1 and c.filled > 0]
            assert later and sum(c.filled for c in later) == pytest.approx(report.filled)
            on_oneinch = sum(c.filled for c in report.children if dex_family(c.venue))
            assert await wbtc_held(desk) - before == round(on_oneinch * 1e8)  # the chain moved what the journal says

    run(body(), 300)
