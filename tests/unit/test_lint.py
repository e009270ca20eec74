"""The formatter, the linter and the type checker are part of the test command: ruff format and ruff check
(settings in pyproject.toml) over the repository, mypy over the packages (gateway, ivr, media). Each fails
with the tool's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_the_tree_is_formatted() -> None:
    result = run("ruff", "format", "--no-cache", "--check", "--diff", ".")
    assert result.returncode == 0, (
        f"ruff format would change these files (run `.venv/bin/ruff format .`):\n{result.stdout[-4000:]}{result.stderr}"
    )


def test_mypy_finds_nothing() -> None:
    # the cache (.mypy_cache, one per Python) keeps a re-run at a few seconds
    cache = f".mypy_cache/{sys.version_info.major}.{sys.version_info.minor}"
    result = run("mypy", "--cache-dir", cache)
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"
