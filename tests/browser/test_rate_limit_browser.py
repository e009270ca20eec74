"""The widget over the message limit: it says so, keeps the messages and delivers every one when allowed."""

from __future__ import annotations

import re
from dataclasses import replace

from playwright.async_api import Browser, expect

from gateway.config import Settings
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import start_node

pytestmark = BROWSER_TESTS


async def test_a_fast_typist_is_told_to_wait_and_loses_nothing(browser: Browser, settings: Settings) -> None:
    node = await start_node(replace(settings, limit_messages_per_minute=20))  # a token every 3 s, burst 20
    try:
        page = await (await browser.new_context()).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(node.url + "/")
        await page.click("[data-testid=cg-launcher]")
        status = page.locator("[data-testid=cg-status]")
        told_to_wait = re.compile(r"^Sending shortly \(\d+ s\)…$")
        # lines as fast as the browser takes them, until one is refused: 21 on a quiet machine; on a loaded one typing
        # is slower (24 lines took 9.5 s beside six CPU burners) and the bucket refills a token every 3 s meanwhile, so
        # a fixed 24 lines could all fit (a whole-suite failure: the notice never came)
        texts: list[str] = []
        while len(texts) < 20 or not told_to_wait.match((await status.text_content() or "").strip()):
            assert len(texts) < 60, "60 lines typed and none refused by a limit of 20 a minute"
            texts.append(f"line {len(texts)}")
            await page.fill("[data-testid=cg-input]", texts[-1])
            await page.click("[data-testid=cg-send]")
        await expect(status).to_have_text(told_to_wait)
        fits = await status.evaluate(
            "el => { const t = el.querySelector('*') || el; return t.scrollWidth <= t.clientWidth + 1; }"
        )
        assert fits, "the notice is cut off in the header"
        # refused ones wait as "sending", never "failed"; every one is delivered once the bucket refills
        await expect(page.locator(".cg-msg[data-author=customer][data-status=failed]")).to_have_count(0)
        sent = page.locator(".cg-msg[data-author=customer][data-status=sent]")
        await expect(sent).to_have_count(len(texts), timeout=30_000)
        state = await page.evaluate("window.ContactGateway.state()")
        assert state["outbox"] == 0
        cid = await node.services.conversations.current_for_customer(state["customer_id"])
        assert cid is not None
        stored = [e["text"] for e in await node.services.store.events(cid) if e["type"] == "message"]
        assert sorted(stored) == sorted(texts) and len(stored) == len(texts)
        assert errors == []
    finally:
        await node.stop()
