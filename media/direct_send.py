"""An aiortc sender that can also send one encoded packet at once, from whatever code is running (the relay).

aiortc's :class:`~aiortc.rtcrtpsender.RTCRtpSender` sends from its own task (``_run_rtp``): it awaits the
track's ``recv()``, packs what comes back into RTP packets and sends them. A bridge that relays Opus packets
used to hand each received packet to the other leg's track and wake that task: one event-loop iteration later
the packet went out. On a loaded loop an iteration can take tens of milliseconds, and that tail is what the far
side's jitter buffer (NetEq) sizes itself for.

:class:`DirectSender` keeps aiortc's loop for everything the track produces on its own (prompts, bridged
audio mixed and encoded on the player's clock, music on hold, silence) and adds :meth:`DirectSender.send_now`:
one packet built and sent right away, from the receive path of the other leg. Both share one RTP stream:

- the sequence number and the timestamp origin live on the sender (aiortc keeps them in ``_run_rtp``'s local
  variables), so packets sent either way are numbered in one series, in the order they leave;
- a packet sent at once updates what aiortc's RTCP sender reports and ``getStats()`` count (packets, octets,
  the last RTP timestamp and its NTP time) and goes into the history NACKs retransmit from;
- the send itself is aiortc's ``RTCDtlsTransport._send_rtp`` (SRTP, its transport counters), run to its end
  at once: with aioice's ``StunProtocol`` (every candidate pair aioice makes, TURN-relayed ones included:
  their ``sendto`` only schedules the send) that coroutine never suspends. :meth:`~DirectSender.send_now` checks the pair
  first and answers False when it cannot send this way; the caller then hands the packet to the track as
  before.

:func:`direct_sender` turns the sender aiortc made for a transceiver into a :class:`DirectSender` before it
starts (its class is swapped: aiortc builds senders itself inside ``RTCPeerConnection``). ``_run_rtp`` here is
aiortc 1.16's with the sequence number and timestamp origin moved onto the sender; :func:`direct_sender`
checks that aiortc's and aioice's code it copies or relies on is the code it was written against (a hash of
their source) and raises :class:`~media.errors.UnsupportedAiortcVersion` otherwise, so an upgrade falls back
to the sender task instead of running a stale copy.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Coroutine, Iterator
from typing import Any

import aioice.ice
from aiortc import clock
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import RTCRtpSender, random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random32, uint16_add, uint32_add

from media.errors import UnsupportedAiortcVersion
from media.source_check import unsupported

log = logging.getLogger(__name__)

#: sha256 (first 16 hex digits) of the source of what this module copies or relies on, as written against.
KNOWN_SOURCES = {
    "RTCRtpSender._run_rtp": {"ff597a1d554cb373"},  # aiortc 1.16.0
    "RTCDtlsTransport._send_rtp": {"763b02bceb0b0ab9"},  # aiortc 1.16.0
    "Connection.send": {"8f91d54578f0ca74"},  # aioice 0.13.0
    "Connection.sendto": {"bf162ec03bdce2cc"},
    "StunProtocol.send_data": {"8bfbce074a897482"},
}
_P = "_RTCRtpSender__"  # aiortc's private attributes of the sender (name-mangled)


def _relied_on() -> Iterator[Any]:
    yield from (
        RTCRtpSender._run_rtp,
        RTCDtlsTransport._send_rtp,
        aioice.ice.Connection.send,
        aioice.ice.Connection.sendto,
        aioice.ice.StunProtocol.send_data,
    )


@functools.cache
def _unsupported() -> str | None:
    """Why this module cannot run on the installed aiortc/aioice, or None."""
    return unsupported(_relied_on(), KNOWN_SOURCES, "media/direct_send.py")


class DirectSender(RTCRtpSender):
    """aiortc's sender, plus :meth:`send_now`: one packet sent at once in the sender's own RTP stream.

    Made by :func:`direct_sender` (never constructed directly)."""

    _sequence_number: int
    _timestamp_origin: int
    _codec: RTCRtpCodecParameters | None
    sent_now: int  # packets sent by send_now
    _at_once: bool  # False after a send that did not complete at once (then send_now always answers False)

    def _prepare(self) -> None:
        self._sequence_number = random_sequence_number()
        self._timestamp_origin = random32()
        self._codec = None
        self.sent_now = 0
        self._at_once = True

    def send_now(self, timestamp: int, payload: bytes) -> bool:
        """Send one encoded frame (``timestamp`` in the codec's clock, as the track's ``pts`` would be) now.

        True: sent (or dropped as aiortc drops what a disabled sender reads). False: it cannot be sent from
        here (the sender has not started, is not connected, or its transport would not send at once); the
        caller gives it to the track instead, and nothing of the stream was used up.
        """
        codec = self._codec
        if codec is None or not self._at_once or self.transport.state != "connected":
            return False
        pair = self.transport.transport._connection._nominated.get(1)
        if pair is None or type(pair.protocol).send_data is not aioice.ice.StunProtocol.send_data:
            return False
        if not self._enabled:
            return True
        packet = self._packet(codec, uint32_add(self._timestamp_origin, timestamp), payload, marker=1)
        try:
            done = run_at_once(self.transport._send_rtp(self._serialized(packet)))
        except ConnectionError:  # the connection closed: aiortc's loop ends on the same error
            return True
        if not done:
            self._at_once = False
            log.error("a packet sent at once suspended (aiortc or aioice changed?); the sender task sends from now")
            return True
        self._sent(packet)
        self.sent_now += 1
        return True

    def _packet(
        self, codec: RTCRtpCodecParameters, timestamp: int, payload: bytes, marker: int, level: int | None = None
    ) -> RtpPacket:
        assert codec.payloadType is not None  # negotiated before the sender starts
        packet = RtpPacket(payload_type=codec.payloadType, sequence_number=self._sequence_number, timestamp=timestamp)
        self._sequence_number = uint16_add(self._sequence_number, 1)
        packet.ssrc = self._ssrc
        packet.payload = payload
        packet.marker = marker
        packet.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
        packet.extensions.mid = getattr(self, _P + "mid")
        if level is not None:
            packet.extensions.audio_level = (False, -level)
        return packet

    def _serialized(self, packet: RtpPacket) -> bytes:
        getattr(self, _P + "rtp_history")[packet.sequence_number % RTP_HISTORY_SIZE] = packet
        return packet.serialize(getattr(self, _P + "rtp_header_extensions_map"))

    def _sent(self, packet: RtpPacket) -> None:
        """What aiortc counts for its RTCP sender reports and stats after each packet sent."""
        setattr(self, _P + "ntp_timestamp", clock.current_ntp_time())
        setattr(self, _P + "rtp_timestamp", packet.timestamp)
        setattr(self, _P + "octet_count", getattr(self, _P + "octet_count") + len(packet.payload))
        setattr(self, _P + "packet_count", getattr(self, _P + "packet_count") + 1)

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        """aiortc 1.16's ``RTCRtpSender._run_rtp``, with the stream's numbering kept on the sender."""
        getattr(self, _P + "rtp_started").set()
        self._codec = codec
        try:
            while True:
                if not self.track:
                    await asyncio.sleep(0.02)
                    continue
                enc_frame = await self._next_encoded_frame(codec)
                if enc_frame is None:
                    continue
                timestamp = uint32_add(self._timestamp_origin, enc_frame.timestamp)
                last = len(enc_frame.payloads) - 1
                for i, payload in enumerate(enc_frame.payloads):
                    packet = self._packet(codec, timestamp, payload, int(i == last), enc_frame.audio_level)
                    await self.transport._send_rtp(self._serialized(packet))
                    self._sent(packet)
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        except Exception:  # as aiortc: stop() waits for rtp_exited below, so the loop must reach it
            getattr(self, _P + "log_warning")(traceback.format_exc())
        self._codec = None
        if self.track:
            self.track.stop()
            setattr(self, _P + "track", None)
        setattr(self, _P + "encoder", None)
        getattr(self, _P + "rtp_exited").set()


def run_at_once(coro: Coroutine[Any, Any, None]) -> bool:
    """Run ``coro`` to its end now if it does not suspend (True); if it does, close it (False)."""
    try:
        coro.send(None)
    except StopIteration:
        return True
    coro.close()
    return False


def direct_sender(sender: RTCRtpSender) -> DirectSender:
    """``sender`` (made by aiortc, not started yet) as a :class:`DirectSender` (the same object; idempotent).

    Raises :class:`UnsupportedAiortcVersion` when the installed aiortc or aioice is not the code this was
    written against, and ValueError for a sender already started (its loop would not share the numbering).
    """
    if isinstance(sender, DirectSender):
        return sender
    why = _unsupported()
    if why is not None:
        raise UnsupportedAiortcVersion(f"{why}; relayed packets go through the sender task")
    if type(sender) is not RTCRtpSender:
        raise ValueError(f"not aiortc's own sender: {type(sender).__name__}")
    if getattr(sender, _P + "started"):
        raise ValueError("the sender has started: its RTP loop already numbers the stream")
    sender.__class__ = DirectSender
    assert isinstance(sender, DirectSender)
    sender._prepare()
    return sender
