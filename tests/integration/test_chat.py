"""Customer and agent chat through a real gateway node and a real Redis."""

from __future__ import annotations

import hashlib

import pytest
import redis.asyncio as aioredis

from gateway.errors import Forbidden
from gateway.store.scripts import sources
from tests.conftest import Clients
from tests.support.servers import Node


async def test_customer_and_agent_talk_both_ways(clients: Clients) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    welcome = await cust.hello(context={"page": "https://shop.example/pricing"})
    assert welcome["conversation"] is None and welcome["events"] == []

    ack = await cust.say("Hi, my order is late")
    conv = await alice.assigned()
    assert conv["id"] == ack["conversation_id"]
    assert conv["customer_id"] == cust.customer_id
    assert conv["context"] == {"context.page": "https://shop.example/pricing"}  # the browser's word, namespaced

    await alice.send({"type": "open", "conversation_id": conv["id"]})
    history = await alice.expect("history")
    assert [(e["type"], e.get("text")) for e in history["events"]] == [
        ("opened", None),
        ("state", None),
        ("message", "Hi, my order is late"),
        ("assigned", None),
    ]

    assigned = await cust.event("assigned")
    assert assigned["agent_name"] == "Alice Smith" and "agent_id" not in assigned

    await alice.say(conv["id"], "Sorry to hear that, let me check.")
    reply = await cust.event("message", lambda e: e["author"] == "agent")
    assert reply["text"] == "Sorry to hear that, let me check." and reply["agent_name"] == "Alice Smith"

    await cust.say("Order 1234")
    got = await alice.event("message", lambda e: e["author"] == "customer" and e["text"] == "Order 1234")
    assert got["conversation_id"] == conv["id"]


async def test_typing_preview_reaches_agent_and_agent_typing_reaches_customer(clients: Clients) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("hello")
    await alice.assigned()
    await cust.send({"type": "typing", "active": True, "draft": "I would like to ret"})
    preview = await alice.expect("typing")
    assert preview == {
        "type": "typing",
        "conversation_id": ack["conversation_id"],
        "active": True,
        "draft": "I would like to ret",
    }
    await alice.send({"type": "typing", "conversation_id": ack["conversation_id"], "active": True})
    typing = await cust.expect("typing")
    assert typing["active"] is True and typing["name"] == "Alice Smith" and "draft" not in typing


async def test_notes_stay_internal(clients: Clients) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("hello")
    await alice.assigned()
    await alice.say(ack["conversation_id"], "VIP customer, be nice", note=True)
    await alice.say(ack["conversation_id"], "Hello!")
    note = await alice.event("note")
    assert note["text"] == "VIP customer, be nice"
    await cust.event("message", lambda e: e["text"] == "Hello!")
    await cust.quiet(0.3)
    everything = [f for f in cust.seen if f["type"] == "event"]
    assert all(f["event"]["type"] != "note" for f in everything)
    # a fresh page load shows the same: no notes in the customer's history
    again = clients.customer(cust.token)
    history = (await again.hello())["events"]
    assert [e["type"] for e in history] == ["opened", "message", "assigned", "message"]


