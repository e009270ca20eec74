"""The wallboard's queue table and the reports' totals table fit a 1,366 x 768 laptop screen in real Chromium: no
sideways scrolling (the table's scrollWidth is within its box's clientWidth) with a busy center's figures.

The figures are the gateway's own code's: the wallboard frame is ``compose`` (gateway/ops/wallboard.py) of a center
with six queues under long names (up to the 40 characters a queue name may have), waits over the target, a service
level under it, call and chat handle times, callbacks; it replaces the real node's frame on the real socket. The
report is the real node's answer with its series and totals made by ``report_point`` (gateway/ops/rollup_rules.py)
from a busy week's counters of the same queues. The full meaning of every shortened header stays reachable: each
one's ``abbr``/``title``, and the header cells' accessible names, checked here too.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, WebSocketRoute, expect

from gateway.ops.rollup_rules import report_point
from gateway.ops.wallboard import Facts, Thresholds, compose
from gateway.protocol.server import encode
from tests.browser.test_reports_browser import sign_in as reports_sign_in
from tests.browser.test_wallboard_browser import sign_in as wallboard_sign_in
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

LAPTOP = {"width": 1366, "height": 768}

QUEUES = (
    "premium_support_after_hours_escalations",  # 40 characters: the longest a queue name may be
    "enterprise-billing-disputes-and-refunds",
    "returns-and-exchanges-north-america",
    "technical-support-tier-2-networking",
    "sales",
    "default",
)


async def show_center(page: Page, center: Callable[[int], dict[str, Any]]) -> None:
    """The page's wallboard frames carry ``center`` (built at each frame's time) in the real frame's place."""

    async def board(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if json.loads(text).get("type") == "wallboard":
                text = encode(center(int(time.time() * 1000))).decode()
            ws.send(text)

        server.on_message(from_server)

    await page.route_web_socket("**/ws/agent", board)


def busy_center(now: int) -> dict[str, Any]:
    """A wallboard frame of a busy center, as the gateway composes it."""
    waiting: list[tuple[str, int]] = []
    conversations: dict[str, dict[str, str]] = {}
    for q, name in enumerate(QUEUES):
        for n in range(12 + q):  # two-digit counts, oldest waits of minutes (over the 60 s target)
            cid = f"c{q}-{n}"
            waiting.append((cid, now - (3_725_000 if n == 0 else 40_000 * n)))
            conversations[cid] = {"queue": name, "skills": ""}
    agents = [
        (
            f"a{n:02d}",
            {"name": f"Agent {n}", "status": "available" if n % 3 else "away", "capacity": "3", "skills": ""},
            n % 4,
            1,
        )
        for n in range(48)
    ]
    callbacks = [
        {"conversation_id": f"cb{q}-{n}", "state": "scheduled" if n % 2 else "queued", "queue": name}
        for q, name in enumerate(QUEUES)
        for n in range(11)
    ]
    today = {
        name: report_point(
            {
                "offered": 1234 + q,
                "handled": 1180,
                "abandoned": 54,
                "in_sl": 700,  # 59 %: under the 80 % target
                "wait_ms": 1180 * 95_000,
                "talked": 900,
                "talk_ms": 900 * 3_400_000,  # 56 min: with hold and wrap-up over an hour
                "hold_ms": 900 * 120_000,
                "wrapped": 900,
                "wrap_ms": 900 * 200_000,
                "chatted": 280,
                "chat_handle_ms": 280 * 750_000,
            }
        )
        for q, name in enumerate(QUEUES)
    }
    facts = Facts(
        now=now,
        waiting=waiting,
        conversations=conversations,
        agents=agents,
        calls=[],
        callbacks=callbacks,
        handle_times=[240_000] * 20,
        today_queues=today,
        today_agents={},
    )
    frame = compose(facts, Thresholds(today_zone="America/Argentina/Buenos_Aires")).as_dict()
    assert [q["queue"] for q in frame["queues"]] == sorted(QUEUES)
    return frame


async def no_sideways_scroll(page: Page, table: str) -> dict[str, int]:
    sizes: dict[str, int] = await page.evaluate(
        """(testid) => {
             const table = document.querySelector(`[data-testid=${testid}]`);
             const box = table.closest('[role=region]');
             return { scroll: box.scrollWidth, client: box.clientWidth, table: table.scrollWidth,
                      page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
                      cols: [...table.querySelector('tbody tr').children].map((c) => `${c.dataset.col || c.dataset.metric || 'key'}=${Math.round(c.getBoundingClientRect().width)}`).join(' ') };
           }""",
        table,
    )
    return sizes


async def header_names(page: Page, table: str) -> list[str]:
    """Each column header's full meaning: its abbr's or its own title, else its text."""
    names: list[str] = await page.evaluate(
        """(testid) => [...document.querySelectorAll(`[data-testid=${testid}] thead th`)].map((th) => {
             const abbr = th.querySelector('abbr[title]');
             return (th.title || (abbr && abbr.title) || th.textContent).replace(/\\s+/g, ' ').trim();
           })""",
        table,
    )
    return names


def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("CG_SCREENSHOTS", tmp_path))


