"""1inch as a routing venue against the simulated 1inch API over the local chain: its book (a ladder
of quotes at increasing sizes, refreshed on new blocks within the plan's rate) and its trading
account (IOC orders as swaps, journaled, filled from the receipt, reverted swaps expired)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.routing.executor import order_budget
from crossbook.sim.chain import UNDERLYING, Deployment, LocalChain, Token
from crossbook.sim.venues.oneinch import OneInchSim
from crossbook.trading.journal import Journal
from crossbook.trading.oneinch_account import ChainAccount, OneInchAccount
from crossbook.trading.pool_account import GasCost
from crossbook.venues.dex.oneinch import BALANCE_OF, OneInchClient
from crossbook.venues.dex.oneinch_ladder import QuoteLadder
from crossbook.venues.dex.tokens import ChainToken
from crossbook.venues.dex.uniswap_v3_exec import EXACT_INPUT_SINGLE, SLOT0
from tests.conftest import run, wait_for

SYMBOL = "BTC-USDT"
VENUE = "oneinch"
SIZES = (1_000.0, 10_000.0, 100_000.0, 1_000_000.0)
TRADER = 3


@dataclass
class Venue:
    chain: LocalChain
    sim: OneInchSim
    client: OneInchClient
    base: ChainToken
    quote: ChainToken
    journal: Journal

    def ladder(self, **options: float) -> QuoteLadder:
        return QuoteLadder(VENUE, SYMBOL, self.client, self.chain.evm, self.base, self.quote, sizes=SIZES, **options)

    def account(self, key: int = TRADER) -> OneInchAccount:
        wallet = self.chain.wallet_for(self.chain.keys[key])
        return OneInchAccount(VENUE, SYMBOL, self.client, self.base, self.quote, wallet, self.journal,
                              GasCost(wallet, self.eth_price))

    async def eth_price(self) -> float:
        """ETH in USDT from the chain's WETH/USDT pool."""
        pool = self.chain.pools[("WETH", "USDT", 3000)]
        (sqrt_price, *_) = await self.chain.evm.call(pool.address, SLOT0)
        token1_per_token0 = (sqrt_price / 2**96) ** 2 * 10 ** (pool.token0.decimals - pool.token1.decimals)
        return float(token1_per_token0 if pool.token0.symbol == "WETH" else 1 / token1_per_token0)

    async def held(self, token: ChainToken, key: int = TRADER) -> int:
        (raw,) = await self.chain.evm.call(token.address, BALANCE_OF, self.chain.wallet_for(self.chain.keys[key]).address)
        return int(raw)

    async def quote_out(self, src: ChainToken, dst: ChainToken, amount: int) -> int:
        return (await self.client.quote(src.address, dst.address, amount)).dst_amount


def chain_token(token: Token) -> ChainToken:
    return ChainToken(UNDERLYING.get(token.symbol, token.symbol), token.symbol, token.address, token.decimals)


def with_venue(chain: Deployment, tmp_path: Path, body: Callable[[Venue], Awaitable[None]], plan: str = "business",
               timeout: float = 180) -> None:
    async def main() -> None:
        async with (
            LocalChain(chain) as c,
            OneInchSim(chain, plan=plan) as sim,
            OneInchClient(sim.base_url, sim.issue_key(), chain.chain_id, plan=plan) as client,
        ):
            with Journal(tmp_path / "journal.sqlite") as journal:
                await body(Venue(c, sim, client, chain_token(c.tokens["WBTC"]), chain_token(c.tokens["USDT"]), journal))

    run(main(), timeout)


def ioc(side: Side, amount: str, price: float) -> OrderRequest:
    return OrderRequest(VENUE, SYMBOL, side, OrderType.LIMIT, Decimal(amount), price=Decimal(repr(round(price, 2))),
                        time_in_force=TimeInForce.IOC)


def vwap(levels: list[tuple[float, float]]) -> tuple[float, float]:
    """(base, average price) of taking ``levels`` whole."""
    base = sum(size for _, size in levels)
    return base, sum(price * size for price, size in levels) / base


# ---- the ladder ------------------------------------------------------------------------------


