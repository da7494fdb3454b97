"""The key vault: a round trip of every record, a wrong passphrase, a flipped byte, a file others
may read, an unknown format version, `crossbook keys add/list/remove`, a SIGKILL in the middle of
`keys add`, and a routed order on the simulators with keys taken from the vault only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from crossbook import Desk
from crossbook.config import load_config, sim_config_text
from crossbook.errors import ConfigError, UnknownKey, VaultCorrupt, VaultError, VaultLocked, VaultPermissions
from crossbook.routing.executor import Outcome
from crossbook.security.permissions import KeyPermissions
from crossbook.security.vault import (
    StoredKey,
    StoredWallet,
    TotpState,
    Vault,
    WhitelistEntry,
    default_vault_path,
    unlock,
)

from ..conftest import run

PASSPHRASE = "correct horse battery staple"
API_KEY, SECRET, PASSWORD = "vk-Api-7f3a9c1e5b", "vs-Secret-2d8e4f6a0c", "vp-Pass-9b1d3f5e7a"
WALLET_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
SECRETS = (API_KEY, SECRET, PASSWORD, WALLET_KEY, TOTP_SECRET, PASSPHRASE)


def _filled(path: Path) -> Vault:
    vault = Vault.create(path, PASSPHRASE)
    permissions = KeyPermissions(True, True, False, False, ("10.0.0.1",), 1.0, None, "declared")
    vault.put_key(StoredKey("okx-main", "okx", "main", API_KEY, SECRET, PASSWORD, created=100.0, verified=200.0,
                            permissions=permissions, strategy="basis"))
    vault.put_wallet(StoredWallet("arb", "arbitrum", WALLET_KEY, created=300.0))
    vault.put_whitelist(WhitelistEntry("cold", "BTC", "bc1qexampleaddress", "BTC", None, created=400.0))
    vault.set_totp(TotpState(TOTP_SECRET, enrolled=500.0, last_counter=7, failures=[1.5]))
    vault.save()
    return vault


def test_a_round_trip_keeps_every_record_and_no_secret_shows(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "vault"
    written = _filled(path)
    assert path.stat().st_mode & 0o777 == 0o600
    read = Vault.open(path, PASSPHRASE)
    assert read.keys == written.keys and read.wallets == written.wallets
    assert read.whitelist == written.whitelist and read.totp == written.totp
    assert read.secrets() == {API_KEY, SECRET, PASSWORD, WALLET_KEY, TOTP_SECRET}
    raw = path.read_bytes()
    shown = [repr(read), str(read), repr(read.keys), repr(read.wallets), repr(read.totp), orjson.dumps(read.keys["okx-main"].to_json())]
    for secret in SECRETS:
        assert secret.encode() not in raw
        assert not any(secret in str(text) for text in shown)
    assert read.keys["okx-main"].ccxt_credentials() == {"apiKey": API_KEY, "secret": SECRET, "password": PASSWORD}
    read.remove_key("okx-main")
    read.save()
    assert Vault.open(path, PASSPHRASE).keys == {}
    with pytest.raises(UnknownKey, match="no key 'okx-main'"):
        read.remove_key("okx-main")


def test_a_wrong_passphrase_is_refused_and_names_no_secret(tmp_path: Path) -> None:
    _filled(tmp_path / "vault")
    with pytest.raises(VaultLocked, match="wrong passphrase") as raised:
        Vault.open(tmp_path / "vault", "correct horse battery stapler")
    assert "stapler" not in str(raised.value) and not any(s in str(raised.value) for s in SECRETS)


def _flip(path: Path, index: int) -> None:
    data = bytearray(path.read_bytes())
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["salt", "nonce", "check", '"n":', "ciphertext start", "ciphertext middle", "tag"])
def test_one_flipped_byte_is_refused(tmp_path: Path, where: str) -> None:
    path = tmp_path / "vault"
    _filled(path)
    data = path.read_bytes()
    header_end = data.index(b"\n")
    index = {"ciphertext start": header_end + 1, "ciphertext middle": (header_end + len(data)) // 2,
             "tag": len(data) - 1}.get(where)
    if index is None:  # a byte of the header field's value (base64 text or a digit)
        index = data.index(where.encode() if where.endswith(":") else f'"{where}":"'.encode()) + len(where) + 4
    _flip(path, index)
    with pytest.raises(VaultError) as raised:
        Vault.open(path, PASSPHRASE)
    if index > header_end:  # the ciphertext: the passphrase is right, the file is not
        assert isinstance(raised.value, VaultCorrupt) and "integrity" in str(raised.value)
    assert not any(s in str(raised.value) for s in SECRETS)


def test_a_truncated_file_and_a_foreign_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    _filled(path)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(VaultCorrupt):
        Vault.open(path, PASSPHRASE)
    path.write_bytes(b"not a vault at all")
    with pytest.raises(VaultCorrupt, match="not a crossbook vault"):
        Vault.open(path, PASSPHRASE)


def test_an_unknown_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    _filled(path)
    path.write_bytes(path.read_bytes().replace(b'"version":1', b'"version":2', 1))
    with pytest.raises(VaultError, match="format version 2 is not one this crossbook reads"):
        Vault.open(path, PASSPHRASE)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "vault"
    _filled(path)
    path.chmod(mode)
    with pytest.raises(VaultPermissions) as raised:
        Vault.open(path, PASSPHRASE)
    assert str(path) in str(raised.value) and f"chmod 600 {path}" in str(raised.value)
    path.chmod(0o600)
    assert Vault.open(path, PASSPHRASE).keys


def test_unlock_takes_the_passphrase_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "vault"
    _filled(path)
    monkeypatch.setenv("CROSSBOOK_VAULT", str(path))
    monkeypatch.setenv("CROSSBOOK_VAULT_PASSPHRASE", PASSPHRASE)
    assert set(unlock().keys) == {"okx-main"}
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_vault_path() == tmp_path / "xdg" / "crossbook" / "vault"
    with pytest.raises(VaultError, match=r"no vault at .*crossbook keys add"):
        unlock(tmp_path / "elsewhere")


# ---- the command ------------------------------------------------------------------------------


def _crossbook(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from crossbook.cli import app; app()", *args], env={**os.environ, **env},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def _env(path: Path) -> dict[str, str]:
    return {"CROSSBOOK_VAULT": str(path), "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE,
            "OKX_KEY": API_KEY, "OKX_SECRET": SECRET, "OKX_PASSWORD": PASSWORD}


def test_keys_add_list_remove_never_print_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    env = _env(path)
    added = _crossbook(["keys", "add", "okx", "--account", "main", "--from-env", "OKX"], env)
    assert added.returncode == 0, added.stderr
    assert 'key = "vault:okx-main"' in added.stdout
    assert path.stat().st_mode & 0o777 == 0o600
    listed = _crossbook(["keys", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    entry = orjson.loads(listed.stdout)["keys"][0]
    assert (entry["name"], entry["venue"], entry["account"], entry["state"]) == ("okx-main", "okx", "main", "active")
    table = _crossbook(["keys", "list"], env)
    again = _crossbook(["keys", "add", "okx", "--from-env", "OKX"], env)
    assert again.returncode == 2 and "already holds a key 'okx-main'" in again.stderr
    no_terminal = _crossbook(["keys", "add", "binance"], env)  # no --from-env and stdin is no terminal
    assert no_terminal.returncode == 2 and "--from-env PREFIX" in no_terminal.stderr
    locked = _crossbook(["keys", "list"], {**env, "CROSSBOOK_VAULT_PASSPHRASE": ""})
    assert locked.returncode == 2 and "CROSSBOOK_VAULT_PASSPHRASE" in locked.stderr
    removed = _crossbook(["keys", "remove", "okx-main"], env)
    assert removed.returncode == 0, removed.stderr
    assert orjson.loads(_crossbook(["keys", "list", "--json"], env).stdout)["keys"] == []
    for result in (added, listed, table, again, no_terminal, locked, removed):
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr


# the CLI in a child that SIGKILLs itself at a chosen point of the vault's write
_KILLED_AT = """
import os, signal, sys
stage = os.environ["KILL_AT"]
vault = os.environ["CROSSBOOK_VAULT"]
def hook(event, args):
    if stage == "rename" and event == "os.rename" and str(args[1]) == vault:
        os.kill(os.getpid(), signal.SIGKILL)  # the new vault written and fsynced beside it, not renamed
    if stage == "renamed" and event == "open" and str(args[0]) == os.path.dirname(vault):
        os.kill(os.getpid(), signal.SIGKILL)  # renamed, the folder not fsynced yet
