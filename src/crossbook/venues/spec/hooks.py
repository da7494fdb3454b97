"""The hooks a venue's SPEC may carry, where ccxt alone does not do what crossbook needs there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol


class PrivateSource(Protocol):
    """A private stream in ccxt's unified shapes: each call waits for the next batch."""

    async def watch_orders(self) -> Sequence[Mapping[str, Any]]: ...

    async def watch_my_trades(self) -> Sequence[Mapping[str, Any]]: ...


class TradingAccount(Protocol):
    """What a hook may read of an account: the ccxt client it trades through."""

    client: Any


FetchMyTrades = Callable[[Any, str, int | None], Awaitable[list[dict[str, Any]]]]
"""(ccxt client, ccxt symbol, since ms) -> the account's trades, where ccxt cannot fetch them."""

StreamTrade = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A trade from ccxt.pro's private stream put right (fields ccxt leaves out or gets wrong)."""

PrivateSourceFactory = Callable[[TradingAccount], PrivateSource]
"""The venue's own private stream for an account, where ccxt.pro follows none."""
