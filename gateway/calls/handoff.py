"""A call's way to an agent, as a named state machine: waiting, ringing, connecting, connected, held, consulting,
reconnecting.

A :class:`Handoff` lives from the moment the flow queues a call until the call
ends. Its :class:`HandoffState` is the one place that says where it stands; the
code that rings, answers, holds, consults, transfers or loses an agent moves it
with :meth:`Handoff.to` and one :class:`HandoffEvent`, and checks it (with the
questions on the state, e.g. :attr:`HandoffState.bridged`) instead of reading
which fields happen to be set. A transition the table does not list raises
:class:`IllegalTransition`: a bug, never a way to say no to a desk (the
commands check the state first and answer with a :class:`~gateway.errors.Conflict`).

The life of a hand-off, in short (:data:`TRANSITIONS` is the whole table)::

    WAITING -> RINGING -> CONNECTING -> CONNECTED <-> HELD      ring, answer, connect, hold / resume
    RINGING -> WAITING                                          miss: no answer, declined, desk gone
    CONNECTED or HELD -> RECONNECTING -> CONNECTED              drop: the agent's leg went (a desk reloaded),
                                                                reconnect: the same agent's new leg is up
    RECONNECTING -> WAITING                                     lose: their desk did not come back in time
    CONNECTED or HELD -> CONSULT_RINGING -> CONSULT_CONNECTING -> CONSULTING -> CONNECTED
                                                                consult ... complete (or consult_end)
    CONNECTED, HELD, CONSULT_* -> WAITING                       lose (agent leg gone), transfer
    CONNECTING -> WAITING or RINGING                            lose; answer_failed
    any -> ENDED                                                end

The timers (ring-no-answer, the agent's leg coming up) and the media stay in
:mod:`gateway.calls.ringing`, :mod:`gateway.calls.agent_calls` and :mod:`gateway.calls.consults`; this module
only decides whether a step is allowed and where it leads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from gateway.errors import Conflict, Forbidden, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.tasks import Tasks

if TYPE_CHECKING:
    from gateway.calls.manager import Call
    from gateway.calls.transcripts import CallTranscript
    from gateway.contact.agents import Agent
    from media.bridge import Bridge, Mix
    from media.leg import AudioLeg, Samples
    from media.recorder import StereoRecorder

log = logging.getLogger(__name__)


class HandoffState(StrEnum):
    WAITING = "waiting"  # in the queue, nobody rings (music on hold, announcements)
    RINGING = "ringing"  # the assigned agent's desk rings
    CONNECTING = "connecting"  # the agent answered; their leg is coming up
    CONNECTED = "connected"  # caller and agent bridged
    HELD = "held"  # bridged, the caller hears music
    CONSULT_RINGING = "consult_ringing"  # the caller holds while a colleague's desk rings
    CONSULT_CONNECTING = "consult_connecting"  # the colleague answered; their leg is coming up
    CONSULTING = "consulting"  # the two agents talk, the caller holds
    RECONNECTING = "reconnecting"  # the agent's leg dropped: the caller holds while their desk comes back
    ENDED = "ended"

    @property
    def has_agent(self) -> bool:
        """An agent is assigned to the call (ringing for them or on it)."""
        return self not in (HandoffState.WAITING, HandoffState.ENDED)

    @property
    def answered(self) -> bool:
        """The agent answered: their leg is coming up, bridged, or being reconnected."""
        return self.has_agent and self is not HandoffState.RINGING

    @property
    def bridged(self) -> bool:
        """Caller and agent are bridged (held or consulting included)."""
        return self.answered and self not in (HandoffState.CONNECTING, HandoffState.RECONNECTING)

    @property
    def consulting(self) -> bool:
        """A warm transfer is going on (gateway/calls/consults.py)."""
        return self in (HandoffState.CONSULT_RINGING, HandoffState.CONSULT_CONNECTING, HandoffState.CONSULTING)


class HandoffEvent(StrEnum):
    RING = "ring"  # routing assigned an agent
    MISS = "miss"  # no answer, declined, the desk went away
    ANSWER = "answer"  # the agent's offer claimed the call
    ANSWER_FAILED = "answer_failed"  # that offer could not be answered
    CONNECT = "connect"  # the agent's leg is up: bridge
    HOLD = "hold"
    RESUME = "resume"
    CONSULT = "consult"  # the agent rings a colleague
    CONSULT_ANSWER = "consult_answer"
    CONSULT_ANSWER_FAILED = "consult_answer_failed"
    CONSULT_CONNECT = "consult_connect"
    CONSULT_END = "consult_end"  # cancelled, declined, not answered, the colleague's leg lost
    COMPLETE = "complete"  # the colleague takes the call over
    TRANSFER = "transfer"  # blind transfer: back to waiting (for an agent or a queue)
    LOSE = "lose"  # the agent's leg failed or closed (and did not come back): back to waiting
    DROP = "drop"  # the agent's leg failed or closed mid-call: the caller holds for their desk to come back
    RECONNECT = "reconnect"  # the same agent's new leg is up: bridged again
    END = "end"  # the call ended


S = HandoffState
E = HandoffEvent
_BRIDGED = (S.CONNECTED, S.HELD, S.CONSULT_RINGING, S.CONSULT_CONNECTING, S.CONSULTING)

#: (from, event) -> to. Everything not listed is illegal.
TRANSITIONS: Mapping[tuple[HandoffState, HandoffEvent], HandoffState] = {
    (S.WAITING, E.RING): S.RINGING,
    (S.RINGING, E.MISS): S.WAITING,
    (S.RINGING, E.ANSWER): S.CONNECTING,
    (S.CONNECTING, E.ANSWER_FAILED): S.RINGING,
    (S.CONNECTING, E.CONNECT): S.CONNECTED,
    (S.CONNECTED, E.HOLD): S.HELD,
    (S.HELD, E.RESUME): S.CONNECTED,
    (S.CONNECTED, E.CONSULT): S.CONSULT_RINGING,
    (S.HELD, E.CONSULT): S.CONSULT_RINGING,
    (S.CONSULT_RINGING, E.CONSULT_ANSWER): S.CONSULT_CONNECTING,
    (S.CONSULT_CONNECTING, E.CONSULT_ANSWER_FAILED): S.CONSULT_RINGING,
    (S.CONSULT_CONNECTING, E.CONSULT_CONNECT): S.CONSULTING,
    (S.CONSULT_RINGING, E.CONSULT_END): S.CONNECTED,
    (S.CONSULT_CONNECTING, E.CONSULT_END): S.CONNECTED,
    (S.CONSULTING, E.CONSULT_END): S.CONNECTED,
    (S.CONSULTING, E.COMPLETE): S.CONNECTED,
    (S.CONNECTED, E.DROP): S.RECONNECTING,
    (S.HELD, E.DROP): S.RECONNECTING,
    (S.RECONNECTING, E.RECONNECT): S.CONNECTED,
    (S.RECONNECTING, E.LOSE): S.WAITING,
    **{(state, E.TRANSFER): S.WAITING for state in _BRIDGED},
    **{(state, E.LOSE): S.WAITING for state in (S.CONNECTING, *_BRIDGED)},
    **{(state, E.END): S.ENDED for state in HandoffState if state is not S.ENDED},
}


class IllegalTransition(Exception):
    """A hand-off was asked to take a step its state does not allow (a bug: callers check the state first)."""

    def __init__(self, state: HandoffState, event: HandoffEvent) -> None:
        super().__init__(f"hand-off cannot {event} while {state}")
        self.state = state
        self.event = event


def transition(state: HandoffState, event: HandoffEvent) -> HandoffState:
    """Where ``event`` takes a hand-off in ``state``; IllegalTransition when the table has no such step."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(state, event) from None


