"""Key rotation: the new key stored beside the old, verified at the venue (a read call and the
permission audit), switched in under the name the config points at, the old one retired only once
the venue refuses it; a key that fails verification changes nothing; keys past the rotation
period are warned about on every command."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import orjson
import pytest

from crossbook import Desk
from crossbook.config import sim_config_text
from crossbook.errors import UnknownKey, VaultError
from crossbook.routing.executor import Outcome
from crossbook.security import rotation
from crossbook.security.vault import StoredKey, Vault
from tests.conftest import run

PASSPHRASE = "rotation test passphrase"
DAY = 86400.0


def _vault(path: Path, created: float) -> Vault:
    vault = Vault.create(path, PASSPHRASE)
    vault.put_key(StoredKey("okx-main", "okx", "main", "old-key-0001", "old-secret-0001", "old-pass-0001", created=created))
    vault.save()
    return vault


def test_stage_switch_retire_move_the_records_and_the_secrets(tmp_path: Path) -> None:
    vault = _vault(tmp_path / "vault", created=1000.0)
    staged = rotation.stage(vault, "okx-main", "new-key-0002", "new-secret-0002", None, now=2000.0)
    assert (staged.name, staged.state, staged.replaces) == ("okx-main.next", "rotating", "okx-main")
    assert vault.key("okx-main").api_key == "old-key-0001"  # nothing switched until verified
    switched = rotation.switch(vault, "okx-main", None, now=3000.0)
    assert (switched.name, switched.api_key, switched.state, switched.verified) == ("okx-main", "new-key-0002", "active", 3000.0)
    previous = vault.key("okx-main.previous")
    assert (previous.api_key, previous.state, previous.created) == ("old-key-0001", "rotating", 1000.0)
    with pytest.raises(VaultError, match="previous key is not retired yet"):
        rotation.stage(vault, "okx-main", "third-key-03", "third-secret-03", None)
    retired = rotation.retire(vault, "okx-main")
    assert retired.state == "retired" and not ({"old-key-0001", "old-secret-0001", "old-pass-0001"} & vault.secrets())
    with pytest.raises(UnknownKey, match="no switched-out key to retire"):
        rotation.retire(vault, "okx-main")
    with pytest.raises(VaultError, match="is the key it replaces"):
        rotation.stage(vault, "okx-main", "new-key-0002", "another-secret", None)
    with pytest.raises(VaultError, match=r"okx-main\.previous is retired, not an active key"):
        rotation.stage(vault, "okx-main.previous", "k-0004", "s-0004", None)
    vault.save()
    reopened = Vault.open(tmp_path / "vault", PASSPHRASE)
    assert reopened.key("okx-main").api_key == "new-key-0002" and reopened.key("okx-main.previous").state == "retired"
    assert b"old-secret-0001" not in (tmp_path / "vault").read_bytes()


def test_overdue_keys_are_the_active_ones_past_the_period() -> None:
    now = 100 * DAY
    keys = [StoredKey("fresh", "okx", "main", "k1", "s1", None, created=now - 29 * DAY),
            StoredKey("old", "okx", "hedge", "k2", "s2", None, created=now - 45 * DAY),
            StoredKey("older", "bybit", "main", "k3", "s3", None, created=now - 90 * DAY),
            StoredKey("switched-out", "okx", "main", "k4", "s4", None, created=now - 99 * DAY, state="rotating")]
    late = rotation.overdue_keys(keys, now)
    assert [(o.name, round(o.age_days)) for o in late] == [("older", 90), ("old", 45)]
    assert "crossbook keys rotate older" in late[0].warning()
    assert rotation.overdue_keys(keys, now, days=100) == []


async def _crossbook(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """The CLI as a child process (the simulators keep serving in this loop meanwhile)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "from crossbook.cli import app; app()", *args, env=env,
                                                   stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def test_rotate_verifies_switches_and_retires_on_the_simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault_file = tmp_path / "vault"
    monkeypatch.setenv("CROSSBOOK_VAULT", str(vault_file))
    monkeypatch.setenv("CROSSBOOK_VAULT_PASSPHRASE", PASSPHRASE)
    env = {**os.environ, "CROSSBOOK_VAULT": str(vault_file), "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE}

    async def body() -> set[str]:
        async with Desk.sim(["okx"]) as simulated:
            sim = simulated.simulator.trading_sim("okx") if simulated.simulator else None
            assert sim is not None
            settings = dict(simulated.simulator.ccxt_configs[("okx", "main")])  # type: ignore[union-attr]
            old = StoredKey("okx-main", "okx", "main", settings.pop("apiKey"), settings.pop("secret"),
                            settings.pop("password"), created=time.time() - 40 * DAY)
            vault = Vault.create(vault_file, PASSPHRASE)
            vault.put_key(old)
            vault.save()
            (tmp_path / "sim-ccxt.json").write_bytes(orjson.dumps({"okx": settings}))
            config = tmp_path / "crossbook.toml"
            config.write_text(sim_config_text("journal.sqlite", "sim-ccxt.json", ["okx"], simulated.sim_endpoints())
                              .replace('venue = "okx"\n', 'venue = "okx"\nkey = "vault:okx-main"\n'))
            rotate = ["keys", "rotate", "okx-main", "--from-env", "NEW", "--config", str(config), "--json"]

            # every command warns about the key past the rotation period
            code, _, warned = await _crossbook(["keys", "list", "--json"], env)
            assert code == 0 and "okx-main (okx/main) is 40 days old, past the rotation period" in warned

            # a key the venue does not know fails its read call: nothing switched, nothing staged
            code, _, stderr = await _crossbook(rotate, env | {"NEW_KEY": "unknown-key-1", "NEW_SECRET": "unknown-secret-1",
                                                              "NEW_PASSWORD": "unknown-pass-1"})
            assert code == 1 and "failed its read call (AuthenticationError)" in stderr and "still uses its old key" in stderr
            assert set(Vault.open(vault_file, PASSPHRASE).keys) == {"okx-main"}

            # a key that may withdraw fails its audit (a trading key must not): nothing switched
            withdrawing = sim.issue_key("main", permissions=frozenset({"read", "trade", "withdraw"}))
            code, _, stderr = await _crossbook(rotate, env | {"NEW_KEY": withdrawing.key, "NEW_SECRET": withdrawing.secret,
                                                              "NEW_PASSWORD": withdrawing.passphrase or ""})
            assert code == 1 and "failed its audit" in stderr
            assert Vault.open(vault_file, PASSPHRASE).key("okx-main").api_key == old.api_key

            new = sim.issue_key("main")
            code, out, stderr = await _crossbook(rotate, env | {"NEW_KEY": new.key, "NEW_SECRET": new.secret,
                                                                "NEW_PASSWORD": new.passphrase or ""})
            assert code == 0, stderr
            result = orjson.loads(out)
            assert result["rotated"]["name"] == "okx-main" and result["rotated"]["state"] == "active"
            assert result["rotated"]["permissions"]["trade"] and not result["rotated"]["permissions"]["withdraw"]
            assert result["previous"]["state"] == "rotating"
            rotated = Vault.open(vault_file, PASSPHRASE)
            assert (rotated.key("okx-main").api_key, rotated.key("okx-main.previous").api_key) == (new.key, old.api_key)

            # not retired while the venue still takes the old key
            code, _, stderr = await _crossbook([*rotate[:3], "--retire", *rotate[5:]], env)
            assert code == 1 and "still works" in stderr and "revoke it at okx first" in stderr
            del sim.api_keys[old.api_key]  # revoked at the venue

            # the config's vault:okx-main now trades with the new key
            async with Desk.from_config(config) as desk:
                report = await desk.route("BTC-USDT", "buy", 0.01)
                assert report.outcome is Outcome.FILLED

            code, out, stderr = await _crossbook([*rotate[:3], "--retire", *rotate[5:]], env)
            assert code == 0, stderr
            assert orjson.loads(out)["retired"]["state"] == "retired"
            code, _, warned = await _crossbook(["keys", "list"], env)
            assert code == 0 and "past the rotation period" not in warned  # the new key is fresh
            return {old.api_key, old.secret, str(old.password), new.key, new.secret, str(new.passphrase)}

    secrets = run(body(), timeout=300)
    final = Vault.open(vault_file, PASSPHRASE)
    assert final.key("okx-main.previous").state == "retired"
    assert not ({s for s in secrets if "old" in s} & final.secrets())
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert not any(s.encode() in written for s in secrets)