sys.addaudithook(hook)
from crossbook.cli import app
app(sys.argv[1:])
"""


def test_a_sigkill_during_keys_add_leaves_a_vault_that_opens(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    env = _env(path)
    assert _crossbook(["keys", "add", "okx", "--from-env", "OKX"], env).returncode == 0
    before = Vault.open(path, PASSPHRASE).keys
    add = ["keys", "add", "okx", "--account", "sub1", "--from-env", "OKX"]
    child = subprocess.run([sys.executable, "-c", _KILLED_AT, *add], env={**os.environ, **env, "KILL_AT": "rename"},
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert Vault.open(path, PASSPHRASE).keys == before  # the old contents, whole
    child = subprocess.run([sys.executable, "-c", _KILLED_AT, *add], env={**os.environ, **env, "KILL_AT": "renamed"},
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert set(Vault.open(path, PASSPHRASE).keys) == {"okx-main", "okx-sub1"}  # the rename happened: the new one
    # killed at moments spread over the command's run: the vault opens every time, old or new
    for n, delay in enumerate((0.3, 0.6, 0.9, 1.2, 1.5, 2.0)):
        proc = subprocess.Popen([sys.executable, "-c", "from crossbook.cli import app; app()", "keys", "add", "okx",
                                 "--account", f"s{n}", "--from-env", "OKX"], env={**os.environ, **env},
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        names = set(Vault.open(path, PASSPHRASE).keys)
        assert {"okx-main", "okx-sub1"} <= names <= {"okx-main", "okx-sub1", *(f"okx-s{i}" for i in range(n + 1))}


# ---- the configuration and a routed order ------------------------------------------------------


def _account_config(tmp_path: Path, account: str) -> Path:
    path = tmp_path / "crossbook.toml"
    (tmp_path / "sim.json").write_text("{}")
    path.write_text(f'[[accounts]]\nvenue = "okx"\n{account}mode = "sim"\nccxt_config = "sim.json"\n')
    return path


@pytest.mark.parametrize("line, message", [
    ('key = "okx-main"\n', 'key must name a vault key as "vault:NAME"'),
    ('key = "vault:"\n', 'key must name a vault key'),
    ('key = "vault:okx-main"\napi_key_env = "K"\n', "not both"),
])
def test_a_bad_key_reference_is_a_config_error(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(_account_config(tmp_path, line))
    assert "okx-main" not in str(raised.value) or "vault:" not in line  # a key pasted in the file is never echoed


def test_a_vault_key_must_belong_to_the_account(tmp_path: Path) -> None:
    config = load_config(_account_config(tmp_path, 'key = "vault:okx-main"\naccount = "hedge"\n'))
    vault = _filled(tmp_path / "vault")
    account = config.accounts[0]
    assert config.needs_vault and account.key_ref == "okx-main"
    with pytest.raises(VaultLocked, match="needs the vault unlocked"):
        account.credentials(None)
    with pytest.raises(ConfigError, match="belongs to okx/main, not okx/hedge"):
        account.credentials(vault)
    live = tmp_path / "live.toml"
    live.write_text('[[accounts]]\nvenue = "okx"\nmode = "live"\nkey = "vault:okx-main"\n')
    assert load_config(live).accounts[0].credentials(vault) == {"apiKey": API_KEY, "secret": SECRET, "password": PASSWORD}


def test_a_chain_wallet_comes_from_the_vault(tmp_path: Path) -> None:
    config_path = _account_config(tmp_path, "")
    text = config_path.read_text()
    config_path.write_text(text + '[chains.arbitrum]\nrpc_url = "https://arb.example/rpc"\nwallet = "vault:arb"\n'
                           '[chains.optimism]\nrpc_url = "https://op.example/rpc"\nwallet = "vault:arb"\n')
    config = load_config(config_path)
    vault = _filled(tmp_path / "vault")
    assert config.needs_vault and WALLET_KEY not in repr(config)
    assert config.chain("arbitrum", vault).wallet_key == WALLET_KEY
    with pytest.raises(VaultLocked, match="needs the vault unlocked"):
        config.chain("arbitrum")
    with pytest.raises(ConfigError, match="the vault wallet 'arb' is for arbitrum, not optimism"):
        config.chain("optimism", vault)
    config_path.write_text(text + f'[chains.arbitrum]\nrpc_url = "https://arb.example/rpc"\nwallet_key = "{WALLET_KEY}"\n')
    with pytest.raises(ConfigError, match="no longer read") as raised:
        load_config(config_path)
    assert WALLET_KEY[2:] not in str(raised.value)


def test_a_routed_order_on_the_simulators_with_keys_from_the_vault_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = Vault.create(tmp_path / "vault", PASSPHRASE)
    monkeypatch.setenv("CROSSBOOK_VAULT", str(tmp_path / "vault"))

    async def body() -> None:
        async with Desk.sim(["binance", "okx"]) as simulated:
            assert simulated.simulator is not None
            configs = simulated.simulator.ccxt_configs
            keyless = {}
            for venue in ("binance", "okx"):
                settings = dict(configs[(venue, "main")])
                vault.put_key(StoredKey(f"{venue}-main", venue, "main", settings.pop("apiKey"), settings.pop("secret"),
                                        settings.pop("password", None), created=time.time()))
                keyless[venue] = settings
            vault.save()
            (tmp_path / "sim-ccxt.json").write_bytes(orjson.dumps(keyless))  # no credential in any file but the vault
            text = sim_config_text("journal.sqlite", "sim-ccxt.json", ["binance", "okx"], simulated.sim_endpoints())
            for venue in ("binance", "okx"):
                text = text.replace(f'venue = "{venue}"\n', f'venue = "{venue}"\nkey = "vault:{venue}-main"\n')
            config = tmp_path / "crossbook.toml"
            config.write_text(text)
            monkeypatch.setenv("CROSSBOOK_VAULT_PASSPHRASE", "not the passphrase")
            with pytest.raises(VaultLocked):
                Desk.from_config(config)
            monkeypatch.setenv("CROSSBOOK_VAULT_PASSPHRASE", PASSPHRASE)  # the desk unlocks the vault itself
            async with Desk.from_config(config) as desk:
                assert desk.vault is not None and set(desk.vault.keys) == {"binance-main", "okx-main"}
                report = await desk.route("BTC-USDT", "buy", 0.2, max_venues=1)
                assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.2)

    run(body(), timeout=120)
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())  # the vault's own bytes too
    assert vault.secrets() and not any(secret.encode() in written for secret in vault.secrets())
