"""The validated flow model: frozen dataclasses built by :mod:`ivr.loader`.

Nothing here parses YAML or checks input: a :class:`Flow` only exists once
its file has been fully validated. Everything is immutable, so an interpreter
that holds a :class:`Flow` keeps that exact version for the whole call even if
the file is edited and reloaded meanwhile.

Durations are float seconds; prompt texts, variable values, URLs and queue
names are parsed :class:`~ivr.template.Template` objects; audio paths are
absolute.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from .conditions import Condition
from .hours import Schedule
from .template import Template

# A queue's name, written in a flow or rendered from a template at run time (gateway/contact/queues.py keeps it too):
# it becomes a report key, a wallboard row and a CSV cell, so nothing else gets through.
QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class NodeKind(StrEnum):
    SAY = "say"
    PLAY = "play"
    GATHER = "gather"
    MENU = "menu"
    SET = "set"
    BRANCH = "branch"
    HOURS = "hours"
    WEBHOOK = "webhook"
    QUEUE = "queue"
    GOTO = "goto"
    RETURN = "return"
    HANGUP = "hangup"
    CALLBACK = "callback"
    QUEUE_STATUS = "queue_status"


class Channel(StrEnum):
    """Where a flow runs: a voice call (prompts spoken, DTMF or speech) or a chat (messages, buttons, text)."""

    VOICE = "voice"
    CHAT = "chat"


AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg")


@dataclass(frozen=True)
class Prompt:
    """Something said to the customer.

    On voice the ``play`` audio file is played if given, else ``say`` is spoken.
    On chat ``chat`` is posted if given, else ``say``; a prompt with neither
    (audio only) is skipped on chat.
    """

    say: Template | None = None
    play: str | None = None
    chat: Template | None = None
    barge_in: bool = True
    voice: str | None = None
    language: str | None = None
    rate: float | None = None


@dataclass(frozen=True)
class Choice:
    """One menu option: a DTMF ``key`` (also a chat button), a ``label``, spoken/typed ``words``.

    ``only`` limits it to one channel (e.g. "press 9 to hear this again" is voice only).
    """

    key: str
    label: str
    value: str
    words: tuple[str, ...]
    next: str
    line: int = 0
    only: Channel | None = None


@dataclass(frozen=True)
class DigitsSpec:
    """How a ``gather`` collects DTMF digits."""

    min_digits: int = 1
    max_digits: int = 20
    terminator: str = "#"
    inter_digit_timeout: float = 3.0


#: ``speech_fallback`` when a node and the flow's defaults say nothing: keys only after 2 failed spoken answers.
SPEECH_FALLBACK_AFTER = 2


@dataclass(frozen=True)
class SpeechFallback:
    """After ``after`` spoken answers to one question failed (not understood, no choice, a wrong number), the
    question takes keys only: speech recognition is off for it and ``prompts`` (empty: a generated one that lists
    the keys) replace the question. ``after`` 0: never."""

    after: int = SPEECH_FALLBACK_AFTER
    prompts: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class InputSpec:
    """What ``menu`` and ``gather`` share: the variable they set, timeouts, retries and the fallback."""

    var: str | None
    fallback: str
    timeout: float = 5.0
    chat_timeout: float | None = None
    retries: int = 2
    no_input_prompts: tuple[Prompt, ...] = ()
    no_match_prompts: tuple[Prompt, ...] = ()
    speech: tuple[str, ...] = ()
    min_confidence: float = 0.5
    skip_if_known: bool = False
    known_prompts: tuple[Prompt, ...] = ()
    #: Said instead of the question after the 1st, 2nd, ... no-match (the last one again after that).
    reprompts: tuple[tuple[Prompt, ...], ...] = ()
    #: The same after the 1st, 2nd, ... silence.
    no_input_reprompts: tuple[tuple[Prompt, ...], ...] = ()
    speech_fallback: SpeechFallback = field(default_factory=SpeechFallback)


@dataclass(frozen=True, kw_only=True)
class Node:
    """A named step of a flow. ``line`` is where its mapping starts in the file."""

    kind: ClassVar[NodeKind]
    name: str
    line: int = 0
    description: str = ""
    entry: bool = False
    #: The author lets ``context.*`` (unverified, from the customer's browser) decide routing or a URL here.
    trust_unverified: bool = False

    def targets(self) -> tuple[tuple[str, str], ...]:
        """(key, node name) of every transition inside this flow."""
        return ()


@dataclass(frozen=True, kw_only=True)
class SayNode(Node):
    kind = NodeKind.SAY
    prompts: tuple[Prompt, ...]
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next),)


@dataclass(frozen=True, kw_only=True)
class PlayNode(Node):
    kind = NodeKind.PLAY
    prompts: tuple[Prompt, ...]
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next),)


class Confirm(StrEnum):
    """When a ``gather`` reads the answer back and asks "is that right?" before taking it (a ``menu``: never or
    speech, for spoken answers under its ``confirm_below``)."""

    NEVER = "never"  # take the answer as given
    SPEECH = "speech"  # read back answers the caller spoke (keys are taken as pressed)
    ALWAYS = "always"  # read back every answer: spoken, pressed or typed


@dataclass(frozen=True, kw_only=True)
class GatherNode(Node):
    kind = NodeKind.GATHER
    prompts: tuple[Prompt, ...]
    input: InputSpec
    digits: DigitsSpec
    next: str
    confirm: Confirm = Confirm.NEVER
    #: The read-back question; ``{{ answer }}`` is the number heard (empty: the interpreter's default).
    confirm_prompts: tuple[Prompt, ...] = ()

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next), ("fallback", self.input.fallback))


#: A menu with ``confirm: speech`` asks back a spoken answer whose confidence is under this ("Did you say Billing?"):
#: on the human set's held-out part (``python -m bench.asr_refit --ask-back``) the bar where words outside the menu
#: are routed without asking at most 2 % of the time in every condition (docs/benchmarks.md "Asking back").
CONFIRM_BELOW = 0.8


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    kind = NodeKind.MENU
    prompts: tuple[Prompt, ...]
    input: InputSpec
    choices: tuple[Choice, ...]
    #: ``speech``: a spoken answer with a confidence under ``confirm_below``, or one the recognizer took only at its
    #: confirmed operating point (``Speech.unsure``), is asked back and taken on yes.
    confirm: Confirm = Confirm.NEVER
    confirm_below: float = CONFIRM_BELOW
    #: The question that asks it back; ``{{ answer }}`` is the choice's label (empty: the interpreter's default).
    confirm_prompts: tuple[Prompt, ...] = ()

    def targets(self) -> tuple[tuple[str, str], ...]:
        return tuple(("choices", c.next) for c in self.choices) + (("fallback", self.input.fallback),)


#: A callback choice's ``when``: as soon as an agent is free (keeping the caller's place in the queue).
ASAP = "asap"


@dataclass(frozen=True, kw_only=True)
class CallbackNode(MenuNode):
    """A menu that books a callback: a choice with ``when`` (``asap`` or a local ``HH:MM``) books one and goes
    to ``next``; a choice with ``next`` goes there without booking (e.g. keep waiting)."""

    kind = NodeKind.CALLBACK
    queue: Template
    next: str
    #: (choice key, when): ``asap`` or ``HH:MM`` in ``timezone`` (today, or tomorrow once that time is past).
    slots: tuple[tuple[str, str], ...]
    timezone: str = "UTC"
    #: The variable holding a phone number to call when the customer is not reachable in the browser.
    phone_var: str | None = None
    priority: int = 0
    skills: tuple[str, ...] = ()
    #: Delivery attempts before the callback is closed as unreachable, and the spacing between them.
    attempts: int = 3
    retry_after: float = 600.0
    #: A callback not delivered this long after it was booked is closed as expired.
    expire_after: float = 86400.0
    #: Which of attempts / retry_after / expire_after the file sets (the others come from the queue's policy).
    explicit: frozenset[str] = frozenset()
    queue_line: int = 0

    def targets(self) -> tuple[tuple[str, str], ...]:
        return super().targets() + (("next", self.next),)


@dataclass(frozen=True, kw_only=True)
class SetNode(Node):
    kind = NodeKind.SET
    values: tuple[tuple[str, Template], ...]
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next),)


@dataclass(frozen=True)
class Case:
    condition: Condition
    next: str
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    kind = NodeKind.BRANCH
    cases: tuple[Case, ...]
    otherwise: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return tuple(("cases", c.next) for c in self.cases) + (("else", self.otherwise),)


@dataclass(frozen=True, kw_only=True)
class HoursNode(Node):
    """Open or closed now: by its own ``schedule``, or by the opening hours of the gateway's ``queue`` (then
    ``schedule`` is None and the interpreter is given the queue's hours, see ``queue_hours``)."""

    kind = NodeKind.HOURS
    schedule: Schedule | None
    open: str
    closed: str
    queue: str = ""
    queue_line: int = 0

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("open", self.open), ("closed", self.closed))


