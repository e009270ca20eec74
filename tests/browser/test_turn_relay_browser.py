"""A call through a real TURN server: Debian's coturn on 127.0.0.1 with the TURN REST API shared secret.

The widget page runs in real Chromium (fake microphone) with ``data-ice-transport-policy="relay"`` set on its script
tag before the call: the browser may use relayed candidates only, so the call connects through coturn or not at all. The TURN
server and its credentials reach the page in the socket's welcome and, for the call itself, in the ``call_ice`` frame
the widget asks for before its offer (a pair bound to that call; both made by the gateway from ``--turn-secret``),
never from the page's HTML.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, WebSocket, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from media.ice import username_expiry, valid_at
from tests.browser.test_call_browser import call_into_ivr, eventually, ivr_steps, live_calls, open_widget
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_flow_editor_browser import ADMIN, LOGINS, open_editor, opened
from tests.browser.test_wallboard_browser import sign_in
from tests.conftest import bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node
from tests.support.turn import TurnServer, allocations

pytestmark = BROWSER_TESTS

TTL = 600
CALL_TTL = 300


@pytest.fixture
def turn_server() -> Iterator[TurnServer]:
    server = TurnServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def with_turn(settings: Settings, turn_server: TurnServer) -> Settings:
    """The node's settings with the real coturn as its TURN server (REST credentials, short lifetimes)."""
    return replace(
        settings,
        turn_urls=(turn_server.url,),
        turn_secret=turn_server.secret,
        turn_ttl_seconds=TTL,
        turn_call_seconds=CALL_TTL,
    )


@browser_fixture
async def turn_node(settings: Settings, turn_server: TurnServer) -> AsyncIterator[Node]:
    node = await start_node(with_turn(settings, turn_server))
    try:
        yield node
    finally:
        await bounded(node.stop(), "stopping the gateway node")


RELAY_ONLY = "document.querySelector('script[src=\"/widget.js\"]').setAttribute('data-ice-transport-policy', 'relay')"
WALLBOARD_RELAY_ONLY = (
    "document.querySelector('script[src$=\"/supervisor/wallboard.js\"]')"
    ".setAttribute('data-ice-transport-policy', 'relay')"
)
DESK_RELAY_ONLY = (
    "document.querySelector('script[src$=\"/desk/main.js\"]').setAttribute('data-ice-transport-policy', 'relay')"
)


async def gateway_leg_stats(node: Node, call_id: str, agent: bool = False, monitor: str = "") -> dict[str, Any]:
    """What the gateway's leg of the call (or of its agent, or of the supervisor ``monitor`` listening to it)
    received and which remote candidate its nominated pair uses."""
    if monitor:
        leg = node.services.agent_calls.handoffs[call_id].monitors[monitor].leg
    else:
        leg = node.services.agent_calls.handoffs[call_id].leg if agent else node.services.calls.calls[call_id].leg
    assert leg is not None
    packets = 0
    for stats in (await leg.pc.getStats()).values():
        if stats.type == "inbound-rtp":
            packets += stats.packetsReceived
    connection = leg.pc.getTransceivers()[0].sender.transport.transport._connection
    nominated = connection._nominated.get(1)
    remote = nominated.remote_candidate if nominated is not None else None
    return {"packets": packets, "remote_type": remote.type if remote else None}


async def monitors_of(node: Node, call_id: str) -> set[str]:
    handoff = node.services.agent_calls.handoffs.get(call_id)
    return set() if handoff is None else set(handoff.monitors)


