"""Findings of an accessibility test (WCAG 2.2 AA) on the desk without a call and on the supervisor and admin pages:
the desk with nothing selected offers no hidden controls under its placeholder; its timeline is no live region, a
separate status says only what the customer (or someone else) wrote; Close hands the focus on; after signing in
to the admin console, the flow editor or the reports the focus is on the page's heading, not on Log out (Enter
there signed the user out); the wallboard has a main landmark and region names of its own; the flow editor says
how to leave its YAML box."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.browser.test_admin_console_browser import ADMIN_PASSWORD, console_node  # noqa: F401 (a fixture)
from tests.browser.test_chat_browser import chatting
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

FOCUSED = "() => { const a = document.activeElement; return a ? (a.dataset.testid || a.id || a.tagName) : null; }"


async def test_the_desk_hides_nothing_under_its_placeholder_and_says_only_news(browser: Browser, node: Node) -> None:
    first_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await browser.new_context()
    try:
        agent = await first_ctx.new_page()
        await agent.goto(node.url + "/agent")
        await agent.fill("#login-agent", "alice")
        await agent.fill("#login-password", "alice-secret-1")
        await agent.click("#login-submit")
        await expect(agent.locator("#placeholder")).to_be_visible()
        # nothing selected: the timeline, Attach, Emoji, the composer and Note take no focus and are not read
        for sel in ("#timeline-wrap", "#composer-form"):
            assert await agent.evaluate(f"() => document.querySelector('{sel}').inert") is True, sel
        await expect(agent.locator("[data-testid=attach]")).to_be_disabled()
        await expect(agent.locator("[data-testid=desk-emoji]")).to_be_disabled()
        await first_ctx.close()

        agent, customer, errors = await chatting(agent_ctx, customer_ctx, node, "Hi")
        assert await agent.evaluate("() => document.querySelector('#timeline-wrap').inert") is False
        timeline = agent.locator("[data-testid=timeline]")
        assert await timeline.get_attribute("aria-live") is None
        news = agent.locator("[data-testid=timeline-news]")
        await expect(news).to_have_attribute("role", "status")
        await customer.fill("[data-testid=cg-input]", "Is it in stock?")
        await customer.press("[data-testid=cg-input]", "Enter")
        await expect(news).to_have_text("Customer: Is it in stock?")
        # the agent's own reply is not news
        await agent.fill("[data-testid=composer]", "Yes, it is.")
        await agent.press("[data-testid=composer]", "Enter")
        await expect(customer.locator(".cg-msg[data-author=agent]", has_text="Yes, it is.")).to_have_count(1)
        await expect(news).to_have_text("Customer: Is it in stock?")

        # Close by keyboard: the focus goes on (here to the closed conversation's timeline), not to <body>
        await agent.locator("[data-testid=close]").focus()
        await agent.keyboard.press("Enter")
        await expect(agent.locator("#readonly")).to_be_visible()
        assert await agent.evaluate(FOCUSED) == "timeline-wrap"
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_signing_in_puts_the_focus_on_the_page_not_on_log_out(browser: Browser, console_node: Node) -> None:  # noqa: F811
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        for path, app in (("/admin", "#console"), ("/admin/flows", "#flows-app"), ("/supervisor/reports", "#reports")):
            await page.goto(console_node.url + path)
            await expect(page.locator("#login-form")).to_be_visible()
            await page.fill("#login-agent", "dana")
            await page.fill("#login-password", ADMIN_PASSWORD)
            await page.press("#login-password", "Enter")
            await expect(page.locator(app)).to_be_visible()
            await expect(page.locator(f"{app} h1")).to_be_focused()
            await page.evaluate("() => localStorage.clear() || sessionStorage.clear()")
            await ctx.clear_cookies()

        # the flow editor's YAML box says how Tab works and how to leave it
        await page.goto(console_node.url + "/admin/flows")
        keys = page.locator("#fe-yaml-keys")
        assert "fe-yaml-keys" in (await page.locator("#fe-yaml").get_attribute("aria-describedby") or "")
        assert re.search(r"Esc, then Tab", await keys.inner_text())

        # the wallboard: one main landmark shown, and region names of their own
        await page.goto(console_node.url + "/supervisor")
        await page.fill("#login-agent", "dana")
        await page.fill("#login-password", ADMIN_PASSWORD)
        await page.click("#login-submit")
        await expect(page.locator("#wb-live")).to_be_visible()
        await expect(page.locator("main:visible")).to_have_count(1)
        names = await page.evaluate("""() => [...document.querySelectorAll(
            'section[aria-label], section[aria-labelledby], [role=region]')].filter((el) => el.getClientRects().length).map((el) => el.getAttribute('aria-label')
            || document.getElementById(el.getAttribute('aria-labelledby')).textContent.trim())""")
        assert len(names) == len(set(names)), names
    finally:
        await ctx.close()
