"""Workers' expositions merged as one (gateway/ops/worker_metrics.py): each sample labelled with its worker, a family
once, a family of another type from a worker on other code left out, a stale file left out."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gateway.ops.worker_metrics import STALE_SECONDS, WorkerMetrics, merge

ONE = """# HELP cg_calls_total Calls
# TYPE cg_calls_total counter
cg_calls_total{reason="done"} 2.0
# HELP cg_wait Wait
# TYPE cg_wait histogram
cg_wait_bucket{le="1.0"} 1.0
cg_wait_bucket{le="+Inf"} 2.0
cg_wait_count 2.0
cg_wait_sum 3.0
"""
OTHER_TYPE = """# HELP cg_calls Calls, as a gauge on other code
# TYPE cg_calls gauge
cg_calls 7.0
"""


def test_samples_are_labelled_with_their_worker_and_a_family_is_said_once() -> None:
    text = merge({0: ONE, 1: ONE}).decode()
    assert text.count("# TYPE cg_calls_total counter") == 1
    assert 'cg_calls_total{reason="done",worker="0"} 2.0' in text
    assert 'cg_calls_total{reason="done",worker="1"} 2.0' in text
    assert 'cg_wait_bucket{le="+Inf",worker="1"} 2.0' in text and 'cg_wait_count{worker="0"} 2.0' in text


def test_a_family_of_another_type_is_left_out_not_mixed_in() -> None:
    text = merge({0: ONE, 1: OTHER_TYPE}).decode()
    assert "cg_calls 7.0" not in text and 'worker="1"' not in text
    assert 'cg_calls_total{reason="done",worker="0"} 2.0' in text


async def test_a_siblings_stale_file_is_left_out(tmp_path: Path) -> None:
    me = WorkerMetrics(tmp_path, 0, lambda: ONE.encode())
    (tmp_path / "worker-1.prom").write_text(ONE)
    (tmp_path / "worker-2.prom").write_text(ONE)
    old = time.time() - STALE_SECONDS - 5
    os.utime(tmp_path / "worker-2.prom", (old, old))  # a worker that died
    text = (await me.merged(ONE.encode())).decode()
    assert 'worker="0"' in text and 'worker="1"' in text and 'worker="2"' not in text
