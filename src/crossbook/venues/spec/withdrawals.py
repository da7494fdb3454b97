"""What differs between venues for withdrawals: the parameter that carries crossbook's client id,
and the venue's own withdrawal address whitelist (its address book), where its API exposes one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class VenueAddress:
    """One address of a venue's own withdrawal whitelist."""

    asset: str
    address: str
    network: str | None
    memo: str | None
    name: str | None = None  # the venue's name for it, where a withdrawal names it (Kraken's withdrawal key)


@dataclass(frozen=True)
class WithdrawalLimits:
    """What the venue charges and requires to withdraw an asset on a network (None: not said)."""

    asset: str
    network: str | None
    fee: Decimal | None
    minimum: Decimal | None
    enabled: bool = True


# the venue's withdrawal address whitelist, read through its ccxt client
AddressBook = Callable[[Any], Awaitable[list[VenueAddress]]]
# the fee and minimum of (asset, network), read through its ccxt client where ccxt's own
# fetch_deposit_withdraw_fees does not give them
FetchWithdrawalLimits = Callable[[Any, str, str | None], Awaitable[WithdrawalLimits]]


@dataclass(frozen=True)
class WithdrawalRules:
    """``client_id_param``: the withdraw parameter the venue takes a client id in (and echoes in
    its withdrawal history under the same name); None where it takes none, and crossbook then
    reconciles by amount, address and time. ``client_id_length``: the longest id it takes.
    ``address_book``: the venue's own address whitelist; None where its API exposes none.
    ``limits``: the venue's fee and minimum; None: ccxt's fetch_deposit_withdraw_fees and
    currencies say them. ``fee_on_top``: the venue debits amount + fee and the address receives
    the amount (OKX, Bybit); False: the fee comes out of the amount (Binance).
    ``address_param``: where the venue withdraws only to an address of its own list named in the
    request (Kraken's ``key``), the parameter that carries that name (``VenueAddress.name``); the
    named address fixes the network, so none is sent."""

    client_id_param: str | None
    client_id_length: int = 32
    address_book: AddressBook | None = None
    limits: FetchWithdrawalLimits | None = None
    fee_on_top: bool = False
    address_param: str | None = None
