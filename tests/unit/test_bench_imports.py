"""Every benchmark module imports: a move in the gateway (as ``render_agent`` moving to agents_file) must not leave a
benchmark broken until someone next runs it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def test_the_benchmarks_are_found() -> None:
    assert {"ivr_calls", "bridge_calls", "chat_load", "chaos", "wallboard"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_a_benchmark_module_imports(name: str) -> None:
    importlib.import_module(f"bench.{name}")
