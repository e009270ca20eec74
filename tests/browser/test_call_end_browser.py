"""The end of a call reaches the customer however it happens: the node holding it dies, or it is ended for them.

Real Chromium with a fake microphone calls a real gateway. A node holding the call is a real process killed with
SIGKILL, behind a small TCP forwarder (what a load balancer does), so the widget's socket comes back on another
node whose welcome does not list the call.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, Dialog, expect

from gateway.protocol.states import CallEndReason, CallStatus
from tests.browser.test_call_browser import call_into_ivr, call_state, eventually, open_widget
from tests.conftest import TEST_FLOWS
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.proxy import NodeProxy
from tests.support.servers import GatewayProcess, Node

pytestmark = BROWSER_TESTS


async def test_a_call_whose_node_died_shows_interrupted_on_the_next_node(
    mic_browser: Browser, node: Node, tmp_path: Path
) -> None:
    settings = node.services.settings
    doomed = GatewayProcess(
        tmp_path / "doomed",
        *("--redis-url", str(settings.redis_url), "--agents-file", str(settings.agents_file)),
        *("--flows-dir", str(TEST_FLOWS), "--secret", str(settings.secret), "--log-format", "text"),
        *("--rtc-addresses", "127.0.0.1"),
    )
    await doomed.start()
    proxy = NodeProxy(doomed.port)
    await proxy.start()
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, proxy, errors)  # type: ignore[arg-type]  # anything with a .url
        bar, call = await call_into_ivr(page)
        proxy.point_to(int(node.url.rsplit(":", 1)[1]))
        assert doomed.proc is not None
        doomed.proc.kill()  # kill -9: nothing is said, the call's media and socket just stop
        await doomed.proc.wait()
        doomed.proc = None
        await expect(bar).to_have_attribute("data-status", CallStatus.ENDED, timeout=15000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("The call was interrupted")
        await expect(page.locator("[data-testid=cg-call-again]")).to_be_visible()
        assert (await call_state(page))["reason"] == CallEndReason.NODE_LOST
        await eventually(lambda: page.evaluate("window.ContactGateway.state().connected"), bool, "back on a node")
        assert errors == []
    finally:
        await ctx.close()
        await proxy.stop()
        if doomed.proc is not None:
            await doomed.stop()


async def test_an_ended_frame_for_a_lost_node_offers_to_call_again(mic_browser: Browser, node: Node) -> None:
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        bar, first = await call_into_ivr(page)
        # what a surviving node sends once it took over the dead node's calls
        await node.services.calls.calls[first["id"]].end(CallEndReason.NODE_LOST)
        await expect(bar).to_have_attribute("data-status", CallStatus.ENDED, timeout=8000)
        await expect(page.locator("[data-testid=cg-call-status]")).to_have_text("The call was interrupted")
        again = page.locator("[data-testid=cg-call-again]")
        await expect(again).to_be_visible()
        await page.wait_for_timeout(
            6500
        )  # longer than an ordinary end stays on screen: this one waits for the customer
        await expect(again).to_be_visible()
        await again.click()
        await expect(bar).to_have_attribute("data-status", CallStatus.IVR, timeout=15000)
        second = await call_state(page)
        assert second["id"] != first["id"] and second["id"] in node.services.calls.calls
        await expect(again).to_be_hidden()
        assert errors == []
    finally:
        await ctx.close()


async def test_leaving_the_page_during_a_call_asks_first_and_not_after_it(mic_browser: Browser, node: Node) -> None:
    """A call cannot follow the customer to the next page: before, a click on another link ended it at once
    ("Caller hung up"), and the customer could not rejoin. Now the browser asks; staying keeps the call."""
    ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        page = await open_widget(ctx, node, errors)
        asked: list[str] = []

        async def stay(dialog: Dialog) -> None:
            asked.append(dialog.type)
            await dialog.dismiss()

        page.on("dialog", stay)
        bar, call = await call_into_ivr(page)
        await page.close(run_before_unload=True)
        await eventually(lambda: asyncio.sleep(0, asked), bool, "the browser asks before leaving")
        assert asked == ["beforeunload"]
        assert not page.is_closed()
        await page.wait_for_timeout(500)
        assert (await call_state(page))["status"] == CallStatus.IVR  # stayed: the call goes on
        await expect(bar).to_have_attribute("data-status", CallStatus.IVR)

        await page.click("[data-testid=cg-hangup]")
        await expect(bar).to_have_attribute("data-status", CallStatus.ENDED)
        await page.close(run_before_unload=True)  # no call: it just closes
        await eventually(lambda: asyncio.sleep(0, page.is_closed()), bool, "the page closed")
        assert asked == ["beforeunload"]
        assert errors == []
    finally:
        await ctx.close()
