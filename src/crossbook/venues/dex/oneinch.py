"""1inch: the Aggregation API v6 (quote, swap, approvals, liquidity sources) and the Limit Order
Protocol v4 (orders built, signed as EIP-712 typed data, submitted to the orderbook API v4,
followed on chain, cancelled, and filled as a taker).

The order layout, the MakerTraits / TakerTraits bits and the contract functions follow the
protocol's own sources (npm @1inch/limit-order-protocol-contract: OrderLib.sol, OrderMixin.sol,
libraries/MakerTraitsLib.sol, TakerTraitsLib.sol). The EIP-712 domain is always read from the
deployed contract (ERC-5267 ``eip712Domain()``), never assumed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Self

import aiohttp
import orjson
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_keys.datatypes import Signature
from eth_utils import keccak, to_checksum_address

from ...errors import CrossbookError, InvalidOrder, RateLimited, VenueRefused, VenueUnavailable
from ..spec.limiter import Limiter
from ..spec.limits import Breach, LimitTable, Reply, Scope, Window
from .evm import ALLOWANCE, BALANCE_OF, MAX_UINT, Evm, TransactionFailed, TxOutcome, Wallet, fn, transferred
from .uniswap_v3_exec import SwapResult

NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
ZERO_ADDRESS = "0x" + "00" * 20
SWAP_VERSION = "v6.0"
ORDERBOOK_VERSION = "v4.0"
PUBLIC_BASE_URL = "https://api.1inch.dev"

# ---- rate limits -----------------------------------------------------------------------------

# Requests per second per API key, by dev-portal plan. 1inch's own plan table
# (https://business.1inch.com/portal/documentation/overview) could not be read; these are the
# long-published figures as collected at
# https://raw.githubusercontent.com/api-evangelist/one-inch/refs/heads/main/rate-limits/one-inch-rate-limits.yml
# (Developer 1 rps, Startup 10, Business 30; Enterprise by contract), the free 1 rps also in
# https://docs.rs/crate/oinch/latest/source/README.md. Throttled requests get HTTP 429.
PLAN_RPS: Mapping[str, float] = {"developer": 1.0, "startup": 10.0, "business": 30.0}


def limits_for(plan: str) -> LimitTable:
    """The limit table of a dev-portal plan: one window of requests per second per API key."""
    if plan not in PLAN_RPS:
        raise CrossbookError(f"unknown 1inch plan {plan!r}; known: {', '.join(PLAN_RPS)}")
    return LimitTable(
        venue="oneinch",
        pools=(Window("REQUESTS", PLAN_RPS[plan], 1.0, Scope.ACCOUNT),),
        endpoints={},
        default={"REQUESTS": 1},
        breach=Breach(statuses={429: 1.0}),
    )


LIMITS = limits_for("developer")


def key_account(api_key: str) -> str:
    """What a key is counted under in a limiter: a digest, so the key itself is never kept there."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


# ---- the HTTP API ----------------------------------------------------------------------------


