"""The browser code as ES modules: node's unit tests of the shared modules and of the joined widget, the
joiner's refusals, the desk's module graph, the protocol constants the browser uses, and file sizes."""

from __future__ import annotations

import enum
import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import protocol
from webclient import STATIC_DIR
from webclient.joiner import JoinError, join, module_order

ROOT = Path(__file__).resolve().parents[2]


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed (Debian's nodejs); the browser code's unit tests need it")
    return path


def test_node_unit_tests_of_the_browser_modules_pass() -> None:
    run = subprocess.run(
        [node(), "--test", "webclient/tests/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=80,
        env={**os.environ, "CG_PYTHON": sys.executable},
    )
    if run.returncode != 0:
        failed = [line for line in run.stdout.splitlines() if line.startswith("not ok")]
        pytest.fail(f"node --test webclient/tests/ failed: {failed}\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
    assert re.search(r"^# fail 0$", run.stdout, re.MULTILINE) and not re.search(r"^# pass 0$", run.stdout, re.MULTILINE)


def test_the_joined_widget_is_one_script_that_parses(tmp_path: Path) -> None:
    joined = tmp_path / "widget.js"
    joined.write_text(join(), encoding="utf-8")
    run = subprocess.run([node(), "--check", str(joined)], capture_output=True, text=True, check=False, timeout=30)
    assert run.returncode == 0, run.stderr
    text = joined.read_text(encoding="utf-8")
    assert text.count("\nimport ") == 0 and not re.search(r"^export ", text, re.MULTILINE)
    assert "/ws/customer" in text and text.rstrip().endswith("})();")


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "main.js"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"main.js": "import { a } from './a.js';\nconst b = a;\n", "a.js": "export const a = 1;\nconst b = 2;\n"},
            "top-level name 'b' is declared by both",
        ),
        ({"main.js": "import { a } from './missing.js';\n"}, "cannot resolve import './missing.js'"),
        ({"main.js": "import { a } from 'https://cdn.example/a.js';\n"}, "cannot resolve import"),
        (
            {"main.js": "import { c } from './a.js';\n", "a.js": "export const a = 1;\n"},
            "imports c which a.js does not export",
        ),
        (
            {"main.js": "import { a } from './a.js';\nfunction f() { a = 2; }\n", "a.js": "export let a = 1;\n"},
            "assigns to 'a', which it imports",
        ),
        ({"main.js": "import { a } from './a.js';\na++;\n", "a.js": "export let a = 1;\n"}, "assigns to 'a'"),
        (
            {"main.js": "import * as a from './a.js';\n", "a.js": "export const a = 1;\n"},
            "an import the joiner cannot read",
        ),
        ({"main.js": "export default 1;\n"}, "only `export` before a declaration"),
        ({"main.js": "const CSS = '/*@inline gone.css*/';\n"}, "cannot inline 'gone.css'"),
    ],
)
def test_the_joiner_refuses_what_would_break_the_joined_script(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    entry = write(tmp_path, files)
    with pytest.raises(JoinError, match=re.escape(message)):
        join(entry, tmp_path)


def test_the_joiner_orders_modules_as_a_browser_evaluates_them(tmp_path: Path) -> None:
    entry = write(
        tmp_path,
        {
            "main.js": "import { b } from './b.js';\nimport { a } from './a.js';\nconst m = a + b;\n",
            "a.js": "export const a = 1;\n",
            "b.js": "import { a } from './a.js';\nimport { c } from './c.js';\nexport const b = a + c();\n",
            "c.js": "import { b } from './b.js';   // a cycle: fine for functions\nexport function c() { return 1; }\n",
            "style.css": "p { color: red; }\n",
        },
    )
    assert [m.path.name for m in module_order(entry, tmp_path)] == ["a.js", "c.js", "b.js", "main.js"]
    (tmp_path / "a.js").write_text("export const a = '/*@inline style.css*/';\n", encoding="utf-8")
    joined = join(entry, tmp_path)
    assert 'const a = "p { color: red; }\\n";' in joined
    assert joined.index("// ---- a.js") < joined.index("// ---- c.js") < joined.index("// ---- b.js")


def test_the_desk_modules_resolve_and_never_assign_to_an_import() -> None:
    modules = module_order(STATIC_DIR / "desk" / "main.js", one_scope=False)
    names = {str(m.path.relative_to(STATIC_DIR)) for m in modules}
    assert {"desk/main.js", "desk/phone/main.js", "shared/socket.js", "shared/rtc.js"} <= names
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in (STATIC_DIR / "desk").rglob("*.js")}
    assert on_disk <= names, f"desk modules nothing imports: {sorted(on_disk - names)}"


