"""Messages between nodes on the Redis bus (pub/sub), one frozen dataclass per ``kind``.

A publisher builds one and sends :meth:`Message.to_json`; :func:`parse` turns what arrives back into the same
class, once, where the bus receives it (``gateway/store/bus.py``), so listeners match on types, never on
``"kind"`` strings. The store's Lua scripts publish :class:`EventAppended` themselves, in the same shape.
A field whose default is ``None`` is left out while it is ``None``.
"""

from __future__ import annotations

import json
import typing
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar

import orjson

from gateway.protocol.states import Author, CallStatus, CaptionKind, EventType

JsonObject = dict[str, Any]


class BusKind(StrEnum):
    EVENT = "event"
    TYPING = "typing"
    CALL = "call"
    CONVERSATION = "conversation"
    QUEUE = "queue"
    AGENTS = "agents"
    PRESENCE = "presence"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    SESSION_REVOKED = "session_revoked"
    CALL_COMMAND = "call_command"
    CALL_REPLY = "call_reply"
    FLUSH = "flush"
    RATED = "rated"
    CAPTION = "caption"
    FLOW_PUBLISHED = "flow_published"
    FLOW_ANSWERS = "flow_answers"
    FLOW_RETIRED = "flow_retired"
    BOARD = "board"
    AGENT_CHANGED = "agent_changed"
    SUPERVISORS = "supervisors"
    CUSTOMER_ERASED = "customer_erased"
    CODES_CHANGED = "codes_changed"


class BadMessage(ValueError):
    """A bus message that is not JSON, names no known kind or lacks a field."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: ClassVar[BusKind]

    def as_dict(self) -> JsonObject:
        out: JsonObject = {"kind": self.kind}
        for name, default, _ in _FIELDS[self.kind]:
            value = getattr(self, name)
            if value is not None or default is not None:
                out[name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class EventAppended(Message):
    """On a conversation's channel: a timeline entry was appended (published by the store's Lua helper)."""

    kind = BusKind.EVENT
    id: str
    type: EventType
    data: JsonObject


@dataclass(frozen=True, slots=True)
class Typing(Message):
    """On a conversation's channel: someone is typing (an agent with ``name``, the customer with ``draft``)."""

    kind = BusKind.TYPING
    author: Author
    active: bool
    name: str | None = None
    draft: str | None = None


@dataclass(frozen=True, slots=True)
class CallUpdate(Message):
    """A call's status, on its conversation's channel or one agent's (ringing, missed, consult, monitor)."""

    kind = BusKind.CALL
    call_id: str
    status: CallStatus
    reason: str
    conversation_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    ring_seconds: float | None = None
    consult: bool | None = None
    from_agent_id: str | None = None
    from_agent_name: str | None = None
    monitor: bool | None = None


@dataclass(frozen=True, slots=True)
class CallSupervisors(Message):
    """On a conversation's channel: the supervisors the call's agent hears now (whispering or barging in), each
    ``{"agent_id", "name", "mode"}``; [] when none is left. A silent listener is never in it: only the
    supervisor's own desk knows of them. Sent whenever that list changes; the customer's socket passes on only
    whether someone barged in, without names (docs/protocol.md "Agent calls")."""

    kind = BusKind.SUPERVISORS
    call_id: str
    supervisors: list[JsonObject]


@dataclass(frozen=True, slots=True)
class CallCaption(Message):
    """On a conversation's channel: a caption of its call (a prompt starting, what the IVR understood).
    Transient: it goes to the customer's sockets and is never stored (the timeline has the IVR steps)."""

    kind = BusKind.CAPTION
    call_id: str
    caption: CaptionKind
    text: str


@dataclass(frozen=True, slots=True)
class Follow(Message):
    """On a customer's channel: their current conversation is now this one (a call or a callback opened it)."""

    kind = BusKind.CONVERSATION
    conversation_id: str


@dataclass(frozen=True, slots=True)
class CustomerErased(Message):
    """On a customer's channel: an admin erased their data; their open sockets close (the widget starts afresh)."""

    kind = BusKind.CUSTOMER_ERASED


@dataclass(frozen=True, slots=True)
class QueueChanged(Message):
    """On the queue channel: the waiting queue changed."""

    kind = BusKind.QUEUE


@dataclass(frozen=True, slots=True)
class AgentsChanged(Message):
    """On the queue channel: an agent's availability changed."""

    kind = BusKind.AGENTS


@dataclass(frozen=True, slots=True)
class BoardChanged(Message):
    """On the board channel: a live call moved on some node (the supervisors' wallboards read again)."""

    kind = BusKind.BOARD


@dataclass(frozen=True, slots=True)
class PresenceChanged(Message):
    """On an agent's channel: their status or load changed."""

    kind = BusKind.PRESENCE


@dataclass(frozen=True, slots=True)
class Assigned(Message):
    """On an agent's channel: a conversation was routed (or transferred) to them."""

    kind = BusKind.ASSIGNED
    conversation_id: str


