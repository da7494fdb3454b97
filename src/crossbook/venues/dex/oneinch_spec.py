"""1inch as a venue: the Aggregation API v6 (quotes and swaps routed across pools) and the Limit
Order Protocol v4 (orders signed as EIP-712); the client is ``oneinch.py``."""

from __future__ import annotations

from ..spec import VenueSpec
from ..spec.capabilities import Feature, Product, Support, VenueCapabilities
from ..spec.client_ids import ClientIdRule, IdStyle

_NO = Support.no()

CAPABILITIES = VenueCapabilities(
    venue="oneinch",
    products=dict.fromkeys(Product, _NO) | {Product.SPOT: Support.yes("token swaps routed across the chain's pools")},
    features=dict.fromkeys(Feature, _NO) | {
        Feature.MARKET: Support.yes("a swap through the aggregation router with a slippage bound"),
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
