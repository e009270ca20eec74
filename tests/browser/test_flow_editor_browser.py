"""The flow editor (/admin/flows) in real Chromium against a real node and its Flows REST API.

An admin (dana) signs in with the desk's session. The graph shows every node of the test line's default flow
(tests/flows/default.yaml, imported from the flow directory as its first published version) and clicking a node
selects its lines in the editor, moving the caret highlights the node; an edit with an error shows the loader's
message on its line and publishing is refused; the fixed text is saved as a draft, published, and rolled back; two
admins saving from the same version: the second is refused with the message and the diff; a test chat into a
draft follows the draft while a customer's chat keeps the live version; past sessions replayed against a draft that
changes one menu choice show exactly the sessions that took it as differing. Keyboard, axe and CSP checks ride along;
screenshots land in the test's tmp_path. An agent without the admin role is refused with the gateway's reason.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, BrowserContext, Dialog, Page, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from ivr.loader import load_flow
from tests.browser.test_csp_browser import WATCH, violations
from tests.conftest import PASSWORDS, TEST_FLOWS, bounded
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.clients import Customer
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS

ADMIN, ADMIN_PASSWORD = "dana", "dana-secret-4444"
ADMIN2, ADMIN2_PASSWORD = "erin", "erin-secret-55555"
LOGINS = {ADMIN: ADMIN_PASSWORD, ADMIN2: ADMIN2_PASSWORD, "alice": PASSWORDS["alice"], "carol": PASSWORDS["carol"]}
DEFAULT = TEST_FLOWS / "default.yaml"


@browser_fixture
async def admin_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    """A node whose chats meet the default flow as a bot, with two admins and an agent."""
    agents = tmp_path / "agents.toml"
    add_agent(agents, ADMIN, "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, ADMIN2, "Erin Admin", ADMIN2_PASSWORD, capacity=1, roles=("agent", "admin"))
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    node = await start_node(replace(settings, agents_file=agents, chat_flow="default"))
    yield node
    await bounded(node.stop(), "stopping the admin node")


async def open_editor(
    browser: Browser, node: Node, who: str = ADMIN, path: str = "/admin/flows"
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 1000})
    await install_axe(ctx)
    await ctx.add_init_script(WATCH)
    page = await ctx.new_page()
    await page.goto(node.url + path)
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#login-agent", who)
    await page.fill("#login-password", LOGINS[who])
    await page.press("#login-password", "Enter")
    return ctx, page


async def opened(page: Page, flow: str = "default") -> None:
    await page.click(f"#flow-list a[data-flow={flow}]")
    await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(rf"^{flow}@"))
    await expect(page.locator(".fg-node").first).to_be_visible()


async def rest(node: Node, who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(node.url + "/api/agent/login", json={"agent_id": who, "password": LOGINS[who]}) as r:
            token = (await r.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.request(method, node.url + path, json=body, headers=headers) as r:
            return r.status, await r.json()


async def live_version(node: Node) -> str:
    status, body = await rest(node, ADMIN, "GET", "/api/admin/flows/default")
    assert status == 200, body
    return str(body["live_version"])


async def selected(page: Page) -> str:
    return str(
        await page.evaluate(
            "() => { const t = document.getElementById('fe-yaml'); return t.value.slice(t.selectionStart, t.selectionEnd); }"
        )
    )


async def edit(page: Page, old: str, new: str) -> None:
    """Select the first `old` in the editor and type `new` over it, as a person would."""
    await page.evaluate(
        "([old]) => { const t = document.getElementById('fe-yaml'); const at = t.value.indexOf(old);"
        " if (at < 0) throw new Error('not in the text: ' + old); t.focus(); t.setSelectionRange(at, at + old.length); }",
        [old],
    )
    await page.keyboard.type(new)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def node_lines(text: str, name: str) -> str:
    """A node's block as the editor should select it: its name line to the last line indented under it."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip() == f"{name}:")
    indent = len(lines[first]) - len(lines[first].lstrip())
    last = first
    for i in range(first + 1, len(lines)):
        if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent:
            break
        if lines[i].strip() and not lines[i].strip().startswith("#"):
            last = i
    return "\n".join(lines[first : last + 1])


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){name}(\s|$)")


async def no_blocking_axe_or_csp(page: Page) -> None:
    found = await axe_violations(page)
    assert blocking(found) == [], describe(found)
    assert await violations(page) == []


