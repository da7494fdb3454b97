"""1inch as a trading account, so the router sends it child orders like any venue.

An IOC limit order becomes one swap through the aggregation API's transaction (``/swap``), with
the API's ``slippage`` set so the swap's minimum return is the limit price's: a sell is the exact
base amount in, at least amount x limit out; a buy spends the quote amount a fresh quote says buys
at most the base amount asked, for at least spend / limit of base. (A classic 1inch swap is
exact-input: ``/swap`` takes ``amount`` of ``src`` and ``slippage`` in percent, nothing of ``dst``;
the request as published clients build it:
https://docs.rs/crate/one_inch/latest/source/src/swap/swap.rs. The dev portal's own pages,
https://business.1inch.com/portal/documentation/overview, could not be read.)
A fresh quote already worse than the limit sends nothing: the order is journaled and expires.
The swap is journaled before its transaction is asked for, its hash recorded before it is
broadcast, and its fill read from the tokens' Transfer logs in the receipt; a reverted swap
expires with nothing filled, and a mined swap that delivered less than its minimum is recorded
as what it delivered, noted "short".

The fill's price is what the wallet paid or received in quote per base (1inch's routes' pool fees
included, so it is all-in except gas) and its fee is the gas the transaction burnt, in the quote
currency.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from decimal import Decimal

from eth_abi import decode as abi_decode
from web3.exceptions import TransactionNotFound

from ..errors import CrossbookError, InvalidOrder, VenueUnavailable
from ..model import Fill, OrderRequest, Side
from ..venues.dex.evm import APPROVE, MAX_UINT, TransactionFailed, TxOutcome, Wallet, transferred
from ..venues.dex.oneinch import OneInchClient, SwapTx
from ..venues.dex.tokens import ChainToken
from .journal import Journal, JournaledOrder
from .pool_account import GasCost, PoolAccount, checked_swap_order, swap_rules, token_balances

SIZING_QUOTES = 4  # quotes a buy may spend finding how much quote buys its amount (the limit's own included)
SIZING_TOLERANCE = 10_000  # a buy sized within 1 / this of its amount is close enough
MAX_SLIPPAGE = 50.0  # percent: the most the API accepts


@dataclass(frozen=True, slots=True)
class SwapPlan:
    """A swap about to be asked for: ``amount`` of ``src`` in, at least ``minimum`` of ``dst``
    out, where the fresh quote expects ``expected``."""

    src: ChainToken
    dst: ChainToken
    amount: int
    expected: int
    minimum: int

    @property
    def slippage(self) -> float:
        """The API's slippage (percent of ``expected``) whose minimum return, as the API rounds it
        (``SwapTx.min_dst_amount``), is at least ``minimum``."""
        keep = -(-self.minimum * 10**8 // self.expected)  # hundred-millionths of the quote kept, rounded up
        return min(MAX_SLIPPAGE, (10**8 - keep) / 10**6)


class OneInchAccount:
    """1inch on one chain for one symbol, one wallet, the shared journal. ``venue`` is the routing
    venue (``oneinch``)."""

    limiter = None  # the API's own pace is the client's limiter; gas is the cost per order

    def __init__(self, venue: str, symbol: str, client: OneInchClient, base: ChainToken, quote: ChainToken,
                 wallet: Wallet, journal: Journal, gas: GasCost, *, account: str = "main") -> None:
        self.venue = venue
        self.symbol = symbol
        self.client = client
        self.base = base
        self.quote = quote
        self.wallet = wallet
        self.journal = journal
        self.gas = gas
        self.account = account
        self.rules = {symbol: swap_rules(symbol, base, quote)}
        self._spender: str | None = None
        self._approved: set[str] = set()

    async def balances(self) -> dict[str, Decimal]:
        return await token_balances(self.wallet, (self.base, self.quote))

    # ---- orders ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> JournaledOrder:
        """An IOC limit order as one swap within the limit price, its fate read from the receipt."""
        order = await self.submit(request)
        return await self.sync(order.client_order_id)

    async def submit(self, request: OrderRequest) -> JournaledOrder:
        """Journal the order, size its swap on a fresh quote, and broadcast the API's transaction
        (its hash journaled first); the order comes back acked, or expired when the quote is
        already worse than the limit. Anything but an IOC limit order is refused unjournaled."""
        request = checked_swap_order(request, self.venue, self.rules[self.symbol], "1inch")
        journaled = self.journal.record_intent(request, sending=True)
        cid = journaled.client_order_id
        async with self.wallet.turn:
            try:
                plan = await self._plan(request)
                if isinstance(plan, str):
                    return self.journal.record_expire(cid, f"not sent: {plan}")
                swap = await self._swap_tx(plan)
                if swap.min_dst_amount < plan.minimum:
                    return self.journal.record_expire(cid, "not sent: the price moved past the limit between quote and swap")
                signed = await self.wallet.sign(swap.to, swap.data, value=swap.value, gas=swap.gas or None)
            except CrossbookError as exc:  # nothing was signed: nothing can reach the chain
                self.journal.record_reject(cid, f"not sent: {exc}")
                if isinstance(exc, VenueUnavailable):
                    exc.client_order_id = cid
                raise
            acked = self.journal.record_ack(cid, signed.tx_hash)
            try:
                await self.wallet.broadcast(signed)
            except Exception:  # whatever the node said, the chain decides: sync asks it
                return await self.sync(cid)
        return acked

    async def _plan(self, request: OrderRequest) -> SwapPlan | str:
        """The swap for ``request`` on fresh quotes, or why none is sent."""
        assert request.price is not None
        base_raw = int(request.amount.scaleb(self.base.decimals))
        limit = request.price.scaleb(self.quote.decimals - self.base.decimals)  # quote raw per base raw
        worse = f"1inch's quote is worse than the limit {request.price}"
        if request.side is Side.SELL:
            minimum = math.ceil(base_raw * limit)
            expected = await self._quote(self.base, self.quote, base_raw)
            return SwapPlan(self.base, self.quote, base_raw, expected, minimum) if expected >= minimum else worse
        most = math.floor(base_raw * limit)
        got = await self._quote(self.quote, self.base, most)
        if got < base_raw:
            return worse
        sized = await self._buy_spend(base_raw, (most, got))
        if sized is None:
            return f"no spend found in {SIZING_QUOTES} quotes that buys at most {request.amount} {self.base.symbol}"
        spend, expected = sized
        minimum = math.ceil(spend / limit)
        return SwapPlan(self.quote, self.base, spend, expected, minimum) if expected >= minimum else worse

    async def _quote(self, src: ChainToken, dst: ChainToken, amount: int) -> int:
        return (await self.client.quote(src.address, dst.address, amount)).dst_amount

    async def _buy_spend(self, base_raw: int, most: tuple[int, int]) -> tuple[int, int] | None:
        """(quote to spend, base the quote says it buys, never more than ``base_raw``), found in
        at most SIZING_QUOTES quotes counting ``most`` (what the limit allows spending, and the
        base it buys: at least ``base_raw``); None when no spend quoted buys at most ``base_raw``."""
        points = [most]
        for _ in range(SIZING_QUOTES - 1):
            best = _best_under(points, base_raw)
            if best is not None and (base_raw - best[1]) * SIZING_TOLERANCE <= base_raw:
                break
            spend = _next_spend(points, base_raw)
            if spend <= 0 or any(spend == x for x, _ in points):
                break
            points.append((spend, await self._quote(self.quote, self.base, spend)))
        return _best_under(points, base_raw)

    async def _swap_tx(self, plan: SwapPlan) -> SwapTx:
        """The API's transaction for ``plan``, checked to be what was asked: from this wallet,
        for this amount, to the router the token was approved to, with no ether."""
        spender = await self._approve(plan.src)
        swap = await self.client.swap(plan.src.address, plan.dst.address, plan.amount, self.wallet.address, plan.slippage)
        if swap.sender.lower() != self.wallet.address.lower() or swap.amount != plan.amount:
            raise InvalidOrder(f"{self.venue}: 1inch built a swap of {swap.amount} from {swap.sender}, not of {plan.amount} "
                               f"from {self.wallet.address}")
        if swap.to.lower() != spender.lower() or swap.value:
            raise InvalidOrder(f"{self.venue}: 1inch's swap goes to {swap.to} with {swap.value} wei, not to its router {spender}")
        return swap

    async def _approve(self, token: ChainToken) -> str:
        """The aggregation router, approved without limit to spend ``token`` (once per token)."""
        if self._spender is None:
            self._spender = await self.client.approve_spender()
        spender = self._spender
        if token.address in self._approved:
            return spender
        if await self.client.allowance(token.address, self.wallet.address) < MAX_UINT >> 1:
            approval = await self.client.approve_transaction(token.address)
            data = approval["data"]
            if approval["to"].lower() != token.address.lower() or data[:4] != APPROVE.selector:
                raise InvalidOrder(f"{self.venue}: 1inch's approval is not {token.symbol}'s approve call")
            approved, _ = abi_decode(["address", "uint256"], data[4:])
            if str(approved).lower() != spender.lower():
                raise InvalidOrder(f"{self.venue}: 1inch's approval names {approved}, not its router {spender}")
            await self.wallet.send(approval["to"], data, value=approval["value"])
        self._approved.add(token.address)
        return spender

    # ---- the swap's fate ---------------------------------------------------------------------

    async def sync(self, client_order_id: str) -> JournaledOrder:
        """The swap's fate from the chain: filled (all of it, or the part an exact-input buy got),
        expired when it reverted or never reached the chain; still open while it is pending."""
        order = self.journal.order(client_order_id)
        if order is None:
            raise InvalidOrder(f"no order {client_order_id!r} in the journal")
        if order.status.final or order.venue_order_id is None:
            return order
        tx_hash = order.venue_order_id
        try:
            await self.wallet.evm.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:  # signed and journaled, but the node never took it
            return self.journal.record_expire(client_order_id, f"never reached the chain: transaction {tx_hash} is unknown")
        try:
            outcome = await self.wallet.receipt(tx_hash)
        except TransactionFailed:
            return order  # pending: a later sync or reconcile reads it
        if not outcome.ok:  # acked orders end EXPIRED, not REJECTED: the chain had them
            return self.journal.record_expire(client_order_id, f"reverted: {await self._revert_reason(outcome)}")
        return await self._settle(order, outcome)

    async def _revert_reason(self, outcome: TxOutcome) -> str:
        """Why the swap reverted: its call replayed on the state its block left (where what moved
        the price is still there)."""
        try:
            tx = await self.wallet.evm.w3.eth.get_transaction(outcome.tx_hash)  # type: ignore[arg-type]
            await self.wallet.evm.call_raw(str(tx["to"]), bytes(tx["input"]), block=outcome.block, sender=self.wallet.address)
        except TransactionFailed as exc:
            return f"{exc} (transaction {outcome.tx_hash})"
        except (CrossbookError, TransactionNotFound, KeyError):
            pass
        return f"transaction {outcome.tx_hash} reverted in block {outcome.block}"

    async def _settle(self, order: JournaledOrder, outcome: TxOutcome) -> JournaledOrder:
        cid = order.client_order_id
        buy = order.request.side is Side.BUY
        src, dst = (self.quote, self.base) if buy else (self.base, self.quote)
        paid = transferred(outcome.logs, src.address, sender=self.wallet.address)
        received = transferred(outcome.logs, dst.address, receiver=self.wallet.address)
        base_raw, quote_raw = (received, paid) if buy else (paid, received)
        short = self._short(order, received, outcome)
        if base_raw > 0 and quote_raw > 0:
            await self._record_fill(order, base_raw, quote_raw, outcome)
        settled = self.journal.order(cid)
        assert settled is not None
        if short:
            self.journal.record_note(cid, "short", {"received": str(received), "tx_hash": outcome.tx_hash})
        if not settled.status.final:  # an IOC: what the swap did not fill is over
            unfilled = "filled no part" if settled.filled == 0 else f"filled {settled.filled} of {settled.request.amount}"
            reason = short or f"{unfilled}: a 1inch swap spends an exact input"
            settled = self.journal.record_expire(cid, reason)
        return settled

    def _short(self, order: JournaledOrder, received: int, outcome: TxOutcome) -> str:
        """"short: ..." when the swap delivered less than its limit's minimum, else ""."""
        minimum = self._minimum(order, outcome)
        if minimum is None or received >= minimum:
            return ""
        return f"short: received {received}, below the swap's minimum {minimum}"

    def _minimum(self, order: JournaledOrder, outcome: TxOutcome) -> int | None:
        """The least the order's limit lets the swap deliver (raw units of what it buys)."""
        price = order.request.price
        assert price is not None
        limit = price.scaleb(self.quote.decimals - self.base.decimals)
        if order.request.side is Side.SELL:
            return math.ceil(int(order.request.amount.scaleb(self.base.decimals)) * limit)
        spent = transferred(outcome.logs, self.quote.address, sender=self.wallet.address)
        return math.ceil(spent / limit) if spent else None

    async def _record_fill(self, order: JournaledOrder, base_raw: int, quote_raw: int, outcome: TxOutcome) -> None:
        base = Decimal(base_raw).scaleb(-self.base.decimals)
        quote = Decimal(quote_raw).scaleb(-self.quote.decimals)
        gas = Decimal(repr(await self.gas.of(outcome)))
        self.journal.record_fill(Fill(
            venue=self.venue, symbol=self.symbol, client_order_id=order.client_order_id,
            venue_order_id=outcome.tx_hash, trade_id=outcome.tx_hash, side=order.request.side,
            price=quote / base, amount=base, fee=gas, fee_currency=self.quote.asset, taker=True, ts=time.time(),
        ))

    async def cancel(self, client_order_id: str) -> JournaledOrder:
        """A swap cannot be cancelled once broadcast; its receipt decides."""
        return await self.sync(client_order_id)

    async def reconcile(self) -> None:
        """Settle every swap of this venue whose receipt was not read (a crash, a lost answer): its
        hash was journaled before broadcast, so the chain says whether it happened."""
        for order in self.journal.in_flight(self.venue, self.account) + self.journal.open_orders(self.venue, self.account):
            if order.venue_order_id is None:
                self.journal.record_reject(order.client_order_id, "never signed: no transaction")
                continue
            try:
                await self.sync(order.client_order_id)
            except VenueUnavailable:
                continue


def _best_under(points: list[tuple[int, int]], target: int) -> tuple[int, int] | None:
    """The (spend, got) point buying the most without passing ``target``."""
    under = [p for p in points if p[1] <= target]
    return max(under, key=lambda p: p[1]) if under else None


def _next_spend(points: list[tuple[int, int]], target: int) -> int:
    """The next spend to quote: from one point, in proportion (the price at that size); from
    more, along the line through the last two (the marginal price between them), which for a
    concave route from two points above the target lands at or below it."""
    (x1, y1) = points[-1]
    if len(points) == 1 or y1 == points[-2][1]:
        return x1 * target // y1
    (x0, y0) = points[-2]
    return math.floor(x1 + (target - y1) * (x1 - x0) / (y1 - y0))


ChainAccount = PoolAccount | OneInchAccount
