"""The supervisor pages of a center in New York, in real Chromium set to Tokyo's time zone: the reports page's
"today" and presets are New York's dates, its hours New York's (an event at 22:30 New York time is in the 22:00 bar),
and the pages name the zone instead of "(UTC)"."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from tests.conftest import PASSWORDS, bounded
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS

ZONE = "America/New_York"
NEW_YORK = ZoneInfo(ZONE)

# the labels of a chart and its first series' values
CHART = """
(testid) => {
  const chart = Chart.getChart(document.querySelector(`[data-testid=${testid}]`));
  return [chart.data.labels, chart.data.datasets[0].data];
}
"""


@browser_fixture
async def new_york(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, center_timezone=ZONE))
    yield started
    await bounded(started.stop(), "stopping the gateway node")


def ny_today() -> date:
    return datetime.now(NEW_YORK).date()


async def sign_in(page: Page, agent_id: str) -> None:
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", PASSWORDS[agent_id])
    await page.press("#login-password", "Enter")


async def offered_when(node: Node, day: date) -> None:
    """Wait until the node's rollups counted the injected event on ``day`` (a moment after it is logged)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            node.url + "/api/agent/login", json={"agent_id": "carol", "password": PASSWORDS["carol"]}
        ) as r:
            token = (await r.json())["token"]
        async with asyncio.timeout(20):
            while True:
                params = {"from": day.isoformat(), "to": day.isoformat()}
                async with http.get(
                    node.url + "/api/reports", params=params, headers={"Authorization": f"Bearer {token}"}
                ) as r:
                    body = await r.json()
                if any(t["offered"] for t in body["totals"]):
                    return
                await asyncio.sleep(0.1)


async def test_a_new_york_centers_pages_use_new_york_days_and_hours(
    browser: Browser, new_york: Node, tmp_path: Path
) -> None:
    today = ny_today()
    yesterday = today - timedelta(days=1)
    at = datetime(yesterday.year, yesterday.month, yesterday.day, 22, 30, tzinfo=NEW_YORK)  # 22:30 New York time
    at_ms = int(at.timestamp() * 1000)
    store = new_york.services.store
    fields = {
        "cid": "c-browser-ny",
        "event_id": f"{at_ms}-0",
        "type": "state",
        "data": json.dumps({"state": "queued"}),
        "ts": str(at_ms),
        "queue": "billing",
        "agent_id": "",
    }
    await store.redis.xadd(store.keys.event_log, fields)  # type: ignore[arg-type]
    await offered_when(new_york, yesterday)

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo")
    await install_axe(ctx)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    try:
        await page.goto(new_york.url + "/supervisor/reports")
        await sign_in(page, "carol")
        await expect(page.locator("[data-testid=reports-zone]")).to_have_text(ZONE)
        assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"
        if ny_today() != today:
            pytest.skip("New York's midnight passed while the page opened")
        # the default range: the last 7 of New York's days (Tokyo is a day ahead of New York from 10:00 to 24:00)
        await expect(page.locator("[data-testid=reports-to]")).to_have_value(today.isoformat())
        await expect(page.locator("[data-testid=reports-from]")).to_have_value((today - timedelta(days=6)).isoformat())
        await expect(page.locator("[data-preset=last7]")).to_have_attribute("aria-pressed", "true")

        await page.click("[data-preset=yesterday]")
        await expect(page.locator("[data-testid=reports-from]")).to_have_value(yesterday.isoformat())
        status = f"Showing {yesterday.isoformat()} ({ZONE}), by day, by queue."
        await expect(page.locator("[data-testid=reports-status]")).to_have_text(status)
        offered = page.locator("[data-testid=reports-totals] tr[data-key=billing] td[data-metric=offered]")
        await expect(offered).to_have_text("1")

        # by hour: the 22:00 bar of New York's day holds it (in UTC it would be the next day's 02:00 or 03:00)
        await page.select_option("[data-testid=reports-interval]", "hour")
        await page.click("[data-testid=reports-show]")
        await expect(page.locator("[data-testid=reports-status]")).to_contain_text("by hour")
        labels, values = await page.evaluate(CHART, "chart-volume")
        assert len(labels) == len(values) in (23, 24, 25)
        assert [label for label, v in zip(labels, values, strict=True) if v] == [f"{at.strftime('%b')} {at.day} 22:00"]
        await page.screenshot(path=str(shots / "reports-new-york-by-hour.png"), full_page=True)
        found = await axe_violations(page)
        assert blocking(found) == [], describe(found)

        # the wallboard: today is New York's day, and says so
        await page.goto(new_york.url + "/supervisor")
        await expect(page.locator(".wb-zone")).to_have_text(f"({ZONE})", timeout=15_000)
        await page.screenshot(path=str(shots / "wallboard-new-york.png"), full_page=True)
        assert errors == []
    finally:
        await ctx.close()