def test_ladder_levels_are_marginal_prices_whose_vwaps_are_the_quotes(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        ladder = v.ladder(share=1.0)
        await ladder.start()
        try:
            book = ladder.book
            asks, bids = sorted(book.asks.items()), sorted(book.bids.items(), reverse=True)
            assert book.is_live() and len(asks) == len(bids) == len(SIZES)
            assert all(a[0] < b[0] for a, b in pairwise(asks))  # marginal prices rise
            assert all(a[0] > b[0] for a, b in pairwise(bids))  # and fall
            assert bids[0][0] < asks[0][0]
            for k, size in enumerate(SIZES, start=1):
                # asks: the base that ``size`` USDT buys, at size / base
                base, average = vwap(asks[:k])
                bought = await v.quote_out(v.quote, v.base, round(size * 1e6))
                assert base == pytest.approx(bought / 1e8, rel=1e-12)
                assert average == pytest.approx(size / base, rel=1e-9)
                # bids: the USDT that selling the levels' base gives
                base, average = vwap(bids[:k])
                got = await v.quote_out(v.base, v.quote, round(base * 1e8))
                assert average == pytest.approx(got / 1e6 / base, rel=1e-9)
            assert ladder.gas_units is not None and ladder.gas_units > 60_000
        finally:
            await ladder.stop()

    with_venue(chain, tmp_path, body)


def test_ladder_refreshes_after_a_block_that_moves_the_pool(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        ladder = v.ladder(refresh=600.0, poll=0.05, share=1.0)
        await ladder.start()
        try:
            best_ask = min(ladder.book.asks)
            refreshes = ladder.refreshes
            c, usdt, wbtc = v.chain, v.chain.tokens["USDT"], v.chain.tokens["WBTC"]
            buyer = c.wallet_for(c.keys[6])
            await c.fund(usdt, c.keys[6], usdt.raw(300_000), spenders=("swap_router",))
            deadline = await c.evm.timestamp() + 600
            params = (usdt.address, wbtc.address, 500, buyer.address, deadline, usdt.raw(300_000), 0, 0)
            moved = await buyer.send(c.addresses["swap_router"], EXACT_INPUT_SINGLE.encode(params))
            await wait_for(lambda: ladder.block is not None and ladder.block >= moved.block, 60, "a refresh after the swap")
            assert ladder.refreshes > refreshes
            assert min(ladder.book.asks) > best_ask * 1.001  # the cheapest route now costs more
        finally:
            await ladder.stop()

    with_venue(chain, tmp_path, body)


def test_ladder_never_refreshes_faster_than_its_share_of_the_plan(chain: Deployment, tmp_path: Path) -> None:
    """30 requests/s on the business plan, a quarter of it for 8 quotes a refresh: at most one
    refresh every 8 / 7.5 s, though the timer asks for one every 10 ms."""
    async def body(v: Venue) -> None:
        ladder = v.ladder(refresh=0.01, poll=0.01, share=0.25)
        assert ladder.min_interval == pytest.approx(2 * len(SIZES) / 7.5)
        started = time.monotonic()
        await ladder.start()
        try:
            await wait_for(lambda: ladder.refreshes >= 4, 60, "four refreshes")
            elapsed = time.monotonic() - started
            served = v.sim.served["quote"]
        finally:
            await ladder.stop()
        per_refresh = 2 * len(SIZES)
        assert served >= 4 * per_refresh
        assert served <= per_refresh * (1 + elapsed / ladder.min_interval)
        assert v.sim.rate_limited == 0 and ladder.errors == 0

    with_venue(chain, tmp_path, body)


def test_a_size_no_route_takes_ends_that_side_of_the_ladder(chain: Deployment, tmp_path: Path) -> None:
    """1e77 raw USDT is past what a pool can be asked (QuoterV2 reverts casting it to int256): 1inch
    refuses that size and the asks stop before it."""
    async def body(v: Venue) -> None:
        ladder = QuoteLadder(VENUE, SYMBOL, v.client, v.chain.evm, v.base, v.quote, sizes=(1_000.0, 10_000.0, 1e71), share=1.0)
        assert await ladder.refresh()
        assert len(ladder.book.asks) == 2 and ladder.book.is_live()
        base, average = vwap(sorted(ladder.book.asks.items()))
        assert average == pytest.approx(10_000 / base, rel=1e-9)

    with_venue(chain, tmp_path, body)


def test_a_failed_refresh_leaves_the_book_to_go_stale(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        ladder = v.ladder(refresh=0.05, poll=0.05, stale_after=1.0, share=1.0)
        await ladder.start()
        try:
            assert ladder.book.is_live()
            levels = dict(ladder.book.asks)
            await v.sim.stop()  # 1inch unreachable from now on
            await wait_for(lambda: ladder.errors > 0 and not ladder.book.is_live(), 30, "the book to go stale")
            assert ladder.book.asks == levels  # what was last quoted stays, read as STALE
            assert "unreachable" in ladder.last_error
        finally:
            await ladder.stop()

    with_venue(chain, tmp_path, body)


# ---- the account -----------------------------------------------------------------------------


async def fund_trader(v: Venue, approve: bool = False) -> None:
    spenders = ("swap_router",) if approve else ()
    for token, amount in ((v.chain.tokens["WBTC"], 2.0), (v.chain.tokens["USDT"], 300_000.0)):
        await v.chain.fund(token, v.chain.keys[TRADER], token.raw(amount), spenders=spenders)


def test_sell_and_buy_fill_with_the_receipts_amounts_journaled_in_order(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        await fund_trader(v)
        account = v.account()
        assert isinstance(account, ChainAccount) and order_budget(account, account.rules[SYMBOL]) == 1
        bid = await v.quote_out(v.base, v.quote, 30_000_000) / 1e6 / 0.3

        before = (await v.held(v.base), await v.held(v.quote))
        sold = await account.create_order(ioc(Side.SELL, "0.3", bid * 0.995))
        after = (await v.held(v.base), await v.held(v.quote))
        assert sold.status is OrderStatus.FILLED and sold.filled == Decimal("0.3")
        [fill] = v.journal.fills(sold.client_order_id)
        assert before[0] - after[0] == 30_000_000 and fill.amount == Decimal("0.3")
        assert fill.price * fill.amount == Decimal(after[1] - before[1]).scaleb(-6)  # quote received / base
        assert fill.price >= Decimal(repr(bid * 0.995)) and Decimal(0) < fill.fee < Decimal(50)
        assert fill.venue_order_id == sold.venue_order_id and fill.fee_currency == "USDT"

        ask = 20_000 / (await v.quote_out(v.quote, v.base, 20_000_000_000) / 1e8)
        before = after
        bought = await account.create_order(ioc(Side.BUY, "0.25", ask * 1.01))
        after = (await v.held(v.base), await v.held(v.quote))
        [fill] = v.journal.fills(bought.client_order_id)
        assert Decimal("0.2499") <= bought.filled <= Decimal("0.25")  # exact input: never over the amount
        assert after[0] - before[0] == int(bought.filled.scaleb(8)) and fill.amount == bought.filled
        assert fill.price * fill.amount == Decimal(before[1] - after[1]).scaleb(-6)
        assert fill.price <= Decimal(repr(round(ask * 1.01, 2)))
        assert bought.status in (OrderStatus.FILLED, OrderStatus.EXPIRED)  # the rest of an IOC expires

        for order in (sold, bought):
            kinds = [e.kind for e in v.journal.events(order.client_order_id)]
            assert kinds[:4] == ["intent", "sent", "ack", "fill"], kinds

    with_venue(chain, tmp_path, body)


def test_a_limit_past_the_quote_sends_nothing(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        await fund_trader(v)
        account = v.account()
        nonce = await v.chain.evm.w3.eth.get_transaction_count(account.wallet.address)  # type: ignore[arg-type]
        price = await v.quote_out(v.base, v.quote, 10_000_000) / 1e6 / 0.1
        for request in (ioc(Side.SELL, "0.1", price * 1.05), ioc(Side.BUY, "0.1", price * 0.95)):
            order = await account.create_order(request)
            assert order.status is OrderStatus.EXPIRED and order.filled == 0 and order.venue_order_id is None
            assert "worse than the limit" in order.reason
        assert await v.chain.evm.w3.eth.get_transaction_count(account.wallet.address) == nonce  # type: ignore[arg-type]
        assert v.sim.served["swap"] == 0

    with_venue(chain, tmp_path, body)


def test_a_price_moved_before_the_swap_is_mined_reverts_and_expires_unfilled(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        await fund_trader(v, approve=True)  # already approved: the swap is the only transaction sent
        account = v.account()
        wallet = account.wallet
        bid = await v.quote_out(v.base, v.quote, 20_000_000) / 1e6 / 0.2
        before = (await v.held(v.base), await v.held(v.quote), await wallet.balance())
        v.sim.move_price_after_next_swap(100)  # 1 % against the taker; the limit allows 0.2 %
        order = await account.create_order(ioc(Side.SELL, "0.2", bid * 0.998))
        assert order.status is OrderStatus.EXPIRED and order.filled == 0 and not v.journal.fills(order.client_order_id)
        assert order.reason.startswith("reverted:") and "Too little received" in order.reason, order.reason
        assert order.venue_order_id is not None
        receipt = await wallet.receipt(order.venue_order_id)
        assert not receipt.ok
        after = (await v.held(v.base), await v.held(v.quote), await wallet.balance())
        assert after == (before[0], before[1], before[2] - receipt.fee_wei)  # only the gas was spent

    with_venue(chain, tmp_path, body)


def test_reconcile_settles_a_swap_whose_receipt_was_never_read(chain: Deployment, tmp_path: Path) -> None:
    async def body(v: Venue) -> None:
        await fund_trader(v)
        bid = await v.quote_out(v.base, v.quote, 10_000_000) / 1e6 / 0.1
        acked = await v.account().submit(ioc(Side.SELL, "0.1", bid * 0.99))  # then the process "crashes"
        assert acked.status is OrderStatus.OPEN and acked.venue_order_id is not None
        assert v.journal.fills(acked.client_order_id) == []

        restarted = v.account()  # a new process: a new account over the same journal and key
        await restarted.reconcile()
        order = v.journal.order(acked.client_order_id)
        assert order is not None and order.status is OrderStatus.FILLED and order.filled == Decimal("0.1")
        [fill] = v.journal.fills(acked.client_order_id)
        assert fill.trade_id == acked.venue_order_id

    with_venue(chain, tmp_path, body)

