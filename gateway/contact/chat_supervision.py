"""Supervisors and agents' chats: coach the agent with a note the customer never sees, join the chat (the customer sees
them and what they write), and move it to another agent, to themselves or to a queue. (Watching one live, silently,
is the agent socket's: it follows the conversation's channel; gateway/wire/agent_socket.py.)

Supervisors and admins only; what they may do follows the conversation's state:

- **coach** (a ``note``, ``supervisor: true``): in any conversation that is not closed, waiting ones included (a
  word for whoever takes it); its agent sees it in their timeline, the customer never.
- **join** (``chat_join``): while an agent has the chat. The timeline says ``supervisor_joined`` and, when they
  leave (or their page closes), ``supervisor_left``; the customer sees both and, meanwhile, the supervisor's
  messages (``author: agent`` with ``supervisor: true`` and their name) and typing. Several supervisors may be in one
  chat. Whether they are in it is the conversation's (``supervisors``: lua/join_chat-4.lua), and the message's
  append checks it in the same step (lua/append-6.lua): a message after leaving is refused, never half-stored. A
  supervisor stays in a chat its agent hands on; the close ends it.
- **move** (``transfer``): a chat an agent has (no call in progress: a call's transfer takes the chat with it) to
  another agent, to themselves when they have the agent role and take chats ("take over"), or to a queue, on the
  agent's behalf: as the agent's own transfer (gateway/contact/handover.py: the same checks, events and report
  facts), with ``transferred_by`` and ``transferred_by_name`` in the event. The agent's desk lets it go, as after
  their own transfer.

Nobody else is told of a supervisor who watches or coaches; the timeline records coaching, joins and moves.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.contact.agents import Agent
from gateway.contact.conversations import Conversations, Stored
from gateway.contact.handover import Handover
from gateway.contact.presence import Presence
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Author, ConversationState, EventType
from gateway.store.store import timeline_full
from gateway.store.supervision_store import SupervisionStore

log = logging.getLogger(__name__)

JOINED_FIELD = "supervisors"  # the conversation's: who joined its chat, each id between spaces (lua/join_chat-4.lua)


def require_supervisor(who: Agent, doing: str) -> None:
    """Forbidden unless ``who`` supervises (roles supervisor or admin)."""
    if not who.supervises:
        raise Forbidden(f"only supervisors and admins can {doing}", field="type")


def joined(conv: dict[str, str], supervisor_id: str) -> bool:
    """Whether the supervisor is in the conversation's chat (joined it, not left)."""
    return f" {supervisor_id} " in conv.get(JOINED_FIELD, "")


