"""An agent asks a supervisor for help, in real Chromium on a 1,366 x 768 laptop: a customer chats from the widget on a
real page; alice, at her desk, asks for help with the chat from its header (by keyboard, a few words of why); carol's
wallboard lists the request at its top (who, the queue, for how long, why), also in the large mode without buttons;
carol watches the chat from there (the panel says what alice asked) and answers "I'm on it": alice's desk says
"Carol White is on it" and its control is back to "Ask for help". Alice asks again, carol answers from the board's
row; alice asks a third time and cancels it herself. The customer's widget gets none of it (not one frame). The
header keeps everything in view down to 760 px with a request open; the control goes with the chat's close. axe-core
finds nothing serious in the dialog, the board and the panel. Screenshots go to CG_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.async_api import Browser, Page, WebSocket, expect

from tests.browser.test_accessibility_browser import check
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_wallboard_browser import sign_in
from tests.browser.test_wallboard_chat_watch_browser import shot
from tests.support.axe import install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.layout import cut_off
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

LAPTOP = {"width": 1366, "height": 768}
WHY = "angry about a refund"


async def ask(alice: Page, text: str) -> None:
    """Ask for help from the header by keyboard: the control, its dialog's box, Enter."""
    control = alice.get_by_test_id("ask-help")
    await expect(control).to_have_text("Ask for help")
    await control.focus()
    await alice.keyboard.press("Enter")
    dialog = alice.get_by_test_id("help-ask")
    await expect(dialog).to_be_visible()
    await expect(alice.get_by_test_id("help-ask-text")).to_be_focused()
    if text:
        await alice.keyboard.type(text)
    await alice.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(control).to_have_text("Help requested · Cancel")
    await expect(control).to_be_focused()  # back on the control, which says what is open now


