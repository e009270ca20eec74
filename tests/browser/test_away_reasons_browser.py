"""Away reasons at the desk and on the wallboard, in real Chromium: alice's Away button is a menu of the center's
reasons (welcome.away_reasons). By keyboard she opens it (ArrowDown, Enter, Space), moves in it (arrows, End, a first
letter), leaves it (Esc back to the button, Tab on to the next control, a click outside) and picks Lunch: the store has
her away for lunch, her top bar says "Away: Lunch", carol's wallboard "Away — Lunch" beside her; picking Meeting
switches it. An admin changes the list meanwhile (the store, as PUT /api/admin/away-reasons does): the stale Lunch she
picks is refused, her desk reads the list again and reopens the menu with the new reasons and one line of why. A
reason the gateway set keeps its explanation; a center with no list (an older gateway) keeps the plain Away button.
axe-core finds nothing serious with the menu open; screenshots (1280 and 760 px wide, the wallboard's row) go to
CG_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, WebSocketRoute, expect

from gateway.contact.away_reasons import parse_reasons
from gateway.protocol.states import AgentStatus
from tests.browser.test_accessibility_browser import check
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_wallboard_browser import cell
from tests.browser.test_wallboard_chat_watch_browser import SHOTS, shot, wallboard
from tests.support.axe import install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

WIDE = {"width": 1280, "height": 800}
DEFAULT_LABELS = ["Break", "Lunch", "Meeting", "Training", "Other work"]


async def presence(node: Node, agent_id: str, want: tuple[str, str]) -> tuple[str, str]:
    """The agent's (status, away_reason) in the store once it is ``want`` (or what it is after 5 s)."""
    got: tuple[str, str] = ("", "")
    for _ in range(50):
        info = await node.services.presence.info(agent_id)
        got = (info["status"], info["away_reason"])
        if got == want:
            break
        await asyncio.sleep(0.1)
    return got


async def row_shot(row: Locator, tmp_path: Path, name: str) -> None:
    """One element's screenshot (the wallboard's row), beside the test's others."""
    for folder in (tmp_path, SHOTS):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            await row.screenshot(path=str(folder / name))


