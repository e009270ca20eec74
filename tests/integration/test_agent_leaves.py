"""An agent who leaves for good does not strand their customers: on a real node, a chat assigned to an agent who
logs out of their last login session, or whom an admin disables or removes, goes back to the queue at the place it
had (the customer is told their place), and the next agent gets it with its history. Logging out of one of two
login sessions, or a desk that merely drops (a reload, a network blip), leaves the chat with its agent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.integration.test_admin_agents import Api, token
from tests.integration.test_agents_cli import cli
from tests.integration.test_reports import today, total, totals_when
from tests.support.clients import Agent, Customer
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

ADMIN = "ada-admin-passphrase"


@pytest.fixture
async def node(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[Node]:
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADMIN, roles=("agent", "admin"))
    one = await start_node(replace(settings, agents_file=path))
    yield one
    await bounded(one.stop(), "stopping the node")


async def chatting(clients: Clients, colleague: str = "bob") -> tuple[Customer, Agent, Agent, str]:
    """A customer chatting with alice; a colleague (bob) signed in but away (so routing gives them nothing)."""
    bob = clients.agent(colleague)
    await bob.hello(available=False)
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("my order never came")
    conv = await alice.assigned()
    await alice.say(conv["id"], "let me look")
    await customer.event("message", lambda e: e["text"] == "let me look")
    return customer, alice, bob, conv["id"]


async def logout(http: aiohttp.ClientSession, node: Node, access: str) -> dict[str, object]:
    async with http.post(node.url + "/api/agent/logout", headers={"Authorization": f"Bearer {access}"}) as r:
        assert r.status == 200
        body: dict[str, object] = await r.json()
        return body


async def state(api: Api, cid: str) -> tuple[str, str]:
    status, conv = await api.call("GET", f"/api/conversations/{cid}")
    assert status == 200, conv
    return conv["conversation"]["state"], conv["conversation"].get("agent_id") or ""


async def the_next_agent_takes_it_over(customer: Customer, bob: Agent, cid: str) -> None:
    # waiting again: the widget says so (a place the queue board sends meanwhile, without "back", it ignores)
    position = await customer.expect("queue", lambda f: f["conversation_id"] == cid and f.get("back") is True)
    assert position["position"] == 1
    await bob.send({"type": "status", "status": "available"})
    conv = await bob.assigned()
    assert conv["id"] == cid
    await customer.say("still there?")
    message = await bob.event("message", lambda e: e["text"] == "still there?")
    assert message["author"] == "customer"


async def test_a_chat_goes_back_to_the_queue_when_its_agent_logs_out(node: Node, clients: Clients) -> None:
    customer, alice, bob, cid = await chatting(clients)
    await clients.agent("alice").login()  # a tab closed without logging out: a login session, and no desk
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        assert await state(admin, cid) == ("assigned", "alice")
        assert await logout(http, node, alice.token) == {"status": "logged_out", "requeued": 1}
        assert await state(admin, cid) == ("queued", "")
        # set away before the requeue: routing never hands it back to her while her desk is still closing
        assert await node.services.store.agent_field("alice", "status") == "away"
        await the_next_agent_takes_it_over(customer, bob, cid)
        assert await state(admin, cid) == ("assigned", "bob")


async def test_logging_out_where_another_desk_of_theirs_is_open_or_a_dropped_desk_keeps_the_chat(
    node: Node, clients: Clients
) -> None:
    customer, alice, _, cid = await chatting(clients)
    other_login = clients.agent("alice")
    await other_login.login()  # alice signs in on another computer too; her first desk stays open
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        assert await logout(http, node, other_login.token) == {"status": "logged_out", "requeued": 0}
        await alice.drop()  # her desk's connection drops (a reload): she comes back to it
        assert await state(admin, cid) == ("assigned", "alice")
        back = clients.agent("alice")
        back.token = alice.token
        welcome = await back.hello(available=False)
        assert cid in [c["id"] for c in welcome["conversations"]]
        await customer.say("hello again")
        await back.event("message", lambda e: e["text"] == "hello again")


@pytest.mark.parametrize("how", ["disable", "remove"])
async def test_a_chat_goes_back_to_the_queue_when_an_admin_disables_or_removes_its_agent(
    node: Node, clients: Clients, how: str
) -> None:
    customer, _, bob, cid = await chatting(clients)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        if how == "disable":
            assert (await admin.call("PATCH", "/api/admin/agents/alice", {"disabled": True}))[0] == 200
        else:
            assert (await admin.call("DELETE", "/api/admin/agents/alice"))[0] == 204
        assert await state(admin, cid) == ("queued", "")
        await the_next_agent_takes_it_over(customer, bob, cid)


async def test_an_agent_hands_a_chat_to_a_colleague_or_to_a_queue_and_is_told_why_when_it_cannot_be(
    node: Node, clients: Clients
) -> None:
    customer, alice, bob, cid = await chatting(clients)
    refusals = [
        ({"agent_id": "alice"}, "bad_field", "that is you"),
        ({"agent_id": "zed"}, "transfer_refused", "there is no agent 'zed'"),
        ({"agent_id": "bob"}, "transfer_refused", "bob is away, not available"),
        ({"queue": "nowhere"}, "transfer_refused", "there is no queue 'nowhere'"),
        ({"queue": "support", "agent_id": "bob"}, "bad_field", "give exactly one"),
    ]
    for target, code, words in refusals:
        await alice.send({"type": "transfer", "conversation_id": cid, **target})
        error = await alice.expect("error")
        assert (error["code"], words in error["message"]) == (code, True), error
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        assert await state(admin, cid) == ("assigned", "alice")  # nothing changed

        await bob.send({"type": "status", "status": "available"})
        await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
        await alice.send({"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
        assert (await alice.expect("unassigned"))["reason"] == "transferred"
        assert (await bob.assigned())["id"] == cid
        told = await customer.event("assigned", lambda e: e.get("agent_name") == "Bob Jones")
        assert told["agent_name"] == "Bob Jones"
        await customer.say("hi Bob")
        await bob.event("message", lambda e: e["text"] == "hi Bob")

        for desk in (alice, bob):  # nobody to route it to: it waits in support
            await desk.send({"type": "status", "status": "away"})
            await desk.expect("agent", lambda f: f["agent"]["status"] == "away")
        await bob.send({"type": "transfer", "conversation_id": cid, "queue": "support"})
        assert (await bob.expect("unassigned"))["reason"] == "transferred"
        assert await state(admin, cid) == ("queued", "")
        status, conv = await admin.call("GET", f"/api/conversations/{cid}")
        assert conv["conversation"]["queue"] == "support"
        # a new arrival in support: its wait counts from the transfer, not from the chat's first wait
        first_wait = next(e for e in conv["events"] if e["type"] == "assigned" and "wait_ms" in e)
        assert conv["conversation"]["queued_at"] > first_wait["ts"], conv["conversation"]
        await customer.expect("queue", lambda f: f["conversation_id"] == cid)
        # what reports read of each hand-over: the transferring agent's part, in the queue it was in (an auditor)
        handed = [e for e in conv["events"] if e.get("transfer") == "chat"]
        assert [(e["type"], e.get("transferred_from") or e.get("agent_id"), e["agent_queue"]) for e in handed] == [
            ("assigned", "alice", "default"),
            ("state", "bob", "default"),
        ]
        assert all(e["handle_ms"] >= 0 and e["voice"] is False for e in handed)
        day = today()
        by_agent = await totals_when(
            node, admin.token, lambda r: total(r, "bob").get("transfers"), **{"from": day, "to": day, "by": "agent"}
        )
        assert (total(by_agent, "alice")["transfers"], total(by_agent, "bob")["transfers"]) == (1, 1)
        assert (total(by_agent, "alice")["chat_segments"], total(by_agent, "bob")["chat_segments"]) == (1, 1)


async def test_a_chat_handed_to_the_queue_goes_to_a_colleague_not_back_to_whoever_handed_it(
    node: Node, clients: Clients
) -> None:
    """An exploratory test: alice, idle the longest, handed a chat to the queue and got it straight back (a hand-over
    freed her capacity without her idle time starting again)."""
    customer, alice, bob, cid = await chatting(clients)
    await bob.send({"type": "status", "status": "available"})
    await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
    await alice.send({"type": "transfer", "conversation_id": cid, "queue": "default"})
    assert (await alice.expect("unassigned"))["reason"] == "transferred"
    assert (await bob.assigned())["id"] == cid
    assert not [f for f in await alice.quiet(0.3) if f["type"] == "assigned"]
    # she freed capacity just now: the last of the free agents in line, not the longest idle (alone, she would get
    # it back at once rather than leave it waiting)
    ann_idle = await node.services.store.agent_field("alice", "idle_since")
    assert int(ann_idle or 0) >= int((await node.services.store.conversation(cid) or {})["created_at"])


@pytest.fixture
async def quick_node(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[Node]:
    """A node on which an agent with no desk open for 2 s has left (``--agent-gone-seconds``)."""
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADMIN, roles=("agent", "admin"))
    one = await start_node(replace(settings, agents_file=path, agent_gone_seconds=GONE_SECONDS))
    yield one
    await bounded(one.stop(), "stopping the node")


GONE_SECONDS = 2.0


async def until_state(api: Api, cid: str, wanted: tuple[str, str], seconds: float = 15) -> float:
    """Wait for the conversation's (state, agent); the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(seconds):
        while await state(api, cid) != wanted:
            await asyncio.sleep(0.1)
    return loop.time() - start


