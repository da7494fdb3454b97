"""The EVM chains crossbook trades Uniswap V3 on, as data, and their configuration.

Every address of a chain comes from Uniswap's deployments page for that chain (``source``); the
wrapped native token is from the same page. Ethereum, Arbitrum, Optimism and Polygon have the
original SwapRouter (deadline inside each swap's parameters); BNB Chain and Avalanche only have
SwapRouter02, whose swap structs carry no deadline: there the deadline goes through
``multicall(uint256 deadline, bytes[] data)`` (``router_kind`` says which).

crossbook.toml:

    [chains.arbitrum]
    rpc_url = "https://arb1.example/rpc"
    wallet = "vault:arb-wallet"          # the vault's wallet key (crossbook keys wallet), or
                                         # wallet_key_env = "ARBITRUM_KEY" (kept out of every repr and error)
    router_kind = "swap_router02"        # optional: use SwapRouter02 where both routers exist
    [chains.arbitrum.addresses]          # optional overrides of the table's addresses
    quoter_v2 = "0x..."
    [chains.arbitrum.tokens]             # optional: standard asset -> token, over tokens.py's table
    BTC = { address = "0x...", decimals = 8 }
    [chains.arbitrum.oneinch]            # optional: 1inch quotes and swaps on this chain
    api_key_env = "ONEINCH_API_KEY"      # required; the key is read from it at load and never shown
    base_url = "https://api.1inch.dev"   # default
    plan = "developer"                   # developer, startup or business (oneinch.PLAN_RPS)

1inch's Aggregation Router v6 has one address on all six chains: 1inch's own deployment constants,
https://github.com/1inch/limit-order-protocol/blob/master/deploy/constants/router-v6.js (chain ids 1,
56, 137, 42161, 10, 43114; the same contract is the Limit Order Protocol v4), and the Swap API's
"Supported on" list, https://business.1inch.com/portal/documentation/apis/swap/classic-swap/methods/v6.1/1/swap/method/get
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from eth_utils import is_address, is_checksum_address, to_checksum_address

from ...errors import ConfigError
from .tokens import TOKENS, ChainToken

RouterKind = Literal["swap_router", "swap_router02"]
ROUTER_KINDS: tuple[RouterKind, ...] = ("swap_router", "swap_router02")
ADDRESS_NAMES = ("factory", "swap_router", "swap_router02", "quoter_v2", "position_manager", "tick_lens")
LOCAL_CHAIN_ID = 31337
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY_PATTERN = re.compile(r"(0x)?[0-9a-fA-F]{64}")
DEPLOYMENTS = "https://docs.uniswap.org/contracts/v3/reference/deployments/"
ONEINCH_ROUTER_V6 = "0x111111125421cA6dc452d289314280a0f8842A65"
MAX_DECIMALS = 36
TOKEN_KEYS = ("address", "decimals", "symbol")
ONEINCH_KEYS = ("api_key_env", "base_url", "plan")
# oneinch.PUBLIC_BASE_URL and oneinch.PLAN_RPS's plans, named here because config (which reads this
# module) may not import the 1inch client (import-linter); tests keep the two equal.
ONEINCH_BASE_URL = "https://api.1inch.dev"
ONEINCH_PLANS = ("developer", "startup", "business")
# The local chain's test tokens under crossbook's standard asset names.
LOCAL_ASSETS = {"WBTC": "BTC", "WETH": "ETH"}

# The same v3-core/v3-periphery deployment serves Ethereum, Arbitrum, Optimism and Polygon.
_CANONICAL = {
    "factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
    "swap_router": "0xE592427A0AEce92De3Edee1F18E0157C05861564",
    "swap_router02": "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45",
    "quoter_v2": "0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
    "position_manager": "0xC36442b4a4522E871399CD717aBDD847Ab11FE88",
    "tick_lens": "0xbfd8137f7d1516D3ea5cA83523914859ec47F573",
}


@dataclass(frozen=True, slots=True)
class Chain:
    """One chain's facts: ``addresses`` maps factory, swap_router (absent where only SwapRouter02
    exists), swap_router02, quoter_v2, position_manager and tick_lens to checksummed addresses.
    ``oneinch_router``: 1inch's Aggregation Router v6 there (None where crossbook has no 1inch)."""

    name: str
    chain_id: int
    native_symbol: str
    wrapped_native: str
    addresses: Mapping[str, str]
    router_kind: RouterKind
    source: str
    oneinch_router: str | None = None

    @property
    def router(self) -> str:
        return self.addresses[self.router_kind]


