"""The README's Python API example runs as written, against the simulator, so the documentation
cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson

README = Path(__file__).resolve().parents[1] / "README.md"


def python_api_example() -> str:
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Python API section has one complete python example"
    return str(blocks[0])


def test_the_readme_python_example_runs_against_the_simulator(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(python_api_example())
    done = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if ":" in line}
    assert lines["best"].split()[0] in ("binance", "okx", "bybit")
    quote = orjson.loads(lines["quote"])
    assert quote["symbol"] == "BTC-USDT" and set(quote["venues"]) >= {"binance", "okx", "bybit"}
    assert lines["plan"].startswith("[(")
    route = orjson.loads(lines["route"])
    assert route["outcome"] == "filled" and route["filled"] == 0.5
    balances = orjson.loads(lines["balances"])
    assert balances["value_in"] == "USDT" and balances["total"] > 0
    assert "binance holds" in done.stdout
