"""The reports page by away reason (/supervisor/reports, by=away_reason) in real Chromium against a real node.

Known away time is written into the report counters for today, as the agents' time sampler writes it
(gateway/ops/agent_time.py: dimension ``away_reason`` and each agent's ``t_away``): lunch 30 min, break 15 min,
coaching 45 s (a code no longer on the center's list), missed_call 15 s (a reason the gateway sets) and none 15 s
(away without a reason). The center's list names lunch "Lunch break" (an admin's label, not the default). A
supervisor chooses "Away reason": the table lists each reason in words with its time and its share of all away time,
most first, then every reason together; the stacked bar chart holds the same time per reason; the queue filter is
off; the address keeps the choice (a reload shows the same report); the CSV download is the report by away reason.
Screenshots at 1,280 and 800 px wide.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, expect

from gateway.contact.away_reasons import parse_reasons
from gateway.store.rollup_store import Change, RollupStore, day_start_ms
from tests.conftest import PASSWORDS, Clients
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

MIN = 60_000
NB = "\u00a0"  # the page's figures keep a number and its unit together
# (code, ms, who was away with it)
AWAY = [
    ("lunch", 30 * MIN, "alice"),
    ("break", 15 * MIN, "bob"),
    ("coaching", 45_000, "alice"),
    ("missed_call", 15_000, "bob"),
    ("none", 15_000, "alice"),
]
ALL_MS = sum(ms for _, ms, _ in AWAY)  # 46 min 15 s
# the rows as the page shows them, most time first (equal times by their words): key, reason, time, share
ROWS = [
    ("lunch", "Lunch break", f"30{NB}min 00{NB}s", f"64.9{NB}%"),
    ("break", "Break", f"15{NB}min 00{NB}s", f"32.4{NB}%"),
    ("coaching", "coaching", f"45{NB}s", f"1.6{NB}%"),
    ("missed_call", "Missed a call", f"15{NB}s", f"0.5{NB}%"),
    ("none", "No reason given", f"15{NB}s", f"0.5{NB}%"),
]

# What a chart holds: its series' labels and the sum of each.
SERIES = """
(testid) => {
  const chart = Chart.getChart(document.querySelector(`[data-testid=${testid}]`));
  return chart ? chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + (b || 0), 0)]) : null;
}
"""

ROWS_JS = """
() => [...document.querySelectorAll('[data-testid=reports-totals] tbody tr[data-key]')].map((tr) => [
  tr.dataset.key, tr.querySelector('th').textContent,
  ...[...tr.querySelectorAll('td[data-metric]')].map((td) => [td.dataset.metric, td.dataset.value, td.textContent]),
])
"""

# the elements that reach past the window's right edge (the page scrolls sideways), the outermost of each
WIDER = """
() => [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5
    && !(el.parentElement && el.parentElement.getBoundingClientRect().right > innerWidth + 0.5))
  .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
