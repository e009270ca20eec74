"""A customer who leaves, on a real node and Redis: the widget's "End chat" (gateway/contact/chat_end.py) closes the
conversation whatever its state; a waiting chat whose customer has had no widget open for ``--customer-gone-seconds``
is closed as abandoned (gateway/contact/gone_customers.py), from what the node writes of their presence
(gateway/contact/customer_presence.py). Reports count both as abandoned, with the wait; an agent who logs in later
gets nothing. A reports auditor found such chats waiting on, given to the next agent and counted as handled."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import replace

import pytest

from gateway.config import Settings
from gateway.contact.customer_presence import CustomerPresence
from gateway.contact.gone_customers import CONFIRM_SECONDS, GoneCustomers
from gateway.store.customer_presence_store import CustomerPresenceStore
from gateway.store.queue_store import QueueStore
from tests.conftest import Clients
from tests.integration.test_customer_erasure import until
from tests.integration.test_reports import today, total, totals_when
from tests.support.caller import in_ivr
from tests.support.clients import Customer
from tests.support.servers import Node

GONE = 180.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, customer_gone_seconds=GONE)


def now_ms() -> int:
    return int(time.time() * 1000)


async def seen(node: Node, customer_id: str) -> int | None:
    (last,) = await CustomerPresenceStore(node.services.store).last_seen([customer_id])
    return last


async def waiting(node: Node) -> list[str]:
    return await node.services.router.waiting(100)


class Clock:
    """A sweep's clock (Redis's, in the product) set by the test."""

    def __init__(self, ms: int = 0):
        self.ms = ms

    async def __call__(self) -> int:
        return self.ms


async def seen_at(node: Node, customer_id: str, ms: int) -> None:
    """The customer's presence time as a node's write would leave it (a time only moves forward)."""
    store = node.services.store
    await store.redis.zadd(store.keys.customers_seen, {customer_id: ms}, gt=True)


async def test_a_customer_ends_a_waiting_chat_it_leaves_the_queue_and_counts_abandoned(
    clients: Clients, node: Node
) -> None:
    s = node.services
    cust = clients.customer()  # nobody online: the chat waits
    await cust.hello()
    cid = (await cust.say("is anyone there?"))["conversation_id"]
    assert await waiting(node) == [cid]
    # it waits in a named queue (as a flow or an overflow puts it): the routing queue must forget it all the same
    moved = await QueueStore(s.store).move(
        cid, s.router.queue, from_queue="default", to_queue="billing", skills="", priority=0, now=now_ms(), reason="t"
    )
    assert moved == "ok"
    await cust.send({"type": "end_chat", "conversation_id": cid})
    closed = await cust.event("closed")
    assert closed["disposition"] == "customer_ended" and closed["queued_wait_ms"] >= 0, closed
    assert await waiting(node) == []
    assert (await s.store.conversation(cid) or {})["state"] == "closed"
    await cust.send({"type": "end_chat", "conversation_id": cid})  # again (another tab): nothing, no error
    assert not [f for f in await cust.quiet(0.3) if f["type"] == "error"]

    alice = clients.agent("alice")
    await alice.hello()
    assert not [f for f in await alice.quiet(0.5) if f["type"] == "assigned"]  # nothing to give her
    again = (await cust.say("one more thing"))["conversation_id"]
    assert again != cid and (await alice.assigned())["id"] == again  # a new conversation, as after any close

    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(node, carol, lambda r: total(r, "billing").get("abandoned"), **{"from": day, "to": day})
    assert total(report, "billing")["abandoned"] == 1 and total(report, "billing")["handled"] == 0


async def test_a_customer_ends_a_chat_with_an_agent_whose_desk_lets_it_go(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("my parcel is late"))["conversation_id"]
    assert (await alice.assigned())["id"] == cid
    await alice.say(cid, "Let me look.")
    await cust.send({"type": "end_chat", "conversation_id": cid})
    told = await cust.event("closed")
    assert told["disposition"] == "customer_ended"
    # what reports read, and whom it names, stays with the gateway (a reviewer saw "first_response_agent": "alice")
    assert not {"agent_id", "first_response_agent", "first_response_ms", "handle_ms", "resolution_ms"} & set(told)
    unassigned = await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    assert unassigned["reason"] == "customer_ended"
    closed = await alice.event("closed", lambda e: e.get("disposition") == "customer_ended")
    assert closed["by_gateway"] is True  # the desk does not say "by Alice"
    assert cid not in await node.services.store.agent_conversations("alice")
    # she may take another chat at once (her capacity freed)
    other = clients.customer()
    await other.hello()
    other_cid = (await other.say("hello"))["conversation_id"]
    assert (await alice.assigned())["id"] == other_cid


async def test_ending_a_chat_that_is_not_yours_or_during_a_call_is_refused(clients: Clients, node: Node) -> None:
    jane, mallory = clients.customer(), clients.customer()
    await jane.hello()
    await mallory.hello()
    cid = (await jane.say("private"))["conversation_id"]
    await mallory.send({"type": "end_chat", "conversation_id": cid})
    error = await mallory.expect("error")
    assert (error["code"], error["field"]) == ("forbidden", "conversation_id"), error
    await mallory.send({"type": "end_chat", "conversation_id": "c-nope"})
    assert (await mallory.expect("error"))["code"] == "not_found"
    await mallory.send({"type": "end_chat"})
    error = await mallory.expect("error")
    assert error["field"] == "conversation_id", error
    await mallory.send({"type": "end_chat", "conversation_id": ["c"]})
    assert (await mallory.expect("error"))["field"] == "conversation_id"
    assert (await node.services.store.conversation(cid) or {})["state"] == "queued"  # untouched

    caller = clients.customer()
    async with in_ivr(caller) as call:
        await caller.send({"type": "end_chat", "conversation_id": call.conversation_id})
        error = await caller.expect("error")
        assert error["code"] == "call_in_progress" and "hang up" in error["message"], error
        assert (await node.services.store.conversation(call.conversation_id) or {})["state"] != "closed"
        await call.hangup()
        await call.status("ended")
        await until("the call's end recorded", lambda: _call_ended(node, call.conversation_id))
        await caller.send({"type": "end_chat", "conversation_id": call.conversation_id})
        assert (await caller.event("closed"))["disposition"] == "customer_ended"


async def _call_ended(node: Node, cid: str) -> bool:
    conv = await node.services.store.conversation(cid) or {}
    return conv.get("calls") == conv.get("calls_ended")


async def test_the_node_records_when_a_customer_with_a_conversation_had_a_widget_open(
    clients: Clients, node: Node
) -> None:
    browsing = clients.customer()
    await browsing.hello()  # a page view that never wrote: not recorded
    assert await seen(node, browsing.customer_id) is None
    cust = clients.customer()
    await cust.hello()
    before = now_ms()
    await cust.say("hello?")
    await until("the open widget recorded", lambda: _at_least(seen(node, cust.customer_id), before))
    second = clients.customer(cust.token)  # a second tab of theirs
    await second.hello()
    presence = node.services.customer_presence
    await cust.drop()
    await second.quiet(0.2)
    assert presence.here(cust.customer_id)  # one tab still open: not a leave
    left = now_ms()
    await second.drop()
    await until("the last tab closed", lambda: _gone_here(presence, cust.customer_id))
    await until("the leave recorded", lambda: _at_least(seen(node, cust.customer_id), left))
    back = clients.customer(cust.token)
    await back.hello()  # back with a conversation: seen at once
    at = now_ms()
    await until("the return recorded", lambda: _at_least(seen(node, cust.customer_id), at))


async def _gone_here(presence: CustomerPresence, customer_id: str) -> bool:
    return not presence.here(customer_id)


async def _at_least(value: Awaitable[int | None], ms: int) -> bool:
    got = await value
    return got is not None and got >= ms


async def test_a_waiting_chat_whose_customer_left_is_closed_as_abandoned_and_the_others_wait(
    clients: Clients, node: Node
) -> None:
    """The sweep on the node's own conversations, its clock three minutes ahead of the presence the widgets left
    (this node's watch is not waited for: confirm 0)."""
    s = node.services
    clock = Clock()
    sweep = GoneCustomers(
        s.store, s.conversations.abandon, s.router.queue, gone_seconds=GONE, confirm_seconds=0, clock=clock
    )
    db = CustomerPresenceStore(s.store)
    gone, blip, here, booked = (clients.customer() for _ in range(4))
    cids = {}
    for name, c in (("gone", gone), ("blip", blip), ("here", here), ("booked", booked)):
        await c.hello()
        cids[name] = (await c.say(f"{name} waits"))["conversation_id"]
    await s.callbacks.request(cids["booked"], queue="default", due=None, label="Call me back")
    for c in (gone, blip, booked):
        await c.drop()
    await until("the leaves recorded", lambda: _all_seen(db, [gone, blip, booked]))
    clock.ms = now_ms() + int(GONE * 1000) + 1_000  # they left over three minutes before
    await seen_at(node, blip.customer_id, clock.ms - 60_000)  # back a minute ago, gone again (a phone in a pocket)
    await seen_at(node, here.customer_id, clock.ms - 5_000)  # her widget's heartbeat
    assert await sweep.sweep() == [cids["gone"]]
    conv = await s.store.conversation(cids["gone"]) or {}
    assert (conv["state"], conv["disposition"]) == ("closed", "abandoned")
    # its wait counts to when they left (seconds), not to when the sweep noticed (three minutes on): an exploratory
    # test saw "Avg wait to abandon" 40 s for true waits of about 6 s
    closed = next(e for e in await s.store.events(cids["gone"]) if e["type"] == "closed")
    assert 0 <= closed["queued_wait_ms"] < 10_000 and "left_at" not in closed, closed
    assert set(await waiting(node)) == {cids["blip"], cids["here"], cids["booked"]}
    assert await sweep.sweep() == []  # once

    again = clients.customer(gone.token)  # they come back: a closed chat, a new one starts when they write
    welcome = await again.hello()
    assert welcome["conversation"]["state"] == "closed"
    assert (await again.say("sorry, I left"))["conversation_id"] != cids["gone"]

    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(node, carol, lambda r: total(r, "default").get("abandoned"), **{"from": day, "to": day})
    assert total(report, "default")["abandoned"] == 1


async def _all_seen(db: CustomerPresenceStore, customers: list[Customer], since: int = 0) -> bool:
    return all(t is not None and t >= since for t in await db.last_seen([c.customer_id for c in customers]))


async def test_off_when_zero(clients: Clients, node: Node) -> None:
    """``--customer-gone-seconds 0``: a waiting chat waits whether its customer is there or not."""
    s = node.services
    sweep = GoneCustomers(s.store, s.conversations.abandon, s.router.queue, gone_seconds=0)
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("still there"))["conversation_id"]
    await cust.drop()
    await s.store.redis.zadd(s.keys.customers_seen, {cust.customer_id: now_ms() - 86_000_000})
    assert await sweep.sweep() == []
    assert await waiting(node) == [cid]


