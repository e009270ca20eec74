"""Typed access to the keys of one mapping of a flow file (a node, a choice, a prompt).

Every bad value is reported to the loader with its line and node, and a default is returned, so one pass
over a file finds all its errors. :mod:`ivr.loader` builds the nodes with it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from . import schema
from .conditions import scalar_text
from .errors import ErrorCode, FlowError, SpecError
from .model import AUDIO_EXTENSIONS, Prompt
from .source import LineDict, LineList
from .template import NAME_RE, Template
from .trust import reserved

NODE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class Reports(Protocol):
    """What a reader needs of the file loader: where errors and transitions go, and the flow's directory."""

    base: Path
    target_refs: list[tuple[str, int, str, str]]
    edges: dict[str, list[str]]

    def error(self, line: int | None, node: str | None, message: str, code: str = ErrorCode.BAD_VALUE) -> None: ...

    def spec_error(self, exc: SpecError, line: int | None, node: str | None, prefix: str = "") -> None: ...

    def check_keys(self, raw: LineDict, allowed: Any, required: Any, node: str | None, what: str) -> None: ...


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to a misspelled ``word``, or ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class FileReports:
    """Where the readers of one flow file report: its errors, and the transitions its nodes make."""

    def __init__(self, path: Path):
        self.file = str(path)
        self.base = path.parent.resolve()
        self.errors: list[FlowError] = []
        self.edges: dict[str, list[str]] = {}
        self.target_refs: list[tuple[str, int, str, str]] = []  # (node, line, key, target)

    def error(self, line: int | None, node: str | None, message: str, code: str = ErrorCode.BAD_VALUE) -> None:
        self.errors.append(FlowError(self.file, line, node, message, code))

    def spec_error(self, exc: SpecError, line: int | None, node: str | None, prefix: str = "") -> None:
        self.error(exc.line or line, node, prefix + exc.message, exc.code)

    def check_keys(
        self, raw: LineDict, allowed: Iterable[str], required: Iterable[str], node: str | None, what: str
    ) -> None:
        allowed = list(allowed)
        for key in raw:
            if key not in allowed:
                self.error(
                    raw.line_of(key),
                    node,
                    f"unknown key '{key}' in {what}{suggest(key, allowed)}",
                    ErrorCode.UNKNOWN_KEY,
                )
        for key in required:
            if key not in raw:
                self.error(raw.line, node, f"missing '{key}' in {what}", ErrorCode.MISSING_KEY)


def parse_duration(value: object) -> float:
    """``5``, ``2.5``, ``"500ms"``, ``"5s"``, ``"2m"``, ``"1h"`` -> seconds; raises :class:`SpecError` otherwise."""
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None or not seconds > 0 or seconds == float("inf"):
        raise SpecError(
            f"bad duration {value!r}: use a positive number of seconds or '500ms', '5s', '2m', '1h'",
            code=ErrorCode.BAD_DURATION,
        )
    return seconds


