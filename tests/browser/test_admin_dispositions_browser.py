"""The admin console's dispositions (/admin#dispositions, console_codes.js) in real Chromium against a real node.

The editor is the away reasons' (tests/browser/test_admin_away_reasons_browser.py covers its details); here, its
second list. An admin sees the node's defaults (never saved: version 0), adds Sale made, gives it one of the codes
the gateway closes conversations with itself (marked at its field, nothing sent), then code sale; removes Spam,
moves Sale made first and saves: the gateway has exactly that list, version 1 (the away reasons untouched), and the
audit log the change. A supervisor sees the list without one edit control. Screenshots at 1,280 px go to
$CG_SCREENSHOTS (or the tmp dir).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, Request, expect

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

VIEW = "dispositions"
SECTION = f"#view-{VIEW}"
DEFAULTS = [("Resolved", "resolved"), ("Follow up", "follow-up"), ("No response", "no-response"), ("Spam", "spam")]
INTRO = (
    "Agents close a conversation with one of these; reports count closes by them. Removing one does not change "
    "conversations already closed with it."
)
UNSAVED = "(the node's defaults: not saved yet)"


async def test_an_admin_adds_removes_moves_and_saves_and_a_code_of_the_gateway_s_is_marked_first(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "PUT" and "/api/admin/" in request.url:
            sent.append(request.url)

    page.on("request", seen)
    try:
        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        await expect(page).to_have_title("Dispositions — Admin console — Contact Gateway")
        await expect(section.get_by_role("heading", level=2)).to_have_text("Dispositions")
        await expect(section.get_by_test_id("cs-dispositions-intro")).to_have_text(INTRO)
        await expect(section.get_by_test_id("cs-dispositions-version")).to_have_text(UNSAVED)
        await expect(section.locator(".cs-dispositions-row")).to_have_count(4)
        assert await rows_of(page, VIEW, "cs-dispositions") == DEFAULTS
        assert await section.locator("input[name=code]").count() == 0  # saved codes are fixed
        await checked(page, errors, shots, "dispositions-defaults")

        # ---- add Sale made (its code suggested), with one of the gateway's own codes: marked, nothing sent
        await section.get_by_role("button", name="Add disposition").click()
        await page.keyboard.type("Sale made")
        await expect(code_input(page, 5)).to_have_value("sale_made")
        await code_input(page, 5).fill("abandoned")
        await section.get_by_role("button", name="Save dispositions").click()
        await expect(code_input(page, 5)).to_have_attribute("aria-invalid", "true")
        message = (
            "Disposition 5 code: abandoned is a disposition the gateway closes conversations with itself: "
            "choose another."
        )
        await expect(code_input(page, 5)).to_have_accessible_description(message)
        row = section.locator(".cs-dispositions-row").nth(4)
        await expect(row.locator(".cs-codes-cell-code .cs-field-error")).to_have_text(message)  # next to it, shown
        await expect(row.locator(".cs-codes-cell-code .cs-field-error")).to_be_visible()
        await expect(row.locator(".cs-codes-cell-label .cs-field-error")).to_be_hidden()
        await expect(code_input(page, 5)).to_be_focused()
        await expect(section.get_by_test_id("cs-dispositions-note")).to_have_text("Not saved: fix the problems marked.")
        await checked(page, errors, shots, "dispositions-reserved")
        assert sent == []
        assert await stored(node, "dispositions") == (DEFAULTS, 0)

        # ---- code sale; remove Spam (asked first); move Sale made first
        await code_input(page, 5).fill("sale")
        await section.get_by_role("button", name="Remove Spam").click()
        confirm = page.get_by_test_id("cs-confirm")
        await expect(confirm.get_by_role("heading")).to_have_text("Remove Spam?")
        await expect(confirm).to_contain_text(
            "Spam (spam) is taken off the list when you save: agents no longer close with it. Conversations closed "
            "with it keep it, and past reports count them."
        )
        await confirm.get_by_role("button", name="Remove disposition").click()
        await expect(section.get_by_role("button", name="Remove Spam")).to_have_count(0)
        up = section.get_by_role("button", name="Move Sale made up")
        for _ in range(3):
            await up.click()
        await expect(up).to_be_disabled()
        expected = [
            ("Sale made", "sale"),
            ("Resolved", "resolved"),
            ("Follow up", "follow-up"),
            ("No response", "no-response"),
        ]
        assert await rows_of(page, VIEW, "cs-dispositions") == expected
        assert await stored(node, "dispositions") == (DEFAULTS, 0)  # nothing is written before Save

        # ---- save: the gateway has exactly that, version 1; any agent reads it so; the away reasons are untouched
        await section.get_by_role("button", name="Save dispositions").click()
        await expect(page.locator("#notice")).to_have_text(
            "The dispositions were saved (version 1): Sale made, Resolved, Follow up, No response."
        )
        await expect(section.get_by_test_id("cs-dispositions-version")).to_have_text("(version 1)")
        assert await stored(node, "dispositions") == (expected, 1)
        alice = await login_token(node, "alice", PASSWORDS["alice"])
        status, body = await rest(node, alice, "GET", "/api/dispositions")
        assert (status, body) == (
            200,
            {"dispositions": [{"code": c, "label": lbl} for lbl, c in expected], "version": 1},
        )
        assert sent == [node.url + "/api/admin/dispositions"]
        assert (await node.services.away_reasons.get()).version == 0
        assert await rows_of(page, VIEW, "cs-dispositions") == expected
        assert await section.locator("[aria-invalid]").count() == 0
        assert await section.locator("input[name=code]").count() == 0  # sale is fixed now
        await checked(page, errors, shots, "dispositions-saved")
        admin = await login_token(node, "dana", ADMIN_PASSWORD)
        _, audit = await rest(node, admin, "GET", "/api/admin/audit?target=dispositions")
        assert [(e["action"], e["actor"], e["after"]) for e in audit["entries"]] == [
            ("dispositions.update", "dana", body)
        ]
        assert errors == []
    finally:
        await context.close()


async def test_a_supervisor_sees_the_dispositions_and_no_edit_control(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, node, "carol", PASSWORDS["carol"])
        await open_view(page, VIEW)
        section = page.locator(SECTION)
        table = section.get_by_test_id("cs-dispositions-table")
        await expect(table.locator("tbody tr")).to_have_count(4)
        await expect(table.locator("tbody tr").nth(0)).to_have_text(re.compile(r"^1\s*Resolved\s*resolved$"))
        await expect(table.locator("tbody tr").nth(3)).to_have_text(re.compile(r"^4\s*Spam\s*spam$"))
        await expect(section.get_by_test_id("cs-dispositions-intro")).to_have_text(INTRO)
        await expect(section.get_by_test_id("cs-dispositions-version")).to_have_text(UNSAVED)
        await expect(section.locator(".cs-status")).to_have_text("Read only: an admin changes these.")
        assert await section.get_by_role("button").count() == 0
        assert await section.locator("input, select, textarea, form").count() == 0
        await checked(page, errors, shots, "dispositions-supervisor")
    finally:
        await context.close()


def label_input(page: Page, n: int) -> Locator:
    return row_input(page, VIEW, "Disposition", n, "Label")


def code_input(page: Page, n: int) -> Locator:
    return row_input(page, VIEW, "Disposition", n, "Code")