class _Api:
    """An authenticated 1inch API client: Bearer key, the plan's pace, the API's error shape
    ``{error, description, statusCode, meta, requestId}`` turned into crossbook errors that name
    the endpoint and what 1inch said (never the key)."""

    def __init__(self, base_url: str, api_key: str, chain_id: int, *, plan: str = "developer",
                 limiter: Limiter | None = None, session: aiohttp.ClientSession | None = None,
                 timeout: float = 10.0, margin: float = 0.25) -> None:
        if not api_key:
            raise CrossbookError("a 1inch API key is required (dev portal)")
        self.base_url = base_url.rstrip("/")
        self.chain_id = chain_id
        self.limiter = limiter or Limiter(limits_for(plan), margin=margin)
        self._auth = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._account = key_account(api_key)
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url}, chain {self.chain_id})"

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                       body: Any = None) -> Any:
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        await self.limiter.acquire(method, path, params=query, account=self._account)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        data = orjson.dumps(body) if body is not None else None
        headers = dict(self._auth, **({"Content-Type": "application/json"} if data is not None else {}))
        endpoint = f"{method} {path}"
        try:
            async with self._session.request(method, self.base_url + path, params=query, data=data,
                                             headers=headers, timeout=self._timeout) as response:
                raw = await response.read()
                status, reply_headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise VenueUnavailable(f"1inch {endpoint}: unreachable ({type(e).__name__})") from None
        if status >= 400:
            raise self._error(endpoint, status, reply_headers, raw)
        return orjson.loads(raw) if raw else None

    def _error(self, endpoint: str, status: int, headers: Mapping[str, str], raw: bytes) -> CrossbookError:
        description = _description(raw)
        message = f"1inch {endpoint}: {description} (HTTP {status})"
        if status == 429:
            wait = self.limiter.observe(Reply(status, headers, raw), account=self._account)
            return RateLimited(message, retry_after=wait)
        if status in (401, 403):
            return VenueRefused(message)
        if 400 <= status < 500:
            return InvalidOrder(message)
        return VenueUnavailable(message)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _description(raw: bytes) -> str:
    """What the error body says: its description and the parameters its ``meta`` names."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:200].decode("utf-8", "replace") or "no description"
    if not isinstance(body, dict):
        return str(body)[:200]
    text = str(body.get("description") or body.get("error") or body.get("message") or "no description")
    meta = body.get("meta")
    if isinstance(meta, list):
        named = [f"{m.get('type')}={m.get('value')}" for m in meta if isinstance(m, dict) and m.get("type")]
        if named:
            text += f" [{', '.join(named)}]"
    return text


@dataclass(frozen=True, slots=True)
class Quote:
    """What 1inch expects ``amount`` of ``src`` to give of ``dst`` (raw units)."""

    src: str
    dst: str
    amount: int
    dst_amount: int
    gas: int | None
    protocols: Any


@dataclass(frozen=True, slots=True)
class SwapTx:
    """A swap transaction built by the API, to be signed and sent by the wallet."""

    src: str
    dst: str
    amount: int
    dst_amount: int
    slippage: float
    sender: str
    to: str
    data: bytes
    value: int
    gas: int
    gas_price: int

    @property
    def min_dst_amount(self) -> int:
        """The least the swap may deliver within ``slippage`` percent of the quote."""
        return self.dst_amount * round((100 - self.slippage) * 1e6) // (100 * 10**6)


class OneInchClient(_Api):
    """The Aggregation API v6 of one chain (``{base}/swap/v6.0/{chainId}/...``)."""

    def _path(self, name: str) -> str:
        return f"/swap/{SWAP_VERSION}/{self.chain_id}/{name}"

    async def quote(self, src: str, dst: str, amount: int, **opts: Any) -> Quote:
        """``opts``: the API's optional parameters (includeGas, includeProtocols, protocols, fee,
        complexityLevel, ...), passed as they are."""
        _check_amount(amount)
        body = await self._request("GET", self._path("quote"), dict(opts, src=src, dst=dst, amount=amount))
        return Quote(src, dst, amount, int(body["dstAmount"]), _int_or_none(body.get("gas")), body.get("protocols"))

    async def swap(self, src: str, dst: str, amount: int, from_: str, slippage: float,
                   origin: str | None = None, **opts: Any) -> SwapTx:
        """The swap's transaction from ``from_`` (who signs; also the receiver unless ``opts``
        names another), refusing to deliver less than the quote minus ``slippage`` percent."""
        _check_amount(amount)
        if not 0 <= slippage <= 50:
            raise InvalidOrder(f"1inch slippage must be between 0 and 50 percent, got {slippage}")
        params = dict(opts, src=src, dst=dst, amount=amount, slippage=slippage, **{"from": from_, "origin": origin or from_})
        body = await self._request("GET", self._path("swap"), params)
        tx = body["tx"]
        return SwapTx(
            src=src, dst=dst, amount=amount, dst_amount=int(body["dstAmount"]), slippage=slippage,
            sender=to_checksum_address(tx["from"]), to=to_checksum_address(tx["to"]),
            data=_hex_bytes(tx["data"]), value=int(tx.get("value") or 0),
            gas=int(tx.get("gas") or 0), gas_price=int(tx.get("gasPrice") or 0),
        )

    async def approve_spender(self) -> str:
        body = await self._request("GET", self._path("approve/spender"))
        return to_checksum_address(body["address"])

    async def approve_transaction(self, token: str, amount: int | None = None) -> dict[str, Any]:
        """The approval transaction ``{to, data (bytes), value}``; without ``amount``, unlimited."""
        body = await self._request("GET", self._path("approve/transaction"), {"tokenAddress": token, "amount": amount})
        return {"to": to_checksum_address(body["to"]), "data": _hex_bytes(body["data"]), "value": int(body.get("value") or 0)}

    async def allowance(self, token: str, wallet: str) -> int:
        body = await self._request("GET", self._path("approve/allowance"), {"tokenAddress": token, "walletAddress": wallet})
        return int(body["allowance"])

    async def liquidity_sources(self) -> list[dict[str, Any]]:
        body = await self._request("GET", self._path("liquidity-sources"))
        return list(body["protocols"])


def _check_amount(amount: int) -> None:
    if not isinstance(amount, int) or amount <= 0:
        raise InvalidOrder(f"1inch amount must be a positive integer of raw token units, got {amount!r}")


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


# ---- executing a swap ------------------------------------------------------------------------

async def execute_swap(client: OneInchClient, wallet: Wallet, src: str, dst: str, amount: int,
                       slippage: float, origin: str | None = None) -> SwapResult:
    """Swap ``amount`` of ``src`` for ``dst`` through the aggregation router: approve it first
    when the allowance is short, send the API's transaction, and read what the wallet really
    paid and received from the tokens' Transfer logs."""
    if src.lower() == NATIVE.lower():
        raise InvalidOrder("execute_swap trades ERC-20 tokens; wrap the native coin first")
    if await client.allowance(src, wallet.address) < amount:
        approval = await client.approve_transaction(src)
        await wallet.send(approval["to"], approval["data"], value=approval["value"])
    swap = await client.swap(src, dst, amount, wallet.address, slippage, origin=origin)
    if swap.sender.lower() != wallet.address.lower():
        raise InvalidOrder(f"1inch built the swap for {swap.sender}, not for the wallet {wallet.address}")
    try:
        outcome = await wallet.send(swap.to, swap.data, value=swap.value, gas=swap.gas or None)
    except TransactionFailed as e:
        if e.outcome is None:
            raise
        return SwapResult("reverted", 0, 0, e.outcome.gas_used, e.outcome.fee_wei, e.outcome.tx_hash, str(e))
    paid = transferred(outcome.logs, src, sender=wallet.address)
    received = transferred(outcome.logs, dst, receiver=wallet.address)
    minimum = swap.min_dst_amount
    if received < minimum:
        return SwapResult("short", paid, received, outcome.gas_used, outcome.fee_wei, outcome.tx_hash,
                          f"received {received}, below the minimum {minimum} for {swap.slippage}% slippage")
    return SwapResult("filled", paid, received, outcome.gas_used, outcome.fee_wei, outcome.tx_hash)