async def test_an_agent_whose_desk_stays_closed_loses_their_chats_to_the_queue_and_is_set_away(
    quick_node: Node, clients: Clients
) -> None:
    """A desk closed without logging out (a laptop shut): the chat stays with its agent while they may come back,
    then goes back to the queue at its place; its queue's maximum wait counts from then (not from its first wait);
    the agent is away when they return."""
    node = quick_node
    customer, alice, bob, cid = await chatting(clients)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        await alice.drop()
        closed = node.services.conversations.clock()
        await asyncio.sleep(GONE_SECONDS / 2)
        assert await state(admin, cid) == ("assigned", "alice")  # she may be back any moment
        took = await until_state(admin, cid, ("queued", ""))
        assert took >= GONE_SECONDS / 2 - 0.2, took
        status, conv = await admin.call("GET", f"/api/conversations/{cid}")
        first_wait = next(e for e in conv["events"] if e["type"] == "assigned" and "wait_ms" in e)
        assert conv["conversation"]["queued_at"] <= first_wait["ts"]  # its place in line is kept
        since = await node.services.store.conversation_fields([cid], "queue_since")
        assert int(since[0][0] or 0) >= closed + GONE_SECONDS * 1000  # the maximum wait counts from its return
        assert await node.services.store.agent_field("alice", "status") == "away"
        await the_next_agent_takes_it_over(customer, bob, cid)

        back = clients.agent("alice")
        back.token = alice.token
        welcome = await back.hello(available=False)
        assert welcome["conversations"] == []
        assert welcome["agent"]["status"] == "away"


