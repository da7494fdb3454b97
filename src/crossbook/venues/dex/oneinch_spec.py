"""1inch as a venue: the Aggregation API v6 (quotes and swaps routed across pools) and the Limit
Order Protocol v4 (orders signed as EIP-712); the client is ``oneinch.py``.

CHI, 1inch's gas token, is not used: it minted storage/contracts while gas was cheap and destroyed
them in a swap for the gas refund, and EIP-3529 (in the London upgrade, August 2021) removed the
SELFDESTRUCT refund and capped refunds at a fifth of the gas used, so burning CHI no longer pays
(https://eips.ethereum.org/EIPS/eip-3529). Gas is priced from each chain's fee history instead
(``gas.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import VenueSpec
from ..spec.capabilities import Feature, Product, Support, VenueCapabilities
from ..spec.client_ids import ClientIdRule, IdStyle

if TYPE_CHECKING:
    from .chains import ChainSupport

EIP_3529 = "https://eips.ethereum.org/EIPS/eip-3529"
CHI_NOTE = f"no CHI gas token: EIP-3529 (London, 2021) cut the gas refunds that made it pay ({EIP_3529})"

_NO = Support.no()

CAPABILITIES = VenueCapabilities(
    venue="oneinch",
    products=dict.fromkeys(Product, _NO) | {Product.SPOT: Support.yes("token swaps routed across the chain's pools")},
    features=dict.fromkeys(Feature, _NO) | {
        Feature.MARKET: Support.yes(f"a swap through the aggregation router with a slippage bound; {CHI_NOTE}"),
        Feature.LIMIT: Support.yes("Limit Order Protocol v4: a signed order a taker fills on chain"),
    },
)

SPEC: VenueSpec[object] = VenueSpec(
    venue="oneinch",
    kind="dex",
    tier=None,
    client_id=ClientIdRule(
        "oneinch", "journal id (kept by crossbook; an order is known by its hash)", "", r"cb[0-9a-z]{1,21}",
        IdStyle.TOKEN, "crossbook's own: the chain knows a swap by its transaction hash, an order by its hash",
    ),
    capabilities=CAPABILITIES.traded((Product.SPOT, Feature.MARKET, Feature.LIMIT)),
)


def chains() -> tuple[ChainSupport, ...]:
    """The chains crossbook uses 1inch on (those of ``chains.CHAINS`` with an Aggregation Router v6)
    and what it does on each: swaps through the Swap API v6 and Limit Order Protocol v4 orders (the
    same contract), without CHI."""
    from .chains import CHAINS, ONEINCH_SOURCE, ChainSupport

    return tuple(ChainSupport(c.name, c.chain_id, "AggregationRouterV6", c.oneinch_router,
                              ("swaps (API v6)", "limit orders (LOP v4)", "no CHI"),
                              ONEINCH_SOURCE)
                 for c in CHAINS.values() if c.oneinch_router is not None)
