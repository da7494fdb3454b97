"""Trading on Uniswap V3: swaps through SwapRouter (or SwapRouter02) and range orders through
NonfungiblePositionManager.

The native coin (ether) can be paid in (the router wraps it; on an exact output the unspent
coin comes back through refundETH in the same multicall) or received (the swap delivers the
wrapped token to the router, which unwraps it to the recipient in the same multicall).

A swap's bound (amountOutMinimum / amountInMaximum) comes from the slippage tolerance applied to
QuoterV2's on-chain quote (or a given expectation), its deadline from the chain's clock. A swap is
counted as filled only from a successful receipt, and its amounts are the ERC20 transfers that
receipt logged (for a native coin end, the router's Deposit / Withdrawal of the wrapped token);
a revert, a deadline passed, or a node's estimate that it would revert are results with status
``reverted`` / ``expired`` and zero amounts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from eth_utils import is_address, keccak, to_checksum_address
from web3.exceptions import ContractLogicError, TransactionNotFound

from ...errors import InvalidOrder, VenueUnavailable
from .chains import ChainConfig, RouterKind
from .evm import ALLOWANCE, APPROVE, Evm, TransactionFailed, TxOutcome, Wallet, encode_path, fn, revert_reason, transferred

# "short": mined, but delivered less than its minimum (a transaction built elsewhere, e.g. by
# 1inch's API, that did not protect the trade)
SwapStatus = Literal["filled", "short", "reverted", "expired"]
RangeState = Literal["open", "partial", "crossed"]

FEE_TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
MIN_TICK, MAX_TICK = -887272, 887272
MAX_SLIPPAGE_BPS = 5000
MAX_UINT256 = (1 << 256) - 1
MAX_UINT128 = (1 << 128) - 1
ZERO_ADDRESS = "0x" + "00" * 20
DEADLINE_REVERT = "Transaction too old"

COLLECT_TOPIC = keccak(text="Collect(uint256,address,uint256,uint256)")
INCREASE_LIQUIDITY_TOPIC = keccak(text="IncreaseLiquidity(uint256,uint128,uint256,uint256)")


# SwapRouter: the deadline is a field of every swap's parameters.
EXACT_INPUT_SINGLE = fn("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "uint256")
EXACT_OUTPUT_SINGLE = fn("exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "uint256")
EXACT_INPUT = fn("exactInput((bytes,address,uint256,uint256,uint256))", "uint256")
EXACT_OUTPUT = fn("exactOutput((bytes,address,uint256,uint256,uint256))", "uint256")
# SwapRouter02: no deadline in the parameters; it wraps the call in multicall(deadline, calls).
EXACT_INPUT_SINGLE_02 = fn("exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))", "uint256")
EXACT_OUTPUT_SINGLE_02 = fn("exactOutputSingle((address,address,uint24,address,uint256,uint256,uint160))", "uint256")
EXACT_INPUT_02 = fn("exactInput((bytes,address,uint256,uint256))", "uint256")
EXACT_OUTPUT_02 = fn("exactOutput((bytes,address,uint256,uint256))", "uint256")
MULTICALL_WITH_DEADLINE = fn("multicall(uint256,bytes[])", "bytes[]")
MULTICALL = fn("multicall(bytes[])", "bytes[]")
# Both routers' payments: unwrap all the WETH the router holds (at least the minimum) to the
# recipient; send back all the ether it holds.
# https://github.com/Uniswap/v3-periphery/blob/main/contracts/base/PeripheryPayments.sol
UNWRAP_WETH9 = fn("unwrapWETH9(uint256,address)")
REFUND_ETH = fn("refundETH()")
# SwapRouter02's recipient that means "the router itself" (Constants.ADDRESS_THIS); SwapRouter
# has no such alias and is given its own address.
# https://github.com/Uniswap/swap-router-contracts/blob/main/contracts/libraries/Constants.sol
ADDRESS_THIS = "0x0000000000000000000000000000000000000002"
# WETH9's events (https://etherscan.io/token/0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2#code):
# what the router wrapped of the ether paid in, and unwrapped of the WETH bought.
WETH_DEPOSIT_TOPIC = keccak(text="Deposit(address,uint256)")
WETH_WITHDRAWAL_TOPIC = keccak(text="Withdrawal(address,uint256)")

QUOTE_RETURNS = "uint256,uint160,uint32,uint256"
QUOTE_PATH_RETURNS = "uint256,uint160[],uint32[],uint256"
QUOTE_EXACT_INPUT_SINGLE = fn("quoteExactInputSingle((address,address,uint256,uint24,uint160))", QUOTE_RETURNS)
QUOTE_EXACT_OUTPUT_SINGLE = fn("quoteExactOutputSingle((address,address,uint256,uint24,uint160))", QUOTE_RETURNS)
QUOTE_EXACT_INPUT = fn("quoteExactInput(bytes,uint256)", QUOTE_PATH_RETURNS)
QUOTE_EXACT_OUTPUT = fn("quoteExactOutput(bytes,uint256)", QUOTE_PATH_RETURNS)

NPM_FACTORY = fn("factory()", "address")
GET_POOL = fn("getPool(address,address,uint24)", "address")
SLOT0 = fn("slot0()", "uint160,int24,uint16,uint16,uint16,uint8,bool")
MINT = fn("mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))",
          "uint256,uint128,uint256,uint256")
POSITIONS = fn("positions(uint256)", "uint96,address,address,address,uint24,int24,int24,uint128,uint256,uint256,uint128,uint128")
DECREASE_LIQUIDITY = fn("decreaseLiquidity((uint256,uint128,uint256,uint256,uint256))", "uint256,uint256")
COLLECT = fn("collect((uint256,address,uint128,uint128))", "uint256,uint256")
BURN = fn("burn(uint256)")


@dataclass(frozen=True, slots=True)
class TraderAddresses:
    router: str
    quoter: str
    position_manager: str


@dataclass(frozen=True, slots=True)
class Quote:
    """QuoterV2's answer: both amounts of the trade, the pools' prices after it, the initialized
    ticks it crosses and its gas estimate."""

    amount_in: int
    amount_out: int
    sqrt_prices_after: tuple[int, ...]
    ticks_crossed: int
    gas_estimate: int


@dataclass(frozen=True, slots=True)
class SwapResult:
    """What a swap did. Amounts are the receipt's token transfers, zero unless ``filled``."""

    status: SwapStatus
    amount_in: int
    amount_out: int
    gas_used: int
    gas_cost_wei: int
    tx_hash: str | None
    reason: str = ""
    amount_out_minimum: int = 0
    amount_in_maximum: int = 0
    deadline: int = 0

    @property
    def filled(self) -> bool:
        return self.status == "filled"


