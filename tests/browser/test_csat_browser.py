"""Issue 14 for customers, in real Chromium: the rating after a close reaches the agent's desk, the transcript
downloads with the messages, links in messages are links only for http(s), and the emoji picker inserts at the
caret."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_browser import chatting
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def _chat(browser: Browser, node: Node, first: str) -> tuple[Page, Page]:
    """alice at her desk with the customer's conversation selected, the customer's widget open after ``first``."""
    agent_ctx, customer_ctx = await browser.new_context(), await browser.new_context(accept_downloads=True)
    for ctx in (agent_ctx, customer_ctx):
        await install_axe(ctx)
    agent, customer, errors = await chatting(agent_ctx, customer_ctx, node, first)
    agent.errors = errors  # type: ignore[attr-defined]
    return agent, customer


async def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical axe-core violation (tests/support/axe.py) in the page as it is now."""
    found = await axe_violations(page)
    assert blocking(found) == [], f"{where}:\n{describe(found)}"


async def test_a_customer_rates_after_the_agent_closes_and_the_desk_shows_it(browser: Browser, node: Node) -> None:
    agent, customer = await _chat(browser, node, "Where is my parcel?")
    await expect(customer.locator("[data-testid=cg-rating]")).to_have_count(0)  # not while it is open
    await agent.select_option("[data-testid=disposition]", "resolved")
    await agent.click("[data-testid=close]")

    card = customer.locator("[data-testid=cg-rating]")
    await expect(card).to_be_visible()
    # the message box's placeholder after the close fits on its one line (it was cut: "Send a message to start a")
    fits = await customer.evaluate(
        """() => {
            const box = document.querySelector('#cg-widget').shadowRoot.querySelector('[data-testid=cg-input]');
            const style = getComputedStyle(box);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return [ctx.measureText(box.placeholder).width <= room, box.placeholder, room];
        }"""
    )
    assert fits[0], fits
    await expect(card.get_by_role("radiogroup")).to_have_accessible_name("How was your conversation?")
    send = card.locator("[data-testid=cg-rating-send]")
    await expect(send).to_be_disabled()
    await assert_accessible(customer, "widget asking for a rating")
    # keyboard: focus the first score and move with the arrow keys (a native radio group)
    await card.locator("[data-testid=cg-rating-1]").focus()
    await customer.keyboard.press("Space")
    for _ in range(3):
        await customer.keyboard.press("ArrowRight")
    await expect(card.locator("[data-testid=cg-rating-4]")).to_be_checked()
    await expect(card.get_by_role("radio", name="4 Good")).to_be_checked()
    await card.locator("[data-testid=cg-rating-comment]").fill("Fast and friendly — merci 😊")
    await send.click()

    await expect(card).to_have_count(0)
    await expect(
        customer.locator(".cg-msg[data-author=system]", has_text="You rated this conversation 4 out of 5")
    ).to_be_visible()
    # the agent's desk: a timeline line and the context panel
    line = agent.locator("[data-testid=timeline] .tl-item[data-type=rating]")
    await expect(line).to_contain_text("Customer rated the conversation 4/5: “Fast and friendly — merci 😊”")
    context = agent.locator("[data-testid=context]")
    await expect(context.locator("dt[data-key=Rating] + dd")).to_have_text(re.compile(r"^4/5 ★★★★☆$"))
    await expect(context.locator("dt[data-key=Comment] + dd")).to_have_text("Fast and friendly — merci 😊")
    await assert_accessible(agent, "desk showing a rating")

    cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
    stored = await node.services.store.conversation(cid)
    assert stored is not None and (stored["rating"], stored["rating_comment"]) == ("4", "Fast and friendly — merci 😊")

    # after a reload the widget does not ask again
    await customer.reload()
    if not await customer.locator("[data-testid=cg-panel]").is_visible():
        await customer.click("[data-testid=cg-launcher]")
    await expect(customer.locator(".cg-msg[data-author=system]", has_text="You rated")).to_have_count(1)
    await expect(customer.locator("[data-testid=cg-rating]")).to_have_count(0)
    assert agent.errors == []  # type: ignore[attr-defined]


