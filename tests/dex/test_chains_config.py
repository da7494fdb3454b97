"""The chains table and the [chains.<name>] configuration: ids, routers, errors that name the
field, and a wallet key that never shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils import is_checksum_address, to_checksum_address

from crossbook.config import load_config
from crossbook.errors import ConfigError
from crossbook.sim.chain import Deployment
from crossbook.venues.dex.chains import (
    ADDRESS_NAMES,
    CHAINS,
    ONEINCH_BASE_URL,
    ONEINCH_PLANS,
    chain_config,
    local_chain_config,
)
from crossbook.venues.dex.oneinch import PLAN_RPS, PUBLIC_BASE_URL
from crossbook.venues.dex.tokens import TOKENS
from crossbook.venues.dex.uniswap_v3_exec import UniswapV3Trader
from tests.conftest import run

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WALLET = "vault:wallet"
ACCOUNT = '[[accounts]]\nvenue = "binance"\nmode = "sim"\nccxt_config = "sim.json"\n'


def test_the_table_has_the_six_chains_with_their_ids() -> None:
    ids = {name: chain.chain_id for name, chain in CHAINS.items()}
    assert ids == {"ethereum": 1, "arbitrum": 42161, "optimism": 10, "polygon": 137, "bsc": 56, "avalanche": 43114}
    for chain in CHAINS.values():
        assert set(chain.addresses) <= set(ADDRESS_NAMES)
        assert {"factory", "swap_router02", "quoter_v2", "position_manager", "tick_lens"} <= set(chain.addresses)
        assert all(is_checksum_address(a) for a in [*chain.addresses.values(), chain.wrapped_native])
        assert chain.source.startswith("https://docs.uniswap.org/contracts/v3/reference/deployments/")
        assert chain.router == chain.addresses[chain.router_kind]


def test_bsc_and_avalanche_only_have_swap_router02() -> None:
    for name in ("bsc", "avalanche"):
        assert CHAINS[name].router_kind == "swap_router02" and "swap_router" not in CHAINS[name].addresses
    for name in ("ethereum", "arbitrum", "optimism", "polygon"):
        assert CHAINS[name].router_kind == "swap_router"
        assert CHAINS[name].router == "0xE592427A0AEce92De3Edee1F18E0157C05861564"


def test_a_chain_table_is_parsed_with_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_KEY", KEY)
    config = chain_config("arbitrum", {"rpc_url": "https://arb.example/rpc", "wallet_key_env": "ARB_KEY",
                                       "router_kind": "swap_router02",
                                       "addresses": {"quoter_v2": "0x" + "ab" * 20}})
    assert config.chain_id == 42161 and config.wallet_key == KEY
    assert config.router == CHAINS["arbitrum"].addresses["swap_router02"]
    assert config.addresses["quoter_v2"] == to_checksum_address("0x" + "ab" * 20)
    assert config.addresses["factory"] == CHAINS["arbitrum"].addresses["factory"]


@pytest.mark.parametrize("name, table, field", [
    ("solana", {"rpc_url": "https://x.example", "wallet": WALLET}, "unknown chain 'solana'"),
    ("ethereum", {"wallet": WALLET}, "rpc_url"),
    ("ethereum", {"rpc_url": "localhost:8545", "wallet": WALLET}, "rpc_url"),
    ("ethereum", {"rpc_url": "https://x.example"}, "wallet_key_env"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": "arb-wallet"}, "vault:NAME"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet_key_env": "CROSSBOOK_TEST_UNSET_KEY"}, "CROSSBOOK_TEST_UNSET_KEY"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": "vault:w", "wallet_key_env": "K"}, "not both"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": WALLET, "router_kind": "v4"}, "router_kind"),
    ("bsc", {"rpc_url": "https://x.example", "wallet": WALLET, "router_kind": "swap_router"}, "addresses.swap_router"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": WALLET, "addresses": {"router": "0x" + "11" * 20}}, "addresses.router"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": WALLET, "addresses": {"quoter_v2": "0x12"}}, "addresses.quoter_v2"),
    ("ethereum", {"rpc_url": "https://x.example", "wallet": WALLET, "chain_id": 5}, "chain_id"),
])
def test_config_errors_name_the_bad_field(name: str, table: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        chain_config(name, table)


@pytest.mark.parametrize("bad_key", [KEY[:-2], KEY + "00", "0x" + "zz" * 32, "0x" + "00" * 32])
def test_a_malformed_key_is_refused_without_showing_it(bad_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAD_KEY", bad_key)
    with pytest.raises(ConfigError, match=r"BAD_KEY \(wallet_key_env\) is not a 32-byte hex private key") as raised:
        chain_config("ethereum", {"rpc_url": "https://x.example", "wallet_key_env": "BAD_KEY"})
    assert bad_key[2:12] not in str(raised.value) and bad_key[2:12] not in repr(raised.value)


def test_a_key_written_in_the_file_is_refused_pointing_at_the_vault() -> None:
    with pytest.raises(ConfigError, match=r"wallet_key .* no longer read.*vault:NAME.*wallet_key_env") as raised:
        chain_config("ethereum", {"rpc_url": "https://x.example", "wallet_key": KEY})
    assert KEY[2:12] not in str(raised.value)


def test_a_vault_wallet_is_named_and_resolved_later() -> None:
    config = chain_config("ethereum", {"rpc_url": "https://x.example", "wallet": "vault:eth-wallet"})
    assert config.wallet_ref == "eth-wallet" and config.wallet_key == ""


def test_the_key_never_appears_in_repr_str_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETH_KEY", KEY)
    config = chain_config("ethereum", {"rpc_url": "https://eth.example", "wallet_key_env": "ETH_KEY"})
    secret = KEY[2:]
    for shown in (repr(config), str(config), f"{config}", repr([config]), repr({"c": config})):
        assert secret not in shown and "hidden" in shown
    trader = UniswapV3Trader.from_config(config)
    assert secret not in repr(trader) and secret not in repr(trader.wallet)


def test_load_config_reads_the_chains_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLY_KEY", KEY)
    path = tmp_path / "crossbook.toml"
    path.write_text(ACCOUNT + '[chains.polygon]\nrpc_url = "https://polygon.example"\nwallet_key_env = "POLY_KEY"\n')
    config = load_config(path)
    assert list(config.chains) == ["polygon"] and config.chains["polygon"].chain.native_symbol == "POL"
    (tmp_path / "bad.toml").write_text(ACCOUNT + '[chains.fantom]\nrpc_url = "https://x.example"\nwallet_key_env = "POLY_KEY"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: \[chains\.fantom\]: unknown chain 'fantom'"):
        load_config(tmp_path / "bad.toml")
    assert load_config(_without_chains(tmp_path)).chains == {}


def _without_chains(folder: Path) -> Path:
    path = folder / "plain.toml"
    path.write_text(ACCOUNT)
    return path


def test_the_local_chain_comes_from_a_deployment_and_trades(chain: Deployment) -> None:
    config = local_chain_config(chain, key_index=1)
    assert config.chain_id == 31337 and config.router == chain.addresses["swap_router"]
    assert config.chain.wrapped_native == chain.addresses["weth"]
    assert chain.keys[1][2:] not in repr(config)

    async def body() -> None:
        trader = UniswapV3Trader.from_config(config)
        try:
            wbtc, usdt = chain.tokens["WBTC"], chain.tokens["USDT"]
            quote = await trader.quote_exact_input([wbtc.address, usdt.address], [3000], 10**6)
            assert 590 * 10**6 * 0.99 < quote.amount_out < 600 * 10**6  # 0.01 BTC at ~60k less 0.3 %
        finally:
            await trader.evm.close()

    run(body(), 60)


ONEINCH_KEY = "oneinch-secret-0123456789abcdef"
BASE = {"rpc_url": "https://x.example", "wallet": WALLET}
CHECKSUMMED = to_checksum_address("0x" + "ab" * 20)


def test_the_1inch_plans_and_url_are_the_clients() -> None:
    assert tuple(PLAN_RPS) == ONEINCH_PLANS and PUBLIC_BASE_URL == ONEINCH_BASE_URL


def test_every_chain_has_the_1inch_v6_router() -> None:
    for chain in CHAINS.values():
        assert chain.oneinch_router == "0x111111125421cA6dc452d289314280a0f8842A65"


def test_tokens_come_from_the_table_with_overrides_on_top() -> None:
    override = to_checksum_address("0x" + "ab" * 20)
    config = chain_config("arbitrum", {**BASE, "tokens": {"BTC": {"address": override, "decimals": 8},
                                                          "LINK": {"address": to_checksum_address("0x" + "cd" * 20), "decimals": 18}}})
    assert config.tokens["BTC"].address == override
    assert config.tokens["BTC"].symbol == "WBTC" and config.tokens["BTC"].decimals == 8
    assert config.tokens["LINK"].symbol == "LINK"
    assert config.tokens["USDC"] == TOKENS["arbitrum"]["USDC"]
    assert chain_config("arbitrum", BASE).tokens == dict(TOKENS["arbitrum"])


@pytest.mark.parametrize("tokens, message", [
    ({"BTC": {"address": "0x12", "decimals": 8}}, r"\[chains\.bsc\.tokens\.BTC\]: address"),
    ({"BTC": {"address": "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599".replace("fac", "FAC"), "decimals": 8}},
     r"\[chains\.bsc\.tokens\.BTC\]: address .* not EIP-55 checksummed .*0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"),
    ({"BTC": {"address": "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599", "decimals": 8}}, r"not EIP-55 checksummed"),
    ({"BTC": {"address": CHECKSUMMED, "decimals": 37}}, r"\[chains\.bsc\.tokens\.BTC\]: decimals .*0\.\.36"),
    ({"BTC": {"address": CHECKSUMMED, "decimals": True}}, r"decimals must be an integer"),
    ({"BTC": {"address": CHECKSUMMED, "decimals": "8"}}, r"decimals must be an integer"),
    ({"BTC": {"address": CHECKSUMMED}}, r"decimals must be an integer"),
    ({"BTC": {"address": CHECKSUMMED, "decimals": 8, "price": 1}}, r"\[chains\.bsc\.tokens\.BTC\]: unknown key\(s\) price"),
    ({"BTC": "0x" + "ab" * 20}, r"\[chains\.bsc\.tokens\.BTC\]: must be"),
    ("BTC", r"\[chains\.bsc\.tokens\]: must be a table"),
])
def test_a_bad_token_override_names_its_table(tokens: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        chain_config("bsc", {**BASE, "tokens": tokens})


def test_the_1inch_table_reads_its_key_from_the_environment_and_never_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEINCH_TEST_KEY", ONEINCH_KEY)
    config = chain_config("polygon", {**BASE, "oneinch": {"api_key_env": "ONEINCH_TEST_KEY", "plan": "startup"}})
    assert config.oneinch is not None
    assert (config.oneinch.base_url, config.oneinch.plan, config.oneinch.api_key) == ("https://api.1inch.dev", "startup", ONEINCH_KEY)
    for shown in (repr(config.oneinch), str(config.oneinch), repr(config), repr([config.oneinch])):
        assert ONEINCH_KEY not in shown
    assert chain_config("polygon", BASE).oneinch is None


@pytest.mark.parametrize("table, message", [
    ({}, r"\[chains\.ethereum\.oneinch\]: api_key_env is required"),
    ({"api_key_env": "CROSSBOOK_TEST_UNSET_1INCH"}, r"CROSSBOOK_TEST_UNSET_1INCH \(api_key_env\) is not set"),
    ({"api_key_env": "ONEINCH_TEST_KEY", "plan": "free"}, r"plan must be one of developer, startup, business"),
    ({"api_key_env": "ONEINCH_TEST_KEY", "base_url": "api.1inch.dev"}, r"base_url must be an http\(s\) URL"),
    ({"api_key_env": "ONEINCH_TEST_KEY", "api_key": ONEINCH_KEY}, r"\[chains\.ethereum\.oneinch\]: unknown key\(s\) api_key"),
])
def test_a_bad_1inch_table_is_refused_without_showing_the_key(table: dict[str, Any], message: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEINCH_TEST_KEY", ONEINCH_KEY)
    with pytest.raises(ConfigError, match=message) as raised:
        chain_config("ethereum", {**BASE, "oneinch": table})
    assert ONEINCH_KEY not in str(raised.value)


def test_the_local_chain_has_its_deployments_tokens(chain: Deployment) -> None:
    tokens = local_chain_config(chain).tokens
    assert {"BTC", "ETH", "USDT", "USDC"} <= set(tokens)
    for asset, symbol in (("BTC", "WBTC"), ("ETH", "WETH"), ("USDT", "USDT"), ("USDC", "USDC")):
        assert tokens[asset].address == to_checksum_address(chain.tokens[symbol].address)
        assert tokens[asset].decimals == chain.tokens[symbol].decimals and tokens[asset].symbol == symbol
    assert tokens["ETH"].address == to_checksum_address(chain.addresses["weth"])
