"""Withdrawals only to whitelisted addresses, behind a TOTP code, journaled and sent once: on the
simulated Binance (its wallet endpoints, address whitelist, fees and minimums) through ccxt."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import InvalidOrder, NotWhitelisted, SecondFactorError
from crossbook.security.totp import code_at, counter_at, enroll, new_enrollment
from crossbook.security.vault import Vault
from crossbook.security.whitelist import add_entry, new_entry, remove_entry
from crossbook.sim.server import SimVenue
from crossbook.sim.venues.binance.capital import BinanceCapital
from crossbook.sim.withdrawals import BookedAddress, SimWithdrawals
from crossbook.trading.withdraw import WithdrawalStatus
from tests.conftest import run

PASSPHRASE = "withdrawal test passphrase"
COLD = "bc1qcoldstorage0000000000000000000000000"
HOT = "bc1qsomeoneelse00000000000000000000000000"


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


def allow_withdrawals(sim: SimVenue) -> None:
    """The simulated keys with the withdrawal right, and COLD on the account's own whitelist there."""
    for key, api_key in list(sim.api_keys.items()):
        sim.api_keys[key] = dataclasses.replace(api_key, permissions=api_key.permissions | {"withdraw"})
    wallet(sim).book("main", BookedAddress("BTC", COLD, "BTC"))


def wallet(sim: SimVenue) -> SimWithdrawals:
    assert isinstance(sim, BinanceCapital)
    return sim.withdrawals


def btc(sim: SimVenue) -> Decimal:
    return sim.engine.account("main").balances["BTC"]


def test_a_name_not_on_the_whitelist_is_refused_with_nothing_sent(tmp_path: Path) -> None:
    vault, _ = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim(["binance"]) as desk:
            sim = desk.simulator.trading_sim("binance")  # type: ignore[union-attr]
            assert sim is not None
            allow_withdrawals(sim)
            before = btc(sim)
            for to, asset, network in (("elsewhere", "BTC", None), ("usdt-cold", "BTC", None), ("cold", "BTC", "ETH")):
                with pytest.raises(NotWhitelisted, match="nothing was sent"):
                    await desk.withdraw("binance", asset, "0.5", to, network=network, code="123456", vault=vault)
            assert wallet(sim).requests == []
            assert btc(sim) == before
            assert await desk.withdrawals("binance") == []

    run(body())


def test_a_whitelisted_withdrawal_needs_a_fresh_code_and_moves_the_balance_once(tmp_path: Path) -> None:
    vault, codes = vault_with_whitelist(tmp_path)

    async def body() -> None:
        async with Desk.sim(["binance"]) as desk:
            sim = desk.simulator.trading_sim("binance")  # type: ignore[union-attr]
            assert sim is not None
            allow_withdrawals(sim)
            before = btc(sim)
            with pytest.raises(SecondFactorError, match="required"):
                await desk.withdraw("binance", "BTC", "0.5", "cold", vault=vault)
            with pytest.raises(SecondFactorError, match="wrong"):
                await desk.withdraw("binance", "BTC", "0.5", "cold", code="000000" if codes.step % 2 else "999999", vault=vault)
            assert wallet(sim).requests == []
            code = codes()
            done = await desk.withdraw("binance", "BTC", "0.5", "cold", network="BTC", code=code, vault=vault)
            assert done.status is WithdrawalStatus.ACCEPTED and done.fee == Decimal("0.0002")
            with pytest.raises(SecondFactorError, match="already used"):
                await desk.withdraw("binance", "BTC", "0.5", "cold", code=code, vault=vault)
            assert btc(sim) == before - Decimal("0.5")
            [made] = wallet(sim).made
            assert (made.withdrawal_id, made.client_id, made.address) == (done.venue_id, done.client_id, COLD)
            with pytest.raises(InvalidOrder, match="below the venue's withdrawal minimum"):
                await desk.withdraw("binance", "BTC", "0.0005", "cold", code=codes(), vault=vault)
            assert len(wallet(sim).made) == 1
            [journaled] = await desk.withdrawals("binance")
            assert journaled == done

    run(body())


