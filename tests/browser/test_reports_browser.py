"""The reports page (/supervisor/reports) in real Chromium, over data that real conversations produced.

Three chats on a real node, driven through the customer and agent sockets: each is queued, assigned to alice,
answered and closed with a disposition (resolved, follow-up, resolved); and a caller who hangs up in the IVR (a real
WebRTC call). The node's rollups count them as they
happen; a supervisor then signs in to the reports page: the totals table shows what GET /api/reports says (and
what the chats were: 3 offered, 3 handled, 2 resolved, 1 follow-up), the charts are drawn (ink of their series'
colours on the canvases), the CSV download holds the same figures, the page answers by agent, shows its empty
and error states and a flow's paths, is used from the keyboard, has no serious axe violation and no CSP
violation. An agent without the supervisor role is refused with the gateway's reason.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, expect

from gateway.contact.routing import now_ms
from gateway.ops.agent_time import SAMPLE_MS, AgentTime
from gateway.ops.rollup_rules import ONLY_BY_AGENT
from gateway.store.rollup_store import RollupStore
from tests.browser.test_csp_browser import WATCH, violations
from tests.conftest import PASSWORDS, Clients
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.caller import in_ivr
from tests.support.clients import Agent
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

# The series colours of reports_charts.js: the first (Offered; the first disposition) and the second.
BLUE = (0x24, 0x56, 0xD3)
RED = (0xC2, 0x35, 0x2B)
GREEN = (0x15, 0x80, 0x3D)

INK = """
([testid, rgb]) => {
  const canvas = document.querySelector(`[data-testid=${testid}]`);
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) < 8 && Math.abs(data[i + 1] - rgb[1]) < 8
        && Math.abs(data[i + 2] - rgb[2]) < 8) n += 1;
  }
  return n;
}
"""

# What a chart holds: its series' labels and the sum of each.
SERIES = """
(testid) => {
  const chart = Chart.getChart(document.querySelector(`[data-testid=${testid}]`));
  return chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + (b || 0), 0)]);
}
"""


async def served_chat(clients: Clients, alice: Agent, text: str, disposition: str) -> str:
    """A customer writes, alice is assigned, answers and closes the conversation with a disposition."""
    customer = clients.customer()
    await customer.hello()
    await customer.say(text)
    cid = str((await alice.assigned(timeout=10))["id"])
    await alice.say(cid, "Happy to help with that.")
    await alice.send({"type": "close", "conversation_id": cid, "disposition": disposition})
    await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    return cid


async def report(node: Node, token: str, **params: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(node.url + "/api/reports", params=params, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        body: dict[str, Any] = await r.json()
        assert r.status == 200, body
        return body


async def counted(node: Node, token: str, params: dict[str, str], done: Any) -> dict[str, Any]:
    """The report once the rollups have counted what happened (they follow the events a moment later)."""
    async with asyncio.timeout(20):
        while True:
            body = await report(node, token, **params)
            if done(body):
                return body
            await asyncio.sleep(0.1)


async def flow_paths_when(node: Node, token: str, flow: str, span: dict[str, str], done: Any) -> dict[str, Any]:
    async with asyncio.timeout(20), aiohttp.ClientSession() as http:
        while True:
            async with http.get(
                f"{node.url}/api/reports/flows/{flow}", params=span, headers={"Authorization": f"Bearer {token}"}
            ) as r:
                body: dict[str, Any] = await r.json()
                assert r.status == 200, body
            if done(body):
                return body
            await asyncio.sleep(0.1)


def total(body: dict[str, Any], metric: str) -> int:
    return sum(int(t.get(metric) or 0) for t in body["totals"])


async def sign_in(page: Page, agent_id: str) -> None:
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", PASSWORDS[agent_id])
    await page.press("#login-password", "Enter")


def total_of(body: dict[str, Any], key: str, metric: str) -> Any:
    return next(t[metric] for t in body["totals"] if t["key"] == key)


async def table_values(page: Page, testid: str) -> dict[str, dict[str, str]]:
    """A table's figures as the page shows them: row key -> metric -> raw value (data-value)."""
    rows: dict[str, dict[str, str]] = await page.evaluate(
        """(testid) => Object.fromEntries([...document.querySelectorAll(`[data-testid=${testid}] tbody tr[data-key]`)]
             .map((tr) => [tr.dataset.key, Object.fromEntries([...tr.querySelectorAll('td[data-metric]')]
               .map((td) => [td.dataset.metric, td.dataset.value]))]))""",
        testid,
    )
    return rows


