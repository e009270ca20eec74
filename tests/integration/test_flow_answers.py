"""Choosing the flow that answers chats and calls, on two real nodes sharing one Redis: an admin on node 1 makes the
published flow ``shop`` answer chats; a new chat on node 2 runs it, a chat already in ``default`` on node 2 keeps
``default``; a flow that is not published is refused with its name and why; the choice is in the audit log, and
the flow list of every node says which flow answers what. A call on node 2 starts in the flow chosen for calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.flows.live import Entry
from gateway.protocol.states import CallStatus
from tests.conftest import PASSWORDS, bounded
from tests.integration.test_event_webhooks import conforms
from tests.integration.test_flow_versions import ADMIN_PASSWORD, Admin, _hangup_reason, _login, _until
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.servers import Node, start_node

SHOP = """\
start: hello
nodes:
  hello:
    type: say
    prompt: "Welcome to the shop."
    next: bye
  bye:
    type: hangup
    reason: shop_done
"""


@pytest.fixture
async def two_nodes(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Admin]]:
    agents = tmp_path / "agents.toml"
    add_agent(agents, "dora", "Dora Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    both = replace(settings, agents_file=agents, chat_flow="default")
    one = await start_node(both)
    two = await start_node(replace(both, node_id="node-two"))
    http = aiohttp.ClientSession()
    try:
        yield one, two, Admin(http, one.url, await _login(http, one.url, "dora", ADMIN_PASSWORD))
    finally:
        await http.close()
        await bounded(two.stop(), "stopping node two")
        await bounded(one.stop(), "stopping node one")


async def test_an_admin_chooses_the_flow_that_answers_chats_on_every_node(
    two_nodes: tuple[Node, Node, Admin],
) -> None:
    one, two, admin = two_nodes
    listed = await admin.call("GET", "/api/admin/flows")
    assert listed["answers"] == {"calls": "default", "chats": "default"}  # the settings, until an admin chooses
    assert listed["chosen"] == {"calls": None, "chats": None}

    # a chat that started in 'default' on node 2, at its menu
    running = Customer(two.url)
    await running.hello()
    ack = await running.say("hi")
    running_cid = str(ack["conversation_id"])
    await running.event("message", lambda e: e["author"] == "bot" and "press 1" in e["text"])

    # 'shop' saved but not published: refused, naming the flow and why; nothing changes
    saved = await admin.call("POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""}, 201)
    refused = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "shop"}, status=400)
    assert refused["code"] == "flow_not_published"
    assert "'shop'" in refused["message"] and "publish" in refused["message"]
    await conforms(one, "PUT", "/api/admin/flows/answers/{entry}", 400, refused)
    unknown = await admin.call("PUT", "/api/admin/flows/answers/calls", {"flow": "nope"}, status=400)
    assert unknown["code"] == "flow_not_published" and "'nope'" in unknown["message"]
    await admin.call("PUT", "/api/admin/flows/answers/faxes", {"flow": "shop"}, status=400)
    assert two.services.flows.answering(Entry.CHATS) == "default"

    await admin.call("POST", "/api/admin/flows/shop/publish", {"version": saved["id"]})
    done = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "shop"})
    assert (done["answers"], done["previous"]) == ({"calls": "default", "chats": "shop"}, "default")
    await conforms(one, "PUT", "/api/admin/flows/answers/{entry}", 200, done)

    async def node_two_follows() -> bool:
        return two.services.flows.answering(Entry.CHATS) == "shop"

    await _until("node two follows the choice", node_two_follows)

    # a new chat on node 2 runs 'shop'
    fresh = Customer(two.url)
    try:
        await fresh.hello()
        fresh_cid = str((await fresh.say("hi"))["conversation_id"])
        await fresh.event("message", lambda e: e["author"] == "bot" and e["text"] == "Welcome to the shop.")
        assert await _hangup_reason(two, fresh_cid) == "shop_done"
    finally:
        await fresh.close()

    # the chat in progress keeps 'default': its menu still answers
    try:
        await running.say("support")
        assert await _hangup_reason(two, running_cid) == "support_closed"
    finally:
        await running.close()

    # every node's flow list says so; calls still start in the setting's flow
    two_admin = Admin(admin.http, two.url, admin.token)
    listed = await two_admin.call("GET", "/api/admin/flows")
    assert listed["answers"] == {"calls": "default", "chats": "shop"}
    assert (listed["chosen"], listed["defaults"]) == (
        {"calls": None, "chats": "shop"},
        {"calls": "default", "chats": "default"},
    )
    await conforms(two, "GET", "/api/admin/flows", 200, listed)

    entries = await one.services.audit.entries(10, target="flows:chats")
    assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries["entries"]] == [
        ("dora", "flow.answers", {"flow": None, "answers": "default"}, {"flow": "shop", "answers": "shop"})
    ]


async def test_a_supervisor_may_not_choose(two_nodes: tuple[Node, Node, Admin]) -> None:
    one, _, admin = two_nodes
    carol = Admin(admin.http, one.url, await _login(admin.http, one.url, "carol", PASSWORDS["carol"]))
    refused = await carol.call("PUT", "/api/admin/flows/answers/calls", {"flow": "default"}, status=403)
    assert refused["code"] == "forbidden"
    assert (await carol.call("GET", "/api/admin/flows"))["chosen"] == {"calls": None, "chats": None}


async def test_a_new_call_on_the_other_node_starts_in_the_flow_chosen_for_calls(
    two_nodes: tuple[Node, Node, Admin],
) -> None:
    one, two, admin = two_nodes
    saved = await admin.call("POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""}, 201)
    await admin.call("POST", "/api/admin/flows/shop/publish", {"version": saved["id"]})
    done = await admin.call("PUT", "/api/admin/flows/answers/calls", {"flow": "shop"})
    assert done["answers"] == {"calls": "shop", "chats": "default"}

    async def node_two_follows() -> bool:
        return two.services.flows.answering(Entry.CALLS) == "shop"

    await _until("node two follows the choice", node_two_follows)
    customer = Customer(two.url)
    caller = Caller(customer)
    try:
        await customer.hello()
        await caller.dial()
        await caller.status(CallStatus.ENDED)
        cid = await two.services.store.customer_current(customer.customer_id)
        assert cid is not None
        assert await _hangup_reason(two, cid) == "shop_done"
    finally:
        await caller.close()
        await customer.close()
    entries = await one.services.audit.entries(10, target="flows:calls")
    assert [(e["action"], e["after"]["flow"]) for e in entries["entries"]] == [("flow.answers", "shop")]


async def test_an_admin_takes_the_bot_off_chats_and_new_chats_go_straight_to_the_agents(
    two_nodes: tuple[Node, Node, Admin],
) -> None:
    """A bot tried on chats (here the node's --chat-flow) can be taken off again from the console: null for chats.
    Calls always start in a flow: refused, nothing changes."""
    one, two, admin = two_nodes
    refused = await admin.call("PUT", "/api/admin/flows/answers/calls", {"flow": None}, status=400)
    assert refused["field"] == "flow" and "calls always start in a flow" in refused["message"], refused
    await conforms(one, "PUT", "/api/admin/flows/answers/{entry}", 400, refused)
    assert one.services.flows.answering(Entry.CALLS) == "default"
    # a console page that still shows 'shop' answering chats (another admin changed it since) takes nothing off
    stale = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": None, "replacing": "shop"}, status=409)
    assert (stale["code"], stale["field"]) == ("conflict", "replacing"), stale
    assert stale["message"] == "'default' answers chats now, not 'shop'"
    await conforms(one, "PUT", "/api/admin/flows/answers/{entry}", 409, stale)
    assert one.services.flows.answering(Entry.CHATS) == "default"

    done = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": None, "replacing": "default"})
    assert (done["answers"], done["chosen"], done["previous"]) == (
        {"calls": "default", "chats": None},
        {"calls": None, "chats": ""},
        "default",
    )
    await conforms(one, "PUT", "/api/admin/flows/answers/{entry}", 200, done)

    async def node_two_follows() -> bool:
        return two.services.flows.answering(Entry.CHATS) is None

    await _until("node two takes the bot off chats", node_two_follows)

    # a new chat on node 2: no bot answers, an agent gets it
    carol = Agent(two.url, "carol", PASSWORDS["carol"])
    fresh = Customer(two.url)
    try:
        await carol.hello()
        await fresh.hello()
        cid = str((await fresh.say("hi, a person please"))["conversation_id"])
        assigned = await carol.assigned()
        assert assigned["id"] == cid
        events = await two.services.store.events(cid)
        assert not [e for e in events if e["type"] == "message" and e.get("author") == "bot"], events
        assert not [e for e in events if e["type"] == "ivr"], events
    finally:
        await fresh.close()
        await carol.close()

    # taking it off twice changes nothing more; putting a flow back is the same button as ever
    again = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": None})
    assert (again["answers"]["chats"], again["previous"]) == (None, None)
    back = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "default"})
    assert (back["answers"]["chats"], back["chosen"]["chats"], back["previous"]) == ("default", "default", None)

    entries = await one.services.audit.entries(10, target="flows:chats")
    assert [(e["action"], e["before"], e["after"]) for e in reversed(entries["entries"])] == [
        ("flow.answers", {"flow": None, "answers": "default"}, {"flow": "", "answers": None}),
        ("flow.answers", {"flow": "", "answers": None}, {"flow": "default", "answers": "default"}),
    ]


async def test_taking_the_bot_off_chats_where_no_flow_answered_them_is_audited(
    settings: Settings, tmp_path: Path
) -> None:
    """No --chat-flow here: what answers chats does not change, but the stored choice does (from none to 'no
    flow', which a --chat-flow set later no longer overrides), so the audit log says who did it."""
    agents = tmp_path / "agents.toml"
    add_agent(agents, "dora", "Dora Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    node = await start_node(replace(settings, agents_file=agents, chat_flow=None))
    http = aiohttp.ClientSession()
    try:
        admin = Admin(http, node.url, await _login(http, node.url, "dora", ADMIN_PASSWORD))
        done = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": None})
        assert (done["answers"]["chats"], done["chosen"]["chats"]) == (None, "")
        entries = await node.services.audit.entries(10, target="flows:chats")
        assert [(e["action"], e["before"], e["after"]) for e in entries["entries"]] == [
            ("flow.answers", {"flow": None, "answers": None}, {"flow": "", "answers": None}),
        ]
    finally:
        await http.close()
        await bounded(node.stop(), "stopping the node")
