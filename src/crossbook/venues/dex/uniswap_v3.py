"""Uniswap V3 pools over web3: pool state read at one block, kept fresh by a watcher that follows
the pool's Swap/Mint/Burn logs, the pool oracle as a time-weighted price, and pool addresses.

The exact math lives in ``v3math``; this module only reads the chain (raw calls by signature
through ``evm``, no ABI files).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from ...errors import CrossbookError, InvalidOrder, VenueUnavailable
from .evm import DECIMALS, Evm, fn
from .v3math import MAX_TICK, MIN_TICK, PoolState, sqrt_ratio_at_tick

log = logging.getLogger(__name__)

POOL_INIT_CODE_HASH = bytes.fromhex("e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54")
# about a factor of 2 in price either side of the current tick
DEFAULT_TICK_RANGE = 6932

SLOT0 = fn("slot0()", "uint160,int24,uint16,uint16,uint16,uint8,bool")
LIQUIDITY = fn("liquidity()", "uint128")
FEE = fn("fee()", "uint24")
TICK_SPACING = fn("tickSpacing()", "int24")
TOKEN0 = fn("token0()", "address")
TOKEN1 = fn("token1()", "address")
TICK_BITMAP = fn("tickBitmap(int16)", "uint256")
TICKS = fn("ticks(int24)", "uint128,int128,uint256,uint256,int56,uint160,uint32,bool")
POPULATED_TICKS = fn("getPopulatedTicksInWord(address,int16)", "(int24,int128,uint128)[]")
OBSERVE = fn("observe(uint32[])", "int56[],uint160[]")

SWAP_TOPIC = keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)")
MINT_TOPIC = keccak(text="Mint(address,address,int24,int24,uint128,uint256,uint256)")
BURN_TOPIC = keccak(text="Burn(address,int24,int24,uint128,uint256,uint256)")
MAX_LOG_BLOCKS = 2000


def pool_address(factory: str, token_a: str, token_b: str, fee: int) -> str:
    """The pool's CREATE2 address, as the periphery's PoolAddress.computeAddress derives it."""
    token0, token1 = sorted((token_a, token_b), key=lambda a: int(a, 16))
    salt = keccak(abi_encode(["address", "address", "uint24"], [to_checksum_address(token0), to_checksum_address(token1), fee]))
    raw = keccak(b"\xff" + bytes.fromhex(factory.removeprefix("0x")) + salt + POOL_INIT_CODE_HASH)
    return to_checksum_address(raw[12:])


def word_range(tick: int, tick_spacing: int, tick_range: int | None) -> tuple[int, int]:
    """Tick bitmap words covering ``tick +- tick_range`` (None: every usable tick)."""
    first, last = (MIN_TICK // tick_spacing) >> 8, (MAX_TICK // tick_spacing) >> 8
    if tick_range is None:
        return first, last
    if tick_range <= 0:
        raise InvalidOrder(f"tick_range must be positive, got {tick_range}")
    return max(first, ((tick - tick_range) // tick_spacing) >> 8), min(last, ((tick + tick_range) // tick_spacing) >> 8)


async def read_pool_state(evm: Evm, pool: str, block: int | None = None, tick_range: int | None = DEFAULT_TICK_RANGE,
                          tick_lens: str | None = None, like: PoolState | None = None, concurrency: int = 32) -> PoolState:
    """The pool at one block (default: the latest): slot0, liquidity, and every initialized tick
    in the bitmap words over ``tick_range`` ticks either side of the price (None: the whole tick
    range). With ``tick_lens`` one TickLens call per word gives its ticks and their liquidityNet;
    without it, tickBitmap per word then ticks() per initialized tick. ``like``: a state of the
    same pool read before, whose fee, spacing and tokens are reused instead of read again."""
    pool = to_checksum_address(pool)
    at = await evm.block_number() if block is None else block
    limit = asyncio.Semaphore(concurrency)

    async def call(to: str, function: Any, *args: Any) -> tuple[Any, ...]:
        async with limit:
            return await evm.call(to, function, *args, block=at)

    slot0, (liquidity,), static = await asyncio.gather(call(pool, SLOT0), call(pool, LIQUIDITY), _static(call, pool, like))
    sqrt_price, tick = int(slot0[0]), int(slot0[1])
    fee, spacing, token0, token1, decimals0, decimals1 = static
    first, last = word_range(tick, spacing, tick_range)
    words = range(first, last + 1)
    if tick_lens is not None:
        tick_lens = to_checksum_address(tick_lens)
        per_word = await asyncio.gather(*(call(tick_lens, POPULATED_TICKS, pool, w) for w in words))
        ticks = {int(t): int(net) for (populated,) in per_word for t, net, _ in populated}
        bitmap: dict[int, int] = {}
        for t in ticks:
            compressed = t // spacing
            bitmap[compressed >> 8] = bitmap.get(compressed >> 8, 0) | 1 << (compressed & 0xFF)
    else:
        bits = await asyncio.gather(*(call(pool, TICK_BITMAP, w) for w in words))
        bitmap = {w: int(b) for w, (b,) in zip(words, bits, strict=True) if b}
        initialized = [((w << 8) + i) * spacing for w, b in bitmap.items() for i in range(256) if b >> i & 1]
        rows = await asyncio.gather(*(call(pool, TICKS, t) for t in initialized))
        ticks = {t: int(row[1]) for t, row in zip(initialized, rows, strict=True)}
    return PoolState(sqrt_price, tick, int(liquidity), fee, spacing, ticks, bitmap, (first, last),
                     to_checksum_address(pool), token0, token1, decimals0, decimals1, at)


async def _static(call: Callable[..., Awaitable[tuple[Any, ...]]], pool: str,
                  like: PoolState | None) -> tuple[int, int, str, str, int, int]:
    if like is not None:
        return like.fee, like.tick_spacing, like.token0, like.token1, like.decimals0, like.decimals1
    (fee,), (spacing,), (token0,), (token1,) = await asyncio.gather(call(pool, FEE), call(pool, TICK_SPACING),
                                                                    call(pool, TOKEN0), call(pool, TOKEN1))
    token0, token1 = to_checksum_address(token0), to_checksum_address(token1)
    (decimals0,), (decimals1,) = await asyncio.gather(call(token0, DECIMALS), call(token1, DECIMALS))
    return int(fee), int(spacing), token0, token1, int(decimals0), int(decimals1)


# --- oracle -----------------------------------------------------------------------------------


async def twap_tick(evm: Evm, pool: str, seconds_ago: int, block: int | str = "latest") -> int:
    """The arithmetic mean tick over the last ``seconds_ago`` seconds from the pool's oracle,
    rounded toward negative infinity as OracleLibrary.consult does."""
    if seconds_ago <= 0:
        raise InvalidOrder(f"seconds_ago must be positive, got {seconds_ago}")
    cumulatives, _ = await evm.call(pool, OBSERVE, [seconds_ago, 0], block=block)
    return (int(cumulatives[1]) - int(cumulatives[0])) // seconds_ago


async def twap_price(evm: Evm, pool: str, seconds_ago: int, decimals0: int, decimals1: int,
                     base_is_token0: bool = True, block: int | str = "latest") -> float:
    """The time-weighted price in human units, quote per base (token1 per token0 when
    ``base_is_token0``), from the mean tick."""
    tick = await twap_tick(evm, pool, seconds_ago, block)
    raw = (sqrt_ratio_at_tick(tick) / (1 << 96)) ** 2
    price = raw * 10.0 ** (decimals0 - decimals1)
    return price if base_is_token0 else 1.0 / price


# --- keeping a pool fresh ---------------------------------------------------------------------


class PoolWatcher:
    """One pool's state, kept fresh: every ``interval`` seconds it reads the block number; when the
    chain moved, it reads the pool's logs since the last block. Mint or Burn -> the state is read
    again at the new head; only Swaps -> the last Swap's price, tick and liquidity are applied (a
    swap changes nothing else the math reads); nothing -> only the state's block advances.
    A swap that moved the price more than half the tick range read also triggers a read, so the
    words read stay centred. Callbacks in ``on_change`` get each new state (not block-only moves).
    """

    def __init__(self, evm: Evm, pool: str, interval: float = 1.0, tick_range: int | None = DEFAULT_TICK_RANGE,
                 tick_lens: str | None = None) -> None:
        if interval <= 0:
            raise InvalidOrder(f"interval must be positive, got {interval}")
        self.evm = evm
        self.pool = to_checksum_address(pool)
        self.interval = interval
        self.tick_range = tick_range
        self.tick_lens = tick_lens
        self.on_change: list[Callable[[PoolState], None]] = []
        self.reads = 0
        self.last_error: str | None = None
        self._state: PoolState | None = None
        self._read_tick = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> PoolState:
        if self._state is None:
            raise CrossbookError(f"pool {self.pool} has not been read yet: call start() or refresh()")
        return self._state

    async def start(self) -> PoolState:
        """Read the pool and poll in the background until stop()."""
        await self.refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"pool-watcher-{self.pool}")
        return self.state

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def refresh(self) -> bool:
        """One poll; True when the state changed (a read or a Swap applied)."""
        if self._state is None:
            await self._read(None)
            return True
        head = await self.evm.block_number()
        if head <= self._state.block:
            return False
        if head - self._state.block > MAX_LOG_BLOCKS:
            await self._read(head)
            return True
        logs = await self.evm.w3.eth.get_logs({
            "address": self.pool, "fromBlock": self._state.block + 1, "toBlock": head,
            "topics": [["0x" + t.hex() for t in (SWAP_TOPIC, MINT_TOPIC, BURN_TOPIC)]],
        })  # type: ignore[typeddict-item]
        return await self._apply(list(logs), head)

    async def _apply(self, logs: list[Any], head: int) -> bool:
        state = self.state
        if not logs:
            self._state = dataclasses.replace(state, block=head)
            return False
        topics = {bytes(entry["topics"][0]) for entry in logs}
        if topics != {SWAP_TOPIC}:
            await self._read(head)
            return True
        last = max(logs, key=lambda entry: (int(entry["blockNumber"]), int(entry["logIndex"])))
        _, _, sqrt_price, liquidity, tick = abi_decode(["int256", "int256", "uint160", "uint128", "int24"], bytes(last["data"]))
        if self.tick_range is not None and abs(tick - self._read_tick) > self.tick_range // 2:
            await self._read(head)
            return True
        self._publish(dataclasses.replace(state, sqrt_price_x96=int(sqrt_price), tick=int(tick), liquidity=int(liquidity), block=head))
        return True

    async def _read(self, block: int | None) -> None:
        state = await read_pool_state(self.evm, self.pool, block, self.tick_range, self.tick_lens, like=self._state)
        self.reads += 1
        self._read_tick = state.tick
        self._publish(state)

    def _publish(self, state: PoolState) -> None:
        self._state = state
        for callback in self.on_change:
            callback(state)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
            if self._stop.is_set():
                return
            try:
                await asyncio.wait_for(self.refresh(), max(10.0, self.interval * 5))
                self.last_error = None
            except (TimeoutError, VenueUnavailable, OSError) as e:
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("pool %s: refresh failed: %s", self.pool, self.last_error)

