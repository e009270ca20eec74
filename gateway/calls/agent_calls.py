"""Agents answer calls: connect their softphone, bridge, hold, transfer, hang up.

When the IVR hands a call to routing, the call waits for its conversation to be
assigned and then rings the assigned agent's desk (:mod:`gateway.calls.ringing`:
music on hold, announcements, ring-no-answer). While it rings:

- the agent accepts by sending its own WebRTC offer for the call
  (``call_offer`` with the ``call_id``); the gateway answers it with a second
  :class:`~media.leg.AudioLeg` and, once that leg is connected, bridges the two
  legs (:class:`~media.bridge.Bridge`): the call stays anchored here, so hold
  and later recording or transcripts can tap it;
- on decline or no answer the agent is set *away* and the call goes back to
  the head of the queue (:meth:`~gateway.calls.ringing.Ringing.missed`);
- a second accept for the same call (another tab, another agent) is refused:
  the first accept claims the call before anything awaits.

If the agent's leg drops mid-call (a reloaded or closed tab, ICE failure), the
caller holds while the agent's desk comes back and offers a new leg
(:mod:`gateway.calls.rejoins`, up to ``agent_reconnect_seconds``); if it does
not, the caller is told and, by configuration, either goes back to the queue
(``requeue``, the default) or the call ends (``end``). A reconnect of the
agent's WebSocket alone does not touch the call: the media leg is what counts.

Where each call stands (waiting, ringing, connecting, connected, held,
consulting) is its :class:`~gateway.calls.handoff.Handoff`'s state; every step
here moves it through the one transition table in :mod:`gateway.calls.handoff`.

Calls are anchored on the node that answered the customer; a desk on another
node reaches them through :mod:`gateway.calls.commands`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gateway.calls.anchors import CallAnchors
from gateway.calls.consults import Consults
from gateway.calls.handoff import Handoff, HandoffEvent, Handoffs, HandoffState
from gateway.calls.legs import AgentLegs
from gateway.calls.manager import Call
from gateway.calls.monitors import CallMonitors, audible
from gateway.calls.rejoins import Rejoins
from gateway.calls.ringing import ANNOUNCE_SECONDS, RING_SECONDS, Ringing, taken_over
from gateway.calls.taps import CallTaps
from gateway.calls.transcripts import Transcripts
from gateway.contact.agents import Agent
from gateway.contact.callbacks import CallbackAnswer, Callbacks
from gateway.contact.conversations import Conversations
from gateway.contact.presence import Presence
from gateway.contact.routing import now_ms
from gateway.contact.wait_estimate import WaitEstimates
from gateway.errors import Conflict, GatewayError
from gateway.flows.speech import SpeechRecognition
from gateway.metrics import Metrics
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import (
    AgentActivity,
    AgentStatus,
    CallEndReason,
    CallStatus,
    EventType,
)
from gateway.store.store import StoreError
from ivr.actions import Say
from media.leg import AudioLeg
from media.player import PromptPlayer

log = logging.getLogger(__name__)

WRAP_UP_SECONDS = 60.0
AGENT_CONNECT_SECONDS = 15.0
LOST_AGENT_PROMPT = "We lost the connection to your agent. Please hold while we connect you to someone else."
TRANSFER_PROMPT = "Please hold while I transfer your call."
LOST_AGENT_END_PROMPT = "We lost the connection to your agent. Please call us again. Goodbye."

S = HandoffState
E = HandoffEvent


class AgentCalls:
    def __init__(
        self,
        legs: AgentLegs,
        conversations: Conversations,
        presence: Presence,
        live_calls: Mapping[str, Call],
        *,
        anchors: CallAnchors | None = None,
        callbacks: Callbacks | None = None,
        speech: SpeechRecognition | None = None,
        transcripts: Transcripts | None = None,
        ring_seconds: float = RING_SECONDS,
        agent_drop: str = "requeue",
        reconnect_seconds: float = 15.0,
        recordings: Path | None = None,
        waits: WaitEstimates | None = None,
        announce_seconds: float = ANNOUNCE_SECONDS,
        wrap_up_seconds: float = WRAP_UP_SECONDS,
        clock: Callable[[], int] = now_ms,
        metrics: Metrics | None = None,
    ) -> None:
        if agent_drop not in ("requeue", "end"):
            raise ValueError(f"agent_drop must be 'requeue' or 'end', not {agent_drop!r}")
        self.legs = legs
        self.conversations = conversations
        self.presence = presence
        self.anchors = anchors  # the call registry: which node holds each call, where it stands (None: not kept)
        self.node_id = anchors.node_id if anchors is not None else ""  # owns the agents' ringing / on_call
        self.callbacks = callbacks  # a call may be a callback being delivered (None: no callbacks)
        # the recording and the live transcript (opt-in per queue) of bridged calls
        self.taps = CallTaps(
            self._record, speech=speech, transcripts=transcripts, recordings=recordings, metrics=metrics
        )
        self.ring_seconds = ring_seconds
        self.agent_drop = agent_drop
        self.waits = waits
        self.wrap_up_seconds = wrap_up_seconds  # after-call work before routing offers new work
        self.connect_seconds = AGENT_CONNECT_SECONDS  # an answering leg that is not up by then counts as lost
        self.clock = clock  # ms: when a call waits, is answered, held, ends (tests inject one)
        self.handoffs = Handoffs(live_calls)  # call id -> handoff
        # waiting for an agent: music on hold, announcements, ringing the assigned agent, ring-no-answer
        self.ringing = Ringing(
            legs,
            conversations,
            presence,
            self.handoffs,
            anchors=anchors,
            ring_seconds=ring_seconds,
            waits=waits,
            announce_seconds=announce_seconds,
            clock=clock,
        )
        self.monitors = CallMonitors(legs, self.handoffs, conversations)  # supervisors listening in
        self.consults = Consults(
            legs,
            self.handoffs,
            conversations,
            presence,
            ring_seconds=ring_seconds,
            waits=waits,
            wrap_up_seconds=wrap_up_seconds,
            agent_lost=self.agent_lost,
            owner=self.node_id,
        )
        # a dropped agent leg: the caller holds while the agent's desk comes back (a reload)
        self.rejoins = Rejoins(
            legs,
            conversations,
            presence,
            grace_seconds=reconnect_seconds,
            connect_seconds=AGENT_CONNECT_SECONDS,
            say=lambda handoff, text: self._say(handoff.call, text, wait=False),
            lose=self.lose,
            leg_lost=self.agent_lost,
            status=self.status,
            clock=clock,
            owner=self.node_id,
        )

    async def stop(self) -> None:
        """The node stops, after its calls ended: what their ends left running (recordings being written)."""
        await self.taps.stop()

    # ---------------------------------------------------------------- the call's side

    async def waiting(
        self, call: Call, *, callback: CallbackAnswer | None = None, chat_agent: str = "", routed: bool = False
    ) -> None:
        """The call waits for an agent (gateway/calls/ringing.py): rung as soon as routing assigns one."""
        await self.ringing.waiting(call, callback=callback, chat_agent=chat_agent, routed=routed)

    async def call_ended(self, call: Call) -> dict[str, Any]:
        """Release everything the call had on the agent side (called once by :meth:`Call.end`). Returns what the
        call's ``call_ended`` event tells of it (none: it never waited for an agent): ``queued`` (it did),
        and if an agent was on it at the end ``agent_id``, ``talk_ms`` (from the answer, holds left out) and
        ``hold_ms``."""
        handoff = self.handoffs.pop(call.id, None)
        if handoff is None:
            return {}
        facts = self._end_facts(handoff)
        try:
            # hung up while waiting for an agent (first in line, or again after a transfer or a lost agent): the report
            # counts it abandoned only if its offer was still open (gateway/store/lua/includes/append.lua)
            # (a call its chat's agent declined, or could not take, was not abandoned: the caller was told, chats on)
            abandoned = not handoff.state.answered and call.end_reason not in (
                CallEndReason.AGENT_DECLINED,
                CallEndReason.AGENT_BUSY,
            )
            handoff.to(E.END)
            await self.ringing.let_go(handoff)
            taken = await taken_over(
                self.anchors, call
            )  # the node that took this one over freed its agents, decided its
            if taken:  # conversation and wrote its end: only the media here is closed
                log.warning(
                    "call ended after another node took it over", extra={"conversation_id": call.conversation_id}
                )
            if abandoned and not taken:
                waited = self.clock() - handoff.offered_ms
                log.info(
                    "call abandoned after %d ms in the queue", waited, extra={"conversation_id": call.conversation_id}
                )
                await self._record(
                    call,
                    EventType.CALL_ABANDONED,
                    {
                        "call_id": call.id,
                        "wait_ms": waited,
                        "reason": call.end_reason,
                        "ringing_agent_id": handoff.agent_id,
                    },
                )
            await self._disconnect(handoff, "" if taken else handoff.agent_id, agent_side=not taken)
            # nobody may be behind its conversation now (queued for nobody, or ringing an agent); not so for a call
            # ended because its agent dropped (--agent-drop end): that agent keeps the conversation, as after any call
            if abandoned and not taken and call.end_reason != "agent_lost":
                await self._caller_gone(handoff)
        finally:  # a recording is closed even when the release failed or the node's stop cancelled it
            await self.taps.finish_recording(handoff, handoff.agent_id)
        await handoff.tasks.close()
        return facts

    async def _caller_gone(self, handoff: Handoff) -> None:
        """The conversation of a call that ended while waiting for an agent: :meth:`Conversations.caller_gone`
        (closed ``abandoned`` unless the customer may still be behind it: chat messages, a booked callback)."""
        call = handoff.call
        try:
            after = await self.conversations.caller_gone(
                call.conversation_id,
                routed=handoff.routed,
                score=handoff.queued_ms or now_ms(),  # its place in the queue, as every requeue of a call keeps it
                reason="call_abandoned",
            )
        except (GatewayError, StoreError) as exc:
            log.warning(
                "conversation of an abandoned call left as it was: %s",
                exc,
                extra={"conversation_id": call.conversation_id},
            )
            return
        if after:
            log.info("conversation of an abandoned call: %s", after, extra={"conversation_id": call.conversation_id})

    def _end_facts(self, handoff: Handoff) -> dict[str, Any]:
        facts: dict[str, Any] = {"queued": True}
        if (handoff.state.bridged or handoff.state is S.RECONNECTING) and handoff.answered_ms:
            facts.update(agent_id=handoff.agent_id, **handoff.talk_facts(self.clock()))
        return facts

    # ---------------------------------------------------------------- the agent's side

    async def accept(self, agent: Agent, call_id: str, offer_sdp: str) -> str:
        """The agent answers with its softphone's offer; returns the SDP answer. Exactly one accept wins."""
        found = self.handoffs.get(call_id)
        if found is not None and self.consults.is_consultant(found, agent):
            return await self.consults.accept(found, agent, offer_sdp)
        handoff = self.handoffs.for_agent(agent, call_id, answering=True)
        if handoff.state in (S.RECONNECTING, S.CONNECTED, S.HELD):  # their desk is back (or its media died)
            return await self.rejoins.accept(handoff, agent, offer_sdp)
        if handoff.state is not S.RINGING:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        call = handoff.call

        def claim(leg: AudioLeg | None) -> None:  # before the first await: a second accept is refused
            if leg is not None:
                handoff.to(E.ANSWER)
                handoff.leg = leg
                if handoff.ring is not None:
                    handoff.ring.cancel()
                    handoff.ring = None
            elif handoff.state is S.CONNECTING:  # (not if the call ended meanwhile)
                handoff.to(E.ANSWER_FAILED)
                handoff.leg = None

        leg, answer = await self.legs.answer_agent(
            handoff, offer_sdp, name=f"agent-{call_id}", claim=claim, lost=self.agent_lost
        )
        log.info("agent %s answered", agent.id, extra={"conversation_id": call.conversation_id})
        handoff.tasks.spawn(self._connect(handoff, leg), "connect")
        return answer

    async def _connect(self, handoff: Handoff, leg: AudioLeg) -> None:
        if not await leg.wait_connected(self.connect_seconds):
            await self.agent_lost(handoff, leg, "agent_ice_timeout")
            return
        if handoff.state is not S.CONNECTING or handoff.leg is not leg:
            return
        call = handoff.call
        call.player.stop()  # music on hold (and any announcement) ends
        handoff.bridge = call.bridge = self.legs.bridge(call, leg)
        handoff.to(E.CONNECT)
        handoff.answered_ms = self.clock()
        handoff.waited_ms = max(0, handoff.answered_ms - handoff.offered_ms)
        handoff.held_ms = 0  # (the previous agent's talk and hold went into their transfer or lost event)
        handoff.answers += 1
        await self.taps.start(handoff)
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_ANSWERED,
            {
                "call_id": call.id,
                "agent_id": handoff.agent_id,
                "agent_name": handoff.agent_name,
                "wait_ms": handoff.answered_ms - handoff.offered_ms,  # in its current queue
                "answer": handoff.answers,  # 1: first answered (a dropped or transferred call is answered again)
            },
        )
        await self.presence.set_activity(handoff.agent_id, AgentActivity.ON_CALL, owner=self.node_id)
        if handoff.state.bridged and handoff.leg is leg:  # (not dropped meanwhile: its own status went out)
            await self.status(handoff, CallStatus.CONNECTED)
        if self.callbacks is not None:  # a callback being delivered: the customer is reached
            await self.callbacks.reached(call.conversation_id)

    async def decline(self, agent: Agent, call_id: str) -> None:
        found = self.handoffs.get(call_id)
        if found is not None and self.consults.is_consultant(found, agent):
            await self.consults.cancel_by(agent, call_id)
            return
        handoff = self.handoffs.for_agent(agent, call_id)
        if handoff.state is not S.RINGING:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        # placed from this agent's own chat: they cannot talk now, the chat stays theirs (a customer who answered
        # the agent's callback is another matter: the center called them, so they wait for the next agent)
        if handoff.from_own_chat:
            await self.ringing.chat_agent_cannot_talk(handoff)
            return
        await self.ringing.missed(handoff, "declined")

    async def went_away(self, agent: Agent, call_id: str) -> None:
        """The agent set themselves away while ``call_id`` rang for them (a consultation ringing for them the desk
        declines itself: desk/phone/frames.js ``onAgent``)."""
        handoff = self.handoffs.get(call_id)
        if handoff is not None and handoff.agent_id == agent.id and handoff.state is S.RINGING:
            await self.ringing.went_away(handoff)

    async def hold(self, agent: Agent, call_id: str, on: bool) -> None:
        handoff = self.handoffs.for_agent(agent, call_id)
        music = await self.legs.hold_music(handoff.call) if on else None  # (first: no await from the checks on)
        bridge = handoff.bridge
        if not handoff.state.bridged or bridge is None:
            raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        if handoff.state.consulting:  # the caller holds until the consultation ends
            raise Conflict("a consultation is going on", field="call_id", code=ErrorCode.CONSULT_BUSY)
        if on == (handoff.state is S.HELD):  # nothing to change; say where things stand
            await self.status(handoff, CallStatus.CONNECTED, "held" if on else "")
            return
        handoff.to(E.HOLD if on else E.RESUME)
        if music is not None:
            handoff.held_since_ms = self.clock()
            bridge.hold(music.audio, music.packets)
        else:
            handoff.held_ms += self.clock() - handoff.held_since_ms
            bridge.resume()
        await self.conversations.record(
            handoff.call.conversation_id,
            EventType.CALL_HELD if on else EventType.CALL_RESUMED,
            {"call_id": call_id, "agent_id": agent.id},
        )
        await self.status(handoff, CallStatus.CONNECTED, "held" if on else "")

    async def transfer(
        self, agent: Agent, call_id: str, *, queue: str | None = None, to_agent: str | None = None
    ) -> None:
        """Blind transfer: the caller holds (music) while the call rings ``to_agent``, or waits in ``queue``.

        The conversation (chat, IVR answers, notes) goes with it. A target agent who is not available is
        refused before anything changes; if the hand-over still fails, the caller goes back to the queue."""
        handoff = self.handoffs.for_agent(agent, call_id)
        if not handoff.state.bridged:
            raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        call = handoff.call
        target_name = ""
        if queue is not None:  # a queue the center has (any typed name made a queue of its own: an exploratory test)
            known = await self.conversations.queues.names() if self.conversations.queues is not None else None
            if known is not None and queue not in known:
                raise Conflict(
                    f"there is no queue '{queue}' (queues: {', '.join(sorted(known)) or 'none'})",
                    field="queue",
                    code=ErrorCode.TRANSFER_REFUSED,
                )
        if to_agent is not None:
            target_name = await self.presence.transfer_target(agent.id, to_agent)
            if not handoff.state.bridged or handoff.agent_id != agent.id:  # lost or ended meanwhile
                raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        talk = handoff.talk_facts(self.clock())  # the transferring agent's part (the report's handle time)
        agent_id = self._release(handoff, E.TRANSFER)  # nothing treats the call as this agent's any more
        # offered anew (to the new queue, or to the agent it goes to): its wait counts from now, so the next answer's
        # wait is the caller's wait since the transfer, not the first agent's talk with it
        handoff.offered_ms = self.clock()
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_TRANSFERRED,
            {"call_id": call_id, "agent_id": agent.id, "to_agent_id": to_agent or "", "to_queue": queue or "", **talk},
        )
        await self._disconnect(handoff, agent_id, why="call_transferred")
        await self._say(call, TRANSFER_PROMPT, wait=False)
        # the queue it goes to (an agent: the one it is in); not once the call is connected again
        await self.legs.play_hold_music(call, queue=queue, still=lambda: not handoff.state.bridged)
        moved = False
        if to_agent is not None:
            try:
                await self.conversations.transfer(call.conversation_id, agent.id, to_agent, target_name)
                moved = True
            except Conflict:
                log.warning(
                    "transfer to %s failed; back to the queue",
                    to_agent,
                    extra={"conversation_id": call.conversation_id},
                )
        if not moved:
            handoff.routed = True
            if to_agent is None:  # a new arrival in that queue: at the back, its timers from now (as a chat's)
                handoff.queued_ms = handoff.offered_ms
            await self.conversations.requeue(
                call.conversation_id, agent.id, "transferred", score=handoff.queued_ms, queue_name=queue or ""
            )
        if handoff.state is S.WAITING:  # (the new agent may be ringing already)
            await self.status(handoff, CallStatus.WAITING, "transferred")

    async def hangup(self, agent: Agent, call_id: str) -> None:
        found = self.handoffs.get(call_id)
        if found is not None and agent.id in found.monitors:  # a supervisor leaves; the call goes on
            await self.monitors.end(found, agent.id, "supervisor_hangup")
            return
        if found is not None and self.consults.is_consultant(found, agent):  # the consultant leaves
            await self.consults.cancel_by(agent, call_id)
            return
        handoff = self.handoffs.for_agent(agent, call_id)
        await handoff.call.end("agent_hangup")

    async def _record(self, call: Call, typ: EventType, data: dict[str, Any]) -> None:
        """On the timeline if it still takes it (a full or closed one does not: logged, the call goes on)."""
        try:
            await self.conversations.record(call.conversation_id, typ, data)
        except GatewayError as exc:
            log.info("%s not recorded: %s", typ, exc.message, extra={"conversation_id": call.conversation_id})

    def frame_stats(self) -> dict[str, int]:
        """Outgoing frame counters of the agent, consultant and supervisor legs of this node, ended and live."""
        return self.legs.frame_stats(self.live_players())

    def live_players(self) -> list[PromptPlayer]:
        """The outgoing tracks of this node's live agent, consultant and supervisor legs."""
        players: list[PromptPlayer] = [h.leg.player for h in self.handoffs.values() if h.leg is not None]
        for h in self.handoffs.values():
            players += [m.leg.player for m in h.monitors.values()]
            if h.consult is not None and h.consult.leg is not None:
                players.append(h.consult.leg.player)
        return players

    @property
    def wrap_up_ms(self) -> int:
        return int(self.wrap_up_seconds * 1000)

    async def add_handle_time(self, handoff: Handoff) -> None:
        """An agent's part of the call is over: its length feeds the wait estimates."""
        if self.waits is not None and handoff.answered_ms:
            try:
                await self.waits.add_handle_time(now_ms() - handoff.answered_ms)
            except StoreError as exc:
                log.warning(
                    "handle time not kept for the wait estimates: %s",
                    exc,
                    extra={"conversation_id": handoff.call.conversation_id},
                )

    async def wrap_up_done(self, agent_id: str, conversation: str = "") -> None:
        """After-call work is over if that is what the agent was doing: they pressed Done (no ``conversation``), or
        closed or handed on the conversation it is for (closing another chat meanwhile leaves it running)."""
        # (the stored activity: an agent with no desk open reads as having none, and would keep it for their return)
        if await self.presence.store.agent_field(agent_id, "activity") != AgentActivity.WRAP_UP:
            return
        for_conversation = await self.presence.store.agent_field(agent_id, "activity_conversation")
        if conversation and for_conversation and conversation != for_conversation:
            return
        await self.presence.set_activity(agent_id, AgentActivity.NONE)

    async def desk_closed(self, agent_id: str, *, offline: bool, for_good: bool = False) -> None:
        """A desk connection of the agent's closed: a leg of theirs stays, unless it has been silent since (a closed
        tab: rejoins.py); ``offline`` (it was their last): a call ringing for them is missed unless a desk is back
        soon (gateway/calls/ringing.py). ``for_good``: an admin removed or disabled the agent, no desk of theirs
        comes back: their calls go back to the queue at once (the caller held 15 s for a desk that could not
        return: an exploratory test)."""
        if offline:
            await self.ringing.agent_gone(agent_id)
        for handoff in list(self.handoffs.values()):
            if handoff.agent_id != agent_id:
                continue
            if for_good and (handoff.state.bridged or handoff.state is S.RECONNECTING):
                dropped = handoff.dropped
                await self.lose(handoff, "agent_removed", dropped.at_ms if dropped is not None else self.clock())
            else:
                self.rejoins.desk_gone(handoff)

    def where(self, call: Call) -> dict[str, str]:
        """Where the call stands on the agent side, for the call registry ({} before it waits for an agent)."""
        handoff = self.handoffs.get(call.id)
        if handoff is None:
            return {}
        consult = handoff.consult
        return {
            "status": "ringing" if handoff.state is S.RINGING else str(call.status),
            "state": str(handoff.state),
            "agent_id": handoff.agent_id,
            "consult_agent_id": consult.agent_id if consult is not None else "",
            "answered": "1" if handoff.answers else "0",
            "answered_ms": str(handoff.answered_ms),
            "held": "1" if handoff.state is S.HELD or (handoff.dropped and handoff.dropped.held) else "0",
            "queued_ms": str(handoff.queued_ms),
            "offered_ms": str(handoff.offered_ms),
            "routed": "1" if handoff.routed else "0",
            "ring_seconds": str(self.ring_seconds),
            "supervisors": json.dumps(audible(handoff), separators=(",", ":"), ensure_ascii=False),
            "rejoin": "1" if handoff.state is S.RECONNECTING else "0",
        }

    async def require_no_call_in(self, agent_id: str, cid: str) -> None:
        """Conflict (``call_in_progress``) while a call of conversation ``cid`` rings for or is connected to the
        agent, on any node: closing it then left the customer talking in a closed conversation (an exploratory test;
        a call whose agent's leg dropped is not theirs to keep: closing it ends it, gateway/calls/rejoins.py)."""
        for call in await self.calls_of(agent_id):
            if call["conversation_id"] != cid or call.get("rejoin"):
                continue
            raise Conflict(
                "this customer's call is ringing for you: answer or decline it first, then close the conversation"
                if call["status"] == CallStatus.RINGING
                else "you are on a call with this customer: hang up first, then close the conversation",
                field="conversation_id",
                code=ErrorCode.CALL_IN_PROGRESS,
            )

    async def calls_of(self, agent_id: str) -> list[dict[str, Any]]:
        """What is ringing for or connected to ``agent_id`` on any node (for a desk that reconnects)."""
        if self.anchors is not None:
            return await self.anchors.calls_of_agent(agent_id)
        return self.local_calls_of(agent_id)

    def local_calls_of(self, agent_id: str) -> list[dict[str, Any]]:
        """What is ringing for or connected to ``agent_id`` on this node."""
        return [
            {
                "call_id": h.call.id,
                "conversation_id": h.call.conversation_id,
                "status": "ringing" if h.state is S.RINGING else str(h.call.status),
                "held": bool(h.bridge and h.bridge.held) or bool(h.dropped and h.dropped.held),
                "ring_seconds": self.ring_seconds,
                "supervisors": audible(h),
                "rejoin": h.state is S.RECONNECTING,
                "answered_ms": h.answered_ms,
            }
            for h in self.handoffs.values()
            if h.agent_id == agent_id
        ]

    async def agent_lost(self, handoff: Handoff, leg: AudioLeg, why: str) -> None:
        """The agent's leg failed or closed while the caller is still there: the caller holds for the agent's desk
        to come back (rejoins.py), or the agent is lost at once (a consultation going on, no grace configured)."""
        if handoff.leg is not leg or not handoff.state.answered or handoff.call.ended.is_set():
            return  # another leg's, or the call already let go of this one (transferred, ended) and is closing it
        if handoff.state is S.RECONNECTING:  # a new leg that did not make it: the caller goes on holding
            await self.rejoins.new_leg_lost(handoff, leg, why)
        elif self.rejoins.waits_for(handoff):
            await self.rejoins.drop(handoff, leg, why)
        else:
            await self.lose(handoff, why, self.clock())

    async def lose(self, handoff: Handoff, why: str, at_ms: int) -> None:
        """The agent is lost (their leg went at ``at_ms`` and did not come back): the caller is told and goes back
        to the queue, or the call ends (``agent_drop``); the agent is set away."""
        call = handoff.call
        # the lost agent's part (up to the drop)
        talk = handoff.talk_facts(at_ms) if handoff.state.bridged or handoff.state is S.RECONNECTING else {}
        agent_id = self._release(handoff, E.LOSE)
        log.warning("agent leg lost (%s)", why, extra={"conversation_id": call.conversation_id, "agent_id": agent_id})
        # (listening supervisors hear why: the call goes on in the queue, it did not end: an exploratory test)
        await self._disconnect(handoff, agent_id, why="agent_lost" if self.agent_drop != "end" else "call_ended")
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_AGENT_LOST,
            {"call_id": call.id, "agent_id": agent_id, "reason": why, **talk},
        )
        if self.agent_drop == "end":
            await self._say(call, LOST_AGENT_END_PROMPT)
            await call.end("agent_lost")
            return
        # away first: an agent back at a desk who presses Available while the caller is told stays available
        await self.presence.set_status(agent_id, AgentStatus.AWAY, "call_lost")
        handoff.routed = True
        # back at its place in line; after a talk, its wait goes on from what it waited before the agent answered:
        # the talk is no wait (it overflowed at once past its queue's maximum wait, and the next answer said "waited
        # 1:58" for 6 s of waiting: an exploratory test). An agent who answered and never connected: its wait so far
        # goes on as it was.
        since = 0
        if talk:
            handoff.offered_ms = since = self.clock() - handoff.waited_ms
        handoff.answered_ms = 0
        if not await self.conversations.requeue(
            call.conversation_id, agent_id, "call_agent_lost", score=handoff.queued_ms, since=since
        ):  # closed meanwhile (the agent closed it while the caller held for them), or no longer theirs
            log.warning(
                "lost agent's conversation not requeued: the call ends", extra={"conversation_id": call.conversation_id}
            )
            await self._say(call, LOST_AGENT_END_PROMPT)
            await call.end("agent_lost")
            return
        await self.wrap_up_done(agent_id, call.conversation_id)  # the conversation is not theirs to wrap up now
        await self.status(handoff, CallStatus.WAITING, "agent_lost")  # (the widget says so as the caller is told)
        await self._say(call, LOST_AGENT_PROMPT, wait=False)
        await self.legs.play_hold_music(call, still=lambda: not handoff.state.bridged)

    # ---------------------------------------------------------------- helpers

    def _release(self, handoff: Handoff, event: HandoffEvent) -> str:
        """The agent lets go of the call at once (before any await), so nothing else treats it as theirs
        meanwhile; returns who it was."""
        agent_id = handoff.agent_id
        handoff.to(event)
        handoff.agent_id = handoff.agent_name = ""
        return agent_id

    async def _disconnect(
        self, handoff: Handoff, agent_id: str, *, agent_side: bool = True, why: str = "call_ended"
    ) -> None:
        """Close the agent side (consultation, ring, bridge, leg, supervisors, transcript, recording) of a call
        whose state already moved on (waiting again, or ended); ``agent_id`` is the agent it had. The agent's
        activity ends only if this node still owns it (a node that took this one over may have freed them, and
        they may be on another call now); ``agent_side`` False: nothing about the agents is written at all. ``why``
        is what listening supervisors are told (``call_transferred``: the call goes on with someone else)."""
        # the recording is written whatever fails before it (a node stopping with Redis gone, a leg that fails to
        # close): its writer thread would wait for close() for good and the file would stay a .part
        try:
            if handoff.consult is not None:
                await self.consults.cancel(handoff, "call_ended")
            if handoff.ring is not None:
                handoff.ring.cancel()
                handoff.ring = None
            talked = handoff.bridge is not None or handoff.dropped is not None  # (dropped: their desk did not return)
            handoff.dropped = None
            if talked and agent_side:
                await self.add_handle_time(handoff)
            if agent_id and (talked or handoff.leg is not None):
                until = now_ms() + self.wrap_up_ms
                await self.presence.release_activity(
                    agent_id,
                    self.node_id,
                    AgentActivity.WRAP_UP,
                    until_ms=until,
                    conversation=handoff.call.conversation_id,
                )
            elif agent_id:
                await self.presence.release_activity(agent_id, self.node_id, AgentActivity.NONE)
            for sid in list(handoff.monitors):  # (``why``: what their desk says: the call ended, or moved on)
                await self.monitors.end(handoff, sid, why)
            await self.taps.stop_transcript(handoff)
            if handoff.bridge is not None:
                handoff.bridge.close()
                handoff.bridge = handoff.call.bridge = None
            leg, handoff.leg = handoff.leg, None
            if leg is not None:
                self.legs.count_ended(leg.player)
                await leg.close()
        finally:
            await self.taps.finish_recording(handoff, agent_id)

    async def status(self, handoff: Handoff, status: CallStatus, reason: str = "") -> None:
        await self.legs.status(handoff, status, reason)

    async def _say(self, call: Call, text: str, *, wait: bool = True) -> None:
        if call.channel is None:
            return
        call.player.stop()
        try:
            done = await call.channel.say(Say(f"agent-{now_ms()}", text))
            if done is not None and wait:
                await done
        except Exception:  # the caller misses a sentence; the hand-over goes on
            log.exception("prompt %r not played", text, extra={"conversation_id": call.conversation_id})
