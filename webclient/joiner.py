"""Joins the widget's ES modules into the one classic script served at ``/widget.js``.

The widget is embedded on customers' sites with one ``<script src=".../widget.js">`` tag (cross-origin, under
their Content-Security-Policy), so it cannot be a module graph there. The gateway joins it at start-up: the
modules reachable from ``widget/main.js``, each once, in the order a browser would evaluate them (depth first,
imports before the importer), into one function scope::

    (() => { 'use strict'; <shared/protocol.js> ... <widget/main.js> })();

``import {...} from './x.js';`` lines go, ``export`` keywords go; ``'/*@inline widget.css*/'`` becomes the
file's text as a string. A module the joiner cannot resolve, a name a module does not export, two modules
declaring the same top-level name, or a module assigning to a name it imported (an error in a browser's
module graph, silently allowed once joined) is a :class:`JoinError`, so a broken widget never starts.

No build step and no Node at run time: the modules are what the repository holds; this is text surgery on
the small subset of module syntax the browser code uses (named imports, ``export`` before a declaration).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from webclient import STATIC_DIR

WIDGET_ENTRY = STATIC_DIR / "widget" / "main.js"

_IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*'([^']+)';[ \t]*\n?", re.MULTILINE)
_ANY_IMPORT = re.compile(r"^import\b", re.MULTILINE)
_EXPORT = re.compile(r"^export (?=(?:async )?function|const |let |class )", re.MULTILINE)
_BAD_EXPORT = re.compile(r"^export (?!(?:async )?function|const |let |class )", re.MULTILINE)
_TOP_LEVEL = re.compile(
    r"^(?:export )?(?:(?:async )?function\*? ?|const |let |var |class )([A-Za-z_$][\w$]*)", re.MULTILINE
)
_INLINE = re.compile(r"'/\*@inline ([\w.-]+)\*/'")
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")
#: What makes a name before it an assignment target: = += ||= ... or ++ --, but not == or =>.
_ASSIGNS = re.compile(r"\s*(?:\+\+|--|(?:[-+*/%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>]))")


class JoinError(ValueError):
    """The widget's modules cannot be joined into one script (the message names the module and the name)."""


@dataclass(frozen=True)
class Module:
    path: Path
    imports: tuple[tuple[Path, tuple[str, ...]], ...]
    declared: frozenset[str]
    exported: frozenset[str]
    body: str


def _name(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def read_module(path: Path, root: Path = STATIC_DIR) -> Module:
    """One module: its imports (resolved files and names), its top-level names, its body without imports."""
    where = _name(path, root)
    text = path.read_text(encoding="utf-8")
    imports: list[tuple[Path, tuple[str, ...]]] = []
    inside = root.resolve()
    for match in _IMPORT.finditer(text):
        names = tuple(n.strip() for n in match.group(1).split(",") if n.strip())
        for name in names:
            if not _NAME.match(name):
                raise JoinError(f"{where}: import of {name!r}: only plain named imports can be joined")
        target = (path.parent / match.group(2)).resolve()
        if not match.group(2).startswith(".") or not target.is_file() or not target.is_relative_to(inside):
            raise JoinError(f"{where}: cannot resolve import {match.group(2)!r}")
        imports.append((target, names))
    body = _IMPORT.sub("", text)
    if _ANY_IMPORT.search(body):
        raise JoinError(f"{where}: an import the joiner cannot read (only `import {{ a, b }} from './x.js';`)")
    if bad := _BAD_EXPORT.search(body):
        raise JoinError(
            f"{where}: {body[bad.start() : body.find(chr(10), bad.start())]!r}: only `export` before a "
            "declaration can be joined"
        )
    declared = frozenset(_TOP_LEVEL.findall(body))
    exported = frozenset(m.group(1) for m in _TOP_LEVEL.finditer(body) if m.group(0).startswith("export "))
    if assigned := _assigned(body, {name for _, names in imports for name in names}):
        raise JoinError(f"{where}: assigns to {assigned!r}, which it imports (imports are read-only)")
    return Module(path, tuple(imports), declared, exported, _EXPORT.sub("", body))


def _assigned(body: str, names: set[str]) -> str | None:
    """The first of names the body assigns to (x = 1, x += 1, x++, ++x; not o.x = 1 nor x == 1), if any."""
    if not names:
        return None
    alt = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    match = re.search(rf"(?<![\w$.])(?:(?:\+\+|--)({alt})(?![\w$])|({alt})(?![\w$]){_ASSIGNS.pattern})", body)
    return (match.group(1) or match.group(2)) if match else None


def module_order(entry: Path, root: Path = STATIC_DIR, one_scope: bool = True) -> list[Module]:
    """The modules reachable from entry, each once, in a browser's evaluation order (imports first).

    one_scope: they are to be joined, so two modules may not declare the same top-level name (the desk's
    modules, loaded as modules, are checked with one_scope=False)."""
    order: list[Module] = []
    seen: dict[Path, Module] = {}

    def visit(path: Path) -> None:
        module = read_module(path, root)
        seen[path] = module
        for target, names in module.imports:
            if target not in seen:
                visit(target)
            missing = set(names) - seen[target].exported
            if missing:
                raise JoinError(
                    f"{_name(path, root)}: imports {', '.join(sorted(missing))} which "
                    f"{_name(target, root)} does not export"
                )
        order.append(module)

    visit(entry.resolve())
    if not one_scope:
        return order
    owner: dict[str, Path] = {}
    for module in order:
        for name in module.declared:
            if name in owner:
                raise JoinError(
                    f"top-level name {name!r} is declared by both {_name(owner[name], root)} and "
                    f"{_name(module.path, root)}: joined into one scope they would collide"
                )
            owner[name] = module.path
    return order


def _inline(module: Module) -> str:
    if "/*@inline " not in module.body:
        return module.body

    def text(match: re.Match[str]) -> str:
        path = module.path.parent / match.group(1)
        if not path.is_file():
            raise JoinError(f"{module.path.name}: cannot inline {match.group(1)!r}: no such file")
        return json.dumps(path.read_text(encoding="utf-8"), ensure_ascii=False)

    return _INLINE.sub(text, module.body)


def join(entry: Path = WIDGET_ENTRY, root: Path = STATIC_DIR) -> str:
    """The one classic script: every module reachable from entry in one strict-mode function scope."""
    source = _name(entry.resolve(), root.resolve())
    parts = [
        (
            f"/* Contact Gateway widget, joined from webclient/static/{source} and its imports by "
            "webclient/joiner.py: edit those files. */\n(() => {\n'use strict';\n"
        )
    ]
    for module in module_order(entry, root):
        parts.append(f"\n// ---- {_name(module.path, root.resolve())}\n")
        parts.append(_inline(module).strip("\n") + "\n")
    parts.append("})();\n")
    return "".join(parts)


@dataclass(frozen=True)
class Joined:
    """The joined widget as served: its bytes and an ETag for conditional requests."""

    body: bytes
    etag: str


@functools.cache
def joined_widget() -> Joined:
    """Joined once per process (every node a test starts serves the same files)."""
    body = join().encode("utf-8")
    return Joined(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
