"""The Silero classifier's interface: frame sizes, rates, reset, close and the model pool."""

from __future__ import annotations

import pytest

from media.asr.harness import silence, white_noise
from media.asr.silero_vad import ModelPool, SileroClassifier, VadKind, classifier_for
from media.asr.vad import FrameClassifier, VadSettings

S = VadSettings()


def test_the_setting_picks_the_classifier() -> None:
    webrtc, silero = classifier_for(VadKind.WEBRTC, S), classifier_for(VadKind.SILERO, S)
    try:
        assert isinstance(webrtc, FrameClassifier) and isinstance(silero, SileroClassifier)
    finally:
        webrtc.close()
        silero.close()


def test_frames_of_the_wrong_size_or_rate_are_refused() -> None:
    with pytest.raises(ValueError, match="8000 or 16000"):
        SileroClassifier(S, rate=48000)
    pool = ModelPool()
    c = SileroClassifier(S, models=pool)
    with pytest.raises(ValueError, match="640 bytes"):
        c.is_speech(b"\0" * 320)
    c.close()
    with pytest.raises(RuntimeError, match="closed"):
        c.is_speech(b"\0" * 640)


def test_models_are_reused_and_reset() -> None:
    pool = ModelPool()
    noise = white_noise(2000, -20, rate=16000, seed=3)
    frames = [noise[i : i + 320].tobytes() for i in range(0, len(noise) - 319, 320)]
    first = SileroClassifier(S, models=pool)
    flags = [first.is_speech(f) for f in frames]
    first.reset()
    assert [first.is_speech(f) for f in frames] == flags  # reset: the same audio gives the same flags
    first.close()
    second = SileroClassifier(S, models=pool)  # the first one's model, with fresh state
    assert [second.is_speech(f) for f in frames] == flags
    second.close()
    assert pool.loaded == 1


def test_digital_silence_is_not_speech() -> None:
    c = SileroClassifier(S, models=ModelPool())
    x = silence(1000, 16000)
    try:
        assert not any(c.is_speech(x[i : i + 320].tobytes()) for i in range(0, len(x), 320))
        assert c.probability < 0.1
    finally:
        c.close()
