"""Flow versions on real nodes: save and its refusals, publish on every node while a real call is in the IVR (it
finishes on the version it started with; the next call takes the new one), rollback, and replay of recorded sessions
(real chats and a real call through the IVR) against a draft that changes one menu choice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.contact.queues import Queue
from gateway.protocol.states import CallStatus
from tests.conftest import PASSWORDS, TEST_FLOWS, bounded
from tests.integration.test_event_webhooks import conforms
from tests.support.caller import Caller
from tests.support.clients import Customer
from tests.support.servers import Node, start_node

ADMIN_PASSWORD = "dora-admin-secret-1"
ORIGINAL = (TEST_FLOWS / "default.yaml").read_text()
# choice 2 no longer ends the call as support_closed (the support node stays, as an entry, so the draft loads)
SUPPORT_TO_GOODBYE = ORIGINAL.replace("        next: support\n", "        next: goodbye\n").replace(
    "  support:\n    type: hangup\n", "  support:\n    type: hangup\n    entry: true\n"
)
SUPPORT_MOVED = ORIGINAL.replace("reason: support_closed", "reason: support_moved")


@pytest.fixture
def admin_settings(settings: Settings, tmp_path: Path) -> Settings:
    agents = tmp_path / "agents.toml"
    add_agent(agents, "dora", "Dora Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    return replace(settings, agents_file=agents, chat_flow="default")


class Admin:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str):
        self.http, self.url, self.token = http, url, token

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, self.url + path, json=body, headers=headers) as r:
            answer = await r.json()
            assert r.status == status, (method, path, r.status, answer)
            return answer

    async def request(self, method: str, path: str, body: Any = None) -> int:
        """The status of a request whose outcome the test reads afterwards."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, self.url + path, json=body, headers=headers) as r:
            await r.read()
            return r.status

    async def live(self, name: str = "default") -> str:
        flows = await self.call("GET", "/api/admin/flows")
        return str({f["name"]: f["live_version"] for f in flows["flows"]}[name])


async def _login(http: aiohttp.ClientSession, url: str, agent_id: str, password: str) -> str:
    async with http.post(url + "/api/agent/login", json={"agent_id": agent_id, "password": password}) as r:
        assert r.status == 200
        return str((await r.json())["token"])


@pytest.fixture
async def admin_node(admin_settings: Settings) -> AsyncIterator[tuple[Node, Admin]]:
    node = await start_node(admin_settings)
    http = aiohttp.ClientSession()
    try:
        yield node, Admin(http, node.url, await _login(http, node.url, "dora", ADMIN_PASSWORD))
    finally:
        await http.close()
        await bounded(node.stop(), "stopping the node")


async def _chat(url: str, answer: str | None) -> str:
    """A chat through the bot: greeted, then the menu answered (None: left without answering); its conversation."""
    customer = Customer(url)
    try:
        await customer.hello()
        ack = await customer.say("hi")
        await customer.event("message", lambda e: e["author"] == "bot" and "press 1" in e["text"])
        if answer is not None:
            await customer.say(answer)
            await customer.event("message", lambda e: e["author"] == "bot" and "press 1" not in e["text"])
        return str(ack["conversation_id"])
    finally:
        await customer.close()


async def _steps(node: Node, cid: str) -> list[tuple[str, str]]:
    return [(e["kind"], e["detail"]) for e in await node.services.store.events(cid) if e["type"] == "ivr"]


async def _hangup_reason(node: Node, cid: str) -> str:
    """The reason of the flow's hang-up step (waited for: the bot's last message comes before it is written)."""
    found: list[str] = []

    async def ended() -> bool:
        found[:] = [detail for kind, detail in await _steps(node, cid) if kind == "hangup"]
        return bool(found)

    await _until(f"a hang-up step in {cid}", ended)
    return found[0]


