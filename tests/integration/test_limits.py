"""Abuse limits on a real node and Redis: calls per customer and per address, message and conversation
floods, sockets per address, the timeline cap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.contact.limits import CALL_SLOT_SECONDS, CallLimited, Limits
from gateway.protocol.states import CallStatus
from media.ice import username_expiry
from tests.conftest import PASSWORDS, Clients, bounded
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.servers import Node, start_node

PROXY = ("127.0.0.1/32",)  # the tests' own connections count as a trusted proxy: X-Forwarded-For names the client


@asynccontextmanager
async def node_with(settings: Settings, **changes: Any) -> AsyncIterator[tuple[Node, Clients]]:
    node = await start_node(replace(settings, **changes))
    clients = Clients(node.url)
    try:
        yield node, clients
    finally:
        await bounded(clients.close(), "closing the test clients")
        await bounded(node.stop(), "stopping the gateway node")


def from_address(customer: Customer, address: str) -> Customer:
    """The customer's sockets arrive through the (trusted) proxy for ``address``."""
    customer.session = aiohttp.ClientSession(headers={"X-Forwarded-For": address})
    return customer


def answers_to(client_id: str, frame: dict[str, Any]) -> bool:
    return frame.get("client_id") == client_id


async def conversations_in_redis(node: Node) -> list[str]:
    prefix = node.services.keys.conv("")
    keys = [k.decode() async for k in node.services.store.redis.scan_iter(match=prefix + "*", _type="hash")]
    return sorted(k[len(prefix) :] for k in keys if ":" not in k[len(prefix) :])


async def refused_call(customer: Customer, caller: Caller) -> dict[str, Any]:
    await customer.send({"type": "call_offer", "call_id": caller.call_id, "sdp": await caller.make_offer()})
    return await customer.expect("call_status", lambda f: f["call_id"] == caller.call_id, timeout=15)


# ---------------------------------------------------------------- calls


async def test_one_customer_holds_one_call_and_another_customer_still_gets_a_line(clients: Clients, node: Node) -> None:
    greedy, other = clients.customer(), clients.customer()
    await greedy.hello()
    await other.hello()
    first, second, third, again = Caller(greedy), Caller(greedy), Caller(other), Caller(greedy)
    try:
        await first.dial()
        await first.status(CallStatus.IVR)
        refused = await refused_call(greedy, second)
        assert (refused["status"], refused["reason"]) == ("ended", "call_limit")
        assert "already on a call" in refused["message"]
        assert set(node.services.calls.calls) == {first.call_id}
        await third.dial()  # another customer gets a line
        await third.status(CallStatus.IVR)
        assert set(node.services.calls.calls) == {first.call_id, third.call_id}
        # hanging up gives the slot back, once: the customer may call again, and only once
        await first.hangup()
        await first.status(CallStatus.ENDED)
        await again.dial()
        await again.status(CallStatus.IVR)
        slots = node.services.keys.call_slots("c", greedy.customer_id)
        assert await node.services.store.redis.zrange(slots, 0, -1) == [
            f"{greedy.customer_id}/{again.call_id}".encode()
        ]
        await again.hangup()
        await third.hangup()
        await again.status(CallStatus.ENDED)
        await third.status(CallStatus.ENDED)
        for who in (greedy, other):
            assert await node.services.store.redis.zcard(node.services.keys.call_slots("c", who.customer_id)) == 0
        assert await node.services.store.redis.zcard(node.services.keys.call_slots("ip", "127.0.0.1")) == 0
    finally:
        for caller in (first, second, third, again):
            await caller.close()


