"""Flows reload without a restart; a broken edit keeps the last good version in service."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import runtime
from gateway.config import Settings
from tests.conftest import TEST_FLOWS, bounded
from tests.support.clients import Customer
from tests.support.servers import start_node


async def greeting(url: str) -> str:
    cust = Customer(url)
    try:
        await cust.hello()
        await cust.say("hi")
        return str((await cust.event("message", lambda e: e["author"] == "bot"))["text"])
    finally:
        await cust.close()


async def test_edited_flow_is_used_without_restart_and_a_broken_edit_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "FLOW_RELOAD_SECONDS", 0.1)
    flows = tmp_path / "flows"
    shutil.copytree(TEST_FLOWS, flows)
    node = await start_node(replace(settings, flows_dir=flows, chat_flow="default"))
    try:
        assert await greeting(node.url) == "Welcome to the test line."
        before = node.services.flows.get("default").version
        path = flows / "default.yaml"
        original = path.read_text()
        edited = original.replace("Welcome to the test line.", "Welcome to the new line.")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(edited)
        tmp.replace(path)  # admins (and editors) save atomically
        for _ in range(50):  # the reloader looks every 0.1 s here (3 s by default)
            if node.services.flows.get("default").version != before:
                break
            await asyncio.sleep(0.1)
        assert await greeting(node.url) == "Welcome to the new line."

        tmp.write_text(edited.replace("next: menu", "next: nowhere"))
        tmp.replace(path)
        await asyncio.sleep(0.5)
        assert node.services.flows.errors, "the broken file is reported"
        assert "nowhere" in str(node.services.flows.errors[0])
        assert await greeting(node.url) == "Welcome to the new line."  # the last good version serves on
    finally:
        await bounded(node.stop(), "stopping the node")
