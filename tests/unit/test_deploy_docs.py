"""docs/deploy.md's systemd unit as systemd reads it: no comment after a value on the same line (systemd takes the
comment as part of the value and ignores the setting: `KillMode=mixed   # ...` fell back to control-group, which
killed the embedded Redis first, and `TimeoutStopSec=330   # ...` to 90 s, under the 300 s drain: an operator's
finding), and every flag of its ExecStart is one `serve` knows."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.config import SETTINGS

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _unit() -> list[str]:
    text = DEPLOY.read_text(encoding="utf-8")
    block = re.search(r"```ini\n(# /etc/systemd/system/contact-gateway.service\n.*?)```", text, re.S)
    assert block is not None, "docs/deploy.md has no systemd unit"
    return block.group(1).splitlines()


def test_the_systemd_unit_has_no_comment_after_a_value() -> None:
    settings = [line for line in _unit() if "=" in line and not line.lstrip().startswith(("#", ";"))]
    assert settings, "no settings read"
    inline = [line for line in settings if re.search(r"\s#", line)]
    assert inline == [], inline
    keys = {line.split("=", 1)[0] for line in settings}
    assert {"KillMode", "TimeoutStopSec", "EnvironmentFile", "ExecStart"} <= keys


def test_the_systemd_units_serve_flags_exist() -> None:
    unit = "\n".join(_unit()).replace("\\\n", " ")
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", exec_start))
    known = {each.flag for each in SETTINGS} | {"--host", "--port"}
    assert flags and flags <= known, flags - known
