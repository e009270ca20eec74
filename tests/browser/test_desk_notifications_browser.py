"""Desk notifications in real Chromium: a system notification (the real Notification API, permission granted in
the test browser) and a short sound for a new conversation or a customer message while the desk is in the
background, as the agent chose in the Notifications menu (kept per agent).

Headless Chromium never hides a page, so the test says the desk is hidden the way a browser does (document.hidden,
visibilityState, a visibilitychange event). The page's Notification is the real one, subclassed to record each
call; the sound is counted at the real AudioContext's createOscillator.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.test_call_browser import eventually
from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

OBSERVE = """
window.__notes = [];
window.__oscillators = 0;
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
  }
};
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__oscillators += 1; return createOscillator.call(this); };
"""

SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


async def notes(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("window.__notes"))


async def oscillators(page: Page) -> int:
    return int(await page.evaluate("window.__oscillators"))


async def say(customer: Page, text: str) -> None:
    await customer.fill("[data-testid=cg-input]", text)
    await customer.click("[data-testid=cg-send]")
    await expect(customer.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute(
        "data-status", "sent"
    )


async def test_a_hidden_desk_notifies_and_sounds_as_the_agent_chose(browser: Browser, node: Node) -> None:
    agent_ctx = await browser.new_context(permissions=["notifications"])
    await agent_ctx.add_init_script(OBSERVE)
    customer_ctx = await browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(agent, node, "alice")
        assert await agent.evaluate("Notification.permission") == "granted"

        # turned on in the menu (a click: where a browser may ask for the permission); kept for alice
        await agent.click("[data-testid=notify-menu]")
        desktop = agent.locator("[data-testid=notify-desktop]")
        sound = agent.locator("[data-testid=notify-sound]")
        await expect(desktop).not_to_be_checked()
        await expect(sound).to_be_checked()
        await desktop.check()
        await expect(desktop).to_be_checked()
        stored = await agent.evaluate("localStorage.getItem('cg.agent.notify:alice')")
        assert json.loads(stored) == {"notify": True, "sound": True}
        await agent.keyboard.press("Escape")
        await expect(desktop).to_be_hidden()

        await agent.evaluate(SET_HIDDEN, True)
        customer = await customer_ctx.new_page()
        customer.on("pageerror", lambda exc: errors.append(str(exc)))
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await say(customer, "Hello, I need help with an order")
        shown = await eventually(lambda: notes(agent), lambda n: len(n) == 1, "the new conversation's notification")
        cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
        assert shown[0]["title"].startswith("New conversation: Customer ")
        assert shown[0]["tag"] == f"cg-{cid}"
        beeps = await eventually(lambda: oscillators(agent), lambda n: n > 0, "the new conversation's sound")

        await say(customer, "Where is my order?")
        shown = await eventually(lambda: notes(agent), lambda n: len(n) == 2, "the message's notification")
        assert shown[1]["title"].startswith("New message from Customer ")
        assert shown[1]["body"] == "Where is my order?" and shown[1]["tag"] == f"cg-{cid}"
        beeps = await eventually(lambda: oscillators(agent), lambda n: n > beeps, "the message's sound")

        # sound off: the next message notifies in silence
        await agent.click("[data-testid=notify-menu]")
        await sound.uncheck()
        assert json.loads(await agent.evaluate("localStorage.getItem('cg.agent.notify:alice')")) == {
            "notify": True,
            "sound": False,
        }
        await say(customer, "Anyone there?")
        await eventually(lambda: notes(agent), lambda n: len(n) == 3, "the third notification")
        assert await oscillators(agent) == beeps

        # in the foreground the desk itself shows the message: no notification
        await agent.evaluate(SET_HIDDEN, False)
        await say(customer, "Thanks")
        await expect(
            agent.locator("[data-testid=timeline] .tl-item[data-author=customer]", has_text="Thanks")
        ).to_have_count(1)
        assert len(await notes(agent)) == 3
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
