"""Supervisors and chats from the wallboard, in real Chromium on a 1,366 x 768 laptop: a customer chats in the widget,
alice has the chat at her desk, carol (agent and supervisor) watches it from the wallboard, silently, and sees the
customer's draft and next message live; she writes alice a coaching note the customer never sees, joins the chat and
writes to the customer (who reads "Carol White (supervisor)"), leaves, and takes the chat over: alice's desk says who
took it. Then a chat waiting in a queue: a note for whoever takes it, which counts as unread at alice's desk with
the next one; a refused transfer said in words, and a transfer to a queue. Keyboard only where it matters (the count,
the list, the panel's Esc); axe-core finds nothing serious in the list, the panel and the large mode. Screenshots go
to CG_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.test_accessibility_browser import check
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_wallboard_browser import cell, sign_in
from tests.conftest import Clients
from tests.support.axe import install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

LAPTOP = {"width": 1366, "height": 768}
SHOTS = Path(os.environ["CG_SCREENSHOTS"]) if os.environ.get("CG_SCREENSHOTS") else None
ISOLATED = "[\u2066-\u2069]?"  # a name inside our words may be isolated (FSI ... PDI): a regex allows it


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    for folder in (tmp_path, SHOTS):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(folder / name))


async def customer_says(page: Page, text: str) -> None:
    await page.fill("[data-testid=cg-input]", text)
    await page.click("[data-testid=cg-send]")
    await expect(page.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute("data-status", "sent")


async def open_chat(ctx: BrowserContext, node: Node, first: str, errors: list[str]) -> Page:
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await page.goto(node.url + "/")
    await page.click("[data-testid=cg-launcher]")
    await customer_says(page, first)
    return page


async def wallboard(ctx: BrowserContext, node: Node, errors: list[str]) -> Page:
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"wallboard: {exc}"))
    await sign_in(page, node, "carol")
    await expect(page.locator("[data-testid=wb-conn]")).to_have_text("Live")
    return page


async def test_a_supervisor_watches_a_chat_coaches_joins_and_takes_it_over(
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
        customer = await open_chat(customer_ctx, node, "Hello, my parcel is late", errors)
        item = alice.locator("[data-testid=conversations] .conv-item")
        await expect(item).to_have_count(1)
        await item.first.click()
        desk = alice.locator("[data-testid=timeline]")
        await expect(desk.locator(".tl-item[data-author=customer]")).to_have_text(re.compile("parcel is late"))
        cid = await item.first.get_attribute("data-conversation-id")
        assert cid

        # carol's wallboard: alice's "1 / 2" lists her chats; by keyboard: the count, then Watch
        board = await wallboard(carol_ctx, node, errors)
        count = cell(board, "agents", "alice", "conversations").locator("button")
        await expect(count).to_have_text("1 / 2")
        await count.focus()
        await board.keyboard.press("Enter")
        chats = board.get_by_test_id("wb-chats-list")
        await expect(chats.get_by_test_id("wb-chats-title")).to_have_text("Alice Smith’s chats")
        row = chats.locator(f"[data-testid=wb-chats-row][data-conversation-id='{cid}']")
        await expect(row).to_contain_text("parcel is late")
        await expect(row.get_by_test_id("wb-chats-watch")).to_be_focused()
        await check(board, "wallboard, an agent's chats", report, refused)
        await board.keyboard.press("Enter")

        panel = board.get_by_test_id("wb-watch")
        timeline = panel.get_by_test_id("wb-watch-timeline")
        await expect(panel).to_be_visible()
        await expect(board.get_by_test_id("wb-watch-stop")).to_be_focused()
        await expect(timeline.locator(".tl-item[data-author=customer]")).to_have_text(re.compile("parcel is late"))
        facts = panel.get_by_test_id("wb-watch-facts")
        await expect(facts.locator("[data-fact=Agent]")).to_have_text("Alice Smith")
        await expect(facts.locator("[data-fact=State]")).to_have_text("With an agent")
        await expect(panel.get_by_test_id("wb-watch-status")).to_contain_text("Watching silently")
        await expect(panel.get_by_test_id("wb-watch-note-label")).to_have_text(
            "Note to Alice Smith — the customer does not see it"
        )

        # live: the customer's draft, then the message
        await customer.locator("[data-testid=cg-input]").press_sequentially("Order number 47", delay=20)
        await expect(panel.get_by_test_id("wb-watch-typing")).to_contain_text("Customer is typing: Order number 47")
        await customer.locator("[data-testid=cg-input]").press_sequentially("11", delay=20)
        await customer.click("[data-testid=cg-send]")
        await expect(timeline.locator(".tl-item[data-author=customer]", has_text="Order number 4711")).to_have_count(1)
        await expect(panel.get_by_test_id("wb-watch-typing")).to_be_hidden()

        # a coaching note: alice reads it in her timeline, told apart; the customer never sees it
        await panel.get_by_test_id("wb-watch-note").fill("Offer free shipping on the next order")
        await panel.get_by_test_id("wb-watch-note-send").click()
        await expect(panel.get_by_test_id("wb-watch-note")).to_have_value("")
        coach = desk.locator(".tl-item.tl-coach")
        await expect(coach).to_contain_text("Offer free shipping on the next order")
        await expect(coach.locator(".note-label")).to_contain_text("Coaching from Carol White")
        await expect(timeline.locator(".tl-item.tl-coach")).to_have_count(1)

        # join: the customer and alice see carol; she writes to the customer
        await panel.get_by_test_id("wb-watch-join").click()
        await expect(panel.get_by_test_id("wb-watch-status")).to_contain_text(
            "You are in the chat: the customer and Alice Smith see what you write."
        )
        box = panel.get_by_test_id("wb-watch-message")
        await expect(box).to_be_focused()
        await expect(panel.get_by_test_id("wb-watch-message-hint")).to_have_text(
            "The customer sees what you write, and so does Alice Smith."
        )
        system = customer.locator(".cg-msg[data-author=system]")
        await expect(system.filter(has_text="Carol White (supervisor) joined the chat")).to_have_count(1)
        await expect(desk.locator(".tl-item[data-type=supervisor_joined]")).to_contain_text(
            "Carol White (supervisor) joined the chat"
        )
        await check(board, "wallboard, watching a chat, joined", report, refused)
        await shot(board, tmp_path, "wallboard-watch-joined-1366.png")
        await box.fill("Hello, I am Carol, Alice's team lead: we will make it right.")
        await box.press("Enter")
        said = customer.locator(".cg-msg[data-author=agent]", has_text="Alice's team lead")
        await expect(said).to_have_attribute("data-name", "Carol White (supervisor)")
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Alice Smith")  # still alice's chat
        mine = desk.locator(".tl-item[data-type=message][data-supervisor=true]")
        await expect(mine).to_contain_text("Alice's team lead")
        await expect(mine.locator(".tl-meta")).to_contain_text("Carol White (supervisor)")
        assert "Offer free shipping" not in await customer.locator("[data-testid=cg-panel]").inner_text()
        await shot(alice, tmp_path, "desk-supervisor-in-chat-1366.png")
        await shot(customer, tmp_path, "widget-supervisor-in-chat.png")

        # leave: said to both; the message box goes, the focus on to Join
        await panel.get_by_test_id("wb-watch-leave").click()
        await expect(system.filter(has_text="Carol White (supervisor) left the chat")).to_have_count(1)
        await expect(panel.get_by_test_id("wb-watch-message-form")).to_be_hidden()
        await expect(panel.get_by_test_id("wb-watch-join")).to_be_focused()

        # large mode behind the panel: the panel stays as it is
        await board.evaluate("document.body.classList.add('wb-large')")
        await check(board, "wallboard, watching a chat, large mode", report, refused)
        await shot(board, tmp_path, "wallboard-watch-large-1366.png")
        await board.evaluate("document.body.classList.remove('wb-large')")

        # take over: carol is available at a desk of hers; alice's desk says who took the chat
        carol_desk = clients.agent("carol")
        await carol_desk.hello(available=True)
        await panel.get_by_test_id("wb-watch-takeover").click()
        await expect(facts.locator("[data-fact=Agent]")).to_have_text("Carol White")
        await expect(panel.get_by_test_id("wb-watch-why")).to_contain_text("This chat is yours now")
        await expect(timeline.locator(".tl-item[data-type=assigned]").last).to_contain_text(
            "Carol White (supervisor) took over this chat"
        )
        await expect(alice.locator("#readonly")).to_have_text(
            re.compile(f"^{ISOLATED}Carol White{ISOLATED} \\(supervisor\\) took over this chat. It is read-only here.$")
        )
        await expect(customer.locator("[data-testid=cg-status]")).to_contain_text("Carol White")
        await shot(alice, tmp_path, "desk-taken-over-1366.png")

        # closed (at carol's desk): the panel says so and offers only its closing; Esc closes it, the focus goes back
        await carol_desk.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
        await expect(panel.get_by_test_id("wb-watch-status")).to_have_text("This conversation is closed.")
        await expect(panel.get_by_test_id("wb-watch-stop")).to_have_text("Close")
        for control in ("note-form", "message-form", "join", "leave", "transfer", "takeover"):
            await expect(panel.get_by_test_id(f"wb-watch-{control}")).to_be_hidden()
        await board.keyboard.press("Escape")
        await expect(panel).to_be_hidden()
        await expect(
            board.locator("[data-testid=wb-agents]").locator("xpath=ancestor::*[@role='region']")
        ).to_be_focused()
        print("\n\n".join(report))
        assert not refused, refused
        assert not errors, errors
    finally:
        for ctx in (customer_ctx, alice_ctx, carol_ctx):
            await ctx.close()


async def test_a_waiting_chat_is_coached_for_whoever_takes_it_and_moved_to_a_queue(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    contexts = [await browser.new_context(viewport=LAPTOP) for _ in range(4)]
    first_ctx, second_ctx, alice_ctx, carol_ctx = contexts
    errors: list[str] = []
    try:
        alice = await alice_ctx.new_page()
        alice.on("pageerror", lambda exc: errors.append(f"alice: {exc}"))
        await agent_login(alice, node, "alice")
        await open_chat(first_ctx, node, "First customer here", errors)
        items = alice.locator("[data-testid=conversations] .conv-item")
        await expect(items).to_have_count(1)
        await expect(items.first).to_have_attribute("aria-selected", "true")  # the first one stays on screen
        await alice.click("[data-testid=status-away]")
        await alice.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(alice.locator("[data-testid=agent-status]")).to_have_text("away")

        # a second customer waits: the queue's count lists the waiting chat
        await open_chat(second_ctx, node, "Second customer waiting", errors)
        board = await wallboard(carol_ctx, node, errors)
        waiting = cell(board, "queues", "default", "waiting_chats").locator("button")
        await expect(waiting).to_have_text("1")
        await waiting.click()
        chats = board.get_by_test_id("wb-chats-list")
        await expect(chats.get_by_test_id("wb-chats-title")).to_have_text("Chats waiting in default")
        await chats.get_by_test_id("wb-chats-watch").click()
        panel = board.get_by_test_id("wb-watch")
        facts = panel.get_by_test_id("wb-watch-facts")
        await expect(facts.locator("[data-fact=State]")).to_have_text("Waiting")
        await expect(panel.get_by_test_id("wb-watch-join")).to_be_hidden()
        await expect(panel.get_by_test_id("wb-watch-why")).to_contain_text("join or move it once an agent has it")
        await expect(panel.get_by_test_id("wb-watch-note-label")).to_have_text(
            "Note for whoever takes this chat — the customer does not see it"
        )
        await panel.get_by_test_id("wb-watch-note").fill("VIP customer: be quick")
        await panel.get_by_test_id("wb-watch-note-send").click()
        await expect(panel.get_by_test_id("wb-watch-timeline").locator(".tl-coach")).to_contain_text("VIP customer")
        await shot(board, tmp_path, "wallboard-watch-waiting-1366.png")

        # alice takes it: the panel follows; at her desk the note counts as unread in the chat not on screen, and a
        # coaching note after it counts too
        await alice.click("[data-testid=status-available]")
        await expect(facts.locator("[data-fact=State]")).to_have_text("With an agent")
        await expect(facts.locator("[data-fact=Agent]")).to_have_text("Alice Smith")
        await expect(items).to_have_count(2)
        second = alice.locator("[data-testid=conversations] .conv-item[aria-selected=false]")
        await expect(second).to_have_attribute("data-unread", "2")  # the customer's message and the note
        await panel.get_by_test_id("wb-watch-note").fill("Remember the refund policy")
        await panel.get_by_test_id("wb-watch-note-send").click()
        await expect(second).to_have_attribute("data-unread", "3")
        cid = await second.get_attribute("data-conversation-id")
        await second.click()  # on alice's screen now: she sees who moves it
        await expect(alice.locator("[data-testid=timeline] .tl-coach")).to_have_count(2)

        # a transfer refused is said in words in its form; one to a queue goes through, and alice's desk says who
        await panel.get_by_test_id("wb-watch-transfer").click()
        target = panel.get_by_test_id("wb-watch-transfer-target")
        await expect(target).to_be_focused()
        await target.fill("bob")
        await target.press("Enter")
        await expect(panel.get_by_test_id("wb-watch-transfer-error")).not_to_be_empty()
        await expect(target).to_have_attribute("aria-invalid", "true")
        await shot(board, tmp_path, "wallboard-watch-transfer-refused-1366.png")
        # (alice away first: the only one available, she would get the chat back at once from the queue)
        await alice.click("[data-testid=status-away]")
        await alice.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(alice.locator("[data-testid=agent-status]")).to_have_text("away")
        await panel.locator("#wbw-to-queue").check()
        await target.fill("billing")
        await panel.get_by_test_id("wb-watch-transfer-go").click()
        await expect(facts.locator("[data-fact=State]")).to_have_text("Waiting")
        await expect(facts.locator("[data-fact=Queue]")).to_have_text("billing")
        await expect(panel.get_by_test_id("wb-watch-transfer-form")).to_be_hidden()
        await expect(alice.locator("[data-testid=conversation]")).to_have_attribute("data-conversation-id", cid or "")
        await expect(alice.locator("#readonly")).to_have_text(
            re.compile(
                f"^{ISOLATED}Carol White{ISOLATED} \\(supervisor\\) transferred this chat to queue "
                f"{ISOLATED}billing{ISOLATED}. It is read-only here.$"
            )
        )
        await panel.get_by_test_id("wb-watch-stop").click()
        await expect(panel).to_be_hidden()
        assert not errors, errors
    finally:
        for ctx in contexts:
            await ctx.close()
