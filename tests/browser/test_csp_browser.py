"""The desk and the demo page work under their Content-Security-Policy: no violation reported by Chromium
while an agent logs in and chats with a customer who opens the widget from the page's "Ask an expert" link."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

# Every CSP violation in the page, its shadow roots and workers (the event bubbles to the document).
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
}, true);
"""


def watch(page: Page, console: list[str]) -> None:
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: console.append(str(exc)))


async def violations(page: Page) -> list[str]:
    return list(await page.evaluate("window.__cspViolations"))


async def test_desk_and_demo_page_run_under_their_csp(browser: Browser, node: Node, tmp_path: Path) -> None:
    agent_ctx, customer_ctx = await browser.new_context(), await browser.new_context()
    for ctx in (agent_ctx, customer_ctx):
        await ctx.add_init_script(WATCH)
    agent, customer = await agent_ctx.new_page(), await customer_ctx.new_page()
    console: list[str] = []
    watch(agent, console)
    watch(customer, console)

    await agent_login(agent, node, "alice")
    await customer.goto(node.url + "/")
    await customer.click("text=Ask an expert")  # the handler moved from onclick= into /static/demo.js
    await expect(customer.locator("[data-testid=cg-panel]")).to_be_visible()
    await customer.fill("[data-testid=cg-input]", "Is the 2-person tent in stock?")
    await customer.click("[data-testid=cg-send]")
    conv_item = agent.locator("[data-testid=conversations] .conv-item")
    await expect(conv_item).to_have_count(1)
    await conv_item.first.click()
    await expect(
        agent.locator("[data-testid=timeline] .tl-item[data-type=message][data-author=customer]")
    ).to_have_text(re.compile("tent in stock"))
    await agent.fill("[data-testid=composer]", "Yes, ships today.")
    await agent.click("[data-testid=send]")
    await expect(customer.locator(".cg-msg[data-author=agent]", has_text="ships today")).to_have_count(1)

    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    await agent.screenshot(path=str(shots / "csp-desk.png"), full_page=True)
    await customer.screenshot(path=str(shots / "csp-demo.png"), full_page=True)
    assert await violations(agent) == [] and await violations(customer) == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    await agent_ctx.close()
    await customer_ctx.close()
