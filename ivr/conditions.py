"""Conditions of ``branch`` nodes: a small, safe expression language (no eval).

A condition is a mapping. Either one test of a context variable::

    {var: intent, equals: billing}
    {var: intent, not_equals: billing}
    {var: tier, in: [gold, platinum]}          # also not_in
    {var: account, matches: "^9[0-9]{5}$"}     # Python regex, searched (anchor it with ^...$)
    {var: account, exists: true}               # set and not empty (exists: false = missing or empty)
    {var: balance, gt: 100}                    # also gte, lt, lte (numbers; not a number -> false)

or a combination::

    {all: [cond, cond, ...]}   {any: [cond, ...]}   {not: cond}

Values compare as strings (the context holds strings): ``equals: 5`` matches
"5"; ``true``/``false`` match "true"/"false". A missing variable equals
nothing, is in nothing and matches nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import ErrorCode, SpecError
from .source import line_of
from .template import NAME_RE

COMPARISONS = ("equals", "not_equals", "in", "not_in", "matches", "exists", "gt", "gte", "lt", "lte")
COMBINATIONS = ("all", "any", "not")


class Condition(Protocol):
    def test(self, scope: Mapping[str, str]) -> bool: ...

    def describe(self) -> str: ...


def scalar_text(value: object) -> str:
    """How a YAML scalar compares with context strings: ``true`` -> "true", ``5`` -> "5"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Compare:
    """``{var: name, <op>: value}``."""

    var: str
    op: str
    value: str | tuple[str, ...] | float | bool | re.Pattern[str]

    def test(self, scope: Mapping[str, str]) -> bool:
        actual = scope.get(self.var)
        match self.op:
            case "equals":
                return actual == self.value
            case "not_equals":
                return actual != self.value
            case "in":
                return actual is not None and actual in self.value  # type: ignore[operator]
            case "not_in":
                return actual is None or actual not in self.value  # type: ignore[operator]
            case "matches":
                return actual is not None and self.value.search(actual) is not None  # type: ignore[union-attr]
            case "exists":
                return bool(actual) == self.value
        number = _number(actual)
        if number is None:
            return False
        limit = float(self.value)  # type: ignore[arg-type]
        return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[self.op]

    def describe(self) -> str:
        value = self.value
        if isinstance(value, re.Pattern):
            shown = repr(value.pattern)
        elif isinstance(value, tuple):
            shown = "[" + ", ".join(value) + "]"
        elif isinstance(value, (bool, float)):
            shown = scalar_text(value)
        else:
            shown = repr(value)
        return f"{self.var} {self.op} {shown}"


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]

    def test(self, scope: Mapping[str, str]) -> bool:
        return all(c.test(scope) for c in self.conditions)

    def describe(self) -> str:
        return "(" + " and ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def test(self, scope: Mapping[str, str]) -> bool:
        return any(c.test(scope) for c in self.conditions)

    def describe(self) -> str:
        return "(" + " or ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True)
class Not:
    condition: Condition

    def test(self, scope: Mapping[str, str]) -> bool:
        return not self.condition.test(scope)

    def describe(self) -> str:
        return f"not {self.condition.describe()}"


def _fail(message: str, raw: object, line: int | None, key: str | None = None) -> SpecError:
    if key is not None and hasattr(raw, "line_of"):
        line = raw.line_of(key)
    else:
        line = line_of(raw, line or 0) or None
    return SpecError(message, line=line, code=ErrorCode.BAD_CONDITION)


def parse_condition(raw: object, line: int | None = None) -> Condition:
    """Parse a condition mapping; raises :class:`SpecError` with the line of the faulty part."""
    if not isinstance(raw, Mapping) or not raw:
        raise _fail("a condition is a mapping such as {var: intent, equals: billing} or {any: [...]}", raw, line)
    line = line_of(raw, line or 0) or line
    combos = [k for k in raw if k in COMBINATIONS]
    if combos:
        key = combos[0]
        if len(raw) != 1:
            raise _fail(f"'{key}' must be alone in its mapping (found {', '.join(sorted(raw))})", raw, line, key)
        value = raw[key]
        if key == "not":
            return Not(parse_condition(value, line))
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            raise _fail(f"'{key}' takes a non-empty list of conditions", raw, line, key)
        parts = tuple(parse_condition(item, _item_line(value, i, line)) for i, item in enumerate(value))
        return AllOf(parts) if key == "all" else AnyOf(parts)
    unknown = [k for k in raw if k != "var" and k not in COMPARISONS]
    if unknown:
        raise _fail(
            f"unknown condition key '{unknown[0]}' (use var with one of {', '.join(COMPARISONS)}, or all/any/not)",
            raw,
            line,
            unknown[0],
        )
    var = raw.get("var")
    if not isinstance(var, str) or not NAME_RE.fullmatch(var):
        raise _fail("a condition needs 'var: name' (lower_case letters, digits, _ or .)", raw, line, "var")
    ops = [k for k in raw if k in COMPARISONS]
    if len(ops) != 1:
        raise _fail(f"a condition tests one thing; found {len(ops)} of {', '.join(COMPARISONS)}", raw, line, "var")
    op = ops[0]
    return Compare(var, op, _operand(op, raw[op], raw, line))


def _item_line(seq: object, index: int, default: int | None) -> int | None:
    return seq.line_of(index) if hasattr(seq, "line_of") else default


def _operand(
    op: str, value: object, raw: object, line: int | None
) -> str | tuple[str, ...] | float | bool | re.Pattern[str]:
    if op in ("equals", "not_equals"):
        if value is None or isinstance(value, (Mapping, list)):
            raise _fail(f"'{op}' takes a single value", raw, line, op)
        return scalar_text(value)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or any(v is None or isinstance(v, (Mapping, list)) for v in value):
            raise _fail(f"'{op}' takes a list of values, e.g. {op}: [gold, platinum]", raw, line, op)
        return tuple(scalar_text(v) for v in value)
    if op == "matches":
        if not isinstance(value, str):
            raise _fail("'matches' takes a regular expression string", raw, line, op)
        try:
            return re.compile(value)
        except re.error as exc:
            raise _fail(f"bad regular expression {value!r}: {exc}", raw, line, op) from None
    if op == "exists":
        if not isinstance(value, bool):
            raise _fail("'exists' takes true or false", raw, line, op)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise _fail(f"'{op}' takes a number", raw, line, op)
    return float(value)
