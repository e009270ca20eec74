"""``{{ variable }}`` templates in prompts, variable values, URLs and queue names.

The syntax is deliberately tiny and never evaluates code::

    Hello {{ name }}                      the value of the context variable
    Hello {{ name | default('there') }}   a fallback when it is missing or empty
    Account {{ account | spell }}         "1234" -> "1 2 3 4" (for text to speech)
    {{ intent | upper }}                  also: lower, title

Variable names match ``[a-z_][a-z0-9_.]*`` (a dot is part of the name: the
context is flat). A missing variable renders as an empty string. Templates are
parsed when the flow is loaded, so a syntax error is a validation error with
the file and line, and rendering never fails.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from .errors import ErrorCode, SpecError

NAME_PATTERN = r"[a-z_][a-z0-9_.]*"
NAME_RE = re.compile(rf"^{NAME_PATTERN}$")

_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?[0-9]+(?:\.[0-9]+)?"
_HEAD_RE = re.compile(rf"\s*({NAME_PATTERN})\s*")
_FILTER_RE = re.compile(
    r"\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((\s*(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^)]*))\)\s*)?"
)
_ARG_RE = re.compile(rf"^\s*({_STRING})?\s*$")


def _spell(value: str) -> str:
    return " ".join(ch for ch in value if not ch.isspace())


_FILTERS: dict[str, tuple[int, Callable[[str, tuple[str, ...]], str]]] = {
    # name: (number of arguments, function(value, args))
    "default": (1, lambda value, args: value if value else args[0]),
    "upper": (0, lambda value, args: value.upper()),
    "lower": (0, lambda value, args: value.lower()),
    "title": (0, lambda value, args: value.title()),
    "spell": (0, lambda value, args: _spell(value)),
}
FILTER_NAMES = tuple(_FILTERS)


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ name | filter ... }}``."""

    name: str
    filters: tuple[Filter, ...] = ()

    def render(self, scope: Mapping[str, str]) -> str:
        value = scope.get(self.name, "")
        for flt in self.filters:
            value = _FILTERS[flt.name][1](value, flt.args)
        return value


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders, in order."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse ``text``; raises :class:`SpecError` naming the column of a syntax error."""
        parts: list[str | Placeholder] = []
        pos = 0
        while True:
            start = text.find("{{", pos)
            if start < 0:
                if pos < len(text):
                    parts.append(text[pos:])
                break
            if start > pos:
                parts.append(text[pos:start])
            end = text.find("}}", start + 2)
            if end < 0:
                raise SpecError(
                    f"unclosed '{{{{' at column {start + 1} in template {text!r}", code=ErrorCode.BAD_TEMPLATE
                )
            parts.append(_parse_placeholder(text[start + 2 : end], text, start))
            pos = end + 2
        return cls(text, tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        """The variable names this template reads."""
        return frozenset(p.name for p in self.parts if isinstance(p, Placeholder))

    @property
    def is_static(self) -> bool:
        return not self.names

    def render(self, scope: Mapping[str, str], escape: Callable[[str], str] | None = None) -> str:
        """Substitute the placeholders; ``escape`` (e.g. URL quoting) is applied to substituted values only."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = part.render(scope)
                out.append(escape(value) if escape is not None else value)
        return "".join(out)

    def render_url(self, scope: Mapping[str, str]) -> str:
        """A URL: every substituted value is percent-encoded (``/``, ``?``, ``#``, ``@`` and ``:`` too).

        No placeholder is exempt, wherever it stands: a value can never change the URL's
        scheme, host, port or structure, only fill in the text it stands for. (The loader also
        requires the scheme and host of a webhook URL to be literal.)
        """
        return self.render(scope, escape=lambda value: quote(value, safe="")).strip()

    def __str__(self) -> str:
        return self.source


def _unquote(arg: str) -> str:
    if arg[:1] in ("'", '"'):
        return re.sub(r"\\(.)", r"\1", arg[1:-1])
    return arg


def _parse_placeholder(inner: str, text: str, start: int) -> Placeholder:
    where = f"in '{{{{{inner}}}}}' at column {start + 1}"
    head = _HEAD_RE.match(inner)
    if head is None:
        raise SpecError(
            f"expected a variable name (lower_case letters, digits, _ or .) {where}", code=ErrorCode.BAD_TEMPLATE
        )
    pos = head.end()
    filters: list[Filter] = []
    while pos < len(inner):
        match = _FILTER_RE.match(inner, pos)
        if match is None:
            raise SpecError(f"unexpected {inner[pos:].strip()!r} {where}", code=ErrorCode.BAD_TEMPLATE)
        name, raw_arg = match.group(1), match.group(2)
        arg_match = _ARG_RE.match(raw_arg or "")
        if arg_match is None:
            raise SpecError(
                f"filter arguments are quoted text or numbers, e.g. default('x'), not ({raw_arg}) {where}",
                code=ErrorCode.BAD_TEMPLATE,
            )
        arg = arg_match.group(1)
        if name not in _FILTERS:
            close = difflib.get_close_matches(name, FILTER_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (filters: {', '.join(FILTER_NAMES)})"
            raise SpecError(f"unknown filter '{name}' {where}{hint}", code=ErrorCode.BAD_TEMPLATE)
        args = () if arg is None else (_unquote(arg),)
        if len(args) != _FILTERS[name][0]:
            wanted = "one argument, e.g. default('x')" if _FILTERS[name][0] else "no argument"
            raise SpecError(f"filter '{name}' takes {wanted} {where}", code=ErrorCode.BAD_TEMPLATE)
        filters.append(Filter(name, args))
        pos = match.end()
    return Placeholder(head.group(1), tuple(filters))
