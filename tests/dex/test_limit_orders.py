"""1inch Limit Order Protocol v4: orders built and signed by crossbook, submitted to the simulated
orderbook, filled, refused and cancelled on the protocol deployed on the local chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from eth_utils import keccak

from crossbook.errors import InvalidOrder
from crossbook.sim.chain import Deployment, LocalChain
from crossbook.sim.venues.oneinch import OneInchSim
from crossbook.venues.dex.evm import TransactionFailed, Wallet
from crossbook.venues.dex.oneinch import (
    ALLOW_MULTIPLE_FILLS,
    BALANCE_OF,
    HASH_ORDER,
    NO_PARTIAL_FILLS,
    LimitOrder,
    OrderbookClient,
    SignedOrder,
    build_limit_order,
    fill_order,
    order_hash,
    read_domain,
    sign_order,
    taker_traits,
)
from tests.conftest import run

WBTC_RAW = 10**8
USDT_RAW = 10**6
MAKING = WBTC_RAW // 2  # 0.5 WBTC
TAKING = 30_000 * USDT_RAW  # for 30,000 USDT


def selector(error: str) -> str:
    return keccak(text=error)[:4].hex()


Body = Callable[[LocalChain, OneInchSim, OrderbookClient, str], Awaitable[None]]


def with_orderbook(chain: Deployment, body: Body) -> None:
    """Run ``body`` with the maker (keys[1], 1 WBTC) and the taker (keys[2], 100,000 USDT) both
    funded and approved to the protocol, the simulated orderbook up and a client of it."""

    async def main() -> None:
        async with LocalChain(chain) as c:
            lop = c.addresses["limit_order_protocol"]
            await c.fund(c.tokens["WBTC"], c.keys[1], WBTC_RAW, spenders=("limit_order_protocol",))
            await c.fund(c.tokens["USDT"], c.keys[2], 100_000 * USDT_RAW, spenders=("limit_order_protocol",))
            async with (
                OneInchSim(chain, plan="business") as sim,
                OrderbookClient(sim.base_url, sim.issue_key(), chain.chain_id, plan="business") as book,
            ):
                await body(c, sim, book, lop)

    run(main(), 120)


async def balances(c: LocalChain, wallet: Wallet) -> tuple[int, int]:
    (wbtc,) = await c.evm.call(c.tokens["WBTC"].address, BALANCE_OF, wallet.address)
    (usdt,) = await c.evm.call(c.tokens["USDT"].address, BALANCE_OF, wallet.address)
    return wbtc, usdt


async def signed_order(c: LocalChain, lop: str, **options: object) -> SignedOrder:
    """keys[1] sells 0.5 WBTC for 30,000 USDT, signed under the domain the contract reports."""
    order = build_limit_order(c.wallet_for(c.keys[1]).address, c.tokens["WBTC"].address, c.tokens["USDT"].address,
                              MAKING, TAKING, **options)  # type: ignore[arg-type]
    return sign_order(order, await read_domain(c.evm, lop), c.keys[1])


def test_order_fills_partly_then_fully_on_the_protocol(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        maker, taker = c.wallet_for(c.keys[1]), c.wallet_for(c.keys[2])
        signed = await signed_order(c, lop)
        await book.submit(signed)
        listed = await book.order(signed.hash_hex)
        assert listed["remainingMakerAmount"] == str(MAKING) and listed["orderInvalidReason"] is None
        assert LimitOrder.from_api(listed["data"]) == signed.order
        maker_before, taker_before = await balances(c, maker), await balances(c, taker)

        # 0.2 WBTC by making amount, paying at most the order's price for it
        first = await fill_order(taker, lop, signed, 2 * WBTC_RAW // 10, taker_traits(making_amount=True, threshold=12_000 * USDT_RAW))
        assert (first.making_amount, first.taking_amount, first.remaining) == (2 * WBTC_RAW // 10, 12_000 * USDT_RAW, 3 * WBTC_RAW // 10)
        state = await book.follow(c.evm, lop, signed)
        assert (state.status, state.remaining, state.filled) == ("partially_filled", 3 * WBTC_RAW // 10, 2 * WBTC_RAW // 10)
        assert (await book.order(signed.hash_hex))["remainingMakerAmount"] == str(3 * WBTC_RAW // 10)

        # the rest by taking amount: 18,000 USDT buys the remaining 0.3 WBTC
        second = await fill_order(taker, lop, signed, 18_000 * USDT_RAW)
        assert (second.making_amount, second.taking_amount, second.remaining) == (3 * WBTC_RAW // 10, 18_000 * USDT_RAW, 0)
        state = await book.follow(c.evm, lop, signed)
        assert (state.status, state.remaining, state.filled, state.reported) == ("filled", 0, MAKING, ("order filled",))

        maker_after, taker_after = await balances(c, maker), await balances(c, taker)
        assert maker_after == (maker_before[0] - MAKING, maker_before[1] + TAKING)
        assert taker_after == (taker_before[0] + MAKING, taker_before[1] - TAKING)
        with pytest.raises(TransactionFailed, match=selector("InvalidatedOrder()")):
            await fill_order(taker, lop, signed, USDT_RAW)

    with_orderbook(chain, body)


def test_order_hash_is_the_contracts_hash_order(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        domain = await read_domain(c.evm, lop)
        assert (domain.name, domain.version, domain.chain_id, domain.verifying_contract) == ("1inch Limit Order Protocol", "4", 31337, lop)
        for options in ({}, {"allow_partial_fills": False}, {"allow_multiple_fills": False, "expiration": 2**39}):
            signed = await signed_order(c, lop, **options)
            (contract_hash,) = await c.evm.call(lop, HASH_ORDER, signed.order.as_tuple())
            assert bytes(contract_hash) == signed.hash == order_hash(signed.order, domain)

    with_orderbook(chain, body)


def test_no_partial_fills_order_refuses_a_partial_fill(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        taker = c.wallet_for(c.keys[2])
        signed = await signed_order(c, lop, allow_partial_fills=False, allow_multiple_fills=False)
        assert signed.order.maker_traits & NO_PARTIAL_FILLS and not signed.order.maker_traits & ALLOW_MULTIPLE_FILLS
        await book.submit(signed)
        with pytest.raises(TransactionFailed, match=selector("PartialFillNotAllowed()")):
            await fill_order(taker, lop, signed, TAKING // 2)
        fill = await fill_order(taker, lop, signed, TAKING)
        assert (fill.making_amount, fill.taking_amount) == (MAKING, TAKING)
        state = await book.follow(c.evm, lop, signed)
        assert (state.status, state.remaining) == ("filled", 0)
        with pytest.raises(TransactionFailed, match=selector("BitInvalidatedOrder()")):
            await fill_order(taker, lop, signed, TAKING)

    with_orderbook(chain, body)


@pytest.mark.parametrize(
    ("options", "refusal"),
    [({}, "InvalidatedOrder()"), ({"allow_multiple_fills": False}, "BitInvalidatedOrder()")],
    ids=["remaining-invalidator", "bit-invalidator"],
)
def test_cancelled_order_cannot_be_filled(chain: Deployment, options: dict[str, bool], refusal: str) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        maker, taker = c.wallet_for(c.keys[1]), c.wallet_for(c.keys[2])
        signed = await signed_order(c, lop, **options)
        await book.submit(signed)
        await book.cancel(maker, lop, signed)
        with pytest.raises(TransactionFailed, match=selector(refusal)):
            await fill_order(taker, lop, signed, TAKING)
        state = await book.follow(c.evm, lop, signed)
        assert (state.status, state.remaining, state.filled, state.reported) == ("cancelled", 0, 0, ("order cancelled",))
        invalid = await book.orders_by_maker(maker.address, statuses=[3])
        assert [o["orderHash"] for o in invalid] == [signed.hash_hex]
        assert await book.orders_by_maker(maker.address, statuses=[1]) == []
        with pytest.raises(InvalidOrder, match="maker"):
            await book.cancel(taker, lop, signed)

    with_orderbook(chain, body)


def test_expired_order_cannot_be_filled(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        signed = await signed_order(c, lop, expiration=await c.evm.timestamp() + 60)
        await book.submit(signed)
        await c.advance(120)
        with pytest.raises(TransactionFailed, match=selector("OrderExpired()")):
            await fill_order(c.wallet_for(c.keys[2]), lop, signed, TAKING)
        state = await book.follow(c.evm, lop, signed)
        assert (state.status, state.remaining, state.reported) == ("expired", MAKING, ("order expired",))

    with_orderbook(chain, body)


def test_tampered_signature_is_rejected_by_contract_and_orderbook(chain: Deployment) -> None:
    async def body(c: LocalChain, sim: OneInchSim, book: OrderbookClient, lop: str) -> None:
        signed = await signed_order(c, lop)
        tampered = SignedOrder(signed.order, signed.hash, signed.signature[:40] + bytes([signed.signature[40] ^ 1]) + signed.signature[41:])
        with pytest.raises(TransactionFailed, match=selector("BadSignature()")):
            await fill_order(c.wallet_for(c.keys[2]), lop, tampered, TAKING)
        with pytest.raises(InvalidOrder, match="signature"):
            await book.submit(tampered)
        other = SignedOrder(signed.order, signed.hash, sign_order(
            build_limit_order(c.wallet_for(c.keys[3]).address, c.tokens["WBTC"].address, c.tokens["USDT"].address, MAKING, TAKING),
            await read_domain(c.evm, lop), c.keys[3]).signature)
        with pytest.raises(InvalidOrder, match="recover to the order's maker"):
            await book.submit(other)
        assert sim.orders == {}

    with_orderbook(chain, body)


def test_maker_traits_bits_are_where_maker_traits_lib_reads_them() -> None:
    maker = "0x" + "11" * 20
    sender = "0x" + "ab" * 20
    order = build_limit_order(maker, "0x" + "22" * 20, "0x" + "33" * 20, 5, 7, allow_partial_fills=False,
                              allow_multiple_fills=True, expiration=1_900_000_000, nonce=0x1234, allowed_sender=sender)
    traits = order.maker_traits
    assert traits >> 255 == 1 and (traits >> 254) & 1 == 1
    assert (traits >> 80) & (2**40 - 1) == 1_900_000_000 == order.expiration
    assert (traits >> 120) & (2**40 - 1) == 0x1234 == order.nonce
    assert traits & (2**80 - 1) == int(sender, 16) & (2**80 - 1)
    assert not order.allows_partial_fills and order.allows_multiple_fills and order.uses_bit_invalidator
    default = build_limit_order(maker, "0x" + "22" * 20, "0x" + "33" * 20, 5, 7)
    assert default.maker_traits == 1 << 254 and not default.uses_bit_invalidator
    assert taker_traits(making_amount=True, threshold=99) == (1 << 255) | 99
    with pytest.raises(InvalidOrder, match="expiration"):
        build_limit_order(maker, "0x" + "22" * 20, "0x" + "33" * 20, 5, 7, expiration=2**40)
    with pytest.raises(InvalidOrder, match="same token"):
        build_limit_order(maker, "0x" + "22" * 20, "0x" + "22" * 20, 5, 7)
