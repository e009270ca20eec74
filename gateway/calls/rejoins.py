"""An agent's leg drops mid-call (a desk reloaded, a tab closed, a laptop changed networks): the caller holds while
the same agent's desk comes back, instead of going straight back to the queue.

1. **Drop.** The agent's leg of a connected (or held) call closes or fails, or a desk socket of theirs closed and
   the leg has been silent since (:meth:`Rejoins.desk_gone`: a closed tab sends no DTLS close, so aiortc would
   only notice after its 30 s consent timeout). The hand-off goes ``reconnecting``: the agent keeps the call and
   the conversation, the bridge closes, the caller hears :data:`REJOIN_PROMPT` then music, and the conversation's
   sockets hear ``call_status`` ``waiting`` ``agent_reconnecting``. The agent's desks list the call in
   ``welcome.calls`` with ``rejoin: true``.
2. **Rejoin.** A desk of that agent sends ``call_offer`` for the call, as to answer it (a reloaded desk does so by
   itself; also while the gateway still thinks the old leg is up: the desk knows its media died first, and the
   old leg is dropped for the new one). A new leg answers; once up it is bridged (the taps, a recording or a live
   transcript, carry over; supervisors listening hear it again), held again if the caller was on hold, and the
   timeline gets ``call_rejoined`` (``gap_ms``: how long the caller waited).
3. **Give up.** Not back within ``agent_reconnect_seconds``: the loss as before it
   (:meth:`gateway.calls.agent_calls.AgentCalls.lose`): ``call_agent_lost`` with the agent's talk up to the
   drop, the caller back in the queue (or the call ended: ``--agent-drop end``), the agent set away.

A consultation going on when the leg drops is not waited for (it is lost at once, as before).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from gateway.calls.handoff import Dropped, Handoff, HandoffEvent, HandoffState
from gateway.calls.legs import AgentLegs
from gateway.calls.manager import SILENT_SECONDS
from gateway.contact.agents import Agent
from gateway.contact.conversations import Conversations
from gateway.contact.presence import Presence
from gateway.errors import BadRequest, Conflict
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentActivity, CallStatus, EventType
from media.leg import AudioLeg, BadOffer, check_offer

log = logging.getLogger(__name__)

REJOIN_PROMPT = "Your agent's connection dropped. Please hold a moment while they reconnect."
#: A desk offering a new leg for a call still connected here: its old leg counts as alive (another tab's) if it
#: is not silent this long (:meth:`~media.leg.AudioLeg.silent_for`).
ALIVE_CHECK_SECONDS = 0.5

S = HandoffState
E = HandoffEvent

Say = Callable[[Handoff, str], Awaitable[None]]
Lose = Callable[[Handoff, str, int], Awaitable[None]]
LegLost = Callable[[Handoff, AudioLeg, str], Coroutine[Any, Any, None]]
Status = Callable[[Handoff, CallStatus, str], Awaitable[None]]


class Rejoins:
    """The dropped agent legs of this node's calls and their way back (one per hand-off: ``handoff.dropped``)."""

    def __init__(
        self,
        legs: AgentLegs,
        conversations: Conversations,
        presence: Presence,
        *,
        grace_seconds: float,
        connect_seconds: float,
        say: Say,
        lose: Lose,
        leg_lost: LegLost,
        status: Status,
        clock: Callable[[], int],
        owner: str,
    ) -> None:
        self.legs = legs
        self.conversations = conversations
        self.presence = presence
        self.grace_seconds = grace_seconds  # 0: a dropped leg is lost at once
        self.connect_seconds = connect_seconds  # a new leg not up by then is closed (the grace goes on)
        self.say = say  # a sentence to the caller, not waited for
        self.lose = lose  # (handoff, why, dropped at ms): the agent is lost after all
        self.leg_lost = leg_lost  # what an agent leg's close or failure runs (AgentCalls.agent_lost)
        self.status = status
        self.clock = clock
        self.owner = owner  # this node: it owns the activity (on a call) of the agents on its calls

    def waits_for(self, handoff: Handoff) -> bool:
        """Whether a drop of this hand-off's agent leg is waited for (else it is lost at once)."""
        return self.grace_seconds > 0 and handoff.state in (S.CONNECTED, S.HELD)

    async def drop(self, handoff: Handoff, leg: AudioLeg, why: str) -> None:
        """The agent's leg of a connected or held call is gone: the caller holds, their desk may come back."""
        call = handoff.call
        now = self.clock()
        held = handoff.state is S.HELD
        if held:  # the hold ends here for the report's hold time; it is taken up again on the way back
            handoff.held_ms += now - handoff.held_since_ms
        dropped = handoff.dropped = Dropped(at_ms=now, why=why, held=held, bridge=handoff.bridge)
        handoff.to(E.DROP)
        bridge, handoff.bridge, handoff.leg = handoff.bridge, None, None
        call.bridge = None
        if bridge is not None:
            bridge.close()
        log.warning(
            "agent leg dropped (%s): waiting %.0f s for their desk",
            why,
            self.grace_seconds,
            extra={"conversation_id": call.conversation_id, "agent_id": handoff.agent_id},
        )
        self.legs.count_ended(leg.player)
        await leg.close()
        handoff.tasks.spawn(self._give_up_later(handoff, dropped), "rejoin-grace")
        if not held:  # (a caller on hold goes on hearing music: nothing changed for them yet)
            await self.say(handoff, REJOIN_PROMPT)
        if handoff.dropped is dropped and handoff.leg is None:  # (not back already)
            await self.legs.play_hold_music(call, still=lambda: handoff.dropped is dropped and handoff.leg is None)
            await self.status(handoff, CallStatus.WAITING, "agent_reconnecting")

    async def accept(self, handoff: Handoff, agent: Agent, offer_sdp: str) -> str:
        """A desk of the call's agent offers a new leg for it; returns the SDP answer. For a call still connected
        here, only if its leg has gone silent (the desk's media died before ours noticed): a leg that still
        receives is another tab's or device's, and stays."""
        try:
            check_offer(offer_sdp)  # (before anything changes: a bad offer leaves the call as it is)
        except BadOffer as exc:
            raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
        if self.grace_seconds <= 0:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        old = handoff.leg
        if handoff.state in (S.CONNECTED, S.HELD) and old is not None:
            silent = await old.silent_for(ALIVE_CHECK_SECONDS)
            if handoff.leg is old and handoff.state in (S.CONNECTED, S.HELD):
                if not silent:
                    raise Conflict(
                        "the call is connected to another desk of yours (another tab or device)",
                        field="call_id",
                        code=ErrorCode.ALREADY_ANSWERED,
                    )
                await self.drop(handoff, old, "desk_reoffered")
        dropped = handoff.dropped
        if handoff.state is not S.RECONNECTING or dropped is None:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        if handoff.leg is not None:
            raise Conflict(
                "the call is already reconnecting to another desk", field="call_id", code=ErrorCode.ALREADY_ANSWERED
            )
        call = handoff.call

        def claim(leg: AudioLeg | None) -> None:  # before the first await: a second offer is refused
            if leg is not None:
                handoff.leg = leg
            elif handoff.state is S.RECONNECTING:
                handoff.leg = None

        leg, answer = await self.legs.answer_agent(
            handoff, offer_sdp, name=f"agent-{call.id}-again", claim=claim, lost=self.leg_lost
        )
        log.info("agent %s rejoins the call", agent.id, extra={"conversation_id": call.conversation_id})
        handoff.tasks.spawn(self._connect(handoff, leg, dropped), "rejoin-connect")
        return answer

    async def _connect(self, handoff: Handoff, leg: AudioLeg, dropped: Dropped) -> None:
        if not await leg.wait_connected(self.connect_seconds):
            await self.leg_lost(handoff, leg, "agent_ice_timeout")
            return
        call = handoff.call
        music = await self.legs.hold_music(call) if dropped.held else None  # (first: no await from the check on)
        if handoff.state is not S.RECONNECTING or handoff.leg is not leg or handoff.dropped is not dropped:
            return
        call.player.stop()  # music on hold (and the prompt) end
        gap = self.clock() - dropped.at_ms
        handoff.held_ms += gap  # the caller heard music meanwhile: hold time, not talk time, in the reports
        handoff.dropped = None
        handoff.bridge = call.bridge = self.legs.bridge(call, leg, replacing=dropped.bridge)
        handoff.to(E.RECONNECT)
        for monitor in handoff.monitors.values():  # supervisors listening in hear the call again
            handoff.bridge.listen(monitor.leg.player)
        if music is not None:
            handoff.to(E.HOLD)
            handoff.held_since_ms = self.clock()
            handoff.bridge.hold(music.audio, music.packets)
        await self.presence.set_activity(handoff.agent_id, AgentActivity.ON_CALL, owner=self.owner)
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_REJOINED,
            {"call_id": call.id, "agent_id": handoff.agent_id, "reason": dropped.why, "gap_ms": gap},
        )
        log.info("agent back on the call after %d ms", gap, extra={"conversation_id": call.conversation_id})
        bridge = handoff.bridge
        if bridge is not None and handoff.leg is leg:  # (not dropped again meanwhile: its own status went out)
            await self.status(handoff, CallStatus.CONNECTED, "held" if bridge.held else "agent_reconnected")

    async def new_leg_lost(self, handoff: Handoff, leg: AudioLeg, why: str) -> None:
        """A rejoining leg (``handoff.leg`` while reconnecting) failed or never came up: closed; the caller keeps
        holding until the grace ends, and the desk may offer again."""
        log.info("rejoining leg lost (%s)", why, extra={"conversation_id": handoff.call.conversation_id})
        handoff.leg = None
        self.legs.count_ended(leg.player)
        await leg.close()

    async def _give_up_later(self, handoff: Handoff, dropped: Dropped | None) -> None:
        await asyncio.sleep(self.grace_seconds)
        while handoff.state is S.RECONNECTING and handoff.dropped is dropped and handoff.leg is not None:
            if not await handoff.leg.wait_connected(self.connect_seconds):  # a new leg coming up gets its chance
                break
            await asyncio.sleep(0)  # (its bridging runs in its own task)
        if handoff.state is not S.RECONNECTING or handoff.dropped is not dropped or dropped is None:
            return
        # (no await before the loss takes the call from the agent: a pending new leg is closed with the rest)
        await self.lose(handoff, dropped.why, dropped.at_ms)  # (its release clears ``dropped``)

    def desk_gone(self, handoff: Handoff) -> None:
        """A desk socket of the agent's closed: if their leg of this call has received (next to) nothing since, it
        went with that desk (a closed tab: no DTLS close reaches aiortc, only its consent check would notice, after
        30 s). Another desk of theirs still open offers a new leg (the desk's call_status handling)."""
        leg = handoff.leg
        if leg is None or handoff.state not in (S.CONNECTED, S.HELD):
            return
        handoff.tasks.spawn(self._drop_if_silent(handoff, leg), "desk-gone")

    async def _drop_if_silent(self, handoff: Handoff, leg: AudioLeg) -> None:
        if (
            not await leg.silent_for(SILENT_SECONDS)
            or handoff.leg is not leg
            or handoff.state not in (S.CONNECTED, S.HELD)
        ):
            return
        log.warning(
            "agent's desk closed and their leg is silent", extra={"conversation_id": handoff.call.conversation_id}
        )
        await self.leg_lost(handoff, leg, "agent_desk_closed")
