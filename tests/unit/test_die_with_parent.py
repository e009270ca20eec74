"""dies_with_parent: a child (the embedded Redis, workers, test servers) dies with the process that started it,
and nothing of ours runs between fork and exec (Python there hung test runs for good: see the function)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.store.embedded_redis import SETPRIV

ROOT = Path(__file__).resolve().parents[2]

#: A parent that starts ``sleep 60`` so, prints its pid and then is killed by the test.
PARENT = """
import subprocess, sys
from gateway.store.embedded_redis import dies_with_parent
child = subprocess.Popen(dies_with_parent(["sleep", "60"]))
print(child.pid, flush=True)
sys.stdin.read()
"""


def test_no_process_is_started_with_a_preexec_fn() -> None:
    """A ``preexec_fn`` runs Python in the forked child of a threaded process: it hung on the dynamic loader's
    lock (ctypes.CDLL) and on a PyAV object freed in the child (joining a thread the fork did not copy)."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("gateway", "media", "ivr", "bench", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bpreexec_fn\s*=", line)
    ]
    assert not found, f"started with a preexec_fn: {found}"


@pytest.mark.skipif(SETPRIV is None, reason="the parent-death signal needs util-linux's setpriv (Linux)")
def test_a_child_dies_when_its_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            deadline = time.monotonic() + 10  # setpriv set the signal once it ran the command (sleep)
            while Path(f"/proc/{child}/comm").read_text().strip() != "sleep" and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            parent.kill()
            parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().split()[2] == "Z":  # dead, waiting to be reaped
                    return
        except FileNotFoundError:
            return  # gone (reaped by init after the SIGTERM)
        time.sleep(0.05)
    os.kill(child, 9)
    pytest.fail("the child outlived its parent")
