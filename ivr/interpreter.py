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

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from urllib.parse import urlsplit

from . import trust
from .actions import (
    Action,
    CallWebhook,
    CheckQueue,
    Enqueue,
    Hangup,
    StepKind,
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
from .machine import MAX_STEPS_WITHOUT_INPUT, MAX_VAR_CHARS, Waiting
from .model import (
    BranchNode,
    Channel,
    Flow,
    GatherNode,
    GotoNode,
    HangupNode,
    HoursNode,
    MenuNode,
    Node,
    PlayNode,
    QueueNode,
    QueueStatusNode,
    ReturnNode,
    SayNode,
    SetNode,
    WebhookNode,
)
from .questions import Questions
from .template import NAME_RE

__all__ = ["MAX_CALL_DEPTH", "MAX_STEPS_WITHOUT_INPUT", "Interpreter", "Waiting"]

MAX_CALL_DEPTH = 8


class Interpreter(Questions):
    """Runs one conversation through a flow. Not thread-safe; one instance per conversation.

    ``context`` is copied: read the current variables with :attr:`context`;
    every change is also announced with a ``SetVars`` action. ``flows`` are the
    flows ``goto`` may enter (take :meth:`ivr.registry.FlowRegistry.snapshot`
    when the call starts so the call keeps those versions); ``flow`` itself is
    always available under its own name.
    """

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
                if schedule is None and node.queue not in self._queue_hours:  # the simulator without a store
                    is_open, why = True, f"queue {node.queue}'s opening hours are not known here: taken as open"
                elif schedule is None:
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
                queue = self._queue_name(node.queue)
                if queue is None:
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

    def _hangup(self, reason: str) -> None:
        self._step(StepKind.HANGUP, reason)
        self._out.append(Hangup(reason))
        self._finish(reason)

    def _enqueue(self, node: QueueNode) -> None:
        queue = self._queue_name(node.queue)
        if queue is None:
            return
        self._step(StepKind.QUEUE, queue)
        self._out.append(Enqueue(queue, node.priority, node.skills, dict(self._context), node.record, node.transcribe))
        self._finish("queued")

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
                and NAME_RE.fullmatch(name)
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
