"""Endpointing: when the caller starts and stops speaking, from per-frame speech flags.

Two pieces, both free of clocks and asyncio:

* :class:`FrameClassifier` wraps webrtcvad: one 10/20/30 ms frame of
  16 kHz mono s16le in, "speech or not" out (about 10 us per frame). A frame
  is speech only if webrtcvad says so *and* it is ``noise_margin_db`` louder
  than the line's noise floor (:class:`NoiseFloor`: the quietest frame of
  the last ``noise_window_ms``), or follows such a frame within
  ``noise_hangover_ms`` (webrtcvad's own hangover, kept as it was). The
  gate only works on a noisy line (floor above ``noise_gate_above_dbfs``):
  on a quiet one webrtcvad decides alone, as before. webrtcvad alone calls steady noise speech
  (white noise 10 dB under the speech kept windows open until their
  maximum); steady noise sits at its own floor, so the gate turns it into
  silence and the utterance ends.
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
    After ``early_silence_ms`` of a pause :class:`SpeechPaused` is returned
    once: the listener decodes what it has, and if that is a complete,
    confident answer it ends the utterance there with
    :meth:`Endpointer.end_early` (reason ``early``), provided no speech came
    since (the pause is named by ``SpeechPaused.speech_end_ms``).
  - ``ended``: everything is ignored until :meth:`Endpointer.start`.

Timestamps are integer milliseconds on whatever clock the caller uses
(call time, sample count); frames must arrive in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, StrEnum

import numpy as np
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
    EARLY = "early"  # a short pause after a complete, confident answer (see Endpointer.end_early)
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
    #: A pause this long lets a complete, confident answer end the utterance early (None: never).
    #: It counts after ``noise_hangover_ms``: the decode sees about 320 ms of the pause.
    early_silence_ms: int | None = 200
    #: Longest utterance, from its onset.
    max_speech_ms: int = 10_000
    #: No speech this long after the window opens (or after :meth:`Endpointer.arm_no_input`): no-input.
    #: None: no timer (the caller runs its own).
    no_input_ms: int | None = 5_000
    #: Audio kept from before the speech decision so the first syllable reaches the recognizer.
    pre_roll_ms: int = 300
    #: A speech frame must be this much louder than the noise floor (None: webrtcvad alone).
    noise_margin_db: float | None = 6.0
    #: The noise floor is the quietest frame of this much recent audio.
    noise_window_ms: int = 1500
    #: After a frame over the floor, webrtcvad alone decides for this long (its own hangover, kept).
    noise_hangover_ms: int = 120
    #: The gate only works on a noisy line, a floor above this (dBFS). On a quiet line webrtcvad alone
    #: decides, exactly as before (webrtcvad only takes white noise for speech from about -20 dBFS).
    noise_gate_above_dbfs: float = -55.0

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
        if self.early_silence_ms is not None and not self.frame_ms <= self.early_silence_ms < self.trailing_silence_ms:
            raise ValueError("VAD early_silence_ms must be at least one frame and under trailing_silence_ms")
        if self.noise_margin_db is not None and self.noise_margin_db < 0:
            raise ValueError("VAD noise_margin_db must not be negative")
        if self.noise_hangover_ms < 0:
            raise ValueError("VAD noise_hangover_ms must not be negative")
        if self.noise_window_ms < self.frame_ms:
            raise ValueError(f"VAD noise_window_ms must be at least one frame ({self.frame_ms} ms)")

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
class SpeechPaused:
    """``early_silence_ms`` of pause at ``at_ms`` after speech that ended at ``speech_end_ms`` (once per pause)."""

    at_ms: int
    speech_end_ms: int


@dataclass(frozen=True)
class NoInputTimeout:
    """No speech started before the no-input deadline."""

    at_ms: int


VadEvent = SpeechStarted | SpeechPaused | SpeechEnded | NoInputTimeout


class NoiseFloor:
    """The line's background level: the quietest frame (dBFS) of the last ``window_frames`` frames.

    A sliding minimum (monotonic deque), so a step up in the background is learned one window
    later and a step down at once. Speech never stays loud for a whole window (there are gaps
    between words and syllables), so the floor stays near the background while the caller talks.
    """

    def __init__(self, window_frames: int) -> None:
        self.window_frames = window_frames
        self._n = 0
        self._mins: deque[tuple[int, float]] = deque()  # (frame number, level), levels increasing

    def reset(self) -> None:
        self._n = 0
        self._mins.clear()

    def add(self, level_db: float) -> float:
        """Take one frame's level; returns the floor including it."""
        while self._mins and self._mins[-1][1] >= level_db:
            self._mins.pop()
        self._mins.append((self._n, level_db))
        while self._mins[0][0] <= self._n - self.window_frames:
            self._mins.popleft()
        self._n += 1
        return self._mins[0][1]


def frame_level_db(frame: bytes) -> float:
    """The level of one s16le frame in dBFS (digital silence: -120)."""
    x = np.frombuffer(frame, dtype=np.int16).astype(np.float64)
    return float(10.0 * np.log10(np.mean(x * x) / (32768.0 * 32768.0) + 1e-12)) if len(x) else -120.0


