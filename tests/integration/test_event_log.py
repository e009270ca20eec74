"""The event log: every timeline event of every conversation in one stream, added in the same script step, read by
consumer groups (own pending entries first, then new ones)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from gateway.protocol.states import CallStatus
from gateway.store.event_log_store import EventLogStore
from gateway.store.keys import Keys
from gateway.store.store import Store
from tests.conftest import Clients
from tests.support.caller import in_ivr
from tests.support.servers import Node


def log_of(node: Node) -> EventLogStore:
    return EventLogStore.of(node.services.store)


async def entries_of(node: Node, cid: str) -> list[tuple[str, str, str, str]]:
    """(timeline event id, type, queue, agent) of the conversation's entries in the event log, in log order."""
    return [(e.event_id, e.type, e.queue, e.agent_id) for e in await log_of(node).range(count=10_000) if e.cid == cid]


async def test_a_chat_leaves_its_timeline_in_the_event_log_in_order(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("Hi, my order is late")
    cid = ack["conversation_id"]
    await alice.assigned()
    await alice.say(cid, "Let me look")
    await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    await cust.event("closed")
    timeline = await node.services.store.events(cid)
    logged = await entries_of(node, cid)
    assert [(eid, typ) for eid, typ, _, _ in logged] == [(e["id"], e["type"]) for e in timeline]
    assert [typ for _, typ, _, _ in logged] == ["opened", "state", "message", "assigned", "message", "closed"]
    # the conversation's queue and agent at each moment: no agent until it is assigned
    assert [(q, a) for _, _, q, a in logged] == [("default", "")] * 3 + [("default", "alice")] * 3
    everything = await log_of(node).range(count=10_000)
    closed = next(e for e in everything if e.cid == cid and e.type == "closed")
    timeline_closed = {k: v for k, v in timeline[-1].items() if k not in ("id", "type", "ts", "conversation_id")}
    assert closed.data == timeline_closed and closed.data["disposition"] == "resolved"
    assert 0 <= timeline[-1]["ts"] - closed.ts < 60_000  # the time the node gave the script; the id is Redis's


async def test_a_call_leaves_its_events_in_the_event_log(clients: Clients, node: Node) -> None:
    async with in_ivr(clients.customer()) as caller:
        await caller.menu_asked()
        await caller.press("1")
        await caller.status(CallStatus.WAITING)
        cid = caller.conversation_id
    # the caller hung up while waiting: the call ends (its node writes call_ended a moment later)
    async with asyncio.timeout(15):
        while "call_ended" not in [e["type"] for e in await node.services.store.events(cid)]:
            await asyncio.sleep(0.05)
    timeline = await node.services.store.events(cid)
    logged = await entries_of(node, cid)
    assert [(eid, typ) for eid, typ, _, _ in logged] == [(e["id"], e["type"]) for e in timeline]
    types = [typ for _, typ, _, _ in logged]
    assert types[:3] == ["opened", "state", "call_started"] and "ivr" in types and "call_abandoned" in types
    abandoned = next(e for e in logged if e[1] == "call_abandoned")
    assert abandoned[2] == "billing"  # queued by the flow: the log says in which queue it waited


async def test_a_consumer_reads_its_pending_entries_first_then_new_ones_and_acks(store: Store) -> None:
    log = EventLogStore.of(store)
    await log.ensure_group("g")
    await log.ensure_group("g")  # idempotent
    await store.open_conversation("cust", "c1", "support", now=1000, context={})
    first = await log.read("g", "n1", block_ms=10)
    assert [(e.cid, e.type, e.ts, e.queue) for e in first] == [
        ("c1", "opened", 1000, "support"),
        ("c1", "state", 1000, "support"),
    ]
    # not acknowledged (the node stopped): the same consumer gets them again, before anything new
    await store.append("c1", "message", {"text": "hi", "author": "customer"}, now=1001)
    assert [e.id for e in await log.read("g", "n1", block_ms=10)] == [e.id for e in first]
    # another consumer of the group gets only what nobody read
    other = await log.read("g", "n2", block_ms=10)
    assert [e.type for e in other] == ["message"]
    await log.ack("g", [e.id for e in first])
    assert await log.read("g", "n1", block_ms=10) == []  # nothing pending, nothing new
    await log.ack("g", [e.id for e in other])
    assert await log.read("g", "n2", block_ms=10) == []
    # a second group reads the whole log from the start, on its own
    await log.ensure_group("h")
    assert [e.type for e in await log.read("h", "n1", block_ms=10)] == ["opened", "state", "message"]


async def test_the_event_log_is_trimmed_to_about_its_setting(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = Store(client, Keys("cg"), event_log_max_entries=100)
        await store.open_conversation("cust", "c1", "support", now=1000, context={})
        for i in range(1000):
            await store.append("c1", "note", {"text": f"n{i}"}, now=1001 + i)
        assert 100 <= await EventLogStore.of(store).length() < 400  # MAXLEN ~ trims whole macro nodes
    finally:
        await client.aclose()


async def test_a_consumer_reads_the_log_without_a_task_per_read_and_a_missing_group_is_an_error(store: Store) -> None:
    """Every chat message comes back to the rollup consumer through :meth:`EventLogStore.read`: read as Redis gives
    it (RESP3 or not), with no ``wait_for`` task per read (redis-py's ``send_packed_command`` started one), the
    fields the same; a group Redis does not know is its ResponseError, as before."""
    import pytest
    from redis.exceptions import ResponseError

    log = EventLogStore.of(store)
    await log.ensure_group("g")
    await store.open_conversation("cust", "c1", "support", now=1000, context={})
    await store.append("c1", "message", {"text": "héllo", "author": "customer"}, now=1001)
    loop = asyncio.get_running_loop()
    started: list[object] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: object) -> asyncio.Task[object]:
        started.append(coro)
        return asyncio.Task(coro, loop=loop)  # type: ignore[arg-type]

    loop.set_task_factory(factory)  # type: ignore[arg-type]
    try:
        read = await log.read("g", "n1", block_ms=10)
        again = await log.read("g", "n1", block_ms=10)  # its pending ones first
        none_new = await log.read("g", "n1", block_ms=10, pending=False)
    finally:
        loop.set_task_factory(None)
    assert started == []
    assert [(e.type, e.data.get("text"), e.ts, e.queue, e.problem) for e in read] == [
        ("opened", None, 1000, "support", ""),
        ("state", None, 1000, "support", ""),
        ("message", "héllo", 1001, "support", ""),
    ]
    assert [e.id for e in again] == [e.id for e in read] and none_new == []
    with pytest.raises(ResponseError, match="NOGROUP"):
        await log.read("nobody", "n1", block_ms=10)
