"""Chat -> voice in one conversation: the customer presses Call in the widget and never repeats themselves.

Real parts: Redis, a gateway node, aiortc callers and softphones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import hears, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


async def test_a_customer_chatting_with_an_agent_presses_call_and_that_agent_rings(
    clients: Clients, node: Node
) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("my router keeps dropping")
    cid = (await alice.assigned())["id"]
    await bob.hello()  # bob is free too: the call must still go to alice
    await alice.say(cid, "Easier by voice: press Call")
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await caller.dial()
        assert caller.conversation_id == cid
        waiting = await caller.status(CallStatus.WAITING)
        assert waiting["reason"] == "your_agent"
        ring = await phone.ringing()
        assert ring["conversation_id"] == cid
        await phone.answer(ring["call_id"])
        caller.mic.play(tone(440), "customer")
        await hears(lambda: phone.heard, 440)
        phone.mic.play(tone(1000), "agent")
        await hears(lambda: caller.heard, 1000)
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
        # after the call the chat goes on in the same conversation, with the same agent
        await customer.say("thanks, and one more thing")
        message = await alice.event("message", lambda e: e["text"] == "thanks, and one more thing")
        assert message["conversation_id"] == cid
        events = await node.services.store.events(cid)
        kinds = [e["type"] for e in events]
        assert "ivr" not in kinds  # no IVR: straight to the agent
        order = [k for k in kinds if k in ("message", "call_started", "call_answered", "call_ended")]
        assert order == ["message", "message", "call_started", "call_answered", "call_ended", "message"]
        assert all(f["type"] != "call_status" or f.get("agent_id") != "bob" for f in await bob.quiet(0.3))
    finally:
        await phone.close()
        await caller.close()


async def test_the_chat_s_agent_declining_the_call_keeps_the_chat_and_tells_the_customer(
    clients: Clients, node: Node
) -> None:
    """A decline from the agent of the chat says "not now": the call ends with a reason the widget explains, the
    conversation stays theirs (the customer's next message reaches them), and they stay available."""
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("can I call you?")
    cid = (await alice.assigned())["id"]
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await caller.dial()
        ring = await phone.ringing()
        assert ring["reason"] == "own_chat"
        await alice.send({"type": "call_decline", "call_id": ring["call_id"]})
        ended = await caller.status(CallStatus.ENDED)
        assert ended["reason"] == "agent_declined"
        await customer.say("ok, by chat then")
        message = await alice.event("message", lambda e: e["text"] == "ok, by chat then")
        assert message["conversation_id"] == cid
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
        assert (await node.services.presence.info("alice"))["status"] == "available"
        kinds = [e["type"] for e in await node.services.store.events(cid)]
        assert "call_missed" in kinds and "call_abandoned" not in kinds
    finally:
        await phone.close()
        await caller.close()


@pytest.fixture
async def bot_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, chat_flow="default"))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_the_ivr_skips_what_the_chat_bot_already_asked(bot_node: Node) -> None:
    clients = Clients(bot_node.url)
    services = bot_node.services
    alice = clients.agent("alice")
    customer = clients.customer()
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await alice.hello(available=False)
        await customer.hello()
        cid = (await customer.say("hi"))["conversation_id"]
        await customer.event("choices")
        await customer.say("billing")  # the bot asks; the conversation waits for billing
        await customer.event("message", lambda e: e["text"] == "Connecting you to billing.")
        assert (await services.store.context(cid))["intent"] == "billing"
        await caller.dial()  # the customer presses Call while waiting
        assert caller.conversation_id == cid
        await caller.status(CallStatus.WAITING, timeout=20)  # no menu: straight through to the queue
        steps = [
            (e["kind"], e["node"], e["detail"])
            for e in await services.store.events(cid)
            if e["type"] == "ivr" and e["channel"] == "voice"
        ]
        assert ("skip", "menu", "intent=billing is known: choice 1 (Billing)") in steps
        assert ("prompt", "menu", "I see you are asking about billing.") in steps
        assert not any(kind == "input" for kind, _, _ in steps)  # the caller was asked nothing
        await alice.send({"type": "status", "status": "available"})
        ring = await phone.ringing()
        assert ring["conversation_id"] == cid
        await phone.answer(ring["call_id"])
        caller.mic.play(tone(440), "customer")
        await hears(lambda: phone.heard, 440)
        # the agent's view: the bot's chat and the call in one timeline
        await alice.send({"type": "open", "conversation_id": cid})
        history = await alice.expect("history")
        kinds = [e["type"] for e in history["events"]]
        assert kinds.index("choices") < kinds.index("call_started") < kinds.index("call_answered")
        assert any(
            e["type"] == "message" and e.get("author") == "customer" and e["text"] == "billing"
            for e in history["events"]
        )
    finally:
        await phone.close()
        await caller.close()
        await bounded(clients.close(), "closing the clients")


