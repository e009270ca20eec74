"""Supervisors act on agents from the wallboard, in real Chromium on a 1,366 x 768 laptop: carol (agent and supervisor)
sets alice, who has her desk open in another browser, away from the Agents table (alice's desk says "Set away: by a
supervisor"), then available again; then signs her out while she has a chat from a real widget: alice's desk shows the
sign-in with the reason, the chat goes back to the queue (the wallboard shows it waiting) and bob takes it. Keyboard
only: the row's "⋯" button (named "Actions for Alice Smith"), the dialog, the confirmation (Esc goes back to the
choices) and the focus after each (back to the row's button, or to the Agents table once the row went). A refusal of
the gateway is said in the dialog in its words (available for an agent whose desk closed before the board showed it).
The large mode shows no actions. axe-core finds nothing serious; screenshots go to CG_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, WebSocketRoute, expect

from tests.browser.test_accessibility_browser import check
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_wallboard_browser import cell, sign_in
from tests.browser.test_wallboard_chat_watch_browser import shot, wallboard
from tests.conftest import Clients
from tests.support.axe import install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

LAPTOP = {"width": 1366, "height": 768}
ISO = "[\u2066-\u2069]?"  # a name inside our words is isolated (FSI ... PDI): a regex allows it


def agents_region(board: Page) -> Locator:
    return board.locator("[data-testid=wb-agents]").locator("xpath=ancestor::*[@role='region']")


async def test_a_supervisor_sets_an_agent_away_and_available_and_signs_her_out_with_her_chat(
    browser: Browser, node: Node, clients: Clients, tmp_path: Path
) -> None:
    customer_ctx, alice_ctx, carol_ctx = [await browser.new_context(viewport=LAPTOP) for _ in range(3)]
    await install_axe(carol_ctx)
    errors: list[str] = []
    report: list[str] = []
    refused: list[str] = []
    try:
        alice = await alice_ctx.new_page()
        alice.on("pageerror", lambda exc: errors.append(f"alice: {exc}"))
        await agent_login(alice, node, "alice")
        board = await wallboard(carol_ctx, node, errors)
        state = cell(board, "agents", "alice", "state")
        await expect(state).to_have_text("Available")

        # the row's button, by keyboard: named for the agent, it opens the dialog on its first action
        actions = cell(board, "agents", "alice", "actions").get_by_role("button")
        await expect(actions).to_have_accessible_name(re.compile(f"^Actions for {ISO}Alice Smith{ISO}$"))
        await expect(actions).to_have_attribute("aria-haspopup", "dialog")
        await actions.focus()
        await board.keyboard.press("Enter")
        dialog = board.get_by_test_id("wb-agent-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_have_accessible_name("Alice Smith")
        await expect(dialog.get_by_test_id("wb-agent-facts")).to_have_text("Available · 0 / 2 chats")
        await expect(dialog.get_by_test_id("wb-agent-away")).to_be_focused()
        await expect(dialog.get_by_test_id("wb-agent-available")).to_be_hidden()  # she is available
        await check(board, "wallboard, an agent's actions", report, refused)
        await shot(board, tmp_path, "wallboard-agent-actions-1366.png")

        # Set away: the dialog closes, the focus goes back to the row's button, the result is said beside the heading
        await board.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(actions).to_be_focused()
        said = board.get_by_test_id("wb-agents-said")
        await expect(said).to_have_text(
            re.compile(f"^{ISO}Alice Smith{ISO} is away now: no new chat or call comes to them.$")
        )
        await expect(said).to_have_attribute("role", "status")
        await expect(state).to_have_text("Away — by a supervisor")
        note = alice.get_by_test_id("presence-note")
        await expect(note.locator(".long")).to_have_text("Set away: by a supervisor")
        await expect(alice.locator("[data-testid=agent-status]")).to_have_text(re.compile("away", re.I))
        await shot(alice, tmp_path, "desk-set-away-by-a-supervisor-1366.png")
        await shot(board, tmp_path, "wallboard-agent-set-away-1366.png")

        # Set available: offered now that she is away (and Set away is not)
        await board.keyboard.press("Enter")
        await expect(dialog.get_by_test_id("wb-agent-away")).to_be_hidden()
        await expect(dialog.get_by_test_id("wb-agent-available")).to_be_focused()
        await board.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(actions).to_be_focused()
        await expect(said).to_have_text(
            re.compile(f"^{ISO}Alice Smith{ISO} is available now: the next chat or call can go to them.$")
        )
        await expect(state).to_have_text("Available")
        await expect(alice.locator("[data-testid=agent-status]")).to_have_text(re.compile("available", re.I))
        await expect(note).to_be_hidden()

        # a customer's chat comes to her from a real widget
        customer = await customer_ctx.new_page()
        customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await customer.fill("[data-testid=cg-input]", "Hello, my order never came")
        await customer.click("[data-testid=cg-send]")
        item = alice.locator("[data-testid=conversations] .conv-item")
        await expect(item).to_have_count(1)
        cid = await item.first.get_attribute("data-conversation-id")
        assert cid
        await expect(cell(board, "agents", "alice", "conversations")).to_have_text("1 / 2")
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Alice Smith")

        # Sign out…: a confirmation says what happens; the focus on Cancel (the safe choice); Esc back to the choices
        await actions.focus()
        await board.keyboard.press("Enter")
        await dialog.get_by_test_id("wb-agent-signout").focus()
        await board.keyboard.press("Enter")
        confirm = dialog.get_by_test_id("wb-agent-confirm")
        await expect(confirm).to_be_visible()
        await expect(dialog.get_by_test_id("wb-agent-choose")).to_be_hidden()
        await expect(confirm.get_by_test_id("wb-agent-confirm-title")).to_have_text(
            re.compile(f"^Sign {ISO}Alice Smith{ISO} out\\?$")
        )
        await expect(confirm.get_by_test_id("wb-agent-confirm-text")).to_have_text(
            re.compile(
                f"^{ISO}Alice Smith{ISO}’s desk closes and shows the sign-in, and they are set away; "
                "their chat goes back to the queue.$"
            )
        )
        cancel = confirm.get_by_test_id("wb-agent-signout-cancel")
        await expect(cancel).to_be_focused()
        await expect(cancel).to_have_accessible_description(re.compile("their chat goes back to the queue"))
        await board.keyboard.press("Escape")
        await expect(dialog).to_be_visible()
        await expect(confirm).to_be_hidden()
        await expect(dialog.get_by_test_id("wb-agent-signout")).to_be_focused()
        await board.keyboard.press("Enter")
        await expect(cancel).to_be_focused()
        await board.keyboard.press("Shift+Tab")
        go = confirm.get_by_test_id("wb-agent-signout-go")
        await expect(go).to_be_focused()
        await expect(go).to_have_text(re.compile(f"^Sign {ISO}Alice Smith{ISO} out$"))
        await check(board, "wallboard, signing an agent out", report, refused)
        await shot(board, tmp_path, "wallboard-agent-sign-out-confirm-1366.png")

        await board.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(said).to_have_text(
            re.compile(f"^{ISO}Alice Smith{ISO} is signed out and set away: 1 chat went back to the queue.$")
        )
        # alice's desk: the sign-in, with the reason
        await expect(alice.locator("#login-view")).to_be_visible()
        await expect(alice.locator("#login-error")).to_have_text("A supervisor signed you out. Please sign in again.")
        await shot(alice, tmp_path, "desk-signed-out-by-a-supervisor-1366.png")
        # her row leaves the board (no desk of hers is open): the focus on the Agents table, not on <body>
        await expect(board.locator("[data-testid=wb-agents] tr[data-key=alice]")).to_have_count(0)
        await expect(agents_region(board)).to_be_focused()
        # the chat waits in its queue again: the wallboard counts it, and the widget says so (it went on naming alice
        # until another agent took it: the front-end engineer who wrote this test)
        await expect(cell(board, "queues", "default", "waiting_chats")).to_have_text("1")
        await expect(customer.locator("[data-testid=cg-status]")).to_have_text(
            re.compile("You are number 1 in the queue")
        )
        await shot(board, tmp_path, "wallboard-agent-signed-out-1366.png")
        await shot(customer, tmp_path, "widget-agent-signed-out.png")
        events = [e["type"] for e in await node.services.store.events(cid)]
        assert "state" in events[events.index("assigned") :], events  # assigned, then queued again

        # bob opens his desk and takes it
        bob = clients.agent("bob")
        await bob.hello(available=True)
        assert (await bob.assigned())["id"] == cid
        await expect(cell(board, "queues", "default", "waiting_chats")).to_have_text("0")
        await expect(cell(board, "agents", "bob", "conversations")).to_have_text("1 / 2")
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Bob Jones")

        # the large mode (a wall display): no actions, no result line
        await board.click("[data-testid=wb-large]")
        await expect(board.locator("body")).to_have_class(re.compile("wb-large"))
        await expect(cell(board, "agents", "bob", "actions")).to_be_hidden()
        await expect(board.locator("[data-testid=wb-agents] thead th.wb-act-col")).to_be_hidden()
        await check(board, "wallboard, large mode", report, refused)
        await shot(board, tmp_path, "wallboard-agent-actions-large-1366.png")
        await board.click("[data-testid=wb-large]")
        await expect(cell(board, "agents", "bob", "actions").get_by_role("button")).to_be_visible()
        print("\n\n".join(report))
        assert not refused, refused
        assert not errors, errors
    finally:
        for ctx in (customer_ctx, alice_ctx, carol_ctx):
            await ctx.close()


async def test_a_refusal_is_said_in_the_dialog_in_the_gateways_words(
    browser: Browser, node: Node, clients: Clients, tmp_path: Path
) -> None:
    """bob's desk closes while the board still shows him (its frames held back here): Set available is refused (409,
    no desk open) and said in the dialog, which stays open on the button pressed."""
    ctx = await browser.new_context(viewport=LAPTOP)
    errors: list[str] = []
    held: list[str] = []  # the wallboard frames held back while it is not empty (its first item: a marker)
    pages: list[WebSocketRoute] = []

    async def frames(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        pages.append(ws)

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if held and json.loads(text).get("type") == "wallboard":
                held.append(text)
                return
            ws.send(text)

        server.on_message(from_server)

    try:
        bob = clients.agent("bob")
        await bob.hello(available=False)
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.route_web_socket("**/ws/agent", frames)
        await sign_in(page, node, "carol")
        await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Live")
        await expect(cell(page, "agents", "bob", "state")).to_have_text("Away")
        held.append("")
        await bob.close()
        for _ in range(50):  # his desk is closed: the gateway has him offline
            if (await node.services.presence.info("bob"))["status"] == "offline":
                break
            await asyncio.sleep(0.1)
        await cell(page, "agents", "bob", "actions").get_by_role("button").click()
        dialog = page.get_by_test_id("wb-agent-dialog")
        available = dialog.get_by_test_id("wb-agent-available")
        await expect(available).to_be_focused()
        await page.keyboard.press("Enter")
        status = dialog.get_by_test_id("wb-agent-status")
        await expect(status).to_have_text(
            re.compile(
                f"^Could not make {ISO}Bob Jones{ISO} available: Bob Jones has no desk open \\(offline\\): only they can "
                "make themselves available, by opening it.$"
            )
        )
        await expect(status).to_have_attribute("role", "status")
        await expect(dialog).to_be_visible()
        await expect(available).to_be_focused()
        await expect(available).not_to_have_attribute("aria-disabled", "true")
        await shot(page, tmp_path, "wallboard-agent-refused-1366.png")

        # the frames held back come: bob leaves the board, the dialog says so and offers nothing but Close
        def without_bob() -> list[str]:
            return [t for t in held[1:] if all(a["id"] != "bob" for a in json.loads(t)["agents"])]

        for _ in range(100):
            if without_bob():
                break
            await asyncio.sleep(0.1)
        assert without_bob(), "no wallboard frame came without bob after his desk closed"
        pages[-1].send(without_bob()[-1])
        held.clear()
        await expect(dialog.get_by_test_id("wb-agent-facts")).to_have_text(
            re.compile(f"^{ISO}Bob Jones{ISO} is not on the board any more: no desk of theirs is open.$")
        )
        await expect(dialog.get_by_test_id("wb-agent-choose")).to_be_hidden()
        await expect(dialog.get_by_test_id("wb-agent-close")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(agents_region(page)).to_be_focused()
        assert not errors, errors
    finally:
        await ctx.close()
