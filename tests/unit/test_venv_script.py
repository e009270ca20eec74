"""bin/_venv.sh (sourced by bin/gateway, bin/test, bin/bench): when it installs the project into the virtualenv.

A user test ran ./bin/test and then ./bin/gateway: the gateway's plain install stamp differed from the test one, so
pip installed the project again (needing the network), and again at each switch. An install with the test extras
has everything the plain one needs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tree(tmp_path: Path, installed_extras: str) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "_venv.sh", tmp_path / "bin" / "_venv.sh")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake = venv_bin / "python"  # records what it is asked to do instead of running pip
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/calls"\n', encoding="utf-8")
    fake.chmod(0o755)
    digest = hashlib.sha256((tmp_path / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (tmp_path / ".venv" / ".installed").write_text(f"{digest}-{installed_extras}\n", encoding="utf-8")
    return tmp_path


def _ensure(tree: Path, extras: str) -> str:
    subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . bin/_venv.sh; ensure_venv "{extras}"'],
        cwd=tree,
        check=True,
        capture_output=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": str(tree)},
    )
    calls = tree / "calls"
    return calls.read_text(encoding="utf-8") if calls.exists() else ""


def test_a_test_install_serves_the_gateway_without_installing_again(tmp_path: Path) -> None:
    assert _ensure(_tree(tmp_path, "test"), "") == ""


def test_a_plain_install_is_not_enough_for_the_tests(tmp_path: Path) -> None:
    assert "pip install" in _ensure(_tree(tmp_path, ""), "test")


def test_the_same_install_is_left_alone(tmp_path: Path) -> None:
    assert _ensure(_tree(tmp_path, ""), "") == ""