async def test_an_offer_reusing_a_live_calls_id_cannot_free_its_slot(clients: Clients, node: Node) -> None:
    """Two sockets of one customer offer the same call id at once: one call, its slot kept, no second call."""
    tab1 = clients.customer()
    await tab1.hello()
    tab2 = clients.customer(token=tab1.token)
    await tab2.hello()
    first, twin, later = Caller(tab1), Caller(tab2), Caller(tab1)
    twin.call_id = first.call_id
    try:
        offers = [await first.make_offer(), await twin.make_offer()]
        await asyncio.gather(
            *(
                who.send({"type": "call_offer", "call_id": first.call_id, "sdp": sdp})
                for who, sdp in ((tab1, offers[0]), (tab2, offers[1]))
            )
        )
        answers = [
            await who.expect(("call_answer", "error"), lambda f: f.get("call_id") == first.call_id, timeout=15)
            for who in (tab1, tab2)
        ]
        assert sorted(a["type"] for a in answers) == ["call_answer", "error"], answers
        assert [a["code"] for a in answers if a["type"] == "error"] == ["conflict"]
        slots = node.services.keys.call_slots("c", tab1.customer_id)
        assert await node.services.store.redis.zrange(slots, 0, -1) == [f"{tab1.customer_id}/{first.call_id}".encode()]
        assert node.services.limits.held_calls() == [first.call_id]
        refused = await refused_call(tab1, later)  # the live call still holds the customer's one line
        assert (refused["status"], refused["reason"]) == ("ended", "call_limit")
        assert set(node.services.calls.calls) == {first.call_id}
    finally:
        for caller in (first, twin, later):
            await caller.close()


async def test_calls_per_address_limit_and_other_addresses_still_call(settings: Settings) -> None:
    async with node_with(settings, trusted_proxies=PROXY, limit_calls_per_ip=2) as (node, clients):
        office = [from_address(clients.customer(), "203.0.113.7") for _ in range(3)]
        elsewhere = from_address(clients.customer(), "198.51.100.9")
        for c in (*office, elsewhere):
            await c.hello()
        callers = [Caller(c) for c in (*office, elsewhere)]
        try:
            for caller in callers[:2]:
                await caller.dial()
                await caller.status(CallStatus.IVR)
            refused = await refused_call(office[2], callers[2])
            assert (refused["status"], refused["reason"]) == ("ended", "call_limit")
            assert "2 calls from your network" in refused["message"]
            # nothing was opened for the refused call
            assert await node.services.conversations.current_for_customer(office[2].customer_id) is None
            await callers[3].dial()
            await callers[3].status(CallStatus.IVR)
            assert set(node.services.calls.calls) == {callers[i].call_id for i in (0, 1, 3)}
        finally:
            for caller in callers:
                await caller.close()


async def test_a_dead_nodes_call_slots_expire(clients: Clients, node: Node) -> None:
    """A slot that is not refreshed (its node died) stops counting after CALL_SLOT_SECONDS; time is moved."""
    s = node.services
    dead_node = Limits(s.store, s.limits.config)  # another node: takes a slot, then dies
    await dead_node.acquire_call("ghost", "u_dead", "192.0.2.1")
    with pytest.raises(CallLimited):
        await s.limits.acquire_call("second", "u_dead", "192.0.2.1")
    real_clock = s.limits.clock
    s.limits.clock = lambda: real_clock() + CALL_SLOT_SECONDS - 1
    try:
        with pytest.raises(CallLimited):  # still counts just before it expires
            await s.limits.acquire_call("second", "u_dead", "192.0.2.1")
        s.limits.clock = lambda: real_clock() + CALL_SLOT_SECONDS + 1
        await s.limits.acquire_call("second", "u_dead", "192.0.2.1")
    finally:
        s.limits.clock = real_clock
    assert s.limits.held_calls() == ["second"]
    await s.limits.release_call("second")
    await s.limits.release_call("second")  # a second release is a no-op
    assert s.limits.held_calls() == []


# ---------------------------------------------------------------- messages and conversations


