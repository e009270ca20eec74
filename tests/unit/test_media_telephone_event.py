"""media.telephone_event without a network: SDP negotiation, the receive hook, the sequencer, guards."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiortc
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.codecs import CODECS
from aiortc.rtp import RtpPacket

from media.dtmf import build_telephone_event
from media.errors import TelephoneEventError, UnsupportedAiortcVersion
from media.player import PromptPlayer
from media.telephone_event import _Sequencer, check_aiortc, enable_telephone_events

# What Chromium offers (trimmed), with telephone-event on unusual payload types 101 and 100
# so the tests can tell "taken from the remote offer" from "our own defaults".
CHROMIUM_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 101 100",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:Xq3t",
        "a=ice-pwd:a8bKf0Jc3m1Jm6jBCiqI4RqQ",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:stream track",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:101 telephone-event/48000",
        "a=rtpmap:100 telephone-event/8000",
        "a=ssrc:1234 cname:abcdefgh",
        "a=ssrc:1234 msid:stream track",
        "",
    ]
)


@pytest.fixture
async def pcs() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    for pc in made:
        await pc.close()


def new_pc(pcs: list[RTCPeerConnection]) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pcs.append(pc)
    return pc


def rtpmaps(sdp: str) -> list[str]:
    return [line.split(":", 1)[1] for line in sdp.splitlines() if line.startswith("a=rtpmap:")]


def m_line(sdp: str) -> list[str]:
    return next(line for line in sdp.splitlines() if line.startswith("m=audio")).split()[3:]


async def test_offer_carries_telephone_event_like_chromium(pcs: list[RTCPeerConnection]) -> None:
    pc = new_pc(pcs)
    pc.addTrack(PromptPlayer())
    enable_telephone_events(pc)
    offer = await pc.createOffer()
    assert rtpmaps(offer.sdp) == [
        "96 opus/48000/2",
        "9 G722/8000",
        "0 PCMU/8000",
        "8 PCMA/8000",
        "110 telephone-event/48000",
        "126 telephone-event/8000",
    ]
    assert m_line(offer.sdp) == ["96", "9", "0", "8", "110", "126"]
    assert "a=fmtp:110 0-15" in offer.sdp and "a=fmtp:126 0-15" in offer.sdp
    await pc.setLocalDescription(offer)  # aiortc accepts its own extended offer


async def test_answer_keeps_the_remote_payload_types(pcs: list[RTCPeerConnection]) -> None:
    pc = new_pc(pcs)
    events = enable_telephone_events(pc, lambda d: None)
    await pc.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    answer = await pc.createAnswer()
    assert rtpmaps(answer.sdp) == [
        "111 opus/48000/2",
        "9 G722/8000",
        "0 PCMU/8000",
        "8 PCMA/8000",
        "101 telephone-event/48000",
        "100 telephone-event/8000",
    ]
    transceiver = pc.getTransceivers()[0]
    assert [(c.payloadType, c.clockRate) for c in events.negotiated(transceiver)] == [(101, 48000), (100, 8000)]
    await pc.setLocalDescription(answer)


async def test_other_connections_stay_stock(pcs: list[RTCPeerConnection]) -> None:
    codecs_before = [str(c) for c in CODECS["audio"]]
    enabled, stock = new_pc(pcs), new_pc(pcs)
    enable_telephone_events(enabled)
    await enabled.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    await stock.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    assert "telephone-event" not in (await stock.createAnswer()).sdp
    assert "telephone-event" in (await enabled.createAnswer()).sdp
    assert [str(c) for c in CODECS["audio"]] == codecs_before


async def test_remote_without_telephone_event(pcs: list[RTCPeerConnection]) -> None:
    pc = new_pc(pcs)
    events = enable_telephone_events(pc)
    offer = "\r\n".join(line for line in CHROMIUM_OFFER.split("\r\n") if "telephone-event" not in line)
    await pc.setRemoteDescription(RTCSessionDescription(offer.replace(" 101 100", ""), "offer"))
    assert "telephone-event" not in (await pc.createAnswer()).sdp
    with pytest.raises(TelephoneEventError, match="not negotiated"):
        events.dtmf_sender()


def te_packet(digit: str, ts: int, seq: int, end: bool = False, pt: int = 101) -> RtpPacket:
    return RtpPacket(
        payload_type=pt, sequence_number=seq, timestamp=ts, ssrc=1234, payload=build_telephone_event(digit, end, 960)
    )


async def test_hook_takes_events_away_from_the_decoder_and_closes_the_gap(
    pcs: list[RTCPeerConnection], monkeypatch: pytest.MonkeyPatch
) -> None:
    reached_decoder: list[tuple[int, int]] = []

    async def aiortc_handler(self: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int) -> None:
        reached_decoder.append((packet.payload_type, packet.sequence_number))

    monkeypatch.setattr(RTCRtpReceiver, "_handle_rtp_packet", aiortc_handler)  # what the hook wraps
    pc = new_pc(pcs)
    digits: list[str] = []
    events = enable_telephone_events(pc, digits.append)
    await pc.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    receiver = pc.getTransceivers()[0].receiver

    stream = [
        RtpPacket(payload_type=111, sequence_number=10, timestamp=0, ssrc=1234, payload=b"a"),
        te_packet("1", 960, 11),
        te_packet("1", 960, 12, end=True),
        te_packet("1", 960, 13, end=True),
        te_packet("1", 960, 14, end=True),
        RtpPacket(payload_type=111, sequence_number=15, timestamp=5760, ssrc=1234, payload=b"b"),
        te_packet("#", 6720, 16, pt=100),
        RtpPacket(payload_type=111, sequence_number=17, timestamp=7680, ssrc=1234, payload=b"c"),
    ]
    for packet in stream:
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    assert digits == ["1", "#"]
    # audio arrives with contiguous sequence numbers: 10, 11, 12 instead of 10, 15, 17
    assert reached_decoder == [(111, 10), (111, 11), (111, 12)]
    assert (events.stats.packets, events.stats.digits) == (5, 2)


async def test_callback_errors_are_logged_not_raised(
    pcs: list[RTCPeerConnection], caplog: pytest.LogCaptureFixture
) -> None:
    pc = new_pc(pcs)

    def broken(digit: str) -> None:
        raise RuntimeError("flow crashed")

    events = enable_telephone_events(pc, broken)
    await pc.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    with caplog.at_level(logging.ERROR, logger="media.telephone_event"):
        await pc.getTransceivers()[0].receiver._handle_rtp_packet(te_packet("5", 0, 1), arrival_time_ms=0)
    assert "on_digit callback failed for digit '5'" in caplog.text
    assert events.stats.digits == 1


async def test_malformed_payload_is_counted(pcs: list[RTCPeerConnection]) -> None:
    pc = new_pc(pcs)
    events = enable_telephone_events(pc)
    await pc.setRemoteDescription(RTCSessionDescription(CHROMIUM_OFFER, "offer"))
    bad = RtpPacket(payload_type=101, sequence_number=1, timestamp=0, ssrc=1, payload=b"\x01")
    await pc.getTransceivers()[0].receiver._handle_rtp_packet(bad, arrival_time_ms=0)
    assert events.stats.malformed == 1


async def test_enabling_twice_is_refused(pcs: list[RTCPeerConnection]) -> None:
    pc = new_pc(pcs)
    enable_telephone_events(pc)
    with pytest.raises(TelephoneEventError, match="already enabled"):
        enable_telephone_events(pc)


async def test_version_guard(pcs: list[RTCPeerConnection], monkeypatch: pytest.MonkeyPatch) -> None:
    check_aiortc()
    monkeypatch.setattr(aiortc, "__version__", "2.1.0")
    with pytest.raises(UnsupportedAiortcVersion, match="aiortc 2.1.0 is installed"):
        enable_telephone_events(new_pc(pcs))
    monkeypatch.setattr(aiortc, "__version__", "1.16.0")
    monkeypatch.delattr(RTCRtpReceiver, "_handle_rtp_packet")
    with pytest.raises(UnsupportedAiortcVersion, match="_handle_rtp_packet"):
        check_aiortc()


def rtp_bytes(seq: int, ts: int) -> bytes:
    return RtpPacket(payload_type=96, sequence_number=seq, timestamp=ts, ssrc=7, payload=b"x").serialize()


def test_sequencer_shares_the_sequence_space() -> None:
    seq = _Sequencer()
    sent = []

    def audio(n: int) -> None:
        out = seq.outgoing_audio(rtp_bytes(n, n * 960))
        if out is not None:
            sent.append(("audio", RtpPacket.parse(out).sequence_number))

    audio(100)
    audio(101)
    seq.mute = True
    for n in (102, 103):
        sent.append(("event", seq.next_event_seq()))
        audio(n)  # muted while the event plays
    for _ in range(3):
        sent.append(("event", seq.next_event_seq()))
    seq.mute = False
    audio(104)
    audio(105)
    assert [n for _, n in sent] == list(range(100, 100 + len(sent)))
    assert [kind for kind, _ in sent] == ["audio"] * 2 + ["event"] * 5 + ["audio"] * 2
    assert seq.last_timestamp == 105 * 960
