"""The Debian packages some tests run for real (prometheus's promtool and server, headless chromium):
installed on first use when missing, so the README's test command does the whole set-up on a fresh
machine. One installer at a time across pytest-xdist workers (a lock file)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "crossbook-apt.lock"
APT_TIMEOUT = 900.0


def require_binary(binary: str, package: str) -> str:
    """The path of ``binary``, installing the Debian ``package`` that ships it when it is missing.
    Raises RuntimeError naming the package when it cannot be installed here."""
    found = shutil.which(binary)
    if found is not None:
        return found
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = shutil.which(binary)  # another worker may have installed it meanwhile
        if found is None:
            _apt_install(package)
            found = shutil.which(binary)
    if found is None:
        raise RuntimeError(f"the Debian package {package} was installed but {binary!r} is not on PATH")
    return found


def _apt_install(package: str) -> None:
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{package!r} is needed (Debian package) and this machine has no apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        done = subprocess.run([*sudo, *args], env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"installing the Debian package {package} failed: {done.stderr.strip()[-400:]}")
