"""The flow editor (/admin/flows) after an exploratory test's findings, in real Chromium against a real node.

A rollback is asked first, by a confirm naming the version; one the gateway refuses (its version books a queue that
does not exist) lists that version's problems under its row and in the status, never on the other version the
editor holds, and a publish that goes through clears them. At 800 px the page does not scroll sideways: the
buttons of the versions table and the diff form stay in their panel. The header links to the wallboard, as every
other console page does.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Dialog, Page, expect

from tests.browser.test_flow_editor_browser import ADMIN, admin_node, no_blocking_axe_or_csp, open_editor, rest
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS
__all__ = ["admin_node"]  # the fixture, used by name


async def two_drafts(node: Node) -> tuple[str, str, str]:
    """The live version, then a version booking a queue that does not exist, then a valid draft on top of it."""
    status, flow = await rest(node, ADMIN, "GET", "/api/admin/flows/default")
    assert status == 200, flow
    live = flow["live_version"]
    _, version = await rest(node, ADMIN, "GET", f"/api/admin/flows/default/versions/{live}")
    good = version["yaml"]
    assert "queue: billing\n" in good
    bad_text = good.replace("queue: billing\n", "queue: nosuchqueue\n", 1)
    status, bad = await rest(
        node, ADMIN, "POST", "/api/admin/flows/default/versions", {"yaml": bad_text, "message": "bad", "parent": live}
    )
    assert status == 201, bad
    status, draft = await rest(
        node,
        ADMIN,
        "POST",
        "/api/admin/flows/default/versions",
        {"yaml": good + "\n# checked\n", "message": "good", "parent": bad["id"]},
    )
    assert status == 201, draft
    return live, bad["id"], draft["id"]


def confirms(page: Page, answers: list[bool], seen: list[str]) -> None:
    """Each confirm: its text kept, then accepted or dismissed in turn."""

    async def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await (dialog.accept() if answers.pop(0) else dialog.dismiss())

    page.on("dialog", on_dialog)


async def test_a_refused_rollback_shows_its_problems_under_its_version_not_on_the_open_text(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    live, bad, draft = await two_drafts(admin_node)
    ctx, page = await open_editor(browser, admin_node, path="/admin/flows?flow=default")
    seen: list[str] = []
    confirms(page, [False, True], seen)
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", f"default@{draft}")
        rollback = page.locator(f"#fe-versions tr[data-version='{bad}'] button", has_text="Roll back to this")
        status = page.get_by_test_id("flow-status")

        # asked first, naming the version: dismissed, nothing is published
        await rollback.click()
        await expect(status).to_contain_text(f"Version {draft}")  # still what opening it said
        assert len(seen) == 1 and f"back to version {bad}" in seen[0], seen
        _, flow = await rest(admin_node, ADMIN, "GET", "/api/admin/flows/default")
        assert flow["live_version"] == live

        # accepted: the gateway refuses; the problems are the bad version's, under its row, not the editor's text's
        await rollback.click()
        await expect(status).to_contain_text(f"Roll back to {bad} refused")
        problems = page.get_by_test_id("version-problems")
        await expect(problems).to_have_count(1)
        await expect(problems).to_have_attribute("data-refused", bad)
        await expect(problems).to_contain_text("queue 'nosuchqueue' does not exist")
        await expect(page.locator(f"#fe-versions tr[data-version='{bad}'] + tr")).to_have_attribute("data-refused", bad)
        await expect(page.locator(".fe-mark-error")).to_have_count(0)
        await expect(page.locator("#fe-errors li")).to_have_count(0)
        await expect(page.get_by_test_id("validity")).not_to_contain_text("problem")
        await expect(page.locator("#fe-gutter .fe-bad")).to_have_count(0)
        await page.screenshot(path=str(tmp_path / "rollback-refused.png"), full_page=True)
        await no_blocking_axe_or_csp(page)

        # the open (valid) version published: no problem is left shown anywhere
        await page.get_by_test_id("publish").click()
        await expect(status).to_contain_text(f"Version {draft} is live")
        await expect(problems).to_have_count(0)
        await expect(page.locator(".fe-mark-error")).to_have_count(0)
        await expect(page.get_by_test_id("validity")).not_to_contain_text("problem")
        assert len(seen) == 2  # "Publish this version" of the open text asks nothing
    finally:
        await ctx.close()


async def test_a_refused_publish_of_the_open_version_marks_its_own_lines(browser: Browser, admin_node: Node) -> None:
    """The editor holds the refused version itself: its problems are its text's, on their lines. Publishing it is
    a rollback too (it is older than the draft): asked first."""
    _, bad, draft = await two_drafts(admin_node)
    ctx, page = await open_editor(browser, admin_node, path="/admin/flows?flow=default")
    seen: list[str] = []
    confirms(page, [True], seen)
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", f"default@{draft}")
        await page.locator(f"#fe-versions tr[data-version='{bad}'] button", has_text="Open").click()
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", f"default@{bad}")
        await page.get_by_test_id("publish").click()
        await expect(page.get_by_test_id("flow-status")).to_contain_text(f"Roll back to {bad} refused")
        await expect(page.locator(".fe-mark-error")).to_contain_text("nosuchqueue")
        await expect(page.get_by_test_id("validity")).to_contain_text("1 problem")
        await expect(page.get_by_test_id("version-problems")).to_have_count(0)
        assert len(seen) == 1 and f"back to version {bad}" in seen[0], seen
    finally:
        await ctx.close()


async def test_at_800_px_the_page_fits_and_the_header_links_to_the_wallboard(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    await two_drafts(admin_node)  # three versions: Open and Roll back buttons in the rows
    ctx, page = await open_editor(browser, admin_node, path="/admin/flows?flow=default")
    try:
        await page.set_viewport_size({"width": 800, "height": 900})
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile("^default@"))
        await expect(page.locator("#fe-versions button", has_text="Roll back to this").first).to_be_visible()
        await page.get_by_test_id("diff-show").click()
        await expect(page.get_by_test_id("diff")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "flows-800.png"), full_page=True)
        await no_blocking_axe_or_csp(page)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 800, f"the page is {width} px wide at 800 px"
        sticking_out = await page.evaluate(
            """() => {
              const panel = document.getElementById('panel-versions').getBoundingClientRect();
              return [...document.querySelectorAll('#panel-versions button, #panel-versions select')]
                .filter((b) => b.offsetParent !== null)
                .filter((b) => { const r = b.getBoundingClientRect(); return r.right > panel.right + 0.5 || r.left < panel.left - 0.5; })
                .map((b) => b.textContent.trim() || b.id);
            }"""
        )
        assert sticking_out == [], sticking_out

        # the wallboard, as on the admin console's header
        wallboard = page.locator("#flows-app header").get_by_role("link", name="Wallboard")
        await expect(wallboard).to_have_attribute("href", "/supervisor")
        await expect(wallboard).to_be_visible()
        console = page.locator("#flows-app header").get_by_role("link", name="Admin console")
        assert await console.count() == 1
    finally:
        await ctx.close()
