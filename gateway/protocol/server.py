"""Server frames: what the gateway sends on the customer and agent sockets, one frozen dataclass per shape.

Every frame leaves through :meth:`Frame.as_dict`: ``{"type": ...}`` then its fields in order. A field whose
default is ``None`` is left out while it is ``None`` (``field``, ``retry_after``, ``ring_seconds``, ...); the
others are always sent, ``None`` as ``null``. The payloads inside (conversation summaries, timeline events,
agent info) are the shapes of ``docs/protocol.md``, still plain JSON objects here. :func:`encode` makes the text
a socket sends (UTF-8, by orjson: a frame per message and socket, about 18 times faster than ``json.dumps``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

import orjson

from gateway.errors import GatewayError
from gateway.protocol.states import CallStatus, CaptionKind

JsonObject = dict[str, Any]


def encode(obj: Any) -> bytes:
    """``obj`` as compact JSON text in UTF-8 (orjson). What orjson does not take (a key that is not a string, an
    integer past 64 bits, a lone surrogate) is encoded as ``json.dumps`` did it (ASCII, with escapes)."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


class ServerFrame(StrEnum):
    WELCOME = "welcome"
    EVENT = "event"
    ACK = "ack"
    TYPING = "typing"
    QUEUE = "queue"
    ERROR = "error"
    HISTORY = "history"
    AGENT = "agent"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    CALL_ICE = "call_ice"
    CALL_ANSWER = "call_answer"
    CALL_STATUS = "call_status"
    CALL_SUPERVISORS = "call_supervisors"
    CAPTION = "caption"
    WALLBOARD = "wallboard"
    AGENT_NAMES = "agent_names"
    CODES = "codes"


class CloseCode(IntEnum):
    """WebSocket close codes the gateway uses (docs/protocol.md, top)."""

    NORMAL = 1000  # after an unauthorized / token_expired / session_revoked hello
    PROTOCOL_ERROR = 1002  # a frame that breaks the WebSocket protocol itself (aiohttp)
    INVALID_DATA = 1007  # a text frame that is not UTF-8 (aiohttp)
    TOO_BIG = 1009  # a frame over 256 KiB (aiohttp)
    INTERNAL_ERROR = 1011  # setting up the connection after a valid hello failed unexpectedly
    RESTARTING = 1012  # the gateway restarts
    TOO_SLOW = 1013  # a client too slow to read what it is sent (it resumes on reconnect)
    SESSION_REVOKED = 4401  # after a session_revoked error frame: the desk does not reconnect
    STORE_UNAVAILABLE = 4503  # after a store_unavailable error frame (a hello, a failed replay): reconnect soon


@dataclass(frozen=True, slots=True)
class Frame:
    type: ClassVar[ServerFrame]

    def as_dict(self) -> JsonObject:
        out: JsonObject = {"type": self.type}
        for name, optional in _layout(type(self)):
            value = getattr(self, name)
            if value is not None or not optional:
                out[name] = value
        return out


_LAYOUTS: dict[type[Frame], tuple[tuple[str, bool], ...]] = {}


