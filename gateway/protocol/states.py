"""States and kinds the wire carries and Redis stores: every such string lives here once, as a ``StrEnum``.

A value read from Redis or a bus message is compared to (or converted into) one of these, never to a literal.
The browser code gets the same members from the generated ``webclient/static/shared/protocol.js``.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ConversationState(StrEnum):
    OPEN = "open"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"


class AgentActivity(StrEnum):
    """What an agent is doing with calls (agent info ``activity``); routing gives no new work meanwhile."""

    NONE = ""
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after-call work, until ``activity_until``


class BoardAgentState(StrEnum):
    """An agent's state on the supervisors' wallboard (``wallboard`` frame), derived from status and activity."""

    AVAILABLE = "available"  # available, not on a call and with room for a chat: the next one can go to them
    BUSY = "busy"  # on a call, being rung, or holding as many conversations as they can
    WRAP_UP = "wrap_up"  # after-call work
    AWAY = "away"


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class EventType(StrEnum):
    """Kinds of timeline entries. The timeline is append-only."""

    OPENED = "opened"
    MESSAGE = "message"
    NOTE = "note"
    STATE = "state"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    CONTEXT = "context"
    CALL_STARTED = "call_started"
    CALL_ENDED = "call_ended"
    IVR = "ivr"  # one IVR/bot step: prompt, input, choice, ... (kind, node, detail)
    CHOICES = "choices"  # a bot offers buttons: choices [{key, label}]
    CALL_ANSWERED = "call_answered"  # an agent's softphone connected: agent_id, agent_name, wait_ms
    CALL_MISSED = "call_missed"  # the ringing agent declined or did not answer: agent_id, reason
    CALL_HELD = "call_held"
    CALL_RESUMED = "call_resumed"
    CALL_AGENT_LOST = "call_agent_lost"  # the agent's leg dropped mid-call and did not come back: agent_id, reason
    CALL_REJOINED = "call_rejoined"  # the agent's leg dropped and their desk came back: agent_id, reason, gap_ms
    CALL_ABANDONED = "call_abandoned"  # the caller hung up before an agent answered: wait_ms, reason
    CALL_CONSULT = "call_consult"  # warm transfer steps: agent_id, to_agent_id, action
    CALL_MONITORED = "call_monitored"  # a supervisor listens, whispers or barges in (or switches): agent_id, mode
    CALL_MONITOR_ENDED = "call_monitor_ended"  # that supervisor left the call: agent_id, mode (the last), reason
    CALL_TRANSFERRED = "call_transferred"  # blind transfer: agent_id, to_agent_id or to_queue
    TRANSCRIPT = "transcript"  # one utterance of a live transcript: side, text, confidence, start/end
    RECORDING = "recording"  # a call's file: call_id, file, url, duration_ms, bytes, blocks_dropped, dropped_ms
    CALLBACK = "callback"  # a callback's life: action requested / queued / attempt / outcome / closed
    CALL_INVITE = "call_invite"  # an agent invites the customer to a voice call: agent_name, ring_until
    CALL_INVITE_DECLINED = "call_invite_declined"  # the customer declined that invitation: invite_id
    RATING = "rating"  # the customer rated the closed conversation: score (1-5), comment (once per conversation)
    ATTACHMENT = (
        "attachment"  # a file sent by either side: author, attachment_id, name, media_type, size[, width, height]
    )
    SUPERVISOR_JOINED = "supervisor_joined"  # a supervisor joined an agent's chat: agent_id, agent_name
    SUPERVISOR_LEFT = "supervisor_left"  # that supervisor left it: agent_id, agent_name, reason
    HELP_REQUESTED = "help_requested"  # its agent asked a supervisor for help: agent_id, agent_name, text
    HELP_ENDED = "help_ended"  # that request ended: agent_id (who asked), by_id, by_name, reason (cancelled/answered)


# What a customer may see of the timeline: notes and internal state stay hidden.
CUSTOMER_VISIBLE = frozenset(
    {
        EventType.OPENED,
        EventType.MESSAGE,
        EventType.ASSIGNED,
        EventType.CLOSED,
        EventType.CALL_STARTED,
        EventType.CALL_ENDED,
        EventType.CHOICES,
        EventType.CALL_ANSWERED,
        EventType.CALLBACK,
        EventType.CALL_INVITE,
        EventType.CALL_INVITE_DECLINED,
        EventType.RATING,
        EventType.ATTACHMENT,
        EventType.SUPERVISOR_JOINED,
        EventType.SUPERVISOR_LEFT,
    }
)


class CallStatus(StrEnum):
    CONNECTING = "connecting"
    RINGING = "ringing"
    IVR = "ivr"
    WAITING = "waiting"
    CONNECTED = "connected"
    ENDED = "ended"


class CallEndReason(StrEnum):
    """Reasons for a call's end (``call_status`` ``ended``, ``call_ended`` events) that the clients act on; other
    reasons (hang-ups, ICE, a flow's own) are shown as an ordinary end."""

    GATEWAY_SHUTDOWN = "gateway_shutdown"  # the node holding the call stopped (SIGTERM): ended before sockets closed
    NODE_LOST = "node_lost"  # the node holding the call died; a surviving node ended it (takeover)
    AGENT_DECLINED = "agent_declined"  # the agent of the chat it was placed from cannot talk now: the chat goes on
    AGENT_BUSY = "agent_busy"  # that agent is on another call (or rung for one): not rung; the chat goes on


class RingReason(StrEnum):
    """Why an agent's desk rings: the ``reason`` of a ``call_status`` ``ringing`` ("" for a call routing assigned)."""

    CALLBACK = "callback"  # the customer answered the callback this agent holds: the desk connects at once
    OWN_CHAT = "own_chat"  # the customer of the agent's own chat calls from it: declining leaves the chat theirs
    INVITE = "invite"  # the customer answered this agent's invitation to a call: the desk connects at once


class CaptionKind(StrEnum):
    """What a call caption is (``caption`` frame): transient text for the caller's widget, never stored."""

    PROMPT = "prompt"  # the text of the prompt that starts playing now
    SAID = "said"  # what the speech recognizer understood the caller to say
    KEYS = "keys"  # the keys the IVR took as the caller's answer


class CallbackState(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTING = "connecting"  # the customer answered: their call is on its way to the agent
    CLOSED = "closed"


class AttemptOutcome(StrEnum):
    """What an agent reports of a callback attempt (``callback_outcome`` frame)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


class MonitorMode(StrEnum):
    """How a supervisor is on a connected call (``call_monitor``): who hears them."""

    LISTEN = "listen"  # nobody hears the supervisor
    WHISPER = "whisper"  # the agent hears them, the caller does not
    BARGE = "barge"  # both the caller and the agent hear them (the supervisor joins the call)


class ConsultAction(StrEnum):
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
