"""RFC 4733 telephone-event for aiortc peer connections.

aiortc (1.16) neither negotiates ``telephone-event`` nor lets its packets
out: they are unknown payload types, dropped silently. Browsers only enable
``RTCDTMFSender`` when the answer carries telephone-event, so without this
module key presses from a web softphone never reach the gateway.

:func:`enable_telephone_events` changes **one** ``RTCPeerConnection``, never
aiortc's global codec table (other connections in the process stay stock):

* its ``setRemoteDescription`` keeps the remote's ``telephone-event`` codecs
  (every clock rate offered, the remote's payload types) in the audio
  transceiver's negotiated codecs, so ``createAnswer`` answers them and the
  receiver registers their payload types with the RTP router;
* its ``createOffer`` offers ``telephone-event/48000`` (PT 110) and ``/8000``
  (PT 126), as Chromium does;
* each audio ``RTCRtpReceiver``'s ``_handle_rtp_packet`` hands packets of
  those payload types to a :class:`~media.dtmf.TelephoneEventReceiver`
  before anything else sees them, so the jitter buffer and the decoder never
  do. Chromium sends events on the audio SSRC and sequence space (and mutes
  audio meanwhile), so each removed packet would leave a sequence gap that
  stalls aiortc's audio jitter buffer (it waits for the "missing" packet
  until 16 more arrive, adding ~300 ms of delay for the rest of the call);
  the hook renumbers later audio packets of that SSRC to close the gap
  (an event packet overtaken by a later audio packet costs one audio frame).

:class:`TelephoneEventSender` is the sending side for test harnesses and
benchmarks: it behaves like Chromium's ``RTCDTMFSender`` on the wire (same
SSRC, shared sequence numbers, timestamps on the audio clock, audio muted
during the event, end packet sent three times).

Internals used (checked by :func:`check_aiortc`): ``RTCRtpTransceiver._codecs``,
``RTCRtpReceiver._handle_rtp_packet``, ``RTCDtlsTransport._send_rtp``,
``RTCRtpSender._ssrc``, ``aiortc.sdp.SessionDescription``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiortc
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver, RTCSessionDescription
from aiortc import sdp as aiortc_sdp
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket, is_rtcp

from media.dtmf import TelephoneEventPayloadError, TelephoneEventReceiver, build_telephone_event
from media.errors import TelephoneEventError, UnsupportedAiortcVersion

log = logging.getLogger(__name__)

TELEPHONE_EVENT = "audio/telephone-event"
#: What we offer when we are the offerer: Chromium's payload types.
OFFERED = ((110, 48000), (126, 8000))
#: aiortc versions this module was written against (its internals are not API).
TESTED_AIORTC = ((1, 9), (2, 0))

OnDigit = Callable[[str], None]


def check_aiortc() -> None:
    """Raise :class:`UnsupportedAiortcVersion` unless the aiortc internals we hook exist."""
    version = getattr(aiortc, "__version__", "unknown")
    try:
        major_minor = tuple(int(x) for x in version.split(".")[:2])
    except ValueError:
        major_minor = (0, 0)
    if not TESTED_AIORTC[0] <= major_minor < TESTED_AIORTC[1]:
        raise UnsupportedAiortcVersion(
            f"telephone-event support was written for aiortc >=1.9,<2 (it hooks private internals); "
            f"aiortc {version} is installed"
        )
    missing = [
        name
        for owner, name in [
            (RTCRtpReceiver, "_handle_rtp_packet"),
            (RTCDtlsTransport, "_send_rtp"),
            (RTCPeerConnection, "setRemoteDescription"),
            (RTCPeerConnection, "createOffer"),
            (aiortc_sdp, "SessionDescription"),
        ]
        if not hasattr(owner, name)
    ]
    if "_codecs" not in RTCRtpTransceiver.__init__.__code__.co_names:
        missing.append("RTCRtpTransceiver._codecs")
    if "_ssrc" not in RTCRtpSender.__init__.__code__.co_names:
        missing.append("RTCRtpSender._ssrc")
    if missing:
        raise UnsupportedAiortcVersion(f"aiortc {version} lacks internals telephone-event needs: {', '.join(missing)}")


def is_telephone_event(codec: RTCRtpCodecParameters) -> bool:
    return codec.mimeType.lower() == TELEPHONE_EVENT


@dataclass
class TelephoneEventStats:
    packets: int = 0  # telephone-event packets taken away from the decoder
    digits: int = 0  # digits reported
    malformed: int = 0  # payloads under 4 bytes


class TelephoneEvents:
    """What :func:`enable_telephone_events` returns: the per-connection state and the sending side."""

    def __init__(self, pc: RTCPeerConnection, on_digit: OnDigit | None) -> None:
        self.pc = pc
        self.on_digit = on_digit
        self.receiver = TelephoneEventReceiver()
        self.stats = TelephoneEventStats()
        self._receive_pts: dict[int, frozenset[int]] = {}  # id(RTCRtpReceiver) -> PTs
        self._seq_gaps: dict[int, int] = {}  # ssrc -> event packets removed from its sequence space
        self._senders: dict[int, TelephoneEventSender] = {}  # id(RTCRtpSender) -> its DTMF sender

    def negotiated(self, transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
        """The telephone-event codecs negotiated on ``transceiver`` (empty if the remote has none)."""
        return [c for c in transceiver._codecs if is_telephone_event(c)]

    def dtmf_sender(self, sender: RTCRtpSender | None = None) -> TelephoneEventSender:
        """The Chromium-like RTCDTMFSender of ``sender`` (default: the first audio sender).

        One per sender, so concurrent ``insert_dtmf`` calls queue up instead of interleaving.
        """
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "audio" and (sender is None or transceiver.sender is sender):
                events = self.negotiated(transceiver)
                audio = [c for c in transceiver._codecs if not is_telephone_event(c)]
                if not events or not audio:
                    raise TelephoneEventError(
                        "telephone-event was not negotiated on this audio transceiver",
                        code="telephone_event_not_negotiated",
                    )
                same_clock = [c for c in events if c.clockRate == audio[0].clockRate]
                codec = (same_clock or events)[0]
                assert codec.payloadType is not None
                made = self._senders.get(id(transceiver.sender))
                if made is None or made.payload_type != codec.payloadType:
                    made = TelephoneEventSender(
                        transceiver.sender, codec.payloadType, codec.clockRate, audio[0].clockRate
                    )
                    self._senders[id(transceiver.sender)] = made
                return made
        raise TelephoneEventError("no audio sender on this peer connection", code="telephone_event_no_sender")

    # -- hooks --------------------------------------------------------------------------------

    def _after_remote_description(self, description: aiortc_sdp.SessionDescription) -> None:
        for media in description.media:
            if media.kind != "audio":
                continue
            transceiver = next((t for t in self.pc.getTransceivers() if t.mid == media.rtp.muxId), None)
            if transceiver is None:
                continue
            events = [copy.deepcopy(c) for c in media.rtp.codecs if is_telephone_event(c)]
            transceiver._codecs = [c for c in transceiver._codecs if not is_telephone_event(c)] + events
            self._hook_receiver(transceiver.receiver, events)

    def _extend_offer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        description = aiortc_sdp.SessionDescription.parse(offer.sdp)
        used = {c.payloadType for m in description.media for c in m.rtp.codecs}
        for index, media in enumerate(description.media):
            if media.kind != "audio":
                continue
            transceiver = next((t for t in self.pc.getTransceivers() if t._get_mline_index() == index), None)
            if transceiver is None:
                continue
            events = []
            for pt, rate in OFFERED:
                if pt in used:
                    pt = next(p for p in range(96, 128) if p not in used)
                used.add(pt)
                events.append(
                    RTCRtpCodecParameters(
                        mimeType=TELEPHONE_EVENT, clockRate=rate, channels=1, payloadType=pt, parameters={"0-15": None}
                    )
                )
            media.rtp.codecs += events
            media.fmt += [c.payloadType for c in events]
            transceiver._codecs = [c for c in transceiver._codecs if not is_telephone_event(c)] + events
            self._hook_receiver(transceiver.receiver, events)
        return RTCSessionDescription(sdp=str(description), type=offer.type)

    def _hook_receiver(self, receiver: RTCRtpReceiver, events: list[RTCRtpCodecParameters]) -> None:
        self._receive_pts[id(receiver)] = frozenset(c.payloadType for c in events if c.payloadType is not None)
        if getattr(receiver, "_media_telephone_events", None) is self:
            return
        original: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet
        key = id(receiver)

        async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
            if packet.payload_type in self._receive_pts.get(key, ()):
                self._on_event_packet(packet)
                return
            gap = self._seq_gaps.get(packet.ssrc)
            if gap:
                packet.sequence_number = (packet.sequence_number - gap) & 0xFFFF
            await original(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]
        receiver._media_telephone_events = self  # type: ignore[attr-defined]

    def _on_event_packet(self, packet: RtpPacket) -> None:
        self.stats.packets += 1
        self._seq_gaps[packet.ssrc] = self._seq_gaps.get(packet.ssrc, 0) + 1
        try:
            digit = self.receiver.feed(packet.ssrc, packet.timestamp, packet.payload)
        except TelephoneEventPayloadError as exc:
            self.stats.malformed += 1
            log.debug("dropped telephone-event packet: %s", exc)
            return
        if digit is None:
            return
        self.stats.digits += 1
        if self.on_digit is not None:
            try:
                self.on_digit(digit)
            except Exception:  # a callback bug must not kill the connection's receive loop
                log.exception("on_digit callback failed for digit %r", digit)


def enable_telephone_events(pc: RTCPeerConnection, on_digit: OnDigit | None = None) -> TelephoneEvents:
    """Negotiate RFC 4733 telephone-event on ``pc`` and route received events to ``on_digit``.

    Call it right after creating the connection, before ``setRemoteDescription``
    or ``createOffer``. ``on_digit`` runs on the event loop, once per key
    press ("0"-"9", "*", "#", "A"-"D"), at the first packet of the event.
    Raises :class:`UnsupportedAiortcVersion` if aiortc's internals changed.
    """
    check_aiortc()
    if getattr(pc, "_media_telephone_events", None) is not None:
        raise TelephoneEventError(
            "telephone events are already enabled on this connection", code="telephone_event_twice"
        )
    events = TelephoneEvents(pc, on_digit)
    set_remote = pc.setRemoteDescription
    create_offer = pc.createOffer

    async def set_remote_description(session_description: RTCSessionDescription) -> None:
        await set_remote(session_description)
        events._after_remote_description(aiortc_sdp.SessionDescription.parse(session_description.sdp))

    async def create_offer_with_events() -> RTCSessionDescription:
        return events._extend_offer(await create_offer())

    pc.setRemoteDescription = set_remote_description  # type: ignore[method-assign, assignment]
    pc.createOffer = create_offer_with_events  # type: ignore[method-assign]
    pc._media_telephone_events = events  # type: ignore[attr-defined]
    return events


# --- sending (test harness / benchmarks) ------------------------------------------------------------


class _Sequencer:
    """Rewrites one sender's outgoing RTP so injected event packets share its SSRC and sequence space."""

    def __init__(self) -> None:
        self.offset = 0  # added to the sender's own sequence numbers
        self.last_seq: int | None = None
        self.last_timestamp: int | None = None
        self.mute = False  # drop audio while an event plays (as Chromium does)

    def outgoing_audio(self, data: bytes) -> bytes | None:
        seq = int.from_bytes(data[2:4], "big")
        self.last_timestamp = int.from_bytes(data[4:8], "big")
        if self.mute:
            self.offset -= 1  # the next audio packet takes this one's number
            return None
        self.last_seq = (seq + self.offset) & 0xFFFF
        if self.offset == 0:
            return data
        return data[:2] + self.last_seq.to_bytes(2, "big") + data[4:]

    def next_event_seq(self) -> int:
        self.offset += 1
        self.last_seq = ((self.last_seq if self.last_seq is not None else 0) + 1) & 0xFFFF
        return self.last_seq


