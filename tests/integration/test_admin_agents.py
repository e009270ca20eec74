"""Agents managed by an admin over the REST, on two real nodes sharing one Redis: an agent added on node A logs in
on node B at once; edited, disabled, removed, given a one-time password: their sessions end on every node at once;
every write is in the audit log, with no secret in it; bad input is refused naming the field, nothing half-saved."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.errors import Conflict
from tests.conftest import PASSWORDS, bounded
from tests.integration.test_login import expect_revoked, login
from tests.support.clients import Agent
from tests.support.servers import Node, start_node

ADA = "ada-admin-passphrase"  # the admin of these tests
SECRETS = [ADA, "dave-first-passphrase", "alice-one-time-pass", "alice-own-new-pass", "scrypt$"]


@pytest.fixture
async def nodes(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADA, roles=("agent", "admin"))
    mine = replace(settings, agents_file=path, trusted_proxies=("127.0.0.1/32",))
    a = await start_node(replace(mine, node_id="node-a"))
    b = await start_node(replace(mine, node_id="node-b"))
    yield a, b
    await bounded(a.stop(), "stopping node A")
    await bounded(b.stop(), "stopping node B")


class Api:
    def __init__(self, http: aiohttp.ClientSession, node: Node, token: str = ""):
        self.http, self.node, self.token = http, node, token

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(method, self.node.url + path, json=body, headers=headers) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)


async def token(http: aiohttp.ClientSession, node: Node, agent_id: str, password: str) -> str:
    reply = await login(http, node, agent_id, password, "192.0.2.9")
    assert reply.status == 200, reply.body
    return str(reply.body["token"])


async def open_desk(node: Node, agent_id: str, access: str) -> Agent:
    agent = Agent(node.url, agent_id, "")
    agent.token = access
    await agent.hello(available=False)
    return agent


async def test_an_agent_added_on_one_node_logs_in_on_the_other_at_once_and_is_removed_mid_session(
    nodes: tuple[Node, Node],
) -> None:
    node_a, node_b = nodes
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node_a, await token(http, node_a, "ada", ADA))
        # a desk open on the other node all along: it hears of the new colleague (transfers offer him) and of his
        # new name and removal, without a reload (it knew only the welcome's names: an exploratory test)
        alice = await open_desk(node_b, "alice", await token(http, node_b, "alice", PASSWORDS["alice"]))
        assert "dave" not in alice.welcome["agent_names"]

        def names_with(frame: dict[str, Any], agent_id: str, name: str | None) -> bool:
            return frame["agent_names"].get(agent_id) == name

        new = {"id": "dave", "name": "Dave Doe", "password": "dave-first-passphrase", "skills": {"billing": 4}}
        # by default an admin's password for someone else is one-time: the first login must change it
        status, fred = await admin.call("POST", "/api/admin/agents", {"id": "fred", "password": "fred-one-time-pass"})
        assert (status, fred["must_change_password"]) == (201, True)
        refused = await login(http, node_b, "fred", "fred-one-time-pass", "192.0.2.9")
        assert (refused.status, refused.body["code"]) == (403, "password_change_required")
        status, problem = await admin.call(
            "POST",
            "/api/admin/agents",
            {"id": "gus", **{"password": "gus-first-passphrase", "must_change_password": "no"}},
        )
        assert (status, problem["field"]) == (400, "must_change_password")
        # dave's is his own to keep (an operator who handed it over in person)
        status, dave = await admin.call(
            "POST", "/api/admin/agents", {**new, "capacity": 2, "must_change_password": False}
        )
        assert status == 201, dave
        await alice.expect("agent_names", lambda f: names_with(f, "dave", "Dave Doe"))
        assert (dave["id"], dave["capacity"], dave["skills"], dave["roles"], dave["sessions"]) == (
            "dave",
            2,
            {"billing": 4},
            ["agent"],
            [],
        )
        # no wait, no poll: node B reads the store on login (old code: the agents file, read every 2 s)
        dave_token = await token(http, node_b, "dave", "dave-first-passphrase")
        dave_desk = await open_desk(node_b, "dave", dave_token)
        try:
            _, listing = await admin.call("GET", "/api/admin/agents")
            row = next(a for a in listing["agents"] if a["id"] == "dave")
            assert [(s["node"], s["address"]) for s in row["sessions"]] == [("node-b", "192.0.2.9")]

            status, patched = await admin.call("PATCH", "/api/admin/agents/dave", {"capacity": 4, "name": "Dave D."})
            assert (status, patched["capacity"], patched["name"]) == (200, 4, "Dave D.")
            await alice.expect("agent_names", lambda f: names_with(f, "dave", "Dave D."))
            assert node_b.services.directory.get("dave") is not None

            status, _ = await admin.call("DELETE", "/api/admin/agents/dave")
            assert status == 204
            await expect_revoked(dave_desk)  # his desk on the other node closes at once
            await alice.expect("agent_names", lambda f: names_with(f, "dave", None))
            assert (await Api(http, node_b, dave_token).call("POST", "/api/agent/refresh"))[0] == 401
            assert (await login(http, node_b, "dave", "dave-first-passphrase", "192.0.2.9")).status == 401
            assert (await admin.call("DELETE", "/api/admin/agents/dave"))[0] == 404
        finally:
            await dave_desk.close()
            await alice.close()

        _, audit = await admin.call("GET", "/api/admin/audit?target=dave")
        assert [(e["actor"], e["action"]) for e in audit["entries"]] == [
            ("ada", "agent.remove"),
            ("ada", "agent.update"),
            ("ada", "agent.add"),
        ]
        update = audit["entries"][1]
        assert (update["before"]["capacity"], update["after"]["capacity"]) == (2, 4)
        assert update["after"]["must_change_password"] in (True, False)  # a fact, not a secret (was "***")
        assert audit["entries"][0]["after"] is None and audit["entries"][2]["before"] is None


async def test_bad_input_names_the_field_and_saves_nothing(nodes: tuple[Node, Node]) -> None:
    node_a, _ = nodes
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node_a, await token(http, node_a, "ada", ADA))
        _, before = await admin.call("GET", "/api/admin/agents")
        _, audit_before = await admin.call("GET", "/api/admin/audit")
        good = {"id": "erin", "password": "erin-first-passphrase"}
        cases = [
            ({**good, "id": "alice"}, 409, "conflict", "id"),
            ({**good, "password": "short-pw"}, 400, "weak_password", "password"),
            ({**good, "password": "password1234"}, 400, "weak_password", "password"),  # in the breached list
            ({**good, "skills": {"billing": 11}}, 400, "bad_field", "skills.billing"),
            ({**good, "skills": ["billing"]}, 400, "bad_field", "skills"),
            ({**good, "roles": ["agent", "root"]}, 400, "bad_field", "roles"),
            ({**good, "capacity": 0}, 400, "bad_field", "capacity"),
            ({**good, "id": "Not An Id"}, 400, "bad_field", "id"),
            ({**good, "id": "erin\n"}, 400, "bad_field", "id"),  # a rule's $ matches before a last newline: not ours
            ({**good, "name": "a\u0000b"}, 400, "bad_field", "name"),
            ({**good, "admin": True}, 400, "bad_field", "admin"),
        ]
        for body, status, code, field in cases:
            got, problem = await admin.call("POST", "/api/admin/agents", body)
            assert "code" in problem, (body, problem)
            assert (got, problem["code"], problem["field"]) == (status, code, field), body
        for body, field in (({"skills": {"x": 0}}, "skills.x"), ({"disabled": "yes"}, "disabled"), ({"pw": 1}, "pw")):
            got, problem = await admin.call("PATCH", "/api/admin/agents/bob", body)
            assert (got, problem["field"]) == (400, field)
        got, problem = await admin.call("POST", "/api/admin/agents/bob/password", {"password": "qwertyuiop"})
        assert (got, problem["code"], problem["field"]) == (400, "weak_password", "password")
        assert (await admin.call("PATCH", "/api/admin/agents/ada", {"disabled": True}))[0] == 400  # not oneself
        for body, field in (({"roles": None}, "roles"), ({"roles": "admin"}, "roles"), ({"name": ""}, "name")):
            got, problem = await admin.call("PATCH", "/api/admin/agents/ada", body)  # checked before the self-rule
            assert (got, problem["code"], problem["field"]) == (400, "bad_field", field), (body, problem)
        got, problem = await admin.call("PATCH", "/api/admin/agents/ada", {"roles": ["agent"]})
        assert (got, problem["field"]) == (400, "roles"), problem  # an admin keeps their own admin role
        assert await admin.call("GET", "/api/admin/agents") == (200, before)  # nothing half-saved
        assert await admin.call("GET", "/api/admin/audit") == (200, audit_before)  # nothing recorded
        assert (await login(http, node_a, "bob", PASSWORDS["bob"], "192.0.2.2")).status == 200  # bob untouched

        carol = Api(http, node_a, await token(http, node_a, "carol", PASSWORDS["carol"]))  # a supervisor
        assert (await carol.call("GET", "/api/admin/agents"))[0] == 200
        assert (await carol.call("POST", "/api/admin/agents", good))[0] == 403
        assert (await carol.call("PATCH", "/api/admin/agents/bob", {"capacity": 1}))[0] == 403


async def test_one_time_password_own_password_and_disabling(nodes: tuple[Node, Node]) -> None:
    node_a, node_b = nodes
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node_a, await token(http, node_a, "ada", ADA))
        alice_token = await token(http, node_b, "alice", PASSWORDS["alice"])
        alice_desk = await open_desk(node_b, "alice", alice_token)
        try:
            status, _ = await admin.call(
                "POST", "/api/admin/agents/alice/password", {"password": "alice-one-time-pass"}
            )
            assert status == 204
            await expect_revoked(alice_desk)
        finally:
            await alice_desk.close()
        assert (await login(http, node_b, "alice", PASSWORDS["alice"], "192.0.2.1")).status == 401
        refused = await login(http, node_b, "alice", "alice-one-time-pass", "192.0.2.1")
        assert (refused.status, refused.body["code"]) == (403, "password_change_required")
        anonymous = Api(http, node_b)
        # the desk asks to be told so in a 200 (a browser logs a 403 as an error): no token, no session
        asked = {"agent_id": "alice", "password": "alice-one-time-pass", "ask_password_change": True}
        status, told = await anonymous.call("POST", "/api/agent/login", asked)
        assert (status, told["password_change_required"], "token" in told) == (200, True, False), told
        change = {"agent_id": "alice", "current": "alice-one-time-pass"}
        status, problem = await anonymous.call("POST", "/api/agent/password", {**change, "new": "1234567890"})
        assert (status, problem["code"], problem["field"]) == (400, "weak_password", "new")
        status, problem = await anonymous.call(
            "POST", "/api/agent/password", {**change, "current": "a-wrong-guess-1", "new": "alice-own-new-pass"}
        )
        assert status == 401
        assert (await anonymous.call("POST", "/api/agent/password", {**change, "new": "alice-own-new-pass"}))[0] == 204
        first = await token(http, node_b, "alice", "alice-own-new-pass")
        second = await token(http, node_a, "alice", "alice-own-new-pass")
        # with a token: her own, from one session; the others end
        own = Api(http, node_a, second)
        body = {"current": "alice-own-new-pass", "new": "alice-second-own-pass"}
        assert (await own.call("POST", "/api/agent/password", body))[0] == 204
        assert (await Api(http, node_b, first).call("POST", "/api/agent/refresh"))[0] == 401
        assert (await own.call("POST", "/api/agent/refresh"))[0] == 200

        bob_token = await token(http, node_a, "bob", PASSWORDS["bob"])
        status, bob = await admin.call("PATCH", "/api/admin/agents/bob", {"disabled": True})
        assert (status, bob["disabled"]) == (200, True)
        assert (await Api(http, node_b, bob_token).call("POST", "/api/agent/refresh"))[0] == 401
        refused = await login(http, node_b, "bob", PASSWORDS["bob"], "192.0.2.2")
        assert (refused.status, refused.body["code"]) == (403, "agent_disabled")
        assert (await admin.call("PATCH", "/api/admin/agents/bob", {"disabled": False}))[0] == 200
        assert (await login(http, node_b, "bob", PASSWORDS["bob"], "192.0.2.2")).status == 200

        _, audit = await admin.call("GET", "/api/admin/audit?limit=6")
        assert [(e["actor"], e["action"], e["target"]) for e in audit["entries"]] == [
            ("ada", "agent.enable", "bob"),
            ("ada", "agent.disable", "bob"),
            ("alice", "agent.password_change", "alice"),
            ("alice", "agent.password_change", "alice"),
            ("ada", "agent.password_reset", "alice"),
            ("system", "agent.import", "ada"),  # the first start's import of the agents file
        ]
        _, everything = await admin.call("GET", "/api/admin/audit?limit=200")
        for first in ("0-0", "00-000"):  # nothing is older than the first id there can be (was a 503)
            assert await admin.call("GET", f"/api/admin/audit?before={first}") == (200, {"entries": [], "next": None})
        text = json.dumps(everything)
        assert not [s for s in SECRETS + list(PASSWORDS.values()) if s in text]  # no password, no hash


async def test_the_audit_filter_finds_a_bare_name_under_each_of_its_kinds(nodes: tuple[Node, Node]) -> None:
    """'billing' finds queue:billing (and flow:billing, an agent billing); 'queue:billing' only the queue; no prefix."""
    node_a, _ = nodes
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node_a, await token(http, node_a, "ada", ADA))
        _, listing = await admin.call("GET", "/api/admin/queues")
        billing = next(q for q in listing["queues"] if q["name"] == "billing")
        status, _ = await admin.call("PUT", "/api/admin/queues/billing", {**billing, "priority": 4})
        assert status == 200
        status, _ = await admin.call("PUT", "/api/admin/queues/billing2", {**billing, "name": "billing2", "version": 0})
        assert status == 201
        assert (await admin.call("PATCH", "/api/admin/agents/bob", {"capacity": 2}))[0] == 200

        async def targets(wanted: str) -> list[str]:
            status, page = await admin.call("GET", f"/api/admin/audit?target={wanted}")
            assert status == 200, page
            return [e["target"] for e in page["entries"]]

        assert await targets("billing") == ["queue:billing"]
        assert await targets("queue:billing") == ["queue:billing"]
        assert await targets("billing2") == ["queue:billing2"]
        assert await targets("bill") == []  # a name, not a prefix
        assert await targets("flow:billing") == []  # a kind asked for is that kind only
        assert set(await targets("bob")) == {"bob"}  # agents' targets are their bare ids, as before


async def test_a_supervisor_who_is_no_agent_opens_the_desk_and_is_given_nothing(nodes: tuple[Node, Node]) -> None:
    """An account with the supervisor role only opened the desk, pressed Available and was given a customer's chat
    (an exploratory test): the agent role was never looked at. Now such a desk watches (the queue, calls to listen
    to) but is no presence: not online, a status is refused, and a chat goes to the queue instead."""
    node_a, _ = nodes
    async with aiohttp.ClientSession() as http:
        admin = Api(http, node_a, await token(http, node_a, "ada", ADA))
        alice = await open_desk(node_a, "alice", await token(http, node_a, "alice", PASSWORDS["alice"]))
        sup = {"id": "sue", "name": "Sue Pervisor", "password": "sue-first-passphrase", "roles": ["supervisor"]}
        status, _ = await admin.call("POST", "/api/admin/agents", {**sup, "must_change_password": False})
        assert status == 201
        # a desk open all along hears her name (timelines show it) but is not offered her for transfers
        names = await alice.expect("agent_names", lambda f: "sue" in f["agent_names"])
        assert "sue" not in names["takes_contacts"] and {"alice", "bob"} <= set(names["takes_contacts"])
        await alice.close()
        sue = await open_desk(node_a, "sue", await token(http, node_a, "sue", "sue-first-passphrase"))
        try:
            assert sue.welcome["roles"] == ["supervisor"]
            assert sue.welcome["agent_names"]["sue"] == "Sue Pervisor" and "sue" not in sue.welcome["takes_contacts"]
            await sue.send({"type": "status", "status": "available"})
            refused = await sue.expect("error")
            assert (refused["code"], refused["field"]) == ("forbidden", "status")
            assert (await node_a.services.presence.info("sue"))["status"] == "offline"
            cid, _ = await node_a.services.conversations.open_for_flow("cust-sue-test", {})
            assert await node_a.services.conversations.enqueue(cid, "default")
            await asyncio.sleep(1.0)  # routing runs at once: an online, available agent would have it by now
            conv = await node_a.services.store.conversation(cid)
            assert conv is not None and conv["state"] == "queued"
            # a colleague handing a chat to her is told why not (it said nobody with that ID had signed in)
            with pytest.raises(Conflict) as refused:
                await node_a.services.presence.transfer_target("alice", "sue")
            assert refused.value.code == "transfer_refused" and "sue takes no chats or calls" in refused.value.message
        finally:
            await sue.close()
