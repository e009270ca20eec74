"""How many cores this process may really use: the CPUs it may run on (affinity: ``taskset``, a cpuset) and the
CPU quota of its control group (a container's CPU limit, cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``).

``os.cpu_count()`` counts the machine's: in a container limited to 2 CPUs on a 64-core host the defaults
(``--workers``, the speech recognizers' processes and threads) made 64 workers and 64 recognizer processes of about
160 MB each (an operator's finding).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def usable_cores(cgroup: Path | None = None) -> int:
    """At least 1: the CPUs of this process's affinity, at most the smallest quota of its control group and the
    groups above it, rounded up (``cgroup``: that one group's directory instead, for tests)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not Linux)
        cores = os.cpu_count() or 1
    quotas = [q for q in map(cpu_quota, [cgroup] if cgroup is not None else own_groups()) if q is not None]
    if quotas:
        cores = min(cores, math.ceil(min(quotas)))
    return max(1, cores)


def own_groups(proc: Path = Path("/proc/self/cgroup"), root: Path = CGROUP) -> list[Path]:
    """This process's control group and every group above it up to the root (cgroup v2's ``0::/PATH`` line; a
    systemd unit's ``CPUQuota=`` or a Kubernetes limit is on the process's own group, not the root); the root alone
    for cgroup v1 (its own ``cpu`` directory)."""
    try:
        lines = proc.read_text(encoding="utf-8").splitlines()
    except OSError:
        return [root]
    path = next((line.split("::", 1)[1] for line in lines if line.startswith("0::")), "")
    groups = [root]
    here = root
    for part in [p for p in path.split("/") if p]:
        here = here / part
        groups.append(here)
    return groups


def cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """The control group's CPU limit in cores (1.5: a CPU and a half), None without one."""
    try:
        limit, period = (cgroup / "cpu.max").read_text(encoding="ascii").split()[:2]  # cgroup v2: "max 100000"
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None
