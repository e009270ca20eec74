"""Choosing the flow that answers chats in the flow editor (/admin/flows), in real Chromium against a real node.

An admin opens the new flow ``shop``: "Answer chats" asks first, saying only NEW chats change and chats in progress
keep their flow; dismissed, nothing changes; accepted while ``shop`` is only a draft, the gateway's refusal (naming
the flow and why) is shown. Published, then chosen: the status says so, the button shows it answers chats, the flow
list moves the "answers chats" mark from ``default`` to ``shop`` (after a reload too), and a new chat is greeted by
``shop``. Pressed again (it asks first), "Answers chats" takes the bot off chats: new chats go straight to the
agents. "Retire flow" (it asks first) is refused with the gateway's reason while the flow answers chats, then takes
it out of service: the list and the badge say retired, and publishing its version brings it back. A supervisor sees
no buttons.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from playwright.async_api import Browser, Dialog, Locator, Page, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.flows.live import Entry
from tests.browser.test_flow_editor_browser import ADMIN, ADMIN_PASSWORD, no_blocking_axe_or_csp, open_editor, rest
from tests.conftest import PASSWORDS, bounded
from tests.integration.test_flow_answers import SHOP
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.clients import Customer
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS


@browser_fixture
async def shop_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    """A node whose chats and calls start in the default flow (the settings), an admin and a supervisor."""
    agents = tmp_path / "agents.toml"
    add_agent(agents, ADMIN, "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    node = await start_node(replace(settings, agents_file=agents, chat_flow="default"))
    yield node
    await bounded(node.stop(), "stopping the node")


def answer_dialogs(page: Page, accept: list[bool], seen: list[str]) -> None:
    """Each confirm: its text kept, then accepted or dismissed in turn."""

    async def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await (dialog.accept() if accept.pop(0) else dialog.dismiss())

    page.on("dialog", on_dialog)


def meta(page: Page, flow: str) -> Locator:
    return page.locator(f"#flow-list a[data-flow={flow}] .fe-flow-meta")


async def test_an_admin_makes_a_published_flow_answer_chats(browser: Browser, shop_node: Node, tmp_path: Path) -> None:
    status, saved = await rest(shop_node, ADMIN, "POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""})
    assert status == 201, saved
    ctx, page = await open_editor(browser, shop_node, path="/admin/flows?flow=shop")
    accept: list[bool] = [False, True, True, True, True]
    seen: list[str] = []
    answer_dialogs(page, accept, seen)
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^shop@"))
        chats = page.get_by_test_id("answer-chats")
        await expect(chats).to_have_text("Answer chats")
        await expect(page.get_by_test_id("answer-calls")).to_be_enabled()
        await expect(meta(page, "default")).to_contain_text("answers calls · answers chats")

        await chats.click()  # dismissed: nothing asked of the gateway
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        assert seen, "the button asked nothing"
        assert seen[0] == (
            "Make 'shop' answer chats? Only NEW chats start in 'shop' (now they start in 'default'), on every node "
            "within a second. A chat in progress keeps the flow it started in."
        )
        await chats.click()  # accepted, but shop is only a draft: refused, with the flow's name and why
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            "Not changed: flow 'shop' cannot answer chats: it has only drafts: publish a version of it first"
        )
        _, listed = await rest(shop_node, ADMIN, "GET", "/api/admin/flows")
        assert listed["chosen"] == {"calls": None, "chats": None}

        await page.click("[data-testid=publish]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("but nothing starts in it")
        await chats.click()
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            "'shop' now answers new chats on every node (was 'default'); chats in progress keep their flow."
        )
        await expect(chats).to_have_text("Answers chats")
        await expect(chats).to_have_attribute("aria-pressed", "true")
        await expect(chats).to_be_enabled()  # pressed again, it takes the bot off chats (below)
        await expect(meta(page, "shop")).to_contain_text("answers chats")
        await expect(meta(page, "default")).not_to_contain_text("answers chats")
        await expect(meta(page, "default")).to_contain_text("answers calls")
        await page.screenshot(path=str(tmp_path / "flow-answers.png"), full_page=True)
        await no_blocking_axe_or_csp(page)

        _, listed = await rest(shop_node, ADMIN, "GET", "/api/admin/flows")
        assert (listed["chosen"], listed["answers"]) == (
            {"calls": None, "chats": "shop"},
            {"calls": "default", "chats": "shop"},
        )
        customer = Customer(shop_node.url)
        try:
            await customer.hello()
            await customer.say("hi")
            await customer.event("message", lambda e: e["author"] == "bot" and e["text"] == "Welcome to the shop.")
        finally:
            await customer.close()

        await page.reload()  # the list says it from the gateway's answer
        await expect(meta(page, "shop")).to_contain_text("answers chats")
        await expect(chats).to_have_text("Answers chats")

        # another admin makes 'default' answer chats meanwhile: this page, still showing 'shop', takes nothing off
        status, _ = await rest(shop_node, ADMIN, "PUT", "/api/admin/flows/answers/chats", {"flow": "default"})
        assert status == 200
        await chats.click()
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            "Not changed: 'default' answers chats now, not 'shop' (reload the page to see what answers)"
        )
        assert shop_node.services.flows.answering(Entry.CHATS) == "default"
        status, _ = await rest(shop_node, ADMIN, "PUT", "/api/admin/flows/answers/chats", {"flow": "shop"})
        assert status == 200

        # taken off chats again: asked first, then new chats go straight to the agents (no flow answers them)
        await chats.click()
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            "New chats now go straight to the agents on every node ('shop' answered them); chats in progress keep "
            "their flow."
        )
        assert seen[-1].startswith("Take 'shop' off chats? Only NEW chats go straight to the agents"), seen[-1]
        await expect(chats).to_have_text("Answer chats")
        await expect(chats).to_have_attribute("aria-pressed", "false")
        await expect(meta(page, "shop")).not_to_contain_text("answers chats")
        await expect(meta(page, "default")).not_to_contain_text("answers chats")
        _, listed = await rest(shop_node, ADMIN, "GET", "/api/admin/flows")
        assert (listed["chosen"]["chats"], listed["answers"]["chats"]) == ("", None)
        assert shop_node.services.flows.answering(Entry.CHATS) is None
        # the calls button of the flow that answers calls stays off: calls always start in a flow
        await page.goto(shop_node.url + "/admin/flows?flow=default")
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^default@"))
        await expect(page.get_by_test_id("answer-calls")).to_be_disabled()
        await expect(page.get_by_test_id("answer-chats")).to_have_text("Answer chats")
    finally:
        await ctx.close()


async def test_an_admin_retires_a_flow_and_brings_it_back(browser: Browser, shop_node: Node) -> None:
    status, saved = await rest(shop_node, ADMIN, "POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""})
    assert status == 201, saved
    status, _ = await rest(shop_node, ADMIN, "POST", "/api/admin/flows/shop/publish", {"version": saved["id"]})
    assert status == 200
    status, _ = await rest(shop_node, ADMIN, "PUT", "/api/admin/flows/answers/chats", {"flow": "shop"})
    assert status == 200
    ctx, page = await open_editor(browser, shop_node, path="/admin/flows?flow=shop")
    accept: list[bool] = [False, True, True, True]
    seen: list[str] = []
    answer_dialogs(page, accept, seen)
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^shop@"))
        retire = page.get_by_test_id("retire")
        await retire.click()  # dismissed: nothing changes
        await expect(page.get_by_test_id("flow-status")).not_to_contain_text("retired")
        await retire.click()  # accepted, but it answers chats: the gateway's reason
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            "Not retired: 'shop' answers new chats (an admin chose it): make another flow answer chats first"
        )
        assert "shop" in shop_node.services.flows.snapshot()
        await page.get_by_test_id("answer-chats").click()  # "Answers chats": take it off chats (confirm accepted)
        await expect(page.get_by_test_id("answer-chats")).to_have_text("Answer chats")
        await retire.click()
        await expect(page.get_by_test_id("flow-status")).to_have_text(
            f"'shop' is retired: out of service on every node (version {saved['id']} was live). Publish a version "
            "of it to bring it back."
        )
        assert seen[0].startswith("Retire 'shop'? It goes out of service on every node within a second")
        assert "shop" not in shop_node.services.flows.snapshot()
        await expect(meta(page, "shop")).to_have_text(f"retired, was live {saved['id']}")
        await expect(page.locator("#fe-version-badge")).to_have_text(f"{saved['id']} · was live · flow retired")
        await expect(page.locator(f"tr[data-version='{saved['id']}']")).to_contain_text("was live")
        await expect(retire).to_be_hidden()
        await page.get_by_test_id("publish").click()  # brings it back
        await expect(meta(page, "shop")).to_have_text(f"live {saved['id']}")
        await expect(retire).to_be_visible()
        assert "shop" in shop_node.services.flows.snapshot()
        await no_blocking_axe_or_csp(page)
    finally:
        await ctx.close()


async def test_a_supervisor_sees_no_answer_buttons(browser: Browser, shop_node: Node) -> None:
    ctx, page = await open_editor(browser, shop_node, who="carol")
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^default@"))
        await expect(meta(page, "default")).to_contain_text("answers chats")
        await expect(page.get_by_test_id("answer-chats")).to_be_hidden()
        await expect(page.get_by_test_id("answer-calls")).to_be_hidden()
        await expect(page.get_by_test_id("retire")).to_be_hidden()
    finally:
        await ctx.close()
