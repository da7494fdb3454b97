"""EVM access shared by the DEX venues: calls by Solidity signature, and a wallet that sends
transactions with its own nonce, EIP-1559 fees, deadlines and checked receipts.

Calls are encoded with eth_abi from the function's signature (``"slot0()"``,
``"exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"``), so
no contract ABI file is needed at run time and nothing compiled is shipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, TimeExhausted

from ...errors import CrossbookError, InvalidOrder, VenueUnavailable

ERROR_SELECTOR = keccak(text="Error(string)")[:4]


class TransactionFailed(CrossbookError):
    """A transaction was mined and reverted, or was never mined before its deadline: nothing it
    asked for happened. ``outcome`` carries the receipt's facts when there is one."""

    def __init__(self, message: str, outcome: TxOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


def split_types(arguments: str) -> list[str]:
    """``"address,(uint256,bytes),uint24"`` -> ``["address", "(uint256,bytes)", "uint24"]``."""
    types: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(arguments):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            types.append(arguments[start:i])
            start = i + 1
    if arguments[start:]:
        types.append(arguments[start:])
    return types


@dataclass(frozen=True, slots=True)
class Function:
    """One contract function by its canonical signature, and what it returns."""

    signature: str
    returns: tuple[str, ...] = ()
    selector: bytes = field(init=False)
    arguments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "selector", keccak(text=self.signature)[:4])
        inner = self.signature[self.signature.index("(") + 1 : -1]
        object.__setattr__(self, "arguments", tuple(split_types(inner)))

    def encode(self, *args: Any) -> bytes:
        if len(args) != len(self.arguments):
            raise InvalidOrder(f"{self.signature} takes {len(self.arguments)} arguments, got {len(args)}")
        return self.selector + abi_encode(list(self.arguments), list(args))

    def decode(self, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(list(self.returns), data))


def fn(signature: str, returns: str = "") -> Function:
    """``fn("balanceOf(address)", "uint256")``: a function and its return types."""
    return Function(signature, tuple(split_types(returns)))


# ERC-20, the functions every DEX module calls
BALANCE_OF = fn("balanceOf(address)", "uint256")
ALLOWANCE = fn("allowance(address,address)", "uint256")
APPROVE = fn("approve(address,uint256)", "bool")
DECIMALS = fn("decimals()", "uint8")
MAX_UINT = (1 << 256) - 1
TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


def transferred(logs: Sequence[Mapping[str, Any]], token: str, sender: str | None = None, receiver: str | None = None) -> int:
    """The sum of ``token``'s ERC-20 Transfer logs from ``sender`` and/or to ``receiver``: what a
    transaction really moved, whatever the contract said it would."""
    total = 0
    for log in logs:
        topics = [bytes(t) for t in log["topics"]]
        if str(log["address"]).lower() != token.lower() or len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
            continue
        if sender is not None and "0x" + topics[1][12:].hex() != sender.lower():
            continue
        if receiver is not None and "0x" + topics[2][12:].hex() != receiver.lower():
            continue
        total += int.from_bytes(bytes(log["data"]), "big")
    return total


def revert_reason(data: bytes) -> str:
    """The revert string of ``Error(string)`` return data, else its hex."""
    if data[:4] == ERROR_SELECTOR:
        return str(abi_decode(["string"], data[4:])[0])
    return "0x" + data.hex() if data else "no reason given"


