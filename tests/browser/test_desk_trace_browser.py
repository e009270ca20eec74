"""The IVR trace in the desk: one line per IVR session that expands to its steps (real Chromium, a real IVR call).

The test flow (tests/flows/default.yaml): greeting, menu, 1 queues the call for billing; alice is available, so the
call rings her desk and its conversation shows how the caller got there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.test_call_browser import call_into_ivr, eventually, ivr_steps, live_calls, open_widget, press_at_menu
from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def test_the_ivr_session_is_one_line_that_expands_to_its_steps(mic_browser: Browser, node: Node) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        _, call = await call_into_ivr(customer)
        cid = call["conversation_id"]
        await press_at_menu(customer, node, cid)

        await agent.locator("[data-testid=conversations] .conv-item").first.click()
        timeline = agent.locator("[data-testid=timeline]")
        trace = timeline.locator("[data-testid=ivr-trace]")
        summary = trace.locator(".trace-summary")
        await expect(summary).to_have_text(re.compile(r"^IVR: menu -> billing, queued for billing, 0:\d\d · \d"))
        await expect(trace).to_have_count(1)  # one line for the whole session (the steps live inside it)
        # every stored step is in the trace: both read until they agree (a step stored after the summary showed
        # "queued" reaches the desk a moment later; the count was read once, right after the summary's text)
        items = trace.locator(".tl-item[data-type=ivr]")

        async def stored_and_shown() -> tuple[int, int]:
            return len(await ivr_steps(node, cid)), await items.count()

        stored, _ = await eventually(stored_and_shown, lambda c: c[0] == c[1], "the IVR steps stored and shown")
        assert stored >= 8, await ivr_steps(node, cid)
        # no step is shown outside its line, and inside it only once expanded
        assert await timeline.locator("> .tl-item[data-type=ivr]").count() == 0
        choice = trace.locator(".tl-item[data-type=ivr][data-kind=choice]")
        await expect(choice).to_be_hidden()
        await summary.click()
        await expect(choice).to_be_visible()
        await expect(choice).to_contain_text("IVR · choice: 1 (Billing) -> billing")
        await expect(trace.locator(".tl-item[data-kind=input]")).to_contain_text("IVR · menu: input digits 1")
        shots = os.environ.get("CG_SCREENSHOT_DIR")
        if shots:
            await agent.screenshot(path=str(Path(shots) / "desk-ivr-trace.png"))

        # collapsed again by keyboard: the summary is a native <details> toggle
        await summary.focus()
        await agent.keyboard.press("Enter")
        await expect(choice).to_be_hidden()

        # a step redrawing the line between the click and its 'toggle' event (which the browser queues): the line
        # on screen was built from the state before the click; it must still open as the agent asked
        await agent.evaluate(
            """() => {
                const line = document.querySelector('[data-testid=timeline] [data-testid=ivr-trace]');
                line.querySelector('.trace-summary').click();
                const redrawn = line.cloneNode(true);
                redrawn.querySelector('details').open = false;
                line.replaceWith(redrawn);
            }"""
        )
        await expect(choice).to_be_visible()
        await customer.click("[data-testid=cg-hangup]")
        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after hang-up")
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
