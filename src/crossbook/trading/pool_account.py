"""A Uniswap V3 pool as a trading account, so the router sends it child orders like any venue.

An IOC limit order becomes one swap through the chain's router: a buy is exact-output (the base amount
asked) with amountInMaximum, a sell exact-input with amountOutMinimum, both the limit price plus
the pool fee. The swap fills whole or reverts, so the limit bounds the order's average price
before fee (an exchange bounds each unit): the router's child limit is the worst level it planned
to reach, which the average of a planned swap never passes. SwapRouter takes the deadline in
the swap's parameters; SwapRouter02 (the only router on BNB Chain and Avalanche) has none there and
takes the swap wrapped in ``multicall(deadline, [swap])``
(https://github.com/Uniswap/swap-router-contracts/blob/main/contracts/base/MulticallExtended.sol).
Either way the swap is
journaled before its transaction is signed, its hash recorded before it is broadcast, and its
fill taken from the pool's own Swap event in the receipt; a reverted or expired transaction is a
rejected order with nothing filled.

The fill's price is the pool's price before its fee, and its fee is the pool fee plus the gas the
transaction burnt (in the quote currency), so fees and all-in prices read like an exchange's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from eth_abi import decode as abi_decode

from ..errors import InvalidOrder, VenueUnavailable
from ..model import Fill, OrderRequest, OrderType, Side, TimeInForce
from ..venues.dex.amm import PoolMarket
from ..venues.dex.chains import RouterKind
from ..venues.dex.evm import (
    ALLOWANCE,
    APPROVE,
    BALANCE_OF,
    MAX_UINT,
    TransactionFailed,
    TxOutcome,
    Wallet,
)
from ..venues.dex.gas import WEI_PER_NATIVE, FeeHistoryGas
from ..venues.dex.tokens import ChainToken
from ..venues.dex.uniswap_v3 import SWAP_TOPIC
from ..venues.dex.uniswap_v3_exec import (
    EXACT_INPUT_SINGLE,
    EXACT_INPUT_SINGLE_02,
    EXACT_OUTPUT_SINGLE,
    EXACT_OUTPUT_SINGLE_02,
    MULTICALL_WITH_DEADLINE,
)
from ..venues.dex.v3math import swap_gas
from ..venues.spec.capabilities import Product
from .journal import Journal, JournaledOrder
from .validation import TradingRules

SWAP_GAS = 400_000  # a ceiling for one single-pool swap crossing many ticks; only what is used is paid


@dataclass(frozen=True, slots=True)
class SwapFill:
    base: int  # raw base units bought or sold
    quote: int  # raw quote units paid or received (fee included)
    tx: TxOutcome


class GasCost:
    """What one swap's gas costs in the quote currency: gas units (a swap crossing one initialized
    tick, as measured on the real contracts) × the chain's gas price (from its fee history:
    ``FeeHistoryGas``) × the native coin's price in quote (``native_price``, e.g. the WETH/USDT pool
    or an exchange book)."""

    def __init__(self, wallet: Wallet, native_price: Callable[[], Awaitable[float]], units: int = swap_gas(1)) -> None:
        self.wallet = wallet
        self.native_price = native_price
        self.units = units
        self.prices = FeeHistoryGas(wallet.evm, native_price)

    async def per_swap(self) -> float:
        return await self.for_units(self.units)

    async def for_units(self, units: int) -> float:
        return await self.prices.cost(units)

    async def of(self, outcome: TxOutcome) -> float:
        return outcome.fee_wei / WEI_PER_NATIVE * await self.native_price()


class PoolAccount:
    """One pool, one wallet, the shared journal. ``venue`` is the routing venue (``uniswap_v3_500``);
    ``router`` is the chain's router of kind ``router_kind`` (SwapRouter or SwapRouter02)."""

    limiter = None  # the chain has no request budget to plan around; gas is the cost per order

    def __init__(self, venue: str, market: PoolMarket, pool: str, base: ChainToken, quote: ChainToken, router: str,
                 wallet: Wallet, journal: Journal, gas: GasCost, *, router_kind: RouterKind = "swap_router",
                 account: str = "main", deadline_seconds: int = 120) -> None:
        self.venue = venue
        self.market = market
        self.pool = pool
        self.base = base
        self.quote = quote
        self.router = router
        self.router_kind = router_kind
        self.wallet = wallet
        self.journal = journal
        self.gas = gas
        self.account = account
        self.deadline_seconds = deadline_seconds
        self.rules = {market.symbol: swap_rules(market.symbol, base, quote)}
        self._approved: set[str] = set()

    async def balances(self) -> dict[str, Decimal]:
        return await token_balances(self.wallet, (self.base, self.quote))

    # ---- orders ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> JournaledOrder:
        """An IOC limit order as a swap up to the limit price. Anything else is refused before it
        is journaled: a pool has no resting orders (range orders are placed separately)."""
        request = checked_swap_order(request, self.venue, self.rules[self.market.symbol], "a pool")
        journaled = self.journal.record_intent(request, sending=True)
        cid = journaled.client_order_id
        async with self.wallet.turn:
            try:
                await self._approve(self.quote if request.side is Side.BUY else self.base)
                calldata = self._calldata(request, await self.wallet.evm.timestamp())
                past_limit = await self._would_revert(calldata)
                if past_limit is not None:
                    return self.journal.record_expire(cid, f"not sent: {past_limit}")
                signed = await self.wallet.sign(self.router, calldata, gas=SWAP_GAS)
            except TransactionFailed as exc:
                self.journal.record_reject(cid, str(exc))
                raise InvalidOrder(f"{self.venue} refused {cid}: {exc}") from None
            self.journal.record_ack(cid, signed.tx_hash)
            try:
                await self.wallet.broadcast(signed)
            except Exception as exc:  # the node refused it (nonce, funds): it never reached a block
                # acked (its hash is journaled) orders end EXPIRED: REJECTED would move the order back
                self.journal.record_expire(cid, f"not broadcast: {type(exc).__name__}")
                raise InvalidOrder(f"{self.venue} refused {cid}: {type(exc).__name__}") from None
        return await self.sync(cid)

    async def _would_revert(self, calldata: bytes) -> str | None:
        """Why the swap would revert on the chain as it is now (the pool already past the limit
        price), or None. Such a swap is not sent: it would only burn gas."""
        try:
            await self.wallet.evm.call_raw(self.router, calldata, block="pending", sender=self.wallet.address)
        except TransactionFailed as exc:
            return f"the pool is past the limit price ({exc})"
        return None

    def _calldata(self, request: OrderRequest, now: int) -> bytes:
        """The router call: the swap, with its deadline inside (SwapRouter) or around it (SwapRouter02)."""
        deadline = now + self.deadline_seconds
        if self.router_kind == "swap_router":
            return self._swap(request, deadline)
        return MULTICALL_WITH_DEADLINE.encode(deadline, [self._swap(request, None)])

    def _swap(self, request: OrderRequest, deadline: int | None) -> bytes:
        """exactOutputSingle for a buy, exactInputSingle for a sell; ``deadline`` in the parameters
        (SwapRouter's struct) or None (SwapRouter02's struct has no deadline)."""
        base_raw = int(request.amount.scaleb(self.base.decimals))
        assert request.price is not None
        fee = self.market.fee
        dated = () if deadline is None else (deadline,)
        # quote raw units per base raw unit at the limit, and the fee levied on what goes in
        at_limit = Decimal(base_raw) * request.price.scaleb(self.quote.decimals - self.base.decimals)
        if request.side is Side.BUY:
            most_in = math.ceil(at_limit * 1_000_000 / (1_000_000 - fee))
            params = (self.quote.address, self.base.address, fee, self.wallet.address, *dated, base_raw, most_in, 0)
            return (EXACT_OUTPUT_SINGLE if dated else EXACT_OUTPUT_SINGLE_02).encode(params)
        least_out = math.floor(at_limit * (1_000_000 - fee) / 1_000_000)
        params = (self.base.address, self.quote.address, fee, self.wallet.address, *dated, base_raw, least_out, 0)
        return (EXACT_INPUT_SINGLE if dated else EXACT_INPUT_SINGLE_02).encode(params)

    async def _approve(self, token: ChainToken) -> None:
        if token.address in self._approved:
            return
        (allowance,) = await self.wallet.evm.call(token.address, ALLOWANCE, self.wallet.address, self.router)
        if allowance < MAX_UINT >> 1:
            await self.wallet.send(token.address, APPROVE.encode(self.router, MAX_UINT))
        self._approved.add(token.address)

    async def sync(self, client_order_id: str) -> JournaledOrder:
        """The swap's fate from its receipt: filled (fully or up to the limit price), or rejected
        when it reverted, expired or filled nothing."""
        order = self.journal.order(client_order_id)
        if order is None:
            raise InvalidOrder(f"no order {client_order_id!r} in the journal")
        if order.status.final or order.venue_order_id is None:
            return order
        try:
            outcome = await self.wallet.receipt(order.venue_order_id)
        except TransactionFailed as exc:
            # not mined yet: once the chain is past the swap's deadline it can never be mined
            if await self.wallet.evm.timestamp() > order.created_at + self.deadline_seconds:
                return self.journal.record_expire(client_order_id, f"{exc}; past its deadline")
            return order
        fill = self._swap_fill(outcome)
        if fill is None:  # acked orders end EXPIRED, not REJECTED: the chain had them
            return self.journal.record_expire(client_order_id, "reverted: the pool could not fill it within the limit price")
        await self._record_fill(order, fill)
        order = self.journal.order(client_order_id)
        assert order is not None
        return order

    def _swap_fill(self, outcome: TxOutcome) -> SwapFill | None:
        for log in outcome.logs:
            if str(log["address"]).lower() == self.pool.lower() and bytes(log["topics"][0]) == SWAP_TOPIC:
                amount0, amount1, _, _, _ = abi_decode(["int256", "int256", "uint160", "uint128", "int24"], bytes(log["data"]))
                base, quote = (amount0, amount1) if self.market.base_is_token0 else (amount1, amount0)
                return SwapFill(abs(base), abs(quote), outcome)
        return None

    async def _record_fill(self, order: JournaledOrder, fill: SwapFill) -> None:
        base = Decimal(fill.base).scaleb(-self.base.decimals)
        quote = Decimal(fill.quote).scaleb(-self.quote.decimals)
        fee_rate = Decimal(self.market.fee) / Decimal(1_000_000)
        if order.request.side is Side.BUY:
            pool_fee = quote * fee_rate
            price = (quote - pool_fee) / base
        else:
            pool_fee = quote * fee_rate / (1 - fee_rate)
            price = (quote + pool_fee) / base
        gas = Decimal(repr(await self.gas.of(fill.tx)))
        self.journal.record_fill(Fill(
            venue=self.venue, symbol=self.market.symbol, client_order_id=order.client_order_id,
            venue_order_id=fill.tx.tx_hash, trade_id=fill.tx.tx_hash, side=order.request.side,
            price=price, amount=base, fee=pool_fee + gas, fee_currency=self.quote.asset, taker=True, ts=time.time(),
        ))

    async def cancel(self, client_order_id: str) -> JournaledOrder:
        """A swap cannot be cancelled once broadcast; its receipt decides."""
        return await self.sync(client_order_id)

    async def reconcile(self) -> None:
        """Settle every swap of this pool whose receipt was not read (a crash, a lost answer): its
        hash was journaled before broadcast, so the chain says whether it happened."""
        for order in self.journal.in_flight(self.venue, self.account) + self.journal.open_orders(self.venue, self.account):
            if order.venue_order_id is None:
                self.journal.record_reject(order.client_order_id, "never signed: no transaction")
                continue
            try:
                await self.sync(order.client_order_id)
            except VenueUnavailable:
                continue


