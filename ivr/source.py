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


_VALUE_QUOTE_RE = re.compile(r"""(?:^\s*(?:-\s+)?|[:\[{,]\s*)(["'])""")


def _unclosed_quote_line(text: str | None, before: int | None) -> int | None:
    """The first line above ``before`` where a value opens a quote it does not close: a quoted value may go on over
    several lines, so a forgotten quote swallows lines until the next quote and the error shows up far below."""
    if text is None or before is None:
        return None
    for number, line in enumerate(text.splitlines()[: before - 1], start=1):
        for found in _VALUE_QUOTE_RE.finditer(line):
            quote, rest = found.group(1), line[found.end() :]
            closed = re.search(r'(?<!\\)"' if quote == '"' else r"'(?!')", rest.replace("''", ""))
            if closed is None:
                return number
            break  # the first quoted value of the line decides
    return None


def _syntax_error(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The line to blame and what to tell the author. PyYAML reports where it gave up, which for an unclosed quote
    or bracket can be many lines below the mistake: then the line where it opened is the one to show."""
    problem = exc.problem or "syntax error"
    at = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
    opened = exc.context_mark.line + 1 if exc.context_mark is not None else None
    context = exc.context or ""
    if "quoted scalar" in context and opened is not None:
        until = "the end of the file" if "end of stream" in problem else f"line {at}"
        return (
            opened,
            f"the quoted text that starts on line {opened} is never closed (no matching quote before {until})",
        )
    unclosed = _unclosed_quote_line(exc.problem_mark.buffer if exc.problem_mark is not None else None, at)
    if unclosed is not None:
        return unclosed, (
            f"the quoted text that starts on line {unclosed} is not closed on that line: it runs on to line {at}, "
            f"where the parser gave up ({problem})"
        )
    if ("flow mapping" in context or "flow sequence" in context) and opened is not None:
        bracket = "{" if "mapping" in context else "["
        where = "" if at == opened else f" on line {at}"
        return opened, f"the '{bracket}' on line {opened} is not closed where it should be ({problem}{where})"
    if "<stream end>" in problem:
        since = f" that starts on line {opened}" if opened is not None and opened != at else ""
        return (
            opened if since else at,
            f"the file ends inside an unfinished value{since} (an unclosed '[', '{{' or quote?)",
        )
    if "'\\t'" in problem:
        return at, "a tab character: indent with spaces"
    if "block end" in problem and opened is not None:
        return at, (
            f"line {at} is not indented like the lines above it (the block that starts on line {opened}); "
            "indent with spaces, the same number for keys of the same level"
        )
    if context and opened is not None and opened != at:
        return at, f"{problem} ({context} that starts on line {opened})"
    return at if at is not None else opened, problem


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what PyYAML counts as the end of a line


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> SpecError:
    """The error for a flow holding a character YAML refuses (a control character, pasted in), at its line and
    column as PyYAML counts lines (a CR, NEL or LS ends one too)."""
    breaks = list(_LINE_BREAK.finditer(text, 0, exc.position))
    column = exc.position - (breaks[-1].end() if breaks else 0) + 1
    return SpecError(
        f"YAML syntax error: character U+{exc.character:04X} in column {column} is not allowed in YAML (a control or "
        "unprintable character): remove it (it often comes with text pasted from another program)",
        line=len(breaks) + 1,
        code=ErrorCode.YAML,
    )


def parse_yaml(text: str) -> tuple[Any, list[SpecError]]:
    """Parse one YAML document; returns the data and the problems found (duplicate keys).

    Raises :class:`SpecError` with the line for a YAML syntax error.
    """
    try:
        loader = _Loader(text)  # it reads the whole text first, refusing characters YAML does not allow
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc) from None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line, message = _syntax_error(exc)
        raise SpecError(f"YAML syntax error: {message}", line=line, code=ErrorCode.YAML) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", code=ErrorCode.YAML) from None
    finally:
        loader.dispose()
    return data, loader.problems
