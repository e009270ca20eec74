"""Help requests: an agent asks a supervisor for help with a chat of theirs ("Ask for help" in the desk), with a few
words of why; supervisors see the open ones on the wallboard, oldest first, and watch the chat from there
(gateway/contact/chat_supervision.py).

- **ask**: only in a chat the agent has (``forbidden`` otherwise); one open request per chat (asking again while it
  is open: ``conflict``). The timeline gets ``help_requested`` (``agent_id``, ``agent_name``, ``text``).
- **end**: the agent cancels it, or a supervisor (or admin) answers it ("I'm on it"): ``help_ended`` (``agent_id``:
  who asked, ``by_id``, ``by_name``, ``reason``: ``cancelled`` / ``answered``). Anyone else: ``forbidden``.
- A chat that closes, or leaves the agent who asked (a transfer, a requeue, a supervisor's move), takes its request
  with it, in the same step (lua/includes/help_over.lua; no event: the close or the hand-over says what happened).

Neither the customer nor the reports see any of it.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.contact.agents import Agent
from gateway.contact.conversations import Conversations
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.store.help_store import HelpStore
from gateway.store.store import timeline_full

log = logging.getLogger(__name__)


class HelpRequests:
    def __init__(self, conversations: Conversations):
        self.conversations = conversations
        self.db = HelpStore(conversations.store)

    async def ask(self, agent: Agent, cid: str, text: str) -> None:
        """The agent asks for help with their chat ``cid``."""
        data = {"agent_id": agent.id, "agent_name": agent.name, "text": text}
        status = await self.db.change(cid, agent.id, data, ask=True, now=self.conversations.clock(), text=text)
        if status == "not_found":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if status == "not_assigned":
            raise Forbidden("this conversation is not assigned to you", field="conversation_id")
        if status == "already":
            raise Conflict("you asked for help in this chat already: the supervisors see it", field="conversation_id")
        if status == "timeline_full":
            raise timeline_full(cid)
        log.info("help requested", extra={"conversation_id": cid, "agent_id": agent.id})

    async def end(self, who: Agent, cid: str) -> None:
        """The request open in ``cid`` ends: cancelled by the agent who asked, or answered by a supervisor."""
        conv = await self.conversations.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        asker = conv.get("help_agent") or ""
        if not asker:
            raise Conflict("no help request is open in this chat", field="conversation_id")
        if who.id != asker and not who.supervises:
            raise Forbidden("only the agent who asked, or a supervisor, ends a help request", field="conversation_id")
        reason = "cancelled" if who.id == asker else "answered"
        data: dict[str, Any] = {"agent_id": asker, "by_id": who.id, "by_name": who.name, "reason": reason}
        status = await self.db.change(cid, asker, data, ask=False, now=self.conversations.clock())
        if status in ("none", "not_found"):
            raise Conflict("no help request is open in this chat", field="conversation_id")
        log.info("help request %s", reason, extra={"conversation_id": cid, "agent_id": asker})

    async def open_requests(self) -> list[dict[str, Any]]:
        """The open requests, oldest first: conversation_id, agent_id, queue, customer_id, since (ms), text."""
        return [
            {
                "conversation_id": cid,
                "agent_id": conv.get("agent_id", ""),
                "queue": conv.get("queue", ""),
                "customer_id": conv.get("customer_id", ""),
                "since": since,
                "text": conv.get("help_text", ""),
            }
            for cid, since, conv in await self.db.open_requests()
        ]