class Evm:
    """One chain's JSON-RPC endpoint: reads by function signature."""

    def __init__(self, rpc_url: str, timeout: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self.w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))

    async def call(self, to: str, function: Function, *args: Any, block: int | str = "latest") -> tuple[Any, ...]:
        data = await self.call_raw(to, function.encode(*args), block=block)
        return function.decode(data)

    async def call_raw(self, to: str, data: bytes, block: int | str = "latest", sender: str | None = None) -> bytes:
        tx: dict[str, Any] = {"to": to, "data": data}
        if sender is not None:
            tx["from"] = sender
        try:
            return bytes(await self.w3.eth.call(tx, block))  # type: ignore[arg-type]
        except ContractLogicError as e:
            raise TransactionFailed(f"call to {to} reverted: {revert_reason(_revert_data(e))}") from None
        except (TimeoutError, OSError) as e:
            raise VenueUnavailable(f"chain RPC {self.rpc_url} unreachable: {type(e).__name__}") from None

    async def chain_id(self) -> int:
        return int(await self.w3.eth.chain_id)

    async def block_number(self) -> int:
        return int(await self.w3.eth.block_number)

    async def timestamp(self, block: int | str = "latest") -> int:
        return int((await self.w3.eth.get_block(block))["timestamp"])  # type: ignore[arg-type]

    async def close(self) -> None:
        await self.w3.provider.disconnect()  # type: ignore[attr-defined]


def _revert_data(error: ContractLogicError) -> bytes:
    data = error.data
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return data if isinstance(data, bytes) else b""


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """What a mined transaction did. ``ok`` is False for a revert."""

    tx_hash: str
    ok: bool
    block: int
    gas_used: int
    effective_gas_price: int
    logs: tuple[dict[str, Any], ...]

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.effective_gas_price


@dataclass(frozen=True, slots=True)
class SignedTx:
    tx_hash: str
    raw: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int


@dataclass(frozen=True, slots=True)
class GasPolicy:
    """EIP-1559 fees: ``max_fee = base_fee * base_fee_multiplier + tip``; ``gas_limit_margin``
    scales the estimate; ``max_fee_gwei`` refuses to send above a ceiling."""

    tip_gwei: float = 0.01
    base_fee_multiplier: float = 2.0
    gas_limit_margin: float = 1.2
    max_fee_gwei: float = 500.0


