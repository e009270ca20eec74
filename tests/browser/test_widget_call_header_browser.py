"""The widget's header while a call is with an agent, in real Chromium against a real node.

The IVR tells the caller ``waiting`` (reason: the queue's name) when its flow reaches the queue node; the router may
assign the conversation to a free agent before that status reaches the page. A user test saw the header then say
"You are in the queue" through the whole call with the agent (the widget took any ``waiting`` after the assignment for
a missed ring). Here the page's socket holds that one status back until the assignment has been shown, so the order
is the racy one every time.
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, WebSocketRoute, expect

from tests.browser.test_call_browser import call_into_ivr, open_widget, press_at_menu
from tests.browser.test_chat_browser import agent_login
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS


async def test_a_call_assigned_before_the_ivr_says_waiting_shows_the_agent(mic_browser: Browser, node: Node) -> None:
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    held: list[str] = []

    async def late_waiting(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            frame = json.loads(text)
            if (
                frame.get("type") == "call_status"
                and frame.get("status") == "waiting"
                and frame.get("reason") == "billing"
            ):
                held.append(text)  # after the assignment, below
                return
            ws.send(text)
            event = frame.get("event") if frame.get("type") == "event" else None
            if isinstance(event, dict) and event.get("type") == "assigned":
                for late in held:
                    ws.send(late)

        server.on_message(from_server)

    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        await customer_ctx.route_web_socket(re.compile(r".*/ws/customer.*"), late_waiting)
        customer = await open_widget(customer_ctx, node, errors)
        _bar, call = await call_into_ivr(customer)
        cid = call["conversation_id"]
        await press_at_menu(customer, node, cid)

        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=10000)
        assert held, "the IVR's waiting status came (and was held back until the assignment)"
        await expect(customer.get_by_test_id("cg-messages")).to_contain_text(re.compile(r"Connecting you to .+…"))
        await expect(customer.get_by_test_id("cg-status")).to_have_text(re.compile(r"^Connecting you to .+…$"))
        await agent.click("[data-testid=cg-accept]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute(
            "data-status", "connected", timeout=15000
        )
        await expect(customer.get_by_test_id("cg-status")).to_have_text(re.compile(r"^On a call with "))
        await agent.click("[data-testid=cg-hold]")
        await expect(customer.get_by_test_id("cg-status")).to_have_text("On hold — please stay on the line")
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
