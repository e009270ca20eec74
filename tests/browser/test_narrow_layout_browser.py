"""The desk and the widget on narrow screens, in real Chromium: nothing cut off (tests/support/layout.py's rule)
with a live conversation and a call in progress, from 1,280 px down to 760 (a laptop with a side panel, a
tablet); the customer panel, a third column on wide screens, opens as a drawer from a "Customer" button, by
keyboard, and Esc closes it. Set CG_SCREENSHOTS to a folder to keep the screenshots at each width."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.test_call_browser import open_widget
from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.layout import cut_off
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

WIDTHS = (1280, 1024, 900, 800, 760)


def shots_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("CG_SCREENSHOTS", tmp_path))


async def problems_at_each_width(page: Page, what: str, shots: Path, widths: tuple[int, ...] = WIDTHS) -> list[str]:
    found = []
    for width in widths:
        await page.set_viewport_size({"width": width, "height": 800})
        await page.screenshot(path=str(shots / f"narrow-{what}-{width}.png"))
        found += [f"{what} at {width} px: {problem}" for problem in await cut_off(page)]
    return found


async def chat_with_alice(agent: Page, customer: Page) -> None:
    await customer.fill("[data-testid=cg-input]", "Hello, do you ship to Norway? My order is 4271.")
    await customer.click("[data-testid=cg-send]")
    item = agent.locator("[data-testid=conversations] .conv-item")
    await expect(item).to_have_count(1)
    await item.first.click()
    await agent.fill("[data-testid=composer]", "Yes, we ship to Norway in 3-5 days.")
    await agent.click("[data-testid=send]")
    await expect(customer.locator(".cg-msg[data-author=agent]", has_text="ship to Norway")).to_have_count(1)


async def test_the_desk_cuts_nothing_off_down_to_760_px_and_the_customer_panel_is_a_drawer(
    mic_browser: Browser, node: Node, tmp_path: Path
) -> None:
    """Old code: at 800 px the Away button is cut off by its group, the customer panel is gone (display: none)."""
    shots = shots_dir(tmp_path)
    agent_ctx = await mic_browser.new_context(viewport={"width": 800, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        await chat_with_alice(agent, customer)
        assert await problems_at_each_width(agent, "desk-chat", shots) == []

        # the customer panel at 800 px: a drawer over the timeline, opened and closed by keyboard
        await agent.set_viewport_size({"width": 800, "height": 800})
        pane, toggle = agent.locator("[data-testid=context-pane]"), agent.locator("[data-testid=context-toggle]")
        await expect(pane).to_be_hidden()
        await toggle.focus()
        await agent.keyboard.press("Enter")
        await expect(pane).to_be_visible()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(agent.locator("[data-testid=context]")).to_contain_text(re.compile(r"Customer\s*u_"))
        await expect(agent.locator("[data-testid=context-close]")).to_be_focused()
        await agent.screenshot(path=str(shots / "narrow-desk-drawer-800.png"))
        assert await cut_off(agent) == []
        await agent.keyboard.press("Escape")
        await expect(pane).to_be_hidden()
        await expect(toggle).to_be_focused()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await agent.keyboard.press("Enter")
        await expect(pane).to_be_visible()
        await agent.locator("#timeline-wrap").click(position={"x": 20, "y": 20})  # a click outside closes it too
        await expect(pane).to_be_hidden()

        # a call: the call bar and the transfer form wrap instead of overflowing
        await customer.click("[data-testid=cg-call]")
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=15000)
        await agent.screenshot(path=str(shots / "narrow-desk-ringing-800.png"))
        assert await cut_off(agent) == []
        await agent.click("[data-testid=cg-accept]")
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "connected")
        await agent.click("[data-testid=cg-transfer-toggle]")
        await expect(agent.locator("[data-testid=cg-transfer-panel]")).to_be_visible()
        assert await problems_at_each_width(agent, "desk-call", shots) == []
        await agent.set_viewport_size({"width": 1280, "height": 800})
        await expect(pane).to_be_visible()  # a third column again on a wide screen
        await expect(toggle).to_be_hidden()
        await agent.click("[data-testid=cg-hangup]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "ended")
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_the_widget_cuts_nothing_off_on_a_narrow_page_during_a_chat_and_a_call(
    mic_browser: Browser, node: Node, tmp_path: Path
) -> None:
    shots = shots_dir(tmp_path)
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context(viewport={"width": 800, "height": 800})
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        await chat_with_alice(agent, customer)
        problems = await problems_at_each_width(customer, "widget-chat", shots, (800, 360))
        await customer.set_viewport_size({"width": 800, "height": 800})
        await customer.click("[data-testid=cg-call]")
        await agent.click("[data-testid=cg-accept]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await customer.click("[data-testid=cg-keypad-toggle]")
        problems += await problems_at_each_width(customer, "widget-call", shots, (800, 360))
        await customer.click("[data-testid=cg-hangup]")
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "wrapup")
        assert problems == []
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_a_supervisors_header_stays_one_row_under_the_live_calls_panel(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    """The Live calls button makes a supervisor's header longer; the panel it opens is placed 56 px from the top.
    Old code at 800 px: the header wrapped to two rows and the panel covered the second (Log out included)."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = await ctx.new_page()
        await agent_login(page, node, "carol")
        await page.click("[data-testid=live-calls-toggle]")
        await expect(page.locator("[data-testid=live-calls-panel]")).to_be_visible()
        assert await problems_at_each_width(page, "supervisor", shots_dir(tmp_path)) == []
        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 800})
            header = await page.locator(".topbar").bounding_box()
            panel = await page.locator("[data-testid=live-calls-panel]").bounding_box()
            assert header is not None and panel is not None
            assert header["y"] + header["height"] <= panel["y"], f"the panel covers the header at {width} px"
    finally:
        await ctx.close()
