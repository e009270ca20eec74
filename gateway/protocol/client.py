"""Client frames: what the browser sends, parsed into frozen dataclasses at the edge.

A frame that does not parse raises a :class:`~gateway.errors.BadRequest` naming the offending field, and
nothing past this module ever sees a half-parsed frame. Frames are JSON objects with a ``type``; the full
protocol is described in ``docs/protocol.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from gateway.errors import BadRequest, Unauthorized
from gateway.json_input import check_text, loads_object, without_bidi_controls
from gateway.protocol.codes import ErrorCode
from gateway.protocol.limits import (
    CONTEXT_KEY_RE,
    DTMF_KEYS,
    MAX_CLIENT_ID_CHARS,
    MAX_CONTEXT_KEYS,
    MAX_CONTEXT_VALUE_CHARS,
    MAX_DRAFT_CHARS,
    MAX_DTMF_DIGITS,
    MAX_FRAME_BYTES,
    MAX_HELP_TEXT_CHARS,
    MAX_RATING,
    MAX_RATING_COMMENT_CHARS,
    MAX_SDP_CHARS,
    MAX_TEXT_CHARS,
    MIN_RATING,
)
from gateway.protocol.states import AgentStatus, AttemptOutcome, ConsultAction, MonitorMode
from media.sdp_offer import BadOffer, check_offer

_E = TypeVar("_E", bound=StrEnum)
_DTMF_KEYS = frozenset(DTMF_KEYS)
_FLOW_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # ivr/loader.py FLOW_NAME_RE, at most 64 (gateway/flows/versions.py)
_VERSION_ID = re.compile(r"[0-9a-f]{12}")  # a version's content hash (ivr Flow.version)


class ClientFrame(StrEnum):
    HELLO = "hello"
    MESSAGE = "message"
    TYPING = "typing"
    NOTE = "note"
    STATUS = "status"
    OPEN = "open"
    CLOSE = "close"
    CALL_ICE = "call_ice"  # ICE servers (TURN credentials) for the call the client is about to offer
    CALL_OFFER = "call_offer"
    DTMF = "dtmf"
    HANGUP = "hangup"
    CALL_DECLINE = "call_decline"  # agent: do not take the ringing call
    CALL_HOLD = "call_hold"  # agent: hold (true) or resume (false) the connected call
    CALL_TRANSFER = "call_transfer"  # agent: blind transfer of the connected call to a queue or an agent
    CALL_MONITOR = "call_monitor"  # supervisor: listen to / whisper into / barge into a connected call (sdp: join)
    CALL_CONSULT = "call_consult"  # agent: warm transfer: start (agent_id) / complete / cancel
    CALL_INVITE = "call_invite"  # agent: ring the customer of a conversation in their browser
    CALLBACK_OUTCOME = "callback_outcome"  # agent: how a callback attempt went (reached / no_answer / wrong_number)
    CALLBACK_CANCEL = "callback_cancel"  # customer: cancel a pending callback or decline its ringing; agent: cancel
    # the booked callback of a conversation they hold
    CALL_INVITE_DECLINE = "call_invite_decline"  # customer: do not take the agent's invitation to a call
    RATING = "rating"  # customer: rate a closed conversation of theirs (score 1-5, optional comment), once
    END_CHAT = "end_chat"  # customer: end (close) their conversation: the widget's "End chat"
    WALLBOARD = "wallboard"  # supervisor: start (watch true) or stop (false) getting the wallboard frames
    WRAP_UP_DONE = "wrap_up_done"  # agent: after-call work is over (a call they handed on: nothing to close)
    TRANSFER = "transfer"  # agent: hand a chat (no call in progress) to another agent or to a queue; supervisor: any
    CHAT_WATCH = "chat_watch"  # supervisor: start (watch true) or stop (false) following a conversation live, silently
    CHAT_JOIN = "chat_join"  # supervisor: join (true) or leave (false) an agent's chat: the customer sees them
    HELP = "help"  # agent: ask a supervisor for help with a chat (active true) or cancel; supervisor: answer it


class TestChannel(StrEnum):
    """What a test run of a flow is: the chat bot (the default), or a test call only (no chat bot greets first)."""

    __test__ = False  # not a pytest test class (tests import it)

    CHAT = "chat"
    VOICE = "voice"


# ---------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True)
class TestFlow:
    """A test run's flow version (the flow console): ``test_flow`` of a customer ``hello`` or ``call_offer``."""

    __test__ = False

    name: str
    version: str
    channel: TestChannel = TestChannel.CHAT


