"""die_with_parent: a child (the embedded Redis, test servers) dies with the process that started it, and what
runs between fork and exec loads nothing (a dlopen there can hang for good on a lock another thread held)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from gateway.store.embedded_redis import die_with_parent

#: A parent that starts ``sleep 60`` with die_with_parent, prints its pid and then is killed by the test.
PARENT = """
import subprocess, sys
from gateway.store.embedded_redis import die_with_parent
child = subprocess.Popen(["sleep", "60"], preexec_fn=die_with_parent)
print(child.pid, flush=True)
sys.stdin.read()
"""


def test_the_child_side_loads_no_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_loading(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a library was loaded between fork and exec")

    monkeypatch.setattr(ctypes, "CDLL", no_loading)
    monkeypatch.setattr(ctypes, "cdll", None)
    die_with_parent()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_child_dies_when_its_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            os.kill(child, 0)  # alive
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