# ---- Limit Order Protocol v4: orders ---------------------------------------------------------

# MakerTraits (MakerTraitsLib.sol): flags in the high bits, then from bit 0 the low 80 bits of the
# allowed sender, a uint40 expiration, a uint40 nonce or epoch and a uint40 series.
NO_PARTIAL_FILLS = 1 << 255
ALLOW_MULTIPLE_FILLS = 1 << 254
PRE_INTERACTION_CALL = 1 << 252
POST_INTERACTION_CALL = 1 << 251
NEED_CHECK_EPOCH_MANAGER = 1 << 250
HAS_EXTENSION = 1 << 249
USE_PERMIT2 = 1 << 248
UNWRAP_WETH = 1 << 247
ALLOWED_SENDER_MASK = (1 << 80) - 1
EXPIRATION_OFFSET = 80
NONCE_OFFSET = 120
SERIES_OFFSET = 160
UINT40 = (1 << 40) - 1

# TakerTraits (TakerTraitsLib.sol): the amount a fill names is the making amount when this flag is
# set (else the taking amount); the low 185 bits are the threshold the taker accepts.
TAKER_MAKING_AMOUNT = 1 << 255
TAKER_UNWRAP_WETH = 1 << 254
TAKER_SKIP_ORDER_PERMIT = 1 << 253
TAKER_USE_PERMIT2 = 1 << 252
TAKER_ARGS_HAS_TARGET = 1 << 251
THRESHOLD_MASK = (1 << 185) - 1

