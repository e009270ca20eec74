"""Roles: one check for every route (gateway/wire/routes.py agent_with_role)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.conftest import PASSWORDS, bounded
from tests.support.servers import Node, start_node

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