@dataclass(frozen=True, slots=True)
class Hello:
    token: str | None
    last_event_id: str | None = None
    context: dict[str, str] = field(default_factory=dict)  # the browser's word: flow variables context.<key>
    customer_token: str | None = None  # signed by the site's backend: verified.<claim> (gateway/wire/site_tokens.py)
    presence: bool = True  # agent: false for a page that only watches (the wallboard): no desk session, not online
    test_flow: TestFlow | None = None  # a test run (customer socket): needs an admin's access token in admin_token
    admin_token: str | None = None


@dataclass(frozen=True, slots=True)
class SendMessage:
    client_id: str
    text: str
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendNote:
    conversation_id: str
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Typing:
    active: bool
    draft: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class SetStatus:
    status: AgentStatus
    reason: str = ""  # why away: "break", "lunch", "training", ... (free text, short)


@dataclass(frozen=True, slots=True)
class OpenConversation:
    conversation_id: str
    last_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class CloseConversation:
    conversation_id: str
    disposition: str


@dataclass(frozen=True, slots=True)
class CallOffer:
    call_id: str
    sdp: str
    test_flow: TestFlow | None = None  # a test call: only on a test run's socket, naming its hello's version


@dataclass(frozen=True, slots=True)
class CallIceRequest:
    call_id: str


@dataclass(frozen=True, slots=True)
class SendDtmf:
    call_id: str
    digits: str


@dataclass(frozen=True, slots=True)
class HangupCall:
    call_id: str


@dataclass(frozen=True, slots=True)
class DeclineCall:
    call_id: str


@dataclass(frozen=True, slots=True)
class HoldCall:
    call_id: str
    hold: bool


@dataclass(frozen=True, slots=True)
class MonitorCall:
    call_id: str
    mode: MonitorMode
    sdp: str | None = None  # the supervisor's offer to join; None: change mode


@dataclass(frozen=True, slots=True)
class ConsultCall:
    call_id: str
    action: ConsultAction
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class InviteToCall:
    conversation_id: str


@dataclass(frozen=True, slots=True)
class DeclineCallInvite:
    conversation_id: str


@dataclass(frozen=True, slots=True)
class EndChat:
    conversation_id: str


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    callback_id: str
    outcome: AttemptOutcome


@dataclass(frozen=True, slots=True)
class CancelCallback:
    callback_id: str


@dataclass(frozen=True, slots=True)
class RateConversation:
    conversation_id: str
    score: int  # MIN_RATING..MAX_RATING
    comment: str = ""  # at most MAX_RATING_COMMENT_CHARS


@dataclass(frozen=True, slots=True)
class WatchWallboard:
    watch: bool


@dataclass(frozen=True, slots=True)
class WrapUpDone:
    pass


@dataclass(frozen=True, slots=True)
class TransferChat:
    conversation_id: str
    queue: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class WatchChat:
    conversation_id: str
    watch: bool


@dataclass(frozen=True, slots=True)
class JoinChat:
    conversation_id: str
    join: bool


@dataclass(frozen=True, slots=True)
class AskHelp:
    conversation_id: str
    active: bool
    text: str = ""  # why, in a few words (at most MAX_HELP_TEXT_CHARS)


@dataclass(frozen=True, slots=True)
class TransferCall:
    call_id: str
    queue: str | None = None
    agent_id: str | None = None


Frame = (
    Hello
    | SendMessage
    | SendNote
    | Typing
    | SetStatus
    | OpenConversation
    | CloseConversation
    | CallOffer
    | SendDtmf
    | CallIceRequest
    | HangupCall
    | DeclineCall
    | HoldCall
    | TransferCall
    | MonitorCall
    | ConsultCall
    | InviteToCall
    | DeclineCallInvite
    | EndChat
    | CallbackOutcome
    | CancelCallback
    | RateConversation
    | WatchWallboard
    | WrapUpDone
    | TransferChat
    | WatchChat
    | JoinChat
    | AskHelp
)


# ---------------------------------------------------------------- parsing