ORDER_TYPE = (
    "Order(uint256 salt,address maker,address receiver,address makerAsset,address takerAsset,"
    "uint256 makingAmount,uint256 takingAmount,uint256 makerTraits)"
)
ORDER_TYPEHASH = keccak(text=ORDER_TYPE)
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
EIP712_FIELDS = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "receiver", "type": "address"},
    {"name": "makerAsset", "type": "address"},
    {"name": "takerAsset", "type": "address"},
    {"name": "makingAmount", "type": "uint256"},
    {"name": "takingAmount", "type": "uint256"},
    {"name": "makerTraits", "type": "uint256"},
]

# The contract's ABI: the order's Address fields are uint256 (AddressLib's ``type Address``).
ORDER_TUPLE = "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256)"
EIP712_DOMAIN = fn("eip712Domain()", "bytes1,string,string,uint256,address,bytes32,uint256[]")
HASH_ORDER = fn(f"hashOrder({ORDER_TUPLE})", "bytes32")
FILL_ORDER = fn(f"fillOrder({ORDER_TUPLE},bytes32,bytes32,uint256,uint256)", "uint256,uint256,bytes32")
FILL_ORDER_ARGS = fn(f"fillOrderArgs({ORDER_TUPLE},bytes32,bytes32,uint256,uint256,bytes)", "uint256,uint256,bytes32")
CANCEL_ORDER = fn("cancelOrder(uint256,bytes32)")
RAW_REMAINING = fn("rawRemainingInvalidatorForOrder(address,bytes32)", "uint256")
BIT_INVALIDATOR = fn("bitInvalidatorForOrder(address,uint256)", "uint256")
ORDER_FILLED_TOPIC = keccak(text="OrderFilled(bytes32,uint256)")
ORDER_CANCELLED_TOPIC = keccak(text="OrderCancelled(bytes32)")


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """A Limit Order Protocol v4 order (amounts in raw units; ``receiver`` zero means the maker)."""

    salt: int
    maker: str
    receiver: str
    maker_asset: str
    taker_asset: str
    making_amount: int
    taking_amount: int
    maker_traits: int

    def as_tuple(self) -> tuple[int, ...]:
        """The order as the contract's calldata takes it (addresses as uint256)."""
        return (self.salt, int(self.maker, 16), int(self.receiver, 16), int(self.maker_asset, 16),
                int(self.taker_asset, 16), self.making_amount, self.taking_amount, self.maker_traits)

    def message(self) -> dict[str, Any]:
        """The EIP-712 message."""
        return {"salt": self.salt, "maker": self.maker, "receiver": self.receiver, "makerAsset": self.maker_asset,
                "takerAsset": self.taker_asset, "makingAmount": self.making_amount,
                "takingAmount": self.taking_amount, "makerTraits": self.maker_traits}

    def to_api(self) -> dict[str, str]:
        """The orderbook API's ``data`` object (numbers as decimal strings, no extension)."""
        return {"salt": str(self.salt), "maker": self.maker, "receiver": self.receiver,
                "makerAsset": self.maker_asset, "takerAsset": self.taker_asset,
                "makingAmount": str(self.making_amount), "takingAmount": str(self.taking_amount),
                "makerTraits": str(self.maker_traits), "extension": "0x"}

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LimitOrder:
        """An order from the API's ``data``; a malformed field raises InvalidOrder naming it."""
        values: dict[str, Any] = {}
        for api_name, name, kind in _API_FIELDS:
            raw = data.get(api_name)
            try:
                values[name] = to_checksum_address(raw) if kind == "address" else int(str(raw), 0)
            except (TypeError, ValueError):
                raise InvalidOrder(f"order field {api_name} is not a valid {kind}: {raw!r}") from None
            if kind == "uint256" and not 0 <= values[name] <= MAX_UINT:
                raise InvalidOrder(f"order field {api_name} is out of uint256 range")
        return cls(**values)

    # the traits, as MakerTraitsLib reads them
    @property
    def allows_partial_fills(self) -> bool:
        return not self.maker_traits & NO_PARTIAL_FILLS

    @property
    def allows_multiple_fills(self) -> bool:
        return bool(self.maker_traits & ALLOW_MULTIPLE_FILLS)

    @property
    def uses_bit_invalidator(self) -> bool:
        return not self.allows_partial_fills or not self.allows_multiple_fills

    @property
    def expiration(self) -> int:
        return (self.maker_traits >> EXPIRATION_OFFSET) & UINT40

    @property
    def nonce(self) -> int:
        return (self.maker_traits >> NONCE_OFFSET) & UINT40


