"""Bridge plumbing without the network: bounded live buffers, mixing, hold, listeners and whispers."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
import pytest

from media.audio import FrameConverter
from media.bridge import Bridge, LiveAudio, Mix
from media.leg import beside_decoder
from media.music import hold_music
from media.player import SAMPLES_PER_FRAME, PromptPlayer


def block(value: int) -> np.ndarray:
    return np.full(SAMPLES_PER_FRAME, value, dtype=np.int16)


def level(data: bytes | None) -> int:
    return 0 if data is None else int(np.frombuffer(data, dtype="<i2")[0])


async def next_block(player: PromptPlayer) -> np.ndarray:
    frame = await player.recv()
    return np.frombuffer(bytes(frame.planes[0]), dtype="<i2")[:SAMPLES_PER_FRAME]  # type: ignore[union-attr]


def test_live_audio_keeps_order_and_never_builds_delay() -> None:
    live = LiveAudio(max_blocks=3)
    live.push(np.concatenate([block(1), block(2)[:480]]))  # a block and a half
    assert level(live.pull()) == 1 and live.pull() is None  # the half waits for the rest
    live.push(block(2)[480:])
    for v in (3, 4, 5, 6):
        live.push(block(v))
    assert live.dropped == 2  # 2,3 dropped: at most 3 blocks of delay
    assert [level(live.pull()) for _ in range(4)] == [4, 5, 6, 0]


def test_mix_sums_sources_and_clips() -> None:
    mix = Mix(3, "a", "b")
    mix.push("a", block(1000))
    assert level(mix.pull()) == 1000  # one source: passed through
    mix.push("a", block(30000))
    mix.push("b", block(30000))
    assert level(mix.pull()) == 32767
    assert mix.pull() is None


async def test_bridge_crosses_holds_and_lets_a_supervisor_listen_and_whisper() -> None:
    caller, agent, supervisor = (PromptPlayer(paced=False) for _ in range(3))
    bridge = Bridge(caller, agent)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 100 and (await next_block(caller))[0] == 200
    # hold: music to the caller, silence to the agent, nothing crosses
    bridge.hold(hold_music())
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert not np.any(await next_block(agent))
    music = await next_block(caller)
    assert np.any(music) and music[0] != 200
    bridge.resume()
    # a listener hears both sides mixed; a whisper reaches the agent only
    bridge.listen(supervisor)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(supervisor))[0] == 300
    await next_block(agent), await next_block(caller)
    bridge.whisper(block(7))
    bridge.from_a(block(100))
    assert (await next_block(agent))[0] == 107
    assert not np.any(await next_block(caller))
    bridge.close()
    assert caller.live is None and agent.live is None and supervisor.live is None


async def test_a_barge_reaches_both_sides_until_its_source_is_dropped() -> None:
    caller, agent = PromptPlayer(paced=False), PromptPlayer(paced=False)
    bridge = Bridge(caller, agent)
    bridge.barge(block(9), "monitor-carol")
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 109 and (await next_block(caller))[0] == 209
    bridge.barge(block(9), "monitor-carol")
    bridge.drop_source("monitor-carol")  # the supervisor left (or went back to listening)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 100 and (await next_block(caller))[0] == 200
    bridge.close()


def test_a_standing_backlog_drains_block_by_block() -> None:
    live = LiveAudio(max_blocks=3, drain_window=5)
    live.push(np.concatenate([block(1), block(2)]))  # a burst leaves 2 blocks of delay behind
    for v in range(3, 23):  # then both clocks tick together
        live.push(block(v))
        live.pull()
    assert live.dropped == 2  # one block per quiet window, not all at once
    live.push(block(99))
    assert level(live.pull()) == 99 and live.pull() is None  # no delay left: what arrives goes out next


async def test_relayed_packets_keep_rtp_timestamps_continuous_across_every_switch() -> None:
    """The sender's timestamps (packet pts) run on without a jump or a step back through paced -> relay ->
    paced -> relay; relayed packets keep the remote's spacing (a lost packet stays a gap)."""
    player = PromptPlayer(paced=False, opus_silence=b"\xf8\xff\xfe")
    pts = [(await player.recv()).pts for _ in range(3)]
    player.start_relay()
    for ts, payload in ((123456, b"x"), (123456 + 960, b"y"), (123456 + 3 * 960, b"z")):  # one lost between
        player.relay(ts, payload)
    relayed = [await player.recv() for _ in range(3)]
    assert [bytes(p) for p in relayed] == [b"x", b"y", b"z"]
    pts += [p.pts for p in relayed]
    player.stop_relay()
    pts += [(await player.recv()).pts for _ in range(2)]
    player.start_relay()
    player.relay(2**32 - 480, b"w")  # the remote's timestamp wraps: ours does not jump
    player.relay(480, b"v")
    pts += [(await player.recv()).pts for _ in range(2)]
    assert pts == [0, 960, 1920, 2880, 3840, 5760, 6720, 7680, 8640, 9600]
    assert player.stats.relayed == 5 and player.stats.frames_sent == 10


