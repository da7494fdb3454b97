"""The on-chain venues: Uniswap V3 pools (one routing venue per pool, named by its chain and fee
tier) and the 1inch aggregator (one per chain). Their SPECs are ``uniswap_v3_spec.py`` and
``oneinch_spec.py`` (light modules: the pool and API clients beside them import web3 and eth
libraries). A venue on the simulator's local chain carries no chain name (``uniswap_v3_500``); one on
a configured chain does (``uniswap_v3_arbitrum_500``), so two chains' pools never share a name."""

from __future__ import annotations

DEX_VENUES: tuple[str, ...] = ("uniswap_v3", "oneinch")


def dex_family(venue: str) -> str | None:
    """``uniswap_v3`` for ``uniswap_v3_3000`` or ``uniswap_v3_arbitrum_3000``; None for a venue that
    is not on-chain."""
    for family in DEX_VENUES:
        if venue == family or venue.startswith(family + "_"):
            return family
    return None


def pool_venue(fee: int, chain: str | None = None) -> str:
    """The routing venue of a Uniswap V3 pool: ``uniswap_v3_500`` for the 0.05 % tier on the local
    chain, ``uniswap_v3_arbitrum_500`` on a configured chain."""
    return f"uniswap_v3_{fee}" if chain is None else f"uniswap_v3_{chain}_{fee}"


def oneinch_venue(chain: str | None = None) -> str:
    """The routing venue of the 1inch aggregator: ``oneinch`` on the local chain, ``oneinch_arbitrum``
    on a configured chain."""
    return "oneinch" if chain is None else f"oneinch_{chain}"
