"""The key permission audit: what each configured key may do (asked of the venue through its own
key-information endpoint, the SPEC hook ``key_permissions``; where a venue has none, what can be
observed: a read call that succeeds, and the permissions the user declared) against what the
configuration needs of it, its IP binding, its age and where it is kept.

Findings and their severity:

- high: ``withdraw_on_trading_key`` (a key that trades may also withdraw), ``plaintext_key`` (a
  key written in a file in clear);
- medium: ``no_ip_restriction``, ``excess_permission`` (trade, transfer or withdraw the
  configuration does not use), ``key_age`` (older than the rotation period, 30 days by default),
  ``key_expiring`` (expires within 7 days, or has), ``key_info_failed`` (the venue would not say);
- low: ``env_key`` (taken from an environment variable), ``permissions_unverified`` (the venue
  has no key-information endpoint and no permissions were declared).

Nothing here holds or prints a secret: a subject names its key, and its ccxt client is kept out
of every repr and JSON.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import ccxt

from ..venues.registry import spec
from .permissions import DECLARED, OBSERVED, KeyPermissions

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
KeySource = Literal["vault", "env", "plaintext", "sim"]
DAY = 86_400.0

FINDINGS: dict[str, Severity] = {
    "withdraw_on_trading_key": "high",
    "plaintext_key": "high",
    "no_ip_restriction": "medium",
    "excess_permission": "medium",
    "key_age": "medium",
    "key_expiring": "medium",
    "key_info_failed": "medium",
    "env_key": "low",
    "permissions_unverified": "low",
}


@dataclass(frozen=True)
class KeyNeeds:
    """What the configuration uses a key for: trading (and reading), and only where it says so,
    moving funds between accounts and withdrawing."""

    trade: bool = True
    transfer: bool = False
    withdraw: bool = False


@dataclass(frozen=True)
class AuditPolicy:
    rotation_days: float = 30.0
    expiry_warning_days: float = 7.0

    def __post_init__(self) -> None:
        if not self.rotation_days > 0 or not self.expiry_warning_days >= 0:
            raise ValueError(f"audit policy: rotation_days must be > 0 and expiry_warning_days >= 0, got "
                             f"{self.rotation_days!r} and {self.expiry_warning_days!r}")


@dataclass(frozen=True)
class KeySubject:
    """One configured key to audit: where it trades, what it is called and where it is kept, the
    ccxt client that signs with it, what is known of it locally (the vault's creation time, the
    permissions the user declared) and what the configuration needs of it."""

    venue: str
    account: str
    key: str  # the key's name: a vault entry, an environment variable, the account's label
    source: KeySource
    client: Any = field(default=None, repr=False, compare=False)
    created: float | None = None
    declared: KeyPermissions | None = None
    needs: KeyNeeds = KeyNeeds()


@dataclass(frozen=True)
class Finding:
    venue: str
    account: str
    key: str
    finding: str
    detail: str

    @property
    def severity(self) -> Severity:
        return FINDINGS[self.finding]

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "account": self.account, "key": self.key, "finding": self.finding,
                "severity": self.severity, "detail": self.detail}


@dataclass(frozen=True)
class KeyResult:
    venue: str
    account: str
    key: str
    source: KeySource
    permissions: KeyPermissions | None
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "account": self.account, "key": self.key, "source": self.source,
                "permissions": self.permissions.to_json() if self.permissions is not None else None,
                "clean": self.clean, "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True)
class AuditReport:
    keys: tuple[KeyResult, ...]
    at: float
    policy: AuditPolicy = AuditPolicy()

    @property
    def findings(self) -> list[Finding]:
        return [f for result in self.keys for f in result.findings]

    @property
    def high(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "high"]

    def counts(self) -> dict[tuple[str, str, str], int]:
        """(venue, finding, severity) -> how many keys have it: the metric's samples."""
        return dict(Counter((f.venue, f.finding, f.severity) for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        by_severity = Counter(f.severity for f in self.findings)
        return {"at": self.at, "rotation_days": self.policy.rotation_days,
                "expiry_warning_days": self.policy.expiry_warning_days,
                "summary": {s: by_severity.get(s, 0) for s in SEVERITIES},
                "keys": [result.to_json() for result in self.keys]}


async def audit(subjects: Sequence[KeySubject], policy: AuditPolicy = AuditPolicy(), now: float | None = None) -> AuditReport:
    """Audit every subject (one at a time: each asks its venue once)."""
    at = time.time() if now is None else now
    results = [await audit_key(subject, policy, at) for subject in subjects]
    return AuditReport(tuple(results), at, policy)


async def audit_key(subject: KeySubject, policy: AuditPolicy, now: float) -> KeyResult:
    permissions, failure = await key_permissions(subject)
    found = [*((failure,) if failure else ()), *where_kept(subject)]
    if permissions is not None:
        found += judge(subject, permissions, policy, now)
    return KeyResult(subject.venue, subject.account, subject.key, subject.source, permissions, tuple(found))


async def key_permissions(subject: KeySubject) -> tuple[KeyPermissions | None, Finding | None]:
    """What the key may do: the venue's word where it has a key-information endpoint, else the
    declared permissions with what a read call shows, else what the read call shows alone."""
    hook = spec(subject.venue).key_permissions
    try:
        if hook is not None:
            return await hook(subject.client), None
        await subject.client.fetch_balance()
    except ccxt.BaseError as exc:  # the type only: a ccxt error's text can carry a signed request
        what = "its key-information endpoint" if hook is not None else "a read call"
        return subject.declared, _finding(subject, "key_info_failed",
                                          f"{subject.venue} refused {what} ({type(exc).__name__})")
    if subject.declared is not None:
        return replace(subject.declared, read=True, source=f"{DECLARED}; read call succeeded"), None
    observed = KeyPermissions(read=True, trade=False, withdraw=False, transfer=False, ips=(), created=None,
                              expires=None, source=OBSERVED)
    return observed, _finding(subject, "permissions_unverified",
                              f"{subject.venue} has no key-permission endpoint and none were declared: "
                              "only a read call was seen to succeed")


def where_kept(subject: KeySubject) -> list[Finding]:
    if subject.source == "plaintext":
        return [_finding(subject, "plaintext_key", "the key is written in clear in a file: move it to the vault")]
    if subject.source == "env":
        return [_finding(subject, "env_key", f"the key comes from environment variable(s) {subject.key}: "
                                             "the vault keeps it encrypted")]
    return []


def judge(subject: KeySubject, p: KeyPermissions, policy: AuditPolicy, now: float) -> list[Finding]:
    """The findings on what a key may do, where from and for how long."""
    out = [*excess(subject, p)]
    if p.source != OBSERVED and not p.ips:
        out.append(_finding(subject, "no_ip_restriction", f"any address may use the key ({p.source})"))
    created = p.created if p.created is not None else subject.created
    if created is not None and now - created > policy.rotation_days * DAY:
        out.append(_finding(subject, "key_age", f"{(now - created) / DAY:.0f} days old, past the rotation "
                                                f"period of {policy.rotation_days:g} days"))
    if p.expires is not None and p.expires - now < policy.expiry_warning_days * DAY:
        left = (p.expires - now) / DAY
        out.append(_finding(subject, "key_expiring", f"expires in {left:.1f} days" if left > 0 else "has expired"))
    return out


def excess(subject: KeySubject, p: KeyPermissions) -> Iterable[Finding]:
    needs = subject.needs
    if p.withdraw and p.trade:
        yield _finding(subject, "withdraw_on_trading_key", f"the key trades and may also withdraw ({p.source})")
    elif p.withdraw and not needs.withdraw:
        yield _finding(subject, "excess_permission", "withdraw: the configuration withdraws nothing with it")
    if p.transfer and not needs.transfer:
        yield _finding(subject, "excess_permission", "transfer: the configuration moves no funds with it")
    if p.trade and not needs.trade:
        yield _finding(subject, "excess_permission", "trade: the configuration trades nothing with it")


def _finding(subject: KeySubject, finding: str, detail: str) -> Finding:
    return Finding(subject.venue, subject.account, subject.key, finding, detail)