_API_FIELDS = (
    ("salt", "salt", "uint256"), ("maker", "maker", "address"), ("receiver", "receiver", "address"),
    ("makerAsset", "maker_asset", "address"), ("takerAsset", "taker_asset", "address"),
    ("makingAmount", "making_amount", "uint256"), ("takingAmount", "taking_amount", "uint256"),
    ("makerTraits", "maker_traits", "uint256"),
)


def maker_traits(*, allow_partial_fills: bool = True, allow_multiple_fills: bool = True, expiration: int = 0,
                 nonce: int = 0, series: int = 0, allowed_sender: str | None = None) -> int:
    """MakerTraits bits, laid out as MakerTraitsLib reads them."""
    for name, value in (("expiration", expiration), ("nonce", nonce), ("series", series)):
        if not 0 <= value <= UINT40:
            raise InvalidOrder(f"maker traits {name} must fit in 40 bits, got {value}")
    traits = (expiration << EXPIRATION_OFFSET) | (nonce << NONCE_OFFSET) | (series << SERIES_OFFSET)
    if allowed_sender is not None:
        traits |= int(allowed_sender, 16) & ALLOWED_SENDER_MASK
    if not allow_partial_fills:
        traits |= NO_PARTIAL_FILLS
    if allow_multiple_fills:
        traits |= ALLOW_MULTIPLE_FILLS
    return traits


def build_limit_order(maker: str, maker_asset: str, taker_asset: str, making: int, taking: int, *,
                      allow_partial_fills: bool = True, allow_multiple_fills: bool = True,
                      expiration: int | None = None, nonce: int | None = None, receiver: str | None = None,
                      allowed_sender: str | None = None, salt: int | None = None) -> LimitOrder:
    """An order selling ``making`` of ``maker_asset`` for ``taking`` of ``taker_asset``. Without
    a ``nonce`` an order that uses the bit invalidator (no partial or no multiple fills) gets a
    random one, so it never shares its invalidation bit with another order of the maker."""
    if making <= 0 or taking <= 0:
        raise InvalidOrder(f"limit order amounts must be positive: making {making}, taking {taking}")
    if maker_asset.lower() == taker_asset.lower():
        raise InvalidOrder(f"limit order maker and taker asset are the same token {maker_asset}")
    if nonce is None:
        nonce = secrets.randbits(40) if not (allow_partial_fills and allow_multiple_fills) else 0
    traits = maker_traits(allow_partial_fills=allow_partial_fills, allow_multiple_fills=allow_multiple_fills,
                          expiration=expiration or 0, nonce=nonce, allowed_sender=allowed_sender)
    return LimitOrder(
        salt=secrets.randbits(96) if salt is None else salt,
        maker=to_checksum_address(maker),
        receiver=to_checksum_address(receiver or ZERO_ADDRESS),
        maker_asset=to_checksum_address(maker_asset),
        taker_asset=to_checksum_address(taker_asset),
        making_amount=making,
        taking_amount=taking,
        maker_traits=traits,
    )


