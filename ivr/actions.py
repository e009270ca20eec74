"""What the interpreter asks the driver to do, and the timeline records it produces.

:meth:`ivr.interpreter.Interpreter.start` and ``handle`` return a list of
these, in order. The driver executes them in order:

* ``Say`` / ``Play`` queue a prompt (voice: text to speech or an audio file;
  chat: ``Say`` is a bot message, ``Play`` has no chat form and is never sent
  to chat). On voice, report each finished prompt with ``PromptFinished``.
* ``StopPrompts`` cuts the queued and playing prompts (a barge-in happened).
* ``Listen`` opens an input window. Input may arrive at once when the queued
  prompts allow barge-in; the ``no_input_timeout`` timer starts when the
  prompts queued before it have finished (chat: at once; ``None`` = no timer).
  After the first key use ``inter_digit_timeout`` instead. A timer that fires
  is reported as ``NoInput(listen_id)``. Every ``Listen`` is closed by exactly
  one ``StopListening`` with its id (chat: remove the buttons).
* ``CheckQueue`` asks how a queue stands now; report it with ``QueueStatus``.
* ``CallWebhook`` makes the HTTP request (``timeout`` is the driver's job) and
  reports ``WebhookResult``.
* ``SetVars`` updates the conversation context; ``Enqueue`` hands the
  conversation to routing; ``RequestCallback`` books a callback (the flow goes
  on: typically a confirmation and a hang-up); ``Hangup`` ends the call (chat: closes the bot
  conversation).
* ``Step`` is a record for the conversation timeline (node entered, prompt,
  input, choice, no-input, no-match, variable set, webhook result, ...).
  Every other action that matters has a ``Step`` too, so the timeline can be
  built from the steps alone. ``Done`` is always the last action of a flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


class StepKind(StrEnum):
    ENTER = "enter"  # node entered (detail: its type)
    PROMPT = "prompt"  # prompt played or posted (detail: the text, or the audio file)
    INPUT = "input"  # input received (detail: "digits 12#", "text 'billing'", "speech 'billing' 0.91")
    CHOICE = "choice"  # menu choice taken
    NO_INPUT = "no_input"  # the listen window timed out
    NO_MATCH = "no_match"  # the input matched nothing / was invalid / low confidence
    FALLBACK = "fallback"  # retries used up
    SKIP = "skip"  # a question skipped because its variable is known
    KEYS_ONLY = "keys_only"  # spoken answers failed too often: the question now takes keys only
    CONFIRM = "confirm"  # an answer read back (detail: "4271?"), then "4271 confirmed" or "4271 rejected"
    SET = "set"  # variable set (detail: "name=value")
    BRANCH = "branch"  # branch decision
    HOURS = "hours"  # open/closed decision
    WEBHOOK = "webhook"  # webhook called, and its result
    GOTO = "goto"  # jump or call to another flow
    RETURN = "return"  # back from a sub-flow
    QUEUE = "queue"  # handed to routing
    CALLBACK = "callback"  # a callback booked (detail: when, queue)
    QUEUE_STATUS = "queue_status"  # a queue looked at (detail: agents available, waiting, expected wait)
    HANGUP = "hangup"  # the flow hangs up
    IGNORED = "ignored"  # an event that did not apply now
    ERROR = "error"  # the flow cannot go on (loop guard, missing flow, ...)


@dataclass(frozen=True)
class Say:
    prompt_id: str
    text: str
    voice: str | None = None
    language: str | None = None
    rate: float = 1.0
    barge_in: bool = True


@dataclass(frozen=True)
class Play:
    prompt_id: str
    path: str
    barge_in: bool = True
    #: What the recording says, as text (the prompt's ``say``, else its ``chat``; "" when it has neither): the
    #: caption a caller's widget shows while it plays. Never spoken.
    text: str = ""


@dataclass(frozen=True)
class StopPrompts:
    """Cut the prompts queued or playing (the caller barged in)."""


@dataclass(frozen=True)
class ListenChoice:
    """A menu choice as the channel shows it: a DTMF key / chat button with its label and words."""

    key: str
    label: str
    words: tuple[str, ...] = ()


class ListenMode(StrEnum):
    MENU = "menu"  # the first key, a button, or a word picks a choice
    DIGITS = "digits"  # collect keys up to max_digits or the terminator (chat: a typed number)


@dataclass(frozen=True)
class Listen:
    listen_id: str
    mode: ListenMode
    no_input_timeout: float | None
    max_digits: int = 1
    min_digits: int = 1
    terminator: str = ""
    inter_digit_timeout: float | None = None
    choices: tuple[ListenChoice, ...] = ()
    speech_hints: tuple[str, ...] = ()
    #: The answer will be read back and confirmed before it is taken, so a speech recognizer may accept it
    #: at its lower, confirmed operating point (``SpeechEngine.confirm_confidence``).
    confirm: bool = False
    #: Listen for speech too (False: keys only, e.g. after repeated speech failures; chat ignores it).
    speech: bool = True


@dataclass(frozen=True)
class StopListening:
    listen_id: str


@dataclass(frozen=True)
class CallWebhook:
    """POST (JSON body) or GET (``payload['vars']`` as query parameters) the admin's URL."""

    url: str
    method: str
    payload: dict[str, object]
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckQueue:
    queue: str


