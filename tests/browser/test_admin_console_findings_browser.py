"""The admin console (/admin) after an exploratory test's findings, in real Chromium against a real node.

The queue dialog's footer (Cancel, Save) is whole at any scroll position, not cut by the dialog's bottom edge. The
widget's greeting keeps its line breaks, as text, in the console's preview and in the real widget. A day's opening
hours are listed in the order of the day, and ranges that overlap are said so under their day before saving (the
gateway takes them).
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.test_admin_console_browser import (
    ADMIN_PASSWORD,
    console_node,
    login_token,
    new_page,
    open_view,
    rest,
    sign_in,
)
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS
__all__ = ["console_node"]  # the fixture, used by name

GREETING = "Bonjour !\nNous répondons <b>vite</b>."


async def footer_cut(dialog: Locator) -> list[str]:
    """The footer's buttons not whole inside the dialog's visible box, or covered where they are."""
    return list(
        await dialog.evaluate(
            """(d) => {
              const box = d.getBoundingClientRect();
              const inner = { top: box.top + d.clientTop, bottom: box.top + d.clientTop + d.clientHeight };
              return [...d.querySelectorAll('.cs-dialog-actions .btn')].filter((b) => {
                const r = b.getBoundingClientRect();
                if (r.top < inner.top - 0.5 || r.bottom > inner.bottom + 0.5) return true;
                for (const y of [r.top + 2, r.top + r.height / 2, r.bottom - 2]) {
                  const hit = document.elementFromPoint(r.left + r.width / 2, y);
                  if (!hit || !b.contains(hit)) return true;
                }
                return false;
              }).map((b) => `${b.textContent} (scrolled ${d.scrollTop} of ${d.scrollHeight - d.clientHeight})`);
            }"""
        )
    )


async def test_the_queue_dialog_s_footer_is_whole_at_any_scroll_position(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, console_node, "dana", ADMIN_PASSWORD)
        await open_view(page, "queues")
        for opener in ("[data-testid=cs-queue-add]", "[aria-label='Edit queue billing']"):
            await page.click(opener)
            dialog = page.locator("[data-testid=cs-queue-dialog]")
            await expect(dialog).to_be_visible()
            room = await dialog.evaluate("(d) => d.scrollHeight - d.clientHeight")
            assert room > 40, "the dialog should scroll at 1400x900 for this test to mean anything"
            for at in (0, room // 2, room):
                await dialog.evaluate("(d, at) => { d.scrollTop = at; }", at)
                assert await footer_cut(dialog) == [], at
            await page.screenshot(path=str(tmp_path / "queue-dialog-end.png"))
            # at the end, the last field is above the footer, not under it
            last = dialog.locator(".cs-dialog-body > *").last
            covered = await last.evaluate(
                "(el) => el.getBoundingClientRect().bottom > document.querySelector('.cs-dialog-actions').getBoundingClientRect().top + 0.5"
            )
            assert not covered
            await dialog.get_by_role("button", name="Cancel").click()
            await expect(dialog).to_have_count(0)
    finally:
        await context.close()


async def inner_text(locator: Locator) -> str:
    return str(await locator.evaluate("(el) => el.innerText"))


async def test_the_greeting_keeps_its_line_breaks_in_the_preview_and_the_widget(
    browser: Browser, console_node: Node
) -> None:
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, console_node, "dana", ADMIN_PASSWORD)
        await open_view(page, "widget")
        form = page.locator("[data-testid=cs-widget-form]")
        frame = page.frame_locator("[data-testid=cs-widget-preview]")
        await expect(frame.locator("#cg-widget")).to_have_count(1)
        await form.locator("[name=greeting]").fill(GREETING)
        intro = frame.locator(".intro")
        await expect(intro).to_contain_text("Nous répondons")
        assert await inner_text(intro) == GREETING  # two lines, as typed; the tags are text
        assert await intro.locator("b").count() == 0
        await page.click("[data-testid=cs-widget-save]")
        await expect(page.locator("#notice")).to_contain_text("saved")
        admin = await login_token(console_node, "dana", ADMIN_PASSWORD)
        _, widget = await rest(console_node, admin, "GET", "/api/admin/widget")
        assert widget["greeting"] == GREETING

        customer: Page = await context.new_page()
        await customer.goto(console_node.url + "/")
        await customer.get_by_test_id("cg-launcher").click()
        real = customer.get_by_test_id("cg-panel").locator(".intro")
        await expect(real).to_contain_text("Nous répondons")
        assert await inner_text(real) == GREETING
        assert await real.locator("b").count() == 0
        assert errors == []
    finally:
        await context.close()


async def test_a_day_s_hours_are_listed_in_order_and_overlaps_are_said_before_saving(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    context, page, errors = await new_page(browser)
    try:
        await sign_in(page, console_node, "dana", ADMIN_PASSWORD)
        await open_view(page, "queues")
        await page.click("[aria-label='Edit queue billing']")
        dialog = page.locator("[data-testid=cs-queue-dialog]")
        await dialog.get_by_label("Use opening hours (off: always open)").check()
        await dialog.locator("[name='hours.timezone']").fill("Europe/Paris")
        monday = dialog.locator(".cs-day[data-day=mon]")
        warning = monday.get_by_test_id("cs-hours-overlap")
        await expect(warning).to_be_hidden()
        await dialog.get_by_role("button", name="Add hours on Monday").click()
        await dialog.get_by_label("Monday range 2 opens").fill("08:00")
        await dialog.get_by_label("Monday range 2 closes").fill("10:00")
        # said at once, naming the day, before any save
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("Monday: 08:00\u201310:00 and 09:00\u201317:00 overlap")
        await expect(dialog.locator(".cs-day[data-day=tue]").get_by_test_id("cs-hours-overlap")).to_be_hidden()
        await page.screenshot(path=str(tmp_path / "hours-overlap.png"))

        # the gateway takes it: saved, listed in the order of the day
        await dialog.locator("[type=submit]").click()
        await expect(dialog).to_have_count(0)
        hours = page.locator("tr[data-queue=billing]")
        await expect(hours).to_contain_text("mon 08:00-10:00, 09:00-17:00; tue-fri 09:00-17:00 (Europe/Paris)")
        admin = await login_token(console_node, "dana", ADMIN_PASSWORD)
        _, queues = await rest(console_node, admin, "GET", "/api/admin/queues")
        billing = next(q for q in queues["queues"] if q["name"] == "billing")
        assert billing["hours"]["schedule"]["mon"] == "08:00-10:00, 09:00-17:00"

        # opened again: in order, and the overlap is said again; made apart, it goes
        await page.click("[aria-label='Edit queue billing']")
        await expect(dialog.get_by_label("Monday range 1 opens")).to_have_value("08:00")
        await expect(dialog.get_by_label("Monday range 2 opens")).to_have_value("09:00")
        await expect(warning).to_contain_text("Monday: 08:00\u201310:00 and 09:00\u201317:00 overlap")
        await dialog.get_by_label("Monday range 1 closes").fill("09:00")
        await expect(warning).to_be_hidden()
        await dialog.get_by_role("button", name="Cancel").click()
        assert errors == []
    finally:
        await context.close()