def taker_traits(*, making_amount: bool = False, threshold: int = 0, unwrap_weth: bool = False,
                 skip_order_permit: bool = False) -> int:
    """TakerTraits: with ``making_amount`` the fill's amount is what the maker gives and
    ``threshold`` the most the taker pays for it; otherwise the amount is what the taker pays and
    ``threshold`` the least it takes in return (0: no limit)."""
    if not 0 <= threshold <= THRESHOLD_MASK:
        raise InvalidOrder(f"taker threshold must fit in 185 bits, got {threshold}")
    traits = threshold
    if making_amount:
        traits |= TAKER_MAKING_AMOUNT
    if unwrap_weth:
        traits |= TAKER_UNWRAP_WETH
    if skip_order_permit:
        traits |= TAKER_SKIP_ORDER_PERMIT
    return traits


@dataclass(frozen=True, slots=True)
class Domain:
    """An EIP-712 domain as ERC-5267 reports it."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}

    @property
    def separator(self) -> bytes:
        return keccak(abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text=self.name), keccak(text=self.version), self.chain_id, self.verifying_contract],
        ))


async def read_domain(evm: Evm, lop_address: str) -> Domain:
    """The protocol's EIP-712 domain, from its ``eip712Domain()``."""
    fields, name, version, chain_id, verifying, _, _ = await evm.call(lop_address, EIP712_DOMAIN)
    if bytes(fields)[0] & 0x0F != 0x0F:  # name, version, chainId, verifyingContract
        raise CrossbookError(f"limit order protocol at {lop_address} reports an unexpected EIP-712 domain {bytes(fields).hex()}")
    return Domain(str(name), str(version), int(chain_id), to_checksum_address(verifying))


def order_hash(order: LimitOrder, domain: Domain) -> bytes:
    """The order's EIP-712 digest: what the maker signs and the contract's ``hashOrder`` returns."""
    struct = keccak(ORDER_TYPEHASH + abi_encode(["uint256"] * 8, list(order.as_tuple())))
    return keccak(b"\x19\x01" + domain.separator + struct)


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """An order, its hash and the maker's 65-byte signature (r, s, v); ``r`` and ``vs`` are the
    compact (EIP-2098) form ``fillOrder`` takes."""

    order: LimitOrder
    hash: bytes
    signature: bytes

    @property
    def r(self) -> bytes:
        return self.signature[:32]

    @property
    def vs(self) -> bytes:
        s = int.from_bytes(self.signature[32:64], "big")
        v = self.signature[64]
        return ((s | ((v - 27) << 255)) if v >= 27 else (s | (v << 255))).to_bytes(32, "big")

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()


def sign_order(order: LimitOrder, domain: Domain, private_key: str) -> SignedOrder:
    """Sign ``order`` as EIP-712 typed data under ``domain`` with the maker's key."""
    if Account.from_key(private_key).address.lower() != order.maker.lower():
        raise InvalidOrder(f"the key signing the order is not its maker {order.maker}")
    signed = Account.sign_typed_data(private_key, domain.as_dict(), {"Order": EIP712_FIELDS}, order.message())
    digest = order_hash(order, domain)
    if bytes(signed.message_hash) != digest:
        raise CrossbookError("eth_account's EIP-712 digest differs from the order hash")
    return SignedOrder(order, digest, bytes(signed.signature))


