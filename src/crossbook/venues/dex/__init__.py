"""The on-chain venues: Uniswap V3 pools (one routing venue per pool, named by its fee tier) and the
1inch aggregator. A DEX has no client order id on the wire; the journal still gives each swap one,
so a swap is journaled before its transaction is signed, like any order."""

from __future__ import annotations

from ...trading.client_ids import ClientIdRule, IdStyle

DEX_VENUES: tuple[str, ...] = ("uniswap_v3", "oneinch")

CLIENT_ID = ClientIdRule(
    "dex", "journal id (kept by crossbook; a transaction carries none)", "", r"cb[0-9a-z]{1,21}", IdStyle.TOKEN,
    "crossbook's own: the chain knows a swap by its transaction hash",
)


def dex_family(venue: str) -> str | None:
    """``uniswap_v3`` for ``uniswap_v3_3000``; None for a venue that is not on-chain."""
    for family in DEX_VENUES:
        if venue == family or venue.startswith(family + "_"):
            return family
    return None


def pool_venue(fee: int) -> str:
    """The routing venue of a Uniswap V3 pool: ``uniswap_v3_500`` for the 0.05 % tier."""
    return f"uniswap_v3_{fee}"
