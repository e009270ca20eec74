"""The registry: reload without restart, calls keep their version, a broken file never replaces a good one."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from ivr.actions import Say
from ivr.events import PromptFinished
from ivr.interpreter import Interpreter
from ivr.registry import FlowRegistry, ReloadReport

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
_tick = [1_700_000_000]


def write(directory: Path, name: str, text: str) -> Path:
    """Write a flow file with a fresh mtime (so a reload sees it even on coarse clocks)."""
    path = directory / name
    path.write_text(dedent(text), encoding="utf-8")
    _tick[0] += 10
    os.utime(path, (_tick[0], _tick[0]))
    return path


def greeting(text: str) -> str:
    return f"""\
        start: hi
        nodes:
          hi: {{type: say, prompt: "{text}", next: bye}}
          bye: {{type: hangup}}
        """


def says(actions: Sequence[object]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def test_loads_a_directory(tmp_path: Path) -> None:
    write(tmp_path, "main.yaml", greeting("Hello"))
    write(tmp_path, "other.yml", greeting("Other"))
    (tmp_path / "notes.txt").write_text("not a flow")
    registry = FlowRegistry(tmp_path)
    assert registry.names() == ["main", "other"]
    assert "main" in registry and "notes" not in registry
    assert registry.errors == []
    snapshot = registry.snapshot()
    with pytest.raises(TypeError):
        snapshot["x"] = snapshot["main"]  # type: ignore[index]
    with pytest.raises(KeyError, match=r"no flow .nope. in .* \(known: main, other\)"):
        registry.get("nope")
    assert registry.reload_if_changed() == ReloadReport()


def test_a_call_in_progress_keeps_its_version(tmp_path: Path) -> None:
    write(tmp_path, "main.yaml", greeting("Hello v1"))
    registry = FlowRegistry(tmp_path)
    old = registry.get("main")
    call = Interpreter(old, flows=registry.snapshot())
    assert says(call.start(NOW)) == ["Hello v1"]

    write(tmp_path, "main.yaml", greeting("Hello v2"))
    report = registry.reload_if_changed()
    assert (report.loaded, report.removed, report.errors) == (("main",), (), ())
    new = registry.get("main")
    assert new.version != old.version
    assert says(Interpreter(new).start(NOW)) == ["Hello v2"]
    # the call that started before goes on with v1 to its end
    assert call.flow is old
    assert [type(a).__name__ for a in call.handle(PromptFinished("p1"), NOW)] == ["Step", "Step", "Hangup", "Done"]


def test_a_broken_change_keeps_the_good_version_until_fixed(tmp_path: Path) -> None:
    path = write(tmp_path, "main.yaml", greeting("Hello v1"))
    registry = FlowRegistry(tmp_path)
    good = registry.get("main")

    write(tmp_path, "main.yaml", greeting("Hello v2").replace("next: bye", "next: byee"))
    report = registry.reload_if_changed()
    assert (report.loaded, report.removed) == ((), ())
    assert [str(e) for e in report.errors] == [
        f"{path}:3: node 'hi': 'next' goes to unknown node 'byee' (did you mean 'bye'?)"
    ]
    assert registry.get("main") is good
    # still reported on the next reload, without re-reading the unchanged file
    assert [str(e) for e in registry.reload_if_changed().errors] == [str(e) for e in report.errors]

    write(tmp_path, "main.yaml", greeting("Hello v3"))
    report = registry.reload_if_changed()
    assert (report.loaded, report.errors) == (("main",), ())
    assert says(Interpreter(registry.get("main")).start(NOW)) == ["Hello v3"]


def test_a_new_broken_file_is_not_loaded_and_a_deleted_one_is_removed(tmp_path: Path) -> None:
    write(tmp_path, "main.yaml", greeting("Hello"))
    registry = FlowRegistry(tmp_path)
    bad = write(tmp_path, "bad.yaml", "start: [\n")
    report = registry.reload_if_changed()
    assert [str(e) for e in report.errors] == [
        (f"{bad}:2: YAML syntax error: the file ends inside an unfinished value (an unclosed '[', '{{' or quote?)")
    ]
    assert registry.names() == ["main"]
    (tmp_path / "main.yaml").unlink()
    report = registry.reload_if_changed()
    assert (report.loaded, report.removed) == ((), ("main",))
    assert registry.names() == []
    bad.unlink()
    assert registry.reload_if_changed() == ReloadReport()


def test_same_content_with_a_new_mtime_is_not_reloaded(tmp_path: Path) -> None:
    write(tmp_path, "main.yaml", greeting("Hello"))
    registry = FlowRegistry(tmp_path)
    flow = registry.get("main")
    write(tmp_path, "main.yaml", greeting("Hello"))
    assert registry.reload_if_changed() == ReloadReport()
    assert registry.get("main") is flow


def test_goto_waits_for_its_target_flow(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        "main.yaml",
        """\
        start: a
        nodes:
          a: {type: goto, flow: survey}
        """,
    )
    registry = FlowRegistry(tmp_path)
    assert registry.names() == []
    assert [str(e) for e in registry.errors] == [f"{main}:3: node 'a': goes to unknown flow 'survey'"]
    write(tmp_path, "survey.yaml", greeting("How did we do?"))
    report = registry.reload_if_changed()
    assert (report.loaded, report.errors) == (("main", "survey"), ())
    # removing the target leaves main in service (it was valid) but reports the dangling goto
    (tmp_path / "survey.yaml").unlink()
    report = registry.reload_if_changed()
    assert (report.loaded, report.removed) == ((), ("survey",))
    assert [str(e) for e in report.errors] == [f"{main}:3: node 'a': goes to unknown flow 'survey'"]
    assert registry.names() == ["main"]


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    registry = FlowRegistry(tmp_path / "nope")
    assert registry.names() == []
    assert [str(e) for e in registry.reload_if_changed().errors] == [f"{tmp_path / 'nope'}: flows directory not found"]
