"""What a call that ended unanswered leaves of its conversation (Conversations.caller_gone), on a real node and
Redis: a call-only conversation is closed ``abandoned``, one the customer may still be behind (chat messages, a
booked callback) stays in the queue, one routing handed to an agent meanwhile is taken back from them."""

from __future__ import annotations

from gateway.contact.routing import now_ms
from tests.conftest import Clients
from tests.support.servers import Node


async def queued_conversation(node: Node, clients: Clients) -> str:
    customer = clients.customer()
    await customer.hello()
    cid, _ = await node.services.conversations.open_for_flow(customer.customer_id, {})
    assert await node.services.conversations.enqueue(cid, "billing")
    return cid


async def state_of(node: Node, cid: str) -> tuple[str, str, str]:
    conv = await node.services.store.conversation(cid)
    assert conv is not None
    return conv["state"], conv.get("disposition", ""), conv.get("agent_id", "")


async def test_a_call_only_conversation_is_closed_abandoned(clients: Clients, node: Node) -> None:
    cid = await queued_conversation(node, clients)
    gone = await node.services.conversations.caller_gone(cid, routed=True, score=now_ms(), reason="call_abandoned")
    assert gone == "closed"
    assert await state_of(node, cid) == ("closed", "abandoned", "")
    assert await node.services.conversations.queue_position(cid) is None


async def test_a_conversation_with_a_booked_callback_stays_in_the_queue(clients: Clients, node: Node) -> None:
    """The customer booked a callback, then called in and hung up in the queue: the callback still stands."""
    cid = await queued_conversation(node, clients)
    callbacks = node.services.callbacks
    assert callbacks is not None
    await callbacks.request(cid, queue="billing", due=None, label="as soon as possible")
    gone = await node.services.conversations.caller_gone(cid, routed=True, score=now_ms(), reason="call_abandoned")
    assert gone == "requeued"
    assert (await state_of(node, cid))[1] != "abandoned"
    assert await callbacks.of_conversation(cid) is not None


async def test_a_conversation_routing_handed_to_an_agent_meanwhile_is_taken_back(clients: Clients, node: Node) -> None:
    """The call ended while routing assigned its conversation: the agent does not keep a conversation nobody is
    behind (its desk hears it closed, not back in the queue)."""
    alice = clients.agent("alice")
    await alice.hello()
    cid = await queued_conversation(node, clients)
    await alice.assigned()
    assert (await state_of(node, cid))[0] == "assigned"
    gone = await node.services.conversations.caller_gone(cid, routed=True, score=now_ms(), reason="call_abandoned")
    assert gone == "closed"
    assert await state_of(node, cid) == ("closed", "abandoned", "alice")
    told = await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    assert told["reason"] == "abandoned"


async def test_a_conversation_the_call_went_straight_to_stays_with_that_agent(clients: Clients, node: Node) -> None:
    """Not routed by the call (the chat's agent, a callback's agent): the agent keeps it, as after any call."""
    alice = clients.agent("alice")
    await alice.hello()
    cid = await queued_conversation(node, clients)
    await alice.assigned()
    gone = await node.services.conversations.caller_gone(cid, routed=False, score=now_ms(), reason="call_abandoned")
    assert gone == ""
    assert await state_of(node, cid) == ("assigned", "", "alice")
