"""A customer who calls from a chat with an agent: the call rings that agent first, without the IVR (the
conversation is one: chat and call together); what happens when that agent cannot take it (on another call,
away), and when the call is handed on to a colleague. Real aiortc callers and softphones, a real Redis."""

from __future__ import annotations

import asyncio

from gateway.protocol.states import CallStatus
from tests.conftest import Clients
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.queue_calls import hears, queued_call, tone
from tests.support.servers import Node
from tests.support.softphone import Softphone


async def alice_chatting(clients: Clients) -> tuple[Agent, Customer, str]:
    """alice available, a customer chatting with her: (alice, the customer, their conversation)."""
    alice = clients.agent("alice")
    await alice.hello()
    chatter = clients.customer()
    await chatter.hello()
    cid = (await chatter.say("Hi, about my invoice"))["conversation_id"]
    assert (await alice.assigned())["id"] == cid
    return alice, chatter, cid


async def test_a_customer_chatting_with_an_agent_presses_call_and_that_agent_rings_without_the_ivr(
    clients: Clients, node: Node
) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    ack = await customer.say("Hi, my invoice looks wrong")
    cid = ack["conversation_id"]
    assert (await alice.assigned())["id"] == cid
    caller = Caller(customer)
    phone = Softphone(alice)
    try:
        await caller.dial()
        assert caller.conversation_id == cid  # the same conversation: chat and call together
        ring = await phone.ringing()
        assert ring["conversation_id"] == cid
        await phone.answer(ring["call_id"])
        caller.mic.play(tone(440), "caller")
        await hears(lambda: phone.heard, 440)
        events = await node.services.store.events(cid)
        types = [e["type"] for e in events]
        assert "ivr" not in types[types.index("call_started") :]  # no IVR questions for someone already helped
        assert types.index("message") < types.index("call_started") < types.index("call_answered")
        # after the call the chat goes on in the same conversation
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
        await alice.say(cid, "Thanks for calling, anything else?")
        await customer.expect(
            "event",
            lambda f: (
                f["event"]["type"] == "message" and f["event"].get("text") == "Thanks for calling, anything else?"
            ),
        )
    finally:
        await phone.close()
        await caller.close()


async def test_a_chatting_customer_who_calls_while_their_agent_is_on_another_call_keeps_the_chat(
    clients: Clients, node: Node
) -> None:
    alice, chatter, cid = await alice_chatting(clients)  # capacity 2: a chat and a call
    caller = await queued_call(clients)
    phone = Softphone(alice)
    escalating = Caller(chatter)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await caller.status(CallStatus.CONNECTED)
        alice.forget("call_status")
        # the chatting customer presses Call while alice talks to the other caller: she is not rung (a ring she
        # could not answer ran out as a miss, set her away and took her chat); the customer is told, the chat stays
        await escalating.dial()
        ended = await escalating.status(CallStatus.ENDED, timeout=15)
        assert ended["reason"] == "agent_busy"
        assert not [f for f in await alice.quiet(0.5) if f.get("type") == "call_status" and f["status"] == "ringing"]
        info = await node.services.presence.info("alice")
        assert (info["status"], info["activity"]) == ("available", "on_call")
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
        missed = [e for e in await node.services.store.events(cid) if e["type"] == "call_missed"]
        assert [(e["agent_id"], e["reason"]) for e in missed] == [("alice", "agent_busy")]
        assert node.services.agent_calls.handoffs[caller.call_id].state.bridged  # her call goes on undisturbed
        # nor is the aborted call an abandonment in the reports
        assert [e for e in await node.services.store.events(cid) if e["type"] == "call_abandoned"] == []
    finally:
        await escalating.close()
        await phone.close()
        await caller.close()


async def test_a_chatting_customer_who_calls_while_their_agent_is_away_keeps_the_chat(
    clients: Clients, node: Node
) -> None:
    alice, chatter, cid = await alice_chatting(clients)
    await alice.send({"type": "status", "status": "away", "reason": "break"})
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    calling = Caller(chatter)
    try:
        # not rung for 20 s to run out as a miss that took her chat and called her break a missed call (an
        # exploratory test): the customer is told at once to keep chatting
        await calling.dial()
        ended = await calling.status(CallStatus.ENDED, timeout=10)
        assert ended["reason"] == "agent_declined"
        assert not [f for f in await alice.quiet(0.3) if f.get("type") == "call_status" and f["status"] == "ringing"]
        info = await node.services.presence.info("alice")
        assert (info["status"], info["away_reason"]) == ("away", "break")
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
    finally:
        await calling.close()


async def test_a_call_from_a_chat_transferred_to_a_colleague_who_goes_away_goes_on_to_the_next_agent(
    clients: Clients, node: Node
) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    await bob.hello()
    customer = clients.customer()
    await customer.hello()
    cid = (await customer.say("Hi, about my invoice"))["conversation_id"]
    caller = Caller(customer)
    phones = [Softphone(alice), Softphone(bob)]
    try:
        async with asyncio.timeout(5):  # one of them gets the chat
            while (conv := await node.services.store.conversation(cid) or {}).get("state") != "assigned":
                await asyncio.sleep(0.05)
        first = alice if conv["agent_id"] == "alice" else bob
        other, first_phone, other_phone = (bob, *phones) if first is alice else (alice, *phones[::-1])
        await caller.dial()
        ring = await first_phone.ringing()
        assert ring["reason"] == "own_chat"
        await first_phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        await first.send({"type": "call_transfer", "call_id": ring["call_id"], "agent_id": other.agent_id})
        rung = await other_phone.ringing()
        assert rung["reason"] == ""  # not their own chat's call
        # the colleague goes on a break while it rings: the customer goes on to the next agent, not told "keep
        # chatting with your agent" with the chat now theirs (the call used to end as an own-chat decline)
        await other.send({"type": "status", "status": "away"})
        waiting = await customer.expect(
            "call_status", lambda f: f["status"] in ("waiting", "ended") and f["reason"] == "agent_away", timeout=5
        )
        assert waiting["status"] == "waiting"
        assert not [e for e in await node.services.store.events(cid) if e["type"] == "call_ended"]
    finally:
        for phone in phones:
            await phone.close()
        await caller.close()
