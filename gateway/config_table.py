"""The README's configuration table, made from the settings' declarations in gateway/config.py.

``python -m gateway.config_table README.md`` rewrites the table; tests/unit/test_config.py fails when the README
and the declarations differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.config import SETTINGS

TABLE_HEADER = "| flag | environment | default | what |\n|---|---|---|---|\n"


def markdown_table() -> str:
    """The README's table of settings, header included, one line per setting."""
    return TABLE_HEADER + "".join(f"| `{s.flag}` | `{s.env}` | {s.default} | {s.help} |\n" for s in SETTINGS)


def readme_table(readme: str) -> str:
    """The settings table as it stands in ``readme``: from its header to the first line not in the table."""
    start = readme.index(TABLE_HEADER)
    end = start + len(TABLE_HEADER)
    while readme.startswith("|", end):
        end = readme.index("\n", end) + 1
    return readme[start:end]


def main(argv: list[str]) -> int:
    """``python -m gateway.config_table README.md``: rewrite the README's settings table from the declarations."""
    if len(argv) != 1:
        print("usage: python -m gateway.config_table README.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    readme = path.read_text(encoding="utf-8")
    path.write_text(readme.replace(readme_table(readme), markdown_table()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