def decode(raw: str | bytes) -> dict[str, Any]:
    """Bytes or text off the socket -> a JSON object, or a clear BadRequest (size and nesting checked before
    parsing: see gateway/json_input.py)."""
    return loads_object(raw, what="frame", max_bytes=MAX_FRAME_BYTES)


def _str(
    obj: dict[str, Any],
    name: str,
    *,
    max_len: int,
    required: bool = True,
    allow_empty: bool = False,
    multiline: bool = False,
    human: bool = False,
) -> str | None:
    """A string field: real text (no lone surrogate, no control character; ``multiline`` text may keep
    newlines and tabs, identifiers may not), within ``max_len``. What people write and others read (``human``:
    messages, notes, drafts, comments) loses its bidirectional override controls (gateway/json_input.py
    ``without_bidi_controls``); an SDP is kept as sent."""
    value = obj.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{name}' is required", field=name, code=ErrorCode.MISSING_FIELD)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string", field=name, code=ErrorCode.BAD_FIELD)
    if not allow_empty and not value.strip():
        raise BadRequest(f"'{name}' must not be empty", field=name, code=ErrorCode.BAD_FIELD)
    if len(value) > max_len:
        raise BadRequest(
            f"'{name}' is {len(value)} characters; the limit is {max_len}", field=name, code=ErrorCode.BAD_FIELD
        )
    value = check_text(value, name, multiline=multiline)
    if not human:
        return value
    value = without_bidi_controls(value)
    if not allow_empty and not value.strip():
        raise BadRequest(f"'{name}' must not be empty", field=name, code=ErrorCode.BAD_FIELD)
    return value


def _req(obj: dict[str, Any], name: str, *, max_len: int, multiline: bool = False, human: bool = False) -> str:
    value = _str(obj, name, max_len=max_len, multiline=multiline, human=human)
    assert value is not None
    return value


def _event_id(obj: dict[str, Any], name: str) -> str | None:
    value = _str(obj, name, max_len=40, required=False)
    if value is not None and parse_event_id(value) is None:
        raise BadRequest(f"'{name}' is not an event id", field=name, code=ErrorCode.BAD_FIELD)
    return value


def _context(obj: dict[str, Any]) -> dict[str, str]:
    ctx = obj.get("context", {})
    if not isinstance(ctx, dict):
        raise BadRequest("'context' must be an object of strings", field="context", code=ErrorCode.BAD_FIELD)
    if len(ctx) > MAX_CONTEXT_KEYS:
        raise BadRequest(
            f"'context' has {len(ctx)} keys; the limit is {MAX_CONTEXT_KEYS}", field="context", code=ErrorCode.BAD_FIELD
        )
    out: dict[str, str] = {}
    for key, value in ctx.items():
        if not CONTEXT_KEY_RE.fullmatch(key):  # fullmatch: "$" alone lets a trailing newline through
            raise BadRequest(
                f"context key {key[:40]!r} must be 1-40 lower_case letters, digits or _, starting with a letter",
                field="context",
                code=ErrorCode.BAD_FIELD,
            )
        if not isinstance(value, str) or len(value) > MAX_CONTEXT_VALUE_CHARS:
            raise BadRequest(
                f"'context.{key}' must be a string of at most {MAX_CONTEXT_VALUE_CHARS} characters",
                field=f"context.{key}",
                code=ErrorCode.BAD_FIELD,
            )
        # shown to agents ("Conversation started on ..."): no override disguising a link's end either
        out[key] = without_bidi_controls(check_text(value, f"context.{key}", multiline=True))
    return out


def parse_event_id(value: str) -> tuple[int, int] | None:
    """Redis stream id ``ms-seq`` -> a comparable tuple, or None."""
    ms, sep, seq = value.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit():
        return None
    return int(ms), int(seq)


_CUSTOMER_FRAMES = {
    ClientFrame.HELLO,
    ClientFrame.MESSAGE,
    ClientFrame.TYPING,
    ClientFrame.CALL_ICE,
    ClientFrame.CALL_OFFER,
    ClientFrame.DTMF,
    ClientFrame.HANGUP,
    ClientFrame.CALLBACK_CANCEL,
    ClientFrame.CALL_INVITE_DECLINE,
    ClientFrame.RATING,
    ClientFrame.END_CHAT,
}
_AGENT_FRAMES = set(ClientFrame) - {
    ClientFrame.DTMF,
    ClientFrame.CALL_INVITE_DECLINE,
    ClientFrame.RATING,
    ClientFrame.END_CHAT,
}


