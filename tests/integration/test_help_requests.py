"""An agent asks a supervisor for help with a chat, on a real node with real Redis: the wallboard lists the request
(oldest first, with the agent's words); a supervisor answers it, or the agent cancels it; a chat that leaves the
agent takes its request off the board; nobody else can, and the customer never sees any of it."""

from __future__ import annotations

from tests.conftest import Clients
from tests.integration.test_chat_supervision import chatting, error_for
from tests.integration.test_wallboard import board, watch
from tests.support.clients import Frame
from tests.support.servers import Node


def helping(frame: Frame) -> list[tuple[str, str, str]]:
    return [(h["conversation_id"], h["agent_name"], h["text"]) for h in frame["help"]]


async def test_an_agent_asks_for_help_a_supervisor_sees_it_and_answers_and_the_customer_never_knows(
    clients: Clients, node: Node
) -> None:
    customer, alice, _, cid = await chatting(clients)
    boss = clients.agent("carol")
    first = await watch(boss)
    assert first["help"] == []

    await alice.send({"type": "help", "conversation_id": cid, "active": True, "text": "  angry about a refund  "})
    asked = await alice.event("help_requested")
    assert (asked["agent_id"], asked["agent_name"], asked["text"]) == ("alice", "Alice Smith", "angry about a refund")
    shown = await board(boss, lambda f: bool(f["help"]))
    assert helping(shown) == [(cid, "Alice Smith", "angry about a refund")]
    assert abs(shown["help"][0]["since"] - asked["ts"]) < 1000 and shown["help"][0]["queue"] == "default"
    again = await error_for(alice, {"type": "help", "conversation_id": cid, "active": True, "text": "again"})
    assert (again["code"], "asked for help in this chat already" in again["message"]) == ("conflict", True)

    # bob, no supervisor, cannot end it nor ask in alice's chat
    bob = clients.agent("bob")
    await bob.hello(available=False)
    for active in (True, False):
        refused = await error_for(bob, {"type": "help", "conversation_id": cid, "active": active})
        assert refused["code"] == "forbidden", refused

    await boss.send({"type": "help", "conversation_id": cid, "active": False})  # carol: "I'm on it"
    ended = await alice.event("help_ended")
    assert (ended["reason"], ended["by_id"], ended["by_name"], ended["agent_id"]) == (
        "answered",
        "carol",
        "Carol White",
        "alice",
    )
    await board(boss, lambda f: f["help"] == [])
    refused = await error_for(alice, {"type": "help", "conversation_id": cid, "active": False})
    assert (refused["code"], "no help request is open" in refused["message"]) == ("conflict", True)

    # asked again and cancelled by the agent herself
    await alice.send({"type": "help", "conversation_id": cid, "active": True})
    await board(boss, lambda f: helping(f) == [(cid, "Alice Smith", "")])
    await alice.send({"type": "help", "conversation_id": cid, "active": False})
    cancelled = await alice.event("help_ended", lambda e: e["reason"] == "cancelled")
    assert cancelled["by_id"] == "alice"
    await board(boss, lambda f: f["help"] == [])

    # the customer saw none of it
    assert not [f for f in customer.seen if f.get("type") == "event" and f["event"]["type"].startswith("help_")]


async def test_a_chat_that_leaves_its_agent_takes_its_help_request_off_the_board(clients: Clients, node: Node) -> None:
    """A reviewer: a request stayed until a wallboard read it, and came back when the chat came back to its agent."""
    _, alice, _, cid = await chatting(clients)
    store, keys = node.services.store, node.services.keys
    await alice.send({"type": "help", "conversation_id": cid, "active": True, "text": "stuck"})
    await alice.event("help_requested")
    bob = clients.agent("bob")
    await bob.hello()
    await alice.send({"type": "transfer", "conversation_id": cid, "agent_id": "bob"})  # nobody watches the board
    await bob.assigned()
    assert await store.redis.zcard(keys.help_requests) == 0
    assert not {"help_agent", "help_text"} & set(await store.conversation(cid) or {})
    await bob.send({"type": "transfer", "conversation_id": cid, "agent_id": "alice"})  # back: her old request is over
    await alice.assigned()
    boss = clients.agent("carol")
    assert (await watch(boss))["help"] == []
    refused = await error_for(alice, {"type": "help", "conversation_id": cid, "active": False})
    assert refused["code"] == "conflict"
    await alice.send({"type": "help", "conversation_id": cid, "active": True, "text": "stuck again"})
    await board(boss, lambda f: bool(f["help"]))
    await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    await board(boss, lambda f: f["help"] == [])
    assert await store.redis.zcard(keys.help_requests) == 0

    refused = await error_for(alice, {"type": "help", "conversation_id": cid, "active": True})
    assert refused["code"] == "forbidden"  # closed: not hers any more
    too_long = await error_for(alice, {"type": "help", "conversation_id": cid, "active": True, "text": "x" * 201})
    assert (too_long["code"], too_long["field"]) == ("bad_field", "text"), too_long