def test_whitelist_changes_need_a_fresh_code(tmp_path: Path) -> None:
    vault, codes = vault_with_whitelist(tmp_path)
    with pytest.raises(SecondFactorError, match="required"):
        add_entry(vault, new_entry("hot", "BTC", HOT, "BTC"), None)
    code = codes()
    add_entry(vault, new_entry("hot", "BTC", HOT, "BTC"), code)
    with pytest.raises(SecondFactorError, match="already used"):
        remove_entry(vault, "hot", code)
    assert "hot" in Vault.open(vault.path, PASSPHRASE).whitelist
    remove_entry(vault, "hot", codes())
    assert sorted(Vault.open(vault.path, PASSPHRASE).whitelist) == ["cold", "usdt-cold"]
    with pytest.raises(ValueError, match="address"):
        new_entry("bad", "BTC", "has spaces in it", "BTC")


def test_an_address_missing_from_the_venues_own_whitelist_is_refused(tmp_path: Path) -> None:
    vault, codes = vault_with_whitelist(tmp_path)
    vault.put_whitelist(new_entry("hot", "BTC", HOT, "BTC"))

    async def body() -> None:
        async with Desk.sim(["binance"]) as desk:
            sim = desk.simulator.trading_sim("binance")  # type: ignore[union-attr]
            assert sim is not None
            allow_withdrawals(sim)
            before = btc(sim)
            with pytest.raises(NotWhitelisted, match="binance's own withdrawal address whitelist"):
                await desk.withdraw("binance", "BTC", "0.5", "hot", code=codes(), vault=vault)
            assert "withdraw/apply" not in wallet(sim).requests
            assert btc(sim) == before

    run(body())


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from crossbook import Desk
    from crossbook.security.vault import Vault

    async def main() -> None:
        vault = Vault.open(sys.argv[2], os.environ["CROSSBOOK_VAULT_PASSPHRASE"])
        async with Desk.from_config(sys.argv[1], vault=vault) as desk:
            client = (await desk.venue_account("binance")).client
            send = client.withdraw

            async def killed_once_sent(*args, **kwargs):
                await send(*args, **kwargs)  # the venue has it; the process dies before recording its answer
                os.kill(os.getpid(), signal.SIGKILL)

            client.withdraw = killed_once_sent
            await desk.withdraw("binance", "BTC", "0.5", "cold", code=sys.argv[3])

    asyncio.run(main())
""")


def test_a_process_killed_right_after_sending_never_sends_the_withdrawal_twice(tmp_path: Path) -> None:
    vault, codes = vault_with_whitelist(tmp_path)
    config = tmp_path / "sim.toml"

    async def body() -> None:
        async with Desk.sim(["binance"]) as desk:
            sim = desk.simulator.trading_sim("binance")  # type: ignore[union-attr]
            assert sim is not None
            allow_withdrawals(sim)
            desk.write_config(config)
            before = btc(sim)
            env = {**os.environ, "CROSSBOOK_VAULT_PASSPHRASE": PASSPHRASE}
            child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, str(config), str(vault.path), codes(),
                                                         env=env, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(child.communicate(), 90)
            assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
            assert len(wallet(sim).made) == 1 and btc(sim) == before - Decimal("0.5")

            async with Desk.from_config(config, vault=Vault.open(vault.path, PASSPHRASE)) as restarted:
                [in_flight] = await restarted.withdrawals("binance")
                assert in_flight.status is WithdrawalStatus.SENT and in_flight.venue_id is None
                [settled] = await restarted.reconcile_withdrawals("binance")
                assert settled.status is WithdrawalStatus.ACCEPTED
                assert settled.venue_id == wallet(sim).made[0].withdrawal_id
                assert await restarted.reconcile_withdrawals("binance") == []
                second = await restarted.withdraw("binance", "BTC", "0.25", "cold", code=codes())  # and it goes on
                assert second.status is WithdrawalStatus.ACCEPTED
            assert [w.amount for w in wallet(sim).made] == [Decimal("0.5"), Decimal("0.25")]
            assert btc(sim) == before - Decimal("0.75")
            assert wallet(sim).requests.count("withdraw/apply") == 2

    run(body(), timeout=180)