async def test_the_wallboards_queue_table_fits_1366_px_with_a_busy_center(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    ctx = await browser.new_context(viewport=LAPTOP)
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await show_center(page, busy_center)
        await wallboard_sign_in(page, node, "carol")
        rows = page.locator("[data-testid=wb-queues] tbody tr")
        await expect(rows).to_have_count(len(QUEUES))
        long_row = page.locator(f"[data-testid=wb-queues] tr[data-key='{QUEUES[0]}']")
        await expect(long_row.locator("[data-col=oldest_wait]")).to_contain_text("over target")
        await expect(long_row.locator("[data-col=service_level]")).to_contain_text("under target")
        await expect(long_row.locator("[data-col=aht]")).to_contain_text("chat")
        await expect(long_row.locator("[data-col=queue]")).to_have_text(QUEUES[0])  # the whole name, never cut
        for large in (False, True):
            sizes = await no_sideways_scroll(page, "wb-queues")
            assert sizes["scroll"] <= sizes["client"], f"large={large}: {sizes}"
            assert sizes["page"] <= sizes["viewport"], f"large={large}: {sizes}"
            await page.screenshot(path=str(shots(tmp_path) / f"wallboard-1366{'-large' if large else ''}.png"))
            await page.click("[data-testid=wb-large]")
        names = await header_names(page, "wb-queues")
        for meaning in (
            "Waiting now",
            "Chats",
            "Oldest",
            "Expected",
            "Agents",
            "Signed in",
            "After-call work",
            "Callbacks",
            "Scheduled",
            "Service level",
            "Average speed of answer",
            "Average handle time",
        ):
            assert any(meaning.lower() in name.lower() for name in names), (meaning, names)
        assert errors == []
    finally:
        await ctx.close()


def busy_week(start: date, days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The series and totals of a report by queue over a busy week, as the gateway reports them."""
    series, totals = [], []
    for q, name in enumerate(QUEUES):
        day = {
            "offered": 4321 + q,
            "handled": 4100,
            "abandoned": 221,
            "abandoned_wait_ms": 221 * 754_000,
            "in_sl": 3600,
            "wait_ms": 4100 * 185_000,
            "talked": 3000,
            "talk_ms": 3000 * 3_725_000,
            "hold_ms": 3000 * 125_000,
            "wrapped": 3000,
            "wrap_ms": 3000 * 305_000,
            "responded": 1100,
            "first_response_ms": 1100 * 95_000,
            "resolved": 1000,
            "resolution_ms": 1000 * 7_265_000,
            "chatted": 1100,
            "chat_handle_ms": 1100 * 1_925_000,
            "callbacks_booked": 1234,
            "callbacks_reached": 1111,
            "callbacks_unreachable": 123,
            "escalations": 456,
            "ivr_sessions": 12345,
            "ivr_contained": 6789,
        }
        points = [{"start": f"{start + timedelta(days=d)}T00:00:00Z", **report_point(day)} for d in range(days)]
        series.append({"key": name, "points": points})
        totals.append({"key": name, **report_point({k: v * days for k, v in day.items()})})
    return series, totals


@pytest.mark.parametrize("screen", [(1366, 768), (1280, 800), (1265, 800)])
async def test_the_reports_totals_table_fits_a_laptop_with_a_busy_week(
    browser: Browser, node: Node, tmp_path: Path, screen: tuple[int, int]
) -> None:
    """1,366 x 768 and 1,280 x 800 (a user test saw the table run out of its card there), and 1,280 less a classic
    scroll bar."""
    ctx = await browser.new_context(viewport={"width": screen[0], "height": screen[1]})
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        async def busy(route: Route) -> None:
            answer = await route.fetch()
            body = await answer.json()
            if body.get("by") == "queue":
                first = date.fromisoformat(body["from"])
                days = (date.fromisoformat(body["to"]) - first).days + 1
                body["series"], body["totals"] = busy_week(first, days)
            await route.fulfill(response=answer, json=body)

        await page.route("**/api/reports?*", busy)
        await page.goto(node.url + "/supervisor/reports")
        await reports_sign_in(page, "carol")
        rows = page.locator("[data-testid=reports-totals] tbody tr[data-key]")
        await expect(rows).to_have_count(len(QUEUES))
        long_row = page.locator(f"[data-testid=reports-totals] tr[data-key='{QUEUES[0]}']")
        await expect(long_row.locator("th")).to_have_text(QUEUES[0])
        await expect(long_row.locator("td[data-metric=chat_resolution_ms]")).to_have_text("2 h 01 min")
        await page.locator("[data-testid=reports-totals]").scroll_into_view_if_needed()
        await page.screenshot(path=str(shots(tmp_path) / f"reports-{screen[0]}.png"))
        sizes = await no_sideways_scroll(page, "reports-totals")
        assert sizes["scroll"] <= sizes["client"], str(sizes)
        assert sizes["page"] <= sizes["viewport"], sizes
        names = await header_names(page, "reports-totals")
        for meaning in (
            "Avg wait before abandoning",
            "Service level",
            "Avg speed of answer",
            "Chat first response",
            "Callbacks unreachable",
            "Escalations chat → voice",
            "IVR contained",
        ):
            assert any(meaning.lower() in name.lower() for name in names), (meaning, names)
        assert errors == []
    finally:
        await ctx.close()


LONG_AGENT = "Maximiliana Schwarzenegger-Oppenheim"  # 37 characters, as a user test had (s29ut C4)


def agents_center(now: int) -> dict[str, Any]:
    """A wallboard frame with agents under long names, away for each reason the gateway gives, one on a call."""
    reasons = ["missed_call", "declined_call", "call_lost", "agent_absent", "back_office_work"]
    agents: list[tuple[str, dict[str, str], int, int]] = [
        (
            "max",
            {
                "name": LONG_AGENT,
                "status": "available",
                "capacity": "3",
                "skills": "",
                "activity": "on_call",
                "activity_since": str(now - 754_000),
            },
            2,
            1,
        ),
        *(
            (
                f"a{n}",
                {
                    "name": f"{LONG_AGENT[: 30 + n]}",
                    "status": "away",
                    "away_reason": reason,
                    "capacity": "3",
                    "skills": "",
                    "status_since": str(now - 3_725_000),
                },
                n % 3,
                1,
            )
            for n, reason in enumerate(reasons)
        ),
    ]
    calls = [
        (
            "k1",
            {
                "conversation_id": "c1",
                "agent_id": "max",
                "status": "connected",
                "started_ms": str(now - 800_000),
                "queued_ms": str(now - 790_000),
                "answered_ms": str(now - 754_000),
            },
        )
    ]
    facts = Facts(
        now=now,
        waiting=[],
        conversations={"c1": {"queue": "billing", "skills": ""}},
        agents=agents,
        calls=calls,
        callbacks=[],
        handle_times=[],
        today_queues={},
        today_agents={"max": {"handled": 1234}},
    )
    return compose(facts, Thresholds()).as_dict()


@pytest.mark.parametrize("width", [1366, 1600, 1920])
async def test_the_wallboards_agents_table_fits_with_a_long_name(
    browser: Browser, node: Node, tmp_path: Path, width: int
) -> None:
    """A wall display is not scrolled: every column of the Agents table is in its card (a user test saw "Call" and
    "Handled today" behind a sideways scroll at 1,600 and 1,920 px); a long name ends in an ellipsis, whole in its
    title; an away reason in words."""
    ctx = await browser.new_context(viewport={"width": width, "height": 900})
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await show_center(page, agents_center)
        await wallboard_sign_in(page, node, "carol")
        rows = page.locator("[data-testid=wb-agents] tbody tr")
        await expect(rows).to_have_count(6)
        long_row = page.locator("[data-testid=wb-agents] tr[data-key=max]")
        await expect(long_row.locator("[data-col=agent]")).to_have_attribute("title", LONG_AGENT)
        await expect(long_row.locator("[data-col=agent]")).to_have_text(LONG_AGENT)  # all there, for screen readers
        # a name in its own direction: a right-to-left one, or an override in it, stays inside it
        await expect(long_row.locator("[data-col=agent] > span")).to_have_attribute("dir", "auto")
        await expect(long_row.locator("[data-col=call]")).to_have_text("Connected")
        await expect(long_row.locator("[data-col=handled]")).to_have_text("1234")
        away = page.locator("[data-testid=wb-agents] tr[data-key=a2] [data-col=state]")
        await expect(away).to_have_text("Away — lost the connection during a call")
        for large in (False, True):
            sizes = await no_sideways_scroll(page, "wb-agents")
            await page.screenshot(
                path=str(shots(tmp_path) / f"wallboard-agents-{width}{'-large' if large else ''}.png")
            )
            assert sizes["scroll"] <= sizes["client"], f"large={large}: {sizes}"
            assert sizes["page"] <= sizes["viewport"], f"large={large}: {sizes}"
            await page.click("[data-testid=wb-large]")
        assert errors == []
    finally:
        await ctx.close()


def small_center(now: int) -> dict[str, Any]:
    """The user test's wallboard: four queues (one with the longest name, one with call and chat handle times), one
    chat waiting, nobody signed in, no call."""
    names = ("billing", "sales", "support", "x" * 40)
    point = {
        "offered": 6,
        "handled": 3,
        "in_sl": 3,
        "wait_ms": 0,
        "talked": 2,
        "talk_ms": 2 * 250_000,
        "wrapped": 2,
        "wrap_ms": 2 * 6_000,
        "chatted": 1,
        "chat_handle_ms": 79_000,
    }
    facts = Facts(
        now=now,
        waiting=[("c1", now - 43_000)],
        conversations={"c1": {"queue": "support", "skills": ""}},
        agents=[],
        calls=[],
        callbacks=[{"conversation_id": "cb1", "state": "queued", "queue": "support"}],
        handle_times=[],
        today_queues={name: report_point(point) for name in names[:3]},
        queue_skills={name: {} for name in names},
        service_levels_ms={name: 20_000 for name in names},
        today_agents={},
    )
    return compose(facts, Thresholds(today_zone="Asia/Kolkata")).as_dict()


@pytest.mark.parametrize("screen", [(1920, 1080), (1366, 768)])
async def test_the_wallboards_large_mode_fits_a_tv_screen_without_scrolling(
    browser: Browser, node: Node, tmp_path: Path, screen: tuple[int, int]
) -> None:
    """A wall display is not scrolled at all: in large mode the whole board, its "Updated" line too, is on a 1,920 x
    1,080 TV and a 1,366 x 768 one (a user test saw the bottom 30 px cut off at 1,920 x 1,080)."""
    width, height = screen
    ctx = await browser.new_context(viewport={"width": width, "height": height})
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await show_center(page, small_center)
        await wallboard_sign_in(page, node, "carol")
        await expect(page.locator("[data-testid=wb-queues] tbody tr")).to_have_count(4)
        await page.click("[data-testid=wb-large]")
        await expect(page.locator("body")).to_have_class(re.compile("wb-large"))
        await expect(page.locator("[data-testid=wb-updated]")).to_contain_text("Updated")
        sizes = await page.evaluate(
            """() => ({ page: document.documentElement.scrollHeight, viewport: window.innerHeight,
                        wide: document.documentElement.scrollWidth, across: window.innerWidth,
                        updated: document.querySelector('[data-testid=wb-updated]').getBoundingClientRect().bottom })"""
        )
        await page.screenshot(path=str(shots(tmp_path) / f"wallboard-large-{width}x{height}.png"))
        assert sizes["page"] <= sizes["viewport"], sizes  # no scrolling down
        assert sizes["updated"] <= sizes["viewport"], sizes  # the last line is on the screen
        assert sizes["wide"] <= sizes["across"], sizes  # nor sideways
        assert errors == []
    finally:
        await ctx.close()
