"""Transfers and supervisors at the agent desk in real Chromium.

A customer calls from the widget (quiet room noise on their fake microphone) and presses 1; alice answers at
her desk. The desks' fake microphones play a loud, ever-changing tone sequence, so whoever hears an agent sees
a clear inbound level. Desks are separate browser contexts of one Chromium (bob and carol start away, so the
call is routed to alice):

- carol (a supervisor) opens Live calls, listens to alice's call and hears it, switches to whisper, leaves;
  alice's blind transfer to bob is refused while bob is away, then goes through: bob's desk rings, he answers
  and hears the caller;
- a warm transfer: alice consults bob, who declines; then he answers and alice takes the caller back; then
  they talk while the caller holds and alice completes: the call and the conversation are bob's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser.conftest import LaunchWithMic
from tests.browser.test_call_browser import eventually, open_widget
from tests.browser.test_softphone_browser import agent_stats, peak_level, queue_a_call, write_agent_voice
from tests.browser.test_wallboard_browser import sign_in
from tests.conftest import PASSWORDS, Clients
from tests.support.browser_loop import BROWSER_TESTS
from tests.support.clients import Customer
from tests.support.servers import Node

pytestmark = BROWSER_TESTS

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


async def desk_login(
    ctx: BrowserContext, node: Node, agent_id: str, errors: list[str], *, available: bool, keyboard: bool = False
) -> Page:
    """Sign in at /agent and end up available or away (routing offers calls to available agents only). With
    ``keyboard``, signs in with Enter and checks that the focus lands on the desk's first control, not <body>."""
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{agent_id}: {exc}"))
    await page.goto(node.url + "/agent")
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", PASSWORDS[agent_id])
    if keyboard:
        await page.press("#login-password", "Enter")
    else:
        await page.click("#login-submit")
    status = page.locator("[data-testid=agent-status]")
    if keyboard:  # (a user test: after signing in by keyboard, the focus was on <body>)
        await expect(page.locator("[data-testid=status-available]")).to_be_focused()
    await expect(status).to_have_text(re.compile("away|available"))
    want = "available" if available else "away"
    if await status.text_content() != want:
        await page.click(f"[data-testid=status-{want}]")
        await expect(status).to_have_text(want)
    return page


async def answer(page: Page) -> None:
    await expect(page.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=10000)
    await page.click("[data-testid=cg-accept]")
    await expect(page.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "connected", timeout=15000)


async def shot(page: Page, name: str) -> None:
    """A screenshot into CG_SCREENSHOT_DIR when it is set (to look at the desk's states)."""
    if where := os.environ.get("CG_SCREENSHOT_DIR"):
        await page.screenshot(path=str(Path(where) / f"{name}.png"))


async def monitor_stats(page: Page) -> dict[str, Any]:
    stats = await page.evaluate("window.AgentDesk._monitorStats()")
    assert isinstance(stats, dict)
    return stats


async def event_types(node: Node, cid: str, typ: str) -> list[dict[str, Any]]:
    return [e for e in await node.services.store.events(cid) if e["type"] == typ]


