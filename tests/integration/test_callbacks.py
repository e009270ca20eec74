"""Callbacks: booked in the IVR or the chat bot, kept in Redis, delivered by ringing the customer's widget.

Real parts: a Redis server, gateway nodes on loopback, aiortc callers and softphones. Time is moved with an
injected clock (``services.callbacks.clock``), never by sleeping for minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.config import Settings
from gateway.contact.routing import now_ms
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.queue_calls import hears, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


class Clock:
    """Milliseconds the callbacks see; tests move it forward."""

    def __init__(self) -> None:
        self.ms = now_ms()

    def __call__(self) -> int:
        return self.ms


def callback_settings(settings: Settings) -> Settings:
    return replace(settings, voice_flow="callback", chat_flow="callback", callback_ring_seconds=30)


@pytest.fixture
async def cb_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(callback_settings(settings))
    yield started
    await bounded(started.stop(), "stopping the node")


@pytest.fixture
async def cb_clients(cb_node: Node) -> AsyncIterator[Clients]:
    made = Clients(cb_node.url)
    yield made
    await bounded(made.close(), "closing the clients")


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


async def callback_actions(node: Node, cid: str) -> list[str]:
    return [e["action"] for e in await node.services.store.events(cid) if e["type"] == "callback"]


async def open_conversation(node: Node, customer: Customer) -> str:
    cid, _ = await node.services.conversations.open_for_flow(customer.customer_id, {})
    return cid


async def callback_ringing_the_widget(node: Node, caller: Caller, alice: Agent) -> str:
    """``caller`` (on the callback flow, ``alice`` away) books a callback in the IVR; alice becomes available and
    gets it, and the widget rings. Returns the conversation."""
    services = node.services
    customer = caller.customer
    await caller.dial()
    cid = caller.conversation_id

    async def offered() -> bool:
        return any(
            e["type"] == "ivr" and e["node"] == "offer" and e["kind"] == "prompt"
            for e in await services.store.events(cid)
        )

    await until(offered)
    await caller.press("1")
    ended = await caller.status(CallStatus.ENDED, timeout=20)  # "We will call you back." then the line drops
    assert ended["reason"] == "callback"
    # the callback keeps the caller's place: the conversation waits in the queue with nobody on the line
    cb = await until(lambda: services.callbacks.of_conversation(cid))
    await until(lambda: _state_is(services, cid, "queued"))
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["state"] == "queued" and conv["queue"] == "support"
    # an agent comes: they get the conversation as a callback task, and the customer's widget rings
    await alice.send({"type": "status", "status": "available"})
    assigned = await alice.assigned()
    assert assigned["id"] == cid and assigned["callback"]["state"] == "ringing"
    assert assigned["callback"]["id"] == cb["id"] and assigned["callback"]["attempt"] == 1
    attempt = await customer.event("callback", lambda e: e["action"] == "attempt")
    assert attempt["agent_name"] == "Alice Smith" and attempt["ring_until"] > now_ms()
    return cid


async def test_asap_callback_from_the_ivr_rings_the_widget_and_caller_and_agent_talk(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)  # nobody free: the flow offers a callback
    customer = cb_clients.customer()
    await customer.hello()
    caller = Caller(customer)
    answering: Caller | None = None
    phone = Softphone(alice)
    try:
        cid = await callback_ringing_the_widget(cb_node, caller, alice)
        # the customer answers in the widget: an ordinary call in the same conversation, straight to alice, who
        # took the callback task already: her desk is told to connect at once (reason 'callback'), not to ring
        answering = Caller(customer)
        await answering.dial()
        assert answering.conversation_id == cid
        ring = await phone.ringing()
        assert (ring["conversation_id"], ring["reason"]) == (cid, "callback")
        await phone.answer(ring["call_id"])
        answering.mic.play(tone(440), "customer")
        await hears(lambda: phone.heard, 440)
        phone.mic.play(tone(1000), "agent")
        await hears(lambda: answering.heard, 1000)
        closed = await customer.event("callback", lambda e: e["action"] == "closed")
        assert closed["outcome"] == "reached"
        assert await callback_actions(cb_node, cid) == ["requested", "queued", "attempt", "closed"]
        assert await services.callbacks.of_conversation(cid) is None
    finally:
        await phone.close()
        await caller.close()
        if answering is not None:
            await answering.close()


async def callback_place(services: Any, cid: str) -> int:
    """The place in line (ms) of the callback booked in ``cid``."""
    cb = await services.callbacks.of_conversation(cid)
    assert cb is not None
    return int((await services.callbacks.get(cb["id"]) or {})["place_ms"])


async def place_in_queue(services: Any, cid: str) -> float | None:
    """``cid``'s place (its score) in the routing queue, once it waits there again."""

    async def queued() -> bool:
        conv = await services.store.conversation(cid)
        return conv is not None and conv["state"] == "queued"

    await until(queued)
    return await services.store.redis.zscore(services.store.keys.queue(services.conversations.queue), cid)