def test_the_admin_console_modules_resolve_and_never_assign_to_an_import() -> None:
    modules = module_order(STATIC_DIR / "admin" / "console_main.js", one_scope=False)
    names = {str(m.path.relative_to(STATIC_DIR)) for m in modules}
    frame = {
        str(m.path.relative_to(STATIC_DIR))
        for m in module_order(STATIC_DIR / "admin" / "console_preview.js", one_scope=False)
    }
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in (STATIC_DIR / "admin").glob("console_*.js")}
    assert on_disk <= names | frame, f"console modules nothing imports: {sorted(on_disk - names - frame)}"
    assert {"desk/auth.js", "desk/login_view.js"} <= names  # the desk's session, not a copy of it
    assert {"widget/panel.js", "widget/state.js"} <= frame  # the preview is the widget's own rendering


def test_the_reports_page_modules_resolve_and_never_assign_to_an_import() -> None:
    modules = module_order(STATIC_DIR / "supervisor" / "reports_main.js", one_scope=False)
    names = {str(m.path.relative_to(STATIC_DIR)) for m in modules}
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in (STATIC_DIR / "supervisor").glob("reports*.js")}
    assert on_disk <= names, f"reports modules nothing imports: {sorted(on_disk - names)}"
    assert {"desk/auth.js", "desk/login_view.js"} <= names  # the desk's session, not a copy of it


def test_the_flow_editor_modules_resolve_and_never_assign_to_an_import() -> None:
    modules = module_order(STATIC_DIR / "admin" / "flows_main.js", one_scope=False)
    names = {str(m.path.relative_to(STATIC_DIR)) for m in modules}
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in (STATIC_DIR / "admin").glob("flows*.js")}
    assert on_disk <= names, f"flow editor modules nothing imports: {sorted(on_disk - names)}"
    assert {"desk/auth.js", "desk/login_view.js", "shared/socket.js", "shared/rtc.js"} <= names  # not copies
    # the vendored libraries are imported where they are used (dynamic imports of unchanged npm files)
    editor = (STATIC_DIR / "admin" / "flows_editor.js").read_text(encoding="utf-8")
    graph = (STATIC_DIR / "admin" / "flows_graph.js").read_text(encoding="utf-8")
    assert "import('../vendor/highlightjs/core.min.js')" in editor and "import('../vendor/dagre/dagre.esm.js')" in graph
    for vendored in ("highlightjs/core.min.js", "highlightjs/yaml.min.js", "dagre/dagre.esm.js"):
        folder = (STATIC_DIR / "vendor" / vendored).parent
        assert (folder / "LICENSE").is_file() and "npm pack" in (folder / "README.md").read_text(encoding="utf-8")


def test_the_wallboard_modules_resolve_and_share_the_desks_session_and_the_protocol() -> None:
    modules = module_order(STATIC_DIR / "supervisor" / "wallboard.js", one_scope=False)
    names = {str(m.path.relative_to(STATIC_DIR)) for m in modules}
    assert {"desk/auth.js", "desk/login_view.js", "shared/socket.js", "shared/protocol.js", "shared/rtc.js"} <= names
    assert "desk/main.js" not in names  # the desk's page itself is not loaded
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in (STATIC_DIR / "supervisor").glob("wallboard*.js")}
    assert on_disk <= names, f"wallboard modules nothing imports: {sorted(on_disk - names)}"


def test_the_browser_protocol_constants_are_the_gateways() -> None:
    """What shared/protocol.js exports, as node reads it, is what gateway.protocol says."""
    script = "import * as p from './webclient/static/shared/protocol.js'; process.stdout.write(JSON.stringify(p))"
    run = subprocess.run(
        [node(), "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True, check=False, timeout=30
    )
    assert run.returncode == 0, run.stderr
    exported: dict[str, object] = json.loads(run.stdout)
    modules = [protocol]  # the vocabulary may be one module or a package of them
    if hasattr(protocol, "__path__"):
        modules += [
            importlib.import_module(f"{protocol.__name__}.{m.name}") for m in pkgutil.iter_modules(protocol.__path__)
        ]
    python: dict[str, object] = {}
    for name in exported:
        value = next((getattr(m, name) for m in modules if hasattr(m, name)), None)
        if isinstance(value, type) and issubclass(value, enum.Enum):
            python[name] = {member.name: member.value for member in value}
        elif isinstance(value, (int, str)):
            python[name] = value
    assert {"MAX_TEXT_CHARS", "MAX_FRAME_BYTES", "MAX_SDP_CHARS", "ConversationState", "CallStatus"} <= python.keys()
    assert {name: exported[name] for name in python} == python


def test_no_browser_file_is_over_600_lines() -> None:
    sizes = {
        str(p.relative_to(STATIC_DIR)): len(p.read_text(encoding="utf-8").splitlines())
        for p in STATIC_DIR.rglob("*")
        if p.suffix in (".js", ".css", ".html")
    }
    assert len(sizes) > 30
    assert {name: n for name, n in sizes.items() if n > 600} == {}