CHAINS: dict[str, Chain] = {
    chain.name: chain
    for chain in (
        Chain("ethereum", 1, "ETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", _CANONICAL, "swap_router",
              DEPLOYMENTS + "ethereum-deployments", ONEINCH_ROUTER_V6),
        Chain("arbitrum", 42161, "ETH", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", _CANONICAL, "swap_router",
              DEPLOYMENTS + "arbitrum-deployments", ONEINCH_ROUTER_V6),
        Chain("optimism", 10, "ETH", "0x4200000000000000000000000000000000000006", _CANONICAL, "swap_router",
              DEPLOYMENTS + "optimism-deployments", ONEINCH_ROUTER_V6),
        # Polygon's native coin was renamed MATIC -> POL (2024); the wrapped token kept its address.
        Chain("polygon", 137, "POL", "0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270", _CANONICAL, "swap_router",
              DEPLOYMENTS + "polygon-deployments", ONEINCH_ROUTER_V6),
        Chain("bsc", 56, "BNB", "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c", {
            "factory": "0xdB1d10011AD0Ff90774D0C6Bb92e5C5c8b4461F7",
            "swap_router02": "0xB971eF87ede563556b2ED4b1C0b0019111Dd85d2",
            "quoter_v2": "0x78D78E420Da98ad378D7799bE8f4AF69033EB077",
            "position_manager": "0x7b8A01B39D58278b5DE7e48c8449c9f4F5170613",
            "tick_lens": "0xD9270014D396281579760619CCf4c3af0501A47C",
        }, "swap_router02", DEPLOYMENTS + "bnb-deployments", ONEINCH_ROUTER_V6),
        Chain("avalanche", 43114, "AVAX", "0xB31f66AA3C1e785363F0875A1B74E27b85FD66c7", {
            "factory": "0x740b1c1de25031C31FF4fC9A62f554A55cdC1baD",
            "swap_router02": "0xbb00FF08d01D300023C629E8fFfFcb65A5a578cE",
            "quoter_v2": "0xbe0F5544EC67e9B3b2D979aaA43f18Fd87E6257F",
            "position_manager": "0x655C406EBFa14EE2006250925e54ec43AD184f8B",
            "tick_lens": "0xEB9fFC8bf81b4fFd11fb6A63a6B0f098c6e21950",
        }, "swap_router02", DEPLOYMENTS + "avalanche-deployments", ONEINCH_ROUTER_V6),
    )
}


ROUTER_NAMES: dict[RouterKind, str] = {"swap_router": "SwapRouter", "swap_router02": "SwapRouter02"}
ONEINCH_SOURCE = "https://github.com/1inch/limit-order-protocol/blob/master/deploy/constants/router-v6.js"


@dataclass(frozen=True, slots=True)
class ChainSupport:
    """What crossbook does with one DEX on one chain: the contract it sends to (``router_name`` at
    ``router``), what it trades there (``supports``), and where the address comes from."""

    chain: str
    chain_id: int
    router_name: str
    router: str
    supports: tuple[str, ...]
    source: str

    def as_dict(self) -> dict[str, object]:
        return {"chain": self.chain, "chain_id": self.chain_id, "router_name": self.router_name,
                "router": self.router, "supports": list(self.supports), "source": self.source}