async def test_message_flood_is_rate_limited_and_nothing_beyond_the_limit_is_stored(
    clients: Clients, node: Node
) -> None:
    cust = clients.customer()
    await cust.hello()
    ids = [f"flood-{i}" for i in range(60)]
    started = time.monotonic()
    for cid in ids:
        await cust.send({"type": "message", "client_id": cid, "text": f"spam {cid}"})
    answers: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(60):
        while len(answers) < len(ids):
            frame = await cust.expect(("ack", "error"), lambda f: f.get("client_id") in ids)
            answers[frame["client_id"]] = frame
    took = time.monotonic() - started
    acked = [i for i in ids if answers[i]["type"] == "ack"]
    refused = [answers[i] for i in ids if answers[i]["type"] == "error"]
    print(f"flood of {len(ids)} messages answered in {took:.2f} s: {len(acked)} acked")
    # judged by tokens, not by how fast the flood went: the default is 30 a minute as a burst, and the bucket
    # earns one token back every 2 s, so a flood that took longer (a busy machine) may pass one more per 2 s
    assert acked[:30] == ids[:30]
    assert len(acked) <= 30 + int(took / 2.0), (len(acked), took)
    assert refused, took
    assert {(e["code"], 1 <= e["retry_after"] <= 3) for e in refused} == {("rate_limited", True)}
    assert "too fast" in refused[0]["message"]
    cid = answers[ids[0]]["conversation_id"]
    stored = [e["client_id"] for e in await node.services.store.events(cid) if e["type"] == "message"]
    assert stored == acked
    # the refused messages were not remembered either: once the bucket refills, the same id is stored (the last
    # refusal's wait, and 2 s for each token a later message took)
    last = ids.index(refused[-1]["client_id"])
    await asyncio.sleep(refused[-1]["retry_after"] + 2 * len([i for i in acked if ids.index(i) > last]))
    assert (await cust.say("spam again", client_id=refused[0]["client_id"]))["conversation_id"] == cid


async def test_messages_per_address_across_customers(settings: Settings) -> None:
    async with node_with(settings, trusted_proxies=PROXY, limit_messages_per_minute=2) as (node, clients):
        crowd: list[Customer] = []
        results: list[str] = []
        started = time.monotonic()
        while "error" not in results and len(crowd) < 20:  # customers until the address is refused
            c = from_address(clients.customer(), "203.0.113.9")
            crowd.append(c)
            await c.hello()
            for _ in range(2):  # 2 each is within the customer's limit; the address may send 10 x 2
                client_id = f"{len(results)}"
                await c.send({"type": "message", "client_id": client_id, "text": "hi"})
                got = await c.expect(("ack", "error"), partial(answers_to, client_id))
                results.append(got["type"])
        took = time.monotonic() - started
        # judged by tokens, not by how fast the crowd went: the address's burst of 20, and one more per 3 s it took
        # (its bucket earns a token back every 3 s: a loaded machine can take that long for 11 customers)
        assert results[:20] == ["ack"] * 20, results
        assert results.count("ack") <= 20 + int(took / 3.0), (results, took)
        assert crowd[-1].seen[-1]["code"] == "rate_limited"
        opened = sum(1 for first in results[::2] if first == "ack")  # a customer's first message opens theirs
        assert len(await conversations_in_redis(node)) == opened
        other = from_address(clients.customer(), "198.51.100.20")  # another address is not affected
        await other.hello()
        await other.say("hello")


async def test_new_conversations_are_rate_limited_per_customer_and_per_address(settings: Settings) -> None:
    async with node_with(settings, trusted_proxies=PROXY, limit_conversations_per_hour=1) as (node, clients):
        cust = from_address(clients.customer(), "203.0.113.50")
        await cust.hello()
        first = await cust.say("one")
        for n in range(3):  # messages in the open conversation need no new one
            await cust.say(f"more {n}")
        await node.services.conversations.close_without_agent(first["conversation_id"], "resolved")
        await cust.send({"type": "message", "client_id": "reopen", "text": "a new conversation?"})
        err = await cust.expect("error", lambda f: f.get("client_id") == "reopen")
        assert (err["code"], err["retry_after"] > 3000) == ("rate_limited", True)
        assert "conversations" in err["message"]
        assert await conversations_in_redis(node) == [first["conversation_id"]]
        # a flood of fresh customers from one address: 10 x 1 conversations an hour, then refused
        answers = []
        for _ in range(10):
            fresh = from_address(clients.customer(), "203.0.113.50")
            await fresh.hello()
            await fresh.send({"type": "message", "client_id": "x", "text": "hi"})
            answers.append((await fresh.expect(("ack", "error"), lambda f: f.get("client_id") == "x"))["type"])
            await fresh.close()
        assert answers == ["ack"] * 9 + ["error"]  # the first customer took one of the address's ten
        assert len(await conversations_in_redis(node)) == 10
        # a call that would open a conversation is refused the same way, and opens nothing
        fresh = from_address(clients.customer(), "203.0.113.50")
        await fresh.hello()
        caller = Caller(fresh)
        try:
            await fresh.send({"type": "call_offer", "call_id": caller.call_id, "sdp": await caller.make_offer()})
            err = await fresh.expect("error", lambda f: f.get("call_id") == caller.call_id, timeout=10)
            assert err["code"] == "rate_limited" and err["retry_after"] > 0
            assert node.services.calls.calls == {} and len(await conversations_in_redis(node)) == 10
            assert node.services.limits.held_calls() == []
        finally:
            await caller.close()


