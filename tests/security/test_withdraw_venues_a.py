"""Withdrawals on the simulated OKX, Bybit, Bitget and KuCoin, each in its own wire format through
an unmodified ccxt client: a whitelisted withdrawal with a fresh code moves the balance exactly
once, one to a name off the whitelist sends nothing, a key without the withdraw right is refused
with the venue's own error, and a process killed right after sending is reconciled from the
venue's withdrawal history without a second send."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import NotWhitelisted, VenueRefused
from crossbook.security.vault import Vault
from crossbook.sim.server import SimVenue
from crossbook.sim.withdrawals import BookedAddress, SimWithdrawals
from crossbook.trading.withdraw import WithdrawalStatus
from crossbook.venues.registry import spec
from tests.conftest import run
from tests.security.test_withdraw import COLD, PASSPHRASE, vault_with_whitelist

VENUES = ["okx", "bybit", "bitget", "kucoin"]
BTC_FEE = Decimal("0.0002")  # the simulator's BTC network fee


def wallet(sim: SimVenue) -> SimWithdrawals:
    withdrawals = getattr(sim, "withdrawals", None)
    assert isinstance(withdrawals, SimWithdrawals), f"{type(sim).__name__} serves no withdrawals"
    return withdrawals


def allow_withdrawals(sim: SimVenue, booked: bool = True) -> None:
    """The simulated keys with the withdraw right; COLD on the account's whitelist at the venue."""
    for name, key in list(sim.api_keys.items()):
        sim.api_keys[name] = dataclasses.replace(key, permissions=key.permissions | {"withdraw"})
    if booked:
        wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))


def btc(sim: SimVenue) -> Decimal:
    return sim.engine.account("main").balances["BTC"]


def debited(venue: str, *amounts: Decimal) -> Decimal:
    """What BTC withdrawals of ``amounts`` take from the balance on ``venue``."""
    rules = spec(venue).withdrawals
    assert rules is not None
    return sum(amounts, Decimal(0)) + (BTC_FEE * len(amounts) if rules.fee_on_top else 0)


def trading_sim(desk: Desk, venue: str) -> SimVenue:
    sim = desk.simulator.trading_sim(venue)  # type: ignore[union-attr]
    assert sim is not None
    return sim


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
            if spec(venue).withdrawals.client_id_param is not None:  # type: ignore[union-attr]
                assert made.client_id == done.client_id
            assert btc(sim) == before - debited(venue, Decimal("0.5"))
            assert [w.client_id for w in await desk.reconcile_withdrawals(venue)] == []
            [journaled] = await desk.withdrawals(venue)
            assert journaled == done and len(wallet(sim).made) == 1

    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_a_withdrawal_off_the_whitelist_sends_nothing(tmp_path: Path, venue: str) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            sim = trading_sim(desk, venue)
            allow_withdrawals(sim)
            before = btc(sim)
            for to, asset, network in (("elsewhere", "BTC", None), ("usdt-cold", "BTC", None), ("cold", "BTC", "ETH")):
                with pytest.raises(NotWhitelisted, match="nothing was sent"):
                    await desk.withdraw(venue, asset, "0.5", to, network=network, code=codes(), vault=vault)
            assert wallet(sim).requests == [] and wallet(sim).made == []
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
            assert wallet(sim).made == [] and btc(sim) == before
            [refused] = await desk.withdrawals(venue)
            assert refused.status is WithdrawalStatus.REFUSED

    run(body())


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from crossbook import Desk
    from crossbook.security.vault import Vault

    async def main() -> None:
        venue = sys.argv[4]
        vault = Vault.open(sys.argv[2], os.environ["CROSSBOOK_VAULT_PASSPHRASE"])
        async with Desk.from_config(sys.argv[1], vault=vault) as desk:
            client = (await desk.venue_account(venue)).client
            send = client.withdraw

            async def killed_once_sent(*args, **kwargs):
                await send(*args, **kwargs)  # the venue has it; the process dies before recording its answer
                os.kill(os.getpid(), signal.SIGKILL)

            client.withdraw = killed_once_sent
            await desk.withdraw(venue, "BTC", "0.5", "cold", network="BTC", code=sys.argv[3])

    asyncio.run(main())
""")


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
            assert [w.amount for w in wallet(sim).made] == [Decimal("0.5"), Decimal("0.25")]
            assert btc(sim) == before - debited(venue, Decimal("0.5"), Decimal("0.25"))

    run(body(), timeout=180)
