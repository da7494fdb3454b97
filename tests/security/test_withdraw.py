"""Withdrawals only to whitelisted addresses, behind a TOTP code, journaled and sent once: on the
simulated Binance (its wallet endpoints, address whitelist, fees and minimums) through ccxt."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.errors import InvalidOrder, NotWhitelisted, SecondFactorError
from crossbook.security.vault import Vault
from crossbook.security.whitelist import add_entry, new_entry, remove_entry
from crossbook.sim.venues.binance.capital import BinanceCapital
from tests.security import withdraw_cases as cases

HOT = "bc1qsomeoneelse00000000000000000000000000"


def test_a_name_not_on_the_whitelist_is_refused_with_nothing_sent(tmp_path: Path) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        await cases.assert_off_the_whitelist_refused(on, vault, lambda: "123456")
        assert cases.wallet(on.sim).requests == []
        await cases.assert_nothing_sent_or_journaled(on)

    cases.run_on_sim("binance", tmp_path, steps)


def test_a_whitelisted_withdrawal_needs_a_fresh_code_and_moves_the_balance_once(tmp_path: Path) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        assert isinstance(on.sim, BinanceCapital)  # the simulated Binance with its wallet (capital) endpoints
        with pytest.raises(SecondFactorError, match="required"):
            await on.desk.withdraw("binance", "BTC", "0.5", "cold", vault=vault)
        with pytest.raises(SecondFactorError, match="wrong"):
            await on.desk.withdraw("binance", "BTC", "0.5", "cold", code="000000" if codes.step % 2 else "999999", vault=vault)
        assert cases.wallet(on.sim).requests == []
        code = codes()
        # Binance takes the fee from the amount, and echoes crossbook's client id
        done = await cases.withdraw_and_assert_moved_once(on, vault, code, debit=Decimal("0.5"), client_id_sent=True)
        with pytest.raises(SecondFactorError, match="already used"):
            await on.desk.withdraw("binance", "BTC", "0.5", "cold", code=code, vault=vault)
        with pytest.raises(InvalidOrder, match="below the venue's withdrawal minimum"):
            await on.desk.withdraw("binance", "BTC", "0.0005", "cold", code=codes(), vault=vault)
        assert cases.btc(on.sim) == on.before - Decimal("0.5")
        await cases.assert_journaled_once(on, done)

    cases.run_on_sim("binance", tmp_path, steps)


def test_whitelist_changes_need_a_fresh_code(tmp_path: Path) -> None:
    vault, codes = cases.vault_with_whitelist(tmp_path)
    with pytest.raises(SecondFactorError, match="required"):
        add_entry(vault, new_entry("hot", "BTC", HOT, "BTC"), None)
    code = codes()
    add_entry(vault, new_entry("hot", "BTC", HOT, "BTC"), code)
    with pytest.raises(SecondFactorError, match="already used"):
        remove_entry(vault, "hot", code)
    assert "hot" in Vault.open(vault.path, cases.PASSPHRASE).whitelist
    remove_entry(vault, "hot", codes())
    assert sorted(Vault.open(vault.path, cases.PASSPHRASE).whitelist) == ["cold", "usdt-cold"]
    with pytest.raises(ValueError, match="address"):
        new_entry("bad", "BTC", "has spaces in it", "BTC")


def test_an_address_missing_from_the_venues_own_whitelist_is_refused(tmp_path: Path) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        vault.put_whitelist(new_entry("hot", "BTC", HOT, "BTC"))  # on crossbook's whitelist, not on Binance's
        with pytest.raises(NotWhitelisted, match="binance's own withdrawal address whitelist"):
            await on.desk.withdraw("binance", "BTC", "0.5", "hot", code=codes(), vault=vault)
        assert "withdraw/apply" not in cases.wallet(on.sim).requests
        assert cases.btc(on.sim) == on.before

    cases.run_on_sim("binance", tmp_path, steps)


def test_a_process_killed_right_after_sending_never_sends_the_withdrawal_twice(tmp_path: Path) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        # the network left to Binance's default, here as on the other withdrawals
        async with cases.restarted_after_a_crash(on, vault, codes(), tmp_path / "sim.toml", network=None,
                                                 debit=Decimal("0.5")) as restarted:
            await cases.withdraw_again(restarted, "binance", codes(), network=None)  # and it goes on
        cases.assert_both_made(on, debit=Decimal("0.75"))
        assert cases.wallet(on.sim).requests.count("withdraw/apply") == 2

    cases.run_on_sim("binance", tmp_path, steps, timeout=180)
