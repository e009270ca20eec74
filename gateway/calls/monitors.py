"""Supervisors on a connected call: listening silently, whispering to the agent only, or barging in.

A supervisor joins with their softphone's offer (``call_monitor`` with an
``sdp``); the gateway answers with a leg of its own whose player hears both
sides of the call mixed (:meth:`media.bridge.Bridge.listen`). In ``whisper``
mode what the supervisor says is mixed into what the agent hears
(:meth:`media.bridge.Bridge.whisper`), never into the caller's audio; in
``barge`` mode into what both the caller and the agent hear
(:meth:`media.bridge.Bridge.barge`): the supervisor is on the call. A
``call_monitor`` without ``sdp`` switches the mode; ``hangup`` from the
supervisor ends only their leg. Every join and switch is on the timeline
(``call_monitored``), and every end (``call_monitor_ended``).

Whoever hears the supervisor is told (``CallSupervisors`` on the conversation's channel, whenever the list of
audible supervisors changes): the agent's desk says "Sara is whispering to you" / "Sara joined the call", the
caller's widget "A supervisor joined the call" while one barges in. Silent listening is told to nobody but the
supervisor, as in the common contact-center products (Genesys Cloud, Amazon Connect, Twilio Flex): it is for
coaching and quality checks, and telling the agent would change what it observes.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.calls.handoff import Handoff, Handoffs, HandoffState, Monitor
from gateway.calls.legs import AgentLegs
from gateway.contact.agents import Agent
from gateway.contact.conversations import Conversations
from gateway.errors import Conflict, Forbidden
from gateway.protocol.bus import CallSupervisors, CallUpdate
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import CallStatus, EventType, MonitorMode
from media.leg import AudioLeg, Samples

log = logging.getLogger(__name__)
MONITOR_CONNECT_SECONDS = 15.0


class CallMonitors:
    def __init__(self, legs: AgentLegs, handoffs: Handoffs, conversations: Conversations) -> None:
        self.legs = legs
        self.handoffs = handoffs
        self.conversations = conversations

    def listing(self) -> list[dict[str, Any]]:
        """Calls of this node with an agent on them (ringing or connected)."""
        return [
            {
                "call_id": h.call.id,
                "conversation_id": h.call.conversation_id,
                "agent_id": h.agent_id,
                "agent_name": h.agent_name,
                "status": str(h.call.status),
                "held": bool(h.bridge and h.bridge.held) or bool(h.dropped and h.dropped.held),
                # the agent's leg dropped: the caller holds while their desk comes back (gateway/calls/rejoins.py)
                "reconnecting": h.state is HandoffState.RECONNECTING,
                "monitors": {sid: m.mode for sid, m in h.monitors.items()},
            }
            for h in self.handoffs.values()
            if h.state.has_agent
        ]

    async def monitor(self, supervisor: Agent, call_id: str, mode: str, offer_sdp: str | None) -> str | None:
        """Listen to (or whisper into) a connected call with the supervisor's softphone offer; with no
        offer, switch the mode of an existing monitor. Returns the SDP answer for a new monitor."""
        if not supervisor.supervises:
            raise Forbidden("only supervisors can listen to calls", field="call_id")
        handoff = self.handoffs.get(call_id)
        if handoff is None or not handoff.state.bridged or handoff.bridge is None:
            raise Conflict("the call is not connected to an agent", field="call_id", code=ErrorCode.NOT_CONNECTED)
        current = handoff.monitors.get(supervisor.id)
        if offer_sdp is None:
            if current is None:
                raise Conflict("you are not listening to this call", field="call_id", code=ErrorCode.NOT_MONITORING)
            audible_before = audible(handoff)
            current.mode = mode
            if handoff.bridge is not None:  # what they said in the old mode is not heard in the new one
                handoff.bridge.drop_source(_source(supervisor.id))
            await self._tell(handoff, supervisor.id, CallStatus.CONNECTED, mode)
            if audible(handoff) != audible_before:
                await self._tell_audible(handoff)
        else:
            if current is not None:
                raise Conflict(
                    "you are already listening to this call", field="call_id", code=ErrorCode.ALREADY_MONITORING
                )
            sid = supervisor.id

            def claim(leg: AudioLeg | None) -> None:
                if leg is None:
                    handoff.monitors.pop(sid, None)
                else:
                    handoff.monitors[sid] = Monitor(sid, leg, mode, supervisor.name)

            leg, answer = await self.legs.answer_leg(
                offer_sdp,
                name=f"monitor-{call_id}-{sid}",
                claim=claim,
                packets=False,
                on_audio=lambda _leg, samples: self._hear(handoff, sid, samples),
                on_closed=lambda _leg, why: handoff.tasks.spawn(self.end(handoff, sid, why), f"monitor-end-{sid}"),
            )
            handoff.tasks.spawn(self._connect(handoff, sid, leg), f"monitor-connect-{sid}")
        await self.conversations.record(
            handoff.call.conversation_id,
            EventType.CALL_MONITORED,
            {"call_id": call_id, "agent_id": supervisor.id, "mode": mode},
        )
        return answer if offer_sdp is not None else None

    async def end_all_of(self, sid: str, why: str) -> int:
        """End every monitor of supervisor ``sid`` on this node's calls (their role was taken away, or they were
        disabled or removed): how many."""
        ended = 0
        for handoff in list(self.handoffs.values()):
            if sid in handoff.monitors:
                await self.end(handoff, sid, why)
                ended += 1
        return ended

    async def _connect(self, handoff: Handoff, sid: str, leg: AudioLeg) -> None:
        if not await leg.wait_connected(MONITOR_CONNECT_SECONDS):
            await self.end(handoff, sid, "ice_timeout")
            return
        monitor = handoff.monitors.get(sid)
        if monitor is not None and monitor.leg is leg and handoff.bridge is not None:
            handoff.bridge.listen(leg.player)
            if monitor.mode != MonitorMode.LISTEN:  # heard from now on (a switch before this is told here too)
                await self._tell_audible(handoff)

    def _hear(self, handoff: Handoff, sid: str, samples: Samples) -> None:
        monitor = handoff.monitors.get(sid)
        if monitor is None or handoff.bridge is None:
            return
        if monitor.mode == MonitorMode.WHISPER:
            handoff.bridge.whisper(samples, _source(sid))
        elif monitor.mode == MonitorMode.BARGE:
            handoff.bridge.barge(samples, _source(sid))

    async def end(self, handoff: Handoff, sid: str, why: str) -> None:
        monitor = handoff.monitors.pop(sid, None)
        if monitor is None:
            return
        was_audible = monitor.mode != MonitorMode.LISTEN
        log.info(
            "supervisor %s stopped listening (%s)", sid, why, extra={"conversation_id": handoff.call.conversation_id}
        )
        if handoff.bridge is not None:
            handoff.bridge.unlisten(monitor.leg.player)
            handoff.bridge.drop_source(_source(sid))
        self.legs.count_ended(monitor.leg.player)
        await monitor.leg.close()
        await self._tell(handoff, sid, CallStatus.ENDED, why)
        if was_audible:
            await self._tell_audible(handoff)
        await self.conversations.record(
            handoff.call.conversation_id,
            EventType.CALL_MONITOR_ENDED,
            {"call_id": handoff.call.id, "agent_id": sid, "mode": monitor.mode, "reason": why},
        )

    async def _tell_audible(self, handoff: Handoff) -> None:
        """The call's agent (and the caller, for a barge-in) hear these supervisors now: tell the conversation, and
        the call registry (a desk or a widget that reconnects reads them in its ``welcome.calls``)."""
        handoff.touched()
        await self.legs.tell_conversation(
            handoff.call.conversation_id, CallSupervisors(handoff.call.id, audible(handoff))
        )

    async def _tell(self, handoff: Handoff, sid: str, status: CallStatus, reason: str) -> None:
        """The supervisor's desk does not follow the conversation: tell it on its own channel."""
        await self.legs.tell_agent(
            sid,
            CallUpdate(
                handoff.call.id,
                status,
                reason,
                monitor=True,
                conversation_id=handoff.call.conversation_id,
                agent_id=sid,
            ),
        )


def audible(handoff: Handoff) -> list[dict[str, str]]:
    """The supervisors the agent hears on this call (whispering or barging in), in the order they joined:
    ``{"agent_id", "name", "mode"}`` each."""
    return [
        {"agent_id": m.agent_id, "name": m.name or m.agent_id, "mode": str(m.mode)}
        for m in handoff.monitors.values()
        if m.mode != MonitorMode.LISTEN
    ]


def _source(sid: str) -> str:
    """The bridge's name for what supervisor ``sid`` says (whispered or barged in)."""
    return f"monitor-{sid}"
