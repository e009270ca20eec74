"""What the widget's call button and call bar say when a call cannot be, in real Chromium against a real node:

- on a page in a cross-origin frame without ``allow="microphone"`` (its Permissions Policy forbids the microphone,
  which the customer cannot change) the Call button is off and says calls are not available there, and a call
  started anyway says so, not "allow the microphone in your browser settings";
- offline (the header says so) a call is refused at once, and that word goes when the connection is back;
- after a call, the bar's timer says the duration the conversation's "Call ended · m:ss" line says (the gateway's).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from playwright.async_api import Browser, WebSocketRoute, expect

from tests.browser.test_call_browser import call_into_ivr, open_widget
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, free_port

pytestmark = BROWSER_TESTS

NOT_HERE = "Calls aren\u2019t available on this page"


@browser_fixture
async def framing_site(node: Node) -> AsyncIterator[str]:
    """A site whose page (http://localhost:port/frame) frames a shop of another origin (http://127.0.0.1:port/shop,
    the widget's tag), without allow="microphone"; the frame's address is returned."""
    port = free_port()
    shop = f"""<!doctype html><meta charset="utf-8"><title>Shop</title><h1>Shop</h1>
<script src="{node.url}/widget.js" data-gateway="{node.url}"></script>"""
    frame = f"""<!doctype html><meta charset="utf-8"><title>Blog</title>
<iframe src="http://127.0.0.1:{port}/shop" title="shop" style="width:420px;height:700px"></iframe>"""

    def page(body: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(text=body, content_type="text/html")

        return handler

    app = web.Application()
    app.router.add_get("/shop", page(shop))
    app.router.add_get("/frame", page(frame))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://localhost:{port}/frame"
    await runner.cleanup()


async def test_in_a_frame_without_the_microphone_calls_are_not_offered(browser: Browser, framing_site: str) -> None:
    """Old code: Call was offered, then "Microphone access was blocked. Allow the microphone for this site in your
    browser settings, then call again." (the console: "Permissions policy violation")."""
    page = await (await browser.new_context(viewport={"width": 900, "height": 760})).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(framing_site)
    shop = page.frame_locator("iframe")
    await shop.get_by_test_id("cg-launcher").click()
    await expect(shop.get_by_test_id("cg-status")).to_contain_text("We typically reply")
    policy = "(document.permissionsPolicy || document.featurePolicy).allowsFeature('microphone')"
    assert await page.frames[1].evaluate(policy) is False  # the frame's policy forbids it
    call = shop.get_by_test_id("cg-call")
    await expect(call).to_be_disabled()
    await expect(call).to_have_attribute("aria-label", NOT_HERE)
    await expect(call).to_have_attribute("title", NOT_HERE)
    hint = shop.get_by_test_id("cg-call-hint")  # in words too: a touch screen shows no tooltip
    await expect(hint).to_be_visible()
    await expect(hint).to_have_text(NOT_HERE)

    # a call started anyway (an older button, an answered ring) says the same, never "allow it in your settings"
    await call.evaluate("(b) => { b.disabled = false; b.click(); }")
    await expect(shop.get_by_test_id("cg-callbar")).to_have_attribute("data-status", "ended")
    status = shop.get_by_test_id("cg-call-status")
    await expect(status).to_have_text(NOT_HERE + ". Please keep chatting with us here.")
    assert await page.frames[1].evaluate("window.ContactGateway.state().call.reason") == "mic_policy"
    await expect(call).to_be_disabled()

    # the same shop on its own (not framed): calls are offered
    await page.goto(framing_site.replace("localhost", "127.0.0.1").replace("/frame", "/shop"))
    await page.get_by_test_id("cg-launcher").click()
    await expect(page.get_by_test_id("cg-call")).to_be_enabled()
    await expect(page.get_by_test_id("cg-call")).to_have_attribute("aria-label", "Call us")
    await expect(page.get_by_test_id("cg-call-hint")).to_be_hidden()
    assert errors == []


async def test_a_call_while_offline_is_refused_at_once_and_the_word_goes_when_back(
    browser: Browser, node: Node
) -> None:
    """Old code: a few seconds of "Connecting…", then "You are offline..." which stayed under a green header."""
    ctx = await browser.new_context()
    errors: list[str] = []
    page = await open_widget(ctx, node, errors)
    await ctx.set_offline(True)
    await expect(page.get_by_test_id("cg-status")).to_have_text("Offline — messages will be sent when you're back")
    await page.get_by_test_id("cg-call").click()
    bar = page.get_by_test_id("cg-callbar")
    offline = "You are offline. Calls need a connection; please try again in a moment."
    await expect(page.get_by_test_id("cg-call-status")).to_have_text(offline, timeout=1000)
    await expect(bar).to_have_attribute("data-status", "ended")
    assert node.services.calls.calls == {}

    await ctx.set_offline(False)
    await expect(page.get_by_test_id("cg-status")).to_contain_text("We typically reply", timeout=15000)
    await expect(bar).to_be_hidden()
    await expect(page.get_by_test_id("cg-call")).to_be_enabled()
    assert errors == []


async def test_the_ended_bar_says_the_calls_duration_as_the_conversation_does(mic_browser: Browser, node: Node) -> None:
    """Old code: the bar timed the call from the browser's media ("The call ended 0:04") while the conversation
    said the gateway's duration ("Call ended · 0:05"). The gateway's duration is set to 42 s here, so the two
    cannot agree by chance."""
    ctx = await mic_browser.new_context()
    rewritten: list[str] = []

    async def longer(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            frame = json.loads(text)
            event = frame.get("event") if frame.get("type") == "event" else None
            if isinstance(event, dict) and event.get("type") == "call_ended":
                event["duration_ms"] = 42_300
                text = json.dumps(frame)
                rewritten.append(event["call_id"])
            ws.send(text)

        server.on_message(from_server)

    errors: list[str] = []
    await ctx.route_web_socket(re.compile(r".*/ws/customer.*"), longer)
    page = await open_widget(ctx, node, errors)
    bar, call = await call_into_ivr(page)
    timer = page.get_by_test_id("cg-call-timer")
    await expect(timer).to_be_visible(timeout=10000)  # the media connected: the bar counts
    await page.get_by_test_id("cg-hangup").click()
    await expect(bar).to_have_attribute("data-status", "ended")
    await expect(page.locator(".cg-msg[data-author=system]", has_text="Call ended")).to_have_text("Call ended · 0:42")
    assert rewritten == [call["id"]]
    await expect(timer).to_have_text("0:42")
    assert errors == []
