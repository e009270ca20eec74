"""Prompt playback into a caller's outgoing WebRTC track, with barge-in.

:class:`PromptQueue` is the pure part: an ordered queue of prompts (and a
looping music-on-hold entry) cut into 20 ms blocks, with futures that tell
the caller how each prompt ended. :class:`PromptPlayer` is the aiortc track
around it: it paces 20 ms frames against a monotonic clock (frame *n* is due
at ``start + n * 20 ms``, so timing never drifts), sends silence while idle,
and counts frames that came out late.

A prompt's future resolves when its last frame has been handed to the
sender (the caller hears it one network-plus-jitter-buffer delay later).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, Packet

from media.audio import Audio
from media.opus import OpusStream


class LiveSource(Protocol):
    def pull(self) -> bytes | None:
        """The next 20 ms block (1,920 bytes of 48 kHz mono s16), or None."""


class SendNow(Protocol):
    def __call__(self, timestamp: int, payload: bytes) -> bool:
        """Send one Opus packet (``timestamp``: its pts, 48 kHz) at once; False if it cannot be sent from here."""


SAMPLE_RATE = 48000
PTIME = 0.020
SAMPLES_PER_FRAME = 960
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
#: Behind schedule by more than this, the player skips ahead instead of bursting frames.
MAX_LAG = 0.200
#: Relayed packets waiting for the sender beyond this many: the oldest are dropped (no delay builds up).
RELAY_BACKLOG = 4
_TS_MASK = 0xFFFFFFFF

_SILENCE = bytes(SAMPLES_PER_FRAME * 2)


class PlaybackOutcome(StrEnum):
    """What a prompt's future resolves with."""

    FINISHED = "finished"
    STOPPED = "stopped"


@dataclass(frozen=True)
class PromptProgress:
    """How far the current prompt got: ``played_ms`` counts frames already sent."""

    prompt_id: str
    played_ms: int
    duration_ms: int
    looping: bool


@dataclass
class PlayerStats:
    """Counters for benchmarks: a frame is late when produced more than 20 ms after its due time."""

    frames_sent: int = 0
    late_frames: int = 0
    max_lateness_ms: float = 0.0
    skipped_frames: int = 0  # 20 ms slots skipped after falling more than MAX_LAG behind
    relayed: int = 0  # packets sent as relayed from the other leg (counted in frames_sent too)
    relay_dropped: int = 0  # relayed packets dropped because the sender fell RELAY_BACKLOG behind
    relayed_at_once: int = 0  # relayed packets sent from the receive path (``send_now``), counted in relayed too

    def counts(self) -> dict[str, int]:
        """The counters a node sums over its legs (:data:`FRAME_COUNTERS`: ``/api/stats``, ``/metrics``)."""
        return {name: getattr(self, name) for name in FRAME_COUNTERS}


FRAME_COUNTERS = ("frames_sent", "late_frames", "skipped_frames", "relayed", "relay_dropped", "relayed_at_once")


