"""A refused attachment's line stays in the widget's conversation after a reload (README "Attachments": "a refused
one stays in the timeline saying why"), in its place, in real Chromium against a real node. The gateway stores no
event for a refused file, so the widget keeps the note on this device with its state."""

from __future__ import annotations

import json

from playwright.async_api import Browser, Page, expect

from tests.support import files
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

REFUSED = "fake.png was not sent: the file is not a valid PNG image"

#: The conversation's lines as the customer sees them: (kind, status, text).
LINES = """() => Array.from(document.querySelector('#cg-widget').shadowRoot
  .querySelectorAll('[data-testid=cg-messages] > .cg-msg:not([data-author=system])'))
  .map((el) => [el.dataset.testid === 'cg-upload' ? 'upload' : 'message', el.dataset.status, el.textContent])"""


async def send(page: Page, text: str) -> None:
    await page.get_by_test_id("cg-input").fill(text)
    await page.get_by_test_id("cg-send").click()
    await expect(page.locator(".cg-msg[data-author=customer]", has_text=text)).to_have_attribute("data-status", "sent")


async def test_a_refused_files_line_stays_in_its_place_after_a_reload(browser: Browser, node: Node) -> None:
    """Old code: after a reload the line was gone, and the customer could think the file had arrived."""
    page = await (await browser.new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(node.url + "/")
    await page.get_by_test_id("cg-launcher").click()
    await send(page, "Here is the photo")
    await page.set_input_files(
        "[data-testid=cg-file]", {"name": "fake.png", "mimeType": "image/png", "buffer": files.FAKE_PNG}
    )
    refused = page.locator("[data-testid=cg-upload][data-status=failed]")
    await expect(refused).to_contain_text(REFUSED)
    await send(page, "Did it arrive?")
    before = await page.evaluate(LINES)
    assert [kind for kind, _, _ in before] == ["message", "upload", "message"], before

    for _ in range(2):  # also a reload after a reload (the note was saved again with the state)
        await page.reload()
        await expect(page.get_by_test_id("cg-panel")).to_be_visible()  # it was open
        await expect(page.get_by_test_id("cg-status")).to_contain_text("in the queue")
        await expect(refused).to_have_count(1)
        await expect(refused).to_contain_text(REFUSED)
        assert await page.evaluate(LINES) == before
        # "Not delivered" under it, as before the reload
        after = await refused.evaluate("(el) => getComputedStyle(el, '::after').content")
        assert after == '"Not delivered"', after

    # kept with the widget's state, bounded; the gateway has no event of it
    stored = await page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.startsWith('cg.state:')).map(([, v]) => v)"
    )
    notes = json.loads(stored[0])["refused"]
    assert [n["text"] for n in notes] == [await refused.text_content()]
    cid = await page.evaluate("window.ContactGateway.state().conversation_id")
    assert notes[0]["conversation_id"] == cid
    assert [e for e in await node.services.store.events(cid) if e["type"] == "attachment"] == []
    assert errors == []
