"""What the driver tells the interpreter: inputs from the customer and results of actions.

The driver (the gateway's voice or chat channel, the simulator, a test) turns
media and network happenings into these frozen dataclasses and passes them to
:meth:`ivr.interpreter.Interpreter.handle`. Nothing here carries a clock: the
driver runs the timers (no-input, inter-digit, webhook timeout) and reports
their expiry as events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PromptFinished:
    """A ``Say`` or ``Play`` with this id finished playing (voice only; chat needs none)."""

    prompt_id: str


@dataclass(frozen=True)
class Digits:
    """One or more DTMF keys, in order, as they arrive (``"1"``, or ``"1234#"`` at once)."""

    digits: str


@dataclass(frozen=True)
class Text:
    """Typed text or a pressed button's value (chat)."""

    text: str


@dataclass(frozen=True)
class Speech:
    """A speech recognition result; below the node's ``min_confidence`` it counts as a no-match.

    ``text`` is what the recognizer matched in the window's grammar (a phrase, or the digits of a spoken
    number); ``""`` when the caller said something the recognizer could not match (out of grammar, too
    unsure, too long): a no-match, never a route, and ``reason`` says why (e.g. ``low_confidence``).
    ``heard`` is the recognizer's raw guess, for the timeline; with a grammar it is always some allowed
    phrase, so it means little when the reason is low confidence.
    ``unsure``: the recognizer took ``text`` only at its lower, confirmed operating point (a window opened with
    ``Listen.confirm``): an answer to confirm with the caller, never to take as heard.
    """

    text: str
    confidence: float = 1.0
    heard: str = ""
    reason: str = ""
    unsure: bool = False


@dataclass(frozen=True)
class NoInput:
    """The listen window timed out: no input within ``no_input_timeout``, or no further key within
    ``inter_digit_timeout``. ``listen_id`` (recommended) lets a late timer of an old window be ignored."""

    listen_id: str | None = None


@dataclass(frozen=True)
class WebhookResult:
    """The answer to a ``CallWebhook``.

    ``status`` and the parsed JSON ``body`` when the server answered (``body``
    None for an empty body); ``error`` (e.g. ``"timeout"``, ``"connection
    refused"``, ``"invalid JSON"``) when there is no usable answer.
    """

    status: int | None = None
    body: Any = None
    error: str | None = None


@dataclass(frozen=True)
class QueueStatus:
    """The answer to a ``CheckQueue``: agents free to take the conversation now, conversations waiting, and
    the expected wait in seconds (None: no history to estimate from, or no agent available to take it)."""

    agents_available: int
    waiting: int
    wait_seconds: int | None = None


@dataclass(frozen=True)
class Disconnected:
    """The caller hung up, or the chat customer left: the flow ends without a ``Hangup`` action."""


Event = PromptFinished | Digits | Text | Speech | NoInput | WebhookResult | QueueStatus | Disconnected


#: How big a webhook answer may be to be kept whole on the timeline (bigger: kept as ``truncated``, not replayable).
MAX_RECORDED_BODY = 8192


def event_record(event: Event) -> dict[str, Any]:
    """The event as a JSON object for the timeline (the ``inputs`` of a flow step), so a replay can feed it again
    (:func:`event_from_record`). A webhook answer over :data:`MAX_RECORDED_BODY` is kept as ``truncated``."""
    match event:
        case Digits(digits):
            return {"type": "digits", "digits": digits}
        case Text(text):
            return {"type": "text", "text": text}
        case Speech(text, confidence, heard, reason, unsure):
            record = {"type": "speech", "text": text, "confidence": confidence, "heard": heard, "reason": reason}
            return record | {"unsure": True} if unsure else record
        case NoInput():
            return {"type": "no_input"}
        case WebhookResult(status, body, error):
            try:
                size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
            except (TypeError, ValueError):
                size = MAX_RECORDED_BODY + 1
            if size > MAX_RECORDED_BODY:
                return {"type": "webhook", "status": status, "error": error, "truncated": True}
            return {"type": "webhook", "status": status, "body": body, "error": error}
        case QueueStatus(agents, waiting, wait):
            return {"type": "queue", "agents_available": agents, "waiting": waiting, "wait_seconds": wait}
        case Disconnected():
            return {"type": "hangup"}
        case PromptFinished(prompt_id):
            return {"type": "prompt_finished", "prompt_id": prompt_id}
    raise TypeError(f"not an event: {event!r}")


class NotReplayable(ValueError):
    """A recorded input that cannot be fed again exactly (a webhook answer too big to keep, an unknown type)."""


def event_from_record(record: dict[str, Any]) -> Event:
    """The event :func:`event_record` wrote (a no-input is for whatever window is open when it is fed)."""
    try:
        match record["type"]:
            case "digits":
                return Digits(str(record["digits"]))
            case "text":
                return Text(str(record["text"]))
            case "speech":
                return Speech(
                    str(record["text"]),
                    float(record.get("confidence", 1.0)),
                    str(record.get("heard", "")),
                    str(record.get("reason", "")),
                    record.get("unsure") is True,
                )
            case "no_input":
                return NoInput()
            case "webhook":
                if record.get("truncated"):
                    raise NotReplayable("the webhook's answer was too big to keep on the timeline")
                return WebhookResult(record.get("status"), record.get("body"), record.get("error"))
            case "queue":
                return QueueStatus(int(record["agents_available"]), int(record["waiting"]), record.get("wait_seconds"))
            case "hangup":
                return Disconnected()
            case "prompt_finished":
                return PromptFinished(str(record["prompt_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, NotReplayable):
            raise
        raise NotReplayable(f"a recorded input is malformed: {exc}") from None
    raise NotReplayable(f"unknown recorded input {str(record.get('type'))[:40]!r}")
