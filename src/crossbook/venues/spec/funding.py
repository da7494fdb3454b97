"""How crossbook reads a venue's perpetual funding: which ccxt client reads each feed's funding
with which settings, the payment interval where the venue's answer gives none, and the venue's
own read where ccxt reads no funding rate there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...model import FundingRate


@dataclass(frozen=True, slots=True)
class FundingClient:
    """The keyless ccxt client that reads a feed's funding: ``ccxt_id`` with ``config`` (its
    ``options`` added to the venue's perpetual options, the rest to the client's settings)."""

    ccxt_id: str
    config: Mapping[str, Any] = field(default_factory=dict)


ReadFunding = Callable[[Any, list[str]], Awaitable[dict[str, FundingRate]]]
"""(ccxt client, standard perpetuals) -> the funding of those the venue answers for, read through
the client's implicit API where its unified ``fetch_funding_rate`` reads none (dYdX's indexer)."""


@dataclass(frozen=True, slots=True)
class FundingSpec:
    """``interval_hours``: hours between payments where the venue's funding answer does not say
    (None: it always says); ``clients``: feed id -> the client reading that feed's funding, where
    it is not the feed's own trading client; ``read``: the venue's own read (None: ccxt's
    ``fetch_funding_rate``)."""

    interval_hours: float | None = None
    clients: Mapping[str, FundingClient] = field(default_factory=dict)
    read: ReadFunding | None = None
