"""The takeover's steps on a real Redis (gateway/calls/takeover.py), one node's Takeover and NodeWatch at a time:
which conversations are taken back, a takeover stopped midway is done again whole, a stopping claimant lets go
of its claim, and the heartbeat goes on during a long takeover."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from gateway.calls.takeover import NodeWatch, Takeover
from gateway.contact.conversations import Conversations
from gateway.contact.dispositions import Dispositions
from gateway.contact.presence import Presence
from gateway.contact.routing import DEFAULT_QUEUE, Router
from gateway.protocol.bus import CallUpdate, Message
from gateway.store.node_store import NodeStore
from gateway.store.store import Store, StoreError

Publish = Callable[[str, Message], Awaitable[None]]


def takeover(store: Store, publish: Publish) -> Takeover:
    router = Router(store)
    return Takeover(
        store,
        "survivor",
        Conversations(store, router, Dispositions(store, ("resolved",))),
        Presence(store, router),
        publish,
    )


async def a_call(
    store: Store, cid: str, *, state: str, routed: str, agent: str = "", chat: bool = False, assigned_to: str = ""
) -> None:
    """A call of node 'dead' (as its registry shows it) with its conversation, assigned to ``assigned_to``."""
    await store.open_conversation("cust-" + cid, cid, DEFAULT_QUEUE, now=1000, context={}, queued=bool(assigned_to))
    if chat:
        await store.append(cid, "message", {"from": "customer", "text": "hello"}, now=1001)
    if assigned_to:  # an available agent with a live desk, as routing finds them
        await store.update_agent(assigned_to, {"status": "available", "capacity": "5"})
        await store.redis.zadd(store.keys.agent_sessions(assigned_to), {"desk": 10**13})
        assert await store.assign(cid, DEFAULT_QUEUE, assigned_to, assigned_to.upper(), now=1002) == "ok"
    fields = {
        "node": "dead",
        "customer_id": "cust-" + cid,
        "conversation_id": cid,
        "status": "ringing" if state == "ringing" else "waiting",
        "state": state,
        "agent_id": agent,
        "consult_agent_id": "",
        "routed": routed,
        "queued_ms": "1000",
    }
    await NodeStore(store).register_call("call-" + cid, fields)
    await store.redis.sadd(store.keys.nodes, "dead")


async def state_of(store: Store, cid: str) -> tuple[str, str]:
    conv = await store.redis.hmget(store.keys.conv(cid), "state", "agent_id")
    return tuple((v or b"").decode() for v in conv)  # type: ignore[return-value]


async def nowhere(channel: str, message: Message) -> None:
    pass


async def test_a_queued_calls_conversation_handed_to_an_agent_before_the_takeover_is_taken_back(store: Store) -> None:
    """Routing handed the dead node's waiting call to Y before the takeover: nobody is behind it."""
    await a_call(store, "c1", state="waiting", routed="1", assigned_to="y")
    await a_call(store, "c2", state="waiting", routed="1", assigned_to="y", chat=True)
    report = await takeover(store, nowhere).run("dead")
    assert (await state_of(store, "c1"))[0] == "closed"  # call-only: abandoned
    assert not await store.redis.smembers(store.keys.agent_convs("y"))  # Y holds neither
    assert (await state_of(store, "c2"))[0] == "queued"  # with a chat: back in the queue
    assert (report.closed, report.requeued) == (["c1"], ["c2"])


async def test_a_conversation_the_call_went_straight_to_stays_with_its_agent(store: Store) -> None:
    """The customer chatting with X pressed Call (or answered X's callback): ringing X when the node died."""
    await a_call(store, "c1", state="ringing", routed="0", agent="x", assigned_to="x", chat=True)
    await a_call(store, "c2", state="ringing", routed="0", agent="x", assigned_to="x")  # a callback, call-only
    report = await takeover(store, nowhere).run("dead")
    assert await state_of(store, "c1") == ("assigned", "x")
    assert await state_of(store, "c2") == ("assigned", "x")
    assert (report.closed, report.requeued, sorted(report.calls)) == ([], [], ["call-c1", "call-c2"])


async def test_a_takeover_stopped_midway_is_done_again_whole(store: Store) -> None:
    """A Redis error between the steps: the next run still finds the call, and does every step."""
    await a_call(store, "c1", state="waiting", routed="1", assigned_to="y")
    heard: list[Message] = []

    async def publish(channel: str, message: Message) -> None:
        if not heard:
            heard.append(message)
            raise StoreError("Redis went away")
        heard.append(message)

    t = takeover(store, publish)
    with pytest.raises(StoreError):
        await t.run("dead")
    report = await t.run("dead")
    assert report.calls == ["call-c1"]
    assert isinstance(heard[-1], CallUpdate) and heard[-1].status == "ended"
    assert (await state_of(store, "c1"))[0] == "closed"
    ended = [e for e in await store.events("c1") if e["type"] == "call_ended"]
    assert [e["reason"] for e in ended] == ["node_lost"]


class Stuck:
    """A publish that holds the takeover until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, channel: str, message: Message) -> None:
        self.entered.set()
        await self.release.wait()


def watch(store: Store, stuck: Stuck) -> NodeWatch:
    async def on_lost() -> None:
        pass

    return NodeWatch(
        store, "survivor", takeover(store, stuck), on_lost=on_lost, heartbeat_seconds=0.05, ttl_seconds=0.5
    )


async def test_the_heartbeat_goes_on_during_a_long_takeover(store: Store) -> None:
    await a_call(store, "c1", state="waiting", routed="1")
    stuck = Stuck()
    w = watch(store, stuck)
    await w.start()
    try:
        async with asyncio.timeout(10):
            await stuck.entered.wait()
        alive = store.keys.node_alive("survivor")
        last = await store.redis.pttl(alive)
        async with asyncio.timeout(10):  # a fresh heartbeat while the takeover is held up
            while True:
                await asyncio.sleep(0.02)
                ttl = await store.redis.pttl(alive)
                if ttl > last:
                    break
                last = ttl
        assert await NodeStore(store).heartbeat("survivor", ttl_ms=500) == "ok"  # nobody took the survivor over
    finally:
        stuck.release.set()
        await w.stop()


async def test_a_claimant_that_stops_midway_releases_its_claim(store: Store) -> None:
    await a_call(store, "c1", state="waiting", routed="1")
    stuck = Stuck()
    w = watch(store, stuck)
    await w.start()
    try:
        async with asyncio.timeout(10):
            await stuck.entered.wait()
        assert await store.redis.get(store.keys.node_takeover("dead")) == b"survivor"
    finally:
        await w.stop()
    assert not await store.redis.exists(store.keys.node_takeover("dead"))
    assert await NodeStore(store).claim("dead", "other", lease_ms=60_000, lost_ms=60_000) == "ok"  # at once