def _sequencers(transport: RTCDtlsTransport) -> tuple[dict[int, _Sequencer], Callable[[bytes], Awaitable[None]]]:
    """Install (once per transport) the ``_send_rtp`` hook; return its SSRC table and the unhooked send."""
    installed: tuple[dict[int, _Sequencer], Callable[[bytes], Awaitable[None]]] | None = getattr(
        transport, "_media_sequencers", None
    )
    if installed is not None:
        return installed
    table: dict[int, _Sequencer] = {}
    original: Callable[[bytes], Awaitable[None]] = transport._send_rtp

    async def send_rtp(data: bytes) -> None:
        if len(data) >= 12 and not is_rtcp(data):
            sequencer = table.get(int.from_bytes(data[8:12], "big"))
            if sequencer is not None:
                rewritten = sequencer.outgoing_audio(data)
                if rewritten is None:
                    return
                data = rewritten
        await original(data)

    transport._send_rtp = send_rtp  # type: ignore[method-assign]
    installed = (table, original)
    transport._media_sequencers = installed  # type: ignore[attr-defined]
    return installed


class TelephoneEventSender:
    """Sends key presses as RFC 4733 events the way Chromium's RTCDTMFSender does.

    Get one from :meth:`TelephoneEvents.dtmf_sender` once the connection is up.
    """

    def __init__(
        self,
        sender: RTCRtpSender,
        payload_type: int,
        clock_rate: int,
        audio_clock_rate: int,
        ptime: float = 0.020,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender = sender
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.audio_clock_rate = audio_clock_rate
        self.ptime = ptime
        self._clock = clock
        self._lock = asyncio.Lock()
        self.packets_sent = 0

    async def insert_dtmf(self, tones: str, duration_ms: int = 100, gap_ms: int = 70, volume: int = 10) -> None:
        """Send ``tones`` one after the other (``insertDTMF`` semantics; "," is a 2 s pause)."""
        for tone in tones:
            if tone != "," and tone.upper() not in "0123456789*#ABCD":
                raise ValueError(f"not a DTMF key: {tone!r}")
        if not 40 <= duration_ms <= 6000 or gap_ms < 30:
            raise ValueError("duration_ms must be 40-6000 and gap_ms at least 30 (WebRTC limits)")
        async with self._lock:
            for tone in tones:
                if tone == ",":
                    await asyncio.sleep(2.0)
                    continue
                await self._send_event(tone.upper(), duration_ms, volume)
                await asyncio.sleep(gap_ms / 1000)

    async def _send_event(self, digit: str, duration_ms: int, volume: int) -> None:
        transport = self.sender.transport
        if transport.state != "connected":
            raise TelephoneEventError(
                "cannot send telephone events: the connection is not up", code="telephone_event_not_connected"
            )
        table, send = _sequencers(transport)
        sequencer = table.setdefault(self.sender._ssrc, _Sequencer())
        if sequencer.last_seq is None:
            await self._learn_sequence(sequencer)
        step = int(self.clock_rate * self.ptime)
        total = self.clock_rate * duration_ms // 1000
        # the slot of the next audio frame, on the audio clock
        assert sequencer.last_timestamp is not None
        timestamp = (sequencer.last_timestamp + int(self.audio_clock_rate * self.ptime)) & 0xFFFFFFFF
        sequencer.mute = True
        try:
            start = self._clock()
            elapsed, n = 0, 0
            while True:
                elapsed = min(elapsed + step, total, 0xFFFF)
                end = elapsed >= min(total, 0xFFFF)
                payload = build_telephone_event(digit, end, elapsed, volume)
                for _ in range(3 if end else 1):
                    await self._send_packet(send, sequencer, timestamp, payload, marker=n == 0)
                if end:
                    break
                n += 1
                delay = start + n * self.ptime - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            sequencer.mute = False

    async def _learn_sequence(self, sequencer: _Sequencer, wait: float = 0.5) -> None:
        """Let an audio packet through the hook to learn the stream's sequence number and timestamp.

        SRTP refuses to protect a packet whose index falls far behind the
        stream's, so event packets must continue the audio's numbering. A
        sender with no audio flowing gets a random start instead.
        """
        deadline = self._clock() + wait
        while sequencer.last_seq is None and self._clock() < deadline:
            await asyncio.sleep(0.005)
        if sequencer.last_seq is None:
            sequencer.last_seq = random.randrange(0x8000)
            sequencer.last_timestamp = random.randrange(0x1_0000_0000)

    async def _send_packet(
        self,
        send: Callable[[bytes], Awaitable[None]],
        sequencer: _Sequencer,
        timestamp: int,
        payload: bytes,
        marker: bool,
    ) -> None:
        packet = RtpPacket(
            payload_type=self.payload_type,
            marker=int(marker),
            sequence_number=sequencer.next_event_seq(),
            timestamp=timestamp,
            ssrc=self.sender._ssrc,
            payload=payload,
        )
        await send(packet.serialize())
        self.packets_sent += 1
