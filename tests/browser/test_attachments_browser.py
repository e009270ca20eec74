"""Attachments in real Chromium (README "Attachments"): the customer sends an image and a PDF from the widget's
paperclip and sees each upload end in a thumbnail or a file chip; the agent's desk shows the thumbnail and downloads
the PDF byte for byte; the agent's image reaches the widget; a thumbnail opens the full image; a file that lies
about its type is refused with a message saying so, in both apps; the desk takes a dropped or pasted file; axe-core
finds nothing serious in either timeline. Set CG_SCREENSHOT_DIR to keep screenshots of both apps (1280 px, and the
widget at 360 px)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.test_chat_browser import agent_login
from tests.support import files
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

PHOTO = files.image("jpeg", 800, 600)
PDF = files.pdf("Invoice 4271")
SCREEN = files.image("png", 640, 400)

#: Every text the widget's or the desk's upload lines showed, in order (a MutationObserver in each page).
WATCH_UPLOADS = """
() => {
  window.__uploadTexts = [];
  const seen = (node) => {
    if (!(node instanceof Element)) return;
    const el = node.closest('[data-testid=cg-upload], [data-testid=upload]');
    if (el) window.__uploadTexts.push(`${el.dataset.status}: ${el.textContent}`);
  };
  const watch = (root) => new MutationObserver((records) => {
    for (const r of records) {
      seen(r.target instanceof Element ? r.target : r.target.parentElement);
      r.addedNodes.forEach(seen);
    }
  }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
  watch(document);
  document.querySelectorAll('*').forEach((el) => { if (el.shadowRoot) watch(el.shadowRoot); });
}
"""


def payload(name: str, mime: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


async def shoot(page: Page, name: str) -> None:
    if where := os.environ.get("CG_SCREENSHOT_DIR"):
        Path(where).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(where) / f"attach-{name}.png"))


async def assert_accessible(page: Page, where: str) -> None:
    found = await axe_violations(page)
    print(f"{where}:\n{describe(found)}")
    assert blocking(found) == [], f"{where}:\n{describe(found)}"


async def loaded(img: Locator) -> int:
    """The image's natural width once it has loaded from a blob: URL (fails if it does not decode)."""
    await expect(img).to_have_attribute("src", re.compile(r"^blob:"))
    return int(await img.evaluate("i => i.decode().then(() => i.naturalWidth)"))


async def chat(browser: Browser, node: Node, first: str, *, widget_width: int = 1280) -> tuple[Page, Page, list[str]]:
    """alice at her desk with the conversation selected, the customer's widget open after ``first``."""
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    customer_ctx = await browser.new_context(viewport={"width": widget_width, "height": 800}, accept_downloads=True)
    for ctx in (agent_ctx, customer_ctx):
        await install_axe(ctx)
    agent, customer = await agent_ctx.new_page(), await customer_ctx.new_page()
    errors: list[str] = []
    for who, page in (("agent", agent), ("customer", customer)):
        page.on("pageerror", lambda exc, who=who: errors.append(f"{who}: {exc}"))
    await agent_login(agent, node, "alice")
    await customer.goto(node.url + "/")
    await customer.click("[data-testid=cg-launcher]")
    await customer.fill("[data-testid=cg-input]", first)
    await customer.click("[data-testid=cg-send]")
    await expect(customer.locator(".cg-msg[data-author=customer]", has_text=first)).to_have_attribute(
        "data-status", "sent"
    )
    item = agent.locator("[data-testid=conversations] .conv-item")
    await expect(item).to_have_count(1)
    await item.first.click()
    await expect(agent.locator("[data-testid=timeline] .tl-item[data-author=customer]")).to_have_count(1)
    for page in (agent, customer):
        await page.evaluate(WATCH_UPLOADS)
    return agent, customer, errors


async def test_images_and_pdfs_go_both_ways_and_open(browser: Browser, node: Node, tmp_path: Path) -> None:
    agent, customer, errors = await chat(browser, node, "My parcel arrived broken, photos attached")

    # the paperclip is reached by keyboard (from the message box, Shift+Tab) and opens the file chooser. (Enter on it
    # opened the chooser too, but Playwright missed that chooser once in a loaded run: the click is the same event)
    await customer.locator("[data-testid=cg-input]").focus()
    await customer.keyboard.press("Shift+Tab")
    await expect(customer.locator("[data-testid=cg-attach]")).to_be_focused()
    # the customer's line is slow (16 kB/s up): the photo takes about a second, so its line shows its progress. (On
    # loopback at full speed Chromium may report the upload's progress only with the response, after the attachment
    # event came over the socket and took the line's place.)
    cdp = await customer.context.new_cdp_session(customer)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 16_000},
    )
    async with customer.expect_file_chooser() as chooser:
        await customer.locator("[data-testid=cg-attach]").click()
    await (await chooser.value).set_files(
        [payload("broken box.jpg", "image/jpeg", PHOTO), payload("invoice-4271.pdf", "application/pdf", PDF)]
    )
    mine = customer.locator(".cg-msg-att[data-author=customer]")
    await expect(mine).to_have_count(2)
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    await cdp.detach()
    await expect(customer.locator("[data-testid=cg-upload]")).to_have_count(0)  # the progress lines gave way
    shown = await customer.evaluate("window.__uploadTexts")
    assert any(t.startswith("sending: invoice-4271.pdf") and "waiting" in t for t in shown), shown  # its turn next
    assert any(t.startswith("sending: broken box.jpg") and "uploading" in t for t in shown), shown
    # they arrive in the order chosen, one after the other
    await expect(mine.nth(0).locator("[data-testid=cg-att-image]")).to_have_count(1)
    await expect(mine.nth(1).locator("[data-testid=cg-att-file]")).to_have_count(1)
    thumb = mine.locator("[data-testid=cg-att-image]")
    await expect(thumb).to_have_accessible_name(re.compile(r"^Open image broken box\.jpg \([\d.]+ kB\)$"))
    assert await loaded(thumb.locator("img")) <= 320  # the thumbnail, not the whole photo
    chip = mine.locator("[data-testid=cg-att-file]")
    await expect(chip).to_contain_text("invoice-4271.pdf")
    await expect(chip).to_contain_text("PDF")

    # the desk: the conversation's line in the list names the last file, the thumbnail and the file chip show, and
    # the PDF downloads as sent
    await expect(agent.locator("[data-testid=conversations] .conv-item .item-text")).to_have_text(
        "File: invoice-4271.pdf"
    )
    timeline = agent.locator("[data-testid=timeline]")
    desk_thumb = timeline.locator(".tl-attachment[data-author=customer] [data-testid=tl-att-image]")
    await loaded(desk_thumb.locator("img"))
    desk_chip = timeline.locator(".tl-attachment[data-author=customer] [data-testid=tl-att-file]")
    await expect(desk_chip).to_contain_text("invoice-4271.pdf")
    async with agent.expect_download() as info:
        await desk_chip.click()
    download = await info.value
    assert download.suggested_filename == "invoice-4271.pdf"
    await download.save_as(tmp_path / "got.pdf")
    assert (tmp_path / "got.pdf").read_bytes() == PDF

    # the agent sends a screenshot; the customer sees it
    async with agent.expect_file_chooser() as chooser:
        await agent.click("[data-testid=attach]")
    await (await chooser.value).set_files(payload("where-to-click.png", "image/png", SCREEN))
    theirs = customer.locator(".cg-msg-att[data-author=agent] [data-testid=cg-att-image]")
    await loaded(theirs.locator("img"))
    sent = timeline.locator(".tl-attachment[data-author=agent]")
    await loaded(sent.locator("[data-testid=tl-att-image] img"))
    # the agent's own file on the agent's side (right), the customer's on the left, each as wide as its thumbnail
    box, line, theirs_box = (
        await sent.bounding_box(),
        await timeline.bounding_box(),
        await timeline.locator(".tl-attachment[data-author=customer]").first.bounding_box(),
    )
    assert box and line and theirs_box
    assert abs((box["x"] + box["width"]) - (line["x"] + line["width"])) < 2, (box, line)
    assert abs(theirs_box["x"] - line["x"]) < 2 and theirs_box["width"] < 300, (theirs_box, line)

    # the transcript the customer downloads lists the files
    async with customer.expect_download() as info:
        await customer.click("[data-testid=cg-transcript]")
    await (await info.value).save_as(tmp_path / "t.txt")
    transcript = (tmp_path / "t.txt").read_text("utf-8")
    assert "You: [image: broken box.jpg]" in transcript and "You: [file: invoice-4271.pdf]" in transcript, transcript
    assert "Alice Smith: [image: where-to-click.png]" in transcript, transcript

    # a thumbnail opens the whole image in a new tab
    async with customer.context.expect_page() as opened:
        await theirs.click()
    full = await opened.value
    await full.wait_for_load_state()
    assert await full.evaluate("document.images.length && document.images[0].naturalWidth") == 640
    await full.close()
    # by keyboard too, in the desk
    await desk_thumb.focus()
    async with agent.context.expect_page() as opened:
        await agent.keyboard.press("Enter")
    full = await opened.value
    await full.wait_for_load_state()
    assert await full.evaluate("document.images.length && document.images[0].naturalWidth") == 800
    await full.close()

    await shoot(customer, "widget-1280")
    await shoot(agent, "desk-1280")
    await assert_accessible(customer, "widget with attachments")
    await assert_accessible(agent, "desk with attachments")

    cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
    stored = [e for e in await node.services.store.events(cid) if e["type"] == "attachment"]
    assert [(e["author"], e["name"], e["media_type"]) for e in stored] == [
        ("customer", "broken box.jpg", "image/jpeg"),
        ("customer", "invoice-4271.pdf", "application/pdf"),
        ("agent", "where-to-click.png", "image/png"),
    ]
    assert errors == []


