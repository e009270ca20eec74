"""Roles: one check for every route (gateway/wire/routes.py agent_with_role), and a role taken away counts at once.

Two real nodes share one Redis. Alice (an agent) answers a real call on node A; Carol, a supervisor, watches the
wallboard and listens to that call from node A; Ada, an admin, takes Carol's supervisor role away on node B. Carol's
desk is told and closed at once (a new login gets her new roles), her listening leg on node A ends (no node keeps a
supervisor on a call after the role is gone), and with a fresh token the wallboard and listening in are refused.
"""

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
from tests.conftest import PASSWORDS, Clients, bounded
from tests.integration.test_login import expect_revoked
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

ADA = "ada-admin-passphrase"


@pytest.fixture
async def nodes(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADA, roles=("agent", "admin"))
    mine = replace(settings, agents_file=path)
    a = await start_node(replace(mine, node_id="node-a"))
    b = await start_node(replace(mine, node_id="node-b"))
    yield a, b
    await bounded(a.stop(), "stopping node A")
    await bounded(b.stop(), "stopping node B")


async def token_of(node: Node, agent_id: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(node.url + "/api/agent/login", json={"agent_id": agent_id, "password": password}) as r,
    ):
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def call(node: Node, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        text = await r.text()
        return r.status, (json.loads(text) if text else None)


async def test_every_route_refuses_a_missing_role_the_same_way_naming_the_roles_it_takes(
    nodes: tuple[Node, Node],
) -> None:
    node = nodes[0]
    alice = await token_of(node, "alice", PASSWORDS["alice"])
    carol = await token_of(node, "carol", PASSWORDS["carol"])
    readers, admins = "only admins and supervisors may", "only admins may"
    cases = [
        (alice, "GET", "/api/admin/agents", None, f"{readers} read the agents"),
        (carol, "POST", "/api/admin/agents", {}, f"{admins} manage agents"),
        (alice, "GET", "/api/admin/audit", None, f"{readers} read the audit log"),
        (alice, "GET", "/api/admin/flows", None, f"{readers} read flows"),
        (carol, "POST", "/api/admin/flows/default/publish", {"version": "0" * 12}, f"{admins} change flows"),
        (alice, "GET", "/api/admin/queues", None, f"{readers} read the queues"),
        (carol, "PUT", "/api/admin/queues/sales", {}, f"{admins} change the queues"),
        (alice, "GET", "/api/admin/widget", None, f"{readers} read the widget settings"),
        (carol, "PUT", "/api/admin/widget", {}, f"{admins} change the widget settings"),
        (alice, "GET", "/api/webhooks", None, f"{readers} read webhook subscriptions"),
        (carol, "POST", "/api/webhooks", {}, f"{admins} manage webhook subscriptions"),
        (carol, "DELETE", "/api/webhooks/wh_x", None, f"{admins} manage webhook subscriptions"),
        (
            alice,
            "GET",
            "/api/reports?from=2026-01-01&to=2026-01-02",
            None,
            "only supervisors and admins may read reports",
        ),
        (alice, "GET", "/api/calls", None, "only supervisors may list the live calls"),
        (alice, "GET", "/api/callbacks", None, "only supervisors may list the callbacks"),
    ]
    for token, method, path, body, said in cases:
        status, problem = await call(node, token, method, path, body)
        roles = "agent" if token == alice else "agent, supervisor"
        assert (status, problem["code"], problem["message"]) == (403, "forbidden", f"{said} (your roles: {roles})"), (
            method,
            path,
        )


async def test_a_supervisor_whose_role_is_taken_away_loses_the_wallboard_and_the_call_they_listen_to_at_once(
    nodes: tuple[Node, Node],
) -> None:
    node_a, node_b = nodes
    clients = Clients(node_a.url)
    alice, carol = clients.agent("alice"), clients.agent("carol")
    phone, boss = Softphone(alice), Softphone(carol)
    caller = None
    try:
        await alice.hello()
        await carol.hello(available=False)
        await carol.send({"type": "wallboard", "watch": True})
        await carol.expect("wallboard", timeout=10)
        caller = await queued_call(clients)
        await phone.answer((await phone.ringing())["call_id"])
        await boss.monitor(phone.call_id, "listen")
        handoff = node_a.services.agent_calls.handoffs[phone.call_id]
        assert "carol" in handoff.monitors

        ada = await token_of(node_b, "ada", ADA)
        status, edited = await call(node_b, ada, "PATCH", "/api/admin/agents/carol", {"roles": ["agent"]})
        assert (status, edited["roles"]) == (200, ["agent"])

        await expect_revoked(carol)  # the desk is told, then closed: no wallboard frame after this
        async with asyncio.timeout(10):  # node A ends her leg (the change reached it over the bus)
            while "carol" in handoff.monitors:
                await asyncio.sleep(0.05)
        assert phone.call_id in node_a.services.agent_calls.handoffs  # the call itself goes on
        listened = [e for e in await node_a.services.store.events(caller.conversation_id)]
        assert [e["type"] for e in listened].count("call_monitored") == 1

        again = clients.agent("carol")  # a new login: her roles as they are now
        welcome = await again.hello(available=False)
        assert welcome["roles"] == ["agent"]
        await again.send({"type": "wallboard", "watch": True})
        refused = await again.expect("error", timeout=10)
        assert (refused["code"], refused["field"]) == ("forbidden", "type")
        late = Softphone(again)
        try:
            await again.send(
                {"type": "call_monitor", "call_id": phone.call_id, "mode": "listen", "sdp": await late.offer()}
            )
            refused = await again.expect("error", timeout=10)
            assert refused["code"] == "forbidden"
        finally:
            await late.close()
        assert "carol" not in handoff.monitors
        assert not [f for f in await again.quiet(0.5) if f.get("type") == "wallboard"]
    finally:
        await boss.close()
        await phone.close()
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
