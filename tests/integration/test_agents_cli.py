"""`contact-gateway agents ...` acts on the store running nodes use, and they see each change at once: a new
password or a removal ends the agent's sessions on every node (desks closed, tokens refused), a new agent logs in
right away on any node; with the embedded Redis, by the data directory, whether a node runs or not."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from gateway.config import Settings
from tests.conftest import PASSWORDS, bounded
from tests.integration.test_login import desk, expect_revoked, login, post
from tests.support.servers import GatewayProcess, Node, start_node


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


async def cli(*args: str, stdin: str = "") -> Done:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "agents",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
    return Done(int(proc.returncode or 0), out.decode(), err.decode())


@pytest.fixture
async def nodes(settings: Settings) -> AsyncIterator[tuple[Node, Node]]:
    mine = replace(settings, trusted_proxies=("127.0.0.1/32",))
    a = await start_node(replace(mine, node_id="node-a"))
    b = await start_node(replace(mine, node_id="node-b"))
    yield a, b
    await bounded(a.stop(), "stopping node A")
    await bounded(b.stop(), "stopping node B")


async def test_password_removal_and_a_new_agent_take_effect_on_every_node_at_once(
    nodes: tuple[Node, Node], settings: Settings, tmp_path: Path
) -> None:
    node_a, node_b = nodes
    store = ("--redis-url", str(settings.redis_url))
    async with aiohttp.ClientSession() as http:
        alice = (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.1")).body["token"]
        bob = (await login(http, node_b, "bob", PASSWORDS["bob"], "192.0.2.2")).body["token"]
        desks = [await desk(node_b, "alice", alice), await desk(node_a, "bob", bob)]
        try:
            done = await cli("passwd", "alice", "--password-stdin", *store, stdin="a-brand-new-secret\n")
            assert done.returncode == 0, done.stderr
            await expect_revoked(desks[0])  # her desk on the other node closes
            assert (await post(http, node_a, "/api/agent/refresh", alice)).status == 401
            assert (await login(http, node_b, "alice", PASSWORDS["alice"], "192.0.2.1")).status == 401
            assert (await login(http, node_b, "alice", "a-brand-new-secret", "192.0.2.1")).status == 200

            done = await cli("remove", "bob", *store)
            assert done.returncode == 0, done.stderr
            await expect_revoked(desks[1])
            assert (await login(http, node_a, "bob", PASSWORDS["bob"], "192.0.2.2")).status == 401

            add = ("add", "dave", "--name", "Dave Doe", "--skills", "billing:3", "--admin", "--password-stdin", *store)
            done = await cli(*add, stdin="dave-secret-4444\n")
            assert done.returncode == 0, done.stderr
            reply = await login(http, node_b, "dave", "dave-secret-4444", "192.0.2.4")  # at once: no poll
            assert (reply.status, reply.body["agent"]["roles"]) == (200, ["agent", "admin"])
        finally:
            for d in desks:
                await d.close()

        # refusals: nothing changes
        weak = await cli("add", "erin", "--password-stdin", *store, stdin="password1234\n")
        assert (weak.returncode, "breached" in weak.stderr) == (2, True)
        again = await cli("add", "dave", "--password-stdin", *store, stdin="another-secret-55\n")
        assert (again.returncode, "already exists" in again.stderr) == (2, True)
        assert (await cli("remove", "nobody", *store)).returncode == 2
        listed = await cli("list", "--json", *store)
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [(r["id"], r["skills"]) for r in rows] == [
            ("alice", {}),
            ("carol", {"spanish": 3}),
            ("dave", {"billing": 3}),
        ]

        # export, then import into the same store: refused as a whole unless --replace
        out = tmp_path / "export.toml"
        assert (await cli("export", str(out), *store)).returncode == 0
        refused = await cli("import", str(out), *store)
        assert (refused.returncode, "alice, carol, dave" in refused.stderr) == (2, True)
        assert (await cli("import", str(out), "--replace", *store)).returncode == 0
        assert (await login(http, node_a, "dave", "dave-secret-4444", "192.0.2.4")).status == 200

        page = await node_a.services.audit.page(limit=20)
        mine = [(e["action"], e["target"]) for e in page.entries if e["actor"].startswith("cli")]
        assert mine[-3:] == [("agent.add", "dave"), ("agent.remove", "bob"), ("agent.password_reset", "alice")]


async def test_with_the_embedded_redis_the_data_dir_names_the_store_whether_a_node_runs_or_not(
    tmp_path: Path, agents_file: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "agents.toml").write_bytes(agents_file.read_bytes())  # an older deployment's file: imported once
    gw = GatewayProcess(data, "--log-format", "text")
    await gw.start()
    try:
        assert "imported 3 agents from" in gw.log.read_text()
        # a second serve on the same data directory would share its Redis (and, with workers, its port): refused
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "gateway", "serve", "--data-dir", str(data), "--port", "0", "--workers", "2"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(second.communicate(), timeout=60)
        assert second.returncode == 2, err.decode()
        assert f"another gateway (pid {gw.proc.pid}) is serving from" in err.decode()  # type: ignore[union-attr]
        done = await cli("add", "dave", "--password-stdin", "--data-dir", str(data), stdin="dave-secret-4444\n")
        assert done.returncode == 0, done.stderr
        async with (
            aiohttp.ClientSession() as http,
            http.post(gw.url + "/api/agent/login", json={"agent_id": "dave", "password": "dave-secret-4444"}) as r,
        ):
            assert r.status == 200
    finally:
        await gw.stop()
    # no node runs: the command starts the data directory's Redis for its own length
    done = await cli("passwd", "dave", "--password-stdin", "--data-dir", str(data), stdin="dave-secret-5555\n")
    assert done.returncode == 0, done.stderr
    (data / "agents.toml").unlink()  # read once: the store is the truth now
    again = GatewayProcess(data, "--log-format", "text")
    await again.start()
    try:
        log = again.log.read_text()
        assert "created agent 'demo'" not in log and "imported" not in log
        async with aiohttp.ClientSession() as http:
            for password, status in (("dave-secret-4444", 401), ("dave-secret-5555", 200)):
                body = {"agent_id": "dave", "password": password}
                async with http.post(again.url + "/api/agent/login", json=body) as r:
                    assert r.status == status
    finally:
        await again.stop()
    missing = await cli("list", "--data-dir", str(tmp_path / "nowhere"))
    assert (missing.returncode, "no such data directory" in missing.stderr) == (2, True)
