"""Two callers wait when the one agent who can take them becomes available (a user test, two gateway workers):
routing gave her both conversations in one pass, both rang her at once, she answered one, and the other's
ring-no-answer set her away ("missed a call") in the middle of the call she had answered. A call rings one agent;
the next caller waits for the next agent who is free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from gateway.contact.presence import Presence
from gateway.contact.routing import CALL_HOLD_MS, DEFAULT_QUEUE, Router, now_ms
from gateway.protocol.states import AgentActivity
from gateway.store.scripts import LUA_DIR
from gateway.store.store import Store
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

RING_SECONDS = 2.5


@pytest.fixture
async def quick_ring_node(settings) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, ring_seconds=RING_SECONDS))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_two_waiting_callers_ring_an_agent_who_becomes_available_one_at_a_time(quick_ring_node: Node) -> None:
    node = quick_ring_node
    clients = Clients(node.url)
    alice, bob = clients.agent("alice"), clients.agent("bob")  # alice: room for two chats
    callers: list[Caller] = []
    phones: list[Softphone] = []
    try:
        await alice.hello(available=False)
        await bob.hello(available=False)
        callers = [await queued_call(clients), await queued_call(clients)]
        first, second = (c.conversation_id for c in callers)
        await alice.send({"type": "status", "status": "available"})
        phone = Softphone(alice)
        phones.append(phone)
        ring = await phone.ringing()
        assert ring["conversation_id"] == first  # the one who waited longest
        await phone.answer(str(ring["call_id"]))
        await asyncio.sleep(RING_SECONDS + 1.5)  # a second ring would have run out by now
        await alice.quiet()
        rung = {f["conversation_id"] for f in alice.seen if f.get("type") == "call_status" and f["status"] == "ringing"}
        assert rung == {first}
        info = await node.services.presence.info("alice")
        assert (info["status"], info["activity"]) == ("available", "on_call")  # not set away during her call
        conv = await node.services.store.conversation(second)
        assert conv is not None and conv["state"] == "queued"
        # bob becomes available: the second caller rings him
        await bob.send({"type": "status", "status": "available"})
        bob_phone = Softphone(bob)
        phones.append(bob_phone)
        assert (await bob_phone.ringing())["conversation_id"] == second
    finally:
        for p in phones:
            await p.close()
        for c in callers:
            await c.close()
        await clients.close()


async def test_two_nodes_routing_at_once_never_give_a_call_to_an_agent_rung_or_on_a_call(store: Store) -> None:
    """Each node's router plans one call for her; the second node's assignment comes once the first call rings
    (or is answered): the store refuses it (assign_one.lua), a chat still goes to her."""
    await store.update_agent("alice", {"status": "available", "capacity": "5"})
    await store.redis.zadd(store.keys.agent_sessions("alice"), {"desk": 10**13})
    for cid in ("call-1", "call-2", "chat-1"):
        await store.open_conversation("cust-" + cid, cid, DEFAULT_QUEUE, now=1000, context={}, queued=True)
    for cid in ("call-1", "call-2"):
        await store.append(cid, "call_started", {"call_id": "k-" + cid}, now=1001)  # a call in it ('calls': 1)
    assert await store.assign("call-1", DEFAULT_QUEUE, "alice", "Alice", now=1002) == "ok"
    for activity in ("ringing", "on_call"):
        await store.update_agent("alice", {"activity": activity})
        assert await store.assign("call-2", DEFAULT_QUEUE, "alice", "Alice", now=1003) == "agent_on_call", activity
    assert await store.assign("chat-1", DEFAULT_QUEUE, "alice", "Alice", now=1004) == "ok"
    await Presence(store, Router(store)).set_activity("alice", AgentActivity.NONE)  # the call ended
    assert await store.assign("call-2", DEFAULT_QUEUE, "alice", "Alice", now=1005) == "ok"


async def test_an_agent_given_a_call_takes_no_second_call_until_her_desk_rings(store: Store) -> None:
    """Between a call's assignment and her desk ringing (another node may ring her, a few ms later) she is held
    for it: a second call is refused by the store and her load is busy in the planner, until an activity is set
    (the ring; here one that ended at once, declined) or the hold runs out (the node that was to ring her lost)."""
    for aid in ("alice", "bob"):
        await store.update_agent(aid, {"status": "available", "capacity": "5"})
        await store.redis.zadd(store.keys.agent_sessions(aid), {"desk": 10**13})
        await store.redis.sadd(store.keys.agents, aid)  # (an agent who connected)
    for cid in ("call-1", "call-2", "call-3", "call-4"):
        await store.open_conversation("cust-" + cid, cid, DEFAULT_QUEUE, now=1000, context={}, queued=True)
        await store.append(cid, "call_started", {"call_id": "k-" + cid}, now=1001)
    router = Router(store)
    assert await store.assign("call-1", DEFAULT_QUEUE, "alice", "Alice", now=1002) == "ok"
    assert await store.assign("call-2", DEFAULT_QUEUE, "alice", "Alice", now=1003) == "agent_on_call"
    assert {a.id: a.busy for a in await router.agent_loads(1003)} == {"alice": True, "bob": False}
    presence = Presence(store, router)
    await presence.set_activity("alice", AgentActivity.RINGING)
    await presence.set_activity("alice", AgentActivity.NONE)  # declined: the call waits again, she may take one
    assert await store.assign("call-2", DEFAULT_QUEUE, "alice", "Alice", now=1004) == "ok"
    # bob is given a call and never rung: held until CALL_HOLD_MS have passed
    assert await store.assign("call-3", DEFAULT_QUEUE, "bob", "Bob", now=2000) == "ok"
    assert await store.assign("call-4", DEFAULT_QUEUE, "bob", "Bob", now=2000 + CALL_HOLD_MS - 1) == "agent_on_call"
    assert await store.assign("call-4", DEFAULT_QUEUE, "bob", "Bob", now=2000 + CALL_HOLD_MS) == "ok"


def test_the_call_hold_is_one_figure_in_the_planner_and_the_store() -> None:
    lua = (LUA_DIR / "includes" / "assign_one.lua").read_text()
    assert f"local CALL_HOLD_MS = {CALL_HOLD_MS}\n" in lua


async def test_a_conversation_whose_call_ended_waits_as_a_chat(store: Store) -> None:
    """A customer called, the call ended, and the conversation waits again (they chat on): it is a chat now. An
    agent on a call takes it (``--calls-block-chats false``: the store's rule is the call's, not the option's), the
    assignment is not a call's for reports (``voice`` false), and the planner reads it as a chat too."""
    await store.update_agent("alice", {"status": "available", "capacity": "5", "activity": "on_call"})
    await store.redis.zadd(store.keys.agent_sessions("alice"), {"desk": 10**13})
    await store.open_conversation("cust-1", "conv-1", DEFAULT_QUEUE, now=1000, context={}, queued=True)
    await store.append("conv-1", "call_started", {"call_id": "k-1"}, now=1001)
    router = Router(store, DEFAULT_QUEUE)
    assert [w.voice for w in await router.waiting_details()] == [True]
    assert await store.assign("conv-1", DEFAULT_QUEUE, "alice", "Alice", now=1002) == "agent_on_call"
    await store.append("conv-1", "call_ended", {"call_id": "k-1", "reason": "hangup"}, now=1003)
    assert [w.voice for w in await router.waiting_details()] == [False]
    assert await store.assign("conv-1", DEFAULT_QUEUE, "alice", "Alice", now=1004) == "ok"
    assigned = [e for e in await store.events("conv-1") if e["type"] == "assigned"]
    assert [e["voice"] for e in assigned] == [False]
    # a second call in it is a call again
    await store.open_conversation("cust-2", "conv-2", DEFAULT_QUEUE, now=1005, context={}, queued=True)
    for typ in ("call_started", "call_ended", "call_started"):
        await store.append("conv-2", typ, {"call_id": "k-2"}, now=1006)
    assert await store.assign("conv-2", DEFAULT_QUEUE, "alice", "Alice", now=1007) == "agent_on_call"


async def test_an_agent_held_for_a_call_after_her_wrap_up_ran_out_is_not_shown_in_wrap_up(store: Store) -> None:
    """Her after-call work ran out, then routing gave her a call (held for it until her desk rings): her desks and
    the wallboard show the wrap-up over, not lasting as long as the hold does (the hold makes her busy only)."""
    now = now_ms()
    await store.update_agent(
        "alice",
        {"status": "available", "capacity": "5", "activity": "wrap_up", "activity_until": str(now - 1)},
    )
    await store.redis.zadd(store.keys.agent_sessions("alice"), {"desk": 10**13})
    await store.update_agent("alice", {"call_held_at": str(now)})  # as assign_one.lua holds her
    assert (await Presence(store, Router(store)).info("alice"))["activity"] == ""
