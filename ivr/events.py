"""What the driver tells the interpreter: inputs from the customer and results of actions.

The driver (the gateway's voice or chat channel, the simulator, a test) turns
media and network happenings into these frozen dataclasses and passes them to
:meth:`ivr.interpreter.Interpreter.handle`. Nothing here carries a clock: the
driver runs the timers (no-input, inter-digit, webhook timeout) and reports
their expiry as events.
"""

from __future__ import annotations

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
    """

    text: str
    confidence: float = 1.0
    heard: str = ""
    reason: str = ""


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
    the expected wait in seconds (None: no history to estimate from)."""

    agents_available: int
    waiting: int
    wait_seconds: int | None = None


@dataclass(frozen=True)
class Disconnected:
    """The caller hung up, or the chat customer left: the flow ends without a ``Hangup`` action."""


Event = PromptFinished | Digits | Text | Speech | NoInput | WebhookResult | QueueStatus | Disconnected
