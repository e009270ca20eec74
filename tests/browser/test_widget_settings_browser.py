"""The admin's widget settings in a real Chromium: the widget shows the configured title, colour, greeting and
launcher text, on a site with a strict Content-Security-Policy, and says it is closed by its queue's hours."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, expect

from gateway.contact.queues import parse_queue
from gateway.contact.widget_settings import parse_widget
from ivr.hours import DAYS
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def test_the_widget_shows_the_admins_title_colour_greeting_and_the_queues_closed_status(
    browser: Browser, node: Node
) -> None:
    s = node.services
    tz = "America/New_York"
    other = DAYS[(datetime.now(UTC).astimezone(ZoneInfo(tz)).weekday() + 3) % 7]  # open another day: closed now
    billing = await s.queues.get("billing")
    assert billing is not None
    closed = parse_queue(
        "billing", {**billing.to_json(), "hours": {"timezone": tz, "schedule": {other: "09:00-17:00"}}}
    )
    await s.queues.put(closed)
    await s.widget.put(
        parse_widget(
            {
                "title": "Acme support",
                "colour": "#7a1f5c",
                "greeting": "Bonjour! Ask us about your order.",
                "launcher_text": "Questions?",
                "language": "fr",
                "hours_queue": "billing",
            }
        )
    )
    page = await (await browser.new_context()).new_page()
    await page.goto(node.url + "/")
    await expect(page.get_by_test_id("cg-launcher-text")).to_have_text("Questions?")
    # the configured colour (#7a1f5c), once the launcher's colour transition has run
    await expect(page.get_by_test_id("cg-launcher")).to_have_css("background-color", "rgb(122, 31, 92)")
    await page.get_by_test_id("cg-launcher").click()
    panel = page.get_by_test_id("cg-panel")
    await expect(panel.locator("#cg-title")).to_have_text("Acme support")
    await expect(panel.locator(".intro")).to_have_text("Bonjour! Ask us about your order.")
    await expect(page.get_by_test_id("cg-status")).to_have_text("We\u2019re closed now. Leave us a message")
    await expect(panel).to_have_attribute("lang", "fr")
    # closed: the status dot is the grey one, not the green "we're here" (user test ut2 #12), and the call button
    # says what a call may meet now
    status = page.get_by_test_id("cg-status")
    await expect(status).to_have_attribute("data-state", "after_hours")
    dot = await status.evaluate("(el) => getComputedStyle(el, '::before').backgroundColor")
    assert dot == "rgb(154, 162, 158)", dot  # #9aa29e, as for a closed conversation
    call = page.get_by_test_id("cg-call")
    await expect(call).to_have_attribute(
        "aria-label", "Call us \u2014 we\u2019re closed now, so an agent may not answer"
    )
    await expect(call).to_have_attribute("title", "Call us \u2014 we\u2019re closed now, so an agent may not answer")
    # ... and in words under it, for the eye: a touch screen shows no tooltip (a user test); the name has them already
    hint = page.get_by_test_id("cg-call-hint")
    await expect(hint).to_be_visible()
    await expect(hint).to_have_text("Calls: an agent may not answer now")
    await expect(hint).to_have_attribute("aria-hidden", "true")
    button, words = await call.bounding_box(), await hint.bounding_box()
    assert button and words
    await page.screenshot(
        path=str(Path(os.environ.get("CG_SCREENSHOTS", node.services.settings.data_dir)) / "widget-call-hint.png")
    )
    assert 0 <= words["y"] - (button["y"] + button["height"]) <= 20, (button, words)  # just under it
    ends = await hint.evaluate(
        "(p) => { const r = document.createRange(); r.selectNodeContents(p); return r.getBoundingClientRect().right; }"
    )
    assert button["x"] <= ends <= button["x"] + button["width"] + 1, (button, ends)  # its words end under it
    head = await panel.locator(".head").bounding_box()
    assert head and words["y"] + words["height"] <= head["y"] + head["height"], (head, words)  # in the header
    await page.screenshot(path=str(node.services.settings.data_dir / "widget-settings.png"))  # to look at
    shots = os.environ.get("CG_SCREENSHOTS")
    if shots:
        await page.screenshot(path=str(Path(shots) / "widget-settings-closed.png"))
