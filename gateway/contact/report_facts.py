"""What a conversation's events tell reports (gateway/ops/rollup_rules.py) of the work on it, computed from its
timeline when it closes or an agent hands it on: pure functions, no I/O."""

from __future__ import annotations

from typing import Any

from gateway.protocol.states import Author, EventType

# the facts below, as events carry them: for reports, never shown to the customer (conversations.customer_view)
REPORT_FACTS = frozenset(
    {"first_response_agent", "agent_queue", "transfer", "handle_ms", "first_response_ms", "resolution_ms", "wrap_ms"}
)


def close_facts(events: list[dict[str, Any]], now: int, closer: str = "") -> dict[str, Any]:
    """What the ``closed`` event tells of the conversation: ``resolution_ms`` (opened to closed);
    ``first_response_ms`` (the customer's first message to the first agent message after it) and
    ``first_response_agent`` (who wrote that reply: credited with it, whoever closes); ``wrap_ms`` (the end of its
    last call an agent talked on to the close: after-call work, only when ``closer`` is that agent and it stayed
    theirs since: none for a colleague it went to, or after it waited in the queue again); ``handle_ms`` (its last
    assignment to the close: the closing agent's part of a chat). The close script adds ``voice`` and, when it was
    still waiting, ``queued_wait_ms``."""
    facts: dict[str, Any] = {}
    if events:
        facts["resolution_ms"] = max(0, now - events[0]["ts"])
    messages = [e for e in events if e["type"] == EventType.MESSAGE]
    asked = next((e["ts"] for e in messages if e.get("author") == Author.CUSTOMER), None)
    if asked is not None:
        reply = next(  # an agent's: a supervisor who joined the chat is no first response (chat_supervision.py)
            (e for e in messages if e.get("author") == Author.AGENT and not e.get("supervisor") and e["ts"] >= asked),
            None,
        )
        if reply is not None:
            facts["first_response_ms"] = reply["ts"] - asked
            facts["first_response_agent"] = reply.get("agent_id") or ""
    talked = [e for e in events if e["type"] == EventType.CALL_ENDED and "talk_ms" in e]
    if talked and closer and talked[-1].get("agent_id") == closer:
        since = talked[-1]["ts"]
        if not any(e["type"] == EventType.ASSIGNED and e["ts"] > since for e in events):
            facts["wrap_ms"] = max(0, now - since)
    assigned = [e["ts"] for e in events if e["type"] == EventType.ASSIGNED]
    if assigned:
        facts["handle_ms"] = max(0, now - assigned[-1])  # with its (last) agent: their part of a chat
    return facts


def segment_facts(events: list[dict[str, Any]], conv: dict[str, str], now: int) -> dict[str, Any]:
    """What the event that ends an agent's part of a chat short of its close tells (an agent who left: their chats
    back in the queue): their part (``handle_ms``, from its last assignment), whether it ever had a call (``voice``:
    then it is no chat for handle times), and the queue it was in (``agent_queue``)."""
    assigned = [e["ts"] for e in events if e["type"] == EventType.ASSIGNED]
    return {
        "agent_queue": conv.get("queue") or "",
        "voice": any(e["type"] == EventType.CALL_STARTED for e in events),
        **({"handle_ms": max(0, now - assigned[-1])} if assigned else {}),
    }


def transfer_facts(events: list[dict[str, Any]], conv: dict[str, str], now: int) -> dict[str, Any]:
    """What a chat's transfer event (``assigned`` to a colleague, ``state`` queued to a queue) tells: that it is one
    (``transfer: chat``), and the transferring agent's part as :func:`segment_facts` says it."""
    return {"transfer": "chat", **segment_facts(events, conv, now)}
