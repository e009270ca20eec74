"""A scripted listening window, and test signals: for tests, the simulator and benchmarks.

``trace = await listen(listener, grammar, samples48k)`` feeds the audio to
a :class:`~media.asr.listener.SpeechListener` the way a call does (20 ms
frames of 48 kHz mono int16 with their timestamps, after ``lead_ms`` of
silence and followed by ``tail_ms`` of silence), stops feeding when the VAD
has decided, and waits for the window's terminal event.
:class:`ListenTrace` keeps every event, the outcome and the wall-clock
timings a benchmark needs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.asr.grammar import Grammar
from media.asr.listener import TERMINAL_EVENTS, ListenerEvent, NoMatch, Recognized, SpeechListener
from media.asr.vad import FROM_SETTINGS, NoInputTimeout, SpeechEnded, SpeechStarted, UseSettings

Samples = npt.NDArray[np.int16]


@dataclass
class ListenTrace:
    """What one scripted window produced. Times in ms are on the fed audio's clock (0 = first frame)."""

    events: list[ListenerEvent] = field(default_factory=list)
    #: Where the caller's audio started in the fed stream (after the lead silence).
    audio_start_ms: int = 0
    speech_started: SpeechStarted | None = None
    speech_ended: SpeechEnded | None = None
    #: Wall seconds spent inside ``feed`` for the whole window (VAD + resampling, on the event loop).
    feed_seconds: float = 0.0
    #: Wall seconds from the ``feed`` call that ended speech to the terminal event.
    decision_seconds: float | None = None

    @property
    def outcome(self) -> Recognized | NoMatch | NoInputTimeout:
        last = self.events[-1] if self.events else None
        if isinstance(last, TERMINAL_EVENTS):
            return last
        raise AssertionError(f"the window ended without an outcome: {self.events}")

    @property
    def text(self) -> str:
        """The recognised phrase, ``""`` for any kind of no-match or no-input."""
        out = self.outcome
        return out.result.text if isinstance(out, Recognized) else ""

    def kinds(self) -> list[str]:
        """Event class names in order, for whole-sequence assertions."""
        return [type(e).__name__ for e in self.events]


async def listen(
    listener: SpeechListener,
    grammar: Grammar | None,
    samples: Samples,
    *,
    rate: int = 48000,
    lead_ms: int = 500,
    tail_ms: int = 2000,
    frame_ms: int = 20,
    start_ms: int = 0,
    no_input_ms: int | None | UseSettings = FROM_SETTINGS,
    min_confidence: float | None = None,
    paced: bool = False,
    timeout: float = 15.0,
) -> ListenTrace:
    """Open a window at ``start_ms``, play ``lead_ms`` silence + ``samples`` + ``tail_ms`` silence, await the outcome.

    ``paced`` feeds in real time (a frame every ``frame_ms``, as a call does), so the recognizer
    keeps up as it would live; otherwise frames go in as fast as the loop runs.
    """
    trace = ListenTrace(audio_start_ms=start_ms + lead_ms)
    audio = np.concatenate(
        [
            np.zeros(rate * lead_ms // 1000, np.int16),
            samples.astype(np.int16, copy=False),
            np.zeros(rate * tail_ms // 1000, np.int16),
        ]
    )
    listener.start(start_ms, grammar, no_input_ms=no_input_ms, min_confidence=min_confidence)
    n = rate * frame_ms // 1000
    ended_at: float | None = None
    began = time.perf_counter()
    for i in range(0, len(audio) - n + 1, n):
        if paced:
            await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        t0 = time.perf_counter()
        events = listener.feed(audio[i : i + n], start_ms + i * 1000 // rate)
        trace.feed_seconds += time.perf_counter() - t0
        if any(isinstance(e, (SpeechEnded, NoInputTimeout)) for e in events):
            ended_at = time.perf_counter()
            break
    if ended_at is None:  # the audio ran out first: let the timers decide
        ended_at = time.perf_counter()
        listener.poll(start_ms + len(audio) * 1000 // rate + 3_600_000)
    async with asyncio.timeout(timeout):
        while True:
            event = await listener.next_event()
            trace.events.append(event)
            if isinstance(event, SpeechStarted):
                trace.speech_started = event
            elif isinstance(event, SpeechEnded):
                trace.speech_ended = event
            elif isinstance(event, TERMINAL_EVENTS):
                trace.decision_seconds = time.perf_counter() - ended_at
                return trace


def white_noise(ms: int, dbfs: float, rate: int = 48000, seed: int = 0) -> Samples:
    """Gaussian white noise with RMS level ``dbfs``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 32768.0 * 10 ** (dbfs / 20), rate * ms // 1000)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def voiced_tone(ms: int, f0: float = 150.0, dbfs: float = -12.0, rate: int = 48000) -> Samples:
    """A buzz with 5 harmonics (webrtcvad calls it speech): a stand-in for a vowel in VAD tests."""
    t = np.arange(rate * ms // 1000) / rate
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    x = x / np.max(np.abs(x)) * 32767 * 10 ** (dbfs / 20) if len(t) else x
    return np.asarray(x).astype(np.int16)


def click(rate: int = 48000, ms: float = 2.5, amplitude: int = 20000) -> Samples:
    """A short rectangular click."""
    return np.full(max(1, int(rate * ms / 1000)), amplitude, dtype=np.int16)


def silence(ms: int, rate: int = 48000) -> Samples:
    return np.zeros(rate * ms // 1000, np.int16)
