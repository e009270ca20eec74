"""One WebRTC audio leg answered by the gateway: the remote side offers, the leg answers.

An :class:`AudioLeg` owns its ``RTCPeerConnection``, its outgoing track (a
:class:`~media.player.PromptPlayer`: prompts, music on hold, bridged live
audio, silence in between) and the task that drains the remote's audio.
Every decoded frame goes to ``on_audio`` as 48 kHz mono int16 samples (aiortc's
decoder queue is unbounded, so the leg always drains it). ``on_closed`` is
called once with why the connection went away (``ice_failed`` or
``connection_closed``); the owner decides what that means for the call.

Both the customer's call and an agent's softphone are legs; a
:class:`~media.bridge.Bridge` joins two of them. A leg that sends Opus
packets has a :attr:`AudioLeg.relay` (:class:`~media.aiortc_patches.PacketRelay`)
through which the bridge takes its received packets before any decoding, and its sender is a
:class:`~media.direct_send.DirectSender`, so that the packets relayed to it leave from the other
leg's receive path instead of waking its sender task.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.aiortc_patches import PacketRelay, relay_point
from media.audio import FrameConverter
from media.direct_receive import direct_receive
from media.direct_send import direct_sender
from media.errors import UnsupportedAiortcVersion
from media.ice import IceServer
from media.player import PromptPlayer, SendNow
from media.sdp_offer import NEGOTIATION_ERRORS, BadOffer, check_offer
from media.telephone_event import enable_telephone_events

Samples = npt.NDArray[np.int16]
log = logging.getLogger(__name__)

#: :meth:`AudioLeg.silent_for`: fewer packets than this in the window is silence.
SILENT_PACKETS = 3

__all__ = ["AudioLeg", "BadOffer", "Samples", "beside_decoder", "check_offer"]


@functools.cache
def _warn_once(message: str) -> None:
    log.warning("%s", message)


def beside_decoder() -> Any:
    """The Opus decoder of relayed packets: mono s16 at 48 kHz, what the taps take.

    It runs on the event loop for every tapped packet, beside the relay of every call on the node, so it is
    kept cheap: libopus downmixes a stereo stream itself while decoding (about 30 us per 20 ms frame, against
    about 45 us decoding stereo plus 20 us averaging the channels in numpy afterwards).
    """
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format = "s16"
    decoder.layout = "mono"
    decoder.sample_rate = 48000
    return decoder


class AudioLeg:
    def __init__(
        self,
        *,
        on_audio: Callable[[Samples], None],
        on_closed: Callable[[str], None],
        ice_servers: list[IceServer] | None = None,
        opus_silence: bytes | None = None,
        on_digit: Callable[[str], None] | None = None,
        name: str = "leg",
    ) -> None:
        self.name = name
        self._on_audio = on_audio
        self._on_closed = on_closed
        self._on_digit = on_digit
        self._opus_silence = opus_silence
        config = RTCConfiguration(iceServers=[server.rtc() for server in ice_servers or []])
        self.pc = RTCPeerConnection(config)
        self.player = PromptPlayer()  # replaced in accept() by a packet-sending one when Opus is offered
        self.connected = asyncio.Event()
        self._closed = False
        # close() waits for an answer in progress: aioice appends the sockets it opens while gathering
        # candidates to its connection, and one opened after the connection closed would never be closed
        self._negotiating = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Task[None] | None = None
        #: The received Opus packets, before aiortc's jitter buffer (set once answered, if both sides use Opus).
        self.relay: PacketRelay | None = None
        self.frames_decoded = 0  # frames decoded (by aiortc, or beside a relay) and handed to on_audio
        self.listener_errors = 0  # frames decoded beside whose on_audio raised (the first one is logged)
        self._beside: Any = None  # the Opus decoder of relayed packets (made when first needed)
        self._beside_converter = FrameConverter(48000)

    async def accept(self, offer_sdp: str) -> str:
        """Answer the remote's offer (non-trickle: the answer carries every candidate). Raises BadOffer."""
        async with self._negotiating:
            return await self._answer(offer_sdp)

    async def _answer(self, offer_sdp: str) -> str:
        if self._on_digit is not None:
            enable_telephone_events(self.pc, self._on_digit)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._spawn(self._drain(track), "drain")

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            state = self.pc.connectionState
            if state == "connected":
                self.connected.set()
                self._receive_at_once()
            elif state in ("failed", "closed") and not self._closed:
                self._closed = True
                self._on_closed("ice_failed" if state == "failed" else "connection_closed")

        check_offer(offer_sdp)  # BadOffer for what aiortc would trip over (it asserts and indexes freely)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except NEGOTIATION_ERRORS as exc:
            raise BadOffer(f"the SDP offer could not be used: {type(exc).__name__}: {exc}"[:300]) from None
        if not any(t.kind == "audio" for t in self.pc.getTransceivers()):
            raise BadOffer("the offer has no audio", code="no_audio")
        audio = [t for t in self.pc.getTransceivers() if t.kind == "audio"]
        if self._opus_silence is not None and "opus/48000" in offer_sdp.lower():
            # aiortc answers Opus first when offered; relayed packets leave from the receive path when it can
            send_now = self._direct_send(audio[0].sender) if len(audio) == 1 else None
            self.player = PromptPlayer(opus_silence=self._opus_silence, send_now=send_now)
        for transceiver in audio:
            transceiver.sender.replaceTrack(self.player)
            transceiver.direction = "sendrecv"
        try:
            answer = await self.pc.createAnswer()
        except NEGOTIATION_ERRORS as exc:
            raise BadOffer(f"no answer to this SDP offer: {type(exc).__name__}: {exc}"[:300]) from None
        await self.pc.setLocalDescription(answer)
        if self.player.sends_packets:
            self._relay_point()
        if self.relay is not None:
            self.relay.beside = self._decode_beside
        return self.pc.localDescription.sdp

    def _direct_send(self, sender: RTCRtpSender) -> SendNow | None:
        """The sender's :meth:`~media.direct_send.DirectSender.send_now` (None on an aiortc it does not know)."""
        try:
            return direct_sender(sender).send_now
        except UnsupportedAiortcVersion as exc:
            _warn_once(exc.message)
            return None

    def _receive_at_once(self) -> None:
        """Received SRTP packets handled as the socket is read, not by aiortc's task (media/direct_receive.py)."""
        for transport in {id(t.receiver.transport): t.receiver.transport for t in self.pc.getTransceivers()}.values():
            try:
                direct_receive(transport)
            except UnsupportedAiortcVersion as exc:
                _warn_once(exc.message)
                return

    def _relay_point(self) -> None:
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind != "audio":
                continue
            negotiated = transceiver._codecs  # aiortc keeps the negotiated codecs there, preferred first
            opus = [c for c in negotiated if c.mimeType.lower() == "audio/opus" and c.clockRate == 48000]
            if opus and negotiated[0] is opus[0] and opus[0].payloadType is not None:
                self.relay = relay_point(transceiver.receiver, opus[0].payloadType)
            return

    async def silent_for(self, seconds: float) -> bool:
        """Whether the far end sends (next to) nothing over the next ``seconds``: fewer than SILENT_PACKETS packets
        (a live page sends 50 a second, muted too; one with Opus DTX at least 2.5; a closed one a straggler)."""
        before = self.packets_received
        await asyncio.sleep(seconds)
        return self.packets_received - before < SILENT_PACKETS

    @property
    def packets_received(self) -> int:
        """Audio packets received so far (frames decoded when no relay point could be set): unchanged for a while
        means the far end stopped sending (its tab closed)."""
        return self.relay.received if self.relay is not None else self.frames_decoded

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _decode_beside(self, packet: Any) -> None:
        """An Opus packet, decoded at once for ``on_audio``: every packet while nothing relays this leg (the IVR
        listens, a call on hold), a relayed one when something taps it (a recording, in-band DTMF). No jitter
        buffer, no decoder thread, no hop back to the event loop per frame; packets out of order or lost are
        decoded as they come (the forwarded ones are untouched)."""
        if not packet.payload:  # no Opus packet (aiortc lets empty payloads through): PyAV would end the stream
            return
        if self._beside is None:
            self._beside = beside_decoder()
        try:
            frames = self._beside.decode(av.Packet(packet.payload))
        except av.FFmpegError as exc:  # a corrupt packet: the taps hear a gap (its relayed copy went on)
            log.debug("%s: relayed packet not decoded beside: %s", self.name, exc)
            return
        for frame in frames:
            assert isinstance(frame, av.AudioFrame)
            self.frames_decoded += 1
            try:
                self._on_audio(self._beside_converter.convert(frame))  # mono s16 48 kHz: a copy-free view
            except Exception:  # a bug in what listens (VAD, recognizer, a tap): raised in aiortc's receive loop
                # it would close the DTLS transport and end the call as "connection_closed" (in the socket's
                # callback, media/direct_receive.py, it would send the call's packets back to that loop)
                self.listener_errors += 1
                if self.listener_errors == 1:
                    log.exception(
                        "%s: what listens to this leg failed; its frame is dropped, the call goes on "
                        "(later failures are counted in listener_errors)",
                        self.name,
                    )

    async def _drain(self, track: MediaStreamTrack) -> None:
        converter = FrameConverter(48000)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, av.AudioFrame)
            self.frames_decoded += 1
            self._on_audio(converter.convert(frame))

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.name}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """End the outgoing track, close the connection, stop draining. Idempotent; ``on_closed`` is not called.

        The closing runs to its end in the leg's own task even if the caller is cancelled meanwhile (an owner
        cancelling the task that was closing the leg): an ``RTCPeerConnection.close()`` interrupted half-way can
        never be closed again (a second ``close()`` waits for a future only the first would have set), and its
        ICE sockets stay open until the garbage collector finds them. Every call awaits that same closing.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
            self._closing.set_name(f"{self.name}-close")
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        self._closed = True
        self.player.end()
        async with self._negotiating:
            await self.pc.close()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
