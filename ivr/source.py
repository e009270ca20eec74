"""Reading flow YAML with line numbers.

Flows are parsed with a :class:`yaml.SafeLoader` subclass that

* records the line of every mapping, key and list item (:class:`LineDict`,
  :class:`LineList`), so every error can name ``file:line``;
* reports duplicate keys instead of silently keeping the last one (two nodes
  with the same name is a classic copy-paste mistake);
* resolves plain scalars like YAML 1.2 (the JSON Schema / editor view):
  only ``true``/``false`` are booleans (``no``, ``on``, ``yes`` stay strings),
  ``10:00`` is a string, not the sexagesimal integer 600, and dates stay
  strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ErrorCode, SpecError


class LineDict(dict[str, Any]):
    """A mapping from the YAML file, with the line of the mapping and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence from the YAML file, with the line of the sequence and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.item_lines = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(value: object, default: int) -> int:
    """The line a parsed value starts on, when it is a mapping or a list from the file."""
    return getattr(value, "line", default) or default


class _Loader(yaml.SafeLoader):
    """SafeLoader with line-recording containers, duplicate-key checks and YAML 1.2 scalars."""

    # Own resolver table (filled below), so SafeLoader's YAML 1.1 resolvers are not inherited.
    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[SpecError] = []


def _construct_map(loader: _Loader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = str(loader.construct_object(key_node))
            line = key_node.start_mark.line + 1
            if key in seen:
                loader.problems.append(
                    SpecError(
                        f"duplicate key '{key}' (first on line {seen[key]}; YAML would silently keep the last one)",
                        line=line,
                        code=ErrorCode.DUPLICATE,
                    )
                )
            seen[key] = line
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key_obj = loader.construct_object(key_node, deep=True)
        if isinstance(key_obj, (dict, list)):
            loader.problems.append(
                SpecError("a mapping key must be a plain name", line=key_node.start_mark.line + 1, code=ErrorCode.SHAPE)
            )
            continue
        key = "null" if key_obj is None else str(key_obj).lower() if isinstance(key_obj, bool) else str(key_obj)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _Loader, node: SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)


def _construct_int(loader: _Loader, node: Node) -> int:
    value = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    sign = -1 if value.startswith("-") else 1
    digits = value.lstrip("+-")
    if digits.startswith(("0x", "0o")):
        return sign * int(digits, 0)
    return sign * int(digits, 10)  # "010" is ten, as in YAML 1.2 (not octal eight)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)

# YAML 1.2 core schema resolvers (order matters: int before float).
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def parse_yaml(text: str) -> tuple[Any, list[SpecError]]:
    """Parse one YAML document; returns the data and the problems found (duplicate keys).

    Raises :class:`SpecError` with the line for a YAML syntax error.
    """
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise SpecError(f"YAML syntax error: {problem}", line=line, code=ErrorCode.YAML) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", code=ErrorCode.YAML) from None
    finally:
        loader.dispose()
    return data, loader.problems
