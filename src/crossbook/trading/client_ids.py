"""Client order ids: unique, valid on every venue, and derived from the journal.

An id is a pure function of (journal instance id, intent row id, venue rule). The journal
allocates the intent row and stores the id in the same transaction (``Journal.record_intent``),
so a retry after a timeout reads the id back from the journal and sends the same one again: a
venue that still has the first attempt open refuses the duplicate id instead of making a second
order. (Binance and Kraken check uniqueness among open orders only, so before a retry the
trading layer asks the venue for the id, which also finds an attempt that already filled.)

    ids = ClientIds(instance_id)               # one per journal file (Journal.client_ids)
    cid = ids.for_intent("okx", intent_id)     # "cb0k3x9a2m1f" ...
    params = client_id_rule("okx").ccxt_params(cid)   # {"clientOrderId": cid} for create_order

Three shapes, chosen per venue by its rule:

- TOKEN ``cb`` + 8 base-36 characters of the instance + the row id in base 36 (lowercase letters
  and digits only, at most 23 characters; Gate adds its mandatory ``t-``). Every venue's charset
  accepts it, including OKX (alphanumeric only) and Bitget (no hyphen).
- UUID for the venues where a UUID is the norm (Coinbase, Kraken): 60 bits of the instance and
  the row id in the low 62 bits, with the RFC 4122 version-4 and variant bits set so validators
  that only accept v4 pass. The bits are structured, not random (like the "timestamp-first"
  UUIDs Kraken documents for FIX), which is what makes them unique and reproducible.
- UINT32 for dYdX v4 (``clientId`` is a uint32 in the order id): ``(instance offset + row id)
  mod 2**32``, so unique within a journal for its first 2**32 intents. 32 bits cannot also
  separate deployments: two journals must not share a dYdX subaccount (crossbook runs one
  subaccount per strategy anyway).

Ids from one journal never repeat: the row id is unique within the journal and the instance id
(128 random bits, made when the journal file is created) separates journals; two journals share
TOKEN ids only if their 40-bit instance tags collide.

Each venue's rule is in its SPEC (``venues/spec/client_ids.py``): what it accepts, under which
field, and which ccxt ``create_order`` param puts it there (checked against ccxt 4.5.90: Coinbase ignores
``clientOrderId`` and always sends its own ``ccxt-<uuid>``, so the native ``client_order_id``
is passed instead).
"""

from __future__ import annotations

import re
import uuid

from ..venues.registry import spec
from ..venues.spec.client_ids import UINT32_IDS, ClientIdRule, IdStyle

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TAG_CHARS = 8  # 36**8 > 2**40: the instance tag never needs more
_UUID_ROW_BITS = 62
TOKEN_PREFIX = "cb"


def client_id_rule(venue: str) -> ClientIdRule:
    """The venue's rule, from its SPEC (a DEX pool venue such as ``uniswap_v3_500``: its family's)."""
    return spec(venue).client_id


def _base36(n: int) -> str:
    digits = []
    while True:
        n, d = divmod(n, 36)
        digits.append(_BASE36[d])
        if n == 0:
            return "".join(reversed(digits))


class ClientIds:
    """Client order ids of one journal instance (see the module docstring for the shapes)."""

    def __init__(self, instance_id: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", instance_id):
            raise ValueError(f"journal instance id must be 32 lowercase hex digits, got {instance_id!r}")
        self.instance_id = instance_id
        bits = int(instance_id, 16)
        self._tag = _base36(bits >> 88).rjust(_TAG_CHARS, "0")
        self._uuid_high = bits >> 68  # 60 bits
        self._uint32_offset = bits >> 96

    @staticmethod
    def new_instance_id() -> str:
        return uuid.uuid4().hex

    def for_intent(self, venue: str, intent_id: int) -> str:
        """The client order id of journal intent row ``intent_id`` on ``venue``: the same inputs
        always give the same id, and it always satisfies the venue's rule."""
        if intent_id < 1:
            raise ValueError(f"intent ids start at 1, got {intent_id}")
        rule = client_id_rule(venue)
        if rule.style is IdStyle.UINT32:
            cid = self._uint32(intent_id)
        elif rule.style is IdStyle.UUID:
            cid = self._uuid(intent_id)
        else:
            cid = f"{rule.prefix}{TOKEN_PREFIX}{self._tag}{_base36(intent_id)}"
        rule.validate(cid)
        return cid

    def _uint32(self, intent_id: int) -> str:
        if intent_id >= UINT32_IDS:
            raise ValueError(f"intent id {intent_id} is past the 2**32 uint32 client ids of one journal; start a new journal")
        return str((self._uint32_offset + intent_id) % UINT32_IDS)

    def _uuid(self, intent_id: int) -> str:
        if intent_id >= 2**_UUID_ROW_BITS:
            raise ValueError(f"intent id {intent_id} does not fit the 62 bits of a UUID client id")
        high = self._uuid_high
        value = (high >> 12) << 80 | 0x4 << 76 | (high & 0xFFF) << 64 | 0b10 << 62 | intent_id
        return str(uuid.UUID(int=value))
