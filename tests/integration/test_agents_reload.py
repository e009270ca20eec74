"""The agents file changes while two nodes run: a new agent logs in at once; a new password or a removal ends the
agent's sessions on every node (desks closed, tokens refused) — with the real CLI, no restart."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents import add_agent, load_agents
from gateway.wire.agents_watch import changes
from tests.conftest import PASSWORDS, bounded
from tests.integration.test_login import desk, expect_revoked, login, post
from tests.support.servers import Node, start_node

WITHIN = 6.0  # the watch looks every 2 s; revocation then reaches every node at once


@pytest.fixture
async def nodes(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Path]]:
    path = tmp_path / "agents.toml"
    shutil.copyfile(agents_file, path)  # this test edits it: not the session's shared file
    path.chmod(0o600)
    mine = replace(settings, agents_file=path, trusted_proxies=("127.0.0.1/32",))
    a = await start_node(mine)
    b = await start_node(mine)
    yield a, b, path
    await bounded(a.stop(), "stopping node A")
    await bounded(b.stop(), "stopping node B")


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "agents", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def settled(*nodes: Node) -> None:
    """Every node has applied the file as it is now (a node whose round already did it finds nothing new)."""
    for node in nodes:
        await node.services.agents_watch.check()


async def test_password_change_removal_and_a_new_agent_take_effect_on_every_node_without_a_restart(
    nodes: tuple[Node, Node, Path],
) -> None:
    node_a, node_b, path = nodes
    async with aiohttp.ClientSession() as http:
        alice = (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.1")).body["token"]
        bob = (await login(http, node_b, "bob", PASSWORDS["bob"], "192.0.2.2")).body["token"]
        desks = [await desk(node_b, "alice", alice), await desk(node_a, "bob", bob)]
        try:
            done = cli("passwd", "alice", "--password-stdin", "--file", str(path), stdin="a-brand-new-secret\n")
            assert done.returncode == 0, done.stderr
            await expect_revoked(desks[0], within=WITHIN)  # her desk on the other node closes
            await settled(node_a, node_b)  # each node reads the file on its own round (within 2 s)
            assert (await post(http, node_a, "/api/agent/refresh", alice)).status == 401
            assert (await login(http, node_b, "alice", PASSWORDS["alice"], "192.0.2.1")).status == 401
            assert (await login(http, node_b, "alice", "a-brand-new-secret", "192.0.2.1")).status == 200

            done = cli("remove", "bob", "--file", str(path))
            assert done.returncode == 0, done.stderr
            await expect_revoked(desks[1], within=WITHIN)
            await settled(node_a, node_b)
            assert (await login(http, node_a, "bob", PASSWORDS["bob"], "192.0.2.2")).status == 401

            add_agent(path, "dave", "Dave Doe", "dave-secret-4444")
            for _ in range(int(WITHIN * 10)):
                if (await login(http, node_b, "dave", "dave-secret-4444", "192.0.2.4")).status == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the new agent could not log in")
            assert cli("remove", "nobody", "--file", str(path)).returncode == 2
        finally:
            for d in desks:
                await d.close()


def test_changes_between_two_files(agents_file: Path, tmp_path: Path) -> None:
    old = load_agents(agents_file)
    edited = tmp_path / "agents.toml"
    shutil.copyfile(agents_file, edited)
    done = cli("passwd", "alice", "--password-stdin", "--file", str(edited), stdin="another-secret-1\n")
    assert done.returncode == 0, done.stderr
    assert cli("remove", "bob", "--file", str(edited)).returncode == 0
    add_agent(edited, "dave", "Dave Doe", "dave-secret-4444", capacity=2)
    diff = changes(old, load_agents(edited))
    assert (diff.added, diff.removed, diff.password_changed, diff.updated) == (("dave",), ("bob",), ("alice",), ())
    assert edited.stat().st_mode & 0o077 == 0  # rewritten owner-only
