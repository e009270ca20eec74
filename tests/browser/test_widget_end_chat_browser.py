"""The widget's "End chat" in real Chromium against a real node: a text button in the panel's foot while the
conversation can be ended, an inline confirmation ("End this chat?") that starts on "Keep chatting" (Escape keeps
chatting and gives the focus back to the button), then the end_chat frame: the closed line says "You ended the chat",
the button goes and the message box says a message starts a new conversation. No rating question for a chat that
never reached an agent (ended, or closed by the gateway while they were away: the line says so); one after an agent
served it (their desk lets it go: ``unassigned``). The gateway refusing it
(a call of the conversation in progress, from another tab) is said in the header and the button comes back. The
confirmation fits a phone and mirrors right to left. Set CG_SCREENSHOTS to a folder to keep the screenshots
(endchat_*.png)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, WebSocket, expect

from gateway.contact.widget_settings import parse_widget
from tests.browser.test_call_browser import eventually
from tests.browser.test_desk_transfer_browser import desk_login
from tests.conftest import Clients
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.caller import in_ivr
from tests.support.layout import cut_off
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

PHONE = {"width": 375, "height": 667}
SMALL_PHONE = {"width": 320, "height": 568}

#: what has the focus in the widget (its test id), and whether it draws a visible focus indicator
FOCUS = """() => {
  const a = document.querySelector('#cg-widget').shadowRoot.activeElement;
  if (!a) return null;
  const s = getComputedStyle(a);
  return [a.dataset.testid || a.className, s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2];
}"""

#: every value the confirmation's "End chat" takes for aria-disabled from now on ('' when it is removed)
WATCH_PENDING = """() => {
  const yes = document.querySelector('#cg-widget').shadowRoot.querySelector('[data-testid=cg-end-confirm-yes]');
  window.__pending = [];
  new MutationObserver(() => window.__pending.push(yes.getAttribute('aria-disabled') || ''))
    .observe(yes, { attributes: true, attributeFilter: ['aria-disabled'] });
}"""


def shots_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("CG_SCREENSHOTS", tmp_path))


def record_frames(page: Page, frames: list[dict[str, Any]]) -> None:
    """Every frame the page's customer sockets send from now on, parsed, into ``frames``."""

    def on_socket(ws: WebSocket) -> None:
        if "/ws/customer" in ws.url:
            ws.on("framesent", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)


async def widget(
    ctx: BrowserContext, node: Node, errors: list[str], frames: list[dict[str, Any]] | None = None
) -> Page:
    """The demo shop with the widget's panel open (``frames``: what its sockets send, recorded)."""
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if frames is not None:
        record_frames(page, frames)
    await page.goto(node.url + "/")
    await page.get_by_test_id("cg-launcher").click()
    await expect(page.get_by_test_id("cg-panel")).to_be_visible()
    return page


