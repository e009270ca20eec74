"""A new center's reports: the "Flow paths" field starts at the flow calls start in, and offers the flows there
are; the dispositions (table and chart) say that nothing was closed yet.

A user test's gateway answered calls with its own flow (--voice-flow shop) while the field said "default", a flow
that took no call; nothing listed the flow names a supervisor could type.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, expect

from gateway.config import Settings
from tests.browser.test_reports_browser import counted, sign_in, total
from tests.conftest import Clients, bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS


@browser_fixture
async def callback_line(settings: Settings) -> AsyncIterator[Node]:
    """A node whose calls start in the test flow `callback`, not `default`."""
    node = await start_node(replace(settings, voice_flow="callback"))
    yield node
    await bounded(node.stop(), "stopping the node")


async def test_the_flow_field_names_the_voice_flow_and_lists_the_flows(
    browser: Browser, callback_line: Node, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(callback_line.url + "/supervisor/reports")
        await sign_in(page, "carol")
        await expect(page.get_by_test_id("flow-name")).to_have_value("callback")
        # a chat offered, nothing closed yet on this new center: said in words, not a table of headers alone
        clients = Clients(callback_line.url)
        try:
            customer = clients.customer()
            await customer.hello()
            await customer.say("Is anyone there?")
            token = await clients.agent("carol").login()
            today = datetime.now(UTC).date().isoformat()
            await counted(
                callback_line, token, {"from": today, "to": today, "by": "queue"}, lambda b: total(b, "offered")
            )
        finally:
            await bounded(clients.close(), "closing the test clients")
        await page.click("[data-preset=today]")
        await expect(page.get_by_test_id("reports-dispositions")).to_contain_text(
            "No conversation was closed in this range."
        )
        # and the chart says so too, instead of empty axes from 0 to 1
        await expect(page.get_by_test_id("chart-dispositions-none")).to_have_text(
            "No conversation was closed in this range: there is nothing to chart."
        )
        await expect(page.get_by_test_id("chart-dispositions")).to_be_hidden()
        await page.screenshot(path=str(shots / "reports-nothing-closed.png"), full_page=True)
        options = page.locator("[data-testid=flow-names] option")
        await expect(options).to_have_count(3)
        assert sorted(await options.evaluate_all("(os) => os.map((o) => o.value)")) == [
            "callback",
            "default",
            "transcribed",
        ]
        # an address that names a flow keeps it
        await page.goto(callback_line.url + "/supervisor/reports?flow=default")
        await expect(page.get_by_test_id("flow-names").locator("option")).to_have_count(3)
        await expect(page.get_by_test_id("flow-name")).to_have_value("default")
        assert errors == []
    finally:
        await ctx.close()