async def test_the_reports_page_shows_what_real_conversations_produced(
    browser: Browser, node: Node, clients: Clients, tmp_path: Path
) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    # agents' time: the node's own sampler stopped (its samples would land while the page is read); one sample of
    # alice, idle, five minutes ago (her desk session is live then)
    await node.services.agent_time.stop()
    past = (now_ms() // SAMPLE_MS - 20) * SAMPLE_MS

    db = RollupStore(node.services.store, zone=node.services.settings.center_timezone)
    assert await AgentTime(node.services.store, db, clock=lambda: past).sample()
    for text, disposition in (
        ("Where is my order?", "resolved"),
        ("Can I change my plan?", "follow-up"),
        ("Is the tent waterproof?", "resolved"),
    ):
        await served_chat(clients, alice, text, disposition)
    customer = clients.customer()
    async with in_ivr(customer) as caller:  # a caller who hangs up in the IVR: the flow's paths
        await caller.heard_prompt()  # the flow has started (a hang-up before its first step leaves no path)
        await caller.hangup()
        await caller.status("ended")
    token = await clients.agent("carol").login()
    today = datetime.now(UTC).date()
    span = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    # the counters follow the event log a moment behind (the consumer reads it in batches): wait for the IVR
    # session too, or the page (read later) can show a count the endpoint's answer did not have yet
    by_queue = await counted(
        node, token, {**span, "by": "queue"}, lambda b: total(b, "handled") >= 3 and total(b, "ivr_sessions") >= 1
    )
    by_disposition = await counted(node, token, {**span, "by": "disposition"}, lambda b: total(b, "closed") >= 3)
    assert (total(by_queue, "offered"), total(by_queue, "handled"), total(by_queue, "abandoned")) == (3, 3, 0)
    assert {t["key"]: t["closed"] for t in by_disposition["totals"] if t["closed"]} == {"resolved": 2, "follow-up": 1}
    paths = await flow_paths_when(node, token, "default", span, lambda p: any(e["hangups"] for e in p["exits"]))
    assert {"from": "", "to": "hello", "count": 1} in paths["transitions"]

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    await install_axe(ctx)
    await ctx.add_init_script(WATCH)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    try:
        await page.goto(node.url + f"/supervisor/reports?from={span['from']}&to={span['to']}")
        await sign_in(page, "carol")

        await expect(page.get_by_test_id("agent-time-section")).to_be_hidden()  # (by agent only)
        # the totals: every figure of every queue is the endpoint's, and the chats' own numbers are there
        rows = page.locator("[data-testid=reports-totals] tbody tr[data-key]")
        await expect(rows).to_have_count(len(by_queue["totals"]))
        shown = await table_values(page, "reports-totals")
        numbers = {key: {k: float(v) if v else None for k, v in figures.items()} for key, figures in shown.items()}
        # (the "moved out", transfers and CSAT columns only when a queue has one: none here; the count of ratings
        # and their average, and the divisors of handle times (segments), are in the CSV and the API only)
        only_when = {"key", "moved_out", "transfers", "csat", "rated", "rating_avg", "call_segments", "chat_segments"}
        only_when |= set(ONLY_BY_AGENT)  # agents' time: a table of its own, by agent
        only_when.add("aht_hold_ms")  # (in the AHT column; the CSV and the API have it on its own)
        expected = {t["key"]: {k: v for k, v in t.items() if k not in only_when} for t in by_queue["totals"]}
        assert numbers == expected and not any(t["moved_out"] or t["rated"] for t in by_queue["totals"])
        assert sum(int(r["offered"]) for r in shown.values()) == 3
        assert sum(int(r["handled"]) for r in shown.values()) == 3
        busiest = max(by_queue["totals"], key=lambda t: t["offered"])["key"]
        cells = page.locator(f"[data-testid=reports-totals] tr[data-key='{busiest}']")
        await expect(cells.locator("td[data-metric=offered]")).to_have_text("3")
        dispositions = await table_values(page, "reports-dispositions")
        assert {k: v["closed"] for k, v in dispositions.items() if v["closed"] != "0"} == {
            "resolved": "2",
            "follow-up": "1",
        }
        # each disposition by its label (the center's list: --dispositions labelled from their codes)
        await expect(page.locator("[data-testid=reports-dispositions] tr[data-key='follow-up'] th")).to_have_text(
            "Follow up"
        )

        # the charts hold the same figures and are drawn: the series' colours are on the canvases
        assert dict(await page.evaluate(SERIES, "chart-volume")) == {"Offered": 3, "Handled": 3, "Abandoned": 0}
        disp_series = dict(await page.evaluate(SERIES, "chart-dispositions"))
        assert {k: v for k, v in disp_series.items() if v} == {"Resolved": 2, "Follow up": 1}  # by label
        assert await page.evaluate(INK, ["chart-volume", BLUE]) > 100
        # handled equals offered here: its dashed line is drawn over offered's wide one, both visible
        assert await page.evaluate(INK, ["chart-volume", GREEN]) > 50
        assert await page.evaluate(INK, ["chart-dispositions", BLUE]) > 300  # the resolved bar
        assert await page.evaluate(INK, ["chart-dispositions", RED]) > 150  # the follow-up bar on it
        assert await page.evaluate(INK, ["chart-service-level", BLUE]) > 20
        await page.screenshot(path=str(shots / "reports-by-queue.png"), full_page=True)
        found = await axe_violations(page)
        assert blocking(found) == [], describe(found)

        # the CSV download: one row per queue and day, with the same figures
        async with page.expect_download() as info:
            await page.click("[data-testid=reports-csv]")
        download = await info.value
        text = Path(await download.path()).read_text(encoding="utf-8")
        csv_rows = list(csv.DictReader(io.StringIO(text)))
        assert {"offered", "handled", "abandoned", "service_level", "asa_ms"} <= set(csv_rows[0])
        assert len(csv_rows) == 2 * len(by_queue["totals"])  # two days
        for key, figures in shown.items():
            mine = [r for r in csv_rows if r.get("key", r.get("queue")) == key]
            assert sum(int(r["offered"]) for r in mine) == int(figures["offered"])
            assert sum(int(r["handled"]) for r in mine) == int(figures["handled"])
        await expect(page.locator("[data-testid=reports-status]")).to_have_text(re.compile(r"^Downloaded .+\.csv\.$"))

        # a queue typed, then grouped by agent: the box is emptied (it read "support" over every queue's figures),
        # and the queue comes back by queue
        box = page.locator("[data-testid=reports-queue]")
        await box.fill("support")
        await page.select_option("[data-testid=reports-by]", "agent")
        await expect(box).to_have_value("")
        await page.select_option("[data-testid=reports-by]", "queue")
        await expect(box).to_have_value("support")
        await box.fill("")
        # from the keyboard: group by agent, then Show
        await page.focus("[data-testid=reports-by]")
        await page.select_option("[data-testid=reports-by]", "agent")
        await expect(page.locator("[data-testid=reports-queue]")).to_be_disabled()  # a filter of reports by queue
        await page.keyboard.press("Tab")  # past the queue field: Show
        assert await page.evaluate("document.activeElement.dataset.testid") == "reports-show"
        await page.keyboard.press("Enter")
        alice_row = page.locator("[data-testid=reports-totals] tr[data-key=alice]")
        await expect(alice_row.locator("td[data-metric=handled]")).to_have_text("3")
        assert "by=agent" in page.url
        # offered is counted per queue only: an agent's row has no figure there ("—", saying why), never 0
        for metric in ("offered", "abandoned", "callbacks_booked", "ivr_sessions"):
            none = alice_row.locator(f"td[data-metric={metric}]")
            await expect(none).to_have_text("—")
            await expect(none).to_have_attribute("title", re.compile("^Counted per queue only"))
        await expect(alice_row.locator("td[data-metric=handled]")).not_to_have_attribute("title", re.compile("."))
        await expect(page.locator("[data-sub=volume]")).to_contain_text("handled only")
        # where agents' signed-in time went: a table of its own (by agent only), each figure the endpoint's
        time_section = page.get_by_test_id("agent-time-section")
        await expect(time_section).to_be_visible()
        agents = await report(node, token, **span, by="agent")
        expected = {n: total_of(agents, "alice", n) for n in ("time_signed_in_ms", "time_idle_ms", "occupancy")}
        assert expected == {"time_signed_in_ms": SAMPLE_MS, "time_idle_ms": SAMPLE_MS, "occupancy": 0}
        for name, value in expected.items():
            cell = page.locator(f"[data-testid=agent-time] tr[data-key=alice] td[data-metric={name}]")
            assert float(await cell.get_attribute("data-value") or "nan") == value, name
        await page.screenshot(path=str(shots / "reports-by-agent.png"), full_page=True)
        async with page.expect_download() as info:
            await page.click("[data-testid=reports-csv]")
        agent_rows = list(csv.DictReader(io.StringIO(Path(await (await info.value).path()).read_text("utf-8"))))
        assert {(r["offered"], r["ivr_sessions"]) for r in agent_rows} == {("", "")}
        assert sum(int(r["handled"]) for r in agent_rows if r["key"] == "alice") == 3

        # the flow's paths: the caller's steps and where they hung up, as the endpoint has them
        await page.fill("[data-testid=flow-name]", "default")
        await page.press("[data-testid=flow-name]", "Enter")
        await expect(page.locator("[data-testid=flow-status]")).to_have_text(re.compile("^Paths of default"))
        moves = page.locator("[data-testid=flow-transitions] tbody tr[data-from]")
        await expect(moves).to_have_count(len(paths["transitions"]))
        start = page.locator("[data-testid=flow-transitions] tr[data-from=''][data-to=hello] td[data-metric=count]")
        await expect(start).to_have_text("1")
        exits = page.locator("[data-testid=flow-exits] tbody tr[data-node]")
        await expect(exits).to_have_count(len(paths["exits"]))
        hung_up = [e for e in paths["exits"] if e["hangups"]]
        assert len(hung_up) == 1
        await expect(
            page.locator(f"[data-testid=flow-exits] tr[data-node='{hung_up[0]['node']}'] td[data-metric=hangups]")
        ).to_have_text("1")
        await page.screenshot(path=str(shots / "reports-by-agent-and-flow.png"), full_page=True)

        # error states: a range the page refuses itself, and the gateway's own problem message
        await page.fill("[data-testid=reports-from]", span["to"])
        await page.fill("[data-testid=reports-to]", span["from"])
        await page.click("[data-testid=reports-show]")
        await expect(page.locator("[data-testid=reports-error]")).to_have_text(
            "The last day comes before the first day."
        )
        await expect(page.locator("[data-testid=reports-to]")).to_have_attribute("aria-invalid", "true")
        # the report shown before no longer answers the form: taken away, not left under the error (an
        # exploratory test saw "Showing ... by agent" under it)
        await expect(page.locator("[data-testid=reports-results]")).to_be_hidden()
        await expect(page.locator("[data-testid=reports-status]")).to_have_text("")
        # the gateway's refusal of a queue no one has: its message, and no report of zeros
        await page.fill("[data-testid=reports-from]", span["from"])
        await page.fill("[data-testid=reports-to]", span["to"])
        await page.select_option("[data-testid=reports-by]", "queue")
        await page.fill("[data-testid=reports-queue]", "Billing")
        await page.click("[data-testid=reports-show]")
        await expect(page.locator("[data-testid=reports-error]")).to_have_text(
            "The report could not be made: there is no queue 'Billing' and none was ever counted: did you mean "
            "'billing'? (names are case-sensitive)"
        )
        await expect(page.locator("[data-testid=reports-results]")).to_be_hidden()
        refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        assert errors.count(refused) == 1  # Chromium's own line for the refusal the test asked for
        errors.remove(refused)
        await page.fill("[data-testid=reports-queue]", "")
        # the empty state: a quiet week long ago
        await page.fill("[data-testid=reports-from]", "2020-01-01")
        await page.fill("[data-testid=reports-to]", "2020-01-07")
        await page.click("[data-testid=reports-show]")
        await expect(page.locator("[data-testid=reports-empty]")).to_contain_text("Nothing happened from 2020-01-01")
        await expect(page.locator("[data-testid=reports-results]")).to_be_hidden()
        await expect(page.locator("[data-testid=reports-error]")).to_be_hidden()
        await page.screenshot(path=str(shots / "reports-empty.png"), full_page=True)

        assert await violations(page) == []
        assert errors == []
    finally:
        await ctx.close()


async def test_an_agent_without_the_supervisor_role_is_refused(browser: Browser, node: Node) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    try:
        await page.goto(node.url + "/supervisor/reports")
        await sign_in(page, "alice")
        # the gateway's problem JSON (403) says why, on the page
        refused = "Only supervisors and admins may read reports (your roles: agent). Sign in with such an account to see them."
        await expect(page.locator("[data-testid=reports-refused]")).to_have_text(refused)
        await expect(page.locator("#rp-form")).to_be_hidden()
        await page.click("[data-testid=reports-logout]")
        await expect(page.locator("#login-form")).to_be_visible()
    finally:
        await ctx.close()


async def test_the_totals_end_with_every_queue_together_and_a_chat_handed_on_shows_its_transfer(
    browser: Browser, node: Node, clients: Clients
) -> None:
    """Two queues: the table's last row is the gateway's figures of both together (an average over all contacts, not
    the rows' averages), and the Transferred column appears once a chat was handed from one queue to another."""
    alice = clients.agent("alice")
    await alice.hello()
    await served_chat(clients, alice, "First question", "resolved")
    customer = clients.customer()
    await customer.hello()
    await customer.say("Billing question")
    cid = str((await alice.assigned(timeout=10))["id"])
    await alice.say(cid, "Let me pass you to billing.")
    bob = clients.agent("bob")
    await bob.hello()
    await alice.send({"type": "transfer", "conversation_id": cid, "queue": "billing"})
    await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    assert (await bob.assigned(timeout=10))["id"] == cid  # from billing, to bob (not back to alice)
    await bob.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    token = await clients.agent("carol").login()
    day = datetime.now(UTC).date().isoformat()
    span = {"from": day, "to": day}
    body = await counted(
        node, token, {**span, "by": "queue"}, lambda b: sum(t["chat_segments"] or 0 for t in b["totals"]) >= 3
    )
    assert {t["key"] for t in body["totals"]} == {"default", "billing"} and body["overall"]["transfers"] == 1
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    try:
        await page.goto(node.url + f"/supervisor/reports?from={day}&to={day}")
        await sign_in(page, "carol")
        overall = page.get_by_test_id("reports-overall")
        await expect(overall.get_by_role("rowheader")).to_have_text("All queues")
        shown: dict[str, str] = await overall.evaluate(
            "(tr) => Object.fromEntries([...tr.querySelectorAll('td[data-metric]')]"
            ".map((td) => [td.dataset.metric, td.dataset.value]))"
        )
        for name in ("offered", "handled", "asa_ms", "aht_chat_ms", "transfers"):
            value = body["overall"][name]
            assert (float(shown[name]) if shown[name] else None) == value, (name, shown, body["overall"])
        head = page.locator("[data-testid=reports-totals] thead")
        await expect(head.get_by_text("Trans\u00adfers", exact=True)).to_be_visible()
        await page.screenshot(
            path=str(Path(os.environ.get("CG_SCREENSHOTS", "/tmp")) / "reports-overall.png"), full_page=True
        )
    finally:
        await ctx.close()
