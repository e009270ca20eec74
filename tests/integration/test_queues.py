"""Queues as objects and the widget's settings on a real node: the REST API (versions, refusals, audit), a queue's
maximum wait acting on a waiting chat and a waiting call, and its hours closing the widget."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from gateway.contact.routing import parse_skills
from gateway.contact.widget_settings import WidgetSettings
from gateway.flows.versions import BadFlow
from gateway.ops.rollup_rules import count, replay
from gateway.protocol.states import CallStatus
from ivr.hours import DAYS
from tests.conftest import PASSWORDS, Clients
from tests.support.admin_api import ADA, Admin, admin_token, agents_with_an_admin
from tests.support.caller import Caller
from tests.support.clients import Agent
from tests.support.servers import Node


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alice (an agent), Carol (a supervisor) and Ada (an admin)."""
    return agents_with_an_admin(tmp_path_factory.mktemp("agents") / "agents.toml", PASSWORDS)


@pytest.fixture
async def admin(node: Node) -> Admin:
    return Admin(node, await admin_token(node, "ada", ADA))


async def until(what: str, check: Callable[[], Awaitable[Any]], seconds: float = 15) -> Any:
    """Wait for ``check()`` to return something true (generously bounded: no timed assertion)."""
    async with asyncio.timeout(seconds):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_queues_made_from_the_flows_then_edited_with_versions_stale_writes_refused_and_audited(
    node: Node, admin: Admin
) -> None:
    listing = await admin.call("GET", "/api/admin/queues")
    names = [q["name"] for q in listing["queues"]]
    assert names == sorted(names) and {"default", "billing", "support"} <= set(names)  # the test flows' queues
    billing = await admin.queue("billing")
    assert (billing["version"], billing["skills"], billing["max_wait_seconds"]) == (1, {}, 0)

    changed = await admin.call("PUT", "/api/admin/queues/billing", {**billing, "skills": {"billing": 2}, "priority": 5})
    assert (changed["version"], changed["skills"], changed["priority"]) == (2, {"billing": 2}, 5)
    stale = await admin.call("PUT", "/api/admin/queues/billing", {**billing, "priority": 9}, status=409)
    assert (stale["code"], stale["field"]) == ("stale_version", "version")
    assert (await admin.queue("billing"))["priority"] == 5  # the stale write changed nothing

    bad = await admin.call("PUT", "/api/admin/queues/billing", {**changed, "priority": "high"}, status=400)
    assert (bad["code"], bad["field"]) == ("bad_field", "priority")
    bad = await admin.call(
        "PUT", "/api/admin/queues/billing", {**changed, "hours": {"timezone": "Mars/Base", "schedule": {}}}, status=400
    )
    assert bad["field"] == "hours.timezone"
    bad = await admin.call(
        "PUT",
        "/api/admin/queues/billing",
        {**changed, "max_wait_seconds": 60, "on_max_wait": {"action": "overflow", "target": "nowhere"}},
        status=400,
    )
    assert (bad["field"], bad["message"]) == ("on_max_wait.target", "overflow queue 'nowhere' does not exist")

    in_use = await admin.call("DELETE", "/api/admin/queues/billing", status=409)
    assert in_use["code"] == "queue_in_use" and "flow 'default'" in in_use["message"]
    await admin.put_queue("spare")
    await admin.call("DELETE", "/api/admin/queues/spare", status=204)
    await admin.call("DELETE", "/api/admin/queues/spare", status=404)

    carol = Admin(node, await admin_token(node, "carol", PASSWORDS["carol"]))
    await carol.call("GET", "/api/admin/queues")  # supervisors read
    await carol.call("PUT", "/api/admin/queues/billing", changed, status=403)  # and do not write

    entries = (await node.services.audit.entries(limit=20))["entries"][::-1]  # oldest first
    logged = [(e["actor"], e["action"], e["target"]) for e in entries if e["target"].startswith("queue:")]
    assert logged == [
        ("ada", "queue.update", "queue:billing"),
        ("ada", "queue.add", "queue:spare"),
        ("ada", "queue.remove", "queue:spare"),
    ]
    first = next(e for e in entries if e["action"] == "queue.update")
    assert (first["before"]["priority"], first["after"]["priority"]) == (0, 5)