def _offer(obj: dict[str, Any], *, required: bool) -> str | None:
    """The ``sdp`` of an offer, checked at the edge as far as parsing can tell (media/sdp_offer.py): a bad one is
    ``bad_sdp`` (or ``no_audio``) whoever sends it and whatever the call's state."""
    sdp = _str(obj, "sdp", max_len=MAX_SDP_CHARS, required=required, multiline=True)
    if sdp is None:
        return None
    if not sdp.startswith("v=0"):
        raise BadRequest("'sdp' is not an SDP offer (it must start with v=0)", field="sdp", code=ErrorCode.BAD_SDP)
    try:
        check_offer(sdp)
    except BadOffer as exc:
        raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
    return sdp


def _flag(obj: dict[str, Any], name: str, *, default: bool) -> bool:
    value = obj.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false", field=name, code=ErrorCode.BAD_FIELD)
    return value


def _test_flow(obj: dict[str, Any]) -> TestFlow | None:
    """``test_flow``: ``{"name", "version", "channel"?}`` naming a flow version to run as a test (checked against the
    store, and the sender's admin token, by the customer socket)."""
    value = obj.get("test_flow")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("'test_flow' must be an object {name, version}", field="test_flow", code=ErrorCode.BAD_FIELD)
    name, version = value.get("name"), value.get("version")
    if not isinstance(name, str) or not _FLOW_NAME.fullmatch(name):
        raise BadRequest(
            "'test_flow.name' is a flow name (1-64 letters, digits, _ or -)",
            field="test_flow",
            code=ErrorCode.BAD_FIELD,
        )
    if not isinstance(version, str) or not _VERSION_ID.fullmatch(version):
        raise BadRequest(
            "'test_flow.version' is a version id (12 hex digits)", field="test_flow", code=ErrorCode.BAD_FIELD
        )
    channel = _member(TestChannel, value.get("channel", TestChannel.CHAT))
    if channel is None:
        raise BadRequest("'test_flow.channel' must be 'chat' or 'voice'", field="test_flow", code=ErrorCode.BAD_FIELD)
    return TestFlow(name, version, channel)


def _test_hello(obj: dict[str, Any]) -> tuple[TestFlow | None, str | None]:
    """A customer hello's test run and the admin token it comes with: one without the other is refused."""
    test_flow = _test_flow(obj)
    admin_token = _str(obj, "admin_token", max_len=2048, required=False)
    if test_flow is not None and admin_token is None:
        raise Unauthorized(
            "a test run ('test_flow') needs an admin's access token in 'admin_token'", field="admin_token"
        )
    if test_flow is None and admin_token is not None:
        raise BadRequest(
            "'admin_token' is only for a test run ('test_flow')", field="admin_token", code=ErrorCode.BAD_FIELD
        )
    return test_flow, admin_token


def _member(enum: type[_E], value: object) -> _E | None:
    """``value`` as a member of ``enum``, or None when it is not one of its strings."""
    return enum(value) if isinstance(value, str) and value in enum._value2member_map_ else None


