"""What a test call did, told on one timeline: for the message of a wait that timed out.

A :class:`~tests.support.caller.Caller` that waited in vain for a prompt says
what it heard (the stretches of sound, in seconds of its recording), what it
did itself (keys, speech), and, when it knows the gateway's store, the
conversation's timeline (IVR steps and the rest) and the gateway's log lines
of the call, both placed on the recording's clock. So a failure on a loaded
CI machine shows whether the answer was lost, misheard, cut or just late.

The gateway of these tests runs in the test's process: :func:`gateway_log`
collects its ``gateway``, ``media`` and ``ivr`` log records at INFO while a
call is up (and sets those loggers back after).
"""

from __future__ import annotations

import bisect
import json
import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from media.loopback import ReceivedFrame

LOGGERS = ("gateway", "media", "ivr")
MAX_LOG_LINES = 60  # the newest; older lines are counted, not shown
MAX_LINE = 240


@dataclass(frozen=True)
class Did:
    """Something the caller did: ``at`` seconds of its recording, ``what`` in words."""

    at: float
    what: str


class LogTail(logging.Handler):
    """The newest log records of the gateway's loggers: (wall time, logger, message)."""

    def __init__(self, keep: int = 400) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[tuple[float, str, str]] = deque(maxlen=keep)
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        self.lines.append((record.created, record.name, record.getMessage()))


@contextmanager
def gateway_log() -> Iterator[LogTail]:
    """Collect the in-process gateway's INFO records until the block ends (logger levels restored then)."""
    tail = LogTail()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
        logger.addHandler(tail)
    try:
        yield tail
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(tail)
            logger.setLevel(level)


class RecordingClock:
    """Wall-clock times to seconds of the caller's recording, from when its frames arrived."""

    def __init__(self, frames: Sequence[ReceivedFrame], sample_rate: int) -> None:
        self._arrived = [f.arrived for f in frames]
        self._offsets = [f.offset for f in frames]
        self._rate = sample_rate
        self._wall_minus_monotonic = time.time() - time.monotonic()

    def at(self, wall: float) -> float | None:
        """Where ``wall`` (time.time seconds) falls in the recording (None: before its first frame)."""
        mono = wall - self._wall_minus_monotonic
        i = bisect.bisect_right(self._arrived, mono) - 1
        if i < 0:
            return None
        return self._offsets[i] / self._rate + (mono - self._arrived[i])


def _when(clock: RecordingClock, wall: float) -> str:
    t = clock.at(wall)
    return "  (before)" if t is None else f"{t:8.2f}"


def _event_line(event: dict[str, Any]) -> str:
    if event.get("type") == "ivr":
        return f"ivr {event.get('kind')} {event.get('node')}: {event.get('detail')}"
    rest = {k: v for k, v in event.items() if k not in ("id", "ts", "type", "conversation_id")}
    return f"{event.get('type')} {json.dumps(rest, default=str)}"


def describe(
    *,
    segments: Sequence[tuple[float, float]],
    recorded: float,
    did: Sequence[Did],
    frames: Sequence[ReceivedFrame],
    sample_rate: int,
    events: Sequence[dict[str, Any]] | str | None,
    log: LogTail | None,
    since: float,
) -> str:
    """The call so far, as lines: heard, did, the gateway's timeline and log (``since``: wall time the call began)."""
    clock = RecordingClock(frames, sample_rate)
    lines = [f"recorded {recorded:.2f} s; heard (seconds of recording, gaps under 200 ms bridged):"]
    lines.append("  " + (", ".join(f"{s:.2f}-{e:.2f}" for s, e in segments) or "nothing"))
    lines.append("the caller: " + ("; ".join(f"{d.at:.2f} {d.what}" for d in did) or "did nothing"))
    if events is None:
        lines.append("the gateway's timeline: not known (no store given to the caller)")
    elif isinstance(events, str):
        lines.append(f"the gateway's timeline: {events}")
    else:
        lines.append(f"the gateway's timeline ({len(events)} events; approx. seconds of recording):")
        lines += [f"  {_when(clock, e['ts'] / 1000)} {_event_line(e)}"[:MAX_LINE] for e in events]
    if log is not None:
        mine = [line for line in log.lines if line[0] >= since]
        shown = mine[-MAX_LOG_LINES:]
        more = f", the first {len(mine) - len(shown)} left out" if len(mine) > len(shown) else ""
        lines.append(f"the gateway's log since the call began ({len(mine)} lines{more}; approx. seconds of recording):")
        lines += [f"  {_when(clock, created)} {name}: {message}"[:MAX_LINE] for created, name, message in shown]
    return "\n".join(lines)
