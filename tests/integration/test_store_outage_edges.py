"""The edges of a Redis outage, each on its own (the whole scenario under traffic: test_redis_outage.py):

- the node's pub/sub connection dropped while chat goes on: the events published before it is back reach the
  sockets once it is, in order, with nothing missing below the live ones that follow;
- a hello while Redis is down: ``store_unavailable`` and close code 4503, no traceback;
- a replay that Redis still refuses after its retries: ``store_unavailable`` and 4503 (the client resumes from its
  own last event), never live events going on past the hole;
- a ring published while the node's pub/sub is down (call statuses are in no timeline): the desk is told once
  it is back, from the call registry;
- a desk closed while Redis is down: its listeners go at once, its presence session is never refreshed again and
  is removed as soon as Redis is back;
- a call that ends while Redis is down: gone from the node's live calls all the same;
- a call whose registry update or end Redis refused: written as soon as Redis is back, never left live-looking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
import redis
import redis.asyncio as aioredis

from gateway.calls.anchors import CallAnchors
from gateway.config import Settings
from gateway.protocol.states import AgentStatus
from gateway.store.keys import Keys
from gateway.store.store import Store, StoreError
from tests.conftest import PASSWORDS, bounded
from tests.support.caller import in_ivr
from tests.support.clients import Agent, Customer
from tests.support.servers import Node, RedisServer, start_node

WITHIN = 15.0
KEYS = Keys("cg")


async def until(what: str, check: object, seconds: float = WITHIN) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not check():  # type: ignore[operator]
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {seconds} s: {what}") from None


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    server = RedisServer(persist=True)  # stopped and started again by the tests, with its data
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def two_nodes(settings: Settings, own_redis: RedisServer) -> AsyncIterator[tuple[Node, Node]]:
    mine = replace(settings, redis_url=own_redis.url)
    a = await start_node(mine)
    b = await start_node(mine)
    yield a, b
    await bounded(a.stop(), "stopping node A")
    await bounded(b.stop(), "stopping node B")


async def test_events_published_while_pubsub_is_down_are_replayed_in_order_before_later_ones(
    two_nodes: tuple[Node, Node], own_redis: RedisServer
) -> None:
    a, b = two_nodes
    cust = Customer(a.url)
    alice = Agent(b.url, "alice", PASSWORDS["alice"])
    try:
        await alice.hello()
        await cust.hello()
        cid = (await cust.say("hello"))["conversation_id"]
        await alice.assigned()
        await alice.say(cid, "hi, how can I help?")
        await cust.event("message", lambda e: e["author"] == "agent")
        r = redis.Redis.from_url(own_redis.url)
        try:
            r.client_kill_filter(_type="pubsub")  # every node's pub/sub connection drops; Redis stays up
        finally:
            r.close()
        acks = [await cust.say(f"while pub/sub is down #{n}") for n in range(5)]
        acks += [await cust.say(f"after #{n}") for n in range(3)]  # some of these arrive live
        replies = [await alice.say(cid, f"reply #{n}") for n in range(3)]
        for ack in acks:
            await alice.event("message", lambda e, ack=ack: e["id"] == ack["event_id"], timeout=WITHIN)
        for reply in replies:
            await cust.event("message", lambda e, reply=reply: e["id"] == reply["event_id"], timeout=WITHIN)
        await alice.quiet(0.3)
        await cust.quiet(0.3)
        for side, author, sent in ((alice, "customer", acks), (cust, "agent", replies)):
            got = [f["event"]["id"] for f in side.seen if f["type"] == "event" and f["event"].get("author") == author]
            ids = [ack["event_id"] for ack in sent]
            assert [i for i in got if i in ids] == ids, f"{side.path}: each once, in order"
            every = [f["event"]["id"] for f in side.seen if f["type"] == "event"]
            assert every == sorted(every, key=lambda i: tuple(map(int, i.split("-")))), "in order"
    finally:
        await asyncio.gather(cust.close(), alice.close())


@pytest.mark.parametrize("path", ["/ws/customer", "/ws/agent"])
async def test_a_hello_while_redis_is_down_is_store_unavailable_then_4503(
    settings: Settings, own_redis: RedisServer, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    node = await start_node(replace(settings, redis_url=own_redis.url))
    try:
        hello: dict[str, object] = {"type": "hello"}
        if path == "/ws/agent":
            alice = Agent(node.url, "alice", PASSWORDS["alice"])
            hello["token"] = await alice.login()
            await alice.close()
        own_redis.halt()
        caplog.set_level(logging.INFO)
        async with aiohttp.ClientSession() as s, s.ws_connect(node.url + path) as ws:
            await ws.send_json(hello)
            frame = await ws.receive_json(timeout=WITHIN)
            assert (frame["type"], frame["code"], frame["retry_after"]) == ("error", "store_unavailable", 1)
            msg = await ws.receive(timeout=WITHIN)
            assert (msg.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4503)
        assert not [r for r in caplog.records if r.exc_info], "no traceback"
    finally:
        own_redis.start()
        await bounded(node.stop(), "stopping the node")


async def test_a_desk_closed_while_redis_is_down_leaves_no_listener_and_no_presence(
    settings: Settings, own_redis: RedisServer
) -> None:
    node = await start_node(replace(settings, redis_url=own_redis.url))
    keys = node.services.keys
    alice = Agent(node.url, "alice", PASSWORDS["alice"])
    cust = Customer(node.url)
    r = redis.Redis.from_url(own_redis.url)

    def sessions() -> int:
        return int(r.zcount(keys.agent_sessions("alice"), int(time.time() * 1000), "+inf"))

    try:
        await alice.hello()
        await cust.hello()
        cid = (await cust.say("hello"))["conversation_id"]
        await alice.assigned()
        bus = node.services.bus
        assert (bus.listening(keys.agent_channel("alice")), bus.listening(keys.conv_channel(cid))) == (1, 2)
        own_redis.halt()
        await alice.drop()  # the desk closes while Redis is down
        await until(
            "the desk's listeners gone",
            lambda: (bus.listening(keys.agent_channel("alice")), bus.listening(keys.conv_channel(cid))) == (0, 1),
        )
        await asyncio.to_thread(own_redis.start)
        await until("alice's presence session removed once Redis is back", lambda: sessions() == 0)
        status = (await node.services.presence.info("alice"))["status"]
        assert status == "offline"
    finally:
        r.close()
        await asyncio.gather(alice.close(), cust.close())
        await bounded(node.stop(), "stopping the node")


async def test_the_heartbeat_refreshes_only_sessions_whose_socket_is_open(node: Node) -> None:
    """A session whose socket is gone without leaving (its teardown never got that far) is removed by the next
    heartbeat instead of being kept live for the node's lifetime (a ghost routing would give chats to)."""
    presence = node.services.presence
    agent = node.services.directory.get("bob")
    assert agent is not None
    open_socket = {"gone": False}
    sid = await presence.join(agent, alive=lambda: not open_socket["gone"])
    await presence.set_status("bob", AgentStatus.AVAILABLE)
    await presence.refresh()
    assert (await presence.info("bob"))["status"] == AgentStatus.AVAILABLE
    open_socket["gone"] = True
    await presence.refresh()
    assert (await presence.info("bob"))["status"] == AgentStatus.OFFLINE
    assert sid not in [
        s.decode() for s in await node.services.store.redis.zrange(node.services.keys.agent_sessions("bob"), 0, -1)
    ]


