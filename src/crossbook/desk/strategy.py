"""StrategyDesk: what one strategy sees of a configured desk, its own sub-accounts only.

    async with Desk.from_config("crossbook.toml") as desk:
        momentum = desk.strategy("momentum")
        await momentum.route("BTC-USDT", "buy", 0.5)       # through momentum's sub-accounts only
        await momentum.place(OrderRequest("binance", ...))  # refused unless binance/<its account>

Everything it sends names the strategy, so the trading layer (VenueAccount) refuses it on any
other sub-account with StrategyMismatch before anything reaches the venue.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import StrategyMismatch
from ..model import OrderRequest, Side
from ..routing.executor import ExecutionReport
from ..security.strategies import Strategy
from ..trading.account import VenueAccount

if TYPE_CHECKING:
    from ..trading.trader import OrderView, Trader
    from .desk import Desk


class StrategyDesk:
    def __init__(self, desk: Desk, strategy: Strategy) -> None:
        """Use ``Desk.strategy(name)``."""
        self.desk = desk
        self.strategy = strategy

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def venues(self) -> list[str]:
        return self.strategy.venues

    async def accounts(self) -> dict[str, VenueAccount]:
        """venue -> the strategy's sub-account there (loaded)."""
        return {venue: await self.desk.venue_account(venue, account) for venue, account in self.strategy.accounts}

    async def account(self, venue: str) -> Trader:
        """Orders, fills, balances and positions of the strategy's sub-account on ``venue``."""
        account = self.strategy.account_on(venue)
        if account is None:
            raise StrategyMismatch(f"strategy {self.name!r} has no sub-account on {venue} "
                                   f"(its venues: {', '.join(self.venues)})")
        return await self.desk.account(venue, account)

    async def place(self, request: OrderRequest, *, reference_price: Decimal | None = None) -> OrderView:
        """Place one order as this strategy: on the sub-account it is addressed to, which must be
        the strategy's (else StrategyMismatch, nothing sent)."""
        if request.strategy not in (None, self.name):
            raise StrategyMismatch(f"an order of strategy {request.strategy!r} placed as strategy {self.name!r}")
        trader = await self.desk.account(request.venue, request.account)
        return await trader.place(replace(request, strategy=self.name), reference_price=reference_price)

    async def route(self, symbol: str, side: Side | str, amount: float | Decimal | None = None,
                    **options: Any) -> ExecutionReport:
        """``Desk.route`` (same options) across the strategy's sub-accounts only."""
        return await self.desk.route(symbol, side, amount, strategy=self.name, **options)
