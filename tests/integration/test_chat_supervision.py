"""Supervisors and agents' chats, on a real node with real Redis: carol (Carol White, agent and supervisor) watches
alice's chat live and silently, coaches alice with a note the customer never sees, joins the chat (the customer sees
her and what she writes), leaves it (or her page closes), and moves the chat to a colleague, to herself or to a
queue; agents without the role can do none of it."""

from __future__ import annotations

import aiohttp

from tests.conftest import Clients
from tests.integration import test_agent_leaves
from tests.integration.test_admin_agents import Api, token
from tests.integration.test_agent_leaves import ADMIN
from tests.integration.test_reports import today, total, totals_when
from tests.support.clients import Agent, Customer, Frame
from tests.support.servers import Node

node = test_agent_leaves.node  # this module's node: one with an admin too (ada), who takes a role away


async def chatting(clients: Clients) -> tuple[Customer, Agent, Agent, str]:
    """A customer chatting with alice; carol (a supervisor) signed in, away (so routing gives her nothing)."""
    return await test_agent_leaves.chatting(clients, "carol")


async def error_for(who: Agent, frame: Frame) -> Frame:
    await who.send(frame)
    return await who.expect("error")


async def test_a_supervisor_watches_a_chat_live_and_coaches_its_agent_and_the_customer_sees_neither(
    clients: Clients,
) -> None:
    customer, alice, carol, cid = await chatting(clients)
    await carol.send({"type": "chat_watch", "conversation_id": cid, "watch": True})
    history = await carol.expect("history", lambda f: (f["conversation"] or {}).get("id") == cid)
    assert [e["text"] for e in history["events"] if e["type"] == "message"] == ["my order never came", "let me look"]

    # live: the customer's next message and their typing draft, as the agent gets them
    await customer.send({"type": "typing", "active": True, "draft": "order 42"})
    typing = await carol.expect("typing", lambda f: f["conversation_id"] == cid)
    assert typing["draft"] == "order 42"
    await customer.say("order 4271")
    await carol.event("message", lambda e: e["text"] == "order 4271")
    assert not [f for f in await alice.quiet(0.3) if "supervisor" in str(f)]  # watching is told to nobody

    # coaching: a note alice reads, named as carol's; the customer never gets it
    await carol.say(cid, "offer the refund, it is under 50", note=True)
    note = await alice.event("note", lambda e: e["text"].startswith("offer the refund"))
    assert (note["agent_id"], note["agent_name"], note["supervisor"]) == ("carol", "Carol White", True)
    await alice.say(cid, "I can refund it now")
    await customer.event("message", lambda e: e["text"] == "I can refund it now")
    assert not [f for f in customer.seen if f.get("type") == "event" and f["event"]["type"] == "note"]

    # without joining, carol cannot write to the customer, nor type to them
    refused = await error_for(carol, {"type": "message", "conversation_id": cid, "client_id": "m1", "text": "hi"})
    assert (refused["code"], "join the chat first" in refused["message"]) == ("forbidden", True)
    refused = await error_for(carol, {"type": "typing", "conversation_id": cid, "active": True})
    assert refused["code"] == "forbidden"

    # stopped: nothing more comes
    await carol.send({"type": "chat_watch", "conversation_id": cid, "watch": False})
    await carol.quiet(0.3)  # (what came before it)
    await customer.say("are you there?")
    await alice.event("message", lambda e: e["text"] == "are you there?")
    assert not [f for f in await carol.quiet(0.5) if f.get("type") == "event"]


async def test_only_supervisors_watch_and_a_watch_is_bounded(clients: Clients, node: Node) -> None:
    _, alice, carol, cid = await chatting(clients)
    bob = clients.agent("bob")
    await bob.hello(available=False)
    for frame, code in (
        ({"type": "chat_watch", "conversation_id": cid, "watch": True}, "forbidden"),
        ({"type": "chat_join", "conversation_id": cid, "join": True}, "forbidden"),
        ({"type": "note", "conversation_id": cid, "client_id": "n1", "text": "x"}, "forbidden"),
        ({"type": "transfer", "conversation_id": cid, "agent_id": "bob"}, "forbidden"),
    ):
        assert (await error_for(bob, frame))["code"] == code, frame
    refused = await error_for(alice, {"type": "chat_watch", "conversation_id": cid, "watch": True})
    assert "only supervisors and admins" in refused["message"]
    # at most 10 conversations at once; a waiting one can be watched too
    await alice.send({"type": "status", "status": "away"})  # nobody takes the next chats
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    others = []
    for n in range(10):
        other = clients.customer()
        await other.hello()
        await other.say(f"question {n}")
        others.append((await other.expect("queue"))["conversation_id"])
    for other_cid in others:
        await carol.send({"type": "chat_watch", "conversation_id": other_cid, "watch": True})
        await carol.expect("history", lambda f, c=other_cid: (f["conversation"] or {}).get("id") == c)
    refused = await error_for(carol, {"type": "chat_watch", "conversation_id": cid, "watch": True})
    assert (refused["code"], "watch 10 chats already" in refused["message"]) == ("conflict", True)
    await carol.send({"type": "chat_watch", "conversation_id": others[0], "watch": False})
    await carol.send({"type": "chat_watch", "conversation_id": cid, "watch": True})
    await carol.expect("history", lambda f: (f["conversation"] or {}).get("id") == cid)
    # a coaching note on a waiting chat, for whoever takes it
    await carol.say(others[1], "VIP: handle first", note=True)
    notes = [e for e in await node.services.store.events(others[1]) if e["type"] == "note"]
    assert [(e["text"], e["agent_id"], e["supervisor"]) for e in notes] == [("VIP: handle first", "carol", True)]


