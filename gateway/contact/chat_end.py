"""A customer ends their chat (the widget's "End chat").

The conversation closes with disposition ``customer_ended``, whatever its state:

- waiting in a queue: it leaves the queue (reports count it abandoned, with its wait);
- with an agent: their desk is told (``unassigned``, reason ``customer_ended``: "… ended the chat"), shows it closed
  ("Closed · customer ended") and lets it go, as when they close it;
- with a chat bot, or nobody: the bot stops with it.

A callback booked in it closes with it (the customer said they are done). Refused while a call of the conversation is
in progress (``call_in_progress``: hang up first); ending a closed conversation does nothing (another tab of theirs
ended it first). The widget's next message starts a new conversation, as after any close.

After a call: the agent's after-call work on it goes on until they press Done (their desk keeps its bar); reports
count it up to the customer's close (``wrap_ms``), the moment the conversation's close is known.
"""

from __future__ import annotations

import logging

from gateway.contact.conversations import Conversations
from gateway.errors import Conflict, Forbidden
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConversationState

log = logging.getLogger(__name__)

CUSTOMER_ENDED = "customer_ended"
TRIES = 3  # routing assigned it (or its agent passed it on) between the read and the close: read it again


async def end_chat(conversations: Conversations, customer_id: str, cid: str) -> bool:
    """Close the customer's conversation ``cid`` (above): True when this closed it, False when it was closed."""
    for _ in range(TRIES):
        conv = await conversations.require_customer(customer_id, cid)
        state = conv.get("state")
        if state == ConversationState.CLOSED:
            return False
        if int(conv.get("calls") or 0) > int(conv.get("calls_ended") or 0):
            raise Conflict("a call of this conversation is in progress: hang up first", code=ErrorCode.CALL_IN_PROGRESS)
        agent = conv.get("agent_id") or ""
        if state == ConversationState.ASSIGNED and agent:
            try:
                await conversations.close(agent, cid, CUSTOMER_ENDED, system=True, told=CUSTOMER_ENDED, wrap=True)
            except (Conflict, Forbidden) as exc:  # closed, or passed on, meanwhile
                log.info("ending a chat: it changed meanwhile (%s)", exc.message, extra={"conversation_id": cid})
                continue
        elif not await conversations.abandon(cid, "", "the customer ended the chat", disposition=CUSTOMER_ENDED):
            continue
        log.info("the customer ended the chat", extra={"conversation_id": cid, "customer_id": customer_id})
        return True
    raise Conflict("the conversation changed while ending it: try again", field="conversation_id")
