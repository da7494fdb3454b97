"""The steps the withdrawal tests share on every simulated venue: a vault with crossbook's whitelist
and TOTP codes, a simulator whose keys may withdraw, a withdrawal that moves the balance once, one
refused with nothing sent, and a process killed right after sending then reconciled on restart.
What differs by venue (the fee on top or taken from the amount, the error a venue refuses with,
what it journals) is passed in by the tests."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import NotWhitelisted, VenueRefused
from crossbook.security.totp import code_at, counter_at, enroll, new_enrollment
from crossbook.security.vault import Vault
from crossbook.security.whitelist import new_entry
from crossbook.sim.server import SimVenue
from crossbook.sim.withdrawals import BookedAddress, SimWithdrawals
from crossbook.trading.withdraw import Withdrawal, WithdrawalStatus
from crossbook.venues.registry import spec
from tests.conftest import run

PASSPHRASE = "withdrawal test passphrase"
COLD = "bc1qcoldstorage0000000000000000000000000"
BTC_FEE = Decimal("0.0002")  # the simulators' BTC network fee (sim.withdrawals.networks_of)
# (whitelist name, asset, network) crossbook's whitelist has no entry for
OFF_THE_WHITELIST = (("elsewhere", "BTC", None), ("usdt-cold", "BTC", None), ("cold", "BTC", "ETH"))


class Codes:
    """A fresh TOTP code per call: each one a later time step (the drift window takes the next,
    so two are at hand after enrolling; call it only for a code that will be checked)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.step = counter_at(time.time()) - 2  # the first code is the previous step's

    def __call__(self) -> str:
        self.step = max(self.step + 1, counter_at(time.time()) - 1)
        return code_at(self.secret, self.step)


def vault_with_whitelist(tmp_path: Path) -> tuple[Vault, Codes]:
    vault = Vault.create(tmp_path / "vault", PASSPHRASE)
    enrollment = new_enrollment()
    codes = Codes(enrollment.secret)
    enroll(vault, enrollment, codes())
    # set up without codes: a TOTP gives three usable codes at a time (the drift window)
    vault.put_whitelist(new_entry("cold", "BTC", COLD, "BTC"))
    vault.put_whitelist(new_entry("usdt-cold", "USDT", "0x" + "ab" * 20, "ETH"))
    vault.save()
    return vault, codes


def wallet(sim: SimVenue) -> SimWithdrawals:
    withdrawals = getattr(sim, "withdrawals", None)
    assert isinstance(withdrawals, SimWithdrawals), f"{type(sim).__name__} serves no withdrawals"
    return withdrawals


def btc(sim: SimVenue) -> Decimal:
    return sim.engine.account("main").balances["BTC"]


def debited(venue: str, *amounts: Decimal) -> Decimal:
    """What BTC withdrawals of ``amounts`` take from the balance on ``venue`` (its fee on top or not)."""
    rules = spec(venue).withdrawals
    assert rules is not None
    return sum(amounts, Decimal(0)) + (BTC_FEE * len(amounts) if rules.fee_on_top else 0)


def grant_the_withdraw_right(sim: SimVenue) -> None:
    for name, key in list(sim.api_keys.items()):
        sim.api_keys[name] = dataclasses.replace(key, permissions=key.permissions | {"withdraw"})


@dataclass(frozen=True)
class OnSim:
    """A desk on one simulated venue, and its BTC balance before the test withdrew anything."""

    desk: Desk
    sim: SimVenue
    venue: str
    before: Decimal


@asynccontextmanager
async def desk_on_sim(venue: str, *, withdraw_right: bool = True, cold_booked: bool = True) -> AsyncIterator[OnSim]:
    """``venue`` simulated; its keys with the withdraw right, COLD on the account's whitelist there."""
    async with Desk.sim([venue]) as desk:
        assert desk.simulator is not None
        sim = desk.simulator.trading_sim(venue)
        assert sim is not None
        if withdraw_right:
            grant_the_withdraw_right(sim)
        if cold_booked:
            wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))
        yield OnSim(desk, sim, venue, btc(sim))


Steps = Callable[[OnSim, Vault, Codes], Awaitable[None]]


def run_on_sim(venue: str, tmp_path: Path, steps: Steps, *, withdraw_right: bool = True, cold_booked: bool = True,
               timeout: float = 60.0) -> None:
    """``steps`` on a desk on simulated ``venue`` (see ``desk_on_sim``), with a vault from ``vault_with_whitelist``."""
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with desk_on_sim(venue, withdraw_right=withdraw_right, cold_booked=cold_booked) as on:
            await steps(on, vault, codes)

    run(body(), timeout=timeout)


