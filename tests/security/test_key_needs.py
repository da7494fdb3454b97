"""An account's ``transfers`` / ``withdraws`` settings say what its key needs beyond reading and
trading, and the key audit judges the key's transfer and withdraw rights against them."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook.config import load_config
from crossbook.desk.key_audit import needs
from crossbook.errors import ConfigError
from crossbook.security.audit import KeySubject, excess
from crossbook.security.permissions import KeyPermissions


def account_config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "crossbook.toml"
    path.write_text(f'[[accounts]]\nvenue = "okx"\nmode = "live"\nkey = "vault:okx-main"\n{extra}\n')
    return path


def findings(transfers: bool, withdraws: bool, tmp_path: Path) -> list[str]:
    """The excess-permission findings on a key that may read, transfer and withdraw (not trade)."""
    extra = f"transfers = {str(transfers).lower()}\nwithdraws = {str(withdraws).lower()}"
    [cfg] = load_config(account_config(tmp_path, extra)).accounts
    subject = KeySubject("okx", "main", "okx-main", "vault", needs=needs(cfg))
    rights = KeyPermissions(read=True, trade=False, withdraw=True, transfer=True, ips=("10.0.0.1",), created=None,
                            expires=None, source="declared")
    return [f.detail.split(":")[0] for f in excess(subject, rights)]


def test_an_account_says_its_key_transfers_and_withdraws(tmp_path: Path) -> None:
    [plain] = load_config(account_config(tmp_path, "")).accounts
    assert (plain.transfers, plain.withdraws) == (False, False)
    assert (needs(plain).transfer, needs(plain).withdraw, needs(plain).trade) == (False, False, True)
    [both] = load_config(account_config(tmp_path, "transfers = true\nwithdraws = true")).accounts
    assert (needs(both).transfer, needs(both).withdraw) == (True, True)


def test_the_audit_flags_only_the_rights_the_account_does_not_need(tmp_path: Path) -> None:
    assert findings(False, False, tmp_path) == ["withdraw", "transfer"]
    assert findings(True, False, tmp_path) == ["withdraw"]
    assert findings(False, True, tmp_path) == ["transfer"]
    assert findings(True, True, tmp_path) == []


@pytest.mark.parametrize("setting", ['withdraws = "yes"', "transfers = 1"])
def test_a_right_that_is_not_true_or_false_is_refused(tmp_path: Path, setting: str) -> None:
    name = setting.split()[0]
    with pytest.raises(ConfigError, match=f"account #1: {name} must be true or false"):
        load_config(account_config(tmp_path, setting))
