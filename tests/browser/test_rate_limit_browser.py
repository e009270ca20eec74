"""The widget over the message limit: it says so, keeps the messages and delivers every one when allowed."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from playwright.async_api import Browser, expect

from gateway.config import Settings
from tests.support.servers import start_node

pytestmark = pytest.mark.browser


async def test_a_fast_typist_is_told_to_wait_and_loses_nothing(browser: Browser, settings: Settings) -> None:
    node = await start_node(replace(settings, limit_messages_per_minute=20))  # a token every 3 s, burst 20
    try:
        page = await (await browser.new_context()).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(node.url + "/")
        await page.click("[data-testid=cg-launcher]")
        texts = [f"line {i}" for i in range(24)]
        for text in texts:
            await page.fill("[data-testid=cg-input]", text)
            await page.click("[data-testid=cg-send]")
        status = page.locator("[data-testid=cg-status]")
        await expect(status).to_have_text(re.compile(r"^Sending shortly \(\d+ s\)…$"))
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