@dataclass(frozen=True, slots=True)
class Unassigned(Message):
    """On an agent's channel: a conversation left them (closed, missed call, transfer, callback outcome)."""

    kind = BusKind.UNASSIGNED
    conversation_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rated(Message):
    """On the channel of the agent who had a conversation: its customer rated it after it closed (the desk left
    the conversation's own channel at the close). ``event``: the timeline entry, as a desk receives events."""

    kind = BusKind.RATED
    conversation_id: str
    event: JsonObject


@dataclass(frozen=True, slots=True)
class SessionRevoked(Message):
    """On an agent's channel: these login sessions ended; their desks close."""

    kind = BusKind.SESSION_REVOKED
    session_ids: list[str]
    reason: str


@dataclass(frozen=True, slots=True)
class AgentChanged(Message):
    """On the agents directory channel: this agent was added, edited, disabled, removed or given a password
    (any node, or the CLI); every node reads it again from the store."""

    kind = BusKind.AGENT_CHANGED
    agent_id: str


@dataclass(frozen=True, slots=True)
class CallCommand(Message):
    """On a node's channel: run a desk's call command on the node that holds the call."""

    kind = BusKind.CALL_COMMAND
    id: str
    reply_to: str
    agent_id: str
    op: str
    call_id: str
    args: JsonObject


@dataclass(frozen=True, slots=True)
class CallReply(Message):
    """On the asking node's channel: a call command's result, or its error (``GatewayError.to_dict()``)."""

    kind = BusKind.CALL_REPLY
    id: str
    ok: bool
    result: Any = None
    error: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class Flush(Message):
    """On a node's own channel, from itself: everything it published before this has reached its listeners
    (``Bus.flush``; shutdown waits for it before closing sockets)."""

    kind = BusKind.FLUSH
    token: str


@dataclass(frozen=True, slots=True)
class FlowPublished(Message):
    """On ``P:ch:flows``: a version of a flow was published (or rolled back to); every node puts it in service for
    new calls and chats (gateway/flows/live.py). Sessions keep the version they started with."""

    kind = BusKind.FLOW_PUBLISHED
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class FlowAnswers(Message):
    """On ``P:ch:flows``: an admin chose the flow new calls or chats start in (``entry``: ``calls`` or ``chats``;
    ``name`` '' for no flow: new chats go straight to the agents); every node reads the choice again
    (gateway/flows/live.py)."""

    kind = BusKind.FLOW_ANSWERS
    entry: str
    name: str


@dataclass(frozen=True, slots=True)
class FlowRetired(Message):
    """On ``P:ch:flows``: an admin retired a flow; every node takes it out of service for new calls and chats
    (gateway/flows/live.py). Sessions in it finish on the version they started with."""

    kind = BusKind.FLOW_RETIRED
    name: str


@dataclass(frozen=True, slots=True)
class CodesChanged(Message):
    """On ``P:ch:center``: an admin saved one of the center's code lists (``away_reasons`` or ``dispositions``);
    every node tells its open desks (gateway/contact/code_lists.py)."""

    kind = BusKind.CODES_CHANGED
    name: str


KINDS: dict[str, type[Message]] = {
    cls.kind: cls
    for cls in (
        EventAppended,
        Typing,
        CallUpdate,
        Follow,
        CustomerErased,
        QueueChanged,
        AgentsChanged,
        PresenceChanged,
        Assigned,
        Unassigned,
        Rated,
        SessionRevoked,
        CallCommand,
        CallReply,
        Flush,
        CallCaption,
        CallSupervisors,
        FlowPublished,
        FlowAnswers,
        FlowRetired,
        BoardChanged,
        AgentChanged,
        CodesChanged,
    )
}


def _fields(cls: type[Message]) -> tuple[tuple[str, Any, type[StrEnum] | None], ...]:
    """Each field in order: its name, its default (MISSING: required), its StrEnum if it has one."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            f.default,
            hints[f.name] if isinstance(hints[f.name], type) and issubclass(hints[f.name], StrEnum) else None,
        )
        for f in fields(cls)
    )


_FIELDS = {kind: _fields(cls) for kind, cls in KINDS.items()}  # worked out once


def parse(data: str | bytes) -> Message:
    """What arrived on a channel -> its message, or :class:`BadMessage` saying why not."""
    try:
        obj = orjson.loads(data)  # a message per delivery: orjson reads it about 3.5 times faster than json
    except ValueError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadMessage("not a JSON object")
    kind = obj.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadMessage(f"unknown kind {str(kind)[:40]!r}")
    values: JsonObject = {}
    for name, default, enum in _FIELDS[cls.kind]:
        if name not in obj:
            if default is MISSING:
                raise BadMessage(f"{kind} message without {name!r}")
            continue
        value = obj[name]
        if enum is not None:
            try:
                value = enum(value)
            except ValueError:
                raise BadMessage(f"{kind} message: {name} {str(value)[:40]!r} is not a {enum.__name__}") from None
        values[name] = value
    return cls(**values)
