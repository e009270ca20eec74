"""The interpreter's state and plumbing: timeline steps, variables, prompts and the node loop.

:class:`Machine` holds everything one conversation's interpreter remembers
between two events and the small operations every node uses (record a step,
set variables, play prompts and wait for them, end the flow).
:class:`ivr.questions.Questions` adds menus and gathers on top of it, and
:class:`ivr.interpreter.Interpreter` the other nodes and the public API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .actions import (
    Action,
    Done,
    Hangup,
    Play,
    Say,
    SetVars,
    Step,
    StepKind,
    StopListening,
)
from .hours import Schedule
from .model import (
    QUEUE_NAME_RE,
    Channel,
    Choice,
    Flow,
    Node,
    Prompt,
)
from .template import Template

MAX_STEPS_WITHOUT_INPUT = 100
MAX_VAR_CHARS = 1000

Continuation = Callable[[], "str | None"]


class Waiting(StrEnum):
    """What the interpreter waits for between two calls."""

    NOTHING = "nothing"  # not started
    PROMPTS = "prompts"  # the prompts of a say/play/hangup/queue node to finish (voice)
    INPUT = "input"  # an answer to a menu or gather
    WEBHOOK = "webhook"  # a WebhookResult
    QUEUE = "queue"  # a QueueStatus
    DONE = "done"  # the flow is over


class Machine:
    """The state of one conversation in a flow, and the operations every node uses (see :class:`Interpreter`)."""

    def __init__(
        self,
        flow: Flow,
        context: Mapping[str, str] | None = None,
        *,
        channel: Channel | str = Channel.VOICE,
        flows: Mapping[str, Flow] | None = None,
        conversation_id: str = "",
        max_steps: int = MAX_STEPS_WITHOUT_INPUT,
        queue_hours: Mapping[str, Schedule | None] | None = None,
    ):
        self._flow = flow
        #: The opening hours of the gateway's queues (None: a queue that is always open), for ``hours`` nodes
        #: that name a queue; taken when the call or chat starts.
        self._queue_hours: Mapping[str, Schedule | None] = dict(queue_hours or {})
        self._flows: dict[str, Flow] = dict(flows or {})
        self._flows[flow.name] = flow
        self._context: dict[str, str] = dict(context or {})
        self._channel = Channel(channel)
        self._conversation_id = conversation_id
        self._max_steps = max_steps
        self._out: list[Action] = []
        self._node: Node | None = None
        self._waiting = Waiting.NOTHING
        self._stack: list[tuple[Flow, str]] = []
        self._prompt_seq = 0
        self._listen_seq = 0
        self._playing: dict[str, bool] = {}  # voice prompts not yet finished: id -> barge_in
        self._continuation: Continuation | None = None
        self._listen_id: str | None = None
        self._failures = 0  # of the question asked now: every no-match and no-input
        self._no_matches = 0
        self._no_inputs = 0
        self._speech_failures = 0  # spoken answers that could not be used
        self._keys_only = False  # speech is off for the question asked now (too many speech failures)
        self._digits = ""
        self._confirming: str | None = None  # an answer asked back ({{ answer }}), waiting for yes or no
        self._confirming_choice: Choice | None = None  # a menu's: the choice taken on yes
        self._steps = 0
        self._now: datetime | None = None
        self._inputs: list[dict[str, Any]] = []  # events not yet on a step (ivr/replay.py feeds them again)

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _begin(self, now: datetime) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        self._now = now
        self._out = []

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _scope(self) -> Mapping[str, str]:
        extra = {"answer": self._confirming} if self._confirming is not None else {}
        return {**self._context, "channel": self._channel.value, **extra}

    def _step(self, kind: StepKind, detail: str = "") -> None:
        node = self._node.name if self._node is not None else ""
        inputs, self._inputs = tuple(self._inputs), []
        self._out.append(Step(kind, node, detail, self._flow.name, inputs))

    def _finish(self, reason: str) -> None:
        self._waiting = Waiting.DONE
        self._continuation = None
        self._out.append(Done(reason))

    def _fail(self, detail: str, reason: str = "error") -> None:
        self._step(StepKind.ERROR, detail)
        self._close_listen()
        self._out.append(Hangup(reason))
        self._finish(reason)

    def _set(self, values: Mapping[str, str]) -> None:
        if not values:
            return
        self._context.update(values)
        self._out.append(SetVars(dict(values)))
        for name, value in values.items():
            self._step(StepKind.SET, f"{name}={value}")

    def _render(self, template: Template) -> str:
        return template.render(self._scope())

    def _queue_name(self, template: Template) -> str | None:
        """The queue a node names, rendered (a template may take it from what the caller said); a name outside the
        rule (ivr/model.py QUEUE_NAME_RE) fails the flow: it would become a report key, a wallboard row, a CSV cell."""
        queue = self._render(template).strip()
        if not queue:
            self._fail(f"queue name {template.source!r} is empty")
            return None
        if not QUEUE_NAME_RE.fullmatch(queue):
            self._fail(
                f"queue name {queue[:60]!r} (from {template.source!r}) is not a queue name: letters, digits, _ and -, "
                "at most 40"
            )
            return None
        return queue

    def _run(self, target: str | None) -> None:
        """Enter nodes until one waits for an event or the flow ends."""
        while target is not None and self._waiting is not Waiting.DONE:
            self._steps += 1
            if self._steps > self._max_steps:
                self._fail(f"loop: more than {self._max_steps} steps without input from the caller", "loop")
                return
            node = self._flow.nodes[target]
            self._node = node
            self._waiting = Waiting.NOTHING
            self._step(StepKind.ENTER, node.kind.value)
            target = self._enter(node)

    def _enter(self, node: Node) -> str | None:
        """Do what ``node`` does; returns the next node to enter, or None to wait for an event."""
        raise NotImplementedError

    # -- prompts -----------------------------------------------------------------------------------------------

    def _play(self, prompts: tuple[Prompt, ...]) -> None:
        defaults = self._flow.defaults
        for prompt in prompts:
            if self._channel is Channel.VOICE and prompt.play is not None:
                self._prompt_seq += 1
                pid = f"p{self._prompt_seq}"
                self._step(StepKind.PROMPT, f"audio {Path(prompt.play).name}")
                said = prompt.say if prompt.say is not None else prompt.chat  # the recording's words, as text
                caption = self._render(said).strip() if said is not None else ""
                self._out.append(Play(pid, prompt.play, prompt.barge_in, caption))
                self._playing[pid] = prompt.barge_in
                continue
            template = prompt.chat if self._channel is Channel.CHAT and prompt.chat is not None else prompt.say
            text = self._render(template).strip() if template is not None else ""
            if not text:
                continue
            self._prompt_seq += 1
            pid = f"p{self._prompt_seq}"
            self._step(StepKind.PROMPT, text)
            self._out.append(
                Say(
                    pid,
                    text,
                    prompt.voice or defaults.voice,
                    prompt.language or defaults.language,
                    prompt.rate if prompt.rate is not None else defaults.rate,
                    prompt.barge_in,
                )
            )
            if self._channel is Channel.VOICE:
                self._playing[pid] = prompt.barge_in

    def _after_prompts(self, continuation: Continuation) -> str | None:
        """Go on at once, or (voice) once the prompts now playing have finished."""
        if self._playing:
            self._waiting = Waiting.PROMPTS
            self._continuation = continuation
            return None
        return continuation()

    def _on_prompt_finished(self, prompt_id: str) -> None:
        if self._playing.pop(prompt_id, None) is None:
            return  # cut by a barge-in, or not ours
        if self._waiting is Waiting.PROMPTS and not self._playing and self._continuation is not None:
            continuation, self._continuation = self._continuation, None
            self._waiting = Waiting.NOTHING
            self._run(continuation())

    def _close_listen(self) -> None:
        if self._listen_id is not None:
            self._out.append(StopListening(self._listen_id))
            self._listen_id = None