def parse(obj: dict[str, Any], *, role: str) -> Frame:
    """A decoded JSON object -> a typed frame for ``role`` ('customer' or 'agent')."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise BadRequest("'type' is required", field="type", code=ErrorCode.MISSING_FIELD)
    try:
        frame_type = ClientFrame(kind)
    except ValueError:
        raise BadRequest(f"unknown frame type {kind[:40]!a}", field="type", code=ErrorCode.UNKNOWN_TYPE) from None
    allowed = _CUSTOMER_FRAMES if role == "customer" else _AGENT_FRAMES
    if frame_type not in allowed:
        raise BadRequest(f"frame type '{kind}' is not allowed for a {role}", field="type", code=ErrorCode.UNKNOWN_TYPE)
    conv_required = role == "agent"

    match frame_type:
        case ClientFrame.HELLO:
            test_flow, admin_token = _test_hello(obj) if role == "customer" else (None, None)
            return Hello(
                token=_str(obj, "token", max_len=2048, required=False),
                last_event_id=_event_id(obj, "last_event_id"),
                context=_context(obj),
                customer_token=_str(obj, "customer_token", max_len=4096, required=False)
                if role == "customer"
                else None,
                presence=_flag(obj, "presence", default=True) if role == "agent" else True,
                test_flow=test_flow,
                admin_token=admin_token,
            )
        case ClientFrame.MESSAGE:
            return SendMessage(
                client_id=_req(obj, "client_id", max_len=MAX_CLIENT_ID_CHARS),
                text=_req(obj, "text", max_len=MAX_TEXT_CHARS, multiline=True, human=True),
                conversation_id=_str(obj, "conversation_id", max_len=64, required=conv_required),
            )
        case ClientFrame.NOTE:
            return SendNote(
                conversation_id=_req(obj, "conversation_id", max_len=64),
                client_id=_req(obj, "client_id", max_len=MAX_CLIENT_ID_CHARS),
                text=_req(obj, "text", max_len=MAX_TEXT_CHARS, multiline=True, human=True),
            )
        case ClientFrame.TYPING:
            active = obj.get("active")
            if not isinstance(active, bool):
                raise BadRequest("'active' must be true or false", field="active", code=ErrorCode.BAD_FIELD)
            return Typing(
                active=active,
                draft=_str(
                    obj, "draft", max_len=MAX_DRAFT_CHARS, required=False, allow_empty=True, multiline=True, human=True
                ),
                conversation_id=_str(obj, "conversation_id", max_len=64, required=conv_required),
            )
        case ClientFrame.STATUS:
            status = obj.get("status")
            if status not in (AgentStatus.AVAILABLE, AgentStatus.AWAY):
                raise BadRequest("'status' must be 'available' or 'away'", field="status", code=ErrorCode.BAD_FIELD)
            reason = _str(obj, "reason", max_len=40, required=False, allow_empty=True) or ""
            return SetStatus(status=AgentStatus(status), reason=reason if status == AgentStatus.AWAY else "")
        case ClientFrame.OPEN:
            return OpenConversation(
                conversation_id=_req(obj, "conversation_id", max_len=64), last_event_id=_event_id(obj, "last_event_id")
            )
        case ClientFrame.CLOSE:
            return CloseConversation(
                conversation_id=_req(obj, "conversation_id", max_len=64),
                disposition=_req(obj, "disposition", max_len=64),
            )
        case ClientFrame.CALL_OFFER:
            sdp = _offer(obj, required=True)
            assert sdp is not None
            return CallOffer(
                call_id=_req(obj, "call_id", max_len=64),
                sdp=sdp,
                test_flow=_test_flow(obj) if role == "customer" else None,
            )
        case ClientFrame.CALL_ICE:
            return CallIceRequest(call_id=_req(obj, "call_id", max_len=64))
        case ClientFrame.DTMF:
            digits = _req(obj, "digits", max_len=MAX_DTMF_DIGITS)
            if not set(digits) <= _DTMF_KEYS:
                raise BadRequest("'digits' may hold only 0-9, *, # and A-D", field="digits", code=ErrorCode.BAD_FIELD)
            return SendDtmf(call_id=_req(obj, "call_id", max_len=64), digits=digits)
        case ClientFrame.HANGUP:
            return HangupCall(call_id=_req(obj, "call_id", max_len=64))
        case ClientFrame.CALL_DECLINE:
            return DeclineCall(call_id=_req(obj, "call_id", max_len=64))
        case ClientFrame.CALL_HOLD:
            hold = obj.get("hold")
            if not isinstance(hold, bool):
                raise BadRequest("'hold' must be true or false", field="hold", code=ErrorCode.BAD_FIELD)
            return HoldCall(call_id=_req(obj, "call_id", max_len=64), hold=hold)
        case ClientFrame.CALL_MONITOR:
            mode = _member(MonitorMode, obj.get("mode", MonitorMode.LISTEN))
            if mode is None:
                raise BadRequest(
                    f"'mode' must be one of {', '.join(MonitorMode)}", field="mode", code=ErrorCode.BAD_FIELD
                )
            offer = _offer(obj, required=False)
            return MonitorCall(call_id=_req(obj, "call_id", max_len=64), mode=mode, sdp=offer)
        case ClientFrame.CALL_CONSULT:
            action = _member(ConsultAction, obj.get("action"))
            if action is None:
                raise BadRequest(
                    "'action' must be 'start', 'complete' or 'cancel'", field="action", code=ErrorCode.BAD_FIELD
                )
            consultant = _str(obj, "agent_id", max_len=64, required=action == ConsultAction.START)
            return ConsultCall(call_id=_req(obj, "call_id", max_len=64), action=action, agent_id=consultant)
        case ClientFrame.CALL_TRANSFER:
            queue = _str(obj, "queue", max_len=64, required=False)
            agent_id = _str(obj, "agent_id", max_len=64, required=False)
            if (queue is None) == (agent_id is None):
                raise BadRequest("give exactly one of 'queue' or 'agent_id'", field="queue", code=ErrorCode.BAD_FIELD)
            return TransferCall(call_id=_req(obj, "call_id", max_len=64), queue=queue, agent_id=agent_id)
        case ClientFrame.CALL_INVITE:
            return InviteToCall(conversation_id=_req(obj, "conversation_id", max_len=64))
        case ClientFrame.CALLBACK_OUTCOME:
            outcome = _member(AttemptOutcome, obj.get("outcome"))
            if outcome is None:
                raise BadRequest(
                    f"'outcome' must be one of {', '.join(AttemptOutcome)}", field="outcome", code=ErrorCode.BAD_FIELD
                )
            return CallbackOutcome(callback_id=_req(obj, "callback_id", max_len=64), outcome=outcome)
        case ClientFrame.CALLBACK_CANCEL:
            return CancelCallback(callback_id=_req(obj, "callback_id", max_len=64))
        case ClientFrame.CALL_INVITE_DECLINE:
            return DeclineCallInvite(conversation_id=_req(obj, "conversation_id", max_len=64))
        case ClientFrame.END_CHAT:
            return EndChat(conversation_id=_req(obj, "conversation_id", max_len=64))
        case ClientFrame.WALLBOARD:
            return WatchWallboard(watch=_flag(obj, "watch", default=True))
        case ClientFrame.WRAP_UP_DONE:
            return WrapUpDone()
        case ClientFrame.TRANSFER:
            queue = _str(obj, "queue", max_len=64, required=False)
            agent_id = _str(obj, "agent_id", max_len=64, required=False)
            if (queue is None) == (agent_id is None):
                raise BadRequest("give exactly one of 'queue' or 'agent_id'", field="queue", code=ErrorCode.BAD_FIELD)
            return TransferChat(
                conversation_id=_req(obj, "conversation_id", max_len=64), queue=queue, agent_id=agent_id
            )
        case ClientFrame.CHAT_WATCH:
            return WatchChat(
                conversation_id=_req(obj, "conversation_id", max_len=64), watch=_flag(obj, "watch", default=True)
            )
        case ClientFrame.CHAT_JOIN:
            return JoinChat(
                conversation_id=_req(obj, "conversation_id", max_len=64), join=_flag(obj, "join", default=True)
            )
        case ClientFrame.HELP:
            text = _str(obj, "text", max_len=MAX_HELP_TEXT_CHARS, required=False, allow_empty=True, human=True)
            return AskHelp(
                conversation_id=_req(obj, "conversation_id", max_len=64),
                active=_flag(obj, "active", default=True),
                text=(text or "").strip(),
            )
        case ClientFrame.RATING:
            score = obj.get("score")
            # an integer, not a bool (True is an int in Python) nor 4.0: the browser sends the button's number
            if isinstance(score, bool) or not isinstance(score, int) or not MIN_RATING <= score <= MAX_RATING:
                raise BadRequest(
                    f"'score' must be a whole number from {MIN_RATING} to {MAX_RATING}",
                    field="score",
                    code=ErrorCode.BAD_FIELD,
                )
            comment = _str(
                obj,
                "comment",
                max_len=MAX_RATING_COMMENT_CHARS,
                required=False,
                allow_empty=True,
                multiline=True,
                human=True,
            )
            return RateConversation(
                conversation_id=_req(obj, "conversation_id", max_len=64),
                score=score,
                comment=(comment or "").strip(),
            )
    raise AssertionError(frame_type)  # pragma: no cover - every member is matched above
