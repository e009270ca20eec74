"""Errors of the flow language.

A flow file is validated at the edge, once, when it is loaded. Every problem
becomes a :class:`FlowError` naming the file, the line and the node, and all
problems of a file are reported together in one :class:`FlowErrors`. The CLI
prints them one per line and exits 2; the registry keeps them next to the last
good version of the flow.

Parsers of single values (templates, conditions, durations, schedules) raise
:class:`SpecError`; the loader turns it into a :class:`FlowError` with the
file, the line and the node it knows about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ErrorCode:
    """Stable machine codes of flow errors (the human text may change)."""

    YAML = "yaml"
    SHAPE = "shape"
    UNKNOWN_KEY = "unknown_key"
    MISSING_KEY = "missing_key"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_TARGET = "unknown_target"
    UNREACHABLE = "unreachable"
    DUPLICATE = "duplicate"
    BAD_VALUE = "bad_value"
    BAD_DURATION = "bad_duration"
    BAD_TEMPLATE = "bad_template"
    BAD_CONDITION = "bad_condition"
    BAD_HOURS = "bad_hours"
    BAD_URL = "bad_url"
    BAD_AUDIO = "bad_audio"
    UNKNOWN_FLOW = "unknown_flow"
    UNKNOWN_QUEUE = "unknown_queue"  # a node names a queue the gateway does not have
    IO = "io"
    UNTRUSTED = "untrusted"  # unverified customer input decides routing or a URL (ivr/trust.py)
    SPEECH = "speech"  # the flow asks for speech recognition the gateway cannot give (engine, words)


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow file: ``file:line: node 'x': message``."""

    file: str
    line: int | None
    node: str | None
    message: str
    code: str = ErrorCode.BAD_VALUE

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.node is not None:
            return f"{where}: node '{self.node}': {self.message}"
        return f"{where}: {self.message}"


class FlowErrors(Exception):
    """All problems found in one flow file (or one directory), in file and line order."""

    def __init__(self, errors: Iterable[FlowError]):
        self.errors: list[FlowError] = sorted(errors, key=lambda e: (e.file, e.line or 0))
        super().__init__("\n".join(str(e) for e in self.errors) or "flow errors")


class SpecError(ValueError):
    """A single value of a flow is wrong; ``line`` is set when the parser knows a finer line."""

    def __init__(self, message: str, *, line: int | None = None, code: str = ErrorCode.BAD_VALUE):
        super().__init__(message)
        self.message = message
        self.line = line
        self.code = code
