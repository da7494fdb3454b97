"""`crossbook serve --sim` as a subprocess on 127.0.0.1 port 0, for the tests that look at the service
from outside (a browser, a scrape): its URL read from the line it prints, stopped with Ctrl-C."""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_WITHIN = 180.0  # seconds: ten simulated venues on a loaded CI machine
STOP_WITHIN = 60.0
LISTENING = re.compile(r"^crossbook serve: (http://127\.0\.0\.1:\d+/) \(dashboard (\S+#token=\S+)\)$")


@dataclass(frozen=True)
class Serving:
    url: str  # http://127.0.0.1:PORT/
    dashboard: str  # the url with #token=...
    token: str
    stderr: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "health", timeout=10) as response:
            body: dict[str, Any] = json.load(response)
            return body

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")[-4000:]


def crossbook_command() -> list[str]:
    beside = Path(sys.executable).with_name("crossbook")
    found = str(beside) if beside.exists() else shutil.which("crossbook")
    assert found, "the crossbook command is not installed: pip install -e . in the venv"
    return [found]


@contextmanager
def serve_sim(folder: Path, *args: str) -> Iterator[Serving]:
    """Start the service, wait until it prints where it listens and every venue that lists a followed
    symbol has its books live, yield it; Ctrl-C it at the end."""
    stderr = folder / "serve.stderr"
    command = [*crossbook_command(), "serve", "--sim", "--listen", "127.0.0.1:0", "--token-file", str(folder / "token"), *args]
    with stderr.open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_drain, args=(process, lines), daemon=True).start()
    try:
        serving = _listening(process, lines, stderr)
        _wait_ready(serving, process)
        yield serving
    finally:
        _stop(process)


def _drain(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))


def _listening(process: subprocess.Popen[str], lines: queue.Queue[str], stderr: Path) -> Serving:
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"crossbook serve exited with {process.returncode}:\n{stderr.read_text(errors='replace')[-4000:]}")
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        match = LISTENING.match(line)
        if match:
            return Serving(match[1], match[2], match[2].split("#token=", 1)[1], stderr)
    raise AssertionError(f"crossbook serve printed no 'crossbook serve: http://...' line within {START_WITHIN:.0f} s")


def following(health: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The venues that list a followed symbol (a venue without one has no book to keep live)."""
    return {v: h for v, h in health["venues"].items() if h["books"] or h.get("down")}


def _wait_ready(serving: Serving, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_WITHIN
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        assert process.poll() is None, f"crossbook serve exited with {process.returncode}:\n{serving.log()}"
        health = serving.health()
        venues = following(health)
        if venues and all(h["ready"] for h in venues.values()):
            return
        time.sleep(0.5)
    raise AssertionError(f"not every venue was ready within {START_WITHIN:.0f} s: {health}")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
