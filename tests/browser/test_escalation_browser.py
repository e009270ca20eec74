"""Chat -> voice in real Chromium: a customer chatting with an agent presses Call; that agent's desk rings in the
same conversation panel, both hear each other, and after the hang-up the chat goes on in the same panel."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import eventually, open_widget
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_softphone_browser import agent_stats, customer_stats, peak_level, write_agent_voice
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def test_a_chat_with_an_agent_becomes_a_call_to_that_agent_and_the_chat_goes_on(
    mic_browser: Browser, speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    agent_browser = await speaking_browser(write_agent_voice(tmp_path / "agent.wav"))
    agent_ctx = await agent_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        await customer.fill("[data-testid=cg-input]", "My invoice looks wrong")
        await customer.click("[data-testid=cg-send]")
        conv_item = agent.locator("[data-testid=conversations] .conv-item")
        await expect(conv_item).to_have_count(1)
        await conv_item.first.click()
        panel = agent.locator("[data-testid=conversation]")
        cid = await panel.get_attribute("data-conversation-id")
        assert cid
        await agent.fill("[data-testid=composer]", "Let's look at it together - press Call.")
        await agent.click("[data-testid=send]")
        await expect(customer.locator(".cg-msg[data-author=agent]", has_text="press Call")).to_have_count(1)
        composer = agent.locator("[data-testid=composer]")
        await composer.press_sequentially("While you dial: did")  # the agent is typing when the call rings

        # the customer presses Call: no IVR, the desk rings for this very conversation
        await customer.click("[data-testid=cg-call]")
        banner = agent.locator("[data-testid=cg-ring-banner]")
        await expect(banner).to_be_visible(timeout=15000)
        await expect(banner).to_have_attribute("data-conversation-id", cid)
        await expect(panel).to_have_attribute("data-conversation-id", cid)
        # the customer is calling their agent, not waiting in a queue (a user test saw "You are in the queue")
        status = customer.locator("[data-testid=cg-status]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_contain_text("Calling")
        await expect(status).not_to_contain_text(re.compile("queue", re.IGNORECASE))
        # the banner shows what the customer last wrote, not the agent's own reply (a user test saw that)
        ring_path = agent.locator("[data-testid=cg-ring-path]")
        await expect(ring_path).to_have_text(["Customer's last message: “My invoice looks wrong”"])
        await expect(ring_path.locator("bdi")).to_have_text("My invoice looks wrong")
        # typing goes on into the draft (no keystroke answers or declines the call); the banner says the shortcut
        await expect(composer).to_be_focused()
        await expect(agent.locator("[data-testid=cg-ring-keys]")).to_have_text("Press Alt+Shift+A to answer")
        await agent.keyboard.type(" you get it?")
        await agent.keyboard.press("Space")
        await expect(composer).to_have_value("While you dial: did you get it? ")
        await expect(banner).to_be_visible()
        await agent.screenshot(path=str(Path(os.environ.get("CG_SCREENSHOTS", tmp_path)) / "ringing-while-typing.png"))
        await agent.keyboard.press("Alt+Shift+A")
        await expect(composer).to_have_value("While you dial: did you get it? ")  # nothing typed by the shortcut
        await expect(composer).to_be_focused()
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute(
            "data-status", "connected", timeout=15000
        )
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await expect(status).not_to_contain_text(re.compile("queue", re.IGNORECASE))
        await eventually(lambda: agent_stats(agent), lambda s: s["inboundAudioLevel"] > 0, "the agent's inbound level")
        await eventually(
            lambda: peak_level(lambda: customer_stats(customer), 0.6),
            lambda level: level > 0.02,
            "the customer's inbound level",
        )
        timeline = agent.locator("[data-testid=timeline]")
        await expect(timeline.locator(".tl-item[data-type=call_answered]")).to_have_count(1)

        # the customer hangs up; the chat continues in the same panel
        await customer.click("[data-testid=cg-hangup]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute(
            "data-status", "ended", timeout=10000
        )
        await expect(timeline.locator(".tl-item[data-type=call_ended]")).to_have_count(1, timeout=10000)
        await customer.fill("[data-testid=cg-input]", "Thanks, that fixed it")
        await customer.click("[data-testid=cg-send]")
        await expect(
            timeline.locator(".tl-item[data-type=message][data-author=customer]", has_text="that fixed it")
        ).to_have_count(1)
        await expect(panel).to_have_attribute("data-conversation-id", cid)
        kinds = [e["type"] for e in await node.services.store.events(cid)]
        assert "ivr" not in kinds
        texts = [e.get("text", "") for e in await node.services.store.events(cid) if e["type"] == "message"]
        assert texts == ["My invoice looks wrong", "Let's look at it together - press Call.", "Thanks, that fixed it"]
        assert re.search(r"call_started.*call_answered.*call_ended", " ".join(kinds))
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
