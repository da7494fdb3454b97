"""House rule: no source file over 1,000 lines and no class over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_FILE_LINES = 1000
MAX_CLASS_LINES = 500


def sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_the_sources_are_found() -> None:
    assert len(sources()) > 50


def test_no_source_file_passes_1000_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in sources() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES}
    assert long == {}


def test_no_class_passes_500_lines() -> None:
    long = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = lines
    assert long == {}
