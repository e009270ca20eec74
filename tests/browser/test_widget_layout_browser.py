"""The widget's layout in real Chromium, embedded with its one script tag on a site of another origin.

Right to left: when the admin's widget language is Arabic or Hebrew (the title and greeting they wrote), the
widget's own root is dir="rtl" (the host page's elements untouched) and the whole widget mirrors: the launcher and
the panel at the bottom left, the close button at the head's left, the visitor's own messages on the left. An English
widget stays left to right whatever the page's or the visitor's language (its own words are English), and every
message reads in its own direction: an Arabic message right to left in an English widget, an English one left to
right in an Arabic widget. The message box: a message of many lines grows the box up
to a cap that leaves the list usable, and the list keeps the latest message in view as the box grows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from gateway.contact.widget_settings import WidgetSettings
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.http_receiver import serve_pages
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


@browser_fixture
async def site(node: Node) -> AsyncIterator[str]:
    """A shop on another origin: /page?lang=xx is a page in that language (none: a page that declares none)."""

    async def page(request: web.Request) -> web.Response:
        lang = request.query.get("lang", "")
        attr = f' lang="{lang}"' if lang.isalpha() else ""
        body = f"""<!doctype html><html{attr}><meta charset="utf-8"><title>Shop</title><h1>Our shop</h1>