async def test_relayed_packets_go_out_at_once_once_the_sender_waits_and_the_stream_stays_in_order() -> None:
    """With the sender's ``send_now``, a relayed packet leaves from ``relay()`` itself, but only once the sender's
    task waits in ``recv()`` for relayed packets: what it was still making (a paced frame, packets queued before)
    goes first. The pts run on through every switch, and the waiting task is not woken for packets sent at once."""
    out: list[tuple[str, int, bytes]] = []  # in the order they leave: (how, pts, payload)

    def send_now(timestamp: int, payload: bytes) -> bool:
        out.append(("now", timestamp, payload))
        return True

    player = PromptPlayer(paced=False, opus_silence=b"\xf8\xff\xfe", send_now=send_now)

    async def from_the_task() -> None:
        packet = await player.recv()
        out.append(("task", packet.pts, bytes(packet)))

    await from_the_task()  # a paced frame (silence)
    player.start_relay()
    player.relay(5000, b"x")  # the task is not waiting yet: queued for it
    await from_the_task()
    task = asyncio.ensure_future(from_the_task())
    await asyncio.sleep(0)  # the task now waits for relayed packets
    player.relay(5960, b"y")
    player.relay(7880, b"z")  # one lost in between: a gap of one frame, as relayed
    await asyncio.sleep(0)
    assert not task.done()  # not woken for them
    player.stop_relay()
    await task  # woken by the switch: a paced frame follows the last one sent at once
    assert out == [
        ("task", 0, b"\xf8\xff\xfe"),
        ("task", 960, b"x"),
        ("now", 1920, b"y"),
        ("now", 3840, b"z"),
        ("task", 4800, b"\xf8\xff\xfe"),
    ]
    assert (player.stats.relayed, player.stats.relayed_at_once, player.stats.frames_sent) == (3, 2, 5)


async def test_the_bridge_relays_packets_untouched_and_decodes_only_what_a_tap_or_hold_needs() -> None:
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtp import RtpPacket

    from media.aiortc_patches import PacketRelay
    from media.bridge import DECODE, RELAY, RELAY_AND_TAP

    silence = b"\xf8\xff\xfe"
    caller, agent, supervisor = (PromptPlayer(paced=False, opus_silence=silence) for _ in range(3))
    ra, rb = PacketRelay(JitterBuffer(16, 1), 111), PacketRelay(JitterBuffer(16, 1), 111)
    bridge = Bridge(caller, agent, relays=(ra, rb))
    assert bridge.mode == RELAY and caller.relaying and agent.relaying

    def packet(seq: int, payload: bytes, pt: int = 111) -> RtpPacket:
        p = RtpPacket(payload_type=pt, sequence_number=seq, timestamp=seq * 960, payload=payload)
        p._data = payload  # type: ignore[attr-defined]  # aiortc depayloads before the jitter buffer
        return p

    assert ra.add(packet(1, b"hello")) == (False, None)  # nothing for the decoder
    assert bytes(await agent.recv()) == b"hello" and (ra.relayed, ra.buffered) == (1, 0)
    assert ra.add(packet(2, b"\x00", pt=13))[1] is None and ra.buffered == 1  # not Opus: aiortc's path
    bridge.add_tap(lambda side, samples: None)
    assert bridge.mode == RELAY_AND_TAP and ra.decode
    for seq in (3, 4, 5):
        ra.add(packet(seq, b"p%d" % seq))
    assert ra.relayed == 4 and ra.buffered == 4  # relayed and buffered for decoding beside
    bridge.listen(supervisor)
    bridge.unlisten(supervisor)
    assert bridge.mode == RELAY_AND_TAP
    bridge.hold(hold_music())
    assert bridge.mode == DECODE and ra.sink is None and not caller.relaying
    bridge.resume()
    assert bridge.mode == RELAY_AND_TAP and caller.relaying and bridge.switches == 3
    bridge.close()
    assert bridge.mode == DECODE and ra.sink is None and ra.decode and not agent.relaying