class ChatSupervision:
    def __init__(self, conversations: Conversations, handover: Handover, presence: Presence):
        self.conversations = conversations
        self.handover = handover
        self.presence = presence
        self.db = SupervisionStore(conversations.store)

    async def conversation(self, who: Agent, cid: str, doing: str) -> dict[str, str]:
        """The conversation a supervisor acts on (NotFound when there is none)."""
        require_supervisor(who, doing)
        conv = await self.conversations.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        return conv

    async def coach(self, who: Agent, cid: str, client_id: str, text: str) -> Stored:
        """A supervisor's note in a conversation not theirs: its agent (and whoever takes it) reads it."""
        conv = await self.conversation(who, cid, "write notes in others' conversations")
        if conv.get("state") == ConversationState.CLOSED:
            raise Conflict("the conversation is closed", field="conversation_id")
        return await self._append(who, cid, EventType.NOTE, client_id, {"text": text, "supervisor": True})

    async def message(self, who: Agent, cid: str, client_id: str, text: str) -> Stored:
        """A joined supervisor writes to the customer (refused unless they are in the chat, in the same step)."""
        require_supervisor(who, "write in others' chats")
        data = {"text": text, "author": Author.AGENT, "supervisor": True}
        return await self._append(who, cid, EventType.MESSAGE, client_id, data, required=JOINED_FIELD)

    async def _append(
        self, who: Agent, cid: str, typ: EventType, client_id: str, data: dict[str, Any], *, required: str = ""
    ) -> Stored:
        store = self.conversations.store
        data = {**data, "client_id": client_id, "agent_id": who.id, "agent_name": who.name}
        conv_id, event_id, status = await store.append(
            cid,
            typ,
            data,
            now=self.conversations.clock(),
            client_id=client_id,
            required_agent=who.id if required else "",
            required_field=required or "agent_id",
        )
        if status == "not_found":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if status == "not_assigned":
            raise Forbidden("join the chat first: the customer sees what you write", field="conversation_id")
        if status == "no_agent":
            raise Conflict(
                "no agent has this chat now (it waits in a queue): write to the customer beside an agent only",
                field="conversation_id",
            )
        if status == "closed":
            raise Conflict("the conversation is closed", field="conversation_id")
        if status not in ("ok", "duplicate"):
            raise Conflict(f"not stored: {status.replace('_', ' ')}", field="conversation_id")
        if status == "ok" and typ == EventType.MESSAGE:
            self.conversations.metrics.message(Author.AGENT)
        await store.durable()
        return Stored(conv_id, event_id, duplicate=status == "duplicate")

    async def join(self, who: Agent, cid: str, join: bool, *, reason: str = "left") -> bool:
        """Join (``join``) or leave the chat; True when this changed it. Leaving one never joined, or joining one
        already joined, changes nothing (another tab of theirs did it); joining one no agent has, or one's own, is
        refused. Leaving needs no role (one taken away meanwhile: they are let go all the same)."""
        if join:
            require_supervisor(who, "join chats")
        data: dict[str, Any] = {"agent_id": who.id, "agent_name": who.name}
        if not join:
            data["reason"] = reason
        status = await self.db.join(cid, who.id, data, join=join, now=self.conversations.clock())
        if status == "not_found":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if status == "closed" and join:
            raise Conflict("the conversation is closed", field="conversation_id")
        if status == "not_assigned":
            raise Conflict(
                "no agent has this chat: join it while an agent is on it (coach with a note meanwhile)",
                field="conversation_id",
            )
        if status == "own":
            raise Conflict("this chat is yours: you are its agent", field="conversation_id")
        if status == "timeline_full" and join:
            raise timeline_full(cid)
        if status == "ok":
            log.info("supervisor %s the chat", "joined" if join else "left", extra={"conversation_id": cid})
            await self.conversations.store.durable()
        return status == "ok"

    async def transfer(self, who: Agent, cid: str, *, to_agent: str = "", queue: str = "") -> str:
        """Move the chat an agent has to ``to_agent`` (themselves included: "take over") or ``queue``, on that
        agent's behalf; returns the agent it was taken from. Conflict ``transfer_refused`` naming why."""
        conv = await self.conversation(who, cid, "move others' chats")
        owner = conv.get("agent_id") or ""
        if conv.get("state") != ConversationState.ASSIGNED or not owner:
            state = conv.get("state") or "open"
            raise Conflict(
                f"the chat is {state}, not with an agent: only a chat an agent has can be moved",
                field="conversation_id",
                code=ErrorCode.TRANSFER_REFUSED,
            )
        if to_agent == owner:
            raise BadRequest(f"{owner} has this chat already", field="agent_id", code=ErrorCode.BAD_FIELD)
        name = await self.presence.transfer_target(owner, to_agent) if to_agent else ""
        if to_agent == who.id and joined(conv, who.id):  # taking it over: its agent now, no supervisor in it
            await self.join(who, cid, False, reason="took_over")
        by = {"transferred_by": who.id, "transferred_by_name": who.name}
        await self.handover.transfer_chat(owner, cid, to_agent=to_agent, to_name=name, queue=queue, by=by)
        log.info("a supervisor moved the chat", extra={"conversation_id": cid, "agent_id": owner})
        return owner
