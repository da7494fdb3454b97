"""crossbook's own withdrawal whitelist: named addresses per asset (and network), in the vault.

A withdrawal names an entry (``--to NAME``), never an address: ``resolve`` refuses with
``NotWhitelisted`` any name that is not on the list, or is on it for another asset or network,
before anything is sent. Adding or removing an entry needs a TOTP code once one is enrolled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from ..errors import NotWhitelisted, UnknownKey
from ..venues.spec.withdrawals import VenueAddress
from .totp import require_second_factor
from .vault import Vault, WhitelistEntry

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ASSET = re.compile(r"^[A-Z0-9]{1,20}$")
_ADDRESS = re.compile(r"^[\x21-\x7e]{4,200}$")  # printable, no spaces


def new_entry(name: str, asset: str, address: str, network: str, memo: str | None = None,
              *, now: float | None = None) -> WhitelistEntry:
    """A checked entry: bad input raises ``ValueError`` naming the field."""
    if not _NAME.match(name):
        raise ValueError(f"whitelist name {name!r}: letters, digits, '-', '_' or '.', at most 64")
    asset = asset.strip().upper()
    if not _ASSET.match(asset):
        raise ValueError(f"asset {asset!r} is not an asset code (BTC, USDT, ...)")
    address = address.strip()
    if not _ADDRESS.match(address):
        raise ValueError(f"address {address!r}: 4 to 200 printable characters without spaces")
    network = network.strip().upper()
    if not _ASSET.match(network):
        raise ValueError(f"network {network!r} is not a network code (BTC, ETH, TRX, BSC, ...)")
    memo = memo.strip() if memo else None
    return WhitelistEntry(name, asset, address, network, memo, time.time() if now is None else now)


def add_entry(vault: Vault, entry: WhitelistEntry, code: str | None) -> None:
    """Put ``entry`` on the list (replacing one of that name) and save the vault."""
    require_second_factor(vault, code)
    vault.put_whitelist(entry)
    vault.save()


def remove_entry(vault: Vault, name: str, code: str | None) -> WhitelistEntry:
    entry = vault.whitelist.get(name)
    if entry is None:
        raise UnknownKey(f"no whitelist entry named {name!r}")
    require_second_factor(vault, code)
    vault.remove_whitelist(name)
    vault.save()
    return entry


def entries(vault: Vault) -> list[WhitelistEntry]:
    return sorted(vault.whitelist.values(), key=lambda e: (e.asset, e.name))


def resolve(vault: Vault, name: str, asset: str, network: str | None = None) -> WhitelistEntry:
    """The entry ``name`` for ``asset`` (and ``network``, where given); ``NotWhitelisted`` otherwise."""
    asset = asset.upper()
    entry = vault.whitelist.get(name)
    if entry is None:
        known = ", ".join(e.name for e in entries(vault) if e.asset == asset) or "none"
        raise NotWhitelisted(f"{name!r} is not on the withdrawal whitelist (entries for {asset}: {known}): nothing was sent")
    if entry.asset != asset:
        raise NotWhitelisted(f"whitelist entry {name!r} is for {entry.asset}, not {asset}: nothing was sent")
    if network is not None and entry.network != network.upper():
        raise NotWhitelisted(f"whitelist entry {name!r} is on network {entry.network}, not {network.upper()}: nothing was sent")
    return entry


def check_venue_list(venue: str, entry: WhitelistEntry, listed: Iterable[VenueAddress]) -> VenueAddress:
    """Refuse unless the venue's own address whitelist holds ``entry``'s address (and memo); the
    venue's entry for it."""
    for item in listed:
        same_network = item.network is None or item.network.upper() == entry.network
        if item.asset.upper() in (entry.asset, "") and item.address == entry.address and same_network \
                and (entry.memo or None) == (item.memo or None):
            return item
    raise NotWhitelisted(f"{venue}: the address of whitelist entry {entry.name!r} is not on {venue}'s own withdrawal "
                         f"address whitelist for {entry.asset}: add it there first; nothing was sent")