async def _until(what: str, check: Any) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_save_refusals_publish_and_rollback(admin_node: tuple[Node, Admin]) -> None:
    node, admin = admin_node
    first = await admin.live()
    detail = await admin.call("GET", "/api/admin/flows/default")
    assert [(v["id"], v["author"], v["parent"]) for v in detail["versions"]] == [(first, "file", "")]

    broken = ORIGINAL.replace("next: menu", "next: mneu")
    refused = await admin.call(
        "POST", "/api/admin/flows/default/versions", {"yaml": broken, "parent": first}, status=400
    )
    assert refused["code"] == "bad_flow"
    mistake = ORIGINAL.splitlines().index("    next: menu") + 1
    assert (refused["errors"][0]["line"], refused["errors"][0]["node"]) == (mistake, "hello")
    assert {e["code"] for e in refused["errors"][1:]} == {"unreachable"}  # what 'flows validate' says too
    assert "did you mean 'menu'" in refused["errors"][0]["message"]
    await conforms(node, "POST", "/api/admin/flows/{name}/versions", 400, refused)  # Problem with its errors
    assert [v["id"] for v in (await admin.call("GET", "/api/admin/flows/default"))["versions"]] == [first]

    # a new flow whose name differs from one that exists only in capitals: two flows nobody could tell apart
    twin = await admin.call("POST", "/api/admin/flows/Default/versions", {"yaml": ORIGINAL, "parent": ""}, 400)
    assert (twin["code"], twin["field"]) == ("bad_request", "name")
    assert twin["message"] == "there is a flow 'default' already (names differ only in capitals)"
    assert "Default" not in {f["name"] for f in (await admin.call("GET", "/api/admin/flows"))["flows"]}

    mine = await admin.call(
        "POST", "/api/admin/flows/default/versions", {"yaml": SUPPORT_MOVED, "parent": first, "message": "m"}, 201
    )
    theirs = await admin.call(  # a second admin edited the same version meanwhile
        "POST", "/api/admin/flows/default/versions", {"yaml": SUPPORT_TO_GOODBYE, "parent": first}, status=409
    )
    assert (theirs["code"], theirs["current"]) == ("stale_version", mine["id"])
    assert "-    reason: support_closed\n+    reason: support_moved\n" in theirs["diff"]
    await conforms(node, "POST", "/api/admin/flows/{name}/versions", 409, theirs)  # Problem with current and diff
    assert await admin.live() == first  # a draft changes nothing live
    cid = await _chat(node.url, "support")
    assert await _hangup_reason(node, cid) == "support_closed"

    published = await admin.call("POST", "/api/admin/flows/default/publish", {"version": mine["id"]})
    assert (published["live_version"], published["previous"]) == (mine["id"], first)
    assert node.services.flows.get("default").version == mine["id"]
    cid = await _chat(node.url, "support")
    assert await _hangup_reason(node, cid) == "support_moved"

    await admin.call("POST", "/api/admin/flows/default/publish", {"version": first})  # rollback
    cid = await _chat(node.url, "support")
    assert await _hangup_reason(node, cid) == "support_closed"
    diff = await admin.call("GET", f"/api/admin/flows/default/diff?from={first}&to={mine['id']}")
    assert "+    reason: support_moved" in diff["diff"]
    audit = await node.services.audit.entries(10, target="flow:default")
    assert [(e["actor"], e["action"]) for e in audit["entries"]] == [
        ("dora", "flow.publish"),
        ("dora", "flow.publish"),
        ("dora", "flow.save"),
        ("file", "flow.publish"),  # the import of the flow directory on the first start
        ("file", "flow.save"),
    ]
    assert audit["entries"][0]["before"] == {"version": mine["id"]}


