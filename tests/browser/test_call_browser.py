"""Calls from the customer widget in real Chromium: fake microphone -> WebRTC -> the gateway's IVR.

The test flow (tests/flows/default.yaml) greets, then offers a menu: 1 queues to billing, 2 hangs up.
Set CG_SCREENSHOT_DIR to keep a screenshot of the call bar with its keypad open.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str, timeout: float = 10.0) -> T:
    """Poll ``probe`` until ``ok`` holds; fail naming ``what`` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still {value!r} after {timeout} s")
        await asyncio.sleep(0.1)


async def live_calls(node: Node) -> dict[str, Any]:
    return dict(node.services.calls.calls)


async def ivr_steps(node: Node, cid: str) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["node"], e["detail"]) for e in await node.services.store.events(cid) if e["type"] == "ivr"]


async def open_widget(ctx: BrowserContext, node: Node, errors: list[str]) -> Page:
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(node.url + "/")
    await page.click("[data-testid=cg-launcher]")
    await expect(page.locator("[data-testid=cg-panel]")).to_be_visible()
    await expect(page.locator("[data-testid=cg-status]")).to_contain_text("We typically reply")
    return page


async def call_state(page: Page) -> dict[str, Any]:
    state = await page.evaluate("window.ContactGateway.state().call")
    assert isinstance(state, dict)
    return state


async def wait_for_menu(node: Node, cid: str) -> None:
    """Until the flow's menu prompt has started: the menu listens from then on (keys during the greeting are
    ignored by design)."""
    await eventually(
        lambda: ivr_steps(node, cid),
        lambda steps: any(s[:2] == ("prompt", "menu") for s in steps),
        "the menu prompt",
        timeout=15,
    )


async def press_at_menu(page: Page, node: Node, cid: str, key: str = "1") -> None:
    """Once the menu listens, open the widget's keypad and press ``key``."""
    await wait_for_menu(node, cid)
    await page.click("[data-testid=cg-keypad-toggle]")
    await page.click(f"[data-testid=cg-key-{key}]")


async def call_into_ivr(page: Page) -> tuple[Locator, dict[str, Any]]:
    """Press Call and wait until the flow answers; returns the call bar and the widget's call state."""
    await page.click("[data-testid=cg-call]")
    bar = page.locator("[data-testid=cg-callbar]")
    await expect(bar).to_have_attribute("data-status", "ivr", timeout=15000)
    return bar, await call_state(page)


