"""Test runs of flow versions from the console, on a real node: an admin's test chat and a test call (a real aiortc
caller) into a draft follow the draft while customers meet the live version; a test run reaches no agent, no report
and no event webhook; a customer (or an agent who is no admin) cannot open one, and the socket stays open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.protocol.states import CallStatus
from tests.conftest import PASSWORDS, TEST_FLOWS, Clients, bounded
from tests.integration.test_event_webhooks import Receiver
from tests.support.caller import Caller
from tests.support.clients import Customer, Frame
from tests.support.servers import Node, start_node

ADMIN, ADMIN_PASSWORD = "dora", "dora-admin-secret-1"
ORIGINAL = (TEST_FLOWS / "default.yaml").read_text()
DRAFT_GREETING = ORIGINAL.replace("Welcome to the test line.", "Welcome to the DRAFT line.")
SUPPORT_MOVED = ORIGINAL.replace("reason: support_closed", "reason: support_moved")
EVENTS = ["conversation.opened", "message.created", "conversation.closed"]


@pytest.fixture
def admin_settings(settings: Settings, tmp_path: Path) -> Settings:
    agents = tmp_path / "agents.toml"
    add_agent(agents, ADMIN, "Dora Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    # the live chat flow is the default one; loopback webhooks allowed (the receiver), retried fast
    return replace(
        settings, agents_file=agents, chat_flow="default", webhook_allow=("127.0.0.1",), webhook_max_backoff_seconds=0.3
    )


@pytest.fixture
async def admin_node(admin_settings: Settings) -> AsyncIterator[Node]:
    node = await start_node(admin_settings)
    yield node
    await bounded(node.stop(), "stopping the node")


@pytest.fixture
async def on_node(admin_node: Node) -> AsyncIterator[Clients]:
    """Customers and agents of the admin node (the ``clients`` fixture would start a node of its own)."""
    made = Clients(admin_node.url)
    yield made
    await bounded(made.close(), "closing the test clients")


async def login(node: Node, agent_id: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(node.url + "/api/agent/login", json={"agent_id": agent_id, "password": password}) as r,
    ):
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def api(node: Node, method: str, path: str, token: str, body: Any = None, status: int = 200) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        answer = await r.json()
        assert r.status == status, (method, path, r.status, answer)
        return answer


async def draft(node: Node, token: str, text: str) -> tuple[str, str]:
    """Save ``text`` as a draft of the default flow: (the live version, the draft's id)."""
    flows = await api(node, "GET", "/api/admin/flows", token)
    live = {f["name"]: f["live_version"] for f in flows["flows"]}["default"]
    saved = await api(node, "POST", "/api/admin/flows/default/versions", token, {"yaml": text, "parent": live}, 201)
    return str(live), str(saved["id"])


async def open_test_run(customer: Customer, frame: Frame) -> Frame:
    """Open the socket and send a test run's hello; the welcome or the error it gets."""
    await customer.connect()
    await customer.send({"type": "hello", "token": None, **frame})
    return await customer.expect(("welcome", "error"), timeout=10)


def run_of(version: str, **more: str) -> dict[str, str]:
    return {"name": "default", "version": version, **more}


async def until(what: str, check: Callable[[], Awaitable[Any]], seconds: float = 30) -> Any:
    try:
        async with asyncio.timeout(seconds):
            while not (value := await check()):
                await asyncio.sleep(0.05)
            return value
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds} s")


async def live_chat(clients: Clients, answer: str) -> str:
    """A customer meets the live bot (its greeting checked), answers its menu and is told goodbye; the cid."""
    customer = clients.customer()
    await customer.hello()
    ack = await customer.say("hi")
    greeting = await customer.event("message", lambda e: e["author"] == "bot", timeout=10)
    assert greeting["text"] == "Welcome to the test line."
    await customer.event("message", lambda e: e["author"] == "bot" and "press 1" in e["text"], timeout=10)
    await customer.say(answer)
    await customer.event("closed", timeout=10)
    return str(ack["conversation_id"])


