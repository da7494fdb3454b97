"""The token table: standard assets as tokens on each chain, with issuers' addresses and decimals."""

from __future__ import annotations

import pytest
from eth_utils import is_checksum_address

from crossbook.errors import UnknownSymbol
from crossbook.venues.dex.chains import CHAINS
from crossbook.venues.dex.tokens import TOKENS, chain_token

STANDARD = {"BTC", "ETH", "USDT", "USDC", "DAI"}


def test_every_chain_has_the_standard_assets_and_its_wrapped_native_coin() -> None:
    assert set(TOKENS) == set(CHAINS)
    for name, tokens in TOKENS.items():
        chain = CHAINS[name]
        assert STANDARD | {chain.native_symbol} <= set(tokens), name
        assert tokens[chain.native_symbol].address == chain.wrapped_native, name
        for asset, token in tokens.items():
            assert token.asset == asset


def test_addresses_are_checksummed_and_unique_per_chain() -> None:
    for name, tokens in TOKENS.items():
        addresses = [t.address for t in tokens.values()]
        assert all(is_checksum_address(a) for a in addresses), name
        assert len(set(addresses)) == len(addresses), name


@pytest.mark.parametrize("chain, asset, symbol, decimals", [
    ("ethereum", "USDC", "USDC", 6),
    ("ethereum", "USDT", "USDT", 6),
    ("ethereum", "BTC", "WBTC", 8),
    ("bsc", "USDT", "USDT", 18),  # Binance's BSC-USD, not Tether's 6-decimal token
    ("bsc", "USDC", "USDC", 18),
    ("bsc", "BTC", "BTCB", 18),
    ("polygon", "BTC", "WBTC", 8),
    ("polygon", "USDC", "USDC", 6),
    ("arbitrum", "BTC", "WBTC", 8),
    ("optimism", "USDT", "USDT", 6),
    ("avalanche", "BTC", "BTC.b", 8),
    ("avalanche", "USDT", "USDt", 6),
    ("avalanche", "DAI", "DAI.e", 18),
])
def test_decimals_are_the_issuers(chain: str, asset: str, symbol: str, decimals: int) -> None:
    token = chain_token(TOKENS[chain], asset, chain)
    assert (token.symbol, token.decimals) == (symbol, decimals)


def test_native_usdc_is_circles_not_the_bridged_one() -> None:
    bridged = {"polygon": "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174", "arbitrum": "0xFF970A61A04b1cA14834A43f5dE4533eBDDB5CC8",
               "optimism": "0x7F5c764cBc14f9669B88837ca1490cCa17c31607"}
    for chain, address in bridged.items():
        assert TOKENS[chain]["USDC"].address != address


def test_an_unknown_asset_names_the_chain_and_the_asset() -> None:
    with pytest.raises(UnknownSymbol, match=r"no token for SOL on chain bsc .*\[chains\.bsc\.tokens\]"):
        chain_token(TOKENS["bsc"], "SOL", "bsc")
