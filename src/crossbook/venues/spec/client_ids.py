"""What a venue accepts as a client order id (``VenueSpec.client_id``): the field, the ccxt
``create_order`` param that puts an id there, the pattern, and the shape crossbook generates.
``trading.client_ids`` derives each journaled order's id by its venue's rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ...errors import InvalidOrder

UINT32_IDS = 2**32  # dYdX's clientId is a uint32


class IdStyle(str, Enum):
    TOKEN = "token"
    UUID = "uuid"
    UINT32 = "uint32"


@dataclass(frozen=True, slots=True)
class ClientIdRule:
    """What one venue accepts as a client order id."""

    venue: str
    field: str  # the venue's own name for it on the wire
    param: str  # the ccxt create_order param that puts it there
    pattern: str  # the whole id must match (re.fullmatch)
    style: IdStyle  # the shape crossbook generates for this venue
    source: str  # where the rule comes from
    prefix: str = ""  # text the venue requires in front (Gate: "t-")

    def validate(self, cid: str) -> None:
        """Raise InvalidOrder naming the venue, the field and the rule unless ``cid`` is valid."""
        if not re.fullmatch(self.pattern, cid):
            raise InvalidOrder(f"{self.venue}: client order id {cid!r} is not a valid {self.field} (must match {self.pattern})")
        if self.style is IdStyle.UINT32 and int(cid) >= UINT32_IDS:
            raise InvalidOrder(f"{self.venue}: client order id {cid} is not a valid {self.field} (must be a uint32)")

    def wire_value(self, cid: str) -> str | int:
        return int(cid) if self.style is IdStyle.UINT32 else cid

    def ccxt_params(self, cid: str) -> dict[str, str | int]:
        """The entry to merge into ccxt ``create_order`` params so ``cid`` reaches the venue."""
        return {self.param: self.wire_value(cid)}


UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
