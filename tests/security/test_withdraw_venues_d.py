"""Withdrawals on the simulated Kraken, in its own wire format through an unmodified ccxt client.
Kraken withdraws only to an address set up there under a withdrawal key, which crossbook finds in
WithdrawAddresses and names in Withdraw; it takes no client id, so a crash after sending is
reconciled by amount, address and time. A whitelisted withdrawal with a fresh code moves the
balance exactly once, one off crossbook's whitelist (or not set up at Kraken) sends nothing, a key
without the withdraw right is refused by the venue, and a process killed right after sending is
reconciled without a second send."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.errors import NotWhitelisted
from crossbook.security.vault import Vault
from crossbook.sim.withdrawals import BookedAddress
from crossbook.trading.withdraw import WithdrawalStatus
from tests.security import withdraw_cases as cases

VENUES = ["kraken"]


async def assert_nothing_sent_to_kraken(on: cases.OnSim) -> None:
    """No Withdraw request reached Kraken; nothing made, moved or journaled."""
    assert "Withdraw" not in cases.wallet(on.sim).requests
    await cases.assert_nothing_sent_or_journaled(on)


@pytest.mark.parametrize("venue", VENUES)
def test_a_whitelisted_withdrawal_moves_the_balance_once(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        # Kraken takes no client id: Withdraw names the address by its withdrawal key, once
        done = await cases.withdraw_and_assert_moved_once(on, vault, codes(), debit=cases.debited(venue, Decimal("0.5")),
                                                          client_id_sent=False)
        assert [w.client_id for w in await on.desk.reconcile_withdrawals(venue)] == []
        await cases.assert_journaled_once(on, done)
        assert cases.wallet(on.sim).requests.count("Withdraw") == 1

    cases.run_on_sim(venue, tmp_path, steps)


@pytest.mark.parametrize("venue", VENUES)
def test_a_process_killed_after_sending_is_reconciled_without_a_second_send(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        async with cases.restarted_after_a_crash(on, vault, codes(), tmp_path / "sim.toml", network="BTC",
                                                 debit=cases.debited(venue, Decimal("0.5"))) as restarted:
            # Kraken's history is matched by amount, address and time: a second withdrawal to the same
            # address goes through, and the first is not claimed twice
            second = await restarted.withdraw(venue, "BTC", "0.25", "cold", network="BTC", code=codes())
            assert second.status is WithdrawalStatus.ACCEPTED
            assert await restarted.reconcile_withdrawals(venue) == []
        cases.assert_both_made(on, debit=cases.debited(venue, Decimal("0.5"), Decimal("0.25")))

    cases.run_on_sim(venue, tmp_path, steps, timeout=180)


@pytest.mark.parametrize("venue", VENUES)
def test_a_withdrawal_off_either_whitelist_sends_nothing(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        await cases.assert_off_the_whitelist_refused(on, vault, lambda: "000000")  # refused before the code is checked
        assert cases.wallet(on.sim).requests == []
        # on crossbook's whitelist but set up at Kraken under no withdrawal key (another address is)
        cases.wallet(on.sim).book("main", BookedAddress("BTC", "bc1qsomewhereelse000000000000000000000000", "BTC"))
        with pytest.raises(NotWhitelisted, match="kraken's own withdrawal address whitelist"):
            await on.desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
        await assert_nothing_sent_to_kraken(on)

    cases.run_on_sim(venue, tmp_path, steps, cold_booked=False)


@pytest.mark.parametrize("venue", VENUES)
def test_a_key_without_the_withdraw_right_is_refused_by_the_venue(tmp_path: Path, venue: str) -> None:
    async def steps(on: cases.OnSim, vault: Vault, codes: cases.Codes) -> None:
        await cases.assert_refused_by_the_venue(on, vault, codes(), refusal=f"{venue} refused")
        # Kraken refuses the key its withdrawal methods and addresses already: nothing was journaled or sent
        await assert_nothing_sent_to_kraken(on)

    cases.run_on_sim(venue, tmp_path, steps, withdraw_right=False)