async def test_a_desk_back_in_time_keeps_its_chat(quick_node: Node, clients: Clients) -> None:
    node = quick_node
    customer, alice, _, cid = await chatting(clients)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        for _ in range(3):  # three reloads, each under the limit: more than the limit in all
            await alice.drop()
            await asyncio.sleep(GONE_SECONDS * 0.6)
            back = clients.agent("alice")
            back.token = alice.token
            await back.hello(available=False)
            alice = back
        await asyncio.sleep(GONE_SECONDS)  # a whole limit with the desk open
        assert await state(admin, cid) == ("assigned", "alice")
        await customer.say("still with me?")
        await alice.event("message", lambda e: e["text"] == "still with me?")


async def test_an_agent_removed_with_the_agents_command_loses_their_chats_to_the_queue(
    quick_node: Node, clients: Clients, settings: Settings
) -> None:
    """The command runs no routing: the nodes' sweep puts the chat back, though her desk closed only now."""
    node = quick_node
    customer, _, bob, cid = await chatting(clients)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        done = await cli("remove", "alice", "--redis-url", str(settings.redis_url))
        assert done.returncode == 0, done.stderr
        took = await until_state(admin, cid, ("queued", ""))
        assert took < GONE_SECONDS, took  # not the absence limit: at once
        await the_next_agent_takes_it_over(customer, bob, cid)


