"""Bench peers that cost about what the gateway's own legs cost, so one machine can load the gateway.

:class:`tests.support.caller.Caller` and :class:`tests.support.softphone.Softphone` are a browser's stand-ins: each
encodes its microphone with libopus every 20 ms and decodes everything it hears through aiortc's jitter buffer and
decoder thread, to keep it for a test's ears. A load generator running dozens of them spent 65 ms of CPU per
call-second (``bench ivr --callers aiortc``, 10 calls, against 34 ms for the gateway): on a 2-core machine the
generators, not the gateway, set how many calls a step could hold, and a second worker had no core to show what it
adds.

:class:`LightCaller` and :class:`LightSoftphone` are the same peers on the wire (an aiortc ``RTCPeerConnection``:
ICE, DTLS-SRTP, one Opus stream each way at 50 packets a second, RTCP) with the same sockets, using the gateway's
own cheap paths:

- they send Opus packets encoded once (:func:`packets_of`) on the player's 20 ms clock
  (:class:`media.player.PromptPlayer` in packet mode, as the gateway's legs send prompts and silence): silence, or
  audio looped with ``mic.loop(audio, id, packets=packets_of(audio))``; no encoder runs per frame;
- they count the Opus packets they receive in the receive path (:class:`PacketCounter`, through
  :func:`media.aiortc_patches.relay_point` and :func:`media.direct_receive.direct_receive`, in the socket's
  callback, as the gateway's IVR legs take theirs); a caller decodes them (libopus, on the loop) only until it
  has heard the first prompt, a softphone not at all unless a listener times what it hears (``on_audio``:
  ``bench bridge``'s burst onsets): no jitter buffer, no decoder thread, nothing kept.

What they send is mono Opus at the gateway's prompt settings (media/opus.py), as a browser sends a microphone by
default (mono unless the answer asks ``stereo=1``); aiortc's own encoder sends stereo at 96 kb/s, which costs a
decoder more (the gateway's decoding for a tap, ``bench m2e --modes tap``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection

from media.aiortc_patches import relay_point
from media.audio import Audio, rms_dbfs
from media.direct_receive import direct_receive
from media.errors import UnsupportedAiortcVersion
from media.leg import beside_decoder
from media.opus import SAMPLE_RATE, SAMPLES_PER_BLOCK, encode_blocks
from media.player import PromptPlayer
from tests.support.caller import LOUD_DBFS, Caller
from tests.support.clients import Agent, Customer
from tests.support.softphone import Softphone

#: The gateway's silence packet (media.opus.OpusPrompts.silence): what a silent microphone's stream settles into.
OPUS_SILENCE = encode_blocks(bytes(SAMPLES_PER_BLOCK * 2 * 3))[-1]


def packets_of(audio: Audio) -> list[bytes]:
    """``audio`` (48 kHz mono) as Opus packets, one per 20 ms, for ``mic.play`` / ``mic.loop`` of a light peer."""
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"light peers send {SAMPLE_RATE} Hz audio, not {audio.sample_rate} Hz")
    return encode_blocks(np.ascontiguousarray(audio.samples, dtype="<i2").tobytes())


class PacketCounter:
    """The Opus packets a peer connection receives, counted as they arrive. With ``decode`` they are also decoded
    until the first stretch of sound has ended (the first prompt: loud frames, then ``gap_ms`` of quiet), as
    :meth:`Caller.heard_prompt` tells it, so that a caller can press a key once the greeting is over; without,
    nothing is decoded (an agent waits for no prompt)."""

    def __init__(
        self,
        pc: RTCPeerConnection,
        *,
        decode: bool = True,
        gap_ms: int = 200,
        on_audio: Callable[[float, np.ndarray], object] | None = None,
        arrivals: bool = False,
    ):
        """Install on ``pc`` once its answer is set (the negotiated Opus is known) and before RTP flows.

        ``on_audio``: every packet is decoded, for as long as the call lasts, and handed over as (monotonic time
        it arrived, its mono s16 samples): a listener that times what it hears (bench bridge's burst onsets).
        ``arrivals``: keep (monotonic time, RTP timestamp) of every packet in :attr:`arrivals`, to tell how far
        behind their schedule packets arrived.
        """
        audio = [t for t in pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            raise AssertionError("the call has no audio transceiver")
        opus = [c.payloadType for c in audio[0]._codecs if c.mimeType.lower() == "audio/opus"]
        if not opus or opus[0] is None:
            raise AssertionError("the gateway did not answer Opus")
        self.packets = 0
        self.decode = decode
        self.on_audio = on_audio
        self.arrivals: list[tuple[float, int]] | None = [] if arrivals else None
        self.first_loud_at: float | None = None  # loop time of the first frame that decoded loud
        self.prompt_end_at: float | None = None  # loop time that stretch of sound was found over
        self._gap_frames = max(1, gap_ms // 20)
        self._quiet = 0  # quiet frames in a row since the last loud one
        self._decoder: Any = None
        relay_point(audio[0].receiver, opus[0]).beside = self._on_packet
        try:  # counted in the socket's callback, as the gateway's legs take theirs (media/direct_receive.py)
            direct_receive(audio[0].receiver.transport)
        except UnsupportedAiortcVersion:  # another aiortc: aiortc's receive task hands them over, as before
            pass

    def _on_packet(self, packet: Any) -> None:
        self.packets += 1
        arrived = time.monotonic()
        if self.arrivals is not None:
            self.arrivals.append((arrived, packet.timestamp))
        finding = self.decode and self.prompt_end_at is None
        if not (finding or self.on_audio is not None) or not packet.payload:
            return
        if self._decoder is None:
            self._decoder = beside_decoder()
        try:
            frames = self._decoder.decode(av.Packet(packet.payload))
        except av.FFmpegError:  # a corrupt packet: the next one decides
            return
        for frame in frames:
            samples = np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16)[: frame.samples]
            if self.on_audio is not None:
                self.on_audio(arrived, samples)
            if finding:
                finding = not self._prompt_over(samples)
        if not finding and self.on_audio is None:
            self._decoder = None  # nothing is decoded from here on

    def _prompt_over(self, samples: np.ndarray) -> bool:
        """Follow the first stretch of sound; True once it has ended (``gap_ms`` of quiet after it)."""
        loud = rms_dbfs(samples) > LOUD_DBFS
        if self.first_loud_at is None:
            if loud:
                self.first_loud_at = asyncio.get_running_loop().time()
            return False
        self._quiet = 0 if loud else self._quiet + 1
        if self._quiet >= self._gap_frames:
            self.prompt_end_at = asyncio.get_running_loop().time()
            return True
        return False

    async def loud(self, timeout: float = 15) -> float:
        """Wait until something loud arrived (a prompt began); returns the loop time it did."""
        await self._until(lambda: self.first_loud_at is not None, "nothing loud", timeout)
        assert self.first_loud_at is not None
        return self.first_loud_at

    async def prompt_heard(self, timeout: float = 15) -> None:
        """Wait until the first prompt has been heard to its end (``gap_ms`` of quiet after it)."""
        await self._until(lambda: self.prompt_end_at is not None, "no whole prompt", timeout)

    async def _until(self, done: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{what} in {timeout} s ({self.packets} packets received)")
            await asyncio.sleep(0.05)


async def microphone_offer(pc: RTCPeerConnection, mic: PromptPlayer) -> str:
    """A browser's offer (one audio track, the microphone); what comes back is counted, not recorded: no
    ``on("track")`` recorder, unlike the tests' peers."""
    pc.addTrack(mic)
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


class LightCaller(Caller):
    """A caller whose only work is the wire's (module docstring); ``counter`` once dialled (``heard`` stays empty).
    ``mic``: a player that sends packets (``opus_silence``), e.g. one that times what it sends; ``arrivals``: see
    :class:`PacketCounter`."""

    def __init__(self, customer: Customer, mic: PromptPlayer | None = None, *, arrivals: bool = False):
        super().__init__(customer, mic if mic is not None else PromptPlayer(opus_silence=OPUS_SILENCE))
        if not self.mic.sends_packets:
            raise ValueError("a light caller's microphone sends Opus packets (PromptPlayer(opus_silence=...))")
        self._arrivals = arrivals
        self.counter: PacketCounter | None = None

    async def make_offer(self) -> str:
        return await microphone_offer(self.pc, self.mic)

    async def dial(self, **extra: Any) -> dict[str, Any]:
        answer = await super().dial(**extra)
        # ICE and DTLS start after the answer: no RTP has arrived yet
        self.counter = PacketCounter(self.pc, arrivals=self._arrivals)
        return answer


class LightSoftphone(Softphone):
    """An agent's softphone whose only work is the wire's (module docstring); ``counter`` once answered (``heard``
    stays empty). ``mic``, ``on_audio`` and ``arrivals``: as for :class:`LightCaller` and :class:`PacketCounter`
    (with ``on_audio`` every packet is decoded)."""

    def __init__(
        self,
        agent: Agent,
        mic: PromptPlayer | None = None,
        *,
        on_audio: Callable[[float, np.ndarray], object] | None = None,
        arrivals: bool = False,
    ):
        super().__init__(agent, mic if mic is not None else PromptPlayer(opus_silence=OPUS_SILENCE))
        if not self.mic.sends_packets:
            raise ValueError("a light softphone's microphone sends Opus packets (PromptPlayer(opus_silence=...))")
        self._on_audio = on_audio
        self._arrivals = arrivals
        self.counter: PacketCounter | None = None

    async def offer(self) -> str:
        return await microphone_offer(self.pc, self.mic)

    async def answer(self, call_id: str, *, wait_connected: bool = True) -> None:
        await super().answer(call_id, wait_connected=False)
        self.counter = PacketCounter(self.pc, decode=False, on_audio=self._on_audio, arrivals=self._arrivals)
        if wait_connected:
            await self.status("connected")