@dataclass(frozen=True, slots=True)
class RangeStatus:
    state: RangeState
    current_tick: int
    tick_lower: int
    tick_upper: int


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What withdrawing a range order returned: the token sold (what is left of it) and the token
    bought, each including the swap fees the position earned."""

    amount_sold_token: int
    amount_bought_token: int
    tx_hash: str
    gas_cost_wei: int


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A swap's limits, as its result reports them."""

    exact: Literal["input", "output"]
    limit: int
    deadline: int

    def result(self, status: SwapStatus, amount_in: int, amount_out: int, gas_used: int, gas_cost_wei: int,
               tx_hash: str | None, reason: str = "") -> SwapResult:
        minimum, maximum = (self.limit, 0) if self.exact == "input" else (0, self.limit)
        return SwapResult(status, amount_in, amount_out, gas_used, gas_cost_wei, tx_hash, reason, minimum, maximum, self.deadline)


@dataclass(frozen=True, slots=True)
class _NativeEnds:
    """Which ends of a swap are the native coin rather than its wrapped token."""

    coin_in: bool
    coin_out: bool


@dataclass(frozen=True, slots=True)
class _Route:
    tokens: tuple[str, ...]
    fees: tuple[int, ...]

    @property
    def token_in(self) -> str:
        return self.tokens[0]

    @property
    def token_out(self) -> str:
        return self.tokens[-1]

    @property
    def single(self) -> bool:
        return len(self.fees) == 1