class FrameClassifier:
    """webrtcvad on 16 kHz frames of ``settings.frame_ms``; one per stream (webrtcvad keeps noise state).

    webrtcvad adapts its noise estimate to what it has heard, and it adapts *upwards* slowly:
    after a window on a quiet line, a background 20 dB louder in the next window was flagged as
    speech for seconds (the window then ran to ``max_speech_ms`` with no result), where a fresh
    classifier settled within the first frames. :meth:`reset` starts afresh; the listener calls it
    at the start of every window.

    The noise-floor gate (``noise_margin_db``) is forgotten by :meth:`reset` too: a window's floor
    is learned from its own first frames (the caller's line while the question plays).
    """

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings
        self._vad = webrtcvad.Vad(settings.aggressiveness)
        self._bytes = settings.frame_samples * 2
        self._floor = NoiseFloor(max(1, settings.noise_window_ms // settings.frame_ms))
        self._hangover_frames = settings.noise_hangover_ms // settings.frame_ms
        self._since_loud = self._hangover_frames + 1  # frames since one passed the gate
        #: The last frame's level and the floor it was judged against (dBFS), for logs and tests.
        self.level_db = -120.0
        self.floor_db = -120.0

    def reset(self) -> None:
        """Forget the noise estimate: the next frame is classified as by a new classifier."""
        self._vad = webrtcvad.Vad(self.settings.aggressiveness)
        self._floor.reset()
        self._since_loud = self._hangover_frames + 1

    def close(self) -> None:
        """Nothing to release (the same interface as :class:`~media.asr.silero_vad.SileroClassifier`)."""

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self._bytes:
            raise ValueError(
                f"VAD frame must be {self._bytes} bytes ({self.settings.frame_ms} ms at 16 kHz), got {len(frame)}"
            )
        voiced = bool(self._vad.is_speech(frame, SAMPLE_RATE))  # always run: webrtcvad learns from every frame
        margin = self.settings.noise_margin_db
        if margin is None:
            return voiced
        self.level_db = frame_level_db(frame)
        self.floor_db = self._floor.add(self.level_db)
        loud = voiced and (
            self.floor_db < self.settings.noise_gate_above_dbfs or self.level_db >= self.floor_db + margin
        )
        self._since_loud = 0 if loud else self._since_loud + 1
        return voiced and self._since_loud <= self._hangover_frames


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
        self._paused = False  # SpeechPaused returned for the current pause
        self._max_ms = settings.max_speech_ms

    def start(
        self, at_ms: int, no_input_ms: int | None | UseSettings = FROM_SETTINGS, max_speech_ms: int | None = None
    ) -> None:
        """Open a window at ``at_ms``; ``no_input_ms`` None = no timer (default: the settings' value).

        ``max_speech_ms`` is this window's hard maximum (default: the settings' value).
        """
        self.state = VadState.IDLE
        self._window.clear()
        self._silence_ms = 0
        self._paused = False
        self._max_ms = (
            self.settings.max_speech_ms if max_speech_ms is None else max(max_speech_ms, self.settings.frame_ms)
        )
        timeout = self.settings.no_input_ms if no_input_ms is FROM_SETTINGS else no_input_ms
        self._no_input_at = None if timeout is None else at_ms + timeout

    def arm_no_input(self, at_ms: int, timeout_ms: int | None) -> None:
        """(Re)start the no-input timer, e.g. when the prompts before the window finished; None disarms it."""
        self._no_input_at = None if timeout_ms is None else at_ms + timeout_ms

    def stop(self) -> None:
        """End the window without an event (the answer came another way, e.g. DTMF)."""
        self.state = VadState.ENDED

    def end_early(self, speech_end_ms: int, at_ms: int) -> SpeechEnded | None:
        """End the utterance in the pause after ``speech_end_ms`` (a :class:`SpeechPaused`'s), at ``at_ms``.

        None when that pause is over (the caller spoke again) or the window already ended.
        """
        if self.state is not VadState.SPEAKING or self._last_speech_end != speech_end_ms or self._silence_ms == 0:
            return None
        self.state = VadState.ENDED
        return SpeechEnded(at_ms, EndReason.EARLY, self._last_speech_end - self._onset)

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
        if self.state is VadState.SPEAKING and now_ms - self._onset >= self._max_ms:
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
            self._paused = False
        else:
            self._silence_ms += s.frame_ms
        if self._silence_ms >= s.trailing_silence_ms:
            self.state = VadState.ENDED
            return [SpeechEnded(end, EndReason.SILENCE, self._last_speech_end - self._onset)]
        if end - self._onset >= self._max_ms:
            self.state = VadState.ENDED
            return [SpeechEnded(end, EndReason.MAX_DURATION, self._last_speech_end - self._onset)]
        if s.early_silence_ms is not None and not self._paused and self._silence_ms >= s.early_silence_ms:
            self._paused = True
            return [SpeechPaused(end, self._last_speech_end)]
        return []
