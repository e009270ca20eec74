"""The desk's history, search and canned responses in real Chromium, with a real node and Redis."""

from __future__ import annotations

import re

import aiohttp
from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.conftest import Clients
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.clients import Customer
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def _desk(browser: Browser, node: Node) -> tuple[Page, list[str]]:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await agent_login(page, node, "alice")
    return page, errors


async def _select(page: Page, cid: str) -> None:
    item = page.locator(f"[data-testid=conversations] .conv-item[data-conversation-id='{cid}']")
    await item.click()
    await expect(page.locator("[data-testid=conversation]")).to_have_attribute("data-conversation-id", cid)


async def test_an_agent_sees_the_customers_previous_conversation_opens_it_and_finds_it_by_a_word(
    browser: Browser, node: Node, clients: Clients
) -> None:
    page, errors = await _desk(browser, node)
    cust: Customer = clients.customer()
    await cust.hello()
    first = (await cust.say("My parcel to Trondheim never arrived"))["conversation_id"]
    await _select(page, first)
    await page.fill("[data-testid=composer]", "Sorry, I am checking with the courier.")
    await page.press("[data-testid=composer]", "Enter")
    await page.select_option("[data-testid=disposition]", "follow-up")
    await page.click("[data-testid=close]")
    await expect(page.locator("[data-testid=readonly]").or_(page.locator("#readonly"))).to_be_visible()

    second = (await cust.say("Hello again about my parcel"))["conversation_id"]
    assert second != first
    await _select(page, second)
    previous = page.locator("[data-testid=previous-conversation]")
    await expect(previous).to_have_count(1)
    await expect(previous).to_have_attribute("data-conversation-id", first)
    await expect(previous).to_contain_text("Follow up")  # the disposition by its label
    await expect(previous).to_contain_text("Alice Smith")
    await expect(previous).to_contain_text(re.compile("chat", re.I))

    await previous.locator("button").click()
    view = page.locator("[data-testid=history-view]")
    await expect(view).to_be_visible()
    tl = view.locator("[data-testid=history-timeline]")
    await expect(tl.locator(".tl-item[data-type=message][data-author=customer]")).to_have_text(re.compile("Trondheim"))
    await expect(tl.locator(".tl-item[data-type=message][data-author=agent]")).to_have_text(re.compile("courier"))
    await expect(tl.locator(".tl-item[data-type=closed]")).to_contain_text("Follow up")  # the disposition's label
    await expect(view.locator("[data-testid=history-meta]")).to_contain_text(
        "closed · Follow up · agent Alice Smith · c"
    )
    # the agent's name isolated (<bdi>): a right-to-left override in a name stays in it (s29ut C1)
    await expect(view.locator("[data-testid=history-meta] bdi")).to_have_text("Alice Smith")
    await page.keyboard.press("Escape")
    await expect(view).to_be_hidden()

    # search by a word of a message: finds the first conversation, which opens read-only the same way
    await page.fill("[data-testid=search-input]", "trondheim")
    await page.press("[data-testid=search-input]", "Enter")
    results = page.locator("[data-testid=search-result]")
    await expect(results).to_have_count(1)
    await expect(results).to_have_attribute("data-conversation-id", first)
    await expect(page.locator("[data-testid=search-status]")).to_have_text("1 conversation")
    await results.locator("button").click()
    await expect(view).to_be_visible()
    await expect(tl.locator(".tl-item[data-type=message][data-author=customer]")).to_have_text(re.compile("Trondheim"))
    await view.locator("[data-testid=history-close]").click()
    await page.fill("[data-testid=search-input]", "parcel")
    await page.click("[data-testid=search-submit]")
    await expect(results).to_have_count(2)
    assert [await r.get_attribute("data-conversation-id") for r in await results.all()] == [second, first]
    await page.fill("[data-testid=search-input]", "zanzibar")
    await page.press("[data-testid=search-input]", "Enter")
    await expect(page.locator("[data-testid=search-status]")).to_have_text("No conversation matches.")
    await expect(results).to_have_count(0)
    assert errors == []


async def test_slash_picks_a_canned_response_by_keyboard_fills_it_in_and_sends_it(
    browser: Browser, node: Node, clients: Clients
) -> None:
    carol, alice = clients.agent("carol"), clients.agent("alice")
    async with aiohttp.ClientSession() as http:
        for agent, path, body in (
            (carol, "/api/canned/shared/greet", {"title": "Greeting", "text": "Hi {{ customer.name | there }}!"}),
            (carol, "/api/canned/shared/refund", {"title": "Refund policy", "text": "Refunds take 5 days."}),
            (
                alice,
                "/api/canned/personal/sign",
                {"title": "Sign-off", "text": "I'm {{ agent.name }}; your reference is {{ conversation.id }}."},
            ),
        ):
            token = await agent.login()
            async with http.put(node.url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200, await r.text()

    page, errors = await _desk(browser, node)
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("Hi, a question"))["conversation_id"]
    await _select(page, cid)
    composer = page.locator("[data-testid=composer]")
    menu = page.locator("[data-testid=canned-menu]")
    await composer.focus()
    await page.keyboard.type("/")
    await expect(menu).to_be_visible()
    await expect(menu.locator("[data-testid=canned-item]")).to_have_count(3)
    await page.keyboard.type("s")  # 'sign' by its shortcut, then 'refund' (its text has an s) ... narrowed further
    await page.keyboard.type("ig")
    items = menu.locator("[data-testid=canned-item]")
    await expect(items).to_have_count(1)
    await expect(items.first).to_have_attribute("data-shortcut", "sign")
    await page.keyboard.press("Backspace")
    await page.keyboard.press("Backspace")
    await page.keyboard.press("Backspace")  # back to '/': all three, the first one active
    await expect(items).to_have_count(3)
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowUp")
    active = menu.locator("[data-testid=canned-item][aria-selected=true]")
    await expect(active).to_have_attribute("data-shortcut", "refund")
    await page.keyboard.press("Escape")  # Esc closes the menu and keeps what was typed
    await expect(menu).to_be_hidden()
    await expect(composer).to_have_value("/")
    await page.keyboard.type("sig")
    await expect(menu).to_be_visible()
    await page.keyboard.press("Enter")  # picks: the filled text is in the composer, nothing sent yet
    await expect(menu).to_be_hidden()
    await expect(composer).to_have_value(f"I'm Alice Smith; your reference is {cid}.")
    assert not [f for f in cust.seen if f.get("type") == "event" and f["event"].get("author") == "agent"]
    await page.keyboard.press("Enter")  # now it goes
    got = await cust.event("message", lambda e: e["author"] == "agent")
    assert got["text"] == f"I'm Alice Smith; your reference is {cid}."
    await expect(composer).to_have_value("")

    await page.keyboard.type("/gr")
    await page.keyboard.press("Tab")
    await expect(composer).to_have_value("Hi there!")  # no verified name: the fallback
    assert errors == []
