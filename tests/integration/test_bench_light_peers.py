"""The benches' light peers (bench/light_peers.py) against a real node: what they count is what the gateway sent,
and what they send is audio the gateway hears (a key pressed as in-band tones ends the call in the test flow)."""

from __future__ import annotations

import asyncio

from bench.light_peers import LightCaller, LightSoftphone, packets_of
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
