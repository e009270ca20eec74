"""Captions in the widget during a real IVR call (real Chromium, fake microphone, the gateway's IVR over WebRTC).

The test flow (tests/flows/default.yaml) greets ("Welcome to the test line."), then asks the menu ("For billing
press 1. ..."); 1 or the word "billing" queues the call for billing ("Connecting you to billing.").
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import call_into_ivr, eventually, live_calls, open_widget
from tests.browser.test_call_speech_browser import write_spoken_mic
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

GREETING = "Welcome to the test line."
MENU = "For billing press 1. For support press 2. To leave a number press 3."


async def hang_up(page: Page, node: Node) -> None:
    await page.click("[data-testid=cg-hangup]")
    await expect(page.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "ended")
    await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after hang-up")


async def test_captions_follow_the_prompts_and_the_keys_and_cc_turns_them_off(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        await call_into_ivr(page)
        captions = page.locator("[data-testid=cg-captions]")
        await expect(captions).to_have_attribute("aria-live", "polite")
        # the greeting's caption while it plays, then the menu's once the greeting has finished (not before)
        await expect(captions.locator(".caption").last).to_have_text(GREETING, timeout=10000)
        await expect(captions.locator(".caption").last).to_have_text(MENU, timeout=10000)
        await expect(captions.locator(".caption")).to_have_text([GREETING, MENU])

        await page.click("[data-testid=cg-keypad-toggle]")
        await page.click("[data-testid=cg-key-1]")
        await expect(captions.locator(".caption")).to_have_text(
            ["You pressed: 1", "Connecting you to billing."], timeout=10000
        )
        await expect(captions.locator(".caption-keys")).to_have_text("You pressed: 1")
        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await page.screenshot(path=str(Path(shots) / "widget-call-captions.png"))

        # CC off: the captions go; the choice is kept for the next call (and the next visit)
        toggle = page.locator("[data-testid=cg-captions-toggle]")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await expect(captions).to_be_hidden()
        await hang_up(page, node)
        await expect(toggle).to_be_hidden()

        await page.reload()
        await expect(page.locator("[data-testid=cg-panel]")).to_be_visible()  # open again after the reload
        await call_into_ivr(page)
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        # the intent is known now (billing): the flow skips the menu and queues the call at once
        await eventually(
            lambda: page.evaluate("window.ContactGateway.state().captions"),
            lambda state: "Connecting you to billing." in state["lines"],
            "the captions received while they are off",
            timeout=15,
        )
        await expect(captions).to_be_hidden()
        await toggle.click()  # on again: the current lines show at once
        await expect(captions).to_be_visible()
        await eventually(
            lambda: page.evaluate(
                """() => [Array.from(document.querySelector('#cg-widget').shadowRoot
                    .querySelectorAll('[data-testid=cg-captions] .caption'), (p) => p.textContent),
                  window.ContactGateway.state().captions.lines]"""
            ),
            lambda shown: shown[0] == shown[1] and len(shown[0]) > 0,
            "the captions shown after CC on",
        )
        await hang_up(page, node)
        await expect(captions).to_be_hidden()
        assert errors == []
    finally:
        await ctx.close()


async def test_the_caller_reads_what_the_recognizer_understood(
    speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    browser = await speaking_browser(await write_spoken_mic(tmp_path / "billing.wav", "billing"))
    ctx = await browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        await call_into_ivr(page)
        said = page.locator("[data-testid=cg-captions] .caption-said")
        await expect(said).to_have_text("You said: billing", timeout=25000)
        await expect(page.locator("[data-testid=cg-captions] .caption").last).to_have_text(
            "Connecting you to billing.", timeout=10000
        )
        await hang_up(page, node)
        assert errors == []
    finally:
        await ctx.close()