@dataclass
class Consult:
    """A warm transfer in progress: the colleague being consulted (gateway/calls/consults.py)."""

    agent_id: str
    agent_name: str
    leg: AudioLeg | None = None
    ring: asyncio.Task[None] | None = None


@dataclass
class Dropped:
    """The agent's leg dropped mid-call and their desk may come back (gateway/calls/rejoins.py)."""

    at_ms: int  # when it dropped (the agent's talk up to here is what a loss reports)
    why: str  # the leg's reason (connection_closed, ice_failed, agent_desk_closed, desk_reoffered)
    held: bool  # the caller was on hold: held again once the agent is back
    bridge: Bridge | None  # the closed bridge: its taps (recording, transcript) carry over to the next


@dataclass
class Monitor:
    """A supervisor on a connected call: listening silently, whispering to the agent or barging in."""

    agent_id: str
    leg: AudioLeg
    mode: str  # a MonitorMode: listen, whisper or barge
    name: str = ""  # the supervisor's display name: what the agent's desk says while they whisper or barge in


@dataclass
class Handoff:
    """One queued call's way to an agent (lives from 'queued' to the end of the call)."""

    call: Call
    queued_ms: int
    state: HandoffState = HandoffState.WAITING
    agent_id: str = ""
    agent_name: str = ""
    ring: asyncio.Task[None] | None = None
    leg: AudioLeg | None = None
    bridge: Bridge | None = None
    answered_ms: int = 0
    held_ms: int = 0  # on hold since the answer, holds that ended (ms)
    held_since_ms: int = 0  # when the hold going on began
    offered_ms: int = 0  # when it was last offered: queued (queued_ms), or transferred (to a queue or an agent)
    #: how long the caller waited before the agent on the call answered it (from offered_ms; a warm transfer's
    #: consultant takes the call with the first agent's): back in the queue after that agent is lost, the wait goes
    #: on from it, the talk is no wait (gateway/calls/agent_calls.py ``lose``)
    waited_ms: int = 0
    recorder: StereoRecorder | None = None
    answers: int = 0  # agents who answered so far (a re-queued call is answered again)
    queue_moves: int = 0  # overflows to another queue while it waited: the last one's music is the one played
    announced: list[str] = field(default_factory=list)  # position / wait announcements played
    monitors: dict[str, Monitor] = field(default_factory=dict)  # supervisor id -> their leg
    consult: Consult | None = None  # a warm transfer in progress
    consult_mix: Mix | None = None  # what the consulted agent hears (the first agent)
    dropped: Dropped | None = None  # the agent's leg dropped; their desk may come back (RECONNECTING)
    transcript: CallTranscript | None = None
    history: list[tuple[HandoffEvent, HandoffState]] = field(default_factory=list)
    callback_agent: str = ""  # the caller answered this agent's callback: their desk connects without ringing
    place_ms: int = 0  # and that callback's place in line (its booking): back in the queue, it keeps it
    chat_agent: str = ""  # the agent of the chat the call was placed from (rung first, straight from the chat)
    invited_by: str = ""  # the caller answered this agent's invitation to a call: their desk connects at once
    #: The call put its conversation in the queue itself (its flow queued it, or a miss or a lost agent requeued
    #: it); False while it goes straight to the chat's or the callback's agent. A takeover takes back only a
    #: conversation the call routed (gateway/calls/takeover.py).
    routed: bool = False
    tasks: Tasks = field(default_factory=lambda: Tasks("handoff", log))  # ring timers, leg set-up, announcements
    #: Told after every step (and :meth:`touched`): the call registry follows (gateway/calls/anchors.py).
    on_move: Callable[[Handoff], None] | None = None

    @property
    def from_own_chat(self) -> bool:
        """It rings for (or is with) the agent of the chat it was placed from: not routed to them, nor handed on to
        a colleague by a transfer. Declining it, or that agent being away or busy, leaves the chat with them."""
        return not self.routed and bool(self.chat_agent) and self.agent_id == self.chat_agent

    def talk_facts(self, now: int) -> dict[str, int]:
        """The current agent's part so far: ``talk_ms`` (from their answer, holds left out) and ``hold_ms`` ({}
        before an answer). Read before the state moves on (a hold going on counts up to ``now``)."""
        if not self.answered_ms:
            return {}
        held = self.held_ms + (now - self.held_since_ms if self.state is HandoffState.HELD else 0)
        if self.dropped is not None:  # the agent's leg dropped: the caller hears music until they are back
            held += max(0, now - self.dropped.at_ms)
        return {"talk_ms": max(0, now - self.answered_ms - held), "hold_ms": held}

    def to(self, event: HandoffEvent) -> HandoffState:
        """Take the step (IllegalTransition if the state does not allow it); returns the new state."""
        self.state = transition(self.state, event)
        self.history.append((event, self.state))
        self.touched()
        return self.state

    def touched(self) -> None:
        """Something the registry shows changed without a step (a consultant left a call that moved on)."""
        if self.on_move is not None:
            self.on_move(self)

    def rings_for(self, agent_id: str) -> bool:
        """Still ringing this agent (asked again after an await: the desk may have answered or gone)."""
        return self.state is HandoffState.RINGING and self.agent_id == agent_id

    def from_agent(self, samples: Samples) -> None:
        """20 ms of the agent's audio: to the caller, and to a consulted colleague while consulting."""
        if self.bridge is not None:
            self.bridge.from_b(samples)
        if self.consult_mix is not None:
            self.consult_mix.push("agent", samples)


class Handoffs(dict[str, Handoff]):
    """This node's hand-offs by call id, and who may act on which."""

    def __init__(self, live_calls: Mapping[str, Call]) -> None:
        super().__init__()
        self.live_calls = live_calls

    def for_agent(self, agent: Agent, call_id: str, *, answering: bool = False) -> Handoff:
        """The hand-off ``agent`` rings for or talks on; NotFound, Conflict ('not_ringing') or Forbidden if not."""
        handoff = self.get(call_id)
        if handoff is None:
            if call_id in self.live_calls:
                raise Conflict("the call is not waiting for an agent", field="call_id", code=ErrorCode.NOT_RINGING)
            raise NotFound(
                f"no call {call_id} on this node (it ended, or it is anchored on another node)", field="call_id"
            )
        if handoff.agent_id != agent.id:
            if handoff.state.answered and not answering:  # another agent's call in progress: not theirs to touch
                raise Forbidden("this call is another agent's", field="call_id")
            raise Conflict("this call is not for you", field="call_id", code=ErrorCode.NOT_RINGING)
        return handoff