def recover_maker(order: LimitOrder, domain: Domain, signature: bytes) -> str:
    """The address that signed ``order`` (as the contract's ECDSA.recover sees it)."""
    if len(signature) != 65:
        raise InvalidOrder(f"an order signature has 65 bytes, got {len(signature)}")
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    try:
        key = Signature(signature[:64] + bytes([v])).recover_public_key_from_msg_hash(order_hash(order, domain))
    except Exception:  # eth_keys raises several types for a signature that is not on the curve
        raise InvalidOrder("the order signature does not recover to any address") from None
    return to_checksum_address(key.to_canonical_address())


# ---- on chain: fill, cancel, state -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of an order: what the maker gave, what the taker paid, what is left."""

    order_hash: str
    making_amount: int
    taking_amount: int
    remaining: int
    tx_hash: str
    gas_used: int
    gas_cost_wei: int


async def fill_order(wallet: Wallet, lop_address: str, signed: SignedOrder, amount: int, traits: int = 0) -> Fill:
    """Fill someone's ``signed`` order as taker (the taker asset must be approved to the
    protocol). ``amount`` is the taking amount, or the making amount with
    ``taker_traits(making_amount=True)``. A revert raises TransactionFailed with the reason."""
    data = FILL_ORDER.encode(signed.order.as_tuple(), signed.r, signed.vs, amount, traits)
    outcome = await wallet.send(lop_address, data)
    return _fill_of(outcome, lop_address, signed)


def _fill_of(outcome: TxOutcome, lop_address: str, signed: SignedOrder) -> Fill:
    order = signed.order
    remaining = None
    for log in outcome.logs:
        topics = [bytes(t) for t in log["topics"]]
        if str(log["address"]).lower() == lop_address.lower() and topics and topics[0] == ORDER_FILLED_TOPIC:
            hash_, left = abi_decode(["bytes32", "uint256"], bytes(log["data"]))
            if bytes(hash_) == signed.hash:
                remaining = int(left)
    if remaining is None:
        raise CrossbookError(f"transaction {outcome.tx_hash} filled no part of order {signed.hash_hex}")
    receiver = order.maker if int(order.receiver, 16) == 0 else order.receiver
    return Fill(
        order_hash=signed.hash_hex,
        making_amount=transferred(outcome.logs, order.maker_asset, sender=order.maker),
        taking_amount=transferred(outcome.logs, order.taker_asset, receiver=receiver),
        remaining=remaining,
        tx_hash=outcome.tx_hash,
        gas_used=outcome.gas_used,
        gas_cost_wei=outcome.fee_wei,
    )


async def cancel_order(wallet: Wallet, lop_address: str, signed: SignedOrder) -> TxOutcome:
    """Cancel the maker's own order on chain (only the maker's wallet can)."""
    if wallet.address.lower() != signed.order.maker.lower():
        raise InvalidOrder(f"only the maker {signed.order.maker} can cancel order {signed.hash_hex}")
    return await wallet.send(lop_address, CANCEL_ORDER.encode(signed.order.maker_traits, signed.hash))


OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "expired"]


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the chain has it: ``remaining`` of the making amount still fillable."""

    order_hash: str
    status: OrderStatus
    remaining: int
    filled: int
    reported: tuple[str, ...] = ()  # the orderbook's orderInvalidReason, when followed through it


async def order_state(evm: Evm, lop_address: str, order: LimitOrder, hash_: bytes, from_block: int = 0) -> OrderState:
    """Read the order's invalidator (remaining amount, or its bit) and tell a fill from a cancel
    by the protocol's events since ``from_block``."""
    if order.uses_bit_invalidator:
        (slot,) = await evm.call(lop_address, BIT_INVALIDATOR, order.maker, order.nonce)
        used = bool(slot >> (order.nonce & 0xFF) & 1)
        remaining = 0 if used else order.making_amount
    else:
        (raw,) = await evm.call(lop_address, RAW_REMAINING, order.maker, hash_)
        remaining = order.making_amount if raw == 0 else MAX_UINT ^ raw
    filled = await _filled_amount(evm, lop_address, order, hash_, from_block)
    if remaining == 0:
        status: OrderStatus = "filled" if filled >= order.making_amount else "cancelled"
    elif order.expiration and await evm.timestamp() > order.expiration:
        status = "expired"
    else:
        status = "partially_filled" if filled else "open"
    return OrderState("0x" + hash_.hex(), status, remaining, filled)


