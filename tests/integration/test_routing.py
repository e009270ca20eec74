"""Routing v1 end to end: the queue, capacity, longest idle, presence, several nodes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from gateway.config import Settings
from gateway.protocol import bus
from tests.conftest import Clients
from tests.support.servers import GatewayProcess, Node, start_node


async def test_waiting_customers_see_their_place_and_are_served_as_agents_free_up(clients: Clients) -> None:
    carol = clients.agent("carol")  # capacity 1
    await carol.hello()
    first, second, third = clients.customer(), clients.customer(), clients.customer()
    for c in (first, second, third):
        await c.hello()
    a1 = await first.say("one")
    await asyncio.sleep(0.01)
    a2 = await second.say("two")
    await asyncio.sleep(0.01)
    a3 = await third.say("three")
    conv = await carol.assigned()
    assert conv["id"] == a1["conversation_id"]
    assert (await second.expect("queue", lambda f: f["position"] == 1))["conversation_id"] == a2["conversation_id"]
    assert (await third.expect("queue", lambda f: f["position"] == 2))["conversation_id"] == a3["conversation_id"]
    queue = await carol.expect("queue", lambda f: len(f["waiting"]) == 2)
    assert [w["id"] for w in queue["waiting"]] == [a2["conversation_id"], a3["conversation_id"]]
    assert queue["waiting"][0]["last_text"] == "two"

    await carol.send({"type": "close", "conversation_id": conv["id"], "disposition": "resolved"})
    nxt = await carol.assigned()
    assert nxt["id"] == a2["conversation_id"]
    await third.expect("queue", lambda f: f["position"] == 1)


async def test_longest_idle_agent_gets_the_next_conversation(clients: Clients) -> None:
    bob = clients.agent("bob")
    await bob.hello()
    await asyncio.sleep(0.05)
    alice = clients.agent("alice")
    await alice.hello()
    c1, c2, c3 = clients.customer(), clients.customer(), clients.customer()
    for c in (c1, c2, c3):
        await c.hello()
    await c1.say("first")
    assert (await bob.assigned())["customer_id"] == c1.customer_id  # bob idle longest
    await c2.say("second")
    assert (await alice.assigned())["customer_id"] == c2.customer_id  # now alice is
    await c3.say("third")
    assert (await bob.assigned())["customer_id"] == c3.customer_id


async def test_away_or_disconnected_agents_get_nothing(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    await alice.send({"type": "status", "status": "away"})
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    bob = clients.agent("bob")
    await bob.hello()
    await bob.drop()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("anyone?")
    frames = await alice.quiet(0.5)
    assert not [f for f in frames if f["type"] == "assigned"]
    assert await node.services.conversations.queue_position(ack["conversation_id"]) == 1
    await alice.send({"type": "status", "status": "available"})
    assert (await alice.assigned())["id"] == ack["conversation_id"]


async def test_customer_and_agent_on_different_nodes(settings: Settings) -> None:
    from tests.conftest import PASSWORDS
    from tests.support.clients import Agent, Customer

    one = await start_node(settings)
    two = await start_node(settings)
    alice = Agent(two.url, "alice", PASSWORDS["alice"])
    cust = Customer(one.url)
    try:
        await alice.hello()
        await cust.hello()
        ack = await cust.say("hello from node one")
        conv = await alice.assigned()
        assert conv["id"] == ack["conversation_id"]
        await alice.say(conv["id"], "hello from node two")
        assert (await cust.event("message", lambda e: e["author"] == "agent"))["text"] == "hello from node two"
        await cust.send({"type": "typing", "active": True, "draft": "cross-node draft"})
        assert (await alice.expect("typing"))["draft"] == "cross-node draft"
    finally:
        await asyncio.gather(alice.close(), cust.close())
        await one.stop()
        await two.stop()


async def test_gateway_restart_keeps_conversations_and_tokens(tmp_path: Path, agents_file: Path) -> None:
    """The real CLI with its embedded Redis: stop it, start it again, everything is still there."""
    from tests.conftest import PASSWORDS
    from tests.support.clients import Agent, Customer

    data = tmp_path / "data"
    args = ("--agents-file", str(agents_file), "--log-format", "text")
    gw = GatewayProcess(data, *args)
    await gw.start()
    cust = Customer(gw.url)
    alice = Agent(gw.url, "alice", PASSWORDS["alice"])
    try:
        await alice.hello()
        await cust.hello()
        ack = await cust.say("before the restart")
        conv = await alice.assigned()
        await alice.say(conv["id"], "noted, restarting now")
        await cust.event("message", lambda e: e["author"] == "agent")
        await cust.drop()
        await alice.drop()
        assert await gw.stop() == 0
        assert (data / "appendonly.aof").exists() or (data / "appendonlydir").exists()

        gw2 = GatewayProcess(data, *args)
        gw2.port, gw2.url = gw.port, gw.url
        await gw2.start()
        try:
            welcome = await cust.hello()  # same token, signed before the restart
            assert welcome["conversation"]["id"] == ack["conversation_id"]
            assert [e.get("text") for e in welcome["events"] if e["type"] == "message"] == [
                "before the restart",
                "noted, restarting now",
            ]
            await alice.hello(available=False)
            assert [c["id"] for c in alice.welcome["conversations"]] == [conv["id"]]
            async with aiohttp.ClientSession() as s, s.get(gw.url + "/healthz") as r:
                assert r.status == 200
        finally:
            await cust.close()
            await alice.close()
            assert await gw2.stop() == 0
    finally:
        if gw.proc is not None:
            await gw.stop()


async def test_desks_opening_at_once_share_one_read_of_the_waiting_list(clients: Clients, redis_url: str) -> None:
    """Desks logging in together (a shift starting) read the waiting list once between them, not once each (each
    read is a few round trips per waiting conversation); each desk still has the list in its welcome, and a
    change after it arrives as a queue frame."""
    first = clients.customer()
    await first.hello()
    one = (await first.say("one"))["conversation_id"]
    redis = aioredis.Redis.from_url(redis_url)
    try:
        before = await timeline_reads(redis)
        desks = [clients.agent(name) for name in ("alice", "bob", "carol") * 3]
        welcomes = await asyncio.gather(*(desk.hello(available=False) for desk in desks))
        reads = await timeline_reads(redis) - before
    finally:
        await redis.aclose()
    assert all([w["id"] for w in welcome["queue"]] == [one] for welcome in welcomes)
    assert reads < len(desks) // 2, f"{reads} reads of the waiting conversation for {len(desks)} desks"
    second = clients.customer()
    await second.hello()
    two = (await second.say("two"))["conversation_id"]
    for desk in desks:
        await desk.expect("queue", lambda f: [w["id"] for w in f["waiting"]] == [one, two])


async def timeline_reads(redis: aioredis.Redis) -> int:
    """How many XREVRANGE Redis has run: a waiting list reads each waiting conversation's last message with one."""
    return await commands(redis, "xrevrange")


