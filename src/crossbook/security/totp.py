"""The second factor: TOTP codes (RFC 6238, 30-second steps, 6 digits) through pyotp.

Once a TOTP is enrolled (``crossbook keys 2fa enroll``), withdrawals, whitelist changes and
adding, rotating or removing keys each need a current code. A code is accepted once: its time
step (the RFC's counter) must be above the last accepted one, so replaying a code within its
window is refused. Wrong codes are rate-limited: after ``MAX_FAILURES`` within
``FAILURE_WINDOW`` seconds every code, right or wrong, is refused until the oldest of them ages
out. The last accepted counter and the recent failures live in the vault (``TotpState``), so the
limits hold across processes and restarts.
"""

from __future__ import annotations

import hmac
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import qrcode  # type: ignore[import-untyped]  # ships no type information

from ..errors import SecondFactorError
from .vault import TotpState, Vault

STEP = 30  # seconds per code (RFC 6238's X)
DIGITS = 6
DRIFT_STEPS = 1  # codes of the step before and after are accepted too (clock drift)
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0  # seconds
ISSUER = "crossbook"


@dataclass(frozen=True)
class Enrollment:
    """A TOTP secret being enrolled: shown to the user, stored once a first code confirms it."""

    secret: str
    uri: str

    def qr_text(self) -> str:
        """The otpauth URI as a QR code drawn with text characters, for a terminal."""
        return qr_text(self.uri)


def new_enrollment(label: str = "desk") -> Enrollment:
    secret = pyotp.random_base32()
    return Enrollment(secret, pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(name=label, issuer_name=ISSUER))


def qr_text(data: str) -> str:
    qr = qrcode.QRCode(border=1)
    qr.add_data(data)
    qr.make(fit=True)
    out = io.StringIO()
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


def code_at(secret: str, counter: int) -> str:
    """The code of time step ``counter`` (what an authenticator app shows during that step)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).generate_otp(counter)


def counter_at(now: float) -> int:
    return int(now // STEP)


def matching_counter(secret: str, code: str, now: float) -> int | None:
    """The time step within the drift window whose code is ``code``, or None."""
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = counter_at(now)
    for counter in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None


def checked(state: TotpState, code: str | None, now: float) -> tuple[TotpState, SecondFactorError | None]:
    """``state`` after ``code`` is tried at ``now``, and the refusal if it is not accepted (the
    state must be saved either way: it counts the failure, or the code's step as used)."""
    recent = [t for t in state.failures if now - t < FAILURE_WINDOW]
    kept = TotpState(state.secret, state.enrolled, state.last_counter, recent)
    if not code:
        return kept, SecondFactorError("a TOTP code is required (the one crossbook keys 2fa enroll set up)")
    if len(recent) >= MAX_FAILURES:
        wait = int(FAILURE_WINDOW - (now - min(recent))) + 1
        return kept, SecondFactorError(f"too many wrong TOTP codes: try again in {wait} s")
    counter = matching_counter(state.secret, code, now)
    if counter is None:
        failed = TotpState(state.secret, state.enrolled, state.last_counter, [*recent, now])
        left = MAX_FAILURES - len(failed.failures)
        return failed, SecondFactorError(f"wrong TOTP code ({left} more tries within {int(FAILURE_WINDOW)} s)")
    if counter <= state.last_counter:
        return kept, SecondFactorError("this TOTP code was already used: wait for the next one")
    return TotpState(state.secret, state.enrolled, counter, recent), None


def require_second_factor(vault: Vault, code: str | None, *, now: float | None = None) -> None:
    """Refuse (``SecondFactorError``) unless ``code`` is a fresh, valid code, when a TOTP is
    enrolled in ``vault``; without one this checks nothing (see ``require_enrolled``)."""
    if vault.totp is None:
        return
    _try(vault, vault.totp, code, time.time() if now is None else now)


def require_enrolled(vault: Vault, code: str | None, *, what: str, now: float | None = None) -> None:
    """Like ``require_second_factor``, but ``what`` (a withdrawal) is refused outright while no
    TOTP is enrolled."""
    if vault.totp is None:
        raise SecondFactorError(f"{what} needs a second factor: enroll one first with crossbook keys 2fa enroll")
    _try(vault, vault.totp, code, time.time() if now is None else now)


def _try(vault: Vault, state: TotpState, code: str | None, now: float) -> None:
    after, refusal = checked(state, code, now)
    if after != state:
        vault.set_totp(after)
        vault.save()
    if refusal is not None:
        raise refusal


def enroll(vault: Vault, enrollment: Enrollment, code: str, *, current_code: str | None = None,
           now: float | None = None) -> TotpState:
    """Store ``enrollment`` in the vault once ``code`` (from the authenticator that scanned it)
    is valid. Replacing an enrolled TOTP needs a valid code of the current one first."""
    at = time.time() if now is None else now
    require_second_factor(vault, current_code, now=at)
    counter = matching_counter(enrollment.secret, code, at)
    if counter is None:
        raise SecondFactorError("that code does not match the new TOTP secret: nothing was enrolled (check the device's clock)")
    state = TotpState(enrollment.secret, at, counter, [])
    vault.set_totp(state)
    vault.save()
    return state


def prompt_code(ask: Callable[[], str], given: str | None) -> str:
    """``given`` (``--code``), else what ``ask`` reads (a prompt)."""
    return given if given else ask().strip()