async def test_the_graph_shows_every_node_and_selects_their_lines(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        text = await page.input_value("#fe-yaml")
        assert text == DEFAULT.read_text(encoding="utf-8")  # the file, imported as the first version
        shipped = set(load_flow(DEFAULT).nodes)
        await expect(page.locator(".fg-node")).to_have_count(len(shipped))
        drawn = set(await page.locator(".fg-node").evaluate_all("els => els.map((e) => e.dataset.node)"))
        assert drawn == shipped
        assert await page.locator(".fg-edge").count() > len(shipped)  # transitions (and the start) are drawn
        await page.screenshot(path=str(tmp_path / "flow-graph.png"), full_page=True)

        await page.click(".fg-node[data-node=account]")
        assert await selected(page) == node_lines(text, "account")
        await expect(page.locator(".fg-node[data-node=account]")).to_have_class(has_class("fg-selected"))

        # the caret moved into another node's lines: that node lights up
        at = text.index("on_error: lookup_failed")
        await page.evaluate(
            "(at) => { const t = document.getElementById('fe-yaml'); t.focus(); t.setSelectionRange(at, at); }", at
        )
        await expect(page.locator(".fg-node[data-node=lookup]")).to_have_class(has_class("fg-selected"))
        await expect(page.locator(".fg-node[data-node=account]")).not_to_have_class(has_class("fg-selected"))

        # from the keyboard: Escape leaves the editor, Tab reaches the graph's nodes, Enter selects a node's lines
        await page.keyboard.press("Escape")
        await page.focus(".fg-node[data-node=menu]")
        await page.keyboard.press("Enter")
        assert await selected(page) == node_lines(text, "menu")
        await no_blocking_axe_or_csp(page)
    finally:
        await ctx.close()


async def test_the_open_flow_s_list_entry_keeps_what_the_editor_holds(browser: Browser, admin_node: Node) -> None:
    """A click on the flow already open (or the page opening it while the admin already types) refreshes what is
    around the editor, never its text: it used to load the flow again over unsaved changes, without asking."""
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        await edit(page, "reason: support_closed", "reason: support_moved")
        async with page.expect_response(lambda r: r.url.endswith("/api/admin/flows/default")):
            await page.click("#flow-list a[data-flow=default]")
        await page.wait_for_load_state("networkidle")  # whatever that click asked for has come
        assert "reason: support_moved" in await page.input_value("#fe-yaml")
    finally:
        await ctx.close()


async def test_an_error_on_its_line_refuses_publish_then_fix_save_publish_and_roll_back(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    original = await live_version(admin_node)
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        text = await page.input_value("#fe-yaml")
        line = line_of(text, "fallback: goodbye")
        await edit(page, "fallback: goodbye", "fallback: goodby")
        mark = page.locator(f".fe-mark-error[data-line='{line}']")
        await expect(mark).to_contain_text("goodby")
        await expect(page.get_by_test_id("errors")).to_contain_text(f"Line {line}")
        await expect(page.get_by_test_id("validity")).to_contain_text("1 problem")
        await page.screenshot(path=str(tmp_path / "flow-error.png"), full_page=True)

        await page.click("[data-testid=publish]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Publish refused")
        await page.fill("[data-testid=save-message]", "broken")
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Not saved")
        status, body = await rest(admin_node, ADMIN, "GET", "/api/admin/flows/default")
        assert (body["live_version"], len(body["versions"])) == (original, 1)  # nothing half-saved

        # the error's button in the list puts the caret on its line; fix it there
        await page.click(f"[data-testid=errors] button[data-line='{line}']")
        await edit(page, "fallback: goodby\n", "fallback: support\n")
        await expect(page.get_by_test_id("validity")).to_have_text("— valid")
        await expect(page.locator(".fe-mark-error")).to_have_count(0)
        await page.fill("[data-testid=save-message]", "menu falls back to support")
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Saved as version")
        status, body = await rest(admin_node, ADMIN, "GET", "/api/admin/flows/default")
        draft = next(v for v in body["versions"] if v["message"] == "menu falls back to support")
        assert body["live_version"] == original and draft["parent"] == original and draft["author"] == ADMIN
        row = page.locator(f"#fe-versions tr[data-version='{draft['id']}']")
        await expect(row).to_contain_text("draft")
        await expect(page.get_by_test_id("test-what")).to_contain_text(f"version {draft['id']} (not live)")

        await page.click("[data-testid=publish]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text(f"Version {draft['id']} is live")
        # default is the node's --voice-flow and --chat-flow: the status and the list say what it answers
        await expect(page.get_by_test_id("flow-status")).to_contain_text("new calls and chats take it on every node")
        await expect(page.locator("#flow-list a[data-flow=default]")).to_contain_text("answers calls · answers chats")
        assert await live_version(admin_node) == draft["id"]
        await expect(row).to_contain_text("live")
        await expect(page.get_by_test_id("test-what")).to_contain_text(f"version {draft['id']} (live)")

        # the diff between the two versions
        await page.select_option("[data-testid=diff-from]", original)
        await page.select_option("[data-testid=diff-to]", draft["id"])
        await page.click("[data-testid=diff-show]")
        await expect(page.locator("#fe-diff .d-del")).to_contain_text("fallback: goodbye")
        await expect(page.locator("#fe-diff .d-add")).to_contain_text("fallback: support")

        # rollback: asked first (the confirm names the version), then the first version is live again
        asked: list[str] = []

        async def confirm(dialog: Dialog) -> None:
            asked.append(dialog.message)
            await dialog.accept()

        page.once("dialog", confirm)
        await page.click(f"#fe-versions tr[data-version='{original}'] button:has-text('Roll back')")
        await expect(page.get_by_test_id("flow-status")).to_contain_text(f"Version {original} is live")
        assert await live_version(admin_node) == original
        assert len(asked) == 1 and f"back to version {original}" in asked[0], asked
        await page.screenshot(path=str(tmp_path / "flow-rolled-back.png"), full_page=True)
        await no_blocking_axe_or_csp(page)
    finally:
        await ctx.close()


async def test_two_admins_save_from_the_same_version_the_second_sees_the_diff(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    ctx1, first = await open_editor(browser, admin_node, ADMIN)
    ctx2, second = await open_editor(browser, admin_node, ADMIN2)
    try:
        await opened(first)
        await opened(second)
        await edit(first, "Welcome to the test line.", "Welcome, said Dana.")
        await first.fill("[data-testid=save-message]", "dana's greeting")
        await first.click("[data-testid=save]")
        await expect(first.get_by_test_id("flow-status")).to_contain_text("Saved as version")

        await edit(second, "Goodbye.", "Bye from Erin.")
        await second.fill("[data-testid=save-message]", "erin's goodbye")
        await second.click("[data-testid=save]")
        conflict = second.get_by_test_id("conflict")
        await expect(conflict).to_be_visible()
        await expect(conflict).to_contain_text("Another version")
        await expect(second.locator("#fe-conflict-diff")).to_contain_text("Welcome, said Dana.")
        assert "Bye from Erin." in await second.input_value("#fe-yaml")  # the editor keeps their text
        await second.screenshot(path=str(tmp_path / "flow-conflict.png"), full_page=True)
        status, body = await rest(admin_node, ADMIN, "GET", "/api/admin/flows/default")
        assert [v["message"] for v in body["versions"] if v["message"] == "erin's goodbye"] == []
    finally:
        await ctx1.close()
        await ctx2.close()


async def test_a_test_chat_into_a_draft_follows_the_draft(browser: Browser, admin_node: Node, tmp_path: Path) -> None:
    ctx, page = await open_editor(browser, admin_node)
    customer = Customer(admin_node.url)  # of this node (the clients fixture starts a node of its own, without the bot)
    try:
        await opened(page)
        await edit(page, "Welcome to the test line.", "Welcome to the DRAFT line.")
        await page.fill("[data-testid=save-message]", "draft greeting")
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Saved as version")

        await page.click("#tab-test")
        await page.click("[data-testid=test-start]")
        log = page.get_by_test_id("chat-log")
        await expect(log.locator(".from-bot").first).to_have_text("Welcome to the DRAFT line.")
        steps = page.get_by_test_id("test-steps")
        await expect(steps.locator("li[data-node=menu]").first).to_be_visible()
        await expect(page.locator(".fg-node[data-node=menu]")).to_have_class(has_class("fg-current"))
        await page.fill("[data-testid=chat-input]", "billing")
        await page.press("[data-testid=chat-input]", "Enter")
        await expect(steps.locator("li[data-node=billing]").first).to_be_visible()
        await expect(page.locator(".fg-node[data-node=billing]")).to_have_class(has_class("fg-current"))
        await page.screenshot(path=str(tmp_path / "flow-test-chat.png"), full_page=True)

        # a customer's chat meanwhile still meets the live version
        await customer.hello()
        await customer.say("hello")
        bot = await customer.event("message", lambda e: e.get("author") == "bot", timeout=10)
        assert bot["text"] == "Welcome to the test line."
        await no_blocking_axe_or_csp(page)
    finally:
        await customer.close()
        await ctx.close()


async def chat_through_menu(url: str, answer: str) -> str:
    """A customer meets the live bot and answers its menu (then leaves); the conversation id."""
    customer = Customer(url)
    try:
        await customer.hello()
        ack = await customer.say("hi")
        await customer.event("message", lambda e: e["author"] == "bot" and "press 1" in e["text"], timeout=10)
        await customer.say(answer)
        await customer.event("message", lambda e: e["author"] == "bot" and "press 1" not in e["text"], timeout=10)
        return str(ack["conversation_id"])
    finally:
        await customer.close()


async def counted_paths(node: Node, sessions: int) -> None:
    """Wait until the rollups counted `sessions` entries into the default flow (they follow the events shortly)."""
    today = datetime.now(UTC).date().isoformat()
    async with asyncio.timeout(20):
        while True:
            status, body = await rest(node, ADMIN, "GET", f"/api/reports/flows/default?from={today}&to={today}")
            assert status == 200, body
            if sum(t["count"] for t in body["transitions"] if not t["from"]) >= sessions:
                return
            await asyncio.sleep(0.1)


async def test_replay_shows_the_sessions_that_took_the_changed_menu_choice(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    took = {
        answer: [await chat_through_menu(admin_node.url, answer) for _ in range(2)] for answer in ("billing", "support")
    }
    await chat_through_menu(admin_node.url, "3")
    await counted_paths(admin_node, 5)
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        # the reports' path analytics on the edges: 5 sessions started, 2 took each of Billing and Support
        start_edge = page.locator(".fg-edge[data-from='(start)'][data-to='hello'] .fg-count")
        await expect(start_edge).to_have_attribute("data-count", "5")
        billing = page.locator(".fg-edge[data-from='menu'][data-to='billing'] .fg-count")
        await expect(billing).to_have_attribute("data-count", "2")
        await expect(page.get_by_test_id("stats-note")).to_contain_text("5 sessions")
        # the draft sends choice 2 (support) to goodbye instead of support; no one took the fallback
        text = await page.input_value("#fe-yaml")
        start = text.index("value: support")
        at = text.index("next: support", start)
        await page.evaluate(
            "([a, b]) => { const t = document.getElementById('fe-yaml'); t.focus(); t.setSelectionRange(a, b); }",
            [at, at + len("next: support")],
        )
        await page.keyboard.type("next: goodbye")
        await edit(page, "fallback: goodbye", "fallback: support")  # support stays reachable (the loader insists)
        await expect(page.get_by_test_id("validity")).to_have_text("— valid")
        await page.fill("[data-testid=save-message]", "support goes to goodbye")
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Saved as version")

        await page.click("#tab-replay")
        await page.click("[data-testid=replay-run]")
        summary = page.get_by_test_id("replay-summary")
        await expect(summary).to_contain_text("5 sessions, 3 same, 2 differ")
        items = page.locator("[data-testid=replay-list] button")
        await expect(items).to_have_count(2)
        assert sorted(await items.evaluate_all("els => els.map((e) => e.dataset.cid)")) == sorted(took["support"])
        for text_of in await items.all_inner_texts():
            assert "support" in text_of and "goodbye" in text_of
        await items.first.click()
        await expect(page.locator(".fg-node[data-node=goodbye]")).to_have_class(has_class("fg-current"))
        await expect(page.get_by_test_id("replay-steps").locator("li").first).to_be_visible()
        await page.screenshot(path=str(tmp_path / "flow-replay.png"), full_page=True)
        await no_blocking_axe_or_csp(page)
    finally:
        await ctx.close()


async def test_an_agent_is_refused_and_a_supervisor_reads_only(browser: Browser, admin_node: Node) -> None:
    ctx, page = await open_editor(browser, admin_node, "alice")
    try:
        refused = page.get_by_test_id("flows-refused")
        await expect(refused).to_be_visible()
        await expect(refused).to_contain_text("admin")
        assert await page.locator(".fg-node").count() == 0
    finally:
        await ctx.close()
    ctx, page = await open_editor(browser, admin_node, "carol")
    try:
        await opened(page)
        await expect(page.locator("#fe-readonly")).to_be_visible()
        await expect(page.get_by_test_id("save")).to_be_hidden()
        await expect(page.locator("#fe-yaml")).not_to_be_editable()
        assert await page.locator("#fe-versions button", has_text="Roll back").count() == 0
        await page.click(".fg-node[data-node=menu]")  # reading: the graph still selects a node's lines
        assert (await selected(page)).startswith("  menu:")
        await page.click("#tab-test")
        await expect(page.get_by_test_id("test-start")).to_be_disabled()
        await expect(page.get_by_test_id("test-why")).to_have_text("Only admins can run tests.")
        await expect(page.get_by_test_id("test-start")).to_have_accessible_description("Only admins can run tests.")
        await expect(page.get_by_test_id("new-flow")).to_be_hidden()
    finally:
        await ctx.close()


async def test_a_node_pair_joined_by_two_transitions_shows_its_count_once(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    """The reports count from node to node: with the fallback also going to billing, menu -> billing has two
    edges, and the two sessions that went there are shown once for both, not 2x on each."""
    for _ in range(2):
        await chat_through_menu(admin_node.url, "billing")
    await counted_paths(admin_node, 2)
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        await expect(page.locator(".fg-edge[data-from='menu'][data-to='billing'] .fg-count")).to_have_attribute(
            "data-count", "2"
        )
        await edit(page, "fallback: goodbye", "fallback: billing")
        await expect(page.get_by_test_id("validity")).to_have_text("— valid")
        pair = page.locator(".fg-edge[data-from='menu'][data-to='billing']")
        await expect(pair).to_have_count(2)
        counts = pair.locator(".fg-count")
        await expect(counts).to_have_text(["2× (both routes)", ""])
        assert await counts.evaluate_all("els => els.map((e) => e.dataset.count)") == ["2", ""]
        for i in range(2):
            await expect(pair.nth(i)).to_have_class(has_class("fg-shared"))
            assert await pair.nth(i).locator("path").evaluate("p => p.style.strokeWidth") == ""
        assert "not which transition" in await pair.first.locator("title").text_content()
        # a pair with one edge keeps its own count and width
        start_edge = page.locator(".fg-edge[data-from='(start)'][data-to='hello']")
        await expect(start_edge.locator(".fg-count")).to_have_text("2×")
        await page.locator("#fe-graph").screenshot(path=str(tmp_path / "flow-shared-pair.png"))
    finally:
        await ctx.close()


async def test_a_new_flow_and_an_address_naming_no_flow(browser: Browser, admin_node: Node, tmp_path: Path) -> None:
    ctx, page = await open_editor(browser, admin_node, path="/admin/flows?flow=sales_line")
    try:
        missing = page.get_by_test_id("flow-missing")
        await expect(missing).to_contain_text("There is no flow named “sales_line”.")
        await expect(page.locator("#fe-flow")).to_be_hidden()  # no other flow is opened in its place
        assert await page.locator("#fe-flow").get_attribute("data-open") is None
        await page.screenshot(path=str(tmp_path / "flow-missing-admin.png"), full_page=True)
        # New flow: the name is checked as the server checks it
        await page.click("[data-testid=new-flow]")
        for bad, said in (
            ("two words", "Latin letters"),
            ("default", "There is a flow named default already."),
            ("x" * 65, "at most 64 characters"),
        ):
            await page.fill("[data-testid=new-flow-name]", bad)
            await page.click("[data-testid=new-flow-create]")
            await expect(page.get_by_test_id("new-flow-error")).to_contain_text(said)
        await page.click("#fe-new-cancel")
        # the offer creates the flow the address names: a starter text as its first version, opened
        await page.click("[data-testid=missing-create]")
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^sales_line@"))
        await expect(missing).to_be_hidden()
        await expect(page.get_by_test_id("flow-title")).to_have_text("sales_line")
        await expect(page.locator(".fg-node[data-node=welcome]")).to_be_visible()
        await expect(page.locator("#flow-list a[data-flow=sales_line]")).to_have_attribute("aria-current", "page")
        await expect(page.get_by_test_id("flow-status")).to_contain_text("Created the flow sales_line")
        status, body = await rest(admin_node, ADMIN, "GET", "/api/admin/flows/sales_line")
        assert status == 200 and len(body["versions"]) == 1 and body["live_version"] is None, body
        _, v = await rest(admin_node, ADMIN, "GET", f"/api/admin/flows/sales_line/versions/{body['versions'][0]['id']}")
        assert v["yaml"] == await page.input_value("#fe-yaml")
        assert (await rest(admin_node, ADMIN, "POST", "/api/admin/flows/validate", {"yaml": v["yaml"]}))[1][
            "errors"
        ] == []
        # and from the list's button
        await page.click("[data-testid=new-flow]")
        await page.fill("[data-testid=new-flow-name]", "night-2")
        await page.press("[data-testid=new-flow-name]", "Enter")
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^night-2@"))
        assert page.url.endswith("/admin/flows?flow=night-2")
        # published, it starts nothing: it answers neither calls nor chats (a user test published the README's
        # example as a new flow and was told "new calls and chats take it"); the status says how to make it answer
        await page.click("[data-testid=publish]")
        status_line = page.get_by_test_id("flow-status")
        await expect(status_line).to_contain_text(
            "is live, but nothing starts in it: calls start in 'default' and chats in 'default'. It runs where a goto "
            "leads to it, or once you make it answer calls or chats"
        )
        await expect(page.locator("#flow-list a[data-flow=night-2]")).not_to_contain_text("answers")
        await page.screenshot(path=str(tmp_path / "flow-created.png"), full_page=True)
        await no_blocking_axe_or_csp(page)
    finally:
        await ctx.close()
    # a supervisor reads only: told the flow is not there, offered no create
    ctx, page = await open_editor(browser, admin_node, "carol", path="/admin/flows?flow=does-not-exist")
    try:
        await expect(page.get_by_test_id("flow-missing")).to_contain_text("There is no flow named “does-not-exist”.")
        await expect(page.get_by_test_id("missing-create")).to_be_hidden()
        await expect(page.get_by_test_id("new-flow")).to_be_hidden()
        await expect(page.locator("#fe-flow")).to_be_hidden()
        await page.screenshot(path=str(tmp_path / "flow-missing-supervisor.png"), full_page=True)
    finally:
        await ctx.close()
    # names none: the flow calls start in (--voice-flow), not the first by name (callback)
    ctx, page = await open_editor(browser, admin_node, "carol", path="/admin/flows?flow=")
    try:
        await expect(page.locator("#fe-flow")).to_have_attribute("data-open", re.compile(r"^default@"))
        await expect(page.get_by_test_id("flow-missing")).to_be_hidden()
    finally:
        await ctx.close()


async def test_a_refused_text_clears_the_old_problems_and_graph(
    browser: Browser, admin_node: Node, tmp_path: Path
) -> None:
    ctx, page = await open_editor(browser, admin_node)
    try:
        await opened(page)
        text = await page.input_value("#fe-yaml")
        await edit(page, "next: menu", "next: menuu")
        await expect(page.get_by_test_id("errors")).to_contain_text("menuu")
        huge = text.replace("Welcome to the test line.", "Welcome. " * 32_000)  # about 280 KB
        await page.fill("#fe-yaml", huge)
        kb = -(-len(huge.encode()) // 1024)
        said = f"This flow is too large: {kb} KB, the limit is 256 KB."
        await expect(page.get_by_test_id("validity")).to_have_text(f"— {said}")
        await expect(page.get_by_test_id("errors")).to_have_text(f"Flow: {said}")
        await expect(page.get_by_test_id("graph-empty")).to_contain_text("too large")
        assert await page.locator(".fg-node").count() == 0
        await page.screenshot(path=str(tmp_path / "flow-too-large.png"))
        await page.click("[data-testid=save]")
        await expect(page.get_by_test_id("flow-status")).to_have_text(f"Not saved: {said}")
        await page.fill("#fe-yaml", "")
        await expect(page.get_by_test_id("validity")).to_have_text("— The flow is empty.")
        await expect(page.get_by_test_id("errors")).to_have_text("Flow: The flow is empty.")
        await page.fill("#fe-yaml", text)  # a good text brings its graph back
        await expect(page.get_by_test_id("validity")).to_have_text("— valid")
        await expect(page.locator(".fg-node[data-node=menu]")).to_be_visible()
        await expect(page.get_by_test_id("errors")).to_have_text("")
    finally:
        await ctx.close()
