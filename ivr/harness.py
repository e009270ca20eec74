"""A driver that reads like the script of a call, for tests, the simulator and benchmarks.

::

    transcript = run_call(flow, [dtmf("1"), no_input(), webhook(200, {"vars": {"tier": "gold"}})])

:class:`Session` plays the part of the gateway: it starts the interpreter,
acknowledges every prompt at once (voice: as if each finished playing),
fills in the listen id of ``NoInput`` and keeps the whole transcript: the
scripted events as ``<- ...`` lines and every action as
:func:`ivr.actions.describe` renders it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .actions import Action, Done, Play, Say, describe
from .events import Digits, Disconnected, Event, NoInput, PromptFinished, QueueStatus, Speech, Text, WebhookResult
from .hours import Schedule
from .interpreter import Interpreter
from .model import Channel, Flow

DEFAULT_NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: open in most schedules


def dtmf(keys: str) -> Digits:
    return Digits(keys)


def text(value: str) -> Text:
    return Text(value)


def speech(value: str, confidence: float = 0.9) -> Speech:
    return Speech(value, confidence)


def no_input() -> NoInput:
    return NoInput()


def webhook(status: int | None = 200, body: Any = None, error: str | None = None) -> WebhookResult:
    return WebhookResult(status, body, error)


def hangup() -> Disconnected:
    return Disconnected()


def describe_event(event: Event) -> str:
    match event:
        case Digits(keys):
            return f"<- digits {keys}"
        case Text(value):
            return f"<- text {value!r}"
        case Speech(value, confidence):
            return f"<- speech {value!r} ({confidence:.2f})"
        case NoInput():
            return "<- no-input"
        case WebhookResult(status, body, error):
            return f"<- webhook {error}" if error is not None else f"<- webhook {status} {body!r}"
        case QueueStatus(agents, waiting, wait):
            return f"<- queue {agents} agents, {waiting} waiting, wait {'?' if wait is None else wait}"
        case Disconnected():
            return "<- hangup"
        case PromptFinished(pid):
            return f"<- finished {pid}"
    raise TypeError(f"not an event: {event!r}")


class Session:
    """Drives one :class:`Interpreter` with prompts acknowledged immediately; records a transcript."""

    def __init__(
        self,
        flow: Flow,
        *,
        channel: Channel | str = Channel.VOICE,
        context: Mapping[str, str] | None = None,
        flows: Mapping[str, Flow] | None = None,
        now: datetime = DEFAULT_NOW,
        conversation_id: str = "sim",
        queue_hours: Mapping[str, Schedule | None] | None = None,
    ):
        self.interpreter = Interpreter(
            flow, context, channel=channel, flows=flows, conversation_id=conversation_id, queue_hours=queue_hours
        )
        self.now = now
        self.actions: list[Action] = []
        self.transcript: list[str] = []

    @property
    def done(self) -> Done | None:
        return next((a for a in reversed(self.actions) if isinstance(a, Done)), None)

    def start(self) -> list[Action]:
        return self._settle(self.interpreter.start(self.now))

    def feed(self, event: Event) -> list[Action]:
        """Send one scripted event; returns its actions and those of the acknowledged prompts."""
        if isinstance(event, NoInput) and event.listen_id is None:
            event = NoInput(self.interpreter.listen_id)
        self.transcript.append(describe_event(event))
        return self._settle(self.interpreter.handle(event, self.now))

    def _settle(self, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        pending = list(actions)
        while pending:
            action = pending.pop(0)
            out.append(action)
            self.actions.append(action)
            self.transcript.append(describe(action))
            if isinstance(action, (Say, Play)) and self.interpreter.channel is Channel.VOICE:
                pending.extend(self.interpreter.handle(PromptFinished(action.prompt_id), self.now))
        return out


def run_call(
    flow: Flow,
    script: Iterable[Event],
    *,
    channel: Channel | str = Channel.VOICE,
    context: Mapping[str, str] | None = None,
    flows: Mapping[str, Flow] | None = None,
    now: datetime = DEFAULT_NOW,
) -> list[str]:
    """Run a whole call and return its transcript; events after the flow ended are still listed."""
    session = Session(flow, channel=channel, context=context, flows=flows, now=now)
    session.start()
    for event in script:
        session.feed(event)
    return session.transcript