async def test_a_tap_of_the_callers_side_decodes_only_that_side_beside_the_relay() -> None:
    """The in-band DTMF tap ("a") decodes the caller's packets while they are still relayed; the agent's side
    is decoded only once a tap of both sides (a recording) comes, and stops again when that tap goes."""
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtp import RtpPacket

    from media.aiortc_patches import PacketRelay
    from media.bridge import RELAY, RELAY_AND_TAP

    silence = b"\xf8\xff\xfe"
    caller, agent = (PromptPlayer(paced=False, opus_silence=silence) for _ in range(2))
    ra, rb = PacketRelay(JitterBuffer(16, 1), 111), PacketRelay(JitterBuffer(16, 1), 111)
    bridge = Bridge(caller, agent, relays=(ra, rb))
    seen: list[tuple[str, str]] = []
    digits = lambda side, samples: seen.append(("digits", side))  # noqa: E731
    recording = lambda side, samples: seen.append(("recording", side))  # noqa: E731
    bridge.add_tap(digits, "a")
    assert (bridge.mode, bridge.decoding, ra.decode, rb.decode) == (RELAY_AND_TAP, "a", True, False)
    assert ra.sink is not None and rb.sink is not None and caller.relaying and agent.relaying
    bridge.add_tap(recording)
    assert (bridge.decoding, ra.decode, rb.decode, bridge.switches) == (
        "ab",
        True,
        True,
        1,
    )  # no switch of path: decoding added beside
    bridge.from_a(block(1))
    bridge.from_b(block(2))
    assert seen == [("digits", "a"), ("recording", "a"), ("recording", "b")]
    assert bridge.tapped == ((digits, "a"), (recording, "ab"))
    bridge.remove_tap(recording)
    assert (bridge.mode, bridge.decoding, ra.decode, rb.decode) == (RELAY_AND_TAP, "a", True, False)
    # the leg's decoder beside the relay (media/leg.py) takes a tapped side's packets, not aiortc's buffer
    beside: list[bytes] = []
    ra.beside = lambda p: beside.append(p.payload)
    p = RtpPacket(payload_type=111, sequence_number=7, timestamp=7 * 960, payload=b"tone")
    p._data = p.payload  # type: ignore[attr-defined]  # aiortc depayloads before the jitter buffer
    assert ra.add(p) == (False, None) and beside == [b"tone"] and (ra.buffered, ra.decoded_beside) == (0, 1)
    assert bytes(await agent.recv()) == b"tone"  # and it was forwarded untouched all the same
    bridge.remove_tap(digits)
    assert (bridge.mode, bridge.decoding, ra.decode, rb.decode) == (RELAY, "", False, False)
    ra.add(p)
    assert beside == [b"tone"]  # nothing taps the caller's side now: relayed only
    with pytest.raises(ValueError):
        bridge.add_tap(digits, "c")


