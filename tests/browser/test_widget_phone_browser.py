"""The widget on a phone, in real Chromium (tests/support's demo shop, the one-tag embed): the open panel covers the
screen in portrait (375x667) and in landscape (667x375) and is modal there (aria-modal, Tab goes round inside it,
never on to the hidden page behind), floating and not modal on a larger screen (Tab goes on to the page). In
landscape the head, call bar and composer are compact so the conversation keeps room for several lines. The
launcher's text (an admin may write 40 characters) is shown whole. Set CG_SCREENSHOTS to a folder to keep the
screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from gateway.contact.widget_settings import WidgetSettings
from tests.browser.test_call_browser import call_into_ivr
from tests.browser.test_chat_browser import shots_dir
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

PHONE = {"width": 375, "height": 667}
LANDSCAPE = {"width": 667, "height": 375}

#: Where focus is: in the widget's panel, on its launcher, or on the host page (the element's tag and text).
FOCUS = """() => {
  const host = document.querySelector('#cg-widget');
  if (document.activeElement !== host) {
    const el = document.activeElement;
    return 'page: ' + (el ? el.tagName + ' ' + (el.textContent || '').trim().slice(0, 30) : 'none');
  }
  const el = host.shadowRoot.activeElement;
  if (!el) return 'widget: none';
  const where = el.closest('[data-testid=cg-panel]') ? 'panel' : 'widget';
  return where + ': ' + (el.getAttribute('data-testid') || el.getAttribute('aria-label') || el.className);
}"""

#: The panel and the conversation list: their boxes, and how many text lines fit in the list.
BOXES = """() => {
  const root = document.querySelector('#cg-widget').shadowRoot;
  const box = (sel) => { const r = root.querySelector(sel).getBoundingClientRect();
                         return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height }; };
  const list = root.querySelector('.scroll');
  return { panel: box('.panel'), list: box('.scroll'), listHeight: list.clientHeight,
           lineHeight: parseFloat(getComputedStyle(root.querySelector('.cg-msg') || list).lineHeight) || 20,
           modal: root.querySelector('.panel').getAttribute('aria-modal'),
           width: innerWidth, height: innerHeight };
}"""


async def phone(browser: Browser, viewport: dict[str, int], errors: list[str]) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport=viewport, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return ctx, page


async def open_by_keyboard(page: Page, node: Node) -> None:
    await page.goto(node.url + "/")
    await page.get_by_test_id("cg-launcher").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("cg-status")).to_contain_text("We typically reply")
    await expect(page.get_by_test_id("cg-input")).to_be_focused()
    await page.wait_for_function(  # the panel's opening animation is over: its box is where it stays
        "() => document.querySelector('#cg-widget').shadowRoot.querySelector('.panel').getAnimations()"
        ".every((a) => a.playState === 'finished')"
    )


async def tab_round(page: Page, presses: int, key: str = "Tab") -> list[str]:
    seen = []
    for _ in range(presses):
        await page.keyboard.press(key)
        seen.append(await page.evaluate(FOCUS))
    return seen


async def test_on_a_phone_the_full_screen_panel_is_modal_and_tab_stays_in_it(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    """Old code: Tab went from "Download transcript" to the page's links hidden behind the panel (aria-modal false)."""
    errors: list[str] = []
    ctx, page = await phone(browser, PHONE, errors)
    try:
        await open_by_keyboard(page, node)
        panel = page.get_by_test_id("cg-panel")
        await expect(panel).to_have_attribute("aria-modal", "true")
        boxes = await page.evaluate(BOXES)
        assert boxes["panel"] == {"top": 0, "bottom": 667, "left": 0, "right": 375, "height": 667}, boxes
        await page.screenshot(path=str(shots_dir(tmp_path) / "phone-375x667.png"))

        forward = await tab_round(page, 12)
        assert all(where.startswith("panel: ") for where in forward), forward
        # it went round: from the last control (Send: an empty chat has no transcript link) back to the first (Call)
        at = forward.index("panel: cg-call", 1)
        assert forward[at - 1] == "panel: cg-send" and "panel: Close chat" in forward, forward
        backward = await tab_round(page, 12, "Shift+Tab")
        assert all(where.startswith("panel: ") for where in backward), backward

        # focus put on the page by other means (a script, a click through) comes back into the panel
        await page.evaluate("document.querySelector('a[href]').focus()")
        assert (await page.evaluate(FOCUS)).startswith("panel: ")

        # a larger screen: the page is visible beside the floating panel, which is not modal; Tab goes on to it
        await page.set_viewport_size({"width": 1280, "height": 800})
        await expect(panel).to_have_attribute("aria-modal", "false")
        await page.get_by_test_id("cg-send").focus()
        await page.keyboard.press("Tab")
        assert (await page.evaluate(FOCUS)).startswith(("page: ", "widget: ")), await page.evaluate(FOCUS)

        # back to the phone: modal again; Esc closes it and gives focus to the launcher; closed, nothing is trapped
        await page.set_viewport_size(PHONE)
        await expect(panel).to_have_attribute("aria-modal", "true")
        await page.get_by_test_id("cg-input").focus()
        await page.keyboard.press("Escape")
        await expect(panel).to_be_hidden()
        await expect(page.get_by_test_id("cg-launcher")).to_be_focused()
        await expect(panel).to_have_attribute("aria-modal", "false")
        await page.keyboard.press("Tab")
        assert (await page.evaluate(FOCUS)).startswith("page: ")
        assert errors == []
    finally:
        await ctx.close()