class _Prompt:
    __slots__ = ("future", "looping", "packets", "pcm", "position", "prompt_id")

    def __init__(
        self,
        prompt_id: str,
        pcm: bytes,
        looping: bool,
        future: asyncio.Future[PlaybackOutcome],
        packets: list[bytes] | None = None,
    ) -> None:
        self.prompt_id = prompt_id
        self.pcm = pcm  # little-endian int16 bytes
        self.packets = packets  # the same blocks as Opus packets (media.opus), when the sender takes them
        self.looping = looping
        self.future = future
        self.position = 0  # byte offset of the next frame

    def progress(self) -> PromptProgress:
        return PromptProgress(self.prompt_id, self.position // 96, len(self.pcm) // 96, self.looping)


class PromptQueue:
    """Ordered prompts cut into 20 ms, 48 kHz mono s16 blocks. No clock: the caller pulls blocks."""

    def __init__(self) -> None:
        self._queue: deque[_Prompt] = deque()
        self._current: _Prompt | None = None
        self.last_packet: bytes | None = None  # Opus packet of the block next_block() returned, when known

    def play(self, audio: Audio, prompt_id: str, packets: list[bytes] | None = None) -> asyncio.Future[PlaybackOutcome]:
        """Queue ``audio`` (48 kHz); the future resolves "finished" or "stopped".

        ``packets``: the same audio as Opus packets, one per 20 ms block (media.opus), if the
        player sends packets.
        Cancelling the future removes the prompt (stops it if playing).
        """
        return self._enqueue(audio, prompt_id, looping=False, packets=packets)

    def loop(
        self, audio: Audio, prompt_id: str = "music-on-hold", packets: list[bytes] | None = None
    ) -> asyncio.Future[PlaybackOutcome]:
        """Queue ``audio`` to repeat until :meth:`stop`; its future only ever resolves "stopped"."""
        return self._enqueue(audio, prompt_id, looping=True, packets=packets)

    def stop(self) -> PromptProgress | None:
        """Stop the current prompt and drop the queued ones (barge-in); the next block is silence.

        Returns how far the interrupted prompt had played, None if idle.
        """
        progress = self._current.progress() if self._current is not None else None
        for prompt in ([self._current] if self._current is not None else []) + list(self._queue):
            _resolve(prompt, PlaybackOutcome.STOPPED)
        self._current = None
        self._queue.clear()
        return progress

    def cancel(self, prompt_id: str) -> bool:
        """Stop one prompt (current or queued) by id; True if it was found."""
        found = False
        if self._current is not None and self._current.prompt_id == prompt_id:
            _resolve(self._current, PlaybackOutcome.STOPPED)
            self._current = None
            found = True
        for prompt in [p for p in self._queue if p.prompt_id == prompt_id]:
            self._queue.remove(prompt)
            _resolve(prompt, PlaybackOutcome.STOPPED)
            found = True
        return found

    @property
    def current(self) -> PromptProgress | None:
        """Progress of the prompt being played, None while idle."""
        return self._current.progress() if self._current is not None else None

    @property
    def pending(self) -> list[str]:
        """Ids of the current and queued prompts, in playing order."""
        head = [self._current.prompt_id] if self._current is not None else []
        return head + [p.prompt_id for p in self._queue]

    @property
    def idle(self) -> bool:
        return self._current is None and not self._queue

    def next_block(self) -> bytes | None:
        """The next 20 ms of audio (1,920 bytes), or None for silence."""
        self.last_packet = None
        prompt = self._advance()
        if prompt is None:
            return None
        frame_bytes = SAMPLES_PER_FRAME * 2
        start = prompt.position
        if prompt.packets:
            self.last_packet = prompt.packets[(start // frame_bytes) % len(prompt.packets)]
        block = prompt.pcm[start : start + frame_bytes]
        if len(block) < frame_bytes:
            if prompt.looping:  # wrap around (loops are at least one frame long, see _enqueue)
                prompt.position = frame_bytes - len(block)
                return block + prompt.pcm[: prompt.position]
            block = block.ljust(frame_bytes, b"\x00")
        prompt.position = start + frame_bytes
        if prompt.position >= len(prompt.pcm) and not prompt.looping:
            prompt.position = len(prompt.pcm)
            _resolve(prompt, PlaybackOutcome.FINISHED)
            self._current = None
        return block

    def _advance(self) -> _Prompt | None:
        """The prompt to read from: the current one unless its future was cancelled, else the next live one."""
        if self._current is not None and self._current.future.done():
            self._current = None  # cancelled by its owner
        while self._current is None and self._queue:
            candidate = self._queue.popleft()
            if not candidate.future.done():
                self._current = candidate
        return self._current

    def _enqueue(
        self, audio: Audio, prompt_id: str, looping: bool, packets: list[bytes] | None = None
    ) -> asyncio.Future[PlaybackOutcome]:
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"prompt {prompt_id!r} is {audio.sample_rate} Hz; the player needs {SAMPLE_RATE} Hz "
                "(resample it once, off the event loop, with media.audio.resample)"
            )
        if looping and len(audio.samples) == 0:
            raise ValueError(f"cannot loop the empty prompt {prompt_id!r}")
        future: asyncio.Future[PlaybackOutcome] = asyncio.get_running_loop().create_future()
        pcm = audio.samples.astype("<i2", copy=False).tobytes()
        if not pcm:
            future.set_result(PlaybackOutcome.FINISHED)
            return future
        if looping and len(pcm) % (SAMPLES_PER_FRAME * 2):
            packets = None  # a loop that wraps mid-block has no packet for the joined block
        while looping and len(pcm) < SAMPLES_PER_FRAME * 2:
            pcm += pcm
        self._queue.append(_Prompt(prompt_id, pcm, looping, future, packets))
        return future


def _resolve(prompt: _Prompt, outcome: PlaybackOutcome) -> None:
    if not prompt.future.done():
        prompt.future.set_result(outcome)


class PromptPlayer(MediaStreamTrack):
    """The outgoing audio track of a call: prompts, music on hold, silence in between.

    Note that :meth:`stop` is barge-in (stop the prompts, keep sending
    silence), not the W3C "end this track": that is :meth:`end`.

    ``paced=False`` returns frames as fast as they are pulled (for tests and
    offline rendering); ``clock`` must be monotonic seconds.
    """

    kind = "audio"

    def __init__(
        self,
        *,
        paced: bool = True,
        clock: Callable[[], float] = time.monotonic,
        opus_silence: bytes | None = None,
        send_now: SendNow | None = None,
    ) -> None:
        """``opus_silence``: send Opus packets instead of frames (the negotiated codec must be Opus);
        prompts then need their ``packets``, and this packet fills the gaps.

        ``send_now``: the sender's way to send one packet at once (:meth:`media.direct_send.DirectSender.send_now`):
        relayed packets then leave from :meth:`relay` itself, in the receive path, instead of waking the
        sender's task to collect them from :meth:`recv`."""
        super().__init__()
        self.queue = PromptQueue()
        self._opus_silence = opus_silence
        self.stats = PlayerStats()
        self._paced = paced
        self._clock = clock
        self._start: float | None = None
        self._slot = 0
        #: Bridged audio (media.bridge.LiveAudio) sent whenever no prompt is playing; None: silence.
        self.live: LiveSource | None = None
        self._live_encoder: OpusStream | None = None
        # relay mode (media.bridge): the other leg's Opus packets, sent the moment they arrive
        self._relay: deque[tuple[int, bytes]] | None = None
        self._relay_wake = asyncio.Event()
        self._send_now = send_now
        self._parked = False  # the sender's task waits in recv() for relayed packets (nothing else in flight)
        self._relay_offset: int | None = None  # RTP timestamp in -> pts out
        self._pts_base = 0  # pts of slot 0 of the paced clock (moves when relaying ends)
        self._last_pts: int | None = None
        self._last_sent = 0.0  # clock() when the last packet or frame was returned

    # -- control (delegates to the queue) --------------------------------------------------

    def play(self, audio: Audio, prompt_id: str, packets: list[bytes] | None = None) -> asyncio.Future[PlaybackOutcome]:
        """Queue a 48 kHz prompt (with its Opus ``packets`` when sending packets); resolves "finished" or "stopped"."""
        future = self.queue.play(audio, prompt_id, packets)
        self._relay_wake.set()  # a relaying sender goes back to the clock for it
        return future

    def loop(
        self, audio: Audio, prompt_id: str = "music-on-hold", packets: list[bytes] | None = None
    ) -> asyncio.Future[PlaybackOutcome]:
        """Repeat ``audio`` until :meth:`stop` (music on hold)."""
        future = self.queue.loop(audio, prompt_id, packets)
        self._relay_wake.set()
        return future

    @property
    def sends_packets(self) -> bool:
        return self._opus_silence is not None

    # -- relay mode ---------------------------------------------------------------------------

    @property
    def relaying(self) -> bool:
        return self._relay is not None

    def start_relay(self) -> None:
        """Send the packets given to :meth:`relay` as they come, instead of the paced 20 ms clock (packet
        senders only). Prompts still take precedence (paced) while they play. RTP timestamps stay continuous:
        the first relayed packet follows the last one sent, and later ones keep the remote's spacing."""
        if self._opus_silence is None:
            raise ValueError("only a player that sends Opus packets can relay")
        if self._relay is None:
            self._relay = deque()
            self._relay_offset = None

    def stop_relay(self) -> None:
        """Back to the paced clock (bridged audio from ``live``), continuing from the last relayed timestamp."""
        if self._relay is None:
            return
        self._relay = None
        self._relay_wake.set()
        if self._last_pts is not None:  # the paced clock restarts where relaying left off
            self._pts_base = self._last_pts
            self._start, self._slot = self._last_sent, 0

    def relay(self, timestamp: int, payload: bytes) -> None:
        """One packet of the other leg (its RTP timestamp, its Opus payload) to send as it is.

        With ``send_now`` it leaves at once, from here, once the sender's task has settled into waiting for
        relayed packets (so a paced frame it was still making cannot follow a relayed one) and while nothing
        waits before it; otherwise it is queued for the sender's task (one loop iteration later)."""
        if self._relay is None:
            return
        if (
            self._send_now is not None
            and self._parked
            and not self._relay
            and self.queue.idle
            and self.readyState == "live"
        ):
            pts = self._relayed_pts(timestamp)
            if self._send_now(pts, payload):
                self._sent(pts)
                self.stats.relayed += 1
                self.stats.relayed_at_once += 1
                return
        self._relay.append((timestamp, payload))
        while len(self._relay) > RELAY_BACKLOG:
            self._relay.popleft()
            self.stats.relay_dropped += 1
        self._relay_wake.set()

    async def _next_relayed(self) -> tuple[int, bytes] | None:
        """The next relayed packet, or None when relaying stopped or a prompt came meanwhile."""
        while self._relay is not None and self.queue.idle and self.readyState == "live":
            if self._relay:
                return self._relay.popleft()
            self._relay_wake.clear()
            self._parked = True
            try:
                await self._relay_wake.wait()
            finally:
                self._parked = False
        return None

    def _relayed_pts(self, timestamp: int) -> int:
        """The pts of a relayed packet: the first one follows the last packet sent, later ones keep the remote's
        spacing."""
        if self._relay_offset is None:
            after = self._last_pts + SAMPLES_PER_FRAME if self._last_pts is not None else 0
            self._relay_offset = after - timestamp
        return (timestamp + self._relay_offset) & _TS_MASK

    def _sent(self, pts: int) -> int:
        self._last_pts = pts & _TS_MASK
        self._last_sent = self._clock()
        self.stats.frames_sent += 1
        return self._last_pts

    def stop(self) -> PromptProgress | None:  # type: ignore[override]
        """Barge-in: silence from the very next frame; the current and queued prompts resolve "stopped".

        The track keeps running (silence). Returns how far the interrupted
        prompt had played, None if idle. aiortc also calls ``stop()`` on its
        track when the sender shuts down (hang-up): pending prompts then
        resolve "stopped", which is what their owners want to hear.
        Use :meth:`end` to end the track itself.
        """
        return self.queue.stop()

    def cancel_prompt(self, prompt_id: str) -> bool:
        """Stop one prompt by id (current or queued); True if found.

        (Not ``cancel``: pyee's event emitter, aiortc's track base, owns that name.)
        """
        return self.queue.cancel(prompt_id)

    def end(self) -> None:
        """End the track (``MediaStreamTrack.stop``): pending prompts resolve "stopped", recv() raises."""
        self.queue.stop()
        super().stop()
        self._relay_wake.set()

    @property
    def current(self) -> PromptProgress | None:
        """Progress (ms played) of the prompt being played, None while idle."""
        return self.queue.current

    # -- aiortc track -------------------------------------------------------------------------

    async def recv(self) -> AudioFrame | Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        if self._relay is not None and self.queue.idle:
            relayed = await self._next_relayed()
            if self.readyState != "live":
                raise MediaStreamError
            if relayed is not None:
                timestamp, opus = relayed
                packet = Packet(opus)
                packet.pts = self._sent(self._relayed_pts(timestamp))
                packet.time_base = TIME_BASE
                self.stats.relayed += 1
                return packet
            if self._relay is not None:  # a prompt interrupts relaying: it plays on the clock from now
                self._prompt_interrupts_relay()
        elif self._relay is not None and self._relay_offset is not None:
            # the same, for a prompt queued while the sender was between two packets (not waiting for one): the
            # clock of before relaying would count every slot of the relayed stretch as skipped
            self._prompt_interrupts_relay()
        if self._paced:
            await self._wait_for_slot()
        else:
            self._slot = self._slot + 1 if self._start is not None else 0
            self._start = 0.0
            await asyncio.sleep(0)  # an unpaced consumer must still let the loop run
        pts = self._pts_base + self._slot * SAMPLES_PER_FRAME
        block = self.queue.next_block()  # read after the wait: a stop during it silences this frame
        live = self.live.pull() if block is None and self.live is not None else None
        if self._opus_silence is not None:
            # a block without its packet (a prompt queued without packets) goes out as silence
            payload = self.queue.last_packet
            if live is not None:  # bridged audio: encoded here so RTP timestamps stay on this track's clock
                if self._live_encoder is None:
                    self._live_encoder = OpusStream()
                payload = self._live_encoder.encode(live)
            packet = Packet(payload or self._opus_silence)
            packet.pts = self._sent(pts)
            packet.time_base = TIME_BASE
            return packet
        frame = AudioFrame(format="s16", layout="mono", samples=SAMPLES_PER_FRAME)
        frame.planes[0].update(block if block is not None else live if live is not None else _SILENCE)
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = TIME_BASE
        frame.pts = self._sent(pts)
        return frame

    def _prompt_interrupts_relay(self) -> None:
        """A prompt plays on the paced clock, restarted where relaying left off; relaying resumes after it."""
        self.stop_relay()
        self._relay, self._relay_offset = deque(), None

    async def _wait_for_slot(self) -> None:
        now = self._clock()
        if self._start is None:
            self._start, self._slot = now, 0
            return
        self._slot += 1
        due = self._start + self._slot * PTIME
        if due > now:
            await asyncio.sleep(due - now)
            now = self._clock()
        lateness = now - due
        if lateness > PTIME:
            self.stats.late_frames += 1
        self.stats.max_lateness_ms = max(self.stats.max_lateness_ms, lateness * 1000)
        if lateness > MAX_LAG:
            # The loop was blocked: jump to the current slot (timestamps stay true to the clock)
            # rather than bursting a backlog of frames into the jitter buffer.
            slot = int((now - self._start) / PTIME)
            self.stats.skipped_frames += slot - self._slot
            self._slot = slot


def silence_ratio(samples: np.ndarray, threshold: int = 64) -> float:
    """Share of 20 ms blocks (48 kHz) whose peak stays under ``threshold``; a test and benchmark helper."""
    n = len(samples) // SAMPLES_PER_FRAME
    if n == 0:
        return 1.0
    peaks = np.abs(samples[: n * SAMPLES_PER_FRAME].reshape(n, SAMPLES_PER_FRAME).astype(np.int32)).max(axis=1)
    return float((peaks < threshold).mean())
