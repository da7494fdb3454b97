"""The Desk's on-chain venues (a base of Desk): a simulated desk's local chain (``SimDex``), a
configured desk's ``[chains.X]`` (``ConfiguredChains``). Either way, for a symbol the desk follows,
the chains' DEX venues are in its consolidated book, and ``dex_venues`` gives the router their
accounts, fee rates and fixed costs (a swap's gas) exactly as ``--sim --dex`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..trading.journal import Journal
from .pools import ConfiguredChains, DexVenues

if TYPE_CHECKING:
    from ..config import Config
    from ..market.data import MarketData
    from ..security.vault import Vault
    from .simulated import SimDesk


class OnChainVenues:
    simulator: SimDesk | None
    config: Config | None
    vault: Vault | None
    market: MarketData
    chains: ConfiguredChains | None = None  # a configured desk's [chains.X], once started

    async def _start_chains(self, journal: Journal) -> None:
        """Connect every configured chain (each refused when its RPC serves another chain id)."""
        if self.config is None or not self.config.chains:
            return
        configs = [self.config.chain(name, self.vault) for name in self.config.chains]
        self.chains = ConfiguredChains(configs, journal, self.market.consolidated)
        await self.chains.start()

    async def _follow_chains(self, symbols: Sequence[str]) -> None:
        """Each configured chain's venues of the spot ``symbols`` not followed yet join their books."""
        if self.chains is not None:
            await self.chains.follow(symbols)

    async def dex_venues(self, symbol: str) -> DexVenues:
        """The on-chain venues of ``symbol`` (followed already) for the router and the quote."""
        if self.simulator is not None:
            return await self.simulator.dex_venues(symbol)
        if self.chains is None:
            return DexVenues()
        return await self.chains.router_venues(symbol)

    async def dex_balances(self, symbol: str) -> dict[str, dict[str, float]]:
        """venue -> asset -> what the wallet trading ``symbol`` there holds of its base and quote
        (what ``best_price``'s ``balances`` reads beside the exchange accounts')."""
        accounts = (await self.dex_venues(symbol)).accounts
        held = await asyncio.gather(*(a.balances() for a in accounts.values()))
        return {v: {asset: float(x) for asset, x in b.items()} for v, b in zip(accounts, held, strict=True)}

    async def _stop_chains(self) -> None:
        if self.chains is not None:
            await self.chains.stop()
            self.chains = None