@dataclass(frozen=True)
class SetVars:
    values: dict[str, str]


@dataclass(frozen=True)
class Enqueue:
    queue: str
    priority: int = 0
    skills: tuple[str, ...] = ()
    vars: dict[str, str] = field(default_factory=dict)
    record: bool = False
    transcribe: bool = False


@dataclass(frozen=True)
class RequestCallback:
    """Book a callback in ``queue``: ``due`` None = as soon as possible (keeping the caller's place)."""

    queue: str
    due: datetime | None
    label: str
    priority: int = 0
    skills: tuple[str, ...] = ()
    phone: str = ""
    attempts: int = 3
    retry_after: float = 600.0
    expire_after: float = 86400.0
    #: Which of attempts / retry_after / expire_after the flow set itself (the gateway takes the others from the
    #: queue's callback policy).
    explicit: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hangup:
    reason: str


@dataclass(frozen=True)
class Step:
    kind: StepKind
    node: str
    detail: str = ""
    flow: str = ""
    #: The driver's events this step is the outcome of, as :func:`ivr.replay.event_record` writes them (the flow's
    #: start, keys, words, no-inputs, webhook answers, ...): what a replay feeds a draft (ivr/replay.py).
    inputs: tuple[dict[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Done:
    """The flow is over (queued, hung up, caller gone, loop, error); later events are ignored."""

    reason: str


Action = (
    Say
    | Play
    | StopPrompts
    | Listen
    | StopListening
    | CallWebhook
    | CheckQueue
    | SetVars
    | Enqueue
    | RequestCallback
    | Hangup
    | Step
    | Done
)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:g}s"


def describe(action: Action) -> str:
    """One line for transcripts and tests, e.g. ``say p1: Hello`` or ``step enter menu: menu``."""
    match action:
        case Step(kind, node, detail, _):
            return f"step {kind} {node}" + (f": {detail}" if detail else "")
        case Say(pid, text, _, _, _, barge_in):
            return f"say {pid}: {text}" + ("" if barge_in else " [no barge-in]")
        case Play(pid, path, barge_in, _):
            return f"play {pid}: {Path(path).name}" + ("" if barge_in else " [no barge-in]")
        case StopPrompts():
            return "stop-prompts"
        case Listen():
            if action.mode is ListenMode.MENU:
                what = "choices " + " ".join(f"{c.key}={c.label}" for c in action.choices)
            else:
                what = f"digits {action.min_digits}-{action.max_digits}"
                what += f" term {action.terminator}" if action.terminator else ""
                what += f" inter-digit {_seconds(action.inter_digit_timeout)}"
            what += " confirm" if action.confirm else ""
            what += "" if action.speech else " keys-only"
            return f"listen {action.listen_id}: {what} timeout {_seconds(action.no_input_timeout)}"
        case StopListening(lid):
            return f"stop-listening {lid}"
        case CallWebhook(url, method, _, timeout, _):
            return f"webhook {method} {url} timeout {_seconds(timeout)}"
        case CheckQueue(queue):
            return f"check-queue {queue}"
        case SetVars(values):
            return "set " + " ".join(f"{k}={v}" for k, v in values.items())
        case Enqueue(queue, priority, skills, _, record, _):
            return (
                f"enqueue {queue} priority {priority}"
                + (f" skills {','.join(skills)}" if skills else "")
                + (" recorded" if record else "")
            )
        case RequestCallback(queue, due, label):
            when = "asap" if due is None else due.isoformat(timespec="minutes")
            return f"callback {queue} {when} ({label})" + (f" phone {action.phone}" if action.phone else "")
        case Hangup(reason):
            return f"hangup {reason}"
        case Done(reason):
            return f"done {reason}"
    raise TypeError(f"not an action: {action!r}")