<script src="{node.url}/widget.js" data-gateway="{node.url}"></script>"""
        return web.Response(text=body, content_type="text/html")

    async with serve_pages({"/page": page}) as origin:
        yield origin


async def until(page: Page, script: str, ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """What script reads on the page, once ok says it is right (read again until then, for 5 s at most)."""
    async with asyncio.timeout(5):
        while True:
            seen: dict[str, Any] = await page.evaluate(script)
            if ok(seen):
                return seen
            await asyncio.sleep(0.05)


GEOMETRY = """() => {
  const root = document.querySelector('#cg-widget').shadowRoot;
  const box = (sel) => { const r = root.querySelector(sel).getBoundingClientRect(); return { left: r.left, right: r.right }; };
  const mine = [...root.querySelectorAll('.cg-msg[data-author=customer]')].pop();
  const list = root.querySelector('.scroll').getBoundingClientRect();
  return {
    dir: root.querySelector('.root').getAttribute('dir'),
    direction: getComputedStyle(root.querySelector('.panel')).direction,
    hostDir: document.documentElement.getAttribute('dir'),
    bodyDirection: getComputedStyle(document.body).direction,
    launcher: box('.launcher'), panel: box('.panel'), close: box('.close'), title: box('#cg-title'),
    mine: mine ? { left: mine.getBoundingClientRect().left - list.left, right: list.right - mine.getBoundingClientRect().right } : null,
    mineDirection: mine ? getComputedStyle(mine).direction : null,
    width: innerWidth,
  };
}"""


async def open_and_say(browser: Browser, url: str, locale: str, text: str) -> tuple[Page, dict[str, Any]]:
    ctx = await browser.new_context(locale=locale, viewport={"width": 1024, "height": 760})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await page.get_by_test_id("cg-launcher").click()
    await expect(page.get_by_test_id("cg-status")).to_contain_text("We typically reply")
    await page.get_by_test_id("cg-input").fill(text)
    await page.get_by_test_id("cg-send").click()
    await expect(page.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_count(1)
    geometry: dict[str, Any] = await page.evaluate(GEOMETRY)
    assert errors == []
    return page, geometry


def mirrored(g: dict[str, Any]) -> bool:
    """Everything on the left: the launcher and the panel at the window's, the close button before the title's
    start (its left), the visitor's message against the list's left edge."""
    return (
        g["launcher"]["left"] < 100
        and g["panel"]["left"] < 100
        and g["panel"]["right"] < g["width"] - 200
        and g["close"]["right"] <= g["title"]["left"]
        and g["mine"]["left"] < g["mine"]["right"]
    )


def unmirrored(g: dict[str, Any]) -> bool:
    return (
        g["launcher"]["right"] > g["width"] - 100
        and g["panel"]["right"] > g["width"] - 100
        and g["close"]["left"] >= g["title"]["right"]
        and g["mine"]["right"] < g["mine"]["left"]
    )


@pytest.mark.parametrize(("language", "path", "locale"), [("ar", "/page?lang=en", "en-US"), ("he", "/page", "fr")])
async def test_an_arabic_or_hebrew_widget_reads_right_to_left_and_an_english_message_in_it_left_to_right(
    browser: Browser, site: str, node: Node, language: str, path: str, locale: str
) -> None:
    await node.services.widget.put(WidgetSettings(language=language, greeting="مرحبا بكم"))
    page, g = await open_and_say(browser, site + path, locale, "Where is my order?")
    try:
        assert (g["dir"], g["direction"]) == ("rtl", "rtl"), g
        assert g["hostDir"] is None and g["bodyDirection"] == "ltr", g  # the host page is not the widget's
        assert mirrored(g), g
        assert g["mineDirection"] == "ltr", g  # "?" at its end, not at its start
        # the widget's own English counter reads in its own direction: "3700 / 4000 characters", not reordered
        await page.get_by_test_id("cg-input").fill("x" * 3700)
        note = page.get_by_test_id("cg-limit")
        await expect(note).to_have_text("3700 / 4000 characters")
        assert await note.evaluate("(el) => getComputedStyle(el).direction") == "ltr"
    finally:
        await page.context.close()


async def test_the_built_in_english_greeting_reads_left_to_right_in_an_arabic_widget(
    browser: Browser, site: str, node: Node
) -> None:
    """No greeting of the admin's: the widget's own "Hi there!" keeps its "!" at its end in a mirrored widget."""
    await node.services.widget.put(WidgetSettings(language="ar"))
    page, g = await open_and_say(browser, site + "/page", "ar", "hello")
    try:
        assert g["dir"] == "rtl", g
        direction = await page.evaluate(
            "() => getComputedStyle(document.querySelector('#cg-widget').shadowRoot.querySelector('.intro')).direction"
        )
        assert direction == "ltr"
    finally:
        await page.context.close()


@pytest.mark.parametrize(("path", "locale"), [("/page?lang=ar", "ar"), ("/page", "ar"), ("/page?lang=he", "he-IL")])
async def test_an_english_widget_stays_left_to_right_on_an_arabic_page_and_an_arabic_message_reads_right_to_left(
    browser: Browser, site: str, path: str, locale: str
) -> None:
    page, g = await open_and_say(browser, site + path, locale, "مرحبا، أين طلبي؟")
    try:
        assert (g["dir"], g["direction"]) == ("ltr", "ltr"), g
        assert unmirrored(g), g
        assert g["mineDirection"] == "rtl", g
    finally:
        await page.context.close()


LIST = """() => {
  const root = document.querySelector('#cg-widget').shadowRoot;
  const list = root.querySelector('.scroll');
  const last = [...root.querySelectorAll('.cg-msg')].pop().getBoundingClientRect();
  const view = list.getBoundingClientRect();
  return { input: root.querySelector('[data-testid=cg-input]').getBoundingClientRect().height,
           list: list.clientHeight, fromBottom: list.scrollHeight - list.scrollTop - list.clientHeight,
           lastInView: last.bottom <= view.bottom + 1 && last.bottom > view.top };
}"""


async def test_a_growing_message_box_keeps_the_latest_message_in_view_and_the_list_usable(
    browser: Browser, site: str
) -> None:
    """A laptop window 600 px high: the panel is 480 px. Before: the box grew to 140 px and the list stayed where it
    was, the latest message hidden under the box."""
    ctx = await browser.new_context(viewport={"width": 1024, "height": 600})
    try:
        page = await ctx.new_page()
        await page.goto(site + "/page?lang=en")
        await page.get_by_test_id("cg-launcher").click()
        await expect(page.get_by_test_id("cg-status")).to_contain_text("We typically reply")
        box = page.get_by_test_id("cg-input")
        for n in range(1, 9):
            await box.fill(f"Message {n}: my parcel left the depot on Monday and has not moved since.")
            await box.press("Enter")
        await expect(page.locator(".cg-msg[data-author=customer]")).to_have_count(8)
        start = await until(page, LIST, lambda s: s["fromBottom"] < 2 and s["lastInView"])
        await box.focus()
        for line in range(1, 13):  # a long message, one line at a time
            await page.keyboard.type(f"Line {line} of the address")
            await page.keyboard.press("Shift+Enter")
            now = await page.evaluate(LIST)
            assert now["lastInView"] and now["fromBottom"] < 2, (line, now)
        grown = await page.evaluate(LIST)
        assert grown["input"] > start["input"] + 40, (start, grown)  # it did grow
        assert grown["input"] <= 140, grown  # capped: the text scrolls inside the box
        assert grown["list"] >= 120, grown  # the list keeps a usable height
    finally:
        await ctx.close()
