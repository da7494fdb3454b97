"""What gas costs on a chain, from the chain's own fee history.

EIP-1559 (https://eips.ethereum.org/EIPS/eip-1559) prices a unit of gas as the block's base fee plus
the sender's priority fee. ``eth_feeHistory`` (https://ethereum.org/en/developers/docs/apis/json-rpc/,
execution-apis ``eth_feeHistory``) returns, for the last N blocks, each block's base fee and the
given percentiles of the priority fees paid in it, plus the base fee of the block after the newest
one: that next base fee plus the median of the recent blocks' median priority fees is what a
transaction sent now is expected to pay per unit of gas."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from web3.exceptions import MethodUnavailable, Web3RPCError

from ...errors import VenueUnavailable
from .evm import Evm

FEE_HISTORY_BLOCKS = 10
PRIORITY_PERCENTILE = 50.0
WEI_PER_NATIVE = 10**18

GasSource = Literal["fee_history", "gas_price"]


@dataclass(frozen=True, slots=True)
class GasPrice:
    """One unit of gas's expected price in wei: ``base_fee`` of the next block + ``priority_fee``
    (``source`` says whether it came from eth_feeHistory or, failing that, eth_gasPrice, which is
    the whole price with no split: then ``base_fee`` is 0)."""

    base_fee: int
    priority_fee: int
    source: GasSource

    @property
    def wei_per_gas(self) -> int:
        return self.base_fee + self.priority_fee


def next_base_fee(history: Any) -> int:
    """The last ``baseFeePerGas`` of an eth_feeHistory result: the block after the newest one."""
    return int(history["baseFeePerGas"][-1])


def median_priority_fee(history: Any) -> int:
    """The median, over the blocks of an eth_feeHistory result asked for one reward percentile,
    of each block's priority fee at that percentile (0 when no block has a reward)."""
    rewards: Sequence[Sequence[int]] = history.get("reward") or []
    fees = [int(block[0]) for block in rewards if block]
    return int(statistics.median(fees)) if fees else 0


def has_fees(history: Any) -> bool:
    """Whether an eth_feeHistory result says anything: a node before London answers with every base
    fee and reward 0 (anvil --hardfork berlin does). A zero base fee alone is real (BNB Chain)."""
    rewards = history.get("reward") or []
    return any(int(fee) for fee in history.get("baseFeePerGas") or []) or any(int(r) for block in rewards for r in block)


class FeeHistoryGas:
    """Gas prices on one chain (``evm``), in wei and in the chain's native coin, converted to the
    quote currency with ``native_price`` (the native coin's price in the quote currency).

    The price comes from eth_feeHistory over the last ``blocks`` blocks: the next block's base fee
    plus the median priority fee (the ``percentile`` reward of each block, then the median of
    those). Only a node without fee history (a chain before London/EIP-1559, whose history is all
    zeros, or a node that does not serve eth_feeHistory) falls back to eth_gasPrice, the node's
    single suggested price."""

    def __init__(self, evm: Evm, native_price: Callable[[], Awaitable[float]], *,
                 blocks: int = FEE_HISTORY_BLOCKS, percentile: float = PRIORITY_PERCENTILE) -> None:
        self.evm = evm
        self.native_price = native_price
        self.blocks = blocks
        self.percentile = percentile

    async def price(self) -> GasPrice:
        history = await self._fee_history()
        if history is None:
            return GasPrice(0, await self._gas_price(), "gas_price")
        return GasPrice(next_base_fee(history), median_priority_fee(history), "fee_history")

    async def wei_per_gas(self) -> int:
        return (await self.price()).wei_per_gas

    async def native(self, units: int) -> float:
        """``units`` of gas in the chain's native coin (ETH, BNB, POL, AVAX)."""
        return units * await self.wei_per_gas() / WEI_PER_NATIVE

    async def cost(self, units: int) -> float:
        """``units`` of gas in the quote currency."""
        return await self.native(units) * await self.native_price()

    async def _fee_history(self) -> Any | None:
        """The fee history, or None when the node has none to give."""
        try:
            history = await self.evm.w3.eth.fee_history(self.blocks, "latest", [self.percentile])
        except (MethodUnavailable, Web3RPCError):
            return None
        except (TimeoutError, OSError) as e:
            raise VenueUnavailable(f"chain RPC {self.evm.rpc_url} unreachable: {type(e).__name__}") from None
        return history if has_fees(history) else None

    async def _gas_price(self) -> int:
        try:
            return int(await self.evm.w3.eth.gas_price)
        except (TimeoutError, OSError) as e:
            raise VenueUnavailable(f"chain RPC {self.evm.rpc_url} unreachable: {type(e).__name__}") from None
