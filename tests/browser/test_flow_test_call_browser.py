"""A test call into a draft from the flow console, in real Chromium (its fake microphone): the call runs the draft
in the IVR (no chat bot greets first), its steps are listed and the node it is at highlighted, the keypad answers the
menu, and the call ends the draft's way while the live version is untouched."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser import test_flow_editor_browser as editor
from tests.browser.test_flow_editor_browser import edit, has_class, no_blocking_axe_or_csp, open_editor, opened
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

admin_node = editor.admin_node  # the editor tests' node: admins, an agent, the default flow as the chat bot


async def test_a_test_call_into_a_draft_follows_the_draft(browser: Browser, admin_node: Node, tmp_path: Path) -> None:
    live = admin_node.services.flows.get("default").version
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        await edit(page, "reason: support_closed", "reason: support_moved")
        await page.fill("[data-testid=save-message]", "support moved")
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Saved as version")

        await page.click("#tab-test")
        await page.click("[data-testid=call-start]")
        steps = page.get_by_test_id("test-steps")
        await expect(steps.locator("li[data-node=menu][data-kind=enter]").first).to_be_visible(timeout=20_000)
        await expect(page.locator(".fg-node[data-node=menu]")).to_have_class(has_class("fg-current"))
        await page.get_by_role("button", name="Key 2").click()
        await expect(steps.locator("li[data-node=support]").first).to_be_visible(timeout=15_000)
        await expect(page.locator(".fg-node[data-node=support]")).to_have_class(has_class("fg-current"))
        log = page.get_by_test_id("chat-log")
        await expect(log).to_contain_text("The test call ended (support_moved).", timeout=15_000)
        assert await log.locator(".from-bot").count() == 0  # a test call only: no chat bot greeted
        await page.screenshot(path=str(tmp_path / "flow-test-call.png"), full_page=True)
        await no_blocking_axe_or_csp(page)
        assert admin_node.services.flows.get("default").version == live  # the draft stays a draft
    finally:
        await ctx.close()