async def _filled_amount(evm: Evm, lop_address: str, order: LimitOrder, hash_: bytes, from_block: int) -> int:
    """Making amount filled so far: the lowest remaining amount an OrderFilled event reported."""
    logs = await evm.w3.eth.get_logs({"address": to_checksum_address(lop_address), "fromBlock": from_block,
                                      "toBlock": "latest", "topics": ["0x" + ORDER_FILLED_TOPIC.hex()]})  # type: ignore[typeddict-item]
    lowest = order.making_amount
    for log in logs:
        got_hash, left = abi_decode(["bytes32", "uint256"], bytes(log["data"]))
        if bytes(got_hash) == hash_:
            lowest = min(lowest, int(left))
    return order.making_amount - lowest


# ---- the orderbook API -----------------------------------------------------------------------


class OrderbookClient(_Api):
    """The orderbook API v4 of one chain (``{base}/orderbook/v4.0/{chainId}``): submit signed
    orders, read them back by hash or maker; follow them on chain and cancel them there."""

    def _path(self, suffix: str = "") -> str:
        return f"/orderbook/{ORDERBOOK_VERSION}/{self.chain_id}{suffix}"

    async def submit(self, signed: SignedOrder) -> None:
        body = {"orderHash": signed.hash_hex, "signature": "0x" + signed.signature.hex(), "data": signed.order.to_api()}
        await self._request("POST", self._path(), body=body)

    async def order(self, hash_hex: str) -> dict[str, Any]:
        """The orderbook's record of an order: ``{orderHash, signature, data, remainingMakerAmount,
        makerBalance, makerAllowance, orderInvalidReason, createDateTime, ...}``."""
        return dict(await self._request("GET", self._path(f"/order/{hash_hex}")))

    async def orders_by_maker(self, maker: str, statuses: Sequence[int] = (), page: int = 1, limit: int = 100) -> list[dict[str, Any]]:
        """A maker's orders; ``statuses`` 1 valid, 2 temporarily invalid, 3 invalid."""
        params = {"page": page, "limit": limit, "statuses": ",".join(map(str, statuses)) or None}
        return list(await self._request("GET", self._path(f"/address/{maker}"), params))

    async def follow(self, evm: Evm, lop_address: str, signed: SignedOrder, from_block: int = 0) -> OrderState:
        """The order's state on chain (the truth), with what the orderbook reports about it."""
        state = await order_state(evm, lop_address, signed.order, signed.hash, from_block)
        reported = await self.order(signed.hash_hex)
        return replace(state, reported=tuple(reported.get("orderInvalidReason") or ()))

    async def cancel(self, wallet: Wallet, lop_address: str, signed: SignedOrder) -> TxOutcome:
        """Cancel on chain (the orderbook has no cancel call; it sees the contract's event)."""
        return await cancel_order(wallet, lop_address, signed)


async def maker_funds(evm: Evm, lop_address: str, order: LimitOrder) -> tuple[int, int]:
    """(balance, allowance to the protocol) of the maker in the maker asset."""
    (balance,) = await evm.call(order.maker_asset, BALANCE_OF, order.maker)
    (allowance,) = await evm.call(order.maker_asset, ALLOWANCE, order.maker, lop_address)
    return int(balance), int(allowance)
