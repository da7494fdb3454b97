"""dYdX v4 transactions as the chain reads them, without a protobuf dependency: the Cosmos
``TxRaw`` / ``TxBody`` / ``AuthInfo`` a client broadcasts, the ``MsgPlaceOrder`` and
``MsgCancelOrder`` inside, the ``SignDoc`` it signed (SIGN_MODE_DIRECT), secp256k1 signatures
(64-byte r||s, low s) and bech32 ``dydx1...`` account addresses.

Field numbers: cosmos-sdk proto/cosmos/tx/v1beta1/tx.proto, dydxprotocol/v4-chain
proto/dydxprotocol/clob/{tx,order}.proto and subaccounts/subaccount.proto.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ...venues.protowire import (
    DecodeError,
    Value,
    as_bytes,
    as_int,
    as_str,
    fields,
    len_field,
    string_field,
    varint_field,
)

PLACE_ORDER = "/dydxprotocol.clob.MsgPlaceOrder"
CANCEL_ORDER = "/dydxprotocol.clob.MsgCancelOrder"
SECP256K1_PUBKEY = "/cosmos.crypto.secp256k1.PubKey"
SIGN_MODE_DIRECT = 1
# the curve order: Cosmos accepts only signatures with s in the lower half
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class Fields:
    """One message's fields by number; a singular field read twice keeps its last value, as
    protobuf does."""

    def __init__(self, buf: bytes) -> None:
        self.values: dict[int, list[Value]] = {}
        for number, value in fields(buf):
            self.values.setdefault(number, []).append(value)

    def integer(self, number: int) -> int:
        found = self.values.get(number)
        return as_int(found[-1]) if found else 0

    def raw(self, number: int) -> bytes:
        found = self.values.get(number)
        return as_bytes(found[-1]) if found else b""

    def text(self, number: int) -> str:
        found = self.values.get(number)
        return as_str(found[-1]) if found else ""

    def repeated(self, number: int) -> list[bytes]:
        return [as_bytes(v) for v in self.values.get(number, [])]

    def message(self, number: int) -> Fields:
        return Fields(self.raw(number))


@dataclass(frozen=True, slots=True)
class OrderId:
    owner: str  # the subaccount's bech32 address
    number: int  # the subaccount number
    client_id: int
    order_flags: int  # 0 short-term, 32 conditional, 64 long-term
    clob_pair_id: int

    @classmethod
    def read(cls, f: Fields) -> OrderId:
        subaccount = f.message(1)
        return cls(subaccount.text(1), subaccount.integer(2), f.integer(2), f.integer(3), f.integer(4))

    @property
    def short_term(self) -> bool:
        return self.order_flags == 0


@dataclass(frozen=True, slots=True)
class Order:
    """A ``MsgPlaceOrder``'s order; enum fields keep the chain's numbers."""

    order_id: OrderId
    side: int  # 1 buy, 2 sell
    quantums: int
    subticks: int
    good_til_block: int
    good_til_block_time: int  # unix seconds
    time_in_force: int  # 0 unspecified, 1 IOC, 2 post-only, 3 fill-or-kill (deprecated)
    reduce_only: bool
    client_metadata: int
    condition_type: int  # 0 none, 1 stop loss, 2 take profit
    trigger_subticks: int

    @classmethod
    def read(cls, msg: bytes) -> Order:
        f = Fields(msg).message(1)
        return cls(OrderId.read(f.message(1)), f.integer(2), f.integer(3), f.integer(4), f.integer(5), f.integer(6), f.integer(7),
                   bool(f.integer(8)), f.integer(9), f.integer(10), f.integer(11))


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: OrderId
    good_til_block: int
    good_til_block_time: int

    @classmethod
    def read(cls, msg: bytes) -> CancelOrder:
        f = Fields(msg)
        return cls(OrderId.read(f.message(1)), f.integer(2), f.integer(3))


Message = Order | CancelOrder
READERS: dict[str, Callable[[bytes], Message]] = {PLACE_ORDER: Order.read, CANCEL_ORDER: CancelOrder.read}


@dataclass(frozen=True, slots=True)
class SignerInfo:
    key_type: str
    public_key: bytes
    sign_mode: int
    sequence: int

    @classmethod
    def read(cls, buf: bytes) -> SignerInfo:
        f = Fields(buf)
        key = f.message(1)
        mode = f.message(2).message(1)  # ModeInfo.single
        return cls(key.text(1), Fields(key.raw(2)).raw(1), mode.integer(1), f.integer(3))


@dataclass(frozen=True, slots=True)
class Tx:
    body_bytes: bytes
    auth_info_bytes: bytes
    signatures: list[bytes]
    messages: list[Message]
    signers: list[SignerInfo]


def decode_tx(raw: bytes) -> Tx:
    """A broadcast ``TxRaw``; DecodeError for malformed bytes or a message type the chain's
    clob module does not take here."""
    f = Fields(raw)
    body, auth_info = f.raw(1), f.raw(2)
    messages: list[Message] = []
    for any_bytes in Fields(body).repeated(1):
        packed = Fields(any_bytes)
        reader = READERS.get(packed.text(1))
        if reader is None:
            raise DecodeError(f"unable to resolve type URL {packed.text(1)}")
        messages.append(reader(packed.raw(2)))
    signers = [SignerInfo.read(s) for s in Fields(auth_info).repeated(1)]
    return Tx(body, auth_info, f.repeated(3), messages, signers)


def sign_doc(tx: Tx, chain_id: str, account_number: int) -> bytes:
    """The SignDoc bytes a SIGN_MODE_DIRECT signer signed (proto3: default values are left out)."""
    out = len_field(1, tx.body_bytes) if tx.body_bytes else b""
    out += len_field(2, tx.auth_info_bytes) if tx.auth_info_bytes else b""
    out += string_field(3, chain_id) if chain_id else b""
    return out + (varint_field(4, account_number) if account_number else b"")


def tx_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest().upper()


# ---- keys and addresses --------------------------------------------------------------------


def new_private_key() -> str:
    """A fresh secp256k1 private key as 64 hex digits (Cosmos and Ethereum use the same curve)."""
    number = ec.generate_private_key(ec.SECP256K1()).private_numbers().private_value
    return f"{number:064x}"


def public_key(private_hex: str) -> bytes:
    """The 33-byte compressed public key of a hex private key."""
    key = ec.derive_private_key(int(private_hex, 16), ec.SECP256K1())
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def address(public: bytes, prefix: str = "dydx") -> str:
    """The Cosmos account address: bech32 of RIPEMD160(SHA256(compressed public key))."""
    return bech32(prefix, hashlib.new("ripemd160", hashlib.sha256(public).digest()).digest())


def verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """Cosmos secp256k1 verification: ECDSA over SHA256(message), a 64-byte r||s with low s."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2):
        return False
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public)
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def bech32(hrp: str, data: bytes) -> str:
    """BIP-173 bech32 of ``data`` regrouped into 5-bit words."""
    bits = int.from_bytes(data, "big") << (-len(data) * 8 % 5)
    count = -(-len(data) * 8 // 5)
    words = [(bits >> 5 * (count - 1 - i)) & 31 for i in range(count)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    check = _polymod(expanded + words + [0] * 6) ^ 1
    words += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[w] for w in words)


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, g in enumerate(generator):
            if (top >> i) & 1:
                chk ^= g
    return chk
