"""Withdrawals on the simulated OKX, Bybit, Bitget and KuCoin, each in its own wire format through
an unmodified ccxt client: a whitelisted withdrawal with a fresh code moves the balance exactly
once, one to a name off the whitelist sends nothing, a key without the withdraw right is refused
with the venue's own error, and a process killed right after sending is reconciled from the
venue's withdrawal history without a second send."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.security.vault import Vault
from crossbook.trading.withdraw import WithdrawalStatus
from crossbook.venues.registry import spec
from tests.security import withdraw_cases as cases

VENUES = ["okx", "bybit", "bitget", "kucoin"]


@pytest.mark.parametrize("venue", VENUES)
def test_a_whitelisted_withdrawal_moves_the_balance_once(tmp_path: Path, venue: str) -> None:
    rules = spec(venue).withdrawals
    assert rules is not None

    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        # the fee on top of the amount or taken from it, and a client id only where the venue takes one
        done = await cases.withdraw_and_assert_moved_once(on, vault, codes(), debit=cases.debited(venue, Decimal("0.5")),
                                                          client_id_sent=rules.client_id_param is not None)
        assert [w.client_id for w in await on.desk.reconcile_withdrawals(venue)] == []
        await cases.assert_journaled_once(on, done)

    cases.run_on_sim(venue, tmp_path, steps)


@pytest.mark.parametrize("venue", VENUES)
def test_a_withdrawal_off_the_whitelist_sends_nothing(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        await cases.assert_off_the_whitelist_refused(on, vault, codes)  # a fresh code each: refused for the name alone
        assert cases.wallet(on.sim).requests == []
        await cases.assert_nothing_sent_or_journaled(on)

    cases.run_on_sim(venue, tmp_path, steps)


@pytest.mark.parametrize("venue", VENUES)
def test_a_key_without_the_withdraw_right_is_refused_by_the_venue(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        await cases.assert_refused_by_the_venue(on, vault, codes(), refusal=f"{venue} refused")
        # journaled before sending, so the venue's refusal is on record
        [refused] = await on.desk.withdrawals(venue)
        assert refused.status is WithdrawalStatus.REFUSED

    cases.run_on_sim(venue, tmp_path, steps, withdraw_right=False)


@pytest.mark.parametrize("venue", VENUES)
def test_a_process_killed_after_sending_is_reconciled_without_a_second_send(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        async with cases.restarted_after_a_crash(on, vault, codes(), tmp_path / "sim.toml", network="BTC",
                                                 debit=cases.debited(venue, Decimal("0.5"))) as restarted:
            await cases.withdraw_again(restarted, venue, codes(), network="BTC")
        cases.assert_both_made(on, debit=cases.debited(venue, Decimal("0.5"), Decimal("0.25")))

    cases.run_on_sim(venue, tmp_path, steps, timeout=180)
