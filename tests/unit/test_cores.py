"""The cores this process may use (media/cores.py): the affinity and the control group's quota, not the machine's
count (a container limited to 2 CPUs on a 64-core host started 64 workers: an operator's finding)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from media.cores import cpu_quota, own_groups, usable_cores


def test_a_cgroup_quota_limits_the_cores(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cpu_quota(tmp_path) == 1.5
    assert usable_cores(tmp_path) == min(2, usable_cores(tmp_path / "none"))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_quota(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert (cpu_quota(v1), usable_cores(v1)) == (0.5, 1)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # v1's "no limit"
    assert cpu_quota(v1) is None


def test_the_affinity_limits_the_cores_and_the_workers_default() -> None:
    code = (
        "from media.cores import usable_cores; from gateway.config import from_sources; "
        "print(usable_cores(), from_sources({}, {}).workers)"
    )
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "1"], out


def test_the_quota_of_the_process_own_group_and_those_above_it_counts(tmp_path: Path) -> None:
    """A systemd unit's CPUQuota= sits on the service's own group, not the root (a review)."""
    root = tmp_path / "cgroup"
    unit = root / "system.slice" / "gw.service"
    unit.mkdir(parents=True)
    (unit / "cpu.max").write_text("100000 100000\n")  # CPUQuota=100%
    proc = tmp_path / "self-cgroup"
    proc.write_text("0::/system.slice/gw.service\n")
    assert own_groups(proc, root) == [root, root / "system.slice", unit]
    assert [cpu_quota(g) for g in own_groups(proc, root)] == [None, None, 1.0]
    assert own_groups(tmp_path / "missing", root) == [root]
