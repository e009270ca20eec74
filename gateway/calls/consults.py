"""Warm transfer: the agent consults another agent while the caller holds, then completes or cancels.

1. The agent on the call sends ``call_consult`` with ``action: start`` and the other agent's id.
   The caller goes on hold (music); the other agent's softphone rings with ``consult: true``.
2. The consultant answers with their softphone's offer (``call_offer``, as for any call). Once
   their leg is up, the two agents hear each other; the caller still hears music.
3. ``action: complete``: the conversation moves to the consultant (with everything in it), the
   caller is bridged to them and the first agent's leg ends (after-call work). ``action: cancel``
   (or the consultant declining, not answering, or dropping): the consultant's leg ends and the
   caller is back with the first agent.

A recording of the call goes on across the hand-over (the same file, the new agent on the right).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from gateway.calls.handoff import Consult, Handoff, HandoffEvent, Handoffs, HandoffState
from gateway.calls.legs import AgentLegs
from gateway.contact.agents import Agent
from gateway.contact.conversations import Conversations
from gateway.contact.presence import Presence, no_such_agent
from gateway.contact.routing import now_ms
from gateway.contact.wait_estimate import WaitEstimates
from gateway.errors import BadRequest, Conflict
from gateway.protocol.bus import CallUpdate
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentActivity, AgentStatus, CallStatus, EventType
from gateway.store.store import StoreError
from media.bridge import Mix
from media.leg import AudioLeg, Samples

log = logging.getLogger(__name__)
CONSULT_SOURCE = "consult"  # the consultant's voice in what the first agent hears
CONSULT_CONNECT_SECONDS = 15.0

S = HandoffState
E = HandoffEvent
AgentLost = Callable[[Handoff, AudioLeg, str], Awaitable[None]]  # the call's agent leg failed or closed


class Consults:
    def __init__(
        self,
        legs: AgentLegs,
        handoffs: Handoffs,
        conversations: Conversations,
        presence: Presence,
        *,
        ring_seconds: float,
        waits: WaitEstimates | None,
        wrap_up_seconds: float,
        agent_lost: AgentLost,
        owner: str = "",
    ) -> None:
        self.legs = legs
        self.handoffs = handoffs
        self.conversations = conversations
        self.presence = presence
        self.ring_seconds = ring_seconds
        self.waits = waits
        self.wrap_up_ms = int(wrap_up_seconds * 1000)
        self.agent_lost = agent_lost  # a consultant who took the call over and then dropped
        self.owner = owner  # this node: it owns the consultant's ringing / on_call (cleared if the node is lost)

    async def start(self, agent: Agent, call_id: str, to_agent: str) -> None:
        handoff = self.handoffs.for_agent(agent, call_id)
        if not handoff.state.bridged or handoff.bridge is None:
            raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        if handoff.state.consulting:
            raise Conflict("a consultation is already going on", field="call_id", code=ErrorCode.CONSULT_BUSY)
        if to_agent == agent.id:
            raise BadRequest("that is you", field="agent_id", code=ErrorCode.BAD_FIELD)
        self.presence.require_takes_contacts(to_agent)
        if not await self.presence.known(to_agent):
            raise Conflict(no_such_agent(to_agent), field="agent_id", code=ErrorCode.TRANSFER_REFUSED)
        info = await self.presence.info(to_agent)
        if info["status"] != AgentStatus.AVAILABLE or info["activity"]:
            raise Conflict(f"{to_agent} is not available", field="agent_id", code=ErrorCode.TRANSFER_REFUSED)
        music = await self.legs.hold_music(handoff.call)  # (before the last check: no await from there on)
        bridge = handoff.bridge
        if handoff.state not in (S.CONNECTED, S.HELD) or bridge is None or handoff.agent_id != agent.id:
            raise Conflict(
                "the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED
            )  # changed meanwhile
        handoff.to(E.CONSULT)
        consult = handoff.consult = Consult(to_agent, info["name"])
        bridge.hold(music.audio, music.packets)
        call = handoff.call
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_CONSULT,
            {"call_id": call_id, "agent_id": agent.id, "to_agent_id": to_agent, "action": "start"},
        )
        await self.presence.set_activity(to_agent, AgentActivity.RINGING, owner=self.owner)
        await self.legs.tell_agent(
            to_agent,
            CallUpdate(
                call_id,
                CallStatus.RINGING,
                "consult",
                conversation_id=call.conversation_id,
                agent_id=to_agent,
                agent_name=consult.agent_name,
                consult=True,
                from_agent_id=agent.id,
                from_agent_name=agent.name,
                ring_seconds=self.ring_seconds,
            ),
        )
        await self._tell(handoff, "consult_ringing")

        async def no_answer() -> None:
            await asyncio.sleep(self.ring_seconds)
            await self.cancel(handoff, "consult_no_answer")

        consult.ring = handoff.tasks.spawn(no_answer(), "consult-no-answer")

    def is_consultant(self, handoff: Handoff, agent: Agent) -> bool:
        return handoff.consult is not None and handoff.consult.agent_id == agent.id

    async def accept(self, handoff: Handoff, agent: Agent, offer_sdp: str) -> str:
        consult = handoff.consult
        assert consult is not None
        if handoff.state is not S.CONSULT_RINGING:
            raise Conflict("the consultation was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)

        def claim(leg: AudioLeg | None) -> None:
            if leg is not None:
                handoff.to(E.CONSULT_ANSWER)
                consult.leg = leg
                if consult.ring is not None:
                    consult.ring.cancel()
                    consult.ring = None
            elif handoff.consult is consult and handoff.state is S.CONSULT_CONNECTING:
                handoff.to(E.CONSULT_ANSWER_FAILED)
                consult.leg = None
            else:
                consult.leg = None

        leg, answer = await self.legs.answer_leg(
            offer_sdp,
            name=f"consult-{handoff.call.id}",
            claim=claim,
            on_audio=lambda leg, samples: self.hear(handoff, leg, samples),
            on_closed=lambda leg, why: handoff.tasks.spawn(self._leg_closed(handoff, leg, why), "consult-closed"),
        )
        handoff.tasks.spawn(self._connect(handoff, consult, leg), "consult-connect")
        return answer

    async def _connect(self, handoff: Handoff, consult: Consult, leg: AudioLeg) -> None:
        if not await leg.wait_connected(CONSULT_CONNECT_SECONDS):
            await self.cancel(handoff, "consult_ice_timeout")
            return
        if handoff.consult is not consult or handoff.state is not S.CONSULT_CONNECTING:
            return
        handoff.to(E.CONSULT_CONNECT)
        mix = handoff.consult_mix = Mix(3, "agent")  # the consultant hears the first agent
        leg.player.live = mix
        await self.presence.set_activity(consult.agent_id, AgentActivity.ON_CALL, owner=self.owner)
        await self._tell(handoff, "consulting")
        await self._tell_consultant(handoff, consult.agent_id, CallStatus.CONNECTED, "consulting")

    def hear(self, handoff: Handoff, leg: AudioLeg, samples: Samples) -> None:
        """The consultant's audio: to the first agent while consulting; the call's once they took it over."""
        if handoff.leg is leg:
            handoff.from_agent(samples)
        elif handoff.bridge is not None and handoff.consult is not None and handoff.consult.leg is leg:
            handoff.bridge.to_b.push(CONSULT_SOURCE, samples)

    async def complete(self, agent: Agent, call_id: str) -> None:
        handoff = self.handoffs.for_agent(agent, call_id)
        consult = handoff.consult
        if handoff.state is not S.CONSULTING or consult is None or consult.leg is None:
            raise Conflict("no consultation is connected", field="call_id", code=ErrorCode.NOT_CONSULTING)
        call = handoff.call
        # Switch the call over before the first await: whatever happens to the first agent's desk or leg
        # from here on (their socket closing on 'unassigned') no longer concerns this call.
        talk = handoff.talk_facts(now_ms())  # the first agent's part (the report's handle time)
        handoff.to(E.COMPLETE)
        old_leg, old_bridge, first_answered = handoff.leg, handoff.bridge, handoff.answered_ms
        handoff.consult, handoff.consult_mix = None, None
        if old_bridge is not None:
            old_bridge.close()
        handoff.leg, handoff.agent_id, handoff.agent_name = consult.leg, consult.agent_id, consult.agent_name
        handoff.bridge = call.bridge = self.legs.bridge(call, consult.leg, replacing=old_bridge)
        handoff.answered_ms, handoff.held_ms = now_ms(), 0
        try:
            await self.conversations.transfer(call.conversation_id, agent.id, consult.agent_id, consult.agent_name)
        except Conflict as exc:  # the call is theirs already; the chat side stays with the first agent
            log.warning(
                "warm transfer: conversation not moved: %s",
                exc.message,
                extra={"conversation_id": call.conversation_id},
            )
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_TRANSFERRED,
            {
                "call_id": call_id,
                "agent_id": agent.id,
                "to_agent_id": consult.agent_id,
                "to_queue": "",
                "warm": True,
                **talk,
            },
        )
        if self.waits is not None and first_answered:
            try:
                await self.waits.add_handle_time(now_ms() - first_answered)
            except StoreError as exc:
                log.warning(
                    "handle time not kept for the wait estimates: %s",
                    exc,
                    extra={"conversation_id": call.conversation_id},
                )
        await self.presence.set_activity(
            agent.id, AgentActivity.WRAP_UP, until_ms=now_ms() + self.wrap_up_ms, conversation=call.conversation_id
        )
        if old_leg is not None:
            self.legs.count_ended(old_leg.player)
            await old_leg.close()
        log.info(
            "warm transfer from %s to %s", agent.id, consult.agent_id, extra={"conversation_id": call.conversation_id}
        )
        await self.legs.status(handoff, CallStatus.CONNECTED)
        await self._tell_consultant(handoff, consult.agent_id, CallStatus.CONNECTED, "transferred_to_you")

    async def cancel_by(self, agent: Agent, call_id: str) -> None:
        """The first agent takes the caller back (or the consultant declines)."""
        handoff = self.handoffs.get(call_id)
        if handoff is None or not handoff.state.consulting or handoff.consult is None:
            raise Conflict("no consultation is going on", field="call_id", code=ErrorCode.NOT_CONSULTING)
        if agent.id not in (handoff.agent_id, handoff.consult.agent_id):
            raise Conflict("this consultation is not yours", field="call_id", code=ErrorCode.NOT_CONSULTING)
        await self.cancel(handoff, "consult_cancelled" if agent.id == handoff.agent_id else "consult_declined")

    async def cancel(self, handoff: Handoff, reason: str) -> None:
        """The consultation ends without a hand-over; the caller is back with the first agent (unless the call
        itself moved on: then only the consultant's side is closed)."""
        consult = handoff.consult
        if consult is None:
            return
        handoff.consult = None
        if handoff.state.consulting:
            handoff.to(E.CONSULT_END)
        else:
            handoff.touched()
        if consult.ring is not None and consult.ring is not asyncio.current_task():
            consult.ring.cancel()
        handoff.consult_mix = None
        if handoff.bridge is not None:
            handoff.bridge.to_b.remove(CONSULT_SOURCE)
            handoff.bridge.resume()
        if consult.leg is not None:
            self.legs.count_ended(consult.leg.player)  # its frames stay in the node's counters (/metrics)
            await consult.leg.close()
        await self.presence.set_activity(consult.agent_id, AgentActivity.NONE)
        await self.legs.tell_agent(
            consult.agent_id,
            CallUpdate(
                handoff.call.id,
                CallStatus.ENDED,
                reason,
                conversation_id=handoff.call.conversation_id,
                agent_id=consult.agent_id,
                consult=True,
            ),
        )
        await self.conversations.record(
            handoff.call.conversation_id,
            EventType.CALL_CONSULT,
            {
                "call_id": handoff.call.id,
                "agent_id": handoff.agent_id,
                "to_agent_id": consult.agent_id,
                "action": reason,
            },
        )
        await self._tell(handoff, reason)

    async def _leg_closed(self, handoff: Handoff, leg: AudioLeg, why: str) -> None:
        if handoff.leg is leg:  # the consultant had taken the call over: an agent leg lost
            await self.agent_lost(handoff, leg, why)
        elif handoff.consult is not None and handoff.consult.leg is leg:
            await self.cancel(handoff, "consult_lost")

    async def _tell(self, handoff: Handoff, reason: str) -> None:
        await self.legs.status(handoff, CallStatus.CONNECTED, reason)

    async def _tell_consultant(self, handoff: Handoff, agent_id: str, status: CallStatus, reason: str) -> None:
        """The consultant's desk does not follow the conversation (yet): tell it on its own channel."""
        await self.legs.tell_agent(
            agent_id,
            CallUpdate(
                handoff.call.id,
                status,
                reason,
                conversation_id=handoff.call.conversation_id,
                agent_id=agent_id,
                consult=True,
            ),
        )
