"""The test flow as a chat bot in the real widget: bot messages, buttons, a button press routes the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from playwright.async_api import Browser, expect

from gateway.config import Settings
from tests.conftest import bounded
from tests.support.servers import Node, start_node

pytestmark = pytest.mark.browser


@pytest.fixture
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
        await buttons.filter(has_text="Billing").click()
        await expect(page.locator(".cg-msg[data-author=bot]", has_text="Connecting you to billing.")).to_have_count(1)
        await expect(buttons.first).to_be_disabled()
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
