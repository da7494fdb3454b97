"""CEX-DEX arbitrage: a DEX venue's fixed cost per order (a swap's gas) counts in an opportunity's
net profit, and on the simulator a dislocated exchange against the local chain's pools is found,
sized to the wallet and the exchange account, and traded, both legs filled."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossbook.arbitrage.cross_venue import cross_venue
from crossbook.arbitrage.scanner import Scanner
from crossbook.desk.arb import sim_dex, trade_on, wallet_balances
from crossbook.desk.desk import Desk
from crossbook.model import Side
from crossbook.venues.dex import dex_family

from ..conftest import run
from .books import NOW, consolidated

SYMBOL = "BTC-USDT"
POOL = "uniswap_v3_500"


def recomputed(opp: dict[str, Any]) -> float:
    """An opportunity's net profit from its legs alone: proceeds after fee, cost with fee, gas."""
    buy = next(leg for leg in opp["legs"] if leg["side"] == "buy")
    sell = next(leg for leg in opp["legs"] if leg["side"] == "sell")
    gross = sell["price"] * sell["amount"] * (1 - sell["fee_rate"]) - buy["price"] * buy["amount"] * (1 + buy["fee_rate"])
    return float(gross - buy["fixed_cost"] - sell["fixed_cost"])


def test_gas_larger_than_the_edge_suppresses_an_opportunity_that_opens_without_it() -> None:
    # buying 1 BTC on the exchange at 100 and selling it to the pool at 101 earns 1.0 before gas
    book = consolidated(SYMBOL, {
        "binance": ([(99.0, 5.0)], [(100.0, 1.0)], 0.0),
        POOL: ([(101.0, 1.0)], [(102.0, 5.0)], 0.0),
    })
    [free] = cross_venue(book, NOW)
    assert free.net_profit == pytest.approx(1.0) and free.legs[1].fixed_cost == 0.0
    assert cross_venue(book, NOW, fixed_costs={POOL: 1.2}) == []  # the swap's gas eats the edge
    [paid] = cross_venue(book, NOW, fixed_costs={POOL: 0.25})
    buy, sell = paid.legs
    assert (buy.venue, sell.venue, buy.fixed_cost, sell.fixed_cost) == ("binance", POOL, 0.0, 0.25)
    assert paid.net_profit == pytest.approx(0.75) == recomputed(paid.as_json())
    assert paid.as_json()["legs"][1]["fixed_cost"] == 0.25

    # the scanner reads its fixed costs at every scan: gas rising past the edge closes it
    gas = {POOL: 0.25}
    scanner = Scanner({SYMBOL: book}, kinds=["cross_venue"], fixed_costs=gas)
    [opened] = scanner.scan(NOW)
    assert opened.kind == "open" and opened.opportunity.net_profit == pytest.approx(0.75)
    gas[POOL] = 1.5
    [closed] = scanner.scan(NOW + 0.1)
    assert closed.kind == "close" and scanner.open == {}


def test_the_size_goes_as_deep_as_units_earn_so_the_edge_of_every_level_pays_the_gas() -> None:
    # the first level earns 0.09 after fees, less than the 0.3 of gas; the second adds 0.70
    book = consolidated(SYMBOL, {
        "okx": ([(90.0, 5.0)], [(100.0, 0.1), (100.5, 2.0), (102.0, 5.0)], 0.001),
        POOL: ([(101.1, 0.1), (101.0, 3.0)], [(110.0, 5.0)], 0.0005),
    })
    [opp] = cross_venue(book, NOW, fixed_costs={POOL: 0.3})
    buy, sell = opp.legs
    # every unit up to 2.1 BTC earns after fees (101.0 x 0.9995 > 100.5 x 1.001); 102 no longer does
    assert buy.amount == pytest.approx(2.1) and sell.amount == buy.amount
    gross = (0.1 * 101.1 + 2.0 * 101.0) * (1 - 0.0005) - (0.1 * 100.0 + 2.0 * 100.5) * (1 + 0.001)
    assert opp.net_profit == pytest.approx(gross - 0.3, rel=1e-12) == recomputed(opp.as_json())
    assert opp.net_bps == pytest.approx(opp.net_profit / (buy.price * buy.amount) * 1e4)

    # a wallet too small to trade past the first level cannot pay the gas: nothing opens
    small = {"okx": {"USDT": 1e6}, POOL: {"BTC": 0.1, "USDT": 0.0}}
    assert cross_venue(book, NOW, fixed_costs={POOL: 0.3}, balances=small) == []
    assert len(cross_venue(book, NOW, fixed_costs={POOL: 0.01}, balances=small)) == 1


def test_a_dislocated_exchange_against_the_local_pools_is_found_net_of_gas_and_traded_on_both_legs(tmp_path: Path) -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"], 7, dex=True, symbols=[SYMBOL], journal=tmp_path / "journal.sqlite") as desk:
            dex = sim_dex(desk)
            journal = dex.journal
            wallet_before = (await wallet_balances(dex.accounts))[POOL]
            desk.dislocate("binance", -80.0, SYMBOL)  # binance 80 bps below the others and the pools
            seen = await trade_on(desk, [SYMBOL], 8.0, max_size=0.3)
            wallet_after = (await wallet_balances(dex.accounts))[POOL]
            gas_now = await dex.fixed_costs()

            cex_dex = [o for o in seen if {bool(dex_family(leg["venue"])) for leg in o["legs"]} == {True, False}]
            assert cex_dex, seen
            for opp in cex_dex:
                pool_leg = next(leg for leg in opp["legs"] if dex_family(leg["venue"]))
                exchange_leg = next(leg for leg in opp["legs"] if not dex_family(leg["venue"]))
                assert dex_family(pool_leg["venue"]) in ("uniswap_v3", "oneinch") and exchange_leg["fixed_cost"] == 0.0
                assert 0 < pool_leg["fixed_cost"] < 10 * gas_now[pool_leg["venue"]], opp  # a swap's gas, in USDT
                assert opp["net_profit"] > 0 and opp["net_profit"] == pytest.approx(recomputed(opp), rel=1e-9, abs=1e-9)
            # binance is the cheap side: buy there, sell to a pool
            bought_on_binance = [o for o in cex_dex if o["legs"][0]["venue"] == "binance"]
            assert bought_on_binance, cex_dex

            traded = [o for o in bought_on_binance if o.get("executed") and "error" not in o["executed"]]
            assert traded, bought_on_binance
            for opp in traded:
                done = opp["executed"]
                assert done["bought"] > 0 and done["sold"] > 0, done
                assert done["remaining_unhedged"] == pytest.approx(0.0, abs=1e-8), done
                for side, venue in (("buy", "binance"), ("sell", opp["legs"][1]["venue"])):
                    fills = [f for cid in done[f"{side}_orders"] for f in journal.fills(cid)]
                    assert fills and {f.venue for f in fills} == {venue}, (side, done)
            assert any(o["executed"]["realised_profit"] > 0 for o in traded), traded

            # every swap the pools took is in the wallet: its BTC moved by what the journal says they filled
            swapped = sum((o.filled if o.request.side is Side.BUY else -o.filled
                           for venue in dex.accounts for o in journal.orders(venue)), Decimal(0))
            assert swapped < 0  # the pools were sold to
            assert wallet_after["BTC"] - wallet_before["BTC"] == pytest.approx(float(swapped), abs=1e-8)
            assert wallet_after["USDT"] > wallet_before["USDT"]

    run(body(), timeout=180)
