"""The demo under asyncio's debug mode leaves no task exception unretrieved and no task pending.

It runs as its own process (``PYTHONASYNCIODEBUG=1``, every log line on stderr) so that what
asyncio reports at the loop's close and at interpreter exit is in the output too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import orjson

# what asyncio (or the logging of a background task) writes when an exception or a task is lost
FORBIDDEN = (
    "never retrieved",
    "Task was destroyed but it is pending",
    "Exception in callback",
    "Unhandled exception",
    "exception was never",
    "Traceback (most recent call last)",
)


def test_demo_in_asyncio_debug_mode_leaves_no_exception_unretrieved() -> None:
    env = {**os.environ, "PYTHONASYNCIODEBUG": "1", "PYTHONDEVMODE": "1", "COLUMNS": "120"}
    code = "from crossbook.cli import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--seconds", "25", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    found = [line for line in output.splitlines() if any(f in line for f in FORBIDDEN)]
    assert found == [], "\n".join(found[:20]) + "\n...\n" + output[-4000:]
    summary = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert summary["venues"], summary
