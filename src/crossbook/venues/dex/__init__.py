"""The on-chain venues: Uniswap V3 pools (one routing venue per pool, named by its fee tier) and the
1inch aggregator. Their SPECs are ``uniswap_v3_spec.py`` and ``oneinch_spec.py`` (light modules:
the pool and API clients beside them import web3 and eth libraries)."""

from __future__ import annotations

DEX_VENUES: tuple[str, ...] = ("uniswap_v3", "oneinch")


def dex_family(venue: str) -> str | None:
    """``uniswap_v3`` for ``uniswap_v3_3000``; None for a venue that is not on-chain."""
    for family in DEX_VENUES:
        if venue == family or venue.startswith(family + "_"):
            return family
    return None


def pool_venue(fee: int) -> str:
    """The routing venue of a Uniswap V3 pool: ``uniswap_v3_500`` for the 0.05 % tier."""
    return f"uniswap_v3_{fee}"