async def test_a_change_of_the_queue_costs_one_read_of_the_waiting_places_not_one_per_customer(
    clients: Clients, node: Node, redis_url: str
) -> None:
    """Every change of the queue may move every waiting customer: the node reads their places together (one
    pipelined read per refresh, the changes of a burst coalesced), not one round trip per customer per change
    (N waiting customers cost N squared reads to drain). Each still hears its new place."""
    customers = [clients.customer() for _ in range(6)]
    for i, customer in enumerate(customers):
        await customer.hello()
        await customer.say(f"number {i}")
        await customer.expect("queue", lambda f, i=i: f["position"] == i + 1)
    redis = aioredis.Redis.from_url(redis_url)
    try:
        before = await commands(redis, "zrank")
        s = node.services
        for _ in range(20):  # a burst of changes (conversations queued or assigned elsewhere)
            await s.store.publish(s.keys.queue_channel, bus.QueueChanged())
        carol = clients.agent("carol")  # capacity 1: takes the first, the others move up
        await carol.hello()
        assert (await carol.assigned())["customer_id"] == customers[0].customer_id
        for i, customer in enumerate(customers[1:]):
            await customer.expect("queue", lambda f, i=i: f["position"] == i + 1)
        reads = await commands(redis, "zrank") - before
    finally:
        await redis.aclose()
    assert reads < 21 * len(customers) // 2, f"{reads} reads of a place for {len(customers)} customers, 21 changes"


async def commands(redis: aioredis.Redis, name: str) -> int:
    """How many times Redis has run the command ``name``."""
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))


async def test_conversations_given_in_one_pass_reach_the_desk_each_with_its_summary(clients: Clients) -> None:
    """A pass gives alice both waiting conversations at once; her desk tells them together (one read of the
    summaries): each assigned frame has its own conversation's last message and her name, and the agent frame
    after them counts both. The agent is subscribed to both: their next messages arrive live."""
    customers = [clients.customer() for _ in range(2)]
    ids = []
    for i, customer in enumerate(customers):
        await customer.hello()
        ids.append((await customer.say(f"question {i}"))["conversation_id"])
    alice = clients.agent("alice")  # capacity 2
    await alice.hello()
    got = {c["id"]: c for c in [await alice.assigned(), await alice.assigned()]}
    assert sorted(got) == sorted(ids)
    for i, cid in enumerate(ids):
        assert got[cid]["last_text"] == f"question {i}" and got[cid]["agent_name"] == "Alice Smith"
        assert got[cid]["state"] == "assigned"
    await alice.expect("agent", lambda f: f["agent"]["active"] == 2)
    for i, customer in enumerate(customers):
        await customer.say(f"more {i}")
        await alice.expect("event", lambda f, i=i: f["event"].get("text") == f"more {i}")