async def withdraw_and_assert_moved_once(on: OnSim, vault: Vault, code: str, *, debit: Decimal,
                                         client_id_sent: bool) -> Withdrawal:
    """0.5 BTC to "cold", accepted with the network fee; the venue made exactly that, once."""
    done = await on.desk.withdraw(on.venue, "BTC", "0.5", "cold", network="BTC", code=code, vault=vault)
    assert done.status is WithdrawalStatus.ACCEPTED and done.fee == BTC_FEE
    [made] = wallet(on.sim).made
    assert (made.withdrawal_id, made.address, made.amount) == (done.venue_id, COLD, Decimal("0.5"))
    if client_id_sent:
        assert made.client_id == done.client_id
    assert btc(on.sim) == on.before - debit
    return done


async def assert_journaled_once(on: OnSim, done: Withdrawal) -> None:
    [journaled] = await on.desk.withdrawals(on.venue)
    assert journaled == done and len(wallet(on.sim).made) == 1


async def assert_off_the_whitelist_refused(on: OnSim, vault: Vault, code: Callable[[], str]) -> None:
    """Every name, asset or network off crossbook's whitelist refused before anything is sent."""
    for to, asset, network in OFF_THE_WHITELIST:
        with pytest.raises(NotWhitelisted, match="nothing was sent"):
            await on.desk.withdraw(on.venue, asset, "0.5", to, network=network, code=code(), vault=vault)


async def assert_refused_by_the_venue(on: OnSim, vault: Vault, code: str, refusal: str) -> None:
    """0.5 BTC to "cold" refused by the venue with an error matching ``refusal``; nothing moved."""
    with pytest.raises(VenueRefused, match=refusal):
        await on.desk.withdraw(on.venue, "BTC", "0.5", "cold", network="BTC", code=code, vault=vault)
    assert wallet(on.sim).made == [] and btc(on.sim) == on.before


async def assert_nothing_sent_or_journaled(on: OnSim) -> None:
    assert wallet(on.sim).made == [] and btc(on.sim) == on.before
    assert await on.desk.withdrawals(on.venue) == []


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from crossbook import Desk
    from crossbook.security.vault import Vault

    async def main() -> None:
        venue, network = sys.argv[4], sys.argv[5] or None
        vault = Vault.open(sys.argv[2], os.environ["CROSSBOOK_VAULT_PASSPHRASE"])
        async with Desk.from_config(sys.argv[1], vault=vault) as desk:
            client = (await desk.venue_account(venue)).client
            send = client.withdraw

            async def killed_once_sent(*args, **kwargs):
                await send(*args, **kwargs)  # the venue has it; the process dies before recording its answer
                os.kill(os.getpid(), signal.SIGKILL)

            client.withdraw = killed_once_sent
            await desk.withdraw(venue, "BTC", "0.5", "cold", network=network, code=sys.argv[3])

    asyncio.run(main())
""")


@asynccontextmanager
async def restarted_after_a_crash(on: OnSim, vault: Vault, code: str, config: Path, *, network: str | None,
                                  debit: Decimal) -> AsyncIterator[Desk]:
    """0.5 BTC to "cold" from a child process on ``config`` that dies by SIGKILL right after sending
    (the venue made it once, the balance moved by ``debit``), then a desk restarted on ``config``
    that settles it from the venue's history, once."""
    on.desk.write_config(config)
    env = {**os.environ, "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE}
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, str(config), str(vault.path), code,
                                                 on.venue, network or "", env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(child.communicate(), 90)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert len(wallet(on.sim).made) == 1
    assert btc(on.sim) == on.before - debit

    async with Desk.from_config(config, vault=Vault.open(vault.path, PASSPHRASE)) as restarted:
        [in_flight] = await restarted.withdrawals(on.venue)
        assert in_flight.status is WithdrawalStatus.SENT and in_flight.venue_id is None
        [settled] = await restarted.reconcile_withdrawals(on.venue)
        assert settled.status is WithdrawalStatus.ACCEPTED
        assert settled.venue_id == wallet(on.sim).made[0].withdrawal_id
        assert await restarted.reconcile_withdrawals(on.venue) == []
        yield restarted


async def withdraw_again(restarted: Desk, venue: str, code: str, *, network: str | None) -> None:
    """A second withdrawal, of 0.25 BTC to "cold", after the restart: accepted."""
    second = await restarted.withdraw(venue, "BTC", "0.25", "cold", network=network, code=code)
    assert second.status is WithdrawalStatus.ACCEPTED


def assert_both_made(on: OnSim, *, debit: Decimal) -> None:
    """The venue made the crashed withdrawal and the one after it, each once; the balance moved by ``debit``."""
    assert [w.amount for w in wallet(on.sim).made] == [Decimal("0.5"), Decimal("0.25")]
    assert btc(on.sim) == on.before - debit