async def test_a_chat_is_not_handed_to_a_colleague_on_a_call_or_in_after_call_work(
    node: Node, clients: Clients
) -> None:
    bob = clients.agent("bob")
    await bob.hello()
    alice = clients.agent("alice")
    await alice.hello(available=False)
    caller = await queued_call(clients)
    phone = Softphone(bob)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await alice.send({"type": "status", "status": "available"})
        customer = clients.customer()
        await customer.hello()
        await customer.say("can someone help?")
        cid = (await alice.assigned())["id"]

        async def refused(words: str) -> None:
            await alice.send({"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
            error = await alice.expect("error")
            assert (error["code"], error["message"]) == ("transfer_refused", f"bob is {words}, not available")

        await refused("on a call")
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
        await bob.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up")
        await refused("in after-call work")
        # bob's unread frames still hold his activity "" from before the call: without forgetting them the wait below
        # returned at once, and alice's transfer raced bob's wrap_up_done (refused "in after-call work" under load)
        bob.forget("agent")
        await bob.send({"type": "wrap_up_done"})
        await bob.expect("agent", lambda f: f["agent"]["activity"] == "")
        await alice.send({"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
        answer = await alice.expect(("unassigned", "error"))  # a refusal says why (it timed out once, load 9)
        assert answer["type"] == "unassigned" and answer["conversation_id"] == cid, answer
        await bob.expect("assigned", lambda f: f["conversation"]["id"] == cid)
    finally:
        await phone.close()
        await caller.close()


async def talked_call(clients: Clients, agent: Agent) -> str:
    """A caller queued, answered by ``agent`` (available), who then hangs up: the call's conversation id."""
    caller = await queued_call(clients)
    phone = Softphone(agent)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
    finally:
        await phone.close()
        await caller.close()
    return caller.conversation_id


async def test_a_call_s_conversation_left_by_its_agent_is_closed_not_queued(quick_node: Node, clients: Clients) -> None:
    """Nobody waits for an answer in a call's conversation once the call is over: the queue is not given it."""
    node = quick_node
    alice = clients.agent("alice")
    await alice.hello()
    cid = await talked_call(clients, alice)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        assert await state(admin, cid) == ("assigned", "alice")
        await alice.drop()  # she shuts her laptop without closing it
        await until_state(admin, cid, ("closed", "alice"))
        status, conv = await admin.call("GET", f"/api/conversations/{cid}")
        assert conv["conversation"]["disposition"] == "agent_left"
        closed = [e for e in conv["events"] if e["type"] == "closed"]
        assert "wrap_ms" not in closed[-1]  # the gateway closed it: her absence is no after-call work


async def test_after_call_work_is_counted_for_the_agent_who_talked_and_kept_the_conversation(
    node: Node, clients: Clients
) -> None:
    """The report's wrap-up (``wrap_ms`` of the ``closed`` event): from the call's end to its agent's close; none
    when a colleague the conversation was handed to closes it."""
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    await bob.hello(available=False)

    async def closed_facts(cid: str) -> dict[str, object]:
        async with asyncio.timeout(10):
            while True:
                closed = [e for e in await node.services.store.events(cid) if e["type"] == "closed"]
                if closed:
                    return closed[-1]
                await asyncio.sleep(0.05)

    kept = await talked_call(clients, alice)
    await alice.send({"type": "wrap_up_done"})
    await alice.send({"type": "close", "conversation_id": kept, "disposition": "resolved"})
    assert (await closed_facts(kept))["wrap_ms"] >= 0  # type: ignore[operator]

    handed = await talked_call(clients, alice)
    await alice.send({"type": "wrap_up_done"})
    await bob.send({"type": "status", "status": "available"})
    await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
    await alice.send({"type": "transfer", "conversation_id": handed, "agent_id": "bob"})
    await bob.expect("assigned", lambda f: f["conversation"]["id"] == handed)
    await bob.send({"type": "close", "conversation_id": handed, "disposition": "resolved"})
    assert "wrap_ms" not in await closed_facts(handed)  # bob talked on no call of it


async def test_a_transfer_to_a_colleague_without_room_says_how_full_they_are_and_what_to_do(clients: Clients) -> None:
    """alice holds 2 chats of her 2: bob's transfer to her is refused saying so, and offering the queue instead
    (a user test read only "cannot transfer to alice: agent full")."""
    bob = clients.agent("bob")
    await bob.hello(available=False)
    alice = clients.agent("alice")
    await alice.hello()
    for text in ("first", "second"):
        customer = clients.customer()
        await customer.hello()
        await customer.say(text)
        await alice.assigned()
    await bob.send({"type": "status", "status": "available"})
    await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
    customer = clients.customer()
    await customer.hello()
    await customer.say("third")
    cid = (await bob.assigned())["id"]
    await bob.send({"type": "transfer", "conversation_id": cid, "agent_id": "alice"})
    error = await bob.expect("error")
    assert error["code"] == "transfer_refused"
    assert error["message"] == (
        "Alice Smith has 2 of 2 chats, no room for another: transfer to a queue instead (the next free agent takes it),"
        " or try Alice Smith again later"
    )


async def test_a_chat_back_in_the_queue_goes_on_hearing_its_place_as_the_queue_moves(clients: Clients) -> None:
    """A reviewer: a chat that had waited before its agent took it stopped hearing its place once back in the
    queue (the customer read "number 2" while first)."""
    alice = clients.agent("alice")
    await alice.hello(available=False)
    first, second = clients.customer(), clients.customer()
    await first.hello()
    await first.say("I waited before")
    cid = (await first.expect("queue"))["conversation_id"]
    await alice.send({"type": "status", "status": "available"})
    assert (await alice.assigned())["id"] == cid
    await alice.send({"type": "status", "status": "away"})
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    await second.hello()
    await second.say("me too")
    other = (await second.expect("queue"))["conversation_id"]
    await alice.send({"type": "transfer", "conversation_id": cid, "queue": "default"})  # at the back, behind second
    back = await first.expect("queue", lambda f: f.get("back") is True)
    assert back["position"] == 2
    await second.send({"type": "end_chat", "conversation_id": other})
    moved = await first.expect("queue", lambda f: f["conversation_id"] == cid and f["position"] == 1)
    assert moved["position"] == 1
