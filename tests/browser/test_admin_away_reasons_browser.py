"""The admin console's away reasons (/admin#away-reasons, console_codes.js) in real Chromium against a real node.

An admin sees the defaults (never saved: version 0), adds Coaching (its code suggested from the label), renames
Break, moves Coaching first, removes Other work (after a question) and saves: the gateway then has exactly that list,
version 1, and the audit log the change. Codes the gateway would refuse (one of its own reasons, one code twice, no
label) are all shown at once, each next to its field, and nothing is sent; a refusal of the gateway's lands at the
row it names. A save after someone else's shows their list and says so, and nothing of it is written. A supervisor
sees the list without one edit control. Screenshots at 1,280 px and 390 px go to $CG_SCREENSHOTS (or the tmp dir).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, Request, Route, expect

from tests.browser.test_admin_console_browser import (
    ADMIN_PASSWORD,
    checked,
    console_node,
    login_token,
    new_page,
    open_view,
    rest,
    screenshots,
    sign_in,
)
from tests.conftest import PASSWORDS
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.code_list_page import row_input, rows_of, stored
from tests.support.servers import Node

pytestmark = BROWSER_TESTS
__all__ = ["console_node"]  # the fixture, used by name

VIEW = "away-reasons"
SECTION = f"#view-{VIEW}"
DEFAULTS = [
    ("Break", "break"),
    ("Lunch", "lunch"),
    ("Meeting", "meeting"),
    ("Training", "training"),
    ("Other work", "other"),
]
INTRO = (
    "Agents choose one of these when they go away; the wallboard shows it and reports count away time by it. "
    "Removing one does not change agents away with it now."
)


async def saved_by_another_admin(node: Node, reasons: list[tuple[str, str]], version: int) -> None:
    """Another admin's save (dana's own token, another session: the gateway cannot tell the two apart)."""
    token = await login_token(node, "dana", ADMIN_PASSWORD)
    body = {"reasons": [{"code": code, "label": label} for label, code in reasons], "version": version}
    status, answer = await rest(node, token, "PUT", "/api/admin/away-reasons", body)
    assert status == 200, answer


def watch_puts(page: Page) -> list[str]:
    """The PUTs of the away reasons the page sends, as they go."""
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "PUT" and "/api/admin/away-reasons" in request.url:
            sent.append(request.post_data or "")

    page.on("request", seen)
    return sent


async def test_an_admin_adds_renames_moves_removes_and_saves_and_the_gateway_has_exactly_that(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    admin = await login_token(node, "dana", ADMIN_PASSWORD)
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        await expect(page).to_have_title("Away reasons — Admin console — Contact Gateway")
        await expect(section.get_by_test_id("cs-away-intro")).to_have_text(INTRO)
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(defaults: not saved yet)")
        await expect(section.locator(".cs-away-row")).to_have_count(5)
        assert await rows_of(page, VIEW, "cs-away") == DEFAULTS
        # a saved code is fixed: shown, not an input
        assert await section.locator("input[name=code]").count() == 0
        await expect(section.get_by_role("button", name="Move Break up")).to_be_disabled()
        await expect(section.get_by_role("button", name="Move Other work down")).to_be_disabled()
        await checked(page, errors, shots, "away-defaults")

        # ---- add a reason: the code follows the label (lower case, accents gone, spaces to _) until typed
        await section.get_by_role("button", name="Add reason").click()
        await expect(label_input(page, 6)).to_be_focused()
        await expect(section.get_by_test_id("cs-away-note")).to_have_text(
            "Reason 6 added: type its label. Not saved yet."
        )
        await page.keyboard.type("Team Café 1:1")
        await expect(code_input(page, 6)).to_have_value("team_cafe_11")
        await label_input(page, 6).fill("Coaching")
        await expect(code_input(page, 6)).to_have_value("coaching")

        # ---- rename Break: its buttons are named by the new label
        await label_input(page, 1).fill("Short break")
        await expect(section.get_by_role("button", name="Move Short break down")).to_be_visible()
        await expect(section.get_by_role("button", name="Move Break down")).to_have_count(0)

        # ---- move Coaching first: the focus stays on the button pressed, at the top on the other one
        up = section.get_by_role("button", name="Move Coaching up")
        for place in (5, 4, 3, 2):
            await up.click()
            await expect(up).to_be_focused()
            await expect(section.get_by_test_id("cs-away-note")).to_have_text(
                f"Coaching moved up: now {place} of 6. Not saved yet."
            )
        await up.click()
        await expect(up).to_be_disabled()
        await expect(section.get_by_role("button", name="Move Coaching down")).to_be_focused()
        assert [label for label, _ in await rows_of(page, VIEW, "cs-away")][:2] == ["Coaching", "Short break"]
        await expect(label_input(page, 1)).to_have_value("Coaching")  # the inputs are named by their new places

        # ---- remove Other work: asked first (Cancel keeps it), then gone
        remove = section.get_by_role("button", name="Remove Other work")
        await remove.click()
        confirm = page.get_by_test_id("cs-confirm")
        await expect(confirm.get_by_role("heading")).to_have_text("Remove Other work?")
        await expect(confirm).to_contain_text("Agents away with it now stay away with it, and past reports keep it.")
        await expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(confirm).to_have_count(0)
        await expect(remove).to_be_visible()
        await remove.click()
        await confirm.get_by_role("button", name="Remove reason").click()
        await expect(remove).to_have_count(0)
        expected = [
            ("Coaching", "coaching"),
            ("Short break", "break"),
            ("Lunch", "lunch"),
            ("Meeting", "meeting"),
            ("Training", "training"),
        ]
        assert await rows_of(page, VIEW, "cs-away") == expected
        await expect(
            section.get_by_role("button", name="Remove Training")
        ).to_be_focused()  # the row before (it was the last)
        assert await stored(node, "away_reasons") == (DEFAULTS, 0)  # nothing is written before Save
        await checked(page, errors, shots, "away-edited")

        # ---- save: the gateway has exactly that list, version 1; any agent reads it so
        await section.get_by_role("button", name="Save reasons").click()
        await expect(page.locator("#notice")).to_have_text(
            "The away reasons were saved (version 1): Coaching, Short break, Lunch, Meeting, Training."
        )
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(version 1)")
        assert await stored(node, "away_reasons") == (expected, 1)
        alice = await login_token(node, "alice", PASSWORDS["alice"])
        status, body = await rest(node, alice, "GET", "/api/away-reasons")
        assert (status, body) == (200, {"reasons": [{"code": c, "label": lbl} for lbl, c in expected], "version": 1})
        assert await rows_of(page, VIEW, "cs-away") == expected
        assert await section.locator("input[name=code]").count() == 0  # Coaching's code is fixed now
        await expect(section.get_by_test_id("cs-away-note")).to_have_text("")
        await checked(page, errors, shots, "away-saved")
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await section.evaluate("(s) => s.scrollWidth <= s.clientWidth"), "the view is wider than a phone"
        await page.screenshot(path=str(shots / "admin-away-saved-narrow.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})

        # ---- the audit log has the change
        await open_view(page, "audit")
        entry = page.locator("[data-testid=cs-audit] tr[data-action='away_reasons.update']")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text("dana")
        await expect(entry).to_contain_text("away_reasons")
        _, audit = await rest(node, admin, "GET", "/api/admin/audit?target=away_reasons")
        assert [e["action"] for e in audit["entries"]] == ["away_reasons.update"]
        assert errors == []
    finally:
        await context.close()


async def test_codes_the_gateway_would_refuse_are_shown_at_their_fields_and_nothing_is_saved(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    sent = watch_puts(page)
    try:
        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        await expect(section.locator(".cs-away-row")).to_have_count(5)
        add = section.get_by_role("button", name="Add reason")
        # 6: one of the gateway's own codes; 7: a code of another row; 8: no label; 9: not a code
        for label, code in (("Absent", "agent_absent"), ("Lunch again", "lunch"), ("", "spare"), ("Odd", "-odd code")):
            await add.click()
            await page.keyboard.type(label)
            n = await section.locator(".cs-away-row").count()
            await code_input(page, n).fill(code)
        await section.get_by_role("button", name="Save reasons").click()
        marked = {
            code_input(page, 6): "Reason 6 code: agent_absent is a reason the gateway sets itself: choose another.",
            code_input(page, 7): "Reason 7 code: lunch is the code of reason 2 too: choose another.",
            label_input(page, 8): "Reason 8 label: give the reason a label, or remove the row.",
            code_input(page, 9): "Reason 9 code: 1 to 30 of a-z, 0-9, _ and -, starting with a letter or digit.",
        }
        for control, message in marked.items():
            await expect(control).to_have_attribute("aria-invalid", "true")
            await expect(control).to_have_accessible_description(message)
            error_id = (await control.get_attribute("aria-describedby") or "").split()[0]
            await expect(page.locator(f"[id='{error_id}']")).to_be_visible()  # shown next to it, not only read
        for fine in (label_input(page, 6), label_input(page, 7), code_input(page, 8), label_input(page, 2)):
            await expect(fine).not_to_have_attribute("aria-invalid", "true")
        await expect(section.locator(".cs-form-error")).to_have_text("Fix the 4 problems marked below.")
        await expect(section.get_by_test_id("cs-away-note")).to_have_text("Not saved: fix the problems marked.")
        await expect(code_input(page, 6)).to_be_focused()  # the first in the list
        await checked(page, errors, shots, "away-problems")
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await section.evaluate("(s) => s.scrollWidth <= s.clientWidth"), "the view is wider than a phone"
        await page.screenshot(path=str(shots / "admin-away-problems-narrow.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})
        assert sent == []  # nothing was sent
        assert await stored(node, "away_reasons") == (DEFAULTS, 0)

        # ---- fixed, but the gateway refuses a row the page could not know of: its message at that row's code
        await code_input(page, 6).fill("absent")
        await code_input(page, 7).fill("lunch_2")
        await section.get_by_role("button", name="Remove reason 8").click()  # a new row: nothing to ask
        await code_input(page, 8).fill("odd")

        async def own_code(route: Route) -> None:  # as if the page had sent missed_call for reason 7
            body = json.loads(route.request.post_data or "{}")
            body["reasons"][6]["code"] = "missed_call"
            await route.continue_(post_data=json.dumps(body))

        await page.route("**/api/admin/away-reasons", own_code)
        await section.get_by_role("button", name="Save reasons").click()
        await expect(code_input(page, 7)).to_have_attribute("aria-invalid", "true")
        await expect(code_input(page, 7)).to_have_accessible_description(
            "Reason 7 code 'missed_call' is a reason the gateway sets itself: choose another"
        )
        await expect(code_input(page, 7)).to_be_focused()
        await expect(section.locator(".cs-form-error")).to_be_hidden()
        assert len(sent) == 1
        assert await stored(node, "away_reasons") == (DEFAULTS, 0)
        await page.unroute("**/api/admin/away-reasons")

        await section.get_by_role("button", name="Save reasons").click()
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(version 1)")
        assert await stored(node, "away_reasons") == (
            [*DEFAULTS, ("Absent", "absent"), ("Lunch again", "lunch_2"), ("Odd", "odd")],
            1,
        )
        await expect(section.locator("[aria-invalid]")).to_have_count(0)
        assert errors == []
    finally:
        await context.close()


async def test_a_save_after_someone_else_s_shows_their_list_and_writes_nothing(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(defaults: not saved yet)")
        await label_input(page, 2).fill("Lunch break")
        await expect(section.get_by_test_id("cs-away-note")).to_have_text("Changes not saved yet.")

        # another admin saves meanwhile
        await saved_by_another_admin(node, [("Break", "break"), ("Smoke break", "smoke")], 0)
        assert await stored(node, "away_reasons") == ([("Break", "break"), ("Smoke break", "smoke")], 1)

        await section.get_by_role("button", name="Save reasons").click()
        problem = section.locator(".cs-form-error")
        await expect(problem).to_have_text(
            "Someone else saved the away reasons since you loaded them (now version 1). The list shows theirs: "
            "make your change again and save."
        )
        await expect(problem).to_be_focused()
        await expect(problem).to_have_attribute("role", "alert")
        await expect(section.locator(".cs-away-row")).to_have_count(2)
        assert await rows_of(page, VIEW, "cs-away") == [("Break", "break"), ("Smoke break", "smoke")]
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(version 1)")
        assert await stored(node, "away_reasons") == (
            [("Break", "break"), ("Smoke break", "smoke")],
            1,
        )  # nothing of ours written
        await checked(page, errors, shots, "away-stale")

        # made again on theirs, it is saved over their version
        await section.get_by_role("button", name="Add reason").click()
        await page.keyboard.type("Lunch break")
        await section.get_by_role("button", name="Save reasons").click()
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(version 2)")
        await expect(problem).to_be_hidden()
        assert await stored(node, "away_reasons") == (
            [("Break", "break"), ("Smoke break", "smoke"), ("Lunch break", "lunch_break")],
            2,
        )
        assert errors == []
    finally:
        await context.close()


async def test_a_supervisor_sees_the_list_and_no_edit_control(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    await saved_by_another_admin(node, [("Coaching", "coaching"), ("Break", "break")], 0)
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, node, "carol", PASSWORDS["carol"])
        await expect(page.locator("[data-testid=cs-mode]")).to_have_text("Read only (supervisor)")
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        table = section.get_by_test_id("cs-away-table")
        await expect(table.locator("tbody tr")).to_have_count(2)
        await expect(table.locator("tbody tr").nth(0)).to_have_text(re.compile(r"^1\s*Coaching\s*coaching$"))
        await expect(table.locator("tbody tr").nth(1)).to_have_text(re.compile(r"^2\s*Break\s*break$"))
        await expect(section.get_by_test_id("cs-away-intro")).to_have_text(INTRO)
        await expect(section.get_by_test_id("cs-away-version")).to_have_text("(version 1)")
        await expect(section.locator(".cs-status")).to_have_text("Read only: an admin changes these.")
        assert await section.get_by_role("button").count() == 0
        assert await section.get_by_role("textbox").count() == 0
        assert await section.locator("input, select, textarea, form").count() == 0
        await checked(page, errors, shots, "away-supervisor")
    finally:
        await context.close()


def label_input(page: Page, n: int) -> Locator:
    return row_input(page, VIEW, "Reason", n, "Label")


def code_input(page: Page, n: int) -> Locator:
    return row_input(page, VIEW, "Reason", n, "Code")