async def test_presence_left_stale_by_an_outage_closes_nothing_until_this_node_has_watched(
    clients: Clients, node: Node
) -> None:
    """Redis was down for ten minutes: every customer's time is ten minutes old when it is back. The nodes'
    heartbeats refresh those with a widget open within seconds; the sweep must not act before they could."""
    s = node.services
    clock = Clock()
    sweep = GoneCustomers(s.store, s.conversations.abandon, s.router.queue, gone_seconds=GONE, clock=clock)
    db = CustomerPresenceStore(s.store)
    still, left = clients.customer(), clients.customer()
    cids = []
    for c in (still, left):
        await c.hello()
        cids.append((await c.say("waiting"))["conversation_id"])
    await left.drop()
    await until("both recorded", lambda: _all_seen(db, [still, left]))
    t0 = clock.ms = now_ms() + 600_000  # ten minutes on, nothing refreshed meanwhile
    assert await sweep.sweep() == []  # this node has not watched them yet
    await seen_at(node, still.customer_id, t0 + 10_000)  # her widget's node refreshes it
    clock.ms = t0 + int(CONFIRM_SECONDS * 1000) - 1
    assert await sweep.sweep() == []
    clock.ms = t0 + int(CONFIRM_SECONDS * 1000)
    assert await sweep.sweep() == [cids[1]]
    assert await waiting(node) == [cids[0]]