class LocalToken(Protocol):
    """A token of a local chain (``crossbook.sim.chain.Token``)."""

    @property
    def address(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def decimals(self) -> int: ...


class LocalDeployment(Protocol):
    """What a local chain (``crossbook.sim.chain.Deployment``) tells about itself."""

    rpc_url: str
    keys: list[str]
    chain_id: int
    addresses: dict[str, str]

    @property
    def tokens(self) -> Mapping[str, LocalToken]: ...


@dataclass(frozen=True, slots=True)
class OneInchConfig:
    """``[chains.<name>.oneinch]``: the API's base URL, the plan (its rate limit) and the API key,
    read from ``api_key_env`` at load and never shown (not in repr, str or any error)."""

    base_url: str
    plan: str
    api_key: str = field(repr=False)
    api_key_env: str = ""


@dataclass(frozen=True)
class ChainConfig:
    """One configured chain: its RPC endpoint, the wallet's private key (never shown: not in repr,
    str or any error) and the chain's addresses with the configured overrides applied.
    ``wallet_ref``: the vault wallet the key comes from (``wallet_key`` is empty until the
    configuration resolves it through an unlocked vault)."""

    name: str
    rpc_url: str
    wallet_key: str = field(repr=False)
    chain: Chain
    overrides: Mapping[str, str] = field(default_factory=dict)
    wallet_ref: str | None = None
    token_overrides: Mapping[str, ChainToken] = field(default_factory=dict)
    oneinch: OneInchConfig | None = None

    def __repr__(self) -> str:
        return f"ChainConfig(name={self.name!r}, rpc_url={self.rpc_url!r}, chain_id={self.chain.chain_id}, wallet_key=<hidden>)"

    __str__ = __repr__

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @property
    def addresses(self) -> dict[str, str]:
        return {**self.chain.addresses, **self.overrides}

    @property
    def router_kind(self) -> RouterKind:
        return self.chain.router_kind

    @property
    def router(self) -> str:
        return self.addresses[self.router_kind]

    @property
    def tokens(self) -> dict[str, ChainToken]:
        """Standard asset -> token on this chain: tokens.py's table with the configured overrides."""
        return {**TOKENS.get(self.name, {}), **self.token_overrides}


def chain_config(name: str, table: Mapping[str, Any], where: str = "crossbook.toml") -> ChainConfig:
    """A ``[chains.<name>]`` table: ``rpc_url`` (required), ``wallet = "vault:NAME"`` or ``wallet_key_env``,
    and optionally ``router_kind``, ``[chains.<name>.addresses]`` and ``[chains.<name>.tokens]`` overrides
    and ``[chains.<name>.oneinch]``."""
    where = f"{where}: [chains.{name}]"
    if name not in CHAINS:
        raise ConfigError(f"{where}: unknown chain {name!r}; known chains: {', '.join(CHAINS)}")
    unknown = set(table) - {"rpc_url", "wallet", "wallet_key", "wallet_key_env", "router_kind", "addresses",
                            "tokens", "oneinch"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    chain = CHAINS[name]
    overrides = _addresses(table.get("addresses", {}), where)
    if "router_kind" in table:
        chain = replace(chain, router_kind=_router_kind(table["router_kind"], where))
    if chain.router_kind not in {**chain.addresses, **overrides}:
        raise ConfigError(f"{where}: router_kind {chain.router_kind!r} has no address on {name}; set addresses.{chain.router_kind}")
    wallet_ref = _wallet_ref(table, where)
    key = "" if wallet_ref is not None else _wallet_key(table, where)
    tokens = token_overrides(name, table.get("tokens", {}), where)
    oneinch = oneinch_config(table["oneinch"], where) if "oneinch" in table else None
    return ChainConfig(name, _rpc_url(table, where), key, chain, overrides, wallet_ref, tokens, oneinch)


def chains_config(tables: Any, where: str = "crossbook.toml") -> dict[str, ChainConfig]:
    """Every table of a ``[chains]`` section, by chain name."""
    if not isinstance(tables, Mapping) or not all(isinstance(t, Mapping) for t in tables.values()):
        raise ConfigError(f"{where}: chains must be tables such as [chains.ethereum]")
    return {name: chain_config(name, table, where) for name, table in tables.items()}


def local_chain_config(deployment: LocalDeployment, key_index: int = 1) -> ChainConfig:
    """The anvil chain a ``Deployment`` describes (its chain id, SwapRouter), with one of its dev keys
    as the wallet and its test tokens under crossbook's asset names (WBTC -> BTC, WETH -> ETH, USDT, USDC)."""
    addresses = {name: deployment.addresses[name] for name in ADDRESS_NAMES if name in deployment.addresses}
    chain = Chain("local", deployment.chain_id, "ETH", deployment.addresses["weth"], addresses, "swap_router", "anvil")
    return ChainConfig("local", deployment.rpc_url, deployment.keys[key_index], chain,
                       token_overrides=local_tokens(deployment))


def local_tokens(deployment: LocalDeployment) -> dict[str, ChainToken]:
    """A local chain's tokens by standard asset."""
    tokens = {}
    for symbol, token in deployment.tokens.items():
        asset = LOCAL_ASSETS.get(symbol, symbol)
        tokens[asset] = ChainToken(asset, token.symbol, to_checksum_address(token.address), token.decimals)
    return tokens


def token_overrides(chain: str, table: Any, where: str) -> dict[str, ChainToken]:
    """``[chains.<chain>.tokens]``: ``ASSET = { address = "0x..", decimals = N, symbol = "..." }``; symbol
    defaults to the table's token for that asset, else the asset."""
    where = f"{where.removesuffix(']')}.tokens]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table of ASSET = {{ address = \"0x..\", decimals = N }}")
    return {asset: _token(chain, asset, entry, f"{where.removesuffix(']')}.{asset}]") for asset, entry in table.items()}


def _token(chain: str, asset: str, entry: Any, where: str) -> ChainToken:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be {{ address = \"0x..\", decimals = N }}, got {entry!r}")
    unknown = set(entry) - set(TOKEN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(TOKEN_KEYS)}")
    address = entry.get("address")
    if not isinstance(address, str) or not is_address(address):
        raise ConfigError(f"{where}: address must be an EIP-55 checksummed 0x address, got {address!r}")
    if not is_checksum_address(address):  # a typo in a checksummed address shows; a lowercase one is not checked
        raise ConfigError(f"{where}: address {address} is not EIP-55 checksummed (checksummed it would read "
                          f"{to_checksum_address(address)}: check it against the token's explorer page)")
    decimals = entry.get("decimals")
    if type(decimals) is not int or not 0 <= decimals <= MAX_DECIMALS:
        raise ConfigError(f"{where}: decimals must be an integer 0..{MAX_DECIMALS}, got {decimals!r}")
    known = TOKENS.get(chain, {}).get(asset)
    symbol = entry.get("symbol", known.symbol if known is not None else asset)
    if not isinstance(symbol, str) or not symbol:
        raise ConfigError(f"{where}: symbol must be a non-empty string, got {symbol!r}")
    return ChainToken(asset, symbol, address, decimals)


def oneinch_config(table: Any, where: str) -> OneInchConfig:
    """``[chains.<name>.oneinch]``: ``api_key_env`` (required, must be set), ``base_url``, ``plan``."""
    where = f"{where.removesuffix(']')}.oneinch]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table with api_key_env, base_url, plan")
    unknown = set(table) - set(ONEINCH_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(ONEINCH_KEYS)}")
    env = table.get("api_key_env")
    if not isinstance(env, str) or not env:
        raise ConfigError(f"{where}: api_key_env is required and must name an environment variable")
    key = os.environ.get(env)
    if not key:
        raise ConfigError(f"{where}: environment variable {env} (api_key_env) is not set")
    base_url = table.get("base_url", ONEINCH_BASE_URL)
    if not isinstance(base_url, str) or not re.match(r"https?://\S+$", base_url):
        raise ConfigError(f"{where}: base_url must be an http(s) URL, got {base_url!r}")
    plan = table.get("plan", "developer")
    if plan not in ONEINCH_PLANS:
        raise ConfigError(f"{where}: plan must be one of {', '.join(ONEINCH_PLANS)}, got {plan!r}")
    return OneInchConfig(base_url.rstrip("/"), plan, key, env)


def _rpc_url(table: Mapping[str, Any], where: str) -> str:
    url = table.get("rpc_url")
    if not isinstance(url, str) or not re.match(r"(https?|wss?)://\S+$", url):
        raise ConfigError(f"{where}: rpc_url must be an http(s) or ws(s) URL, got {url!r}")
    return url


def _wallet_ref(table: Mapping[str, Any], where: str) -> str | None:
    """The vault wallet ``wallet = "vault:NAME"`` names; a private key written in the file is refused."""
    if "wallet_key" in table:
        raise ConfigError(f"{where}: wallet_key (a private key in the file) is no longer read: store it in the vault "
                          f"(crossbook keys wallet NAME --chain CHAIN) and write wallet = \"vault:NAME\", or use wallet_key_env")
    if "wallet" not in table:
        return None
    if "wallet_key_env" in table:
        raise ConfigError(f"{where}: give wallet or wallet_key_env, not both")
    ref = table["wallet"]
    if not isinstance(ref, str) or not ref.startswith("vault:") or not ref.removeprefix("vault:").strip():
        raise ConfigError(f"{where}: wallet must name a vault wallet as \"vault:NAME\", got {ref!r}")
    return ref.removeprefix("vault:").strip()


def normalized_private_key(key: str) -> str | None:
    """``key`` as a 0x-prefixed 32-byte hex private key, or None when it is not one."""
    return (key if key.startswith("0x") else "0x" + key) if _is_private_key(key) else None


def _wallet_key(table: Mapping[str, Any], where: str) -> str:
    if "wallet_key_env" not in table:
        raise ConfigError(f"{where}: a wallet is required: wallet = \"vault:NAME\" or wallet_key_env")
    env = table["wallet_key_env"]
    if not isinstance(env, str) or not env:
        raise ConfigError(f"{where}: wallet_key_env must name an environment variable")
    key = os.environ.get(env)
    if not key:
        raise ConfigError(f"{where}: environment variable {env} (wallet_key_env) is not set")
    normalized = normalized_private_key(key)
    if normalized is None:
        raise ConfigError(f"{where}: environment variable {env} (wallet_key_env) is not a 32-byte hex private key")
    return normalized


def _is_private_key(key: Any) -> bool:
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None and 0 < int(key, 16) < SECP256K1_ORDER


def _router_kind(kind: Any, where: str) -> RouterKind:
    for known in ROUTER_KINDS:
        if kind == known:
            return known
    raise ConfigError(f"{where}: router_kind must be one of {', '.join(ROUTER_KINDS)}, got {kind!r}")


def _addresses(table: Any, where: str) -> dict[str, str]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: addresses must be a table of contract name = address")
    out: dict[str, str] = {}
    for name, address in table.items():
        if name not in ADDRESS_NAMES:
            raise ConfigError(f"{where}: addresses.{name} is not a contract crossbook uses ({', '.join(ADDRESS_NAMES)})")
        if not isinstance(address, str) or not is_address(address):
            raise ConfigError(f"{where}: addresses.{name} must be a 0x address, got {address!r}")
        out[name] = to_checksum_address(address)
    return out