class UniswapV3Trader:
    """Swaps and range orders from one wallet. Approvals are for the exact amount unless
    ``unlimited_approval``; swaps in flight at once reserve their amounts, so concurrent swaps of
    one token never approve over each other."""

    def __init__(self, evm: Evm, wallet: Wallet, addresses: TraderAddresses, router_kind: RouterKind = "swap_router",
                 wrapped_native: str | None = None, unlimited_approval: bool = False, poll_interval: float = 0.1) -> None:
        self.evm = evm
        self.wallet = wallet
        self.addresses = addresses
        self.router_kind = router_kind
        self.wrapped_native = to_checksum_address(wrapped_native) if wrapped_native else None
        self.unlimited_approval = unlimited_approval
        self.poll_interval = poll_interval
        self._known_tokens: set[str] = set()
        self._reserved: dict[tuple[str, str], int] = {}
        self._approval_locks: dict[tuple[str, str], asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"UniswapV3Trader({self.wallet.address} via {self.router_kind} {self.addresses.router})"

    @classmethod
    def from_config(cls, config: ChainConfig, unlimited_approval: bool = False) -> UniswapV3Trader:
        evm = Evm(config.rpc_url)
        addresses = config.addresses
        return cls(evm, Wallet(evm, config.wallet_key),
                   TraderAddresses(config.router, addresses["quoter_v2"], addresses["position_manager"]),
                   config.router_kind, config.chain.wrapped_native, unlimited_approval)

    # --- approvals --------------------------------------------------------------------------

    async def ensure_allowance(self, token: str, spender: str, amount: int) -> bool:
        """Approve ``spender`` for ``amount`` (or without limit) unless it already may spend that
        much; a short non-zero allowance is set to 0 first, as USDT-style tokens require.
        Returns whether anything was sent."""
        (current,) = await self.evm.call(token, ALLOWANCE, self.wallet.address, spender)
        if current >= amount:
            return False
        if current > 0:
            await self.wallet.send(token, APPROVE.encode(spender, 0))
        await self.wallet.send(token, APPROVE.encode(spender, MAX_UINT256 if self.unlimited_approval else amount))
        return True

    def _reserve(self, key: tuple[str, str], amount: int) -> None:
        self._reserved[key] = self._reserved.get(key, 0) + amount

    def _release(self, key: tuple[str, str], amount: int) -> None:
        self._reserved[key] -= amount

    @asynccontextmanager
    async def _approved(self, token: str, spender: str, amount: int) -> AsyncIterator[tuple[str, str]]:
        """Held while a spend of ``amount`` is approved and submitted: the allowance covers it and
        every spend already in flight; nonce order then runs the spends before any later approval
        (a USDT-style reset to 0 included). The reservation stays until the caller releases it."""
        key = (token, spender)
        async with self._approval_locks.setdefault(key, asyncio.Lock()):
            if amount:
                await self.ensure_allowance(token, spender, self._reserved.get(key, 0) + amount)
            self._reserve(key, amount)
            try:
                yield key
            except BaseException:
                self._release(key, amount)
                raise

    # --- quotes -----------------------------------------------------------------------------

    async def quote_exact_input(self, tokens: Sequence[str], fees: Sequence[int], amount_in: int,
                                sqrt_price_limit_x96: int = 0) -> Quote:
        """What ``amount_in`` of ``tokens[0]`` buys of ``tokens[-1]`` along the pools of ``fees``."""
        route = await self._route(tokens, fees)
        _positive("amount_in", amount_in)
        return await self._quote(route, "input", amount_in, sqrt_price_limit_x96)

    async def quote_exact_output(self, tokens: Sequence[str], fees: Sequence[int], amount_out: int,
                                 sqrt_price_limit_x96: int = 0) -> Quote:
        """What buying ``amount_out`` of ``tokens[-1]`` costs in ``tokens[0]``."""
        route = await self._route(tokens, fees)
        _positive("amount_out", amount_out)
        return await self._quote(route, "output", amount_out, sqrt_price_limit_x96)

    async def _quote(self, route: _Route, exact: Literal["input", "output"], amount: int, sqrt_price_limit_x96: int) -> Quote:
        quoter = self.addresses.quoter
        try:
            if route.single:
                function = QUOTE_EXACT_INPUT_SINGLE if exact == "input" else QUOTE_EXACT_OUTPUT_SINGLE
                params = (route.token_in, route.token_out, amount, route.fees[0], sqrt_price_limit_x96)
                other, sqrt_after, crossed, gas = await self.evm.call(quoter, function, params)
                sqrt_prices: tuple[int, ...] = (sqrt_after,)
            elif exact == "input":
                other, sqrt_list, crossed_list, gas = await self.evm.call(quoter, QUOTE_EXACT_INPUT, _path(route), amount)
                sqrt_prices, crossed = tuple(sqrt_list), sum(crossed_list)
            else:
                other, sqrt_list, crossed_list, gas = await self.evm.call(quoter, QUOTE_EXACT_OUTPUT, _path(route, reverse=True), amount)
                sqrt_prices, crossed = tuple(sqrt_list), sum(crossed_list)
        except TransactionFailed as e:
            raise InvalidOrder(f"cannot quote {'->'.join(route.tokens)} at fees {list(route.fees)}: {e}") from None
        amount_in, amount_out = (amount, other) if exact == "input" else (other, amount)
        return Quote(amount_in, amount_out, sqrt_prices, crossed, gas)

    # --- swaps ------------------------------------------------------------------------------

    async def swap_exact_input_single(self, token_in: str, token_out: str, fee: int, amount_in: int, slippage_bps: float,
                                      deadline_seconds: int, recipient: str | None = None, expected_out: int | None = None,
                                      sqrt_price_limit_x96: int = 0, use_native: bool = False,
                                      native_out: bool = False) -> SwapResult:
        """Sell exactly ``amount_in`` of ``token_in`` for at least ``expected_out`` (QuoterV2's
        quote unless given) less ``slippage_bps``."""
        return await self.swap_exact_input([token_in, token_out], [fee], amount_in, slippage_bps, deadline_seconds,
                                           recipient, expected_out, sqrt_price_limit_x96, use_native, native_out)

    async def swap_exact_input(self, tokens: Sequence[str], fees: Sequence[int], amount_in: int, slippage_bps: float,
                               deadline_seconds: int, recipient: str | None = None, expected_out: int | None = None,
                               sqrt_price_limit_x96: int = 0, use_native: bool = False, native_out: bool = False) -> SwapResult:
        """Multi-hop exact input along ``tokens`` (first sold, last bought) through the pools of
        ``fees``. With ``use_native`` and the wrapped native token sold, the native coin is sent
        and the router wraps it; with ``native_out`` and the wrapped native token bought, the
        recipient receives the native coin (at least the minimum), unwrapped by the router."""
        route, recipient = await self._validate(tokens, fees, amount_in, "amount_in", slippage_bps, deadline_seconds,
                                                recipient, sqrt_price_limit_x96)
        native = _NativeEnds(self._native_input(route, use_native), self._native_output(route, native_out))
        if expected_out is None:
            expected_out = (await self._quote(route, "input", amount_in, sqrt_price_limit_x96)).amount_out
        _positive("expected_out", expected_out)
        minimum = _scaled(expected_out, 10_000 - Fraction(slippage_bps))
        return await self._swap(route, "input", amount_in, minimum, recipient, deadline_seconds, sqrt_price_limit_x96, native)

    async def swap_exact_output_single(self, token_in: str, token_out: str, fee: int, amount_out: int, slippage_bps: float,
                                       deadline_seconds: int, recipient: str | None = None, expected_in: int | None = None,
                                       sqrt_price_limit_x96: int = 0, use_native: bool = False) -> SwapResult:
        """Buy exactly ``amount_out`` of ``token_out`` for at most ``expected_in`` (QuoterV2's
        quote unless given) plus ``slippage_bps``."""
        return await self.swap_exact_output([token_in, token_out], [fee], amount_out, slippage_bps, deadline_seconds,
                                            recipient, expected_in, sqrt_price_limit_x96, use_native)

    async def swap_exact_output(self, tokens: Sequence[str], fees: Sequence[int], amount_out: int, slippage_bps: float,
                                deadline_seconds: int, recipient: str | None = None, expected_in: int | None = None,
                                sqrt_price_limit_x96: int = 0, use_native: bool = False) -> SwapResult:
        """Multi-hop exact output along ``tokens`` (first sold, last bought); the router is given
        the path reversed, as exactOutput requires. With ``use_native`` and the wrapped native
        token sold, the maximum is sent as native coin and what the swap did not spend is
        refunded in the same transaction."""
        route, recipient = await self._validate(tokens, fees, amount_out, "amount_out", slippage_bps, deadline_seconds,
                                                recipient, sqrt_price_limit_x96)
        native = _NativeEnds(self._native_input(route, use_native), False)
        if expected_in is None:
            expected_in = (await self._quote(route, "output", amount_out, sqrt_price_limit_x96)).amount_in
        _positive("expected_in", expected_in)
        maximum = _scaled(expected_in, 10_000 + Fraction(slippage_bps))
        return await self._swap(route, "output", amount_out, maximum, recipient, deadline_seconds, sqrt_price_limit_x96, native)

    async def _swap(self, route: _Route, exact: Literal["input", "output"], amount: int, limit: int, recipient: str,
                    deadline_seconds: int, sqrt_price_limit_x96: int, native: _NativeEnds) -> SwapResult:
        most_in = amount if exact == "input" else limit
        value, spend = (most_in, 0) if native.coin_in else (0, most_in)
        async with self._approved(route.token_in, self.addresses.router, spend) as reservation:
            deadline = await self.evm.timestamp() + deadline_seconds
            bounds = _Bounds(exact, limit, deadline)
            data = self._swap_call(route, exact, amount, limit, recipient, deadline, sqrt_price_limit_x96, native)
            try:
                tx_hash = await self.wallet.submit(self.addresses.router, data, value)
            except TransactionFailed as e:  # the node's estimate says it would revert: nothing was sent
                self._release(reservation, spend)
                status: SwapStatus = "expired" if DEADLINE_REVERT in str(e) else "reverted"
                return bounds.result(status, 0, 0, 0, 0, None, str(e))
        try:
            outcome = await self._included_by_deadline(tx_hash, deadline)
        finally:
            self._release(reservation, spend)
        if outcome is None:
            self.wallet.reset_nonce()  # the chain's pending count says whether the nonce is still taken
            return bounds.result("expired", 0, 0, 0, 0, tx_hash, f"not mined by its deadline {deadline}")
        if not outcome.ok:
            return await self._failed(outcome, data, value, bounds)
        router = self.addresses.router
        amount_in = (_weth_event_total(outcome.logs, route.token_in, WETH_DEPOSIT_TOPIC, router) if native.coin_in
                     else transferred(outcome.logs, route.token_in, sender=self.wallet.address))
        amount_out = (_weth_event_total(outcome.logs, route.token_out, WETH_WITHDRAWAL_TOPIC, router) if native.coin_out
                      else transferred(outcome.logs, route.token_out, receiver=recipient))
        return bounds.result("filled", amount_in, amount_out, outcome.gas_used, outcome.fee_wei, tx_hash)

    async def _failed(self, outcome: TxOutcome, data: bytes, value: int, bounds: _Bounds) -> SwapResult:
        mined_at = await self.evm.timestamp(outcome.block)
        reason = await self._replay_reason(data, value, outcome.block)
        status: SwapStatus = "expired" if mined_at > bounds.deadline or DEADLINE_REVERT in reason else "reverted"
        return bounds.result(status, 0, 0, outcome.gas_used, outcome.fee_wei, outcome.tx_hash, f"reverted on chain: {reason}")

    def _swap_call(self, route: _Route, exact: Literal["input", "output"], amount: int, limit: int, recipient: str,
                   deadline: int, sqrt_price_limit_x96: int, native: _NativeEnds) -> bytes:
        """The router call: the swap alone, or in a multicall with the unwrap of the native coin
        bought and/or the refund of the native coin not spent (SwapRouter02: always a multicall,
        which carries the deadline)."""
        v1 = self.router_kind == "swap_router"
        swap_to = (self.addresses.router if v1 else ADDRESS_THIS) if native.coin_out else recipient
        calls = [self._swap_only(route, exact, amount, limit, swap_to, deadline, sqrt_price_limit_x96)]
        if native.coin_out:
            calls.append(UNWRAP_WETH9.encode(limit, recipient))  # the exact input's minimum, again on the coin paid out
        if native.coin_in and (exact == "output" or sqrt_price_limit_x96):  # the coin the swap may leave unspent
            calls.append(REFUND_ETH.encode())
        if not v1:
            return MULTICALL_WITH_DEADLINE.encode(deadline, calls)
        return calls[0] if len(calls) == 1 else MULTICALL.encode(calls)

    def _swap_only(self, route: _Route, exact: Literal["input", "output"], amount: int, limit: int, recipient: str,
                   deadline: int, sqrt_price_limit_x96: int) -> bytes:
        v1 = self.router_kind == "swap_router"
        if route.single:
            head = (route.token_in, route.token_out, route.fees[0], recipient)
            tail = (amount, limit, sqrt_price_limit_x96)
            if exact == "input":
                call = EXACT_INPUT_SINGLE.encode((*head, deadline, *tail)) if v1 else EXACT_INPUT_SINGLE_02.encode(head + tail)
            else:
                call = EXACT_OUTPUT_SINGLE.encode((*head, deadline, *tail)) if v1 else EXACT_OUTPUT_SINGLE_02.encode(head + tail)
        else:
            path = _path(route, reverse=exact == "output")
            if exact == "input":
                call = (
                    EXACT_INPUT.encode((path, recipient, deadline, amount, limit))
                    if v1
                    else EXACT_INPUT_02.encode((path, recipient, amount, limit))
                )
            else:
                call = (
                    EXACT_OUTPUT.encode((path, recipient, deadline, amount, limit))
                    if v1
                    else EXACT_OUTPUT_02.encode((path, recipient, amount, limit))
                )
        return call

    async def _included_by_deadline(self, tx_hash: str, deadline: int) -> TxOutcome | None:
        """The transaction's outcome once mined; None when the chain's clock passed the deadline
        with the transaction still unmined (it can no longer fill)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.wallet.receipt_timeout
        while True:
            if await self._mined(tx_hash):
                return await self.wallet.receipt(tx_hash)
            if await self.evm.timestamp() > deadline:
                return await self.wallet.receipt(tx_hash) if await self._mined(tx_hash) else None
            if loop.time() > give_up:
                raise VenueUnavailable(f"transaction {tx_hash} was not mined within {self.wallet.receipt_timeout:.0f} s and its "
                                       f"deadline has not passed: its fate is unknown", client_order_id=tx_hash)
            await asyncio.sleep(self.poll_interval)

    async def _mined(self, tx_hash: str) -> bool:
        try:
            await self.evm.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    async def _replay_reason(self, data: bytes, value: int, block: int) -> str:
        """The revert reason, by replaying the call on the state the block left (so a price moved
        earlier in the same block is seen, as the transaction saw it)."""
        tx: dict[str, Any] = {"from": self.wallet.address, "to": self.addresses.router, "data": data, "value": value}
        try:
            await self.evm.w3.eth.call(tx, block)  # type: ignore[arg-type]
        except ContractLogicError as e:
            raw = e.data
            return revert_reason(bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("0x") else b"")
        except Exception:  # the replay only names the reason; the revert itself is certain
            return "no reason given"
        return "no reason given"

    # --- validation -------------------------------------------------------------------------

    async def _validate(self, tokens: Sequence[str], fees: Sequence[int], amount: int, amount_field: str, slippage_bps: float,
                        deadline_seconds: int, recipient: str | None, sqrt_price_limit_x96: int) -> tuple[_Route, str]:
        _positive(amount_field, amount)
        if isinstance(slippage_bps, bool) or not isinstance(slippage_bps, (int, float)) or not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
            raise InvalidOrder(f"slippage_bps must be within [0, {MAX_SLIPPAGE_BPS}], got {slippage_bps!r}")
        if isinstance(deadline_seconds, bool) or not isinstance(deadline_seconds, int) or deadline_seconds <= 0:
            raise InvalidOrder(f"deadline_seconds must be a whole number of seconds > 0, got {deadline_seconds!r}")
        if recipient is not None and not is_address(recipient):
            raise InvalidOrder(f"recipient must be a 0x address, got {recipient!r}")
        route = await self._route(tokens, fees)
        if sqrt_price_limit_x96 and not route.single:
            raise InvalidOrder("sqrt_price_limit_x96 applies to single-pool swaps only")
        return route, to_checksum_address(recipient) if recipient else self.wallet.address

    async def _route(self, tokens: Sequence[str], fees: Sequence[int]) -> _Route:
        if len(tokens) < 2 or len(tokens) != len(fees) + 1:
            raise InvalidOrder(f"a route needs one more token than fees: {len(tokens)} tokens, {len(fees)} fees")
        for fee in fees:
            _fee(fee)
        checked = tuple([await self._token(f"tokens[{i}]", token) for i, token in enumerate(tokens)])
        for i in range(len(checked) - 1):
            if checked[i] == checked[i + 1]:
                raise InvalidOrder(f"tokens[{i}] and tokens[{i + 1}] are the same token {checked[i]}")
        return _Route(checked, tuple(fees))

    async def _token(self, name: str, token: str) -> str:
        if not isinstance(token, str) or not is_address(token):
            raise InvalidOrder(f"{name} must be a 0x token address, got {token!r}")
        address = to_checksum_address(token)
        if address not in self._known_tokens:
            if not await self.evm.w3.eth.get_code(address):
                raise InvalidOrder(f"{name} {address} is not a contract on this chain: unknown token")
            self._known_tokens.add(address)
        return address

    def _native_input(self, route: _Route, use_native: bool) -> bool:
        if not use_native:
            return False
        if self.wrapped_native is None or route.token_in != self.wrapped_native:
            raise InvalidOrder(f"use_native needs the wrapped native token ({self.wrapped_native}) as the token sold, got {route.token_in}")
        return True

    def _native_output(self, route: _Route, native_out: bool) -> bool:
        if not native_out:
            return False
        if self.wrapped_native is None or route.token_out != self.wrapped_native:
            raise InvalidOrder(f"native_out needs the wrapped native token ({self.wrapped_native}) as the token bought, "
                               f"got {route.token_out}")
        return True

    # --- range orders -----------------------------------------------------------------------

    async def place_range_order(self, sell_token: str, buy_token: str, fee: int, amount: int,
                                tick_lower: int | None = None, tick_upper: int | None = None,
                                deadline_seconds: int = 300) -> RangeOrder:
        """Deposit ``amount`` of ``sell_token`` alone in one tick range entirely on its side of
        the price (above it to sell token0, below it to sell token1): when the price crosses the
        range the deposit has turned into ``buy_token``. Without ticks, the nearest range one tick
        spacing wide is used."""
        _positive("amount", amount)
        if isinstance(deadline_seconds, bool) or not isinstance(deadline_seconds, int) or deadline_seconds <= 0:
            raise InvalidOrder(f"deadline_seconds must be a whole number of seconds > 0, got {deadline_seconds!r}")
        route = await self._route([sell_token, buy_token], [fee])
        pool = await self._pool(route)
        token0, token1 = sorted(route.tokens, key=lambda t: int(t, 16))
        sells_token0 = route.token_in == token0
        (_, current, *_) = await self.evm.call(pool, SLOT0)
        lower, upper = _range_ticks(current, FEE_TICK_SPACING[fee], sells_token0, tick_lower, tick_upper)
        amount0, amount1 = (amount, 0) if sells_token0 else (0, amount)
        async with self._approved(route.token_in, self.addresses.position_manager, amount) as reservation:
            deadline = await self.evm.timestamp() + deadline_seconds
            minimum = amount * 9_990 // 10_000  # the manager takes a rounding unit or so less
            params = (token0, token1, fee, lower, upper, amount0, amount1,
                      minimum if sells_token0 else 0, 0 if sells_token0 else minimum, self.wallet.address, deadline)
            outcome = await self.wallet.send(self.addresses.position_manager, MINT.encode(params))
        self._release(reservation, amount)
        token_id, liquidity, used0, used1 = _minted(outcome.logs, self.addresses.position_manager)
        return RangeOrder(self, pool, route.token_in, route.token_out, fee, lower, upper, sells_token0, token_id, liquidity,
                          used0 if sells_token0 else used1)

    async def _pool(self, route: _Route) -> str:
        (factory,) = await self.evm.call(self.addresses.position_manager, NPM_FACTORY)
        (pool,) = await self.evm.call(to_checksum_address(factory), GET_POOL, route.token_in, route.token_out, route.fees[0])
        if int(pool, 16) == 0:
            raise InvalidOrder(f"no pool for {route.token_in}/{route.token_out} at fee {route.fees[0]}")
        return to_checksum_address(pool)


class RangeOrder:
    """A single-sided position in one tick range, waiting for the price to cross it."""

    def __init__(self, trader: UniswapV3Trader, pool: str, sell_token: str, buy_token: str, fee: int, tick_lower: int,
                 tick_upper: int, sells_token0: bool, token_id: int, liquidity: int, amount: int) -> None:
        self.trader = trader
        self.pool = pool
        self.sell_token = sell_token
        self.buy_token = buy_token
        self.fee = fee
        self.tick_lower = tick_lower
        self.tick_upper = tick_upper
        self.sells_token0 = sells_token0
        self.token_id = token_id
        self.liquidity = liquidity
        self.amount = amount

    def __repr__(self) -> str:
        return (f"RangeOrder(#{self.token_id} sell {self.amount} {self.sell_token} for {self.buy_token} "
                f"in ticks [{self.tick_lower}, {self.tick_upper}) of {self.pool})")

    async def status(self) -> RangeStatus:
        """open: the price has not reached the range; partial: it is inside it; crossed: it went
        through, so the position is all ``buy_token``."""
        (_, tick, *_) = await self.trader.evm.call(self.pool, SLOT0)
        return RangeStatus(_range_state(tick, self.tick_lower, self.tick_upper, self.sells_token0), tick, self.tick_lower, self.tick_upper)

    async def withdraw(self, slippage_bps: float = 50, deadline_seconds: int = 300, burn: bool = True) -> Withdrawal:
        """Remove all the liquidity and collect everything owed (and burn the position NFT), in
        one transaction. The amounts removed may be at most ``slippage_bps`` below what the same
        call returns on the current state."""
        if not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
            raise InvalidOrder(f"slippage_bps must be within [0, {MAX_SLIPPAGE_BPS}], got {slippage_bps!r}")
        trader = self.trader
        manager, owner = trader.addresses.position_manager, trader.wallet.address
        deadline = await trader.evm.timestamp() + deadline_seconds
        position = await trader.evm.call(manager, POSITIONS, self.token_id)
        liquidity = position[7]
        calls = []
        if liquidity:
            decrease = DECREASE_LIQUIDITY.encode((self.token_id, liquidity, 0, 0, deadline))
            now0, now1 = DECREASE_LIQUIDITY.decode(await trader.evm.call_raw(manager, decrease, sender=owner))
            keep = 10_000 - slippage_bps
            least0, least1 = int(now0 * keep // 10_000), int(now1 * keep // 10_000)
            calls.append(DECREASE_LIQUIDITY.encode((self.token_id, liquidity, least0, least1, deadline)))
        calls.append(COLLECT.encode((self.token_id, owner, MAX_UINT128, MAX_UINT128)))
        if burn:
            calls.append(BURN.encode(self.token_id))
        outcome = await trader.wallet.send(manager, MULTICALL.encode(calls))
        amount0, amount1 = _collected(outcome.logs, manager, self.token_id)
        sold, bought = (amount0, amount1) if self.sells_token0 else (amount1, amount0)
        return Withdrawal(sold, bought, outcome.tx_hash, outcome.fee_wei)

    async def withdraw_when_crossed(self, poll_interval: float = 1.0, timeout: float = 60.0) -> Withdrawal | None:
        """Poll the pool until the range is crossed, then withdraw; None if ``timeout`` seconds
        pass first."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + timeout
        while (await self.status()).state != "crossed":
            if loop.time() + poll_interval > give_up:
                return None
            await asyncio.sleep(poll_interval)
        return await self.withdraw()


# --- helpers ----------------------------------------------------------------------------------


def _positive(name: str, amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidOrder(f"{name} must be a whole number of token units > 0, got {amount!r}")


def _scaled(amount: int, basis_points: Fraction) -> int:
    """``amount * basis_points / 10_000`` rounded down, exactly."""
    return int(amount * basis_points // 10_000)


def _fee(fee: int) -> None:
    if fee not in FEE_TICK_SPACING:
        raise InvalidOrder(f"fee must be one of the fee tiers {sorted(FEE_TICK_SPACING)}, got {fee!r}")


def _path(route: _Route, reverse: bool = False) -> bytes:
    if reverse:
        return encode_path(route.tokens[::-1], route.fees[::-1])
    return encode_path(route.tokens, route.fees)


def _range_ticks(current: int, spacing: int, sells_token0: bool, lower: int | None, upper: int | None) -> tuple[int, int]:
    """The order's range: the given ticks checked, else the nearest one-spacing range on the
    seller's side of the current tick."""
    if lower is None and upper is None:
        below = current // spacing * spacing
        lower = below + spacing if sells_token0 else below - spacing
        upper = lower + spacing
    if lower is None or upper is None:
        raise InvalidOrder("give both tick_lower and tick_upper, or neither")
    for name, tick in (("tick_lower", lower), ("tick_upper", upper)):
        if not MIN_TICK <= tick <= MAX_TICK or tick % spacing:
            raise InvalidOrder(f"{name} {tick} must be a multiple of the fee tier's tick spacing {spacing} within [{MIN_TICK}, {MAX_TICK}]")
    if lower >= upper:
        raise InvalidOrder(f"tick_lower {lower} must be below tick_upper {upper}")
    if sells_token0 and not current < lower:
        raise InvalidOrder(f"selling token0 needs a range above the price: ticks [{lower}, {upper}) vs current tick {current}")
    if not sells_token0 and not current >= upper:
        raise InvalidOrder(f"selling token1 needs a range below the price: ticks [{lower}, {upper}) vs current tick {current}")
    return lower, upper


def _range_state(tick: int, lower: int, upper: int, sells_token0: bool) -> RangeState:
    if lower <= tick < upper:
        return "partial"
    crossed = tick >= upper if sells_token0 else tick < lower
    return "crossed" if crossed else "open"


def _event_words(logs: Sequence[dict[str, Any]], emitter: str, topic: bytes) -> list[tuple[int, list[int]]]:
    """(first indexed word, data words) of each log of ``emitter`` with ``topic``."""
    found = []
    for log in logs:
        topics = log["topics"]
        if to_checksum_address(log["address"]) == emitter and bytes(topics[0]) == topic:
            data = bytes(log["data"])
            words = [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]
            found.append((int.from_bytes(bytes(topics[1]), "big"), words))
    return found


def _weth_event_total(logs: Sequence[dict[str, Any]], weth: str, topic: bytes, router: str) -> int:
    """What the router wrapped (Deposit) or unwrapped (Withdrawal) in a transaction, from the
    wrapped native token's own events."""
    return sum(words[0] for who, words in _event_words(logs, weth, topic) if who == int(router, 16))


def _minted(logs: Sequence[dict[str, Any]], manager: str) -> tuple[int, int, int, int]:
    """(token id, liquidity, amount0, amount1) of the IncreaseLiquidity a mint logged."""
    for token_id, (liquidity, amount0, amount1) in _event_words(logs, manager, INCREASE_LIQUIDITY_TOPIC):
        return token_id, liquidity, amount0, amount1
    raise TransactionFailed("the position manager minted no position")


def _collected(logs: Sequence[dict[str, Any]], manager: str, token_id: int) -> tuple[int, int]:
    for logged_id, (_, amount0, amount1) in _event_words(logs, manager, COLLECT_TOPIC):
        if logged_id == token_id:
            return amount0, amount1
    return 0, 0