async def test_publish_reaches_every_node_and_a_call_in_the_ivr_keeps_its_version(
    admin_node: tuple[Node, Admin], admin_settings: Settings
) -> None:
    node, admin = admin_node
    other = await start_node(replace(admin_settings, node_id="node-two"))
    first = await admin.live()
    callers: list[Caller] = []
    try:
        customer = Customer(other.url)
        await customer.hello()
        before = Caller(customer)
        callers.append(before)
        await before.dial()
        await before.status(CallStatus.IVR)
        await before.heard_prompt()  # in the IVR on the first version

        saved = await admin.call(
            "POST", "/api/admin/flows/default/versions", {"yaml": SUPPORT_MOVED, "parent": first}, 201
        )
        await admin.call("POST", "/api/admin/flows/default/publish", {"version": saved["id"]})

        async def other_has_it() -> bool:
            return bool(other.services.flows.get("default").version == saved["id"])

        await _until("the other node serves the published version", other_has_it)
        await before.press("2")
        await before.status(CallStatus.ENDED)
        old_cid = await other.services.store.customer_current(customer.customer_id)
        assert old_cid is not None
        assert await _hangup_reason(other, old_cid) == "support_closed"

        customer2 = Customer(other.url)
        await customer2.hello()
        after = Caller(customer2)
        callers.append(after)
        await after.dial()
        await after.status(CallStatus.IVR)
        await after.heard_prompt()
        await after.press("2")
        await after.status(CallStatus.ENDED)
        new_cid = await other.services.store.customer_current(customer2.customer_id)
        assert new_cid is not None
        assert await _hangup_reason(other, new_cid) == "support_moved"
    finally:
        for caller in callers:
            await caller.close()
            await caller.customer.close()
        await bounded(other.stop(), "stopping the second node")


async def test_replay_reports_exactly_the_sessions_that_took_the_changed_choice(
    admin_node: tuple[Node, Admin],
) -> None:
    node, admin = admin_node
    first = await admin.live()
    took_support = {await _chat(node.url, "support"), await _chat(node.url, "2")}
    others = {await _chat(node.url, "billing"), await _chat(node.url, None)}
    customer = Customer(node.url)
    await customer.hello()
    caller = Caller(customer)
    try:
        await caller.dial()
        await caller.status(CallStatus.IVR)
        await caller.heard_prompt()
        await caller.press("2")
        await caller.status(CallStatus.ENDED)
    finally:
        await caller.close()
        await customer.close()
    call_cid = await node.services.store.customer_current(customer.customer_id)
    assert call_cid is not None
    took_support.add(call_cid)

    same = await admin.call("POST", "/api/admin/flows/default/replay", {"version": first, "since": "1h"})
    assert (same["sessions"], same["same"], same["differ"], same["unreplayable"]) == (5, 5, [], 0)

    draft = await admin.call(
        "POST", "/api/admin/flows/default/versions", {"yaml": SUPPORT_TO_GOODBYE, "parent": first}, 201
    )
    result = await admin.call("POST", "/api/admin/flows/default/replay", {"version": draft["id"], "since": "1h"})
    assert (result["sessions"], result["same"]) == (5, 2)
    assert {d["cid"] for d in result["differ"]} == took_support
    assert not others & {d["cid"] for d in result["differ"]}
    for d in result["differ"]:
        assert (d["old_path"][-1], d["new_path"][-1]) == ("support", "goodbye")
        assert d["old_version"] == first
    assert await admin.live() == first  # replay publishes nothing


async def test_the_editors_check_says_valid_only_for_what_can_be_published(admin_node: tuple[Node, Admin]) -> None:
    """A queue that does not exist used to pass the editor's check ("valid") and only publishing refused it."""
    node, admin = admin_node
    typo = ORIGINAL.replace("    queue: billing\n", "    queue: billingg\n", 1)
    checked = await admin.call("POST", "/api/admin/flows/validate", {"name": "default", "yaml": typo})
    assert checked["ok"] is False and checked["graph"] is not None, checked
    (problem,) = checked["errors"]
    assert (
        problem["line"] == ORIGINAL.splitlines().index("  billing:") + 2  # its "type: queue"
        and problem["node"] == "billing"
        and "queue 'billingg' does not exist" in problem["message"]
    ), problem
    assert "did you mean 'billing'" in problem["message"]
    saved = await admin.call(
        "POST", "/api/admin/flows/default/versions", {"yaml": typo, "parent": await admin.live()}, 201
    )
    refused = await admin.call("POST", "/api/admin/flows/default/publish", {"version": saved["id"]}, status=400)
    assert [e["message"] for e in refused["errors"]] == [problem["message"]]  # the same words both ways
    fine = await admin.call("POST", "/api/admin/flows/validate", {"name": "default", "yaml": ORIGINAL})
    assert (fine["ok"], fine["errors"]) == (True, [])


