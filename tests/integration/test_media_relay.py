"""The bridge relaying Opus packets between two real legs (aiortc peers on loopback), and switching paths.

A "caller" and an "agent" peer each send a steady tone (440 Hz and 660 Hz) to an :class:`~media.leg.AudioLeg` of
the gateway side; a :class:`~media.bridge.Bridge` joins the two legs with their relay points. Relaying, each tone
reaches the other peer while neither leg decodes anything; a supervisor's leg listening mid-call adds decoding
beside the relay (the supervisor hears both tones, the call audio keeps flowing); hold switches to the decoding
path (music to the caller) and resuming relays again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aioice.ice
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media.audio import Audio
from media.bridge import DECODE, RELAY, RELAY_AND_TAP, Bridge
from media.direct_receive import DirectReceive
from media.direct_send import DirectSender
from media.leg import AudioLeg
from media.loopback import TrackRecorder, loopback_only_host
from media.music import hold_music
from media.opus import OpusPrompts
from media.player import PromptPlayer

RATE = 48000
CALLER_HZ, AGENT_HZ = 440.0, 660.0
WAIT = 15.0  # generous bound for conditions (never a timing assertion)


@pytest.fixture(autouse=True)
def ice_on_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    if loopback_only_host():
        monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


def tone(hz: float, seconds: float = 1.0) -> Audio:
    t = np.arange(int(RATE * seconds)) / RATE
    return Audio((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), RATE)


def energy(samples: np.ndarray, hz: float) -> float:
    """Amplitude of ``hz`` in ``samples`` (single-bin DFT over whole cycles of a 0.2 s window)."""
    if len(samples) < RATE // 5:
        return 0.0
    x = samples[-RATE // 5 :].astype(np.float64)
    kernel = np.exp(-2j * np.pi * hz * np.arange(len(x)) / RATE)
    return float(2 * abs(np.dot(x, kernel)) / len(x))


@dataclass
class End:
    """A remote peer (a browser's stand-in) sending ``hz`` to a gateway leg, recording what it hears."""

    peer: RTCPeerConnection
    leg: AudioLeg
    recorder: TrackRecorder | None = None
    on_audio: Callable[[np.ndarray], None] | None = None  # the leg's decoded audio goes here (the bridge)

    def hears(self, hz: float, after: int = 0) -> bool:
        return self.recorder is not None and energy(self.recorder.samples[after:], hz) > 1000

    @property
    def heard(self) -> int:
        return 0 if self.recorder is None else len(self.recorder.samples)


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.02)
    assert condition(), what


async def dial(opus: OpusPrompts, hz: float | None, *, packets: bool = True, name: str) -> End:
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender = PromptPlayer()
    if hz is not None:
        sender.loop(tone(hz), "tone")
    peer.addTrack(sender)
    leg = AudioLeg(
        on_audio=lambda samples: end.on_audio(samples) if end.on_audio is not None else None,
        on_closed=lambda _w: None,
        opus_silence=opus.silence if packets else None,
        name=name,
    )
    end = End(peer, leg)

    @peer.on("track")
    def on_track(track):  # type: ignore[no-untyped-def]
        end.recorder = TrackRecorder(track).start()

    await peer.setLocalDescription(await peer.createOffer())
    answer = await leg.accept(peer.localDescription.sdp)
    await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    assert await leg.wait_connected(WAIT)
    return end


@pytest.fixture
async def call() -> AsyncIterator[tuple[End, End, Bridge, OpusPrompts]]:
    opus = OpusPrompts()
    ends: list[End] = []
    bridge: Bridge | None = None
    try:
        ends.append(await dial(opus, CALLER_HZ, name="caller"))
        ends.append(await dial(opus, AGENT_HZ, name="agent"))
        caller, agent = ends
        decoded = caller.leg.frames_decoded
        await wait_for(lambda: caller.leg.frames_decoded > decoded, "the caller leg decodes before the bridge")
        bridge = Bridge(caller.leg.player, agent.leg.player, relays=(caller.leg.relay, agent.leg.relay))
        caller.on_audio, agent.on_audio = bridge.from_a, bridge.from_b  # as gateway/calls does
        yield caller, agent, bridge, opus
    finally:
        if bridge is not None:
            bridge.close()
        for end in ends:
            if end.recorder is not None:
                await end.recorder.stop()
            await end.leg.close()
            await end.peer.close()


async def test_relaying_carries_both_tones_without_decoding(call: tuple[End, End, Bridge, OpusPrompts]) -> None:
    caller, agent, bridge, _ = call
    assert bridge.mode == RELAY
    # packets still in aiortc's decoder when the bridge started come out; from then on nothing is decoded
    await asyncio.sleep(0.1)
    decoded = (caller.leg.frames_decoded, agent.leg.frames_decoded, bridge.decoded)
    await wait_for(lambda: agent.hears(CALLER_HZ) and caller.hears(AGENT_HZ), "each tone reaches the other side")
    heard = (caller.heard, agent.heard)
    await wait_for(lambda: caller.heard > heard[0] + RATE and agent.heard > heard[1] + RATE, "a second more")
    assert agent.hears(CALLER_HZ) and caller.hears(AGENT_HZ)
    assert (caller.leg.frames_decoded, agent.leg.frames_decoded, bridge.decoded) == decoded
    assert caller.leg.relay is not None and agent.leg.relay is not None
    assert caller.leg.relay.relayed > 50 and agent.leg.relay.relayed > 50
    assert caller.leg.player.stats.relayed > 50 and agent.leg.player.stats.relayed > 50


