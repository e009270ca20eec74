"""After a call: the agent's after-call work (``--wrap-up-seconds``) and how it ends (closing the conversation,
Available, Keep open, or running out, told to the desk), no new work meanwhile, and no closing a conversation whose
call still rings or is connected. Real aiortc callers and softphones, a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from gateway.contact.routing import now_ms
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.integration.test_agent_rejoin import answered_call
from tests.support.caller import Caller
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


async def test_agent_hangs_up(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        ring = await phone.ringing()
        cid = ring["conversation_id"]
        close = {"type": "close", "conversation_id": cid, "disposition": "resolved"}
        # no closing a conversation whose call rings for you, or is connected to you: the customer was left talking
        # in a closed conversation (an exploratory test)
        await alice.send(close)
        refused = await alice.expect("error")
        assert (refused["code"], "answer or decline it first" in refused["message"]) == ("call_in_progress", True)
        await phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        # the call registry says connected a moment after the caller is told (a background write): a loaded CI
        # machine read "ringing" still, and the refusal said "answer or decline it first"
        async with asyncio.timeout(10):
            while [c["status"] for c in await node.services.agent_calls.calls_of("alice")] != ["connected"]:
                await asyncio.sleep(0.05)
        await alice.send(close)
        refused = await alice.expect("error")
        assert (refused["code"], "hang up first" in refused["message"]) == ("call_in_progress", True)
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "assigned"
        await alice.send({"type": "hangup", "call_id": phone.call_id})
        ended = await caller.status(CallStatus.ENDED)
        assert ended["reason"] == "agent_hangup"
        await alice.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up")
        alice.forget("agent")  # (those from before the call said available with no activity too)
        # pressing Available ends after-call work: ready for the next one (a desk opened during the wrap-up has no
        # Done button; the agent pressed Available and was not rung for a minute: an exploratory test)
        await alice.send({"type": "status", "status": "available"})
        await alice.expect("agent", lambda f: f["agent"]["status"] == "available" and f["agent"]["activity"] == "")
    finally:
        await phone.close()
        await caller.close()


@pytest.fixture
async def quick_wrap_node(settings) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, wrap_up_seconds=1.5))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_after_call_work_that_runs_out_is_told_to_the_desk(quick_wrap_node: Node) -> None:
    clients = Clients(quick_wrap_node.url)
    alice = clients.agent("alice")
    phone = Softphone(alice)
    caller: Caller | None = None
    try:
        await alice.hello()
        caller = await queued_call(clients)
        await phone.answer((await phone.ringing())["call_id"])
        await caller.status(CallStatus.CONNECTED)
        await caller.hangup()
        wrap = await alice.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up")
        alice.forget("agent")
        # nothing is done at the desk: when the 1.5 s run out, the gateway says so by itself (the desk went on
        # showing "After-call work" while calls rang again: an exploratory test)
        over = await alice.expect("agent", timeout=5)
        assert over["agent"]["activity"] == "" and over["agent"]["status"] == "available"
        assert abs(now_ms() - wrap["agent"]["activity_until"]) < 1500
    finally:
        await phone.close()
        if caller is not None:
            await caller.close()
        await clients.close()


async def test_an_agent_on_a_call_or_in_wrap_up_gets_no_new_work(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")  # capacity 2: room for a chat besides the call
    await alice.hello()
    earlier = clients.customer()  # a chat of alice's before the call
    await earlier.hello()
    await earlier.say("a question from before")
    earlier_id = (await alice.assigned())["id"]
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await alice.expect("agent", lambda f: f["agent"]["activity"] == "on_call")
        chatter = clients.customer()
        await chatter.hello()
        ack = await chatter.say("hello, anyone?")
        await asyncio.sleep(1.5)  # a routing sweep or two: the chat waits while alice is on the call
        conv = await node.services.store.conversation(ack["conversation_id"])
        assert conv is not None and conv["state"] == "queued"
        await caller.hangup()
        wrap = await alice.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up")
        assert wrap["agent"]["activity_until"] > 0
        # closing another chat meanwhile does not end the call's after-call work (room or not)
        await alice.send({"type": "close", "conversation_id": earlier_id, "disposition": "resolved"})
        await alice.expect("unassigned", lambda f: f["conversation_id"] == earlier_id)
        await asyncio.sleep(1.2)
        assert (await node.services.store.conversation(conv["id"]))["state"] == "queued"  # type: ignore[index]
        assert (await node.services.presence.info("alice"))["activity"] == "wrap_up"
        # closing the call's conversation ends after-call work: the chat comes to alice
        await alice.send({"type": "close", "conversation_id": caller.conversation_id, "disposition": "resolved"})
        assigned = await alice.expect("assigned", lambda f: f["conversation"]["id"] == conv["id"], timeout=5)
        assert assigned["conversation"]["id"] == conv["id"]
    finally:
        await phone.close()
        await caller.close()


async def test_the_customer_ends_the_chat_during_after_call_work_which_goes_on_and_counts(
    clients: Clients, node: Node
) -> None:
    """The caller hangs up, then presses End chat: the agent's after-call work goes on until she says Done (it was
    cut from reports, and her desk lost its Done button while routing still held her: a reviewer's finding)."""
    alice, phone, caller = await answered_call(clients)
    cid = caller.conversation_id
    try:
        await caller.hangup()
        await alice.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up")
        await asyncio.sleep(0.3)  # some after-call work
        await caller.customer.send({"type": "end_chat", "conversation_id": cid})
        assert (await alice.expect("unassigned", lambda f: f["conversation_id"] == cid))["reason"] == "customer_ended"
        closed = await alice.event("closed", lambda e: e["conversation_id"] == cid)
        assert closed["disposition"] == "customer_ended" and closed["wrap_ms"] > 0, closed  # up to her close
        assert await node.services.store.agent_field("alice", "activity") == "wrap_up"  # hers until Done
        alice.forget("agent")
        await alice.send({"type": "wrap_up_done"})
        await alice.expect("agent", lambda f: f["agent"]["activity"] == "")
    finally:
        await phone.close()
        await caller.close()