async def test_an_http_request_while_redis_is_down_is_503_store_unavailable(
    settings: Settings, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    node = await start_node(replace(settings, redis_url=own_redis.url))
    try:
        own_redis.halt()
        caplog.set_level(logging.INFO)
        login = {"agent_id": "alice", "password": PASSWORDS["alice"]}
        async with aiohttp.ClientSession() as s, s.post(node.url + "/api/agent/login", json=login) as r:
            assert (r.status, r.headers.get("Retry-After")) == (503, "1")
            assert (await r.json())["code"] == "store_unavailable"
        assert not [r for r in caplog.records if r.exc_info], "no traceback"
    finally:
        own_redis.start()
        await bounded(node.stop(), "stopping the node")


@pytest.fixture
async def anchors(own_redis: RedisServer) -> AsyncIterator[CallAnchors]:
    client = aioredis.Redis.from_url(own_redis.url)
    store = Store(client, KEYS)
    await store.open_conversation("cust", "c1", "default", now=1000, context={}, queued=False)
    anchors = CallAnchors(store, "n1")
    yield anchors
    await anchors.stop()
    await client.aclose()


async def test_a_call_end_redis_refused_is_written_once_it_is_back(
    anchors: CallAnchors, own_redis: RedisServer
) -> None:
    """Not a live-looking entry for ever (a ghost 'ringing' in every welcome) and no call_ended: the end is kept
    and written when Redis is back, with no new event on the call to trigger it."""
    where = {"status": "ringing", "state": "ringing", "agent_id": "alice", "consult_agent_id": ""}
    await anchors.register("k1", "cust", "c1", lambda: dict(where))
    r = redis.Redis.from_url(own_redis.url)
    try:
        own_redis.halt()
        with pytest.raises(StoreError):
            await anchors.ended("k1", {"call_id": "k1", "reason": "caller_hangup", "duration_ms": 1200})
        await asyncio.to_thread(own_redis.start)
        await until("the call's entry gone once Redis is back", lambda: not r.exists(KEYS.call("k1")))
        events = [e for _, e in r.xrange(KEYS.timeline("c1"))]
        assert [e[b"type"] for e in events].count(b"call_ended") == 1
        assert not r.exists(KEYS.agent_calls("alice"), KEYS.customer_calls("cust"))
    finally:
        r.close()


async def test_a_registry_update_redis_refused_is_written_once_it_is_back(
    anchors: CallAnchors, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    where = {"status": "ringing", "state": "ringing", "agent_id": "alice", "consult_agent_id": ""}
    await anchors.register("k1", "cust", "c1", lambda: dict(where))
    r = redis.Redis.from_url(own_redis.url)
    try:
        caplog.set_level(logging.WARNING)
        own_redis.halt()
        where.update(status="connected", state="connected")
        anchors.moved("k1")  # the last change of the call for a long while
        await until("the update refused", lambda: "not updated" in caplog.text)
        await asyncio.to_thread(own_redis.start)
        await until("the update written once Redis is back", lambda: r.hget(KEYS.call("k1"), "status") == b"connected")
    finally:
        r.close()


async def test_a_call_that_ends_while_redis_is_down_is_not_kept_live(
    settings: Settings, own_redis: RedisServer
) -> None:
    """Its 'ended' cannot be published: it still leaves the node's calls (--max-calls, the customer's live calls
    that decide whether chat messages are routed)."""
    node = await start_node(replace(settings, redis_url=own_redis.url))
    cust = Customer(node.url)
    try:
        async with in_ivr(cust) as caller:
            assert list(node.services.calls.calls) == [caller.call_id]
            own_redis.halt()
            await caller.hangup()
            await until("the call gone from the node's live calls", lambda: node.services.calls.calls == {})
    finally:
        await asyncio.to_thread(own_redis.start)
        await cust.close()
        await bounded(node.stop(), "stopping the node")


async def test_a_replay_redis_keeps_refusing_closes_the_socket_with_4503(
    settings: Settings, own_redis: RedisServer
) -> None:
    """Pub/sub is back but reading the timeline still fails (Redis loading a large append-only file, here: the
    command denied): after its retries the socket is closed, not left open with live events going on over what
    the replay should have filled."""
    node = await start_node(replace(settings, redis_url=own_redis.url))
    cust = Customer(node.url)
    r = redis.Redis.from_url(own_redis.url)
    try:
        await cust.hello()
        await cust.say("hello")
        r.execute_command("ACL", "SETUSER", "default", "-xrange")  # the replay's read fails, pub/sub works
        r.client_kill_filter(_type="pubsub")
        frame = await cust.expect("error", lambda f: f["code"] == "store_unavailable", timeout=WITHIN)
        assert frame["retry_after"] == 1
        assert cust.ws is not None
        async with asyncio.timeout(WITHIN):
            while (await cust.ws.receive()).type == aiohttp.WSMsgType.TEXT:
                pass
        assert cust.ws.close_code == 4503
    finally:
        r.execute_command("ACL", "SETUSER", "default", "+xrange")
        r.close()
        await cust.close()
        await bounded(node.stop(), "stopping the node")


async def test_a_ring_published_while_pubsub_is_down_reaches_the_desk_once_it_is_back(
    settings: Settings, own_redis: RedisServer
) -> None:
    """The call on node A rings alice, whose desk is on node B while B's pub/sub is down."""
    r = redis.Redis.from_url(own_redis.url)
    r.execute_command("ACL", "SETUSER", "desk", "on", ">pw", "~*", "&*", "+@all")
    a = await start_node(replace(settings, redis_url=own_redis.url))
    b = await start_node(replace(settings, redis_url=own_redis.url.replace("redis://", "redis://desk:pw@")))
    cust = Customer(a.url)
    alice = Agent(b.url, "alice", PASSWORDS["alice"])
    try:
        await alice.hello(available=False)
        async with in_ivr(cust) as caller:
            await caller.menu_asked()
            await caller.press("1")
            await caller.status("waiting")
            r.execute_command("ACL", "SETUSER", "desk", "off")  # B's pub/sub cannot reconnect until it is on again
            r.client_kill_filter(_type="pubsub", user="desk")
            await alice.send({"type": "status", "status": "available"})
            await until("the call ringing for alice", lambda: r.hget(KEYS.call(caller.call_id), "status") == b"ringing")
            r.execute_command("ACL", "SETUSER", "desk", "on")
            ring = await alice.expect("call_status", lambda f: f["status"] == "ringing", timeout=WITHIN)
            assert (ring["call_id"], ring["conversation_id"], ring["agent_id"]) == (
                caller.call_id,
                caller.conversation_id,
                "alice",
            )
            assert ring["ring_seconds"] > 0
    finally:
        r.execute_command("ACL", "SETUSER", "desk", "on")
        r.close()
        await asyncio.gather(alice.close(), cust.close())
        await bounded(a.stop(), "stopping node A")
        await bounded(b.stop(), "stopping node B")
