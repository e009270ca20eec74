"""Endpointing: when the caller starts and stops speaking, from per-frame speech flags.

Two pieces, both free of clocks and asyncio:

* :class:`FrameClassifier` wraps webrtcvad: one 10/20/30 ms frame of
  16 kHz mono s16le in, "speech or not" out (about 10 us per frame).
* :class:`Endpointer` is the state machine ``idle -> speaking -> ended``
  driven by those flags and by the frame timestamps the caller passes in:

  - ``idle``: speech starts when the frames flagged as speech within the
    last ``start_window_ms`` add up to ``min_speech_ms`` (isolated clicks
    never do); :class:`SpeechStarted` carries the decision time (the end of
    the frame that tipped it: barge-in reacts to this) and the onset (start
    of the first speech frame in the window: where recognition must begin).
    The optional no-input timer ends the window with :class:`NoInputTimeout`.
  - ``speaking``: ``trailing_silence_ms`` of consecutive non-speech frames
    end it with :class:`SpeechEnded` reason ``silence``; speech lasting
    ``max_speech_ms`` from the onset ends it with reason ``max_duration``.
  - ``ended``: everything is ignored until :meth:`Endpointer.start`.

Timestamps are integer milliseconds on whatever clock the caller uses
(call time, sample count); frames must arrive in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, StrEnum

import webrtcvad

from media.asr.engine import SAMPLE_RATE

FRAME_MS_ALLOWED = (10, 20, 30)


class UseSettings(Enum):
    """The type of :data:`FROM_SETTINGS`."""

    TOKEN = "default"


#: "Use the settings' value" for :meth:`Endpointer.start`'s ``no_input_ms``.
FROM_SETTINGS = UseSettings.TOKEN


class VadState(StrEnum):
    IDLE = "idle"
    SPEAKING = "speaking"
    ENDED = "ended"


class EndReason(StrEnum):
    SILENCE = "silence"
    MAX_DURATION = "max_duration"


@dataclass(frozen=True)
class VadSettings:
    """Endpointing parameters (milliseconds). Defaults suit short IVR answers."""

    #: webrtcvad aggressiveness 0-3: higher flags fewer noise frames as speech (and some weak speech).
    aggressiveness: int = 2
    frame_ms: int = 20
    #: Speech frames needed within ``start_window_ms`` to declare speech started.
    min_speech_ms: int = 120
    start_window_ms: int = 200
    #: Consecutive non-speech that ends an utterance.
    trailing_silence_ms: int = 700
    #: Longest utterance, from its onset.
    max_speech_ms: int = 10_000
    #: No speech this long after the window opens (or after :meth:`Endpointer.arm_no_input`): no-input.
    #: None: no timer (the caller runs its own).
    no_input_ms: int | None = 5_000
    #: Audio kept from before the speech decision so the first syllable reaches the recognizer.
    pre_roll_ms: int = 300

    def __post_init__(self) -> None:
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"VAD aggressiveness must be 0-3, got {self.aggressiveness}")
        if self.frame_ms not in FRAME_MS_ALLOWED:
            raise ValueError(f"VAD frame_ms must be one of {FRAME_MS_ALLOWED}, got {self.frame_ms}")
        if not 0 < self.min_speech_ms <= self.start_window_ms:
            raise ValueError("VAD needs 0 < min_speech_ms <= start_window_ms")
        for name in ("trailing_silence_ms", "max_speech_ms"):
            if getattr(self, name) < self.frame_ms:
                raise ValueError(f"VAD {name} must be at least one frame ({self.frame_ms} ms)")
        if self.no_input_ms is not None and self.no_input_ms <= 0:
            raise ValueError("VAD no_input_ms must be positive or None")
        if self.pre_roll_ms < 0:
            raise ValueError("VAD pre_roll_ms must not be negative")

    @property
    def frame_samples(self) -> int:
        """Samples per frame at 16 kHz."""
        return SAMPLE_RATE * self.frame_ms // 1000


@dataclass(frozen=True)
class SpeechStarted:
    """Speech declared at ``at_ms`` (end of the deciding frame); it began at ``onset_ms``."""

    at_ms: int
    onset_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    """The utterance is over at ``at_ms``; ``speech_ms`` from onset to the end of its last speech frame."""

    at_ms: int
    reason: EndReason
    speech_ms: int


@dataclass(frozen=True)
class NoInputTimeout:
    """No speech started before the no-input deadline."""

    at_ms: int


VadEvent = SpeechStarted | SpeechEnded | NoInputTimeout


class FrameClassifier:
    """webrtcvad on 16 kHz frames of ``settings.frame_ms``; one per stream (webrtcvad keeps noise state).

    webrtcvad adapts its noise estimate to what it has heard, and it adapts *upwards* slowly:
    after a window on a quiet line, a background 20 dB louder in the next window was flagged as
    speech for seconds (the window then ran to ``max_speech_ms`` with no result), where a fresh
    classifier settled within the first frames. :meth:`reset` starts afresh; the listener calls it
    at the start of every window.
    """

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings
        self._vad = webrtcvad.Vad(settings.aggressiveness)
        self._bytes = settings.frame_samples * 2

    def reset(self) -> None:
        """Forget the noise estimate: the next frame is classified as by a new classifier."""
        self._vad = webrtcvad.Vad(self.settings.aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self._bytes:
            raise ValueError(
                f"VAD frame must be {self._bytes} bytes ({self.settings.frame_ms} ms at 16 kHz), got {len(frame)}"
            )
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))


class Endpointer:
    """The endpointing state machine; see the module docstring. Pure: no clock, no I/O."""

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings
        self.state = VadState.ENDED
        self._window: deque[tuple[int, bool]] = deque()  # (frame start, speech) within start_window_ms
        self._no_input_at: int | None = None
        self._onset = 0
        self._last_speech_end = 0
        self._silence_ms = 0

    def start(self, at_ms: int, no_input_ms: int | None | UseSettings = FROM_SETTINGS) -> None:
        """Open a window at ``at_ms``; ``no_input_ms`` None = no timer (default: the settings' value)."""
        self.state = VadState.IDLE
        self._window.clear()
        self._silence_ms = 0
        timeout = self.settings.no_input_ms if no_input_ms is FROM_SETTINGS else no_input_ms
        self._no_input_at = None if timeout is None else at_ms + timeout

    def arm_no_input(self, at_ms: int, timeout_ms: int | None) -> None:
        """(Re)start the no-input timer, e.g. when the prompts before the window finished; None disarms it."""
        self._no_input_at = None if timeout_ms is None else at_ms + timeout_ms

    def stop(self) -> None:
        """End the window without an event (the answer came another way, e.g. DTMF)."""
        self.state = VadState.ENDED

    def frame(self, speech: bool, at_ms: int) -> list[VadEvent]:
        """One frame starting at ``at_ms``, flagged ``speech``; returns the events it caused."""
        end = at_ms + self.settings.frame_ms
        if self.state is VadState.IDLE:
            return self._idle_frame(speech, at_ms, end)
        if self.state is VadState.SPEAKING:
            return self._speaking_frame(speech, end)
        return []

    def advance(self, now_ms: int) -> list[VadEvent]:
        """Fire timers that expired at ``now_ms`` without audio (audio stalled)."""
        if self.state is VadState.IDLE and self._no_input_at is not None and now_ms >= self._no_input_at:
            self.state = VadState.ENDED
            return [NoInputTimeout(now_ms)]
        if self.state is VadState.SPEAKING and now_ms - self._onset >= self.settings.max_speech_ms:
            self.state = VadState.ENDED
            return [SpeechEnded(now_ms, EndReason.MAX_DURATION, self._last_speech_end - self._onset)]
        return []

    def _idle_frame(self, speech: bool, start: int, end: int) -> list[VadEvent]:
        s = self.settings
        self._window.append((start, speech))
        while self._window and self._window[0][0] < end - s.start_window_ms:
            self._window.popleft()
        speech_ms = sum(s.frame_ms for _, flag in self._window if flag)
        if speech_ms >= s.min_speech_ms:
            self.state = VadState.SPEAKING
            self._onset = next(t for t, flag in self._window if flag)
            self._last_speech_end = end
            self._silence_ms = 0
            self._window.clear()
            return [SpeechStarted(end, self._onset)]
        if self._no_input_at is not None and end >= self._no_input_at:
            self.state = VadState.ENDED
            return [NoInputTimeout(end)]
        return []

    def _speaking_frame(self, speech: bool, end: int) -> list[VadEvent]:
        s = self.settings
        if speech:
            self._silence_ms = 0
            self._last_speech_end = end
        else:
            self._silence_ms += s.frame_ms
        if self._silence_ms >= s.trailing_silence_ms:
            self.state = VadState.ENDED
            return [SpeechEnded(end, EndReason.SILENCE, self._last_speech_end - self._onset)]
        if end - self._onset >= s.max_speech_ms:
            self.state = VadState.ENDED
            return [SpeechEnded(end, EndReason.MAX_DURATION, self._last_speech_end - self._onset)]
        return []