async def test_a_supervisor_joins_the_chat_writes_to_the_customer_and_leaves(clients: Clients, node: Node) -> None:
    customer, alice, carol, cid = await chatting(clients)
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": True})
    joined = await customer.event("supervisor_joined")
    assert joined["agent_name"] == "Carol White" and "agent_id" not in joined  # the customer's copy: no ids
    assert (await alice.event("supervisor_joined"))["agent_id"] == "carol"

    await carol.send({"type": "typing", "conversation_id": cid, "active": True})
    typing = await customer.expect("typing", lambda f: f.get("name") == "Carol White")
    assert typing["active"] is True
    await carol.say(cid, "I am Carol, Alice's supervisor: the refund is approved")
    said = await customer.event("message", lambda e: e["text"].startswith("I am Carol"))
    assert (said["author"], said["agent_name"], said["supervisor"], "agent_id" in said) == (
        "agent",
        "Carol White",
        True,
        False,
    )
    await alice.event("message", lambda e: e["text"].startswith("I am Carol"))

    # joining again changes nothing; leaving tells both, and what she writes after it is refused, not stored
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": True})
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": False})
    left = await customer.event("supervisor_left")
    assert (left["agent_name"], left["reason"]) == ("Carol White", "left")
    events = await node.services.store.events(cid)
    assert [e["type"] for e in events if e["type"].startswith("supervisor_")] == [
        "supervisor_joined",
        "supervisor_left",
    ]
    refused = await error_for(carol, {"type": "message", "conversation_id": cid, "client_id": "late", "text": "x"})
    assert refused["code"] == "forbidden"
    assert not [e for e in await node.services.store.events(cid) if e.get("client_id") == "late"]

    # her page closes while she is in the chat: the customer is told she left
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": True})
    await customer.event("supervisor_joined", lambda e: e["ts"] > left["ts"])
    await carol.drop()
    gone = await customer.event("supervisor_left", lambda e: e["ts"] > left["ts"])
    assert gone["reason"] == "page_closed"

    # a closed chat cannot be joined; a waiting one neither (nobody to supervise: coach with a note)
    await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    await alice.expect("unassigned")
    back = clients.agent("carol")
    await back.hello(available=False)
    refused = await error_for(back, {"type": "chat_join", "conversation_id": cid, "join": True})
    assert (refused["code"], "closed" in refused["message"]) == ("conflict", True)
    await alice.send({"type": "status", "status": "away"})  # nobody takes the next chat
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    other = clients.customer()
    await other.hello()
    await other.say("anyone?")
    waiting = (await other.expect("queue"))["conversation_id"]
    refused = await error_for(back, {"type": "chat_join", "conversation_id": waiting, "join": True})
    assert (refused["code"], "no agent has this chat" in refused["message"]) == ("conflict", True)