async def test_the_rating_question_can_be_dismissed_for_good(browser: Browser, node: Node) -> None:
    agent, customer = await _chat(browser, node, "Just a question")
    await agent.click("[data-testid=close]")
    card = customer.locator("[data-testid=cg-rating]")
    await expect(card).to_be_visible()
    await card.locator("[data-testid=cg-rating-dismiss]").click()
    await expect(card).to_have_count(0)
    await expect(customer.locator("[data-testid=cg-input]")).to_be_focused()
    await customer.reload()
    if not await customer.locator("[data-testid=cg-panel]").is_visible():
        await customer.click("[data-testid=cg-launcher]")
    await expect(customer.locator(".cg-msg[data-author=system]", has_text="closed")).to_have_count(1)
    await expect(card).to_have_count(0)
    cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
    stored = await node.services.store.conversation(cid)
    assert stored is not None and "rating" not in stored


async def test_the_transcript_link_waits_for_something_to_download(browser: Browser, node: Node) -> None:
    """An empty chat offers no transcript (a user test found "Download transcript" on a chat with nothing in it)."""
    ctx = await browser.new_context()
    try:
        customer = await ctx.new_page()
        await customer.goto(node.url + "/")
        await customer.click("[data-testid=cg-launcher]")
        await expect(customer.locator("[data-testid=cg-input]")).to_be_visible()
        link = customer.locator("[data-testid=cg-transcript]")
        await expect(link).to_be_hidden()
        await customer.fill("[data-testid=cg-input]", "Hello?")
        await customer.click("[data-testid=cg-send]")
        await expect(customer.locator(".cg-msg[data-author=customer]")).to_have_attribute("data-status", "sent")
        await expect(link).to_be_visible()
    finally:
        await ctx.close()


async def test_the_transcript_downloads_with_the_messages(browser: Browser, node: Node, tmp_path: Path) -> None:
    agent, customer = await _chat(browser, node, "Do you ship to Åland? 🚚")
    await agent.fill("[data-testid=composer]", "Yes, in 3-5 days.\nTracking: https://shop.test/t/42")
    await agent.click("[data-testid=send]")
    await expect(customer.locator(".cg-msg[data-author=agent]", has_text="3-5 days")).to_have_count(1)

    async with customer.expect_download() as info:
        await customer.click("[data-testid=cg-transcript]")
    download = await info.value
    assert re.fullmatch(r"transcript-127\.0\.0\.1-\d{4}-\d\d-\d\d\.txt", download.suggested_filename)
    path = tmp_path / "t.txt"
    await download.save_as(path)
    text = path.read_bytes().decode("utf-8")  # UTF-8, or this raises
    lines = text.splitlines()
    assert lines[0] == "Conversation with 127.0.0.1"
    said = [line.split("] ", 1)[1] for line in lines if re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d\] ", line)]
    assert said == [
        "--- New conversation ---",
        "You: Do you ship to Åland? 🚚",
        "(Alice Smith joined)",
        "Alice Smith: Yes, in 3-5 days.",
    ]
    assert "    Tracking: https://shop.test/t/42" in lines