async def test_a_relay_only_browser_call_connects_and_audio_flows_both_ways_through_coturn(
    mic_browser: Browser, turn_node: Node, turn_server: TurnServer
) -> None:
    ctx = await mic_browser.new_context()
    carol_ctx = await mic_browser.new_context()
    errors: list[str] = []
    welcomes: list[dict[str, Any]] = []
    call_ices: list[dict[str, Any]] = []
    try:

        def on_socket(ws: WebSocket) -> None:
            def received(payload: str | bytes) -> None:
                frame = json.loads(payload)
                if frame.get("type") == "welcome" and "customer_id" in frame:  # the widget's (not the desk's)
                    welcomes.append(frame)
                elif frame.get("type") == "call_ice":
                    call_ices.append(frame)

            ws.on("framereceived", received)

        ctx.on("page", lambda p: p.on("websocket", on_socket))
        desk = await ctx.new_page()  # the agent's desk, relay-only too, answers the call below
        await agent_login(desk, turn_node, "alice")
        await desk.evaluate(DESK_RELAY_ONLY)
        page = await open_widget(ctx, turn_node, errors)
        # the page's own option, read when a call starts (as if the site had written it on the widget's tag)
        await page.evaluate(RELAY_ONLY)

        # the welcome carried a TURN server with credentials made for this customer, valid TTL seconds
        assert welcomes, "no welcome frame seen"
        (server,) = welcomes[0]["ice_servers"]
        assert server["urls"] == [turn_server.url]
        assert server["username"].endswith(":customer-" + welcomes[0]["customer_id"])
        expires = username_expiry(server["username"])
        assert valid_at(turn_server.secret, server["username"], server["credential"], expires)
        assert turn_server.secret not in await page.content()

        _, call = await call_into_ivr(page)  # connected: the IVR answers
        await eventually(  # the menu, then 1 (billing): the call waits for alice with music on hold
            lambda: ivr_steps(turn_node, call["conversation_id"]),
            lambda steps: any(s[:2] == ("prompt", "menu") for s in steps),
            "the menu prompt",
            timeout=15,
        )
        await page.click("[data-testid=cg-keypad-toggle]")
        await page.click("[data-testid=cg-key-1]")
        # the call's own pair, asked for before the offer: bound to this call, valid --turn-call-seconds
        (asked,) = call_ices
        (call_server,) = asked["ice_servers"]
        assert asked["call_id"] == call["id"]
        assert call_server["username"].endswith(f":call-{call['id']}-customer-{welcomes[0]['customer_id']}")
        assert username_expiry(call_server["username"]) < expires  # the longest call, not the page's lifetime
        stats = await eventually(
            lambda: page.evaluate("window.ContactGateway._callStats()"),
            lambda s: s["packetsReceived"] > 50 and s["inboundAudioLevel"] > 0 and s["packetsSent"] > 50,
            "the browser's audio both ways",
            timeout=20,
        )
        assert stats["connectionState"] == "connected"
        assert stats["localCandidateType"] == "relay", stats  # the browser's side of the pair is coturn's relay
        leg = await eventually(
            lambda: gateway_leg_stats(turn_node, call["id"]),
            lambda s: s["packets"] > 50,
            "the microphone's packets at the gateway",
            timeout=20,
        )
        assert leg["remote_type"] == "relay", leg  # the gateway's leg talks to the browser's relayed address
        log = await turn_server.logged("ALLOCATE processed, success", f":call-{call['id']}-customer-")
        assert allocations(log), log[-3000:]
        assert f":call-{call['id']}-customer-" in log, log[-3000:]  # the browser allocated with the call's pair
        assert "CREATE_PERMISSION processed, success" in log or "CHANNEL_BIND processed, success" in log

        # the caller pressed 1 (billing): the desk answers, relay-only, with a pair made for it and this call
        await expect(desk.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=20000)
        await desk.click("[data-testid=cg-accept]")
        await expect(desk.locator("[data-testid=cg-call-bar]")).to_have_attribute(
            "data-status", "connected", timeout=20000
        )
        desk_asked = [f for f in call_ices if f is not asked]
        assert len(desk_asked) == 1 and desk_asked[0]["call_id"] == call["id"]
        (desk_server,) = desk_asked[0]["ice_servers"]
        assert desk_server["username"].endswith(f":call-{call['id']}-agent-alice")
        assert desk_server["username"] != call_server["username"]
        agent_leg = await eventually(
            lambda: gateway_leg_stats(turn_node, call["id"], agent=True),
            lambda s: s["packets"] > 50,
            "the desk's packets at the gateway",
            timeout=20,
        )
        assert agent_leg["remote_type"] == "relay", agent_leg  # the desk's side of its leg is coturn's relay
        await turn_server.logged(f":call-{call['id']}-agent-alice")

        # carol (a supervisor), relay-only too, listens in: her monitor gets a pair of its own for this call
        carol_frames: list[dict[str, Any]] = []
        carol_ctx.on(
            "page",
            lambda p: p.on(
                "websocket", lambda ws: ws.on("framereceived", lambda f: carol_frames.append(json.loads(f)))
            ),
        )
        carol = await carol_ctx.new_page()
        carol.on("pageerror", lambda exc: errors.append(f"carol: {exc}"))
        await agent_login(carol, turn_node, "carol")
        await carol.evaluate(DESK_RELAY_ONLY)
        await carol.click("[data-testid=live-calls-toggle]")
        row = carol.locator(f"[data-testid=live-call][data-call-id='{call['id']}']")
        await expect(row).to_have_attribute("data-status", "connected", timeout=20000)
        await row.locator("[data-testid=live-call-listen]").click()
        await expect(carol.locator("[data-testid=cg-monitor-bar]")).to_have_attribute(
            "data-phase", "connected", timeout=20000
        )
        (carol_welcome,) = [f for f in carol_frames if f.get("type") == "welcome"]
        (carol_socket_server,) = carol_welcome["ice_servers"]
        (carol_asked,) = [f for f in carol_frames if f.get("type") == "call_ice"]
        assert carol_asked["call_id"] == call["id"]
        (monitor_server,) = carol_asked["ice_servers"]
        assert monitor_server["username"].endswith(f":call-{call['id']}-agent-carol")
        assert username_expiry(monitor_server["username"]) < username_expiry(carol_socket_server["username"])
        others = {server["username"], call_server["username"], desk_server["username"], carol_socket_server["username"]}
        assert monitor_server["username"] not in others
        monitor_leg = await eventually(
            lambda: gateway_leg_stats(turn_node, call["id"], monitor="carol"),
            lambda s: s["remote_type"] is not None,
            "the supervisor's leg's nominated pair",
            timeout=20,
        )
        assert monitor_leg["remote_type"] == "relay", monitor_leg  # carol's side of her leg is coturn's relay
        await turn_server.logged(f":call-{call['id']}-agent-carol")  # she allocated with the monitor's pair

        # she leaves, and listens again from the wallboard (relay-only): that monitor asks a pair of its own too
        await row.locator("[data-testid=live-call-leave]").click()
        await eventually(
            lambda: monitors_of(turn_node, call["id"]), lambda m: m == set(), "carol's desk leg on the gateway"
        )
        board = await carol_ctx.new_page()
        board.on("pageerror", lambda exc: errors.append(f"carol's wallboard: {exc}"))
        await sign_in(board, turn_node, "carol")
        await expect(board.locator("[data-testid=wb-conn]")).to_have_text(
            "Live", timeout=15_000
        )  # loaded CI: >5 s seen
        await board.evaluate(WALLBOARD_RELAY_ONLY)
        asked_before = len([f for f in carol_frames if f.get("type") == "call_ice"])
        await board.locator(f"[data-testid=wb-call][data-call='{call['id']}'] button[data-mode=listen]").click()
        await expect(board.locator("[data-testid=wb-monitor]")).to_contain_text("nobody hears you", timeout=20000)
        asked = [f for f in carol_frames if f.get("type") == "call_ice"][asked_before:]
        assert [f["call_id"] for f in asked] == [call["id"]]
        (board_server,) = asked[0]["ice_servers"]
        assert board_server["username"].endswith(f":call-{call['id']}-agent-carol")
        board_leg = await eventually(
            lambda: gateway_leg_stats(turn_node, call["id"], monitor="carol"),
            lambda s: s["remote_type"] is not None,
            "the wallboard's leg's nominated pair",
            timeout=20,
        )
        assert board_leg["remote_type"] == "relay", board_leg
        await turn_server.logged(board_server["username"])  # allocated with the wallboard monitor's own pair

        await page.click("[data-testid=cg-hangup]")
        await eventually(lambda: live_calls(turn_node), lambda calls: calls == {}, "live calls after hang-up")
        assert errors == []
    finally:
        await carol_ctx.close()
        await ctx.close()