async def test_an_agent_asks_for_help_a_supervisor_watches_and_answers_and_the_customer_never_knows(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    customer_ctx, alice_ctx, carol_ctx = [await browser.new_context(viewport=LAPTOP) for _ in range(3)]
    for ctx in (alice_ctx, carol_ctx):
        await install_axe(ctx)
    errors: list[str] = []
    report: list[str] = []
    refused: list[str] = []
    seen_by_customer: list[str] = []
    try:
        # the customer, on the site's page; every frame their widget receives is kept
        customer = await customer_ctx.new_page()
        customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))

        def frames(ws: WebSocket) -> None:
            ws.on("framereceived", lambda payload: seen_by_customer.append(str(payload)))

        customer.on("websocket", frames)
        alice = await alice_ctx.new_page()
        alice.on("pageerror", lambda exc: errors.append(f"alice: {exc}"))
        await agent_login(alice, node, "alice")
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await customer.fill("[data-testid=cg-input]", "I want my money back for order 4711")
        await customer.click("[data-testid=cg-send]")
        item = alice.locator("[data-testid=conversations] .conv-item")
        await expect(item).to_have_count(1)
        await item.first.click()
        desk = alice.get_by_test_id("timeline")
        await expect(desk.locator(".tl-item[data-author=customer]")).to_contain_text("money back")
        cid = await item.first.get_attribute("data-conversation-id")
        assert cid

        # alice asks, by keyboard, with a few words of why; the dialog first, checked
        control = alice.get_by_test_id("ask-help")
        await expect(control).to_have_attribute("aria-haspopup", "dialog")
        await control.focus()
        await alice.keyboard.press("Enter")
        await expect(alice.get_by_test_id("help-ask")).to_be_visible()
        await expect(alice.locator("#help-ask-text")).to_have_attribute("maxlength", "200")
        await check(alice, "desk, asking for help", report, refused)
        await shot(alice, tmp_path, "desk-help-ask-1366.png")
        await alice.keyboard.press("Escape")  # closed without asking: nothing sent, back on the control
        await expect(alice.get_by_test_id("help-ask")).to_be_hidden()
        await expect(control).to_be_focused()
        await ask(alice, WHY)
        await expect(control).to_have_attribute("data-open", "true")
        await expect(desk.locator(".tl-item[data-type=help_requested]")).to_have_text(
            re.compile(f"^You asked for help: {WHY} · ")
        )
        await shot(alice, tmp_path, "desk-help-requested-1366.png")

        # carol's wallboard lists it at the top: alice, the queue, how long, why
        board = await carol_ctx.new_page()
        board.on("pageerror", lambda exc: errors.append(f"wallboard: {exc}"))
        await sign_in(board, node, "carol")
        await expect(board.get_by_test_id("wb-conn")).to_have_text("Live")
        card = board.get_by_test_id("wb-help")
        await expect(card).to_be_visible()
        row = card.locator(f"[data-testid=wb-help-row][data-conversation-id='{cid}']")
        await expect(row.locator("[data-col=agent]")).to_have_text("Alice Smith")
        await expect(row.locator("[data-col=queue]")).to_have_text("default")
        await expect(row.locator("[data-col=why]")).to_have_text(WHY)
        await expect(row.locator("[data-col=waiting]")).to_have_text(re.compile(r"^0:\d\d$"))
        await expect(board.locator("#wb-help-title")).to_have_text("Help requests (1)")
        await expect(board.get_by_test_id("wb-help-news")).to_contain_text("waiting for help")
        await expect(row.get_by_test_id("wb-help-watch")).to_have_attribute("aria-label", re.compile("^Watch .*chat$"))
        sizes = await board.evaluate(
            """() => { const box = document.querySelector('[data-testid=wb-help-table]').closest('[role=region]');
                       return { scroll: box.scrollWidth, client: box.clientWidth,
                                page: document.documentElement.scrollWidth, viewport: innerWidth }; }"""
        )
        assert sizes["scroll"] <= sizes["client"] and sizes["page"] <= sizes["viewport"], sizes
        await check(board, "wallboard, a help request", report, refused)
        await shot(board, tmp_path, "wallboard-help-1366.png")

        # the large mode: the list without buttons
        await board.get_by_test_id("wb-large").click()
        await expect(row.locator("[data-col=why]")).to_have_text(WHY)
        await expect(row.get_by_test_id("wb-help-watch")).to_be_hidden()
        await expect(row.get_by_test_id("wb-help-answer")).to_be_hidden()
        await check(board, "wallboard, a help request, large mode", report, refused)
        await shot(board, tmp_path, "wallboard-help-large-1366.png")
        await board.get_by_test_id("wb-large").click()

        # Watch: the panel opens on that chat and says what alice asked; its timeline has the line too
        await row.get_by_test_id("wb-help-watch").click()
        panel = board.get_by_test_id("wb-watch")
        await expect(panel).to_be_visible()
        await expect(panel).to_have_attribute("data-conversation-id", cid)
        timeline = panel.get_by_test_id("wb-watch-timeline")
        await expect(timeline.locator(".tl-item[data-author=customer]")).to_contain_text("money back")
        await expect(panel.get_by_test_id("wb-watch-help-text")).to_have_text(f"Alice Smith asked for help: {WHY}")
        await expect(timeline.locator(".tl-item[data-type=help_requested]")).to_contain_text(
            f"Alice Smith asked for help: {WHY}"
        )
        await check(board, "wallboard, watching a chat with a help request", report, refused)
        await shot(board, tmp_path, "wallboard-help-watch-1366.png")

        # I'm on it (in the panel): alice's desk says who, the timeline too; her control is back
        await panel.get_by_test_id("wb-watch-help-answer").click()
        await expect(alice.locator("#toast")).to_have_text("Carol White is on it")
        await expect(desk.locator(".tl-item[data-type=help_ended]")).to_have_text(
            re.compile("^Carol White answered your help request · ")
        )
        await expect(control).to_have_text("Ask for help")
        await expect(control).to_have_attribute("data-open", "false")
        await shot(alice, tmp_path, "desk-help-answered-1366.png")
        await expect(panel.get_by_test_id("wb-watch-help")).to_be_hidden()
        await expect(timeline.locator(".tl-item[data-type=help_ended]")).to_contain_text(
            "You answered Alice Smith’s help request"
        )
        await expect(card).to_be_hidden()  # (behind the panel) the board has no request left
        await board.keyboard.press("Escape")
        await expect(panel).to_be_hidden()
        # the Watch button went with its row, the card with it: the focus is on the board's first table, not <body>
        assert await board.evaluate("document.activeElement.getAttribute('role')") == "region"

        # again, without words: carol answers from the board's row
        await ask(alice, "")
        await expect(row.locator("[data-col=why]")).to_have_text("No reason given")
        await row.get_by_test_id("wb-help-answer").click()
        await expect(card).to_be_hidden()
        await expect(board.get_by_test_id("wb-help-said")).to_contain_text("is told you are on it")
        await expect(alice.locator("#toast")).to_have_text("Carol White is on it")
        await expect(desk.locator(".tl-item[data-type=help_ended]")).to_have_count(2)
        await expect(control).to_have_text("Ask for help")

        # a third time, cancelled by alice herself; the board lets it go
        await ask(alice, "second opinion on a voucher")
        await expect(row.locator("[data-col=why]")).to_have_text("second opinion on a voucher")
        # the header keeps everything in view, down to the desk's narrow layout
        problems: list[str] = []
        for width in (1024, 900, 760):
            await alice.set_viewport_size({"width": width, "height": 768})
            await shot(alice, tmp_path, f"desk-help-requested-{width}.png")
            problems += [f"{width} px: {p}" for p in await cut_off(alice)]
        assert problems == []
        await alice.set_viewport_size(LAPTOP)
        await control.click()
        await expect(desk.locator(".tl-item[data-type=help_ended]").last).to_have_text(
            re.compile("^Help request cancelled · ")
        )
        await expect(control).to_have_text("Ask for help")
        await expect(card).to_be_hidden()
        await expect(desk.locator(".tl-item[data-type=help_requested]")).to_have_count(3)
        # the control sits on the state's line: the header has the rows it had without it, at every width
        for width in (1366, 1280, 1024, 900, 760):
            await alice.set_viewport_size({"width": width, "height": 768})
            rows = await alice.evaluate(
                """() => { const head = document.getElementById('conv-head'), control = document.getElementById('ask-help');
                           const with_ = head.getBoundingClientRect().height;
                           control.style.display = 'none';
                           const without = head.getBoundingClientRect().height;
                           control.style.display = '';
                           return { with_, without }; }"""
            )
            assert rows["with_"] - rows["without"] <= 6, (width, rows)
        await alice.set_viewport_size(LAPTOP)

        # closed: no control in a read-only conversation
        await alice.get_by_test_id("close").click()
        await expect(alice.locator("#readonly")).to_be_visible()
        await expect(control).to_be_hidden()

        # the customer saw none of it, not even a frame
        # (the close reached the widget: every frame before it did too)
        await expect(customer.locator(".cg-msg[data-author=system]", has_text="closed")).to_have_count(1)
        widget = await customer.get_by_test_id("cg-panel").inner_text()
        for words in ("help", WHY, "Carol", "voucher"):
            assert words not in widget, (words, widget)
        events = [json.loads(f).get("event", {}).get("type", "") for f in seen_by_customer if f.startswith("{")]
        assert events and not [e for e in events if e.startswith("help")], events
        assert not [f for f in seen_by_customer if "help_" in f or WHY in f or "voucher" in f]
        print("\n\n".join(report))
        assert not refused, refused
        assert not errors, errors
    finally:
        for ctx in (customer_ctx, alice_ctx, carol_ctx):
            await ctx.close()
