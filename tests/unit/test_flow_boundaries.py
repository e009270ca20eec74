"""ivr/ is pure Python: it imports only the standard library, PyYAML and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

IVR = Path(__file__).parents[2] / "ivr"
ALLOWED = {"yaml", "ivr"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_ivr_imports_only_the_standard_library_and_yaml() -> None:
    found = {
        path.name: imported_modules(path) - set(sys.stdlib_module_names) - ALLOWED for path in sorted(IVR.glob("*.py"))
    }
    assert {name: extra for name, extra in found.items() if extra} == {}
    assert len(found) >= 15


def test_no_print_in_library_modules() -> None:
    printing = []
    for path in sorted(IVR.glob("*.py")):
        if path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        printing += [
            f"{path.name}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
    assert printing == []
