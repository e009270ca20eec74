"""A right-to-left widget (the admin's language is Arabic) says its own English status texts left to right, in real
Chromium against a real node: the header's status line (two lines at most, then "…"), the call bar's status and the
words under the Call button. Old code: they took the layout's direction, so the queue line lost its first letters'
order and full stop and its "…" stood on the left ("...ueue."). The layout stays right to left. Set CG_SCREENSHOTS
to a folder to keep a screenshot."""

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

#: An element's dir attribute and the direction it is laid out in.
DIRECTION = "(el) => [el.getAttribute('dir'), getComputedStyle(el).direction]"


async def test_a_right_to_left_widget_says_its_english_statuses_left_to_right(browser: Browser, node: Node) -> None:
    s = node.services
    tz = "Asia/Dubai"
    other = DAYS[(datetime.now(UTC).astimezone(ZoneInfo(tz)).weekday() + 3) % 7]  # open another day: closed now
    billing = await s.queues.get("billing")
    assert billing is not None
    await s.queues.put(
        parse_queue("billing", {**billing.to_json(), "hours": {"timezone": tz, "schedule": {other: "09:00-17:00"}}})
    )
    await s.widget.put(parse_widget({"title": "اتصل بنا", "language": "ar", "hours_queue": "billing"}))
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(node.url + "/")
    await page.get_by_test_id("cg-launcher").click()
    panel = page.get_by_test_id("cg-panel")
    await expect(panel.locator(".head")).to_have_css("direction", "rtl")  # the layout is right to left

    # the words under the Call button: left to right, still ending under the button (on the left here)
    hint = page.get_by_test_id("cg-call-hint")
    await expect(hint).to_have_text("Calls: an agent may not answer now")
    assert await hint.evaluate(DIRECTION) == ["auto", "ltr"]
    button = await page.get_by_test_id("cg-call").bounding_box()
    assert button
    starts = await hint.evaluate(
        "(p) => { const r = document.createRange(); r.selectNodeContents(p); return r.getBoundingClientRect().left; }"
    )
    assert button["x"] - 1 <= starts <= button["x"] + button["width"], (button, starts)

    # the queue line: two lines at most, left to right, its "…" at the right end
    await page.get_by_test_id("cg-input").fill("Hello")
    await page.get_by_test_id("cg-send").click()
    line = page.locator(".status-text")
    await expect(line).to_have_text("You are number 1 in the queue. An agent will be with you shortly.")
    assert await line.evaluate(DIRECTION) == ["auto", "ltr"]
    assert await line.evaluate("(el) => getComputedStyle(el).webkitLineClamp") == "2"
    shots = os.environ.get("CG_SCREENSHOTS")
    if shots:
        await page.screenshot(path=str(Path(shots) / "widget-rtl-status.png"))

    # the call bar's status: offline, a call is refused with an English sentence ending in a full stop
    await ctx.set_offline(True)
    await expect(page.get_by_test_id("cg-status")).to_contain_text("Offline")
    await page.get_by_test_id("cg-call").click()
    status = page.get_by_test_id("cg-call-status")
    await expect(status).to_have_text("You are offline. Calls need a connection; please try again in a moment.")
    assert await status.evaluate(DIRECTION) == ["auto", "ltr"]
    await ctx.set_offline(False)
    assert errors == []
