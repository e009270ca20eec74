"""The desk's login session in real Chromium: the access token is refreshed while the desk is open,
Log out ends the session on the gateway, a revoked session brings back the login screen."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.clients import Customer
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS


async def token_of(page: Page) -> str:
    return str(await page.evaluate("() => sessionStorage.getItem('cg.agent.token') || ''"))


async def test_the_open_desk_refreshes_its_token_and_reconnects_with_the_fresh_one(
    browser: Browser, settings: Settings
) -> None:
    node = await start_node(replace(settings, agent_access_minutes=0.05))  # 3 s tokens: refreshed every 2 s
    try:
        page = await (await browser.new_context()).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(page, node, "alice")
        first = await token_of(page)
        await page.wait_for_function(
            "(first) => (sessionStorage.getItem('cg.agent.token') || first) !== first", arg=first, timeout=6000
        )
        await asyncio.sleep(3.5)  # the first token has expired by now
        second = await token_of(page)
        assert second != first
        # a reconnect of the socket says hello with the fresh token: the desk stays in
        await page.evaluate("() => window.dispatchEvent(new Event('offline'))")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
        # no chat reaches a desk that is not connected: its status pill says so (it stayed a green "Available")
        await expect(page.locator("[data-testid=agent-status]")).to_have_text(re.compile("offline", re.IGNORECASE))
        await page.evaluate("() => window.dispatchEvent(new Event('online'))")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        await expect(page.locator("[data-testid=agent-status]")).to_have_text(re.compile("available", re.IGNORECASE))
        await expect(page.locator("#login-view")).to_be_hidden()
        assert errors == []
    finally:
        await node.stop()


async def test_a_desk_that_slept_past_its_token_refreshes_and_stays_signed_in(
    browser: Browser, settings: Settings
) -> None:
    """A laptop that slept (or a tab held back) past the access token's expiry: the session still lives, so the
    desk refreshes within the gateway's grace instead of showing the login. Old code: "Your session has expired"."""
    node = await start_node(replace(settings, agent_access_minutes=0.05))  # 3 s tokens
    try:
        context = await browser.new_context()
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(page, node, "alice")
        await context.set_offline(True)  # no refresh gets through: each try waits 15 s for the next
        await asyncio.sleep(4)
        stale = await token_of(page)
        expiry = await page.evaluate("() => Number(sessionStorage.getItem('cg.agent.token_exp'))")
        assert expiry < await page.evaluate("() => Date.now()")  # the desk's token has expired
        await context.set_offline(False)
        await page.reload()  # the laptop wakes with the tab reopened
        await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        await expect(page.locator("[data-testid=agent-status]")).to_have_text(re.compile("available", re.IGNORECASE))
        await expect(page.locator("#login-view")).to_be_hidden()
        assert await token_of(page) not in ("", stale)
        assert errors == []
    finally:
        await node.stop()


async def test_log_out_ends_the_session_on_the_gateway(browser: Browser, node: Node) -> None:
    page = await (await browser.new_context()).new_page()
    await agent_login(page, node, "alice")
    token = await token_of(page)
    # the page shows the login at once and tells the gateway in the background (a keepalive request): wait for
    # the gateway's answer before asking with the old token (asking first raced it, and won once in a CI run)
    async with page.expect_response(lambda r: r.url.endswith("/api/agent/logout")) as logged_out:
        await page.click("#logout")
    assert (await logged_out.value).ok
    await expect(page.locator("#login-view")).to_be_visible()
    r = await page.request.post(node.url + "/api/agent/refresh", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 401 and (await r.json())["code"] == "session_revoked"


async def test_a_revoked_session_shows_the_login_screen_with_a_reason(browser: Browser, node: Node) -> None:
    page = await (await browser.new_context()).new_page()
    await agent_login(page, node, "alice")
    await node.services.sessions.revoke_agent("alice", reason="password_changed")
    await expect(page.locator("#login-view")).to_be_visible(timeout=3000)
    await expect(page.locator("#login-error")).to_contain_text("signed out")
    assert await token_of(page) == ""
    await asyncio.sleep(1.5)  # it does not reconnect on its own (close code 4401)
    await expect(page.locator("#login-view")).to_be_visible()


async def test_after_too_many_failed_sign_ins_the_desk_counts_down_with_sign_in_off(
    browser: Browser, node: Node
) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(node.url + "/agent")
    error = page.locator("#login-error")
    agent, password = page.locator("#login-agent"), page.locator("#login-password")
    await page.fill("#login-agent", "alice")
    await page.click("#login-submit")  # no password: that field is the one said wrong, and takes the focus
    await expect(error).to_have_text("Enter your agent ID and password.")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_have_attribute("aria-describedby", "login-error")
    await expect(password).to_be_focused()
    assert await agent.get_attribute("aria-invalid") is None
    shown, disabled = "", False
    for attempt in range(8):  # 5 wrong passwords from one address, then the gateway asks to wait
        await expect(page.locator("#login-submit")).to_be_enabled(timeout=10_000)
        await page.fill("#login-agent", "alice")
        await page.fill("#login-password", f"wrong-password-{attempt}")
        await page.click("#login-submit")
        await expect(error).to_be_visible()
        shown = await error.text_content() or ""
        if attempt == 0:  # a wrong password: both fields are what the alert is about (either may be wrong)
            assert shown == "unknown agent or wrong password", shown
            await expect(agent).to_have_attribute("aria-invalid", "true")
            await expect(password).to_have_attribute("aria-invalid", "true")
        if "Too many failed sign-ins" in shown:
            disabled = await page.locator("#login-submit").is_disabled()
            break
    # read as it first shows: the wait can be a second, over before a busy machine's next look (a CI failure)
    assert re.fullmatch(r"Too many failed sign-ins\. You can try again in \d+ seconds?\.", shown), shown
    assert disabled  # sign-in is off while it counts down
    await expect(error).to_have_text("You can sign in again now.", timeout=10_000)
    await expect(page.locator("#login-submit")).to_be_enabled()


async def test_log_out_with_a_chat_open_asks_first_and_the_chat_goes_back_to_the_queue(
    browser: Browser, node: Node
) -> None:
    page = await (await browser.new_context()).new_page()
    await agent_login(page, node, "alice")
    customer = Customer(node.url)
    try:
        await customer.hello()
        await customer.say("my parcel is lost")
        await expect(page.locator(".conv-item")).to_have_count(1)
        await page.click("#logout")
        ask = page.locator("[data-testid=leave-confirm]")
        await expect(ask).to_be_visible()
        await expect(ask).to_contain_text(
            "You have an open chat. Unless your desk is open in another tab or browser, it"
        )
        await expect(page.locator("[data-testid=leave-confirm-stay]")).to_be_focused()
        await page.keyboard.press("Enter")  # "Stay signed in": nothing happens
        await expect(ask).to_be_hidden()
        await expect(page.locator("#logout")).to_be_focused()
        await expect(page.locator("#login-view")).to_be_hidden()
        await page.click("#logout")
        async with page.expect_response(lambda r: r.url.endswith("/api/agent/logout")) as logged_out:
            await page.click("[data-testid=leave-confirm-go]")
        assert (await logged_out.value).ok  # (a keepalive request: Chromium keeps no body of it to read)
        await expect(page.locator("#login-view")).to_be_visible()
        position = await customer.expect("queue")  # the customer is told their place again
        assert position["position"] == 1
    finally:
        await customer.close()
