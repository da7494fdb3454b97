"""The hooks a venue's SPEC may carry, where ccxt alone does not do what crossbook needs there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ...model import Side
from .keys import KeyPermissions

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
    """The venue's ids for a placed OCO: the list's and each leg's (None where the legs are
    triggers, no orders until one fires: OKX's algo order)."""

    list_id: str
    limit_order_id: str | None
    stop_order_id: str | None


@dataclass(frozen=True, slots=True)
class OcoStatus:
    """A native OCO whose legs are triggers, as the venue reports it: ``live`` (neither fired),
    ``fired`` (leg ``limit`` or ``stop`` fired and placed ``order_id``; the other is gone),
    ``failed`` (the fired leg's order was refused) or ``canceled``."""

    state: str
    leg: str | None = None
    order_id: str | None = None


FetchMyTrades = Callable[[Any, str, int | None], Awaitable[list[dict[str, Any]]]]
"""(ccxt client, ccxt symbol, since ms) -> the account's trades, where ccxt cannot fetch them."""

StreamTrade = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A trade from ccxt.pro's private stream put right (fields ccxt leaves out or gets wrong)."""

PrivateSourceFactory = Callable[[TradingAccount], PrivateSource]
"""The venue's own private stream for an account, where ccxt.pro follows none."""

PlaceOco = Callable[[Any, OcoLegs], Awaitable[OcoAck]]
"""(ccxt client, legs) -> the venue's ids: an OCO order list, which ccxt has no unified call for."""

FetchOco = Callable[[Any, str, str], Awaitable[OcoStatus]]
"""(ccxt client, market id, list id) -> the OCO as the venue has it, where its legs are no orders
until one fires (the order endpoints do not show them)."""

FindOco = Callable[[Any, str, str | int], Awaitable[str | None]]
"""(ccxt client, market id, the client id the OCO was sent with) -> its list id, None if the venue
has no such OCO: where an OCO's legs are no orders, what tells a lost placement from a placed one."""

CancelOco = Callable[[Any, str, str], Awaitable[None]]
"""(ccxt client, market id, list id): cancel such an OCO (an OCO already ended is no error)."""

SubAccountTransfer = Callable[[Any, str, Decimal, str, str], Awaitable[str]]
"""(ccxt client of the master account, asset, amount, from account, to account) -> the venue's
transfer id. Accounts are crossbook's names: ``MASTER_ACCOUNT`` for the master, else the
sub-account's name on the venue."""

FetchKeyPermissions = Callable[[Any], Awaitable[KeyPermissions]]
"""(ccxt client) -> what the client's API key may do, as the venue's own key-information endpoint
says (through the client's implicit API method for it). None on a venue with no such endpoint: the
audit then observes what it can (a read call, the user's declared permissions)."""
