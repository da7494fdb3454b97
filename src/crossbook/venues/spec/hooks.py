"""The hooks a venue's SPEC may carry, where ccxt alone does not do what crossbook needs there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ...model import Side

MASTER_ACCOUNT = "main"  # crossbook's name of the account a venue calls the master


class PrivateSource(Protocol):
    """A private stream in ccxt's unified shapes: each call waits for the next batch."""

    async def watch_orders(self) -> Sequence[Mapping[str, Any]]: ...

    async def watch_my_trades(self) -> Sequence[Mapping[str, Any]]: ...


class TradingAccount(Protocol):
    """What a hook may read of an account: the ccxt client it trades through."""

    client: Any


@dataclass(frozen=True, slots=True)
class OcoLegs:
    """What an OCO asks the venue for: a limit leg at ``price`` and a stop leg triggered at
    ``stop_price`` (a stop-limit at ``stop_limit`` when given), one amount, each leg with its
    client order id as the venue reads it. Numbers are the venue's strings (on its grid)."""

    market_id: str
    side: Side
    amount: str
    price: str
    stop_price: str
    stop_limit: str | None
    limit_client_id: str | int
    stop_client_id: str | int


@dataclass(frozen=True, slots=True)
class OcoAck:
    """The venue's ids for a placed OCO: the list's and each leg's."""

    list_id: str
    limit_order_id: str
    stop_order_id: str


FetchMyTrades = Callable[[Any, str, int | None], Awaitable[list[dict[str, Any]]]]
"""(ccxt client, ccxt symbol, since ms) -> the account's trades, where ccxt cannot fetch them."""

StreamTrade = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A trade from ccxt.pro's private stream put right (fields ccxt leaves out or gets wrong)."""

PrivateSourceFactory = Callable[[TradingAccount], PrivateSource]
"""The venue's own private stream for an account, where ccxt.pro follows none."""

PlaceOco = Callable[[Any, OcoLegs], Awaitable[OcoAck]]
"""(ccxt client, legs) -> the venue's ids: an OCO order list, which ccxt has no unified call for."""

SubAccountTransfer = Callable[[Any, str, Decimal, str, str], Awaitable[str]]
"""(ccxt client of the master account, asset, amount, from account, to account) -> the venue's
transfer id. Accounts are crossbook's names: ``MASTER_ACCOUNT`` for the master, else the
sub-account's name on the venue."""