async def test_a_test_chat_into_a_draft_follows_it_and_reaches_no_agent_report_or_webhook(
    admin_node: Node, on_node: Clients
) -> None:
    node, clients = admin_node, on_node
    token = await login(node, ADMIN, ADMIN_PASSWORD)
    receiver = Receiver()
    await receiver.start()
    try:
        sub = await api(
            node,
            "POST",
            "/api/webhooks",
            token,
            {"url": receiver.url, "events": EVENTS, "secret": "whsec_" + "x" * 24},
            status=201,
        )
        sub_id = sub["webhook"]["id"]
        alice = clients.agent("alice")
        await alice.hello()  # available: a queued conversation would ring her desk
        live, version = await draft(node, token, DRAFT_GREETING)

        console = clients.customer()
        welcome = await open_test_run(
            console, {"context": {"page": "flows"}, "admin_token": token, "test_flow": run_of(version)}
        )
        assert welcome["type"] == "welcome", welcome
        test_cid = welcome["conversation"]["id"]
        assert test_cid.startswith("t_") and welcome["token"] == ""
        # the bot greets at once, from the draft; the run's steps reach the console
        greeting = await console.event("message", lambda e: e["author"] == "bot", timeout=10)
        assert greeting["text"] == "Welcome to the DRAFT line."
        await console.event("ivr", lambda e: (e["kind"], e["node"]) == ("enter", "menu"), timeout=10)
        await console.say("billing")
        await console.event("ivr", lambda e: (e["kind"], e["node"]) == ("enter", "billing"), timeout=10)
        would = await console.event("message", lambda e: e["author"] == "system", timeout=10)
        assert "would wait in queue 'billing'" in would["text"]
        await console.event("closed", timeout=10)
        await console.send({"type": "message", "client_id": "late-1", "text": "again"})
        late = await console.expect("error", timeout=10)
        assert (late["code"], late["field"], late.get("client_id")) == ("conflict", "conversation_id", "late-1")
        context = await node.services.conversations.context(test_cid)
        assert (context["test_flow"], context["test_admin"], context["context.page"]) == (
            f"default@{version}",
            ADMIN,
            "flows",
        )
        conv = await node.services.store.conversation(test_cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("closed", "")

        # meanwhile customers meet the live version; theirs is counted and posted, the test run is not
        assert live != version
        real_cid = await live_chat(clients, "support")
        today = datetime.now(UTC).date().isoformat()

        async def counted() -> Any:
            paths = await api(node, "GET", f"/api/reports/flows/default?from={today}&to={today}", token)
            return paths if any(t["count"] for t in paths["transitions"] if t["to"] == "support") else None

        paths = await until("the live chat counted in the path analytics", counted)
        starts = [t for t in paths["transitions"] if t["from"] == ""]
        assert [(t["to"], t["count"]) for t in starts] == [("hello", 1)]  # the test run's start is not counted
        assert not [t for t in paths["transitions"] if t["to"] == "billing"]
        closes = await api(node, "GET", f"/api/reports?from={today}&to={today}&by=disposition", token)
        assert [t["key"] for t in closes["totals"]] == ["bot:support_closed"]

        await until(
            "the live chat's close posted",
            lambda: _async(any(b["type"] == "conversation.closed" for b in receiver.accepted(real_cid))),
        )
        await asyncio.sleep(0.5)  # anything of the test run would have been posted by now
        assert receiver.accepted(test_cid) == []
        assert not [b for b in receiver.accepted() if b["conversation_id"].startswith("t_")]
        assert not await node.services.store.redis.exists(node.services.keys.webhook_outbox(sub_id, test_cid))
        await alice.quiet(0.2)
        assert not [f for f in alice.seen if test_cid in json.dumps(f)]  # never offered to an agent
        # the desk's history lists the customer's conversation, not the test run (neither by its words)
        listed = await api(node, "GET", "/api/conversations", token)
        assert real_cid in [c["id"] for c in listed["conversations"]]
        assert not [c for c in listed["conversations"] if c["id"].startswith("t_")]
        found = await api(node, "GET", "/api/conversations?q=billing", token)
        assert not [c for c in found["conversations"] if c["id"].startswith("t_")]
    finally:
        await receiver.stop()


async def _async(value: Any) -> Any:
    return value


async def test_a_test_call_into_a_draft_follows_it_and_never_rings_an_agent(admin_node: Node, on_node: Clients) -> None:
    node, clients = admin_node, on_node
    token = await login(node, ADMIN, ADMIN_PASSWORD)
    alice = clients.agent("alice")
    await alice.hello()  # available: a call handed to routing would ring her
    live, version = await draft(node, token, SUPPORT_MOVED)
    assert node.services.flows.get("default").version == live != version
    callers: list[Caller] = []
    try:
        # the console's shape: the hello names the version (its chat bot greets), then the call names it too
        console = clients.customer()
        welcome = await open_test_run(console, {"admin_token": token, "test_flow": run_of(version)})
        test_cid = welcome["conversation"]["id"]
        await console.event("message", lambda e: e["author"] == "bot", timeout=10)
        caller = Caller(console)
        callers.append(caller)
        answer = await caller.dial(test_flow=run_of(version))
        assert answer["conversation_id"] == test_cid
        await caller.status(CallStatus.IVR)
        await caller.heard_prompt()
        await console.event("ivr", lambda e: (e["channel"], e["kind"], e["node"]) == ("voice", "enter", "menu"))
        await caller.press("2")
        ended = await caller.status(CallStatus.ENDED)
        assert ended["reason"] == "support_moved"  # the draft's; the live version says support_closed
        await console.event("ivr", lambda e: (e["channel"], e["node"]) == ("voice", "support"))
        assert test_cid not in node.services.bots.bots  # the chat bot stopped when the call took over
        steps = [e for e in await node.services.store.events(test_cid) if e["type"] == "ivr"]
        started = next(e["ts"] for e in await node.services.store.events(test_cid) if e["type"] == "call_started")
        assert not [e for e in steps if e["channel"] == "chat" and e["ts"] > started]

        # a test call only (channel voice: no bot greets), into the billing queue: it reaches no agent
        voice = clients.customer()
        welcome = await open_test_run(voice, {"admin_token": token, "test_flow": run_of(version, channel="voice")})
        assert welcome["type"] == "welcome", welcome
        caller = Caller(voice)
        callers.append(caller)
        await caller.dial()  # on a test run's socket every call is a test call
        await caller.status(CallStatus.IVR)
        await caller.heard_prompt()
        await caller.press("1")
        await voice.event("ivr", lambda e: (e["kind"], e["node"]) == ("enter", "billing"), timeout=10)
        said = await voice.event("message", lambda e: e["author"] == "system", timeout=10)
        assert "a caller would wait in queue 'billing'" in said["text"]
        ended = await caller.status(CallStatus.ENDED, timeout=30)
        assert ended["reason"] == "test_queued"
        assert not [f for f in voice.seen if f.get("type") == "event" and f["event"].get("author") == "bot"]
        await alice.quiet(0.3)
        rang = [f for f in alice.seen if f.get("type") in ("call_status", "assigned") or f.get("waiting")]
        assert not rang, rang
        assert await node.services.router.waiting(10) == []
    finally:
        for caller in callers:
            await caller.close()


async def test_a_customer_or_an_agent_who_is_no_admin_cannot_open_a_test_run_and_the_socket_stays_open(
    admin_node: Node, on_node: Clients
) -> None:
    node, clients = admin_node, on_node
    token = await login(node, ADMIN, ADMIN_PASSWORD)
    _, version = await draft(node, token, DRAFT_GREETING)
    other = clients.customer()
    await other.hello()
    carol = await login(node, "carol", PASSWORDS["carol"])  # a supervisor, no admin
    customer = clients.customer()
    await customer.connect()
    refusals = [
        ({"test_flow": run_of(version)}, "unauthorized", "admin_token"),
        ({"test_flow": run_of(version), "token": other.token}, "unauthorized", "admin_token"),
        ({"test_flow": run_of(version), "admin_token": other.token}, "unauthorized", "admin_token"),
        ({"test_flow": run_of(version), "admin_token": carol}, "forbidden", "test_flow"),
        ({"test_flow": run_of("0123456789ab"), "admin_token": token}, "not_found", "test_flow"),
        ({"test_flow": {"name": "default", "version": "live"}, "admin_token": token}, "bad_field", "test_flow"),
        ({"admin_token": token}, "bad_field", "admin_token"),
    ]
    for frame, code, field in refusals:
        await customer.send({"type": "hello", "token": None, **frame})
        got = await customer.expect(("welcome", "error"), timeout=10)
        assert (got["type"], got.get("code"), got.get("field")) == ("error", code, field), (frame, got)
    # still open: an ordinary hello is welcomed, and it is an ordinary customer's socket
    await customer.send({"type": "hello", "token": None})
    welcome = await customer.expect("welcome", timeout=10)
    assert welcome["token"] and not welcome["customer_id"].startswith("test_")
    caller = Caller(customer)
    try:
        await caller.make_offer()
        offer = {"type": "call_offer", "call_id": caller.call_id, "sdp": caller.pc.localDescription.sdp}
        await customer.send({**offer, "test_flow": run_of(version)})
        refused = await customer.expect("error", timeout=10)
        assert (refused["code"], refused["field"], refused["call_id"]) == ("forbidden", "test_flow", caller.call_id)
    finally:
        await caller.close()
    ack = await customer.say("hello")
    assert not ack["conversation_id"].startswith("t_")
    assert node.services.calls.live_calls(customer.customer_id) == []