@dataclass(frozen=True, kw_only=True)
class WebhookNode(Node):
    kind = NodeKind.WEBHOOK
    url: Template
    method: str
    headers: tuple[tuple[str, Template], ...]
    timeout: float
    next: str
    on_error: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next), ("on_error", self.on_error))


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    kind = NodeKind.QUEUE
    queue: Template
    queue_line: int = 0
    priority: int = 0
    skills: tuple[str, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    #: Record the call once an agent answers (both sides); announce it in the flow before this node.
    record: bool = False
    #: Transcribe both sides live into the timeline once an agent answers.
    transcribe: bool = False


@dataclass(frozen=True, kw_only=True)
class QueueStatusNode(Node):
    """Look at a queue now: sets ``queue_agents_available``, ``queue_waiting`` and ``queue_wait_seconds``
    (the expected wait; '' when there is no history to estimate it from), then goes to ``next``."""

    kind = NodeKind.QUEUE_STATUS
    queue: Template
    next: str
    queue_line: int = 0

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next),)


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    """Jump to another flow (``next`` absent) or call it as a sub-flow that comes back to ``next``."""

    kind = NodeKind.GOTO
    flow: str
    node: str | None = None
    next: str | None = None
    ref_line: int = 0

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("next", self.next),) if self.next is not None else ()