class NodeReader:
    """Typed access to the keys of one mapping of a node; errors are reported, defaults returned."""

    def __init__(self, loader: Reports, name: str | None, raw: LineDict):
        self.loader = loader
        self.name = name
        self.raw = raw

    def line(self, key: str) -> int:
        return self.raw.line_of(key)

    def fail(self, key: str, message: str, code: str = ErrorCode.BAD_VALUE) -> None:
        self.loader.error(self.line(key), self.name, message, code)

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.fail(key, f"'{key}' must be text")
            return None
        return scalar_text(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"'{key}' must be true or false")
            return default
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed`` (text), else an error naming them."""
        value = self.raw.get(key, default)
        if not isinstance(value, str) or value not in allowed:
            self.fail(key, f"'{key}' must be one of {', '.join(allowed)}, not {value!r}")
            return default
        return value

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(key, f"'{key}' must be a whole number from {lo} to {hi}")
            return default
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.fail(key, f"'{key}' must be a number from {lo:g} to {hi:g}")
            return default
        return float(value)

    def duration(self, key: str, default: float | None) -> Any:
        if key not in self.raw:
            return default
        try:
            return parse_duration(self.raw[key])
        except SpecError as exc:
            self.fail(key, f"'{key}': {exc.message}", exc.code)
            return default

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) or v is None for v in value):
            self.fail(key, f"'{key}' must be a list of words")
            return ()
        return tuple(scalar_text(v) for v in value)

    def var(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            self.fail(key, f"bad variable name {value!r} (use lower_case letters, digits, _ or .)")
            return None
        if reserved(value):
            self.fail(
                key,
                f"variable {value!r} cannot be set by a flow: context.* is what the customer's browser "
                "sent and verified.* what the site signed",
            )
            return None
        return value

    def target(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not NODE_NAME_RE.fullmatch(value):
            self.fail(key, f"'{key}' must name a node")
            return ""
        self.loader.target_refs.append((self.name or "", self.line(key), key, value))
        if self.name is not None:
            self.loader.edges.setdefault(self.name, []).append(value)
        return value

    def parse_template(self, text: str, line: int) -> Template:
        try:
            return Template.parse(text)
        except SpecError as exc:
            self.loader.spec_error(exc, line, self.name)
            return Template.parse("")

    def template(self, key: str) -> Template | None:
        text = self.text(key)
        return None if text is None else self.parse_template(text, self.line(key))

    def audio(self, key: str, raw: LineDict | None = None) -> str | None:
        raw = raw if raw is not None else self.raw
        value = raw.get(key)
        line = raw.line_of(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.lower().endswith(AUDIO_EXTENSIONS):
            self.loader.error(
                line, self.name, f"audio file {value!r} must be a .wav, .mp3 or .ogg file", ErrorCode.BAD_AUDIO
            )
            return None
        path = (self.loader.base / value).resolve()
        if not path.is_relative_to(self.loader.base):
            self.loader.error(
                line, self.name, f"audio file {value!r} must be inside the flow's directory", ErrorCode.BAD_AUDIO
            )
            return None
        if not path.is_file():
            self.loader.error(
                line, self.name, f"audio file not found: {value} (looked for {path})", ErrorCode.BAD_AUDIO
            )
            return None
        return str(path)

    def prompts(self, key: str, *, required: bool = False) -> tuple[Prompt, ...]:
        value = self.raw.get(key)
        line = self.line(key)
        if value is None:
            if required and key not in self.raw:
                return ()  # reported as a missing key
            if required or key in self.raw:
                self.loader.error(line, self.name, f"'{key}' is empty: say something", ErrorCode.MISSING_KEY)
            return ()
        items = value if isinstance(value, list) else [value]
        if not items:
            self.loader.error(line, self.name, f"'{key}' is an empty list: say something", ErrorCode.MISSING_KEY)
        out: list[Prompt] = []
        for index, item in enumerate(items):
            item_line = value.line_of(index) if isinstance(value, LineList) else line
            prompt = self.prompt_item(item, item_line)
            if prompt is not None:
                out.append(prompt)
        return tuple(out)

    def prompt_item(self, item: object, line: int) -> Prompt | None:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            return Prompt(say=self.parse_template(scalar_text(item), line))
        if not isinstance(item, LineDict):
            self.loader.error(line, self.name, "a prompt is text, or a mapping with say, play or chat", ErrorCode.SHAPE)
            return None
        self.loader.check_keys(item, schema.PROMPT_PROPERTIES, (), self.name, "a prompt")
        p = NodeReader(self.loader, self.name, item)
        if not any(k in item for k in ("say", "play", "chat")):
            self.loader.error(item.line, self.name, "a prompt needs 'say', 'play' or 'chat'", ErrorCode.MISSING_KEY)
        rate = p.number("rate", 1.0, 0.1, 4.0) if "rate" in item else None
        return Prompt(
            say=p.template("say"),
            play=p.audio("play"),
            chat=p.template("chat"),
            barge_in=p.boolean("barge_in", True),
            voice=p.text("voice"),
            language=p.text("language"),
            rate=rate,
        )