def swap_rules(symbol: str, base: ChainToken, quote: ChainToken) -> TradingRules:
    """A token pair's trading rules: any amount down to one unit of the base token, any price
    down to one unit of the quote token."""
    return TradingRules(
        symbol=symbol, ccxt_symbol=f"{base.symbol}/{quote.symbol}", base=base.asset, quote=quote.asset, settle=None,
        product=Product.SPOT, active=True, tick=Decimal(1).scaleb(-quote.decimals), lot=Decimal(1).scaleb(-base.decimals),
        min_amount=Decimal(1).scaleb(-base.decimals),
    )


async def token_balances(wallet: Wallet, tokens: Iterable[ChainToken]) -> dict[str, Decimal]:
    """What ``wallet`` holds of each token, by crossbook's asset (BTC for WBTC)."""
    held = {}
    for token in tokens:
        (raw,) = await wallet.evm.call(token.address, BALANCE_OF, wallet.address)
        held[token.asset] = Decimal(raw).scaleb(-token.decimals)
    return held


def checked_swap_order(request: OrderRequest, venue: str, rules: TradingRules, what: str) -> OrderRequest:
    """``request`` as one swap takes it (an IOC limit order of ``rules``' symbol on ``venue``, its
    amount on the base token's unit), or InvalidOrder naming what ``what`` (a pool, 1inch) cannot do."""
    if request.venue != venue or request.symbol != rules.symbol:
        raise InvalidOrder(f"order for {request.venue} {request.symbol} sent to {venue} {rules.symbol}")
    if request.type is not OrderType.LIMIT or request.price is None or request.time_in_force is not TimeInForce.IOC:
        raise InvalidOrder(f"{venue}: {what} takes IOC limit orders only (a swap up to the limit price)")
    if request.post_only or request.reduce_only:
        raise InvalidOrder(f"{venue}: a swap cannot be post-only or reduce-only")
    if not request.amount > 0 or not request.price > 0:
        raise InvalidOrder(f"{venue}: amount and price must be positive, got {request.amount} @ {request.price}")
    # the planner sends lot multiples up to float noise (1.6481399999999655): the nearest unit
    request = replace(request, amount=request.amount.quantize(rules.lot, ROUND_HALF_EVEN))
    if not request.amount > 0:
        raise InvalidOrder(f"{venue}: the amount is less than one unit of {rules.base}")
    return request