async def test_links_in_messages_are_clickable_only_for_http(browser: Browser, node: Node) -> None:
    hostile = "javascript:alert(document.domain) data:text/html,<b>x</b> <img src=x onerror=alert(1)>"
    agent, customer = await _chat(browser, node, f"See https://example.test/order?id=7. Also {hostile}")
    dialogs: list[str] = []
    for page in (agent, customer):
        page.on("dialog", lambda d: dialogs.append(d.message))

    await agent.fill("[data-testid=composer]", "Track it at http://tracking.test/42 (or javascript:void(0))")
    await agent.click("[data-testid=send]")

    for bubble in (
        customer.locator(".cg-msg[data-author=customer]").first,
        agent.locator("[data-testid=timeline] .tl-item[data-author=customer] .tl-bubble"),
    ):
        link = bubble.locator("a")
        await expect(link).to_have_count(1)
        await expect(link).to_have_attribute("href", "https://example.test/order?id=7")
        await expect(link).to_have_attribute("target", "_blank")
        await expect(link).to_have_attribute("rel", "noopener noreferrer")
        await expect(link).to_have_text("https://example.test/order?id=7")  # the full stop stays text
        await expect(bubble).to_contain_text(hostile)  # shown as text, not markup
        await expect(bubble.locator("img, b")).to_have_count(0)

    for bubble in (
        customer.locator(".cg-msg[data-author=agent]"),
        agent.locator("[data-testid=timeline] .tl-item[data-author=agent] .tl-bubble"),
    ):
        await expect(bubble.locator("a")).to_have_count(1)
        await expect(bubble.locator("a")).to_have_attribute("href", "http://tracking.test/42")

    # clicking the link opens a new tab (to an address that does not resolve; the tab is all we need)
    async with customer.context.expect_page() as popup_info:
        await customer.locator(".cg-msg[data-author=customer] a").click()
    popup = await popup_info.value
    assert await popup.evaluate("window.opener") is None  # noopener: no handle on the widget's page
    await popup.close()
    # the javascript: text is no link: clicking it does nothing
    await customer.locator(".cg-msg[data-author=agent]").click(position={"x": 5, "y": 5})
    assert dialogs == []
    assert await customer.evaluate("location.pathname") == "/"


async def test_the_emoji_picker_inserts_at_the_caret_by_keyboard(browser: Browser, node: Node) -> None:
    agent, customer = await _chat(browser, node, "hello")
    # the widget: type, move the caret, open the picker, arrows + Enter
    field = customer.locator("[data-testid=cg-input]")
    await field.fill("Thanks!")
    await field.press("ArrowLeft")  # caret before "!"
    toggle = customer.locator("[data-testid=cg-emoji]")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    pop = customer.locator("[data-testid=cg-emoji-pop]")
    await expect(pop.get_by_role("button", name="grinning face")).to_be_focused()
    await assert_accessible(customer, "widget, emoji picker open")
    await customer.keyboard.press("ArrowDown")  # second row, first column
    for _ in range(4):
        await customer.keyboard.press("ArrowRight")  # ... fifth column: thumbs up
    await expect(pop.get_by_role("button", name="thumbs up")).to_be_focused()
    await customer.keyboard.press("Enter")
    await expect(pop).to_be_hidden()
    await expect(field).to_have_value("Thanks👍!")
    await expect(field).to_be_focused()
    # Escape closes the picker only, not the chat panel
    await toggle.click()
    await customer.keyboard.press("Escape")
    await expect(pop).to_be_hidden()
    await expect(customer.locator("[data-testid=cg-panel]")).to_be_visible()
    await expect(toggle).to_be_focused()
    await customer.keyboard.press("Enter")  # opens it again from the button
    await customer.keyboard.press("Escape")
    await field.press("Enter")
    await expect(
        agent.locator("[data-testid=timeline] .tl-item[data-author=customer]", has_text="Thanks👍!")
    ).to_have_count(1)

    # the desk
    composer = agent.locator("[data-testid=composer]")
    await composer.fill("Glad to help")
    await agent.click("[data-testid=desk-emoji]")
    await expect(agent.locator("[data-testid=desk-emoji-pop]")).to_be_visible()
    await assert_accessible(agent, "desk, emoji picker open")
    await agent.locator("[data-testid=desk-emoji-pop]").get_by_role("button", name="party").click()
    await expect(composer).to_have_value("Glad to help🎉")
    await agent.click("[data-testid=send]")
    await expect(customer.locator(".cg-msg[data-author=agent]", has_text="Glad to help🎉")).to_have_count(1)
