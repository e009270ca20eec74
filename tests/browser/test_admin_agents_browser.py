"""Agents managed by an admin, seen from real Chromium against two real node processes sharing one Redis: an agent
the admin adds on node A signs in to the desk on node B at once, and is removed mid-session (the desk's socket
closes, the session is revoked, the next refresh is 401); an agent given a one-time password chooses their own in
the desk's form before signing in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.conftest import TEST_FLOWS, bounded
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import GatewayProcess

pytestmark = BROWSER_TESTS

ADA = "ada-admin-passphrase"


@browser_fixture
async def two_nodes(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[list[GatewayProcess]]:
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADA, roles=("agent", "admin"))
    started: list[GatewayProcess] = []
    try:
        for name in ("a", "b"):
            node = GatewayProcess(
                tmp_path / name,
                *("--redis-url", str(settings.redis_url), "--agents-file", str(path)),
                *("--flows-dir", str(TEST_FLOWS), "--secret", str(settings.secret), "--log-format", "text"),
            )
            await node.start()
            started.append(node)
        yield started
    finally:
        for node in started:
            await bounded(node.stop(), "stopping a node")  # type: ignore[arg-type]


async def admin_call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/api/agent/login", json={"agent_id": "ada", "password": ADA}) as r:
            token = (await r.json())["token"]
        async with http.request(method, url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
            text = await r.text()
            return r.status, text


async def sign_in(page: Page, url: str, agent_id: str, password: str) -> None:
    await page.goto(url + "/agent")
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", password)
    await page.click("#login-submit")


async def test_an_agent_added_on_node_a_works_on_node_b_at_once_and_is_removed_mid_session(
    browser: Browser, two_nodes: list[GatewayProcess]
) -> None:
    node_a, node_b = two_nodes
    body = {
        "id": "dave",
        "name": "Dave Doe",
        "password": "dave-first-passphrase",
        "roles": ["agent"],
        "must_change_password": False,  # (the default, a one-time password, has a test of its own)
    }
    status, text = await admin_call(node_a.url, "POST", "/api/admin/agents", body)
    assert status == 201, text
    page = await (await browser.new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, node_b.url, "dave", "dave-first-passphrase")  # the other node, no wait
    await expect(page.locator("[data-testid=agent-status]")).to_have_text(re.compile("away|available", re.I))
    token = str(await page.evaluate("() => sessionStorage.getItem('cg.agent.token') || ''"))
    assert token

    status, text = await admin_call(node_a.url, "DELETE", "/api/admin/agents/dave")
    assert status == 204, text
    await expect(page.locator("#login-view")).to_be_visible()  # the socket was closed by node B at once
    await expect(page.locator("#login-error")).to_contain_text("signed out")
    r = await page.request.post(node_b.url + "/api/agent/refresh", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 401
    await sign_in(page, node_b.url, "dave", "dave-first-passphrase")
    await expect(page.locator("#login-error")).to_be_visible()
    assert errors == []


async def test_a_one_time_password_is_replaced_in_the_desk_before_signing_in(
    browser: Browser, two_nodes: list[GatewayProcess], tmp_path: Path
) -> None:
    node_a, node_b = two_nodes
    status, text = await admin_call(
        node_a.url, "POST", "/api/admin/agents/bob/password", {"password": "bob-one-time-pass"}
    )
    assert status == 204, text
    context = await browser.new_context()
    await install_axe(context)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # the login's answer that a change is due is expected: no red "403 (Forbidden)" in the console (a user test's
    # finding); the breached password refused below is a 400 of /api/agent/password, a refusal the form shows
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None)
    await sign_in(page, node_b.url, "bob", "bob-one-time-pass")
    form = page.locator("#password-form")
    await expect(form).to_be_visible()
    await expect(page.locator("#login-form")).to_be_hidden()
    await expect(page.locator("#password-new")).to_be_focused()  # keyboard users start typing at once
    await page.screenshot(path=str(tmp_path / "password-form.png"))
    assert blocking(await axe_violations(page)) == [], describe(await axe_violations(page))

    await page.fill("#password-new", "qwertyuiop")  # long enough, but a breached one: the gateway says so
    await page.fill("#password-again", "qwertyuiop")
    await page.keyboard.press("Enter")
    await expect(page.locator("#password-error")).to_contain_text("common")
    await expect(page.locator("#password-new")).to_have_attribute("aria-invalid", "true")

    await page.fill("#password-new", "bob-chose-this-one")
    await page.fill("#password-again", "bob-chose-this-one")
    await page.click("#password-submit")
    await expect(page.locator("[data-testid=agent-status]")).to_have_text(re.compile("away|available", re.I))
    await expect(page.locator("#login-view")).to_be_hidden()
    assert await page.evaluate("() => JSON.stringify(sessionStorage).includes('one-time')") is False
    async with aiohttp.ClientSession() as http:
        body = {"agent_id": "bob", "password": "bob-chose-this-one"}
        async with http.post(node_a.url + "/api/agent/login", json=body) as r:
            assert r.status == 200
    assert [c for c in console if "/api/agent/password" not in c] == []
    assert errors == []