async def test_close_with_disposition_then_new_message_opens_new_conversation(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    first = await cust.say("question one")
    await alice.assigned()
    await alice.send({"type": "close", "conversation_id": first["conversation_id"], "disposition": "nonsense"})
    err = await alice.expect("error")
    assert err["code"] == "bad_field" and err["field"] == "disposition"
    await alice.send({"type": "close", "conversation_id": first["conversation_id"], "disposition": "resolved"})
    closed = await cust.event("closed")
    assert closed["disposition"] == "resolved"
    unassigned = await alice.expect("unassigned")
    assert unassigned["conversation_id"] == first["conversation_id"]
    await alice.send({"type": "close", "conversation_id": first["conversation_id"], "disposition": "resolved"})
    assert (await alice.expect("error"))["code"] in ("conflict", "forbidden")

    second = await cust.say("question two")
    assert second["conversation_id"] != first["conversation_id"]
    opened = await cust.event("opened", lambda e: e["conversation_id"] == second["conversation_id"])
    assert opened["customer_id"] == cust.customer_id
    conv = await alice.assigned()
    assert conv["id"] == second["conversation_id"]
    conv_hash = await node.services.store.conversation(first["conversation_id"])
    assert conv_hash is not None and conv_hash["state"] == "closed"


async def test_reconnect_resends_pending_messages_without_duplicates(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack1 = await cust.say("first")
    cid = ack1["conversation_id"]
    # two messages go out, then the network drops before their acks are read
    await cust.send({"type": "message", "client_id": "pending-1", "text": "second"})
    await cust.send({"type": "message", "client_id": "pending-2", "text": "third"})
    await cust.drop()
    # the widget reconnects and resends everything it has no ack for
    await cust.hello(resume=False)
    for client_id, text in (("pending-1", "second"), ("pending-2", "third"), ("pending-2", "third")):
        await cust.send({"type": "message", "client_id": client_id, "text": text})
        await cust.expect("ack", lambda f, c=client_id: f["client_id"] == c)
    events = await node.services.store.events(cid)
    texts = [e["text"] for e in events if e["type"] == "message"]
    assert texts == ["first", "second", "third"]
    # the agent saw each message exactly once: live, or already in the conversation it was assigned (a message
    # stored between the assignment and the desk's subscription is in the assignment's summary and history)
    await alice.expect("assigned")
    await alice.quiet(0.5)
    seen = [f["event"]["text"] for f in alice.seen if f["type"] == "event" and f["event"]["type"] == "message"]
    assigned = [f["conversation"]["last_text"] for f in alice.seen if f["type"] == "assigned"]
    assert "third" in seen or assigned == ["third"]
    assert sorted(seen) == sorted(set(seen))


async def test_resume_sends_only_what_was_missed(clients: Clients) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("hello")
    conv = await alice.assigned()
    await cust.event("message", lambda e: e["text"] == "hello")
    await cust.event("assigned")
    await cust.drop()
    await alice.say(conv["id"], "reply while you were away")
    await alice.say(conv["id"], "and another")
    welcome = await cust.hello(resume=True)
    assert [e["text"] for e in welcome["events"]] == ["reply while you were away", "and another"]
    assert welcome["conversation"]["id"] == ack["conversation_id"]


async def test_token_used_on_another_customers_conversation_is_refused(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    one, two = clients.customer(), clients.customer()
    await one.hello()
    await two.hello()
    ack1 = await one.say("mine")
    conv = await alice.assigned()
    # an agent cannot write into a conversation that is not theirs
    bob = clients.agent("bob")
    await bob.hello()
    await bob.send({"type": "message", "conversation_id": conv["id"], "client_id": "x1", "text": "intrusion"})
    err = await bob.expect("error")
    assert err["code"] == "forbidden" and err["field"] == "conversation_id" and err["client_id"] == "x1"
    await bob.send({"type": "open", "conversation_id": conv["id"]})
    assert (await bob.expect("error"))["code"] == "forbidden"
    with_conv = await node.services.conversations.require_customer(one.customer_id, ack1["conversation_id"])
    assert with_conv["customer_id"] == one.customer_id
    with pytest.raises(Forbidden):
        await node.services.conversations.require_customer(two.customer_id, ack1["conversation_id"])
    texts = [e.get("text") for e in await node.services.store.events(conv["id"])]
    assert "intrusion" not in texts


async def test_a_message_into_the_open_conversation_is_one_script_call(
    clients: Clients, node: Node, redis_url: str
) -> None:
    """The customer's socket knows the conversation it follows: a message into it while it is open is stored in one
    round trip (one script: the current conversation checked, the rate limit taken, the event appended), not three
    (look up, open, append). A resent message is still stored once, and after a close the next message opens a
    new conversation the usual way."""
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("first"))["conversation_id"]
    conv = await alice.assigned()
    shas = {hashlib.sha1(sources()[name].text.encode()).hexdigest(): name for name in MESSAGE_SCRIPTS}
    redis = aioredis.Redis.from_url(redis_url)
    runs: list[str] = []
    try:
        async with redis.monitor() as monitor:
            for i in range(3):
                assert (await cust.say(f"more {i}", client_id=f"m{i}"))["conversation_id"] == cid
            await cust.send({"type": "message", "client_id": "m2", "text": "more 2"})  # resent: its ack again
            await cust.expect("ack", lambda f: f["client_id"] == "m2")
            async with aioredis.Redis.from_url(redis_url) as other:
                await other.echo("the messages are in")
            while "the messages are in" not in (command := (await monitor.next_command())["command"]):
                words = command.split()
                if words[0].upper() == "EVALSHA" and words[1] in shas:
                    runs.append(shas[words[1]])
    finally:
        await redis.aclose()
    assert set(runs) == {"customer_append"} and len(runs) >= 4, runs  # (a first run may be refused: NOSCRIPT)
    texts = [e["text"] for e in await node.services.store.events(cid) if e["type"] == "message"]
    assert texts == ["first", "more 0", "more 1", "more 2"]

    await alice.send({"type": "close", "conversation_id": conv["id"], "disposition": "resolved"})
    await cust.event("closed")
    again = await cust.say("a new question")
    assert again["conversation_id"] != cid


#: the scripts a customer's message may run
MESSAGE_SCRIPTS = ("customer_append", "open_conversation", "append")