async def test_a_returning_customer_is_routed_to_their_last_agent(clients: Clients, node: Node) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("first question")
    first = (await alice.assigned())["id"]
    await bob.hello()
    await asyncio.sleep(0.01)  # idle times are in ms: bob's must come before alice's, not in the same ms
    await alice.send({"type": "close", "conversation_id": first, "disposition": node.services.settings.dispositions[0]})
    await alice.expect("unassigned")
    # alice was just given work back (closing frees her), bob has been idle longer: bob would be next in line
    loads = {a.id: a for a in await node.services.router.agent_loads(0)}
    assert loads["bob"].idle_since < loads["alice"].idle_since
    back = clients.customer(customer.token)  # the same widget token, days later
    await back.hello()
    second = (await back.say("it broke again"))["conversation_id"]
    assert second != first
    assigned = await alice.assigned()
    assert assigned["id"] == second
    assert all(f["type"] != "assigned" for f in await bob.quiet(0.5))


async def test_the_agent_invites_the_chatting_customer_to_a_call(clients: Clients, node: Node) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("can we talk?")
    cid = (await alice.assigned())["id"]
    await bob.hello()
    await bob.send({"type": "call_invite", "conversation_id": cid})
    assert (await bob.expect("error"))["code"] == "forbidden"
    await alice.send({"type": "call_invite"})
    assert (await alice.expect("error"))["field"] == "conversation_id"
    await alice.send({"type": "call_invite", "conversation_id": cid})
    invite = await customer.event("call_invite")
    assert invite["agent_name"] == "Alice Smith" and invite["ring_until"] > 0 and "agent_id" not in invite
    caller = Caller(customer)  # the customer answers the invitation: alice's softphone rings
    phone = Softphone(alice)
    try:
        await caller.dial()
        ring = await phone.ringing()
        assert ring["conversation_id"] == cid
        await phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
    finally:
        await phone.close()
        await caller.close()
    await alice.send({"type": "close", "conversation_id": cid, "disposition": node.services.settings.dispositions[0]})
    await alice.expect("unassigned")
    await alice.send({"type": "call_invite", "conversation_id": cid})
    assert (await alice.expect("error"))["code"] in ("forbidden", "conflict")


