"""Withdrawals on the simulated Gate and MEXC, each in its own wire format through an unmodified
ccxt client: a whitelisted withdrawal with a fresh code moves the balance exactly once, one to a
name not on crossbook's whitelist sends nothing, the venue refuses a key without the withdrawal
right, and a process killed right after sending is reconciled without a second send."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import NotWhitelisted, VenueRefused
from crossbook.security.vault import Vault
from crossbook.sim.server import SimVenue
from crossbook.sim.withdrawals import BookedAddress, SimWithdrawals
from crossbook.trading.withdraw import WithdrawalStatus
from tests.conftest import run
from tests.security.test_withdraw import CHILD, COLD, PASSPHRASE, vault_with_whitelist

VENUES = ["gate", "mexc"]
BTC_FEE = Decimal("0.0002")  # the simulators' BTC network fee (sim.withdrawals.networks_of)


def wallet(sim: SimVenue) -> SimWithdrawals:
    withdrawals = getattr(sim, "withdrawals", None)
    assert isinstance(withdrawals, SimWithdrawals), f"{type(sim).__name__} serves no withdrawals"
    return withdrawals


def allow_withdrawals(sim: SimVenue) -> None:
    """The simulated keys with the withdrawal right, and COLD on the account's own whitelist there."""
    for key, api_key in list(sim.api_keys.items()):
        sim.api_keys[key] = dataclasses.replace(api_key, permissions=api_key.permissions | {"withdraw"})
    wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))


def btc(sim: SimVenue) -> Decimal:
    return sim.engine.account("main").balances["BTC"]


def trading_sim(desk: Desk, venue: str) -> SimVenue:
    assert desk.simulator is not None
    sim = desk.simulator.trading_sim(venue)
    assert sim is not None
    return sim


@pytest.mark.parametrize("venue", VENUES)
def test_a_whitelisted_withdrawal_moves_the_balance_once_and_others_send_nothing(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim)
            before = btc(sim)
            with pytest.raises(NotWhitelisted, match="nothing was sent"):
                await desk.withdraw(venue, "BTC", "0.5", "elsewhere", code="123456", vault=vault)
            assert wallet(sim).requests == [] and btc(sim) == before
            done = await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
            assert done.status is WithdrawalStatus.ACCEPTED and done.fee == BTC_FEE
            [made] = wallet(sim).made
            assert (made.withdrawal_id, made.client_id, made.address, made.amount) == (done.venue_id, done.client_id, COLD,
                                                                                     Decimal("0.5"))
            assert btc(sim) == before - Decimal("0.5")
            [journaled] = await desk.withdrawals(venue)
            assert journaled == done

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_key_without_the_withdrawal_right_is_refused_by_the_venue(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))
            before = btc(sim)
            # MEXC says 700007, which ccxt reads as an AuthenticationError
            with pytest.raises(VenueRefused, match=r"PermissionDenied|AuthenticationError"):
                await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=codes(), vault=vault)
            assert wallet(sim).made == [] and btc(sim) == before
            # refused at the withdrawal (Gate) or already at the address list it reads first (MEXC)
            assert all(w.status is WithdrawalStatus.REFUSED for w in await desk.withdrawals(venue))

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_process_killed_right_after_sending_is_reconciled_without_a_second_send(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)
    config = tmp_path / "sim.toml"
    child_code = CHILD.replace('"binance"', repr(venue)).replace('"cold", code=', '"cold", network="BTC", code=')

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim)
            desk.write_config(config)
            before = btc(sim)
            env = {**os.environ, "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE}
            child = await asyncio.create_subprocess_exec(sys.executable, "-c", child_code, str(config), str(vault.path),
                                                         codes(), env=env, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(child.communicate(), 90)
            assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
            assert len(wallet(sim).made) == 1 and btc(sim) == before - Decimal("0.5")

            async with Desk.from_config(config, vault=Vault.open(vault.path, PASSPHRASE)) as restarted:
                [in_flight] = await restarted.withdrawals(venue)
                assert in_flight.status is WithdrawalStatus.SENT and in_flight.venue_id is None
                [settled] = await restarted.reconcile_withdrawals(venue)
                assert settled.status is WithdrawalStatus.ACCEPTED
                assert settled.venue_id == wallet(sim).made[0].withdrawal_id
                assert await restarted.reconcile_withdrawals(venue) == []
            assert len(wallet(sim).made) == 1 and btc(sim) == before - Decimal("0.5")

    run(body(), timeout=180)