async def test_a_publish_refuses_browser_context_that_leads_into_a_priority_queue_or_flow(
    admin_node: tuple[Node, Admin],
) -> None:
    """A branch on context.tier into a queue an admin gave priority 10 (or into a flow that queues there) was
    published, and a customer who added {tier: gold} to their hello was served before 100 older chats (a security
    tester's finding): the check read only the node's own priority, and stopped at a goto."""
    node, admin = admin_node
    await node.services.queues.put(Queue(name="vip", priority=10))
    tiered = (
        "start: route\nnodes:\n  route:\n    type: branch\n    cases: [{when: {var: context.tier, in: [gold]}, "
        "next: gold}]\n    else: normal\n  gold: {type: goto, flow: vipflow}\n"
        "  normal: {type: queue, queue: support}\n"
    )
    vipflow = "start: q\nnodes:\n  q: {type: queue, queue: QUEUE}\n"

    heads: dict[str, str] = {}

    async def publish(name: str, text: str, status: int, saved_status: int = 201) -> Any:
        saved = await admin.call(
            "POST", f"/api/admin/flows/{name}/versions", {"yaml": text, "parent": heads.get(name, "")}, saved_status
        )
        heads[name] = saved["id"]
        return await admin.call("POST", f"/api/admin/flows/{name}/publish", {"version": saved["id"]}, status=status)

    await publish("vipflow", vipflow.replace("QUEUE", "vip"), 200)
    refused = await publish("tiered", tiered, 400)
    (problem,) = refused["errors"]
    assert problem["code"] == "untrusted" and "leads to 'q' (priority 10)" in problem["message"], problem
    # the other way round: the flow entered gets the priority queue after the branching flow was published
    await publish("vipflow", vipflow.replace("QUEUE", "support"), 200)
    await publish("tiered", tiered, 200, saved_status=200)  # the version refused before, saved already
    refused = await publish("vipflow", vipflow.replace("QUEUE", "vip"), 400)
    (problem,) = refused["errors"]
    assert problem["message"].startswith("flow 'tiered' (which enters this one): the branch reads context.tier")
    # and from the queue's side: giving the queue the live flows lead to a priority is refused the same way
    support = next(q for q in (await admin.call("GET", "/api/admin/queues"))["queues"] if q["name"] == "support")
    refused = await admin.call("PUT", "/api/admin/queues/support", {**support, "priority": 5}, status=400)
    assert refused["field"] == "priority" and "flow 'tiered': the branch reads context.tier" in refused["message"]
    assert refused["message"].startswith("queue 'support' with priority 5 would let the customer's browser")
    await admin.call("PUT", "/api/admin/queues/support", {**support, "announce_seconds": 60})  # other edits go on
    # a problem already live (a flow from before the check: made here past the route) blocks neither lowering that
    # priority nor another queue's edit, only what is new (a review)
    stored = await node.services.queues.get("support")
    assert stored is not None
    await node.services.queues.put(replace(stored, priority=5))
    support = next(q for q in (await admin.call("GET", "/api/admin/queues"))["queues"] if q["name"] == "support")
    await admin.call("PUT", "/api/admin/queues/support", {**support, "priority": 2})
    billing = next(q for q in (await admin.call("GET", "/api/admin/queues"))["queues"] if q["name"] == "billing")
    await admin.call("PUT", "/api/admin/queues/billing", {**billing, "priority": 3})
    # and a flow two gotos away: tiered -> hop -> vipflow; publishing the end of the chain is checked too
    stored = await node.services.queues.get("support")
    assert stored is not None
    await node.services.queues.put(replace(stored, priority=0))
    await publish("hop", "start: g\nnodes:\n  g: {type: goto, flow: vipflow}\n", 200)
    await publish("tiered", tiered.replace("flow: vipflow", "flow: hop"), 200)
    refused = await publish("vipflow", vipflow.replace("QUEUE", "vip"), 400, saved_status=200)  # saved before
    assert refused["errors"][0]["message"].startswith("flow 'tiered' (which enters this one): the branch reads")
