"""A call waits for an agent: music on hold and announcements, ring the assigned agent, ring-no-answer.

When the IVR hands a call to routing, the caller hears music on hold (and, every ``announce_seconds`` of their
queue, their place and the expected wait) and the call waits for its conversation to be assigned (routing is the
same as for chats: the longest-idle available agent with room). The assigned agent's desk then *rings*
(``call_status`` ``ringing`` with the agent's id) for ``ring_seconds``. On decline, no answer, or a desk gone for
longer than :data:`RECONNECT_GRACE_SECONDS`, the agent is set *away* (so routing does not hand them the next call
at once) and the conversation goes back into the queue at its first enqueue time, ahead of everyone who came later
(ring-no-answer).

What happens once the agent answers (the bridge, hold, transfer, a lost agent, the end) is
:mod:`gateway.calls.agent_calls`, which owns a :class:`Ringing` and the hand-offs both share.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.calls.anchors import CallAnchors
from gateway.calls.handoff import Handoff, HandoffEvent, Handoffs, HandoffState
from gateway.calls.hold import announce_every, interval
from gateway.calls.legs import MUSIC_PROMPT, AgentLegs
from gateway.calls.manager import Call
from gateway.contact.callbacks import CallbackAnswer
from gateway.contact.conversations import Conversations
from gateway.contact.presence import Presence
from gateway.contact.wait_estimate import WaitEstimates, announcement, estimate_wait_ms
from gateway.protocol.bus import CallUpdate, EventAppended, Message
from gateway.protocol.states import (
    AgentActivity,
    AgentStatus,
    CallEndReason,
    CallStatus,
    ConversationState,
    EventType,
    RingReason,
)
from gateway.store.store import StoreError
from gateway.tasks import Tasks
from ivr.actions import Say

log = logging.getLogger(__name__)

#: a call placed this long after an agent's invitation stopped ringing in the widget still answers it
INVITE_ANSWER_GRACE_MS = 10_000

RING_SECONDS = 20.0
ANNOUNCE_SECONDS = 45.0
RECONNECT_GRACE_SECONDS = 5.0

S = HandoffState
E = HandoffEvent


class Ringing:
    """Calls of this node waiting for an agent, and the agent's desk ringing for one (``handoffs``: shared with
    :class:`~gateway.calls.agent_calls.AgentCalls`)."""

    def __init__(
        self,
        legs: AgentLegs,
        conversations: Conversations,
        presence: Presence,
        handoffs: Handoffs,
        *,
        anchors: CallAnchors | None,
        ring_seconds: float,
        waits: WaitEstimates | None,
        announce_seconds: float,
        clock: Callable[[], int],
    ) -> None:
        self.legs = legs
        self.conversations = conversations
        self.presence = presence
        self.bus = legs.bus
        self.keys = legs.keys
        self.handoffs = handoffs
        self.anchors = anchors  # the call registry (None: not kept)
        self.node_id = anchors.node_id if anchors is not None else ""  # owns the agents' ringing
        self.ring_seconds = ring_seconds
        self.waits = waits
        self.announce_seconds = announce_seconds  # 0: no position / wait announcements
        self.clock = clock  # ms

    async def waiting(
        self, call: Call, *, callback: CallbackAnswer | None = None, chat_agent: str = "", routed: bool = False
    ) -> None:
        """The call waits for an agent: music on hold, and ring the agent as soon as routing assigns one.
        ``routed``: the flow queued its conversation (not straight to the chat's agent). ``callback``: the call
        answers that agent's callback; their desk is told to connect at once. ``chat_agent``: placed from a chat with
        that agent, it rings them first."""
        now = self.clock()
        invited_by = await self._invited_by(call.conversation_id, chat_agent) if chat_agent else ""
        handoff = Handoff(
            call,
            queued_ms=now,
            offered_ms=now,
            tasks=Tasks(f"handoff-{call.id}", log),
            callback_agent=callback.agent_id if callback is not None else "",
            place_ms=callback.place_ms if callback is not None else 0,
            chat_agent=chat_agent,
            invited_by=invited_by,
            routed=routed,
            on_move=self._moved,
        )
        self.handoffs[call.id] = handoff
        self._moved(handoff)  # the registry shows it waiting (desks on other nodes find it through the registry)
        await self.legs.play_hold_music(call, still=lambda: handoff.state in (S.WAITING, S.RINGING))
        if self.waits is not None and self.announce_seconds > 0:
            handoff.tasks.spawn(self._announce_every(handoff), "announce")
        await self.bus.subscribe(self.keys.conv_channel(call.conversation_id), self._on_conversation)
        if handoff.state is S.ENDED:  # the call ended meanwhile: undo what its end ran too early to see
            await self.let_go(handoff)
            return
        conv = await self.conversations.get(call.conversation_id)
        if conv is not None and conv.get("state") == ConversationState.ASSIGNED and conv.get("agent_id"):
            # assigned before we listened: ring now
            handoff.tasks.spawn(self._ring(handoff, conv["agent_id"], conv.get("agent_name", "")), "ring")

    async def _invited_by(self, cid: str, agent_id: str) -> str:
        """``agent_id`` when a call placed from their chat answers their invitation to a call (the conversation's
        last one, theirs, not declined, still ringing in the widget or only just over), else ""."""
        store = self.conversations.store
        invite = await store.last_event(cid, EventType.CALL_INVITE)
        if invite is None or invite.get("agent_id") != agent_id:
            return ""
        declined = await store.last_event(cid, EventType.CALL_INVITE_DECLINED)
        if declined is not None and declined.get("invite_id") == invite["id"]:
            return ""
        return agent_id if self.clock() <= int(invite.get("ring_until") or 0) + INVITE_ANSWER_GRACE_MS else ""

    async def let_go(self, handoff: Handoff) -> None:
        """The call no longer waits for an agent: assignments of its conversation no longer ring for it (its
        registry entry goes when the call ends, gateway/calls/manager.py)."""
        call = handoff.call
        try:
            await self.bus.unsubscribe(self.keys.conv_channel(call.conversation_id), self._on_conversation)
        except StoreError as exc:
            log.warning(
                "conversation channel not unsubscribed: %s", exc, extra={"conversation_id": call.conversation_id}
            )

    def _on_conversation(self, channel: str, message: Message) -> None:
        if not isinstance(message, EventAppended):
            return
        cid = channel.rsplit(":", 1)[1]
        moved_to, moved_from = message.data.get("queue"), message.data.get("from_queue")
        if message.type == EventType.STATE and moved_to and moved_from and moved_to != moved_from:
            for handoff in self.handoffs.values():  # overflowed to another queue: its music
                if handoff.call.conversation_id == cid and handoff.state is S.WAITING:
                    handoff.queue_moves += 1
                    move = self._queue_music(handoff, str(moved_from), str(moved_to), handoff.queue_moves)
                    handoff.tasks.spawn(move, "music")
            return
        if message.type != EventType.ASSIGNED:
            return
        for handoff in self.handoffs.values():
            if handoff.call.conversation_id == cid and handoff.state is S.WAITING:
                data = message.data
                handoff.tasks.spawn(
                    self._ring(handoff, str(data.get("agent_id", "")), str(data.get("agent_name", ""))), "ring"
                )

    async def _queue_music(self, handoff: Handoff, before: str, queue: str, move: int) -> None:
        """A waiting caller's conversation moved from queue ``before`` to ``queue`` (its ``move``-th move): the music,
        playing or queued behind a prompt, changes to that queue's (an announcement playing then finishes first)."""
        call = handoff.call
        old, new = await self.legs.hold_music(call, queue=before), await self.legs.hold_music(call, queue=queue)
        if handoff.state is not S.WAITING or call.ended.is_set() or handoff.queue_moves != move:
            return  # rung or gone meanwhile, or moved on again (that move's music wins)
        if old.name != new.name and call.player.cancel_prompt(MUSIC_PROMPT):
            call.player.loop(new.audio, MUSIC_PROMPT, new.packets)

    async def _ring(self, handoff: Handoff, agent_id: str, agent_name: str) -> None:
        if not agent_id or handoff.state is not S.WAITING:
            return
        handoff.to(E.RING)
        handoff.agent_id = agent_id
        info = await self.presence.info(agent_id)
        handoff.agent_name = agent_name or info["name"]
        if not handoff.rings_for(agent_id) or handoff.call.ended.is_set():
            return
        call = handoff.call
        if agent_id == handoff.callback_agent and info.get("status") != AgentStatus.AVAILABLE:
            # the customer answered the callback of an agent who went away since (a break, the end of their shift):
            # not connected into a headset nobody wears, nor rung for the whole ring time: the next agent, at the
            # callback's place in line; the agent's status and its reason stay theirs
            await self.missed(handoff, "agent_away", rang=False)
            return
        if handoff.from_own_chat and info.get("status") != AgentStatus.AVAILABLE:
            # the customer calls from the chat of an agent who is away (a break, after-call work set away): not
            # rung for 20 s to run out as a miss that took their chat away; the chat goes on with them
            await self.chat_agent_cannot_talk(handoff, "agent_away", CallEndReason.AGENT_DECLINED, rang=False)
            return
        own = handoff.from_own_chat or agent_id == handoff.callback_agent
        if own and info.get("activity") in (AgentActivity.ON_CALL, AgentActivity.RINGING):
            # the chat's (or the callback's) agent is on another call: a ring they cannot answer ran out as a miss,
            # set them away and took their chat (an exploratory test); the customer keeps chatting with them, or a
            # callback's goes to the next agent at its place
            if agent_id == handoff.callback_agent:
                await self.missed(handoff, "agent_busy", rang=False)
            else:
                await self.chat_agent_cannot_talk(handoff, "agent_busy", CallEndReason.AGENT_BUSY, rang=False)
            return
        log.info("ringing agent %s", agent_id, extra={"conversation_id": call.conversation_id})
        await self.presence.set_activity(agent_id, AgentActivity.RINGING, owner=self.node_id)
        # On the agent's own channel: their desk may not follow the conversation yet (just assigned).
        call.status = CallStatus.RINGING
        # The agent who holds the callback the caller answered took the task already: their desk connects at once
        # (the ring timer below still guards a desk that cannot).
        reason = (
            RingReason.CALLBACK
            if agent_id == handoff.callback_agent
            # the agent invited the customer, who answered: ringing them again made them answer twice (a verifying
            # test); their own chat's rules hold all the same (busy, away: the chat stays theirs)
            else (RingReason.INVITE if agent_id == handoff.invited_by else RingReason.OWN_CHAT)
            if handoff.from_own_chat
            else ""
        )
        await self.legs.tell_agent(
            agent_id,
            CallUpdate(
                call.id,
                CallStatus.RINGING,
                reason,
                conversation_id=call.conversation_id,
                agent_id=agent_id,
                agent_name=handoff.agent_name,
                ring_seconds=self.ring_seconds,
            ),
        )

        async def no_answer() -> None:
            await asyncio.sleep(self.ring_seconds)
            await self.missed(handoff, "no_answer")

        handoff.ring = handoff.tasks.spawn(no_answer(), "ring-no-answer")

    async def missed(self, handoff: Handoff, reason: str, *, rang: bool = True, set_away: bool | None = None) -> None:
        """Ring-no-answer or decline: the agent goes away, the call goes back to the head of the queue (a callback's
        at the callback's place). ``rang`` False: the agent was never rung (away when the customer answered their
        callback): their status and desk are left alone. ``set_away`` False: rung, but away already by their own
        choice (they pressed Away while it rang): their status and its reason stay theirs."""
        agent_id = handoff.agent_id
        if handoff.state is not S.RINGING:
            return
        handoff.routed = True  # the conversation goes back to the queue below
        handoff.callback_agent = ""  # whoever takes it next is rung as for any call
        handoff.to(E.MISS)
        if handoff.ring is not None and handoff.ring is not asyncio.current_task():
            handoff.ring.cancel()
        handoff.ring = None
        handoff.agent_id = handoff.agent_name = ""
        call = handoff.call
        if await taken_over(self.anchors, call):  # (a ring timer after a stall) the agent and conversation moved on
            log.warning(
                "ring of a call another node took over ended here; nothing written", extra={"agent_id": agent_id}
            )
            return
        log.info("agent %s missed the call (%s)", agent_id, reason, extra={"conversation_id": call.conversation_id})
        if (rang if set_away is None else set_away) and await self._status(agent_id) != AgentStatus.AWAY:
            # not offered it again; the wallboard says which ("Away — declined a call"); one away already (a break
            # pressed as it rang) keeps their own reason
            away = "declined_call" if reason == "declined" else "missed_call"
            await self.presence.set_status(agent_id, AgentStatus.AWAY, away)
        if rang:
            await self.presence.release_activity(agent_id, self.node_id, AgentActivity.NONE)
        await self.conversations.record(
            call.conversation_id, EventType.CALL_MISSED, {"call_id": call.id, "agent_id": agent_id, "reason": reason}
        )
        if rang:  # the missed agent's desk hears it on their own channel, before the conversation leaves them
            await self.legs.tell_agent(
                agent_id,
                CallUpdate(
                    call.id,
                    CallStatus.WAITING,
                    reason,
                    conversation_id=call.conversation_id,
                    agent_id="",
                    agent_name="",
                ),
            )
        await self.legs.status(handoff, CallStatus.WAITING, reason)
        score = min(handoff.place_ms, handoff.queued_ms) if handoff.place_ms else handoff.queued_ms
        await self.conversations.requeue(call.conversation_id, agent_id, f"call_{reason}", score=score)

    async def _status(self, agent_id: str) -> str:
        return str(await self.presence.store.agent_field(agent_id, "status") or "")

    async def went_away(self, handoff: Handoff) -> None:
        """The agent rung pressed Away (a break) while the call rang: it does not ring on until it runs out as a
        miss (an exploratory test: the caller waited out the whole ring for somebody gone), it goes to the next
        agent at once; a call from their own chat ends as a decline does, the chat staying theirs."""
        if handoff.state is not S.RINGING:
            return
        if handoff.from_own_chat:
            await self.chat_agent_cannot_talk(handoff, "agent_away")
        else:
            await self.missed(handoff, "agent_away", set_away=False)

    async def chat_agent_cannot_talk(
        self,
        handoff: Handoff,
        reason: str = "declined",
        end: CallEndReason = CallEndReason.AGENT_DECLINED,
        *,
        rang: bool = True,
    ) -> None:
        """The agent of the chat the call was placed from declined it, or is on another call: they cannot talk now,
        and the chat goes on with them (no reason to hand the customer to someone else, nor to set the agent away).
        The call ends; the caller is told why (``end``)."""
        agent_id, call = handoff.agent_id, handoff.call
        log.info("the chat's agent cannot talk (%s)", reason, extra={"conversation_id": call.conversation_id})
        await self.conversations.record(
            call.conversation_id,
            EventType.CALL_MISSED,
            {"call_id": call.id, "agent_id": agent_id, "reason": reason},
        )
        if not rang:  # never rung: what the agent is doing (their call, their break) is not this one's to end
            handoff.agent_id = handoff.agent_name = ""
        await call.end(end)

    async def agent_gone(self, agent_id: str) -> None:
        """The agent's last desk connection closed: a call ringing for them is missed unless the desk is back
        within ``RECONNECT_GRACE_SECONDS`` (a live leg stays whatever happens to the socket)."""
        for handoff in list(self.handoffs.values()):
            if handoff.agent_id == agent_id and handoff.state is S.RINGING:
                handoff.tasks.spawn(self._missed_unless_back(handoff, agent_id), "missed-unless-back")

    async def _missed_unless_back(self, handoff: Handoff, agent_id: str) -> None:
        await asyncio.sleep(RECONNECT_GRACE_SECONDS)
        if (
            handoff.agent_id == agent_id
            and handoff.state is S.RINGING
            and (await self.presence.info(agent_id))["status"] == AgentStatus.OFFLINE
        ):
            await self.missed(handoff, "agent_disconnected")

    def _moved(self, handoff: Handoff) -> None:
        if self.anchors is not None:
            self.anchors.moved(handoff.call.id)

    async def _announce_every(self, handoff: Handoff) -> None:
        """While nobody answers: the caller's place and the expected wait, every ``announce_seconds`` of its queue."""
        cid, default = handoff.call.conversation_id, self.announce_seconds
        wait = lambda: interval(self.conversations, cid, default)  # noqa: E731
        await announce_every(lambda: handoff.state is S.WAITING, lambda: self._announce(handoff), wait)

    async def _announce(self, handoff: Handoff) -> None:
        assert self.waits is not None
        call = handoff.call
        position = await self.conversations.queue_position(call.conversation_id)
        if not position or call.channel is None:
            return
        wait = estimate_wait_ms(position, await self.waits.agents_available(), await self.waits.handle_times())
        text = announcement(position, wait)
        handoff.announced.append(text)
        call.player.cancel_prompt(MUSIC_PROMPT)  # whatever is still playing (the queue prompt) finishes
        done = await call.channel.say(Say(f"position-{len(handoff.announced)}", text))
        if done is not None:
            await done
        if handoff.state in (S.WAITING, S.RINGING) and not call.ended.is_set():
            await self.legs.play_hold_music(call, still=lambda: handoff.state in (S.WAITING, S.RINGING))


async def taken_over(anchors: CallAnchors | None, call: Call) -> bool:
    """Whether a node that took this one over ended the call already (a Redis error: no, as before)."""
    if anchors is None:
        return False
    try:
        return await anchors.taken_over(call.id)
    except StoreError as exc:
        log.warning("call registry not read: %s", exc, extra={"conversation_id": call.conversation_id})
        return False