async def test_in_landscape_the_panel_is_full_screen_and_the_conversation_keeps_several_lines_during_a_call(
    mic_browser: Browser, node: Node, tmp_path: Path
) -> None:
    """Old code at 667x375: a floating panel 255 px high; its head, the call bar and the composer left the
    conversation about 20 px."""
    errors: list[str] = []
    ctx, page = await phone(mic_browser, LANDSCAPE, errors)
    try:
        await ctx.grant_permissions(["microphone"])
        await open_by_keyboard(page, node)
        box = page.get_by_test_id("cg-input")
        for n in range(1, 7):
            await box.fill(f"Message {n}: the tent pole snapped on the second night.")
            await box.press("Enter")
        await expect(page.locator(".cg-msg[data-author=customer]")).to_have_count(6)
        await expect(page.get_by_test_id("cg-panel")).to_have_attribute("aria-modal", "true")
        chat: dict[str, Any] = await page.evaluate(BOXES)
        await page.screenshot(path=str(shots_dir(tmp_path) / "phone-667x375-chat.png"))
        await call_into_ivr(page)
        await page.wait_for_timeout(1500)  # the greeting's captions are shown
        call: dict[str, Any] = await page.evaluate(BOXES)
        await page.screenshot(path=str(shots_dir(tmp_path) / "phone-667x375-call.png"))
        await page.get_by_test_id("cg-keypad-toggle").click()
        await page.screenshot(path=str(shots_dir(tmp_path) / "phone-667x375-keypad.png"))
        keypad: dict[str, Any] = await page.evaluate(BOXES)
        await page.get_by_test_id("cg-hangup").click()

        assert chat["panel"] == {"top": 0, "bottom": 375, "left": 0, "right": 667, "height": 375}, chat
        assert chat["listHeight"] >= 9 * chat["lineHeight"], chat  # several messages readable
        assert call["listHeight"] >= 6 * call["lineHeight"], call  # with the call bar and its captions
        assert keypad["listHeight"] >= 2 * keypad["lineHeight"], keypad  # the keypad open: still some
        assert errors == []
    finally:
        await ctx.close()


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_a_long_launcher_text_is_shown_whole_on_a_phone(
    browser: Browser, node: Node, tmp_path: Path, language: str
) -> None:
    """Old code: "Chat with us 😀 right n…" (one line, cut with an ellipsis at 220 px); in an Arabic widget (the
    launcher on the left) the English text was placed from the right edge, over the launcher."""
    words = "Chat with us 😀 right now, we're online!"
    assert len(words) <= 40
    await node.services.widget.put(WidgetSettings(launcher_text=words, language=language))
    errors: list[str] = []
    ctx, page = await phone(browser, PHONE, errors)
    try:
        await page.goto(node.url + "/")
        label = page.get_by_test_id("cg-launcher-text")
        await expect(label).to_have_text(words)
        await page.screenshot(path=str(shots_dir(tmp_path) / f"phone-launcher-text-{language}.png"))
        fit = await page.evaluate("""() => {
          const root = document.querySelector('#cg-widget').shadowRoot;
          const el = root.querySelector('[data-testid=cg-launcher-text]');
          const r = el.getBoundingClientRect(), l = root.querySelector('.launcher').getBoundingClientRect();
          return { whole: el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight,
                   inside: r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight,
                   clear: r.right <= l.left || r.left >= l.right };
        }""")
        assert fit == {"whole": True, "inside": True, "clear": True}, fit
        await page.get_by_test_id("cg-launcher-text").click()  # a click on the text opens the chat too
        await expect(page.get_by_test_id("cg-panel")).to_be_visible()
        assert errors == []
    finally:
        await ctx.close()
