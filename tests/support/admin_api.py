"""The admin REST as tests use it: a signed-in admin's calls, and a queue changed from what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from gateway.contact.agents_file import add_agent
from tests.support.servers import Node

ADA = "ada-admin-secret-1"  # Ada Admin's password


def agents_with_an_admin(path: Path, passwords: dict[str, str]) -> Path:
    """An agents file at ``path``: Alice (an agent), Carol (a supervisor) and Ada (an admin)."""
    add_agent(path, "alice", "Alice Smith", passwords["alice"], capacity=2)
    add_agent(path, "carol", "Carol White", passwords["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(path, "ada", "Ada Admin", ADA, capacity=1, roles=("agent", "admin"))
    return path


async def admin_token(node: Node, who: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(node.url + "/api/agent/login", json={"agent_id": who, "password": password}) as r,
    ):
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


class Admin:
    def __init__(self, node: Node, token: str):
        self.node, self.token = node, token

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {self.token}"}
            async with http.request(method, self.node.url + path, json=body, headers=headers) as r:
                text = await r.text()
                assert r.status == status, (method, path, r.status, text)
                return json.loads(text) if text else None

    async def queue(self, name: str) -> dict[str, Any]:
        listing = await self.call("GET", "/api/admin/queues")
        return next(q for q in listing["queues"] if q["name"] == name)

    async def put_queue(self, name: str, **changes: Any) -> dict[str, Any]:
        current = await self.call("GET", "/api/admin/queues")
        old = next((q for q in current["queues"] if q["name"] == name), {"version": 0})
        body = {**old, **changes, "name": name}
        return await self.call("PUT", f"/api/admin/queues/{name}", body, status=201 if old["version"] == 0 else 200)
