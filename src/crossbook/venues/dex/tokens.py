"""Standard assets as tokens on each chain crossbook trades on: crossbook's asset name ("BTC", "ETH",
"USDT") -> the token a desk trades for it on that chain's DEXes, with its checksummed address and
decimals from the published deployments (source cited per chain or per token)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import UnknownSymbol


@dataclass(frozen=True, slots=True)
class ChainToken:
    """``asset``: crossbook's standard asset ("BTC"); ``symbol``: the token's on-chain symbol ("WBTC");
    ``address``: checksummed; ``decimals``: as the token contract publishes them."""

    asset: str
    symbol: str
    address: str
    decimals: int


def _table(*tokens: ChainToken) -> Mapping[str, ChainToken]:
    return {token.asset: token for token in tokens}


# Where no single page lists a chain's tokens, each address is the one the chain's explorer shows as
# the verified token contract (https://<explorer>/token/<address>), cross-checked against Uniswap's
# token lists (https://tokens.uniswap.org) and the issuers' pages below.
CIRCLE_USDC = "https://developers.circle.com/stablecoins/usdc-contract-addresses"
TETHER = "https://tether.to/en/supported-protocols"

# https://etherscan.io/token/<address>; USDC is Circle's native USDC (CIRCLE_USDC), USDT Tether's (TETHER).
_ETHEREUM = _table(
    ChainToken("BTC", "WBTC", "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", 8),
    ChainToken("ETH", "WETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18),
    ChainToken("USDT", "USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
    ChainToken("USDC", "USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
    ChainToken("DAI", "DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F", 18),
)

# https://bscscan.com/token/<address>. Circle and Tether issue neither USDC nor USDT on BNB Chain:
# these are Binance's pegged tokens (BSC-USD, Binance-Peg USD Coin, -Ethereum, -Dai, BTCB), all with
# 18 decimals, unlike their 6- and 8-decimal originals.
_BSC = _table(
    ChainToken("BTC", "BTCB", "0x7130d2A12B9BCbFAe4f2634d864A1Ee1Ce3Ead9c", 18),
    ChainToken("ETH", "ETH", "0x2170Ed0880ac9A755fd29B2688956BD959F933F8", 18),
    ChainToken("USDT", "USDT", "0x55d398326f99059fF775485246999027B3197955", 18),
    ChainToken("USDC", "USDC", "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", 18),
    ChainToken("DAI", "DAI", "0x1AF3F329e8BE154074D8769D1FFa4eE058B1DBc3", 18),
    ChainToken("BNB", "WBNB", "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c", 18),
)

# https://polygonscan.com/token/<address>. USDC is Circle's native USDC (CIRCLE_USDC), not the bridged
# USDC.e (0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174). The wrapped native token's contract symbol is
# still WMATIC (explorers label it WPOL since the MATIC -> POL rename).
_POLYGON = _table(
    ChainToken("BTC", "WBTC", "0x1BFD67037B42Cf73acF2047067bd4F2C47D9BfD6", 8),
    ChainToken("ETH", "WETH", "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619", 18),
    ChainToken("USDT", "USDT", "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", 6),
    ChainToken("USDC", "USDC", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6),
    ChainToken("DAI", "DAI", "0x8f3Cf7ad23Cd3CaDbD9735AFf958023239c6A063", 18),
    ChainToken("POL", "WMATIC", "0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270", 18),
)

# https://arbiscan.io/token/<address>. USDC is Circle's native USDC (CIRCLE_USDC), not the bridged
# USDC.e (0xFF970A61A04b1cA14834A43f5dE4533eBDDB5CC8); USDT's contract now calls itself USDT0
# (Tether's USDT0 upgrade kept the address).
_ARBITRUM = _table(
    ChainToken("BTC", "WBTC", "0x2f2a2543B76A4166549F7aaB2e75Bef0aefC5B0f", 8),
    ChainToken("ETH", "WETH", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", 18),
    ChainToken("USDT", "USDT", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6),
    ChainToken("USDC", "USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
    ChainToken("DAI", "DAI", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", 18),
)

# https://optimistic.etherscan.io/token/<address>. USDC is Circle's native USDC (CIRCLE_USDC), not the
# bridged USDC.e (0x7F5c764cBc14f9669B88837ca1490cCa17c31607).
_OPTIMISM = _table(
    ChainToken("BTC", "WBTC", "0x68f180fcCe6836688e9084f035309E29Bf0A2095", 8),
    ChainToken("ETH", "WETH", "0x4200000000000000000000000000000000000006", 18),
    ChainToken("USDT", "USDT", "0x94b008aA00579c1307B0EF2c499aD98a8ce58e58", 6),
    ChainToken("USDC", "USDC", "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", 6),
    ChainToken("DAI", "DAI", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", 18),
)

# https://snowtrace.io/token/<address>. USDC is Circle's native USDC (CIRCLE_USDC), USDt Tether's native
# issue (TETHER); BTC.b is the Avalanche Bridge's bitcoin (8 decimals); WETH.e and DAI.e are bridged
# from Ethereum (Avalanche Bridge, https://github.com/ava-labs/avalanche-bridge-resources).
_AVALANCHE = _table(
    ChainToken("BTC", "BTC.b", "0x152b9d0FdC40C096757F570A51E494bd4b943E50", 8),
    ChainToken("ETH", "WETH.e", "0x49D5c2BdFfac6CE2BFdB6640F4F80f226bc10bAB", 18),
    ChainToken("USDT", "USDt", "0x9702230A8Ea53601f5cD2dc00fDBc13d4dF4A8c7", 6),
    ChainToken("USDC", "USDC", "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E", 6),
    ChainToken("DAI", "DAI.e", "0xd586E7F844cEa2F87f50152665BCbc2C279D8d70", 18),
    ChainToken("AVAX", "WAVAX", "0xB31f66AA3C1e785363F0875A1B74E27b85FD66c7", 18),
)

TOKENS: Mapping[str, Mapping[str, ChainToken]] = {
    "ethereum": _ETHEREUM,
    "bsc": _BSC,
    "polygon": _POLYGON,
    "arbitrum": _ARBITRUM,
    "optimism": _OPTIMISM,
    "avalanche": _AVALANCHE,
}


def chain_token(tokens: Mapping[str, ChainToken], asset: str, chain: str) -> ChainToken:
    """The token standing for ``asset`` among a chain's ``tokens``; UnknownSymbol naming both when
    the chain has none."""
    token = tokens.get(asset)
    if token is None:
        known = ", ".join(sorted(tokens)) or "none"
        raise UnknownSymbol(f"no token for {asset} on chain {chain} (known there: {known}); "
                            f"add it under [chains.{chain}.tokens]")
    return token
