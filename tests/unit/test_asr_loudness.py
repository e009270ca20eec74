"""Loudness of an utterance window: frame levels, noise floor, loud (speech) frames, comfort noise."""

from __future__ import annotations

import numpy as np
import pytest

from media.asr.harness import silence, voiced_tone, white_noise
from media.asr.loudness import (
    FRAME_SAMPLES,
    WIDEBAND_HZ,
    frame_levels,
    high_band_db,
    is_wideband,
    loud_frames,
    noise_floor,
    with_noise_floor,
)

RATE = 16000


def pcm(*parts: np.ndarray) -> bytes:
    return np.concatenate(parts).astype(np.int16).tobytes()


def mixed(signal: np.ndarray, noise_dbfs: float, seed: int = 7) -> np.ndarray:
    noise = white_noise(len(signal) * 1000 // RATE, noise_dbfs, rate=RATE, seed=seed).astype(np.float64)
    return np.clip(signal.astype(np.float64) + noise[: len(signal)], -32768, 32767).astype(np.int16)


def test_frame_levels_in_dbfs() -> None:
    levels = frame_levels(pcm(silence(100, RATE), white_noise(500, -30, rate=RATE)))
    assert len(levels) == 60
    assert np.all(levels[:10] == pytest.approx(-120.0))  # digital silence
    assert np.median(levels[10:]) == pytest.approx(-30.0, abs=1.0)
    assert len(frame_levels(b"\0\0" * (FRAME_SAMPLES - 1))) == 0  # no whole frame


def test_noise_floor_is_the_background_not_the_speech() -> None:
    window = mixed(np.concatenate([silence(500, RATE), voiced_tone(500, rate=RATE), silence(1000, RATE)]), -45)
    assert noise_floor(frame_levels(window.tobytes())) == pytest.approx(-45.0, abs=1.5)
    assert noise_floor(np.array([])) == -120.0


@pytest.mark.parametrize("noise_dbfs", [None, -42.0, -32.0])  # clean, 30 dB and 20 dB under the tone's frames
def test_loud_frames_are_the_speech_even_in_steady_noise(noise_dbfs: float | None) -> None:
    """The tone's frames are loud and the background's are not: measured against the floor, not the peak.

    Against the loudest frame alone (35 dB range), every frame of noise 20 dB under the speech
    counted as speech, so a right answer covered a third of the "speech" and was rejected.
    """
    clean = np.concatenate([silence(500, RATE), voiced_tone(600, dbfs=-12, rate=RATE), silence(900, RATE)])
    window = clean if noise_dbfs is None else mixed(clean, noise_dbfs)
    loud = loud_frames(window.tobytes(), 200)
    tone = np.zeros(200, dtype=bool)
    tone[50:110] = True
    assert (loud & tone).sum() >= 58 and not (loud & ~tone).any()


def test_loud_frames_pads_to_the_decoders_frame_count_and_keeps_the_peak() -> None:
    loud = loud_frames(voiced_tone(100, rate=RATE).tobytes(), 15)  # no background at all: floor = speech
    assert loud.shape == (15,) and loud[:10].all() and not loud[10:].any()
    assert not loud_frames(b"", 3).any()


def test_comfort_noise_raises_a_quiet_floor_to_the_target() -> None:
    window = pcm(silence(500, RATE), voiced_tone(600, dbfs=-12, rate=RATE), silence(900, RATE))
    before = frame_levels(window)
    out = with_noise_floor(window, 30.0, seed=1)
    after = frame_levels(out)
    speech = np.percentile(before, 95)
    assert noise_floor(after) == pytest.approx(speech - 30.0, abs=1.5)
    assert np.percentile(after, 95) == pytest.approx(speech, abs=0.5)  # the speech itself is untouched
    assert len(out) == len(window)
    assert with_noise_floor(window, 30.0, seed=1) == out  # seeded: the same audio decodes the same way
    assert with_noise_floor(window, 30.0, seed=2) != out


def test_comfort_noise_leaves_a_line_that_is_already_noisy_alone() -> None:
    noisy = mixed(
        np.concatenate([silence(500, RATE), voiced_tone(600, dbfs=-12, rate=RATE), silence(900, RATE)]), -35
    ).tobytes()  # floor about 20 dB under the speech
    assert with_noise_floor(noisy, 30.0) == noisy
    assert with_noise_floor(b"", 30.0) == b""


def band_db(pcm16k: bytes, above: bool) -> float:
    """The power of ``pcm16k`` above (or below) WIDEBAND_HZ, in dB."""
    x = np.frombuffer(pcm16k, dtype=np.int16).astype(np.float64)
    power = np.abs(np.fft.rfft(x)) ** 2
    high = np.fft.rfftfreq(len(x), 1 / RATE) > WIDEBAND_HZ
    return float(10 * np.log10(power[high if above else ~high].sum()))


def test_wideband_comfort_noise_keeps_its_level_but_spares_the_band_above_4_khz() -> None:
    window = pcm(silence(500, RATE), voiced_tone(600, dbfs=-12, rate=RATE), silence(900, RATE))
    white = with_noise_floor(window, 30.0, seed=1)
    shaped = with_noise_floor(window, 30.0, seed=1, high_band_below_db=50.0)
    # the same floor in level (what the confidences measure) ...
    assert noise_floor(frame_levels(shaped)) == pytest.approx(noise_floor(frame_levels(white)), abs=1.5)
    # ... but 20 dB less noise above 4.2 kHz (the tone has no energy there: all of it is noise)
    assert band_db(white, above=True) - band_db(shaped, above=True) == pytest.approx(20.0 - 2.5, abs=2.0)
    assert with_noise_floor(window, 30.0, seed=1, high_band_below_db=50.0) == shaped  # seeded


def test_wideband_is_speech_with_energy_above_4_khz() -> None:
    narrow = pcm(silence(300, RATE), voiced_tone(600, dbfs=-12, rate=RATE), silence(300, RATE))
    hiss = white_noise(200, -30, rate=RATE, seed=3)  # a fricative-like burst: flat up to 8 kHz
    wide = pcm(silence(300, RATE), voiced_tone(600, dbfs=-12, rate=RATE), hiss, silence(300, RATE))
    assert high_band_db(narrow) < -60 and not is_wideband(narrow)
    assert is_wideband(wide)
    assert high_band_db(b"") == -120.0
