"""The folders of gateway/ are layers: a module imports its own layer or one below, never above.

Every import counts, also one under ``if TYPE_CHECKING:`` or inside a function: a
back-edge for typing is still a back-edge a newcomer has to understand. No two
modules import each other, directly or around a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GATEWAY = ROOT / "gateway"

# Highest first. A module's layer is the one with the longest entry its dotted name starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "composition",
        (
            "gateway.app",
            "gateway.cli",
            "gateway.agents_cli",
            "gateway.runtime",
            "gateway.rtc_setup",
            "gateway.workers",
            "gateway.listen_port",
            "gateway.__main__",
        ),
    ),
    ("wire", ("gateway.wire",)),
    ("ops", ("gateway.ops",)),
    ("calls", ("gateway.calls",)),
    ("flows", ("gateway.flows",)),
    ("contact", ("gateway.contact",)),
    ("store", ("gateway.store",)),
    (
        "base",
        (
            "gateway.config",
            "gateway.config_table",
            "gateway.setting",
            "gateway.logs",
            "gateway.tasks",
            "gateway.data_dir",
            "gateway.client_ip",
            "gateway.metrics",
            "gateway",
        ),
    ),
    # the wire vocabulary (frames, bus messages, states, error codes and the error hierarchy) imports no other layer
    ("vocabulary", ("gateway.protocol", "gateway.json_input", "gateway.errors")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    matches = [
        (len(p), rank)
        for rank, (_, prefixes) in enumerate(LAYERS)
        for p in prefixes
        # "gateway" is the package's own __init__ (its map), not a prefix that would catch every new module
        if module == p or (p != "gateway" and module.startswith(p + "."))
    ]
    if matches:
        return max(matches)[1]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to the map in gateway/__init__.py)")


def gateway_imports(path: Path, modules: set[str]) -> set[str]:
    """The gateway modules `path` imports, resolved to module names (a name imported from a package
    counts as that submodule when one exists)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "gateway")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "gateway":
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in modules else source)
    return {m for m in found if m != me}


def graph() -> dict[str, set[str]]:
    paths = sorted(GATEWAY.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): gateway_imports(p, modules) for p in paths}


def back_edges(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
        for a, targets in edges.items()
        for b in targets
        # a package's __init__ is its map: it may name its modules but imports nothing
        if layer_of(b) < layer_of(a) and b != "gateway"
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def test_every_gateway_module_is_in_a_layer_and_the_map_names_it() -> None:
    edges = graph()
    for module in edges:
        layer_of(module)
    package_maps = {p.parent.name: p.read_text(encoding="utf-8") for p in GATEWAY.glob("*/__init__.py")}
    unmapped = sorted(
        f"gateway/{pkg}/{p.name}"
        for pkg, text in package_maps.items()
        for p in (GATEWAY / pkg).glob("*.py")
        if p.name != "__init__.py" and f"``{p.stem}``" not in text
    )
    assert unmapped == []
    assert set(package_maps) == {"wire", "ops", "calls", "flows", "contact", "store", "protocol"}


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert back_edges(graph()) == []


def test_no_import_cycles_not_even_for_typing() -> None:
    assert cycles(graph()) == []


def test_ivr_and_media_never_import_gateway() -> None:
    offenders = []
    for package in ("ivr", "media"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "gateway"]
    assert offenders == []


@pytest.mark.parametrize(
    "edge, expected",
    [
        (
            {"gateway.store.store": {"gateway.contact.routing"}},
            ["gateway.store.store (store) imports gateway.contact.routing (contact)"],
        ),
        ({"gateway.contact.routing": {"gateway.store.store"}}, []),
        (
            {"gateway.calls.manager": {"gateway.wire.tokens"}},
            ["gateway.calls.manager (calls) imports gateway.wire.tokens (wire)"],
        ),
    ],
)
def test_the_check_finds_a_back_edge(edge: dict[str, set[str]], expected: list[str]) -> None:
    assert back_edges(edge) == expected


def test_the_check_finds_a_cycle_through_three_modules() -> None:
    edges = {
        "gateway.calls.a": {"gateway.calls.b"},
        "gateway.calls.b": {"gateway.calls.c"},
        "gateway.calls.c": {"gateway.calls.a"},
        "gateway.calls.d": {"gateway.calls.a"},
    }
    assert cycles(edges) == [["gateway.calls.a", "gateway.calls.b", "gateway.calls.c"]]


@pytest.mark.parametrize("module", ["gateway.brand_new_module", "gateway.new_folder.thing", "gatewayx.app"])
def test_a_module_in_no_layer_is_refused(module: str) -> None:
    with pytest.raises(AssertionError, match="is in no layer"):
        layer_of(module)
