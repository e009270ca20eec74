"""The folder a bench run works in: its gateways' logs, data dirs and agents files (``/tmp/cg-bench-KIND-...``).

Removed when the run ends, so runs no longer pile up in /tmp; kept, and its path printed, when the run is asked
to keep it (``--keep-logs``) or when the run failed (an exception or an interrupt, the gateway's log is what tells
why). A step reported INVALID is no failure: its figures are the run's output.

    with run_folder("ivr", args.keep_logs) as tmp:
        out = asyncio.run(run(args, tmp))
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def add_keep_logs(parser: argparse.ArgumentParser) -> None:
    """The ``--keep-logs`` option of a bench that runs in a :func:`run_folder`."""
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the run's folder (gateway logs, data dirs, agents file) and print its path; "
        "a failed run keeps it anyway",
    )


@contextmanager
def run_folder(kind: str, keep: bool) -> Iterator[Path]:
    """A new folder ``cg-bench-KIND-*`` in the system's temporary directory for one run; removed when the block
    ends unless ``keep`` or the block raised (the path is then printed to stderr)."""
    path = Path(tempfile.mkdtemp(prefix=f"cg-bench-{kind}-"))
    try:
        yield path
    except BaseException as exc:
        print(f"bench {kind} failed ({type(exc).__name__}): logs kept in {path}", file=sys.stderr, flush=True)
        raise
    if keep:
        print(f"bench {kind}: logs kept in {path}", file=sys.stderr, flush=True)
        return
    shutil.rmtree(path, ignore_errors=True)  # a folder left behind must not lose the run's figures