@browser_fixture
async def turn_admin_node(settings: Settings, turn_server: TurnServer, tmp_path: Path) -> AsyncIterator[Node]:
    agents = tmp_path / "agents.toml"
    add_agent(agents, ADMIN, "Dana Admin", LOGINS[ADMIN], capacity=1, roles=("agent", "admin"))
    node = await start_node(replace(with_turn(settings, turn_server), agents_file=agents))
    try:
        yield node
    finally:
        await bounded(node.stop(), "stopping the gateway node")


FLOWS_RELAY_ONLY = (
    "document.querySelector('script[src$=\"/admin/flows_main.js\"]').setAttribute('data-ice-transport-policy', 'relay')"
)


async def test_a_relay_only_test_call_from_the_flow_console_gets_its_own_pair_and_goes_through_coturn(
    mic_browser: Browser, turn_admin_node: Node, turn_server: TurnServer
) -> None:
    node = turn_admin_node
    ctx, page = await open_editor(mic_browser, node)
    frames: list[dict[str, Any]] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f))))
    try:
        await opened(page)
        await page.evaluate(FLOWS_RELAY_ONLY)
        await page.click("#tab-test")
        await page.click("[data-testid=call-start]")
        steps = page.get_by_test_id("test-steps")
        await expect(steps.locator("li[data-node=menu][data-kind=enter]").first).to_be_visible(timeout=20_000)

        # the test socket's welcome carried the admin's pair (kept, as their desk's); the test call asked for one
        # bound to it before its offer
        (welcome,) = [f for f in frames if f.get("type") == "welcome"]
        (socket_server,) = welcome["ice_servers"]
        assert socket_server["username"].endswith(f":agent-{ADMIN}")
        (asked,) = [f for f in frames if f.get("type") == "call_ice"]
        call_id = asked["call_id"]
        (call_server,) = asked["ice_servers"]
        assert call_server["urls"] == [turn_server.url]
        assert call_server["username"].endswith(f":call-{call_id}-customer-{welcome['customer_id']}")
        assert call_server["username"] != socket_server["username"]
        assert username_expiry(call_server["username"]) < username_expiry(socket_server["username"])
        assert valid_at(turn_server.secret, call_server["username"], call_server["credential"], time.time())

        # relay-only: the gateway's leg talks to the browser's relayed address, allocated with the call's pair
        leg = await eventually(
            lambda: gateway_leg_stats(node, call_id),
            lambda s: s["packets"] > 50,
            "the test call's microphone packets at the gateway",
            timeout=20,
        )
        assert leg["remote_type"] == "relay", leg
        await turn_server.logged(f":call-{call_id}-customer-{welcome['customer_id']}")

        await page.click("#fe-test-stop")
        await eventually(lambda: live_calls(node), lambda calls: calls == {}, "live calls after the test ended")
    finally:
        await ctx.close()
