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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media.audio import Audio, rms_dbfs
from media.dtmf import dtmf_sequence
from media.loopback import TrackRecorder
from media.player import PromptPlayer
from media.telephone_event import TelephoneEvents, enable_telephone_events
from tests.support.clients import Customer

SAMPLE_RATE = 48000
BLOCK = 960  # 20 ms
LOUD_DBFS = -45.0
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
    def __init__(self, customer: Customer, mic: PromptPlayer | None = None):
        self.customer = customer
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
        frame = await self.customer.expect(
            "call_status", lambda f: f["call_id"] == self.call_id and f["status"] == wanted, timeout=timeout
        )
        self.statuses.append(frame["status"])
        return frame

    @property
    def heard(self) -> np.ndarray:
        return self.recorder.samples if self.recorder is not None else np.zeros(0, dtype=np.int16)

    async def heard_prompt(self, after: float = 0.0, timeout: float = 15) -> tuple[float, float]:
        """Wait for a stretch of sound that starts after ``after`` seconds of recording and ends in silence."""
        async with asyncio.timeout(timeout):
            while True:
                for start, end in sound_segments(self.heard):
                    if start >= after and end < len(self.heard) / SAMPLE_RATE - 0.25:
                        return start, end
                await asyncio.sleep(0.05)

    def heard_prompt_started(self, after: float) -> bool:
        """Sound (a prompt) started after ``after`` seconds of recording."""
        return any(start >= after for start, _ in sound_segments(self.heard))

    def segment_at(self, t: float) -> tuple[float, float] | None:
        """The stretch of sound heard at ``t`` seconds of recording, if any."""
        return next(((s, e) for s, e in sound_segments(self.heard) if s <= t <= e), None)

    def recorded_seconds(self) -> float:
        return len(self.heard) / SAMPLE_RATE

    async def press(self, digits: str, how: str = "keypad") -> None:
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
        await self.mic.play(audio, "speech")

    async def hangup(self) -> None:
        await self.customer.send({"type": "hangup", "call_id": self.call_id})

    async def close(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()
        self.mic.end()
        await self.pc.close()


@asynccontextmanager
async def in_ivr(customer: Customer, mic: PromptPlayer | None = None) -> AsyncIterator[Caller]:
    """A customer who dialled and is in the IVR (call status 'ivr'); the call leg is closed afterwards."""
    await customer.hello()
    caller = Caller(customer, mic)
    try:
        await caller.dial()
        await caller.status("ivr")
        yield caller
    finally:
        await caller.close()