async def test_call_hears_the_greeting_presses_1_and_waits_for_billing(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context(viewport={"width": 1100, "height": 780})
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        await page.click("[data-testid=cg-call]")
        bar = page.locator("[data-testid=cg-callbar]")
        await expect(bar).to_be_visible()
        await expect(bar).to_have_attribute("data-status", "ivr", timeout=15000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("In the menu (IVR)")
        await expect(page.locator("[data-testid=cg-call]")).to_be_disabled()

        # the greeting is played out in the page (an unmuted <audio> element)
        stats = await eventually(
            lambda: page.evaluate("window.ContactGateway._callStats()"),
            lambda s: s["inboundAudioLevel"] > 0,
            "inbound audio level",
        )
        assert stats["connectionState"] == "connected" and stats["packetsReceived"] > 0

        call = await call_state(page)
        cid = call["conversation_id"]
        assert cid and cid == await page.evaluate("window.ContactGateway.state().conversation_id")
        # the menu listens once its prompt starts (keys during the greeting are ignored by design)
        await wait_for_menu(node, cid)

        await page.click("[data-testid=cg-keypad-toggle]")
        await expect(page.locator("[data-testid=cg-keypad-toggle]")).to_have_attribute("aria-expanded", "true")
        await page.click("[data-testid=cg-key-1]")
        await expect(page.locator("[data-testid=cg-dialed]")).to_have_text("1")
        await expect(bar).to_have_attribute("data-status", "waiting", timeout=10000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("Waiting for an agent")

        # Chromium's RTCDTMFSender is usable because the gateway answers telephone-event
        call = await call_state(page)
        assert call["dtmfMode"] == "rfc4733" and call["status"] == "waiting"
        live = node.services.calls.calls[call["id"]]
        assert live.digits_heard == [("1", "rfc4733")]

        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "queued" and conv["queue"] == "billing"
        events = await node.services.store.events(cid)
        types = [e["type"] for e in events]
        assert types[:3] == ["opened", "state", "call_started"]
        steps = await ivr_steps(node, cid)
        assert ("input", "menu", "digits 1") in steps
        kinds = [s[:2] for s in steps]
        assert kinds.index(("input", "menu")) < kinds.index(("choice", "menu")) < kinds.index(("queue", "billing"))
        await expect(page.locator(".cg-msg[data-author=system]", has_text="Call started")).to_have_count(1)

        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await page.wait_for_timeout(1200)  # let the timer tick past 0:00
            await page.screenshot(path=str(Path(shots) / "widget-call-keypad.png"))

        await page.click("[data-testid=cg-hangup]")
        await expect(bar).to_have_attribute("data-status", "ended")
        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after hang-up")
        await expect(
            page.locator(".cg-msg[data-author=system]", has_text=re.compile(r"Call ended · \d+:\d\d"))
        ).to_have_count(1)
        assert errors == []
    finally:
        await ctx.close()


async def test_hang_up_ends_the_call_everywhere(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, call = await call_into_ivr(page)
        assert set(node.services.calls.calls) == {call["id"]}

        # the chat socket drops and comes back: the call (media) goes on untouched
        await ctx.set_offline(True)
        await expect(page.locator("[data-testid=cg-status]")).to_contain_text(re.compile("Offline|Connecting"))
        await ctx.set_offline(False)
        await expect(page.locator("[data-testid=cg-status]")).to_contain_text("We typically reply", timeout=15000)
        assert (await call_state(page))["status"] == "ivr"
        assert (await page.evaluate("window.ContactGateway._callStats()"))["connectionState"] == "connected"
        assert set(node.services.calls.calls) == {call["id"]}

        await page.click("[data-testid=cg-mute]")
        await expect(page.locator("[data-testid=cg-mute]")).to_have_attribute("aria-pressed", "true")
        assert (await call_state(page))["muted"] is True

        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await page.wait_for_timeout(300)  # let the button's transition finish
            await page.screenshot(path=str(Path(shots) / "widget-call-muted.png"))
        await page.click("[data-testid=cg-hangup]")
        await expect(bar).to_have_attribute("data-status", "ended")
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("The call ended")
        if shots:
            await page.screenshot(path=str(Path(shots) / "widget-call-ended.png"))
        await expect(page.locator("[data-testid=cg-hangup]")).to_be_hidden()
        await expect(page.locator("[data-testid=cg-call]")).to_be_enabled()

        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after hang-up")
        ended = [e for e in await node.services.store.events(call["conversation_id"]) if e["type"] == "call_ended"]
        assert [e["reason"] for e in ended] == ["caller_hangup"] and ended[0]["call_id"] == call["id"]
        stats = await eventually(
            lambda: page.evaluate("window.ContactGateway._callStats()"),
            lambda s: s["connectionState"] == "closed",
            "the browser's peer connection",
        )
        assert stats["connectionState"] == "closed"
        assert (await call_state(page))["status"] == "ended"
        assert errors == []
    finally:
        await ctx.close()


async def test_all_lines_busy_is_explained_and_the_chat_stays_usable(mic_browser: Browser, node: Node) -> None:
    node.services.calls.config.max_calls = 0
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        await page.click("[data-testid=cg-call]")
        bar = page.locator("[data-testid=cg-callbar]")
        await expect(bar).to_have_attribute("data-status", "ended", timeout=10000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("All lines are busy")
        await expect(bar).to_contain_text("Please keep chatting with us here")
        assert (await call_state(page))["reason"] == "lines_busy"
        assert node.services.calls.calls == {}

        await page.fill("[data-testid=cg-input]", "Then I'll write instead.")
        await page.click("[data-testid=cg-send]")
        await expect(page.locator(".cg-msg[data-author=customer]", has_text="write instead")).to_have_attribute(
            "data-status", "sent"
        )
        await page.wait_for_timeout(300)
        await expect(bar).to_be_visible()  # a problem stays on screen until dismissed
        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await page.screenshot(path=str(Path(shots) / "widget-lines-busy.png"))

        # an agent takes the chat and invites the customer to a call: the ring replaces the old call's bar
        agent = await (await mic_browser.new_context()).new_page()
        await agent_login(agent, node, "alice")
        await agent.locator("[data-testid=conversations] .conv-item").first.click()
        await agent.click("[data-testid=invite-call]")
        await expect(page.locator("[data-testid=cg-incoming]")).to_be_visible()
        await expect(bar).to_be_hidden()
        assert errors == []
    finally:
        await ctx.close()


@pytest.mark.parametrize(
    ("error", "words"), [("NotAllowedError", "Microphone access was blocked"), ("NotFoundError", "No microphone found")]
)
async def test_microphone_problems_are_explained(mic_browser: Browser, node: Node, error: str, words: str) -> None:
    ctx = await mic_browser.new_context()
    await ctx.add_init_script(
        f"navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused', '{error}'));"
    )
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        await page.click("[data-testid=cg-call]")
        await expect(page.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "ended")
        await expect(page.locator("[data-testid=cg-call-status]")).to_contain_text(words)
        assert node.services.calls.calls == {}
        assert errors == []
    finally:
        await ctx.close()


async def test_the_agent_sees_the_ivr_path_and_the_call_status(mic_browser: Browser, node: Node) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        await customer.click("[data-testid=cg-call]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute(
            "data-status", "ivr", timeout=15000
        )
        cid = (await call_state(customer))["conversation_id"]
        await press_at_menu(customer, node, cid)

        # routed to alice: her timeline shows how the caller got here
        await agent.locator("[data-testid=conversations] .conv-item").first.click()
        timeline = agent.locator("[data-testid=timeline]")
        await expect(timeline.locator(".tl-item[data-type=ivr][data-kind=input]")).to_contain_text(
            "IVR · menu: input digits 1"
        )
        await expect(timeline.locator(".tl-item[data-type=ivr][data-kind=choice]")).to_contain_text(
            "IVR · choice: 1 (Billing) -> billing"
        )
        await expect(timeline.locator(".tl-item[data-type=ivr][data-kind=prompt]").first).to_contain_text(
            "IVR said: “Welcome to the test line.”"
        )
        await expect(timeline.locator(".tl-item[data-type=call_started]")).to_contain_text("Call started")
        badge = agent.locator("[data-testid=call-badge]")
        await expect(badge).to_have_text("On a call: ringing")  # alice is available: her softphone rings

        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await agent.screenshot(path=str(Path(shots) / "agent-ivr-path.png"))
        # the caller hangs up while alice's phone rings: nobody is behind this call-only conversation any more, so
        # it leaves her (closed "abandoned"), and the desk says why
        await customer.click("[data-testid=cg-hangup]")
        await expect(agent.get_by_role("status").filter(has_text="no longer waiting")).to_have_count(1)
        await expect(agent.locator("#conv-state")).to_have_attribute("data-state", "closed")  # not "back in queue"
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["disposition"]) == ("closed", "abandoned")
        async with asyncio.timeout(5):  # the call's end is written as the call ends, a moment after the close
            while not (ended := [e for e in await node.services.store.events(cid) if e["type"] == "call_ended"]):
                await asyncio.sleep(0.05)
        assert ended[0]["reason"] == "caller_hangup"
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()


async def test_keys_go_over_the_socket_when_the_browser_cannot_send_rfc4733(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context()
    await ctx.add_init_script("Object.defineProperty(RTCDTMFSender.prototype, 'canInsertDTMF', {get: () => false});")
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, call = await call_into_ivr(page)
        assert call["dtmfMode"] == "signaling"
        cid = call["conversation_id"]
        await wait_for_menu(node, cid)
        live = node.services.calls.calls[call["id"]]
        await page.click("[data-testid=cg-keypad-toggle]")
        await page.click("[data-testid=cg-key-2]")  # support is closed: the flow hangs up
        await expect(bar).to_have_attribute("data-status", "ended", timeout=15000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("The call ended")
        assert live.digits_heard == [("2", "keypad")]
        assert (await call_state(page))["dtmfMode"] == "signaling"
        ended = [e for e in await node.services.store.events(cid) if e["type"] == "call_ended"]
        assert [e["reason"] for e in ended] == ["support_closed"]
        await eventually(
            lambda: page.evaluate("window.ContactGateway._callStats()"),
            lambda s: s["connectionState"] == "closed",
            "the browser's peer connection",
        )
        assert errors == []
    finally:
        await ctx.close()


async def test_a_call_ended_while_the_socket_was_down_ends_on_reconnect(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, call = await call_into_ivr(page)
        await ctx.set_offline(True)
        await expect(page.locator("[data-testid=cg-status]")).to_contain_text(re.compile("Offline|Connecting"))
        # the gateway ends the call; its call_status cannot reach the page, and Chromium's ICE takes ~18 s to notice
        await node.services.calls.calls[call["id"]].end("gateway_shutdown")
        await page.wait_for_timeout(300)
        assert (await call_state(page))["status"] == "ivr"
        await ctx.set_offline(False)
        # the call_ended event replayed in the welcome ends it at once
        await expect(bar).to_have_attribute("data-status", "ended", timeout=8000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("The call was interrupted")
        await expect(page.locator("[data-testid=cg-call-again]")).to_be_visible()
        assert (await call_state(page))["reason"] == "gateway_shutdown"
        assert (await page.evaluate("window.ContactGateway._callStats()"))["connectionState"] == "closed"
        assert errors == []
    finally:
        await ctx.close()