async def ask_ice(customer: Customer, call_id: str) -> dict[str, Any]:
    """The answer to a customer's ``call_ice``: its call_ice frame, or the error frame naming this call."""
    await customer.send({"type": "call_ice", "call_id": call_id})
    return await customer.expect(("call_ice", "error"), lambda f: f.get("call_id") == call_id)


TURN = {"turn_urls": ("turn:127.0.0.1:3478",), "turn_secret": "s" * 24}  # pairs are made, no TURN server needed


async def test_turn_pairs_are_rate_limited_per_customer_and_per_address(settings: Settings) -> None:
    """``call_ice`` is asked before its call exists (any call id), and a welcome goes to any socket, so each new TURN
    pair takes a token: calls from the ``ice`` buckets, welcomes from the ``icew`` ones (the same rates, counted
    apart: new visitors behind one address never spend its calls' budget), per customer over all their sockets,
    per address (10x) over fresh customers. Beyond, ``call_ice`` is refused with ``rate_limited`` and no pair, and
    a welcome carries an empty ``ice_servers`` (no pair; chat goes on). A welcome to a customer who holds a pair
    gives it again, for nothing."""
    address = "203.0.113.80"
    async with node_with(settings, trusted_proxies=PROXY, limit_call_ice_per_hour=2, **TURN) as (node, clients):
        cust = from_address(clients.customer(), address)
        (pair,) = (await cust.hello())["ice_servers"]  # a new pair: a welcome token
        assert [(await ask_ice(cust, f"call-{n}"))["type"] for n in range(2)] == ["call_ice"] * 2  # two call tokens
        refused = await ask_ice(cust, "call-2")
        assert (refused["type"], refused["code"], refused["field"]) == ("error", "rate_limited", "call_id")
        assert refused["retry_after"] > 60  # the bucket earns one back every 30 minutes
        other_tab = from_address(clients.customer(token=cust.token), "198.51.100.30")  # the same customer elsewhere
        assert (await other_tab.hello())["ice_servers"] == [pair]  # the pair it holds: no token needed
        assert (await ask_ice(other_tab, "call-3"))["code"] == "rate_limited"
        # fresh customers from the address: 10 x 2 welcome pairs (the first customer's counts), then welcomes
        # carry none; chat is not affected, and calls still get theirs from the address' own 10 x 2 (the first
        # customer's 2 count) until those are spent too
        welcomes = []
        for _ in range(20):
            fresh = from_address(clients.customer(), address)
            welcomes.append(len((await fresh.hello())["ice_servers"]))
            await fresh.close()
        assert welcomes == [1] * 19 + [0], welcomes
        calls = []
        for n in range(19):
            fresh = from_address(clients.customer(), address)
            assert (await fresh.hello())["ice_servers"] == []
            if n == 0:
                assert (await fresh.say("still chatting"))["type"] == "ack"
            calls.append((await ask_ice(fresh, f"fresh-{n}"))["type"])
            await fresh.close()
        assert calls == ["call_ice"] * 18 + ["error"], calls
        elsewhere = from_address(clients.customer(), "198.51.100.31")  # another address is not affected
        assert len((await elsewhere.hello())["ice_servers"]) == 1
        (pair,) = (await ask_ice(elsewhere, "call-x"))["ice_servers"]
        assert pair["username"].endswith(f":call-call-x-customer-{elsewhere.customer_id}")


