"""Withdrawals on the simulated Gate and MEXC, each in its own wire format through an unmodified
ccxt client: a whitelisted withdrawal with a fresh code moves the balance exactly once, one to a
name not on crossbook's whitelist sends nothing, the venue refuses a key without the withdrawal
right, and a process killed right after sending is reconciled without a second send."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.errors import NotWhitelisted
from crossbook.security.vault import Vault
from crossbook.trading.withdraw import WithdrawalStatus
from tests.security import withdraw_cases as cases

VENUES = ["gate", "mexc"]


@pytest.mark.parametrize("venue", VENUES)
def test_a_whitelisted_withdrawal_moves_the_balance_once_and_others_send_nothing(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        with pytest.raises(NotWhitelisted, match="nothing was sent"):
            await on.desk.withdraw(venue, "BTC", "0.5", "elsewhere", code="123456", vault=vault)
        assert cases.wallet(on.sim).requests == [] and cases.btc(on.sim) == on.before
        # both take the fee from the amount, and both echo crossbook's client id
        done = await cases.withdraw_and_assert_moved_once(on, vault, codes(), debit=Decimal("0.5"), client_id_sent=True)
        await cases.assert_journaled_once(on, done)

    cases.run_on_sim(venue, tmp_path, steps)


@pytest.mark.parametrize("venue", VENUES)
def test_a_key_without_the_withdrawal_right_is_refused_by_the_venue(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        # MEXC says 700007, which ccxt reads as an AuthenticationError
        await cases.assert_refused_by_the_venue(on, vault, codes(), refusal=r"PermissionDenied|AuthenticationError")
        # refused at the withdrawal (Gate) or already at the address list it reads first (MEXC)
        assert all(w.status is WithdrawalStatus.REFUSED for w in await on.desk.withdrawals(venue))

    cases.run_on_sim(venue, tmp_path, steps, withdraw_right=False)


@pytest.mark.parametrize("venue", VENUES)
def test_a_process_killed_right_after_sending_is_reconciled_without_a_second_send(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        async with cases.restarted_after_a_crash(on, vault, codes(), tmp_path / "sim.toml", network="BTC", debit=Decimal("0.5")):
            pass  # settled from the venue's history on restart; nothing withdrawn after it
        assert len(cases.wallet(on.sim).made) == 1 and cases.btc(on.sim) == on.before - Decimal("0.5")

    cases.run_on_sim(venue, tmp_path, steps, timeout=180)
