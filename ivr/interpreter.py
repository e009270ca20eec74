"""The flow interpreter: a state machine from events to actions, with no audio, network or clock.

::

    interp = Interpreter(flow, context, channel=Channel.VOICE, flows=registry.snapshot(),
                         conversation_id="c-42")
    actions = interp.start(now)                 # enter the start node
    actions = interp.handle(Digits("1"), now)   # and so on, until a Done action

The driver executes the returned actions in order (see :mod:`ivr.actions`)
and feeds back events (see :mod:`ivr.events`): prompt finished, keys, text,
speech, no-input timer expired, webhook result, caller gone. ``now`` is only
read by ``hours`` nodes.

Voice and chat differ in two places only. On voice a ``say``/``play`` node
waits for ``PromptFinished`` of its prompts before moving on, input during a
prompt without barge-in is ignored, and input during a barge-in prompt first
emits ``StopPrompts``. On chat prompts are messages that need no
acknowledgement, menus become buttons, and audio-only prompts are skipped.

Guards: more than ``max_steps`` node transitions without caller input ends
the flow with ``Hangup("loop")``; sub-flow calls nest at most
:data:`MAX_CALL_DEPTH` deep; a ``goto`` to a flow that is not available ends
the flow with ``Hangup("error")``. Every decision is recorded as a ``Step``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from . import readback, trust
from .actions import (
    Action,
    CallWebhook,
    CheckQueue,
    Done,
    Enqueue,
    Hangup,
    Listen,
    ListenChoice,
    ListenMode,
    Play,
    RequestCallback,
    Say,
    SetVars,
    Step,
    StepKind,
    StopListening,
    StopPrompts,
)
from .conditions import scalar_text
from .events import (
    Digits,
    Disconnected,
    Event,
    NoInput,
    PromptFinished,
    QueueStatus,
    Speech,
    Text,
    WebhookResult,
    event_record,
)
from .hours import Schedule, next_time
from .matching import digits_of, match_key, match_known, match_text, spoken_phrases
from .model import (
    ASAP,
    BranchNode,
    CallbackNode,
    Channel,
    Choice,
    Confirm,
    Flow,
    GatherNode,
    GotoNode,
    HangupNode,
    HoursNode,
    MenuNode,
    Node,
    PlayNode,
    Prompt,
    QueueNode,
    QueueStatusNode,
    ReturnNode,
    SayNode,
    SetNode,
    WebhookNode,
)
from .template import NAME_RE, Template

MAX_STEPS_WITHOUT_INPUT = 100
MAX_CALL_DEPTH = 8
MAX_VAR_CHARS = 1000
DTMF_KEYS = frozenset("0123456789*#ABCD")

Continuation = Callable[[], "str | None"]


class Waiting(StrEnum):
    """What the interpreter waits for between two calls."""

    NOTHING = "nothing"  # not started
    PROMPTS = "prompts"  # the prompts of a say/play/hangup/queue node to finish (voice)
    INPUT = "input"  # an answer to a menu or gather
    WEBHOOK = "webhook"  # a WebhookResult
    QUEUE = "queue"  # a QueueStatus
    DONE = "done"  # the flow is over


def _describe_input(event: Digits | Text | Speech) -> str:
    if isinstance(event, Digits):
        return f"digits {event.digits}"
    if isinstance(event, Text):
        return f"text {event.text!r}"
    if not event.text:
        why = f": {event.reason.replace('_', ' ')}" if event.reason else ""
        guess = f" (best guess {event.heard!r} at {event.confidence:.2f})" if event.heard else ""
        return f"speech not understood{why}{guess}"
    return f"speech {event.text!r} ({event.confidence:.2f})"


class Interpreter:
    """Runs one conversation through a flow. Not thread-safe; one instance per conversation.

    ``context`` is copied: read the current variables with :attr:`context`;
    every change is also announced with a ``SetVars`` action. ``flows`` are the
    flows ``goto`` may enter (take :meth:`ivr.registry.FlowRegistry.snapshot`
    when the call starts so the call keeps those versions); ``flow`` itself is
    always available under its own name.
    """

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
        self._failures = 0
        self._digits = ""
        self._confirming: str | None = None  # a gather's answer read back, waiting for yes or no
        self._steps = 0
        self._now: datetime | None = None
        self._inputs: list[dict[str, Any]] = []  # events not yet on a step (ivr/replay.py feeds them again)

    # -- public ------------------------------------------------------------------------------------------------

    @property
    def flow(self) -> Flow:
        """The flow being run now (another one after a ``goto``)."""
        return self._flow

    @property
    def node(self) -> str | None:
        return self._node.name if self._node is not None else None

    @property
    def channel(self) -> Channel:
        return self._channel

    @property
    def context(self) -> Mapping[str, str]:
        """A read-only view of the conversation variables."""
        return MappingProxyType(self._context)

    @property
    def waiting(self) -> Waiting:
        return self._waiting

    @property
    def done(self) -> bool:
        return self._waiting is Waiting.DONE

    @property
    def listen_id(self) -> str | None:
        """The id of the open input window, if any."""
        return self._listen_id

    def start(self, now: datetime) -> list[Action]:
        """Enter the start node; returns the first actions."""
        if self._waiting is not Waiting.NOTHING or self._node is not None:
            raise RuntimeError("the interpreter has already started")
        self._begin(now)
        start = {"type": "start", "context": dict(self._context), "channel": self._channel.value}
        self._inputs.append({**start, "version": self._flow.version})
        self._run(self._flow.start)
        return self._flush()

    def handle(self, event: Event, now: datetime) -> list[Action]:
        """Feed one event; returns the actions it causes (empty once the flow is done)."""
        if self._node is None:
            raise RuntimeError("call start() first")
        self._begin(now)
        if self._waiting is Waiting.DONE:
            return []
        if not isinstance(event, PromptFinished):  # prompts are acknowledged again by whoever replays
            self._inputs.append(event_record(event))
        match event:
            case PromptFinished(prompt_id):
                self._on_prompt_finished(prompt_id)
            case Digits() | Text() | Speech():
                self._on_input(event)
            case NoInput(listen_id):
                self._on_no_input(listen_id)
            case WebhookResult():
                self._on_webhook(event)
            case QueueStatus():
                self._on_queue_status(event)
            case Disconnected():
                self._close_listen()
                self._step(
                    StepKind.HANGUP, "the caller hung up" if self._channel is Channel.VOICE else "the customer left"
                )
                self._finish("disconnected")
            case _:
                raise TypeError(f"not an event: {event!r}")
        return self._flush()

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
        match node:
            case SayNode() | PlayNode():
                self._play(node.prompts)
                nxt = node.next
                return self._after_prompts(lambda: nxt)
            case MenuNode():
                return self._enter_menu(node)
            case GatherNode():
                return self._enter_gather(node)
            case SetNode():
                self._set({name: self._render(t)[:MAX_VAR_CHARS] for name, t in node.values})
                return node.next
            case BranchNode():
                scope = self._scope()
                for case in node.cases:
                    if case.condition.test(scope):
                        self._step(StepKind.BRANCH, f"{case.condition.describe()} -> {case.next}")
                        return case.next
                self._step(StepKind.BRANCH, f"else -> {node.otherwise}")
                return node.otherwise
            case HoursNode():
                assert self._now is not None
                schedule = node.schedule if node.schedule is not None else self._queue_hours.get(node.queue)
                if schedule is None:
                    is_open, why = True, f"queue {node.queue} has no opening hours"
                else:
                    is_open, why = schedule.check(self._now)
                    why = f"queue {node.queue}, {why}" if node.queue else why
                target = node.open if is_open else node.closed
                self._step(StepKind.HOURS, f"{'open' if is_open else 'closed'} ({why}) -> {target}")
                return target
            case WebhookNode():
                return self._enter_webhook(node)
            case QueueNode():
                self._play(node.prompts)
                return self._after_prompts(lambda: self._enqueue(node))
            case QueueStatusNode():
                queue = self._render(node.queue).strip()
                if not queue:
                    self._fail(f"queue name {node.queue.source!r} is empty")
                    return None
                self._out.append(CheckQueue(queue))
                self._waiting = Waiting.QUEUE
                return None
            case GotoNode():
                return self._enter_goto(node)
            case ReturnNode():
                if not self._stack:
                    self._fail("return, but no flow called this one")
                    return None
                self._flow, nxt = self._stack.pop()
                self._step(StepKind.RETURN, f"-> {self._flow.name}#{nxt}")
                return nxt
            case HangupNode():
                self._play(node.prompts)
                reason = node.reason
                return self._after_prompts(lambda: self._hangup(reason))
        raise TypeError(f"unknown node {node!r}")

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

    def _hangup(self, reason: str) -> None:
        self._step(StepKind.HANGUP, reason)
        self._out.append(Hangup(reason))
        self._finish(reason)

    def _enqueue(self, node: QueueNode) -> None:
        queue = self._render(node.queue).strip()
        if not queue:
            self._fail(f"queue name {node.queue.source!r} is empty")
            return
        self._step(StepKind.QUEUE, queue)
        self._out.append(Enqueue(queue, node.priority, node.skills, dict(self._context), node.record, node.transcribe))
        self._finish("queued")

    # -- questions ---------------------------------------------------------------------------------------------

    def _enter_menu(self, node: MenuNode) -> str | None:
        spec = node.input
        known = self._context.get(spec.var) if spec.skip_if_known and spec.var else None
        # A choice leading back to its own menu ("hear this again") is never taken for a known value.
        candidates = [c for c in self._choices(node) if c.next != node.name]
        choice = match_known(candidates, known) if known else None
        if choice is not None:
            self._step(StepKind.SKIP, f"{spec.var}={known} is known: choice {choice.key} ({choice.label})")
            self._play(spec.known_prompts)
            picked = choice
            return self._after_prompts(lambda: self._take_choice(node, picked))
        self._failures = 0
        self._ask(node, ())
        return None

    def _enter_gather(self, node: GatherNode) -> str | None:
        spec = node.input
        known = self._context.get(spec.var) if spec.skip_if_known and spec.var else None
        if known:
            self._step(StepKind.SKIP, f"{spec.var} is known")
            self._play(spec.known_prompts)
            nxt = node.next
            return self._after_prompts(lambda: nxt)
        self._failures = 0
        self._ask(node, ())
        return None

    def _ask(self, node: MenuNode | GatherNode, extra: tuple[Prompt, ...]) -> None:
        self._play(extra + node.prompts)
        self._digits = ""
        self._confirming = None
        spec = node.input
        listen_id, timeout = self._open_listen(node)
        if isinstance(node, MenuNode):
            offered = self._choices(node)
            choices = tuple(ListenChoice(c.key, c.label, c.words) for c in offered)
            self._out.append(
                Listen(
                    listen_id,
                    ListenMode.MENU,
                    timeout,
                    choices=choices,
                    speech_hints=spoken_phrases(offered, spec.speech),
                )
            )
        else:
            d = node.digits
            self._out.append(
                Listen(
                    listen_id,
                    ListenMode.DIGITS,
                    timeout,
                    max_digits=d.max_digits,
                    min_digits=d.min_digits,
                    terminator=d.terminator,
                    inter_digit_timeout=d.inter_digit_timeout,
                    speech_hints=spec.speech,
                    confirm=node.confirm is not Confirm.NEVER,
                )
            )
        self._waiting = Waiting.INPUT

    def _open_listen(self, node: MenuNode | GatherNode) -> tuple[str, float | None]:
        """A new listen id, and the node's no-input timeout on this channel."""
        self._listen_seq += 1
        self._listen_id = f"l{self._listen_seq}"
        return self._listen_id, node.input.timeout if self._channel is Channel.VOICE else node.input.chat_timeout

    def _ask_confirmation(self, node: GatherNode, value: str) -> None:
        """Read ``value`` back and listen for yes / no (keys 1 / 2, buttons, words)."""
        self._confirming = value
        self._step(StepKind.CONFIRM, f"{value}?")
        self._play(readback.prompts(node))
        listen_id, timeout = self._open_listen(node)
        choices, phrases = readback.listen_choices(self._flow.defaults.recognition_language)
        self._out.append(Listen(listen_id, ListenMode.MENU, timeout, choices=choices, speech_hints=phrases))
        self._waiting = Waiting.INPUT

    def _confirm_input(self, node: GatherNode, event: Digits | Text | Speech) -> None:
        value = self._confirming
        assert value is not None
        said = readback.answer(event, self._flow.defaults.recognition_language)
        self._step(StepKind.INPUT, _describe_input(event))
        self._close_listen()
        self._confirming = None
        if said is None:
            self._retry(node, StepKind.NO_MATCH, f"no yes or no to {value}")
        elif said == "no":
            self._step(StepKind.CONFIRM, f"{value} rejected")
            self._retry(node, StepKind.NO_MATCH, f"the caller said {value} is wrong")
        else:
            self._step(StepKind.CONFIRM, f"{value} confirmed")
            self._take_gathered(node, value)

    def _close_listen(self) -> None:
        if self._listen_id is not None:
            self._out.append(StopListening(self._listen_id))
            self._listen_id = None

    def _choices(self, node: MenuNode) -> tuple[Choice, ...]:
        return tuple(c for c in node.choices if c.only is None or c.only is self._channel)

    def _take_choice(self, node: MenuNode, choice: Choice) -> str | None:
        """Record the choice and set the menu's variable (not for a choice that repeats the menu)."""
        self._step(StepKind.CHOICE, f"{choice.key} ({choice.label}) -> {choice.next}")
        if (
            node.input.var is not None
            and choice.next != node.name
            and self._context.get(node.input.var) != choice.value
        ):
            self._set({node.input.var: choice.value})
        when = dict(node.slots).get(choice.key) if isinstance(node, CallbackNode) else None
        if isinstance(node, CallbackNode) and when is not None and not self._book_callback(node, choice, when):
            return None
        return choice.next

    def _book_callback(self, node: CallbackNode, choice: Choice, when: str) -> bool:
        queue = self._render(node.queue).strip()
        if not queue:
            self._fail(f"queue name {node.queue.source!r} is empty")
            return False
        assert self._now is not None
        due = None if when == ASAP else next_time(self._now, when, node.timezone)
        phone = self._context.get(node.phone_var, "") if node.phone_var else ""
        described = "as soon as possible" if due is None else f"at {due:%Y-%m-%d %H:%M} {node.timezone}"
        self._step(StepKind.CALLBACK, f"{described} in {queue}" + (f", phone {phone}" if phone else ""))
        self._out.append(
            RequestCallback(
                queue,
                due,
                choice.label,
                node.priority,
                node.skills,
                phone,
                node.attempts,
                node.retry_after,
                node.expire_after,
                node.explicit,
            )
        )
        return True

    def _retry(self, node: MenuNode | GatherNode, kind: StepKind, why: str) -> None:
        spec = node.input
        self._failures += 1
        self._step(kind, f"{why} (attempt {self._failures} of {spec.retries + 1})")
        if self._failures > spec.retries:
            self._step(StepKind.FALLBACK, f"-> {spec.fallback}")
            self._run(spec.fallback)
            return
        self._ask(node, spec.no_input_prompts if kind is StepKind.NO_INPUT else spec.no_match_prompts)

    def _on_input(self, event: Digits | Text | Speech) -> None:
        node = self._node
        if self._waiting is not Waiting.INPUT or not isinstance(node, (MenuNode, GatherNode)):
            self._step(StepKind.IGNORED, f"{_describe_input(event)} (not listening)")
            return
        if any(not barge_in for barge_in in self._playing.values()):
            self._step(StepKind.IGNORED, f"{_describe_input(event)} (a prompt without barge-in is playing)")
            return
        if isinstance(event, Digits):
            keys = "".join(k for k in event.digits.upper() if k in DTMF_KEYS)
            if not keys:
                return
            event = Digits(keys)
        self._steps = 0
        if self._playing:
            self._out.append(StopPrompts())
            self._playing.clear()
        # A gather that reads its answer back takes speech at the recognizer's confirmed operating point: the
        # caller's yes is the gate, not min_confidence.
        gate = (
            0.0
            if isinstance(node, GatherNode) and node.confirm is not Confirm.NEVER and self._confirming is None
            else node.input.min_confidence
        )
        if isinstance(event, Speech) and not event.text.strip():
            self._step(StepKind.INPUT, _describe_input(event))
            self._close_listen()
            self._confirming = None
            self._retry(node, StepKind.NO_MATCH, "speech not understood")
        elif isinstance(event, Speech) and event.confidence < gate:
            self._step(StepKind.INPUT, _describe_input(event))
            self._close_listen()
            self._confirming = None
            self._retry(node, StepKind.NO_MATCH, f"confidence below {gate:.2f}")
        elif isinstance(node, GatherNode) and self._confirming is not None:
            self._confirm_input(node, event)
        elif isinstance(node, MenuNode):
            self._menu_input(node, event)
        else:
            self._gather_input(node, event)

    def _menu_input(self, node: MenuNode, event: Digits | Text | Speech) -> None:
        choices = self._choices(node)
        choice = match_key(choices, event.digits) if isinstance(event, Digits) else match_text(choices, event.text)
        self._step(StepKind.INPUT, _describe_input(event))
        self._close_listen()
        if choice is None:
            self._retry(node, StepKind.NO_MATCH, "no choice matches")
        else:
            self._run(self._take_choice(node, choice))  # None: the flow failed booking a callback

    def _gather_input(self, node: GatherNode, event: Digits | Text | Speech) -> None:
        spec = node.digits
        if isinstance(event, Digits):
            for key in event.digits:
                if spec.terminator and key == spec.terminator:
                    self._gather_done(node, self._digits, f"digits {self._digits}{key}", spoken=False)
                    return
                self._digits += key
                if len(self._digits) >= spec.max_digits:
                    self._gather_done(node, self._digits, f"digits {self._digits}", spoken=False)
                    return
            return  # more keys to come; the driver now runs the inter-digit timer
        self._gather_done(
            node,
            digits_of(event.text, terminator=spec.terminator) or "",
            _describe_input(event),
            spoken=isinstance(event, Speech),
        )

    def _gather_done(self, node: GatherNode, value: str, heard: str, *, spoken: bool) -> None:
        spec = node.digits
        self._step(StepKind.INPUT, heard)
        self._close_listen()
        self._digits = ""
        if not spec.min_digits <= len(value) <= spec.max_digits:
            got = f"{len(value)} digit{'' if len(value) == 1 else 's'}" if value else "no digits"
            self._retry(node, StepKind.NO_MATCH, f"{got}, expected {spec.min_digits} to {spec.max_digits}")
            return
        if readback.reads_back(node, spoken=spoken):
            self._ask_confirmation(node, value)
            return
        self._take_gathered(node, value)

    def _take_gathered(self, node: GatherNode, value: str) -> None:
        if node.input.var is not None:
            self._set({node.input.var: value})
        self._run(node.next)

    def _on_no_input(self, listen_id: str | None) -> None:
        node = self._node
        if (
            self._waiting is not Waiting.INPUT
            or not isinstance(node, (MenuNode, GatherNode))
            or (listen_id is not None and listen_id != self._listen_id)
        ):
            return  # a late timer of a window that is already closed
        if isinstance(node, GatherNode) and self._confirming is not None:
            value, self._confirming = self._confirming, None
            self._close_listen()
            self._retry(node, StepKind.NO_INPUT, f"no yes or no to {value}")
            return
        if isinstance(node, GatherNode) and self._digits:
            self._gather_done(node, self._digits, f"digits {self._digits} (inter-digit timeout)", spoken=False)
            return
        self._close_listen()
        self._retry(node, StepKind.NO_INPUT, "no input")

    # -- webhooks and flows ------------------------------------------------------------------------------------

    def _enter_webhook(self, node: WebhookNode) -> str | None:
        url = node.url.render_url(self._scope())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self._step(StepKind.WEBHOOK, f"failed: {url!r} is not an http(s) URL -> {node.on_error}")
            return node.on_error
        headers = {name: self._render(value) for name, value in node.headers}
        payload: dict[str, object] = {
            "conversation_id": self._conversation_id,
            "flow": self._flow.name,
            "flow_version": self._flow.version,
            "node": node.name,
            "channel": self._channel.value,
            "vars": dict(self._context),
        }
        self._step(StepKind.WEBHOOK, f"{node.method} {url}")
        self._out.append(CallWebhook(url, node.method, payload, node.timeout, headers))
        self._waiting = Waiting.WEBHOOK
        return None

    def _on_webhook(self, result: WebhookResult) -> None:
        node = self._node
        if self._waiting is not Waiting.WEBHOOK or not isinstance(node, WebhookNode):
            self._step(StepKind.IGNORED, "webhook result (no webhook pending)")
            return
        self._waiting = Waiting.NOTHING
        body = result.body
        problem = None
        if result.error is not None:
            problem = result.error
        elif result.status is None or not 200 <= result.status < 300:
            problem = f"status {result.status}"
        elif body is not None and not isinstance(body, dict):
            problem = f"status {result.status}, body is not a JSON object"
        if problem is not None:
            self._step(StepKind.WEBHOOK, f"failed: {problem} -> {node.on_error}")
            self._run(node.on_error)
            return
        body = body or {}
        raw_vars = body.get("vars") if "vars" in body else {k: v for k, v in body.items() if k != "next"}
        values: dict[str, str] = {}
        ignored: list[str] = []
        for name, value in raw_vars.items() if isinstance(raw_vars, dict) else ():
            if (
                isinstance(name, str)
                and NAME_RE.match(name)
                and not trust.reserved(name)
                and isinstance(value, (str, int, float, bool))
            ):
                values[name] = scalar_text(value)[:MAX_VAR_CHARS]
            else:  # context.* / verified.* are the browser's and the site's words: no answer overwrites them
                ignored.append(str(name))
        nxt = body.get("next")
        target = node.next
        if nxt is not None:
            target = nxt if isinstance(nxt, str) and nxt in self._flow.nodes else node.on_error
        detail = f"ok: status {result.status}"
        detail += (
            (
                f", ignored {', '.join(ignored)} (not a lower_case name with a text or number, or a name only "
                "the gateway sets)"
            )
            if ignored
            else ""
        )
        detail += (
            f", next {nxt!r}" + ("" if target == nxt else " is not a node of this flow") if nxt is not None else ""
        )
        self._step(StepKind.WEBHOOK, f"{detail} -> {target}")
        self._set(values)
        self._run(target)

    def _on_queue_status(self, status: QueueStatus) -> None:
        node = self._node
        if self._waiting is not Waiting.QUEUE or not isinstance(node, QueueStatusNode):
            self._step(StepKind.IGNORED, "queue status (none asked for)")
            return
        self._waiting = Waiting.NOTHING
        wait = "" if status.wait_seconds is None else str(max(0, status.wait_seconds))
        self._step(
            StepKind.QUEUE_STATUS,
            f"{status.agents_available} agents available, {status.waiting} waiting, "
            f"expected wait {wait + 's' if wait else 'unknown'} -> {node.next}",
        )
        self._set(
            {
                "queue_agents_available": str(max(0, status.agents_available)),
                "queue_waiting": str(max(0, status.waiting)),
                "queue_wait_seconds": wait,
            }
        )
        self._run(node.next)

    def _enter_goto(self, node: GotoNode) -> str | None:
        flow = self._flows.get(node.flow)
        target = node.node or (flow.start if flow is not None else "")
        if flow is None or target not in flow.nodes:
            self._fail(f"flow '{node.flow}{'#' + node.node if node.node else ''}' is not available")
            return None
        if node.next is not None:
            if len(self._stack) >= MAX_CALL_DEPTH:
                self._fail(f"sub-flows nested more than {MAX_CALL_DEPTH} deep")
                return None
            self._stack.append((self._flow, node.next))
            self._step(StepKind.GOTO, f"call {flow.name}#{target}, back to {node.next}")
        else:
            self._step(StepKind.GOTO, f"-> {flow.name}#{target}")
        self._flow = flow
        return target