"""


async def sign_in(page: Page, agent_id: str) -> None:
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", PASSWORDS[agent_id])
    await page.press("#login-password", "Enter")


async def report(node: Node, token: str, **params: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(node.url + "/api/reports", params=params, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        body: dict[str, Any] = await r.json()
        assert r.status == 200, body
        return body


async def shown_rows(page: Page) -> list[tuple[str, str, str, str]]:
    """The table's rows as people read them: key, reason, time, share (and each figure's raw value checked)."""
    rows = await page.evaluate(ROWS_JS)
    out = []
    for key, reason, (m1, v1, time), (m2, v2, share) in rows:
        assert (m1, m2) == ("time_away_ms", "share"), rows
        assert int(v1) == next(ms for code, ms, _ in AWAY if code == key), rows
        assert abs(float(v2) - int(v1) / ALL_MS) < 1e-9, rows
        out.append((key, reason, time, share))
    return out


async def test_the_reports_page_shows_away_time_by_reason(
    browser: Browser, node: Node, clients: Clients, tmp_path: Path
) -> None:
    await node.services.agent_time.stop()  # the node's own samples would add to the known times
    center = [{"code": "break", "label": "Break"}, {"code": "lunch", "label": "Lunch break"}]
    await node.services.away_reasons.put(parse_reasons({"reasons": center, "version": 0}))
    today = datetime.now(UTC).date()
    db = RollupStore(node.services.store, zone=node.services.settings.center_timezone)
    at = day_start_ms(today, db.zone) + 9 * 3_600_000  # 09:00 today, the center's time (UTC here)
    await db.add(
        Change("", at, at + i * 3_600_000, [("away_reason", code, "t_away", ms), ("agent", who, "t_away", ms)])
        for i, (code, ms, who) in enumerate(AWAY)
    )
    # a chat offered, handled and resolved: the report by queue (back to it at the end) has something to show
    contacts = [("queue", "default", "offered", 1), ("queue", "default", "handled", 1)]
    await db.add([Change("", at, at, [*contacts, ("disposition", "resolved", "closed", 1)])])
    token = await clients.agent("carol").login()
    span = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    body = await report(node, token, **span, by="away_reason")
    assert {t["key"]: t["time_away_ms"] for t in body["totals"]} == {code: ms for code, ms, _ in AWAY}
    assert body["overall"] == {"time_away_ms": ALL_MS}

    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    await install_axe(ctx)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        await page.goto(node.url + f"/supervisor/reports?from={span['from']}&to={span['to']}")
        await sign_in(page, "carol")
        await expect(page.locator("[data-testid=reports-status]")).to_have_text(
            f"Showing {span['from']} to {span['to']} (UTC), by day, by queue."
        )
        # a queue typed, then grouped by away reason: the filter is off (the gateway refuses it with this grouping)
        queue = page.get_by_test_id("reports-queue")
        await queue.fill("support")
        await page.get_by_test_id("reports-by").select_option(label="Away reason")
        await expect(queue).to_be_disabled()
        await expect(queue).to_have_value("")
        await page.get_by_test_id("reports-show").click()
        await expect(page.locator("[data-testid=reports-status]")).to_have_text(
            f"Showing {span['from']} to {span['to']} (UTC), by day, by away reason."
        )
        assert "by=away_reason" in page.url and "queue=" not in page.url
        await expect(page.locator("#rp-totals-title")).to_have_text("Away time by reason")
        await expect(page.get_by_test_id("away-hint")).to_be_visible()
        heads = page.locator("[data-testid=reports-totals] thead th")
        await expect(heads).to_have_text(["Reason", "Time away", "Share"])
        assert await shown_rows(page) == ROWS
        overall = page.get_by_test_id("reports-overall")
        await expect(overall.locator("th")).to_have_text("All reasons")
        await expect(overall.locator("td[data-metric=time_away_ms]")).to_have_text(f"46{NB}min 15{NB}s")
        await expect(overall.locator("td[data-metric=time_away_ms]")).to_have_attribute("data-value", str(ALL_MS))
        await expect(overall.locator("td[data-metric=share]")).to_have_text(f"100{NB}%")

        # the chart: one stacked bar per day, a segment per reason in words, the same time; the others are hidden
        await expect(page.get_by_test_id("chart-away")).to_be_visible()
        chart = dict(await page.evaluate(SERIES, "chart-away"))
        assert chart == {reason: next(ms for c, ms, _ in AWAY if c == key) for key, reason, _, _ in ROWS}
        for testid in ("chart-volume", "chart-service-level", "chart-speed", "chart-dispositions"):
            await expect(page.get_by_test_id(testid)).to_be_hidden()
        await expect(page.get_by_test_id("reports-dispositions-section")).to_be_hidden()
        await expect(page.get_by_test_id("agent-time-section")).to_be_hidden()
        await page.screenshot(path=str(shots / "reports-away-1280.png"), full_page=True)
        found = await axe_violations(page)
        assert blocking(found) == [], describe(found)

        # the CSV: the report by away reason, asked with by=away_reason
        csv_asked = page.expect_request(lambda r: "/api/reports?" in r.url and "format=csv" in r.url)
        async with csv_asked as asked, page.expect_download() as info:
            await page.get_by_test_id("reports-csv").click()
        assert "by=away_reason" in (await asked.value).url
        download = await info.value
        assert download.suggested_filename == f"report-away_reason-day-{span['from']}-{span['to']}.csv"
        text = Path(await download.path()).read_text(encoding="utf-8")
        assert text.splitlines()[0] == "key,start,time_away_ms"
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 2 * len(AWAY)  # two days
        sums: dict[str, int] = {}
        for r in rows:
            sums[r["key"]] = sums.get(r["key"], 0) + int(r["time_away_ms"])
        assert sums == {code: ms for code, ms, _ in AWAY}

        # the address keeps the choice: a reload shows the same report
        await page.reload()
        await expect(page.get_by_test_id("reports-by")).to_have_value("away_reason")
        await expect(page.get_by_test_id("reports-queue")).to_be_disabled()
        await expect(page.locator("#rp-totals-title")).to_have_text("Away time by reason")
        await expect(page.locator("[data-testid=reports-totals] tbody tr[data-key]")).to_have_count(len(ROWS))
        assert await shown_rows(page) == ROWS

        # a narrow window (800 px): the table and the chart still fit, nothing scrolls sideways
        await page.set_viewport_size({"width": 800, "height": 900})
        await expect(page.get_by_test_id("chart-away")).to_be_visible()
        # (Chart.js redraws its canvases at the new width a moment after the resize)
        await page.wait_for_function("document.documentElement.scrollWidth <= innerWidth", timeout=5000)
        assert await page.evaluate(WIDER) == []
        await page.screenshot(path=str(shots / "reports-away-800.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})

        # a range when nobody was away: said in words, no empty table
        await page.fill("[data-testid=reports-from]", "2020-01-01")
        await page.fill("[data-testid=reports-to]", "2020-01-07")
        await page.get_by_test_id("reports-show").click()
        await expect(page.get_by_test_id("reports-empty")).to_have_text(
            "No agent was away from 2020-01-01 to 2020-01-07. Choose another range."
        )
        await expect(page.get_by_test_id("reports-results")).to_be_hidden()

        # back to the report by queue: its charts and tables as before, the away chart gone
        await page.fill("[data-testid=reports-from]", span["from"])
        await page.fill("[data-testid=reports-to]", span["to"])
        await page.get_by_test_id("reports-by").select_option("queue")
        await expect(page.get_by_test_id("reports-queue")).to_be_enabled()
        await expect(page.get_by_test_id("reports-queue")).to_have_value(
            ""
        )  # (the one typed before: not after a reload)
        await page.get_by_test_id("reports-show").click()
        await expect(page.locator("[data-testid=reports-status]")).to_have_text(
            f"Showing {span['from']} to {span['to']} (UTC), by day, by queue."
        )
        await expect(page.get_by_test_id("chart-away")).to_be_hidden()
        await expect(page.locator("#rp-totals-title")).to_have_text("Totals by queue")
        await expect(page.get_by_test_id("away-hint")).to_be_hidden()
        await expect(page.get_by_test_id("reports-dispositions-section")).to_be_visible()
        await expect(page.get_by_test_id("chart-dispositions")).to_be_visible()
        assert dict(await page.evaluate(SERIES, "chart-dispositions")) == {"Resolved": 1}  # the legend names the label
        await expect(
            page.locator("[data-testid=reports-totals] tr[data-key=default] td[data-metric=offered]")
        ).to_have_text("1")
        assert await page.evaluate(SERIES, "chart-away") is None  # (its chart destroyed, not left drawn)
        assert errors == []
    finally:
        await ctx.close()