async def test_a_message_after_the_ivr_hung_up_goes_to_the_agents(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    caller = Caller(customer)
    try:
        await caller.dial()
        await caller.status(CallStatus.IVR)
        await caller.menu_asked()
        await caller.press("2")  # "Support is closed today. Goodbye."
        ended = await caller.status(CallStatus.ENDED, timeout=20)
        assert ended["reason"] == "support_closed"
    finally:
        await caller.close()
    cid = caller.conversation_id
    assert (await node.services.store.conversation(cid))["state"] == "open"  # type: ignore[index]
    assert all(f["type"] != "assigned" for f in await alice.quiet(0.3))
    ack = await customer.say("so when are you open?")  # nothing else is in charge of it: an agent takes it
    assert ack["conversation_id"] == cid
    assigned = await alice.assigned()
    assert assigned["id"] == cid


async def test_a_declined_invitation_is_told_to_the_agent_once(clients: Clients, node: Node) -> None:
    """Declining only hid the banner in the widget: the agent never knew and waited for a call."""
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("can we talk?")
    cid = (await alice.assigned())["id"]
    await customer.send({"type": "call_invite_decline", "conversation_id": cid})  # nothing to decline yet
    assert (await customer.expect("error"))["code"] == "conflict"
    await alice.send({"type": "call_invite", "conversation_id": cid})
    invite = await customer.event("call_invite")
    other = clients.customer()  # someone else cannot decline it for them
    await other.hello()
    await other.send({"type": "call_invite_decline", "conversation_id": cid})
    assert (await other.expect("error"))["code"] == "not_found"
    await customer.send({"type": "call_invite_decline", "conversation_id": cid})
    declined = await alice.event("call_invite_declined")
    assert declined["invite_id"] == invite["id"] and declined["conversation_id"] == cid
    await customer.send({"type": "call_invite_decline", "conversation_id": cid})  # twice: refused, written once
    assert (await customer.expect("error"))["code"] == "conflict"
    types = [e["type"] for e in await node.services.store.events(cid)]
    assert types.count("call_invite_declined") == 1
    await alice.send({"type": "call_invite_decline", "conversation_id": cid})  # not an agent's frame
    assert (await alice.expect("error"))["code"] == "unknown_type"


async def test_a_call_from_a_chat_waiting_in_a_queue_waits_where_the_ivr_sent_it(clients: Clients, node: Node) -> None:
    """An exploratory test: a chat waited in the default queue, the customer called and chose billing in the IVR
    ("Connecting you to billing"), and the conversation stayed in default (routed by default's skills, shown there
    on the wallboard). It moves to the queue the IVR chose, keeping its place in line."""
    customer = clients.customer()
    await customer.hello()
    ack = await customer.say("Do you ship to Canada?")  # nobody is online: the chat waits in default
    cid = str(ack["conversation_id"])
    store = node.services.store
    before = await store.conversation(cid)
    assert before is not None and (before["state"], before["queue"]) == ("queued", "default")
    place = await store.redis.zscore(store.keys.queue("default"), cid)
    caller = Caller(customer)
    try:
        await caller.dial()
        assert caller.conversation_id == cid
        await caller.status(CallStatus.IVR)
        await caller.menu_asked()
        await caller.press("1")  # billing
        await caller.status(CallStatus.WAITING)
        conv = await store.conversation(cid)
        assert conv is not None and (conv["state"], conv["queue"]) == ("queued", "billing")
        assert await store.redis.zscore(store.keys.queue("default"), cid) == place  # its place in line is kept
        moved = [e for e in await store.events(cid) if e["type"] == "state" and e.get("from_queue")]
        assert [(e["queue"], e["from_queue"], e["reason"]) for e in moved] == [("billing", "default", "flow")]
    finally:
        await caller.close()


async def test_a_customer_answering_the_agents_invitation_is_put_through_without_a_second_ring(
    clients: Clients, node: Node
) -> None:
    """The agent pressed "Invite to call", the customer answered, and the agent's desk rang again, "Answer within
    11 s" (a verifying test): the ring says `invite`, which the desk accepts at once as an answered callback."""
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("could we talk?")
    cid = (await alice.assigned())["id"]
    await alice.send({"type": "call_invite", "conversation_id": cid})
    await customer.event("call_invite")
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await caller.dial()
        ring = await phone.ringing()
        assert (ring["reason"], ring["conversation_id"]) == ("invite", cid)
        await phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
        # a call placed without a live invitation rings as before
        await customer.send({"type": "call_invite_decline", "conversation_id": cid})
        again = Caller(customer)
        try:
            await again.dial()
            assert (await phone.ringing())["reason"] == "own_chat"
        finally:
            await again.close()
    finally:
        await phone.close()
        await caller.close()
