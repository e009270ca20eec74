"""Loudness of an utterance window: frame levels, noise floor, which frames are speech, comfort noise.

Pure numpy on 16 kHz mono s16le, shared by the engines' confidence measures. The window a
recognizer gets always holds some background (the listener's pre-roll before the speech and
the trailing silence that ended it), so a low percentile of the 10 ms frame levels is the
noise floor and a high one the speech level.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from media.asr.engine import SAMPLE_RATE

FRAME_SAMPLES = SAMPLE_RATE // 100  # 10 ms frames (pocketsphinx's frame rate too)
#: The speech level of an utterance: this percentile of its 10 ms frame levels (dBFS).
SPEECH_PERCENTILE = 95.0
#: Its noise floor: this percentile (the window always holds pre-roll and trailing silence).
FLOOR_PERCENTILE = 10.0
#: Loud (speech) frames: this far above the noise floor, within LOUD_FRAME_RANGE_DB of the loudest
#: frame and above LOUD_FRAME_FLOOR_DBFS.
LOUD_ABOVE_FLOOR_DB = 10.0
#: ... but the loudest frames always count (a window with no background at all: floor = speech).
LOUD_PEAK_MARGIN_DB = 3.0
LOUD_FRAME_RANGE_DB = 35.0
LOUD_FRAME_FLOOR_DBFS = -60.0


def frame_levels(pcm: bytes) -> npt.NDArray[np.float64]:
    """The level of every whole 10 ms frame of 16 kHz s16le ``pcm``, in dBFS (digital silence: -120)."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    usable = len(x) // FRAME_SAMPLES
    frames = x[: usable * FRAME_SAMPLES].reshape(usable, FRAME_SAMPLES)
    return np.asarray(10.0 * np.log10(np.mean(frames * frames, axis=1) / (32768.0 * 32768.0) + 1e-12))


def noise_floor(levels: npt.NDArray[np.float64]) -> float:
    """The background level of an utterance window (dBFS): a low percentile of its frame levels."""
    return float(np.percentile(levels, FLOOR_PERCENTILE)) if len(levels) else -120.0


def with_noise_floor(
    pcm: bytes, below_speech_db: float, seed: int = 0, high_band_below_db: float | None = None
) -> bytes:
    """``pcm`` with noise added so that its floor is at least ``below_speech_db`` under its speech level.

    Acoustic models are trained on recordings that always have a background; on digital silence
    or a very quiet line pocketsphinx's batch CMN and silence frames go wrong (see
    :mod:`media.asr.sphinx_engine`). Audio whose floor is already that high (a noisy line) is
    returned unchanged. The noise is seeded, so the same audio always gets the same noise. It is
    white, or with ``high_band_below_db`` (wideband speech) its band above :data:`WIDEBAND_HZ` is only
    that far under the speech level (the whole noise keeps the level asked for): white noise 30 dB
    under the speech buries the fricatives' 4-8 kHz band ("six" heard as "eight").
    """
    levels = frame_levels(pcm)
    if len(levels) == 0:
        return pcm
    target = float(np.percentile(levels, SPEECH_PERCENTILE)) - below_speech_db
    floor = noise_floor(levels)
    if floor >= target:
        return pcm
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    sigma = 32768.0 * math.sqrt(10.0 ** (target / 10.0) - 10.0 ** (floor / 10.0))
    noise = np.random.default_rng(seed).normal(0.0, 1.0, len(x))
    if high_band_below_db is not None and high_band_below_db > below_speech_db:
        spectrum = np.fft.rfft(noise)
        high = np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE) > WIDEBAND_HZ
        spectrum[high] *= 10.0 ** ((below_speech_db - high_band_below_db) / 20.0)
        noise = np.fft.irfft(spectrum, len(noise))
        noise /= max(float(np.std(noise)), 1e-12)
    x = x + sigma * noise
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


#: Wideband audio: the share of the loud frames' energy above WIDEBAND_HZ is at least WIDEBAND_SHARE_DB (in dB of
#: the whole). Allison Smith's 16 kHz recordings (23 words, prompts, digits): -38 to -12 dB ("no" -38, "hello" -28);
#: her 8 kHz ones, upsampled: -62 to -46 (the resampler's leakage), and band-passed 300-3400 Hz: under -51.
WIDEBAND_HZ = 4200.0
WIDEBAND_SHARE_DB = -42.0


def high_band_db(pcm: bytes) -> float:
    """How much of the speech's energy (its loud frames) lies above :data:`WIDEBAND_HZ`, in dB of the whole
    (-120 when there is none: audio that went through the 8 kHz telephone band)."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    usable = len(x) // FRAME_SAMPLES
    if usable == 0:
        return -120.0
    loud = loud_frames(pcm, usable)
    frames = x[: usable * FRAME_SAMPLES].reshape(usable, FRAME_SAMPLES)[loud]
    if len(frames) == 0:
        return -120.0
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME_SAMPLES), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME_SAMPLES, 1 / SAMPLE_RATE)
    total = float(power.sum())
    return 10.0 * math.log10(float(power[:, freqs > WIDEBAND_HZ].sum()) / total + 1e-12) if total > 0 else -120.0


def is_wideband(pcm: bytes) -> bool:
    """Whether the speech in ``pcm`` carries the band above 4 kHz (a wideband caller, not the telephone band)."""
    return high_band_db(pcm) >= WIDEBAND_SHARE_DB


def loud_frames(pcm: bytes, n_frames: int) -> npt.NDArray[np.bool_]:
    """Which 10 ms frames are speech by loudness: :data:`LOUD_ABOVE_FLOOR_DB` over the noise floor.

    Also within :data:`LOUD_FRAME_RANGE_DB` of the loudest frame and above the absolute floor.
    Measured against the floor, not only the loudest frame: in steady noise 10 dB under the
    speech, every noise frame is within 35 dB of the loudest and used to count as speech.
    """
    levels = frame_levels(pcm)[:n_frames]
    out = np.zeros(n_frames, dtype=bool)
    if len(levels) == 0:
        return out
    peak = float(np.max(levels))
    threshold = max(
        min(noise_floor(levels) + LOUD_ABOVE_FLOOR_DB, peak - LOUD_PEAK_MARGIN_DB),
        peak - LOUD_FRAME_RANGE_DB,
        LOUD_FRAME_FLOOR_DBFS,
    )
    out[: len(levels)] = levels > threshold
    return out
