"""A caller that reads like a script: an aiortc peer on loopback plus the customer's WebSocket.

    caller = Caller(customer)
    await caller.dial()
    await caller.heard_prompt()            # speech, then silence
    await caller.press("1")                # keypad over signaling; or how="rfc4733" / "inband"
    status = await caller.status("waiting")

It sends what a browser sends (an offer with telephone-event, RFC 4733 key
presses like Chromium's RTCDTMFSender, or tones in the microphone audio),
records everything it hears, and can tell speech from silence in it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from gateway.store.store import Store, StoreError
from media.audio import Audio, rms_dbfs
from media.dtmf import dtmf_sequence
from media.loopback import TrackRecorder
from media.player import PromptPlayer
from media.telephone_event import TelephoneEvents, enable_telephone_events
from tests.support.call_trace import Did, LogTail, describe, gateway_log
from tests.support.clients import Customer

SAMPLE_RATE = 48000
BLOCK = 960  # 20 ms
LOUD_DBFS = -45.0
#: A gap that bridges the pauses between a prompt's sentences (espeak-ng: about 0.3 s) but not the silence after it.
WHOLE_PROMPT_GAP_MS = 500
#: How much longer than its ``timeout`` (seconds of audio) a wait for a prompt may take on the clock.
WALL_CLOCK_FACTOR = 3
#: Seconds of the clock without a frame after which a wait for a prompt takes it that no audio will come.
AUDIO_STOPPED_S = 10.0
_ids = itertools.count(1)


def sound_segments(samples: np.ndarray, min_gap_ms: int = 200) -> list[tuple[float, float]]:
    """(start, end) seconds of the stretches with sound, gaps shorter than ``min_gap_ms`` bridged."""
    loud = [rms_dbfs(samples[i : i + BLOCK]) > LOUD_DBFS for i in range(0, len(samples) - BLOCK + 1, BLOCK)]
    segments: list[tuple[float, float]] = []
    start = None
    quiet = 0
    for i, is_loud in enumerate(loud + [False] * (min_gap_ms // 20 + 1)):
        if is_loud:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet * 20 >= min_gap_ms:
                segments.append((start * 0.02, (i - quiet + 1) * 0.02))
                start, quiet = None, 0
    return segments


class Caller:
    """``store`` (the gateway's) and ``log`` (:func:`~tests.support.call_trace.gateway_log`): a wait for a prompt
    that times out tells the conversation's timeline and the gateway's log lines beside what the caller heard."""

    def __init__(
        self,
        customer: Customer,
        mic: PromptPlayer | None = None,
        *,
        store: Store | None = None,
        log: LogTail | None = None,
    ):
        self.customer = customer
        self.store = store
        self.log = log
        self.did: list[Did] = []  # keys pressed and speech said, at seconds of the recording
        self.began = time.time()
        self.call_id = f"call-{next(_ids)}"
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = mic if mic is not None else PromptPlayer()
        self.events: TelephoneEvents = enable_telephone_events(self.pc)
        self.recorder: TrackRecorder | None = None
        self.conversation_id = ""
        self.statuses: list[str] = []
        self.dialed_at = 0.0

    async def make_offer(self) -> str:
        """The offer a browser would send: one audio track (the microphone), all candidates gathered."""
        self.pc.addTrack(self.mic)

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            self.recorder = TrackRecorder(track).start()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def dial(self, **extra: Any) -> dict[str, Any]:
        """Offer a call on the customer's socket (``extra``: more fields of the offer, e.g. ``test_flow``); returns
        the call_answer frame."""
        await self.make_offer()
        self.dialed_at = asyncio.get_running_loop().time()
        offer = {"type": "call_offer", "call_id": self.call_id, "sdp": self.pc.localDescription.sdp, **extra}
        await self.customer.send(offer)
        answer = await self.customer.expect(
            ("call_answer", "error"), lambda f: f.get("call_id", self.call_id) == self.call_id, timeout=15
        )
        if answer["type"] == "error":
            raise AssertionError(f"the gateway refused the call: {answer}")
        self.conversation_id = answer["conversation_id"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        return answer

    async def status(self, wanted: str, timeout: float = 15) -> dict[str, Any]:
        try:
            frame = await self.customer.expect(
                "call_status", lambda f: f["call_id"] == self.call_id and f["status"] == wanted, timeout=timeout
            )
        except TimeoutError:
            told = await self.account()
            raise TimeoutError(f"no call status {wanted!r} within {timeout} s\n{told}") from None
        self.statuses.append(frame["status"])
        return frame

    async def menu_asked(self, timeout: float = 15) -> dict[str, Any]:
        """Wait until the test line's menu (tests/flows/default.yaml) starts asking: its caption goes out as its
        prompt starts playing, when the flow already takes keys. Quicker than hearing the greeting end (the greeting
        takes no keys, and a prompt is heard over only once silence follows it)."""
        return await self.customer.expect(
            "caption",
            lambda f: f["call_id"] == self.call_id and f["kind"] == "prompt" and f["text"].startswith("For billing"),
            timeout=timeout,
        )

    @property
    def heard(self) -> np.ndarray:
        return self.recorder.samples if self.recorder is not None else np.zeros(0, dtype=np.int16)

    async def heard_prompt(self, after: float = 0.0, timeout: float = 15, min_gap_ms: int = 200) -> tuple[float, float]:
        """Wait for a stretch of sound that starts after ``after`` seconds of recording and ends in silence.

        It starts where sound follows 200 ms of silence; from there, pauses shorter than ``min_gap_ms`` belong to
        it. espeak-ng pauses about 0.3 s between sentences, so the default returns after a prompt's first sentence,
        :data:`WHOLE_PROMPT_GAP_MS` after the whole prompt.

        ``timeout`` counts seconds of the call's audio heard meanwhile, not of the clock: the caller and the gateway
        share one event loop here, and on a loaded machine the gateway's audio runs slower than real time (its
        player skips the 20 ms slots a late loop missed); :data:`WALL_CLOCK_FACTOR` times ``timeout`` of the clock
        bounds the wait, and :data:`AUDIO_STOPPED_S` without a frame ends it (the gateway hung up).
        """
        quiet = max(0.25, min_gap_ms / 1000)  # the silence that must follow (the end is not a sentence pause)
        waited_from = self.recorded_seconds()
        loop = asyncio.get_running_loop()
        waited_since = loop.time()
        give_up = waited_since + timeout * WALL_CLOCK_FACTOR
        while self.recorded_seconds() - waited_from < timeout and loop.time() < give_up and not self.audio_stopped():
            heard = self.heard
            start = next((s for s, _ in sound_segments(heard) if s >= after), None)
            if start is not None:
                end = start + sound_segments(heard[round(start * SAMPLE_RATE) :], min_gap_ms)[0][1]
                if end < len(heard) / SAMPLE_RATE - quiet:
                    return start, end
            await asyncio.sleep(0.05)
        told = await self.account()
        # a prompt that began just before ``after`` (a late wait) is the usual mistake: say so
        near = [(s, e) for s, e in sound_segments(self.heard) if s < after <= e + quiet]
        note = f" (the sound at {near[0][0]:.2f}-{near[0][1]:.2f} began before it: not counted)" if near else ""
        raise TimeoutError(
            f"no prompt began after {after:.2f} s of recording and ended (pauses under {min_gap_ms} ms bridged)"
            f" in {self.recorded_seconds() - waited_from:.1f} s of the call's audio"
            f" ({loop.time() - waited_since:.1f} s of the clock){note}\n{told}"
        )

    async def account(self) -> str:
        """What this call heard and did, and (when known) what the gateway did: for a failure message."""
        events: list[dict[str, Any]] | str | None = None
        if self.store is not None and self.conversation_id:
            try:
                events = await self.store.events(self.conversation_id)
            except StoreError as exc:  # a test of a store outage: the message still tells the rest
                events = f"not readable ({exc})"
        return describe(
            segments=sound_segments(self.heard),
            recorded=self.recorded_seconds(),
            did=self.did,
            frames=self.recorder.frames if self.recorder is not None else [],
            sample_rate=SAMPLE_RATE,
            events=events,
            log=self.log,
            since=self.began,
        )

    def audio_stopped(self) -> bool:
        """No frame of the gateway's audio came for :data:`AUDIO_STOPPED_S` (the call ended, or its audio stopped)."""
        frames = self.recorder.frames if self.recorder is not None else []
        return bool(frames) and time.monotonic() - frames[-1].arrived > AUDIO_STOPPED_S

    def heard_prompt_started(self, after: float) -> bool:
        """Sound (a prompt) started after ``after`` seconds of recording."""
        return any(start >= after for start, _ in sound_segments(self.heard))

    def segment_at(self, t: float) -> tuple[float, float] | None:
        """The stretch of sound heard at ``t`` seconds of recording, if any."""
        return next(((s, e) for s, e in sound_segments(self.heard) if s <= t <= e), None)

    def recorded_seconds(self) -> float:
        return len(self.heard) / SAMPLE_RATE

    async def press(self, digits: str, how: str = "keypad") -> None:
        self.did.append(Did(self.recorded_seconds(), f"pressed {digits} ({how})"))
        if how == "keypad":
            await self.customer.send({"type": "dtmf", "call_id": self.call_id, "digits": digits})
        elif how == "rfc4733":
            await self.events.dtmf_sender().insert_dtmf(digits)
        elif how == "inband":
            done = self.mic.play(Audio(dtmf_sequence(digits, SAMPLE_RATE), SAMPLE_RATE), f"dtmf-{digits}")
            await done
        else:
            raise ValueError(how)

    async def say(self, audio: Audio) -> None:
        self.did.append(Did(self.recorded_seconds(), f"says {audio.duration:.2f} s of speech"))
        await self.mic.play(audio, "speech")
        self.did.append(Did(self.recorded_seconds(), "has said it"))

    async def hangup(self) -> None:
        await self.customer.send({"type": "hangup", "call_id": self.call_id})

    async def close(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()
        self.mic.end()
        await self.pc.close()


@asynccontextmanager
async def in_ivr(
    customer: Customer, mic: PromptPlayer | None = None, *, store: Store | None = None
) -> AsyncIterator[Caller]:
    """A customer who dialled and is in the IVR (call status 'ivr'); the call leg is closed afterwards.

    ``store``: the gateway's, for the conversation's timeline in a timed-out wait's message (with the gateway's
    log lines, collected while the call is up)."""
    await customer.hello()
    with gateway_log() as log:
        caller = Caller(customer, mic, store=store, log=log)
        try:
            await caller.dial()
            await caller.status("ivr")
            yield caller
        finally:
            await caller.close()