async def test_a_welcome_gives_back_the_pair_the_customer_holds_until_half_of_it_is_left(settings: Settings) -> None:
    """Reconnecting (any node: the pair is in Redis) gets the same TURN pair and takes no token; once less than half
    its lifetime is left the next welcome brings a new pair (a token), valid ``--turn-ttl-seconds`` from then."""
    ttl = 3600
    changes = {"turn_ttl_seconds": ttl, "limit_call_ice_per_hour": 3, **TURN}
    async with node_with(settings, trusted_proxies=PROXY, **changes) as (node, clients):
        cust = from_address(clients.customer(), "203.0.113.90")
        first = (await cust.hello())["ice_servers"]
        for address in ("203.0.113.90", "198.51.100.90", "203.0.113.90"):  # reconnects, tabs, another network
            again = from_address(clients.customer(token=cust.token), address)
            assert (await again.hello())["ice_servers"] == first
            await again.close()
        (pair,) = first
        made_at = username_expiry(pair["username"]) - ttl
        # time moves: the node's limits and another node's (a pair any node made is the one every node gives)
        other_node = Limits(node.services.store, node.services.limits.config, clock=lambda: made_at + ttl / 2 - 1)
        turn = node.services.calls.config.ice.turn
        assert turn is not None
        held = await other_node.welcome_turn(cust.customer_id, "192.0.2.78", turn)
        assert held is not None and held.to_json() == pair
        later = Limits(node.services.store, node.services.limits.config, clock=lambda: made_at + ttl / 2 + 1)
        renewed = await later.welcome_turn(cust.customer_id, "192.0.2.77", turn)
        assert renewed is not None and renewed.username == f"{made_at + ttl // 2 + 1 + ttl}:customer-{cust.customer_id}"
        assert renewed.to_json() != pair
        # the held pair took no token from its address' bucket, the new one took one (of 3 x 10)
        redis, keys = node.services.store.redis, node.services.keys
        assert await redis.exists(keys.rate_bucket("icew", "ip", "192.0.2.78")) == 0
        assert float(await redis.hget(keys.rate_bucket("icew", "ip", "192.0.2.77"), "t")) == 29
        again = from_address(clients.customer(token=cust.token), "203.0.113.90")
        assert (await again.hello())["ice_servers"] == [renewed.to_json()]  # the new one is held now, on every node


async def test_an_agents_welcomes_give_back_the_pair_they_hold_and_new_pairs_are_budgeted(
    settings: Settings, tmp_path: Path
) -> None:
    """An agent's desk sockets (any number, any login, any node) and an admin's test runs get the pair the agent
    holds while half its lifetime is left; a new pair takes a token of the agent's own ``icew`` bucket (no address
    bucket), and beyond it the welcome carries no pair (``[]``). The old code made a fresh pair for every socket:
    reloading the desk in a loop collected relay credentials without limit."""
    ttl, now = 3600, time.time()
    agents = tmp_path / "agents.toml"
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "bob", "Bob Jones", PASSWORDS["bob"], capacity=2)
    add_agent(agents, "dora", "Dora Admin", "dora-admin-secret-1", capacity=1, roles=("agent", "admin"))
    changes = {"agents_file": agents, "turn_ttl_seconds": ttl, "limit_call_ice_per_hour": 1, **TURN}
    async with node_with(settings, trusted_proxies=PROXY, **changes) as (node, clients):
        turn, config = node.services.calls.config.ice.turn, node.services.limits.config
        assert turn is not None

        def at(seconds: float) -> Limits:  # a node whose clock says ``seconds`` (the pair is in Redis: any node)
            return Limits(node.services.store, config, clock=lambda: seconds)

        # desks reloaded, from two logins and two addresses: one pair, the first one (made 100 s ago), no new token
        made = await at(now - 100).agent_welcome_turn("alice", turn)
        assert made is not None and made.username == f"{int(now - 100) + ttl}:agent-alice"
        desks = [clients.agent("alice") for _ in range(3)]
        desks[1].token = await desks[0].login()  # a second socket of one login; the third logs in again
        welcomes = [(await desk.hello(available=False))["ice_servers"] for desk in desks]
        assert welcomes == [[made.to_json()]] * 3
        # an admin's desk and test run: one pair (the admin's)
        dora = Agent(node.url, "dora", "dora-admin-secret-1")
        clients.made.append(dora)
        (desk,) = (await dora.hello(available=False))["ice_servers"]
        assert desk["username"].endswith(":agent-dora")
        console = clients.customer()
        await console.connect()
        run = {"name": "default", "version": node.services.flows.get("default").version, "channel": "voice"}
        await console.send({"type": "hello", "token": None, "admin_token": dora.token, "test_flow": run})
        assert (await console.expect("welcome", timeout=10))["ice_servers"] == [desk]

        # the budget: bob's one token an hour went on a pair made 1,900 s ago; with less than half of it left, the
        # next welcome needs a new pair and the bucket has earned back 0.53 of a token: no pair
        old = await at(now - 1900).agent_welcome_turn("bob", turn)
        assert old is not None
        bob = clients.agent("bob")
        assert (await bob.hello(available=False))["ice_servers"] == []
        assert (await at(now + 1800).agent_welcome_turn("bob", turn)) is not None  # 3,700 s on: a token, a pair
        # the agents' own buckets, no address': agents are accounts, and an office's desks share one address
        redis, keys = node.services.store.redis, node.services.keys
        buckets = sorted(k.decode() for k in await redis.keys(keys.rate_bucket("icew", "*", "*")))
        assert buckets == [keys.rate_bucket("icew", "a", agent) for agent in ("alice", "bob", "dora")]


