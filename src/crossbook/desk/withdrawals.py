"""The Desk's withdrawals: crossbook's whitelist and the second factor first, then the venue's
own whitelist, fee and minimum, then the journaled send (crossbook.trading.withdraw)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ..errors import InvalidOrder
from ..security.totp import require_enrolled
from ..security.vault import Vault, unlock
from ..security.whitelist import check_venue_list, resolve
from ..trading.account import VenueAccount
from ..trading.withdraw import Withdrawal, WithdrawalJournal, WithdrawalRequest, Withdrawer

if TYPE_CHECKING:
    from .desk import Desk


def _journal_of(account: VenueAccount) -> WithdrawalJournal:
    return WithdrawalJournal(account.journal.path, account.journal.instance_id)


async def withdraw(desk: Desk, vault: Vault, venue: str, asset: str, amount: Decimal, to: str, *,
                   network: str | None = None, code: str | None = None, account: str = "main") -> Withdrawal:
    """Withdraw ``amount`` of ``asset`` from ``venue`` to whitelist entry ``to``. Refused before
    anything reaches the venue when ``to`` is not on the whitelist for that asset (and network)
    (``NotWhitelisted``) or ``code`` is not a fresh TOTP code (``SecondFactorError``)."""
    if not amount.is_finite() or amount <= 0:
        raise InvalidOrder(f"withdrawal amount {amount} must be a positive number")
    entry = resolve(vault, to, asset, network)
    require_enrolled(vault, code, what="a withdrawal")
    venue_account = await desk.venue_account(venue, account)
    venue_account.require_tradeable()
    withdrawer = Withdrawer(venue_account, _journal_of(venue_account))
    try:
        listed = await withdrawer.venue_addresses()
        at_venue = None if listed is None else check_venue_list(venue, entry, listed)
        limits = await withdrawer.limits(entry.asset, entry.network)
        request = WithdrawalRequest(venue, account, entry.asset, amount, entry.address, entry.network, entry.memo, entry.name,
                                    None if at_venue is None else at_venue.name)
        withdrawer.check_limits(request, limits)
        return await withdrawer.withdraw(request, limits)
    finally:
        withdrawer.journal.close()


async def reconcile_withdrawals(desk: Desk, venue: str, account: str = "main") -> list[Withdrawal]:
    """Settle the withdrawals the journal has in flight on ``venue`` (after a crash): each found
    at the venue or marked as never received; none is sent again."""
    venue_account = await desk.venue_account(venue, account)
    withdrawer = Withdrawer(venue_account, _journal_of(venue_account))
    try:
        return await withdrawer.reconcile()
    finally:
        withdrawer.journal.close()


def journaled_withdrawals(account: VenueAccount) -> list[Withdrawal]:
    journal = _journal_of(account)
    try:
        return journal.withdrawals(account.venue, account.account)
    finally:
        journal.close()


class Withdrawing:
    """The Desk's withdrawal methods (a base of Desk)."""

    vault: Vault | None

    async def withdraw(self, venue: str, asset: str, amount: Decimal | float | str, to: str, *,
                       network: str | None = None, code: str | None = None, account: str = "main",
                       vault: Vault | None = None) -> Withdrawal:
        """Withdraw ``amount`` of ``asset`` from ``venue`` to the whitelist entry ``to``, with a
        TOTP ``code``; ``vault``: else the desk's, else the one unlocked now (see ``withdraw``)."""
        return await withdraw(self._desk(), vault or self.vault or unlock(), venue, asset.upper(), Decimal(str(amount)), to,
                              network=network, code=code, account=account)

    async def reconcile_withdrawals(self, venue: str, account: str = "main") -> list[Withdrawal]:
        """Settle the journal's withdrawals in flight on ``venue`` (see ``reconcile_withdrawals``)."""
        return await reconcile_withdrawals(self._desk(), venue, account)

    async def withdrawals(self, venue: str, account: str = "main") -> list[Withdrawal]:
        """The journal's withdrawals from ``account`` on ``venue``, oldest first."""
        return journaled_withdrawals(await self._desk().venue_account(venue, account))

    def _desk(self) -> Desk:
        from .desk import Desk

        assert isinstance(self, Desk)
        return self