async def test_an_agent_goes_away_for_a_reason_by_keyboard_and_a_stale_one_is_refused_with_the_new_menu(
    browser: Browser, node: Node, tmp_path: Path
) -> None:
    alice_ctx, carol_ctx = [await browser.new_context(viewport=WIDE) for _ in range(2)]
    await install_axe(alice_ctx)
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

        away = alice.get_by_test_id("status-away")
        pop = alice.get_by_test_id("away-pop")
        items = alice.get_by_test_id("away-menu").get_by_role("menuitemradio")
        pill = alice.locator(".status-pill")
        await expect(away).to_have_attribute("aria-haspopup", "menu")
        await expect(away).to_have_attribute("aria-expanded", "false")
        await expect(pop).to_be_hidden()

        # by keyboard: Tab from Available to Away, ArrowDown opens the menu on its first reason, in the center's order
        await alice.get_by_test_id("status-available").focus()
        await alice.keyboard.press("Tab")
        await expect(away).to_be_focused()
        await alice.keyboard.press("ArrowDown")
        await expect(pop).to_be_visible()
        await expect(away).to_have_attribute("aria-expanded", "true")
        await expect(items).to_have_text(DEFAULT_LABELS)
        await expect(items.nth(0)).to_be_focused()
        await expect(alice.get_by_role("menu", name="Why you are away")).to_be_visible()
        await alice.keyboard.press("ArrowUp")  # around the top to the last
        await expect(items.nth(4)).to_be_focused()
        await alice.keyboard.press("Home")
        await alice.keyboard.press("ArrowDown")
        await expect(items.nth(1)).to_be_focused()
        await expect(items.nth(1)).to_have_text("Lunch")
        await check(alice, "desk, the Away menu open", report, refused)
        await shot(alice, tmp_path, "away-menu-open-1280.png")

        # Enter picks Lunch: the menu closes, the focus is back on Away, the store, the bar and the wallboard say so
        await alice.keyboard.press("Enter")
        await expect(pop).to_be_hidden()
        await expect(away).to_be_focused()
        await expect(away).to_have_attribute("aria-expanded", "false")
        assert await presence(node, "alice", ("away", "lunch")) == ("away", "lunch")
        await expect(pill).to_have_text("Away: Lunch", use_inner_text=True)
        await expect(alice.locator("[data-testid=agent-status]")).to_have_text("away")
        await expect(away).to_have_attribute("aria-pressed", "true")
        await expect(alice.get_by_test_id("presence-note")).to_be_hidden()  # her own choice needs no explaining
        await expect(state).to_have_text("Away — Lunch")
        await row_shot(
            board.locator("[data-testid=wb-agents] tr[data-key='alice']"), tmp_path, "wallboard-row-lunch.png"
        )
        await shot(board, tmp_path, "wallboard-away-lunch-1280.png")

        # Enter opens it again on her reason, checked; Esc closes it and gives the focus back
        await alice.keyboard.press("Enter")
        await expect(pop).to_be_visible()
        await expect(items.nth(1)).to_be_focused()
        await expect(items.nth(1)).to_have_attribute("aria-checked", "true")
        await expect(items.nth(0)).to_have_attribute("aria-checked", "false")
        await alice.keyboard.press("Escape")
        await expect(pop).to_be_hidden()
        await expect(away).to_be_focused()
        assert await presence(node, "alice", ("away", "lunch")) == ("away", "lunch")  # Esc chose nothing

        # Space opens it; End, then a first letter ("m", around the end): Meeting; picking it switches her reason
        await alice.keyboard.press("Space")
        await expect(pop).to_be_visible()
        await alice.keyboard.press("End")
        await expect(items.nth(4)).to_be_focused()
        await alice.keyboard.press("m")
        await expect(items.nth(2)).to_be_focused()
        await alice.keyboard.press("Space")
        await expect(pop).to_be_hidden()
        await expect(away).to_be_focused()
        assert await presence(node, "alice", ("away", "meeting")) == ("away", "meeting")
        await expect(pill).to_have_text("Away: Meeting", use_inner_text=True)
        await expect(state).to_have_text("Away — Meeting")

        # Tab leaves the menu for the next control of the bar; a click outside closes it, the focus where clicked
        await alice.keyboard.press("ArrowDown")
        await expect(pop).to_be_visible()
        await alice.keyboard.press("Tab")
        await expect(pop).to_be_hidden()
        await expect(alice.get_by_test_id("notify-menu")).to_be_focused()
        await away.click()
        await expect(pop).to_be_visible()
        await expect(items.nth(2)).to_be_focused()
        await alice.locator("#placeholder").click()
        await expect(pop).to_be_hidden()
        await expect(away).to_have_attribute("aria-expanded", "false")

        # 760 px wide: the bar keeps the button, the reason and the menu on the page
        await alice.set_viewport_size({"width": 760, "height": 800})
        await away.focus()
        await alice.keyboard.press("ArrowDown")
        await expect(pop).to_be_visible()
        box = await pop.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 760, box
        for each in range(5):
            item_box = await items.nth(each).bounding_box()
            assert item_box is not None and item_box["x"] + item_box["width"] <= box["x"] + box["width"] + 1, item_box
        await expect(pill).to_have_text("Away: Meeting", use_inner_text=True)
        await expect(pill).to_be_in_viewport(ratio=1)
        await expect(away).to_be_in_viewport(ratio=1)
        await shot(alice, tmp_path, "away-menu-open-760.png")
        await alice.keyboard.press("Escape")
        await alice.set_viewport_size(WIDE)

        # a list her desk was not told of (written behind the gateway's back, as a save whose news was lost): she picks
        # Lunch, the gateway refuses, the menu is the new list with one line of why, and nothing changed
        new = {"reasons": [{"code": "break", "label": "Short break"}, {"code": "coaching", "label": "Coaching"}]}
        keys = node.services.store.keys
        await node.services.store.redis.hset(keys.center_settings, "away_reasons", json.dumps(new["reasons"]))
        await node.services.store.redis.hset(keys.center_versions, "away_reasons", 1)
        await away.focus()
        await alice.keyboard.press("Enter")
        await expect(items).to_have_text(DEFAULT_LABELS)  # still the list of her welcome
        await expect(items.nth(2)).to_be_focused()  # Meeting, her reason
        await alice.keyboard.press("ArrowUp")
        await expect(items.nth(1)).to_have_text("Lunch")
        await alice.keyboard.press("Enter")
        note = alice.get_by_test_id("away-note")
        await expect(note).to_have_text("Lunch is no longer a reason here: choose another")
        await expect(note).to_have_attribute("role", "status")
        await expect(pop).to_be_visible()
        await expect(items).to_have_text(["Short break", "Coaching"])
        await expect(items.nth(0)).to_be_focused()
        await expect(away).to_have_attribute("aria-expanded", "true")
        assert await presence(node, "alice", ("away", "meeting")) == ("away", "meeting")
        await expect(pill).to_have_text("Away: Meeting", use_inner_text=True)  # the label she knew it by
        await check(alice, "desk, a reason refused", report, refused)
        await shot(alice, tmp_path, "away-menu-refused-1280.png")

        # she picks a reason of the new list from the menu reopened for her
        await alice.keyboard.press("ArrowDown")
        await alice.keyboard.press("Enter")
        await expect(pop).to_be_hidden()
        assert await presence(node, "alice", ("away", "coaching")) == ("away", "coaching")
        await expect(pill).to_have_text("Away: Coaching", use_inner_text=True)
        await away.focus()
        await alice.keyboard.press("Enter")
        await expect(note).to_have_text("")  # said once: not again on the next opening
        await alice.keyboard.press("Escape")
        # carol's board knows the list of its welcome: a code it never saw reads as the code
        await expect(state).to_have_text("Away — coaching")
        # an admin saves the list: every open desk and board is told at once (no reload), the new labels shown
        saved = {"reasons": [{"code": "coaching", "label": "Coaching session"}, {"code": "lunch", "label": "Lunch"}]}
        await node.services.away_reasons.put(parse_reasons({**saved, "version": 1}))
        await expect(cell(board, "agents", "alice", "state")).to_have_text("Away — Coaching session")
        await expect(pill).to_have_text("Away: Coaching session", use_inner_text=True)
        await away.focus()
        await alice.keyboard.press("Enter")
        await expect(items).to_have_text(["Coaching session", "Lunch"])
        await alice.keyboard.press("Escape")

        # a reason the gateway set keeps its explanation, not "Away: ..."; no reason of the list is checked
        await node.services.presence.set_status("alice", AgentStatus.AWAY, "set_by_supervisor", tell=True)
        await expect(alice.get_by_test_id("presence-note").locator(".long")).to_have_text("Set away: by a supervisor")
        await expect(pill).to_have_text("Away", use_inner_text=True)
        await expect(alice.get_by_test_id("away-why")).to_be_hidden()
        await expect(cell(board, "agents", "alice", "state")).to_have_text("Away — by a supervisor")
        await away.focus()
        await alice.keyboard.press("Enter")
        await expect(alice.locator("[data-testid=away-menu] [aria-checked=true]")).to_have_count(0)
        await alice.keyboard.press("Escape")

        # Available beside it closes an open menu too (a click outside it), and makes her available
        await away.click()
        await expect(pop).to_be_visible()
        await alice.get_by_test_id("status-available").click()
        await expect(pop).to_be_hidden()
        assert await presence(node, "alice", ("available", "")) == ("available", "")
        await expect(pill).to_have_text("Available", use_inner_text=True)
        await expect(state).to_have_text("Available")
        print("\n".join(report))
        assert refused == []
        assert errors == []
    finally:
        await alice_ctx.close()
        await carol_ctx.close()