def test_relayed_packets_are_decoded_beside_as_mono() -> None:
    """The decoder beside a relay runs on the event loop for every tapped packet: libopus hands it mono (it
    downmixes while decoding) so no stereo frame is made and averaged per packet; what a tap hears is unchanged."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format, encoder.bit_rate = 48000, "stereo", "s16", 64000
    encoder.open()
    t = np.arange(SAMPLES_PER_FRAME * 10) / 48000
    left, right = (np.sin(2 * np.pi * hz * t) * 8000 for hz in (440, 1000))
    stereo = np.empty(2 * len(t), np.int16)
    stereo[0::2], stereo[1::2] = left, right
    packets = []
    for i in range(10):
        frame = av.AudioFrame.from_ndarray(
            stereo[2 * i * SAMPLES_PER_FRAME : 2 * (i + 1) * SAMPLES_PER_FRAME].reshape(1, -1),
            format="s16",
            layout="stereo",
        )
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * SAMPLES_PER_FRAME, Fraction(1, 48000)
        packets += [bytes(p) for p in encoder.encode(frame)]
    decoder = beside_decoder()
    converter = FrameConverter(48000)
    heard = []
    for payload in packets:
        for frame in decoder.decode(av.Packet(payload)):
            assert frame.layout.nb_channels == 1 and frame.format.name == "s16" and frame.samples == SAMPLES_PER_FRAME
            heard.append(converter.convert(frame))
    samples = np.concatenate(heard)[SAMPLES_PER_FRAME * 2 :].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
    both = [spectrum[np.argmin(np.abs(freqs - hz))] for hz in (440, 1000)]
    assert min(both) > 0.3 * max(both)  # both channels are in the mono mix


def test_a_leg_nothing_relays_decodes_its_packets_beside_not_through_aiortcs_buffer() -> None:
    """An IVR leg (no bridge) or a held call: each Opus packet goes to the leg's decoder at once; other payload
    types (a codec other than the negotiated Opus) still take aiortc's jitter buffer and decoder."""
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtp import RtpPacket

    from media.aiortc_patches import PacketRelay

    relay = PacketRelay(JitterBuffer(16, 1), 111)
    beside: list[bytes] = []
    relay.beside = lambda p: beside.append(p.payload)
    for seq, pt in ((1, 111), (2, 111), (3, 13)):
        p = RtpPacket(payload_type=pt, sequence_number=seq, timestamp=seq * 960, payload=b"p%d" % seq)
        p._data = p.payload  # type: ignore[attr-defined]  # aiortc depayloads before the jitter buffer
        relay.add(p)
    assert beside == [b"p1", b"p2"]
    assert (relay.decoded_beside, relay.buffered, relay.relayed) == (2, 1, 0)


async def test_a_packet_without_payload_does_not_end_the_decoding_beside() -> None:
    """aiortc hands an RTP packet with an empty payload (padding only) on as it is. Given to PyAV, an empty packet
    ends the stream (the decoder is flushed: every later packet raised EOFError, logged at debug), so the leg
    heard nothing more for the rest of the call: its IVR deaf, or the other side in a decoding bridge."""
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtp import RtpPacket

    from media.aiortc_patches import PacketRelay
    from media.leg import AudioLeg

    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format, encoder.bit_rate = 48000, "mono", "s16", 32000
    encoder.open()
    payloads = []
    for i in range(4):
        frame = av.AudioFrame.from_ndarray(block(1000).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * SAMPLES_PER_FRAME, Fraction(1, 48000)
        payloads += [bytes(p) for p in encoder.encode(frame)]
    assert len(payloads) >= 3
    heard: list[np.ndarray] = []
    leg = AudioLeg(on_audio=heard.append, on_closed=lambda why: None, name="empty")
    relay = PacketRelay(JitterBuffer(16, 4), 111)
    relay.beside = leg._decode_beside  # as AudioLeg.accept() sets it on a leg that answered Opus
    try:
        for seq, payload in enumerate((payloads[0], b"", *payloads[1:])):
            relay.add(RtpPacket(payload_type=111, sequence_number=seq, timestamp=seq * 960, payload=payload))
        assert leg.frames_decoded == len(heard) == len(payloads)  # was 1: nothing after the empty packet
    finally:
        await leg.close()