async def test_a_supervisor_listening_mid_call_hears_both_sides_and_the_call_keeps_flowing(
    call: tuple[End, End, Bridge, OpusPrompts],
) -> None:
    caller, agent, bridge, opus = call
    await wait_for(lambda: agent.hears(CALLER_HZ) and caller.hears(AGENT_HZ), "relaying first")
    supervisor = await dial(opus, None, packets=False, name="supervisor")
    try:
        switched_at = (caller.heard, agent.heard)
        bridge.listen(supervisor.leg.player)
        assert bridge.mode == RELAY_AND_TAP
        await wait_for(
            lambda: supervisor.heard > RATE // 2 and supervisor.hears(CALLER_HZ) and supervisor.hears(AGENT_HZ),
            "the supervisor hears both sides",
        )
        assert bridge.decoded > 0
        # the call's own audio never stopped: relayed all along, the tones are there after the switch
        await wait_for(
            lambda: caller.heard > switched_at[0] + RATE and agent.heard > switched_at[1] + RATE, "a second more"
        )
        assert agent.hears(CALLER_HZ, after=switched_at[1]) and caller.hears(AGENT_HZ, after=switched_at[0])
        assert bridge.switches == 1 and caller.leg.player.relaying
        bridge.unlisten(supervisor.leg.player)
        assert bridge.mode == RELAY
    finally:
        if supervisor.recorder is not None:
            await supervisor.recorder.stop()
        await supervisor.leg.close()
        await supervisor.peer.close()


async def test_hold_decodes_and_plays_music_then_resume_relays_again(
    call: tuple[End, End, Bridge, OpusPrompts],
) -> None:
    caller, agent, bridge, opus = call
    await wait_for(lambda: agent.hears(CALLER_HZ) and caller.hears(AGENT_HZ), "relaying first")
    music = hold_music()
    bridge.hold(music, await asyncio.to_thread(opus.packets, music))
    assert bridge.mode == DECODE and not caller.leg.player.relaying and not agent.leg.player.relaying
    held_at = (caller.heard, agent.heard)
    await wait_for(lambda: caller.heard > held_at[0] + RATE and agent.heard > held_at[1] + RATE, "a second of hold")
    assert not caller.hears(AGENT_HZ, after=held_at[0])  # music, not the agent
    assert np.abs(caller.recorder.samples[held_at[0] :]).max() > 1000  # type: ignore[union-attr]
    assert not agent.hears(CALLER_HZ, after=held_at[1])  # the agent hears silence
    bridge.resume()
    assert bridge.mode == RELAY and bridge.switches == 2
    resumed_at = (caller.heard, agent.heard)
    await wait_for(
        lambda: agent.hears(CALLER_HZ, after=resumed_at[1]) and caller.hears(AGENT_HZ, after=resumed_at[0]),
        "relaying again after the hold",
    )


async def test_a_whisper_switches_to_the_decoding_path_and_back(call: tuple[End, End, Bridge, OpusPrompts]) -> None:
    caller, agent, bridge, _ = call
    await wait_for(lambda: agent.hears(CALLER_HZ), "relaying first")
    bridge.whisper(np.zeros(960, dtype=np.int16), "monitor-s1")
    assert bridge.mode == DECODE
    at = (caller.heard, agent.heard)
    await wait_for(
        lambda: agent.hears(CALLER_HZ, after=at[1]) and caller.hears(AGENT_HZ, after=at[0]) and bridge.decoded > 0,
        "decoded and mixed, both sides still hear each other",
    )
    bridge.drop_source("monitor-s1")
    assert bridge.mode == RELAY


@dataclass
class Sent:
    """An RTP packet a gateway leg put on its socket: its header fields and the task that sent it."""

    payload_type: int
    sequence: int
    timestamp: int
    task: asyncio.Task[Any] | None


@contextmanager
def sent_rtp(leg: AudioLeg) -> Iterator[list[Sent]]:
    """Every RTP packet ``leg`` sends from now on, seen on its UDP socket (aiortc's and aioice's code, and ours,
    run unchanged; the socket's transport is observed, the RTP header is in the clear under SRTP)."""
    dtls = leg.pc.getTransceivers()[0].sender.transport
    socket_transport = dtls.transport._connection._nominated[1].protocol.transport
    sent: list[Sent] = []
    original = socket_transport.sendto

    def sendto(data: bytes, addr: Any = None) -> None:
        if len(data) >= 12 and data[0] >> 6 == 2 and not 72 <= data[1] & 0x7F <= 76:  # RTP, not RTCP
            sequence, timestamp = int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:8], "big")
            sent.append(Sent(data[1] & 0x7F, sequence, timestamp, asyncio.current_task()))
        original(data, addr)

    socket_transport.sendto = sendto
    try:
        yield sent
    finally:
        del socket_transport.sendto