def _layout(cls: type[Frame]) -> tuple[tuple[str, bool], ...]:
    """A frame class's fields in order, each with whether it is left out while None (worked out once)."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = tuple((f.name, f.default is None) for f in fields(cls))
    return layout


# ---------------------------------------------------------------- both sockets


@dataclass(frozen=True, slots=True)
class Ack(Frame):
    """A message is stored (sent only after it is persisted)."""

    type = ServerFrame.ACK
    client_id: str
    event_id: str
    conversation_id: str


@dataclass(frozen=True, slots=True)
class Event(Frame):
    """One timeline entry as it happens (the customer's copy holds only what a customer may see)."""

    type = ServerFrame.EVENT
    conversation_id: str
    event: JsonObject


@dataclass(frozen=True, slots=True)
class Error(Frame):
    """A frame refused, or a step failed: the error's code, message (field, retry_after, request_id when it
    has them), and the ``client_id`` / ``call_id`` of the frame it answers."""

    type = ServerFrame.ERROR
    error: GatewayError
    client_id: str | None = None
    call_id: str | None = None

    def as_dict(self) -> JsonObject:
        out: JsonObject = {"type": self.type, **self.error.to_dict()}
        if self.client_id:
            out["client_id"] = self.client_id
        if self.call_id:
            out["call_id"] = self.call_id
        return out


@dataclass(frozen=True, slots=True)
class CallIce(Frame):
    """ICE servers for the call this socket is about to offer (its ``call_ice``): with --turn-urls a TURN server
    and credentials made for that call, valid for the longest call; [] without."""

    type = ServerFrame.CALL_ICE
    call_id: str
    ice_servers: list[JsonObject]


@dataclass(frozen=True, slots=True)
class CallAnswer(Frame):
    """The gateway's SDP answer to this socket's ``call_offer`` (or a supervisor's ``call_monitor``)."""

    type = ServerFrame.CALL_ANSWER
    call_id: str
    sdp: str
    conversation_id: str | None = None  # the customer's: the conversation the call joined


@dataclass(frozen=True, slots=True)
class CallStatusFrame(Frame):
    """A call's status as the socket's owner sees it (docs/protocol.md "Calls" and "Agent calls")."""

    type = ServerFrame.CALL_STATUS
    call_id: str
    status: CallStatus
    reason: str
    conversation_id: str | None = None  # always for agents
    agent_id: str | None = None  # always for agents
    agent_name: str | None = None  # for agents, and the customer's from the bus
    message: str | None = None  # a refused call: what to show the customer
    ring_seconds: float | None = None  # ringing for this agent: ring this long
    consult: bool | None = None  # the consultant's side of a warm transfer
    from_agent_id: str | None = None
    from_agent_name: str | None = None
    monitor: bool | None = None  # a supervisor's listening


@dataclass(frozen=True, slots=True)
class CallSupervisorsFrame(Frame):
    """Who is on the call besides the agent and the caller, as this socket's owner may know it: to the agent's
    desk the supervisors whispering to them or barging in (``{"agent_id", "name", "mode"}``); to the caller's
    widget only the ones barging in, as ``{"mode": "barge"}`` (no name). [] when none is left. A supervisor
    listening silently is never told (docs/protocol.md)."""

    type = ServerFrame.CALL_SUPERVISORS
    call_id: str
    supervisors: list[JsonObject]
    conversation_id: str | None = None  # always for agents


# ---------------------------------------------------------------- customer socket


@dataclass(frozen=True, slots=True)
class Caption(Frame):
    """To the customer during a call: the text of the prompt that starts playing, or what the IVR understood
    (docs/protocol.md "Captions"). Transient: not a timeline event, not in the history after a reconnect."""

    type = ServerFrame.CAPTION
    call_id: str
    kind: CaptionKind
    text: str


@dataclass(frozen=True, slots=True)
class CustomerWelcome(Frame):
    type = ServerFrame.WELCOME
    token: str
    customer_id: str
    conversation: JsonObject | None
    events: list[JsonObject]
    queue_position: int | None
    calls: list[JsonObject]
    callback: JsonObject | None
    hours_open: bool | None  # open now by the line's opening hours (the widget's hours queue, else the chat flow's,
    # else the voice flow's); None: none
    widget: JsonObject  # the admin's settings: title, colour, accent, greeting, launcher_text, language, hours_queue
    ice_servers: list[JsonObject] | None = None  # with --turn-urls: a TURN server and credentials made for this socket


@dataclass(frozen=True, slots=True)
class AgentTyping(Frame):
    """To the customer: the agent is typing."""

    type = ServerFrame.TYPING
    conversation_id: str
    active: bool
    name: str


@dataclass(frozen=True, slots=True)
class QueuePosition(Frame):
    """To the customer: 1-based place in the queue while waiting."""

    type = ServerFrame.QUEUE
    conversation_id: str
    position: int
    back: bool | None = None  # true: it waits again (its agent let it go: a transfer to a queue, a sign-out)


# ---------------------------------------------------------------- agent socket


@dataclass(frozen=True, slots=True)
class AgentWelcome(Frame):
    type = ServerFrame.WELCOME
    agent: JsonObject
    conversations: list[JsonObject]
    queue: list[JsonObject]
    calls: list[JsonObject]
    roles: list[str]
    dispositions: list[JsonObject]  # the center's, [{code, label}] (gateway/contact/dispositions.py)
    agent_names: dict[str, str]  # every agent's display name by id: the desk shows names, not ids
    queue_names: list[str]  # every queue's name: the desk suggests them for a transfer to a queue
    takes_contacts: list[str]  # the enabled accounts with the agent role: the desk suggests them for a transfer
    away_reasons: list[JsonObject]  # the center's reasons to be away, [{code, label}] (gateway/contact/away_reasons.py)
    ice_servers: list[JsonObject] | None = None  # with --turn-urls: a TURN server and credentials made for this socket


@dataclass(frozen=True, slots=True)
class AgentNames(Frame):
    """To the desk: every agent's display name by id again, after an agent was added, renamed or removed (the
    welcome's ``agent_names``: a desk open before a colleague was created offers them for transfers too)."""

    type = ServerFrame.AGENT_NAMES
    agent_names: dict[str, str]
    takes_contacts: list[str]  # as the welcome's: who a chat or a call can be transferred to


@dataclass(frozen=True, slots=True)
class Codes(Frame):
    """To the desk: the center's code lists again, after an admin saved one (the welcome's ``away_reasons`` and
    ``dispositions``): the Away menu and the close offer what is on them now."""

    type = ServerFrame.CODES
    away_reasons: list[JsonObject]
    dispositions: list[JsonObject]


@dataclass(frozen=True, slots=True)
class CustomerTyping(Frame):
    """To the agent: the customer's live draft."""

    type = ServerFrame.TYPING
    conversation_id: str
    active: bool
    draft: str


@dataclass(frozen=True, slots=True)
class Waiting(Frame):
    """To agents: the waiting queue changed."""

    type = ServerFrame.QUEUE
    waiting: list[JsonObject]


@dataclass(frozen=True, slots=True)
class History(Frame):
    type = ServerFrame.HISTORY
    conversation: JsonObject | None
    events: list[JsonObject]


@dataclass(frozen=True, slots=True)
class AgentInfo(Frame):
    type = ServerFrame.AGENT
    agent: JsonObject


@dataclass(frozen=True, slots=True)
class Assigned(Frame):
    type = ServerFrame.ASSIGNED
    conversation: JsonObject | None


@dataclass(frozen=True, slots=True)
class Unassigned(Frame):
    type = ServerFrame.UNASSIGNED
    conversation_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Wallboard(Frame):
    """To supervisors who watch it (``wallboard`` client frame): the whole center now, every node's state
    (gateway/ops/wallboard.py; docs/protocol.md "Wallboard"). A snapshot, sent when something changed, at most
    once a second; times are epoch ms (the page works out durations against ``at``)."""

    type = ServerFrame.WALLBOARD
    at: int
    thresholds: JsonObject
    totals: JsonObject
    queues: list[JsonObject]
    agents: list[JsonObject]
    calls: list[JsonObject]
    help: list[JsonObject]  # agents' open requests for help, oldest first