async def test_a_supervisor_moves_a_chat_to_a_colleague_to_a_queue_or_takes_it_over(
    clients: Clients, node: Node
) -> None:
    customer, alice, carol, cid = await chatting(clients)
    bob = clients.agent("bob")
    await bob.hello()
    await carol.send({"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
    assert (await alice.expect("unassigned"))["reason"] == "transferred"
    assert (await bob.assigned())["id"] == cid
    moved = next(e for e in await node.services.store.events(cid) if e.get("transferred_from") == "alice")
    assert (moved["transferred_by"], moved["transferred_by_name"]) == ("carol", "Carol White")
    told = await customer.event("assigned", lambda e: e.get("agent_name") == "Bob Jones")
    assert not {"transferred_by", "transferred_by_name", "transferred_from"} & set(told)

    refused = await error_for(carol, {"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
    assert (refused["code"], "bob has this chat already" in refused["message"]) == ("bad_field", True)
    refused = await error_for(carol, {"type": "transfer", "conversation_id": cid, "agent_id": "carol"})
    assert (refused["code"], "carol is away" in refused["message"]) == ("transfer_refused", True)

    # take over: carol, available at her desk, moves it to herself
    await carol.send({"type": "status", "status": "available"})
    await carol.expect("agent", lambda f: f["agent"]["status"] == "available")
    await carol.send({"type": "transfer", "conversation_id": cid, "agent_id": "carol"})
    assert (await bob.expect("unassigned"))["reason"] == "transferred"
    assert (await carol.assigned())["id"] == cid
    await customer.say("hello Carol")
    await carol.event("message", lambda e: e["text"] == "hello Carol")

    # to a queue (hers now: her own transfer); then a waiting chat cannot be moved by a supervisor
    for desk in (alice, bob):
        await desk.send({"type": "status", "status": "away"})
        await desk.expect("agent", lambda f: f["agent"]["status"] == "away")
    await carol.send({"type": "transfer", "conversation_id": cid, "queue": "support"})
    assert (await carol.expect("unassigned"))["reason"] == "transferred"
    await carol.send({"type": "status", "status": "away"})
    refused = await error_for(carol, {"type": "transfer", "conversation_id": cid, "agent_id": "bob"})
    assert (refused["code"], "not with an agent" in refused["message"]) == ("transfer_refused", True)

    # reports: the queue counts every hand-over; an agent only the one they chose (a supervisor's move is not theirs)
    day = today()
    by_queue = await totals_when(
        node, carol.token, lambda r: total(r, "default").get("transfers") == 3, **{"from": day, "to": day}
    )
    assert total(by_queue, "default")["transfers"] == 3
    by_agent = await totals_when(
        node, carol.token, lambda r: total(r, "carol").get("transfers"), **{"from": day, "to": day, "by": "agent"}
    )
    assert [total(by_agent, a).get("transfers") or 0 for a in ("alice", "bob", "carol")] == [0, 0, 1]
    assert [total(by_agent, a).get("chat_segments") or 0 for a in ("alice", "bob", "carol")] == [1, 1, 1]


async def test_a_supervisor_s_place_in_a_chat_survives_a_second_tab_a_lost_role_and_a_take_over(
    clients: Clients, node: Node
) -> None:
    """A reviewer's findings: a second tab that closed took the supervisor out of the chat another tab joined; one
    whose role was taken away stayed in it for ever; one who took the chat over stayed "in" it as a supervisor; a
    supervisor went on writing to a customer waiting in the queue; the first response went to the supervisor."""
    customer, alice, carol, cid = await chatting(clients)
    store = node.services.store
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": True})
    await customer.event("supervisor_joined")
    tab = clients.agent("carol")
    tab.token = carol.token
    await tab.hello(available=False)
    await tab.send({"type": "chat_join", "conversation_id": cid, "join": True})  # in it already: nothing changes
    await tab.quiet(0.3)
    await tab.drop()
    await carol.say(cid, "still here")  # the tab that joined is still in it
    assert (await store.conversation(cid) or {}).get("supervisors") == " carol "

    # no joining one's own chat; a take-over leaves the chat first, then takes it
    refused = await error_for(alice, {"type": "chat_join", "conversation_id": cid, "join": True})
    assert refused["code"] == "forbidden"  # alice is no supervisor
    await carol.send({"type": "status", "status": "available"})
    await carol.expect("agent", lambda f: f["agent"]["status"] == "available")
    await carol.send({"type": "transfer", "conversation_id": cid, "agent_id": "carol"})
    left = await customer.event("supervisor_left")
    assert left["reason"] == "took_over"
    assert (await alice.expect("unassigned"))["reason"] == "transferred"
    await customer.event("assigned", lambda e: e.get("agent_name") == "Carol White")
    assert "supervisors" not in (await store.conversation(cid) or {})
    refused = await error_for(carol, {"type": "chat_join", "conversation_id": cid, "join": True})
    assert (refused["code"], "this chat is yours" in refused["message"]) == ("conflict", True)

    # a chat handed to a queue: a supervisor in it cannot write to the waiting customer
    await carol.send({"type": "transfer", "conversation_id": cid, "agent_id": "alice"})
    await alice.assigned()
    await carol.send({"type": "chat_join", "conversation_id": cid, "join": True})
    await customer.event("supervisor_joined", lambda e: e["ts"] >= left["ts"])
    for desk in (alice, carol):
        await desk.send({"type": "status", "status": "away"})
        await desk.expect("agent", lambda f: f["agent"]["status"] == "away")
    await alice.send({"type": "transfer", "conversation_id": cid, "queue": "support"})
    await alice.expect("unassigned")
    assert (await store.conversation(cid) or {}).get("state") == "queued"
    refused = await error_for(carol, {"type": "message", "conversation_id": cid, "client_id": "q1", "text": "hi"})
    assert (refused["code"], "no agent has this chat now" in refused["message"]) == ("conflict", True)

    # her role taken away: her desk closes, and she is let go of the chat (the customer is told)
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node, await token(http, node, "ada", ADMIN))
        status, _ = await admin.call("PATCH", "/api/admin/agents/carol", {"roles": ["agent"]})
        assert status == 200
    gone = await customer.event("supervisor_left", lambda e: e["ts"] > left["ts"])
    assert gone["reason"] == "page_closed"
    assert "supervisors" not in (await store.conversation(cid) or {})