async def write(page: Page, text: str) -> str:
    """Send ``text`` from the widget; the conversation's id once the gateway has it."""
    await page.get_by_test_id("cg-input").fill(text)
    await page.get_by_test_id("cg-send").click()
    await expect(page.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute("data-status", "sent")
    cid = await page.evaluate("window.ContactGateway.state().conversation_id")
    assert isinstance(cid, str) and cid
    return cid


async def focus(page: Page) -> list[Any] | None:
    found = await page.evaluate(FOCUS)
    assert found is None or isinstance(found, list)
    return found


async def assert_accessible(page: Page, where: str) -> None:
    found = await axe_violations(page)
    assert blocking(found) == [], f"{where}:\n{describe(found)}"


async def test_a_waiting_customer_ends_the_chat_and_is_not_asked_for_a_rating(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    await install_axe(ctx)
    errors: list[str] = []
    frames: list[dict[str, Any]] = []
    page = await widget(ctx, node, errors, frames)
    button = page.get_by_test_id("cg-end-chat")
    confirm = page.get_by_test_id("cg-end-confirm")
    await expect(page.get_by_test_id("cg-status")).to_contain_text("We typically reply")
    await expect(button).to_be_hidden()  # nothing to end yet

    cid = await write(page, "Is anybody there?")  # no agent online: it waits in the queue
    await expect(page.get_by_test_id("cg-status")).to_contain_text("in the queue")
    await expect(button).to_be_visible()
    await expect(button).to_have_text("End chat")
    await expect(page.get_by_test_id("cg-transcript")).to_be_visible()  # beside it
    await page.get_by_test_id("cg-panel").screenshot(path=str(shots_dir(tmp_path) / "endchat_button_wide.png"))

    # by keyboard: the question starts on the safe answer, with a visible focus
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(confirm).to_be_visible()
    await expect(page.get_by_role("group", name="End this chat?")).to_be_visible()
    await expect(button).to_be_hidden()
    assert await focus(page) == ["cg-end-keep", True]
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_wide.png"))
    await page.get_by_test_id("cg-panel").screenshot(path=str(shots_dir(tmp_path) / "endchat_wide_panel.png"))
    assert await cut_off(page) == []
    await assert_accessible(page, "the widget asking 'End this chat?'")
    await page.keyboard.press("Tab")
    assert await focus(page) == ["cg-end-confirm-yes", True]

    # Escape keeps chatting: the question goes, the panel stays, the focus is back on the button
    await page.keyboard.press("Escape")
    await expect(confirm).to_be_hidden()
    await expect(page.get_by_test_id("cg-panel")).to_be_visible()
    await expect(button).to_be_visible()
    await expect(button).to_be_focused()
    assert [f for f in frames if f["type"] == "end_chat"] == []
    stored = await node.services.store.conversation(cid)
    assert stored is not None and stored["state"] == "queued"

    # "Keep chatting" does the same
    await button.click()
    await page.get_by_test_id("cg-end-keep").click()
    await expect(confirm).to_be_hidden()
    await expect(button).to_be_focused()

    # ended: one frame, both answers dimmed until the closed event, then the line says who ended it
    await button.click()
    await expect(page.get_by_test_id("cg-end-keep")).to_be_focused()
    await page.evaluate(WATCH_PENDING)
    await page.get_by_test_id("cg-end-confirm-yes").click()
    line = page.locator(".cg-msg[data-author=system]", has_text="You ended the chat")
    await expect(line).to_be_visible()
    assert [f for f in frames if f["type"] == "end_chat"] == [{"type": "end_chat", "conversation_id": cid}]
    assert await page.evaluate("window.__pending") == ["true", ""]
    await expect(page.locator(".cg-msg[data-author=system]", has_text="closed")).to_have_count(0)
    await expect(page.get_by_test_id("cg-rating")).to_have_count(0)  # nobody served them: nothing to rate
    await expect(button).to_be_hidden()
    await expect(confirm).to_be_hidden()
    await expect(page.get_by_test_id("cg-input")).to_be_focused()  # not lost to <body> with the question
    await expect(page.get_by_test_id("cg-input")).to_have_attribute("placeholder", "New message…")
    await expect(page.get_by_test_id("cg-input")).to_have_attribute("title", "A message starts a new conversation")
    await expect(page.get_by_test_id("cg-status")).to_have_text("This conversation was closed")
    stored = await node.services.store.conversation(cid)
    assert stored is not None and (stored["state"], stored["disposition"]) == ("closed", "customer_ended")

    # after a reload: the same line, still no question, no button
    await page.reload()
    if not await page.get_by_test_id("cg-panel").is_visible():
        await page.get_by_test_id("cg-launcher").click()
    await expect(page.get_by_test_id("cg-status")).to_have_text("This conversation was closed")
    await expect(line).to_have_count(1)
    await expect(page.get_by_test_id("cg-rating")).to_have_count(0)
    await expect(button).to_be_hidden()

    # the next message starts a new conversation, which can be ended in turn
    again = await write(page, "One more thing")
    assert again != cid
    await expect(button).to_be_visible()
    assert errors == []


async def test_a_customer_ends_a_chat_an_agent_had_and_is_asked_for_a_rating(
    browser: Browser, node: Node, clients: Clients
) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page = await widget(ctx, node, errors)
    cid = await write(page, "Where is my parcel?")
    assert (await alice.assigned())["id"] == cid
    await expect(page.get_by_test_id("cg-status")).to_contain_text("You are chatting with")
    await alice.say(cid, "Let me look.")
    await expect(page.locator(".cg-msg[data-author=agent]", has_text="Let me look.")).to_be_visible()

    await page.get_by_test_id("cg-end-chat").click()
    await page.get_by_test_id("cg-end-confirm-yes").click()
    gone = await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    assert gone["reason"] == "customer_ended", gone
    closed = await alice.event("closed", lambda e: e["conversation_id"] == cid)
    assert closed["disposition"] == "customer_ended" and "queued_wait_ms" not in closed, closed
    await expect(page.locator(".cg-msg[data-author=system]", has_text="You ended the chat")).to_be_visible()
    card = page.get_by_test_id("cg-rating")  # an agent served them: how was it?
    await expect(card).to_be_visible()
    await expect(card.get_by_role("radiogroup")).to_have_accessible_name("How was your conversation?")
    await expect(page.get_by_test_id("cg-end-chat")).to_be_hidden()
    stored = await node.services.store.conversation(cid)
    assert stored is not None and (stored["state"], stored["disposition"]) == ("closed", "customer_ended")
    assert errors == []


async def test_a_customer_who_left_a_waiting_chat_reads_that_it_ended_while_they_were_away(
    browser: Browser, node: Node
) -> None:
    """The gateway closed their waiting chat while no widget of theirs was open (gone_customers.py: abandoned, with
    its wait): coming back, the line says so, and nobody asks how it was."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page = await widget(ctx, node, errors)
    cid = await write(page, "Hello? I have to go in a minute")
    await page.close()
    assert await node.services.conversations.abandon(cid, "", "customer_gone")  # what the sweep does
    closed = (await node.services.store.events(cid))[-1]
    assert (closed["type"], closed["disposition"]) == ("closed", "abandoned") and "queued_wait_ms" in closed, closed

    page = await widget(ctx, node, errors)  # back on the site: the same customer (localStorage)
    await expect(page.get_by_test_id("cg-status")).to_have_text("This conversation was closed")
    await expect(page.locator(".cg-msg[data-author=system]")).to_have_text(["This chat ended while you were away"])
    await expect(page.get_by_test_id("cg-rating")).to_have_count(0)
    await expect(page.get_by_test_id("cg-end-chat")).to_be_hidden()
    assert errors == []


async def test_a_refusal_is_said_and_the_button_comes_back(browser: Browser, node: Node, clients: Clients) -> None:
    """A call of the conversation is in progress in another tab of the customer's (this one has no call, so it
    offers End chat): the gateway refuses it (call_in_progress); once the call is over the chat ends."""
    caller = clients.customer()
    async with in_ivr(caller) as call:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        await ctx.add_init_script(
            f"localStorage.setItem({json.dumps('cg.token:' + node.url)}, {json.dumps(caller.token)})"
        )
        errors: list[str] = []
        page = await widget(ctx, node, errors)
        assert await page.evaluate("window.ContactGateway.state().conversation_id") == call.conversation_id
        assert await page.evaluate("window.ContactGateway.state().call") is None  # the call is the other tab's
        button = page.get_by_test_id("cg-end-chat")
        await button.click()
        await page.get_by_test_id("cg-end-confirm-yes").click()
        status = page.get_by_test_id("cg-status")
        await expect(status).to_have_text("You\u2019re on a call \u2014 hang up first, then end the chat")
        await expect(status).to_have_attribute("data-state", "error")
        await expect(page.get_by_test_id("cg-end-confirm")).to_be_hidden()
        await expect(button).to_be_visible()
        await expect(button).to_be_focused()
        await expect(page.get_by_test_id("cg-end-confirm-yes")).not_to_have_attribute("aria-disabled", "true")
        stored = await node.services.store.conversation(call.conversation_id)
        assert stored is not None and stored["state"] != "closed"
        await call.hangup()
        await call.status("ended")

    await expect(page.locator(".cg-msg[data-author=system]", has_text="Call ended")).to_be_visible()
    await eventually(  # the call's end is on the conversation (what the gateway checks)
        lambda: node.services.store.conversation(call.conversation_id),
        lambda conv: conv is not None and conv.get("calls") == conv.get("calls_ended"),
        "the call's end recorded on the conversation",
    )
    await button.click()
    await page.get_by_test_id("cg-end-confirm-yes").click()
    await expect(page.locator(".cg-msg[data-author=system]", has_text="You ended the chat")).to_be_visible()
    await expect(button).to_be_hidden()
    assert errors == []


async def test_the_question_fits_a_phone_and_mirrors_right_to_left(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    errors: list[str] = []
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = await widget(ctx, node, errors)
    await write(page, "Hello from my phone")
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_button_narrow.png"))
    await page.get_by_test_id("cg-end-chat").tap()
    confirm = page.get_by_test_id("cg-end-confirm")
    await expect(confirm).to_be_visible()
    panel = await page.get_by_test_id("cg-panel").bounding_box()
    assert panel and (panel["width"], panel["height"]) == (375, 667)  # the phone's full-screen panel
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_narrow.png"))
    assert await cut_off(page) == []
    boxes = await answers(page)
    assert boxes["keep"]["right"] <= boxes["yes"]["left"], boxes  # Keep chatting, then End chat
    assert boxes["q"]["right"] <= boxes["keep"]["left"], boxes  # on one line after the question
    for name in ("keep", "yes"):
        assert boxes[name]["height"] >= 28, boxes  # a finger's target
    # the smallest phone: the foot's links, and the question, still whole
    await page.set_viewport_size(SMALL_PHONE)
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_narrow_320.png"))
    assert await cut_off(page) == []
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("cg-end-chat")).to_be_visible()
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_button_320.png"))
    assert await cut_off(page) == []
    await ctx.close()

    # an Arabic widget: the same question, mirrored (the question at the right, the answers at the left)
    await node.services.widget.put(parse_widget({"title": "اتصل بنا", "language": "ar"}))
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    await install_axe(ctx)
    page = await widget(ctx, node, errors)
    await write(page, "مرحبا")
    await page.get_by_test_id("cg-end-chat").tap()
    await expect(page.get_by_test_id("cg-end-keep")).to_be_focused()
    await expect(page.get_by_test_id("cg-end-confirm")).to_have_css("direction", "rtl")
    await page.screenshot(path=str(shots_dir(tmp_path) / "endchat_narrow_rtl.png"))
    assert await cut_off(page) == []
    boxes = await answers(page)
    assert boxes["yes"]["right"] <= boxes["keep"]["left"], boxes
    assert boxes["keep"]["right"] <= boxes["q"]["left"], boxes
    # the widget's English question reads left to right, its question mark at its end
    assert await page.locator(".end-q").evaluate("(el) => getComputedStyle(el).direction") == "ltr"
    await assert_accessible(page, "a right-to-left widget asking 'End this chat?'")
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("cg-end-chat")).to_be_focused()
    assert errors == []


async def answers(page: Page) -> dict[str, dict[str, float]]:
    """The question's and the two answers' boxes (left, right, top, height)."""
    out: dict[str, dict[str, float]] = {}
    for name, selector in (
        ("q", ".end-q"),
        ("keep", "[data-testid=cg-end-keep]"),
        ("yes", "[data-testid=cg-end-confirm-yes]"),
    ):
        box = await page.locator(selector).bounding_box()
        assert box is not None, name
        out[name] = {"left": box["x"], "right": box["x"] + box["width"], "top": box["y"], "height": box["height"]}
    return out


async def test_the_agents_desk_is_told_the_customer_ended_the_chat(
    browser: Browser, node: Node, clients: Clients
) -> None:
    """At a real desk: a chat in the list but not on screen leaves the list, and the desk says who ended it; the chat
    on screen shows "Closed · customer ended" (read-only), said the same way."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    try:
        desk = await desk_login(ctx, node, "alice", errors, available=True)
        first, second = clients.customer(), clients.customer()
        cids = []
        for c, text in ((first, "first question"), (second, "second question")):
            await c.hello()
            cids.append((await c.say(text))["conversation_id"])
        items = desk.locator(".conv-item")
        await expect(items).to_have_count(2, timeout=10000)
        on_screen = desk.locator("[data-testid=timeline]")
        await expect(on_screen).to_contain_text("first question")  # the first assigned is on screen
        await second.send({"type": "end_chat", "conversation_id": cids[1]})
        await expect(desk.locator("#toast")).to_have_text(re.compile(r"ended the chat$"), timeout=10000)
        await expect(items).to_have_count(1)
        await first.send({"type": "end_chat", "conversation_id": cids[0]})
        await expect(on_screen).to_contain_text("Closed · customer ended", timeout=10000)
        await expect(desk.locator("#toast")).to_have_text(re.compile(r"ended the chat$"))
        await expect(desk.locator("[data-testid=composer]")).to_be_disabled()
        # the toast covers neither the read-only notice it comes with nor the timeline (it did: an exploratory test)
        toast = await desk.locator("#toast").bounding_box()
        for covered in ("#readonly", "[data-testid=timeline]"):
            box = await desk.locator(covered).bounding_box()
            assert toast and box, covered
            apart = toast["x"] + toast["width"] <= box["x"] or toast["y"] + toast["height"] <= box["y"]
            assert apart or toast["y"] >= box["y"] + box["height"], (covered, toast, box)
        assert not errors, errors
    finally:
        await ctx.close()
