"""An agent's leg that never connects: the gateway gives up on it after ``connect_seconds`` (AGENT_CONNECT_SECONDS,
15 s), says so to the caller and queues them again; the desk must end its "Connecting…" call bar then, not wait for
its own peer connection to fail (it never got a call_status: the requeue unassigns it first, and the
call_agent_lost event was read only for a call that had connected)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.test_call_browser import eventually, open_widget
from tests.browser.test_chat_browser import agent_login
from tests.browser.test_softphone_browser import queue_a_call
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

#: the desk's ICE can never complete: no candidate leaves in its offer, none is taken from the gateway's answer
NO_CANDIDATES = """
(() => {
  const strip = (sdp) => sdp.split('\\r\\n').filter((l) => !l.startsWith('a=candidate')).join('\\r\\n');
  const local = Object.getOwnPropertyDescriptor(RTCPeerConnection.prototype, 'localDescription');
  Object.defineProperty(RTCPeerConnection.prototype, 'localDescription', {
    get() { const d = local.get.call(this); return d && { type: d.type, sdp: strip(d.sdp) }; },
  });
  const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (d) {
    return setRemote.call(this, d && d.sdp ? { type: d.type, sdp: strip(d.sdp) } : d);
  };
  RTCPeerConnection.prototype.addIceCandidate = function () { return Promise.resolve(); };
})();
"""


async def lost_events(node: Node, conversation_id: str) -> list[dict]:
    return [e for e in await node.services.store.events(conversation_id) if e["type"] == "call_agent_lost"]


async def test_the_desk_ends_a_call_whose_leg_the_gateway_gave_up_on(mic_browser: Browser, node: Node) -> None:
    node.services.agent_calls.connect_seconds = 2.0
    agent_ctx = await mic_browser.new_context(viewport={"width": 1280, "height": 800})
    await agent_ctx.add_init_script(NO_CANDIDATES)
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        agent = await agent_ctx.new_page()
        agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
        await agent_login(agent, node, "alice")
        customer = await open_widget(customer_ctx, node, errors)
        call = await queue_a_call(customer, node)
        await expect(agent.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=10000)
        await agent.click("[data-testid=cg-accept]")
        bar = agent.locator("[data-testid=cg-call-bar]")
        await expect(bar).to_have_attribute("data-status", "connecting")
        # the gateway gives up after 2 s, apologises to the caller (about 5 s) and queues them again
        cid = call["conversation_id"]
        lost = await eventually(
            lambda: lost_events(node, cid), lambda found: bool(found), "the agent leg given up", timeout=20
        )
        assert [(e["agent_id"], e["reason"]) for e in lost] == [("alice", "agent_ice_timeout")]
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute(
            "data-status", "waiting", timeout=15000
        )
        # within the apology and the requeue: the desk's own peer connection would still be trying
        await expect(bar).to_have_attribute("data-status", "notice", timeout=10000)
        await expect(bar).to_contain_text("The call connection dropped. The caller went back to the queue.")
        assert errors == []
    finally:
        await agent_ctx.close()
        await customer_ctx.close()
