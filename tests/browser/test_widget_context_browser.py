"""A site gives the flows context about the visit (the plan, the cart, the language chosen): the script tag's
data-context or ContactGateway.setContext. The docs described `context.<key>` variables "sent by the browser" but
the widget only ever sent the page and its title (a newcomer's finding). The customer's word, never proof."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from playwright.async_api import Browser, expect

from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, free_port

pytestmark = BROWSER_TESTS


@browser_fixture
async def shop(node: Node) -> AsyncIterator[str]:
    """A page on another origin whose tag says the visitor's plan, a bad key, and tries to replace the page."""
    tag = (
        f'<script src="{node.url}/widget.js" data-gateway="{node.url}" '
        """data-context='{"plan": "gold", "visits": 3, "Bad-Key": "x", "page": "https://forged.example/"}'></script>"""
    )

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=f"<!doctype html><meta charset=utf-8><title>Shop</title>{tag}", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/"
    await runner.cleanup()


async def test_the_sites_context_reaches_the_conversation_and_cannot_replace_the_page(
    browser: Browser, node: Node, shop: str
) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        warnings: list[str] = []
        page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        await page.goto(shop)
        await page.get_by_test_id("cg-launcher").click()
        await page.get_by_test_id("cg-input").fill("hello")
        await page.get_by_test_id("cg-send").click()
        await expect(page.locator("[data-author=customer][data-event-id]")).to_have_count(1)
        cid = await page.evaluate("() => window.ContactGateway.state().conversation_id")
        stored = await node.services.store.context(cid)
        assert (stored["context.plan"], stored["context.visits"], stored["context.page"]) == ("gold", "3", shop)
        assert "context.bad-key" not in stored and "context.Bad-Key" not in stored
        assert any('"Bad-Key" is not a context key' in w for w in warnings), warnings
        assert any('"page" is the widget\'s own' in w for w in warnings), warnings
        # setContext counts for the conversation opened after it (the next hello)
        await page.evaluate("() => window.ContactGateway.setContext({plan: 'silver'})")
        await node.services.conversations.close_without_agent(cid, "test")
        await expect(page.get_by_test_id("cg-input")).to_be_enabled()
        await page.get_by_test_id("cg-input").fill("again")
        await page.get_by_test_id("cg-send").click()
        second = cid
        for _ in range(100):  # the message opens a new conversation once the old one's close arrived
            second = await page.evaluate("() => window.ContactGateway.state().conversation_id")
            if second and second != cid:
                break
            await asyncio.sleep(0.1)
        assert second != cid
        again = await node.services.store.context(second)
        assert (again["context.plan"], again["context.visits"]) == ("silver", "3")  # added to the tag's, not instead
    finally:
        await context.close()
