"""crossbook.toml's [endpoints.<feed id>]: a running simulator's URLs, checked before use."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook.config import load_config, sim_config_text
from crossbook.errors import ConfigError

ACCOUNT = '[[accounts]]\nvenue = "okx"\nmode = "testnet"\napi_key_env = "K"\nsecret_env = "S"\n'


def config(tmp_path: Path, endpoints: str) -> Path:
    path = tmp_path / "crossbook.toml"
    path.write_text(endpoints + "\n" + ACCOUNT)
    return path


def test_written_sim_config_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "cfg.toml"
    endpoints = {"binance": ("ws://127.0.0.1:4001", "http://127.0.0.1:4002"), "okx": ("wss://ws.okx.com", "https://www.okx.com")}
    path.write_text(sim_config_text("j.sqlite", "cfg-ccxt.json", ["binance", "okx"], endpoints))
    loaded = load_config(path)
    assert loaded.endpoints == endpoints and loaded.journal == tmp_path / "j.sqlite"
    assert [(a.venue, a.account, a.mode, a.ccxt_config) for a in loaded.accounts] == [
        ("binance", "main", "sim", tmp_path / "cfg-ccxt.json"), ("okx", "main", "sim", tmp_path / "cfg-ccxt.json")]


@pytest.mark.parametrize(("table", "says"), [
    ('[endpoints.binanse]\nws = "ws://127.0.0.1:1"\nrest = "http://127.0.0.1:2"\n', "unknown feed 'binanse'"),
    ('[endpoints.binance]\nws = "ws://10.0.0.5:1"\nrest = "http://127.0.0.1:2"\n',
     "endpoints.binance.ws: ws:// is unencrypted and allowed to a loopback host only, not '10.0.0.5'"),
    ('[endpoints.binance]\nws = "wss://x.example"\nrest = "ftp://x.example"\n', "endpoints.binance.rest must be a https:// URL"),
    ('[endpoints.binance]\nws = "wss://x.example"\n', "endpoints.binance needs exactly ws"),
    ('endpoints = 3\n', "endpoints must be tables"),
])
def test_bad_endpoints_are_refused_naming_the_feed(tmp_path: Path, table: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace(".", r"\.").replace("(", r"\(")):
        load_config(config(tmp_path, table))