async def test_a_tab_that_follows_a_conversation_another_tab_opened_counts_and_a_returning_visitor_does_not(
    clients: Clients, node: Node
) -> None:
    """A reviewer: a tab open before the customer's first message (written in another tab, which then closed) was
    never counted, and the sweep closed the chat of a customer whose page was open."""
    presence = node.services.customer_presence
    first = clients.customer()
    await first.hello()  # no conversation yet: not counted
    assert not presence.here(first.customer_id)
    second = clients.customer(first.token)  # the same customer in another tab
    await second.hello()
    cid = (await second.say("written in the second tab"))["conversation_id"]
    await second.drop()
    await first.expect("event", lambda f: f["conversation_id"] == cid)  # the first tab follows it
    await until("the first tab counted", lambda: _here(presence, first.customer_id))
    await until("recorded", lambda: _at_least(seen(node, first.customer_id), 0))

    # a returning visitor whose last conversation is closed: no presence kept for them until they write again
    await first.send({"type": "end_chat", "conversation_id": cid})
    await first.event("closed")
    await first.drop()
    await until("the tab gone", lambda: _gone_here(presence, first.customer_id))
    back = clients.customer(first.token)
    await back.hello()
    assert back.welcome["conversation"]["state"] == "closed"
    await back.quiet(0.3)
    assert not presence.here(first.customer_id)
    await back.say("a new question")
    await until("counted with a new conversation", lambda: _here(presence, first.customer_id))


