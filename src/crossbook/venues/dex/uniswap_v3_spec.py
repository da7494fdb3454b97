"""Uniswap V3 as a venue: one routing venue per pool (``uniswap_v3_500`` for the 0.05 % tier), its
fee set by the pool's tier, its book the pool's liquidity (``venues/dex/amm.py``), its orders swaps
through SwapRouter (``uniswap_v3_exec.py``) journaled like any order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import VenueSpec
from ..spec.capabilities import Feature, Product, Support, VenueCapabilities
from ..spec.client_ids import ClientIdRule, IdStyle

if TYPE_CHECKING:
    from .chains import ChainSupport

_NO = Support.no()

CAPABILITIES = VenueCapabilities(
    venue="uniswap_v3",
    products=dict.fromkeys(Product, _NO) | {Product.SPOT: Support.yes("token swaps in a pool (one venue per fee tier)")},
    features=dict.fromkeys(Feature, _NO) | {
        Feature.MARKET: Support.yes("a swap through SwapRouter with a slippage bound and a deadline"),
        Feature.LIMIT: Support.yes("a range order: a one-tick position through the position manager"),
        Feature.TESTNET: Support.yes("any chain by its RPC URL ([chains] in crossbook.toml)"),
    },
)

SPEC: VenueSpec[object] = VenueSpec(
    venue="uniswap_v3",
    kind="dex",
    tier=None,
    client_id=ClientIdRule(
        "uniswap_v3", "journal id (kept by crossbook; a transaction carries none)", "", r"cb[0-9a-z]{1,21}",
        IdStyle.TOKEN, "crossbook's own: the chain knows a swap by its transaction hash",
    ),
    capabilities=CAPABILITIES.traded((Product.SPOT, Feature.MARKET, Feature.LIMIT)),
)


def chains() -> tuple[ChainSupport, ...]:
    """The chains crossbook trades Uniswap V3 on (``chains.CHAINS``) and what it does on each: swaps
    (exact input and output, native coin in and out) and range orders, through SwapRouter where it
    exists (deadline in each swap), else SwapRouter02 (BNB Chain, Avalanche: deadline in multicall)."""
    from .chains import CHAINS, ROUTER_NAMES, ChainSupport

    def supports(router_kind: str) -> tuple[str, ...]:
        also = "SwapRouter02 opt-in" if router_kind == "swap_router" else "SwapRouter02 only"
        return ("swaps", "range orders", also)

    return tuple(ChainSupport(c.name, c.chain_id, ROUTER_NAMES[c.router_kind], c.router, supports(c.router_kind), c.source)
                 for c in CHAINS.values())
