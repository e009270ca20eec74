"""What an operator's mistakes get from the command line: one line naming what is wrong and a status (2: the
configuration; 1: Redis not reachable, a trouble a supervisor may retry), never a traceback, nothing left behind
(an operator's findings: an --agents-file typo made a demo admin, a directory or a non-UTF-8 file crash-looped a
worker with a traceback, an export to a directory left DIR.tmp holding every password hash)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.support.servers import SINGLE_NODE, free_port


async def run(*args: str, timeout: float = 60) -> tuple[int, str]:
    import os

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **SINGLE_NODE},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


async def test_bad_files_and_an_unreachable_redis_are_one_line_each(tmp_path: Path) -> None:
    port = str(free_port())
    data = tmp_path / "data"
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"\xff\xfe not utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        (
            ("serve", "--port", port, "--data-dir", str(data), "--agents-file", str(tmp_path / "typo.toml")),
            2,
            "agents file not found",
        ),
        (
            ("serve", "--port", port, "--data-dir", str(data), "--agents-file", str(tmp_path)),
            2,
            "agents file not read: Is a directory",
        ),
        (("serve", "--port", port, "--data-dir", str(data), "--agents-file", str(latin)), 2, "not UTF-8 text"),
        (("serve", "--port", port, "--data-dir", str(a_file)), 2, "is a file, not a directory"),
        (("agents", "list", "--redis-url", "redis://127.0.0.1:1/0"), 1, "Redis not reachable"),
        (("agents", "import", str(tmp_path)), 2, "agents file not read: Is a directory"),
    ]
    for args, status, said in cases:
        code, text = await run(*args)
        assert (code, said in text, "Traceback" in text) == (status, True, False), (args, code, text[-1500:])
    assert not (data / "agents.toml").exists()


async def test_an_export_to_a_directory_leaves_no_file_of_hashes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)  # (an empty store: the command starts its Redis there)
    code, text = await run("agents", "export", str(tmp_path), "--data-dir", str(data))
    assert (code, "is a directory" in text, "Traceback" in text) == (2, True, False), text
    assert sorted(p.name for p in tmp_path.parent.iterdir() if p.name.startswith(tmp_path.name + ".")) == []
    code, text = await run("agents", "export", str(tmp_path / "no-dir" / "agents.toml"), "--data-dir", str(data))
    assert (code, "agents file not written" in text, "Traceback" in text) == (2, True, False), text
    assert not (tmp_path / "no-dir").exists()