# ---------------------------------------------------------------- sockets


async def test_websockets_per_address_are_refused_with_429(settings: Settings) -> None:
    async with (
        node_with(settings, trusted_proxies=PROXY, limit_connections_per_ip=3) as (node, clients),
        aiohttp.ClientSession(headers={"X-Forwarded-For": "203.0.113.77"}) as session,
    ):
        url = node.ws_url + "/ws/customer"
        open_ = [await session.ws_connect(url) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 429
        assert refused.value.headers is not None and refused.value.headers["Retry-After"] == "30"
        # agents count apart: 50 customer sockets from an office's address locked its agents' desks out (a
        # security tester's finding); their own cap holds
        desks = [await session.ws_connect(node.ws_url + "/ws/agent") for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(node.ws_url + "/ws/agent")
        other = from_address(clients.customer(), "198.51.100.1")  # another address connects
        await other.hello()
        await open_[0].close()
        await asyncio.sleep(0.1)
        again = await session.ws_connect(url)  # a closed socket frees its place
        for ws in (*open_[1:], again, *desks):
            await ws.close()


async def test_a_socket_sending_frames_too_fast_is_refused_and_stays_open(clients: Clients) -> None:
    """Frames that read Redis, sent as fast as a client liked, slowed every other customer (a security tester's
    finding): past a burst a socket's frames are refused (rate_limited, at most one answer a second for frames with
    no client id; always for a message, whose sender retries it) and do nothing; the socket goes on."""
    cust = clients.customer()
    await cust.hello()
    await cust.say("hello")
    flood = [{"type": "typing", "active": False} for _ in range(400)]
    for frame in [*flood, {"type": "message", "client_id": "in-the-flood", "text": "lost?"}]:
        await cust.send(frame)
    refused = await cust.expect("error", lambda f: f.get("client_id") == "in-the-flood", timeout=10)
    assert refused["code"] == "rate_limited" and "too many frames" in refused["message"], refused
    assert "this 'message' frame was not done" in refused["message"]
    others = [f for f in await cust.quiet(0.5) if f["type"] == "error" and not f.get("client_id")]
    assert len(others) <= 2, others  # not one answer per refused frame
    assert all("this 'typing' frame" in f["message"] for f in others), others  # which kind went undone
    await asyncio.sleep(1.0)
    assert (await cust.say("after the flood", client_id="in-the-flood"))["client_id"] == "in-the-flood"


async def test_typing_stopped_is_relayed_only_after_typing(clients: Clients) -> None:
    """60,000 "stopped typing" frames were all relayed to the agent, about 4,500 a second (a security tester's
    finding): a "stopped" follows only a "typing"."""
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    await cust.say("hello")
    await alice.assigned()
    for frame in [{"type": "typing", "active": False}] * 50 + [{"type": "typing", "active": True, "draft": "h"}]:
        await cust.send(frame)
    for _ in range(20):
        await cust.send({"type": "typing", "active": False})
    relayed = [f["active"] for f in await alice.quiet(1.0) if f["type"] == "typing"]
    assert relayed == [True, False], relayed


# ---------------------------------------------------------------- timeline cap


async def test_timeline_cap_refuses_appends_and_a_closed_full_conversation_makes_way(settings: Settings) -> None:
    async with node_with(settings, max_timeline_events=10) as (node, clients):
        cust = clients.customer()
        await cust.hello()
        acks = [await cust.say(f"m{i}") for i in range(8)]  # opened + state + 8 messages = 10 events
        cid = acks[0]["conversation_id"]
        await cust.send({"type": "message", "client_id": "one-too-many", "text": "m8"})
        err = await cust.expect("error", lambda f: f.get("client_id") == "one-too-many")
        assert (err["code"], err["field"]) == ("timeline_full", "conversation_id")
        store = node.services.store
        assert await store.redis.xlen(store.keys.timeline(cid)) == 10
        with pytest.raises(Exception) as refused:  # flows, calls and context are capped too
            await node.services.conversations.set_context(cid, {"x": "1"})
        assert getattr(refused.value, "code", None) == "timeline_full"
        # closing still works, and the next message starts a new conversation
        await node.services.conversations.close_without_agent(cid, "resolved")
        assert [e["type"] for e in await store.events(cid)][-1] == "closed"
        fresh = await cust.say("m8 again", client_id="one-too-many-2")
        assert fresh["conversation_id"] != cid


# ---------------------------------------------------------------- Redis memory under a flood


async def test_embedded_redis_is_bounded_and_a_flood_fails_writes_cleanly(tmp_path: Path) -> None:
    import redis.asyncio as aioredis
    from redis.exceptions import ResponseError

    from gateway.store.embedded_redis import EmbeddedRedis, max_memory
    from gateway.store.store import Keys, Store

    embedded = EmbeddedRedis(tmp_path / "data")
    client = aioredis.Redis.from_url(await embedded.start())
    try:
        config = await client.config_get("maxmemory*")
        assert config["maxmemory-policy"] == "noeviction" and int(str(config["maxmemory"])) == max_memory() > 0
        store = Store(client, Keys())
        await client.hset(store.keys.conv("c1"), mapping={"state": "open", "customer_id": "u1"})
        await store.append("c1", "message", {"text": "before the flood"}, now=1)
        for i in range(2000):  # a flood ...
            await client.set(f"flood:{i}", "x" * 1024)
        used = int((await client.info("memory"))["used_memory"])
        # ... that filled it: 1 MB under what is used (of the flood's 2 MB: deleting it frees room again). With
        # 512 KB a Python 3.12 run once found the SET below accepted: what Redis counts had shrunk past the margin
        await client.config_set("maxmemory", str(used - (1 << 20)))
        with pytest.raises(ResponseError, match="maxmemory"):
            await client.set("one-more", "x")
        with pytest.raises(ResponseError, match="maxmemory"):  # a message: refused whole, nothing stored
            await store.append("c1", "message", {"text": "during the flood"}, now=2)
        assert [e["text"] for e in await store.events("c1")] == ["before the flood"]
        assert await client.get("flood:0") == b"x" * 1024  # nothing was evicted
        flood = [k async for k in client.scan_iter(match="flood:*", count=1000)]
        await client.delete(*flood)  # deleting works (retention, closing)
        await store.append("c1", "message", {"text": "after"}, now=3)
    finally:
        await client.aclose()
        await embedded.stop()


async def test_a_resent_message_costs_nothing(settings: Settings) -> None:
    """The widget resends its unacknowledged outbox on every reconnect: a duplicate is answered before the limit."""
    async with node_with(settings, limit_messages_per_minute=2) as (node, clients):
        cust = clients.customer()
        await cust.hello()
        first = await cust.say("hello", client_id="m1")
        for _ in range(5):
            again = await cust.say("hello", client_id="m1")
            assert again["event_id"] == first["event_id"]
        await cust.say("second", client_id="m2")  # the bucket's second token was still there
        await cust.send({"type": "message", "client_id": "m3", "text": "third"})
        err = await cust.expect("error", lambda f: f.get("client_id") == "m3")
        assert (err["code"], 1 <= err["retry_after"] <= 30) == ("rate_limited", True)
        stored = [
            e["client_id"] for e in await node.services.store.events(first["conversation_id"]) if e["type"] == "message"
        ]
        assert stored == ["m1", "m2"]


async def test_a_second_hello_on_a_socket_is_answered_and_changes_nothing(clients: Clients) -> None:
    """It was ignored without a word (a security tester's finding)."""
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("hello")
    await cust.send({"type": "hello", "token": None})
    refused = await cust.expect("error")
    assert (refused["field"], "said hello already" in refused["message"]) == ("type", True), refused
    assert (await cust.say("still me"))["conversation_id"] == ack["conversation_id"]
