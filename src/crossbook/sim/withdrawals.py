"""Simulated withdrawals, venue-neutral: the networks each asset withdraws on (fee, minimum), an
account's address whitelist at the venue, and the withdrawals made. A venue module serves them in
its own wire shapes (``sim/venues/<id>/``); this moves the balance, once per accepted request.

The simulated chain is instant: a withdrawal is complete as soon as it is accepted. Where the
venue charges the fee on top of the amount (OKX's ``fee``), ``fee_on_top`` debits amount + fee;
else the fee comes out of the amount (Binance) and the address receives the rest.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from .engine import Ledger, Reject

STABLECOINS = ("USDT", "USDC", "DAI", "FDUSD", "TUSD", "USD")


@dataclass(frozen=True)
class Network:
    """One way an asset leaves the venue."""

    name: str
    fee: Decimal
    minimum: Decimal
    default: bool = False


@dataclass(frozen=True)
class BookedAddress:
    """An address on an account's whitelist at the venue."""

    asset: str
    address: str
    network: str
    memo: str | None = None


@dataclass
class SimWithdrawal:
    withdrawal_id: str
    account: str
    asset: str
    amount: Decimal
    fee: Decimal
    address: str
    network: str
    memo: str | None
    client_id: str
    ts: float = field(default_factory=time.time)
    status: str = "completed"


def networks_of(asset: str) -> list[Network]:
    """The networks the simulator withdraws ``asset`` on: stablecoins on Ethereum and Tron, any
    other asset on its own chain (named by the asset)."""
    if asset in STABLECOINS:
        return [Network("ETH", Decimal("4"), Decimal("10"), default=True), Network("TRX", Decimal("1"), Decimal("10"))]
    if asset == "BTC":
        return [Network("BTC", Decimal("0.0002"), Decimal("0.001"), default=True)]
    return [Network(asset, Decimal("0.001"), Decimal("0.01"), default=True)]


class SimWithdrawals:
    """One simulator's withdrawals over its matching engine's balances."""

    def __init__(self, ledger: Ledger, *, fee_on_top: bool, ids: Callable[[int], str] = str) -> None:
        """``ids``: the venue's withdrawal id of the n-th withdrawal (Binance's 32 hex digits, ...)."""
        self.ledger = ledger
        self.fee_on_top = fee_on_top
        self.made: list[SimWithdrawal] = []
        self.requests: list[str] = []  # every wallet request the venue module served, by name, in order
        self.booked: dict[str, list[BookedAddress]] = {}  # account -> its whitelist at the venue
        self.whitelist_only: set[str] = set()  # accounts that withdraw only to booked addresses
        self._count = itertools.count(1)
        self._ids = ids

    def book(self, account: str, address: BookedAddress, *, enforce: bool = True) -> None:
        """Put ``address`` on ``account``'s whitelist at the venue (``enforce``: and turn the
        whitelist on, so no other address may be withdrawn to)."""
        self.booked.setdefault(account, []).append(address)
        if enforce:
            self.whitelist_only.add(account)

    def network(self, asset: str, network: str | None) -> Network:
        listed = networks_of(asset)
        if network is None:
            return next(n for n in listed if n.default)
        for candidate in listed:
            if candidate.name == network:
                return candidate
        raise Reject("unknown_network", f"{asset} does not withdraw on network {network}")

    def withdraw(self, account: str, asset: str, amount: Decimal, address: str, network: str | None,
                 memo: str | None = None, client_id: str = "") -> SimWithdrawal:
        """Check and make one withdrawal (``Reject`` names the reason: ``bad_amount``,
        ``below_minimum``, ``below_fee``, ``not_whitelisted``, ``insufficient_balance``,
        ``unknown_network``)."""
        if not amount.is_finite() or amount <= 0:
            raise Reject("bad_amount", f"withdrawal amount must be positive, got {amount}")
        chosen = self.network(asset, network)
        if amount < chosen.minimum:
            raise Reject("below_minimum", f"{amount} {asset} is below the minimum {chosen.minimum}")
        if not self.fee_on_top and amount <= chosen.fee:
            raise Reject("below_fee", f"{amount} {asset} does not cover the fee {chosen.fee}")
        if account in self.whitelist_only and not self._booked(account, asset, address, chosen.name, memo):
            raise Reject("not_whitelisted", f"{address} is not on {account}'s withdrawal whitelist")
        holder = self.ledger.account(account)
        debit = amount + chosen.fee if self.fee_on_top else amount
        if holder.available(asset) < debit:
            raise Reject("insufficient_balance", f"{account} has {holder.available(asset)} {asset} available, not {debit}")
        holder.adjust(holder.balances, asset, -debit)
        made = SimWithdrawal(self._ids(next(self._count)), account, asset, amount, chosen.fee, address,
                             chosen.name, memo, client_id)
        self.made.append(made)
        return made

    def _booked(self, account: str, asset: str, address: str, network: str, memo: str | None) -> bool:
        return any(b.asset == asset and b.address == address and b.network == network and (b.memo or None) == (memo or None)
                   for b in self.booked.get(account, []))

    def of(self, account: str, asset: str | None = None, since_ms: int = 0, until_ms: int | None = None) -> list[SimWithdrawal]:
        """``account``'s withdrawals, newest first."""
        found = [w for w in self.made if w.account == account and asset in (None, w.asset)
                 and w.ts * 1000 >= since_ms and (until_ms is None or w.ts * 1000 <= until_ms)]
        return sorted(found, key=lambda w: -w.ts)
