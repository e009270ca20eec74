"""The in-memory audio value every media module passes around.

:class:`Audio` is mono signed 16-bit PCM plus its sample rate. Helpers here
do the few conversions everybody needs: resampling through PyAV (off the
event loop for long buffers: callers run it in a thread), silence, joining
and a level measurement used by tests, VAD-like checks and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]

#: Level returned for digital silence (and the floor of :func:`rms_dbfs`).
SILENCE_DBFS = -120.0

# PyAV frames larger than this are split before resampling: keeps memory
# per call bounded and avoids one giant AVFrame.
_RESAMPLE_CHUNK_SECONDS = 10


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono int16 PCM samples at ``sample_rate`` Hz.

    ``samples`` is a 1-D ``numpy.int16`` array. The value is treated as
    immutable: functions return new arrays instead of writing into it, so one
    prompt can be shared by every call that plays it.
    """

    samples: Samples
    sample_rate: int

    def __post_init__(self) -> None:
        if not isinstance(self.samples, np.ndarray) or self.samples.dtype != np.int16 or self.samples.ndim != 1:
            raise ValueError("Audio.samples must be a 1-D numpy int16 array")
        if self.sample_rate <= 0:
            raise ValueError(f"Audio.sample_rate must be positive, got {self.sample_rate}")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @property
    def duration_ms(self) -> int:
        """Length in whole milliseconds (rounded down)."""
        return len(self.samples) * 1000 // self.sample_rate

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return f"Audio({len(self.samples)} samples, {self.sample_rate} Hz, {self.duration:.3f} s)"

    @classmethod
    def silence(cls, ms: int, sample_rate: int = 48000) -> Audio:
        """``ms`` milliseconds of digital silence."""
        return cls(np.zeros(sample_rate * ms // 1000, dtype=np.int16), sample_rate)

    @classmethod
    def concat(cls, parts: Iterable[Audio]) -> Audio:
        """Join pieces that share one sample rate."""
        items = list(parts)
        if not items:
            raise ValueError("Audio.concat needs at least one part")
        rates = {a.sample_rate for a in items}
        if len(rates) != 1:
            raise ValueError(f"Audio.concat needs one sample rate, got {sorted(rates)}")
        return cls(np.concatenate([a.samples for a in items]), items[0].sample_rate)


def rms_dbfs(samples: npt.NDArray[np.integer]) -> float:
    """RMS level of int16 samples in dB relative to full scale (a full-scale sine is -3 dBFS)."""
    if len(samples) == 0:
        return SILENCE_DBFS
    x = samples.astype(np.float64)
    mean_square = float(np.dot(x, x)) / len(x)
    if mean_square <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * np.log10(mean_square / (32768.0 * 32768.0)))


def frames_to_samples(frames: Iterable[av.AudioFrame]) -> Samples:
    """Concatenate mono s16 PyAV frames into one int16 array."""
    arrays = [f.to_ndarray().reshape(-1) for f in frames]
    if not arrays:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(arrays).astype(np.int16, copy=False)


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Return ``audio`` at ``sample_rate`` using PyAV's (libswresample) resampler.

    CPU-bound for long buffers (about 1 ms per second of audio): call it from
    a worker thread, not from the event loop.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if audio.sample_rate == sample_rate:
        return audio
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    chunk = audio.sample_rate * _RESAMPLE_CHUNK_SECONDS
    out: list[av.AudioFrame] = []
    for start in range(0, len(audio.samples), chunk):
        piece = np.ascontiguousarray(audio.samples[start : start + chunk]).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(piece, format="s16", layout="mono")
        frame.sample_rate = audio.sample_rate
        frame.pts = None  # a pts on the input makes swresample try to "fix" timing
        out.extend(resampler.resample(frame))
    out.extend(resampler.resample(None))
    return Audio(frames_to_samples(out), sample_rate)


class FrameConverter:
    """Turns received PyAV audio frames into mono int16 at ``sample_rate`` (one per stream: it keeps state).

    The common case, aiortc's Opus decoder output (s16 packed stereo at
    48 kHz), takes a numpy fast path (the two channels averaged); anything
    else goes through a PyAV resampler, with ``pts`` cleared first.
    """

    def __init__(self, sample_rate: int = 48000) -> None:
        self.sample_rate = sample_rate
        self._resampler: av.AudioResampler | None = None

    def convert(self, frame: av.AudioFrame) -> Samples:
        channels = frame.layout.nb_channels
        if frame.format.name == "s16" and frame.sample_rate == self.sample_rate and channels <= 2:
            data = frame.to_ndarray().reshape(-1)
            if channels == 2:  # packed: L R L R ...
                return ((data[0::2].astype(np.int32) + data[1::2]) // 2).astype(np.int16)
            return data.astype(np.int16, copy=False)
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.sample_rate)
        frame.pts = None  # see resample(): swresample must not try to honour timing
        return frames_to_samples(self._resampler.resample(frame))