async def _here(presence: CustomerPresence, customer_id: str) -> bool:
    return presence.here(customer_id)


async def test_a_customer_with_no_presence_on_record_is_never_taken_for_gone(clients: Clients, node: Node) -> None:
    """Nothing on record (a node of a version before this held their socket, during a rolling upgrade): their absence
    is unknown, and the chat waits. A reviewer saw the sweep write a time itself and close it minutes later."""
    s = node.services
    clock = Clock()
    sweep = GoneCustomers(
        s.store, s.conversations.abandon, s.router.queue, gone_seconds=GONE, confirm_seconds=0, clock=clock
    )
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("on an old node"))["conversation_id"]
    await cust.drop()
    await until("the leave written", lambda: _at_least(seen(node, cust.customer_id), 0))
    await s.store.redis.zrem(s.keys.customers_seen, cust.customer_id)  # as if no node had written it
    for minutes in (0, 5, 60):
        clock.ms = now_ms() + minutes * 60_000
        assert await sweep.sweep() == []
    assert await seen(node, cust.customer_id) is None and await waiting(node) == [cid]


async def test_one_node_sweeps_a_round_and_another_takes_over_when_it_stops(clients: Clients, node: Node) -> None:
    s = node.services
    clock = Clock()
    nodes = [
        GoneCustomers(s.store, s.conversations.abandon, s.router.queue, gone_seconds=60, confirm_seconds=0, clock=clock)
        for _ in range(2)
    ]
    await s.store.redis.delete(s.keys.customers_sweep)  # (the node's own sweeper may hold it)
    a, b = nodes
    gone = clients.customer()
    await gone.hello()
    cid = (await gone.say("anyone?"))["conversation_id"]
    await gone.drop()
    await until("the leave written", lambda: _at_least(seen(node, gone.customer_id), 0))
    clock.ms = now_ms() + 61_000
    assert await a.round() == [cid]  # a took the lock, and swept
    other = clients.customer()
    await other.hello()
    cid2 = (await other.say("me too"))["conversation_id"]
    await other.drop()
    await until("the leave written", lambda: _at_least(seen(node, other.customer_id), 0))
    clock.ms = now_ms() + 61_000
    assert await b.round() == []  # a holds the lock: b does not sweep
    assert await waiting(node) == [cid2]
    await s.store.redis.delete(s.keys.customers_sweep)  # a stopped: its lock expired
    assert await b.round() == [cid2]
