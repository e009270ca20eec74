"""Business hours of ``hours`` nodes: weekly opening ranges in a time zone, and holidays.

::

    timezone: America/New_York
    schedule:
      mon-fri: "08:00-20:00"            # a range of days, inclusive
      sat: "10:00-12:00, 13:00-16:00"   # several ranges in one day
      "sat,sun": ...                    # a list of days (quote it in YAML)
    holidays: ["2026-11-26", "12-25"]   # a date, or MM-DD for every year

Ranges are ``HH:MM-HH:MM`` with the end after the start (``24:00`` is
allowed as an end); split an overnight range across two days. A day that is
not listed is closed. Whether it is open is decided from the ``now`` given to
the interpreter, converted to the node's time zone: nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ErrorCode, SpecError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Schedule:
    """Opening hours: per weekday (Monday first) a tuple of (start, end) minutes since midnight."""

    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def check(self, now: datetime) -> tuple[bool, str]:
        """Whether it is open at ``now`` (timezone-aware) and a short explanation for the timeline."""
        local = now.astimezone(self.zone)
        stamp = f"{DAYS[local.weekday()].title()} {local:%Y-%m-%d %H:%M} {self.timezone}"
        if local.date() in self.holidays or (local.month, local.day) in self.yearly_holidays:
            return False, f"holiday, {stamp}"
        minute = local.hour * 60 + local.minute
        for start, end in self.week[local.weekday()]:
            if start <= minute < end:
                return True, stamp
        return False, stamp


def _fail(message: str, line: int | None) -> SpecError:
    return SpecError(message, line=line, code=ErrorCode.BAD_HOURS)


def parse_timezone(name: object, line: int | None) -> str:
    if not isinstance(name, str) or not name:
        raise _fail("timezone must be an IANA name such as Europe/Paris", line)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            f"unknown timezone '{name}' (use an IANA name such as Europe/Paris or America/New_York)", line
        ) from None
    return name


def parse_days(spec: str, line: int | None) -> list[int]:
    """``mon-fri`` / ``sat`` / ``sat,sun`` / ``fri-mon`` -> weekday numbers (Monday = 0)."""
    days: list[int] = []
    for part in spec.lower().split(","):
        part = part.strip()
        ends = [p.strip() for p in part.split("-")]
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise _fail(
                f"bad days '{spec}': use mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, "
                f"or a list like sat,sun",
                line,
            )
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        day = first
        while True:
            days.append(day)
            if day == last:
                break
            day = (day + 1) % 7
    return days


def parse_ranges(value: object, line: int | None) -> list[tuple[int, int]]:
    """``"09:00-12:00, 13:00-17:00"`` (or a list of such strings) -> minute ranges."""
    if isinstance(value, str):
        items = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise _fail('opening hours are a string like "09:00-17:00" (quote it in YAML)', line)
    ranges: list[tuple[int, int]] = []
    for item in items:
        match = _RANGE_RE.match(item)
        if match is None:
            raise _fail(f'bad time range {item.strip()!r}: use "HH:MM-HH:MM", e.g. "09:00-17:00"', line)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise _fail(f"bad time in range {item.strip()!r}", line)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise _fail(f"range {item.strip()!r} ends before it starts (split overnight hours across two days)", line)
        ranges.append((start, end))
    if not ranges:
        raise _fail("empty opening hours (leave the day out to keep it closed)", line)
    return ranges


def parse_holiday(value: object, line: int | None) -> date | tuple[int, int]:
    """``2026-12-25`` -> that date; ``12-25`` -> (12, 25), every year."""
    text = str(value).strip() if isinstance(value, (str, date)) else ""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"\d{2}-\d{2}", text):
            month, day = int(text[:2]), int(text[3:])
            date(2024, month, day)  # a leap year accepts 02-29
            return (month, day)
    except ValueError:
        pass
    raise _fail(f"bad holiday {value!r}: use YYYY-MM-DD, or MM-DD for every year", line)


def parse_schedule(timezone: object, schedule: object, holidays: object, *, lines: Mapping[str, int]) -> Schedule:
    """Build a :class:`Schedule`; ``lines`` maps 'timezone', 'schedule', 'holidays' and each day key to lines."""
    tz = parse_timezone(timezone, lines.get("timezone"))
    if not isinstance(schedule, Mapping) or not schedule:
        raise _fail('schedule is a mapping of days to hours, e.g. {mon-fri: "09:00-17:00"}', lines.get("schedule"))
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    key_line = getattr(schedule, "line_of", None)
    for key, value in schedule.items():
        line = key_line(key) if key_line else lines.get("schedule")
        ranges = parse_ranges(value, line)
        for day in parse_days(str(key), line):
            week[day].extend(ranges)
    fixed: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    if holidays is not None:
        if not isinstance(holidays, list):
            raise _fail("holidays is a list of dates", lines.get("holidays"))
        item_line = getattr(holidays, "line_of", None)
        for index, item in enumerate(holidays):
            parsed = parse_holiday(item, item_line(index) if item_line else lines.get("holidays"))
            if isinstance(parsed, date):
                fixed.add(parsed)
            else:
                yearly.add(parsed)
    return Schedule(tz, tuple(tuple(sorted(day)) for day in week), frozenset(fixed), frozenset(yearly))


def next_time(now: datetime, hh_mm: str, timezone: str) -> datetime:
    """The next ``HH:MM`` in ``timezone`` after ``now``: today, or tomorrow once it is past."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    at = time(int(hh_mm[:2]), int(hh_mm[3:5]))
    due = datetime.combine(local.date(), at, zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return due
