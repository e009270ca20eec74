"""The widget by keyboard and to a screen reader, as an accessibility test found it (WCAG 2.2 AA): after Call us,
Hang up, Answer and Decline the focus goes on to the next sensible control, never to <body>; an incoming call takes
the focus on Answer only from no text field (never from the message box, even empty); Mute is a toggle with one name; the customer's own message is put in the log once (it was
removed and inserted again when the server had it, and read twice); the typing indicator is not written again
while its words stay the same. And the widget's host element does not take the host page's CSS."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import chatting
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

FOCUSED = """() => { const r = document.querySelector('#cg-widget').shadowRoot; const a = r.activeElement;
  return a ? (a.dataset.testid || a.className || a.tagName) : (document.activeElement || {}).tagName; }"""

# additions to the message log and changes to the typing line, counted
WATCH = """() => {
  const r = document.querySelector('#cg-widget').shadowRoot;
  window.__added = [];
  window.__typing = 0;
  new MutationObserver((records) => {
    for (const rec of records) for (const n of rec.addedNodes) window.__added.push(n.textContent);
  }).observe(r.querySelector('[data-testid=cg-messages]'), { childList: true });
  new MutationObserver((records) => { window.__typing += records.length; })
    .observe(r.querySelector('.typing-text'), { childList: true, characterData: true, subtree: true });
}"""


async def focused(page: Page) -> str:
    return str(await page.evaluate(FOCUSED))


async def focus_becomes(page: Page, want: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await focused(page) == want:
            return
        await asyncio.sleep(0.1)
    assert await focused(page) == want


async def test_the_widget_hands_the_focus_on_and_says_things_once(mic_browser: Browser, node: Node) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    try:
        agent, customer, errors = await chatting(agent_ctx, customer_ctx, node, "Hello there")
        await customer.evaluate(WATCH)

        # my own message: into the log once (not again once the server has it)
        await customer.fill("[data-testid=cg-input]", "A second question")
        await customer.press("[data-testid=cg-input]", "Enter")
        await expect(customer.locator(".cg-msg[data-author=customer]", has_text="A second question")).to_have_attribute(
            "data-status", "sent"
        )
        await asyncio.sleep(0.5)
        added = await customer.evaluate("window.__added")
        assert [t for t in added if "A second question" in t] == ["A second question"], added

        # the agent types for a while: the indicator's words are written once, not every 2 s
        await agent.locator("[data-testid=composer]").press_sequentially("Let me look that up for you", delay=180)
        await expect(customer.locator("[data-testid=cg-typing]")).to_be_visible()
        assert await customer.evaluate("window.__typing") <= 1

        # Call us by keyboard: the button turns off, the focus goes to Mute (one name, pressed when muted)
        await customer.locator("[data-testid=cg-call]").focus()
        await customer.keyboard.press("Enter")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_be_visible()
        assert await focused(customer) == "cg-mute"
        await customer.keyboard.press("Enter")
        mute = customer.locator("[data-testid=cg-mute]")
        await expect(mute).to_have_attribute("aria-pressed", "true")
        await expect(mute).to_have_attribute("aria-label", "Mute microphone")
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=15000)

        # Hang up by keyboard: on to the message box
        await customer.locator("[data-testid=cg-hangup]").focus()
        await customer.keyboard.press("Enter")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "ended")
        assert await focused(customer) == "cg-input"
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_hidden(timeout=15000)

        # the agent invites to a call while the focus is in the (empty) message box: it stays there (the customer
        # may be about to type: a Space would answer), the banner is announced all the same; Decline: back there
        invite = agent.locator("[data-testid=invite-call]")
        await expect(invite).to_be_enabled(timeout=10000)
        await invite.click()
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_visible()
        await asyncio.sleep(0.3)
        assert await focused(customer) == "cg-input"
        await customer.keyboard.type("ok ")
        await expect(customer.locator("[data-testid=cg-input]")).to_have_value("ok ")
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_visible()
        await customer.fill("[data-testid=cg-input]", "")
        await customer.locator("[data-testid=cg-incoming-decline]").focus()
        await customer.keyboard.press("Enter")
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_hidden()
        assert await focused(customer) == "cg-input"

        # invited again with the focus on no text field (the message list): the banner takes it on Answer;
        # answered by keyboard: on to Mute
        await customer.locator(".scroll").focus()
        await expect(invite).to_be_enabled(timeout=10000)
        await invite.click()
        await focus_becomes(customer, "cg-incoming-answer")
        await customer.keyboard.press("Enter")
        bar = customer.locator("[data-testid=cg-callbar]")
        await expect(bar).to_be_visible()
        assert await focused(customer) == "cg-mute"
        # the agent asked for this call: their desk is put through at once, no second ring (a verifying test)
        await expect(bar).to_have_attribute("data-status", "connected", timeout=15000)
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_hidden()
        # on the desk, Invite to call (clicked, so focused) is off now: the focus went on, not to <body>
        await expect(invite).to_be_disabled()
        agent_focus = await agent.evaluate("() => (document.activeElement || document.body).tagName")
        assert agent_focus != "BODY"
        await customer.locator("[data-testid=cg-hangup]").click()
        # the call's end reached the gateway and the desk before the contexts close (else its tasks leak)
        await expect(bar).to_have_attribute("data-status", "ended", timeout=10000)
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_hidden(timeout=15000)

        # the panel closed, the customer typing in the host page's own search box: an invitation opens the panel
        # and rings, and the page's field keeps the focus (it went into the widget's message box)
        await customer.locator("[data-testid=cg-launcher]").click()
        await expect(customer.locator("[data-testid=cg-panel]")).to_be_hidden()
        await customer.evaluate(
            "() => { const f = document.createElement('input'); f.id = 'site-search'; document.body.prepend(f); }"
        )
        await customer.locator("#site-search").click()
        await customer.keyboard.type("shoes")
        await expect(invite).to_be_enabled(timeout=10000)
        await invite.click()
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_visible()
        await asyncio.sleep(0.3)
        assert await customer.evaluate("() => document.activeElement && document.activeElement.id") == "site-search"
        await customer.keyboard.type(" red")
        await expect(customer.locator("#site-search")).to_have_value("shoes red")
        await customer.locator("[data-testid=cg-incoming-decline]").click()
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_hidden()
        # the panel still closed, the agent answers in the chat: a screen reader hears who and what (the panel's
        # own regions are hidden with it), and the launcher counts it
        await customer.locator("[data-testid=cg-launcher]").click()  # (the ring opened it)
        await expect(customer.locator("[data-testid=cg-panel]")).to_be_hidden()
        await agent.locator("[data-testid=composer]").fill("Your refund went out today.")
        await agent.locator("[data-testid=composer]").press("Enter")
        news = customer.locator("[data-testid=cg-news]")
        await expect(news).to_have_text("Alice Smith: Your refund went out today.")
        await expect(news).to_have_attribute("role", "status")
        await expect(customer.locator("[data-testid=cg-launcher]")).to_have_attribute(
            "aria-label", "Open chat (1 new message)"
        )
        await customer.locator("[data-testid=cg-launcher]").click()
        await expect(news).to_have_text("")  # read in the panel now
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
    assert errors == []


HOSTILE = """
div { border: 3px dashed blue !important; margin: 7px !important; }
* { outline: 4px solid red; padding: 9px; transform: translateX(40px); }
cg-widget, #cg-widget { display: none !important; border: 5px solid green !important; position: absolute !important;
  filter: blur(3px) !important; opacity: .2 !important; }
