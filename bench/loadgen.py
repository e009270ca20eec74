"""What every call benchmark needs so that it cannot report its own load generator's limit as the gateway's.

- The load runs in its own processes (``python -m bench.<module> --generate ...``), never in the process that
  measures the gateway; each one prints one JSON line: what it sent and received in the measured window, and
  its own CPU over that window. Generators run on the node's event loop (:mod:`media.event_loop`): they read
  each socket empty per wake-up, as a browser does, so a busy generator does not queue its peers' packets
  one iteration at a time.
- :func:`kept_up` judges a generator: it received at least :data:`MIN_FRAMES` of the frames the schedule says
  (50 per second per call), it started its calls before the window opened, it had no errors, and its CPU stayed
  under :data:`MAX_GENERATOR_CPU` of one core (a generator near a full core delays its own frames: what it
  measures then is itself). A step whose generators did not all keep up is INVALID: it reports no capacity.
- The gateway's CPU is that of its whole process tree (``--workers N``: the parent and every worker), and its
  counters are read from every worker (each connection lands on one: :func:`stats_of_every_node`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiohttp

MAX_GENERATOR_CPU = 0.85  # of one core
MIN_FRAMES = 0.95  # of the frames the schedule says should have arrived
FRAMES_PER_SECOND = 50  # 20 ms audio frames


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a ``--workers N`` gateway: the parent, the workers, their children)."""
    out, todo = [], [pid]
    while todo:
        one = todo.pop()
        out.append(one)
        for task in Path(f"/proc/{one}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants (the embedded Redis among them, if it runs one)."""
    total = 0.0
    for one in tree(pid):
        try:
            total += cpu_seconds(one)
        except OSError:
            continue
    return total


async def stats_of_every_node(base: str, nodes: int, within: float = 60.0) -> dict[str, dict[str, Any]]:
    """``/api/stats`` of each of ``nodes`` workers behind one port: node id -> its call counters.

    Asked anew (a new connection each time: the kernel spreads them over the workers) until every worker has
    answered; a worker still loading its models answers later, so this waits up to ``within`` seconds.
    """
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http, http.get(base + "/api/stats") as r:
            body = await r.json()
        seen[body["node"]] = body["calls"]
        if len(seen) >= nodes:
            return seen
        await asyncio.sleep(0.02)
    raise RuntimeError(f"only {len(seen)} of {nodes} workers answered /api/stats within {within:.0f} s")


def summed(stats: dict[str, dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for one in stats.values():
        for key, value in one.items():
            out[key] = out.get(key, 0) + int(value)
    return out


def spawn(module: str, args: list[str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """A generator process: ``python -m module --generate args`` (its last stdout line is its JSON report); its
    standard error goes to ``log`` (a file in the run's folder: a generator that dies says why there)."""
    if log is None:
        return subprocess.Popen(
            [sys.executable, "-m", module, "--generate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
    with open(log, "ab") as err:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", module, "--generate", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            env=dict(os.environ),
        )


def report(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    """A generator's JSON report; one that did not report within ``timeout`` seconds is killed and reported as
    failed (its step is then INVALID), never left to stop the benchmark."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"errors": [f"generator did not report within {timeout:.0f} s"], "cpu_s": 0, "window_s": 1}
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if not lines:
        return {"errors": [f"generator exited with {proc.returncode} and no report"], "cpu_s": 0, "window_s": 1}
    return dict(json.loads(lines[-1]))


def kill_left(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """Kill (and reap) the processes still running: generators a step gave up on, or left by a failure."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def kept_up(gen: dict[str, Any]) -> list[str]:
    """Why this generator's window does not count (empty: it kept up)."""
    why = []
    window = max(gen.get("window_s", 0), 1e-9)
    cpu = gen.get("cpu_s", 0) / window
    if cpu > MAX_GENERATOR_CPU:
        why.append(f"generator CPU {100 * cpu:.0f}% of a core > {100 * MAX_GENERATOR_CPU:.0f}%")
    expected = gen.get("frames_expected", 0)
    if expected and gen.get("frames_received", 0) < MIN_FRAMES * expected:
        why.append(f"frames received {gen['frames_received']} < {100 * MIN_FRAMES:.0f}% of {expected}")
    if gen.get("late_start"):
        why.append("calls not all up when the window opened")
    if gen.get("errors"):
        why.append(f"errors: {gen['errors'][:2]}")
    return why


async def until(epoch: float) -> None:
    await asyncio.sleep(max(0.0, epoch - time.time()))