class Wallet:
    """A key on one chain. Nonces are counted locally (seeded from the chain's pending count) so
    concurrent sends never reuse one; a send that fails before reaching the chain gives its nonce
    back by re-reading the chain."""

    def __init__(self, evm: Evm, private_key: str, gas: GasPolicy = GasPolicy(), receipt_timeout: float = 60.0) -> None:
        self.evm = evm
        self._account: LocalAccount = Account.from_key(private_key)
        self.address: str = self._account.address
        self.gas = gas
        self.receipt_timeout = receipt_timeout
        self._nonce: int | None = None
        self._nonce_lock = asyncio.Lock()
        self._chain_id: int | None = None
        # held by a swap from its last look at the chain (quote, pre-flight call) to its broadcast,
        # so swaps of one wallet on shared pools each see the price the one before left
        self.turn = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Wallet({self.address})"

    async def fees(self) -> tuple[int, int]:
        """(max_fee_per_gas, max_priority_fee_per_gas) in wei."""
        block = await self.evm.w3.eth.get_block("latest")
        base = int(block.get("baseFeePerGas", 0))
        tip = int(self.gas.tip_gwei * 1e9)
        max_fee = int(base * self.gas.base_fee_multiplier) + tip
        if max_fee > self.gas.max_fee_gwei * 1e9:
            raise InvalidOrder(f"gas price {max_fee / 1e9:.2f} gwei is above the wallet's ceiling {self.gas.max_fee_gwei} gwei")
        return max_fee, tip

    async def gas_price(self) -> int:
        """What one unit of gas is expected to cost now, in wei (base fee plus tip)."""
        block = await self.evm.w3.eth.get_block("latest")
        return int(block.get("baseFeePerGas", 0)) + int(self.gas.tip_gwei * 1e9)

    async def send(self, to: str | None, data: bytes, value: int = 0, gas: int | None = None, wait: bool = True) -> TxOutcome:
        """Sign and send; with ``wait`` return the receipt's outcome, raising TransactionFailed on
        a revert (with the reason when the call can be replayed) or when it is not mined in time."""
        tx_hash = await self.submit(to, data, value, gas)
        if not wait:
            return TxOutcome(tx_hash, True, -1, 0, 0, ())
        outcome = await self.receipt(tx_hash)
        if not outcome.ok:
            reason = await self._replay_reason(to, data, value, outcome.block)
            raise TransactionFailed(f"transaction {tx_hash} reverted: {reason}", outcome)
        return outcome

    async def submit(self, to: str | None, data: bytes, value: int = 0, gas: int | None = None) -> str:
        return await self.broadcast(await self.sign(to, data, value, gas))

    async def sign(self, to: str | None, data: bytes, value: int = 0, gas: int | None = None) -> SignedTx:
        """A signed transaction with the next nonce, not yet sent: its hash is known before it
        leaves, so a journal can record it first and find it after a crash."""
        tx: dict[str, Any] = {"from": self.address, "data": data, "value": value}
        if to is not None:
            tx["to"] = to_checksum_address(to)
        if gas is None:
            gas = await self._estimate(tx)
        max_fee, tip = await self.fees()
        if self._chain_id is None:
            self._chain_id = await self.evm.chain_id()
        async with self._nonce_lock:
            nonce = await self._next_nonce()
            tx.update(gas=gas, maxFeePerGas=max_fee, maxPriorityFeePerGas=tip, nonce=nonce, chainId=self._chain_id, type=2)
            signed = self._account.sign_transaction(tx)
            self._nonce = nonce + 1
        return SignedTx("0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction), nonce, gas, max_fee)

    async def broadcast(self, signed: SignedTx) -> str:
        try:
            await self.evm.w3.eth.send_raw_transaction(signed.raw)
        except Exception:
            self._nonce = None  # the chain's pending count says which nonce is next
            raise
        return signed.tx_hash

    async def receipt(self, tx_hash: str) -> TxOutcome:
        try:
            receipt = await self.evm.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout, poll_latency=0.05)  # type: ignore[arg-type]
        except TimeExhausted:
            raise TransactionFailed(f"transaction {tx_hash} was not mined within {self.receipt_timeout:.0f} s") from None
        return TxOutcome(
            tx_hash=tx_hash,
            ok=receipt["status"] == 1,
            block=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
            logs=tuple(dict(log) for log in receipt["logs"]),
        )

    def reset_nonce(self) -> None:
        """Read the next nonce from the chain again (after the chain was reverted or another
        client sent from this key)."""
        self._nonce = None

    async def balance(self) -> int:
        return int(await self.evm.w3.eth.get_balance(self.address))  # type: ignore[arg-type]

    async def _estimate(self, tx: dict[str, Any]) -> int:
        try:
            estimate = await self.evm.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        except ContractLogicError as e:
            raise TransactionFailed(f"transaction to {tx.get('to')} would revert: {revert_reason(_revert_data(e))}") from None
        return int(estimate * self.gas.gas_limit_margin)

    async def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(await self.evm.w3.eth.get_transaction_count(self.address, "pending"))  # type: ignore[arg-type]
        return self._nonce

    async def _replay_reason(self, to: str | None, data: bytes, value: int, block: int) -> str:
        if to is None:
            return "contract creation failed"
        try:
            # on the state the block left: what made it revert (a price moved earlier in the same
            # block) is still there, and a reverted call changed nothing else
            await self.evm.w3.eth.call({"from": self.address, "to": to, "data": data, "value": value}, block)  # type: ignore[arg-type, typeddict-item]
        except ContractLogicError as e:
            return revert_reason(_revert_data(e))
        except Exception:  # the replay is only for the message; the revert itself is certain
            return "no reason given"
        return "no reason given"


def encode_path(tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """Uniswap V3's packed multi-hop path: token (20 bytes), fee (3 bytes), token, ..."""
    if len(tokens) != len(fees) + 1 or not fees:
        raise InvalidOrder(f"a path needs one more token than fees: {len(tokens)} tokens, {len(fees)} fees")
    out = bytearray(bytes.fromhex(tokens[0][2:]))
    for fee, token in zip(fees, tokens[1:], strict=True):
        out += fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return bytes(out)