async def test_a_center_without_reasons_keeps_the_plain_away_button(browser: Browser, node: Node) -> None:
    """A welcome with no away_reasons (an older gateway; here the frame is changed on its way): Away is a plain
    button again, no menu, and sends away with no reason."""
    ctx = await browser.new_context(viewport=WIDE)
    errors: list[str] = []
    sent: list[dict[str, Any]] = []

    async def without_reasons(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message if isinstance(message, str) else message.decode())
            if frame.get("type") == "welcome":
                frame["away_reasons"] = []
            ws.send(json.dumps(frame))

        def from_page(message: str | bytes) -> None:
            sent.append(json.loads(message if isinstance(message, str) else message.decode()))
            server.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)

    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.route_web_socket("**/ws/agent", without_reasons)
        await agent_login(page, node, "alice")
        away = page.get_by_test_id("status-away")
        await expect(away).not_to_have_attribute("aria-haspopup", "menu")
        await expect(away).not_to_have_attribute("aria-expanded", "false")
        await away.focus()
        await page.keyboard.press("Enter")
        assert await presence(node, "alice", ("away", "")) == ("away", "")
        await expect(page.locator("[data-testid=agent-status]")).to_have_text("away")
        await expect(page.get_by_test_id("away-pop")).to_be_hidden()
        await expect(page.locator(".status-pill")).to_have_text("Away", use_inner_text=True)
        assert [f for f in sent if f.get("type") == "status"][-1] == {"type": "status", "status": "away"}
        assert errors == []
    finally:
        await ctx.close()
