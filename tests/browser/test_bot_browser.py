"""The test flow as a chat bot in the real widget: bot messages, buttons, a button press routes the chat."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from playwright.async_api import Browser, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.browser.test_chat_browser import agent_login
from tests.conftest import PASSWORDS, bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS


@browser_fixture
async def bot_node(settings: Settings) -> AsyncIterator[Node]:
    node = await start_node(replace(settings, chat_flow="default"))
    yield node
    await bounded(node.stop(), "stopping the bot node")


async def test_bot_buttons_in_the_widget(browser: Browser, bot_node: Node) -> None:
    ctx = await browser.new_context()
    try:
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(bot_node.url + "/")
        await page.click("[data-testid=cg-launcher]")
        await page.fill("[data-testid=cg-input]", "hello")
        await page.click("[data-testid=cg-send]")
        await expect(page.locator(".cg-msg[data-author=bot]").first).to_have_text("Welcome to the test line.")
        buttons = page.locator("[data-testid=cg-choices] button")
        await expect(buttons).to_have_text(["Billing", "Support", "Account"])
        # by keyboard: the button pressed is turned off with the others, the focus goes on to the message box
        await buttons.filter(has_text="Billing").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator(".cg-msg[data-author=bot]", has_text="Connecting you to billing.")).to_have_count(1)
        await expect(buttons.first).to_be_disabled()
        await expect(page.locator("[data-testid=cg-input]")).to_be_focused()
        cid = await page.evaluate("window.ContactGateway.state().conversation_id")
        conv = await bot_node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "queued" and conv["queue"] == "billing"
        assert (await bot_node.services.store.context(cid))["intent"] == "billing"
        texts = [
            e["text"]
            for e in await bot_node.services.store.events(cid)
            if e["type"] == "message" and e["author"] == "customer"
        ]
        assert texts == ["hello", "Billing"]
        assert errors == []
    finally:
        await ctx.close()


EVE = "Eve \u202ereversed\u202c"  # a right-to-left override in an agent's name (closed with its PDF)


@browser_fixture
async def eve_bot_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    agents = tmp_path / "eve-agents.toml"
    add_agent(agents, "alice", EVE, PASSWORDS["alice"], capacity=2)
    node = await start_node(replace(settings, chat_flow="default", agents_file=agents))
    yield node
    await bounded(node.stop(), "stopping the bot node")


async def test_the_desk_says_what_the_bot_offered_and_keeps_an_agents_name_apart(
    browser: Browser, eve_bot_node: Node, tmp_path: Path
) -> None:
    """A user test saw a line reading just "choices" for every bot menu, and an agent's name with a right-to-left
    override reverse the time after it ("Assigned to Eve 5:27 · desrever PM")."""
    node = eve_bot_node
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    customer_ctx = await browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        customer = await customer_ctx.new_page()
        customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await customer.fill("[data-testid=cg-input]", "hello")
        await customer.click("[data-testid=cg-send]")
        await customer.locator("[data-testid=cg-choices] button", has_text="Billing").click()

        item = agent.locator("[data-testid=conversations] .conv-item")
        await expect(item).to_have_count(1, timeout=10000)
        await item.first.click()
        await agent.fill("[data-testid=composer]", "Hi, I can help with billing.")
        await agent.click("[data-testid=send]")
        timeline = agent.locator("[data-testid=timeline]")
        mine = timeline.locator(".tl-item[data-type=message][data-author=agent]")
        await expect(mine).to_have_count(1)
        choices = timeline.locator(".tl-item[data-type=choices]")
        await expect(choices).to_have_count(1)
        await expect(choices).to_contain_text("Bot offered: Billing, Support, Account")
        await expect(choices.locator("bdi")).to_have_text(["Billing", "Support", "Account"])
        # the name is in a <bdi> of its own, the time outside it: in the line of the assignment and under the message
        assigned = timeline.locator(".tl-item[data-type=assigned]")
        await expect(assigned.locator("bdi")).to_have_text(EVE)
        await expect(assigned).to_have_text(re.compile(r"^Assigned to Eve \u202ereversed\u202c · \d"))
        await expect(mine.locator(".tl-meta bdi")).to_have_text(EVE, timeout=5000)
        await expect(mine.locator(".tl-meta")).to_have_text(re.compile(r"^Eve \u202ereversed\u202c · \d"))
        # and the eye sees it so: the time is drawn after (to the right of) the whole name
        order = await assigned.evaluate(
            """(li) => {
                 const bdi = li.querySelector('bdi');  // (one line: the name, then ' · ' and the time)
                 const after = document.createRange();
                 after.setStart(bdi.nextSibling, 3);  // the time's first character, after ' · '
                 after.setEnd(bdi.nextSibling, 4);
                 return { name: bdi.getBoundingClientRect().right, time: after.getBoundingClientRect().left };
               }"""
        )
        await agent.screenshot(path=str(Path(os.environ.get("CG_SCREENSHOTS", tmp_path)) / "desk-bot-bidi.png"))
        assert order["time"] >= order["name"], order
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
