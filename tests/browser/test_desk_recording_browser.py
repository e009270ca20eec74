"""A recorded call's timeline line in the desk (real Chromium, a real node and Redis): its length, and how much of
it was lost when the recorder's writer fell behind (the ``recording`` event's ``dropped_ms``, as
gateway/calls/taps.py writes it)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from gateway.protocol.states import EventType
from tests.browser.test_chat_browser import agent_login
from tests.conftest import Clients
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


def recording(call_id: str, cid: str, duration_ms: int, blocks: int, dropped_ms: int) -> dict[str, object]:
    name = f"{call_id}-1.ogg"
    return {
        "call_id": call_id,
        "agent_id": "alice",
        "file": name,
        "url": f"/api/recordings/{cid}/{name}",
        "duration_ms": duration_ms,
        "bytes": 1000,
        "blocks_dropped": blocks,
        "dropped_ms": dropped_ms,
    }


async def test_a_recording_says_how_much_audio_it_lost(browser: Browser, node: Node, clients: Clients) -> None:
    ctx = await browser.new_context()
    try:
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(page, node, "alice")
        customer = clients.customer()
        await customer.hello()
        cid = (await customer.say("Please call me about my invoice"))["conversation_id"]
        item = page.locator(f"[data-testid=conversations] .conv-item[data-conversation-id='{cid}']")
        await item.click()
        await expect(page.locator("[data-testid=conversation]")).to_have_attribute("data-conversation-id", cid)

        conversations = node.services.conversations
        await conversations.record(cid, EventType.RECORDING, recording("call-a", cid, 65_000, 0, 0))
        await conversations.record(cid, EventType.RECORDING, recording("call-b", cid, 125_000, 300, 3_000))
        lines = page.locator("[data-testid=timeline] li[data-type=recording]")
        await expect(lines).to_have_count(2)
        await expect(lines.nth(0)).to_contain_text("Call recording · 1:05 ·")
        await expect(lines.nth(0)).not_to_contain_text("lost")
        await expect(lines.nth(1)).to_contain_text("Call recording · 2:05 · 3 s of audio lost")
        assert not errors, errors
    finally:
        await ctx.close()