"""


async def test_the_host_pages_css_does_not_touch_the_widgets_host(browser: Browser, node: Node) -> None:
    page = await (await browser.new_context()).new_page()
    try:
        await page.goto(node.url + "/")
        await page.add_style_tag(content=HOSTILE)
        launcher = page.get_by_test_id("cg-launcher")
        await expect(launcher).to_be_visible()
        host = await page.evaluate("""() => {
          const h = document.querySelector('#cg-widget');
          const s = getComputedStyle(h);
          return { tag: h.tagName.toLowerCase(), display: s.display, border: s.borderTopWidth, style: s.borderTopStyle,
            outline: s.outlineStyle, padding: s.paddingTop, margin: s.marginTop, transform: s.transform,
            position: s.position, filter: s.filter, opacity: s.opacity };
        }""")
        assert host == {
            "tag": "cg-widget",
            "display": "block",
            "border": "0px",
            "style": "none",
            "outline": "none",
            "padding": "0px",
            "margin": "0px",
            "transform": "none",
            "position": "static",
            "filter": "none",
            "opacity": "1",
        }, host
        await launcher.click()
        await expect(page.get_by_test_id("cg-panel")).to_be_visible()
        box = await page.get_by_test_id("cg-panel").bounding_box()
        viewport = page.viewport_size
        assert box and viewport and box["x"] + box["width"] <= viewport["width"]
    finally:
        await page.context.close()


async def test_shift_tab_from_a_focused_scroller_stays_in_order_in_the_full_screen_panel(
    browser: Browser, node: Node
) -> None:
    """Chrome focuses an overflowing scroller without a tabindex (the captions log during a call); Shift+Tab from it
    went to the panel's last control (Download transcript), skipping Hang up, the keypad, CC, Mute."""
    page = await (await browser.new_context(viewport={"width": 320, "height": 568})).new_page()
    try:
        await page.goto(node.url + "/")
        await page.get_by_test_id("cg-launcher").click()
        await expect(page.get_by_test_id("cg-panel")).to_have_attribute("aria-modal", "true")
        # the call bar with its captions as during a call (a log that overflows)
        await page.evaluate("""() => {
          const r = document.querySelector('#cg-widget').shadowRoot;
          r.querySelector('[data-testid=cg-callbar]').hidden = false;
          r.querySelector('.call-actions').hidden = false;
          const log = r.querySelector('[data-testid=cg-captions]');
          log.hidden = false;
          log.style.maxHeight = '40px';
          log.style.overflow = 'auto';
          for (let i = 0; i < 30; i++) { const p = document.createElement('p'); p.textContent = `Line ${i}`; log.append(p); }
        }""")
        await page.get_by_test_id("cg-hangup").focus()
        await page.keyboard.press("Tab")
        assert await focused(page) == "cg-captions"
        await page.keyboard.press("Shift+Tab")
        assert await focused(page) == "cg-hangup"
    finally:
        await page.context.close()
