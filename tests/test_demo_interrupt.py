"""Ctrl-C stops the demo cleanly: the simulated venues and feeds shut down, no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def test_ctrl_c_exits_cleanly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crossbook.cli import app; app()", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(5.0)  # venues up, books syncing or live
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (out, err)
    assert "stopped." in out
    assert "Traceback" not in err and "Task was destroyed" not in err, err
