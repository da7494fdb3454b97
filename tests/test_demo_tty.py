"""``crossbook demo`` as a newcomer sees it, in a 100x30 pseudo-terminal: something on screen within
two seconds of the process starting, no line wider than the terminal or cut short with an
ellipsis, and the route and the arbitrage on screen before the demo ends."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from rich.cells import cell_len

COLUMNS, LINES = 100, 30
FIRST_PAINT = 2.0  # seconds from the process start: the requirement
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def run_in_pty(args: list[str], timeout: float) -> tuple[float | None, str]:
    """Run ``args`` on a pseudo-terminal of COLUMNS x LINES until it exits; returns when the first
    visible text arrived (seconds from the start) and everything it wrote, control codes removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    env.pop("NO_COLOR", None)
    started = time.monotonic()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    raw = bytearray()
    first: float | None = None
    deadline = started + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: the process is gone
                break
            if not chunk:
                break
            raw += chunk
            if first is None and CONTROL.sub("", raw.decode(errors="replace")).strip():
                first = time.monotonic() - started
        assert proc.wait(timeout=30) == 0, CONTROL.sub("", raw.decode(errors="replace"))[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return first, CONTROL.sub("", raw.decode(errors="replace"))


def test_demo_paints_at_once_fits_100x30_and_shows_route_and_arbitrage() -> None:
    first, text = run_in_pty([sys.executable, "-c", "from crossbook.cli import app; app()", "demo", "--seconds", "60"],
                             timeout=180)
    assert first is not None and first <= FIRST_PAINT, f"first paint after {first} s"
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    assert lines[0].startswith("crossbook demo"), lines[:3]
    wide = [line for line in lines if cell_len(line) > COLUMNS]
    assert not wide, wide[:3]
    cut = [line for line in lines if "…" in line or line.rstrip().endswith("...")]
    assert not cut, cut[:3]
    assert "loading the trading stack" in text  # the progress came first
    assert re.search(r"route · buy 12 BTC-USDT", text) and re.search(r"filled 12\.00000 BTC · saving", text), text[-3000:]
    assert re.search(r"all-in \d[\d,]*\.\d\d USDT", text), text[-3000:]  # money with its currency
    assert re.search(r"arbitrage · \d+ seen", text) and "traded 0.50000 BTC, realised" in text, text[-3000:]
    # the top of book labels its sides, and prices carry the tick's two decimals
    assert re.search(r"│ ask +\d{2},\d{3}\.\d{2} ", text) and re.search(r"│ bid +\d{2},\d{3}\.\d{2} ", text)
    # the web dashboard's address is on screen; the venues' own API addresses only with --show-endpoints
    assert re.search(r"web dashboard http://127\.0\.0\.1:\d+/#token=[\w-]{20,}", text), text[:600]
    assert "REST http://" not in text and "ws://127.0.0.1" not in text
    # the frame left on the terminal is the last one painted while the venues ran, not a redraw of
    # books already shut down (every one of them "resyncing")
    last_frame = text[text.rindex("crossbook demo  "):]
    states = re.findall(r"^│ \S+(?: \S+)?\*? +(live|syncing|resyncing|stale|down) ", last_frame, re.M)
    assert len(states) >= 10 and states.count("live") > len(states) / 2, states