async def test_relayed_packets_leave_from_the_receive_path_and_the_stream_numbers_on_across_hold(
    call: tuple[End, End, Bridge, OpusPrompts],
) -> None:
    """A packet relayed to the agent is sent from the receive path of the caller leg, in the step that read it:
    the datagram callback that read the caller's socket (media/direct_receive.py: no task), or the caller leg's
    DTLS receive loop for a packet that went through aioice's queue; never by the agent leg's sender task,
    which used to be woken for it one loop iteration later. What the caller hears through relay -> hold (music on the sender's clock) ->
    relay is one RTP stream: consecutive sequence numbers (no gap a jitter buffer takes for loss), timestamps
    always forward, and the sender's stats count every packet."""
    caller, agent, bridge, opus = call
    await wait_for(lambda: agent.hears(CALLER_HZ) and caller.hears(AGENT_HZ), "relaying first")
    receiving = caller.leg.pc.getTransceivers()[0].receiver.transport._task  # the caller leg's receive loop
    agent_sender = agent.leg.pc.getTransceivers()[0].sender
    caller_sender = caller.leg.pc.getTransceivers()[0].sender
    assert caller.leg.relay is not None
    opus_pt = caller.leg.relay.payload_type
    counted = (await caller_sender.getStats()).get("outbound-rtp_" + str(id(caller_sender)))
    assert counted is not None
    sent_before = counted.packetsSent
    at_once = caller.leg.pc.getTransceivers()[0].receiver.transport.transport._connection.data_received.__self__
    assert isinstance(at_once, DirectReceive)
    handled_before = at_once.handled
    with sent_rtp(agent.leg) as to_agent, sent_rtp(caller.leg) as to_caller:
        await wait_for(lambda: sum(p.payload_type == opus_pt for p in to_agent) >= 50, "50 packets relayed")
        relayed = [p for p in to_agent if p.payload_type == opus_pt]
        assert all(p.task in (None, receiving) for p in relayed), {getattr(p.task, "get_name", str)() for p in relayed}
        # read and relayed in the socket's callback: each such packet was one the caller leg handled at once
        from_callback = sum(p.task is None for p in relayed)
        assert from_callback > 0 and at_once.on and at_once.handled - handled_before >= from_callback
        assert agent.leg.player.stats.relayed_at_once >= len(relayed)
        assert isinstance(agent_sender, DirectSender) and agent_sender.sent_now >= len(relayed)

        music = hold_music()
        bridge.hold(music, await asyncio.to_thread(opus.packets, music))
        held_at = len(to_caller)
        await wait_for(lambda: len(to_caller) > held_at + 25, "half a second of music on hold")
        bridge.resume()
        resumed_at = len(to_caller)
        await wait_for(
            lambda: len(to_caller) > resumed_at + 25 and caller.hears(AGENT_HZ, after=caller.heard - RATE // 5),
            "relaying again after the hold",
        )
        stream = list(to_caller)
    assert {p.payload_type for p in stream} == {opus_pt}
    assert any(p.task not in (None, receiving) for p in stream[held_at:resumed_at])  # the music: the sender's task
    for before, after in zip(stream, stream[1:], strict=False):
        assert (after.sequence - before.sequence) % 2**16 == 1, (before, after)
        assert 0 < (after.timestamp - before.timestamp) % 2**32 < RATE, (before, after)
    counted = (await caller_sender.getStats()).get("outbound-rtp_" + str(id(caller_sender)))
    # getStats() runs without yielding to the loop: the counts bracket exactly what the socket saw
    assert counted is not None and counted.packetsSent == sent_before + len(stream)


async def test_a_listener_that_raises_loses_its_frames_not_the_call(caplog: pytest.LogCaptureFixture) -> None:
    """A leg nothing relays decodes beside, in its receive path (the socket's callback): a bug in what listens
    (the VAD, the recognizer) is logged once and counted, and the call stays connected and heard."""
    opus = OpusPrompts()
    end = await dial(opus, CALLER_HZ, name="ivr")
    heard = 0

    def hear(samples: np.ndarray) -> None:
        nonlocal heard
        heard += 1
        if heard % 10 == 0:
            raise RuntimeError("a bug in what listens")

    end.on_audio = hear
    try:
        await wait_for(lambda: end.leg.listener_errors >= 3, "the listener failed three times")
        await wait_for(lambda: heard >= 40, "frames keep reaching the listener")
        assert end.leg.pc.connectionState == "connected"
        failed = [r for r in caplog.records if "what listens to this leg failed" in r.getMessage()]
        assert len(failed) == 1 and failed[0].exc_info is not None  # once, with its traceback
    finally:
        await end.leg.close()
        await end.peer.close()