async def test_a_queues_max_wait_overflows_a_waiting_chat_and_then_offers_it_a_callback(
    node: Node, clients: Clients, admin: Admin
) -> None:
    await admin.put_queue("later", max_wait_seconds=1, on_max_wait={"action": "callback", "target": ""})
    await admin.put_queue(
        "default", max_wait_seconds=1, on_max_wait={"action": "overflow", "target": "later"}, priority=0
    )
    customer = clients.customer()
    await customer.hello()
    cid = (await customer.say("Is anyone there?"))["conversation_id"]  # nobody is available: it waits in default
    store = node.services.store

    async def state(reason: str) -> dict[str, Any] | None:
        return next((e for e in await store.events(cid) if e.get("reason") == reason), None)

    moved = await until("the chat overflows", lambda: state("max_wait_overflow"))
    assert (moved["queue"], moved["from_queue"]) == ("later", "default")
    booked = await customer.event("callback", lambda e: e.get("action") == "requested", timeout=15)
    assert (booked["queue"], booked["asap"], booked["max_attempts"]) == ("later", True, 3)
    conv = await store.conversation(cid)
    assert conv is not None and conv["queue"] == "later"
    reasons = [e.get("reason", "") for e in await store.events(cid) if e["type"] == "state"]
    assert [r for r in reasons if r.startswith("max_wait")] == ["max_wait_overflow", "max_wait_callback"]  # once each
    await asyncio.sleep(3)  # three more maximums of "later" go by: the booked callback waits, booked once
    reasons = [e.get("reason", "") for e in await store.events(cid) if e["type"] == "state"]
    assert [r for r in reasons if r.startswith("max_wait")] == ["max_wait_overflow", "max_wait_callback"]
    closed = [e for e in await store.events(cid) if e["type"] == "callback" and e.get("action") == "closed"]
    assert closed == []  # (it was "replaced" by a new booking at every maximum)


async def test_an_overflowed_chat_asks_for_the_target_queue_s_skills_not_the_first_queue_s(
    node: Node, admin: Admin
) -> None:
    await admin.put_queue("general")
    await admin.put_queue("default", max_wait_seconds=1, on_max_wait={"action": "overflow", "target": "general"})
    conversations = node.services.conversations
    cid, _ = await conversations.open_for_flow("u_overflowskills", {})
    assert await conversations.enqueue(cid, "default", skills=parse_skills("billing:1"))

    async def overflowed() -> dict[str, Any] | None:
        conv = await node.services.store.conversation(cid)
        return conv if conv and conv["queue"] == "general" else None

    conv = await until("the chat overflows", overflowed)
    assert conv["skills"] == ""  # an agent without billing can take it in general


async def test_queued_again_in_the_same_queue_it_asks_what_the_flow_says_now_and_keeps_its_place(node: Node) -> None:
    # a chat the bot queued for billing, then a call the IVR sends to billing for a Spanish speaker, first: the IVR's
    # skills and priority (they were ignored: the flow's choice of the same queue was a no-op)
    store, conversations = node.services.store, node.services.conversations
    cid, _ = await conversations.open_for_flow("u_samequeue", {})
    assert await conversations.enqueue(cid, "default")
    before = await store.conversation(cid)
    assert before is not None and (before["skills"], before["priority"]) == ("", "0")
    place = await store.redis.zscore(store.keys.queue(conversations.queue), cid)
    events = len(await store.events(cid))

    assert await conversations.enqueue(cid, "default", skills=parse_skills("spanish:2"), priority=5)
    after = await store.conversation(cid)
    assert after is not None and (after["state"], after["queue"]) == ("queued", "default")
    assert (after["skills"], after["priority"]) == ("spanish:2", "5")
    assert after.get("queue_since") == before.get("queue_since")  # its queue's maximum wait runs on
    assert await store.redis.zscore(store.keys.queue(conversations.queue), cid) == place
    details = await node.services.router.waiting_details()
    assert [(w.id, w.priority) for w in details if w.id == cid] == [(cid, 5)]
    assert len(await store.events(cid)) == events + 1  # said on the timeline once

    assert await conversations.enqueue(cid, "default", skills=parse_skills("spanish:2"), priority=5)  # the same
    assert len(await store.events(cid)) == events + 1
    assert await conversations.enqueue(cid, "default")  # a fallback that only makes sure it waits: keeps them
    after = await store.conversation(cid)
    assert after is not None and (after["skills"], after["priority"]) == ("spanish:2", "5")
    # offered to the queue once in the reports (the update counted as a second offer)
    replayed = replay(cid, await store.events(cid), default_queue="default")
    offered = [i for e in replayed for i in count(e, sl_threshold_ms=20_000).increments if i.counter == "offered"]
    assert [(i.dim, i.key, i.amount) for i in offered] == [("queue", "default", 1)]


async def test_queues_may_not_overflow_round_and_the_default_and_the_widget_s_hours_queue_stay(
    node: Node, admin: Admin
) -> None:
    await admin.put_queue("support")
    await admin.put_queue("sales", max_wait_seconds=60, on_max_wait={"action": "overflow", "target": "support"})
    support = await admin.queue("support")
    body = {**support, "max_wait_seconds": 60, "on_max_wait": {"action": "overflow", "target": "sales"}}
    bad = await admin.call("PUT", "/api/admin/queues/support", body, status=400)
    assert (bad["field"], bad["message"]) == (
        "on_max_wait.target",
        "overflow would go round: support -> sales -> support",
    )
    assert (await admin.call("DELETE", "/api/admin/queues/default", status=409))["code"] == "queue_in_use"
    twin = await admin.call("PUT", "/api/admin/queues/Support", {"name": "Support", "version": 0}, status=400)
    assert (twin["field"], twin["message"]) == (
        "name",
        "there is a queue 'support' already (names differ only in capitals)",
    )
    await node.services.widget.put(WidgetSettings(hours_queue="support"))
    await admin.put_queue("sales", on_max_wait={"action": "none", "target": ""})
    in_use = await admin.call("DELETE", "/api/admin/queues/support", status=409)
    assert (in_use["code"], "opening hours" in in_use["message"]) == ("queue_in_use", True)


