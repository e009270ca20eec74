"""The widget embedded on a real site of another origin: a page without a charset declaration, and a page with
the strict Content-Security-Policy the README tells sites to use (no 'unsafe-inline' styles). On both the widget
reads right, is styled, and chats. And what its header says when the line is closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, free_port, start_node

pytestmark = BROWSER_TESTS

VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@browser_fixture
async def site(node: Node) -> AsyncIterator[str]:
    """A shop on another origin: its pages have no <meta charset> (browsers then read the page as windows-1252)."""
    ws = node.url.replace("http://", "ws://")
    body = f"""<!doctype html><title>Shop</title><h1>Our shop</h1><p>Prices in EUR.</p>
<script src="{node.url}/widget.js" data-gateway="{node.url}"></script>"""

    async def plain(request: web.Request) -> web.Response:
        return web.Response(body=body.encode("ascii"), headers={"Content-Type": "text/html"})

    async def strict(request: web.Request) -> web.Response:
        csp = f"default-src 'self'; style-src 'self'; script-src 'self' {node.url}; connect-src 'self' {node.url} {ws}"
        return web.Response(
            body=body.encode("ascii"), headers={"Content-Type": "text/html", "Content-Security-Policy": csp}
        )

    app = web.Application()
    app.router.add_get("/plain", plain)
    app.router.add_get("/strict", strict)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def open_widget(browser: Browser, url: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.add_init_script(VIOLATIONS)
    await page.goto(url)
    launcher = page.get_by_test_id("cg-launcher")
    await expect(launcher).to_be_visible()
    box = await launcher.bounding_box()
    assert box is not None and box["width"] <= 80 and box["height"] <= 80, box  # unstyled: a page-sized icon
    await launcher.click()
    panel = page.get_by_test_id("cg-panel")
    await expect(panel).to_be_visible()
    box = await panel.bounding_box()
    assert box is not None and 300 <= box["width"] <= 480, box
    return page


@pytest.mark.parametrize("path", ["/plain", "/strict"])
async def test_the_widget_on_another_sites_page_reads_right_is_styled_and_chats(
    browser: Browser, site: str, path: str
) -> None:
    page = await open_widget(browser, site + path)
    assert await page.evaluate("() => document.characterSet") == "windows-1252"  # the host page's, not ours
    text_input = page.get_by_test_id("cg-input")
    await expect(text_input).to_have_attribute("placeholder", "Write a message…")
    await text_input.fill("Grüße — can I pay in €?")
    await page.get_by_test_id("cg-send").click()
    await expect(page.get_by_test_id("cg-messages")).to_contain_text("Grüße — can I pay in €?")
    panel_text = await page.get_by_test_id("cg-panel").inner_text()
    assert "â€" not in panel_text and "Ã" not in panel_text, panel_text
    radius = await page.evaluate(
        "() => getComputedStyle(document.querySelector('#cg-widget').shadowRoot.querySelector('.panel')).borderRadius"
    )
    assert radius not in ("", "0px"), radius  # the widget's own style applies
    assert await page.evaluate("() => window.__violations") == []


CLOSED_FLOW = """\
start: greet
nodes:
  greet: {type: say, prompt: "Hello.", next: hours}
  hours:
    type: hours
    timezone: UTC
    schedule: {mon-sun: "00:00-24:00"}
    holidays: [HOLIDAYS]
    open: queue
    closed: queue
  queue: {type: queue, queue: support}
"""


async def test_outside_opening_hours_the_widget_says_closed_not_that_we_reply_in_minutes(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    today = datetime.now(UTC).date()
    holidays = ", ".join(f'"{today + timedelta(days=d)}"' for d in (-1, 0, 1))  # closed whenever the test runs
    (flows / "line.yaml").write_text(CLOSED_FLOW.replace("HOLIDAYS", holidays))
    node = await start_node(replace(settings, flows_dir=flows, voice_flow="line", chat_flow=None))
    try:
        page = await (await browser.new_context(viewport={"width": 360, "height": 720})).new_page()
        await page.goto(node.url + "/")
        await page.get_by_test_id("cg-launcher").click()
        await expect(page.get_by_test_id("cg-status")).to_have_text("We\u2019re closed now. Leave us a message")
        # on a phone too, the whole line is there: not cut off with an ellipsis in the header
        clipped = await page.evaluate(
            "() => { const t = document.querySelector('#cg-widget').shadowRoot.querySelector('.status-text');"
            " return t.scrollWidth > t.clientWidth + 1 || t.scrollHeight > t.clientHeight + 1; }"
        )
        assert clipped is False
    finally:
        await node.stop()
