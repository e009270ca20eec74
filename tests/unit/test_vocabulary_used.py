"""The vocabulary is used, not copied: no error code, frame type or bus kind spelled as a literal outside
gateway/protocol/ (an ``error`` code string, a ``{"type": "..."}`` frame or ``{"kind": "..."}`` message built
by hand, a ``code = "..."`` on an error class)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
#: JSON Schema's own ``type`` values and OpenAPI's security scheme types (the API document, gateway/wire/api*.py):
#: another vocabulary, which no frame type or error code is named after.
SCHEMA_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null", "http", "apiKey"})


def literal_vocabulary(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "code"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append(f"{node.value.lineno}: code={node.value.value!r}")
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append(f"{node.lineno}: code = {node.value.value!r}")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value in ("type", "kind", "code")
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and not (key.value == "type" and value.value in SCHEMA_TYPES)
                ):
                    found.append(f"{key.lineno}: {{{key.value!r}: {value.value!r}}}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith('{"kind":'):
            found.append(f"{node.lineno}: {node.value[:40]}")
    return sorted(found, key=lambda hit: int(hit.partition(":")[0]))


def test_no_vocabulary_literal_outside_the_protocol_package() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in sorted((ROOT / "gateway").rglob("*.py"))
        if "protocol" not in path.relative_to(ROOT).parts
        for hit in literal_vocabulary(path)
    ]
    assert offenders == []


def test_the_scan_finds_each_kind_of_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'raise Conflict("x", code="busy")\nclass E:\n    code = "mine"\n'
        'push({"type": "ack", "id": 1})\npublish(\'{"kind":"queue"}\')\n'
        'ok = {"type": EventType.MESSAGE, "code": exc.code}\n'
        'schema = {"type": "string"}\n',
        encoding="utf-8",
    )
    assert literal_vocabulary(sample) == [
        "1: code='busy'",
        "3: code = 'mine'",
        "4: {'type': 'ack'}",
        '5: {"kind":"queue"}',
    ]