async def test_supervisor_listens_in_then_a_blind_transfer_rings_the_colleague(
    mic_browser: Browser, speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    desks = await speaking_browser(write_agent_voice(tmp_path / "agents.wav"))
    alice_ctx, bob_ctx, carol_ctx = [await desks.new_context(viewport=VIEWPORT) for _ in range(3)]
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        alice = await desk_login(alice_ctx, node, "alice", errors, available=True)
        bob = await desk_login(bob_ctx, node, "bob", errors, available=False)
        carol = await desk_login(carol_ctx, node, "carol", errors, available=False, keyboard=True)
        customer = await open_widget(customer_ctx, node, errors)
        call = await queue_a_call(customer, node)
        cid, call_id = call["conversation_id"], call["id"]
        await answer(alice)

        # carol is a supervisor: Live calls lists alice's call; alice (an agent only) has no such panel
        await expect(alice.locator("[data-testid=live-calls-toggle]")).to_be_hidden()
        await carol.click("[data-testid=live-calls-toggle]")
        await expect(carol.locator("[data-testid=live-calls-panel]")).to_be_visible()
        row = carol.locator(f"[data-testid=live-call][data-call-id='{call_id}']")
        await expect(row).to_have_attribute("data-status", "connected", timeout=10000)
        await expect(row.locator("[data-testid=live-call-agent]")).to_have_text("Alice Smith")
        assert (await monitor_stats(carol))["inboundAudioLevel"] == 0  # nothing to hear before joining

        # Listen, from the keyboard: carol hears the call (alice's loud voice, mixed with the caller); the buttons
        # wait while she joins, so focus goes to Leave, not to <body> (a user test: Tab started from the top again)
        await row.locator("[data-testid=live-call-listen]").focus()
        await carol.keyboard.press("Enter")
        monitor_bar = carol.locator("[data-testid=cg-monitor-bar]")
        await expect(row.locator("[data-testid=live-call-leave]")).to_be_focused()
        await expect(monitor_bar).to_have_attribute("data-phase", "connected", timeout=15000)
        await expect(carol.locator("[data-testid=cg-monitor-status]")).to_contain_text("Listening to Alice Smith")
        await expect(row.locator("[data-testid=live-call-listen]")).to_have_attribute("aria-pressed", "true")
        heard = await eventually(
            lambda: peak_level(lambda: monitor_stats(carol), 0.6),
            lambda level: level > 0.02,
            "carol's inbound level while listening",
        )
        print(f"carol hears alice's call at {heard:.4f}")
        await shot(carol, "supervisor-listening")

        # listening silently is told to nobody: neither alice's call bar nor the caller's widget says anything
        told_agent = alice.locator("[data-testid=cg-call-supervisors]")
        told_caller = customer.locator("[data-testid=cg-call-supervisor]")
        await expect(told_agent).to_be_hidden()
        await expect(told_caller).to_be_hidden()

        # Whisper switches the mode (call_monitor without sdp): alice's call bar says who whispers to her
        await row.locator("[data-testid=live-call-whisper]").click()
        await expect(row.locator("[data-testid=live-call-whisper]")).to_have_attribute("aria-pressed", "true")
        await expect(monitor_bar).to_have_attribute("data-mode", "whisper")
        await expect(told_agent).to_have_text("Carol White is whispering to you")
        # Barge in (as on the wallboard): the caller hears carol too, and the widget says so, without her name
        barge = row.locator("[data-testid=live-call-barge]")
        await barge.click()
        await expect(barge).to_have_attribute("aria-pressed", "true")
        await expect(monitor_bar).to_have_attribute("data-mode", "barge")
        await expect(told_agent).to_have_text("Carol White joined the call")
        await expect(told_caller).to_have_text("A supervisor joined the call")
        assert await customer.evaluate("window.ContactGateway.state().call.supervisor") is True
        await shot(alice, "agent-supervisor-barged-in")
        # the pressed button is a toggle: Barge in again goes back to listening silently; both bars clear
        await barge.click()
        await expect(barge).to_have_attribute("aria-pressed", "false")
        await expect(row.locator("[data-testid=live-call-listen]")).to_have_attribute("aria-pressed", "true")
        await expect(monitor_bar).to_have_attribute("data-mode", "listen")
        await expect(told_agent).to_be_hidden()
        await expect(told_caller).to_be_hidden()
        await eventually(
            lambda: event_types(node, cid, "call_monitored"),
            lambda evs: [e["mode"] for e in evs] == ["listen", "whisper", "barge", "listen"],
            "the monitor events",
        )
        # Leave ends carol's leg, the call goes on; the timeline says she stopped listening
        await row.locator("[data-testid=live-call-leave]").focus()
        await carol.keyboard.press("Enter")
        await expect(monitor_bar).to_have_attribute("data-phase", "ended")
        await expect(row.locator("[data-testid=live-call-listen]")).to_be_focused()  # Leave is gone: back to Listen
        await eventually(lambda: _monitors(node, call_id), lambda m: m == {}, "the supervisor's leg on the gateway")
        ended = await event_types(node, cid, "call_monitor_ended")
        assert [(e["agent_id"], e["mode"], e["reason"]) for e in ended] == [("carol", "listen", "supervisor_hangup")]
        await expect(alice.locator("[data-testid=timeline] .tl-item[data-type=call_monitor_ended]")).to_contain_text(
            "Supervisor Carol White stopped listening"
        )
        # Escape closes the panel (the focus was on Listen in it): the focus goes back to its button
        await carol.keyboard.press("Escape")
        await expect(carol.locator("[data-testid=live-calls-panel]")).to_be_hidden()
        await expect(carol.locator("[data-testid=live-calls-toggle]")).to_be_focused()

        # bob is away: the blind transfer is refused and shown in alice's call bar; nothing changes
        bar = alice.locator("[data-testid=cg-call-bar]")
        await alice.click("[data-testid=cg-transfer-toggle]")
        await expect(alice.locator("[data-testid=cg-transfer-panel]")).to_be_visible()
        await alice.fill("[data-testid=cg-transfer-target]", "bobx")  # a typo: said so, not "bobx is offline"
        await alice.click("[data-testid=cg-transfer-blind]")
        await expect(alice.locator("[data-testid=cg-call-error]")).to_contain_text("there is no agent 'bobx'")
        await alice.fill("[data-testid=cg-transfer-target]", "bob")
        await alice.click("[data-testid=cg-transfer-blind]")
        await expect(alice.locator("[data-testid=cg-call-error]")).to_contain_text("not available")
        await expect(bar).to_have_attribute("data-status", "connected")
        await expect(alice.locator("[data-testid=cg-transfer-panel]")).to_be_visible()  # fix the target, try again
        await shot(alice, "agent-transfer-refused")
        # the suggestions are her colleagues by id, never a target the gateway refused ("bobx")
        await alice.click("[data-testid=cg-transfer-toggle]")
        await alice.click("[data-testid=cg-transfer-toggle]")
        offered = await alice.locator("#cg-transfer-suggestions option").evaluate_all("os => os.map(o => o.value)")
        assert "bobx" not in offered and {"bob", "carol"} <= set(offered) and "alice" not in offered, offered
        # a queue is chosen: her colleagues are not offered as queues (an exploratory test saw "demo" offered)
        await alice.locator("label", has=alice.locator("[data-testid=cg-transfer-kind-queue]")).click()
        offered = await alice.locator("#cg-transfer-suggestions option").evaluate_all("os => os.map(o => o.value)")
        assert not {"bob", "carol"} & set(offered), offered
        assert "billing" in offered and "support" in offered, offered  # the queues there are (an exploratory test)
        await alice.locator("label", has=alice.locator("[data-testid=cg-transfer-kind-agent]")).click()
        offered = await alice.locator("#cg-transfer-suggestions option").evaluate_all("os => os.map(o => o.value)")
        assert {"bob", "carol"} <= set(offered), offered
        await alice.fill("[data-testid=cg-transfer-target]", "bob")

        # bob available: the transfer goes through, alice is in after-call work, bob's desk rings
        await bob.click("[data-testid=status-available]")
        await expect(bob.locator("[data-testid=agent-status]")).to_have_text("available")
        await alice.click("[data-testid=cg-transfer-blind]")
        await expect(bar).to_have_attribute("data-status", "wrapup", timeout=10000)
        await expect(alice.locator("[data-testid=cg-call-hint]")).to_contain_text("Transferred to bob")
        await expect(alice.locator("#conv-state")).to_have_text("transferred")
        # her list and the customer panel say where it went, not "closed" (it lives on with bob)
        item = alice.locator(f"[data-testid=conversations] .conv-item[data-conversation-id='{cid}']")
        await expect(item.locator(".item-meta")).to_have_text("transferred")
        state = alice.locator("dl.ctx dt", has_text="State").locator("xpath=following-sibling::dd[1]")
        await expect(state).to_have_text("transferred")
        # people by their names, not their ids ("transferred by alice to bob")
        await expect(alice.locator("[data-testid=timeline] .tl-item[data-type=call_transferred]")).to_contain_text(
            "Call transferred by Alice Smith to Bob Jones"
        )
        await shot(alice, "agent-transferred-wrapup")
        banner = bob.locator("[data-testid=cg-ring-banner]")
        await expect(banner).to_have_attribute("data-conversation-id", cid, timeout=10000)
        await expect(bob.locator("[data-testid=cg-ring-title]")).to_have_text("Incoming call")
        # the banner says who sent the call, not the queue the IVR chose before alice took it (an exploratory test)
        path = bob.locator("[data-testid=cg-ring-path]")
        await expect(path).to_contain_text("Transferred by Alice Smith to Bob Jones")
        await expect(path).not_to_contain_text("Queue:")
        assert (await agent_stats(bob))["inboundAudioLevel"] == 0
        await answer(bob)
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await eventually(lambda: agent_stats(bob), lambda s: s["inboundAudioLevel"] > 0, "bob's inbound level")
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["agent_id"] == "bob"
        transfers = await event_types(node, cid, "call_transferred")
        assert [(e["agent_id"], e["to_agent_id"]) for e in transfers] == [("alice", "bob")]
        assert errors == []
    finally:
        for ctx in (alice_ctx, bob_ctx, carol_ctx, customer_ctx):
            await ctx.close()


async def _monitors(node: Node, call_id: str) -> dict[str, Any] | None:
    handoff = node.services.agent_calls.handoffs.get(call_id)
    return None if handoff is None else dict(handoff.monitors)


async def test_warm_transfer_declined_cancelled_then_completed_gives_the_colleague_the_call(
    mic_browser: Browser, speaking_browser: LaunchWithMic, node: Node, tmp_path: Path
) -> None:
    desks = await speaking_browser(write_agent_voice(tmp_path / "agents.wav"))
    alice_ctx, bob_ctx = [await desks.new_context(viewport=VIEWPORT) for _ in range(2)]
    customer_ctx = await mic_browser.new_context()
    errors: list[str] = []
    try:
        alice = await desk_login(alice_ctx, node, "alice", errors, available=True)
        bob = await desk_login(bob_ctx, node, "bob", errors, available=False)
        customer = await open_widget(customer_ctx, node, errors)
        call = await queue_a_call(customer, node)
        cid = call["conversation_id"]
        await answer(alice)
        await bob.click("[data-testid=status-available]")
        await expect(bob.locator("[data-testid=agent-status]")).to_have_text("available")

        bar = alice.locator("[data-testid=cg-call-bar]")
        status = alice.locator("[data-testid=cg-call-status]")
        banner = bob.locator("[data-testid=cg-ring-banner]")

        async def consult_bob() -> None:
            await alice.click("[data-testid=cg-transfer-toggle]")
            await alice.fill("[data-testid=cg-transfer-target]", "bob")
            await alice.click("[data-testid=cg-transfer-consult]")
            await expect(bar).to_have_attribute("data-status", "consulting")
            await expect(status).to_have_text("Consulting bob…")
            await expect(alice.locator("[data-testid=cg-consult-complete]")).to_be_disabled()
            await expect(banner).to_be_visible(timeout=10000)
            await expect(banner).to_have_attribute("data-consult", "true")
            await expect(bob.locator("[data-testid=cg-ring-title]")).to_have_text("Consultation request")
            await expect(bob.locator("[data-testid=cg-ring-caller]")).to_have_text("Consultation from Alice Smith")
            # the colleague's name isolated (<bdi>): a right-to-left override in a name stays in it (s29ut C1)
            await expect(bob.locator("[data-testid=cg-ring-caller] bdi")).to_have_text("Alice Smith")

        # bob declines: alice is back with the caller and says so
        await consult_bob()
        await shot(bob, "consultant-ringing")
        await bob.click("[data-testid=cg-decline]")
        await expect(banner).to_be_hidden()
        await expect(bar).to_have_attribute("data-status", "connected", timeout=10000)
        await expect(alice.locator("[data-testid=cg-call-error]")).to_contain_text("bob declined the consultation")
        await expect(bob.locator("[data-testid=agent-status]")).to_have_text("available")  # declining is no miss

        # bob goes away while it rings: declined at once, alice does not wait out the ring (a review's finding)
        await consult_bob()
        await alice.locator("[data-testid=cg-call-error]").evaluate("e => { e.textContent = '' }")
        await bob.click("[data-testid=status-away]")
        await bob.get_by_test_id("away-reason-item").first.click()  # Away: a menu of the center's reasons
        await expect(banner).to_be_hidden()
        await expect(bar).to_have_attribute("data-status", "connected", timeout=5000)
        await expect(alice.locator("[data-testid=cg-call-error]")).to_contain_text("bob declined the consultation")
        await expect(bob.locator("[data-testid=agent-status]")).to_have_text("away")
        await bob.click("[data-testid=status-available]")
        await expect(bob.locator("[data-testid=agent-status]")).to_have_text("available")

        bob_bar = bob.locator("[data-testid=cg-call-bar]")

        async def bob_answers() -> None:
            await consult_bob()
            await bob.click("[data-testid=cg-accept]")
            await expect(bob_bar).to_have_attribute("data-status", "consulting", timeout=15000)
            await expect(bob.locator("[data-testid=cg-call-status]")).to_have_text(
                "Consultation with Alice Smith", timeout=15000
            )
            await expect(bob.locator("[data-testid=cg-call-status] bdi")).to_have_text("Alice Smith")
            await expect(status).to_have_text("Consulting bob", timeout=10000)
            await expect(alice.locator("[data-testid=cg-consult-complete]")).to_be_enabled()

        # bob answers, then alice takes the caller back: bob's part ends, the call stays alice's
        await bob_answers()
        await alice.click("[data-testid=cg-consult-cancel]")
        await expect(bar).to_have_attribute("data-status", "connected", timeout=10000)
        await expect(alice.locator("[data-testid=cg-call-error]")).to_contain_text("back with the caller")
        await expect(bob_bar).to_have_attribute("data-status", "notice", timeout=10000)
        await expect(bob.locator("[data-testid=cg-call-status]")).to_contain_text("Alice Smith took the caller back")

        # the third time the agents talk while the caller holds, and alice hands the call over
        await bob_answers()
        # the caller hears music meanwhile, and the widget says so (it said "Connected": an exploratory test)
        await expect(customer.get_by_test_id("cg-call-status")).to_have_text("On hold — please stay on the line")
        await eventually(
            lambda: peak_level(lambda: agent_stats(bob), 0.6), lambda level: level > 0.02, "bob hearing alice"
        )
        assert (await node.services.store.conversation(cid))["agent_id"] == "alice"  # type: ignore[index]
        await shot(alice, "agent-consulting")
        await shot(bob, "consultant-talking")

        # complete: the caller and the conversation go to bob; alice is in after-call work
        await alice.click("[data-testid=cg-consult-complete]")
        await expect(bar).to_have_attribute("data-status", "wrapup", timeout=10000)
        await expect(alice.locator("[data-testid=cg-call-hint]")).to_contain_text("Transferred to bob")
        await expect(bob_bar).to_have_attribute("data-status", "connected", timeout=10000)
        await expect(bob.locator("[data-testid=cg-call-status]")).to_have_text("Connected")
        await expect(bob.locator("[data-testid=conversation]")).to_have_attribute("data-conversation-id", cid)
        await expect(bob.locator("[data-testid=cg-hangup]")).to_have_text("Hang up")
        await shot(bob, "consultant-took-over")
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["agent_id"] == "bob"
        warm = await event_types(node, cid, "call_transferred")
        assert [(e["to_agent_id"], e["warm"]) for e in warm] == [("bob", True)]
        state = await bob.evaluate("window.AgentDesk.call()")
        assert state["call"]["role"] == "agent" and state["call"]["conversation_id"] == cid
        # the hand-over holds: bob hears the caller, nobody's leg was counted as lost
        await eventually(lambda: agent_stats(bob), lambda s: s["inboundAudioLevel"] > 0, "bob hearing the caller")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")
        await expect(customer.get_by_test_id("cg-call-status")).to_have_text("Connected")
        assert await event_types(node, cid, "call_agent_lost") == []
        assert (await agent_stats(bob))["connectionState"] == "connected"
        assert errors == []
    finally:
        for ctx in (alice_ctx, bob_ctx, customer_ctx):
            await ctx.close()


async def test_a_chat_is_handed_to_a_colleague_from_the_desk_and_a_refusal_says_why(
    browser: Browser, node: Node
) -> None:
    """A chat, no call: alice's Transfer asks to whom; an agent that does not exist is refused in the dialog, which
    stays open; Bob, picked by name, gets the chat with its history, and alice's copy is read-only."""
    errors: list[str] = []
    alice_ctx = await browser.new_context(viewport=VIEWPORT)
    bob_ctx = await browser.new_context(viewport=VIEWPORT)
    customer = Customer(node.url)
    try:
        bob = await desk_login(bob_ctx, node, "bob", errors, available=False)
        alice = await desk_login(alice_ctx, node, "alice", errors, available=True)
        await customer.hello()
        await customer.say("can someone check my refund?")
        item = alice.locator(".conv-item")
        await expect(item).to_have_count(1)
        await item.click()
        await bob.click("[data-testid=status-available]")
        await alice.click("[data-testid=transfer-chat]")
        dialog = alice.locator("[data-testid=chat-transfer]")
        await expect(dialog).to_be_visible()
        target = alice.locator("[data-testid=chat-transfer-target]")
        await expect(target).to_be_focused()
        await target.fill("zed")
        await alice.click("[data-testid=chat-transfer-go]")
        await expect(alice.locator("[data-testid=chat-transfer-error]")).to_contain_text("there is no agent 'zed'")
        await expect(target).to_have_attribute("aria-invalid", "true")
        await expect(dialog).to_be_visible()
        # to a queue: the queues there are are offered, a wrong name is refused naming them (an exploratory test)
        await alice.locator("label[for=chat-transfer-queue]").click()
        await expect(target).to_have_attribute("list", "chat-transfer-queues")
        offered = await alice.locator("#chat-transfer-queues option").evaluate_all("os => os.map(o => o.value)")
        assert "billing" in offered and "support" in offered and "bob" not in offered, offered
        await target.fill("billingg")
        await alice.click("[data-testid=chat-transfer-go]")
        await expect(alice.locator("[data-testid=chat-transfer-error]")).to_contain_text(
            "there is no queue 'billingg' (queues: "
        )
        await alice.locator("label[for=chat-transfer-agent]").click()
        await target.fill("Bob Jones (bob)")  # as the list offers him
        await alice.click("[data-testid=chat-transfer-go]")
        await expect(dialog).to_be_hidden()
        await expect(alice.locator("#conv-state")).to_have_text("transferred")
        await expect(alice.locator("[data-testid=transfer-chat]")).to_be_disabled()
        await expect(bob.locator(".conv-item")).to_have_count(1)
        await bob.locator(".conv-item").click()
        await expect(bob.locator("[data-testid=timeline]")).to_contain_text("can someone check my refund?")
        await customer.say("thanks Bob")
        await expect(bob.locator("[data-testid=timeline]")).to_contain_text("thanks Bob")
        assert errors == []
    finally:
        await customer.close()
        await alice_ctx.close()
        await bob_ctx.close()


async def test_a_refused_chat_transfer_says_how_full_the_colleague_is_and_what_to_do(
    browser: Browser, node: Node, clients: Clients
) -> None:
    """bob holds 2 chats of his 2: alice's Transfer to him is refused in the dialog with his load and the queue to
    use instead (a user test read only "cannot transfer to bob: agent full")."""
    errors: list[str] = []
    alice_ctx = await browser.new_context(viewport=VIEWPORT)
    try:
        alice = await desk_login(alice_ctx, node, "alice", errors, available=False)
        bob = clients.agent("bob")
        await bob.hello()
        for text in ("first", "second"):
            customer = clients.customer()
            await customer.hello()
            await customer.say(text)
            await bob.assigned()
        await alice.click("[data-testid=status-available]")
        customer = clients.customer()
        await customer.hello()
        await customer.say("can someone check my refund?")
        item = alice.locator(".conv-item")
        await expect(item).to_have_count(1)
        await item.click()
        await alice.click("[data-testid=transfer-chat]")
        await alice.fill("[data-testid=chat-transfer-target]", "bob")
        await alice.click("[data-testid=chat-transfer-go]")
        await expect(alice.locator("[data-testid=chat-transfer-error]")).to_have_text(
            "Bob Jones has 2 of 2 chats, no room for another: transfer to a queue instead (the next free agent takes"
            " it), or try Bob Jones again later"
        )
        await expect(alice.locator("[data-testid=chat-transfer]")).to_be_visible()
        await shot(alice, "agent-chat-transfer-full")
        assert errors == []
    finally:
        await alice_ctx.close()


async def test_a_supervisor_on_a_call_opens_live_calls_and_can_still_hang_up(mic_browser: Browser, node: Node) -> None:
    """An exploratory test: a supervisor who also takes calls opened Live calls during a call, and the panel covered
    Mute, Hold, Transfer and Hang up (another element took the clicks). It opens under the call bar now. Listening
    to her own call and leaving it marked her call ended in her conversation's header."""
    errors: list[str] = []
    carol_ctx = await mic_browser.new_context(viewport=VIEWPORT)
    customer_ctx = await mic_browser.new_context()
    try:
        carol = await desk_login(carol_ctx, node, "carol", errors, available=True)
        customer = await open_widget(customer_ctx, node, errors)
        call = await queue_a_call(customer, node)
        await answer(carol)
        await carol.click("[data-testid=live-calls-toggle]")
        panel = carol.locator("[data-testid=live-calls-panel]")
        await expect(panel).to_be_visible()
        bar = await carol.locator("[data-testid=cg-call-bar]").bounding_box()
        box = await panel.bounding_box()
        assert bar is not None and box is not None and box["y"] >= bar["y"] + bar["height"], (bar, box)
        await carol.click("[data-testid=cg-mute]")  # not covered: the click reaches it
        await expect(carol.locator("[data-testid=cg-mute]")).to_have_attribute("aria-pressed", "true")
        # from the wallboard she listens to her own call and leaves it: her call goes on, and her desk says so (it
        # said "Call ended": the listening leg's end was taken for the call's)
        badge = carol.locator("[data-testid=call-badge]")
        await expect(badge).to_have_attribute("data-status", "connected")
        board = await carol_ctx.new_page()
        await sign_in(board, node, "carol")
        await expect(board.locator("[data-testid=wb-conn]")).to_have_text("Live", timeout=15_000)
        await board.locator(f"[data-testid=wb-call][data-call='{call['id']}'] button[data-mode=listen]").click()
        await expect(board.locator("[data-testid=wb-monitor]")).to_contain_text("nobody hears you", timeout=20000)
        await board.click("#wb-monitor-leave")
        await expect(board.locator("#wb-monitor-leave")).to_be_hidden(timeout=10000)
        await carol.wait_for_timeout(500)
        await expect(badge).to_have_attribute("data-status", "connected")
        await expect(carol.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "connected")
        await carol.click("[data-testid=cg-hangup]")
        await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute(
            "data-status", "ended", timeout=10000
        )
        assert errors == []
    finally:
        await carol_ctx.close()
        await customer_ctx.close()
