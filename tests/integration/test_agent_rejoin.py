"""An agent's leg drops mid-call and their desk comes back: the caller holds, then talks to the same agent again.

A real aiortc caller and real aiortc softphones (tests/support/softphone.py) on loopback; tones prove the audio
crosses both ways after the rejoin. The test settings give a dropped leg 3 s (``agent_reconnect_seconds``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gateway.calls.handoff import HandoffState
from gateway.config import Settings
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.caller import SAMPLE_RATE, Caller
from tests.support.clients import Agent, Customer
from tests.support.queue_calls import hears, queued_call, strongest_hz, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


async def events_of(node: Node, cid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in await node.services.store.events(cid) if e["type"] == kind]


async def answered_call(clients: Clients) -> tuple[Agent, Softphone, Caller]:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    await phone.answer((await phone.ringing())["call_id"])
    await caller.status(CallStatus.CONNECTED)
    return alice, phone, caller


async def test_a_reloaded_desk_gets_the_call_back_and_both_sides_hear_each_other(clients: Clients, node: Node) -> None:
    alice, phone, caller = await answered_call(clients)
    again = Softphone(alice)
    try:
        cid, call_id = caller.conversation_id, phone.call_id
        await phone.close()  # the page reloads: its peer connection and its socket go
        await alice.drop()
        held = await caller.status(CallStatus.WAITING, timeout=10)
        assert held["reason"] == "agent_reconnecting"
        handoff = node.services.agent_calls.handoffs[call_id]
        assert handoff.state is HandoffState.RECONNECTING
        # supervisors see who dropped: the wallboard's call and alice's row, and the desk's Live calls
        # (the call registry is written a moment after the caller is told: a CI run under load read "connected")
        for _ in range(100):
            board = (await node.services.wallboard.snapshot()).as_dict()
            (row,) = [c for c in board["calls"] if c["call_id"] == call_id]
            if row["status"] == "waiting":
                break
            await asyncio.sleep(0.05)
        assert (row["status"], row["reconnecting"], row["agent_id"]) == ("waiting", True, "alice")
        (alice_row,) = [a for a in board["agents"] if a["id"] == "alice"]  # listed while her desk is away
        assert (alice_row["state"], alice_row["call"]["reconnecting"]) == ("busy", True)
        assert row["agent_name"] == "Alice Smith"  # (not her id: she was not on the board)
        live = node.services.agent_calls.monitors.listing()
        assert [(c["call_id"], c["reconnecting"]) for c in live] == [(call_id, True)]
        # the customer's socket that reconnects meanwhile is told so too (the widget says the agent reconnects)
        again_customer = Customer(node.url, token=caller.customer.token)
        try:
            listed = (await again_customer.hello())["calls"]
        finally:
            await again_customer.close()
        assert [(c["call_id"], c["status"], c["reason"]) for c in listed] == [
            (call_id, "waiting", "agent_reconnecting")
        ]
        # the caller is not back in the queue: the conversation stays alice's, and so does her activity
        conv = await node.services.store.conversation(cid)
        assert conv is not None and (conv["state"], conv["agent_id"]) == ("assigned", "alice")

        welcome = await alice.hello(available=False)  # the reloaded desk
        listed = [c for c in welcome["calls"] if c["call_id"] == call_id]
        assert listed and listed[0]["rejoin"] is True and listed[0]["answered_ms"] > 0
        board = (await node.services.wallboard.snapshot()).as_dict()  # her row is back, with the call she lost
        (alice_row,) = [a for a in board["agents"] if a["id"] == "alice"]
        assert alice_row["call"] is not None and alice_row["call"]["reconnecting"] is True
        await again.answer(call_id)  # its new leg for the same call (a call_offer, as to answer it)
        back = await caller.status(CallStatus.CONNECTED, timeout=10)
        assert back["reason"] == "agent_reconnected"
        caller.mic.play(tone(440), "caller-tone")
        await hears(lambda: again.heard, 440)
        again.mic.play(tone(1000), "agent-tone")
        await hears(lambda: caller.heard, 1000)

        assert (await node.services.presence.info("alice"))["activity"] == "on_call"  # not offered other work
        rejoined = await events_of(node, cid, "call_rejoined")
        assert len(rejoined) == 1 and rejoined[0]["agent_id"] == "alice"
        assert rejoined[0]["reason"] == "connection_closed" and 0 < rejoined[0]["gap_ms"] < 3000
        assert await events_of(node, cid, "call_agent_lost") == []
        await asyncio.sleep(3.5)  # past the grace: nothing gives the call up any more
        assert handoff.state.bridged and handoff.leg is not None
        assert await events_of(node, cid, "call_agent_lost") == []
        await caller.hangup()
        assert (await again.status(CallStatus.ENDED))["reason"] == "caller_hangup"
        ended = (await events_of(node, cid, "call_ended"))[-1]
        assert ended["agent_id"] == "alice" and ended["talk_ms"] > 0
    finally:
        await again.close()
        await phone.close()
        await caller.close()


async def test_a_held_caller_is_held_again_and_another_agent_cannot_take_the_leg(clients: Clients, node: Node) -> None:
    alice, phone, caller = await answered_call(clients)
    bob = clients.agent("bob")
    again = Softphone(alice)
    intruder = Softphone(bob)
    try:
        call_id = phone.call_id
        await alice.send({"type": "call_hold", "call_id": call_id, "hold": True})
        assert (await caller.status(CallStatus.CONNECTED))["reason"] == "held"
        await phone.close()
        assert (await caller.status(CallStatus.WAITING, timeout=10))["reason"] == "agent_reconnecting"

        await bob.hello(available=False)  # not his call: refused, and the call keeps waiting for alice
        await bob.send({"type": "call_offer", "call_id": call_id, "sdp": await intruder.offer()})
        refused = await bob.expect("error")
        assert refused["code"] in ("forbidden", "not_ringing"), refused
        assert node.services.agent_calls.handoffs[call_id].state is HandoffState.RECONNECTING

        await again.answer(call_id)  # her socket never went: the same desk offers again
        back = await caller.status(CallStatus.CONNECTED, timeout=10)
        assert back["reason"] == "held"  # still on hold, as she left it
        handoff = node.services.agent_calls.handoffs[call_id]
        assert handoff.state is HandoffState.HELD and handoff.bridge is not None and handoff.bridge.held
        again.mic.play(tone(1000, seconds=3.0), "agent-tone")
        await asyncio.sleep(1.0)
        assert abs(strongest_hz(caller.heard[-SAMPLE_RATE // 2 :]) - 1000) > 15  # music, not her
        await alice.send({"type": "call_hold", "call_id": call_id, "hold": False})
        assert (await caller.status(CallStatus.CONNECTED))["reason"] == ""
        await hears(lambda: caller.heard, 1000)
        await caller.hangup()  # the caller held all along from the hold to the resume: hold time, not talk
        await again.status(CallStatus.ENDED)
        ended = (await events_of(node, caller.conversation_id, "call_ended"))[-1]
        rejoined = (await events_of(node, caller.conversation_id, "call_rejoined"))[-1]
        assert ended["hold_ms"] >= rejoined["gap_ms"] + 1000, ended
    finally:
        await intruder.close()
        await again.close()
        await phone.close()
        await caller.close()


async def test_a_closed_tab_is_noticed_from_its_silence_and_the_caller_goes_back_to_the_queue(
    clients: Clients, node: Node
) -> None:
    """A closed tab sends no DTLS close: its leg stays 'connected' to aiortc, which would notice only when consent
    checks fail (30 s; never, here: this softphone's ICE agent still answers them). Its socket closing and the leg
    silent since is enough: the caller holds for 3 s, then goes back to the queue."""
    alice, phone, caller = await answered_call(clients)
    try:
        phone.mic.end()  # the tab is gone: nothing more is sent (its ICE still answers, as a frozen peer might)
        await alice.drop()
        held = await caller.status(CallStatus.WAITING, timeout=8)
        assert held["reason"] == "agent_reconnecting"
        waiting = await caller.status(CallStatus.WAITING, timeout=10)
        assert waiting["reason"] == "agent_lost"
        lost = await events_of(node, caller.conversation_id, "call_agent_lost")
        assert len(lost) == 1 and lost[0]["reason"] == "agent_desk_closed" and lost[0]["talk_ms"] > 0
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["state"] == "queued"
        # no after-call work for a conversation that went back to the queue (a desk opened later showed it, with
        # nothing to close: an exploratory test)
        assert await node.services.store.agent_field("alice", "activity") == ""  # (offline: info shows none anyway)
    finally:
        await phone.close()
        await caller.close()


async def test_a_desk_whose_media_died_offers_again_and_its_old_leg_is_replaced(clients: Clients, node: Node) -> None:
    """The desk noticed first (its peer connection failed; the gateway's leg still looks up): its new offer drops
    the old leg for the new one at once, without waiting for the gateway to notice."""
    alice, phone, caller = await answered_call(clients)
    again = Softphone(alice)
    try:
        call_id = phone.call_id
        old = node.services.agent_calls.handoffs[call_id].leg
        phone.mic.end()  # its media died: nothing more comes from it (its ICE still answers)
        await again.answer(call_id, wait_connected=False)
        back = await caller.status(CallStatus.CONNECTED, timeout=10)
        assert back["reason"] == "agent_reconnected"
        handoff = node.services.agent_calls.handoffs[call_id]
        assert handoff.leg is not old and handoff.state is HandoffState.CONNECTED
        again.mic.play(tone(1000), "agent-tone")
        await hears(lambda: caller.heard, 1000)
        rejoined = await events_of(node, caller.conversation_id, "call_rejoined")
        assert [e["reason"] for e in rejoined] == ["desk_reoffered"]
    finally:
        await again.close()
        await phone.close()
        await caller.close()


@pytest.mark.parametrize("who", ["caller", "agent"])
async def test_a_hang_up_while_the_caller_holds_ends_the_call_with_the_agent_in_wrap_up(
    clients: Clients, node: Node, who: str
) -> None:
    alice, phone, caller = await answered_call(clients)
    try:
        call_id, cid = phone.call_id, caller.conversation_id
        await phone.close()
        await caller.status(CallStatus.WAITING, timeout=10)
        if who == "caller":
            await caller.hangup()
        else:  # the reloaded desk's agent hangs up instead of reconnecting
            await alice.send({"type": "hangup", "call_id": call_id})
        ended = await alice.expect("call_status", lambda f: f["call_id"] == call_id and f["status"] == "ended")
        assert ended["reason"] == ("caller_hangup" if who == "caller" else "agent_hangup")
        assert await events_of(node, cid, "call_abandoned") == []  # she had answered it
        assert await events_of(node, cid, "call_agent_lost") == []
        info = await node.services.presence.info("alice")
        assert info["activity"] == "wrap_up"
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["agent_id"] == "alice"
    finally:
        await phone.close()
        await caller.close()


async def test_another_tab_of_the_agent_cannot_take_a_call_whose_leg_is_alive(clients: Clients, node: Node) -> None:
    """A second tab (a duplicated one keeps the first's sessionStorage; a callback's auto-accept runs in every tab)
    offers a leg for the call the first tab is on: refused, and the first tab's leg goes on untouched."""
    alice, phone, caller = await answered_call(clients)
    second = clients.agent("alice")
    tab = Softphone(second)
    try:
        call_id = phone.call_id
        handoff = node.services.agent_calls.handoffs[call_id]
        leg = handoff.leg
        await second.hello(available=False)
        await second.send({"type": "call_offer", "call_id": call_id, "sdp": await tab.offer()})
        refused = await second.expect("error")
        assert (refused["code"], refused["field"]) == ("already_answered", "call_id")
        assert "another desk of yours" in refused["message"]
        assert handoff.leg is leg and handoff.state is HandoffState.CONNECTED
        phone.mic.play(tone(1000), "agent-tone")
        await hears(lambda: caller.heard, 1000)
        assert await events_of(node, caller.conversation_id, "call_rejoined") == []
        # a bad offer from her own desk changes nothing either
        await alice.send({"type": "call_offer", "call_id": call_id, "sdp": "v=0 nonsense"})
        assert (await alice.expect("error"))["field"] == "sdp"
        assert handoff.leg is leg and handoff.state is HandoffState.CONNECTED
    finally:
        await tab.close()
        await phone.close()
        await caller.close()


async def test_a_closed_tab_on_another_node_is_noticed_too(clients: Clients, node: Node, settings: Settings) -> None:
    """The call is anchored on one node, the desk on another: its socket closing there reaches the call's node."""
    other = await start_node(replace(settings, node_id="node-two"))
    try:
        alice = clients.agent("alice", url=other.url)
        await alice.hello()
        caller = await queued_call(clients)
        phone = Softphone(alice)
        try:
            await phone.answer((await phone.ringing())["call_id"])
            assert phone.call_id in node.services.agent_calls.handoffs  # the media stays where the call is
            await caller.status(CallStatus.CONNECTED)
            phone.mic.end()
            await alice.drop()
            held = await caller.status(CallStatus.WAITING, timeout=8)  # not aiortc's 30 s consent timeout
            assert held["reason"] == "agent_reconnecting"
            lost = await caller.status(CallStatus.WAITING, timeout=10)
            assert lost["reason"] == "agent_lost"
        finally:
            await phone.close()
            await caller.close()
    finally:
        await clients.close()
        await bounded(other.stop(), "stopping the other node")


async def test_a_closed_tab_is_noticed_while_another_desk_of_the_agent_stays_open(clients: Clients, node: Node) -> None:
    """Her other tab keeps her online: the tab on the call closing is still noticed (its socket closed, its leg
    silent since), not after aiortc's 30 s, and the open tab offers a new leg for the call."""
    alice, phone, caller = await answered_call(clients)
    other_tab = clients.agent("alice")
    again = Softphone(other_tab)
    try:
        await other_tab.hello(available=False)
        phone.mic.end()  # the tab on the call closes
        await alice.drop()
        held = await caller.status(CallStatus.WAITING, timeout=8)
        assert held["reason"] == "agent_reconnecting"
        told = await other_tab.expect(
            "call_status", lambda f: f["status"] == "waiting" and f["reason"] == "agent_reconnecting", timeout=5
        )
        assert told["agent_id"] == "alice"
        await again.answer(phone.call_id)
        assert (await caller.status(CallStatus.CONNECTED, timeout=10))["reason"] == "agent_reconnected"
        again.mic.play(tone(1000), "agent-tone")
        await hears(lambda: caller.heard, 1000)
    finally:
        await again.close()
        await phone.close()
        await caller.close()


async def test_a_conversation_closed_while_its_caller_holds_ends_the_call(clients: Clients, node: Node) -> None:
    """The agent closed the conversation while the caller held for her desk (an exploratory test: the caller held,
    then waited in a closed conversation's queue for good, nobody could ever answer): the call ends instead."""
    alice, phone, caller = await answered_call(clients)
    try:
        cid = caller.conversation_id
        await phone.close()
        assert (await caller.status(CallStatus.WAITING, timeout=10))["reason"] == "agent_reconnecting"
        await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
        await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
        ended = await caller.status(CallStatus.ENDED, timeout=15)
        assert ended["reason"] == "agent_lost"
        conv = await node.services.store.conversation(cid)
        assert conv is not None and conv["state"] == "closed"
    finally:
        await phone.close()
        await caller.close()