async def test_a_callback_answered_after_its_agent_went_away_goes_to_the_next_agent_at_its_place(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    caller = Caller(customer)
    answering = Caller(customer)
    phone = Softphone(alice)
    bob_phone: Softphone | None = None
    try:
        cid = await callback_ringing_the_widget(cb_node, caller, alice)
        place = await callback_place(services, cid)
        # alice goes on a break while the customer's widget rings; the customer answers
        await alice.send({"type": "status", "status": "away", "reason": "break"})
        await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
        await asyncio.sleep(0.3)  # the answer comes later than the booking: its place must not move to it
        await answering.dial()
        # not connected into a headset nobody wears (it was), nor rung for her to decline: back in the queue at
        # the callback's place, ahead of anyone who came after it was booked
        await customer.expect(
            "call_status", lambda f: (f["status"], f["reason"]) == ("waiting", "agent_away"), timeout=10
        )
        assert await place_in_queue(services, cid) == place
        assert not [f for f in await alice.quiet(0.5) if f.get("type") == "call_status" and f["status"] == "ringing"]
        info = await services.presence.info("alice")
        assert (info["status"], info["away_reason"]) == ("away", "break")  # her break, said as she said it
        # the next agent gets the caller, who was called back and is reached
        bob = cb_clients.agent("bob")
        await bob.hello()
        bob_phone = Softphone(bob)
        ring = await bob_phone.ringing()
        assert (ring["conversation_id"], ring["reason"]) == (cid, "")
        await bob_phone.answer(ring["call_id"])
        await answering.status(CallStatus.CONNECTED)
        closed = await customer.event("callback", lambda e: e["action"] == "closed")
        assert closed["outcome"] == "reached"
        # one attempt: the customer on the line is not rung again when bob gets the conversation
        assert await callback_actions(cb_node, cid) == ["requested", "queued", "attempt", "closed"]
    finally:
        for closing in (phone, bob_phone, caller, answering):
            if closing is not None:
                await closing.close()


async def test_a_callback_its_agent_declines_waits_for_the_next_agent_at_its_place(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    caller = Caller(customer)
    answering = Caller(customer)
    phone = Softphone(alice)
    try:
        cid = await callback_ringing_the_widget(cb_node, caller, alice)
        place = await callback_place(services, cid)
        await asyncio.sleep(0.3)
        await answering.dial()
        ring = await phone.ringing()
        assert ring["reason"] == "callback"  # her desk connects at once; she declines instead (a mic that fails)
        await alice.send({"type": "call_decline", "call_id": ring["call_id"]})
        # the customer the center called waits for the next agent (the call used to end as an own-chat decline)
        back = await answering.status(CallStatus.WAITING, timeout=10)
        assert back["call_id"] == ring["call_id"]
        assert await place_in_queue(services, cid) == place
    finally:
        await phone.close()
        await caller.close()
        await answering.close()


async def _state_is(services: Any, cid: str, state: str) -> bool:
    cb = await services.callbacks.of_conversation(cid)
    return cb is not None and cb["state"] == state


async def test_a_callback_booked_in_chat_for_five_oclock_enters_the_queue_at_its_time(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    clock = services.callbacks.clock = Clock()
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    ack = await customer.say("hello")
    cid = ack["conversation_id"]
    await customer.event("choices")
    await customer.say("At five")
    requested = await customer.event("callback", lambda e: e["action"] == "requested")
    now = datetime.now(UTC)
    five = now.replace(hour=17, minute=0, second=0, microsecond=0)
    five = five if five > now else five + timedelta(days=1)
    assert requested["due_ms"] == int(five.timestamp() * 1000) and requested["asap"] is False
    await customer.event("message", lambda e: e["text"] == "We will call you back.")
    # the bot's goodbye does not close a conversation that waits for its callback
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["state"] == "open"
    await alice.send({"type": "status", "status": "available"})
    await services.callbacks.sweep()
    assert (await services.callbacks.of_conversation(cid))["state"] == "scheduled"  # type: ignore[index]
    assert all(f["type"] != "assigned" for f in await alice.quiet(1.0))
    clock.ms = requested["due_ms"] + 1  # five o'clock
    await services.callbacks.sweep()
    assigned = await alice.assigned()
    assert assigned["id"] == cid and assigned["callback"]["state"] == "ringing"
    assert await callback_actions(cb_node, cid) == ["requested", "queued", "attempt"]


async def test_the_customer_cancels_a_pending_callback(cb_clients: Clients, cb_node: Node) -> None:
    services = cb_node.services
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    cb_id = await services.callbacks.request(cid, queue="support", due=None, label="Call me back")
    await until(lambda: _state_is(services, cid, "queued"))
    other = cb_clients.customer()
    await other.hello()
    await other.send({"type": "callback_cancel", "callback_id": cb_id})  # not theirs
    refused = await other.expect("error")
    assert refused["code"] == "not_found" and refused["field"] == "callback_id"
    await customer.send({"type": "callback_cancel"})
    assert (await customer.expect("error"))["code"] == "missing_field"
    # the customer reconnects (a new page): the welcome shows the callback; they cancel it
    customer2 = cb_clients.customer(customer.token)
    welcome = await customer2.hello()
    assert welcome["callback"]["id"] == cb_id and welcome["callback"]["state"] == "queued"
    await customer2.send({"type": "callback_cancel", "callback_id": cb_id})
    closed = await customer2.event("callback", lambda e: e["action"] == "closed")
    assert closed["outcome"] == "cancelled"
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["state"] == "open"  # out of the queue, still the customer's
    assert await services.router.waiting() == []
    await alice.send({"type": "status", "status": "available"})
    assert all(f["type"] != "assigned" for f in await alice.quiet(1.0))
    await customer2.send({"type": "callback_cancel", "callback_id": cb_id})
    assert (await customer2.expect("error"))["code"] == "callback_closed"


async def test_no_answer_retries_after_the_spacing_then_closes_as_unreachable(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    clock = services.callbacks.clock = Clock()
    alice = cb_clients.agent("alice")
    await alice.hello()
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    await services.callbacks.request(cid, queue="support", due=None, label="Call me back", attempts=2, retry_after=30)
    await services.callbacks.sweep()
    first = await alice.assigned()
    assert first["callback"]["attempt"] == 1
    clock.ms = first["callback"]["ring_until"] + 1  # the widget rang 30 s, nobody answered
    await services.callbacks.sweep()
    unassigned = await alice.expect("unassigned")
    assert unassigned["reason"] == "callback_no_answer"
    outcome = await customer.event("callback", lambda e: e["action"] == "outcome")
    assert outcome["outcome"] == "no_answer" and outcome["next_attempt_ms"] == clock.ms + 30_000
    conv = await services.store.conversation(cid)
    assert conv is not None and (conv["state"], conv["agent_id"]) == ("open", "")
    await services.callbacks.sweep()
    assert all(f["type"] != "assigned" for f in await alice.quiet(0.5))  # not before the spacing
    clock.ms = outcome["next_attempt_ms"]
    await services.callbacks.sweep()
    second = await alice.assigned()
    assert second["callback"]["attempt"] == 2
    clock.ms = second["callback"]["ring_until"] + 1
    await services.callbacks.sweep()
    closed = await customer.event("callback", lambda e: e["action"] == "closed")
    assert (closed["outcome"], closed["attempt"]) == ("unreachable", 2)
    conv = await services.store.conversation(cid)
    assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")  # to wrap up
    assert await callback_actions(cb_node, cid) == [
        "requested",
        "queued",
        "attempt",
        "outcome",
        "queued",
        "attempt",
        "closed",
    ]


async def test_a_phone_callback_waits_for_the_agents_outcome(cb_clients: Clients, cb_node: Node) -> None:
    services = cb_node.services
    clock = services.callbacks.clock = Clock()
    alice, bob = cb_clients.agent("alice"), cb_clients.agent("bob")
    await alice.hello()
    await bob.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    cb_id = await services.callbacks.request(cid, queue="support", due=None, label="Call me back", phone="+1 555 0100")
    await services.callbacks.sweep()
    assigned = await alice.assigned()
    assert assigned["callback"]["phone"] == "+1 555 0100"
    clock.ms = assigned["callback"]["ring_until"] + 1  # the browser did not answer: alice dials the number
    await services.callbacks.sweep()
    assert (await services.callbacks.get(cb_id))["state"] == "ringing"  # type: ignore[index]
    await bob.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": "reached"})
    assert (await bob.expect("error"))["code"] == "forbidden"
    await alice.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": "maybe"})
    bad = await alice.expect("error")
    assert (bad["code"], bad["field"]) == ("bad_field", "outcome")
    await alice.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": "wrong_number"})
    closed = await alice.event("callback", lambda e: e["action"] == "closed")
    assert closed["outcome"] == "wrong_number"
    await alice.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": "reached"})
    assert (await alice.expect("error"))["code"] == "not_ringing"
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["agent_id"] == "alice"


async def test_a_browser_callback_is_reached_only_when_the_customer_answers(cb_clients: Clients, cb_node: Node) -> None:
    """No number to dial: the agent cannot record "reached" (or "wrong number") while the browser rings unanswered;
    they may give the attempt up."""
    services = cb_node.services
    services.callbacks.clock = Clock()
    alice = cb_clients.agent("alice")
    await alice.hello()
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    cb_id = await services.callbacks.request(cid, queue="support", due=None, label="Call me back")
    await services.callbacks.sweep()
    assert (await alice.assigned())["callback"]["phone"] == ""
    for outcome in ("reached", "wrong_number"):
        await alice.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": outcome})
        refused = await alice.expect("error")
        assert (refused["code"], refused["field"]) == ("bad_field", "outcome"), refused
        assert "reached when they answer" in refused["message"]
    assert (await services.callbacks.get(cb_id))["state"] == "ringing"  # type: ignore[index]
    await alice.send({"type": "callback_outcome", "callback_id": cb_id, "outcome": "no_answer"})
    outcome = await customer.event("callback", lambda e: e["action"] == "outcome")
    assert outcome["outcome"] == "no_answer"


async def test_an_undelivered_callback_expires(cb_clients: Clients, cb_node: Node) -> None:
    services = cb_node.services
    clock = services.callbacks.clock = Clock()
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    await services.callbacks.request(cid, queue="support", due=None, label="Call me back", expire_after=3600)
    await services.callbacks.sweep()
    assert await services.router.waiting() == [cid]
    clock.ms += 3600_000 + 1
    await services.callbacks.sweep()
    closed = await customer.event("callback", lambda e: e["action"] == "closed")
    assert closed["outcome"] == "expired"
    assert await services.router.waiting() == []
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["state"] == "open"


async def test_a_booking_for_a_closed_conversation_is_refused_and_a_new_one_replaces_the_old(
    cb_clients: Clients, cb_node: Node
) -> None:
    services = cb_node.services
    customer = cb_clients.customer()
    await customer.hello()
    cid = await open_conversation(cb_node, customer)
    first = await services.callbacks.request(
        cid, queue="support", due=datetime.now(UTC) + timedelta(hours=2), label="Later"
    )
    second = await services.callbacks.request(cid, queue="support", due=None, label="Now")
    assert (await services.callbacks.get(first))["outcome"] == "replaced"  # type: ignore[index]
    assert (await services.callbacks.of_conversation(cid))["id"] == second  # type: ignore[index]
    await services.conversations.close_without_agent(cid, "test")  # kept open: a callback waits in it
    assert (await services.store.conversation(cid))["state"] != "closed"  # type: ignore[index]
    await customer.send({"type": "callback_cancel", "callback_id": second})
    await customer.event("callback", lambda e: e["action"] == "closed" and e["callback_id"] == second)
    await services.conversations.close_without_agent(cid, "test")
    with pytest.raises(Exception, match="conversation is closed"):
        await services.callbacks.request(cid, queue="support", due=None, label="Too late")


async def test_callbacks_pending_across_a_restart_are_delivered_exactly_once(settings: Settings) -> None:
    """Node A books three callbacks and stops; nodes B and C share its Redis and both sweep (in their loops and
    concurrently by hand) once the callbacks are due: each is queued once and rings once."""
    node_a = await start_node(callback_settings(settings))
    clients = Clients(node_a.url)
    ids: dict[str, str] = {}
    try:
        due = datetime.now(UTC) + timedelta(minutes=10)
        for n in range(3):
            cid, _ = await node_a.services.conversations.open_for_flow(f"u_restart{n}", {})
            ids[cid] = await node_a.services.callbacks.request(cid, queue="support", due=due, label="Later")
    finally:
        await bounded(node_a.stop(), "stopping node A")
    nodes = [await start_node(callback_settings(settings)) for _ in range(2)]
    try:
        later = Clock()
        later.ms = int(due.timestamp() * 1000) + 1
        for node in nodes:
            node.services.callbacks.clock = later
        alice = clients.agent("alice", url=nodes[0].url)
        bob = clients.agent("bob", url=nodes[1].url)
        await alice.hello()
        await bob.hello()
        await asyncio.gather(*(node.services.callbacks.sweep() for node in nodes for _ in range(4)))

        async def all_ringing() -> bool:
            states = [await nodes[0].services.callbacks.get(cb_id) for cb_id in ids.values()]
            return all(s is not None and s["state"] == "ringing" for s in states)

        await until(all_ringing)
        await asyncio.gather(*(node.services.callbacks.sweep() for node in nodes for _ in range(4)))
        await asyncio.sleep(1.0)  # both sweep loops ran again meanwhile
        for cid in ids:
            assert await callback_actions(nodes[0], cid) == ["requested", "queued", "attempt"]
            assigned = [e for e in await nodes[0].services.store.events(cid) if e["type"] == "assigned"]
            assert len(assigned) == 1
        for agent in (alice, bob):
            await agent.quiet(0.3)
        frames = [f for agent in (alice, bob) for f in agent.seen if f["type"] == "assigned"]
        assert sorted(f["conversation"]["id"] for f in frames) == sorted(ids)
    finally:
        await bounded(clients.close(), "closing the clients")
        for node in nodes:
            await bounded(node.stop(), "stopping a node")


@pytest.fixture
async def unrecovered_node(settings: Settings) -> AsyncIterator[Node]:
    """A callbacks node whose sweeps offer queued callbacks an agent holds only when the test asks (its own
    loop would, every few seconds, whenever a slow run let that much time pass)."""
    started = await start_node(replace(callback_settings(settings), callback_recovery_seconds=None))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_a_callback_whose_assigning_node_stopped_before_ringing_is_still_offered(unrecovered_node: Node) -> None:
    node = unrecovered_node
    services = node.services
    services.router.on_assigned.clear()  # this node assigns but never starts the attempt, like one that died
    clients = Clients(node.url)
    try:
        alice = clients.agent("alice")
        await alice.hello()
        customer = clients.customer()
        await customer.hello()
        cid = await open_conversation(node, customer)
        cb_id = await services.callbacks.request(cid, queue="support", due=None, label="Call me back")
        assert (await alice.assigned())["id"] == cid
        await services.callbacks.sweep()
        assert (await services.callbacks.get(cb_id))["state"] == "queued"  # type: ignore[index]
        await services.callbacks.sweep(recover=True)  # the periodic check
        attempt = await customer.event("callback", lambda e: e["action"] == "attempt")
        assert attempt["agent_name"] == "Alice Smith"
        await services.callbacks.sweep()
        await services.callbacks.sweep(recover=True)
        assert await callback_actions(node, cid) == ["requested", "queued", "attempt"]
    finally:
        await bounded(clients.close(), "closing the clients")


async def test_supervisors_list_the_open_callbacks(cb_clients: Clients, cb_node: Node) -> None:
    import aiohttp

    services = cb_node.services
    first, second = cb_clients.customer(), cb_clients.customer()
    for customer in (first, second):
        await customer.hello()
    later = await services.callbacks.request(
        await open_conversation(cb_node, first),
        queue="support",
        due=datetime.now(UTC) + timedelta(hours=3),
        label="Later",
        phone="+1 555 0101",
    )
    soon = await services.callbacks.request(
        await open_conversation(cb_node, second), queue="support", due=None, label="Now"
    )
    carol, alice = cb_clients.agent("carol"), cb_clients.agent("alice")  # carol is a supervisor
    async with aiohttp.ClientSession() as http:
        async with http.get(
            cb_node.url + "/api/callbacks", headers={"Authorization": f"Bearer {await carol.login()}"}
        ) as r:
            assert r.status == 200
            listed = (await r.json())["callbacks"]
        assert [c["id"] for c in listed] == [soon, later]
        assert listed[1]["phone"] == "+1 555 0101" and listed[1]["customer_id"] == first.customer_id
        for token, status in ((await alice.login(), 403), ("forged.token", 401)):
            async with http.get(cb_node.url + "/api/callbacks", headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == status


async def test_ending_a_callback_leaves_a_chat_where_it_was(clients: Clients, node: Node) -> None:
    """A callback booked on a conversation that already waits in the chat queue, or is with an agent, only rides
    along: cancelling or declining it does not take the chat out of the queue or away from its agent."""
    services = node.services
    waiting = clients.customer()
    await waiting.hello()
    queued_cid = (await waiting.say("anyone there?"))["conversation_id"]  # no chat flow: queued at once
    cb_id = await services.callbacks.request(queued_cid, queue="support", due=None, label="Call me back")
    await until(lambda: _state_is(services, queued_cid, "queued"))
    await waiting.send({"type": "callback_cancel", "callback_id": cb_id})
    await waiting.event("callback", lambda e: e["action"] == "closed")
    assert (await services.store.conversation(queued_cid))["state"] == "queued"  # type: ignore[index]
    assert await services.router.waiting() == [queued_cid]
    # the chat reaches alice; a callback booked on it rings the customer for alice; the customer declines
    alice = clients.agent("alice")
    await alice.hello()
    assert (await alice.assigned())["id"] == queued_cid
    cb_id = await services.callbacks.request(queued_cid, queue="support", due=None, label="Call me back")

    async def rings() -> bool:  # queued by a sweep, then offered to alice by the periodic recovery check
        await services.callbacks.sweep(recover=True)
        return await _state_is(services, queued_cid, "ringing")

    await until(rings)
    await waiting.event("callback", lambda e: e["action"] == "attempt" and e["callback_id"] == cb_id)
    await waiting.send({"type": "callback_cancel", "callback_id": cb_id})
    closed = await waiting.event("callback", lambda e: e["action"] == "closed" and e["callback_id"] == cb_id)
    assert closed["outcome"] == "declined"
    conv = await services.store.conversation(queued_cid)
    assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
    assert all(f["type"] != "unassigned" for f in await alice.quiet(0.5))


@pytest.fixture
async def voice_cb_node(settings: Settings) -> AsyncIterator[Node]:
    """Callbacks booked in the voice IVR; chats go straight to the agents (no chat bot)."""
    started = await start_node(replace(settings, voice_flow="callback", callback_ring_seconds=30))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_a_message_written_while_a_callback_is_booked_for_later_reaches_an_agent_who_may_cancel_it(
    voice_cb_node: Node,
) -> None:
    """The customer books a callback for five o'clock in the IVR, then writes in the chat while an agent is free:
    the chat is answered now (queued and assigned like any chat); the callback stays booked and the agent sees
    it, and cancels it (another agent may not)."""
    node = voice_cb_node
    services = node.services
    clients = Clients(node.url)
    caller: Caller | None = None
    try:
        alice, bob = clients.agent("alice"), clients.agent("bob")
        await alice.hello(available=False)  # nobody free: the IVR offers a callback
        await bob.hello(available=False)
        customer = clients.customer()
        await customer.hello()
        caller = Caller(customer)
        await caller.dial()
        cid = caller.conversation_id

        async def offered() -> bool:
            return any(e["type"] == "ivr" and e["node"] == "offer" for e in await services.store.events(cid))

        await until(offered)
        await caller.press("2")  # five o'clock
        assert (await caller.status(CallStatus.ENDED, timeout=20))["reason"] == "callback"
        cb = await until(lambda: services.callbacks.of_conversation(cid))
        assert cb["state"] == "scheduled" and cb["due_ms"] > now_ms()
        await alice.send({"type": "status", "status": "available"})
        assert all(f["type"] != "assigned" for f in await alice.quiet(0.5))  # a callback for later waits its time

        ack = await customer.say("Actually, could someone answer me here in the chat?")
        assert ack["conversation_id"] == cid
        assigned = await alice.assigned()
        assert assigned["id"] == cid and assigned["last_text"] == "Actually, could someone answer me here in the chat?"
        assert (assigned["callback"]["id"], assigned["callback"]["state"]) == (cb["id"], "scheduled")
        await customer.event("assigned")  # the widget shows who answers
        assert (await services.callbacks.of_conversation(cid))["state"] == "scheduled"  # type: ignore[index]

        await bob.send({"type": "callback_cancel", "callback_id": cb["id"]})  # not bob's conversation
        assert (await bob.expect("error"))["code"] == "forbidden"
        await alice.send({"type": "callback_cancel", "callback_id": cb["id"]})
        closed = await alice.event("callback", lambda e: e["action"] == "closed")
        assert closed["outcome"] == "agent_cancelled"
        assert (await customer.event("callback", lambda e: e["action"] == "closed"))["outcome"] == "agent_cancelled"
        conv = await services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
        assert await callback_actions(node, cid) == ["requested", "closed"]
        await alice.send({"type": "callback_cancel", "callback_id": cb["id"]})
        assert (await alice.expect("error"))["code"] == "callback_closed"
    finally:
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")


async def test_a_message_after_the_bot_booked_a_callback_reaches_an_agent_and_the_kept_callback_rings_for_them(
    cb_clients: Clients, cb_node: Node
) -> None:
    """With a chat bot: the bot books a callback for five o'clock and finishes; the customer writes again and the
    chat reaches an agent. The agent keeps the callback: at five it rings the customer for that same agent."""
    services = cb_node.services
    clock = services.callbacks.clock = Clock()
    alice = cb_clients.agent("alice")
    await alice.hello(available=False)
    customer = cb_clients.customer()
    await customer.hello()
    cid = (await customer.say("hello"))["conversation_id"]
    await customer.event("choices")
    await customer.say("At five")
    requested = await customer.event("callback", lambda e: e["action"] == "requested")
    await customer.event("message", lambda e: e["text"] == "We will call you back.")

    async def bot_done() -> bool:
        return cid not in services.bots.bots

    await until(bot_done)
    await alice.send({"type": "status", "status": "available"})
    await services.callbacks.sweep()
    assert all(f["type"] != "assigned" for f in await alice.quiet(0.5))

    await customer.say("One more thing meanwhile: is my order shipped?")
    assigned = await alice.assigned()
    assert assigned["id"] == cid and assigned["callback"]["state"] == "scheduled"
    assert assigned["last_text"] == "One more thing meanwhile: is my order shipped?"
    conv = await services.store.conversation(cid)
    assert conv is not None and conv["queue"] == "support"  # the callback's queue

    clock.ms = requested["due_ms"] + 1  # five o'clock, the chat still with alice
    await services.callbacks.sweep()
    await services.callbacks.sweep(recover=True)
    attempt = await customer.event("callback", lambda e: e["action"] == "attempt")
    assert attempt["agent_name"] == "Alice Smith"
    assert await callback_actions(cb_node, cid) == ["requested", "queued", "attempt"]
    conv = await services.store.conversation(cid)
    assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
