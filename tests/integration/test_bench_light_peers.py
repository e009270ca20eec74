"""The benches' light peers (bench/light_peers.py) against a real node: what they count is what the gateway sent,
what they send is audio the gateway hears (a key pressed as in-band tones ends the call in the test flow), and a
listening softphone times the bursts a caller sends through the bridge (bench bridge's latency)."""

from __future__ import annotations

import asyncio
import time

from bench.bridge_calls import CALLER_AUDIO, PATTERN, OnsetDetector, TimedMic, late_arrivals, latencies
from bench.light_peers import OPUS_SILENCE, LightCaller, LightSoftphone, packets_of
from media.audio import Audio
from media.dtmf import dtmf_sequence
from tests.conftest import Clients
from tests.support.caller import SAMPLE_RATE
from tests.support.servers import Node

COUNT_SECONDS = 2.0


async def packets_per_second(counter_of: object, seconds: float = COUNT_SECONDS) -> float:
    counter = counter_of.counter  # type: ignore[attr-defined]
    assert counter is not None
    loop = asyncio.get_running_loop()
    n0, t0 = counter.packets, loop.time()
    await asyncio.sleep(seconds)
    return (counter.packets - n0) / (loop.time() - t0)


async def test_a_light_caller_hears_the_greeting_counts_packets_and_its_tones_are_heard(
    clients: Clients, node: Node
) -> None:
    customer = clients.customer()
    await customer.hello()
    caller = LightCaller(customer)
    try:
        await caller.dial()
        await caller.status("ivr")
        assert caller.counter is not None
        loud_at = await caller.counter.loud(timeout=15)
        await caller.counter.prompt_heard(timeout=15)
        assert caller.counter.prompt_end_at is not None and caller.counter.prompt_end_at > loud_at + 0.5
        # one Opus packet per 20 ms from the gateway's player; none counted twice (a loaded loop may skip some)
        assert 25 <= await packets_per_second(caller) <= 55
        tones = Audio(dtmf_sequence("2", SAMPLE_RATE), SAMPLE_RATE)
        await caller.mic.play(tones, "dtmf-2", packets_of(tones))  # "2": support, closed in the test flow
        ended = await caller.status("ended")
        assert ended["reason"] == "support_closed"
    finally:
        await caller.close()


async def test_a_light_softphone_answers_and_counts_the_callers_audio(clients: Clients, node: Node) -> None:
    agent = clients.agent("alice")
    await agent.hello()
    customer = clients.customer()
    await customer.hello()
    caller = LightCaller(customer)
    phone = LightSoftphone(agent)
    try:
        await caller.dial()
        assert caller.counter is not None
        await caller.counter.prompt_heard(timeout=15)  # the greeting; the menu follows and a key cuts it
        await caller.press("1")
        ring = await phone.ringing(timeout=30)
        await phone.answer(ring["call_id"])
        await caller.status("connected")
        assert phone.counter is not None and not phone.counter.decode  # an agent counts, decodes nothing
        assert 25 <= await packets_per_second(phone) <= 55  # the caller's stream, bridged to the agent
        assert 25 <= await packets_per_second(caller) <= 55  # and the agent's, back
    finally:
        await phone.close()
        await caller.close()


async def test_a_listening_light_softphone_times_every_burst_the_caller_sends(clients: Clients, node: Node) -> None:
    """bench bridge's measurement: the caller's microphone notes when each 1 kHz burst goes to its sender, the
    agent's light softphone decodes every packet as it arrives and finds each burst's onset."""
    detector = OnsetDetector()
    agent = clients.agent("alice")
    await agent.hello()
    customer = clients.customer()
    await customer.hello()
    mic = TimedMic(OPUS_SILENCE)
    caller = LightCaller(customer, mic, arrivals=True)
    phone = LightSoftphone(agent, on_audio=detector.feed, arrivals=True)
    try:
        await caller.dial()
        assert caller.counter is not None
        await caller.counter.prompt_heard(timeout=15)
        await caller.press("1")
        ring = await phone.ringing(timeout=30)
        await phone.answer(ring["call_id"])
        await caller.status("connected")
        t0 = time.monotonic()
        mic.loop(CALLER_AUDIO, PATTERN, packets_of(CALLER_AUDIO))  # a burst a second
        # by the bursts sent, not the clock (a loaded machine sent 3 in 4.5 s): the window closes after the third,
        # and the fourth going out gives the third a second to arrive
        async with asyncio.timeout(30):
            while len(mic.bursts) < 3:
                await asyncio.sleep(0.05)
            t1 = time.monotonic()
            while len(mic.bursts) < 4:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        took, lost = latencies(mic.bursts, detector.onsets, t0, t1)
        assert lost == 0 and len(took) >= 3, (took, lost, mic.bursts, detector.onsets)
        # one onset per burst (none from the 440 Hz tone between them), each after its burst left, within a call's
        # one-way time on loopback
        unpaired = [o for o in detector.onsets if not any(0 < o - b < 0.25 for b in mic.bursts)]
        assert not unpaired, (detector.onsets, mic.bursts)
        assert all(0 < ms < 250 for ms in took), took
        arrivals = phone.counter.arrivals if phone.counter else []
        late, received = late_arrivals(arrivals, t0, t1)
        assert 0.8 * 50 * (t1 - t0) <= received and late <= received
        # each packet counted once: as many as their RTP timestamps span (20 ms, 960 at 48 kHz, apart), whatever
        # the arrival times (a loaded machine delivers a backlog at once: counting by the clock said 228 > 227.8)
        stamps = [(ts - arrivals[0][1]) % 2**32 for at, ts in arrivals if t0 <= at < t1]  # (32-bit: may wrap)
        assert len(set(stamps)) == received <= (max(stamps) - min(stamps)) // 960 + 1, (
            received,
            min(stamps),
            max(stamps),
        )
    finally:
        await phone.close()
        await caller.close()
