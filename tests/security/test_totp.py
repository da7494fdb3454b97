"""The second factor: RFC 6238 codes, each accepted once, wrong codes rate-limited, state kept in
the vault across processes (re-opened from the file)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pyotp
import pytest

from crossbook.errors import SecondFactorError
from crossbook.security.totp import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    STEP,
    code_at,
    counter_at,
    enroll,
    new_enrollment,
    require_enrolled,
    require_second_factor,
)
from crossbook.security.vault import Vault

PASSPHRASE = "correct horse battery staple"


def enrolled_vault(tmp_path: Path, now: float) -> tuple[Vault, str]:
    vault = Vault.create(tmp_path / "vault", PASSPHRASE)
    enrollment = new_enrollment()
    enroll(vault, enrollment, code_at(enrollment.secret, counter_at(now) - 1), now=now)
    return vault, enrollment.secret


def reopened(vault: Vault) -> Vault:
    return Vault.open(vault.path, PASSPHRASE)


def test_the_codes_are_rfc_6238_and_the_uri_and_qr_code_carry_the_secret() -> None:
    enrollment = new_enrollment("desk")
    assert enrollment.uri.startswith("otpauth://totp/crossbook:desk?") and f"secret={enrollment.secret}" in enrollment.uri
    now = time.time()
    assert code_at(enrollment.secret, counter_at(now)) == pyotp.TOTP(enrollment.secret).at(now)
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its tail
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert code_at(rfc_secret, 59 // STEP) == "287082"
    drawing = enrollment.qr_text()
    assert len(drawing.splitlines()) > 10 and "█" in drawing  # two modules per character cell


def test_enrolling_needs_a_valid_first_code(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "vault", PASSPHRASE)
    enrollment = new_enrollment()
    with pytest.raises(SecondFactorError, match="nothing was enrolled"):
        enroll(vault, enrollment, "000000" if code_at(enrollment.secret, counter_at(time.time())) != "000000" else "111111")
    assert reopened(vault).totp is None
    enroll(vault, enrollment, code_at(enrollment.secret, counter_at(time.time())))
    stored = reopened(vault).totp
    assert stored is not None and stored.secret == enrollment.secret


def test_no_second_factor_is_asked_before_one_is_enrolled_but_a_withdrawal_is_refused(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "vault", PASSPHRASE)
    require_second_factor(vault, None)
    with pytest.raises(SecondFactorError, match="enroll one first"):
        require_enrolled(vault, "123456", what="a withdrawal")


def test_a_code_is_accepted_once_and_an_older_one_never(tmp_path: Path) -> None:
    now = time.time()
    vault, secret = enrolled_vault(tmp_path, now)
    code = code_at(secret, counter_at(now))
    require_second_factor(vault, code, now=now)
    with pytest.raises(SecondFactorError, match="already used"):
        require_second_factor(reopened(vault), code, now=now + 1)  # replayed in its window, from another process
    with pytest.raises(SecondFactorError, match="already used"):
        require_second_factor(reopened(vault), code_at(secret, counter_at(now) - 1), now=now)
    require_second_factor(reopened(vault), code_at(secret, counter_at(now) + 1), now=now)  # the next step's code


def test_a_missing_or_stale_code_is_refused(tmp_path: Path) -> None:
    now = time.time()
    vault, secret = enrolled_vault(tmp_path, now)
    with pytest.raises(SecondFactorError, match="required"):
        require_second_factor(vault, None, now=now)
    with pytest.raises(SecondFactorError, match="wrong"):
        require_second_factor(vault, code_at(secret, counter_at(now) + 5), now=now)  # 2.5 minutes ahead


def test_wrong_codes_are_rate_limited_until_the_window_passes(tmp_path: Path) -> None:
    now = time.time()
    vault, secret = enrolled_vault(tmp_path, now)
    right = code_at(secret, counter_at(now))
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in
                 {code_at(secret, counter_at(now) + d) for d in (-1, 0, 1)})
    for attempt in range(MAX_FAILURES):
        with pytest.raises(SecondFactorError, match="wrong TOTP code"):
            require_second_factor(reopened(vault), wrong, now=now + attempt)
    with pytest.raises(SecondFactorError, match="too many wrong"):
        require_second_factor(reopened(vault), right, now=now + MAX_FAILURES)  # even the right code
    later = now + FAILURE_WINDOW + MAX_FAILURES
    require_second_factor(reopened(vault), code_at(secret, counter_at(later)), now=later)
    state = reopened(vault).totp
    assert state is not None and state.failures == [] and state.last_counter == counter_at(later)


def test_replacing_an_enrolled_totp_needs_its_current_code(tmp_path: Path) -> None:
    now = time.time()
    vault, secret = enrolled_vault(tmp_path, now)
    replacement = new_enrollment()
    with pytest.raises(SecondFactorError, match="required"):
        enroll(vault, replacement, code_at(replacement.secret, counter_at(now)), now=now)
    enroll(vault, replacement, code_at(replacement.secret, counter_at(now)), current_code=code_at(secret, counter_at(now)), now=now)
    state = reopened(vault).totp
    assert state is not None and state.secret == replacement.secret
