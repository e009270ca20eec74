"""The supervisors' wallboard in real Chromium: a supervisor signs in at /supervisor and watches while a chat
waits, is assigned and closes, and a call queues and is answered (the agent, the customer and the caller are
protocol clients and aiortc peers); every number changes live on the page (waited for on the DOM, never
slept for). Then the supervisor barges into the call from the page. axe-core finds nothing serious, in the
normal and the large mode; screenshots of both at 1,280 px. An agent without the role is told the page is
not for them. The "Updated" time is the center's clock (--center-timezone), named when the browser's zone reads
otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from tests.browser.test_accessibility_browser import check
from tests.conftest import PASSWORDS, Clients, bounded
from tests.support.axe import install_axe
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

pytestmark = BROWSER_TESTS

SHOTS = Path(os.environ.get("CG_SCREENSHOTS", "")) if os.environ.get("CG_SCREENSHOTS") else None


@browser_fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    """A node whose wait target is 1 s: the waiting chat goes over it while the test watches."""
    started = await start_node(replace(settings, wallboard_wait_target_seconds=1.0))
    yield started
    await bounded(started.stop(), "stopping the gateway node")


async def sign_in(page: Page, node: Node, agent_id: str) -> None:
    await page.goto(node.url + "/supervisor")
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", PASSWORDS[agent_id])
    await page.click("#login-submit")


def cell(page: Page, table: str, key: str, col: str) -> Any:
    return page.locator(f"[data-testid=wb-{table}] tr[data-key='{key}'] [data-col={col}]")


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    for folder in (tmp_path, SHOTS):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(folder / name), full_page=True)


async def test_a_supervisor_watches_chats_and_calls_change_live_and_barges_in(
    mic_browser: Browser, node: Node, clients: Clients, tmp_path: Path
) -> None:
    ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 900})
    await install_axe(ctx)
    errors: list[str] = []
    report: list[str] = []
    refused: list[str] = []
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    caller = phone = None
    try:
        await page.goto(node.url + "/supervisor")
        await expect(page.locator("#login-form")).to_be_visible()
        await check(page, "wallboard sign-in", report, refused)
        # signed in by keyboard (Enter): the focus lands on the board's first control, not on <body> (a user test)
        await page.fill("#login-agent", "carol")
        await page.fill("#login-password", PASSWORDS["carol"])
        await page.press("#login-password", "Enter")
        await expect(page.locator("[data-testid=wb-large]")).to_be_focused()
        await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Live")
        # the reports are one click away (the board had no way to them: an exploratory test)
        await expect(page.get_by_test_id("wb-reports")).to_have_attribute("href", "/supervisor/reports")
        await expect(page.locator("[data-testid=wb-agents] tbody tr")).to_have_count(0)  # carol only watches

        alice = clients.agent("alice")
        await alice.hello(available=False)
        await expect(cell(page, "agents", "alice", "state")).to_have_text("Away")

        # a chat waits: counted in its queue, its wait goes over the 1 s target (colour and words)
        customer = clients.customer()
        await customer.hello()
        ack = await customer.say("Hello, where is my parcel?")
        await expect(cell(page, "queues", "default", "waiting_chats")).to_have_text("1")
        oldest = cell(page, "queues", "default", "oldest_wait")
        await expect(oldest).to_have_attribute("data-over", "true")
        await expect(oldest).to_contain_text("over target")
        await expect(page.locator("[data-testid=wb-totals] [data-total=waiting_chats] .wb-tile-n")).to_have_text("1")
        await check(page, "wallboard, a chat waiting over its target", report, refused)
        await shot(page, tmp_path, "wallboard-1280.png")

        # assigned, then closed
        await alice.send({"type": "status", "status": "available"})
        await alice.assigned()
        await expect(cell(page, "queues", "default", "waiting_chats")).to_have_text("0")
        await expect(cell(page, "agents", "alice", "conversations")).to_have_text("1 / 2")
        await expect(cell(page, "agents", "alice", "state")).to_have_text("Available")  # one of two: room for more
        await alice.send({"type": "close", "conversation_id": ack["conversation_id"], "disposition": "resolved"})
        await expect(cell(page, "agents", "alice", "conversations")).to_have_text("0 / 2")
        await expect(cell(page, "agents", "alice", "state")).to_have_text("Available")
        await expect(cell(page, "queues", "default", "handled")).to_have_text("1", timeout=15000)
        await expect(cell(page, "agents", "alice", "handled")).to_have_text("1")

        # a call queues while alice is away, rings her once she is available, and she answers
        await alice.send({"type": "status", "status": "away"})
        await expect(cell(page, "agents", "alice", "state")).to_have_text("Away")
        caller = await queued_call(clients)
        phone = Softphone(alice)
        call_row = page.locator("[data-testid=wb-call]")
        await expect(call_row).to_have_count(1)
        await expect(call_row.locator("[data-col=status]")).to_have_text("Waiting")
        await expect(call_row.locator("[data-col=queue]")).to_have_text("billing")
        await expect(cell(page, "queues", "billing", "waiting_calls")).to_have_text("1")
        await expect(call_row.locator("button[data-mode=barge]")).to_be_disabled()  # only a connected call
        await alice.send({"type": "status", "status": "available"})
        await phone.answer((await phone.ringing())["call_id"])
        await expect(call_row.locator("[data-col=status]")).to_have_text("Connected")
        await expect(call_row.locator("[data-col=agent]")).to_have_text("Alice Smith")
        await expect(cell(page, "queues", "billing", "waiting_calls")).to_have_text("0")
        await expect(cell(page, "agents", "alice", "call")).to_have_text("Connected")

        # barge in from the page: the gateway answers and the page says who hears the supervisor
        await call_row.locator("button[data-mode=barge]").click()
        monitor = page.locator("[data-testid=wb-monitor]")
        await expect(monitor).to_contain_text("the caller and the agent hear you", timeout=20000)
        await expect(call_row.locator("button[data-mode=barge]")).to_have_attribute("aria-pressed", "true")
        await check(page, "wallboard, barging into a call", report, refused)
        # the mode buttons are toggles (aria-pressed), as in the desk's Live calls: Barge in again goes back to
        # listening; Listen again leaves the call
        await call_row.locator("button[data-mode=barge]").click()
        await expect(monitor).to_contain_text("Listening: nobody hears you")
        await expect(call_row.locator("button[data-mode=barge]")).to_have_attribute("aria-pressed", "false")
        await expect(call_row.locator("button[data-mode=listen]")).to_have_attribute("aria-pressed", "true")
        await call_row.locator("button[data-mode=listen]").click()
        await expect(monitor).to_contain_text("You left the call")
        await expect(call_row.locator("button[data-mode=listen]")).to_have_attribute("aria-pressed", "false")
        modes = [
            (e["type"], e["mode"])
            for e in await node.services.store.events(caller.conversation_id)
            if e["type"] in ("call_monitored", "call_monitor_ended")
        ]
        assert modes == [("call_monitored", "barge"), ("call_monitored", "listen"), ("call_monitor_ended", "listen")]
        await call_row.locator("button[data-mode=barge]").click()  # and in again
        await expect(monitor).to_contain_text("the caller and the agent hear you", timeout=20000)

        # large mode: remembered across a reload
        await page.click("[data-testid=wb-large]")
        await expect(page.locator("body")).to_have_class(re.compile("wb-large"))
        await check(page, "wallboard, large mode", report, refused)
        await shot(page, tmp_path, "wallboard-large.png")
        # each mode button says whose call it joins: a screen reader tabbing through reads the name alone
        await expect(call_row.locator("button[data-mode=listen]")).to_have_attribute(
            "aria-label", "Listen: \u2068Alice Smith\u2069\u2019s call, billing"
        )
        # leaving with the keyboard: focus goes back to the row's button of the mode left, not to <body> (a user
        # test: Tab then started again from the top of the page)
        await page.focus("[data-testid=wb-monitor-leave]")
        await page.keyboard.press("Enter")
        await expect(monitor).to_contain_text("You left the call")
        await expect(call_row.locator("button[data-mode=barge]")).to_be_focused()
        await expect(call_row.locator("button[data-mode=barge]")).to_have_attribute("aria-pressed", "false")
        await page.reload()
        await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Live")
        await expect(page.locator("[data-testid=wb-large]")).to_have_attribute("aria-pressed", "true")
        print("\n\n".join(report))
        assert not refused, refused
        assert not errors, errors
    finally:
        if phone is not None:
            await phone.close()
        if caller is not None:
            await caller.close()
        await ctx.close()


async def test_an_agent_without_the_role_is_told_the_wallboard_is_not_for_them(browser: Browser, node: Node) -> None:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = await ctx.new_page()
        await sign_in(page, node, "bob")
        refusal = page.locator("[data-testid=wb-refused]")
        await expect(refusal).to_be_visible()
        await expect(refusal).to_contain_text("for supervisors and admins only")
        await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Not allowed")
        await expect(page.locator("#wb-live")).to_be_hidden()
    finally:
        await ctx.close()


CENTER = "Asia/Kolkata"  # +05:30 all year: no browser zone of the test reads the same by chance


@browser_fixture
async def center_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, center_timezone=CENTER))
    yield started
    await bounded(started.stop(), "stopping the gateway node")


async def test_the_updated_time_is_the_centers_clock_named_when_the_browser_is_elsewhere(
    browser: Browser, center_node: Node, tmp_path: Path
) -> None:
    for here, named in (("America/New_York", True), (CENTER, False)):
        ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id=here, locale="en-GB")
        try:
            page = await ctx.new_page()
            await sign_in(page, center_node, "carol")
            await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Live")
            updated = page.locator("[data-testid=wb-updated]")
            await expect(updated).to_have_text(re.compile(r"^Updated \d\d:\d\d:\d\d( Asia/Kolkata)?$"))
            text = await updated.inner_text()
            assert text.endswith(f" {CENTER}") == named, (here, text)
            h, m, sec = (int(x) for x in text.split()[1].split(":"))
            now = datetime.now(ZoneInfo(CENTER))
            apart = abs((h * 3600 + m * 60 + sec) - (now.hour * 3600 + now.minute * 60 + now.second))
            assert min(apart, 86400 - apart) < 600, f"{text!r} is not the center's time ({now:%H:%M:%S})"
            if named:
                await shot(page, tmp_path, "wallboard-center-clock.png")
        finally:
            await ctx.close()
