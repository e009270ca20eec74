"""Agents answer calls: a real aiortc caller, a real aiortc softphone, the gateway bridging them.

The caller dials, presses 1 (billing) and waits with music on hold; routing
assigns the conversation to the available agent, whose softphone rings and
answers with its own WebRTC offer. Tones prove the audio crosses both ways
(by frequency, not just energy).
"""

from __future__ import annotations

import asyncio
import io
import stat
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import av
import numpy as np
import pytest

from gateway.contact.routing import parse_skills
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.caller import SAMPLE_RATE, Caller
from tests.support.junk import CHROMIUM_OFFER
from tests.support.queue_calls import hears, queued_call, strongest_hz, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


async def check_recording(node: Node, clients: Clients, url: str, token: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(node.url + url, headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
            data = await r.read()
        container = av.open(io.BytesIO(data))
        stream = container.streams.audio[0]
        pcm = np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)
        assert pcm.shape[0] == 2
        cid, name = url.split("/")[-2:]  # private at rest: only the gateway's user reads recordings
        recordings = node.services.settings.data_dir / "recordings"
        assert stat.S_IMODE((recordings / cid / name).stat().st_mode) == 0o600
        assert {stat.S_IMODE(d.stat().st_mode) for d in (recordings, recordings / cid)} == {0o700}
        left, right = (np.round(pcm[ch] * 32767).astype(np.int16) for ch in (0, 1))
        # somewhere both sides spoke at once: the left channel has the caller's 440 Hz, the right the agent's 1 kHz
        blocks = range(0, pcm.shape[1] - SAMPLE_RATE // 2, SAMPLE_RATE // 4)
        assert any(
            abs(strongest_hz(left[i : i + SAMPLE_RATE // 2]) - 440) < 15
            and abs(strongest_hz(right[i : i + SAMPLE_RATE // 2]) - 1000) < 15
            for i in blocks
        )
        # who may play it: the agent (above) and supervisors; not another agent, not a forged token
        bob = clients.agent("bob")
        carol = clients.agent("carol")
        for who, status in ((await bob.login(), 403), (await carol.login(), 200), ("forged.token", 401)):
            async with http.get(node.url + url, params={"token": who}) as r:
                assert r.status == status, (who, status, await r.text())
        async with http.get(node.url + url.rsplit("/", 1)[0] + "/..%2F..%2Fagents.toml", params={"token": token}) as r:
            assert r.status == 404


@pytest.fixture
async def quick_ring_node(settings) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, ring_seconds=2.5))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_agent_answers_and_both_sides_hear_each_other(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        ring = await phone.ringing()
        assert ring["conversation_id"] == caller.conversation_id and ring["agent_name"] == "Alice Smith"
        await phone.answer(ring["call_id"])
        connected = await caller.status(CallStatus.CONNECTED)
        assert connected["agent_name"] == "Alice Smith"
        caller.mic.play(tone(440), "caller-tone")
        await hears(lambda: phone.heard, 440)
        phone.mic.play(tone(1000), "agent-tone")
        await hears(lambda: caller.heard, 1000)
        events = await node.services.store.events(caller.conversation_id)
        answered = [e for e in events if e["type"] == "call_answered"]
        assert answered and answered[0]["agent_id"] == "alice" and answered[0]["wait_ms"] >= 0
        await asyncio.sleep(1.0)  # both tones together for a while: the recording holds both at once
        # the caller hangs up: the agent's softphone is told, the conversation stays with the agent
        await caller.hangup()
        ended = await phone.status(CallStatus.ENDED)
        assert ended["reason"] == "caller_hangup"
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["state"] == "assigned" and conv["agent_id"] == "alice"
        assert node.services.agent_calls.handoffs == {}
        assert node.services.agent_calls.waits is not None
        assert len(await node.services.agent_calls.waits.handle_times()) == 1  # feeds the wait estimates
        # the billing queue records: one stereo file, the caller on the left and the agent on the right
        recording = await alice.event("recording", timeout=10)
        assert recording["duration_ms"] > 1000 and recording["agent_id"] == "alice"
        assert recording["blocks_dropped"] >= 0 and 0 <= recording["dropped_ms"] <= recording["duration_ms"]
        await check_recording(node, clients, recording["url"], alice.token)
    finally:
        await phone.close()
        await caller.close()


async def test_hold_gives_music_to_the_caller_and_silence_to_the_agent(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await alice.send({"type": "call_hold", "call_id": phone.call_id, "hold": True})
        held = await phone.status(CallStatus.CONNECTED)
        assert held["reason"] == "held"
        mark_caller, mark_agent = len(caller.heard), len(phone.heard)
        caller.mic.play(tone(440, 2.0), "caller-tone")
        phone.mic.play(tone(1000, 2.0), "agent-tone")
        await asyncio.sleep(2.0)
        on_hold_caller = caller.heard[mark_caller:]
        on_hold_agent = phone.heard[mark_agent:]
        # the caller hears music (sound, but not the agent's 1 kHz), the agent hears nothing of the caller
        assert np.sqrt(np.mean(on_hold_caller[-SAMPLE_RATE:].astype(np.float64) ** 2)) > 100
        assert abs(strongest_hz(on_hold_caller[-SAMPLE_RATE:]) - 1000) > 50
        assert strongest_hz(on_hold_agent[-SAMPLE_RATE:]) == 0.0
        kinds = [e["type"] for e in await node.services.store.events(caller.conversation_id)]
        assert "call_held" in kinds
        await alice.send({"type": "call_hold", "call_id": phone.call_id, "hold": False})
        caller.mic.play(tone(440), "caller-tone-2")
        await hears(lambda: phone.heard, 440)
    finally:
        await phone.close()
        await caller.close()


@pytest.mark.parametrize("how", ["no_answer", "declined"])
async def test_missed_call_goes_back_to_the_queue_and_rings_the_next_agent(quick_ring_node: Node, how: str) -> None:
    clients = Clients(quick_ring_node.url)
    alice, bob = clients.agent("alice"), clients.agent("bob")
    phone: Softphone | None = None
    caller: Caller | None = None
    try:
        await alice.hello()
        caller = await queued_call(clients)
        ring = await Softphone(alice).ringing()
        if how == "declined":
            await alice.send({"type": "call_decline", "call_id": ring["call_id"]})
        waiting = await caller.status(CallStatus.WAITING)
        assert waiting["reason"] == how
        away = await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
        assert away["agent"]["away_reason"] == ("declined_call" if how == "declined" else "missed_call")
        events = await quick_ring_node.services.store.events(caller.conversation_id)
        missed = [e for e in events if e["type"] == "call_missed"]
        assert missed and missed[0]["agent_id"] == "alice" and missed[0]["reason"] == how
        await bob.hello()
        phone = Softphone(bob)
        await phone.answer((await phone.ringing())["call_id"])
        conv = await quick_ring_node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["agent_id"] == "bob"
    finally:
        if phone is not None:
            await phone.close()
        if caller is not None:
            await caller.close()
        await clients.close()


async def test_an_agent_who_goes_away_while_a_call_rings_sends_it_to_the_next_agent_at_once(
    clients: Clients, node: Node
) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    caller = await queued_call(clients)
    phone: Softphone | None = None
    try:
        ring = await Softphone(alice).ringing()
        # a break while it rings: the caller waited out the whole ring for somebody gone (an exploratory test)
        await alice.send({"type": "status", "status": "away", "reason": "break"})
        waiting = await caller.status(CallStatus.WAITING, timeout=5)  # (the ring is 20 s)
        assert waiting["reason"] == "agent_away"
        told = await alice.expect("call_status", lambda f: f["call_id"] == ring["call_id"] and f["status"] == "waiting")
        assert told["reason"] == "agent_away"  # her desk stops ringing
        info = await node.services.presence.info("alice")
        assert (info["status"], info["away_reason"], info["activity"]) == ("away", "break", "")  # hers, as she said
        await bob.hello()
        phone = Softphone(bob)
        await phone.answer((await phone.ringing())["call_id"])
        await caller.status(CallStatus.CONNECTED)
    finally:
        if phone is not None:
            await phone.close()
        await caller.close()


async def test_only_one_accept_wins_and_others_get_a_clear_error(clients: Clients, node: Node) -> None:
    alice_tab1, alice_tab2, bob = clients.agent("alice"), clients.agent("alice"), clients.agent("bob")
    await alice_tab1.hello()
    await alice_tab2.hello()
    await bob.hello(available=False)
    caller = await queued_call(clients)
    phones = [Softphone(alice_tab1), Softphone(alice_tab2), Softphone(bob)]
    try:
        call_id = (await phones[0].ringing())["call_id"]
        offers = await asyncio.gather(*(p.offer() for p in phones))
        await asyncio.gather(
            *(
                p.agent.send({"type": "call_offer", "call_id": call_id, "sdp": sdp})
                for p, sdp in zip(phones, offers, strict=True)
            )
        )
        results = [await p.agent.expect(("call_answer", "error"), timeout=10) for p in phones]
        kinds = [r["type"] for r in results]
        assert kinds[:2].count("call_answer") == 1 and kinds[:2].count("error") == 1, results
        assert results[2]["type"] == "error" and results[2]["code"] == "not_ringing"
        loser = results[0] if results[0]["type"] == "error" else results[1]
        assert loser["code"] == "already_answered"
    finally:
        for p in phones:
            await p.close()
        await caller.close()


async def test_a_caller_whose_page_closes_is_let_go_of_at_once(clients: Clients, node: Node) -> None:
    """The page with the call closes (no DTLS close reaches aiortc): its socket closing and the leg silent since end
    the call in about 2 s, not after aiortc's 30 s consent timeout while the IVR went on and an agent was rung for
    nobody (an exploratory test)."""
    caller = await queued_call(clients)
    try:
        caller.mic.end()  # the tab closes: nothing more is sent (its ICE still answers)
        await caller.customer.drop()
        await eventually_ended(node, caller.call_id)
        events = await node.services.store.events(caller.conversation_id)
        assert [e["reason"] for e in events if e["type"] == "call_ended"] == ["connection_closed"]
    finally:
        await caller.close()


async def eventually_ended(node: Node, call_id: str, seconds: float = 8.0) -> None:
    async with asyncio.timeout(seconds):
        while call_id in node.services.calls.calls:
            await asyncio.sleep(0.05)


async def test_an_end_whose_asker_is_cancelled_still_releases_the_call_its_agent_and_its_recording(
    clients: Clients, node: Node
) -> None:
    """Whoever ends a call may be cancelled meanwhile (an agent's socket handler that the server's shutdown
    cancels): the ending goes on by itself. Cut at its first await, it left the call half ended for good: no
    'ended' for the caller, the hand-off and its recording (a writer thread) never let go, the agent on the call."""
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        await phone.answer((await phone.ringing())["call_id"], wait_connected=True)
        await caller.status(CallStatus.CONNECTED)
        call = node.services.calls.calls[phone.call_id]
        assert node.services.agent_calls.handoffs[phone.call_id].recorder is not None
        caller.mic.play(tone(440), "caller-tone")
        await hears(lambda: phone.heard, 440)  # the bridge carries audio: the recording has something to write
        asker = asyncio.create_task(call.end("agent_hangup"))
        await asyncio.sleep(0)  # the ending has started
        asker.cancel()
        await asyncio.gather(asker, return_exceptions=True)
        ended = await caller.status(CallStatus.ENDED)
        assert ended["reason"] == "agent_hangup"
        recording = await alice.event("recording", timeout=10)
        assert recording["call_id"] == phone.call_id
        assert (
            phone.call_id not in node.services.agent_calls.handoffs and phone.call_id not in node.services.calls.calls
        )
        info = await node.services.presence.info("alice")
        assert info["activity"] == "wrap_up"
    finally:
        await phone.close()
        await caller.close()


async def test_agent_tab_closes_mid_call_and_the_caller_is_queued_again(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        call_id = (await phone.ringing())["call_id"]
        await phone.answer(call_id)
        await caller.status(CallStatus.CONNECTED)
        handoff = node.services.agent_calls.handoffs[call_id]
        waited = handoff.answered_ms - handoff.offered_ms
        await asyncio.sleep(1.5)  # they talk
        await phone.close()  # the tab goes away: its peer connection closes
        await alice.close()
        held = await caller.status(CallStatus.WAITING, timeout=10)  # the caller holds for the desk to come back
        assert held["reason"] == "agent_reconnecting"
        waiting = await caller.status(CallStatus.WAITING, timeout=15)  # it does not (agent_reconnect_seconds: 3)
        assert waiting["reason"] == "agent_lost"
        back = node.services.agent_calls.clock()
        events = await node.services.store.events(caller.conversation_id)
        lost = [e for e in events if e["type"] == "call_agent_lost"]
        assert lost and lost[0]["agent_id"] == "alice"
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["state"] == "queued"
        # its wait goes on from what it waited before the answer, not counting the talk and the hold for the desk
        # (its queue's maximum wait overflowed it at once, the next answer said "waited 1:58": an exploratory test)
        since = int(conv["queue_since"])
        assert back - 1_000 <= since + waited <= back, (since, waited, back)
        assert handoff.offered_ms == since and handoff.answered_ms == 0
    finally:
        await caller.close()


async def closed_for(node: Node, cid: str) -> dict[str, str]:
    async with asyncio.timeout(10):
        while (conv := await node.services.store.conversation(cid)) is None or conv["state"] != "closed":
            await asyncio.sleep(0.05)
    return conv


async def test_a_call_only_caller_who_hangs_up_in_the_queue_leaves_no_conversation_for_an_agent(
    clients: Clients, node: Node
) -> None:
    """Nobody is behind a call-only conversation once its caller hung up: it is closed ``abandoned``, not left in
    the queue for the next agent who becomes available."""
    alice = clients.agent("alice")
    await alice.hello(available=False)
    caller = await queued_call(clients)
    try:
        await caller.hangup()
        await caller.status(CallStatus.ENDED)
        conv = await closed_for(node, caller.conversation_id)
        assert conv["disposition"] == "abandoned"
        await alice.send({"type": "status", "status": "available"})
        await alice.expect("agent", lambda f: f["agent"]["status"] == "available")
        with pytest.raises(TimeoutError):
            await alice.assigned(timeout=1.5)
    finally:
        await caller.close()


async def test_a_call_only_caller_who_hangs_up_while_the_agent_rings_is_taken_from_the_agent(
    clients: Clients, node: Node
) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        await phone.ringing()
        await caller.hangup()
        await caller.status(CallStatus.ENDED)
        conv = await closed_for(node, caller.conversation_id)
        assert conv["disposition"] == "abandoned"
        gone = await alice.expect("unassigned", lambda f: f["conversation_id"] == caller.conversation_id)
        assert gone["reason"] == "abandoned"  # closed: not "call_...", which the desk reads as back in the queue
        # the timeline does not make alice its closer ("Closed · abandoned by Alice", who did nothing)
        (closed,) = [e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "closed"]
        assert (closed["agent_id"], closed["by_gateway"]) == ("alice", True)
    finally:
        await phone.close()
        await caller.close()


async def test_blind_transfer_to_an_agent_and_to_a_queue(clients: Clients, node: Node) -> None:
    alice, bob, carol = clients.agent("alice"), clients.agent("bob"), clients.agent("carol")
    await alice.hello()
    await bob.hello(available=False)
    await carol.hello(available=False)
    caller = await queued_call(clients)
    alice_phone, bob_phone, spy = Softphone(alice), Softphone(bob), Softphone(carol)
    try:
        await alice_phone.answer((await alice_phone.ringing())["call_id"])
        call_id = alice_phone.call_id
        # bob is away: refused, and nothing changed for the caller
        await alice.send({"type": "call_transfer", "call_id": call_id, "agent_id": "bob"})
        refused = await alice.expect("error")
        assert refused["code"] == "transfer_refused" and "away" in refused["message"]
        caller.mic.play(tone(440), "still-alice")
        await hears(lambda: alice_phone.heard, 440)
        # bob available: the call rings bob, who answers and talks with the caller
        await bob.send({"type": "status", "status": "available"})
        await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
        await spy.monitor(call_id, "listen")  # carol, a supervisor, listens in
        await asyncio.sleep(1.5)  # alice talks with the caller a while: none of it is bob's wait
        await alice.send({"type": "call_transfer", "call_id": call_id, "agent_id": "bob"})
        assert (await alice.expect("unassigned"))["reason"] == "transferred"
        # carol's listening ends with the reason: the call goes on with bob, it did not end
        left = await carol.expect("call_status", lambda f: f.get("monitor") and f["status"] == "ended")
        assert left["reason"] == "call_transferred", left
        ring = await bob_phone.ringing()
        assert ring["call_id"] == call_id
        transferred = await node.services.store.events(caller.conversation_id)
        await bob_phone.answer(call_id)
        bob_phone.mic.play(tone(1000), "bob")
        await hears(lambda: caller.heard, 1000)
        answers = [e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_answered"]
        assert [a["agent_id"] for a in answers] == ["alice", "bob"]
        since_transfer = answers[1]["ts"] - next(e["ts"] for e in transferred if e["type"] == "call_transferred")
        assert 0 <= answers[1]["wait_ms"] <= since_transfer + 50, (answers[1], since_transfer)
        # after-call work after a transfer: the conversation is bob's, so alice ends it herself ("Done")
        assert (await alice.expect("agent", lambda f: f["agent"]["activity"] == "wrap_up"))["agent"]["activity_until"]
        await alice.send({"type": "wrap_up_done"})
        await alice.expect("agent", lambda f: f["agent"]["activity"] == "")
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["agent_id"] == "bob"
        # bob sends it on to the support queue; with every agent away it waits there
        await alice.send({"type": "status", "status": "away"})
        await bob.send({"type": "status", "status": "away"})
        await bob.expect("agent", lambda f: f["agent"]["status"] == "away")
        # a queue the center does not have is refused, the call stays with bob (a typed name made a queue of its own)
        await bob.send({"type": "call_transfer", "call_id": call_id, "queue": "nosuchqueue"})
        refused = await bob.expect("error")
        assert (refused["code"], "there is no queue 'nosuchqueue'" in refused["message"]) == ("transfer_refused", True)
        assert node.services.agent_calls.handoffs[call_id].state.bridged
        await bob.send({"type": "call_transfer", "call_id": call_id, "queue": "support"})
        waiting = await caller.status(CallStatus.WAITING)
        assert waiting["reason"] == "transferred"
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and (conv["state"], conv["queue"]) == ("queued", "support")
        # a new arrival in support: at the back of the line, its skills overflow and maximum wait from the transfer
        assert int(conv["queued_at"]) >= answers[-1]["ts"], (conv["queued_at"], answers[-1])
        # the desks' queue shows it as a voice call, not as a chat with "No message yet"
        queue = await bob.expect("queue", lambda f: any(w["id"] == caller.conversation_id for w in f["waiting"]))
        (waiting_conv,) = [w for w in queue["waiting"] if w["id"] == caller.conversation_id]
        assert (waiting_conv["calls"], waiting_conv["last_text"]) == (1, None)
        moves = [
            (e.get("agent_id"), e.get("to_agent_id"), e.get("to_queue"))
            for e in await node.services.store.events(caller.conversation_id)
            if e["type"] == "call_transferred"
        ]
        assert moves == [("alice", "bob", ""), ("bob", "", "support")]
    finally:
        await spy.close()
        await alice_phone.close()
        await bob_phone.close()
        await caller.close()


async def test_skills_route_to_the_qualified_agent(clients: Clients, node: Node) -> None:
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol speaks Spanish (agents file)
    await alice.hello()
    await carol.hello()
    customer = clients.customer()
    await customer.hello()
    conversations = node.services.conversations
    cid, _ = await conversations.open_for_flow(customer.customer_id, {})
    assert await conversations.enqueue(cid, "soporte", skills=parse_skills("spanish:2"), priority=3)
    assigned = await carol.assigned()
    assert assigned["id"] == cid
    conv = await node.services.store.conversation(cid)
    assert conv is not None and (conv["agent_id"], conv["skills"], conv["priority"]) == ("carol", "spanish:2", "3")
    assert all(f["type"] != "assigned" for f in alice.seen + await alice.quiet(0.5))


async def test_supervisor_listens_silently_then_whispers_to_the_agent_only(clients: Clients, node: Node) -> None:
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol is a supervisor
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone, spy = Softphone(alice), Softphone(carol)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        async with aiohttp.ClientSession() as http:
            carol_token = await carol.login()
            async with http.get(node.url + "/api/calls", headers={"Authorization": f"Bearer {carol_token}"}) as r:
                listed = (await r.json())["calls"]
            async with http.get(node.url + "/api/calls", headers={"Authorization": f"Bearer {alice.token}"}) as r:
                assert r.status == 403  # agents do not list other people's calls
            # a token in the URL is for a recording's <audio> only (a proxy's access log keeps URLs)
            async with http.get(node.url + "/api/calls", params={"token": carol_token}) as r:
                assert (r.status, (await r.json())["code"]) == (401, "unauthorized")
        assert [c["call_id"] for c in listed] == [phone.call_id]
        await spy.monitor(phone.call_id, "listen")
        caller.mic.play(tone(440), "caller")
        await hears(lambda: spy.heard, 440)  # the supervisor hears the caller ...
        phone.mic.play(tone(1000), "agent")
        await hears(lambda: spy.heard, 1000)  # ... and the agent
        spy.mic.play(tone(700, 2.0), "silent")
        await asyncio.sleep(1.0)
        assert abs(strongest_hz(phone.heard[-SAMPLE_RATE // 2 :]) - 700) > 50  # listening is silent
        await carol.send({"type": "call_monitor", "call_id": phone.call_id, "mode": "whisper"})
        spy.mic.play(tone(700, 3.0), "coach")
        await hears(lambda: phone.heard, 700)  # now the agent hears the supervisor
        assert abs(strongest_hz(caller.heard[-SAMPLE_RATE // 2 :]) - 700) > 50  # the caller never does
        # an agent who is not a supervisor cannot listen in
        bob = clients.agent("bob")
        await bob.hello(available=False)
        await bob.send({"type": "call_monitor", "call_id": phone.call_id, "mode": "listen", "sdp": CHROMIUM_OFFER})
        assert (await bob.expect("error"))["code"] == "forbidden"
        modes = [
            e["mode"] for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_monitored"
        ]
        assert modes == ["listen", "whisper"]
        await carol.send({"type": "hangup", "call_id": phone.call_id})  # the supervisor leaves, the call goes on
        await asyncio.sleep(0.5)
        assert node.services.agent_calls.handoffs[phone.call_id].monitors == {}
        caller.mic.play(tone(440), "caller-again")
        await hears(lambda: phone.heard, 440)
    finally:
        await spy.close()
        await phone.close()
        await caller.close()


async def test_warm_transfer_consults_while_the_caller_holds_then_completes_or_cancels(
    clients: Clients, node: Node
) -> None:
    alice, bob, carol = clients.agent("alice"), clients.agent("bob"), clients.agent("carol")
    await alice.hello()
    await bob.hello(available=False)
    caller = await queued_call(clients)
    phones = {"alice": Softphone(alice), "bob": Softphone(bob), "carol": Softphone(carol)}
    try:
        await phones["alice"].answer((await phones["alice"].ringing())["call_id"])
        call_id = phones["alice"].call_id
        await bob.send({"type": "status", "status": "available"})
        await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
        await alice.send({"type": "call_consult", "call_id": call_id, "action": "start", "agent_id": "bob"})
        ring = await phones["bob"].ringing()
        assert ring["consult"] is True and ring["from_agent_name"] == "Alice Smith"
        await phones["bob"].answer(call_id, wait_connected=False)
        await alice.expect("call_status", lambda f: f["reason"] == "consulting")
        # the agents talk; the caller hears music, not them
        phones["alice"].mic.play(tone(1000), "alice")
        await hears(lambda: phones["bob"].heard, 1000)
        phones["bob"].mic.play(tone(700), "bob")
        await hears(lambda: phones["alice"].heard, 700)
        assert strongest_hz(caller.heard[-SAMPLE_RATE // 2 :]) not in (700.0, 1000.0)
        assert abs(strongest_hz(caller.heard[-SAMPLE_RATE // 2 :]) - 700) > 30
        # complete: the caller now talks with bob, the conversation is bob's
        await alice.send({"type": "call_consult", "call_id": call_id, "action": "complete"})
        assert (await alice.expect("unassigned"))["reason"] == "transferred"
        caller.mic.play(tone(440), "caller")
        await hears(lambda: phones["bob"].heard, 440)
        phones["bob"].mic.play(tone(1000), "bob-to-caller")
        await hears(lambda: caller.heard, 1000)
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and conv["agent_id"] == "bob"
        # bob consults carol, then cancels: the caller is back with bob
        await carol.hello()
        await bob.send({"type": "call_consult", "call_id": call_id, "action": "start", "agent_id": "carol"})
        await phones["carol"].ringing()
        await phones["carol"].answer(call_id, wait_connected=False)
        await bob.expect("call_status", lambda f: f["reason"] == "consulting")
        await carol.expect("call_status", lambda f: f["reason"] == "consulting")  # (bob's may be the first one's)
        # the caller holds until the consultation ends: no resume (nor hold) meanwhile
        await bob.send({"type": "call_hold", "call_id": call_id, "hold": False})
        assert (await bob.expect("error"))["code"] == "consult_busy"
        await bob.send({"type": "call_consult", "call_id": call_id, "action": "cancel"})
        await bob.expect("call_status", lambda f: f["reason"] == "consult_cancelled")
        caller.mic.play(tone(440), "caller-again")
        await hears(lambda: phones["bob"].heard, 440)
        steps = [
            (e.get("to_agent_id"), e.get("action"))
            for e in await node.services.store.events(caller.conversation_id)
            if e["type"] == "call_consult"
        ]
        assert steps == [("bob", "start"), ("carol", "start"), ("carol", "consult_cancelled")]
        warm = [e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_transferred"]
        assert warm and warm[0]["warm"] is True and warm[0]["to_agent_id"] == "bob"
        handoff = node.services.agent_calls.handoffs[call_id]
        assert [str(state) for _, state in handoff.history] == [
            "ringing",
            "connecting",
            "connected",  # alice answers
            "consult_ringing",
            "consult_connecting",
            "consulting",
            "connected",  # bob takes it over
            "consult_ringing",
            "consult_connecting",
            "consulting",
            "connected",
        ]  # carol, cancelled
    finally:
        for phone in phones.values():
            await phone.close()
        await caller.close()


async def test_agent_on_another_node_answers_holds_and_hangs_up(clients: Clients, node: Node, settings) -> None:  # type: ignore[no-untyped-def]
    other = await start_node(replace(settings, node_id="node-two"))  # same Redis: the desk here, the call on `node`
    try:
        alice = clients.agent("alice", url=other.url)
        await alice.hello()
        caller = await queued_call(clients)
        phone = Softphone(alice)
        try:
            await phone.answer((await phone.ringing())["call_id"])
            assert phone.call_id in node.services.agent_calls.handoffs  # media stays where the call is
            assert phone.call_id not in other.services.agent_calls.handoffs
            caller.mic.play(tone(440), "caller")
            await hears(lambda: phone.heard, 440)
            phone.mic.play(tone(1000), "agent")
            await hears(lambda: caller.heard, 1000)
            await alice.send({"type": "call_hold", "call_id": phone.call_id, "hold": True})
            assert (await phone.status(CallStatus.CONNECTED))["reason"] == "held"
            # an error raised on the call's node comes back as it was
            await alice.send({"type": "call_transfer", "call_id": phone.call_id, "agent_id": "bob"})
            assert (await alice.expect("error"))["code"] == "transfer_refused"
            await alice.send({"type": "hangup", "call_id": phone.call_id})
            assert (await caller.status(CallStatus.ENDED))["reason"] == "agent_hangup"
            assert (
                await node.services.store.redis.exists(node.services.keys.call(phone.call_id)) == 0
            )  # left the registry
        finally:
            await phone.close()
            await caller.close()
    finally:
        await clients.close()
        await bounded(other.stop(), "stopping the other node")


async def test_agent_leg_that_never_connects_counts_as_lost_and_the_caller_waits_again(
    clients: Clients, node: Node
) -> None:
    node.services.agent_calls.connect_seconds = 2.0
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        call_id = (await phone.ringing())["call_id"]
        offered = node.services.agent_calls.handoffs[call_id].offered_ms
        sdp = await phone.offer()
        await phone.pc.close()  # ICE can never complete: the desk vanished right after offering
        await alice.send({"type": "call_offer", "call_id": call_id, "sdp": sdp})
        await alice.expect("call_answer")
        waiting = await caller.status(CallStatus.WAITING, timeout=15)
        assert waiting["reason"] == "agent_lost"
        # never talked: the caller's wait goes on from when it was offered, not from now (a review)
        assert node.services.agent_calls.handoffs[call_id].offered_ms == offered
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and int(conv.get("queue_since") or 0) <= offered
        lost = [e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_agent_lost"]
        assert lost and lost[0]["reason"] == "agent_ice_timeout"
        info = await node.services.presence.info("alice")
        assert (info["status"], info["away_reason"]) == ("away", "call_lost")
    finally:
        await phone.close()
        await caller.close()


async def test_an_agent_removed_mid_call_sends_the_caller_back_to_the_queue_at_once(
    clients: Clients, node: Node
) -> None:
    """An admin removed an agent on a call: the caller heard "your agent's connection dropped, please hold while
    they reconnect" and held for a desk that could never come back (an exploratory test). Now the call goes back to
    the queue at once, and a supervisor listening hears that the agent was lost, not that the call ended."""
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol is a supervisor
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone, spy = Softphone(alice), Softphone(carol)
    try:
        call_id = (await phone.ringing())["call_id"]
        await phone.answer(call_id)
        await caller.status(CallStatus.CONNECTED)
        await spy.monitor(call_id, "listen")
        assert await node.services.agent_calls.handoffs[call_id].monitors["carol"].leg.wait_connected(10)
        await node.services.agent_admin.remove("ada", "alice")
        waiting = await caller.status(CallStatus.WAITING, timeout=5)
        assert waiting["reason"] == "agent_lost", waiting  # not agent_reconnecting: nobody to wait for
        lost = [e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_agent_lost"]
        assert [(e["agent_id"], e["reason"]) for e in lost] == [("alice", "agent_removed")]
        left = await carol.expect("call_status", lambda f: f.get("monitor") and f["status"] == "ended")
        assert left["reason"] == "agent_lost"  # the call goes on in the queue: it did not end
    finally:
        await phone.close()
        await spy.close()
        await caller.close()
