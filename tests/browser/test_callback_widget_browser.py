"""Callbacks booked on a chat, in real Chromium: the widget shows the pending callback, rings when an agent takes
it (also after a reload), answering connects the customer to that agent's desk with audio both ways; or the
customer cancels it from the banner.

Here the callback is booked by the gateway itself (``node.services.callbacks.request``) on a conversation the
customer started by chatting; tests/browser/test_callbacks_browser.py books one with the bot's button instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import eventually, open_widget
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_softphone_browser import agent_stats, customer_stats, peak_level, write_agent_voice
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

TIMEZONE = "Asia/Kolkata"  # UTC+05:30: a due time shown in UTC (or the server's zone) would be off by hours

#: Records Web Notifications instead of showing them, grants the permission when asked, and puts the customer
#: in another window (the page has no focus), where a ringing callback must reach them by a notification.
FAKE_NOTIFICATIONS = """
window.__notifications = [];
window.__permissionAsked = 0;
class FakeNotification {
  constructor(title, options) { window.__notifications.push({ title, body: (options && options.body) || '' }); }
  close() {}
}
FakeNotification.permission = 'default';
FakeNotification.requestPermission = () => {
  window.__permissionAsked++;
  FakeNotification.permission = 'granted';
  return Promise.resolve('granted');
};
window.Notification = FakeNotification;
Document.prototype.hasFocus = () => false;
"""


#: Counts every time the desk's incoming-call banner is shown (a flash between two frames included).
WATCH_RING_BANNER = """
window.__ringBannerShown = 0;
document.addEventListener('DOMContentLoaded', () => {
  const banner = document.querySelector('[data-testid=cg-ring-banner]');
  if (!banner) return;
  new MutationObserver(() => { if (!banner.hidden) window.__ringBannerShown++; })
    .observe(banner, { attributes: true, attributeFilter: ['hidden'] });
});
"""


async def customer_context(browser: Browser) -> BrowserContext:
    ctx = await browser.new_context(locale="en-GB", timezone_id=TIMEZONE)
    await ctx.add_init_script(FAKE_NOTIFICATIONS)
    return ctx


async def chat(page: Page, text: str) -> str:
    """The customer writes (nobody is free: the conversation waits in the queue); returns its id."""
    await page.fill("[data-testid=cg-input]", text)
    await page.click("[data-testid=cg-send]")
    await expect(page.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute("data-status", "sent")
    cid = await page.evaluate("window.ContactGateway.state().conversation_id")
    assert isinstance(cid, str) and cid
    return cid


async def widget_state(page: Page) -> dict[str, Any]:
    state = await page.evaluate("window.ContactGateway.state()")
    assert isinstance(state, dict)
    return state


async def callback_actions(node: Node, cid: str) -> list[tuple[str, str]]:
    """The callback's life in the conversation's timeline: (action, outcome) pairs."""
    return [
        (e["action"], e.get("outcome", "")) for e in await node.services.store.events(cid) if e["type"] == "callback"
    ]


async def test_a_callback_booked_on_a_chat_rings_the_widget_and_the_answer_reaches_the_agent(
    mic_browser: Browser, speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    agent_browser = await speaking_browser(write_agent_voice(tmp_path / "agent.wav"))
    agent_ctx = await agent_browser.new_context(viewport={"width": 1280, "height": 800})
    await agent_ctx.add_init_script(WATCH_RING_BANNER)
    customer_ctx = await customer_context(mic_browser)
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        await agent.click("[data-testid=status-away]")
        await agent.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(agent.locator("[data-testid=agent-status]")).to_have_text(re.compile("away", re.IGNORECASE))

        # the customer chats while nobody is free; the gateway books a callback on that conversation
        customer = await open_widget(customer_ctx, node, errors)
        cid = await chat(customer, "Could someone call me about my invoice?")
        cb_id = await node.services.callbacks.request(cid, queue="support", due=None, label="Call me back")
        pending = customer.locator("[data-testid=cg-callback]")
        await expect(pending).to_be_visible()
        await expect(customer.locator("[data-testid=cg-callback-text]")).to_have_text(
            "We'll call you back as soon as an agent is free — you keep your place in line."
        )
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="Callback booked")).to_have_text(
            "Callback booked: as soon as an agent is free"
        )
        await eventually(
            lambda: customer.evaluate("window.__permissionAsked"),
            lambda n: n == 1,
            "asking for the notification permission when the callback is booked",
        )
        await eventually(
            lambda: callback_actions(node, cid),
            lambda a: a == [("requested", ""), ("queued", "")],
            "the callback in the queue",
        )

        # the agent comes back: the conversation is theirs, the desk shows the callback ringing the customer
        await agent.click("[data-testid=status-available]")
        panel = agent.locator("[data-testid=callback-panel]")
        await expect(panel).to_be_visible(timeout=10000)
        await expect(panel).to_have_attribute("data-state", "ringing")
        await expect(panel).to_have_attribute("data-callback-id", cb_id)
        await expect(agent.locator("[data-testid=callback-text]")).to_have_text(
            "Callback “Call me back”: ringing the customer's browser · attempt 1 of 3"
        )
        # no number to dial: "reached" is the customer answering, not the agent's word; they may give it up
        await expect(agent.locator("[data-testid=callback-no-answer]")).to_be_visible()
        await expect(agent.locator("[data-testid=callback-reached]")).to_be_hidden()
        await expect(agent.locator("[data-testid=callback-wrong-number]")).to_be_hidden()
        await expect(agent.locator("[data-testid=invite-call]")).to_be_enabled()

        # the widget rings: banner, ring tone, a notification (the page has no focus); the pending line is gone
        incoming = customer.locator("[data-testid=cg-incoming]")
        await expect(incoming).to_be_visible(timeout=10000)
        await expect(customer.locator("[data-testid=cg-incoming-text]")).to_have_text("Alice Smith is calling you back")
        await expect(pending).to_be_hidden()
        state = await widget_state(customer)
        assert state["incoming"] is True and state["ringTone"] is True
        assert state["callback"]["id"] == cb_id and state["callback"]["state"] == "ringing"
        assert await customer.evaluate("window.__notifications") == [
            {"title": "Contact us", "body": "Alice Smith is calling you back"}
        ]

        # a reload while it rings: the new page rings too (welcome.callback and the history)
        await customer.reload()
        await expect(incoming).to_be_visible(timeout=10000)
        await expect(customer.locator("[data-testid=cg-incoming-text]")).to_have_text("Alice Smith is calling you back")
        assert (await widget_state(customer))["ringTone"] is True

        # the customer answers: an ordinary call to this agent in the same conversation; the agent took the
        # callback task already, so the desk connects it at once: no second ring, no Accept to press
        await customer.click("[data-testid=cg-incoming-answer]")
        await expect(incoming).to_be_hidden()
        assert (await widget_state(customer))["ringTone"] is False
        await expect(agent.locator("[data-testid=cg-call-bar]")).to_have_attribute(
            "data-status", "connected", timeout=15000
        )
        call = await agent.evaluate("window.AgentDesk.call()")
        assert call["call"]["conversation_id"] == cid and call["ringTone"] is False
        assert await agent.evaluate("window.__ringBannerShown") == 0
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_hidden()
        await expect(agent.locator("[data-testid=invite-call]")).to_be_disabled()
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await eventually(lambda: agent_stats(agent), lambda s: s["inboundAudioLevel"] > 0, "the agent's inbound level")
        await eventually(
            lambda: peak_level(lambda: customer_stats(customer), 0.6),
            lambda level: level > 0.02,
            "the customer's inbound level",
        )

        # reached: the desk's timeline tells the whole story, the panel is gone, the widget says so
        timeline = agent.locator("[data-testid=timeline]")
        await expect(timeline.locator(".tl-item[data-type=callback]")).to_have_text(
            [  # each line ends with its time
                re.compile(r"^Callback booked: as soon as an agent is free · "),
                re.compile(r"^Callback in the queue \(attempt 1\) · "),
                re.compile(r"^Callback attempt 1 of 3: ringing the customer for Alice Smith · "),
                re.compile(r"^Callback closed: reached · "),
            ],
            timeout=10000,
        )
        await expect(panel).to_be_hidden()
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="Callback")).to_have_text(
            [
                "Callback booked: as soon as an agent is free",
                "Callback: you were reached",
            ]
        )
        assert await callback_actions(node, cid) == [
            ("requested", ""),
            ("queued", ""),
            ("attempt", ""),
            ("closed", "reached"),
        ]
        closed = await node.services.callbacks.get(cb_id)
        assert closed is not None and (closed["state"], closed["outcome"], closed["attempts"]) == (
            "closed",
            "reached",
            "1",
        )
        assert (await widget_state(customer))["callback"] is None
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_the_customer_cancels_a_callback_booked_for_later_from_the_banner(browser: Browser, node: Node) -> None:
    ctx = await customer_context(browser)
    errors: list[str] = []
    try:
        customer = await open_widget(ctx, node, errors)
        cid = await chat(customer, "Please call me this afternoon")
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
        cb_id = await node.services.callbacks.request(cid, queue="support", due=due, label="Call me back")
        at = due.astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")  # en-GB: a 24-hour clock, in the page's zone

        await expect(customer.locator("[data-testid=cg-callback]")).to_be_visible()
        await expect(customer.locator("[data-testid=cg-callback-text]")).to_have_text(f"We'll call you back at {at}.")
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="Callback booked")).to_have_text(
            f"Callback booked for {at}"
        )
        assert (await widget_state(customer))["incoming"] is False

        await customer.click("[data-testid=cg-callback-cancel]")
        await expect(customer.locator("[data-testid=cg-callback]")).to_be_hidden()
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="Callback cancelled")).to_have_count(1)
        closed = await node.services.callbacks.get(cb_id)
        assert closed is not None and (closed["state"], closed["outcome"]) == ("closed", "cancelled")
        assert await callback_actions(node, cid) == [("requested", ""), ("closed", "cancelled")]
        assert await node.services.callbacks.of_conversation(cid) is None
        assert (await widget_state(customer))["callback"] is None
        assert errors == []
    finally:
        await ctx.close()


async def test_an_invitation_to_a_call_rings_until_declined_and_a_reload_does_not_ring_it_again(
    browser: Browser, node: Node
) -> None:
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await customer_context(browser)
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        cid = await chat(customer, "Can we talk instead?")
        await expect(agent.locator("[data-testid=conversation]")).to_have_attribute(
            "data-conversation-id", cid, timeout=10000
        )
        await expect(agent.locator("[data-testid=callback-panel]")).to_be_hidden()
        await customer.evaluate("Notification.permission = 'granted'")  # allowed on an earlier visit

        await agent.click("[data-testid=invite-call]")
        await expect(agent.locator("[data-testid=timeline] .tl-item[data-type=call_invite]")).to_have_text(
            re.compile(r"^Alice Smith invited the customer to a call · ")
        )
        incoming = customer.locator("[data-testid=cg-incoming]")
        await expect(incoming).to_be_visible()
        await expect(customer.locator("[data-testid=cg-incoming-text]")).to_have_text(
            "Alice Smith invites you to a call"
        )
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="invites you")).to_have_count(1)
        state = await widget_state(customer)
        assert state["ringTone"] is True and state["callback"] is None
        assert await customer.evaluate("window.__notifications") == [
            {"title": "Contact us", "body": "Alice Smith invites you to a call"}
        ]

        # Decline hides it, and the agent is told (the desk never knew); a reload within the ring time stays quiet
        await customer.click("[data-testid=cg-incoming-decline]")
        await expect(incoming).to_be_hidden()
        assert (await widget_state(customer))["ringTone"] is False
        await expect(agent.locator("[data-testid=timeline] .tl-item[data-type=call_invite_declined]")).to_contain_text(
            "The customer declined the call"
        )
        # the desk's notice follows: no "browser is ringing" left up after the decline
        await expect(agent.locator("#toast")).to_have_text("The customer declined the call")
        await customer.reload()
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="invites you")).to_have_count(1)
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Alice")
        state = await widget_state(customer)
        assert state["incoming"] is False and state["invite"] is None and state["ringTone"] is False
        types = [e["type"] for e in await node.services.store.events(cid)]
        assert types.count("call_invite") == 1 and types.count("call_invite_declined") == 1
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_no_answer_at_the_desk_schedules_the_next_attempt_and_the_widget_says_when(
    browser: Browser, node: Node
) -> None:
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await customer_context(browser)
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        await agent.click("[data-testid=status-away]")
        await agent.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(agent.locator("[data-testid=agent-status]")).to_have_text(re.compile("away", re.IGNORECASE))
        customer = await open_widget(customer_ctx, node, errors)
        cid = await chat(customer, "Call me on my mobile please")
        cb_id = await node.services.callbacks.request(
            cid, queue="support", due=None, label="Mobile", phone="+47 555 0101", attempts=2, retry_after=1800
        )
        await agent.click("[data-testid=status-available]")
        panel = agent.locator("[data-testid=callback-panel]")
        await expect(panel).to_have_attribute("data-state", "ringing", timeout=10000)
        await expect(agent.locator("[data-testid=callback-text]")).to_have_text(
            "Callback “Mobile”: ringing the customer's browser · attempt 1 of 2 · phone +47 555 0101"
        )
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_visible()
        await expect(agent.locator("[data-testid=callback-reached]")).to_be_visible()  # a number to dial
        await expect(agent.locator("[data-testid=callback-wrong-number]")).to_be_visible()

        # the agent dialled the number, nobody answered: the next attempt is in 30 minutes
        await agent.click("[data-testid=callback-no-answer]")
        await expect(agent.locator("[data-testid=timeline] .tl-item[data-type=callback]").last).to_have_text(
            re.compile(r"^Callback attempt 1: no answer · next at ")
        )
        # the chat was already waiting for an agent when the callback was booked on it: alice keeps it meanwhile
        await expect(panel).to_have_attribute("data-state", "scheduled")
        await expect(agent.locator("[data-testid=callback-text]")).to_contain_text("scheduled for")
        await expect(agent.locator("#conv-state")).to_have_text("assigned")
        await expect(agent.locator("#readonly")).to_be_hidden()
        cb = await node.services.callbacks.get(cb_id)
        assert cb is not None and (cb["state"], cb["attempts"]) == ("scheduled", "1")
        at = datetime.fromtimestamp(int(cb["due_ms"]) / 1000, ZoneInfo(TIMEZONE)).strftime("%H:%M")
        await expect(customer.locator("[data-testid=cg-incoming]")).to_be_hidden()
        await expect(customer.locator("[data-testid=cg-callback-text]")).to_have_text(f"We'll call you back at {at}.")
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="We missed you")).to_have_text(
            f"We missed you — we'll try again at {at}."
        )
        assert await callback_actions(node, cid) == [
            ("requested", ""),
            ("queued", ""),
            ("attempt", ""),
            ("outcome", "no_answer"),
        ]
        assert (await widget_state(customer))["ringTone"] is False
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_a_supervisor_sees_a_callback_booked_for_later_before_it_falls_due(browser: Browser, node: Node) -> None:
    """A callback booked for later belongs to no agent until its time; the supervisor's desk lists it (Live calls
    panel, Booked callbacks) with its label, time, queue and phone, and drops it once the customer cancels."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id=TIMEZONE)
    errors: list[str] = []
    try:
        cid, _ = await node.services.conversations.open_for_flow("u_bookedlater", {})
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
        cb_id = await node.services.callbacks.request(
            cid, queue="support", due=due, label="Call me at 8 AM", phone="+1 555 0199"
        )
        carol = await ctx.new_page()
        carol.on("pageerror", lambda exc: errors.append(f"carol: {exc}"))
        await agent_login(carol, node, "carol")
        await carol.click("[data-testid=live-calls-toggle]")
        row = carol.locator(f"[data-testid=booked-callback][data-callback-id='{cb_id}']")
        await expect(row).to_have_attribute("data-state", "scheduled", timeout=10000)
        await expect(row).to_have_attribute("data-conversation-id", cid)
        at = due.astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")
        await expect(row.locator(".live-call-title")).to_contain_text("Callback by phone · ")
        await expect(row).to_contain_text(at)
        await expect(row).to_contain_text(
            "booked · chose “Call me at 8 AM” · queue support · customer u_bookedla · phone +1 555 0199"
            " · not tried yet (up to 3 attempts)"
        )
        await expect(carol.locator("[data-testid=booked-callbacks-empty]")).to_be_hidden()

        await node.services.callbacks.cancel("u_bookedlater", cb_id)  # the customer cancels it
        await expect(row).to_have_count(0, timeout=10000)  # gone at the next refresh
        await expect(carol.locator("[data-testid=booked-callbacks-empty]")).to_be_visible()
        assert errors == []
    finally:
        await ctx.close()
