"""A pool venue trading through SwapRouter02, as it must on BNB Chain and Avalanche (no SwapRouter
there): the local chain's SwapRouter02, a chain configuration whose router_kind is swap_router02, and
the chain's venues built by ChainVenues as the desk builds them. A buy and a sell each fill through
``multicall(deadline, [exact...Single])`` and the wallet moves by the pool's Swap event."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from eth_abi import decode as abi_decode

from crossbook.desk.pools import ChainLink, ChainVenues
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.chain import Deployment, LocalChain
from crossbook.trading.journal import Journal
from crossbook.trading.pool_account import PoolAccount
from crossbook.venues.dex.chains import local_chain_config
from crossbook.venues.dex.uniswap_v3_exec import (
    EXACT_INPUT_SINGLE_02,
    EXACT_OUTPUT_SINGLE_02,
    MULTICALL_WITH_DEADLINE,
)

from ..conftest import run
from .test_configured_chain import swapped

SYMBOL = "BTC-USDT"
VENUE = "uniswap_v3_500"
TRADER = 1


def ioc(side: Side, amount: str, price: float) -> OrderRequest:
    return OrderRequest(VENUE, SYMBOL, side, OrderType.LIMIT, Decimal(amount), price=Decimal(repr(round(price, 2))),
                        time_in_force=TimeInForce.IOC)


def test_a_pool_account_buys_and_sells_through_swap_router02(chain: Deployment, tmp_path: Path) -> None:
    async def body() -> None:
        async with LocalChain(chain) as c:
            for symbol, amount in (("WBTC", 10.0), ("USDT", 1_000_000.0)):
                token = c.tokens[symbol]
                await c.fund(token, c.keys[TRADER], token.raw(amount))
            local = local_chain_config(chain, TRADER)
            config = replace(local, chain=replace(local.chain, router_kind="swap_router02"))
            link = ChainLink(config, c.evm, c.wallet_for(c.keys[TRADER]))
            with Journal(tmp_path / "journal.sqlite") as journal:
                venues = await ChainVenues(link, SYMBOL, journal, {}, named=False, poll=0.2).start()
                try:
                    account = venues.accounts[VENUE]
                    assert isinstance(account, PoolAccount)
                    assert account.router_kind == "swap_router02" and account.router == chain.addresses["swap_router02"]
                    mid = venues.books[VENUE].book.mid()
                    assert mid is not None
                    for side, limit, swap in ((Side.BUY, mid * 1.02, EXACT_OUTPUT_SINGLE_02),
                                              (Side.SELL, mid * 0.98, EXACT_INPUT_SINGLE_02)):
                        before = await account.balances()
                        order = await account.create_order(ioc(side, "0.2", limit))
                        assert order.status is OrderStatus.FILLED, order
                        (fill,) = journal.fills(order.client_order_id)
                        assert fill.amount == Decimal("0.2")
                        assert fill.price <= Decimal(repr(limit)) if side is Side.BUY else fill.price >= Decimal(repr(limit))

                        tx = await c.evm.w3.eth.get_transaction(fill.venue_order_id)  # type: ignore[arg-type]
                        assert tx["to"] == chain.addresses["swap_router02"]
                        data = bytes(tx["input"])
                        assert data[:4] == MULTICALL_WITH_DEADLINE.selector, data[:4].hex()
                        deadline, calls = abi_decode(list(MULTICALL_WITH_DEADLINE.arguments), data[4:])
                        mined = await c.evm.timestamp()
                        assert mined <= deadline <= mined + account.deadline_seconds
                        assert [call[:4] for call in calls] == [swap.selector]

                        base, quote = await swapped(c.evm, account, fill.venue_order_id)
                        after = await account.balances()
                        sign = 1 if side is Side.BUY else -1
                        assert after["BTC"] - before["BTC"] == sign * Decimal(base).scaleb(-8) == sign * fill.amount
                        assert before["USDT"] - after["USDT"] == sign * Decimal(quote).scaleb(-6)
                finally:
                    await venues.stop()

    run(body(), 180)


def test_a_swap_the_pool_can_no_longer_fill_within_its_limit_is_not_sent(chain: Deployment, tmp_path: Path) -> None:
    """A limit the pool is already past (as when another swap of the same wallet moved it first):
    the order expires unsent, the wallet's nonce and balances unchanged, no gas burnt."""

    async def body() -> None:
        async with LocalChain(chain) as c:
            for symbol, amount in (("WBTC", 10.0), ("USDT", 1_000_000.0)):
                token = c.tokens[symbol]
                await c.fund(token, c.keys[TRADER], token.raw(amount))
            link = ChainLink(local_chain_config(chain, TRADER), c.evm, c.wallet_for(c.keys[TRADER]))
            with Journal(tmp_path / "journal.sqlite") as journal:
                venues = await ChainVenues(link, SYMBOL, journal, {}, named=False, poll=0.2).start()
                try:
                    account = venues.accounts[VENUE]
                    assert isinstance(account, PoolAccount)
                    mid = venues.books[VENUE].book.mid()
                    assert mid is not None
                    await account.create_order(ioc(Side.BUY, "0.01", mid * 1.02))  # approvals done, as on any later order
                    sent = await c.evm.w3.eth.get_transaction_count(link.wallet.address)  # type: ignore[arg-type]
                    ether = await link.wallet.balance()
                    before = await account.balances()

                    order = await account.create_order(ioc(Side.BUY, "0.5", mid * 0.99))  # 1 % under the pool's price

                    assert order.status is OrderStatus.EXPIRED and order.filled == 0 and order.venue_order_id is None
                    assert order.reason.startswith("not sent: the pool is past the limit price"), order.reason
                    assert await c.evm.w3.eth.get_transaction_count(link.wallet.address) == sent  # type: ignore[arg-type]
                    assert await link.wallet.balance() == ether and await account.balances() == before
                    assert journal.fills(order.client_order_id) == []
                finally:
                    await venues.stop()

    run(body(), 120)
