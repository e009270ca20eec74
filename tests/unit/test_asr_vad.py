"""The endpointing state machine on scripted flags, and on real webrtcvad decisions over synthetic signals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from media.asr.harness import click, silence, voiced_tone, white_noise
from media.asr.vad import (
    Endpointer,
    EndReason,
    FrameClassifier,
    NoInputTimeout,
    NoiseFloor,
    SpeechEnded,
    SpeechPaused,
    SpeechStarted,
    VadEvent,
    VadSettings,
    VadState,
)

S = VadSettings(
    frame_ms=20,
    min_speech_ms=120,
    start_window_ms=200,
    trailing_silence_ms=700,
    max_speech_ms=3000,
    no_input_ms=5000,
    early_silence_ms=None,
)
#: webrtcvad alone, without the noise-floor gate.
WEBRTC = replace(S, noise_margin_db=None)


def run(pattern: str, settings: VadSettings = S, start_ms: int = 0, **start: int | None) -> list[VadEvent]:
    """Feed one frame per character ('1' speech, '0' not) from ``start_ms``; all events in order."""
    ep = Endpointer(settings)
    ep.start(start_ms, **start)  # type: ignore[arg-type]
    events: list[VadEvent] = []
    for i, flag in enumerate(pattern):
        events += ep.frame(flag == "1", start_ms + i * settings.frame_ms)
    return events


def frames(n_ms: int, flag: str) -> str:
    return flag * (n_ms // S.frame_ms)


def test_speech_then_trailing_silence() -> None:
    pattern = frames(1000, "0") + frames(400, "1") + frames(1000, "0")
    assert run(pattern) == [
        SpeechStarted(at_ms=1120, onset_ms=1000),
        SpeechEnded(at_ms=2100, reason=EndReason.SILENCE, speech_ms=400),
    ]


def test_silence_only_is_no_input_at_the_deadline() -> None:
    assert run(frames(6000, "0")) == [NoInputTimeout(at_ms=5000)]


def test_no_timer_means_silence_is_never_an_event() -> None:
    assert run(frames(20000, "0"), no_input_ms=None) == []


def test_isolated_clicks_do_not_start_speech() -> None:
    # webrtcvad flags a click for about 100 ms (its hangover): under min_speech_ms.
    pattern = frames(1000, "0") + frames(100, "1") + frames(1000, "0") + frames(100, "1") + frames(4000, "0")
    assert run(pattern) == [NoInputTimeout(at_ms=5000)]


def test_scattered_speech_frames_within_the_window_add_up() -> None:
    pattern = frames(1000, "0") + "111" + "00" + "111" + frames(1000, "0")
    # six speech frames (120 ms) inside 160 ms: started at the end of the sixth, onset at the first.
    assert run(pattern)[0] == SpeechStarted(at_ms=1160, onset_ms=1000)


def test_short_pauses_inside_speech_do_not_end_it() -> None:
    pattern = frames(500, "0") + frames(300, "1") + frames(600, "0") + frames(300, "1") + frames(1000, "0")
    assert run(pattern) == [
        SpeechStarted(at_ms=620, onset_ms=500),
        SpeechEnded(at_ms=2400, reason=EndReason.SILENCE, speech_ms=1200),
    ]


def test_max_duration_counts_from_the_onset() -> None:
    pattern = frames(1000, "0") + frames(5000, "1")
    assert run(pattern) == [
        SpeechStarted(at_ms=1120, onset_ms=1000),
        SpeechEnded(at_ms=4000, reason=EndReason.MAX_DURATION, speech_ms=3000),
    ]


def test_nothing_after_the_window_ended_and_a_new_start_reopens() -> None:
    ep = Endpointer(S)
    ep.start(0)
    events = [e for i in range(400) for e in ep.frame(False, i * 20)]
    assert events == [NoInputTimeout(5000)] and ep.state is VadState.ENDED
    assert ep.frame(True, 8000) == []
    ep.start(10_000, no_input_ms=1000)
    assert ep.state is VadState.IDLE
    assert [e for i in range(100) for e in ep.frame(False, 10_000 + i * 20)] == [NoInputTimeout(11_000)]


def test_arm_no_input_restarts_the_timer_when_the_prompt_ends() -> None:
    ep = Endpointer(S)
    ep.start(0, no_input_ms=None)  # the prompt is still playing: no timer yet
    assert [e for i in range(200) for e in ep.frame(False, i * 20)] == []
    ep.arm_no_input(4000, 2000)
    assert [e for i in range(200, 400) for e in ep.frame(False, i * 20)] == [NoInputTimeout(6000)]


def test_advance_fires_timers_when_the_audio_stalls() -> None:
    ep = Endpointer(S)
    ep.start(0)
    assert ep.advance(4999) == []
    assert ep.advance(5000) == [NoInputTimeout(5000)]
    ep.start(0)
    for i in range(10):
        ep.frame(True, i * 20)
    assert ep.state is VadState.SPEAKING
    assert ep.advance(2999) == []
    assert ep.advance(3000) == [SpeechEnded(3000, EndReason.MAX_DURATION, 200)]


def test_a_pause_is_reported_once_and_may_end_the_utterance_early() -> None:
    settings = replace(S, early_silence_ms=240)
    ep = Endpointer(settings)
    ep.start(0)
    events = [e for i, flag in enumerate("0" * 10 + "1" * 20 + "0" * 15) for e in ep.frame(flag == "1", i * 20)]
    # speech 200-600 ms; 240 ms of pause at 840: reported once, with the end of the speech it follows
    assert events == [SpeechStarted(at_ms=320, onset_ms=200), SpeechPaused(at_ms=840, speech_end_ms=600)]
    assert ep.end_early(600, 900) == SpeechEnded(900, EndReason.EARLY, 400)
    assert ep.state is VadState.ENDED and ep.end_early(600, 900) is None


def test_speech_after_the_pause_cancels_the_early_end() -> None:
    ep = Endpointer(replace(S, early_silence_ms=240))
    ep.start(0)
    pattern = "0" * 10 + "1" * 20 + "0" * 13 + "1" * 10 + "0" * 13
    events = [e for i, flag in enumerate(pattern) for e in ep.frame(flag == "1", i * 20)]
    assert events[1:] == [SpeechPaused(at_ms=840, speech_end_ms=600), SpeechPaused(at_ms=1300, speech_end_ms=1060)]
    assert ep.end_early(600, 1320) is None  # the caller spoke after that pause
    assert ep.end_early(1060, 1320) == SpeechEnded(1320, EndReason.EARLY, 860)


def test_the_hard_maximum_can_be_set_per_window() -> None:
    ep = Endpointer(S)
    ep.start(0, max_speech_ms=1000)
    events = [e for i in range(100) for e in ep.frame(True, i * 20)]
    assert events[-1] == SpeechEnded(at_ms=1000, reason=EndReason.MAX_DURATION, speech_ms=1000)


def test_stop_ends_silently() -> None:
    ep = Endpointer(S)
    ep.start(0)
    ep.stop()
    assert ep.frame(True, 0) == [] and ep.advance(10_000) == [] and ep.state is VadState.ENDED


@pytest.mark.parametrize(
    "bad",
    [
        {"aggressiveness": 4},
        {"frame_ms": 25},
        {"min_speech_ms": 300},
        {"trailing_silence_ms": 5},
        {"no_input_ms": 0},
        {"pre_roll_ms": -1},
        {"early_silence_ms": 700},
        {"early_silence_ms": 5},
        {"noise_margin_db": -1},
        {"noise_window_ms": 5},
        {"noise_hangover_ms": -1},
    ],
)
def test_settings_are_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        VadSettings(**bad)  # type: ignore[arg-type]


# ----- with webrtcvad on synthetic 16 kHz signals --------------------------------------------------


def classify_and_run(signal: np.ndarray, settings: VadSettings = S) -> tuple[str, list[VadEvent]]:
    classifier, ep = FrameClassifier(settings), Endpointer(settings)
    ep.start(0)
    n = settings.frame_samples
    flags, events = [], []
    for i in range(len(signal) // n):
        speech = classifier.is_speech(signal[i * n : (i + 1) * n].tobytes())
        flags.append("1" if speech else "0")
        events += ep.frame(speech, i * settings.frame_ms)
    return "".join(flags), events


def test_webrtcvad_on_a_voiced_burst_between_silences() -> None:
    signal = np.concatenate([silence(500, 16000), voiced_tone(500, rate=16000), silence(1500, 16000)])
    flags, events = classify_and_run(signal, WEBRTC)
    # Flagged from the first frame of the burst, plus webrtcvad's own 120 ms hangover after it.
    assert flags == "0" * 25 + "1" * 31 + "0" * 69
    assert events == [
        SpeechStarted(at_ms=620, onset_ms=500),
        SpeechEnded(at_ms=1820, reason=EndReason.SILENCE, speech_ms=620),
    ]
    # On a quiet line the noise-floor gate leaves webrtcvad alone; on a noisy one it would cut the hangover.
    assert classify_and_run(signal) == (flags, events)
    flags, _ = classify_and_run(signal, replace(S, noise_hangover_ms=0, noise_gate_above_dbfs=-130.0))
    assert flags == "0" * 25 + "1" * 25 + "0" * 75


def test_webrtcvad_digital_silence_and_a_click_are_not_speech() -> None:
    signal = np.concatenate([silence(1000, 16000), click(16000), silence(5000, 16000)])
    flags, events = classify_and_run(signal)
    assert 1 <= flags.count("1") <= 5  # the click, with webrtcvad's hangover: at most 100 ms < min_speech_ms
    assert events == [NoInputTimeout(at_ms=5000)]


def test_two_bursts_close_together_are_one_utterance() -> None:
    signal = np.concatenate(
        [
            silence(500, 16000),
            voiced_tone(300, rate=16000),
            silence(400, 16000),
            voiced_tone(300, rate=16000),
            silence(1500, 16000),
        ]
    )
    _, events = classify_and_run(signal, WEBRTC)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    # bursts at 500-800 and 1200-1500 ms; flags run 120 ms past the second; then 700 ms of silence.
    assert events[1] == SpeechEnded(at_ms=2320, reason=EndReason.SILENCE, speech_ms=1120)
    assert classify_and_run(signal)[1] == events  # the same through the gate


def test_quiet_white_noise_is_not_speech_loud_noise_only_to_webrtcvad_alone() -> None:
    _, quiet = classify_and_run(white_noise(6000, -50, rate=16000))
    assert quiet == [NoInputTimeout(at_ms=5000)]
    _, loud = classify_and_run(white_noise(6000, -15, rate=16000), WEBRTC)
    assert [type(e) for e in loud] == [SpeechStarted, SpeechEnded]
    assert loud[1].reason is EndReason.MAX_DURATION  # type: ignore[union-attr]
    # Steady noise sits at its own floor: never speech through the gate.
    flags, gated = classify_and_run(white_noise(6000, -15, rate=16000))
    assert flags.count("1") == 0 and gated == [NoInputTimeout(at_ms=5000)]


def test_a_word_in_steady_loud_noise_ends_by_silence_not_at_the_maximum() -> None:
    """Noise 10 dB under a loud voice: webrtcvad alone hears speech to the maximum; the gate ends the word."""
    noise = white_noise(5000, -22, rate=16000, seed=4).astype(np.int32)
    word = np.concatenate([silence(1000, 16000), voiced_tone(500, dbfs=-12, rate=16000), silence(3500, 16000)])
    signal = np.clip(noise + word, -32768, 32767).astype(np.int16)
    _, alone = classify_and_run(signal, WEBRTC)
    assert [type(e) for e in alone] == [SpeechStarted, SpeechEnded]
    assert alone[1].reason is EndReason.MAX_DURATION  # type: ignore[union-attr]
    _, gated = classify_and_run(signal)
    assert [type(e) for e in gated] == [SpeechStarted, SpeechEnded]
    assert gated[0] == SpeechStarted(at_ms=1120, onset_ms=1000)
    assert gated[1].reason is EndReason.SILENCE and gated[1].at_ms <= 1500 + 120 + 700 + 40  # type: ignore[union-attr]


def test_noise_floor_is_a_sliding_minimum() -> None:
    floor = NoiseFloor(window_frames=3)
    assert [floor.add(x) for x in (-40, -50, -30, -30, -30, -60, -20)] == [-40, -50, -50, -50, -30, -60, -60]


def test_classifier_checks_the_frame_size() -> None:
    with pytest.raises(ValueError, match="640 bytes"):
        FrameClassifier(S).is_speech(b"\0" * 320)


def test_reset_forgets_the_learned_background() -> None:
    """After 3 s of a quiet line, noise 20 dB louder is all 'speech' to webrtcvad; after reset it is not."""

    def flags(classifier: FrameClassifier, signal: np.ndarray) -> str:
        n = WEBRTC.frame_samples
        return "".join(
            "1" if classifier.is_speech(signal[i * n : (i + 1) * n].tobytes()) else "0" for i in range(len(signal) // n)
        )

    classifier = FrameClassifier(WEBRTC)
    louder = white_noise(2000, -40, rate=16000, seed=2)
    assert flags(classifier, white_noise(3000, -60, rate=16000, seed=1)).count("1") <= 5
    assert flags(classifier, louder).count("1") >= 90  # of 100 frames: a learned quiet floor
    classifier.reset()
    assert flags(classifier, louder).count("1") <= 5  # as a fresh classifier: settles within ~80 ms