async def test_a_queues_max_wait_overflows_a_waiting_call_which_keeps_waiting(
    node: Node, clients: Clients, admin: Admin
) -> None:
    await admin.put_queue("overflow")
    await admin.put_queue("billing", max_wait_seconds=1, on_max_wait={"action": "overflow", "target": "overflow"})
    customer = clients.customer()
    await customer.hello()
    caller = Caller(customer)
    try:
        await caller.dial()
        await caller.status(CallStatus.IVR)
        await caller.menu_asked()
        await caller.press("1")  # billing (tests/flows/default.yaml)
        await caller.status(CallStatus.WAITING)
        store = node.services.store

        async def in_overflow() -> str | None:
            cid = await store.customer_current(customer.customer_id)
            conv = await store.conversation(cid) if cid else None
            return cid if conv and conv["queue"] == "overflow" and conv["state"] == "queued" else None

        cid = await until("the call's conversation moves to the overflow queue", in_overflow)
        call = next(iter(node.services.calls.calls.values()))
        assert (call.conversation_id, call.status) == (cid, CallStatus.WAITING)  # still on hold, in the new queue
        alice = clients.agent("alice")
        await alice.hello()
        ring = await alice.expect("call_status", lambda f: f["status"] == "ringing" and f.get("agent_id") == "alice")
        assert ring["conversation_id"] == cid  # routed from the queue it overflowed into
    finally:
        await caller.close()


async def test_a_queues_hours_close_the_widget_and_its_settings_reach_the_widget(
    node: Node, clients: Clients, admin: Admin
) -> None:
    tz = "Pacific/Auckland"
    today = datetime.now(UTC).astimezone(ZoneInfo(tz)).weekday()
    other = DAYS[(today + 3) % 7]  # open on another day only: closed now
    await admin.put_queue("billing", hours={"timezone": tz, "schedule": {other: "09:00-17:00"}, "holidays": []})
    settings = {
        "title": "Acme help",
        "colour": "#AA3300",
        "accent": "#112233",
        "greeting": "Hello! Ask us anything.",
        "launcher_text": "Chat",
        "language": "fr",
        "hours_queue": "billing",
    }
    stored = await admin.call("PUT", "/api/admin/widget", settings)
    assert stored == {**settings, "colour": "#aa3300"}
    bad = await admin.call("PUT", "/api/admin/widget", {**settings, "colour": "red;x"}, status=400)
    assert bad["field"] == "colour"
    bad = await admin.call("PUT", "/api/admin/widget", {**settings, "hours_queue": "nope"}, status=400)
    assert bad["field"] == "hours_queue"

    customer = clients.customer()
    welcome = await customer.hello()
    assert (welcome["hours_open"], welcome["widget"]["title"], welcome["widget"]["colour"]) == (
        False,
        "Acme help",
        "#aa3300",
    )
    async with aiohttp.ClientSession() as http, http.get(node.url + "/api/widget/settings") as r:
        public = await r.json()
    assert public == {**stored, "hours_open": False}

    await admin.put_queue("billing", hours=None)  # always open now
    again = clients.customer()
    assert (await again.hello())["hours_open"] is True


async def test_a_flow_naming_a_missing_queue_is_refused_until_the_queue_exists(node: Node, admin: Admin) -> None:
    """The flows' publish check (gateway/flows/versions.py) asks the queues in Redis."""
    text = "start: q\nnodes:\n  q:\n    type: queue\n    queue: bilings\n    prompt: One moment.\n"
    versions = node.services.flow_versions
    with pytest.raises(BadFlow) as refused:
        await versions.save_and_publish("billing_line", text, author="ada", message="new line")
    assert [(e.line, e.message) for e in refused.value.errors] == [
        (4, "queue 'bilings' does not exist (did you mean 'billing'?)")
    ]
    assert "billing_line" not in node.services.flows
    await admin.put_queue("bilings")
    await versions.save_and_publish("billing_line", text, author="ada", message="new line")
    assert "billing_line" in node.services.flows
    refused_delete = await admin.call("DELETE", "/api/admin/queues/bilings", status=409)
    assert refused_delete["code"] == "queue_in_use" and "flow 'billing_line'" in refused_delete["message"]


async def test_the_supervisor_cannot_write_the_widget_and_the_public_settings_need_no_token(
    node: Node, clients: Clients
) -> None:
    carol = Agent(node.url, "carol", PASSWORDS["carol"])
    clients.made.append(carol)
    token = await carol.login()
    async with aiohttp.ClientSession() as http:
        async with http.put(
            node.url + "/api/admin/widget", json={"title": "x"}, headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 403
        async with http.get(node.url + "/api/widget/settings") as r:
            body = await r.json()
    assert (body["title"], body["hours_open"], r.headers["Access-Control-Allow-Origin"]) == ("Contact us", None, "*")
