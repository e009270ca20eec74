"""Handing chats over: an agent passes a chat to a colleague or to a queue, and an agent who leaves for good (logged
out with no other desk open, disabled, removed) leaves nobody writing to no one: their chats go back to the queue.

A chat passed to a queue is a new arrival there (its wait, skills overflow and maximum wait count from now, and the
queue's reports count it as offered); the chats of an agent who left keep their place in line: when they first
waited, before routing gave them to the agent (a hand-over between agents does not move it), but the queue's maximum
wait counts from their return (a customer who was being served is not sent a callback or a bot at once). A call's
conversation whose call is over (nobody wrote in it, no callback is booked: nobody waits for an answer) is closed
with the disposition ``agent_left`` instead: the queue is never given a conversation with nobody behind it. A conversation with a
call in progress is left to the call: the call's transfer takes the chat with it, and an agent leg that drops with
the desk decides the call's fate (gateway/calls/).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from gateway.contact.conversations import Conversations
from gateway.contact.presence import Presence
from gateway.contact.report_facts import segment_facts, transfer_facts
from gateway.errors import Conflict
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentStatus, ConversationState, EventType

log = logging.getLogger(__name__)

AGENT_LEFT = "agent_left"  # the disposition of a call's conversation its agent left without closing


def call_in_progress(events: list[dict[str, Any]]) -> bool:
    """A call of the conversation has started and not ended (by its timeline)."""
    started = sum(1 for e in events if e["type"] == EventType.CALL_STARTED)
    return started > sum(1 for e in events if e["type"] == EventType.CALL_ENDED)


def place_in_queue(events: list[dict[str, Any]], now: int) -> int:
    """When the conversation first waited before routing last gave it to an agent (its ``assigned`` event carries
    ``wait_ms``; a hand-over's does not); ``now`` if routing never did."""
    routed = [e for e in events if e["type"] == EventType.ASSIGNED and "wait_ms" in e]
    return min(now, routed[-1]["ts"] - int(routed[-1]["wait_ms"] or 0)) if routed else now


class Handover:
    def __init__(self, conversations: Conversations, presence: Presence):
        self.conversations = conversations
        self.presence = presence

    async def release_agent(self, agent_id: str, reason: str) -> list[str]:
        """Every chat still assigned to ``agent_id`` (no call in progress) back to the queue at its place, the
        customer told their place (the queue board): the ids put back. The agent is set away first: their desks
        close a moment later (the session's revocation travels over the bus), and routing must not hand the chats
        straight back to them meanwhile (a removed agent has no status to set: routing skips them already)."""
        conv = self.conversations
        if reason != "agent_removed":
            await self.presence.set_status(agent_id, AgentStatus.AWAY, reason)
        back: list[str] = []
        for cid in await conv.store.agent_conversations(agent_id):
            events = await conv.store.events(cid)
            if call_in_progress(events):
                continue
            if not await self._someone_behind(cid, events):  # a call's, the call over: nobody waits for an answer
                with contextlib.suppress(Conflict):  # (closed or moved meanwhile)
                    await conv.close(agent_id, cid, AGENT_LEFT, system=True)
                continue
            now = conv.clock()
            facts = segment_facts(events, await conv.store.conversation(cid) or {}, now)  # their part, for reports
            if await conv.requeue(cid, agent_id, reason, score=place_in_queue(events, now), since=now, facts=facts):
                back.append(cid)
        if back:
            log.info(
                "%d conversations back in the queue: their agent left (%s)",
                len(back),
                reason,
                extra={"agent_id": agent_id},
            )
        return back

    async def _someone_behind(self, cid: str, events: list[dict[str, Any]]) -> bool:
        """A customer may be waiting in the conversation: they wrote in it, or a callback is booked for it."""
        # (Conversations.has_chat's test, on the events read already)
        return any(e["type"] == EventType.MESSAGE for e in events) or await self.conversations.callback_open(cid)

    async def transfer_chat(
        self,
        agent_id: str,
        cid: str,
        *,
        to_agent: str = "",
        to_name: str = "",
        queue: str = "",
        by: dict[str, str] | None = None,
    ) -> None:
        """The agent hands a chat of theirs to another agent (who must be available, online and have room) or to a
        queue; Conflict ``transfer_refused`` naming why (nothing changes then). ``by``: who moved it on the agent's
        behalf (a supervisor: gateway/contact/chat_supervision.py), in the transfer's event."""
        conv = self.conversations
        current = await conv.require_agent(agent_id, cid)
        if current.get("state") != ConversationState.ASSIGNED:
            raise Conflict("the conversation is not assigned to you", field="conversation_id")
        events = await conv.store.events(cid)
        if call_in_progress(events):
            raise Conflict(
                "a call is in progress in this conversation: transfer the call (it takes the chat with it)",
                field="conversation_id",
                code=ErrorCode.TRANSFER_REFUSED,
            )
        facts = {**transfer_facts(events, current, conv.clock()), **(by or {})}
        if to_agent:
            await conv.transfer(cid, agent_id, to_agent, to_name, facts)
            return
        known = await conv.queues.names() if conv.queues is not None else None
        if known is not None and queue not in known:
            raise Conflict(
                f"there is no queue '{queue}' (queues: {', '.join(sorted(known)) or 'none'})",
                field="queue",
                code=ErrorCode.TRANSFER_REFUSED,
            )
        # a new arrival in that queue: at the back, its timers from now (the module's docstring)
        if not await conv.requeue(cid, agent_id, "transferred", score=conv.clock(), queue_name=queue, facts=facts):
            raise Conflict("the conversation is not assigned to you", field="conversation_id")
