"""Live transcripts of agent calls: both sides, utterance by utterance, on the conversation's timeline.

Opt-in per queue (``transcribe: true`` on the flow's queue node). Once an
agent's leg is bridged, a :class:`CallTranscript` taps the bridge: each side
(``customer`` = the caller, ``agent``) has its own
:class:`~media.asr.SpeechListener` with free decoding (no grammar), so the
VAD cuts the audio into utterances and only speech is decoded, in the shared
worker pool. Each utterance becomes a ``transcript`` timeline event
(``side``, ``text``, ``confidence``, ``start_ms``/``end_ms`` from the start of
the call's bridge) that the agent's desk shows live.

Transcription is a luxury, calls are not: at most ``max_transcripts`` calls
are transcribed at once per node; beyond that (or when the flow's engine
cannot decode freely) the call gets a ``transcript`` event with
``unavailable`` set and goes on without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.protocol.states import EventType
from media.asr import AsrError, NoMatch, Recognized, SpeechEngine, SpeechListener, SpeechStarted, VadSettings
from media.asr.pool import RecognitionPool

log = logging.getLogger(__name__)

SIDES = {"a": "customer", "b": "agent"}
#: Conversation turns run longer than IVR answers: longer utterances, a shorter pause ends one.
TRANSCRIPT_VAD = VadSettings(trailing_silence_ms=500, max_speech_ms=30_000, no_input_ms=None)
Record = Callable[[str, dict[str, Any]], Awaitable[None]]  # (event type, data) into the timeline


class _Side:
    def __init__(self, name: str, listener: SpeechListener, record: Record, call_id: str) -> None:
        self.name = name
        self.listener = listener
        self.record = record
        self.call_id = call_id
        self.samples = 0  # audio fed so far: this side's clock
        self.started_ms = 0
        self.segments = 0
        listener.start(0, None, no_input_ms=None, min_confidence=0.0)
        self.task = asyncio.ensure_future(self._run())

    def feed(self, samples: Any) -> None:
        at = self.samples * 1000 // 48000
        self.samples += len(samples)
        for event in self.listener.feed(samples, at):
            if isinstance(event, SpeechStarted):
                self.started_ms = event.onset_ms

    async def _run(self) -> None:
        while True:
            try:
                event = await self.listener.next_event()
            except AsrError as exc:  # this engine cannot transcribe: say so once, stop this side
                await self.record(
                    EventType.TRANSCRIPT, {"call_id": self.call_id, "side": self.name, "unavailable": exc.message}
                )
                return
            if isinstance(event, (Recognized, NoMatch)):
                result = event.result
                now = self.samples * 1000 // 48000
                if isinstance(event, Recognized) and result is not None and result.text:
                    self.segments += 1
                    await self.record(
                        EventType.TRANSCRIPT,
                        {
                            "call_id": self.call_id,
                            "side": self.name,
                            "text": result.text,
                            "confidence": round(result.confidence, 2),
                            "start_ms": self.started_ms,
                            "end_ms": now,
                        },
                    )
                self.listener.start(now, None, no_input_ms=None, min_confidence=0.0)  # the next utterance

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.listener.close()


class CallTranscript:
    """Both sides of one bridged call. Use it as the bridge's tap."""

    def __init__(self, engine: SpeechEngine, pool: RecognitionPool, record: Record, call_id: str) -> None:
        self.sides = {
            key: _Side(
                name,
                SpeechListener(engine, pool, min_confidence=0.0, vad=TRANSCRIPT_VAD, label=f"{call_id}-{name}"),
                record,
                call_id,
            )
            for key, name in SIDES.items()
        }

    def __call__(self, side: str, samples: Any) -> None:
        found = self.sides.get(side)
        if found is not None:
            found.feed(samples)

    async def close(self) -> None:
        await asyncio.gather(*(side.close() for side in self.sides.values()))


class Transcripts:
    """The node's transcription budget."""

    def __init__(self, pool: RecognitionPool, max_transcripts: int) -> None:
        self.pool = pool
        self.max_transcripts = max_transcripts
        self.active = 0

    async def start(self, engine: SpeechEngine | None, record: Record, call_id: str) -> CallTranscript | None:
        """A transcript for this call, or None (recorded as unavailable) when over budget or without an engine."""
        why = ""
        if engine is None:
            why = "the flow has speech recognition turned off"
        elif self.active >= self.max_transcripts:
            why = f"all {self.max_transcripts} transcription slots are busy"
        if why:
            log.info("call %s not transcribed: %s", call_id, why)
            await record(EventType.TRANSCRIPT, {"call_id": call_id, "side": "", "unavailable": why})
            return None
        assert engine is not None
        self.active += 1
        return CallTranscript(engine, self.pool, record, call_id)

    async def stop(self, transcript: CallTranscript) -> None:
        self.active -= 1
        await transcript.close()
