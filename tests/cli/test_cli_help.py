"""The help pages: quick (no heavy imports), and readable (metavariables, one line per option)."""

from __future__ import annotations

import re
import subprocess
import sys

import orjson
import typer
from typer.testing import CliRunner

from crossbook.cli import app

runner = CliRunner()
HEAVY = ("ccxt", "ccxt.pro", "web3", "crossbook.sim", "aiohttp")


def test_help_leaves_ccxt_web3_and_the_simulators_unimported() -> None:
    script = (
        "import sys, orjson\n"
        "from crossbook.cli import app\n"
        "try:\n"
        "    app(['--help'], prog_name='crossbook')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"print(orjson.dumps({{'code': code, 'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}).decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    *page, last = done.stdout.strip().splitlines()
    result = orjson.loads(last)
    assert result == {"code": 0, "loaded": []}, result
    assert any(line.strip().startswith("route ") for line in page), page


def command_paths() -> list[list[str]]:
    """Every command and command group, as the words that name it."""
    paths: list[list[str]] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            paths.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def help_page(words: list[str]) -> str:
    # a 100-column terminal: click writes help 2 columns narrower than the terminal
    result = runner.invoke(app, [*words, "--help"], prog_name="crossbook", terminal_width=98)
    assert result.exit_code == 0, (words, result.output)
    return result.output


def sections(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for line in page.splitlines():
        if re.fullmatch(r"[A-Z][a-z]+:", line):
            current = line[:-1]
            found[current] = []
        elif current and line.strip():
            found[current].append(line)
    return found


def test_every_help_page_reads_cleanly() -> None:
    paths = command_paths()
    assert {"quote", "route", "venues", "demo", "arb"} <= {p[0] for p in paths}
    for words in [[], *paths]:
        page = help_page(words)
        assert page.startswith(f"Usage: crossbook {' '.join(words)}".replace("  ", " ")), page
        assert not re.search(r"<(bool|str|int|float|path)>|\{[a-z_]+\}", page, re.IGNORECASE), (words, page)
        assert all(len(line) <= 100 for line in page.splitlines()), (words, page)
        for title in ("Arguments", "Options", "Commands"):
            for line in sections(page).get(title, []):
                # a continuation line is indented past the names: every entry fits on its own line
                assert re.match(r"  \S", line), (words, title, line)


def test_route_names_its_values() -> None:
    page = help_page(["route"])
    assert "Usage: crossbook route [OPTIONS] SYMBOL SIDE AMOUNT" in page
    options = "\n".join(sections(page)["Options"])
    assert re.search(r"--limit PRICE\s", options) and re.search(r"--config FILE\s", options)
    assert re.search(r"^  --dry-run\s+Plan only", options, re.MULTILINE)  # a flag takes no value
    assert "[default: 10]" in options  # --deadline: no float noise in defaults


def test_command_summaries_are_the_first_docstring_line() -> None:
    commands = sections(help_page([]))["Commands"]
    summary = {line.split()[0]: line.split(None, 1)[1] for line in commands}
    assert summary["route"] == "Route an order across venues at the least all-in cost."
    assert summary["venues"].startswith("What each venue offers")


def test_the_command_list_fits_an_80_column_terminal_newcomers_commands_first() -> None:
    page = runner.invoke(app, ["--help"], prog_name="crossbook", terminal_width=78).output
    commands = sections(page)["Commands"]
    assert all(re.match(r"  \S", line) and len(line) <= 78 for line in commands), commands
    assert [line.split()[0] for line in commands[:3]] == ["demo", "quote", "route"]
