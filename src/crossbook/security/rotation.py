"""Key rotation in the vault: a new key is staged beside the old one, verified, switched in under
the name crossbook.toml points at (``key = "vault:NAME"`` keeps working, now with the new key), and
the old one retired once it is revoked at the venue.

    NAME          active    the key the config's vault:NAME reference uses
    NAME.next     rotating  staged: stored beside NAME, being verified (dropped if it fails)
    NAME.previous rotating  switched out: still valid at the venue until the user revokes it there
    NAME.previous retired   revoked at the venue and retired here: its secrets erased, the record kept

Every step is saved before the next one starts, so a crash leaves either the old key in use (and a
staged one to verify again) or the new one in use (and the old one to retire).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import UnknownKey, VaultError
from .audit import AuditPolicy
from .permissions import KeyPermissions
from .vault import StoredKey, Vault

ROTATION_DAYS = AuditPolicy().rotation_days  # a key older than this is due for rotation (the audit's key_age)
DAY = 86400.0
NEXT, PREVIOUS = ".next", ".previous"


def staged_name(name: str) -> str:
    return name + NEXT


def previous_name(name: str) -> str:
    return name + PREVIOUS


@dataclass(frozen=True)
class Overdue:
    """An active key older than the rotation period."""

    name: str
    venue: str
    account: str
    age_days: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "venue": self.venue, "account": self.account, "age_days": round(self.age_days, 1)}

    def warning(self) -> str:
        return (f"key {self.name} ({self.venue}/{self.account}) is {self.age_days:.0f} days old, past the rotation "
                f"period: crossbook keys rotate {self.name}")


def overdue_keys(keys: Iterable[StoredKey], now: float | None = None, days: float = ROTATION_DAYS) -> list[Overdue]:
    """The active keys created more than ``days`` ago, oldest first."""
    now = time.time() if now is None else now
    late = [Overdue(k.name, k.venue, k.account, (now - k.created) / DAY) for k in keys
            if k.state == "active" and now - k.created > days * DAY]
    return sorted(late, key=lambda o: -o.age_days)


def stage(vault: Vault, name: str, api_key: str, secret: str, password: str | None, now: float | None = None) -> StoredKey:
    """Store the new key beside ``name``'s as ``NAME.next`` (state rotating); a key staged before
    and never switched in is replaced. Refused while the last rotation's old key is not retired."""
    current = _active(vault, name)
    previous = vault.keys.get(previous_name(name))
    if previous is not None and previous.state != "retired":
        raise VaultError(f"{name}'s previous key is not retired yet: revoke it at {current.venue}, then "
                         f"crossbook keys rotate {name} --retire")
    if api_key in (current.api_key, current.secret) or secret in (current.api_key, current.secret):
        raise VaultError(f"the new key for {name} is the key it replaces: create a new key at {current.venue}")
    staged = StoredKey(staged_name(name), current.venue, current.account, api_key, secret, password,
                       created=time.time() if now is None else now, state="rotating", replaces=name,
                       strategy=current.strategy)
    vault.put_key(staged)
    return staged


def abandon(vault: Vault, name: str) -> None:
    """Drop ``name``'s staged key (its verification failed): the old key stays in use."""
    if staged_name(name) in vault.keys:
        vault.remove_key(staged_name(name))


def switch(vault: Vault, name: str, permissions: KeyPermissions | None, now: float | None = None) -> StoredKey:
    """The verified staged key becomes ``name`` (active, what the config's vault:NAME now uses);
    the old key moves to ``NAME.previous`` (rotating: valid at the venue until revoked there)."""
    current = _active(vault, name)
    staged = vault.keys.get(staged_name(name))
    if staged is None or staged.state != "rotating":
        raise UnknownKey(f"no key staged for {name}: crossbook keys rotate {name} stores and verifies one")
    when = time.time() if now is None else now
    vault.remove_key(staged.name)
    vault.put_key(replace(current, name=previous_name(name), state="rotating", replaces=None))
    switched = replace(staged, name=name, state="active", replaces=previous_name(name), verified=when,
                       permissions=permissions or staged.permissions)
    vault.put_key(switched)
    return switched


def retiring(vault: Vault, name: str) -> StoredKey:
    """``name``'s switched-out key, still to be retired."""
    previous = vault.keys.get(previous_name(name))
    if previous is None or previous.state != "rotating":
        raise UnknownKey(f"{name} has no switched-out key to retire (rotate it first: crossbook keys rotate {name})")
    return previous


def retire(vault: Vault, name: str) -> StoredKey:
    """``name``'s switched-out key retired: its secrets erased from the vault, its record kept."""
    previous = retiring(vault, name)
    retired = replace(previous, api_key="", secret="", password=None, state="retired")
    vault.put_key(retired)
    return retired


def _active(vault: Vault, name: str) -> StoredKey:
    key = vault.key(name)
    if key.state != "active":
        raise VaultError(f"{name} is {key.state}, not an active key: rotate the key the config names (vault:NAME)")
    return key
