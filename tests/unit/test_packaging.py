"""What the wheel holds: every Python package of the project and every file the gateway reads at run time.

The test suite runs against an editable install, which sees the whole tree; an installed wheel sees only what
pyproject.toml lists. A folder left out (gateway/protocol/ once was) imports fine here and fails once installed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_is_in_the_wheel() -> None:
    found = set(find_packages(str(ROOT), include=CONFIG["packages"]["find"]["include"]))
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("gateway", "ivr", "media", "webclient")
        for p in (ROOT / top).rglob("__init__.py")
        if "tests" not in p.parts
    }
    assert on_disk - found == set()
    assert {"gateway.protocol", "gateway.calls", "gateway.store", "media.asr"} <= found


def packaged(package: str, path: Path) -> bool:
    """As setuptools globs package data: ``*`` stays inside one folder."""
    relative = path.relative_to(ROOT / package.replace(".", "/")).as_posix()
    patterns = CONFIG["package-data"].get(package, [])
    return any(re.fullmatch(re.escape(p).replace(r"\*", "[^/]*"), relative) for p in patterns)


def test_every_browser_file_and_lua_script_is_package_data() -> None:
    needed = {
        "webclient": [p for p in (ROOT / "webclient/static").rglob("*") if p.is_file()],
        "gateway.store": list((ROOT / "gateway/store/lua").rglob("*.lua")),
        "ivr": [ROOT / "ivr/flow.schema.json", *(ROOT / "ivr/flows").glob("*.yaml")],
    }
    missing = [str(p.relative_to(ROOT)) for package, paths in needed.items() for p in paths if not packaged(package, p)]
    assert missing == []
    assert len(needed["webclient"]) > 30 and len(needed["gateway.store"]) > 15
