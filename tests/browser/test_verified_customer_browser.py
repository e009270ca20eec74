"""A site vouches for its logged-in customer: the widget on the site's own page carries a signed customer token,
the agent's desk shows what the site verified apart from what the browser said, and a logout forgets it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, expect

from gateway.config import Settings
from gateway.wire.site_tokens import sign
from tests.browser.test_chat_browser import agent_login
from tests.conftest import bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, free_port, start_node

pytestmark = BROWSER_TESTS

SITE_SECRET = "shop-secret-0123456789abcdef0123456789"


@browser_fixture
async def site_node(settings: Settings) -> AsyncIterator[Node]:
    node = await start_node(replace(settings, site_keys=(("shop", SITE_SECRET),)))
    yield node
    await bounded(node.stop(), "stopping the node")


@browser_fixture
async def shop(site_node: Node) -> AsyncIterator[str]:
    """The site's own page on another origin, as its server renders it for a logged-in customer."""

    async def page(request: web.Request) -> web.Response:
        name = request.query.get("name", "Ann Lee")  # (a customer of another name: ?name=...)
        claims = {
            "sub": request.query.get("sub", "crm-4711"),
            "name": name,
            "tier": "gold",
            "exp": int(time.time()) + 3600,
        }
        token = sign(claims, SITE_SECRET, kid="shop")
        return web.Response(
            content_type="text/html",
            text=f"""<!doctype html><meta charset="utf-8">
<title>My account - Shop</title><h1>My account</h1>
<script src="{site_node.url}/widget.js" data-gateway="{site_node.url}" data-customer-token="{token}"></script>""",
        )

    async def logged_out(request: web.Request) -> web.Response:  # what the site serves after its logout
        return web.Response(
            content_type="text/html",
            text=f"""<!doctype html><meta charset="utf-8">
<title>Shop</title><h1>Welcome</h1>
<script src="{site_node.url}/widget.js" data-gateway="{site_node.url}"></script>""",
        )

    app = web.Application()
    app.router.add_get("/account", page)
    app.router.add_get("/", logged_out)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/account"
    await runner.cleanup()


async def test_the_desk_shows_the_sites_verified_customer_apart_from_the_browsers_word(
    browser: Browser, site_node: Node, shop: str, tmp_path: Path
) -> None:
    agent_ctx, customer_ctx = await browser.new_context(), await browser.new_context()
    agent, customer = await agent_ctx.new_page(), await customer_ctx.new_page()
    errors: list[str] = []
    for page in (agent, customer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await agent_login(agent, site_node, "alice")

    await customer.goto(shop)
    await customer.click("[data-testid=cg-launcher]")
    await customer.fill("[data-testid=cg-input]", "Where is my order?")
    await customer.click("[data-testid=cg-send]")
    sent = customer.locator(".cg-msg[data-author=customer]", has_text="Where is my order?")
    await expect(sent).to_have_attribute("data-status", "sent")
    state = await customer.evaluate("window.ContactGateway.state()")
    assert state["customer_id"].startswith("v_")

    item = agent.locator("[data-testid=conversations] .conv-item")
    await expect(item).to_have_count(1)
    await item.first.click()
    pane = agent.locator("[data-testid=context]")
    verified = pane.locator(".ctx-section", has_text="Verified by the site")
    await expect(verified.locator("dt[data-key=name] + dd")).to_have_text("Ann Lee")
    await expect(verified.locator("dt[data-key=tier] + dd")).to_have_text("gold")
    await expect(verified.locator("dt[data-key=sub] + dd")).to_have_text("crm-4711")
    await expect(item.first.locator(".item-title")).to_have_text("Ann Lee")  # the name the site vouched for
    browser_said = pane.locator(".ctx-section", has_text="From the browser")
    await expect(browser_said).to_contain_text("unverified")
    await expect(browser_said.locator("dt[data-key=page] + dd")).to_have_text(shop)
    await agent.screenshot(path=str(tmp_path / "desk-verified.png"))

    # a multi-page site logs the customer out: its next page has no token, and shows nothing of theirs
    await customer.goto(shop.rsplit("/", 1)[0] + "/")
    await customer.click("[data-testid=cg-launcher]")
    await customer.wait_for_function(
        "() => { const s = window.ContactGateway.state(); "
        "return s.connected && s.customer_id && s.customer_id.startsWith('u_'); }"
    )
    await expect(customer.locator(".cg-msg[data-author=customer]")).to_have_count(0)
    await customer.goto(shop)  # logged in again

    # a single-page app logs the customer out: this device forgets their conversation
    await expect(customer.locator(".cg-msg[data-author=customer]", has_text="Where is my order?")).to_have_count(1)
    state = await customer.evaluate("window.ContactGateway.state()")
    await customer.evaluate("window.ContactGateway.identify(null)")
    await expect(customer.locator(".cg-msg[data-author=customer]")).to_have_count(0)
    await customer.wait_for_function(
        "id => { const s = window.ContactGateway.state(); return s.connected && s.customer_id && s.customer_id !== id; }",
        arg=state["customer_id"],
    )
    assert errors == []


EVE = "Eve \u202ereversed"  # a right-to-left override in the name the site vouched for, never closed


async def test_a_customers_name_and_message_stay_apart_in_the_desks_toast_and_lists(
    browser: Browser, site_node: Node, shop: str, tmp_path: Path
) -> None:
    """A name with a right-to-left override in a toast ("New conversation: ...") or in the conversation list, and
    an override in a message's preview, are each drawn in their own <bdi>: the override ends with them."""
    contexts = [await browser.new_context() for _ in range(3)]
    try:
        agent, first, eve = [await ctx.new_page() for ctx in contexts]
        errors: list[str] = []
        for page in (agent, first, eve):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(agent, site_node, "alice")
        await first.goto(shop)  # Ann's conversation comes first: the desk selects it
        await first.click("[data-testid=cg-launcher]")
        await first.fill("[data-testid=cg-input]", "Where is my order?")
        await first.click("[data-testid=cg-send]")
        items = agent.locator("[data-testid=conversations] .conv-item")
        await expect(items).to_have_count(1)

        await eve.goto(shop + "?name=Eve%20%E2%80%AEreversed&sub=crm-4712")  # the next one is told in a toast
        await eve.click("[data-testid=cg-launcher]")
        await eve.fill("[data-testid=cg-input]", "order \u202e42 please")
        await eve.click("[data-testid=cg-send]")
        toast = agent.locator("#toast")
        await expect(toast).to_have_text(f"New conversation: {EVE}")
        await expect(toast.locator("bdi")).to_have_text(EVE)
        await expect(items).to_have_count(2)
        eves = items.filter(has_text="Eve")
        await expect(eves.locator(".item-title bdi")).to_have_text(EVE)
        # the override went from what she wrote (it turned what followed around: an exploratory test)
        await expect(eves.locator(".item-text bdi")).to_have_text("order 42 please", timeout=5000)
        await agent.screenshot(path=str(tmp_path / "desk-toast-bidi.png"))
        assert errors == []
    finally:
        for ctx in contexts:
            await ctx.close()
