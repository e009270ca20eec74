"""An accessibility check of the widget and the desk with axe-core (tests/support/axe.py) in real Chromium: no
`serious` or `critical` violation in the states a customer and an agent see most (every violation found is
printed, the lesser ones too): the widget's panel during a chat, with an agent's call invitation, during a call
with the keypad open and after it; the desk's sign-in, a selected conversation, the customer drawer on a narrow
screen, the ring banner, the call bar with the transfer form and the after-call work."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def check(page: Page, where: str, report: list[str], refused: list[str]) -> None:
    found: list[dict[str, Any]] = await axe_violations(page)
    report.append(f"{where}:\n{describe(found)}")
    refused += [f"{where}: {v['id']} ({v['impact']}) on {[n['target'] for n in v['nodes']]}" for v in blocking(found)]


async def test_the_widget_and_the_desk_have_no_serious_accessibility_violations(
    mic_browser: Browser, node: Node
) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    for ctx in (agent_ctx, customer_ctx):
        await install_axe(ctx)
    report: list[str] = []
    refused: list[str] = []
    errors: list[str] = []
    try:
        agent, customer = await agent_ctx.new_page(), await customer_ctx.new_page()
        for page in (agent, customer):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent.goto(node.url + "/agent")
        await expect(agent.locator("#login-form")).to_be_visible()
        await check(agent, "desk sign-in", report, refused)
        await agent_login(agent, node, "alice")
        await check(agent, "desk, nothing selected", report, refused)

        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await expect(customer.locator("[data-testid=cg-panel]")).to_be_visible()
        await check(customer, "widget open", report, refused)
        await customer.fill("[data-testid=cg-input]", "Hello, do you ship to Norway?")
        await customer.click("[data-testid=cg-send]")
        item = agent.locator("[data-testid=conversations] .conv-item")
        await expect(item).to_have_count(1)
        await item.first.click()
        await agent.fill("[data-testid=composer]", "Yes, we ship to Norway in 3-5 days.")
        await agent.click("[data-testid=send]")
        await expect(customer.locator(".cg-msg[data-author=agent]", has_text="ship to Norway")).to_have_count(1)
        await customer.locator("[data-testid=cg-input]").press_sequentially("Great", delay=20)
        await expect(agent.locator("[data-testid=typing-preview]")).to_be_visible()
        await check(customer, "widget chatting", report, refused)
        await check(agent, "desk, a conversation selected", report, refused)

        await agent.set_viewport_size({"width": 800, "height": 800})
        await agent.click("[data-testid=context-toggle]")
        await expect(agent.locator("[data-testid=context-pane]")).to_be_visible()
        await check(agent, "desk at 800 px, the customer drawer open", report, refused)
        await agent.keyboard.press("Escape")
        await agent.set_viewport_size({"width": 1280, "height": 800})

        await agent.click("[data-testid=invite-call]")
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_visible()
        await check(customer, "widget, the agent's call invitation", report, refused)
        await customer.click("[data-testid=cg-incoming-decline]")
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_hidden()

        await customer.click("[data-testid=cg-call]")
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=15000)
        await check(agent, "desk ringing", report, refused)
        await agent.click("[data-testid=cg-accept]")
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "connected")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await customer.click("[data-testid=cg-keypad-toggle]")
        await check(customer, "widget in a call, keypad open", report, refused)
        await agent.click("[data-testid=cg-transfer-toggle]")
        await expect(agent.locator("[data-testid=cg-transfer-panel]")).to_be_visible()
        await check(agent, "desk in a call, the transfer form open", report, refused)
        await agent.click("[data-testid=cg-hangup]")
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "wrapup")
        await check(agent, "desk after-call work", report, refused)
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "ended")
        await check(customer, "widget, the call ended", report, refused)
    finally:
        print("\n\n".join(report))
        await agent_ctx.close()
        await customer_ctx.close()
    assert refused == [], "\n".join(refused)
    assert errors == []