@dataclass(frozen=True, kw_only=True)
class ReturnNode(Node):
    kind = NodeKind.RETURN


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    kind = NodeKind.HANGUP
    prompts: tuple[Prompt, ...] = ()
    reason: str = "completed"


NODE_CLASSES: Mapping[NodeKind, type[Node]] = {
    cls.kind: cls
    for cls in (
        SayNode,
        PlayNode,
        GatherNode,
        MenuNode,
        SetNode,
        BranchNode,
        HoursNode,
        WebhookNode,
        QueueNode,
        GotoNode,
        ReturnNode,
        HangupNode,
        CallbackNode,
        QueueStatusNode,
    )
}


#: ``speech_engine: none``: the flow takes keys (and chat text) only.
SPEECH_OFF = "none"
SPEECH_ENGINES = ("vosk", "pocketsphinx", SPEECH_OFF)
#: ``speech_strictness``: ``normal`` (the engine's default decision) or ``strict`` (pocketsphinx: a menu answer must
#: also beat the commonest English words; fewer words outside the menu routed, more menu words rejected, slower).
SPEECH_NORMAL, SPEECH_STRICT = "normal", "strict"
SPEECH_STRICTNESS = (SPEECH_NORMAL, SPEECH_STRICT)


@dataclass(frozen=True)
class VoiceDefaults:
    """Text-to-speech settings of a flow, overridable per prompt."""

    voice: str | None = None
    language: str | None = None
    rate: float = 1.0
    #: Speech recognition engine the flow pins (``vosk`` / ``pocketsphinx``), ``none`` for keys only,
    #: None to take what the gateway has for ``speech_language``.
    speech_engine: str | None = None
    #: Language callers speak (base code, e.g. ``en``, ``ko``); None: ``language``, else the gateway's default.
    speech_language: str | None = None
    #: ``strict``: menus ask the engine for its stricter decision (see SPEECH_STRICTNESS).
    speech_strictness: str = SPEECH_NORMAL
    #: Line of the ``defaults`` mapping (0 when the flow has none), for errors about these settings.
    line: int = 0

    @property
    def speech_enabled(self) -> bool:
        return self.speech_engine != SPEECH_OFF

    @property
    def speech_strict(self) -> bool:
        return self.speech_strictness == SPEECH_STRICT

    @property
    def recognition_language(self) -> str | None:
        return self.speech_language or self.language


@dataclass(frozen=True, eq=False)
class Flow:
    """One validated flow file. ``version`` is a hash of the file content.

    Compared and hashed by identity: each load makes a new object, and a call keeps the object it started with.
    """

    name: str
    version: str
    start: str
    nodes: Mapping[str, Node]
    source: Path
    description: str = ""
    defaults: VoiceDefaults = field(default_factory=VoiceDefaults)

    @property
    def entries(self) -> tuple[str, ...]:
        """Where the flow may be entered: its start, and nodes marked ``entry: true`` (for ``flow: name#node``)."""
        return (self.start,) + tuple(n for n, node in self.nodes.items() if node.entry and n != self.start)

    def opening_hours(self) -> Schedule | None:
        """The line's opening hours as the widget shows them: the schedule of the ``hours`` node nearest to the
        start (breadth first over every transition), or None when the flow has none (or that node reads a
        queue's hours: see :meth:`hours_node`)."""
        node = self.hours_node()
        return node.schedule if node is not None else None

    def hours_node(self) -> HoursNode | None:
        """The ``hours`` node nearest to the start (breadth first over every transition), or None."""
        seen, frontier = {self.start}, [self.start]
        while frontier:
            later: list[str] = []
            for name in frontier:
                node = self.nodes.get(name)
                if isinstance(node, HoursNode):
                    return node
                for _, target in node.targets() if node is not None else ():
                    if target not in seen:
                        seen.add(target)
                        later.append(target)
            frontier = later
        return None

    def queue_refs(self) -> dict[str, tuple[str, int]]:
        """Queues this flow names by a fixed name (not a ``{{ variable }}``): name -> (node, line)."""
        out: dict[str, tuple[str, int]] = {}
        for node in self.nodes.values():
            name, line = "", 0
            if isinstance(node, (QueueNode, CallbackNode, QueueStatusNode)) and node.queue.is_static:
                name, line = node.queue.source.strip(), node.queue_line or node.line
            elif isinstance(node, HoursNode) and node.queue:
                name, line = node.queue, node.queue_line or node.line
            if name:
                out.setdefault(name, (node.name, line))
        return out

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, version={self.version!r}, nodes={len(self.nodes)})"