async def test_a_file_lying_about_its_type_is_refused_in_both_apps(browser: Browser, node: Node) -> None:
    agent, customer, errors = await chat(browser, node, "Here is the photo")
    await customer.set_input_files("[data-testid=cg-file]", payload("photo.png", "image/png", files.FAKE_PNG))
    refused = customer.locator("[data-testid=cg-upload][data-status=failed]")
    await expect(refused).to_contain_text("photo.png was not sent")
    await expect(refused).to_contain_text("the file is not a valid PNG image.")
    await expect(refused).to_have_attribute("role", "alert")

    await agent.set_input_files("[data-testid=attach-input]", payload("report.pdf", "application/pdf", files.EXE))
    line = agent.locator("[data-testid=timeline] [data-testid=upload][data-status=failed]")
    await expect(line).to_contain_text("report.pdf was not sent")
    await expect(line).to_contain_text("the file is not a valid PDF (its content is something else).")
    await shoot(customer, "widget-refused")
    await shoot(agent, "desk-refused")
    cid = await customer.evaluate("window.ContactGateway.state().conversation_id")
    assert [e for e in await node.services.store.events(cid) if e["type"] == "attachment"] == []
    assert errors == []


async def test_the_desk_takes_a_dropped_and_a_pasted_file(browser: Browser, node: Node) -> None:
    agent, customer, errors = await chat(browser, node, "Can you show me?")
    b64 = base64.b64encode(SCREEN).decode()
    make = f"""(name) => {{
      const bytes = Uint8Array.from(atob('{b64}'), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, {{ type: 'image/png' }}));
      return dt;
    }}"""
    dropped = await agent.evaluate_handle(make, "dropped.png")
    zone = agent.locator("[data-testid=timeline]")
    await zone.dispatch_event("dragenter", {"dataTransfer": dropped})
    await zone.dispatch_event("dragover", {"dataTransfer": dropped})
    main = agent.locator("main:has([data-testid=timeline])")
    await expect(main).to_have_attribute("data-dropping", "true")  # "Drop to send the file to the customer"
    await shoot(agent, "desk-dropping")
    await zone.dispatch_event("drop", {"dataTransfer": dropped})
    await expect(main).not_to_have_attribute("data-dropping", re.compile("."))
    pasted = await agent.evaluate_handle(make, "pasted.png")
    await agent.locator("[data-testid=composer]").evaluate(
        "(el, dt) => el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))",
        pasted,
    )
    got = customer.locator(".cg-msg-att[data-author=agent] [data-testid=cg-att-image]")
    await expect(got).to_have_count(2)
    await expect(got.nth(0)).to_have_accessible_name(re.compile("dropped.png"))
    await expect(got.nth(1)).to_have_accessible_name(re.compile("pasted.png"))
    assert errors == []


async def test_the_widget_at_360_px(browser: Browser, node: Node) -> None:
    agent, customer, errors = await chat(browser, node, "Photo of the label", widget_width=360)
    await customer.set_input_files(
        "[data-testid=cg-file]",
        [
            payload("label.jpg", "image/jpeg", PHOTO),
            payload("a-rather-long-file-name-for-the-delivery-note-4271.pdf", "application/pdf", PDF),
        ],
    )
    await expect(customer.locator(".cg-msg-att[data-author=customer]")).to_have_count(2)
    async with agent.expect_file_chooser() as chooser:
        await agent.click("[data-testid=attach]")
    await (await chooser.value).set_files(payload("where-to-click.png", "image/png", SCREEN))
    await loaded(customer.locator(".cg-msg-att[data-author=agent] img"))
    await shoot(customer, "widget-360")
    await assert_accessible(customer, "widget at 360 px with attachments")
    assert errors == []
