"""Withdrawals on the simulated Kraken, in its own wire format through an unmodified ccxt client.
Kraken withdraws only to an address set up there under a withdrawal key, which crossbook finds in
WithdrawAddresses and names in Withdraw; it takes no client id, so a crash after sending is
reconciled by amount, address and time. A whitelisted withdrawal with a fresh code moves the
balance exactly once, one off crossbook's whitelist (or not set up at Kraken) sends nothing, a key
without the withdraw right is refused by the venue, and a process killed right after sending is
reconciled without a second send."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import NotWhitelisted, VenueRefused
from crossbook.security.vault import Vault
from crossbook.sim.withdrawals import BookedAddress
from crossbook.trading.withdraw import WithdrawalStatus
from tests.conftest import run
from tests.security.test_withdraw import COLD, PASSPHRASE, vault_with_whitelist
from tests.security.test_withdraw_venues_a import CHILD, allow_withdrawals, btc, debited, trading_sim, wallet

VENUES = ["kraken"]
BTC_FEE = Decimal("0.0002")  # the simulator's BTC network fee


@pytest.mark.parametrize("venue", VENUES)
def test_a_whitelisted_withdrawal_moves_the_balance_once(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim)
            before = btc(sim)
            done = await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
            assert done.status is WithdrawalStatus.ACCEPTED and done.fee == BTC_FEE
            [made] = wallet(sim).made
            assert (made.withdrawal_id, made.address, made.amount) == (done.venue_id, COLD, Decimal("0.5"))
            assert btc(sim) == before - debited(venue, Decimal("0.5"))
            assert wallet(sim).requests.count("Withdraw") == 1
            assert [w.client_id for w in await desk.reconcile_withdrawals(venue)] == []
            [journaled] = await desk.withdrawals(venue)
            assert journaled == done and len(wallet(sim).made) == 1

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_withdrawal_off_either_whitelist_sends_nothing(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim, booked=False)
            before = btc(sim)
            for to, asset, network in (("elsewhere", "BTC", None), ("usdt-cold", "BTC", None), ("cold", "BTC", "ETH")):
                with pytest.raises(NotWhitelisted, match="nothing was sent"):  # refused before the code is checked
                    await desk.withdraw(venue, asset, "0.5", to, network=network, code="000000", vault=vault)
            assert wallet(sim).requests == []
            # on crossbook's whitelist but set up at Kraken under no withdrawal key (another address is)
            wallet(sim).book("main", BookedAddress("BTC", "bc1qsomewhereelse000000000000000000000000", "BTC"))
            with pytest.raises(NotWhitelisted, match="kraken's own withdrawal address whitelist"):
                await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
            assert "Withdraw" not in wallet(sim).requests and wallet(sim).made == []
            assert btc(sim) == before
            assert await desk.withdrawals(venue) == []

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_key_without_the_withdraw_right_is_refused_by_the_venue(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))
            before = btc(sim)
            with pytest.raises(VenueRefused, match=f"{venue} refused"):
                await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
            # Kraken refuses the key its withdrawal methods and addresses already: nothing was journaled or sent
            assert "Withdraw" not in wallet(sim).requests
            assert wallet(sim).made == [] and btc(sim) == before
            assert await desk.withdrawals(venue) == []

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_process_killed_after_sending_is_reconciled_without_a_second_send(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)
    config = tmp_path / "sim.toml"

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim)
            desk.write_config(config)
            before = btc(sim)
            env = {**os.environ, "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE}
            child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, str(config), str(vault.path), codes(),
                                                         venue, env=env, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(child.communicate(), 90)
            assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
            [made] = wallet(sim).made
            assert btc(sim) == before - debited(venue, Decimal("0.5"))

            async with Desk.from_config(config, vault=Vault.open(vault.path, PASSPHRASE)) as restarted:
                [in_flight] = await restarted.withdrawals(venue)
                assert in_flight.status is WithdrawalStatus.SENT and in_flight.venue_id is None
                [settled] = await restarted.reconcile_withdrawals(venue)
                assert settled.status is WithdrawalStatus.ACCEPTED and settled.venue_id == made.withdrawal_id
                assert await restarted.reconcile_withdrawals(venue) == []
                second = await restarted.withdraw(venue, "BTC", "0.25", "cold", network="BTC", code=codes())
                assert second.status is WithdrawalStatus.ACCEPTED
                # matched by amount, address and time: the first withdrawal is not claimed twice
                assert await restarted.reconcile_withdrawals(venue) == []
            assert [w.amount for w in wallet(sim).made] == [Decimal("0.5"), Decimal("0.25")]
            assert btc(sim) == before - debited(venue, Decimal("0.5"), Decimal("0.25"))

    run(body(), timeout=180)
