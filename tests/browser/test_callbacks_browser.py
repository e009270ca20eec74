"""Callbacks in real Chromium: the customer books one with the bot's button, the widget rings when an agent
takes it, answering connects the customer to that agent's desk; or the customer cancels it from the widget."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from gateway.config import Settings
from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import eventually
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_softphone_browser import agent_stats, customer_stats, peak_level, write_agent_voice
from tests.conftest import bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS


@browser_fixture
async def callback_node(settings: Settings) -> AsyncIterator[Node]:
    node = await start_node(replace(settings, chat_flow="callback", voice_flow="callback"))
    yield node
    await bounded(node.stop(), "stopping the node")


async def book_a_callback(ctx: BrowserContext, node: Node, errors: list[str]) -> tuple[Page, str]:
    """The customer writes; nobody is free, so the bot offers a callback; they press "Call me back"."""
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await page.goto(node.url + "/")
    await page.click("[data-testid=cg-launcher]")
    await page.fill("[data-testid=cg-input]", "Can someone call me about my order?")
    await page.click("[data-testid=cg-send]")
    buttons = page.locator("[data-testid=cg-choices] button")
    await expect(buttons).to_have_text(["Call me back", "At five", "Wait"], timeout=10000)
    await buttons.filter(has_text="Call me back").click()
    banner = page.locator("[data-testid=cg-callback]")
    await expect(banner).to_be_visible()
    await expect(page.locator("[data-testid=cg-callback-text]")).to_contain_text("as soon as an agent is free")
    await expect(page.locator(".cg-msg[data-author=bot]", has_text="We will call you back.")).to_have_count(1)
    cid = await page.evaluate("window.ContactGateway.state().conversation_id")
    assert isinstance(cid, str) and cid
    return page, cid


async def test_a_callback_rings_the_widget_and_connects_the_customer_to_the_agent(
    mic_browser: Browser, speaking_browser: LaunchWithMic, callback_node: Node, tmp_path: Path
) -> None:
    node = callback_node
    agent_browser = await speaking_browser(write_agent_voice(tmp_path / "agent.wav"))
    agent_ctx = await agent_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        await agent.click("[data-testid=status-away]")
        await agent.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(agent.locator("[data-testid=agent-status]")).to_have_text(re.compile("away", re.IGNORECASE))
        customer, cid = await book_a_callback(customer_ctx, node, errors)
        cb = await node.services.callbacks.of_conversation(cid)
        assert cb is not None and cb["state"] in ("scheduled", "queued")

        # the desk's queue shows the waiting callback; the agent comes back: the task opens and the widget rings
        await expect(agent.locator(".queue-item[data-callback]")).to_contain_text("Callback", timeout=10000)
        await agent.click("[data-testid=status-available]")
        panel = agent.locator("[data-testid=callback-panel]")
        await expect(panel).to_be_visible(timeout=10000)
        await expect(panel).to_have_attribute("data-state", "ringing")
        await expect(agent.locator("[data-testid=callback-text]")).to_contain_text("attempt 1 of 2")
        incoming = customer.locator("[data-testid=cg-incoming]")
        await expect(incoming).to_be_visible(timeout=10000)
        await expect(customer.locator("[data-testid=cg-incoming-text]")).to_have_text("Alice Smith is calling you back")
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_hidden()

        # the customer answers: their call reaches this agent's softphone in the same conversation and connects at
        # once (the agent took the callback task already: nothing rings a second time)
        await customer.click("[data-testid=cg-incoming-answer]")
        await expect(incoming).to_be_hidden()
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute(
            "data-status", "connected", timeout=15000
        )
        assert (await agent.evaluate("window.AgentDesk.call()"))["call"]["conversation_id"] == cid
        await eventually(lambda: agent_stats(agent), lambda s: s["inboundAudioLevel"] > 0, "the agent's inbound level")
        await eventually(
            lambda: peak_level(lambda: customer_stats(customer), 0.6),
            lambda level: level > 0.02,
            "the customer's inbound level",
        )
        timeline = agent.locator("[data-testid=timeline]")
        await expect(
            timeline.locator(".tl-item[data-type=callback]", has_text="Callback closed: reached")
        ).to_have_count(1, timeout=10000)
        await expect(panel).to_be_hidden()
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="you were reached")).to_have_count(1)
        assert await node.services.callbacks.of_conversation(cid) is None
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_the_customer_cancels_the_callback_in_the_widget_and_sees_it_after_a_reload(
    browser: Browser, callback_node: Node
) -> None:
    node = callback_node
    ctx = await browser.new_context()
    errors: list[str] = []
    try:
        customer, cid = await book_a_callback(ctx, node, errors)
        cb = await node.services.callbacks.of_conversation(cid)
        assert cb is not None
        await customer.reload()  # the pending callback is still shown on a new page
        if not await customer.locator("[data-testid=cg-panel]").is_visible():
            await customer.click("[data-testid=cg-launcher]")
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_visible()
        await customer.click("[data-testid=cg-callback-cancel]")
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_hidden()
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="Callback cancelled")).to_have_count(1)
        closed = await node.services.callbacks.get(cb["id"])
        assert closed is not None and (closed["state"], closed["outcome"]) == ("closed", "cancelled")
        assert errors == []
    finally:
        await ctx.close()


async def test_a_message_written_while_a_callback_is_booked_for_later_reaches_the_agent_who_cancels_the_callback(
    browser: Browser, callback_node: Node
) -> None:
    """The bot books a callback for five o'clock; the customer writes again meanwhile while an agent is free: the
    widget says the chat is waiting, then who answers; the desk shows the chat with the booked callback, and the
    agent answers in the chat and cancels the callback (the customer is told)."""
    node = callback_node
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        await agent.click("[data-testid=status-away]")
        await agent.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(agent.locator("[data-testid=agent-status]")).to_have_text(re.compile("away", re.IGNORECASE))
        customer = await customer_ctx.new_page()
        customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await customer.fill("[data-testid=cg-input]", "Can someone call me this evening?")
        await customer.click("[data-testid=cg-send]")
        buttons = customer.locator("[data-testid=cg-choices] button")
        await expect(buttons).to_have_text(["Call me back", "At five", "Wait"], timeout=10000)
        await buttons.filter(has_text="At five").click()
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_visible()
        await expect(customer.locator(".cg-msg[data-author=bot]", has_text="We will call you back.")).to_have_count(1)
        cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
        assert isinstance(cid, str) and cid
        await eventually(lambda: _bot_running(node, cid), lambda running: not running, "the bot finishing")

        # an agent is free now; the callback waits for its time, and so would the chat before the fix
        await agent.click("[data-testid=status-available]")
        await expect(agent.locator("[data-testid=agent-status]")).to_have_text(re.compile("available", re.I))
        text = "Meanwhile: has my order shipped?"
        await customer.fill("[data-testid=cg-input]", text)
        await customer.click("[data-testid=cg-send]")
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Alice", timeout=10000)
        await expect(agent.locator("[data-testid=conversation]")).to_have_attribute(
            "data-conversation-id", cid, timeout=10000
        )
        await expect(agent.locator("[data-testid=timeline] .tl-item", has_text=text)).to_have_count(1)
        panel = agent.locator("[data-testid=callback-panel]")
        await expect(panel).to_have_attribute("data-state", "scheduled")
        await expect(agent.locator("[data-testid=callback-text]")).to_contain_text("“At five”: scheduled for")
        await expect(agent.locator("[data-testid=callback-reached]")).to_be_hidden()
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_visible()  # still booked

        # the agent answers in the chat and cancels the callback: it is no longer needed
        await agent.fill("[data-testid=composer]", "Yes, it left this morning.")
        await agent.click("[data-testid=send]")
        await expect(customer.locator(".cg-msg[data-author=agent]", has_text="it left this morning")).to_have_count(1)
        await agent.click("[data-testid=callback-cancel]")
        await expect(panel).to_be_hidden()
        await expect(
            agent.locator("[data-testid=timeline] .tl-item[data-type=callback]", has_text="Callback closed")
        ).to_contain_text("agent cancelled")
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_hidden()
        await expect(
            customer.locator(".cg-msg[data-author=system]", has_text="Callback cancelled by your agent")
        ).to_have_count(1)
        assert await node.services.callbacks.of_conversation(cid) is None
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def _bot_running(node: Node, cid: str) -> bool:
    return cid in node.services.bots.bots
