"""A bench run's folder (bench/run_folder.py), through a real, short ``bench.chat_path`` run (a real Redis and an
in-process node, its data dir and agents file in the folder): gone when the run ends, kept with its path printed
when asked (``--keep-logs``) or when the run failed. Each run's temporary directory is the test's own (TMPDIR)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--conversations", "2", "--concurrency", "2", "--runs", "1"]


def bench_path(tmp: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.chat_path", *SHORT, *options],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("cg-bench-*"))


def printed(stderr: str) -> Path:
    found = re.search(r"^bench path.*: logs kept in (\S+)$", stderr, re.MULTILINE)
    assert found, stderr
    return Path(found[1])


def test_a_bench_run_removes_its_folder_unless_asked_to_keep_it_or_it_failed(tmp_path: Path) -> None:
    done = bench_path(tmp_path, "--rounds", "1")
    assert done.returncode == 0, done.stderr
    assert '"messages": 4' in done.stdout
    assert folders(tmp_path) == []  # the old benches left cg-bench-path-* behind

    kept = bench_path(tmp_path, "--rounds", "1", "--keep-logs")
    assert kept.returncode == 0, kept.stderr
    (folder,) = folders(tmp_path)
    assert printed(kept.stderr) == folder
    assert sorted(p.name for p in folder.iterdir()) == ["agents.toml", "data"]

    failed = bench_path(tmp_path, "--rounds", "0")  # no message measured: the run fails (a division by zero)
    assert failed.returncode != 0 and "ZeroDivisionError" in failed.stderr
    assert len(folders(tmp_path)) == 2
    assert printed(failed.stderr) in folders(tmp_path) and printed(failed.stderr) != folder
