"""The desk's call by keyboard, as an accessibility test found it (WCAG 2.2 AA): a ring while the agent types does
not switch the conversation under their fingers, nor does answering it with Alt+Shift+A (the focus stays in the
composer); Accept puts the focus on the call's controls; the call bar is no
live region (only its status line is, and it is written only when it changes: the timer was read every second);
Mute and Hold are toggles with one fixed name; Hold keeps the focus while pending; Esc in the Transfer form goes
back to the Transfer button; Hang up and the after-call Close hand the focus on, never to <body>."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

FOCUSED = "() => { const a = document.activeElement; return a ? (a.dataset.testid || a.id || a.tagName) : null; }"

# every text a live region (or a status, log or alert) of the call bar is given, in order
WATCH_LIVE = """() => {
  window.__said = [];
  const bar = document.querySelector('[data-testid=cg-call-bar]');
  const live = (n) => n && n.closest && n.closest('[aria-live], [role=status], [role=log], [role=alert]');
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const region = live(el);
      if (region && bar.contains(region)) window.__said.push(region.textContent);
    }
  }).observe(bar, { subtree: true, childList: true, characterData: true });
}"""


async def customer_chats(browser: Browser, node: Node, text: str) -> Page:
    customer = await (await browser.new_context()).new_page()
    await customer.goto(node.url + "/")
    await customer.click("[data-testid=cg-launcher]")
    await customer.fill("[data-testid=cg-input]", text)
    await customer.click("[data-testid=cg-send]")
    await expect(customer.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute(
        "data-status", "sent"
    )
    return customer


async def conv_id(page: Page) -> str:
    return str(await page.evaluate("() => window.ContactGateway.state().conversation_id"))


async def test_a_call_by_keyboard_keeps_the_agents_place_and_says_little(mic_browser: Browser, node: Node) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    customers: list[Page] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(agent, node, "alice")
        chat = await customer_chats(mic_browser, node, "Where is my order?")
        caller = await customer_chats(mic_browser, node, "I will call you")
        customers += [chat, caller]
        chat_id, caller_id = await conv_id(chat), await conv_id(caller)
        items = agent.locator("[data-testid=conversations] .conv-item")
        await expect(items).to_have_count(2)
        await agent.click(f".conv-item[data-conversation-id='{chat_id}']")
        main = agent.locator("[data-testid=conversation]")
        await expect(main).to_have_attribute("data-conversation-id", chat_id)

        # the agent types a reply in the chat while the other customer's call rings
        composer = agent.locator("[data-testid=composer]")
        await composer.press_sequentially("Thanks for waiting, let me ", delay=10)
        await caller.click("[data-testid=cg-call]")
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=15000)
        await composer.press_sequentially("check the order", delay=10)
        # not switched under their fingers: the rest of the reply is in the chat's composer, the chat still open
        await expect(main).to_have_attribute("data-conversation-id", chat_id)
        await expect(composer).to_have_value("Thanks for waiting, let me check the order")
        assert await agent.evaluate(FOCUSED) == "composer"

        # the shortcut answers without leaving the composer: the focus stays in it (on Mute, the next space muted
        # the agent), the chat stays open, and the reply goes on into the chat's draft
        await agent.keyboard.press("Alt+Shift+A")
        bar = agent.locator("[data-testid=cg-call-bar]")
        await expect(bar).to_be_visible()
        await expect(bar).to_have_attribute("data-status", "connected", timeout=15000)
        await expect(composer).to_be_focused()
        await expect(main).to_have_attribute("data-conversation-id", chat_id)
        await agent.keyboard.type(" for you")
        await expect(composer).to_have_value("Thanks for waiting, let me check the order for you")
        await expect(agent.locator("[data-testid=cg-mute]")).to_have_attribute("aria-pressed", "false")
        # the bar's name button opens the caller's conversation; the chat's draft kept whole, none of it went there
        await agent.locator("[data-testid=cg-call-who]").click()
        await expect(main).to_have_attribute("data-conversation-id", caller_id)
        await expect(composer).to_have_value("")
        await agent.click(f".conv-item[data-conversation-id='{chat_id}']")
        await expect(composer).to_have_value("Thanks for waiting, let me check the order for you")

        # the bar is no live region; its status line is, without the timer; nothing said while the call goes on
        assert await bar.get_attribute("aria-live") is None
        await expect(agent.locator("[data-testid=cg-call-status]")).to_have_attribute("role", "status")
        assert await agent.evaluate(
            "() => !document.querySelector('[data-testid=cg-call-timer]')"
            ".closest('[aria-live], [role=status], [role=log], [role=alert]')"
        )
        # the hint (after-call reason, consult hints) and the supervisors line ("Sara is whispering to you"): each
        # in a polite status region of its own, always there, the timer in none of them
        regions = await agent.evaluate(
            """() => ['cg-call-status', 'cg-call-hint', 'cg-call-supervisors'].map((id) => {
              const region = document.querySelector(`[data-testid=${id}]`).closest('[role=status], [aria-live]');
              return region && !region.hidden && region.getAttribute('aria-live') !== 'off'
                && !region.querySelector('[data-testid=cg-call-timer]') ? region.dataset.testid : null;
            })"""
        )
        assert regions == ["cg-call-status", "cg-call-hint-live", "cg-call-supervisors-live"], regions
        await agent.evaluate(WATCH_LIVE)
        await asyncio.sleep(2.5)
        assert await agent.evaluate("window.__said") == []

        # Mute: one name, pressed
        mute = agent.locator("[data-testid=cg-mute]")
        await mute.focus()
        await agent.keyboard.press("Enter")
        await expect(mute).to_have_attribute("aria-pressed", "true")
        await expect(mute).to_have_text("Mute")
        await agent.keyboard.press("Enter")
        await expect(mute).to_have_attribute("aria-pressed", "false")

        # Hold by keyboard: the focus stays on it while the gateway confirms, and after; one name, pressed
        hold = agent.locator("[data-testid=cg-hold]")
        await hold.focus()
        await agent.keyboard.press("Enter")
        assert await agent.evaluate(FOCUSED) == "cg-hold"
        await expect(bar).to_have_attribute("data-status", "held")
        await expect(hold).to_have_text("Hold")
        await expect(hold).to_have_attribute("aria-pressed", "true")
        assert await agent.evaluate(FOCUSED) == "cg-hold"
        said = await agent.evaluate("window.__said")
        assert said == ["On hold — the caller hears music"], said
        await agent.keyboard.press("Enter")
        await expect(bar).to_have_attribute("data-status", "connected")
        await expect(hold).to_have_attribute("aria-pressed", "false")
        assert await agent.evaluate(FOCUSED) == "cg-hold"

        # Transfer, then Esc: back on the Transfer button
        await agent.locator("[data-testid=cg-transfer-toggle]").focus()
        await agent.keyboard.press("Enter")
        await expect(agent.locator("[data-testid=cg-transfer-panel]")).to_be_visible()
        await expect(agent.locator("[data-testid=cg-transfer-target]")).to_be_focused()
        await agent.keyboard.press("Escape")
        await expect(agent.locator("[data-testid=cg-transfer-panel]")).to_be_hidden()
        assert await agent.evaluate(FOCUSED) == "cg-transfer-toggle"

        # Hang up by keyboard: on to the after-call bar's disposition; its Close: on, not lost
        await agent.evaluate("window.__said = []")
        await agent.locator("[data-testid=cg-hangup]").focus()
        await agent.keyboard.press("Enter")
        await expect(bar).to_have_attribute("data-status", "wrapup", timeout=10000)
        await expect(agent.locator("[data-testid=cg-wrap-disposition]")).to_be_focused()
        # the after-call reason is said, once, while the after-call timer runs on
        await asyncio.sleep(1.5)
        said = await agent.evaluate("window.__said")
        hints = [t for t in said if "Finish your notes" in t]
        assert len(hints) == 1 and hints[0].startswith("You hung up"), said
        await agent.locator("[data-testid=cg-wrap-close]").focus()
        await agent.keyboard.press("Enter")
        await expect(bar).to_be_hidden(timeout=10000)
        assert await agent.evaluate(FOCUSED) not in (None, "BODY")
    finally:
        await agent_ctx.close()
        for page in customers:
            await page.context.close()
    assert errors == []
